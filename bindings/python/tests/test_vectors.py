"""Every golden vector in schemas/vectors/: the codec encodes each meaning to
the exact bytes and decodes the bytes back; the client methods build those
requests and turn those replies into results; and a live broker answers
every invalid request with the vector's error."""

from __future__ import annotations

import json
from typing import Any, Callable, Dict, List

import msgpack
import pytest
import zmq

import zaio
from zaio import _codec

from conftest import VECTORS


def _bin_hook(obj: Dict[str, Any]) -> Any:
    """A msgpack bin as the vectors write it, {"$bin": HEX} (PROTOCOL.md
    section 13), as bytes."""
    return bytes.fromhex(obj["$bin"]) if list(obj) == ["$bin"] else obj


def load(kind: str) -> List[Dict[str, Any]]:
    out: List[Dict[str, Any]] = []
    for f in sorted(VECTORS.glob("*.json")):
        for v in json.loads(f.read_text(), object_hook=_bin_hook)["vectors"]:
            if v["kind"] == kind:
                out.append(v)
    return out


def frames_of(v: Dict[str, Any]) -> List[bytes]:
    return [bytes.fromhex(f) for f in v["frames"]]


REQUESTS = load("request")
REPLIES = load("reply")
EVENTS = load("event")
INVALID = load("invalid_request")


def test_vectors_exist() -> None:
    kinds = {v["kind"] for f in VECTORS.glob("*.json") for v in json.loads(f.read_text())["vectors"]}
    assert kinds == {"request", "reply", "event", "invalid_request"}
    assert REQUESTS and REPLIES and EVENTS and INVALID


def entry_data(v: Dict[str, Any], first: int) -> List[Any]:
    """Each entry's data frame (None for none) of a batch vector whose data
    frames start at frame ``first``."""
    data = iter(frames_of(v)[first:])
    return [next(data) if e["data"] else None for e in v["entries"]]


@pytest.mark.parametrize("v", REQUESTS, ids=lambda v: v["name"])
def test_request_vector(v: Dict[str, Any]) -> None:
    frames = frames_of(v)
    if "entries" in v:   # a request batch
        data = entry_data(v, 3)
        heads = [_codec.encode_request(e["header"], d)[1] for e, d in zip(v["entries"], data)]
        encoded = _codec.encode_batch(v["header"]["id"], list(zip(heads, data)))
        assert [bytes(f) for f in encoded] == frames
        bid, entries = _codec.decode_batch(frames)
        assert bid == v["header"]["id"]
        assert [h for h, _ in entries] == [e["header"] for e in v["entries"]]
        assert [None if d is None else bytes(d) for _, d in entries] == data
        return
    data = frames[2] if len(frames) == 3 else None
    encoded = _codec.encode_request(v["header"], data)
    assert [bytes(f) for f in encoded] == frames
    header, got = _codec.decode_request(frames)
    assert header == v["header"]
    assert (None if got is None else bytes(got)) == data
    # A decoder must accept any key order: shuffle the map and decode again.
    shuffled = dict(reversed(list(v["header"].items())))
    header, _ = _codec.decode_request([frames[0], msgpack.packb(shuffled), *frames[2:]])
    assert header == v["header"]


@pytest.mark.parametrize("v", REPLIES, ids=lambda v: v["name"])
def test_reply_vector(v: Dict[str, Any]) -> None:
    frames = frames_of(v)
    if "entries" in v:   # a reply batch
        data = entry_data(v, 2)
        replies = _codec.decode_reply_batch(frames)
        assert [r.header for r in replies] == [e["header"] for e in v["entries"]]
        assert [None if r.data is None else bytes(r.data) for r in replies] == data
        again = _codec.encode_reply_batch([(e["header"], d) for e, d in zip(v["entries"], data)])
        assert [bytes(f) for f in again] == frames
        return
    reply = _codec.decode_reply(frames)
    assert reply.header == v["header"]
    assert reply.id == v["header"]["id"] and reply.ok == v["header"]["ok"]
    if not reply.ok:
        assert reply.error == v["header"]["error"]
        assert reply.message == v["header"]["message"]
    assert (None if reply.data is None else bytes(reply.data)) == (
        frames[2] if len(frames) == 3 else None)
    assert [bytes(f) for f in _codec.encode_reply(reply.header, reply.data)] == frames
    shuffled = dict(reversed(list(v["header"].items())))
    again = _codec.decode_reply([frames[0], msgpack.packb(shuffled), *frames[2:]])
    assert again.header == v["header"]


