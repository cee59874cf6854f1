"""The ZAIO/1 codec: requests, replies and events to and from frames.

Encoding emits the canonical form of PROTOCOL.md section 3.3 (the golden
vectors pin it byte for byte): request maps ``id``, ``op``, then the other
keys ascending; reply maps ``id``, ``ok``, then the rest ascending; every
other map (events, nested maps) all keys ascending; integers shortest,
strings as ``str``.

Decoding accepts any valid msgpack and any key order, and is strict about
everything else: one map and nothing after it, string keys, no duplicate
keys, the listed types for every known field. Unknown result and event
fields are ignored (section 12). Anything wrong raises
:class:`zaio.BadReply`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

import msgpack

from ._types import DirEntry, Event, Hello, Limits, Listing, ReadResult, Reply, Stat, VolumeInfo
from .errors import BadReply, error_for

__all__ = [
    "SIGNATURE",
    "OPS",
    "DATA_OPS",
    "encode_request",
    "decode_request",
    "encode_batch",
    "decode_batch",
    "is_batch",
    "decode_reply_batch",
    "encode_reply_batch",
    "encode_reply",
    "decode_reply",
    "encode_event",
    "decode_event",
    "result_of",
]

#: Frame 0 of every request and reply, frame 1 of every event.
SIGNATURE = b"ZAIO/1"

#: The largest request header frame (PROTOCOL.md section 4, rule 1): fixed
#: by the protocol, so a client can check it without asking ``hello``.
HEADER_MAX = 8192

UINT64_MAX = (1 << 64) - 1
UINT32_MAX = (1 << 32) - 1

# Request field -> type: "uint", "uint32", "str", "bool" or "name" (PROTOCOL.md
# section 4): a name is a str, or bytes for one that is not UTF-8 (a listdir
# entry's), sent as bin.
# The client checks only what it can: types and the range of the wire type.
# The broker enforces the limits (maxima, string lengths) and answers errors.
FIELDS: Dict[str, str] = {
    "id": "uint", "op": "str", "path": "str", "to": "str", "offset": "uint",
    "length": "uint", "size": "uint", "mode": "uint", "create": "bool",
    "parents": "bool", "datasync": "bool", "after": "name", "limit": "uint",
    "volume": "str", "key": "str", "barrier": "bool", "link": "bool",
    "deadline": "uint32", "priority": "uint", "top": "uint",
}

#: Fields every op accepts.
COMMON = frozenset({"volume", "key", "barrier", "link", "deadline", "priority"})

#: op -> (required fields, optional fields), from the op table of section 5.
OPS: Dict[str, Tuple[frozenset, frozenset]] = {
    "ping": (frozenset(), frozenset()),
    "hello": (frozenset(), frozenset()),
    "stat": (frozenset({"path"}), frozenset()),
    "read": (frozenset({"path", "length"}), frozenset({"offset"})),
    "write": (frozenset({"path"}), frozenset({"offset", "create", "mode"})),
    "append": (frozenset({"path"}), frozenset({"create", "mode"})),
    "readfile": (frozenset({"path"}), frozenset()),
    "writefile": (frozenset({"path"}), frozenset({"mode"})),
    "truncate": (frozenset({"path", "size"}), frozenset()),
    "fsync": (frozenset({"path"}), frozenset({"datasync"})),
    "unlink": (frozenset({"path"}), frozenset()),
    "rename": (frozenset({"path", "to"}), frozenset()),
    "mkdir": (frozenset({"path"}), frozenset({"parents", "mode"})),
    "rmdir": (frozenset({"path"}), frozenset()),
    "listdir": (frozenset({"path"}), frozenset({"after", "limit"})),
    "copy": (frozenset({"path", "to"}), frozenset()),
    "stats": (frozenset(), frozenset({"top"})),
}

#: Ops that take none of COMMON (section 4, rule 5; stats: section 5.3).
NO_COMMON = frozenset({"stats"})

#: Ops whose request carries a data frame (always, possibly empty).
DATA_OPS = frozenset({"write", "append", "writefile"})
#: Ops whose successful reply carries a data frame.
DATA_REPLY_OPS = frozenset({"read", "readfile"})


#: Most entries in a batch, and most bytes in its entries frame, when the
#: broker's hello does not say (the spec's defaults).
BATCH_MAX = 1024
BATCH_BYTES_MAX = 1 << 20

# ---------------------------------------------------------------- helpers

def _key(k: str) -> bytes:
    return k.encode("utf-8")


def _canonical(value: Any) -> Any:
    """Nested maps with keys in ascending byte order; other values as they are."""
    if isinstance(value, Mapping):
        return {k: _canonical(value[k]) for k in sorted(value, key=_key)}
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    return value


def _ordered(header: Mapping[str, Any], first: Sequence[str]) -> Dict[str, Any]:
    out = {k: _canonical(header[k]) for k in first if k in header}
    for k in sorted((k for k in header if k not in first), key=_key):
        out[k] = _canonical(header[k])
    return out


def _pack(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)


def _brief(v: Any) -> str:
    """A short description of a value for an error message. Never the repr
    of a whole container: one nested a thousand deep would raise
    RecursionError, and a big one would make a huge message."""
    if isinstance(v, (str, bytes)):
        return repr(v[:40]) + ("..." if len(v) > 40 else "")
    if v is None or isinstance(v, (bool, int, float)):
        return repr(v)
    size = f" of {len(v)}" if isinstance(v, (list, tuple, dict)) else ""
    return f"{type(v).__name__}{size}"


def _strict_map(pairs: List[Tuple[Any, Any]]) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for k, v in pairs:
        if type(k) is not str:
            raise ValueError("map key is not a string")
        if k in out:
            raise ValueError(f"duplicate key {_brief(k)}")
        out[k] = v
    return out


def _unpack_map(frame: Any, what: str) -> Dict[str, Any]:
    """Exactly one msgpack map (string keys, no duplicates) and nothing after."""
    try:
        obj = msgpack.unpackb(frame, raw=False, use_list=True, strict_map_key=True,
                              object_pairs_hook=_strict_map)
    # msgpack raises a zoo of types (ExtraData, StackError past its nesting
    # limit, ValueError...); all of them mean a bad frame.
    except Exception as e:
        raise BadReply(message=f"{what}: undecodable msgpack ({type(e).__name__}: {e})") from None
    if not isinstance(obj, dict):
        raise BadReply(message=f"{what}: not a map")
    return obj


def _is_uint(v: Any, top: int = UINT64_MAX) -> bool:
    return type(v) is int and 0 <= v <= top


def _is_int64(v: Any) -> bool:
    return type(v) is int and -(1 << 63) <= v < (1 << 63)


_CHECKS = {
    "uint": _is_uint,
    "uint32": lambda v: _is_uint(v, UINT32_MAX),
    "int": _is_int64,
    "str": lambda v: type(v) is str,
    "name": lambda v: type(v) is str or type(v) is bytes,
    "bool": lambda v: type(v) is bool,
}


def _take(m: Mapping[str, Any], key: str, kind: str, what: str) -> Any:
    if key not in m:
        raise BadReply(message=f"{what}: missing {key!r}")
    v = m[key]
    if not _CHECKS[kind](v):
        raise BadReply(message=f"{what}: {key!r} is not {kind} ({_brief(v)})")
    return v


def _frame_bytes(frame: Any) -> Any:
    """A buffer for a received frame: zmq.Frame -> its memoryview; else as is."""
    buf = getattr(frame, "buffer", None)
    return buf if buf is not None else frame


def _view(frame: Any) -> memoryview:
    """A read-only memoryview of a frame's bytes, without copying."""
    mv = memoryview(_frame_bytes(frame))
    return mv if mv.readonly else mv.toreadonly()


