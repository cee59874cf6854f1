"""Batches (issue 20, the ``batch`` op): the codec's request and reply
batches; ``client.batch()`` in both clients and the asyncio client's
coalescing, against a scripted broker (one wire message for the calls of
one turn, singles when hello lists no ``batch``, a refused batch, a reply
batch that breaks the protocol) and against the real broker (10,000 mixed
calls each answered once, valid and invalid entries mixed, ordering inside
and across batches, QUEUE_FULL for the entries over ``inflight_max``)."""

from __future__ import annotations

import asyncio
from typing import Any, Callable, Dict, List

import pytest

import zaio
import zaio.asyncio
from zaio import _codec

from conftest import FakeBroker

SIG = _codec.SIGNATURE
HELLO = {"protocol": 1, "version": "0.1.0", "ops": ["ping", "hello", "stat", "read", "batch"],
         "volumes": [{"name": "default", "readonly": False, "workers": 1}],
         "limits": {"header_max": 8192, "path_max": 1024, "payload_max": 1 << 20,
                    "listdir_max": 1000, "inflight_max": 1000, "queue_max": 1000,
                    "batch_max": 4, "batch_bytes_max": 1 << 20}}
STAT = {"type": "file", "size": 3, "mode": 0o644, "mtime_ns": 0}


def scripted(ops: List[str]) -> Callable[[Dict[str, Any]], List[List[bytes]]]:
    """A broker that lists ``ops`` in its hello and answers stat, read
    ("abc") and ping; but not a request for path "silent", and the first
    for path "busy" with QUEUE_FULL."""
    busy = [0]

    def answer(h: Dict[str, Any]) -> List[List[bytes]]:
        rid = h["id"]
        if h.get("path") == "silent":
            return []
        if h.get("path") == "busy" and not busy[0]:
            busy[0] += 1
            return [_codec.encode_reply({"id": rid, "ok": False, "error": "QUEUE_FULL"})]
        if h["op"] == "hello":
            return [_codec.encode_reply({"id": rid, "ok": True, **HELLO, "ops": ops})]
        if h["op"] == "stat":
            return [_codec.encode_reply({"id": rid, "ok": True, **STAT})]
        if h["op"] == "read":
            return [_codec.encode_reply({"id": rid, "ok": True, "bytes": 3, "eof": True}, b"abc")]
        return [_codec.encode_reply({"id": rid, "ok": True})]
    return answer


def run(coro: Any) -> Any:
    return asyncio.run(coro)


# ------------------------------------------------------------ codec

def test_request_batch_round_trip() -> None:
    heads = [_codec.encode_request({"id": 1, "op": "ping"})[1],
             _codec.encode_request({"id": 2, "op": "write", "path": "a"}, b"xy")[1]]
    frames = _codec.encode_batch(9, [(heads[0], None), (heads[1], b"xy")])
    assert frames[1] == b"\x82\xa2id\x09\xa2op\xa5batch"
    assert frames[2][:2] == b"\x92\x92"   # 2 entries, each a pair
    bid, entries = _codec.decode_batch(frames)
    assert bid == 9 and [h["id"] for h, _ in entries] == [1, 2]
    assert entries[0][1] is None and bytes(entries[1][1]) == b"xy"


def test_python_and_node_encode_a_batch_alike() -> None:
    """The bytes bindings/node/test/batch.test.js checks too."""
    h = _codec.encode_request({"id": 1, "op": "ping"})[1]
    frames = _codec.encode_batch(5, [(h, None), (h, None)])
    assert frames[2].hex() == "9292c40d" + h.hex() + "c292c40d" + h.hex() + "c2"


def test_reply_batch_round_trip() -> None:
    frames = _codec.encode_reply_batch([({"id": 1, "ok": True}, None),
                                        ({"id": 2, "ok": True, "bytes": 3, "eof": True}, b"abc"),
                                        ({"id": 3, "ok": False, "error": "ENOENT",
                                          "message": "no"}, None)])
    assert _codec.is_batch(frames)
    assert not _codec.is_batch(_codec.encode_reply({"id": 1, "ok": True}))
    got = _codec.decode_reply_batch(frames)
    assert [r.id for r in got] == [1, 2, 3]
    assert bytes(got[1].data) == b"abc" and got[2].error == "ENOENT"


GOOD = _codec.encode_reply({"id": 5, "ok": True})[1]


