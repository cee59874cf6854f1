#!/usr/bin/env python3
"""Write the golden vectors in schemas/vectors/ from the meanings below.

Run once when the protocol changes, review the diff, commit. The C, Python
and Node suites then check their codecs against the committed bytes, so this
script is the only place a vector's meaning is written down.

Needs the `msgpack` package: python3 -m pip install msgpack
"""
import json
import os
import sys

import msgpack

SIGNATURE = b"ZAIO/1"
HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "schemas", "vectors")


def canonical(header, first):
    """Keys `first` in that order, then the rest ascending bytewise."""
    ordered = {k: header[k] for k in first if k in header}
    for k in sorted(k for k in header if k not in first):
        ordered[k] = header[k]
    return ordered


def pack(obj):
    return msgpack.packb(obj, use_bin_type=True)


def request(name, header, data=None):
    frames = [SIGNATURE, pack(canonical(header, ["id", "op"]))]
    if data is not None:
        frames.append(data)
    return {"name": name, "kind": "request", "header": header, "frames": frames}


def reply(name, header, data=None):
    frames = [SIGNATURE, pack(canonical(header, ["id", "ok"]))]
    if data is not None:
        frames.append(data)
    return {"name": name, "kind": "reply", "header": header, "frames": frames}


def entries_frame(entries, first):
    """A batch's entries frame (PROTOCOL.md section 3.4): an array of
    [header: bin, data: bool] pairs, each header packed canonically."""
    return pack([[pack(canonical(header, first)), data is not None] for header, data in entries])


def entries_json(entries):
    return [{"header": header, "data": data is not None} for header, data in entries]


def request_batch(name, batch_id, entries):
    """entries: (request header, data bytes or None) in order."""
    frames = [SIGNATURE, pack({"id": batch_id, "op": "batch"}), entries_frame(entries, ["id", "op"])]
    frames += [data for _, data in entries if data is not None]
    return {"name": name, "kind": "request", "header": {"id": batch_id, "op": "batch"},
            "entries": entries_json(entries), "frames": frames}


def reply_batch(name, entries):
    """entries: (reply header, data bytes or None) in order."""
    frames = [SIGNATURE, entries_frame(entries, ["id", "ok"])]
    frames += [data for _, data in entries if data is not None]
    return {"name": name, "kind": "reply", "entries": entries_json(entries), "frames": frames}


def event(name, topic, body):
    frames = [topic.encode(), SIGNATURE, pack(canonical(body, []))]
    return {"name": name, "kind": "event", "topic": topic, "header": body, "frames": frames}


def invalid(name, error, frames, reply_id):
    """reply_id: the id the refusal carries (PROTOCOL.md section 3.2): the
    valid id read before the fault, or 0."""
    return {"name": name, "kind": "invalid_request", "error": error, "reply_id": reply_id,
            "frames": frames}


def raw_map(*pairs):
    """A map packed pair by pair, so keys may repeat or values be odd."""
    out = bytearray([0x80 | len(pairs)])
    for k, v in pairs:
        out += pack(k) + v
    return bytes(out)