# ---------------------------------------------------------------- requests

def check_request(header: Mapping[str, Any], data: Optional[Any] = None) -> None:
    """Raise ``TypeError``/``ValueError`` if ``header`` is not a valid ZAIO/1
    request as far as a client can tell: ``id`` and ``op`` present, only
    known fields, each of its wire type; for a known op, its required fields
    present, no field it does not take, and a data frame exactly when the op
    takes one. Limits (lengths, maxima, the payload size) are left to the
    broker, which answers them with the spec's errors."""
    for k, v in header.items():
        kind = FIELDS.get(k) if type(k) is str else None
        if kind is None:
            raise ValueError(f"unknown request field {_brief(k)}")
        t = type(v)
        if kind == "str":
            ok = t is str
        elif kind == "name":
            ok = t is str or t is bytes
        elif kind == "bool":
            ok = t is bool
        else:
            ok = t is int and 0 <= v <= (UINT64_MAX if kind == "uint" else UINT32_MAX)
        if not ok:
            raise TypeError(f"request field {k!r} must be {kind}, not {_brief(v)}")
    op = header.get("op")
    if op is None or "id" not in header:
        raise ValueError("a request needs 'id' and 'op'")
    if header["id"] == 0:
        raise ValueError("request id must be > 0")
    shape = OPS.get(op)
    if shape is not None:
        required, optional = shape
        keys = header.keys()
        if not required <= keys:
            raise ValueError(f"{op} needs {', '.join(sorted(required - keys))}")
        if len(keys) > len(required) + 2:
            common = frozenset() if op in NO_COMMON else COMMON
            extra = keys - required - optional - common - {"id", "op"}
            if extra:
                raise ValueError(f"{op} does not take {', '.join(sorted(extra))}")
        if (op in DATA_OPS) != (data is not None):
            raise ValueError(f"{op} {'needs' if op in DATA_OPS else 'takes no'} data")