@pytest.mark.parametrize("frames", [
    [SIG, b"\x90"],                                          # empty
    [SIG, b"\x91\xc4\x01\x00"],                              # element not a pair
    [SIG, b"\x91\x93\xc4\x01\x00\xc2\xc2"],                  # a triple
    [SIG, b"\x91\x92\xa1x\xc2"],                             # str, not bin
    [SIG, b"\x91\x92" + _codec._pack(GOOD) + b"\x01"],      # flag not bool
    [SIG, b"\x91\x92" + _codec._pack(GOOD) + b"\xc3"],      # flag without its frame
    [SIG, b"\x91\x92" + _codec._pack(GOOD) + b"\xc2", b"x"],  # frame without a flag
    [SIG, b"\x91\x92" + _codec._pack(GOOD) + b"\xc2\xc0"],  # trailing byte
    [SIG, b"\x92\x92" + _codec._pack(GOOD) + b"\xc2"],      # cut short
    [b"ZAIO/2", b"\x91\x92" + _codec._pack(GOOD) + b"\xc2"],
])
def test_bad_reply_batches_are_refused(frames: List[bytes]) -> None:
    with pytest.raises(zaio.BadReply):
        _codec.decode_reply_batch(frames)


def test_bad_element_fails_alone() -> None:
    bad = _codec._pack(b"\x82\xa2id\x06\xa2ok\x01")   # ok not bool
    got = _codec.decode_reply_batch([SIG, b"\x92\x92" + _codec._pack(GOOD) + b"\xc2\x92" + bad
                                     + b"\xc2"])
    assert got[0].ok and got[0].id == 5
    assert isinstance(got[1], zaio.BadReply) and got[1].id == 6


def test_groups_follow_the_limits() -> None:
    c = zaio.Client("ipc:///nonexistent/zaio-batch.ipc")
    try:
        c.limits = zaio.Limits(header_max=8192, path_max=1024, payload_max=1, listdir_max=1,
                               inflight_max=1, queue_max=1, batch_max=3, batch_bytes_max=50)
        heads = [(b"x" * 10, None)] * 7
        assert c._groups(heads) == [[0, 1, 2], [3, 4, 5], [6]]
        c.limits = zaio.Limits(header_max=8192, path_max=1024, payload_max=1, listdir_max=1,
                               inflight_max=1, queue_max=1, batch_max=100, batch_bytes_max=40)
        assert c._groups(heads) == [[0, 1], [2, 3], [4, 5], [6]]
    finally:
        c.close()


# ------------------------------------------------------------ scripted broker

def test_coalescing_sends_one_wire_batch(fake_broker: Callable[..., FakeBroker]) -> None:
    fake = fake_broker(scripted(HELLO["ops"]))

    async def main() -> None:
        async with zaio.asyncio.Client(fake.endpoint, timeout=5) as c:
            await c.hello()
            fake.messages.clear()
            got = await asyncio.gather(c.stat("a"), c.read("b", 0, 3), c.ping(), c.stat("c"))
            assert got[0].size == 3 and got[1] == b"abc" and got[2] is None
            assert fake.messages == [4], fake.messages
            # Over batch_max (4): split in order.
            fake.messages.clear()
            await asyncio.gather(*(c.ping() for _ in range(10)))
            assert fake.messages == [4, 4, 2]
            # A lone call goes alone.
            fake.messages.clear()
            await c.ping()
            assert fake.messages == [1]
    run(main())


def test_no_batch_op_sends_singles(fake_broker: Callable[..., FakeBroker]) -> None:
    fake = fake_broker(scripted(["ping", "hello", "stat", "read"]))

    async def main() -> None:
        async with zaio.asyncio.Client(fake.endpoint, timeout=5) as c:
            await c.hello()
            assert c.batches is False
            fake.messages.clear()
            await asyncio.gather(*(c.ping() for _ in range(5)))
            async with c.batch() as b:
                t = b.stat("x")
            assert t.result().size == 3
            assert fake.messages == [1] * 6
    run(main())
    with zaio.Client(fake.endpoint, timeout=5) as c:
        fake.messages.clear()
        with c.batch() as b:
            calls = [b.ping() for _ in range(3)]
        assert [p.result() for p in calls] == [None] * 3
        assert fake.messages == [1, 1, 1, 1]   # its hello, then singles


def test_coalescing_off(fake_broker: Callable[..., FakeBroker]) -> None:
    fake = fake_broker(scripted(HELLO["ops"]))

    async def main() -> None:
        async with zaio.asyncio.Client(fake.endpoint, timeout=5, coalesce=False) as c:
            await c.hello()
            fake.messages.clear()
            await asyncio.gather(*(c.ping() for _ in range(3)))
            assert fake.messages == [1, 1, 1]
            async with c.batch() as b:       # explicit batches still batch
                for _ in range(3):
                    b.ping()
            assert fake.messages == [1, 1, 1, 3]
    run(main())


