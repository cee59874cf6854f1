'use strict';
//  The client against a scripted ROUTER standing in for the broker: the
//  public methods must put the golden request bytes on the wire and turn the
//  golden replies into the documented results; timeouts, QUEUE_FULL
//  retries, close and the bounded queues behave as documented.

const test = require('node:test');
const assert = require('node:assert/strict');
const zmq = require('zeromq');
const { Client, ZaioError, codec } = require('..');
const { loadVectors } = require('./helpers');

const requests = Object.fromEntries(loadVectors('requests.json').map((v) => [v.name, v]));
const replies = Object.fromEntries(loadVectors('replies.json').map((v) => [v.name, v]));

//  A ROUTER that hands each request to `handler(header, data, frames)`;
//  the handler returns reply frames (or undefined to stay silent).
async function fakeBroker (handler) {
    const router = new zmq.Router({ linger: 0 });
    await router.bind('tcp://127.0.0.1:*');
    const received = [];
    const fake = { endpoint: router.lastEndpoint, received, router, rid: null };
    const loop = (async () => {
        try {
            for await (const [rid, ...frames] of router) {
                received.push(frames);
                fake.rid = rid;
                const reply = await handler(frames);
                if (reply)
                    await router.send([rid, ...reply]);
            }
        } catch (err) {
            if (!router.closed)
                throw err;
        }
    })();
    fake.close = () => {
        router.close();
        return loop;
    };
    return fake;
}

//  Poll `cond` every 5 ms until it holds; fail after `ms`.
async function until (cond, ms = 10000) {
    const t0 = Date.now();
    while (!cond()) {
        if (Date.now() - t0 > ms)
            assert.fail(`condition not met in ${ms} ms: ${cond}`);
        await new Promise((r) => setTimeout(r, 5));
    }
}

//  A minimal valid success reply to a request, whatever its op.
const RESULTS = {
    hello: { protocol: 1, version: '0.1.0', ops: ['ping'], volumes: [],
        limits: { header_max: 8192, path_max: 1024, payload_max: 64 << 20, listdir_max: 10000,
            inflight_max: 16384, queue_max: 65536 } },
    stat: { type: 'file', size: 0, mode: 0o644, mtime_ns: 0 },
    read: { bytes: 0, eof: true },
    readfile: { bytes: 0 },
    write: { bytes: 0 },
    writefile: { bytes: 0 },
    append: { bytes: 0, offset: 0 },
    copy: { bytes: 0 },
    listdir: { entries: [], more: false },
    stats: { version: '0.1.0', uptime_ms: 0, time_ns: 0, latency_bounds_us: [], latency: [],
        gauges: { queued: 0, running: 0, inflight: 0, held_replies: 0, held_bytes: 0, clients: 0, workers: 0 },
        volumes: [], workers: [], jobs: [], top_clients: [] },
};

function okReply (header) {
    const data = codec.DATA_REPLY_OPS.has(header.op) ? Buffer.alloc(0) : undefined;
    return codec.encodeReply({ id: header.id, ok: true, ...RESULTS[header.op] }, data);
}

//  A header frame written pair by pair, so that it can hold what the
//  encoder never writes: duplicate keys, floats, broken UTF-8. Values are
//  msgpack bytes (a Buffer) or anything encodeCanonical takes.
function rawMap (...pairs) {
    const enc = (v) => (Buffer.isBuffer(v) ? v : codec.encodeCanonical(v));
    return Buffer.concat([Buffer.from([0x80 | pairs.length]), ...pairs.flatMap(([k, v]) => [enc(k), enc(v)])]);
}

function float64 (x) {
    const b = Buffer.alloc(9);
    b[0] = 0xcb;
    b.writeDoubleBE(x, 1);
    return b;
}

function setNextId (client, id) {
    client._nextId = typeof id === 'bigint' && id <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(id) : id;
}

