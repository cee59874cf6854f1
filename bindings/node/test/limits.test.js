'use strict';
//  Size limits against a real broker started with a 1 MiB payload limit:
//  what the broker would refuse unread (a header over 8192 bytes) or what
//  would make ZeroMQ drop the connection (a data frame over its transport
//  limit) is refused by the client with TOOBIG at once, and the connection
//  and the requests on it live on.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { Client } = require('..');
const { brokerSkip, failure, startBroker } = require('./helpers');

const skip = brokerSkip();

const MiB = 1024 * 1024;

//  The ZaioError `promise` rejects with, and how long that took.
async function timedFailure (promise) {
    const t0 = Date.now();
    const err = await failure(promise);
    return { err, ms: Date.now() - t0 };
}

describe('limits against a broker with --payload-max 1048576', { skip }, () => {
    let broker;
    let client;

    before(async () => {
        broker = await startBroker(['--payload-max', String(MiB)]);
        //  Longer than any prompt answer: a refusal that waits is a failure.
        client = new Client(broker.ipc, { timeout: 3000 });
    });

    after(async () => {
        if (client)
            client.close();
        if (broker)
            assert.equal((await broker.stop()).code, 0, `stderr: ${broker.stderr()}`);
    });

    it('a 9000-byte path is refused TOOBIG at once, by the methods and request()', async () => {
        const long = 'p'.repeat(9000);
        for (const call of [() => client.stat(long), () => client.writefile(long, 'x'),
            () => client.request('stat', { path: long })]) {
            const { err, ms } = await timedFailure(call());
            assert.equal(err.code, 'TOOBIG');
            assert.equal(err.local, true);
            assert.ok(ms < 500, `took ${ms} ms`);
        }
        await client.ping();
    });

    it('a 3 MiB writefile is refused TOOBIG at once; requests in flight are answered', async () => {
        await client.writefile('small', 'hello');
        const reads = Array.from({ length: 50 }, () => client.readfile('small'));
        const { err, ms } = await timedFailure(client.writefile('big', Buffer.alloc(3 * MiB)));
        assert.equal(err.code, 'TOOBIG');
        assert.equal(err.local, true);
        assert.equal(err.path, 'big');
        assert.ok(ms < 500, `took ${ms} ms`);
        for (const data of await Promise.all(reads))
            assert.equal(data.toString(), 'hello');
        //  Up to payload_max goes through; one byte more does not.
        assert.equal(await client.writefile('full', Buffer.alloc(MiB, 1)), MiB);
        assert.equal((await client.readfile('full')).length, MiB);
        assert.equal((await timedFailure(client.write('full', 0, Buffer.alloc(MiB + 1)))).err.code, 'TOOBIG');
        assert.equal((await timedFailure(client.append('full', Buffer.alloc(MiB + 1)))).err.code, 'TOOBIG');
        assert.equal(fs.statSync(path.join(broker.root, 'full')).size, MiB);
        assert.equal(fs.existsSync(path.join(broker.root, 'big')), false);
    });
});

describe('limits are learned again when the client reconnects', { skip }, () => {
    it('a broker restarted with a smaller payload_max is asked again', async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zaio-node-limits-'));
        const endpoint = `ipc://${dir}/broker.ipc`;
        let broker = await startBroker(['--payload-max', String(4 * MiB), '--bind', endpoint]);
        const client = new Client(endpoint, { timeout: 3000 });
        try {
            assert.equal(await client.writefile('big', Buffer.alloc(3 * MiB)), 3 * MiB);
            assert.equal((await broker.stop()).code, 0);
            broker = await startBroker(['--payload-max', String(MiB), '--bind', endpoint]);
            //  Until the DEALER has reconnected, pings may go nowhere.
            for (let tries = 0; ; tries++) {
                try {
                    await client.ping({ timeout: 200 });
                    break;
                } catch (err) {
                    if (err.code !== 'TIMEOUT' || tries > 50)
                        throw err;
                }
            }
            const { err, ms } = await timedFailure(client.writefile('big', Buffer.alloc(3 * MiB)));
            assert.equal(err.code, 'TOOBIG');
            assert.ok(ms < 500, `took ${ms} ms`);
            await client.ping();
        } finally {
            client.close();
            await broker.stop();
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
