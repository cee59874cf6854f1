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

//  The README's install command, as written but for the path: a fresh
//  `git clone` of this repository's committed HEAD, then in a clean
//  directory (no package.json, no node_modules) the README's sh block with
//  ./bindings/node replaced by the clone's. Dependencies come from the npm
//  cache that `npm ci` filled (npm_config_prefer_offline), else the registry.
test('the README install command, from a fresh clone into a clean directory', { timeout: 300000 }, () => {
    const readme = fs.readFileSync(path.join(PKG, 'README.md'), 'utf8');
    const m = /<!-- install:[^\n]*\n```sh\n([\s\S]*?)^```$/m.exec(readme);
    assert.ok(m, 'no install block in README.md');
    const command = m[1].trim();
    assert.match(command, /\.\/bindings\/node/);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zaio-node-clone-'));
    try {
        const quiet = { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] };
        const repo = path.resolve(PKG, '..', '..');
        const clone = path.join(dir, 'zaio');
        execFileSync('git', ['clone', '-q', repo, clone], quiet);
        const project = path.join(dir, 'project');
        fs.mkdirSync(project);
        execFileSync('sh', ['-ec', command.replaceAll('./bindings/node', path.join(clone, 'bindings', 'node'))],
            { ...quiet, cwd: project, env: { ...process.env, npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false' } });
        const installed = path.join(project, 'node_modules', 'zaio');
        assert.ok(!fs.lstatSync(installed).isSymbolicLink(), 'node_modules/zaio is a link, not an install');
        fs.writeFileSync(path.join(project, 'use.js'), `
const { Client, Stats } = require('zaio');
const c = new Client('tcp://127.0.0.1:1');
c.close();
console.log(typeof Client, typeof Stats, require.resolve('zeromq').startsWith(${JSON.stringify(project)}));
`);
        assert.equal(execFileSync(process.execPath, ['use.js'], { ...quiet, cwd: project }), 'function function true\n');
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
});