//  How each request vector is made through the public API.
const CALLS = {
    ping: (c) => c.ping(),
    hello: (c) => c.hello(),
    stat: (c) => c.stat('docs/readme.txt'),
    read: (c) => c.read('data.bin', 8192, 4096),
    read_max_id: (c) => c.read('a', 0, 1),
    write: (c) => c.write('logs/x.log', 100, Buffer.from('hello'), { create: true, mode: 0o600 }),
    write_empty_data: (c) => c.write('empty', 0, Buffer.alloc(0)),
    append: (c) => c.append('journal', 'line\n', { create: true }),
    readfile: (c) => c.readfile('config.json'),
    writefile: (c) => c.writefile('config.json', new TextEncoder().encode('{"a":1}')),
    truncate: (c) => c.truncate('big', 5000000000),
    fsync: (c) => c.fsync('journal', { datasync: true }),
    unlink: (c) => c.unlink('old'),
    rename: (c) => c.rename('tmp/a', 'final/a'),
    mkdir: (c) => c.mkdir('a/b/c', { parents: true, mode: 0o750 }),
    rmdir: (c) => c.rmdir('a/b/c'),
    listdir: (c) => c.listdir('', { after: 'm', limit: 100 }),
    copy: (c) => c.copy('src.bin', 'dst.bin'),
    read_reserved_fields: (c) => c.request('read', { path: 'p', length: 10, key: 'k1', barrier: true,
        link: true, deadline: 1500, priority: 7 }, undefined, { volume: 'photos' }),
    utf8_path: (c) => c.stat('caf\u00e9/\u65e5\u672c.txt'),
    stats: (c) => c.brokerStats(),
    stats_top: (c) => c.brokerStats({ top: 100 }),
};

//  Batch vectors made through client.batch(), with the ids the client
//  hands out, in the order it takes them: entries first, then the tag. A
//  lone call goes as a single request, so batch_one_entry has none.
const BATCH_CALLS = {
    batch: [[71, 72, 73, 74, 70], (b) => {
        b.stat('a');
        b.write('b', 3, 'xyz', { create: true });
        b.request('read', { path: 'c', length: 4096, key: 'k', deadline: 50 });
        b.append('d', Buffer.alloc(0));
    }],
};

test('every request vector is produced byte for byte by the public API', async (t) => {
    assert.deepEqual([...Object.keys(CALLS), ...Object.keys(BATCH_CALLS), 'batch_one_entry'].sort(),
        Object.keys(requests).sort(), 'a call for every vector');
    const fake = await fakeBroker((frames) => (codec.decodeValue(frames[1]).op === 'batch'
        ? codec.encodeReplyBatch(codec.decodeBatch(frames).entries.map((e) => ({ header: { id: e.header.id, ok: false, error: 'EIO' } })))
        : okReply(codec.decodeRequest(frames).header)));
    const client = new Client(fake.endpoint, { timeout: 5000 });
    try {
        for (const [name, call] of Object.entries(CALLS)) {
            await t.test(name, async () => {
                const v = requests[name];
                setNextId(client, v.header.id);
                await call(client);
                const sent = fake.received[fake.received.length - 1];
                assert.equal(sent.length, v.frames.length);
                sent.forEach((f, i) => assert.equal(f.toString('hex'), v.frames[i].toString('hex'), `frame ${i}`));
            });
        }
        for (const [name, [ids, calls]] of Object.entries(BATCH_CALLS)) {
            await t.test(name, async () => {
                const v = requests[name];
                client._batchLimits = { max: codec.BATCH_MAX, bytesMax: codec.BATCH_BYTES_MAX };
                client._allocId = () => ids.shift();
                const b = client.batch();
                calls(b);
                await b.send();
                const sent = fake.received[fake.received.length - 1];
                assert.deepEqual(sent.map((f) => f.toString('hex')), v.frames.map((f) => f.toString('hex')));
            });
        }
    } finally {
        client.close();
        await fake.close();
    }
});

