'use strict';
//  The codec against every golden vector (schemas/vectors/), and its edges.

const test = require('node:test');
const assert = require('node:assert/strict');
const codec = require('../codec');
const { loadVectors, allVectorFiles, parseJsonBig } = require('./helpers');

const byKind = {};
for (const file of allVectorFiles())
    for (const v of loadVectors(file))
        (byKind[v.kind] = byKind[v.kind] || []).push(v);

test('every vector file is known and non-empty', () => {
    assert.deepEqual(Object.keys(byKind).sort(), ['event', 'invalid_request', 'reply', 'request']);
    for (const kind of Object.keys(byKind))
        assert.ok(byKind[kind].length > 0, kind);
});

test('big integers in the vector JSON keep full precision', () => {
    const doc = parseJsonBig('{"a": 18446744073709551615, "b": -9223372036854775808, "c": 5, "d": "123456789012345678901", "e": [1.5, 9007199254740993]}');
    assert.equal(doc.a, 18446744073709551615n);
    assert.equal(doc.b, -9223372036854775808n);
    assert.equal(doc.c, 5);
    assert.equal(doc.d, '123456789012345678901');
    assert.deepEqual(doc.e, [1.5, 9007199254740993n]);
});

//  Each entry's data frame (undefined for none) of a batch vector whose
//  data frames start at frame `first`.
function entryData (v, first) {
    let next = first;
    return v.entries.map((e) => (e.data ? v.frames[next++] : undefined));
}

test('request vectors: encode meaning to the exact bytes, decode bytes to the meaning', async (t) => {
    for (const v of byKind.request) {
        await t.test(v.name, () => {
            if (v.entries) {    //  a request batch
                const data = entryData(v, 3);
                const entries = v.entries.map((e, i) => ({ header: codec.encodeRequestHeader(e.header), data: data[i] }));
                const frames = codec.encodeBatch(v.header.id, entries);
                assert.deepEqual(frames.map((f) => f.toString('hex')), v.frames.map((f) => f.toString('hex')));
                const decoded = codec.decodeBatch(v.frames);
                assert.equal(decoded.id, v.header.id);
                assert.deepEqual(decoded.entries.map((e) => e.header), v.entries.map((e) => e.header));
                assert.deepEqual(decoded.entries.map((e) => e.data), data);
                return;
            }
            const data = v.frames[2];
            const frames = codec.encodeRequest(v.header, data);
            assert.equal(frames.length, v.frames.length);
            frames.forEach((f, i) => assert.equal(Buffer.from(f).toString('hex'), v.frames[i].toString('hex'), `frame ${i}`));
            const decoded = codec.decodeRequest(v.frames);
            assert.deepEqual(decoded.header, v.header);
            if (data !== undefined)
                assert.ok(decoded.data.equals(data));
            else
                assert.equal(decoded.data, undefined);
            //  Key order of the meaning does not matter to the encoder.
            const shuffled = Object.fromEntries(Object.entries(v.header).reverse());
            assert.ok(codec.encodeRequestHeader(shuffled).equals(v.frames[1]));
        });
    }
});

test('reply vectors: decode to the meaning, re-encode to the same bytes', async (t) => {
    for (const v of byKind.reply) {
        await t.test(v.name, () => {
            if (v.entries) {    //  a reply batch
                const data = entryData(v, 2);
                const replies = codec.decodeReplyBatch(v.frames);
                assert.deepEqual(replies.map((r) => r.header), v.entries.map((e) => e.header));
                assert.deepEqual(replies.map((r) => r.data), data);
                const again = codec.encodeReplyBatch(v.entries.map((e, i) => ({ header: e.header, data: data[i] })));
                assert.deepEqual(again.map((f) => f.toString('hex')), v.frames.map((f) => f.toString('hex')));
                return;
            }
            const { header, data } = codec.decodeReply(v.frames);
            assert.deepEqual(header, v.header);
            assert.equal(data === undefined, v.frames.length === 2);
            if (data)
                assert.ok(data.equals(v.frames[2]));
            const again = codec.encodeReply(header, data);
            again.forEach((f, i) => assert.equal(f.toString('hex'), v.frames[i].toString('hex'), `frame ${i}`));
            //  And from the JSON meaning directly.
            assert.equal(codec.encodeReply(v.header)[1].toString('hex'), v.frames[1].toString('hex'));
        });
    }
});