def encode_request(header: Mapping[str, Any], data: Optional[Any] = None,
                   check: bool = True) -> List[Any]:
    """The frames of a request: signature, canonical header and, when
    ``data`` is not None, the data buffer itself (not copied)."""
    if check:
        check_request(header, data)
        # Checked: flat, and every key is an ASCII field name, so str order
        # is byte order.
        ordered = {"id": header["id"], "op": header["op"]}
        for k in sorted(header):
            if k != "id" and k != "op":
                ordered[k] = header[k]
    else:
        ordered = _ordered(header, ("id", "op"))
    frames: List[Any] = [SIGNATURE, _pack(ordered)]
    if data is not None:
        frames.append(data)
    return frames


def encode_request_frames(header: bytes, data: Optional[Any] = None) -> List[Any]:
    """The frames of a request whose header frame is already encoded."""
    return [SIGNATURE, header] if data is None else [SIGNATURE, header, data]


def decode_request(frames: Sequence[Any]) -> Tuple[Dict[str, Any], Optional[memoryview]]:
    """Header map and data of a request's frames (for tests and tools; the
    broker's own decoder is authoritative). Raises ``ValueError``."""
    if len(frames) not in (2, 3) or bytes(_frame_bytes(frames[0])) != SIGNATURE:
        raise ValueError("not a ZAIO/1 request")
    try:
        header = _unpack_map(_frame_bytes(frames[1]), "request")
    except BadReply as e:
        raise ValueError(e.message) from None
    data = _view(frames[2]) if len(frames) == 3 else None
    check_request(header, data)
    return header, data


# ---------------------------------------------------------------- replies

def encode_reply(header: Mapping[str, Any], data: Optional[Any] = None) -> List[Any]:
    """The frames of a reply in canonical form (for tests and fake brokers)."""
    frames: List[Any] = [SIGNATURE, _pack(_ordered(header, ("id", "ok")))]
    if data is not None:
        frames.append(data)
    return frames


def reply_id(frames: Sequence[Any]) -> Optional[int]:
    """Best-effort request id of a reply that failed to decode, or None."""
    try:
        m = msgpack.unpackb(_frame_bytes(frames[1]), raw=False, strict_map_key=False)
        rid = m.get("id") if isinstance(m, dict) else None
        return rid if _is_uint(rid) and rid else None
    except Exception:
        return None


def decode_reply(frames: Sequence[Any]) -> Reply:
    """Decode a reply's frames strictly. The data frame, if any, is returned
    as a read-only memoryview of the frame (no copy).

    A reply whose signature is not ``ZAIO/1`` but looks like a ``ZAIO/n``
    ``BADVERSION`` reply is still decoded, so the caller can fail the
    request with the broker's answer instead of waiting for a timeout.
    """
    if len(frames) < 2 or len(frames) > 3:
        raise BadReply(message=f"reply has {len(frames)} frames")
    sig = bytes(_frame_bytes(frames[0]))
    header = _unpack_map(_frame_bytes(frames[1]), "reply header")
    rid = _take(header, "id", "uint", "reply")
    ok = _take(header, "ok", "bool", "reply")
    if sig != SIGNATURE:
        if not sig.startswith(b"ZAIO/") or ok or header.get("error") != "BADVERSION":
            raise BadReply(message=f"reply signature {sig[:16]!r} is not ZAIO/1")
    if ok:
        data = _view(frames[2]) if len(frames) == 3 else None
        return Reply(id=rid, ok=True, header=header, data=data)
    if len(frames) != 2:
        raise BadReply(message="error reply with a data frame")
    error = _take(header, "error", "str", "reply")
    message = header.get("message", "")
    if type(message) is not str:
        raise BadReply(message="reply: 'message' is not str")
    return Reply(id=rid, ok=False, header=header, error=error, message=message)


