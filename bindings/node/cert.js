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

module.exports = { CertError, parseZpl, loadCertFile, curveOptions, Z85_KEY };