test('reply vectors become the documented results and errors', async (t) => {
    //  Each case: a call, the reply vector the fake answers it with, a check.
    const cases = [
        ['ping_ok', (c) => c.ping(), (r) => assert.equal(r, undefined)],
        ['stat_ok', (c) => c.stat('x'), (r) => assert.deepEqual({ ...r },
            { type: 'file', size: 1234, mode: 0o644, mtime_ns: 1700000000123456789n,
                mtimeNs: 1700000000123456789n, mtimeMs: 1700000000123.456 })],
        ['read_ok', (c) => c.read('data.bin', 0, 5), (r) => assert.equal(r.toString(), 'hello')],
        ['read_empty', (c) => c.read('data.bin', 0, 5), (r) => assert.equal(r.length, 0)],
        ['write_ok', (c) => c.write('x', 0, 'hello'), (r) => assert.equal(r, 5)],
        ['append_ok', (c) => c.append('x', 'hello'), (r) => assert.equal(r, 4294967296)],
        ['listdir_ok', (c) => c.listdir(''), (r) => assert.deepEqual({ ...r, entries: r.entries.map((e) => ({ ...e })) }, {
            more: false,
            entries: [
                { mtime_ns: 1700000000000000000n, name: 'a.txt', size: 3, type: 'file' },
                { mtime_ns: -5n, name: 'sub', size: 4096, type: 'dir' },
            ],
        })],
        ['listdir_bin_name', (c) => c.listdir(''), (r) => assert.deepEqual({ ...r, entries: r.entries.map((e) => ({ ...e })) }, {
            more: true,
            entries: [
                { mtime_ns: 1700000000000000000n, name: Buffer.from('caf\xe9.txt', 'latin1'), size: 3, type: 'file' },
                { mtime_ns: 1700000000000000000n, name: 'd\u00e9j\u00e0', size: 0, type: 'dir' },
            ],
        })],
        ['hello_ok', (c) => c.hello(), (r) => {
            assert.equal(r.protocol, 1);
            assert.equal(r.version, '0.1.0');
            assert.deepEqual(r.ops, ['ping', 'hello', 'stat']);
            assert.equal(r.limits.payload_max, 67108864);
            assert.equal(r.limits.reply_hwm, 1000);
            assert.deepEqual(r.volumes, [{ name: 'default', readonly: false, workers: 2 }]);
        }],
        ['error_enoent', (c) => c.stat('gone'), null, (err) => {
            assert.ok(err instanceof ZaioError);
            assert.equal(err.code, 'ENOENT');
            assert.equal(err.errno, -require('node:os').constants.errno.ENOENT);
            assert.equal(err.reason, 'No such file or directory');
            assert.equal(err.path, 'gone');
            assert.equal(err.op, 'stat');
            assert.equal(err.local, false);
            assert.match(err.message, /^ENOENT: No such file or directory, stat 'gone'$/);
        }],
    ];
    let vector = null;
    const fake = await fakeBroker(() => vector.frames);
    const client = new Client(fake.endpoint, { timeout: 5000 });
    try {
        for (const [name, call, check, checkErr] of cases) {
            await t.test(name, async () => {
                vector = replies[name];
                setNextId(client, vector.header.id);
                if (checkErr)
                    await assert.rejects(call(client), (err) => (checkErr(err), true));
                else
                    check(await call(client));
            });
        }
    } finally {
        client.close();
        await fake.close();
    }
});

test('unknown result keys are ignored; broken replies are dropped, not fatal', async () => {
    let mode = 'extra';
    const fake = await fakeBroker((frames) => {
        const { header } = codec.decodeRequest(frames);
        if (mode === 'extra')
            return codec.encodeReply({ id: header.id, ok: true, type: 'dir', size: 0, mode: 0o755,
                mtime_ns: 1, future: { x: [1, 2] } });
        if (mode === 'garbage')
            return [codec.SIGNATURE, Buffer.from('c1', 'hex')];
        if (mode === 'nodata')
            return codec.encodeReply({ id: header.id, ok: true, bytes: 0, eof: true });
        return undefined;
    });
    const client = new Client(fake.endpoint, { timeout: 300 });
    try {
        const st = await client.stat('d');
        assert.deepEqual([st.type, st.size, st.mode, st.mtime_ns, st.isDirectory()], ['dir', 0, 0o755, 1n, true]);
        mode = 'garbage';
        await assert.rejects(client.ping(), { code: 'TIMEOUT' });
        assert.equal(client.stats.badReplies, 1);
        mode = 'nodata';
        await assert.rejects(client.read('a', 0, 1), { code: 'BAD_REPLY', local: true });
        mode = 'extra';
        assert.equal((await client.stat('d')).type, 'dir');
    } finally {
        client.close();
        await fake.close();
    }
});

