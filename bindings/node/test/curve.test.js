'use strict';
//  CURVE: reading czmq certificates, refusal and recovery against a bare
//  CURVE ROUTER with a ZAP handler, and a real zaio-broker that requires
//  CURVE on tcp, with client certificates and grants:
//    alice     no grant entry: every volume read-write
//    reader    default read-only
//    other     only 'scratch' (so 'default' is as if absent)
//    stranger  not among --client-certs
//  Certificates come from `zaio keygen PATH NAME` ($ZAIO_TOOL, or
//  build/bindings/c/zaio), the czmq format the broker reads.

const test = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { execFileSync } = require('node:child_process');
const zmq = require('zeromq');
const { Client } = require('..');
const cert = require('../cert');
const codec = require('../codec');
const { REPO, brokerSkip, failure, startBroker } = require('./helpers');

const CALL_TIMEOUT = 20000;
const PLAIN_TIMEOUT = 3000;   //  a plain client's call at the CURVE endpoint, which may see only hang-ups
const PROMPT = 12000;   //  a refusal comes long before a call's timeout (an attempt may first wait out a hang-up and reconnect on a busy machine)

const GRANTS = `grants
    client
        reader
            volumes
                default = ro
        other
            volumes
                scratch = rw
`;

function toolBinary () {
    if (process.env.ZAIO_TOOL) {
        if (!fs.existsSync(process.env.ZAIO_TOOL))
            throw new Error(`ZAIO_TOOL=${process.env.ZAIO_TOOL} does not exist`);
        return process.env.ZAIO_TOOL;
    }
    const fallback = path.join(REPO, 'build', 'bindings', 'c', 'zaio');
    return fs.existsSync(fallback) ? fallback : null;
}
const TOOL = toolBinary();
const toolSkip = TOOL ? false : 'no zaio tool (build it, or set ZAIO_TOOL)';

//  Certificates of a broker and four clients in a fresh directory; the
//  allowed clients' public ones also in `clients` (--client-certs).
function makeKeys () {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'zaio-node-keys-'));
    const keys = { dir, clients: path.join(dir, 'clients') };
    fs.mkdirSync(keys.clients);
    for (const name of ['broker', 'alice', 'reader', 'other', 'stranger']) {
        keys[name] = path.join(dir, name);
        execFileSync(TOOL, ['keygen', keys[name], name], { stdio: ['ignore', 'ignore', 'inherit'] });
        if (name !== 'broker' && name !== 'stranger')
            fs.copyFileSync(keys[name], path.join(keys.clients, name));
    }
    return keys;
}

//  ---------------------------------------------------------------------
//  Certificates

test('certificates', { skip: toolSkip }, async (t) => {
    const keys = makeKeys();
    t.after(() => fs.rmSync(keys.dir, { recursive: true, force: true }));

    await t.test('zaio keygen files: public, secret and name', () => {
        const pub = cert.loadCertFile(keys.alice);
        const sec = cert.loadCertFile(`${keys.alice}_secret`);
        assert.match(pub.publicKey, cert.Z85_KEY);
        assert.equal(pub.secretKey, null);
        assert.equal(pub.name, 'alice');
        assert.equal(sec.publicKey, pub.publicKey);
        assert.match(sec.secretKey, cert.Z85_KEY);
    });

    await t.test('curveServer and curveCert: PATH, PATH_secret or a z85 server key', () => {
        const server = cert.loadCertFile(keys.broker).publicKey;
        const { publicKey, secretKey } = cert.loadCertFile(`${keys.alice}_secret`);
        const want = { curveServerKey: server, curvePublicKey: publicKey, curveSecretKey: secretKey };
        assert.deepEqual(cert.curveOptions({ curveServer: keys.broker, curveCert: keys.alice }), want);
        assert.deepEqual(cert.curveOptions({ curveServer: `${keys.broker}_secret`, curveCert: `${keys.alice}_secret` }), want);
        assert.deepEqual(cert.curveOptions({ curveServer: server, curveCert: keys.alice }), want);
        assert.deepEqual(cert.curveOptions({}), {});
    });

    await t.test('both or neither; the client certificate needs its secret key', () => {
        assert.throws(() => new Client('tcp://127.0.0.1:1', { curveServer: keys.broker }), TypeError);
        assert.throws(() => new Client('tcp://127.0.0.1:1', { curveCert: keys.alice }), TypeError);
        const lone = path.join(keys.dir, 'lone');
        fs.copyFileSync(keys.alice, lone);
        assert.throws(() => cert.curveOptions({ curveServer: keys.broker, curveCert: lone }), /no curve\/secret-key/);
        assert.throws(() => cert.curveOptions({ curveServer: keys.broker, curveCert: path.join(keys.dir, 'nope') }),
            /no certificate file/);
        assert.throws(() => cert.curveOptions({ curveServer: path.join(keys.dir, 'nope'), curveCert: keys.alice }),
            /no such certificate file/);
    });

    await t.test('the ZPL reader is strict', () => {
        const key = cert.loadCertFile(keys.alice).publicKey;
        const bad = {
            'tab indent': `curve\n\tpublic-key = "${key}"\n`,
            'two-space indent': `curve\n  public-key = "${key}"\n`,
            'three levels': `curve\n    public-key = "${key}"\n        deeper = 1\n`,
            'short key': 'curve\n    public-key = "abc"\n',
            'unknown curve key': `curve\n    public-key = "${key}"\n    private-key = "${key}"\n`,
            'no public key': 'metadata\n    name = "x"\ncurve\n',
            'no curve section': 'metadata\n    name = "x"\n',
            'unterminated quote': `curve\n    public-key = "${key}\n`,
            'text after the value': `curve\n    public-key = "${key}" extra\n`,
            'key twice': `curve\n    public-key = "${key}"\n    public-key = "${key}"\n`,
            'orphan line': `    public-key = "${key}"\n`,
        };
        for (const [what, text] of Object.entries(bad)) {
            const file = path.join(keys.dir, 'bad');
            fs.writeFileSync(file, text);
            assert.throws(() => cert.loadCertFile(file), cert.CertError, what);
        }
        const file = path.join(keys.dir, 'good');
        fs.writeFileSync(file, `#  comment\n\nmetadata\ncurve  # the keys\n    public-key = '${key}'   # quoted\n`);
        assert.equal(cert.loadCertFile(file).publicKey, key);
    });
});

