'use strict';
/*  codec.js: encode and decode ZAIO/1 messages (schemas/PROTOCOL.md).

    One place turns JavaScript values into frames and back. Encoders emit the
    canonical form of spec 3.3 byte for byte (the golden vectors in
    schemas/vectors/ pin it): shortest integer forms, non-negative integers
    as unsigned, strings as `str`, request maps keyed `id`, `op`, then the
    rest ascending; reply maps `id`, `ok`, then the rest; other maps all
    ascending.

    Decoders take untrusted bytes. They accept any valid msgpack encoding
    and key order (spec 3.3), refuse trailing bytes, non-string and
    duplicate keys, broken UTF-8, ext types and absurd sizes, and hand
    integers back as a Number when it is exact (|n| <= 2^53-1) and as a
    BigInt otherwise; floats come back as Float, so that no float passes
    for an integer. Reply results are checked against the op they answer.

    Both halves are our own: msgpack libraries write BigInts in 9 bytes
    (valid, not canonical), read 1.0 and 1 alike and let a duplicate key
    overwrite the first.
*/

const SIGNATURE = Buffer.from('ZAIO/1', 'latin1');
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;

//  Most bytes in a request header frame (spec 4, rule 1).
const HEADER_MAX = 8192;

//  Ops that carry a data frame (spec 3.1).
const DATA_OPS = new Set(['write', 'append', 'writefile']);
//  Ops whose successful reply carries a data frame (spec 3.2).
const DATA_REPLY_OPS = new Set(['read', 'readfile']);

//  A msgpack float (float32 or float64), as decoded. ZAIO/1 sends none
//  (every integer on the wire is a msgpack integer), so one is kept apart
//  from numbers and fails every integer check, however integral its value.
class Float {
    constructor (value) {
        this.value = value;
    }
}

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

    float64 (x) {
        this.ensure(9);
        this.buf[this.pos] = 0xcb;
        this.buf.writeDoubleBE(x, this.pos + 1);
        this.pos += 9;
    }

    //  Any value: nil, bool, integer, float64 (a non-integral number or a
    //  Float), str, bin, array, map. Maps are written with `first` keys
    //  leading (in that order, if present), then the rest ascending
    //  bytewise; nested maps all ascending.
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
            else
                this.float64(v);
        } else if (v instanceof Float)
            this.float64(v.value);
        else if (typeof v === 'string')
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
    'mode', 'offset', 'parents', 'path', 'priority', 'size', 'to', 'top', 'volume'];
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
//  BigInt) or string (`after` may also be a Buffer: a name that is not
//  UTF-8, sent as bin); undefined fields are left out.
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
        else if (k === 'after' && v instanceof Uint8Array)
            w.bin(v);       //  a name that is not UTF-8, as a listdir gave it (spec 5)
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

//  A reader of one msgpack value from untrusted bytes. Every declared
//  length is checked against the bytes left before anything is allocated,
//  and nesting is bounded, so a hostile frame costs no more than its size.
//  `lenient` lets duplicate keys (the last wins) and broken UTF-8 (read as
//  U+FFFD) pass, for replyId.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const UTF8_LENIENT = new TextDecoder('utf-8', { ignoreBOM: true });
const MAX_DEPTH = 32;       //  ZAIO/1 nests 3 deep (hello); bounds the recursion
const SHORT_STR = 16;

class Reader {
    constructor (bytes, lenient) {
        this.buf = bytes;
        this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        this.pos = 0;
        this.lenient = lenient;
    }

    //  Step over `n` bytes; returns where they start.
    take (n) {
        if (n > this.buf.length - this.pos)
            throw new CodecError('msgpack value cut short');
        const at = this.pos;
        this.pos += n;
        return at;
    }

    //  An unsigned big-endian integer of 1, 2 or 4 bytes.
    uint (n) {
        const at = this.take(n);
        return n === 1 ? this.buf[at] : n === 2 ? this.view.getUint16(at) : this.view.getUint32(at);
    }