@pytest.mark.parametrize("v", EVENTS, ids=lambda v: v["name"])
def test_event_vector(v: Dict[str, Any]) -> None:
    frames = frames_of(v)
    ev = _codec.decode_event(frames)
    assert ev.to_header() == v["header"]
    assert ev.topic == v["topic"]
    assert ev.error == v["header"].get("error")
    assert _codec.encode_event(ev.topic, ev.to_header()) == frames


# ------------------------------------------------------------ via the API

# Vector name -> the client call that must produce exactly that request.
CALLS = {
    "ping": lambda c: c.ping(),
    "hello": lambda c: c.hello(),
    "stat": lambda c: c.stat("docs/readme.txt"),
    "read": lambda c: c.read("data.bin", 8192, 4096),
    "read_max_id": lambda c: c.read("a", 0, 1),
    "write": lambda c: c.write("logs/x.log", 100, b"hello", create=True, mode=0o600),
    "write_empty_data": lambda c: c.write("empty", 0, bytearray()),
    "append": lambda c: c.append("journal", memoryview(b"line\n"), create=True),
    "readfile": lambda c: c.readfile("config.json"),
    "writefile": lambda c: c.writefile("config.json", b'{"a":1}'),
    "truncate": lambda c: c.truncate("big", 5000000000),
    "fsync": lambda c: c.fsync("journal", datasync=True),
    "unlink": lambda c: c.unlink("old"),
    "rename": lambda c: c.rename("tmp/a", "final/a"),
    "mkdir": lambda c: c.mkdir("a/b/c", parents=True, mode=0o750),
    "rmdir": lambda c: c.rmdir("a/b/c"),
    "listdir": lambda c: c.listdir("", after="m", limit=100),
    "copy": lambda c: c.copy("src.bin", "dst.bin"),
    "read_reserved_fields": lambda c: c.request(
        "read", {"path": "p", "length": 10, "key": "k1", "barrier": True, "link": True,
                 "deadline": 1500, "priority": 7}, volume="photos"),
    "utf8_path": lambda c: c.stat("caf\u00e9/\u65e5\u672c.txt"),
    "batch": lambda c: run_batch(c, lambda b: (
        b.stat("a"), b.write("b", 3, b"xyz", create=True),
        b.request("read", {"path": "c", "length": 4096, "key": "k", "deadline": 50}),
        b.append("d", b""))),
    "stats": lambda c: c.stats(),
    "stats_top": lambda c: c.stats(100),
}

#: The ids a batch vector's client hands out, in the order it takes them:
#: its entries' first, then the batch's tag.
BATCH_IDS = {"batch": [71, 72, 73, 74, 70]}


def run_batch(c: Any, calls: Callable[[Any], Any]) -> None:
    """``calls`` in one batch of ``c``, which takes batches; replies are not
    waited for (they never come)."""
    c.batches = True
    with c.batch() as b:
        calls(b)
        for p in b.calls:
            p._timeout = 0.01


class Captured:
    """Stands in for the socket: records frames, answers with a canned reply."""

    def __init__(self, reply: List[bytes]) -> None:
        self.reply = reply
        self.sent: List[List[bytes]] = []


def offline_client(rid: int, reply_frames: List[bytes]) -> Any:
    c = zaio.Client("ipc:///nonexistent/zaio-vector-test.ipc", timeout=1)
    c._ids = iter([rid])  # type: ignore[assignment]
    cap = Captured(reply_frames)

    def send(frames: List[Any], *a: Any, **k: Any) -> None:
        cap.sent.append([bytes(f) for f in frames])

    def recv(rid: int, *a: Any) -> zaio.Reply:
        return _codec.decode_reply(cap.reply)

    c._send = send  # type: ignore[method-assign]
    c._recv = recv  # type: ignore[method-assign]
    return c, cap


def test_every_request_vector_has_a_call() -> None:
    # A lone call goes as a single request, never as a batch of one.
    assert {v["name"] for v in REQUESTS} == set(CALLS) | {"batch_one_entry"}


@pytest.mark.parametrize("v", [v for v in REQUESTS if v["name"] in CALLS],
                         ids=lambda v: v["name"])