REQUESTS = [
    request("ping", {"id": 1, "op": "ping"}),
    request("hello", {"id": 2, "op": "hello"}),
    request("stat", {"id": 3, "op": "stat", "path": "docs/readme.txt"}),
    request("read", {"id": 1099511627781, "op": "read", "path": "data.bin", "offset": 8192,
                     "length": 4096}),
    request("read_max_id", {"id": 18446744073709551615, "op": "read", "path": "a", "length": 1}),
    request("write", {"id": 5, "op": "write", "path": "logs/x.log", "offset": 100,
                      "create": True, "mode": 0o600}, b"hello"),
    request("write_empty_data", {"id": 6, "op": "write", "path": "empty"}, b""),
    request("append", {"id": 7, "op": "append", "path": "journal", "create": True}, b"line\n"),
    request("readfile", {"id": 8, "op": "readfile", "path": "config.json"}),
    request("writefile", {"id": 9, "op": "writefile", "path": "config.json"}, b'{"a":1}'),
    request("truncate", {"id": 10, "op": "truncate", "path": "big", "size": 5000000000}),
    request("fsync", {"id": 11, "op": "fsync", "path": "journal", "datasync": True}),
    request("unlink", {"id": 12, "op": "unlink", "path": "old"}),
    request("rename", {"id": 13, "op": "rename", "path": "tmp/a", "to": "final/a"}),
    request("mkdir", {"id": 14, "op": "mkdir", "path": "a/b/c", "parents": True, "mode": 0o750}),
    request("rmdir", {"id": 15, "op": "rmdir", "path": "a/b/c"}),
    request("listdir", {"id": 16, "op": "listdir", "path": "", "after": "m", "limit": 100}),
    request("copy", {"id": 17, "op": "copy", "path": "src.bin", "to": "dst.bin"}),
    request("read_reserved_fields", {"id": 18, "op": "read", "path": "p", "length": 10,
                                     "volume": "photos", "key": "k1", "barrier": True,
                                     "link": True, "deadline": 1500, "priority": 7}),
    request("utf8_path", {"id": 19, "op": "stat", "path": "caf\u00e9/\u65e5\u672c.txt"}),
    request_batch("batch", 70, [
        ({"id": 71, "op": "stat", "path": "a"}, None),
        ({"id": 72, "op": "write", "path": "b", "offset": 3, "create": True}, b"xyz"),
        ({"id": 73, "op": "read", "path": "c", "length": 4096, "key": "k", "deadline": 50}, None),
        ({"id": 74, "op": "append", "path": "d"}, b""),
    ]),
    request_batch("batch_one_entry", 75, [({"id": 76, "op": "ping"}, None)]),
    # stats (section 5.3): answered by the broker; top is its one field.
    request("stats", {"id": 90, "op": "stats"}),
    request("stats_top", {"id": 91, "op": "stats", "top": 100}),
]

# A stats reply (section 5.3): one ping run by a worker, one NOVOLUME.
_QUEUE = [0] * 28
_QUEUE[3] = 1
_SERVICE = [0] * 28
_SERVICE[5] = 1
STATS_OK = {
    "id": 90, "ok": True, "version": "0.1.0", "uptime_ms": 61000,
    "time_ns": 1700000000123456789,
    "gauges": {"clients": 1, "held_bytes": 0, "held_replies": 0, "inflight": 1,
               "queued": 0, "queued_bytes": 0, "running": 1, "subscriptions": 2,
               "workers": 1},
    "volumes": [{"capacity": 64, "credit": 63, "name": "default", "queued": 0,
                 "running": 1, "workers": 1}],
    "workers": [{"capacity": 64, "credit": 63, "jobs": 1, "name": "host1/4242/0",
                 "remote": False, "running": 1, "volumes": ["default"]}],
    "jobs": [{"bytes": 0, "jobs": 1, "op": "ping", "outcome": "ok", "volume": "default"},
             {"bytes": 0, "jobs": 1, "op": "stat", "outcome": "NOVOLUME", "volume": ""},
             {"bytes": 0, "jobs": 1, "op": "", "outcome": "MALFORMED", "volume": ""}],
    "latency_bounds_us": [1 << i for i in range(27)],
    "latency": [{"count": 1, "op": "ping", "queue": _QUEUE, "queue_sum_us": 7,
                 "service": _SERVICE, "service_sum_us": 20}],
    "top_clients": [{"bytes": 0, "client": "0080000001", "errors": 2, "jobs": 4}],
}

