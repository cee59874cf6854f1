'use strict';
//  The client against a real zaio-broker started on a temporary root: the
//  invalid vectors sent raw, every op and its errors, 1,000 concurrent
//  requests, a 64 MiB round trip, events, timeouts, QUEUE_FULL, shutdown.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const path = require('node:path');
const zmq = require('zeromq');
const { Client, codec } = require('..');
const { loadVectors, brokerSkip, failure, startBroker } = require('./helpers');

const skip = brokerSkip();

const MiB = 1024 * 1024;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

//  Collect a stream's events in the background, keeping those `keep`
//  accepts: by default not those of path-less ops (the pings of ready(),
//  an earlier test's ping), whose events may come late. waitFor resolves
//  once `count` events are kept (or rejects after `ms`).
function collect (stream, keep = (ev) => ev.path !== '') {
    const c = { events: [], seen: 0, done: null };
    c.done = (async () => {
        for await (const ev of stream) {
            c.seen++;
            if (keep(ev))
                c.events.push(ev);
        }
    })();
    c.waitFor = async (count, ms = 10000) => {
        const t0 = Date.now();
        while (c.events.length < count) {
            if (Date.now() - t0 > ms)
                throw new Error(`waited ${ms} ms for ${count} events, have ${c.events.length}`);
            await sleep(5);
        }
        return c.events;
    };
    return c;
}

