"""Flow control and failure: QUEUE_FULL is retried (the job was not
accepted) and finally raised; per-call timeouts; late replies are dropped."""

from __future__ import annotations

import asyncio
import time

import pytest

import zaio
import zaio.asyncio


def test_queue_full_raised_without_retries(start_broker) -> None:
    b = start_broker("--queue-max", "1", "--workers", "1")
    # 4 MiB each: the one job the queue holds is still running when the
    # next requests arrive, however fast the broker is.
    b.path("f").write_bytes(b"x" * (4 << 20))

    async def main() -> None:
        async with zaio.asyncio.Client(b.ipc, timeout=30, queue_full_retries=0) as c:
            res = await asyncio.gather(*(c.readfile("f") for _ in range(200)),
                                       return_exceptions=True)
            full = [r for r in res if isinstance(r, zaio.QueueFull)]
            assert full, "200 requests against a queue of 1 were all accepted"
            assert all(r.code == "QUEUE_FULL" and r.retryable for r in full)
            assert all(r == b"x" * (4 << 20) for r in res if not isinstance(r, Exception))

    asyncio.run(main())


def test_queue_full_retried(start_broker) -> None:
    b = start_broker("--queue-max", "2", "--workers", "1")
    b.path("f").write_bytes(b"y" * 4096)

    async def main() -> None:
        async with zaio.asyncio.Client(b.ipc, timeout=60, queue_full_retries=1000,
                                       queue_full_backoff=0.001) as c:
            res = await asyncio.gather(*(c.readfile("f") for _ in range(200)))
            assert all(r == b"y" * 4096 for r in res)

    asyncio.run(main())
    # The blocking client retries too (one request at a time never fills a
    # queue of 2, so this only checks nothing breaks on the way).
    with zaio.Client(b.ipc, timeout=10) as c:
        assert c.readfile("f") == b"y" * 4096


def test_inflight_max(start_broker) -> None:
    b = start_broker("--inflight-max", "4", "--workers", "1")
    # Reads of 32 MiB keep the one worker busy for milliseconds each, so
    # the 100 requests are in flight together however slowly this process
    # sends them on a loaded machine (stats finished as fast as they came).
    b.path("big").write_bytes(b"z" * (32 << 20))

    async def main() -> None:
        async with zaio.asyncio.Client(b.ipc, timeout=30, queue_full_retries=0) as c:
            assert (await c.hello()).limits.inflight_max == 4
            res = await asyncio.gather(*(c.readfile("big") for _ in range(100)),
                                       return_exceptions=True)
            assert any(isinstance(r, zaio.QueueFull) for r in res)
            assert all(isinstance(r, zaio.QueueFull) or len(r) == 32 << 20 for r in res)
        async with zaio.asyncio.Client(b.ipc, timeout=30, max_inflight=4,
                                       queue_full_retries=0) as c:
            res = await asyncio.gather(*(c.stat("") for _ in range(100)))
            assert all(r.type == "dir" for r in res)   # kept under the bound: never full

    asyncio.run(main())


def test_sync_timeout_no_broker() -> None:
    with zaio.Client("ipc:///tmp/zaio-py-nobody-listens.ipc", timeout=0.3) as c:
        t0 = time.monotonic()
        with pytest.raises(zaio.Timeout) as info:
            c.stat("x")
        assert 0.25 <= time.monotonic() - t0 < 3
        assert isinstance(info.value, TimeoutError) and info.value.path == "x"
        assert "could not send" in info.value.message
        t0 = time.monotonic()
        with pytest.raises(TimeoutError):
            c.ping(timeout=0.1)
        assert time.monotonic() - t0 < 2


def test_sync_timeout_and_late_reply(start_broker) -> None:
    b = start_broker()
    with zaio.Client(b.ipc, timeout=10) as c:
        c.writefile("a", b"AAAA")
        c.writefile("b", b"BB")
        b.pause()
        try:
            t0 = time.monotonic()
            with pytest.raises(zaio.Timeout) as info:
                c.readfile("a", timeout=0.3)
            assert "no reply" in info.value.message
            assert 0.25 <= time.monotonic() - t0 < 3
        finally:
            b.resume()
        # The late reply for "a" arrives first and must be dropped.
        assert c.readfile("b") == b"BB"
        assert c.stat("a").size == 4


def test_deadline_field(client: zaio.Client, tdir: str) -> None:
    """`deadline` reaches the broker; a generous one lets the job run."""
    reply = client.request("stat", {"path": tdir, "deadline": 30000})
    assert reply.ok


def test_shutdown_is_graceful(start_broker) -> None:
    b = start_broker()
    with zaio.Client(b.ipc, timeout=5) as c:
        c.ping()
    assert b.stop() == 0


def test_key_orders_jobs(broker, tdir: str) -> None:
    """Requests leave the asyncio client in call order, so jobs sharing a
    `key` run in that order (PROTOCOL.md section 7)."""
    n = 200

    async def main() -> None:
        async with zaio.asyncio.Client(broker.ipc, timeout=30) as c:
            await c.writefile(f"{tdir}/seq", b"")
            await asyncio.gather(*(c.request("append", {"path": f"{tdir}/seq", "key": "k"},
                                             b"%d," % i) for i in range(n)))
            got = bytes(await c.readfile(f"{tdir}/seq"))
            assert got == b"".join(b"%d," % i for i in range(n))

    asyncio.run(main())
