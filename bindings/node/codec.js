'use strict';
/*  codec.js: encode and decode ZAIO/1 messages (schemas/PROTOCOL.md).

    One place turns JavaScript values into frames and back. Encoders emit the
    canonical form of spec 3.3 byte for byte (the golden vectors in
    schemas/vectors/ pin it): shortest integer forms, non-negative integers
    as unsigned, strings as `str`, request maps keyed `id`, `op`, then the
    rest ascending; reply maps `id`, `ok`, then the rest; other maps all
    ascending. The encoder is our own because @msgpack/msgpack writes every
    BigInt in 9 bytes, which is valid msgpack but not canonical.

    Decoders take untrusted bytes. They accept any valid msgpack encoding
    and key order (spec 3.3), refuse trailing bytes, non-string keys and
    absurd sizes, and hand integers back as a Number when it is exact
    (|n| <= 2^53-1) and as a BigInt otherwise.
*/

const { Decoder } = require('@msgpack/msgpack');

const SIGNATURE = Buffer.from('ZAIO/1', 'latin1');
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);

//  Ops that carry a data frame (spec 3.1).
const DATA_OPS = new Set(['write', 'append', 'writefile']);
//  Ops whose successful reply carries a data frame (spec 3.2).
const DATA_REPLY_OPS = new Set(['read', 'readfile']);

//  ---------------------------------------------------------------------
//  Encoder: a growable byte writer with msgpack primitives.

class Writer {
    constructor (size = 128) {
        this.buf = Buffer.allocUnsafe(size);
        this.pos = 0;
    }

    ensure (n) {
        if (this.pos + n <= this.buf.length)
            return;
        let size = this.buf.length * 2;
        while (size < this.pos + n)
            size *= 2;
        const grown = Buffer.allocUnsafe(size);
        this.buf.copy(grown, 0, 0, this.pos);
        this.buf = grown;
    }

    byte (b) {
        this.ensure(1);
        this.buf[this.pos++] = b;
    }

    bytes (src) {
        this.ensure(src.length);
        this.buf.set(src, this.pos);
        this.pos += src.length;
    }

    //  An integer (Number or BigInt) in its shortest form; non-negative
    //  values as unsigned.
    int (value) {
        if (typeof value === 'number') {
            if (!Number.isInteger(value))
                throw new TypeError(`not an integer: ${value}`);
            if (!Number.isSafeInteger(value))
                return this.int(BigInt(value));
            if (value >= 0) {
                if (value <= 0x7f)
                    return this.byte(value);
                if (value <= 0xff) {
                    this.ensure(2);
                    this.buf[this.pos] = 0xcc;
                    this.buf[this.pos + 1] = value;
                    this.pos += 2;
                    return;
                }
                if (value <= 0xffff) {
                    this.ensure(3);
                    this.buf[this.pos] = 0xcd;
                    this.buf.writeUInt16BE(value, this.pos + 1);
                    this.pos += 3;
                    return;
                }
                if (value <= 0xffffffff) {
                    this.ensure(5);
                    this.buf[this.pos] = 0xce;
                    this.buf.writeUInt32BE(value, this.pos + 1);
                    this.pos += 5;
                    return;
                }
                return this.int(BigInt(value));
            }
            if (value >= -32)
                return this.byte(value & 0xff);
            if (value >= -0x80) {
                this.ensure(2);
                this.buf[this.pos] = 0xd0;
                this.buf.writeInt8(value, this.pos + 1);
                this.pos += 2;
                return;
            }
            if (value >= -0x8000) {
                this.ensure(3);
                this.buf[this.pos] = 0xd1;
                this.buf.writeInt16BE(value, this.pos + 1);
                this.pos += 3;
                return;
            }
            if (value >= -0x80000000) {
                this.ensure(5);
                this.buf[this.pos] = 0xd2;
                this.buf.writeInt32BE(value, this.pos + 1);
                this.pos += 5;
                return;
            }
            return this.int(BigInt(value));
        }
        if (typeof value !== 'bigint')
            throw new TypeError(`not an integer: ${typeof value}`);
        if (value >= -0x80000000n && value <= 0xffffffffn)
            return this.int(Number(value));
        if (value > U64_MAX || value < I64_MIN)
            throw new RangeError(`integer out of msgpack range: ${value}`);
        this.ensure(9);
        if (value >= 0n) {
            this.buf[this.pos] = 0xcf;
            this.buf.writeBigUInt64BE(value, this.pos + 1);
        } else {
            this.buf[this.pos] = 0xd3;
            this.buf.writeBigInt64BE(value, this.pos + 1);
        }
        this.pos += 9;
    }