test('event vectors: decode to the meaning, re-encode to the same bytes', async (t) => {
    for (const v of byKind.event) {
        await t.test(v.name, () => {
            const { topic, body } = codec.decodeEvent(v.frames);
            assert.equal(topic, v.topic);
            assert.deepEqual(body, v.header);
            const again = codec.encodeEvent(topic, body);
            again.forEach((f, i) => assert.equal(f.toString('hex'), v.frames[i].toString('hex'), `frame ${i}`));
        });
    }
});

test('invalid request vectors that are structurally broken do not decode', async (t) => {
    //  The broker judges field rules; our structural decoder must at least
    //  refuse what is not a map of scalars with an id and op.
    const structural = new Set(['bad_signature', 'no_header_frame', 'header_is_array', 'header_truncated',
        'header_trailing_bytes', 'header_empty', 'missing_id', 'id_zero', 'id_negative', 'id_string',
        'missing_op', 'op_not_string', 'key_not_string', 'path_wrong_type', 'huge_declared_map',
        'huge_declared_string', 'nested_value']);
    for (const v of byKind.invalid_request.filter((x) => structural.has(x.name))) {
        await t.test(v.name, () => {
            assert.throws(() => codec.decodeRequest(v.frames), (err) => err instanceof codec.CodecError);
        });
    }
    //  Batches broken as a whole (all but the one over batch_max, a limit).
    for (const v of byKind.invalid_request.filter((x) => x.name.startsWith('batch_') && x.error === 'MALFORMED')) {
        await t.test(v.name, () => {
            assert.throws(() => codec.decodeBatch(v.frames), (err) => err instanceof codec.CodecError);
        });
    }
    const sig = byKind.invalid_request.find((x) => x.name === 'bad_signature');
    assert.throws(() => codec.decodeRequest(sig.frames), { code: 'BADVERSION' });
});

test('integers take their shortest form, unsigned when non-negative', () => {
    const cases = [
        [0, '00'], [127, '7f'], [128, 'cc80'], [255, 'ccff'], [256, 'cd0100'], [65535, 'cdffff'],
        [65536, 'ce00010000'], [4294967295, 'ceffffffff'], [4294967296, 'cf0000000100000000'],
        [2 ** 53 - 1, 'cf001fffffffffffff'], [18446744073709551615n, 'cfffffffffffffffff'],
        [5n, '05'], [4294967296n, 'cf0000000100000000'],
        [-1, 'ff'], [-32, 'e0'], [-33, 'd0df'], [-128, 'd080'], [-129, 'd1ff7f'], [-32768, 'd18000'],
        [-32769, 'd2ffff7fff'], [-2147483648, 'd280000000'], [-2147483649, 'd3ffffffff7fffffff'],
        [-9223372036854775808n, 'd38000000000000000'],
    ];
    for (const [value, hex] of cases) {
        assert.equal(codec.encodeCanonical(value).toString('hex'), hex, String(value));
        assert.equal(codec.decodeValue(Buffer.from(hex, 'hex')), codec.normalize(value), hex);
    }
    assert.throws(() => codec.encodeCanonical(1n << 64n), RangeError);
    assert.throws(() => codec.encodeCanonical(-(1n << 63n) - 1n), RangeError);
});

test('strings take their shortest str form, never bin', () => {
    assert.equal(codec.encodeCanonical('').toString('hex'), 'a0');
    assert.equal(codec.encodeCanonical('a'.repeat(31)).subarray(0, 1).toString('hex'), 'bf');
    assert.equal(codec.encodeCanonical('a'.repeat(32)).subarray(0, 2).toString('hex'), 'd920');
    assert.equal(codec.encodeCanonical('a'.repeat(256)).subarray(0, 3).toString('hex'), 'da0100');
    assert.equal(codec.encodeCanonical('a'.repeat(65536)).subarray(0, 5).toString('hex'), 'db00010000');
    assert.equal(codec.encodeCanonical('é').toString('hex'), 'a2c3a9');
});