def test_api_builds_request_vector(v: Dict[str, Any]) -> None:
    ok = _codec.encode_reply({"id": v["header"]["id"], "ok": True, "bytes": 0, "eof": True,
                              "offset": 0}, b"" if v["header"]["op"] in ("read", "readfile")
                             else None)
    c, cap = offline_client(v["header"]["id"], ok)
    if v["name"] in BATCH_IDS:
        c._ids = iter(BATCH_IDS[v["name"]])
    try:
        CALLS[v["name"]](c)
    except zaio.BadReply:
        pass  # the canned reply does not fit every op; only the request matters here
    finally:
        c.close()
    assert cap.sent == [frames_of(v)]


# Reply vector name -> (op it answers, expected result or exception class).
RESULTS: Dict[str, Any] = {
    "ping_ok": ("ping", None),
    "error_enoent": ("stat", FileNotFoundError),
    "error_queue_full": ("stat", zaio.QueueFull),
    "error_no_id": ("ping", zaio.BadVersion),
    "stat_ok": ("stat", zaio.Stat(type="file", size=1234, mode=0o644,
                                  mtime_ns=1700000000123456789)),
    "read_ok": ("read", b"hello"),
    "read_empty": ("read", b""),
    "write_ok": ("write", 5),
    "append_ok": ("append", 4294967296),
    "listdir_ok": ("listdir", zaio.Listing(entries=[
        zaio.DirEntry(name="a.txt", type="file", size=3, mtime_ns=1700000000000000000),
        zaio.DirEntry(name="sub", type="dir", size=4096, mtime_ns=-5)], more=False)),
    "listdir_bin_name": ("listdir", zaio.Listing(entries=[
        zaio.DirEntry(name=b"caf\xe9.txt", type="file", size=3, mtime_ns=1700000000000000000),
        zaio.DirEntry(name="d\u00e9j\u00e0", type="dir", size=0, mtime_ns=1700000000000000000)],
        more=True)),
    "hello_ok": ("hello", zaio.Hello(
        protocol=1, version="0.1.0", ops=["ping", "hello", "stat"],
        volumes=[zaio.VolumeInfo(name="default", readonly=False, workers=2)],
        limits=zaio.Limits(header_max=8192, path_max=1024, payload_max=67108864,
                           listdir_max=10000, inflight_max=16384, queue_max=65536,
                           queue_bytes_max=1073741824, reply_hwm=1000))),
    "hello_batch_ok": ("hello", zaio.Hello(
        protocol=1, version="0.1.0", ops=["ping", "hello", "batch"], volumes=[],
        limits=zaio.Limits(header_max=8192, path_max=1024, payload_max=67108864,
                           listdir_max=10000, inflight_max=16384, queue_max=65536,
                           queue_bytes_max=1073741824, reply_hwm=1000, batch_max=1024,
                           batch_bytes_max=1048576))),
    # Reply batches: the op and result of each element, in order.
    "reply_batch": [("stat", zaio.Stat(type="file", size=3, mode=0o644, mtime_ns=5)),
                    ("read", b"hello"), ("write", zaio.QueueFull), ("read", b"")],
    "reply_batch_one": [("ping", None)],
    # stats: the results as a dict, every key but id and ok.
    "stats_ok": ("stats", {k: v for k, v in next(
        r for r in REPLIES if r["name"] == "stats_ok")["header"].items() if k not in ("id", "ok")}),
    "stats_refused": ("stats", PermissionError),
}


def test_every_reply_vector_has_a_result() -> None:
    assert {v["name"] for v in REPLIES} == set(RESULTS)


@pytest.mark.parametrize("v", REPLIES, ids=lambda v: v["name"])
def test_reply_vector_result(v: Dict[str, Any]) -> None:
    if "entries" in v:
        for reply, (op, expected) in zip(_codec.decode_reply_batch(frames_of(v)),
                                         RESULTS[v["name"]]):
            check_result(op, reply, expected)
        return
    op, expected = RESULTS[v["name"]]
    check_result(op, _codec.decode_reply(frames_of(v)), expected)


def check_result(op: str, reply: Any, expected: Any) -> None:
    """The result of ``reply`` to ``op`` is ``expected`` (or raises it)."""
    if isinstance(expected, type) and issubclass(expected, BaseException):
        with pytest.raises(expected) as info:
            _codec.result_of(op, reply, "p")
        assert isinstance(info.value, zaio.Error)
        assert info.value.code == reply.error
        assert info.value.message == reply.message
        return
    got = _codec.result_of(op, reply)
    if op == "read":
        assert isinstance(got, zaio.ReadResult) and got.eof is reply.header["eof"]
        assert isinstance(got.data, memoryview) and got.data == expected
    else:
        assert got == expected