test('ids count up, pass 2^53 as BigInt, and wrap from 2^64-1 to 1', async () => {
    const fake = await fakeBroker((frames) => codec.encodeReply({ id: codec.decodeRequest(frames).header.id, ok: true }));
    const client = new Client(fake.endpoint, { firstId: 2 ** 53 - 2, timeout: 5000 });
    try {
        for (let i = 0; i < 3; i++)
            await client.ping();
        setNextId(client, (1n << 64n) - 2n);
        for (let i = 0; i < 3; i++)
            await client.ping();
        const ids = fake.received.map((f) => codec.decodeRequest(f).header.id);
        assert.deepEqual(ids, [2 ** 53 - 2, 2 ** 53 - 1, 2n ** 53n, (1n << 64n) - 2n, (1n << 64n) - 1n, 1]);
        assert.equal(fake.received[2][1].subarray(4, 5).toString('hex'), 'cf');
    } finally {
        client.close();
        await fake.close();
    }
});

test('QUEUE_FULL is retried after a back-off, a bounded number of times', async () => {
    let refusals = 0;
    const fake = await fakeBroker((frames) => {
        const { header } = codec.decodeRequest(frames);
        if (refusals > 0) {
            refusals--;
            return codec.encodeReply({ id: header.id, ok: false, error: 'QUEUE_FULL', message: 'full' });
        }
        return codec.encodeReply({ id: header.id, ok: true });
    });
    const client = new Client(fake.endpoint, { timeout: 5000, queueFullRetries: 3, queueFullBackoff: 2 });
    try {
        refusals = 3;
        await client.ping();
        assert.equal(fake.received.length, 4);
        assert.equal(client.stats.retries, 3);
        //  The retries reuse the id: the broker never accepted the first.
        const ids = new Set(fake.received.map((f) => codec.decodeRequest(f).header.id));
        assert.equal(ids.size, 1);
        refusals = 4;
        await assert.rejects(client.ping(), { code: 'QUEUE_FULL', local: false });
        assert.equal(client.inflight, 0);
    } finally {
        client.close();
        await fake.close();
    }
});

test('timeouts: per client and per call, late replies ignored', async () => {
    const held = [];
    const fake = await fakeBroker((frames) => {
        held.push(codec.decodeRequest(frames).header.id);
        return undefined;
    });
    const client = new Client(fake.endpoint, { timeout: 100 });
    try {
        const t0 = Date.now();
        await assert.rejects(client.ping(), (err) => err instanceof ZaioError && err.code === 'TIMEOUT' &&
            err.local && err.errno === undefined);
        assert.ok(Date.now() - t0 >= 95);
        await assert.rejects(client.stat('x', { timeout: 20 }), { code: 'TIMEOUT', path: 'x' });
        assert.equal(client.inflight, 0);
        assert.equal(client.pending, 0);
        //  A reply after the timeout is counted and dropped.
        await fake.router.send([fake.rid, ...codec.encodeReply({ id: held[0], ok: true })]);
        await until(() => client.stats.unmatched === 1);
        assert.equal(client.stats.timeouts, 2);
    } finally {
        client.close();
        await fake.close();
    }
});

test('no broker at all: requests queue, then time out; close rejects the rest', async () => {
    //  Nothing listens here, so the DEALER has no peer and sends wait.
    const client = new Client('tcp://127.0.0.1:1', { timeout: 150 });
    await assert.rejects(client.ping(), { code: 'TIMEOUT' });
    const pending = [client.ping({ timeout: 0 }), client.stat('a', { timeout: 0 }), client.read('b', 0, 1)];
    client.close();
    for (const p of pending)
        await assert.rejects(p, (err) => err.code === 'CLOSED' && err.local);
    await assert.rejects(client.ping(), { code: 'CLOSED' });
    client.close();      //  idempotent
    assert.equal(client.closed, true);
});

test('timed-out requests free their place in the send queue', async () => {
    //  Not coalescing: its hello would take a place in the queue.
    const client = new Client('tcp://127.0.0.1:1', { timeout: 50, sendQueueMax: 3, coalesce: false });
    try {
        for (let round = 0; round < 3; round++) {
            const calls = [client.ping(), client.ping(), client.ping(), client.ping()];
            for (const p of calls)
                await assert.rejects(p, { code: 'TIMEOUT' });
        }
        assert.equal(client.pending, 0);
        assert.equal(client.inflight, 0);
    } finally {
        client.close();
    }
});