describe('against a real broker', { skip }, () => {
    let broker;
    let client;

    before(async () => {
        broker = await startBroker(['--workers', '2']);
        client = new Client(broker.ipc, { events: broker.events, timeout: 20000 });
    });

    after(async () => {
        if (client)
            client.close();
        if (broker) {
            const { code, signal } = await broker.stop();
            assert.equal(signal, null, 'broker killed by a signal');
            assert.equal(code, 0, `broker exit code; stderr: ${broker.stderr()}`);
        }
    });

    it('answers every invalid vector, sent raw, with its error', async () => {
        const dealer = new zmq.Dealer({ linger: 0, receiveTimeout: 5000 });
        dealer.connect(broker.tcp);
        //  Each refusal carries the id read before the fault, or 0
        //  (PROTOCOL.md section 3.2); the vector says which.
        try {
            for (const v of loadVectors('invalid.json')) {
                await dealer.send(v.frames);
                const reply = codec.decodeReply(await dealer.receive());
                assert.equal(reply.header.ok, false, v.name);
                assert.equal(reply.header.error, v.error, `${v.name}: ${reply.header.message}`);
                assert.equal(typeof reply.header.message, 'string');
                assert.equal(reply.header.id, v.reply_id, `${v.name} id`);
            }
            //  And it still serves.
            await dealer.send(codec.encodeRequest({ id: 99, op: 'ping' }));
            const ok = codec.decodeReply(await dealer.receive());
            assert.deepEqual(ok.header, { id: 99, ok: true });
        } finally {
            dealer.close();
        }
    });

    it('ping and hello', async () => {
        await client.ping();
        const hello = await client.hello();
        assert.equal(hello.protocol, 1);
        assert.equal(typeof hello.version, 'string');
        for (const op of ['ping', 'hello', 'stat', 'read', 'write', 'append', 'readfile', 'writefile',
            'truncate', 'fsync', 'unlink', 'rename', 'mkdir', 'rmdir', 'listdir', 'copy'])
            assert.ok(hello.ops.includes(op), op);
        assert.equal(hello.limits.payload_max, 64 * MiB);
        assert.equal(hello.limits.path_max, 1024);
        assert.ok(hello.volumes.some((v) => v.name === 'default' && v.workers >= 1));
    });

    it('mkdir, stat, rmdir and their errors', async () => {
        await client.mkdir('m');
        assert.equal((await failure(client.mkdir('m'))).code, 'EEXIST');
        await client.mkdir('m/a/b/c', { parents: true });
        await client.mkdir('m/a/b/c', { parents: true });
        await client.mkdir('m/private', { mode: 0o700 });
        const st = await client.stat('m/private');
        assert.equal(st.type, 'dir');
        assert.equal(st.mode & 0o7777, 0o700);
        assert.equal(typeof st.mtime_ns, 'bigint');
        assert.ok(st.mtime_ns > 1600000000n * 1000000000n);
        assert.equal((await client.stat('m/a/b')).type, 'dir');
        assert.equal((await failure(client.rmdir('m/a'))).code, 'ENOTEMPTY');
        assert.equal((await failure(client.mkdir('nope/x'))).code, 'ENOENT');
        await client.rmdir('m/a/b/c');
        await client.rmdir('m/a/b');
        assert.equal((await failure(client.stat('m/a/b'))).code, 'ENOENT');
        assert.equal((await failure(client.rmdir('m/a/b'))).code, 'ENOENT');
        assert.equal((await client.stat('')).type, 'dir');
        assert.equal((await client.stat('.')).type, 'dir');
    });

    it('writefile, readfile, read, write, append, truncate, fsync', async () => {
        await client.mkdir('f');
        assert.equal(await client.writefile('f/a', 'hello'), 5);
        assert.equal((await client.readfile('f/a')).toString(), 'hello');
        let st = await client.stat('f/a');
        assert.equal(st.type, 'file');
        assert.equal(st.size, 5);
        assert.equal(st.mode & 0o777, 0o644);
        assert.equal(await client.write('f/a', 5, Buffer.from(' world')), 6);
        assert.equal((await client.read('f/a', 0, 100)).toString(), 'hello world');
        assert.equal((await client.read('f/a', 6, 5)).toString(), 'world');
        assert.equal((await client.read('f/a', 6n, 5n)).toString(), 'world');
        assert.equal((await client.read('f/a', 100, 5)).length, 0);
        assert.equal((await failure(client.write('f/missing', 0, 'x'))).code, 'ENOENT');
        assert.equal(await client.write('f/new', 3, 'abc', { create: true, mode: 0o600 }), 3);
        st = await client.stat('f/new');
        assert.equal(st.size, 6);
        assert.equal(st.mode & 0o777, 0o600);
        assert.deepEqual([...await client.readfile('f/new')], [0, 0, 0, 97, 98, 99]);
        await client.writefile('f/secret', new Uint8Array([1, 2, 3]), { mode: 0o640 });
        assert.equal((await client.stat('f/secret')).mode & 0o777, 0o640);
        //  writefile replaces the whole file.
        await client.writefile('f/a', 'x');
        assert.equal((await client.readfile('f/a')).toString(), 'x');

        assert.equal((await failure(client.append('f/log', 'one\n'))).code, 'ENOENT');
        assert.equal(await client.append('f/log', 'one\n', { create: true }), 0);
        assert.equal(await client.append('f/log', 'two\n'), 4);
        assert.equal((await client.readfile('f/log')).toString(), 'one\ntwo\n');

        await client.truncate('f/log', 3);
        assert.equal((await client.readfile('f/log')).toString(), 'one');
        //  A sparse 8 GiB file: sizes above 2^32 travel as uint64.
        await client.truncate('f/log', 2 ** 33);
        assert.equal((await client.stat('f/log')).size, 2 ** 33);
        assert.equal(await client.write('f/log', 2 ** 33 - 1, 'Z'), 1);
        assert.equal((await client.read('f/log', 2n ** 33n - 1n, 10)).toString(), 'Z');
        await client.truncate('f/log', 0);
        assert.equal((await client.stat('f/log')).size, 0);

        await client.fsync('f/a');
        await client.fsync('f/a', { datasync: true });
        await client.fsync('f');
        assert.equal((await failure(client.fsync('f/none'))).code, 'ENOENT');
        assert.equal((await failure(client.truncate('f/none', 1))).code, 'ENOENT');
        assert.equal((await failure(client.readfile('f'))).code, 'EISDIR');
        assert.equal((await failure(client.stat('f/a/b'))).code, 'ENOTDIR');
        assert.equal((await failure(client.readfile('f/none'))).code, 'ENOENT');
    });

    it('rename, copy, unlink', async () => {
        await client.mkdir('r');
        await client.writefile('r/a', 'payload');
        await client.rename('r/a', 'r/b');
        assert.equal((await failure(client.stat('r/a'))).code, 'ENOENT');
        const err = await failure(client.rename('r/a', 'r/c'));
        assert.equal(err.code, 'ENOENT');
        assert.equal(err.dest, 'r/c');
        assert.equal(await client.copy('r/b', 'r/c'), 7);
        assert.equal((await client.readfile('r/c')).toString(), 'payload');
        //  copy truncates an existing destination; rename replaces one.
        await client.writefile('r/d', 'a much longer old content');
        await client.copy('r/b', 'r/d');
        assert.equal((await client.readfile('r/d')).toString(), 'payload');
        await client.writefile('r/e', 'E');
        await client.rename('r/e', 'r/d');
        assert.equal((await client.readfile('r/d')).toString(), 'E');
        assert.equal((await failure(client.copy('r/none', 'r/x'))).code, 'ENOENT');
        await client.unlink('r/c');
        assert.equal((await failure(client.unlink('r/c'))).code, 'ENOENT');
        assert.equal((await failure(client.unlink('r'))).code.startsWith('E'), true);
    });

    it('listdir pages in name order, listdirAll and listdirIter walk them all', async () => {
        await client.mkdir('l');
        const names = [];
        for (let i = 0; i < 25; i++)
            names.push(`n${String(i).padStart(2, '0')}`);
        await Promise.all(names.map((n) => client.writefile(`l/${n}`, n)));
        await client.mkdir('l/sub');
        const page = await client.listdir('l', { limit: 10 });
        assert.equal(page.entries.length, 10);
        assert.equal(page.more, true);
        assert.deepEqual(page.entries.map((e) => e.name), names.slice(0, 10));
        assert.deepEqual(Object.keys(page.entries[0]).sort(), ['mtime_ns', 'name', 'size', 'type']);
        assert.equal(page.entries[0].type, 'file');
        assert.equal(page.entries[0].size, 3);
        const rest = await client.listdir('l', { after: 'n09' });
        assert.equal(rest.more, false);
        assert.deepEqual(rest.entries.map((e) => e.name), [...names.slice(10), 'sub']);
        assert.equal(rest.entries[rest.entries.length - 1].type, 'dir');
        const all = await client.listdirAll('l', { limit: 4 });
        assert.deepEqual(all.map((e) => e.name), [...names, 'sub']);
        const seen = [];
        for await (const e of client.listdirIter('l', { limit: 7, after: 'n20' }))
            seen.push(e.name);
        assert.deepEqual(seen, ['n21', 'n22', 'n23', 'n24', 'sub']);
        assert.equal((await client.listdirAll('l/sub')).length, 0);
        assert.equal((await failure(client.listdir('l/none'))).code, 'ENOENT');
        assert.equal((await failure(client.listdir('l', { limit: 0 }))).code, 'MALFORMED');
        assert.equal((await failure(client.listdir('l', { limit: 10001 }))).code, 'TOOBIG');
    });

    it('listdir gives a name that is not UTF-8 as a Buffer, which pages on as after', async () => {
        await client.mkdir('raw');
        const raw = [Buffer.from('caf\xe9', 'latin1'), Buffer.from('6fc0af', 'hex'), Buffer.from('73eda080', 'hex')];
        const dir = Buffer.from(path.join(broker.root, 'raw') + '/');
        for (const name of [...raw, Buffer.from('\u00e9')])
            fs.writeFileSync(Buffer.concat([dir, name]), 'x');
        const page = await client.listdir('raw');
        assert.deepEqual(page.entries.map((e) => e.name), [...raw, '\u00e9']);
        const all = await client.listdirAll('raw', { limit: 1 });
        assert.deepEqual(all.map((e) => e.name), [...raw, '\u00e9']);
        const rest = await client.listdir('raw', { after: raw[0], limit: 2 });
        assert.deepEqual(rest.entries.map((e) => e.name), raw.slice(1));
    });

    it('refuses every way out of the root with EXDEV', async () => {
        fs.symlinkSync('/etc', path.join(broker.root, 'abs-link'));
        fs.symlinkSync('../..', path.join(broker.root, 'climb-link'));
        fs.mkdirSync(path.join(broker.root, 'in'));
        fs.mkdirSync(path.join(broker.root, 'sub'));
        fs.symlinkSync('../in', path.join(broker.root, 'sub', 'ok-link'));
        for (const p of ['..', '../etc/passwd', 'in/../../y', '/etc/passwd', 'abs-link/passwd', 'climb-link/etc']) {
            const err = await failure(client.stat(p));
            assert.equal(err.code, 'EXDEV', p);
            assert.equal(err.path, p);
        }
        assert.equal((await failure(client.readfile('abs-link/passwd'))).code, 'EXDEV');
        assert.equal((await failure(client.writefile('climb-link/x', 'x'))).code, 'EXDEV');
        //  `..` that stays inside, and links that stay inside, are fine.
        await client.writefile('in/file', 'inside');
        assert.equal((await client.readfile('in/../in/file')).toString(), 'inside');
        assert.equal((await client.readfile('sub/ok-link/file')).toString(), 'inside');
        assert.equal((await client.stat('sub/ok-link')).type, 'symlink');
        assert.equal((await client.stat('abs-link')).type, 'symlink');
        //  listdir reports links as links, without following them.
        const links = (await client.listdirAll('')).filter((e) => e.name.endsWith('-link'));
        assert.deepEqual(links.map((e) => [e.name, e.type]), [['abs-link', 'symlink'], ['climb-link', 'symlink']]);
    });

    it('protocol errors: NOVOLUME, ENAMETOOLONG, TOOBIG, UNKNOWN_OP, MALFORMED, EINVAL', async () => {
        assert.equal((await failure(client.stat('a', { volume: 'nope' }))).code, 'NOVOLUME');
        assert.equal((await failure(client.hello({ volume: 'nope' }))).code, 'NOVOLUME');
        await client.stat('', { volume: 'default' });
        assert.equal((await failure(client.stat('a'.repeat(1025)))).code, 'ENAMETOOLONG');
        assert.equal((await failure(client.read('a', 0, 64 * MiB + 1))).code, 'TOOBIG');
        assert.equal((await failure(client.read('a', 2n ** 63n, 1))).code, 'TOOBIG');
        assert.equal((await failure(client.mkdir('a', { mode: 0o10000 }))).code, 'TOOBIG');
        assert.equal((await failure(client.request('format_disk'))).code, 'UNKNOWN_OP');
        assert.equal((await failure(client.request('ping', { bogus: 1 }))).code, 'MALFORMED');
        assert.equal((await failure(client.request('read', { path: 'a' }))).code, 'MALFORMED');
        assert.equal((await failure(client.stat('a\0b'))).code, 'EINVAL');
        const raw = await client.request('read', { path: 'f/a', length: 1, priority: 3, deadline: 60000 });
        assert.equal(raw.header.ok, true);
        assert.equal(raw.header.eof, true);
        assert.equal(raw.data.toString(), 'x');
    });

    it('BigInt request ids round-trip through the broker and wrap', async () => {
        const c = new Client(broker.tcp, { firstId: 2n ** 64n - 3n, timeout: 10000 });
        try {
            const errs = [];
            for (let i = 0; i < 5; i++)
                errs.push(await failure(c.stat(`none-${i}`)));
            assert.deepEqual(errs.map((e) => e.id), [2n ** 64n - 3n, 2n ** 64n - 2n, 2n ** 64n - 1n, 1, 2]);
            assert.ok(errs.every((e) => e.code === 'ENOENT'));
        } finally {
            c.close();
        }
    });

    it('1,000 concurrent requests, each answered correctly', async () => {
        await client.mkdir('c');
        const n = 1000;
        const writes = [];
        for (let i = 0; i < n; i++)
            writes.push(client.writefile(`c/${i}`, `content ${i}`));
        assert.deepEqual(await Promise.all(writes), Array.from({ length: n }, (_, i) => `content ${i}`.length));
        const mixed = [];
        for (let i = 0; i < n; i++) {
            if (i % 3 === 0)
                mixed.push(client.read(`c/${i}`, 8, 100).then((b) => b.toString()));
            else if (i % 3 === 1)
                mixed.push(client.stat(`c/${i}`).then((s) => s.size));
            else
                mixed.push(failure(client.stat(`c/none-${i}`)).then((e) => e.code));
        }
        const results = await Promise.all(mixed);
        results.forEach((r, i) => {
            if (i % 3 === 0)
                assert.equal(r, String(i));
            else if (i % 3 === 1)
                assert.equal(r, `content ${i}`.length);
            else
                assert.equal(r, 'ENOENT');
        });
        assert.equal(client.inflight, 0);
        assert.equal((await client.listdirAll('c')).length, n);
    });

    it('a 64 MiB payload round trip', async () => {
        const big = crypto.randomBytes(64 * MiB);
        assert.equal(await client.writefile('big.bin', big), 64 * MiB);
        const back = await client.readfile('big.bin');
        assert.equal(back.length, big.length);
        assert.ok(back.equals(big));
        const part = await client.read('big.bin', 0, 64 * MiB);
        assert.ok(part.equals(big));
        const tail = await client.read('big.bin', 64 * MiB - 10, 100);
        assert.ok(tail.equals(big.subarray(64 * MiB - 10)));
        assert.equal(await client.write('big.bin', 0, big), 64 * MiB);
        const err = await failure(client.writefile('too-big.bin', Buffer.alloc(64 * MiB + 1)));
        assert.equal(err.code, 'TOOBIG');
        await client.append('big.bin', 'x');
        assert.equal((await failure(client.readfile('big.bin'))).code, 'EFBIG');
        //  The broker survives and serves on.
        await client.ping();
    });

    it('events: prefix filters, typed fields, seq without gaps', async () => {
        const errs = client.events('err.');
        const all = client.events('');
        const writes = client.events(['ok.writefile.', 'err.writefile.']);
        const [ce, ca, cw] = [errs, all, writes].map((s) => collect(s));
        try {
            await Promise.all([errs.ready(), all.ready(), writes.ready()]);

            await client.writefile('ev-file', 'abc');
            const missing = await failure(client.stat('ev-missing'));
            await failure(client.writefile('no-dir/ev', 'x'));

            const [e1, e2] = await ce.waitFor(2);
            assert.equal(e1.topic, 'err.stat.default');
            assert.equal(e1.outcome, 'err');
            assert.equal(e1.error, 'ENOENT');
            assert.equal(e1.op, 'stat');
            assert.equal(e1.path, 'ev-missing');
            assert.equal(e1.volume, 'default');
            assert.equal(e1.id, missing.id);
            assert.match(e1.client, /^[0-9a-f]+$/i);
            assert.equal(typeof e1.worker, 'string');
            for (const k of ['seq', 'bytes', 'queue_us', 'service_us', 'time_us'])
                assert.ok(typeof e1[k] === 'number' || typeof e1[k] === 'bigint', k);
            assert.equal(e1.gap, undefined, 'no gap detection on a filtered stream');
            assert.equal(e2.topic, 'err.writefile.default');
            assert.equal(e2.path, 'no-dir/ev');

            const [w1, w2] = await cw.waitFor(2);
            assert.equal(w1.topic, 'ok.writefile.default');
            assert.equal(w1.outcome, 'ok');
            assert.equal(w1.error, undefined);
            assert.equal(w1.path, 'ev-file');
            assert.equal(w1.bytes, 3);
            assert.equal(w2.topic, 'err.writefile.default');

            const a = await ca.waitFor(3);
            assert.deepEqual(a.map((e) => e.topic), ['ok.writefile.default', 'err.stat.default', 'err.writefile.default']);
            //  Nothing else touches this broker now, so seq runs on by one.
            assert.equal(BigInt(a[1].seq), BigInt(a[0].seq) + 1n);
            assert.equal(BigInt(a[2].seq), BigInt(a[1].seq) + 1n);
            assert.ok(a.every((e) => e.gap === 0));
            assert.equal(all.lost, 0);
            await sleep(100);
            assert.equal(ce.events.length, 2);
            assert.equal(cw.events.length, 2);
            assert.equal(ca.events.length, 3);
        } finally {
            errs.close();
            all.close();
            writes.close();
        }
        await Promise.all([ce.done, ca.done, cw.done]);
        //  A closed stream stays ended.
        assert.deepEqual(await errs.next(), { value: undefined, done: true });
    });

    it('events: requests whose header did not decode publish nothing; decoded refusals do (spec 8)', async () => {
        const stream = client.events('err.');
        const c = collect(stream);
        try {
            await stream.ready();
            await failure(client.request('read', { path: 'a' }));            //  MALFORMED
            await failure(client.read('a', 0, 2 ** 40));                      //  TOOBIG
            await failure(client.stat('a'.repeat(1100)));                     //  ENAMETOOLONG
            await failure(client.stat('a\0b'));                              //  EINVAL
            await failure(client.stat('a', { volume: 'nowhere' }));           //  NOVOLUME
            const events = await c.waitFor(1, 2000);
            assert.deepEqual(events.map((e) => `${e.topic} ${e.error}`), ['err.stat.nowhere NOVOLUME']);
        } finally {
            stream.close();
        }
        await c.done;
    });

    it('events: for await ends when the loop breaks or the client closes', async () => {
        const c = new Client(broker.ipc, { events: broker.events });
        const stream = c.events('ok.ping.');
        const seen = [];
        const consumer = (async () => {
            for await (const ev of stream)
                seen.push(ev.op);
        })();
        while (seen.length === 0) {
            await c.ping();
            await sleep(20);
        }
        c.close();
        await consumer;
        assert.ok(seen.every((op) => op === 'ping'));
        assert.equal(stream.closed, true);

        const c2 = new Client(broker.ipc, { events: broker.events });
        try {
            let n = 0;
            const pinger = setInterval(() => c2.ping().catch(() => {}), 10);
            for await (const ev of c2.events('ok.ping.')) {
                assert.equal(ev.op, 'ping');
                if (++n === 3)
                    break;
            }
            clearInterval(pinger);
        } finally {
            c2.close();
        }
    });

    it('timeouts: a reply that comes too late is dropped and the client serves on', async () => {
        const c = new Client(broker.ipc, { timeout: 10000 });
        try {
            const err = await failure(c.read('big.bin', 0, 64 * MiB, { timeout: 1 }));
            assert.equal(err.code, 'TIMEOUT');
            assert.equal(err.local, true);
            await c.ping();
            for (let i = 0; i < 100 && c.stats.unmatched === 0; i++)
                await sleep(20);
            assert.equal(c.stats.unmatched, 1);
            assert.equal(c.inflight, 0);
        } finally {
            c.close();
        }
    });
});