REPLIES = [
    reply("ping_ok", {"id": 1, "ok": True}),
    reply("error_enoent", {"id": 3, "ok": False, "error": "ENOENT",
                           "message": "No such file or directory"}),
    reply("error_queue_full", {"id": 4, "ok": False, "error": "QUEUE_FULL",
                               "message": "queue full, retry later"}),
    reply("error_no_id", {"id": 0, "ok": False, "error": "BADVERSION",
                          "message": "not a ZAIO/1 message"}),
    reply("stat_ok", {"id": 3, "ok": True, "type": "file", "size": 1234, "mode": 0o644,
                      "mtime_ns": 1700000000123456789}),
    reply("read_ok", {"id": 1099511627781, "ok": True, "bytes": 5, "eof": True}, b"hello"),
    reply("read_empty", {"id": 21, "ok": True, "bytes": 0, "eof": True}, b""),
    reply("write_ok", {"id": 5, "ok": True, "bytes": 5}),
    reply("append_ok", {"id": 7, "ok": True, "bytes": 5, "offset": 4294967296}),
    reply("listdir_ok", {"id": 16, "ok": True, "more": False, "entries": [
        {"mtime_ns": 1700000000000000000, "name": "a.txt", "size": 3, "type": "file"},
        {"mtime_ns": -5, "name": "sub", "size": 4096, "type": "dir"},
    ]}),
    # A name that is not UTF-8 travels as a bin of its raw bytes (section 5).
    reply("listdir_bin_name", {"id": 16, "ok": True, "more": True, "entries": [
        {"mtime_ns": 1700000000000000000, "name": b"caf\xe9.txt", "size": 3, "type": "file"},
        {"mtime_ns": 1700000000000000000, "name": "d\u00e9j\u00e0", "size": 0, "type": "dir"},
    ]}),
    reply("hello_ok", {"id": 2, "ok": True, "protocol": 1, "version": "0.1.0",
                       "ops": ["ping", "hello", "stat"],
                       "volumes": [{"name": "default", "readonly": False, "workers": 2}],
                       "limits": {"header_max": 8192, "inflight_max": 16384,
                                  "listdir_max": 10000, "path_max": 1024,
                                  "payload_max": 67108864, "queue_bytes_max": 1073741824,
                                  "queue_max": 65536, "reply_hwm": 1000}}),
    reply("hello_batch_ok", {"id": 2, "ok": True, "protocol": 1, "version": "0.1.0",
                             "ops": ["ping", "hello", "batch"], "volumes": [],
                             "limits": {"batch_bytes_max": 1048576, "batch_max": 1024,
                                        "header_max": 8192, "inflight_max": 16384,
                                        "listdir_max": 10000, "path_max": 1024,
                                        "payload_max": 67108864,
                                        "queue_bytes_max": 1073741824,
                                        "queue_max": 65536, "reply_hwm": 1000}}),
    reply_batch("reply_batch", [
        ({"id": 71, "ok": True, "type": "file", "size": 3, "mode": 0o644, "mtime_ns": 5}, None),
        ({"id": 73, "ok": True, "bytes": 5, "eof": True}, b"hello"),
        ({"id": 72, "ok": False, "error": "QUEUE_FULL", "message": "queue full, retry later"},
         None),
        ({"id": 77, "ok": True, "bytes": 0, "eof": True}, b""),
    ]),
    reply_batch("reply_batch_one", [({"id": 76, "ok": True}, None)]),
    reply("stats_ok", STATS_OK),
    reply("stats_refused", {"id": 91, "ok": False, "error": "EACCES",
                            "message": "stats needs the monitor grant"}),
]

EVENTS = [
    event("event_ok_read", "ok.read.default", {
        "seq": 1, "id": 1099511627781, "client": "0080000001", "op": "read", "outcome": "ok",
        "path": "data.bin", "volume": "default", "bytes": 4096, "queue_us": 12,
        "service_us": 30, "worker": "host1/4242/0", "time_us": 1700000000000000}),
    event("event_err_write", "err.write.photos", {
        "seq": 18446744073709551615, "id": 5, "client": "0080000002", "op": "write",
        "outcome": "err", "error": "EACCES", "path": "x", "volume": "photos", "bytes": 0,
        "queue_us": 0, "service_us": 7, "worker": "h/1/3", "time_us": 1}),
]