    str (s) {
        const len = Buffer.byteLength(s, 'utf8');
        this.ensure(len + 5);
        if (len <= 31)
            this.buf[this.pos++] = 0xa0 | len;
        else if (len <= 0xff) {
            this.buf[this.pos++] = 0xd9;
            this.buf[this.pos++] = len;
        } else if (len <= 0xffff) {
            this.buf[this.pos++] = 0xda;
            this.buf.writeUInt16BE(len, this.pos);
            this.pos += 2;
        } else {
            this.buf[this.pos++] = 0xdb;
            this.buf.writeUInt32BE(len, this.pos);
            this.pos += 4;
        }
        this.pos += this.buf.write(s, this.pos, len, 'utf8');
    }

    bin (b) {
        const len = b.length;
        if (len <= 0xff) {
            this.byte(0xc4);
            this.byte(len);
        } else if (len <= 0xffff) {
            this.ensure(3);
            this.buf[this.pos] = 0xc5;
            this.buf.writeUInt16BE(len, this.pos + 1);
            this.pos += 3;
        } else {
            this.ensure(5);
            this.buf[this.pos] = 0xc6;
            this.buf.writeUInt32BE(len, this.pos + 1);
            this.pos += 5;
        }
        this.bytes(b);
    }

    head (n, fix, b16, b32) {
        if (n <= 15)
            this.byte(fix | n);
        else if (n <= 0xffff) {
            this.ensure(3);
            this.buf[this.pos] = b16;
            this.buf.writeUInt16BE(n, this.pos + 1);
            this.pos += 3;
        } else {
            this.ensure(5);
            this.buf[this.pos] = b32;
            this.buf.writeUInt32BE(n, this.pos + 1);
            this.pos += 5;
        }
    }

    //  Any value: nil, bool, integer, float64, str, bin, array, map. Maps
    //  are written with `first` keys leading (in that order, if present),
    //  then the rest ascending bytewise; nested maps all ascending.
    value (v, first) {
        if (v === null || v === undefined)
            this.byte(0xc0);
        else if (v === true)
            this.byte(0xc3);
        else if (v === false)
            this.byte(0xc2);
        else if (typeof v === 'bigint')
            this.int(v);
        else if (typeof v === 'number') {
            if (Number.isInteger(v))
                this.int(v);
            else {
                this.ensure(9);
                this.buf[this.pos] = 0xcb;
                this.buf.writeDoubleBE(v, this.pos + 1);
                this.pos += 9;
            }
        } else if (typeof v === 'string')
            this.str(v);
        else if (v instanceof Uint8Array)
            this.bin(v);
        else if (Array.isArray(v)) {
            this.head(v.length, 0x90, 0xdc, 0xdd);
            for (const item of v)
                this.value(item);
        } else if (typeof v === 'object') {
            const keys = canonicalKeys(v, first || []);
            this.head(keys.length, 0x80, 0xde, 0xdf);
            for (const k of keys) {
                this.str(k);
                this.value(v[k]);
            }
        } else
            throw new TypeError(`cannot encode ${typeof v}`);
    }

    result () {
        return this.buf.subarray(0, this.pos);
    }
}

//  Bytewise comparison of two strings' UTF-8 encodings. For the ASCII keys
//  of the protocol this is plain `<`; the general case is here so that the
//  canonical order stays right for any key.
function compareBytes (a, b) {
    return Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8'));
}

function isAscii (s) {
    for (let i = 0; i < s.length; i++)
        if (s.charCodeAt(i) > 0x7f)
            return false;
    return true;
}

//  Keys of `obj` whose value is not undefined: `first` ones in that order,
//  then the rest ascending bytewise.
function canonicalKeys (obj, first) {
    const rest = [];
    for (const k of Object.keys(obj))
        if (obj[k] !== undefined && !first.includes(k))
            rest.push(k);
    if (rest.every(isAscii))
        rest.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    else
        rest.sort(compareBytes);
    const lead = first.filter((k) => obj[k] !== undefined);
    return lead.concat(rest);
}

