"""A 64 MiB payload (the default payload limit) round trip, blocking and
asyncio: writefile, then readfile and read, checked against the disk; and
the limit itself, checked by the client before anything is sent."""

from __future__ import annotations

import asyncio
import hashlib
import os

import pytest
import zmq

import zaio
import zaio.asyncio

MIB = 1024 * 1024
SIZE = 64 * MIB


@pytest.fixture(scope="module")
def payload() -> bytes:
    # Random enough that a misplaced block is caught, cheap to make.
    block = os.urandom(MIB)
    return b"".join(bytes([i]) + block[1:] for i in range(64))


def test_64mib_sync(client: zaio.Client, broker, tdir: str, payload: bytes) -> None:
    path = f"{tdir}/big"
    assert client.writefile(path, memoryview(payload), timeout=60) == SIZE
    assert hashlib.sha256(broker.path(path).read_bytes()).digest() == \
        hashlib.sha256(payload).digest()
    got = client.readfile(path, timeout=60)
    assert isinstance(got, memoryview) and len(got) == SIZE and got == payload
    assert isinstance(got.obj, zmq.Frame)         # a view of the received frame: no copy
    r = client.read_result(path, 0, SIZE, timeout=60)
    assert r.eof and r.data == payload
    tail = client.read(path, SIZE - 3 * MIB - 5, 4 * MIB)
    assert tail == payload[SIZE - 3 * MIB - 5:]
    # A write from a bytearray at an offset, a big append.
    assert client.write(path, 10 * MIB, bytearray(payload[:MIB])) == MIB
    assert client.read(path, 10 * MIB, MIB) == payload[:MIB]


def test_64mib_asyncio(broker, tdir: str, payload: bytes) -> None:
    path = f"{tdir}/big"

    async def main() -> None:
        async with zaio.asyncio.Client(broker.ipc, timeout=60) as c:
            assert await c.writefile(path, payload) == SIZE
            got, part = await asyncio.gather(c.readfile(path), c.read(path, 5 * MIB, 7 * MIB))
            assert got == payload and part == payload[5 * MIB:12 * MIB]
            # Eight 8 MiB reads in flight together cover the file.
            parts = await asyncio.gather(*(c.read(path, i * 8 * MIB, 8 * MIB) for i in range(8)))
            assert b"".join(parts) == payload

    asyncio.run(main())
    assert broker.path(path).stat().st_size == SIZE


def test_payload_over_limit_is_refused(client: zaio.Client, broker, tdir: str) -> None:
    """Over the limit the broker would answer TOOBIG, or (past the limit plus
    64 KiB) ZeroMQ would drop the connection; the client checks first."""
    big = bytearray(SIZE + 1)
    client.limits = None
    with pytest.raises(zaio.TooBig) as info:
        client.writefile(f"{tdir}/too-big", big)
    assert client.limits is not None              # it asked hello for the limit
    assert "client" in info.value.message
    assert not broker.path(f"{tdir}/too-big").exists()
    client.ping()


def test_payload_limit_from_broker(start_broker) -> None:
    b = start_broker("--payload-max", str(MIB))
    with zaio.Client(b.ipc, timeout=10) as c:
        # Over 64 KiB with the limit unknown: the client asks hello first.
        with pytest.raises(zaio.TooBig) as info:
            c.writefile("f", bytes(MIB + 1))
        assert "client" in info.value.message
        assert c.limits is not None and c.limits.payload_max == MIB
        assert c.writefile("f", bytes(MIB)) == MIB
        with pytest.raises(zaio.TooBig) as info:
            c.read("f", 0, MIB + 1)               # a read's length: the broker's check
        assert "client" not in info.value.message
        b.path("big").write_bytes(bytes(MIB + 1))
        with pytest.raises(zaio.PosixError) as info2:
            c.readfile("big")
        assert info2.value.code == "EFBIG"