def _stat(h: Mapping[str, Any]) -> Stat:
    return Stat(type=_take(h, "type", "str", "stat"), size=_take(h, "size", "uint", "stat"),
                mode=_take(h, "mode", "uint", "stat"),
                mtime_ns=_take(h, "mtime_ns", "int", "stat"))


def _entry(e: Any) -> DirEntry:
    if not isinstance(e, dict):
        raise BadReply(message="listdir: entry is not a map")
    return DirEntry(name=_take(e, "name", "name", "entry"), type=_take(e, "type", "str", "entry"),
                    size=_take(e, "size", "uint", "entry"),
                    mtime_ns=_take(e, "mtime_ns", "int", "entry"))


def _listing(h: Mapping[str, Any]) -> Listing:
    entries = h.get("entries")
    if not isinstance(entries, list):
        raise BadReply(message="listdir: 'entries' is not an array")
    return Listing(entries=[_entry(e) for e in entries], more=_take(h, "more", "bool", "listdir"))


def _hello(h: Mapping[str, Any]) -> Hello:
    lim = h.get("limits")
    ops = h.get("ops")
    vols = h.get("volumes")
    if not isinstance(lim, dict) or not isinstance(ops, list) or not isinstance(vols, list):
        raise BadReply(message="hello: 'limits', 'ops' or 'volumes' has the wrong type")
    if not all(type(o) is str for o in ops) or not all(isinstance(v, dict) for v in vols):
        raise BadReply(message="hello: bad 'ops' or 'volumes' item")
    # A limit the broker does not report is unknown (section 5.1): None.
    limits = Limits(**{f.name: _take(lim, f.name, "uint", "limits") if f.name in lim else None
                       for f in dataclasses.fields(Limits)})
    volumes = [VolumeInfo(name=_take(v, "name", "str", "volume"),
                          readonly=_take(v, "readonly", "bool", "volume"),
                          workers=_take(v, "workers", "uint", "volume")) for v in vols]
    return Hello(protocol=_take(h, "protocol", "uint", "hello"),
                 version=_take(h, "version", "str", "hello"), ops=list(ops),
                 volumes=volumes, limits=limits)


#: The results of a stats reply (section 5.3) and the type of each.
_STATS_RESULTS = {"version": str, "uptime_ms": int, "time_ns": int, "gauges": dict,
                  "volumes": list, "workers": list, "jobs": list, "latency_bounds_us": list,
                  "latency": list, "top_clients": list}


def _stats(h: Mapping[str, Any]) -> Dict[str, Any]:
    """A stats reply's results as a dict (every key but ``id`` and ``ok``),
    the ones section 5.3 lists checked for their type."""
    for key, kind in _STATS_RESULTS.items():
        if not isinstance(h.get(key), kind) or isinstance(h.get(key), bool):
            raise BadReply(message=f"stats: {key!r} is missing or has the wrong type")
    return {k: v for k, v in h.items() if k not in ("id", "ok")}


def _data(reply: Reply, op: str) -> memoryview:
    if reply.data is None:
        raise BadReply(message=f"{op} reply has no data frame")
    n = _take(reply.header, "bytes", "uint", op)
    if n != len(reply.data):
        raise BadReply(message=f"{op} reply says {n} bytes but carries {len(reply.data)}")
    return reply.data


def result_of(op: str, reply: Reply, path: Optional[str] = None) -> Any:
    """What a client method returns for ``reply`` to ``op``, or raises.

    An error reply raises its :func:`zaio.errors.error_for` exception. A
    success reply becomes: ``None`` (ping, truncate, fsync, unlink, rename,
    mkdir, rmdir), :class:`Hello`, :class:`Stat`, :class:`ReadResult`
    (read), ``memoryview`` (readfile), ``int`` bytes (write, writefile,
    copy), ``int`` offset (append), :class:`Listing` or a ``dict`` (stats). Unknown ops return
    the :class:`Reply` itself.
    """
    if not reply.ok:
        raise error_for(reply.error or "", reply.message, path=path, op=op, id=reply.id)
    h = reply.header
    if reply.data is not None and op not in DATA_REPLY_OPS and op in OPS:
        raise BadReply(message=f"{op} reply has a data frame", op=op)
    try:
        if op == "read":
            data = _data(reply, op)
            return ReadResult(data=data, eof=_take(h, "eof", "bool", op))
        if op == "readfile":
            return _data(reply, op)
        if op in ("write", "writefile", "copy"):
            return _take(h, "bytes", "uint", op)
        if op == "append":
            _take(h, "bytes", "uint", op)
            return _take(h, "offset", "uint", op)
        if op == "stat":
            return _stat(h)
        if op == "listdir":
            return _listing(h)
        if op == "hello":
            return _hello(h)
        if op == "stats":
            return _stats(h)
        if op in OPS:
            return None
        return reply
    except BadReply as e:
        e.op, e.path = op, path
        raise


