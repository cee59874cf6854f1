'use strict';
//  client.brokerStats() (the `stats` op, PROTOCOL.md section 5.3) against a
//  real zaio-broker: the results as an object whose rows count the calls
//  made; `top` honoured and checked by the broker; no volume sent; and a
//  stats call queued with others never goes in their wire batch.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const { Client } = require('..');
const { brokerSkip, failure, startBroker } = require('./helpers');

const skip = brokerSkip();

function jobs (stats, op, outcome, volume) {
    return stats.jobs.filter((r) => r.op === op && r.outcome === outcome && r.volume === volume)
        .reduce((sum, r) => sum + Number(r.jobs), 0);
}

describe('brokerStats against a real broker', { skip }, () => {
    let broker;
    let client;

    before(async () => {
        broker = await startBroker(['--workers', '2']);
        client = new Client(broker.ipc, { timeout: 20000 });
    });

    after(async () => {
        if (client)
            client.close();
        if (broker) {
            const { code } = await broker.stop();
            assert.equal(code, 0, `broker exit code; stderr: ${broker.stderr()}`);
        }
    });

    it('counts the calls made, by op, outcome and volume', async () => {
        await client.writefile('s.txt', Buffer.from('12345'));
        assert.equal((await failure(client.stat('missing'))).code, 'ENOENT');
        const s = await client.brokerStats();
        assert.equal(typeof s.version, 'string');
        assert.ok(s.time_ns > 0);
        assert.equal(s.id, undefined);
        const row = s.jobs.find((r) => r.op === 'writefile' && r.outcome === 'ok');
        assert.deepEqual(row, { bytes: 5, jobs: 1, op: 'writefile', outcome: 'ok', volume: 'default' });
        assert.equal(jobs(s, 'stat', 'ENOENT', 'default'), 1);
        assert.deepEqual(s.volumes.map((v) => v.name), ['default']);
        assert.equal(s.workers.length, 2);
        assert.equal(s.latency_bounds_us.length, 27);
        const w = s.latency.find((l) => l.op === 'writefile');
        assert.equal(w.service.length, 28);
        assert.equal(w.service.reduce((a, b) => a + b, 0), 1);
        assert.ok(s.top_clients.length >= 1);
    });

    it('takes top, and no volume', async () => {
        assert.equal((await client.brokerStats({ top: 1 })).top_clients.length, 1);
        assert.equal((await failure(client.brokerStats({ top: 101 }))).code, 'TOOBIG');
        await assert.rejects(client.brokerStats({ volume: 'default' }), TypeError);
    });

    it('goes alone, never in a wire batch with other calls', async () => {
        const calls = [client.ping(), client.ping(), client.brokerStats(), client.hello(), client.ping()];
        const results = await Promise.all(calls);
        assert.ok(Array.isArray(results[2].jobs));
        assert.equal(results[3].protocol, 1);
    });
});
