"""Completion events from a real broker: prefix filters, the fields of each
event, seq gaps, blocking and asyncio streams."""

from __future__ import annotations

import asyncio
import time
from typing import List

import pytest

import zaio
import zaio.asyncio


def drain(stream: zaio.EventStream, quiet: float = 0.2) -> List[zaio.Event]:
    out = []
    while True:
        try:
            out.append(stream.recv(timeout=quiet))
        except zaio.Timeout:
            return out


def test_prefix_filter_err(client: zaio.Client, broker, tdir: str) -> None:
    with client.events("err.") as errors:
        assert errors.gap is None                     # filtered: gaps are expected
        drain(errors)
        client.writefile(f"{tdir}/ok", b"12345")       # ok.*: not delivered
        with pytest.raises(FileNotFoundError) as info:
            client.request("stat", {"path": f"{tdir}/missing"})
        ev = errors.recv(timeout=5)
        assert ev.topic == "err.stat.default" and ev.outcome == "err" and not ev.ok
        assert (ev.op, ev.path, ev.volume, ev.error, ev.id) == (
            "stat", f"{tdir}/missing", "default", "ENOENT", info.value.id)
        assert ev.bytes == 0 and ev.seq >= 1 and ev.client and ev.time_us > 0
        assert drain(errors) == []


def test_prefix_filter_ok_write(client: zaio.Client, broker, tdir: str) -> None:
    with client.events(["ok.writefile.", "ok.write."]) as writes:
        drain(writes)
        client.writefile(f"{tdir}/a", b"abc")
        client.readfile(f"{tdir}/a")
        client.write(f"{tdir}/a", 1, b"ZZZZ")
        with pytest.raises(FileNotFoundError):
            client.write(f"{tdir}/nope", 0, b"x")     # err.write: not delivered
        evs = [writes.recv(timeout=5), writes.recv(timeout=5)]
        assert [(e.topic, e.bytes, e.path) for e in evs] == [
            ("ok.writefile.default", 3, f"{tdir}/a"), ("ok.write.default", 4, f"{tdir}/a")]
        assert all(e.error is None and e.worker for e in evs)
        assert drain(writes) == []


def test_every_event_and_seq(client: zaio.Client, broker, tdir: str) -> None:
    with client.events("", timeout=5) as stream:
        assert stream.gap == 0
        drain(stream)
        client.writefile(f"{tdir}/f", b"x" * 100)
        client.read(f"{tdir}/f", 10, 50)
        with pytest.raises(zaio.NoVolume):
            client.ping(volume="nope")
        evs = [stream.recv() for _ in range(3)]
        assert [e.topic for e in evs] == ["ok.writefile.default", "ok.read.default",
                                          "err.ping.nope"]
        assert [e.bytes for e in evs[:2]] == [100, 50]
        assert evs[2].error == "NOVOLUME" and evs[2].path == ""
        assert [e.seq - evs[0].seq for e in evs] == [0, 1, 2]   # consecutive, no gap
        assert stream.gap == 0 and stream.last_seq == evs[2].seq
        assert len({e.client for e in evs}) == 1
        assert all(e.queue_us >= 0 and e.service_us >= 0 for e in evs)


def test_events_need_endpoint(broker) -> None:
    with zaio.Client(broker.ipc) as c, pytest.raises(ValueError):
        c.events()


def test_event_stream_timeout(broker) -> None:
    with zaio.Client(broker.ipc, events=broker.events, timeout=5) as c:
        with c.events("err.no-such-op.", timeout=0.2) as s:
            t0 = time.monotonic()
            with pytest.raises(zaio.Timeout):
                next(iter(s))
            assert time.monotonic() - t0 < 3


def test_asyncio_events(broker, tdir: str) -> None:
    async def main() -> None:
        async with zaio.asyncio.Client(broker.ipc, events=broker.events, timeout=10) as c:
            async with c.events("err.", timeout=5) as errors:
                await asyncio.gather(*(c.stat(f"{tdir}/x{i}") for i in range(20)),
                                     *(c.ping() for _ in range(20)),
                                     return_exceptions=True)
                got = []
                async for ev in errors:
                    if ev.path.startswith(f"{tdir}/x"):
                        got.append(ev)
                    if len(got) == 20:
                        break
                assert sorted(e.path for e in got) == sorted(f"{tdir}/x{i}" for i in range(20))
                assert all(e.topic == "err.stat.default" and e.error == "ENOENT" for e in got)
            # Without the handshake: a monitor that never sends anything.
            monitor = c.events("ok.mkdir.", ready=False, timeout=0.5)
            try:
                with pytest.raises(zaio.Timeout):
                    await monitor.recv()
            finally:
                monitor.close()

    asyncio.run(main())


def test_many_events_no_gap(client: zaio.Client, broker, tdir: str) -> None:
    """A subscriber that keeps up loses nothing: 2,000 events, gap 0."""
    async def main() -> None:
        async with zaio.asyncio.Client(broker.ipc, events=broker.events, timeout=30) as c:
            async with c.events("") as stream:
                n = 2000

                async def consume() -> int:
                    seen = 0
                    while seen < n:
                        ev = await stream.recv(timeout=10)
                        if ev.op == "stat" and ev.path == tdir:
                            seen += 1
                    return seen

                consumer = asyncio.ensure_future(consume())
                await asyncio.gather(*(c.stat(tdir) for _ in range(n)))
                assert await consumer == n
                assert stream.gap == 0

    asyncio.run(main())