# ---------------------------------------------------------------- batches

def entry_size(header: bytes) -> int:
    """Bytes an entry whose header frame is ``header`` adds to an entries
    frame: the 2-array, the bin's head and bytes, the flag."""
    n = len(header)
    return 1 + (2 if n < 0x100 else 3 if n < 0x10000 else 5) + n + 1


def _array_head(n: int) -> bytes:
    if n < 16:
        return bytes([0x90 | n])
    if n < 0x10000:
        return b"\xdc" + n.to_bytes(2, "big")
    return b"\xdd" + n.to_bytes(4, "big")


def _entries_frame(items: Sequence[Tuple[bytes, bool]]) -> bytes:
    """A msgpack array of ``[bin, bool]`` pairs (batch-design.md), canonical."""
    out = [_array_head(len(items))]
    for header, flag in items:
        out.append(b"\x92" + _pack(bytes(header)) + (b"\xc3" if flag else b"\xc2"))
    return b"".join(out)


def encode_batch(bid: int, entries: Sequence[Tuple[bytes, Optional[Any]]]) -> List[Any]:
    """The frames of a request batch tagged ``bid``: signature, the header
    ``{"id": bid, "op": "batch"}``, the entries frame of the encoded entry
    headers (frame 1 of :func:`encode_request`) with their data flags, then
    the data frames (not copied) in entry order. ``data`` None: none."""
    if not entries:
        raise ValueError("a batch needs at least one entry")
    frames: List[Any] = [SIGNATURE, _pack({"id": bid, "op": "batch"}),
                         _entries_frame([(h, d is not None) for h, d in entries])]
    frames.extend(d for _, d in entries if d is not None)
    return frames


def encode_reply_batch(replies: Sequence[Tuple[Mapping[str, Any], Optional[Any]]]) -> List[Any]:
    """The frames of a reply batch (for tests and fake brokers)."""
    heads = [(_pack(_ordered(h, ("id", "ok"))), d) for h, d in replies]
    frames: List[Any] = [SIGNATURE, _entries_frame([(h, d is not None) for h, d in heads])]
    frames.extend(d for _, d in heads if d is not None)
    return frames


def is_batch(frames: Sequence[Any]) -> bool:
    """Whether a message's frame 1 is an array (a batch) rather than a map."""
    if len(frames) < 2:
        return False
    head = bytes(_frame_bytes(frames[1])[:1])
    return bool(head) and (0x90 <= head[0] <= 0x9f or head[0] in (0xdc, 0xdd))


def _pairs(frame: Any, what: str) -> List[Tuple[Any, bool]]:
    """The ``[bin, bool]`` elements of an entries frame, strictly: one
    msgpack array of 1 or more of them and nothing after. Raises
    ``ValueError``."""
    try:
        items = msgpack.unpackb(frame, raw=False, use_list=True, strict_map_key=True,
                                object_pairs_hook=_strict_map)
    except Exception as e:
        raise ValueError(f"{what}: undecodable msgpack ({type(e).__name__}: {e})") from None
    if not isinstance(items, list) or not items:
        raise ValueError(f"{what}: not a non-empty array")
    for i, item in enumerate(items):
        if (not isinstance(item, list) or len(item) != 2 or type(item[0]) is not bytes
                or type(item[1]) is not bool):
            raise ValueError(f"{what}: element {i} is not a [bin, bool] pair")
    return [(h, f) for h, f in items]


def decode_batch(
        frames: Sequence[Any]) -> Tuple[int, List[Tuple[Dict[str, Any], Optional[memoryview]]]]:
    """Tag and entries of a request batch (for tests and fake brokers; the
    broker's decoder is authoritative): each entry's header map and data.
    Raises ``ValueError``."""
    if len(frames) < 3 or bytes(_frame_bytes(frames[0])) != SIGNATURE:
        raise ValueError("not a ZAIO/1 batch")
    try:
        head = _unpack_map(_frame_bytes(frames[1]), "batch")
    except BadReply as e:
        raise ValueError(e.message) from None
    if set(head) != {"id", "op"} or head["op"] != "batch" or not _is_uint(head["id"]):
        raise ValueError("batch header is not {id, op: batch}")
    pairs = _pairs(_frame_bytes(frames[2]), "entries")
    if len(frames) != 3 + sum(f for _, f in pairs):
        raise ValueError("data frames do not match the entries' flags")
    data = iter(frames[3:])
    out = []
    for h, f in pairs:
        header = _unpack_map(h, "entry")
        out.append((header, _view(next(data)) if f else None))
    return head["id"], out


