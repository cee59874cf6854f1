'use strict';
/*  CURVE certificates in czmq's ZPL format (rfc.zeromq.org/spec:4/ZPL), as
    `zcert_save`, `zaio keygen` and pyzmq's zmq.auth.create_certificates
    write them: NAME holds the public key, NAME_secret both keys.

        metadata
            name = "alice"
        curve
            public-key = "gpq67fsO0scE02fEU/4pMIT1DYKbZ)Gc7CU6vOJ>"
            secret-key = "..."

    The parser is strict: four-space indentation, two levels, names of
    ZPL's characters, quoted or bare values, `#` comments. Anything else is
    an error naming the file and line, never a silently missing key.

    HandshakeVerdict says, from a socket's handshake events, when a failed
    handshake is AUTH, by libzaio's rules (PROTOCOL.md 6.1 and 11): the one
    place the client and its event streams decide it.
*/

const fs = require('node:fs');

//  A z85-encoded 32-byte CURVE key.
const Z85_KEY = /^[0-9a-zA-Z.\-:+=^!/*?&<>()[\]{}@%$#]{40}$/;
const NAME = /^[A-Za-z0-9$\-_@.&+/]+$/;
const CURVE_KEYS = new Set(['public-key', 'secret-key']);

class CertError extends Error {
    constructor (file, line, message) {
        super(line ? `${file}:${line}: ${message}` : `${file}: ${message}`);
        this.name = 'CertError';
    }
}

//  The value part of `name = value` (after the '='): a quoted string, or a
//  bare word; either may be followed by a comment.
function parseValue (text, file, n) {
    const quote = text[0];
    if (quote === '"' || quote === '\'') {
        const end = text.indexOf(quote, 1);
        if (end < 0)
            throw new CertError(file, n, 'unterminated quoted value');
        const rest = text.slice(end + 1).trim();
        if (rest !== '' && !rest.startsWith('#'))
            throw new CertError(file, n, `unexpected text after the value: ${rest}`);
        return text.slice(1, end);
    }
    return text.split('#')[0].trim();
}

//  ZPL text as {section: {name: value}}: two levels, which is all a
//  certificate has.
function parseZpl (text, file) {
    const tree = {};
    let section = null;
    text.split('\n').forEach((raw, i) => {
        const n = i + 1;
        const line = raw.replace(/\r$/, '');
        const body = line.trimStart();
        if (body === '' || body.startsWith('#'))
            return;
        const indent = line.length - body.length;
        if (line.slice(0, indent).includes('\t') || indent % 4 !== 0 || indent > 4)
            throw new CertError(file, n, 'indentation must be 0 or 4 spaces');
        const eq = body.indexOf('=');
        const name = (eq < 0 ? body.split('#')[0] : body.slice(0, eq)).trim();
        if (!NAME.test(name))
            throw new CertError(file, n, `not a ZPL name: ${JSON.stringify(name)}`);
        if (indent === 0) {
            if (eq >= 0)
                throw new CertError(file, n, `a section takes no value: ${name}`);
            if (Object.hasOwn(tree, name))
                throw new CertError(file, n, `section ${name} twice`);
            section = tree[name] = {};
            return;
        }
        if (!section)
            throw new CertError(file, n, 'indented line outside a section');
        if (Object.hasOwn(section, name))
            throw new CertError(file, n, `${name} twice`);
        section[name] = eq < 0 ? '' : parseValue(body.slice(eq + 1).trim(), file, n);
    });
    return tree;
}

//  The keys of the certificate in `file`: {publicKey, secretKey (or null),
//  name (or null)}. Throws CertError when it is not a certificate, and the
//  fs error when it cannot be read.
function loadCertFile (file) {
    const tree = parseZpl(fs.readFileSync(file, 'utf8'), file);
    const curve = tree.curve;
    if (!curve)
        throw new CertError(file, 0, 'no curve section: not a CURVE certificate');
    for (const key of Object.keys(curve))
        if (!CURVE_KEYS.has(key))
            throw new CertError(file, 0, `unknown curve/${key}`);
    for (const key of Object.keys(curve))
        if (!Z85_KEY.test(curve[key]))
            throw new CertError(file, 0, `curve/${key} is not a 40-character z85 key`);
    if (!curve['public-key'])
        throw new CertError(file, 0, 'no curve/public-key');
    const meta = tree.metadata || {};
    return {
        publicKey: curve['public-key'],
        secretKey: curve['secret-key'] || null,
        name: meta.name === undefined ? null : meta.name,
    };
}

//  The broker's public key from `curveServer`: a certificate file (PATH or
//  PATH_secret; only its public key is used) or a z85 key.
function serverKey (curveServer) {
    if (typeof curveServer !== 'string')
        throw new TypeError('curveServer must be a certificate path or a z85 key (string)');
    if (fs.existsSync(curveServer))
        return loadCertFile(curveServer).publicKey;
    if (Z85_KEY.test(curveServer))
        return curveServer;
    throw new CertError(curveServer, 0, 'curveServer: no such certificate file (nor a 40-character z85 key)');
}

//  The client's key pair from `curveCert`, a certificate path: PATH_secret
//  is read if it exists, else PATH (as czmq's zcert_load); it must hold
//  the secret key.
function clientKeys (curveCert) {
    if (typeof curveCert !== 'string')
        throw new TypeError('curveCert must be a certificate path (string)');
    const file = [`${curveCert}_secret`, curveCert].find((f) => fs.existsSync(f));
    if (!file)
        throw new CertError(curveCert, 0, `curveCert: no certificate file (nor ${curveCert}_secret)`);
    const cert = loadCertFile(file);
    if (!cert.secretKey)
        throw new CertError(file, 0, 'curveCert: no curve/secret-key (give the secret certificate, NAME_secret)');
    return { publicKey: cert.publicKey, secretKey: cert.secretKey };
}

//  zeromq.js socket options for a CURVE client, from the Client options
//  curveServer and curveCert (both or neither); {} without them.
function curveOptions ({ curveServer, curveCert }) {
    if (curveServer === undefined && curveCert === undefined)
        return {};
    if (curveServer === undefined || curveCert === undefined)
        throw new TypeError('curveServer and curveCert go together: give both or neither');
    const { publicKey, secretKey } = clientKeys(curveCert);
    return { curveServerKey: serverKey(curveServer), curvePublicKey: publicKey, curveSecretKey: secretKey };
}

//  ---------------------------------------------------------------------
//  What a failed handshake means

//  Handshakes in a row a broker may hang up on, under CURVE, before that is
//  AUTH: as many as libzaio's connection attempts (its retries + 1), under
//  a second at libzmq's default reconnect interval.
const HANGUPS_MAX = 4;
//  ZAP status code of a refused peer (RFC 27).
const ZAP_REFUSED = 400;

//  Why the broker refused the handshake for good, if the zeromq.js event
//  `ev` says it did, else null (the broker may do better on the next
//  connection). As libzaio's zaio_curve_refusal; `curve`: whether we use
//  CURVE.
function refusal (ev, curve) {
    const error = ev.error || {};
    if (ev.type === 'handshake:error:auth')
        return error.status === ZAP_REFUSED
            ? 'the broker refused this key (unknown, or not allowed here)' : null;
    if (ev.type !== 'handshake:error:protocol')
        return null;
    if (error.code === 'ERR_ZMTP_MECHANISM_MISMATCH')
        return curve ? 'the broker does not use CURVE'
            : 'the broker requires CURVE: give its public certificate and ours (curveServer and curveCert)';
    if (error.code === 'ERR_ZMTP_CRYPTOGRAPHIC')
        return 'the broker failed CURVE authentication: is its public key the right one?';
    return null;
}

//  The verdict on one socket's handshakes, fed its `handshake` and
//  `handshake:error:*` events. AUTH when:
//  - the broker refused our key (ZAP status 400);
//  - one side uses CURVE and the other not (mechanism mismatch), whether
//    or not we do; or a CURVE peer failed authentication (cryptographic);
//  - only under CURVE: the broker took the TCP connection and hung up in
//    the handshake (`handshake:error:other`) HANGUPS_MAX times in a row at
//    one address, no handshake succeeding there in between: how a wrong
//    server key shows (the broker cannot open our HELLO). A plain client
//    counts no hang-ups: with no keys they could as well be a port that
//    is not a broker's.
//  One hang-up, ZAP 300 or 500 is not AUTH. libzmq gives up on a
//  connection at any auth or protocol error (`ended` is then set: the
//  next use needs a new socket); after a verdict the caller stops
//  connecting too.
class HandshakeVerdict {
    constructor (curve, who = 'client') {
        this.curve = curve;
        this.who = who;
        this.refused = null;    //  the verdict's message, once AUTH
        this.trouble = null;    //  why the last handshake failed, for a TIMEOUT
        this.ended = false;
        this._hangups = new Map();    //  address -> hang-ups in a row
    }

    //  Take one event; returns the verdict so far (a message for AUTH) or null.
    feed (ev) {
        if (this.refused)
            return this.refused;
        let why = null;
        if (ev.type === 'handshake') {
            this._hangups.delete(ev.address);
            this.trouble = null;
        } else if (ev.type === 'handshake:error:other') {
            const hangups = (this._hangups.get(ev.address) || 0) + 1;
            this._hangups.set(ev.address, hangups);
            this.trouble = `the broker hung up in the handshake (${hangups} in a row)`;
            if (this.curve && hangups >= HANGUPS_MAX)
                why = `hung up in the CURVE handshake on every attempt (${hangups} in a row): `
                    + 'is the broker\'s public key the right one, and does it use CURVE?';
        } else if (ev.type === 'handshake:error:auth' || ev.type === 'handshake:error:protocol') {
            this.ended = true;
            why = refusal(ev, this.curve);
            const error = ev.error || {};
            this.trouble = why || (ev.type === 'handshake:error:auth'
                ? `the broker could not authenticate this client (ZAP status ${error.status})`
                : `the handshake broke the protocol (${error.code || 'unknown'})`);
        }
        if (why) {
            this.ended = true;
            this.refused = `broker at ${ev.address}${this.who === 'client' ? '' : `, as a ${this.who}`}: ${why}`;
        }
        return this.refused;
    }
}

module.exports = { CertError, parseZpl, loadCertFile, curveOptions, Z85_KEY, HANGUPS_MAX, HandshakeVerdict };