test('maps: leading keys first, the rest ascending bytewise, nested maps ascending', () => {
    const bytes = codec.encodeCanonical({ b: 1, id: 2, a: { z: 1, y: 2 }, ok: true }, ['id', 'ok']);
    assert.deepEqual(Object.keys(codec.decodeValue(bytes)), ['id', 'ok', 'a', 'b']);
    assert.deepEqual(Object.keys(codec.decodeValue(bytes).a), ['y', 'z']);
    //  Bytewise, not UTF-16 order: U+FF5E (ef bd 9e) sorts before U+1F600 (f0 9f 98 80)
    //  although its UTF-16 code unit is larger than the surrogate's.
    const keys = Object.keys(codec.decodeValue(codec.encodeCanonical({ '\u{1F600}': 1, '\uFF5E': 2 })));
    assert.deepEqual(keys, ['\uFF5E', '\u{1F600}']);
});

test('request headers refuse values the protocol cannot carry', () => {
    assert.throws(() => codec.encodeRequestHeader({ id: 1, op: 'stat', path: ['a'] }), TypeError);
    assert.throws(() => codec.encodeRequestHeader({ id: 1, op: 'read', path: 'a', length: -1 }), RangeError);
    assert.throws(() => codec.encodeRequestHeader({ id: 1, op: 'read', path: 'a', length: 1.5 }), TypeError);
    assert.throws(() => codec.encodeRequest({ id: 1, op: 'stat', path: 'a' }, Buffer.alloc(1)), TypeError);
    //  Data ops always carry a data frame, empty if none was given.
    assert.equal(codec.encodeRequest({ id: 1, op: 'write', path: 'a' }).length, 3);
});

test('decoding accepts any valid encoding and key order', () => {
    //  {ok: true, id: 7 as uint64, extra: "x"}: long id form, ok before id.
    const hex = '83a26f6bc3a26964cf0000000000000007a56578747261a178';
    const { header } = codec.decodeReply([codec.SIGNATURE, Buffer.from(hex, 'hex')]);
    assert.equal(header.id, 7);
    assert.equal(header.ok, true);
    assert.equal(header.extra, 'x');
});

test('reply decoding is strict', () => {
    const sig = codec.SIGNATURE;
    const enc = (v) => codec.encodeCanonical(v);
    const bad = [
        [sig],
        [Buffer.from('ZAIO/2'), enc({ id: 1, ok: true })],
        [sig, enc([1, true])],
        [sig, Buffer.concat([enc({ id: 1, ok: true }), Buffer.from([0xc0])])],
        [sig, enc({ id: 1, ok: true }).subarray(0, 4)],
        [sig, enc({ ok: true })],
        [sig, enc({ id: -1, ok: true })],
        [sig, enc({ id: '1', ok: true })],
        [sig, enc({ id: 1 })],
        [sig, enc({ id: 1, ok: 1 })],
        [sig, enc({ id: 1, ok: false })],
        [sig, enc({ id: 1, ok: false, error: 3, message: 'm' })],
        [sig, enc({ id: 1, ok: false, error: 'ENOENT', message: 'm' }), Buffer.alloc(1)],
        [sig, Buffer.from('82010203a26f6bc3', 'hex')],                  //  integer key
        [sig, Buffer.from('df ffffffff'.replace(' ', ''), 'hex')],      //  huge declared map
        [sig, Buffer.from('81a26964dbffffffff', 'hex')],                //  huge declared string
        [sig, Buffer.from('82a9__proto__c0a26f6bc3'.replace('__proto__', Buffer.from('__proto__').toString('hex')), 'hex')],
        [sig, enc({ id: 1, ok: true }), Buffer.alloc(0), Buffer.alloc(0)],
    ];
    for (const frames of bad)
        assert.throws(() => codec.decodeReply(frames), (err) => err instanceof codec.CodecError,
            frames.map((f) => f.toString('hex')).join(' '));
    //  Unknown result keys are kept (and ignored by the client).
    assert.equal(codec.decodeReply([sig, enc({ id: 1, ok: true, future: [1, { a: 2 }] })]).header.future[1].a, 2);
    //  An error reply without a message gets an empty one.
    assert.equal(codec.decodeReply([sig, enc({ id: 1, ok: false, error: 'EIO' })]).header.message, '');
});