# ------------------------------------------------------------ strict decoding

SIG = _codec.SIGNATURE


@pytest.mark.parametrize("frames", [
    [SIG],
    [SIG, b"\x82\xa2id\x01\xa2ok\xc3", b"", b""],
    [SIG, b"\x92\x01\xc3"],                                    # array
    [SIG, b"\x82\xa2id\x01\xa2ok\xc3\xc0"],                    # trailing byte
    [SIG, b"\x82\xa2id\x01\xa2ok"],                            # truncated
    [SIG, b"\x83\xa2id\x01\xa2ok\xc3\xa2id\x02"],              # duplicate key
    [SIG, b"\x82\x01\x01\xa2ok\xc3"],                          # int key
    [SIG, b"\x81\xa2ok\xc3"],                                  # no id
    [SIG, b"\x82\xa2id\xff\xa2ok\xc3"],                        # negative id
    [SIG, b"\x82\xa2id\x01\xa2ok\x01"],                        # ok not bool
    [SIG, b"\x82\xa2id\x01\xa2ok\xc2"],                        # error without name
    [SIG, b"\x83\xa2id\x01\xa2ok\xc2\xa5error\x01"],           # error name not str
    [SIG, _codec.encode_reply({"id": 1, "ok": False, "error": "EIO"})[1], b"x"],
    [b"ZAIO/2", b"\x82\xa2id\x01\xa2ok\xc3"],                  # foreign signature
    [SIG, b"\xdf\xff\xff\xff\xff"],                            # huge declared map
    [SIG, b"\x83\xa2id\x01\xa2ok\xc2\xa5error\xa2\xff\xfe"],         # not UTF-8
    [SIG, b"\x83\xa2id\x01\xa2ok\xc2\xa5error\xc4\x03EIO"],         # bin, not str
])
def test_bad_replies_are_refused(frames: List[bytes]) -> None:
    with pytest.raises(zaio.BadReply):
        _codec.decode_reply(frames)


def test_foreign_badversion_reply_is_decoded() -> None:
    """A ZAIO/n broker's BADVERSION answer still fails the right request."""
    r = _codec.decode_reply([b"ZAIO/2", _codec.encode_reply(
        {"id": 7, "ok": False, "error": "BADVERSION", "message": "speak ZAIO/2"})[1]])
    assert (r.id, r.error) == (7, "BADVERSION")


def test_unknown_result_fields_are_ignored() -> None:
    frames = _codec.encode_reply({"id": 3, "ok": True, "type": "dir", "size": 0, "mode": 0o755,
                                  "mtime_ns": 1, "future_field": [1, {"x": None}]})
    assert _codec.result_of("stat", _codec.decode_reply(frames)) == zaio.Stat("dir", 0, 0o755, 1)


@pytest.mark.parametrize("op,header,err", [
    ("read", {"id": 1, "ok": True, "bytes": 3, "eof": True}, "no data frame"),
    ("stat", {"id": 1, "ok": True, "type": "file", "size": -1, "mode": 1, "mtime_ns": 1}, "size"),
    ("stat", {"id": 1, "ok": True, "type": "file", "size": 1, "mode": 1}, "mtime_ns"),
    ("listdir", {"id": 1, "ok": True, "entries": [{"name": "a"}], "more": False}, "type"),
    ("append", {"id": 1, "ok": True, "bytes": 1}, "offset"),
])
def test_results_are_checked(op: str, header: Dict[str, Any], err: str) -> None:
    with pytest.raises(zaio.BadReply, match=err):
        _codec.result_of(op, _codec.decode_reply(_codec.encode_reply(header)))


def test_read_reply_bytes_must_match_data() -> None:
    frames = _codec.encode_reply({"id": 1, "ok": True, "bytes": 4, "eof": False}, b"abc")
    with pytest.raises(zaio.BadReply, match="4 bytes"):
        _codec.result_of("read", _codec.decode_reply(frames))