GOOD_READ = pack({"id": 40, "op": "read", "path": "a", "length": 1})
GOOD_PING = pack({"id": 81, "op": "ping"})
GOOD_WRITE = pack({"id": 83, "op": "write", "path": "a"})
BATCH_HEADER = pack({"id": 80, "op": "batch"})
INVALID = [
    invalid("bad_signature", "BADVERSION", [b"ZAIO/2", GOOD_READ], 0),
    invalid("no_header_frame", "MALFORMED", [SIGNATURE], 0),
    invalid("header_is_array", "MALFORMED", [SIGNATURE, pack([1, "ping"])], 0),
    invalid("header_truncated", "MALFORMED", [SIGNATURE, GOOD_READ[:-3]], 40),
    invalid("header_trailing_bytes", "MALFORMED", [SIGNATURE, GOOD_READ + b"\xc0"], 40),
    invalid("header_empty", "MALFORMED", [SIGNATURE, b""], 0),
    invalid("missing_id", "MALFORMED", [SIGNATURE, pack({"op": "ping"})], 0),
    invalid("id_zero", "MALFORMED", [SIGNATURE, pack({"id": 0, "op": "ping"})], 0),
    invalid("id_negative", "MALFORMED", [SIGNATURE, pack({"id": -1, "op": "ping"})], 0),
    invalid("id_string", "MALFORMED", [SIGNATURE, pack({"id": "1", "op": "ping"})], 0),
    invalid("missing_op", "MALFORMED", [SIGNATURE, pack({"id": 41})], 41),
    invalid("op_not_string", "MALFORMED", [SIGNATURE, pack({"id": 42, "op": 3})], 42),
    invalid("unknown_op", "UNKNOWN_OP", [SIGNATURE, pack({"id": 43, "op": "format_disk"})], 43),
    invalid("unknown_field", "MALFORMED", [SIGNATURE, pack({"id": 44, "op": "ping", "x": 1})], 44),
    invalid("duplicate_key", "MALFORMED",
            [SIGNATURE, raw_map(("id", pack(45)), ("op", pack("stat")), ("path", pack("a")),
                                ("path", pack("b")))], 45),
    invalid("key_not_string", "MALFORMED", [SIGNATURE, b"\x82\x01\x02" + pack("op") + pack("ping")], 0),
    invalid("path_wrong_type", "MALFORMED",
            [SIGNATURE, pack({"id": 46, "op": "stat", "path": b"bin"})], 46),
    invalid("path_nul_byte", "EINVAL", [SIGNATURE, pack({"id": 47, "op": "stat", "path": "a\0b"})], 47),
    invalid("op_nul_byte", "EINVAL", [SIGNATURE, pack({"id": 64, "op": "ping\0"})], 64),
    invalid("path_not_utf8", "MALFORMED",
            [SIGNATURE, raw_map(("id", pack(60)), ("op", pack("stat")), ("path", b"\xa2\xff\xfe"))], 60),
    invalid("path_overlong_utf8", "MALFORMED",
            [SIGNATURE, raw_map(("id", pack(61)), ("op", pack("stat")), ("path", b"\xa2\xc0\xaf"))], 61),
    invalid("op_not_utf8", "MALFORMED",
            [SIGNATURE, raw_map(("id", pack(65)), ("op", b"\xa4p\xe9ng"))], 65),
    invalid("volume_with_dot", "MALFORMED",
            [SIGNATURE, pack({"id": 62, "op": "stat", "path": "a", "volume": "a.b"})], 62),
    invalid("volume_empty", "MALFORMED",
            [SIGNATURE, pack({"id": 63, "op": "stat", "path": "a", "volume": ""})], 63),
    invalid("path_too_long", "ENAMETOOLONG",
            [SIGNATURE, pack({"id": 48, "op": "stat", "path": "a" * 1025})], 48),
    invalid("read_missing_length", "MALFORMED",
            [SIGNATURE, pack({"id": 49, "op": "read", "path": "a"})], 49),
    invalid("field_not_for_op", "MALFORMED",
            [SIGNATURE, pack({"id": 50, "op": "read", "path": "a", "length": 1, "to": "b"})], 50),
    invalid("write_without_data", "MALFORMED",
            [SIGNATURE, pack({"id": 51, "op": "write", "path": "a"})], 51),
    invalid("read_with_data", "MALFORMED", [SIGNATURE, GOOD_READ, b"extra"], 40),
    invalid("read_length_over_payload", "TOOBIG",
            [SIGNATURE, pack({"id": 52, "op": "read", "path": "a", "length": 1 << 40})], 52),
    invalid("offset_over_int64", "TOOBIG",
            [SIGNATURE, pack({"id": 53, "op": "read", "path": "a", "length": 1,
                              "offset": 1 << 63})], 53),
    invalid("mode_too_big", "TOOBIG",
            [SIGNATURE, pack({"id": 54, "op": "mkdir", "path": "a", "mode": 0o10000})], 54),
    invalid("limit_zero", "MALFORMED",
            [SIGNATURE, pack({"id": 55, "op": "listdir", "path": "", "limit": 0})], 55),
    invalid("huge_declared_map", "MALFORMED", [SIGNATURE, b"\xdf\xff\xff\xff\xff"], 0),
    invalid("huge_declared_string", "MALFORMED",
            [SIGNATURE, b"\x82" + pack("id") + pack(56) + pack("op") + b"\xdb\xff\xff\xff\xff"], 56),
    invalid("nested_value", "MALFORMED",
            [SIGNATURE, pack({"id": 57, "op": "stat", "path": [[["deep"]]]})], 57),
    invalid("header_too_big", "TOOBIG",
            [SIGNATURE, pack({"id": 58, "op": "ping", "key": "k" * 9000})], 0),
    # Whole-batch refusals (PROTOCOL.md section 5.2): one reply with the batch's id.
    invalid("batch_entries_not_array", "MALFORMED",
            [SIGNATURE, BATCH_HEADER, pack({"a": 1})], 80),
    invalid("batch_entries_missing", "MALFORMED", [SIGNATURE, BATCH_HEADER], 80),
    invalid("batch_empty", "MALFORMED", [SIGNATURE, BATCH_HEADER, pack([])], 80),
    invalid("batch_element_not_pair", "MALFORMED",
            [SIGNATURE, BATCH_HEADER, pack([[GOOD_PING, False], [GOOD_PING]])], 80),
    invalid("batch_element_three", "MALFORMED",
            [SIGNATURE, BATCH_HEADER, pack([[GOOD_PING, False, 1]])], 80),
    invalid("batch_header_not_bin", "MALFORMED",
            [SIGNATURE, BATCH_HEADER, pack([[{"id": 81, "op": "ping"}, False]])], 80),
    invalid("batch_flag_not_bool", "MALFORMED",
            [SIGNATURE, BATCH_HEADER, pack([[GOOD_PING, 0]])], 80),
    invalid("batch_trailing_bytes", "MALFORMED",
            [SIGNATURE, BATCH_HEADER, pack([[GOOD_PING, False]]) + b"\xc0"], 80),
    invalid("batch_missing_data_frame", "MALFORMED",
            [SIGNATURE, BATCH_HEADER, pack([[GOOD_WRITE, True], [GOOD_PING, False]])], 80),
    invalid("batch_extra_frame", "MALFORMED",
            [SIGNATURE, BATCH_HEADER, pack([[GOOD_PING, False]]), b"extra"], 80),
    invalid("batch_header_with_key", "MALFORMED",
            [SIGNATURE, pack({"id": 82, "op": "batch", "key": "k"}),
             pack([[GOOD_PING, False]])], 82),
    invalid("batch_too_many_entries", "TOOBIG",
            [SIGNATURE, BATCH_HEADER, pack([[GOOD_PING, False]] * 1025)], 80),
    invalid("stats_top_too_big", "TOOBIG",
            [SIGNATURE, pack({"id": 92, "op": "stats", "top": 101})], 92),
    invalid("stats_top_not_uint", "MALFORMED",
            [SIGNATURE, pack({"id": 93, "op": "stats", "top": "10"})], 93),
    invalid("stats_top_negative", "MALFORMED",
            [SIGNATURE, pack({"id": 94, "op": "stats", "top": -1})], 94),
    invalid("stats_with_volume", "MALFORMED",
            [SIGNATURE, pack({"id": 95, "op": "stats", "volume": "default"})], 95),
    invalid("stats_with_path", "MALFORMED",
            [SIGNATURE, pack({"id": 96, "op": "stats", "path": "a"})], 96),
    invalid("top_not_for_op", "MALFORMED",
            [SIGNATURE, pack({"id": 97, "op": "ping", "top": 1})], 97),
    invalid("stats_with_data", "MALFORMED",
            [SIGNATURE, pack({"id": 98, "op": "stats"}), b"x"], 98),
    invalid("bool_as_int", "MALFORMED",
            [SIGNATURE, pack({"id": 59, "op": "mkdir", "path": "a", "parents": 1})], 59),
]


def json_value(value):
    """A header value as JSON: a msgpack bin (Python bytes) becomes
    {"$bin": HEX} (PROTOCOL.md section 13)."""
    if isinstance(value, bytes):
        return {"$bin": value.hex()}
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_value(v) for v in value]
    return value


def to_json(vector):
    out = dict(vector)
    out["frames"] = [f.hex() for f in vector["frames"]]
    if "header" in out:
        out["header"] = json_value(out["header"])
    if "entries" in out:
        out["entries"] = [{"header": json_value(e["header"]), "data": e["data"]}
                          for e in out["entries"]]
    return out


def write(name, vectors):
    path = os.path.join(OUT, name)
    with open(path, "w") as f:
        json.dump({"vectors": [to_json(v) for v in vectors]}, f, indent=1, ensure_ascii=False)
        f.write("\n")
    print(f"wrote {len(vectors)} vectors to {os.path.relpath(path)}", file=sys.stderr)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    write("requests.json", REQUESTS)
    write("replies.json", REPLIES)
    write("events.json", EVENTS)
    write("invalid.json", INVALID)