test('event decoding is strict', () => {
    const body = codec.encodeCanonical({ seq: 1, op: 'read', outcome: 'ok' });
    assert.equal(codec.decodeEvent([Buffer.from('ok.read.default'), codec.SIGNATURE, body]).body.seq, 1);
    assert.throws(() => codec.decodeEvent([Buffer.from('t'), codec.SIGNATURE]), codec.CodecError);
    assert.throws(() => codec.decodeEvent([Buffer.from('t'), Buffer.from('ZAIO/9'), body]), { code: 'BADVERSION' });
    assert.throws(() => codec.decodeEvent([Buffer.from('t'), codec.SIGNATURE, codec.encodeCanonical({ op: 'read', outcome: 'ok' })]), codec.CodecError);
    assert.throws(() => codec.decodeEvent([Buffer.from('t'), codec.SIGNATURE, codec.encodeCanonical([1])]), codec.CodecError);
});

test('decoding keeps floats apart from integers and refuses what ZAIO/1 never sends', () => {
    const hex = (h) => Buffer.from(h.replace(/ /g, ''), 'hex');
    //  A float64 1.0 is not the integer 1, and says so.
    const one = codec.decodeValue(hex('cb 3ff0000000000000'));
    assert.ok(one instanceof codec.Float);
    assert.equal(one.value, 1);
    assert.equal(codec.decodeValue(hex('ca 3fc00000')).value, 1.5);
    assert.equal(codec.encodeCanonical(one).toString('hex'), 'cb3ff0000000000000');
    assert.equal(codec.encodeCanonical(2.5).toString('hex'), 'cb4004000000000000');
    const bad = {
        'float id': [codec.SIGNATURE, hex('82 a26964 cb3ff0000000000000 a26f6b c3')],
        'duplicate id': [codec.SIGNATURE, hex('83 a26964 01 a26964 02 a26f6b c3')],
        'duplicate ok': [codec.SIGNATURE, hex('83 a26964 01 a26f6b c3 a26f6b c2')],
        'broken UTF-8': [codec.SIGNATURE, hex('83 a26964 01 a26f6b c3 a178 a2c328')],
        'ext type': [codec.SIGNATURE, hex('83 a26964 01 a26f6b c3 a178 d40100')],
        'never-used byte': [codec.SIGNATURE, hex('83 a26964 01 a26f6b c3 a178 c1')],
        'nested too deep': [codec.SIGNATURE, Buffer.concat([hex('83 a26964 01 a26f6b c3 a178'),
            Buffer.alloc(1000, 0x91), hex('c0')])],
        'array longer than the frame': [codec.SIGNATURE, hex('83 a26964 01 a26f6b c3 a178 dd7fffffff')],
    };
    for (const [name, frames] of Object.entries(bad))
        assert.throws(() => codec.decodeReply(frames), (err) => err instanceof codec.CodecError, name);
});

test('reply vectors pass the result checks of the op they answer', () => {
    const requests = {
        ping_ok: { op: 'ping' }, stat_ok: { op: 'stat' }, read_ok: { op: 'read', length: 5 },
        read_empty: { op: 'read', length: 5 }, write_ok: { op: 'write' }, append_ok: { op: 'append' },
        listdir_ok: { op: 'listdir' }, listdir_bin_name: { op: 'listdir' }, hello_ok: { op: 'hello' },
        hello_batch_ok: { op: 'hello' }, stats_ok: { op: 'stats' },
        //  Reply batches: the request of each element.
        reply_batch: [{ op: 'stat' }, { op: 'read', length: 5 }, { op: 'write' }, { op: 'read', length: 5 }],
        reply_batch_one: [{ op: 'ping' }],
    };
    for (const v of byKind.reply.filter((r) => r.entries || r.header.ok)) {
        assert.ok(requests[v.name], `a request for ${v.name}`);
        if (!v.entries) {
            codec.checkResult(requests[v.name], codec.decodeReply(v.frames));
            continue;
        }
        codec.decodeReplyBatch(v.frames).forEach((r, i) => {
            if (r.header.ok)
                codec.checkResult(requests[v.name][i], r);
        });
    }
});