def test_sync_batch(fake_broker: Callable[..., FakeBroker]) -> None:
    fake = fake_broker(scripted(HELLO["ops"]))
    with zaio.Client(fake.endpoint, timeout=5) as c:
        with c.batch() as b:
            st = b.stat("a")
            rd = b.read("b", 0, 3)
            raw = b.request("ping")
            more = [b.ping() for _ in range(3)]
        assert st.result().size == 3 and bytes(rd.result()) == b"abc"
        assert raw.result().ok and all(p.result() is None for p in more)
        assert fake.messages == [1, 4, 2]   # hello, then batch_max 4
        with pytest.raises(zaio.ClientError):
            c.batch().ping().result()


def test_timeouts_and_retries_per_call(fake_broker: Callable[..., FakeBroker]) -> None:
    """In one batch, a call nobody answers times out on its own timeout, a
    call told QUEUE_FULL is sent again, and the rest return."""
    fake = fake_broker(scripted(HELLO["ops"]))

    async def main() -> None:
        async with zaio.asyncio.Client(fake.endpoint, timeout=5) as c:
            await c.hello()
            async with c.batch() as b:
                lost = b.stat("silent", timeout=0.2)
                busy = b.stat("busy")
                ok = b.stat("a")
            assert isinstance(lost.exception(), zaio.Timeout)
            assert busy.result().size == 3 and ok.result().size == 3
    run(main())
    fake.answer = scripted(HELLO["ops"])
    with zaio.Client(fake.endpoint, timeout=5) as c:
        with c.batch() as b:
            lost = b.stat("silent", timeout=0.2)
            busy = b.stat("busy")
            ok = b.stat("a")
        assert isinstance(lost.error, zaio.Timeout)
        assert busy.result().size == 3 and ok.result().size == 3


def test_refused_batch_fails_every_entry(fake_broker: Callable[..., FakeBroker]) -> None:
    """A whole-batch refusal ({id: B, ok: false}) is every entry's error."""
    fake = fake_broker(scripted(HELLO["ops"]))

    def serve_refusal(frames: List[bytes]) -> List[bytes]:
        bid, _ = _codec.decode_batch(frames)
        return _codec.encode_reply({"id": bid, "ok": False, "error": "MALFORMED",
                                    "message": "refused"})
    fake.batch_reply = serve_refusal

    async def main() -> None:
        async with zaio.asyncio.Client(fake.endpoint, timeout=5) as c:
            await c.hello()
            got = await asyncio.gather(c.ping(), c.ping(), return_exceptions=True)
            assert all(isinstance(g, zaio.Malformed) for g in got), got
            assert not c._tags
    run(main())
    with zaio.Client(fake.endpoint, timeout=5) as c:
        with c.batch() as b:
            calls = [b.ping(), b.ping()]
        for p in calls:
            with pytest.raises(zaio.Malformed):
                p.result()


def test_bad_reply_batch_fails_its_calls(fake_broker: Callable[..., FakeBroker]) -> None:
    """A reply batch that breaks the protocol fails the calls whose ids
    can be read in it with BadReply, at once."""
    fake = fake_broker(scripted(HELLO["ops"]))

    def serve_bad(frames: List[bytes]) -> List[bytes]:
        _, entries = _codec.decode_batch(frames)
        heads = b"".join(b"\x92" + _codec._pack(_codec.encode_reply({"id": h["id"], "ok": True})[1])
                         + b"\xc3" for h, _ in entries)   # flags with no data frames
        return [SIG, bytes([0x90 | len(entries)]) + heads]
    fake.batch_reply = serve_bad

    async def main() -> None:
        async with zaio.asyncio.Client(fake.endpoint, timeout=5) as c:
            await c.hello()
            got = await asyncio.gather(c.ping(), c.ping(), return_exceptions=True)
            assert all(isinstance(g, zaio.BadReply) for g in got), got
    run(main())


# ------------------------------------------------------------ real broker

def needs_batch(hello: zaio.Hello) -> None:
    assert "batch" in hello.ops, "this broker has no batch op (issue 20's broker step)"