//  ---------------------------------------------------------------------
//  The verdict (libzaio's rules, PROTOCOL.md 11), without sockets

test('handshake verdict: AUTH for ZAP 400, a mismatch, and 4 hang-ups in a row under CURVE', () => {
    const at = 'tcp://127.0.0.1:9';
    const auth = (status) => ({ type: 'handshake:error:auth', address: at, error: { status } });
    const mismatch = { type: 'handshake:error:protocol', address: at, error: { code: 'ERR_ZMTP_MECHANISM_MISMATCH' } };
    const hangup = { type: 'handshake:error:other', address: at, error: {} };
    for (const curve of [true, false]) {
        assert.match(new cert.HandshakeVerdict(curve).feed(auth(400)), /refused this key/);
        assert.match(new cert.HandshakeVerdict(curve).feed(mismatch), curve ? /does not use CURVE/ : /requires CURVE/);
        const v = new cert.HandshakeVerdict(curve);
        assert.equal(v.feed(auth(500)), null);    //  ended (a new socket next), not AUTH
        assert.ok(v.ended);
        assert.match(v.trouble, /ZAP status 500/);
    }
    const v = new cert.HandshakeVerdict(true, 'subscriber');
    for (let i = 1; i < cert.HANGUPS_MAX; i++)
        assert.equal(v.feed(hangup), null);
    assert.equal(v.feed({ type: 'handshake', address: at }), null);    //  the run is broken
    for (let i = 1; i < cert.HANGUPS_MAX; i++)
        assert.equal(v.feed(hangup), null);
    assert.ok(!v.ended);    //  libzmq keeps trying by itself
    assert.match(v.feed(hangup), /as a subscriber: hung up .* public key/);
    assert.ok(v.ended);
    const plain = new cert.HandshakeVerdict(false);
    for (let i = 0; i < 10 * cert.HANGUPS_MAX; i++)
        assert.equal(plain.feed(hangup), null);    //  a plain client counts no hang-ups
});

//  ---------------------------------------------------------------------
//  A bare CURVE ROUTER that answers every request ok, with a ZAP handler
//  (RFC 27) that allows the public keys in `allowed`.

//  A ZAP handler (RFC 27) in this process's context: it allows the CURVE
//  public keys (z85) in `allowed`.
async function zapHandler (allowed) {
    const zap = new zmq.Router({ linger: 0 });
    await zap.bind('inproc://zeromq.zap.01');
    (async () => {
        for await (const [peer, empty, version, requestId, , , , , key] of zap) {
            const ok = key !== undefined && allowed.has(z85(key));
            await zap.send([peer, empty, version, requestId, ok ? '200' : '400', ok ? 'OK' : 'no', '', '']);
        }
    })().catch(() => {});
    return zap;
}