test('result checks: fields and types of spec 5, data frame as long as bytes says', () => {
    const reply = (header, data) => codec.decodeReply(codec.encodeReply({ id: 1, ok: true, ...header }, data));
    const check = (request, header, data) => codec.checkResult(request, reply(header, data));
    const refuses = (request, header, data) => assert.throws(() => check(request, header, data),
        (err) => err instanceof codec.CodecError, JSON.stringify([request, header]));
    check({ op: 'read', length: 4n }, { bytes: 4, eof: false }, Buffer.alloc(4));
    refuses({ op: 'read', length: 4 }, { bytes: 5, eof: false }, Buffer.alloc(5));
    refuses({ op: 'read', length: 4 }, { bytes: 3, eof: false }, Buffer.alloc(4));
    refuses({ op: 'read', length: 4 }, { bytes: 0, eof: true });
    refuses({ op: 'readfile' }, { bytes: 0 });
    refuses({ op: 'stat' }, { type: 'file', size: 1, mode: 0o644, mtime_ns: 0 }, Buffer.alloc(0));
    check({ op: 'stat' }, { type: 'other', size: 1n << 60n, mode: 0o7777, mtime_ns: -(1n << 63n) });
    refuses({ op: 'stat' }, { type: 'file', size: -1, mode: 0o644, mtime_ns: 0 });
    refuses({ op: 'append' }, { bytes: 1, offset: 'x' });
    refuses({ op: 'listdir' }, { entries: {}, more: false });
    //  hello: the six limits every ZAIO/1 broker reports, the later ones when present.
    const hello = { protocol: 1, version: 'v', ops: [], volumes: [], limits: { header_max: 1, path_max: 1,
        payload_max: 1, listdir_max: 1, inflight_max: 1, queue_max: 1 } };
    check({ op: 'hello' }, hello);
    refuses({ op: 'hello' }, { ...hello, limits: { ...hello.limits, queue_max: undefined } });
    refuses({ op: 'hello' }, { ...hello, limits: { ...hello.limits, reply_hwm: 'x' } });
    refuses({ op: 'hello' }, { ...hello, ops: [1] });
    //  Unknown ops (a later spec, sent with request()) have no known results.
    check({ op: 'future' }, { anything: [1.5] });
    refuses({ op: 'future' }, {}, Buffer.alloc(0));
    //  Unknown result fields are ignored.
    check({ op: 'write' }, { bytes: 3, later: 'x' });
});

test('replyId: the id of a broken reply, when it can be read', () => {
    const sig = codec.SIGNATURE;
    const hex = (h) => Buffer.from(h.replace(/ /g, ''), 'hex');
    assert.equal(codec.replyId([sig, codec.encodeCanonical({ id: 5, ok: 'yes' })]), 5);
    assert.equal(codec.replyId([Buffer.from('x'), codec.encodeCanonical({ id: 2n ** 64n - 1n })]), 2n ** 64n - 1n);
    assert.equal(codec.replyId([sig, hex('83 a26964 07 a26f6b c3 a26f6b c2')]), 7, 'duplicate keys');
    assert.equal(codec.replyId([sig, hex('82 a26964 07 a178 a2c328')]), 7, 'broken UTF-8 elsewhere');
    for (const frames of [[sig], [sig, hex('c1')], [sig, codec.encodeCanonical({ id: 0, ok: true })],
        [sig, hex('82 a26964 cb3ff0000000000000 a26f6b c3')], [sig, codec.encodeCanonical([5])],
        [sig, Buffer.concat([codec.encodeCanonical({ id: 5 }), hex('c0')])]])
        assert.equal(codec.replyId(frames), undefined, frames.map((f) => f.toString('hex')).join(' '));
});
