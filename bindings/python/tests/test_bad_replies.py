"""Hostile replies and events: values nested deeper than repr() can go, or
deeper than msgpack will decode, are refused with BadReply like any other
bad input; the clients drop them or fail only their own call, and carry on.
And if the asyncio receive loop ever fails anyway, the client closes, so
calls fail at once instead of hanging."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Dict, List

import msgpack
import pytest
import zmq

import zaio
import zaio.asyncio
from zaio import _codec

from conftest import FakeBroker

SIG = _codec.SIGNATURE
#: [[[...[0]...]]] 1,000 deep: msgpack decodes it, repr() would recurse too far.
DEEP = b"\x91" * 1000 + b"\x00"
#: 5,000 deep: past msgpack's own nesting limit.
DEEPER = b"\x91" * 5000 + b"\x00"

STAT = {"type": "file", "size": 1, "mode": 0o644, "mtime_ns": 0}
EVENT = {"seq": 1, "id": 1, "client": "c", "op": "ping", "outcome": "ok", "path": "",
         "volume": "default", "bytes": 0, "queue_us": 0, "service_us": 0, "time_us": 0,
         "worker": "w"}


def raw_map(fields: Dict[str, Any]) -> bytes:
    """A msgpack map of these values; bytes values are taken as already
    encoded (msgpack itself refuses to pack the deep ones)."""
    assert len(fields) < 16
    return bytes([0x80 | len(fields)]) + b"".join(
        msgpack.packb(k) + (v if isinstance(v, bytes) else msgpack.packb(v))
        for k, v in fields.items())


@pytest.mark.parametrize("deep", [DEEP, DEEPER], ids=["1000", "5000"])
@pytest.mark.parametrize("where", ["id", "ok", "error"])
def test_deep_reply_is_bad_reply(deep: bytes, where: str) -> None:
    fields: Dict[str, Any] = {"id": 1, "ok": False, "error": "EIO"}
    fields[where] = deep
    with pytest.raises(zaio.BadReply) as info:
        _codec.decode_reply([SIG, raw_map(fields)])
    assert len(str(info.value)) < 200


def test_deep_result_field_is_bad_reply() -> None:
    reply = _codec.decode_reply([SIG, raw_map({"id": 1, "ok": True, **STAT, "type": DEEP})])
    with pytest.raises(zaio.BadReply, match="'type' is not str"):
        _codec.result_of("stat", reply)


def test_deep_event_is_bad_reply() -> None:
    good = _codec.encode_event("ok.ping.default", EVENT)
    _codec.decode_event(good)
    with pytest.raises(zaio.BadReply):
        _codec.decode_event([good[0], SIG, raw_map({**EVENT, "client": DEEP})])


def answer(header: Dict[str, Any]) -> List[List[bytes]]:
    """Path "deep-id": a reply whose id is too deep (nobody's: dropped),
    then the real one. Path "deep-type": a stat result too deep (BadReply)."""
    rid = header["id"]
    good = _codec.encode_reply({"id": rid, "ok": True, **STAT} if header["op"] == "stat"
                               else {"id": rid, "ok": True})
    path = header.get("path")
    if path == "deep-id":
        return [[SIG, raw_map({"id": DEEP, "ok": True})],
                [SIG, raw_map({"id": DEEPER, "ok": True})], good]
    if path == "deep-type":
        return [[SIG, raw_map({"id": rid, "ok": True, **STAT, "type": DEEP})]]
    return [good]


def test_blocking_client_survives_deep_replies(fake_broker) -> None:
    fake: FakeBroker = fake_broker(answer)
    with zaio.Client(fake.endpoint, timeout=2) as c:
        assert c.stat("deep-id").size == 1
        with pytest.raises(zaio.BadReply) as info:
            c.stat("deep-type")
        assert (info.value.op, info.value.path) == ("stat", "deep-type")
        c.ping()


def test_asyncio_client_survives_deep_replies(fake_broker) -> None:
    fake: FakeBroker = fake_broker(answer)

    async def main() -> None:
        async with zaio.asyncio.Client(fake.endpoint, timeout=2) as c:
            assert (await c.stat("deep-id")).size == 1
            with pytest.raises(zaio.BadReply):
                await c.stat("deep-type")
            await c.ping()
            assert c.inflight == 0

    asyncio.run(main())


def test_event_stream_drops_deep_events() -> None:
    pub: zmq.Socket = zmq.Context.instance().socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.bind("tcp://127.0.0.1:*")
    good = _codec.encode_event("ok.ping.default", EVENT)
    bad = [good[0], SIG, raw_map({**EVENT, "client": DEEP})]
    try:
        with zaio.EventStream(pub.getsockopt_string(zmq.LAST_ENDPOINT)) as stream:
            deadline = time.monotonic() + 5
            while True:  # until the subscription has reached the PUB socket
                pub.send_multipart(bad)
                pub.send_multipart(good)
                try:
                    ev = stream.recv(timeout=0.05)
                    break
                except zaio.Timeout:
                    assert time.monotonic() < deadline
            assert ev.client == "c" and stream.malformed >= 1
    finally:
        pub.close()


def test_receive_loop_failure_closes_the_client(fake_broker, monkeypatch) -> None:
    """Not a hostile reply but a bug or a zmq failure in the receive loop:
    the pending call and every later one fail at once with Closed."""
    def slow(header: Dict[str, Any]) -> List[List[bytes]]:
        time.sleep(0.05)  # the reply reaches the receive loop, not the sender's drain
        return [_codec.encode_reply({"id": header["id"], "ok": True})]

    fake: FakeBroker = fake_broker(slow)

    def broken(frames: Any) -> Any:
        raise RuntimeError("decoder bug")

    async def main() -> None:
        c = zaio.asyncio.Client(fake.endpoint, timeout=2)
        await c.ping()
        monkeypatch.setattr(_codec, "decode_reply", broken)
        with pytest.raises(zaio.Closed, match="receive loop failed"):
            await c.ping()
        monkeypatch.undo()
        t0 = time.monotonic()
        with pytest.raises(zaio.Closed):
            await c.ping()
        assert time.monotonic() - t0 < 0.5
        await c.aclose()

    asyncio.run(main())