    value (depth) {
        const b = this.uint(1);
        if (b <= 0x7f)
            return b;
        if (b >= 0xe0)
            return b - 0x100;
        if (b <= 0x8f)
            return this.map(b & 0x0f, depth);
        if (b <= 0x9f)
            return this.array(b & 0x0f, depth);
        if (b <= 0xbf)
            return this.str(b & 0x1f);
        switch (b) {
        case 0xc0: return null;
        case 0xc2: return false;
        case 0xc3: return true;
        case 0xc4: return this.bin(this.uint(1));
        case 0xc5: return this.bin(this.uint(2));
        case 0xc6: return this.bin(this.uint(4));
        case 0xca: return new Float(this.view.getFloat32(this.take(4)));
        case 0xcb: return new Float(this.view.getFloat64(this.take(8)));
        case 0xcc: return this.uint(1);
        case 0xcd: return this.uint(2);
        case 0xce: return this.uint(4);
        case 0xcf: return normalize(this.view.getBigUint64(this.take(8)));
        case 0xd0: return this.view.getInt8(this.take(1));
        case 0xd1: return this.view.getInt16(this.take(2));
        case 0xd2: return this.view.getInt32(this.take(4));
        case 0xd3: return normalize(this.view.getBigInt64(this.take(8)));
        case 0xd9: return this.str(this.uint(1));
        case 0xda: return this.str(this.uint(2));
        case 0xdb: return this.str(this.uint(4));
        case 0xdc: return this.array(this.uint(2), depth);
        case 0xdd: return this.array(this.uint(4), depth);
        case 0xde: return this.map(this.uint(2), depth);
        case 0xdf: return this.map(this.uint(4), depth);
        }
        //  0xc1 (never used) and the ext types, which ZAIO/1 has no use for.
        throw new CodecError(`msgpack type 0x${b.toString(16)} is not used by ZAIO/1`);
    }

    str (n) {
        const at = this.take(n);
        if (n <= SHORT_STR) {
            //  Keys and most values: short and ASCII, cheaper by hand.
            let s = '';
            for (let i = at; i < at + n && this.buf[i] < 0x80; i++)
                s += String.fromCharCode(this.buf[i]);
            if (s.length === n)
                return s;
        }
        const bytes = this.buf.subarray(at, at + n);
        if (this.lenient)
            return UTF8_LENIENT.decode(bytes);
        try {
            return UTF8.decode(bytes);
        } catch (err) {
            throw new CodecError('string is not valid UTF-8');
        }
    }

    bin (n) {
        const at = this.take(n);
        return Buffer.from(this.buf.subarray(at, at + n));
    }

    //  Room for `n` more items of at least a byte each, one level deeper.
    enter (n, depth) {
        if (depth >= MAX_DEPTH)
            throw new CodecError(`msgpack nested deeper than ${MAX_DEPTH}`);
        if (n > this.buf.length - this.pos)
            throw new CodecError(`msgpack declares ${n} items in ${this.buf.length - this.pos} bytes`);
    }

    array (n, depth) {
        this.enter(n, depth);
        const items = new Array(n);
        for (let i = 0; i < n; i++)
            items[i] = this.value(depth + 1);
        return items;
    }

    map (n, depth) {
        this.enter(2 * n, depth);
        const map = {};
        for (let i = 0; i < n; i++) {
            const key = this.value(depth + 1);
            if (typeof key !== 'string')
                throw new CodecError('map key is not a string');
            //  Assigning it would replace the map's prototype.
            if (key === '__proto__')
                throw new CodecError('map key __proto__ is refused');
            if (!this.lenient && Object.hasOwn(map, key))
                throw new CodecError(`duplicate map key ${JSON.stringify(key.slice(0, 64))}`);
            map[key] = this.value(depth + 1);
        }
        return map;
    }
}

//  Exactly one msgpack value filling the whole buffer, else a CodecError.
function readOne (bytes, lenient) {
    if (!bytes || bytes.length === 0)
        throw new CodecError('empty frame');
    const reader = new Reader(bytes, lenient);
    const value = reader.value(0);
    if (reader.pos !== bytes.length)
        throw new CodecError(`${bytes.length - reader.pos} bytes after the msgpack value`);
    return value;
}

