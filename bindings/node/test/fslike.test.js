'use strict';
//  What a Node user expects from fs (issue 21): stat resolves a Stats with
//  isFile()/isDirectory()/isSymbolicLink(), size, mtimeMs and mtimeNs, as
//  fs.Stats has them; mkdir takes {recursive: true} (and a mode number) as
//  fs.mkdir does; listdir's entries have the same three tests, as fs.Dirent.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { Client, Stats, Dirent } = require('..');
const { brokerSkip, startBroker } = require('./helpers');

const skip = brokerSkip();

describe('fs-like Stats and mkdir', { skip }, () => {
    let broker;
    let client;

    before(async () => {
        broker = await startBroker();
        client = new Client(broker.ipc, { timeout: 10000 });
    });

    after(async () => {
        if (client)
            client.close();
        if (broker)
            assert.equal((await broker.stop()).code, 0);
    });

    it('stat resolves Stats, read like fs.Stats', async () => {
        await client.writefile('f.txt', 'x'.repeat(42), { mode: 0o640 });
        await client.mkdir('d');
        fs.symlinkSync('f.txt', path.join(broker.root, 'l'));
        const local = fs.statSync(path.join(broker.root, 'f.txt'), { bigint: true });

        const st = await client.stat('f.txt');
        assert.ok(st instanceof Stats);
        assert.deepEqual([st.isFile(), st.isDirectory(), st.isSymbolicLink()], [true, false, false]);
        assert.equal(st.size, 42);
        assert.equal(st.mode, 0o640);                      // the protocol's permission bits
        assert.equal(st.mtimeNs, local.mtimeNs);
        assert.equal(st.mtime_ns, local.mtimeNs);          // the old name stays
        assert.equal(st.mtimeMs, Number(local.mtimeNs / 1000n) / 1000);
        assert.ok(Math.abs(st.mtimeMs - fs.statSync(path.join(broker.root, 'f.txt')).mtimeMs) < 0.001);
        assert.equal(st.mtime.getTime(), Math.trunc(st.mtimeMs));

        const d = await client.stat('d');
        assert.deepEqual([d.isFile(), d.isDirectory(), d.isSymbolicLink()], [false, true, false]);
        const l = await client.stat('l');
        assert.deepEqual([l.isFile(), l.isDirectory(), l.isSymbolicLink()], [false, false, true]);

        const kinds = Object.fromEntries((await client.listdirAll('')).map((e) =>
            [e.name, [e instanceof Dirent, e.isFile(), e.isDirectory(), e.isSymbolicLink()]]));
        assert.deepEqual(kinds, { 'd': [true, false, true, false], 'f.txt': [true, true, false, false],
            'l': [true, false, false, true] });

        const batch = client.batch();
        const later = batch.stat('d');
        await batch.send();
        assert.ok((await later).isDirectory());
    });

    it('new Client() takes $ZAIO_ENDPOINT and $ZAIO_EVENTS, else the broker\'s defaults', async () => {
        const saved = [process.env.ZAIO_ENDPOINT, process.env.ZAIO_EVENTS];
        try {
            process.env.ZAIO_ENDPOINT = broker.ipc;
            process.env.ZAIO_EVENTS = broker.events;
            const c = new Client(undefined, { timeout: 10000 });
            try {
                assert.deepEqual([c._endpoints, c._eventEndpoints], [[broker.ipc], [broker.events]]);
                await c.ping();
                const stream = c.events('err.stat.');
                await stream.ready();
                await assert.rejects(c.stat('no-such-file-for-env'), { code: 'ENOENT' });
                const { value } = await stream[Symbol.asyncIterator]().next();
                assert.equal(value.path, 'no-such-file-for-env');
                stream.close();
            } finally {
                c.close();
            }
            delete process.env.ZAIO_ENDPOINT;
            delete process.env.ZAIO_EVENTS;
            const d = new Client();
            assert.deepEqual([d._endpoints, d._eventEndpoints], [['ipc:///tmp/zaio.ipc'], ['ipc:///tmp/zaio-events.ipc']]);
            d.close();
            const e = new Client('tcp://127.0.0.1:1');   // an endpoint given: no events guessed
            assert.throws(() => e.events(''), TypeError);
            e.close();
        } finally {
            for (const [k, v] of [['ZAIO_ENDPOINT', saved[0]], ['ZAIO_EVENTS', saved[1]]]) {
                if (v === undefined)
                    delete process.env[k];
                else
                    process.env[k] = v;
            }
        }
    });

    it('mkdir takes recursive as fs.mkdir does', async () => {
        await client.mkdir('a/b/c', { recursive: true });
        assert.ok((await client.stat('a/b/c')).isDirectory());
        await client.mkdir('a/b/c', { recursive: true });     // exists: no error, as fs.mkdir
        await assert.rejects(client.mkdir('a/b/c', { recursive: false }), { code: 'EEXIST' });
        await assert.rejects(client.mkdir('x/y'), { code: 'ENOENT' });
        await client.mkdir('m', 0o700);                        // fs.mkdir(path, mode)
        assert.equal((await client.stat('m')).mode, 0o700);
        await client.mkdir('p/q', { parents: true, recursive: true });
        await assert.rejects(client.mkdir('r/s', { parents: true, recursive: false }), TypeError);
        await assert.rejects(client.mkdir('r/s', { recursive: 'yes' }), TypeError);
    });
});
