"""Size limits the client checks itself, with the broker's own TOOBIG: a
header over the protocol's 8192 bytes (the broker's TOOBIG would carry id
0 and reach no caller), and a payload over the broker's payload_max (past
its transport limit ZeroMQ would drop the connection unanswered), learnt
from hello before the first payload over 64 KiB. And a hello that leaves a
limit out: that limit is unknown, not an error."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Callable, Dict, List

import pytest

import zaio
import zaio.asyncio
from zaio import _codec

from conftest import FakeBroker

KIB = 1024
MIB = 1024 * KIB
LONG_PATH = "p" * 9000


def refusals(c: zaio.Client) -> List[Callable[[], Any]]:
    """Every way of sending an oversized request through ``c``."""
    return [
        lambda: c.stat(LONG_PATH),
        lambda: c.request("stat", {"path": LONG_PATH}),
        lambda: c.writefile("big", bytes(3 * MIB)),
        lambda: c.request("writefile", {"path": "big"}, bytes(3 * MIB)),
        lambda: c.write("big", 0, bytearray(3 * MIB), create=True),
        lambda: c.append("big", memoryview(bytes(3 * MIB)), create=True),
    ]


@pytest.mark.parametrize("index", range(6))
def test_too_big_is_refused_at_once(start_broker, index: int) -> None:
    b = start_broker("--payload-max", str(MIB))
    with zaio.Client(b.ipc, timeout=3) as c:   # a new client: limits unknown
        t0 = time.monotonic()
        with pytest.raises(zaio.TooBig) as info:
            refusals(c)[index]()
        assert time.monotonic() - t0 < 1
        assert type(info.value) is zaio.TooBig and info.value.code == "TOOBIG"
        assert "checked by the client" in info.value.message
        # The broker's own TOOBIG, for comparison: the same class and code.
        with pytest.raises(zaio.TooBig) as broker_said:
            c.read("x", 0, MIB + 1)
        assert broker_said.value.code == info.value.code
        assert "checked by the client" not in broker_said.value.message
        c.ping()
        assert not b.path("big").exists()


def test_too_big_is_refused_at_once_asyncio(start_broker) -> None:
    b = start_broker("--payload-max", str(MIB))

    async def main() -> None:
        async with zaio.asyncio.Client(b.ipc, timeout=3) as c:
            t0 = time.monotonic()
            calls = [c.stat(LONG_PATH), c.request("stat", {"path": LONG_PATH}),
                     c.writefile("big", bytes(3 * MIB)),
                     c.request("writefile", {"path": "big"}, bytes(3 * MIB))]
            res = await asyncio.gather(*calls, return_exceptions=True)
            assert time.monotonic() - t0 < 1
            assert all(type(r) is zaio.TooBig and r.code == "TOOBIG" for r in res), res
            assert c.limits is not None and c.limits.payload_max == MIB
            assert await c.writefile("ok", bytes(MIB)) == MIB

    asyncio.run(main())


def test_header_at_the_limit_is_sent(broker) -> None:
    """8192 bytes exactly is allowed: the broker answers it (path too long)."""
    def size(path: str, rid: int) -> int:
        return len(_codec.encode_request({"id": rid, "op": "stat", "path": path})[1])

    path = "q" * (_codec.HEADER_MAX - size("q" * 300, 1) + 300)
    assert size(path, 1) == size(path + "q", 2) - 1 == 8192
    with zaio.Client(broker.ipc, timeout=10) as c:   # a new client: ids 1, 2...
        with pytest.raises(zaio.PosixError) as info:
            c.stat(path)
        assert info.value.code == "ENAMETOOLONG"
        with pytest.raises(zaio.TooBig):
            c.stat(path + "q")


def test_small_payload_is_left_to_the_broker(start_broker) -> None:
    """Up to 64 KiB a payload is always under the broker's transport limit:
    it is sent without asking hello, and the broker answers TOOBIG."""
    b = start_broker("--payload-max", "1000")
    with zaio.Client(b.ipc, timeout=3) as c:
        with pytest.raises(zaio.TooBig) as info:
            c.writefile("f", bytes(64 * KIB))
        assert "checked by the client" not in info.value.message and c.limits is None
        with pytest.raises(zaio.TooBig) as info:
            c.writefile("f", bytes(64 * KIB + 1))
        assert "checked by the client" in info.value.message
        assert c.limits is not None and c.limits.payload_max == 1000


def test_limits_hello_names_the_calls_volume(broker) -> None:
    """The hello a big payload asks first names the volume the call names,
    not the client's default: a default volume the broker does not know
    fails only the calls that use it (hello naming a volume is answered
    NOVOLUME like any op)."""
    with zaio.Client(broker.ipc, timeout=10, volume="no-such-volume") as c:
        assert c.writefile("big-elsewhere", bytes(65 * KIB), volume="default") == 65 * KIB
        assert c.limits is not None
    with zaio.Client(broker.ipc, timeout=10, volume="no-such-volume") as c:
        with pytest.raises(zaio.NoVolume):
            c.writefile("big-nowhere", bytes(65 * KIB))

    async def main() -> None:
        async with zaio.asyncio.Client(broker.ipc, timeout=10, volume="no-such-volume") as c:
            assert await c.writefile("big-elsewhere", bytes(65 * KIB),
                                     volume="default") == 65 * KIB

    asyncio.run(main())


HELLO: Dict[str, Any] = {
    "protocol": 1, "version": "9.9.9", "ops": ["ping", "hello", "writefile"], "volumes": [],
    "limits": {"header_max": 8192, "path_max": 1024, "payload_max": 1000, "listdir_max": 1000,
               "inflight_max": 10, "queue_max": 100}}


@pytest.mark.parametrize("missing", sorted(HELLO["limits"]))
def test_hello_without_a_limit(missing: str) -> None:
    limits = {k: v for k, v in HELLO["limits"].items() if k != missing}
    reply = _codec.decode_reply(_codec.encode_reply({"id": 1, "ok": True, **HELLO,
                                                     "limits": limits}))
    got = _codec.result_of("hello", reply).limits
    assert getattr(got, missing) is None
    assert got.queue_bytes_max is None and got.reply_hwm is None
    for k, v in limits.items():
        assert getattr(got, k) == v


def test_unknown_payload_limit_is_left_to_the_broker(fake_broker) -> None:
    """A broker whose hello leaves payload_max out: a big payload is sent."""
    limits = {k: v for k, v in HELLO["limits"].items() if k != "payload_max"}

    def answer(header: Dict[str, Any]) -> List[List[bytes]]:
        result = ({**HELLO, "limits": limits} if header["op"] == "hello" else {"bytes": 7})
        return [_codec.encode_reply({"id": header["id"], "ok": True, **result})]

    fake: FakeBroker = fake_broker(answer)
    with zaio.Client(fake.endpoint, timeout=3) as c:
        assert c.writefile("f", bytes(MIB)) == 7
        assert c.limits is not None and c.limits.payload_max is None
    assert [r["op"] for r in fake.requests] == ["hello", "writefile"]