//  Decode exactly one msgpack value filling the whole buffer, strictly;
//  throws a CodecError when the bytes are not that.
function decodeValue (bytes) {
    return readOne(bytes, false);
}

//  A decoded map: not an array, bin or Float.
function isPlainMap (v) {
    return v !== null && typeof v === 'object' && Object.getPrototypeOf(v) === Object.prototype;
}

function isUint (v) {
    return (typeof v === 'number' && Number.isInteger(v) && v >= 0) || (typeof v === 'bigint' && v >= 0n);
}

function isInt64 (v) {
    return (typeof v === 'number' && Number.isInteger(v)) || (typeof v === 'bigint' && v >= I64_MIN && v <= I64_MAX);
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

//  The id of a reply that decodeReply refused, if it can still be read: a
//  header that is one msgpack map with an unsigned integer `id` above 0.
//  Duplicate keys and broken UTF-8 are let pass, as only the id is wanted.
//  undefined when there is no such id.
function replyId (frames) {
    try {
        const header = readOne(frames[1], true);
        return isPlainMap(header) && isUint(header.id) && header.id !== 0 ? header.id : undefined;
    } catch (err) {
        if (err instanceof CodecError)
            return undefined;
        throw err;
    }
}

const FILE_TYPES = new Set(['file', 'dir', 'symlink', 'other']);

//  What a result field may hold, by name.
const KINDS = {
    uint: isUint,
    int64: isInt64,
    bool: (v) => typeof v === 'boolean',
    str: (v) => typeof v === 'string',
    //  A file name: a string, or a Buffer of the raw bytes of one that is
    //  not UTF-8 (spec 5, listdir).
    name: (v) => typeof v === 'string' || Buffer.isBuffer(v),
    filetype: (v) => FILE_TYPES.has(v),
};

//  The results of each op's successful reply (spec 5 and 5.1) as shapes: a
//  kind (ending '?' when the field may be missing), [shape] for an array of
//  that shape, an object for a map with those fields (and perhaps others,
//  ignored: spec 12). Ops not listed have no results.
const RESULTS = {
    hello: {
        limits: { header_max: 'uint', path_max: 'uint', payload_max: 'uint', listdir_max: 'uint',
            inflight_max: 'uint', queue_max: 'uint', queue_bytes_max: 'uint?', reply_hwm: 'uint?',
            batch_max: 'uint?', batch_bytes_max: 'uint?' },
        ops: ['str'],
        protocol: 'uint',
        version: 'str',
        volumes: [{ name: 'str', readonly: 'bool', workers: 'uint' }],
    },
    stat: { type: 'filetype', size: 'uint', mode: 'uint', mtime_ns: 'int64' },
    read: { bytes: 'uint', eof: 'bool' },
    write: { bytes: 'uint' },
    append: { bytes: 'uint', offset: 'uint' },
    readfile: { bytes: 'uint' },
    writefile: { bytes: 'uint' },
    listdir: { entries: [{ name: 'name', type: 'filetype', size: 'uint', mtime_ns: 'int64' }], more: 'bool' },
    copy: { bytes: 'uint' },
    //  spec 5.3; the rows' and lists' fields are checked as far as a
    //  monitor relies on them.
    stats: {
        version: 'str',
        uptime_ms: 'uint',
        time_ns: 'int64',
        gauges: { queued: 'uint', running: 'uint', inflight: 'uint', held_replies: 'uint',
            held_bytes: 'uint', clients: 'uint', workers: 'uint' },
        volumes: [{ name: 'str', workers: 'uint', credit: 'uint', capacity: 'uint' }],
        workers: [{ name: 'str', volumes: ['str'], credit: 'uint', capacity: 'uint' }],
        jobs: [{ op: 'str', outcome: 'str', volume: 'str', jobs: 'uint', bytes: 'uint' }],
        latency_bounds_us: ['uint'],
        latency: [{ op: 'str', count: 'uint', queue: ['uint'], service: ['uint'] }],
        top_clients: [{ client: 'str', jobs: 'uint', bytes: 'uint', errors: 'uint' }],
    },
};

//  Throw a CodecError unless `v` has `shape`; `where` names `v`.
function checkShape (v, shape, where) {
    if (typeof shape === 'string') {
        if (!KINDS[shape](v))
            throw new CodecError(`${where} is not ${shape}`);
    } else if (Array.isArray(shape)) {
        if (!Array.isArray(v))
            throw new CodecError(`${where} is not an array`);
        v.forEach((item, i) => checkShape(item, shape[0], `${where}[${i}]`));
    } else {
        if (!isPlainMap(v))
            throw new CodecError(`${where} is not a map`);
        for (const key in shape) {
            const kind = shape[key];
            const optional = typeof kind === 'string' && kind.endsWith('?');
            if (Object.hasOwn(v, key))
                checkShape(v[key], optional ? kind.slice(0, -1) : kind, `${where}.${key}`);
            else if (!optional)
                throw new CodecError(`${where} has no ${key}`);
        }
    }
}

//  Check a successful reply ({header, data} from decodeReply) against the
//  request it answers (its header: `op`, and `length` for read): the
//  results of its op with their types, and a data frame exactly for read
//  and readfile, holding `bytes` bytes (no more than `length` for read).
//  Throws a CodecError.
function checkResult (request, reply) {
    const { op } = request;
    const { header, data } = reply;
    if (DATA_REPLY_OPS.has(op) !== (data !== undefined))
        throw new CodecError(`${op} reply ${data === undefined ? 'has no' : 'has a'} data frame`);
    checkShape(header, RESULTS[op] || {}, `${op} reply`);
    if (data === undefined)
        return;
    if (header.bytes !== data.length)
        throw new CodecError(`${op} reply says ${header.bytes} bytes but carries ${data.length}`);
    if (op === 'read' && data.length > request.length)
        throw new CodecError(`read reply carries ${data.length} bytes, more than the ${request.length} asked for`);
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

//  ---------------------------------------------------------------------
//  Batches (the `batch` op): an entries frame is a msgpack array of
//  [header: bin, data: bool] pairs, the data frames follow in order.

//  Most entries a batch, and most bytes of its entries frame, when the
//  broker's hello does not say (the spec's defaults).
const BATCH_MAX = 1024;
const BATCH_BYTES_MAX = 1 << 20;

//  Bytes an entry whose encoded header is `size` bytes adds to an entries
//  frame: the pair's head, the bin's head and bytes, the flag.
function entrySize (size) {
    return 1 + (size <= 0xff ? 2 : size <= 0xffff ? 3 : 5) + size + 1;
}

//  The entries frame of `items`, each {header: Buffer, data: bool}.
function encodeEntries (items) {
    const w = new Writer(16 + items.reduce((n, e) => n + entrySize(e.header.length), 0));
    w.head(items.length, 0x90, 0xdc, 0xdd);
    for (const { header, data } of items) {
        w.byte(0x92);
        w.bin(header);
        w.byte(data ? 0xc3 : 0xc2);
    }
    return Buffer.from(w.result());
}

//  The frames of a request batch tagged `bid`: signature, the header
//  {id: bid, op: 'batch'}, the entries frame, then the data frames. Each
//  entry is {header: Buffer (an encoded request header), data: Buffer or
//  undefined}.
function encodeBatch (bid, entries) {
    if (entries.length === 0)
        throw new RangeError('a batch needs at least one entry');
    const frames = [SIGNATURE, encodeCanonical({ id: bid, op: 'batch' }, ['id', 'op']),
        encodeEntries(entries.map((e) => ({ header: e.header, data: e.data !== undefined })))];
    for (const e of entries)
        if (e.data !== undefined)
            frames.push(e.data);
    return frames;
}

//  Whether a message's frame 1 is an array (a batch), not a map.
function isBatch (frames) {
    const b = frames.length >= 2 && frames[1].length ? frames[1][0] : 0;
    return (b >= 0x90 && b <= 0x9f) || b === 0xdc || b === 0xdd;
}

//  The [Buffer, bool] pairs of an entries frame, strictly: an array of one
//  or more of them and nothing after; else a CodecError.
function entryPairs (frame, what) {
    const items = decodeValue(frame);
    if (!Array.isArray(items) || items.length === 0)
        throw new CodecError(`${what} is not a non-empty array`);
    items.forEach((item, i) => {
        if (!Array.isArray(item) || item.length !== 2 || !Buffer.isBuffer(item[0]) || typeof item[1] !== 'boolean')
            throw new CodecError(`${what}: element ${i} is not a [bin, bool] pair`);
    });
    return items;
}

//  Decode a reply batch strictly: its replies in order, each {header,
//  data} as decodeReply gives it, or the CodecError of an element whose
//  header does not decode (with `id`, from replyId, when it can be read).
//  Throws a CodecError when the batch as a whole breaks the protocol: not
//  ZAIO/1, frame 1 not an array of [bin, bool] pairs, or the data frames
//  not matching the flags.
function decodeReplyBatch (frames) {
    checkSignature(frames[0]);
    const pairs = entryPairs(frames[1], 'reply batch');
    const flags = pairs.reduce((n, p) => n + (p[1] ? 1 : 0), 0);
    if (frames.length !== 2 + flags)
        throw new CodecError(`reply batch has ${frames.length - 2} data frames for ${flags} flags`);
    let next = 2;
    return pairs.map(([header, flag]) => {
        const one = flag ? [SIGNATURE, header, frames[next++]] : [SIGNATURE, header];
        try {
            return decodeReply(one);
        } catch (err) {
            if (!(err instanceof CodecError))
                throw err;
            err.id = replyId(one);
            return err;
        }
    });
}

//  Ids readable in a reply batch that decodeReplyBatch refused, so their
//  requests can fail now rather than time out.
function batchReplyIds (frames) {
    let items;
    try {
        items = readOne(frames[1], true);
    } catch (err) {
        if (err instanceof CodecError)
            return [];
        throw err;
    }
    if (!Array.isArray(items))
        return [];
    const ids = [];
    for (const item of items) {
        if (Array.isArray(item) && Buffer.isBuffer(item[0])) {
            const id = replyId([SIGNATURE, item[0]]);
            if (id !== undefined)
                ids.push(id);
        }
    }
    return ids;
}

//  Decode a request batch (for tests and fake brokers; the broker is the
//  judge): {id, entries: [{header, data}]}, each header as decodeRequest
//  gives it.
function decodeBatch (frames) {
    checkSignature(frames[0]);
    const head = decodeValue(frames[1]);
    if (!isPlainMap(head) || head.op !== 'batch' || !isUint(head.id) || Object.keys(head).length !== 2)
        throw new CodecError('batch header is not {id, op: batch}');
    const pairs = entryPairs(frames[2], 'entries');
    const flags = pairs.reduce((n, p) => n + (p[1] ? 1 : 0), 0);
    if (frames.length !== 3 + flags)
        throw new CodecError(`batch has ${frames.length - 3} data frames for ${flags} flags`);
    let next = 3;
    return {
        id: head.id,
        entries: pairs.map(([header, flag]) => decodeRequest(flag ? [SIGNATURE, header, frames[next++]] : [SIGNATURE, header])),
    };
}

//  The frames of a reply batch (for tests and fake brokers): each reply
//  {header (object), data (Buffer or undefined)}.
function encodeReplyBatch (replies) {
    const heads = replies.map((r) => ({ header: encodeCanonical(r.header, ['id', 'ok']), data: r.data !== undefined }));
    const frames = [SIGNATURE, encodeEntries(heads)];
    for (const r of replies)
        if (r.data !== undefined)
            frames.push(r.data);
    return frames;
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
    HEADER_MAX,
    DATA_OPS,
    DATA_REPLY_OPS,
    BATCH_MAX,
    BATCH_BYTES_MAX,
    CodecError,
    Float,
    encodeCanonical,
    encodeRequestHeader,
    encodeRequest,
    encodeReply,
    encodeEvent,
    decodeValue,
    decodeRequest,
    decodeReply,
    replyId,
    checkResult,
    decodeEvent,
    normalize,
    entrySize,
    encodeBatch,
    isBatch,
    decodeBatch,
    decodeReplyBatch,
    batchReplyIds,
    encodeReplyBatch,
};