describe('against a broker with small limits', { skip }, () => {
    let broker;

    before(async () => {
        broker = await startBroker(['--workers', '1', '--payload-max', '1024', '--inflight-max', '4']);
    });

    after(async () => {
        if (broker)
            assert.equal((await broker.stop()).code, 0);
    });

    it('payload limit: TOOBIG for big frames, EFBIG for big files', async () => {
        const c = new Client(broker.ipc, { timeout: 10000 });
        try {
            assert.equal((await c.hello()).limits.payload_max, 1024);
            assert.equal((await failure(c.writefile('a', Buffer.alloc(1025)))).code, 'TOOBIG');
            assert.equal(await c.writefile('a', Buffer.alloc(1024)), 1024);
            await c.append('a', 'x');
            assert.equal((await failure(c.readfile('a'))).code, 'EFBIG');
            assert.equal((await failure(c.read('a', 0, 1025))).code, 'TOOBIG');
            assert.equal((await c.read('a', 0, 1024)).length, 1024);
        } finally {
            c.close();
        }
    });

    it('QUEUE_FULL past the per-client bound is retried, never dropped', async () => {
        //  The client window exceeds the broker's inflight_max of 4, and the
        //  reads go as wire batches of up to 64 (client.batch(): calls sent
        //  one by one could each be answered before the next arrives on a
        //  loaded machine), so the broker refuses the entries past its
        //  bound; the client retries them.
        const c = new Client(broker.ipc, { timeout: 20000, inflightMax: 64, queueFullRetries: 8, queueFullBackoff: 1 });
        try {
            await c.writefile('q', 'q');
            const b = c.batch();
            for (let i = 0; i < 200; i++)
                b.read('q', 0, 1);
            const results = (await b.send()).map((r) =>
                r.status === 'fulfilled' ? r.value.toString() : r.reason.code);
            assert.ok(c.stats.retries > 0, 'expected QUEUE_FULL retries');
            assert.ok(results.every((r) => r === 'q' || r === 'QUEUE_FULL'), results.find((r) => r !== 'q'));
            assert.ok(results.filter((r) => r === 'q').length > 0);
        } finally {
            c.close();
        }
        //  Within the bound nothing is refused.
        const d = new Client(broker.ipc, { timeout: 20000, inflightMax: 4, queueFullRetries: 0 });
        try {
            const results = await Promise.all(Array.from({ length: 200 }, () => d.read('q', 0, 1)));
            assert.ok(results.every((b) => b.toString() === 'q'));
            assert.equal(d.stats.retries, 0);
        } finally {
            d.close();
        }
    });
});

describe('a broker that shuts down under load', { skip }, () => {
    it('settles every request: ok, SHUTDOWN, or TIMEOUT for what it never read', async () => {
        const broker = await startBroker(['--workers', '1']);
        const c = new Client(broker.ipc, { timeout: 5000 });
        try {
            await c.writefile('f', Buffer.alloc(65536));
            const results = Array.from({ length: 2000 }, () =>
                c.read('f', 0, 65536).then(() => 'ok', (e) => e.code));
            await sleep(10);
            const stopped = broker.stop();
            const counts = {};
            for (const r of await Promise.all(results))
                counts[r] = (counts[r] || 0) + 1;
            assert.deepEqual(Object.keys(counts).filter((k) => !['ok', 'SHUTDOWN', 'TIMEOUT'].includes(k)), [],
                JSON.stringify(counts));
            assert.equal((await stopped).code, 0);
            assert.equal(c.pending, 0);
            assert.equal(c.inflight, 0);
            //  With the broker gone, new requests time out rather than hang.
            await assert.rejects(c.ping({ timeout: 100 }), { code: 'TIMEOUT' });
        } finally {
            c.close();
            await broker.stop();
        }
    });
});