test('in-flight bound and bounded send queue', async () => {
    const fake = await fakeBroker(() => undefined);
    //  Not coalescing: its hello would take a place in the window.
    const client = new Client(fake.endpoint, { timeout: 5000, inflightMax: 4, sendQueueMax: 10, coalesce: false });
    try {
        const calls = [];
        for (let i = 0; i < 4; i++)
            calls.push(client.ping().catch((e) => e));
        await until(() => fake.received.length === 4);
        for (let i = 0; i < 10; i++)
            calls.push(client.ping().catch((e) => e));
        //  Four are out, ten wait in the queue: the fifteenth is refused at once.
        await assert.rejects(client.ping(), { code: 'QUEUE_FULL', local: true });
        assert.equal(client.inflight, 4);
        assert.equal(client.pending, 14);
        assert.equal(fake.received.length, 4);
        //  One answer lets exactly one more out.
        const first = codec.decodeRequest(fake.received[0]).header.id;
        await fake.router.send([fake.rid, ...codec.encodeReply({ id: first, ok: true })]);
        await until(() => fake.received.length === 5);
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(fake.received.length, 5);
        assert.equal(client.inflight, 4);
        client.close();
        const results = await Promise.all(calls);
        assert.equal(results[0], undefined);
        assert.ok(results.slice(1).every((r) => r instanceof ZaioError && r.code === 'CLOSED'));
    } finally {
        client.close();
        await fake.close();
    }
});

test('a sliding window keeps at most inflightMax requests out', async () => {
    //  The fake answers in batches of 8 and, before answering, checks that
    //  no ninth request is waiting on its socket.
    let violations = 0;
    const router = new zmq.Router({ linger: 0 });
    await router.bind('tcp://127.0.0.1:*');
    const loop = (async () => {
        const held = [];
        try {
            for await (const [rid, ...frames] of router) {
                held.push([rid, codec.decodeRequest(frames).header.id]);
                if (held.length < 8)
                    continue;
                await new Promise((r) => setTimeout(r, 2));
                if (router.readable)
                    violations++;
                while (held.length) {
                    const [r, id] = held.shift();
                    await router.send([r, ...codec.encodeReply({ id, ok: true })]);
                }
            }
        } catch (err) {
            if (!router.closed)
                throw err;
        }
    })();
    const client = new Client(router.lastEndpoint, { timeout: 5000, inflightMax: 8 });
    try {
        const all = [];
        for (let i = 0; i < 800; i++)
            all.push(client.ping());
        await Promise.all(all);
        assert.equal(violations, 0);
        assert.equal(client.stats.replies, 800);
    } finally {
        client.close();
        router.close();
        await loop;
    }
});

test('argument errors reject with TypeError before anything is sent', async () => {
    const client = new Client('tcp://127.0.0.1:1', { timeout: 100 });
    try {
        await assert.rejects(client.stat(3), TypeError);
        await assert.rejects(client.read('a', -1, 1), TypeError);
        await assert.rejects(client.read('a', 0, 1.5), TypeError);
        await assert.rejects(client.read('a', 2 ** 60, 1), RangeError);
        await assert.rejects(client.write('a', 0, 42), TypeError);
        await assert.rejects(client.mkdir('a', { parents: 'yes' }), TypeError);
        await assert.rejects(client.ping({ volume: 7 }), TypeError);
        await assert.rejects(client.ping({ timeout: '5' }), TypeError);
        await assert.rejects(client.ping({ timeout: -1 }), TypeError);
        await assert.rejects(client.request('ping', { id: 3 }), TypeError);
        assert.throws(() => new Client(5), TypeError);
        assert.throws(() => client.events('err.'), TypeError);
        assert.equal(client.stats.sent, 0);
    } finally {
        client.close();
    }
});

