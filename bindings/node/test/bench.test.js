'use strict';
//  bench.js runs against a real broker and prints the JSON the lead's bench reads.

const { describe, it, before, after } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');
const { execFile } = require('node:child_process');
const { brokerSkip, startBroker } = require('./helpers');

const skip = brokerSkip();

function run (args) {
    return new Promise((resolve) => {
        execFile(process.execPath, [path.join(__dirname, '..', 'bench.js'), ...args], { timeout: 60000 },
            (err, stdout, stderr) => resolve({ code: err ? (err.code ?? err.signal) : 0, stdout, stderr }));
    });
}

describe('bench.js', { skip }, () => {
    let broker;

    before(async () => {
        broker = await startBroker();
    });

    after(async () => {
        if (broker)
            assert.equal((await broker.stop()).code, 0);
    });

    it('prints {"ops_per_sec": N} for pipelined 4 KiB reads over ipc', async () => {
        const { code, stdout, stderr } = await run(['--endpoint', broker.ipc, '--path', 'bench.bin', '--seconds', '1']);
        assert.equal(code, 0, stderr);
        const lines = stdout.trim().split('\n');
        assert.equal(lines.length, 1);
        const result = JSON.parse(lines[0]);
        assert.ok(result.ops_per_sec > 0);
        assert.equal(result.inflight, 64);
        assert.equal(result.size, 4096);
    });

    it('refuses unknown arguments', async () => {
        const { code, stderr } = await run(['--bogus', '1']);
        assert.equal(code, 2);
        assert.match(stderr, /unknown argument/);
    });
});