def batch_reply_ids(frames: Sequence[Any]) -> List[int]:
    """Best-effort ids of the replies in a reply batch that failed to
    decode, for failing their calls rather than letting them time out."""
    try:
        items = msgpack.unpackb(_frame_bytes(frames[1]), raw=False, strict_map_key=False)
    except Exception:
        return []
    if not isinstance(items, list):
        return []
    ids = []
    for item in items:
        if isinstance(item, list) and item and isinstance(item[0], bytes):
            rid = reply_id([SIGNATURE, item[0]])
            if rid is not None:
                ids.append(rid)
    return ids


def decode_reply_batch(frames: Sequence[Any]) -> List[Union[Reply, BadReply]]:
    """Decode a reply batch strictly (batch-design.md): its replies in
    order, each as :func:`decode_reply` makes it, or as the
    :class:`BadReply` of an element whose header does not decode (``id``
    best-effort, else 0). The batch as a whole is a bad reply, raised, when
    its signature is not ZAIO/1, its frame 1 is not an array of 1 or more
    ``[bin, bool]`` pairs, or its data frames do not match the flags."""
    if len(frames) < 2 or bytes(_frame_bytes(frames[0])) != SIGNATURE:
        raise BadReply(message="reply batch: not ZAIO/1")
    try:
        pairs = _pairs(_frame_bytes(frames[1]), "reply batch")
    except ValueError as e:
        raise BadReply(message=str(e)) from None
    if len(frames) != 2 + sum(f for _, f in pairs):
        raise BadReply(message=f"reply batch: {len(frames) - 2} data frames for "
                       f"{sum(f for _, f in pairs)} flags")
    out: List[Union[Reply, BadReply]] = []
    data = iter(frames[2:])
    for header, flag in pairs:
        one = [SIGNATURE, header, next(data)] if flag else [SIGNATURE, header]
        try:
            out.append(decode_reply(one))
        except BadReply as e:
            e.id = reply_id(one) or 0
            out.append(e)
    return out


# ---------------------------------------------------------------- events

def encode_event(topic: str, body: Mapping[str, Any]) -> List[bytes]:
    """The frames of an event in canonical form (keys ascending)."""
    return [topic.encode("utf-8"), SIGNATURE, _pack(_ordered(body, ()))]


_EVENT_FIELDS: Iterable[Tuple[str, str]] = (
    ("seq", "uint"), ("id", "uint"), ("client", "str"), ("op", "str"), ("outcome", "str"),
    ("path", "str"), ("volume", "str"), ("bytes", "uint"), ("queue_us", "uint"),
    ("service_us", "uint"), ("time_us", "int"), ("worker", "str"),
)


def decode_event(frames: Sequence[Any]) -> Event:
    """Decode an event's three frames (topic, signature, body) strictly.

    The topic must read ``OUTCOME.OP.VOLUME`` for the body's fields, and
    ``error`` must be present exactly when ``outcome`` is ``"err"``.
    """
    if len(frames) != 3:
        raise BadReply(message=f"event has {len(frames)} frames")
    if bytes(_frame_bytes(frames[1])) != SIGNATURE:
        raise BadReply(message="event signature is not ZAIO/1")
    try:
        topic = bytes(_frame_bytes(frames[0])).decode("utf-8")
    except UnicodeDecodeError:
        raise BadReply(message="event topic is not UTF-8") from None
    body = _unpack_map(_frame_bytes(frames[2]), "event")
    f = {k: _take(body, k, kind, "event") for k, kind in _EVENT_FIELDS}
    if f["outcome"] not in ("ok", "err"):
        raise BadReply(message=f"event outcome {f['outcome']!r}")
    error = None
    if f["outcome"] == "err":
        error = _take(body, "error", "str", "event")
    elif "error" in body:
        raise BadReply(message="event: 'error' in a successful event")
    expect = f"{f['outcome']}.{f['op']}.{f['volume']}"
    if topic != expect:
        raise BadReply(message=f"event topic {topic!r} does not match body ({expect!r})")
    return Event(topic=topic, error=error, **f)
