'use strict';
//  Batches (issue 20, the `batch` op): the codec's request and reply
//  batches; client.batch() and the coalescing of one tick's calls against a
//  scripted ROUTER (one wire message, singles when hello lists no `batch`,
//  a refused batch, a reply batch that breaks the protocol), and against
//  the real broker (10,000 mixed calls each answered once, valid and
//  invalid entries mixed, ordering inside and across batches, QUEUE_FULL
//  for the entries over inflight_max).

const test = require('node:test');
const { describe, before, after } = test;
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const zmq = require('zeromq');
const { Client, ZaioError, codec } = require('..');
const { brokerSkip, startBroker } = require('./helpers');

const SIG = codec.SIGNATURE;
const HELLO = { protocol: 1, version: '0.1.0', ops: ['ping', 'hello', 'stat', 'read', 'batch'], volumes: [],
    limits: { header_max: 8192, path_max: 1024, payload_max: 1 << 20, listdir_max: 1000,
        inflight_max: 1000, queue_max: 1000, batch_max: 4, batch_bytes_max: 1 << 20 } };

//  A scripted broker: hello lists `ops`; stat, read ('abc') and ping are
//  answered, but not a request for path 'silent', and the first for path
//  'busy' with QUEUE_FULL; a batch's replies go back as one reply batch, or as what
//  `fake.onBatch(frames)` returns when it is set. `fake.messages` holds the
//  entries of each message received (1 for a single request).
async function scripted (ops) {
    const router = new zmq.Router({ linger: 0 });
    await router.bind('tcp://127.0.0.1:*');
    const fake = { endpoint: router.lastEndpoint, messages: [], onBatch: null };
    let busy = 0;
    const answer = (h) => {
        if (h.path === 'silent')
            return undefined;
        if (h.path === 'busy' && busy++ === 0)
            return { header: { id: h.id, ok: false, error: 'QUEUE_FULL', message: 'busy' } };
        if (h.op === 'hello')
            return { header: { id: h.id, ok: true, ...HELLO, ops } };
        if (h.op === 'stat')
            return { header: { id: h.id, ok: true, type: 'file', size: 3, mode: 0o644, mtime_ns: 0 } };
        if (h.op === 'read')
            return { header: { id: h.id, ok: true, bytes: 3, eof: true }, data: Buffer.from('abc') };
        return { header: { id: h.id, ok: true } };
    };
    const loop = (async () => {
        try {
            for await (const [rid, ...frames] of router) {
                if (codec.decodeValue(frames[1]).op === 'batch') {
                    const { entries } = codec.decodeBatch(frames);
                    fake.messages.push(entries.length);
                    const replies = entries.map((e) => answer(e.header)).filter((r) => r);
                    const reply = fake.onBatch ? fake.onBatch(frames) : codec.encodeReplyBatch(replies);
                    if (fake.onBatch || replies.length)
                        await router.send([rid, ...reply]);
                } else {
                    fake.messages.push(1);
                    const r = answer(codec.decodeRequest(frames).header);
                    if (r)
                        await router.send([rid, ...codec.encodeReply(r.header, r.data)]);
                }
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

//  ---------------------------------------------------------------------
//  Codec

test('request and reply batches round-trip', () => {
    const heads = [codec.encodeRequestHeader({ id: 1, op: 'ping' }), codec.encodeRequestHeader({ id: 2, op: 'write', path: 'a' })];
    const frames = codec.encodeBatch(9, [{ header: heads[0] }, { header: heads[1], data: Buffer.from('xy') }]);
    assert.deepEqual(frames[1], Buffer.from('82a26964 09a26f70 a5626174 6368'.replace(/ /g, ''), 'hex'));
    const { id, entries } = codec.decodeBatch(frames);
    assert.equal(id, 9);
    assert.deepEqual(entries.map((e) => e.header.id), [1, 2]);
    assert.deepEqual(entries[1].data, Buffer.from('xy'));
    const replies = codec.encodeReplyBatch([{ header: { id: 1, ok: true } },
        { header: { id: 2, ok: true, bytes: 3, eof: true }, data: Buffer.from('abc') },
        { header: { id: 3, ok: false, error: 'ENOENT', message: 'no' } }]);
    assert.ok(codec.isBatch(replies) && !codec.isBatch(codec.encodeReply({ id: 1, ok: true })));
    const got = codec.decodeReplyBatch(replies);
    assert.deepEqual(got.map((r) => r.header.id), [1, 2, 3]);
    assert.deepEqual(got[1].data, Buffer.from('abc'));
    assert.equal(got[2].header.error, 'ENOENT');
});

test('Python and Node encode a batch alike', () => {
    //  The bytes bindings/python/tests/test_batch.py checks too.
    const h = codec.encodeRequestHeader({ id: 1, op: 'ping' });
    const frames = codec.encodeBatch(5, [{ header: h }, { header: h }]);
    assert.equal(frames[2].toString('hex'), '9292c40d' + h.toString('hex') + 'c292c40d' + h.toString('hex') + 'c2');
});

const GOOD = codec.encodeReply({ id: 5, ok: true })[1];
const pair = (head, flag) => Buffer.concat([Buffer.from([0x92]), codec.encodeCanonical(head), Buffer.from([flag])]);

test('malformed reply batches are refused whole; a bad element fails alone', () => {
    const bad = [
        [SIG, Buffer.from([0x90])],                                   //  empty
        [SIG, Buffer.from([0x91, 0xc4, 0x01, 0x00])],                 //  element not a pair
        [SIG, Buffer.from([0x91, 0x92, 0xa1, 0x78, 0xc2])],           //  str, not bin
        [SIG, Buffer.concat([Buffer.from([0x91]), pair(GOOD, 0x01)])],  //  flag not bool
        [SIG, Buffer.concat([Buffer.from([0x91]), pair(GOOD, 0xc3)])],  //  flag without its frame
        [SIG, Buffer.concat([Buffer.from([0x91]), pair(GOOD, 0xc2)]), Buffer.from('x')],
        [SIG, Buffer.concat([Buffer.from([0x91]), pair(GOOD, 0xc2), Buffer.from([0xc0])])],
        [SIG, Buffer.concat([Buffer.from([0x92]), pair(GOOD, 0xc2)])],  //  cut short
        [Buffer.from('ZAIO/2'), Buffer.concat([Buffer.from([0x91]), pair(GOOD, 0xc2)])],
    ];
    for (const frames of bad)
        assert.throws(() => codec.decodeReplyBatch(frames), codec.CodecError, frames[1].toString('hex'));
    const broken = Buffer.from('82a26964 06a26f6b 01'.replace(/ /g, ''), 'hex');   //  ok not bool
    const got = codec.decodeReplyBatch([SIG, Buffer.concat([Buffer.from([0x92]), pair(GOOD, 0xc2), pair(broken, 0xc2)])]);
    assert.equal(got[0].header.id, 5);
    assert.ok(got[1] instanceof codec.CodecError);
    assert.equal(got[1].id, 6);
});

//  ---------------------------------------------------------------------
//  Scripted broker

test('the calls of one tick leave as one wire batch, split by batch_max', async () => {
    const fake = await scripted(HELLO.ops);
    const client = new Client(fake.endpoint, { timeout: 5000 });
    try {
        await client.hello();
        fake.messages.length = 0;
        const got = await Promise.all([client.stat('a'), client.read('b', 0, 3), client.ping(), client.stat('c')]);
        assert.equal(got[0].size, 3);
        assert.deepEqual(got[1], Buffer.from('abc'));
        assert.deepEqual(fake.messages, [4]);
        fake.messages.length = 0;
        await Promise.all(Array.from({ length: 10 }, () => client.ping()));
        assert.deepEqual(fake.messages, [4, 4, 2]);
        fake.messages.length = 0;
        await client.ping();
        assert.deepEqual(fake.messages, [1]);
        assert.equal(client.stats.batches, 4);
    } finally {
        client.close();
        await fake.close();
    }
});

test('calls coming together ask hello whether batches are possible', async () => {
    const fake = await scripted(HELLO.ops);
    const client = new Client(fake.endpoint, { timeout: 5000 });
    try {
        await Promise.all([client.ping(), client.ping()]);    //  singles, and a hello
        await client._learnBatch();                           //  its answer may come last
        await Promise.all([client.ping(), client.ping()]);
        assert.deepEqual(fake.messages, [1, 1, 1, 2]);
    } finally {
        client.close();
        await fake.close();
    }
});

test('without the batch op, or with coalescing off, calls go one by one', async () => {
    const fake = await scripted(['ping', 'hello', 'stat']);
    const client = new Client(fake.endpoint, { timeout: 5000 });
    try {
        await client.hello();
        fake.messages.length = 0;
        await Promise.all([client.ping(), client.ping(), client.ping()]);
        const b = client.batch();
        b.stat('x');
        b.ping();
        await b.send();
        assert.deepEqual(fake.messages, [1, 1, 1, 1, 1]);
    } finally {
        client.close();
        await fake.close();
    }
    const fake2 = await scripted(HELLO.ops);
    const off = new Client(fake2.endpoint, { timeout: 5000, coalesce: false });
    try {
        await off.hello();
        fake2.messages.length = 0;
        await Promise.all([off.ping(), off.ping(), off.ping()]);
        const b = off.batch();          //  explicit batches still batch
        const p = [b.ping(), b.stat('s'), b.read('r', 0, 3)];
        const outcomes = await b.send();
        assert.deepEqual(outcomes.map((o) => o.status), ['fulfilled', 'fulfilled', 'fulfilled']);
        assert.equal((await p[1]).size, 3);
        assert.deepEqual(fake2.messages, [1, 1, 1, 3]);
    } finally {
        off.close();
        await fake2.close();
    }
});

test('in one batch each call keeps its own timeout and QUEUE_FULL retries', async () => {
    const fake = await scripted(HELLO.ops);
    const client = new Client(fake.endpoint, { timeout: 5000, queueFullBackoff: 1 });
    try {
        await client.hello();
        const b = client.batch();
        b.stat('silent', { timeout: 200 });
        b.stat('busy');
        b.stat('a');
        const [lost, busy, ok] = await b.send();
        assert.equal(lost.reason.code, 'TIMEOUT');
        assert.equal(busy.value.size, 3);
        assert.equal(ok.value.size, 3);
        assert.equal(client.stats.retries, 1);
    } finally {
        client.close();
        await fake.close();
    }
});

test('a refused batch fails each of its entries with the refusal', async () => {
    const fake = await scripted(HELLO.ops);
    fake.onBatch = (frames) => codec.encodeReply({ id: codec.decodeBatch(frames).id, ok: false, error: 'MALFORMED', message: 'refused' });
    const client = new Client(fake.endpoint, { timeout: 5000 });
    try {
        await client.hello();
        const got = await Promise.allSettled([client.ping(), client.stat('x')]);
        for (const g of got) {
            assert.equal(g.status, 'rejected');
            assert.ok(g.reason instanceof ZaioError && g.reason.code === 'MALFORMED' && !g.reason.local);
        }
        assert.equal(client._tags.size, 0);
        assert.equal(client.inflight, 0);
    } finally {
        client.close();
        await fake.close();
    }
});

test('a reply batch that breaks the protocol fails the calls it names with BAD_REPLY', async () => {
    const fake = await scripted(HELLO.ops);
    //  Flags that promise data frames that never come.
    fake.onBatch = (frames) => {
        const { entries } = codec.decodeBatch(frames);
        return [SIG, Buffer.concat([Buffer.from([0x90 | entries.length]),
            ...entries.map((e) => pair(codec.encodeReply({ id: e.header.id, ok: true })[1], 0xc3))])];
    };
    const client = new Client(fake.endpoint, { timeout: 5000 });
    try {
        await client.hello();
        const got = await Promise.allSettled([client.ping(), client.ping()]);
        assert.ok(got.every((g) => g.status === 'rejected' && g.reason.code === 'BAD_REPLY'), JSON.stringify(got));
    } finally {
        client.close();
        await fake.close();
    }
});

//  ---------------------------------------------------------------------
//  Real broker

function needsBatch (hello) {
    assert.ok(hello.ops.includes('batch'), 'this broker has no batch op (issue 20\'s broker step)');
}

describe('batches against a real broker', { skip: brokerSkip() }, () => {
    let broker;
    let client;

    before(async () => {
        broker = await startBroker(['--workers', '2']);
        client = new Client(broker.ipc, { timeout: 60000, inflightMax: 4000 });
    });

    after(async () => {
        if (client)
            client.close();
        if (broker) {
            const { code } = await broker.stop();
            assert.equal(code, 0, `broker exit code; stderr: ${broker.stderr()}`);
        }
    });

    test('10,000 mixed calls in one batch: each answered once', async () => {
        needsBatch(await client.hello());
        await client.writefile('seed', 'seed');
        const b = client.batch();
        const calls = [];
        for (let i = 0; i < 10000; i++) {
            const k = Math.floor(i / 4);
            switch (i % 4) {
            case 0: calls.push(b.write('out', k * 8, String(k).padStart(8, '0'), { create: true })); break;
            case 1: calls.push(b.read('seed', 0, 4)); break;
            case 2: calls.push(b.stat('seed')); break;
            default: calls.push(b.ping());
            }
        }
        const outcomes = await b.send();
        outcomes.forEach((o, i) => assert.equal(o.status, 'fulfilled', `${i}: ${o.reason}`));
        const values = outcomes.map((o) => o.value);
        for (let i = 0; i < values.length; i++) {
            if (i % 4 === 0)
                assert.equal(values[i], 8);
            else if (i % 4 === 1)
                assert.equal(values[i].toString(), 'seed');
            else if (i % 4 === 2)
                assert.equal(values[i].size, 4);
        }
        assert.ok(client.stats.batches >= 10);
        assert.equal(client.inflight, 0);
        const want = Array.from({ length: 2500 }, (_, k) => String(k).padStart(8, '0')).join('');
        assert.equal(fs.readFileSync(path.join(broker.root, 'out'), 'utf8'), want);
    });

    test('valid and invalid entries mixed: the bad ones fail alone', async () => {
        needsBatch(await client.hello());
        await client.writefile('f', 'abc');
        const b = client.batch();
        b.stat('f');
        b.stat('nope');
        b.stat('../outside');
        b.request('frobnicate', { path: 'x' });
        b.read('f', 0, 2 ** 40);
        b.read('f', 0, 3);
        const o = await b.send();
        assert.equal(o[0].value.size, 3);
        assert.equal(o[1].reason.code, 'ENOENT');
        assert.equal(o[2].status, 'rejected');
        assert.equal(o[3].reason.code, 'UNKNOWN_OP');
        assert.equal(o[4].reason.code, 'TOOBIG');
        assert.equal(o[5].value.toString(), 'abc');
    });

    test('ordering fields keep their meaning inside and across batches', async () => {
        needsBatch(await client.hello());
        let want = '';
        for (let round = 0; round < 3; round++) {
            const b = client.batch();
            for (let i = 0; i < 50; i++) {
                const piece = `${round}.${String(i).padStart(2, '0')},`;
                want += piece;
                b.request('append', { path: 'log', create: true, key: 'k' }, piece);
            }
            await b.send();
            await client.request('append', { path: 'log', key: 'k' }, '|');
            want += '|';
        }
        const b = client.batch();
        const st = b.request('stat', { path: 'log', key: 'k', barrier: true });
        await b.send();
        assert.equal((await st).header.size, want.length);
        assert.equal(fs.readFileSync(path.join(broker.root, 'log'), 'utf8'), want);
    });
});

describe('a batch over inflight_max', { skip: brokerSkip() }, () => {
    let broker;

    before(async () => {
        broker = await startBroker(['--workers', '1', '--inflight-max', '8']);
    });

    after(async () => {
        if (broker)
            await broker.stop();
    });

    test('the entries past the bound get QUEUE_FULL, the rest run', async () => {
        const c = new Client(broker.ipc, { timeout: 20000, queueFullRetries: 0, inflightMax: 100 });
        try {
            needsBatch(await c.hello());
            await c.writefile('f', Buffer.alloc(4096, 1));
            const b = c.batch();
            for (let i = 0; i < 40; i++)
                b.read('f', 0, 4096);
            const o = await b.send();
            const full = o.filter((x) => x.status === 'rejected' && x.reason.code === 'QUEUE_FULL');
            const done = o.filter((x) => x.status === 'fulfilled');
            assert.ok(full.length > 0 && done.length > 0 && full.length + done.length === 40);
            assert.ok(done.every((x) => x.value.length === 4096));
        } finally {
            c.close();
        }
    });
});
