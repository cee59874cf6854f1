'use strict';
//  Shared by the test files: golden vector loading and the broker harness.

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const readline = require('node:readline');
const assert = require('node:assert/strict');
const { ZaioError } = require('..');

const REPO = path.resolve(__dirname, '..', '..', '..');
const VECTORS = path.join(REPO, 'schemas', 'vectors');

//  JSON.parse loses precision on integers above 2^53. Before parsing, turn
//  every integer literal outside a string that is not exactly representable
//  into a marked string, and revive the marks as BigInt.
const BIG_MARK = '\u0000bigint:';

function parseJsonBig (text) {
    let out = '';
    let i = 0;
    const n = text.length;
    while (i < n) {
        const c = text[i];
        if (c === '"') {
            let j = i + 1;
            while (j < n && text[j] !== '"')
                j += text[j] === '\\' ? 2 : 1;
            out += text.slice(i, j + 1);
            i = j + 1;
        } else if (c === '-' || (c >= '0' && c <= '9')) {
            let j = i + 1;
            while (j < n && /[0-9eE.+-]/.test(text[j]))
                j++;
            const token = text.slice(i, j);
            if (/^-?\d+$/.test(token) && !Number.isSafeInteger(Number(token)))
                out += JSON.stringify(BIG_MARK + token);
            else
                out += token;
            i = j;
        } else {
            out += c;
            i++;
        }
    }
    //  A msgpack bin is written {"$bin": HEX} (spec 13): a Buffer here.
    return JSON.parse(out, (key, value) => {
        if (typeof value === 'string' && value.startsWith(BIG_MARK))
            return BigInt(value.slice(BIG_MARK.length));
        if (value && typeof value === 'object' && !Array.isArray(value) &&
            Object.keys(value).length === 1 && typeof value.$bin === 'string')
            return Buffer.from(value.$bin, 'hex');
        return value;
    });
}

function loadVectors (file) {
    const doc = parseJsonBig(fs.readFileSync(path.join(VECTORS, file), 'utf8'));
    return doc.vectors.map((v) => ({ ...v, frames: v.frames.map((h) => Buffer.from(h, 'hex')) }));
}

function allVectorFiles () {
    return fs.readdirSync(VECTORS).filter((f) => f.endsWith('.json')).sort();
}

//  The broker binary: $ZAIO_BROKER (set by ctest) or the default build dir.
//  Returns {path} or {missing: reason}; a missing binary named by the
//  environment is an error the caller must not skip over.
function brokerBinary () {
    if (process.env.ZAIO_BROKER)
        return fs.existsSync(process.env.ZAIO_BROKER)
            ? { path: process.env.ZAIO_BROKER }
            : { missing: `ZAIO_BROKER=${process.env.ZAIO_BROKER} does not exist`, required: true };
    const fallback = path.join(REPO, 'build', 'broker', 'zaio-broker');
    return fs.existsSync(fallback) ? { path: fallback } : { missing: `no broker at ${fallback}` };
}

//  The `skip` option of node:test for suites that need a broker: false
//  when there is one; throws when the environment names one that is
//  missing, since that must not pass as a skip.
function brokerSkip () {
    const bin = brokerBinary();
    if (bin.required)
        throw new Error(bin.missing);
    return bin.path ? false : `${bin.missing} (build it, or set ZAIO_BROKER)`;
}

//  Await `promise` and return the ZaioError it rejects with.
async function failure (promise) {
    try {
        await promise;
    } catch (err) {
        assert.ok(err instanceof ZaioError, `not a ZaioError: ${err && err.stack}`);
        return err;
    }
    assert.fail('expected a rejection');
}

//  Start a broker on a fresh temporary root, bound on tcp and ipc, with an
//  events endpoint. Resolves {root, tcp, ipc, events, stop()} once it has
//  printed `ready`. stop() sends SIGTERM and resolves the exit code.
async function startBroker (extraArgs = []) {
    const bin = brokerBinary();
    if (!bin.path)
        throw new Error(bin.missing);
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'zaio-node-root-'));
    const sockdir = fs.mkdtempSync(path.join(os.tmpdir(), 'zaio-node-ipc-'));
    const ipc = `ipc://${sockdir}/client.ipc`;
    const args = ['--root', root, '--bind', 'tcp://127.0.0.1:*', '--bind', ipc,
        '--events', 'tcp://127.0.0.1:*', ...extraArgs];
    const child = spawn(bin.path, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => {
        stderr += d;
        if (stderr.length > 65536)
            stderr = stderr.slice(-32768);
    });
    const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    const info = { root, sockdir, ipc, tcp: null, events: null, child, clients: [], eventEndpoints: [] };
    await new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`broker not ready in 10 s; stderr: ${stderr}`)), 10000);
        const rl = readline.createInterface({ input: child.stdout });
        rl.on('line', (line) => {
            const [kind, endpoint] = line.trim().split(/\s+/);
            if (kind === 'client')
                info.clients.push(endpoint);
            else if (kind === 'events')
                info.eventEndpoints.push(endpoint);
            else if (kind === 'ready') {
                clearTimeout(timer);
                resolve();
            }
        });
        exited.then(({ code, signal }) => {
            clearTimeout(timer);
            reject(new Error(`broker exited (${code ?? signal}) before ready; stderr: ${stderr}`));
        });
    });
    info.tcp = info.clients.find((e) => e.startsWith('tcp://'));
    info.ipc = info.clients.find((e) => e.startsWith('ipc://')) || ipc;
    info.events = info.eventEndpoints[0];
    info.stderr = () => stderr;
    info.stop = async () => {
        if (child.exitCode === null && child.signalCode === null)
            child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
        const result = await exited;
        clearTimeout(timer);
        fs.rmSync(root, { recursive: true, force: true });
        fs.rmSync(sockdir, { recursive: true, force: true });
        return result;
    };
    return info;
}

module.exports = {
    REPO, VECTORS, parseJsonBig, loadVectors, allVectorFiles, brokerBinary, brokerSkip, failure, startBroker,
};
