'use strict';
//  index.d.ts and codec.d.ts compile under `tsc --strict` against a file
//  that uses the whole API (test/types/usage.ts).

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { execFileSync } = require('node:child_process');

const PKG = path.resolve(__dirname, '..');
const tsc = path.join(PKG, 'node_modules', 'typescript', 'bin', 'tsc');

test('the TypeScript declarations type-check', { skip: !fs.existsSync(tsc) && 'typescript is not installed (npm ci)' }, () => {
    const out = execFileSync(process.execPath, [tsc, '-p', path.join(__dirname, 'types', 'tsconfig.json')],
        { encoding: 'utf8' });
    assert.equal(out, '');
});

test('the declarations name every public method', () => {
    const dts = fs.readFileSync(path.join(PKG, 'index.d.ts'), 'utf8');
    const { Client } = require('..');
    const methods = Object.getOwnPropertyNames(Client.prototype).filter((m) => m !== 'constructor' && !m.startsWith('_'));
    for (const m of methods)
        assert.match(dts, new RegExp(`\\b${m}\\b`), m);
});