async function curveRouter (keys, allowed) {
    const zap = await zapHandler(allowed);
    const router = new zmq.Router({
        linger: 0, curveServer: true, curveSecretKey: cert.loadCertFile(`${keys.broker}_secret`).secretKey,
    });
    await router.bind('tcp://127.0.0.1:*');
    (async () => {
        for await (const [peer, ...frames] of router) {
            const header = codec.decodeRequest(frames).header;
            await router.send([peer, ...codec.encodeReply({ id: header.id, ok: true })]);
        }
    })().catch(() => {});
    return {
        endpoint: router.lastEndpoint,
        close () {
            router.close();
            zap.close();
        },
    };
}

//  Z85 encoding of a 32-byte key (ZAP hands keys over as bytes).
function z85 (bytes) {
    const chars = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ.-:+=^!/*?&<>()[]{}@%$#';
    let out = '';
    for (let i = 0; i < bytes.length; i += 4) {
        let value = bytes.readUInt32BE(i);
        const block = [];
        for (let j = 0; j < 5; j++) {
            block.unshift(chars[value % 85]);
            value = Math.floor(value / 85);
        }
        out += block.join('');
    }
    return out;
}

test('refused, then allowed: the next call connects again', { skip: toolSkip }, async (t) => {
    const keys = makeKeys();
    const allowed = new Set();
    const router = await curveRouter(keys, allowed);
    t.after(() => {
        router.close();
        fs.rmSync(keys.dir, { recursive: true, force: true });
    });
    const c = new Client(router.endpoint, { timeout: CALL_TIMEOUT, curveServer: keys.broker, curveCert: keys.stranger });
    t.after(() => c.close());
    const start = Date.now();
    const errs = await Promise.all([1, 2, 3].map(() => failure(c.ping())));
    assert.ok(Date.now() - start < PROMPT);
    assert.deepEqual(errs.map((e) => [e.code, e.local, e.op]), Array(3).fill(['AUTH', true, 'ping']));
    assert.equal(c.pending, 0);
    assert.equal(c.inflight, 0);
    allowed.add(cert.loadCertFile(keys.stranger).publicKey);
    await Promise.all([1, 2, 3].map(() => c.ping()));
});

test('a refused subscriber: the stream rejects with AUTH', { skip: toolSkip }, async (t) => {
    const keys = makeKeys();
    const pub = new zmq.Publisher({
        linger: 0, curveServer: true, curveSecretKey: cert.loadCertFile(`${keys.broker}_secret`).secretKey,
    });
    const zap = await zapHandler(new Set());
    await pub.bind('tcp://127.0.0.1:*');
    const c = new Client('tcp://127.0.0.1:1', { events: pub.lastEndpoint, curveServer: keys.broker, curveCert: keys.stranger });
    t.after(() => {
        c.close();
        pub.close();
        zap.close();
        fs.rmSync(keys.dir, { recursive: true, force: true });
    });
    const stream = c.events('');
    const start = Date.now();
    const err = await failure(stream.next());
    assert.ok(Date.now() - start < PROMPT);
    assert.equal(err.code, 'AUTH');
    assert.match(err.message, /subscriber: the broker refused this key/);
    assert.equal((await failure(stream.next())).code, 'AUTH');
});

//  ---------------------------------------------------------------------
//  A real broker

const liveSkip = toolSkip || brokerSkip();

test('a broker that requires CURVE', { skip: liveSkip }, async (t) => {
    const keys = makeKeys();
    t.after(() => fs.rmSync(keys.dir, { recursive: true, force: true }));
    const config = path.join(keys.dir, 'zaio.cfg');
    fs.writeFileSync(config, GRANTS);
    const broker = await startBroker(['--workers', '2', '--config', config,
        '--curve-cert', keys.broker, '--client-certs', keys.clients]);
    const clients = [];
    t.after(async () => {
        clients.forEach((c) => c.close());
        const { code } = await broker.stop();
        assert.equal(code, 0, broker.stderr());
    });
    const client = (who, opts = {}) => {
        const c = new Client(broker.tcp, {
            timeout: CALL_TIMEOUT, events: broker.events, curveServer: keys.broker, curveCert: keys[who], ...opts,
        });
        clients.push(c);
        return c;
    };
    const local = new Client(broker.ipc, { timeout: CALL_TIMEOUT });    //  ipc: all rights
    clients.push(local);
    const onDisk = (p) => path.join(broker.root, p);

    await t.test('an allowed client works over tcp and CURVE', async () => {
        const c = client('alice');
        assert.equal(await c.writefile('alice.txt', 'over curve'), 10);
        assert.equal((await c.readfile('alice.txt')).toString(), 'over curve');
        const parts = await Promise.all([0, 1, 2, 3].map((i) => c.read('alice.txt', i * 3, 3)));
        assert.equal(Buffer.concat(parts).toString(), 'over curve');
        assert.ok((await c.hello()).volumes.some((v) => v.name === 'default'));
        assert.equal(fs.readFileSync(onDisk('alice.txt'), 'utf8'), 'over curve');
    });

    await t.test('events come over CURVE too', async () => {
        const c = client('alice');
        const stream = c.events('err.unlink.');
        await stream.ready();
        assert.equal((await failure(c.unlink('never-was'))).code, 'ENOENT');
        const { value } = await stream.next();
        assert.deepEqual([value.op, value.error, value.path], ['unlink', 'ENOENT', 'never-was']);
        stream.close();
    });

    await t.test('an unknown key cannot subscribe (AUTH)', async () => {
        const c = client('stranger');
        const start = Date.now();
        assert.equal((await failure(c.events('').next())).code, 'AUTH');
        assert.ok(Date.now() - start < PROMPT);
    });

    await t.test('an unknown key gets AUTH at once, and again on the next call', async () => {
        const c = client('stranger');
        for (let round = 0; round < 2; round++) {
            const start = Date.now();
            const errs = await Promise.all(['a', 'b', 'c'].map((p) => failure(c.stat(p))));
            assert.ok(Date.now() - start < PROMPT, `${Date.now() - start} ms`);
            assert.deepEqual(errs.map((e) => [e.code, e.path]), [['AUTH', 'a'], ['AUTH', 'b'], ['AUTH', 'c']]);
            assert.match(errs[0].message, /refused/);
        }
    });

    await t.test('a read-only grant: EACCES for every write op, the files unchanged', async () => {
        await local.writefile('ro.txt', 'original');
        await local.mkdir('ro-keep');
        const before = fs.statSync(onDisk('ro.txt'), { bigint: true });
        const c = client('reader');
        assert.equal((await c.readfile('ro.txt')).toString(), 'original');
        const writes = {
            write: () => c.write('ro.txt', 0, 'XX'),
            'write create': () => c.write('ro-new.txt', 0, 'XX', { create: true }),
            append: () => c.append('ro.txt', 'XX'),
            writefile: () => c.writefile('ro.txt', 'XX'),
            truncate: () => c.truncate('ro.txt', 0),
            unlink: () => c.unlink('ro.txt'),
            rename: () => c.rename('ro.txt', 'ro-moved.txt'),
            copy: () => c.copy('ro.txt', 'ro-copy.txt'),
            mkdir: () => c.mkdir('ro-dir'),
            rmdir: () => c.rmdir('ro-keep'),
        };
        for (const [name, call] of Object.entries(writes))
            assert.equal((await failure(call())).code, 'EACCES', name);
        assert.deepEqual((await c.hello()).volumes.map((v) => v.name), ['default']);
        assert.equal(fs.readFileSync(onDisk('ro.txt'), 'utf8'), 'original');
        const after = fs.statSync(onDisk('ro.txt'), { bigint: true });
        assert.deepEqual([after.ino, after.mtimeNs, after.size], [before.ino, before.mtimeNs, before.size]);
        assert.ok(fs.statSync(onDisk('ro-keep')).isDirectory());
        for (const absent of ['ro-new.txt', 'ro-moved.txt', 'ro-copy.txt', 'ro-dir'])
            assert.ok(!fs.existsSync(onDisk(absent)), absent);
    });

    await t.test('a volume not granted is NOVOLUME, as if it did not exist', async () => {
        await local.writefile('hidden.txt', 'secret');
        const c = client('other');
        for (const call of [() => c.stat('hidden.txt'), () => c.readfile('hidden.txt'),
            () => c.stat('no-such-file'), () => c.writefile('hidden.txt', 'x')])
            assert.equal((await failure(call())).code, 'NOVOLUME');
        assert.ok(!(await c.hello()).volumes.some((v) => v.name === 'default'));
        //  hello names a volume only when asked to, and is then answered as
        //  every op naming it.
        assert.equal((await failure(c.hello({ volume: 'default' }))).code, 'NOVOLUME');
        assert.equal(fs.readFileSync(onDisk('hidden.txt'), 'utf8'), 'secret');
    });

    //  AUTH ("requires CURVE") when libzmq reports the mechanism mismatch;
    //  but the broker's end of the refused handshake may reset the
    //  connection before the client has read the broker's greeting, and
    //  libzmq then reports a plain hang-up on every attempt, which a plain
    //  client cannot tell from a broker gone: the calls then time out.
    await t.test('a plain client is refused: AUTH, or no answer; never served', async () => {
        const c = new Client(broker.tcp, { timeout: PLAIN_TIMEOUT });
        clients.push(c);
        for (let round = 0; round < 2; round++) {
            const errs = await Promise.all(['p1', 'p2', 'p3'].map((p) => failure(c.writefile(p, 'no'))));
            for (const [i, e] of errs.entries()) {
                assert.ok(['AUTH', 'TIMEOUT'].includes(e.code), e.message);
                assert.equal(e.path, `p${i + 1}`);
                if (e.code === 'AUTH')
                    assert.match(e.message, /requires CURVE/);
            }
            assert.equal(c.pending, 0);
        }
        for (const p of ['p1', 'p2', 'p3'])
            assert.ok(!fs.existsSync(onDisk(p)));
    });

    await t.test('a wrong server key gets AUTH after 4 hang-ups in a row, and again on the next call', async () => {
        const c = client('alice', { curveServer: keys.alice });
        for (let round = 0; round < 2; round++) {
            const start = Date.now();
            const errs = await Promise.all(['w1', 'w2'].map((p) => failure(c.writefile(p, 'no'))));
            assert.ok(Date.now() - start < PROMPT, `${Date.now() - start} ms`);
            assert.deepEqual(errs.map((e) => e.code), ['AUTH', 'AUTH']);
            assert.match(errs[0].message, /public key/);
            assert.equal(c.pending, 0);
            assert.equal(c.inflight, 0);
        }
        for (const p of ['w1', 'w2'])
            assert.ok(!fs.existsSync(onDisk(p)));
    });

    await t.test('subscribers: a wrong server key gets AUTH, a plain one AUTH or nothing', async () => {
        const wrong = client('alice', { curveServer: keys.alice });
        const stream = wrong.events('');
        const start = Date.now();
        const err = await failure(stream.next());
        assert.ok(Date.now() - start < PROMPT, `${Date.now() - start} ms`);
        assert.equal(err.code, 'AUTH');
        assert.match(err.message, /subscriber.*public key/);
        assert.equal((await failure(stream.next())).code, 'AUTH');
        stream.close();
        //  A plain subscriber: AUTH when libzmq reports the mismatch, else
        //  (only hang-ups, as for the plain client above) no event at all.
        const plain = new Client('tcp://127.0.0.1:1', { events: broker.events, timeout: CALL_TIMEOUT });
        clients.push(plain);
        const events = plain.events('');
        let timer;
        const quiet = new Promise((resolve) => { timer = setTimeout(() => resolve('quiet'), PLAIN_TIMEOUT); });
        const outcome = await Promise.race([events.next().then(() => 'event', (e) => e), quiet]);
        clearTimeout(timer);
        assert.notEqual(outcome, 'event');
        if (outcome !== 'quiet') {
            assert.equal(outcome.code, 'AUTH');
            assert.match(outcome.message, /requires CURVE/);
        }
        events.close();
    });
});

test('a CURVE client against a plain broker gets AUTH', { skip: liveSkip }, async (t) => {
    const keys = makeKeys();
    const broker = await startBroker(['--workers', '1']);
    const c = new Client(broker.tcp, {
        timeout: CALL_TIMEOUT, events: broker.events, curveServer: keys.broker, curveCert: keys.alice,
    });
    t.after(async () => {
        c.close();
        fs.rmSync(keys.dir, { recursive: true, force: true });
        const { code } = await broker.stop();
        assert.equal(code, 0, broker.stderr());
    });
    //  The mismatch ("does not use CURVE") on most attempts; else the
    //  broker hangs up first on every one ("does it use CURVE?").
    for (let round = 0; round < 2; round++) {
        const start = Date.now();
        const errs = await Promise.all([1, 2, 3].map(() => failure(c.ping())));
        assert.ok(Date.now() - start < PROMPT, `${Date.now() - start} ms`);
        assert.deepEqual(errs.map((e) => e.code), ['AUTH', 'AUTH', 'AUTH']);
        assert.match(errs[0].message, /CURVE/);
    }
    const stream = c.events('');
    const err = await failure(stream.next());
    assert.equal(err.code, 'AUTH');
    stream.close();
});