@pytest.mark.parametrize("body,topic", [
    ({"outcome": "ok", "error": "EIO"}, "ok.read.default"),
    ({"outcome": "err"}, "err.read.default"),
    ({"outcome": "maybe"}, "maybe.read.default"),
    ({}, "ok.write.default"),
    ({"seq": -1}, "ok.read.default"),
])
def test_bad_events_are_refused(body: Dict[str, Any], topic: str) -> None:
    good = {"seq": 1, "id": 1, "client": "00", "op": "read", "outcome": "ok", "path": "",
            "volume": "default", "bytes": 0, "queue_us": 0, "service_us": 0, "time_us": 0,
            "worker": ""}
    good.update(body)
    with pytest.raises(zaio.BadReply):
        _codec.decode_event(_codec.encode_event(topic, good))


@pytest.mark.parametrize("header,data,exc", [
    ({"op": "ping"}, None, ValueError),
    ({"id": 0, "op": "ping"}, None, ValueError),
    ({"id": -1, "op": "ping"}, None, TypeError),
    ({"id": 1 << 64, "op": "ping"}, None, TypeError),
    ({"id": 1, "op": "ping", "x": 1}, None, ValueError),
    ({"id": 1, "op": "stat"}, None, ValueError),
    ({"id": 1, "op": "stat", "path": b"a"}, None, TypeError),
    ({"id": 1, "op": "mkdir", "path": "a", "parents": 1}, None, TypeError),
    ({"id": 1, "op": "read", "path": "a", "length": 1, "to": "b"}, None, ValueError),
    ({"id": 1, "op": "write", "path": "a"}, None, ValueError),
    ({"id": 1, "op": "read", "path": "a", "length": 1}, b"x", ValueError),
    ({"id": 1, "op": "stat", "path": "a", "deadline": 1 << 32}, None, TypeError),
    ({"id": 1, "op": "stat", "path": "bad-\udcff-utf8"}, None, ValueError),   # a lone surrogate
])
def test_client_refuses_bad_requests(header: Dict[str, Any], data: Any, exc: type) -> None:
    with pytest.raises(exc):
        _codec.encode_request(header, data)


# ------------------------------------------------------------ live broker

@pytest.fixture
def raw(broker: Any) -> Any:
    ctx = zmq.Context.instance()
    s = ctx.socket(zmq.DEALER)
    s.setsockopt(zmq.LINGER, 0)
    s.connect(broker.tcp)
    yield s
    s.close(linger=0)


def exchange(sock: Any, frames: List[bytes], timeout_ms: int = 10000) -> List[bytes]:
    sock.send_multipart(frames)
    assert sock.poll(timeout_ms), "no reply from the broker"
    return sock.recv_multipart()


@pytest.mark.parametrize("v", INVALID, ids=lambda v: v["name"])
def test_invalid_request_vector_live(v: Dict[str, Any], raw: Any) -> None:
    frames = frames_of(v)
    reply = _codec.decode_reply(exchange(raw, frames))
    assert not reply.ok
    assert reply.error == v["error"], f"{v['name']}: got {reply.error}: {reply.message}"
    assert reply.id == v["reply_id"], f"{v['name']}: id {reply.id}"
    # The broker keeps serving the same connection.
    ping = _codec.decode_reply(exchange(raw, _codec.encode_request({"id": 99, "op": "ping"})))
    assert ping.ok and ping.id == 99


@pytest.mark.parametrize("v", REQUESTS, ids=lambda v: v["name"])
def test_request_vector_live(v: Dict[str, Any], raw: Any) -> None:
    """Each valid vector is accepted: whatever the reply, it is never a
    protocol refusal of the request's form, and it echoes the id. A batch
    gets no reply of its own, one for each entry."""
    if "entries" in v:
        want = {e["header"]["id"] for e in v["entries"]}
        got: List[int] = []
        raw.send_multipart(frames_of(v))
        while len(got) < len(want):
            assert raw.poll(10000), f"no reply from the broker: {got}"
            frames = raw.recv_multipart()
            replies = (_codec.decode_reply_batch(frames) if _codec.is_batch(frames)
                       else [_codec.decode_reply(frames)])
            for r in replies:
                assert not isinstance(r, zaio.BadReply), r
                assert r.ok or r.error not in ("MALFORMED", "BADVERSION", "UNKNOWN_OP"), r
                got.append(r.id)
        assert sorted(got) == sorted(want)
        return
    reply = _codec.decode_reply(exchange(raw, frames_of(v)))
    assert reply.id == v["header"]["id"]
    assert reply.ok or reply.error not in ("MALFORMED", "BADVERSION", "UNKNOWN_OP", "TOOBIG"), (
        reply.error, reply.message)