//  Encode any value canonically; `first` lists the keys that lead the top
//  map (["id", "op"] for requests, ["id", "ok"] for replies, [] otherwise).
function encodeCanonical (value, first = []) {
    const w = new Writer();
    w.value(value, first);
    return Buffer.from(w.result());
}

//  Every request field of spec section 4 but id and op, ascending: the
//  canonical order, so the hot path need not sort.
const REQUEST_KEYS = ['after', 'barrier', 'create', 'datasync', 'deadline', 'key', 'length', 'limit', 'link',
    'mode', 'offset', 'parents', 'path', 'priority', 'size', 'to', 'volume'];
const REQUEST_KEY_SET = new Set(REQUEST_KEYS);

function requestKeys (header) {
    const keys = ['id', 'op'];
    let known = 2;
    for (const k in header) {
        if (header[k] === undefined || k === 'id' || k === 'op')
            continue;
        if (!REQUEST_KEY_SET.has(k))
            return canonicalKeys(header, ['id', 'op']);     //  fields from a later spec: sort
        known++;
    }
    if (known > 2)
        for (const k of REQUEST_KEYS)
            if (header[k] !== undefined)
                keys.push(k);
    return keys;
}

//  The header frame of a request: a flat map of `id`, `op`, then the other
//  fields ascending. Values must be bool, non-negative integer (Number or
//  BigInt) or string; undefined fields are left out.
function encodeRequestHeader (header) {
    const w = new Writer(64 + (header.path ? header.path.length * 3 : 0));
    const keys = requestKeys(header);
    w.head(keys.length, 0x80, 0xde, 0xdf);
    for (const k of keys) {
        const v = header[k];
        if (v === undefined)
            throw new TypeError(`request field ${k} is missing`);
        w.str(k);
        if (typeof v === 'boolean')
            w.byte(v ? 0xc3 : 0xc2);
        else if (typeof v === 'string')
            w.str(v);
        else if (typeof v === 'number' || typeof v === 'bigint') {
            if (v < 0)
                throw new RangeError(`${k} must not be negative`);
            w.int(v);
        } else
            throw new TypeError(`request field ${k}: expected bool, integer or string, got ${typeof v}`);
    }
    return Buffer.from(w.result());
}

//  The frames of a request: signature, header, and the data frame when the
//  op takes one (an empty one if `data` is missing).
function encodeRequest (header, data) {
    const frames = [SIGNATURE, encodeRequestHeader(header)];
    if (DATA_OPS.has(header.op))
        frames.push(data === undefined ? Buffer.alloc(0) : data);
    else if (data !== undefined)
        throw new TypeError(`op ${header.op} takes no data frame`);
    return frames;
}

//  ---------------------------------------------------------------------
//  Decoder

//  A decoding problem; `code` is the ZAIO/1 error name it corresponds to.
class CodecError extends Error {
    constructor (message, code = 'MALFORMED') {
        super(message);
        this.name = 'CodecError';
        this.code = code;
    }
}

const SAFE_MAX = BigInt(Number.MAX_SAFE_INTEGER);
const SAFE_MIN = -SAFE_MAX;

//  A BigInt that fits a Number exactly becomes a Number; other values are
//  left alone. Arrays and maps are normalised in place.
function normalize (v) {
    if (typeof v === 'bigint')
        return v >= SAFE_MIN && v <= SAFE_MAX ? Number(v) : v;
    if (Array.isArray(v)) {
        for (let i = 0; i < v.length; i++)
            v[i] = normalize(v[i]);
    } else if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
        for (const k of Object.keys(v))
            v[k] = normalize(v[k]);
    }
    return v;
}

function strictKey (key) {
    if (typeof key !== 'string')
        throw new CodecError('map key is not a string');
    return key;
}

//  One decoder for headers; limits keep a hostile frame from asking for
//  huge allocations (the decoder also checks against the bytes present).
const decoder = new Decoder({
    useBigInt64: true,
    mapKeyConverter: strictKey,
    maxStrLength: 1 << 20,
    maxBinLength: 1 << 20,
    maxArrayLength: 1 << 20,
    maxMapLength: 1 << 16,
    maxExtLength: 1 << 20,
});

