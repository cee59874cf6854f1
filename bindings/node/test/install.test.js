'use strict';
//  The package as a user gets it: `npm pack`, then `npm install` of the
//  tarball into a fresh project (dependencies from the npm cache that
//  `npm ci` filled, else the registry); require, import and zaio/codec work.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const PKG = path.resolve(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

test('npm pack, npm install of the tarball, require and import', { timeout: 300000 }, () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zaio-node-install-'));
    try {
        const quiet = { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] };
        const name = execFileSync(npm, ['pack', '--pack-destination', dir, '--loglevel=error'], { ...quiet, cwd: PKG })
            .trim().split('\n').pop();
        const tarball = path.join(dir, name);
        assert.ok(fs.existsSync(tarball), tarball);
        const project = path.join(dir, 'project');
        fs.mkdirSync(project);
        fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'user', version: '1.0.0', private: true }));
        execFileSync(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball],
            { ...quiet, cwd: project });
        const installed = fs.readdirSync(path.join(project, 'node_modules', 'zaio')).sort();
        assert.deepEqual(installed, ['README.md', 'cert.js', 'codec.d.ts', 'codec.js', 'index.d.ts', 'index.js', 'package.json']);

        fs.writeFileSync(path.join(project, 'cjs.js'), `
const { Client, ZaioError, codec } = require('zaio');
const { encodeRequest } = require('zaio/codec');
const c = new Client('tcp://127.0.0.1:1');
c.close();
console.log(typeof ZaioError, encodeRequest({ id: 1, op: 'ping' })[1].toString('hex'), typeof codec.decodeReply);
`);
        assert.equal(execFileSync(process.execPath, ['cjs.js'], { ...quiet, cwd: project }),
            'function 82a2696401a26f70a470696e67 function\n');
        fs.writeFileSync(path.join(project, 'esm.mjs'), `
import { Client, ZaioError } from 'zaio';
import { encodeRequest } from 'zaio/codec';
const c = new Client('tcp://127.0.0.1:1');
c.close();
console.log(typeof ZaioError, encodeRequest({ id: 2n ** 64n - 1n, op: 'ping' })[1].toString('hex'));
`);
        assert.equal(execFileSync(process.execPath, ['esm.mjs'], { ...quiet, cwd: project }),
            'function 82a26964cfffffffffffffffffa26f70a470696e67\n');
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});