test('event streams: ready() waits out the slow joiner, then keeps only matching events', async () => {
    const pub = new zmq.Publisher({ linger: 0 });
    await pub.bind('tcp://127.0.0.1:*');
    let seq = 0;
    const publish = (topic, fields = {}) => pub.send(codec.encodeEvent(topic,
        { seq: ++seq, op: topic.split('.')[1], outcome: topic.split('.')[0], path: '', ...fields }));
    //  A broker that publishes an ok.ping event for every ping, as the real one does.
    const fake = await fakeBroker(async (frames) => {
        const { header } = codec.decodeRequest(frames);
        await publish('ok.ping.default', { id: header.id });
        return codec.encodeReply({ id: header.id, ok: true });
    });
    const client = new Client(fake.endpoint, { events: pub.lastEndpoint, timeout: 5000 });
    try {
        const errs = client.events('err.');
        await errs.ready();
        assert.ok(fake.received.length >= 1, 'ready() pings');
        await publish('err.stat.default', { error: 'ENOENT', path: 'x' });
        await client.ping();                        //  its ok.ping event is not for this stream
        await publish('err.read.default', { error: 'EIO', path: 'y' });
        const a = (await errs.next()).value;
        const b = (await errs.next()).value;
        assert.deepEqual([a.topic, a.path, b.topic, b.path], ['err.stat.default', 'x', 'err.read.default', 'y']);
        assert.equal(a.gap, undefined);

        //  A stream of everything tracks seq gaps.
        const all = client.events('');
        await all.ready();
        const before = seq;
        seq += 5;                                   //  five events "lost"
        await publish('ok.read.default');
        let ev;
        do
            ev = (await all.next()).value;
        while (ev.seq <= before);
        assert.equal(ev.gap, 5);
        assert.equal(all.lost, 5);
        errs.close();
        all.close();
        assert.deepEqual(await errs.next(), { value: undefined, done: true });
    } finally {
        client.close();
        await fake.close();
        pub.close();
    }
});

test('event streams: ready() times out without a broker; close() ends iteration', async () => {
    const client = new Client('tcp://127.0.0.1:1', { events: 'tcp://127.0.0.1:1', timeout: 100 });
    const stream = client.events(['err.', 'ok.write.']);
    await assert.rejects(stream.ready(), { code: 'TIMEOUT' });
    const pending = stream.next();
    client.close();
    assert.deepEqual(await pending, { value: undefined, done: true });
    assert.equal(stream.closed, true);
    assert.throws(() => client.events('err.'), { code: 'CLOSED' });
    const other = new Client('tcp://127.0.0.1:1', { events: 'tcp://127.0.0.1:1' });
    assert.throws(() => other.events([]), TypeError);
    assert.throws(() => other.events(5), TypeError);
    other.close();
});

test('request(): a volume in fields is sent; a different one in opts is refused', async () => {
    const fake = await fakeBroker((frames) => okReply(codec.decodeRequest(frames).header));
    const client = new Client(fake.endpoint, { timeout: 5000 });
    const lastVolume = () => codec.decodeRequest(fake.received[fake.received.length - 1]).header.volume;
    try {
        await client.request('stat', { path: 'x', volume: 'photos' });
        assert.equal(lastVolume(), 'photos');
        await client.request('stat', { path: 'x', volume: 'photos' }, undefined, { volume: 'photos' });
        assert.equal(lastVolume(), 'photos');
        await client.request('stat', { path: 'x' }, undefined, { volume: 'music' });
        assert.equal(lastVolume(), 'music');
        await client.stat('x');
        assert.equal(lastVolume(), undefined);
        await assert.rejects(client.request('stat', { path: 'x', volume: 'photos' }, undefined, { volume: 'music' }),
            (err) => err instanceof TypeError && /photos/.test(err.message) && /music/.test(err.message));
        assert.equal(fake.received.length, 4, 'the conflicting request was not sent');
    } finally {
        client.close();
        await fake.close();
    }
});

test('a broken reply whose id can be read fails its request at once with BAD_REPLY', async (t) => {
    const sig = codec.SIGNATURE;
    const enc = (v) => codec.encodeCanonical(v);
    //  Each case: how the fake answers a ping with id `id`.
    const cases = {
        'ok not a bool': (id) => [sig, enc({ id, ok: 'yes' })],
        'error reply without a name': (id) => [sig, enc({ id, ok: false })],
        'duplicate key': (id) => [sig, rawMap(['id', id], ['ok', true], ['ok', false])],
        'broken UTF-8': (id) => [sig, rawMap(['id', id], ['ok', false], ['error', 'EIO'],
            ['message', Buffer.from('a2c328', 'hex')])],
        'other signature': (id) => [Buffer.from('ZAIO/9'), enc({ id, ok: true })],
        'four frames': (id) => [sig, enc({ id, ok: true }), Buffer.alloc(1), Buffer.alloc(1)],
        'error reply with data': (id) => [sig, enc({ id, ok: false, error: 'EIO' }), Buffer.alloc(1)],
        'ping reply with data': (id) => [sig, enc({ id, ok: true }), Buffer.alloc(1)],
    };
    let answer = null;
    const fake = await fakeBroker((frames) => answer(codec.decodeRequest(frames).header.id));
    //  A long timeout: before the fix these waited it out.
    const client = new Client(fake.endpoint, { timeout: 5000 });
    try {
        for (const [name, reply] of Object.entries(cases)) {
            await t.test(name, async () => {
                answer = reply;
                const t0 = Date.now();
                await assert.rejects(client.ping(), (err) => err instanceof ZaioError && err.code === 'BAD_REPLY' &&
                    err.local && err.op === 'ping');
                assert.ok(Date.now() - t0 < 1000, `took ${Date.now() - t0} ms`);
            });
        }
        assert.equal(client.stats.badReplies, Object.keys(cases).length);
        assert.equal(client.inflight, 0);
        assert.equal(client.pending, 0);
        //  Without a readable id the reply is only counted.
        answer = () => [sig, Buffer.from('c1', 'hex')];
        await assert.rejects(client.ping({ timeout: 200 }), { code: 'TIMEOUT' });
        assert.equal(client.stats.badReplies, Object.keys(cases).length + 1);
    } finally {
        client.close();
        await fake.close();
    }
});