def test_10000_mixed_ops(broker, tdir: str) -> None:
    """10,000 calls of mixed ops through client.batch(): each answered once,
    with its own result; the file holds every write."""
    n = 10000

    async def main() -> None:
        async with zaio.asyncio.Client(broker.ipc, timeout=60, max_inflight=4000) as c:
            needs_batch(await c.hello())
            await c.writefile(f"{tdir}/seed", b"seed")
            async with c.batch() as b:
                tasks = []
                for i in range(n):
                    kind = i % 4
                    if kind == 0:
                        tasks.append(b.write(f"{tdir}/out", (i // 4) * 8, b"%08d" % (i // 4),
                                             create=True))
                    elif kind == 1:
                        tasks.append(b.read(f"{tdir}/seed", 0, 4))
                    elif kind == 2:
                        tasks.append(b.stat(f"{tdir}/seed"))
                    else:
                        tasks.append(b.ping())
            for i, t in enumerate(tasks):
                r = t.result()
                assert r == [8, b"seed", None, None][i % 4] or (i % 4 == 2 and r.size == 4)
            assert c.inflight == 0
        assert broker.path(f"{tdir}/out").read_bytes() == b"".join(
            b"%08d" % k for k in range(n // 4))
    run(main())


def test_10000_mixed_ops_sync(broker, tdir: str) -> None:
    with zaio.Client(broker.ipc, timeout=60) as c:
        needs_batch(c.hello())
        c.writefile(f"{tdir}/seed", b"seed")
        with c.batch() as b:
            calls = [b.read(f"{tdir}/seed", 0, 4) if i % 2 else
                     b.write(f"{tdir}/out", (i // 2) * 8, b"%08d" % (i // 2), create=True)
                     for i in range(10000)]
        assert all(bytes(p.result()) == b"seed" if i % 2 else p.result() == 8
                   for i, p in enumerate(calls))
    assert broker.path(f"{tdir}/out").stat().st_size == 5000 * 8


def test_valid_and_invalid_entries(broker, tdir: str) -> None:
    """Bad entries fail alone; the good ones around them run."""
    async def main() -> None:
        async with zaio.asyncio.Client(broker.ipc, timeout=20) as c:
            needs_batch(await c.hello())
            await c.writefile(f"{tdir}/f", b"abc")
            async with c.batch() as b:
                ok1 = b.stat(f"{tdir}/f")
                missing = b.stat(f"{tdir}/nope")
                escape = b.stat("../outside")
                unknown = b.request("frobnicate", {"path": "x"})
                too_long = b.read(f"{tdir}/f", 0, 1 << 40)
                ok2 = b.read(f"{tdir}/f", 0, 3)
            assert ok1.result().size == 3 and ok2.result() == b"abc"
            with pytest.raises(FileNotFoundError):
                missing.result()
            assert isinstance(escape.exception(), zaio.Error)
            assert isinstance(unknown.exception(), zaio.UnknownOp)
            assert isinstance(too_long.exception(), zaio.TooBig)
    run(main())


def test_ordering_inside_and_across_batches(broker, tdir: str) -> None:
    """Appends with one key land in order, inside a batch and across
    batches and single calls; a barrier waits for what came before."""
    async def main() -> None:
        async with zaio.asyncio.Client(broker.ipc, timeout=20) as c:
            needs_batch(await c.hello())
            path = f"{tdir}/log"
            for round_ in range(3):
                async with c.batch() as b:
                    for i in range(50):
                        b.request("append", {"path": path, "create": True, "key": "k"},
                                  b"%d.%02d," % (round_, i))
                await c.request("append", {"path": path, "key": "k"}, b"|")
            async with c.batch() as b:
                size = b.request("stat", {"path": path, "key": "k", "barrier": True})
            want = b"".join(b"".join(b"%d.%02d," % (r, i) for i in range(50)) + b"|"
                            for r in range(3))
            assert size.result().header["size"] == len(want)
        assert broker.path(f"{tdir}/log").read_bytes() == want
    run(main())


def test_over_inflight_max(start_broker) -> None:
    """Entries past the broker's inflight_max get QUEUE_FULL (not retried
    here); the rest run."""
    b = start_broker("--workers", "1", "--inflight-max", "8")

    async def main() -> None:
        async with zaio.asyncio.Client(b.ipc, timeout=20, queue_full_retries=0,
                                       max_inflight=100) as c:
            needs_batch(await c.hello())
            await c.writefile("f", b"x" * 4096)
            async with c.batch() as bt:
                tasks = [bt.read("f", 0, 4096) for _ in range(40)]
            full = [t for t in tasks if isinstance(t.exception(), zaio.QueueFull)]
            done = [t for t in tasks if t.exception() is None]
            assert full and done and len(full) + len(done) == 40
            assert all(t.result() == b"x" * 4096 for t in done)
    run(main())