//  Decode exactly one msgpack value filling the whole buffer; throws a
//  CodecError when the bytes are not that.
function decodeValue (bytes) {
    if (!bytes || bytes.length === 0)
        throw new CodecError('empty frame');
    let value;
    try {
        value = decoder.decode(bytes);
    } catch (err) {
        if (err instanceof CodecError)
            throw err;
        throw new CodecError(`bad msgpack: ${err.message}`);
    }
    return normalize(value);
}

function isPlainMap (v) {
    return v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Uint8Array);
}

function isUint (v) {
    return (typeof v === 'number' && Number.isInteger(v) && v >= 0) || (typeof v === 'bigint' && v >= 0n);
}

function checkSignature (frame) {
    if (!frame || !SIGNATURE.equals(frame))
        throw new CodecError('frame is not the ZAIO/1 signature', 'BADVERSION');
}

//  Decode a reply: [signature, header, data?]. Returns {header, data} with
//  header a plain object holding at least `id` (uint) and `ok` (bool), and
//  for errors `error` (str) and `message` (str). Unknown result keys are
//  kept: callers ignore what they do not know.
function decodeReply (frames) {
    if (frames.length < 2 || frames.length > 3)
        throw new CodecError(`reply has ${frames.length} frames`);
    checkSignature(frames[0]);
    const header = decodeValue(frames[1]);
    if (!isPlainMap(header))
        throw new CodecError('reply header is not a map');
    if (!isUint(header.id))
        throw new CodecError('reply id missing or not an unsigned integer');
    if (typeof header.ok !== 'boolean')
        throw new CodecError('reply ok missing or not a bool');
    if (!header.ok) {
        if (typeof header.error !== 'string' || header.error === '')
            throw new CodecError('error reply without an error name');
        if (header.message === undefined)
            header.message = '';
        else if (typeof header.message !== 'string')
            throw new CodecError('error reply message is not a string');
        if (frames.length === 3)
            throw new CodecError('error reply with a data frame');
    }
    return { header, data: frames.length === 3 ? frames[2] : undefined };
}

//  Decode a request: [signature, header, data?]. Structural checks only
//  (a map with a uint `id` and a str `op`, scalar values); the broker is
//  the judge of everything else.
function decodeRequest (frames) {
    if (frames.length < 2 || frames.length > 3)
        throw new CodecError(`request has ${frames.length} frames`);
    checkSignature(frames[0]);
    const header = decodeValue(frames[1]);
    if (!isPlainMap(header))
        throw new CodecError('request header is not a map');
    if (!isUint(header.id) || header.id === 0)
        throw new CodecError('request id missing or not a positive integer');
    if (typeof header.op !== 'string')
        throw new CodecError('request op missing or not a string');
    for (const k of Object.keys(header)) {
        const v = header[k];
        if (typeof v !== 'boolean' && typeof v !== 'string' && !isUint(v))
            throw new CodecError(`request field ${k} is not a scalar`);
    }
    return { header, data: frames.length === 3 ? frames[2] : undefined };
}

//  Decode an event: [topic, signature, body]. Returns the body with
//  `topic` added (a string). Needs `seq` (uint), `op` and `outcome` (str).
function decodeEvent (frames) {
    if (frames.length !== 3)
        throw new CodecError(`event has ${frames.length} frames`);
    checkSignature(frames[1]);
    const body = decodeValue(frames[2]);
    if (!isPlainMap(body))
        throw new CodecError('event body is not a map');
    if (!isUint(body.seq))
        throw new CodecError('event seq missing or not an unsigned integer');
    if (typeof body.op !== 'string' || typeof body.outcome !== 'string')
        throw new CodecError('event op or outcome missing');
    return { topic: frames[0].toString('utf8'), body };
}

function encodeReply (header, data) {
    const frames = [SIGNATURE, encodeCanonical(header, ['id', 'ok'])];
    if (data !== undefined)
        frames.push(data);
    return frames;
}

function encodeEvent (topic, body) {
    return [Buffer.from(topic, 'utf8'), SIGNATURE, encodeCanonical(body, [])];
}

module.exports = {
    SIGNATURE,
    DATA_OPS,
    DATA_REPLY_OPS,
    CodecError,
    encodeCanonical,
    encodeRequestHeader,
    encodeRequest,
    encodeReply,
    encodeEvent,
    decodeValue,
    decodeRequest,
    decodeReply,
    decodeEvent,
    normalize,
};