test('replies are decoded strictly: wrong result types, lengths and floats are BAD_REPLY', async (t) => {
    //  Each case: a call, and the reply header fields (or raw pairs) and
    //  data frame the fake answers it with. Every one must reject BAD_REPLY.
    const cases = {
        'write bytes a float': [(c) => c.write('x', 0, 'hello'), [['bytes', float64(1e300)]]],
        'write bytes negative': [(c) => c.write('x', 0, 'hello'), { bytes: -1 }],
        'writefile without bytes': [(c) => c.writefile('x', 'hello'), {}],
        'copy bytes a string': [(c) => c.copy('a', 'b'), { bytes: '5' }],
        'append without offset': [(c) => c.append('x', 'hello'), { bytes: 5 }],
        'read bytes not the frame length': [(c) => c.read('x', 0, 2), { bytes: 1, eof: false }, Buffer.alloc(10)],
        'read more than asked': [(c) => c.read('x', 0, 2), { bytes: 10, eof: false }, Buffer.alloc(10)],
        'read eof not a bool': [(c) => c.read('x', 0, 2), { bytes: 2, eof: 1 }, Buffer.alloc(2)],
        'readfile bytes not the frame length': [(c) => c.readfile('x'), { bytes: 3 }, Buffer.alloc(4)],
        'stat mtime_ns a string': [(c) => c.stat('x'), { type: 'file', size: 0, mode: 0o644, mtime_ns: 'abc' }],
        'stat mtime_ns a float': [(c) => c.stat('x'),
            [['type', 'file'], ['size', 0], ['mode', 0o644], ['mtime_ns', float64(1.5)]]],
        'stat mtime_ns past int64': [(c) => c.stat('x'), { type: 'file', size: 0, mode: 0o644, mtime_ns: 1n << 63n }],
        'stat unknown type': [(c) => c.stat('x'), { type: 'fifo', size: 0, mode: 0o644, mtime_ns: 0 }],
        'stat duplicate size': [(c) => c.stat('x'),
            [['type', 'file'], ['size', 0], ['size', 1], ['mode', 0o644], ['mtime_ns', 0]]],
        'stat without mode': [(c) => c.stat('x'), { type: 'file', size: 0, mtime_ns: 0 }],
        'listdir entry name not a string': [(c) => c.listdir(''),
            { more: false, entries: [{ name: 1, type: 'file', size: 0, mtime_ns: 0 }] }],
        'listdir entry not a map': [(c) => c.listdir(''), { more: false, entries: ['a'] }],
        'hello protocol a string': [(c) => c.hello(), { ...RESULTS.hello, protocol: '1' }],
        'hello without limits': [(c) => c.hello(), { ...RESULTS.hello, limits: undefined }],
        'hello payload_max a float': [(c) => c.hello(), [['protocol', 1], ['version', 'v'], ['ops', []],
            ['volumes', []], ['limits', rawMap(...Object.entries(RESULTS.hello.limits)
                .map(([k, v]) => [k, k === 'payload_max' ? float64(v) : v]))]]],
        'hello volume workers missing': [(c) => c.hello(),
            { ...RESULTS.hello, volumes: [{ name: 'default', readonly: false }] }],
        'request() stat checked too': [(c) => c.request('stat', { path: 'x' }), { type: 'file' }],
    };
    let answer = null;
    const fake = await fakeBroker((frames) => {
        const { id } = codec.decodeRequest(frames).header;
        const [fields, data] = answer;
        if (Array.isArray(fields))
            return [codec.SIGNATURE, rawMap(['id', id], ['ok', true], ...fields), ...(data ? [data] : [])];
        return codec.encodeReply({ id, ok: true, ...fields }, data);
    });
    const client = new Client(fake.endpoint, { timeout: 5000 });
    try {
        for (const [name, [call, fields, data]] of Object.entries(cases)) {
            await t.test(name, async () => {
                answer = [fields, data];
                await assert.rejects(call(client), (err) => {
                    assert.ok(err instanceof ZaioError, `not a ZaioError: ${err}`);
                    assert.equal(err.code, 'BAD_REPLY');
                    return true;
                });
            });
        }
        assert.equal(client.stats.badReplies, Object.keys(cases).length);
    } finally {
        client.close();
        await fake.close();
    }
});

test('a float id matches no request: the reply is counted, the call times out', async () => {
    const fake = await fakeBroker((frames) =>
        [codec.SIGNATURE, rawMap(['id', float64(codec.decodeRequest(frames).header.id)], ['ok', true])]);
    const client = new Client(fake.endpoint, { timeout: 300 });
    try {
        await assert.rejects(client.ping(), { code: 'TIMEOUT' });
        assert.equal(client.stats.badReplies, 1);
    } finally {
        client.close();
        await fake.close();
    }
});

test('a big data frame waits for payload_max from one hello; over it is TOOBIG, under it is sent', async () => {
    const payloadMax = 200 * 1024;
    const fake = await fakeBroker((frames) => {
        const { header } = codec.decodeRequest(frames);
        if (header.op === 'hello')
            return codec.encodeReply({ id: header.id, ok: true, ...RESULTS.hello,
                limits: { ...RESULTS.hello.limits, payload_max: payloadMax } });
        return okReply(header);
    });
    const ops = () => fake.received.map((f) => codec.decodeRequest(f).header.op);
    const client = new Client(fake.endpoint, { timeout: 5000 });
    try {
        //  Up to 64 KiB the broker judges the size itself: no hello.
        await client.writefile('small', Buffer.alloc(64 * 1024));
        assert.deepEqual(ops(), ['writefile']);
        //  Bigger: one hello however many wait for it.
        const calls = [client.writefile('a', Buffer.alloc(payloadMax)), client.write('b', 0, Buffer.alloc(100000)),
            client.append('c', Buffer.alloc(payloadMax + 1)), client.request('writefile', { path: 'd' }, Buffer.alloc(300000))];
        const results = await Promise.allSettled(calls);
        assert.deepEqual(results.map((r) => r.status), ['fulfilled', 'fulfilled', 'rejected', 'rejected']);
        for (const r of results.slice(2)) {
            assert.ok(r.reason instanceof ZaioError);
            assert.equal(r.reason.code, 'TOOBIG');
            assert.equal(r.reason.local, true);
        }
        assert.deepEqual(ops(), ['writefile', 'hello', 'writefile', 'write']);
        //  Known now: refused without asking again.
        await assert.rejects(client.writefile('e', Buffer.alloc(payloadMax + 1)), { code: 'TOOBIG', local: true });
        assert.equal(ops().length, 4);
    } finally {
        client.close();
        await fake.close();
    }
});

test('a header over 8192 bytes is refused locally with TOOBIG', async () => {
    const client = new Client('tcp://127.0.0.1:1', { timeout: 5000 });
    try {
        const long = 'p'.repeat(9000);
        for (const call of [(c) => c.stat(long), (c) => c.rename('a', long), (c) => c.writefile(long, 'x'),
            (c) => c.request('stat', { path: 'x', key: long })])
            await assert.rejects(call(client), { code: 'TOOBIG', local: true });
        assert.equal(client.pending, 0);
        //  A header of exactly 8192 bytes is the broker's to judge.
        const header = codec.encodeRequestHeader({ id: 1, op: 'stat', path: '' });
        const edge = 'p'.repeat(8192 - header.length - 2);      //  a str 16 header: 2 more bytes
        assert.equal(codec.encodeRequestHeader({ id: 1, op: 'stat', path: edge }).length, 8192);
        await assert.rejects(client.stat(edge, { timeout: 50 }), { code: 'TIMEOUT' });
    } finally {
        client.close();
    }
});
