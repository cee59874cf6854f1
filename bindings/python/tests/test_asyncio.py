"""The asyncio client against a real broker: every op, errors, 1,000
concurrent requests, per-call timeouts and closing with requests pending.
Tests drive their own loop with asyncio.run (no pytest plugin needed)."""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any, Awaitable, Callable

import pytest

import zaio
import zaio.asyncio


def run(coro_fn: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(coro_fn())


def test_every_op(broker, tdir: str) -> None:
    async def main() -> None:
        async with zaio.asyncio.Client(broker.ipc, timeout=20) as c:
            assert await c.ping() is None
            h = await c.hello()
            assert h.protocol == 1 and c.limits == h.limits
            assert await c.mkdir(f"{tdir}/d/e", parents=True) is None
            assert await c.writefile(f"{tdir}/d/f", b"hello") == 5
            assert await c.write(f"{tdir}/d/f", 5, b" world") == 6
            assert await c.write(f"{tdir}/d/g", 0, bytearray(b"new"), create=True) == 3
            assert await c.append(f"{tdir}/d/f", b"!") == 11
            assert await c.read(f"{tdir}/d/f", 6, 5) == b"world"
            r = await c.read_result(f"{tdir}/d/f", 6, 100)
            assert r.data == b"world!" and r.eof
            assert bytes(await c.readfile(f"{tdir}/d/f")) == b"hello world!"
            st = await c.stat(f"{tdir}/d/f")
            assert (st.type, st.size) == ("file", 12)
            assert await c.truncate(f"{tdir}/d/f", 5) is None
            assert await c.fsync(f"{tdir}/d/f", datasync=True) is None
            assert await c.copy(f"{tdir}/d/f", f"{tdir}/d/h") == 5
            assert await c.rename(f"{tdir}/d/h", f"{tdir}/d/i") is None
            page = await c.listdir(f"{tdir}/d", limit=2)
            assert [e.name for e in page.entries] == ["e", "f"] and page.more
            names = [e.name for e in await c.listdir_all(f"{tdir}/d", limit=2)]
            assert names == ["e", "f", "g", "i"]
            assert [e.name async for e in c.listdir_iter(f"{tdir}/d")] == names
            assert await c.unlink(f"{tdir}/d/i") is None
            assert await c.rmdir(f"{tdir}/d/e") is None
            reply = await c.request("stat", {"path": tdir, "priority": 9})
            assert reply.ok and reply.header["type"] == "dir"
            assert c.inflight == 0
        assert broker.path(f"{tdir}/d/f").read_bytes() == b"hello"
        assert sorted(os.listdir(broker.path(f"{tdir}/d"))) == ["f", "g"]

    run(main)


def test_errors(broker, tdir: str) -> None:
    async def main() -> None:
        async with zaio.asyncio.Client(broker.ipc, timeout=20) as c:
            with pytest.raises(FileNotFoundError) as info:
                await c.stat(f"{tdir}/missing")
            assert info.value.code == "ENOENT" and info.value.path == f"{tdir}/missing"
            await c.mkdir(f"{tdir}/x")
            with pytest.raises(FileExistsError):
                await c.mkdir(f"{tdir}/x")
            with pytest.raises(zaio.PosixError) as info2:
                await c.stat("../x")
            assert info2.value.code == "EXDEV"
            with pytest.raises(zaio.NoVolume):
                await c.ping(volume="nope")
            with pytest.raises(zaio.TooBig):
                await c.read(f"{tdir}/x", 0, 1 << 40)
            with pytest.raises(IsADirectoryError):
                await c.readfile(f"{tdir}/x")
            with pytest.raises(zaio.UnknownOp):
                await c.request("format_disk")

    run(main)


def test_1000_concurrent(broker, tdir: str) -> None:
    n = 1000

    async def main() -> None:
        async with zaio.asyncio.Client(broker.ipc, timeout=60) as c:
            await c.mkdir(f"{tdir}/many")
            t0 = time.monotonic()
            written = await asyncio.gather(*(
                c.writefile(f"{tdir}/many/{i:04d}", f"file {i}".encode() * (i % 7 + 1))
                for i in range(n)))
            assert written == [len(f"file {i}") * (i % 7 + 1) for i in range(n)]
            # Reads, stats and errors all in flight at once; each reply must
            # reach its own caller.
            calls = []
            for i in range(n):
                p = f"{tdir}/many/{i:04d}"
                if i % 3 == 0:
                    calls.append(c.readfile(p))
                elif i % 3 == 1:
                    calls.append(c.stat(p))
                else:
                    calls.append(c.read(p, 5, 3))
            results = await asyncio.gather(*calls)
            for i, r in enumerate(results):
                body = f"file {i}".encode() * (i % 7 + 1)
                if i % 3 == 0:
                    assert r == body
                elif i % 3 == 1:
                    assert r.size == len(body)
                else:
                    assert r == body[5:8]
            missing = await asyncio.gather(*(c.stat(f"{tdir}/many/no{i}") for i in range(n)),
                                           return_exceptions=True)
            assert all(isinstance(e, zaio.NotFound) and e.path == f"{tdir}/many/no{i}"
                       for i, e in enumerate(missing))
            assert c.inflight == 0
            print(f"3 x {n} concurrent requests + {n} writefiles in "
                  f"{time.monotonic() - t0:.2f} s")
        assert len(os.listdir(broker.path(f"{tdir}/many"))) == n

    run(main)


def test_max_inflight_bounds_the_socket(broker, tdir: str) -> None:
    async def main() -> None:
        async with zaio.asyncio.Client(broker.ipc, timeout=30, max_inflight=8) as c:
            peak = 0

            async def one(i: int) -> None:
                nonlocal peak
                await c.ping()
                peak = max(peak, c.inflight)

            async def watch() -> None:
                nonlocal peak
                for _ in range(200):
                    peak = max(peak, c.inflight)
                    await asyncio.sleep(0)

            await asyncio.gather(watch(), *(one(i) for i in range(300)))
            assert 1 <= peak <= 8

    run(main)


def test_timeout_no_broker() -> None:
    async def main() -> None:
        c = zaio.asyncio.Client("ipc:///tmp/zaio-py-nobody-listens.ipc", timeout=0.3)
        t0 = time.monotonic()
        with pytest.raises(zaio.Timeout) as info:
            await c.ping()
        assert 0.25 <= time.monotonic() - t0 < 3
        assert isinstance(info.value, TimeoutError) and info.value.code == "TIMEOUT"
        assert "could not send" in info.value.message
        with pytest.raises(zaio.Timeout):
            await c.stat("x", timeout=0.1)
        assert c.inflight == 0
        await c.aclose()

    run(main)


def test_timeout_and_late_replies(start_broker) -> None:
    """A stopped broker: calls time out one by one; after it resumes the late
    replies are dropped and new calls get their own answers."""
    b = start_broker("--workers", "2")

    async def main() -> None:
        async with zaio.asyncio.Client(b.ipc, timeout=10) as c:
            await c.writefile("f", b"data")
            b.pause()
            try:
                t0 = time.monotonic()
                res = await asyncio.gather(c.stat("f", timeout=0.2), c.readfile("f", timeout=0.4),
                                           c.ping(timeout=0.6), return_exceptions=True)
                took = time.monotonic() - t0
                assert all(isinstance(r, zaio.Timeout) for r in res), res
                assert all("no reply" in r.message for r in res), res
                assert 0.5 <= took < 5
                assert c.inflight == 0
            finally:
                b.resume()
            # The three late replies arrive now and must not be mistaken.
            got = await asyncio.gather(*(c.readfile("f") for _ in range(10)))
            assert all(g == b"data" for g in got)
            assert (await c.stat("f")).size == 4

    run(main)


def test_cancel_and_close_with_pending(start_broker) -> None:
    b = start_broker()

    async def main() -> None:
        c = zaio.asyncio.Client(b.ipc, timeout=None)
        await c.ping()
        b.pause()
        try:
            task = asyncio.ensure_future(c.ping())
            await asyncio.sleep(0.1)
            assert c.inflight == 1
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
            assert c.inflight == 0
            pending = [asyncio.ensure_future(c.stat("x")) for _ in range(5)]
            await asyncio.sleep(0.1)
            assert c.inflight == 5
            await c.aclose()
            res = await asyncio.gather(*pending, return_exceptions=True)
            assert all(isinstance(r, zaio.Closed) for r in res), res
            with pytest.raises(zaio.Closed):
                await c.ping()
        finally:
            b.resume()

    run(main)


def test_client_made_outside_the_loop(broker) -> None:
    c = zaio.asyncio.Client(broker.ipc, timeout=10)

    async def main() -> None:
        await c.ping()
        await c.aclose()

    run(main)


def test_full_pipe_waits_then_flows(start_broker) -> None:
    """More requests than the socket's high-water mark while the broker is
    stopped: the excess waits in zmq.asyncio (in order), and everything
    completes once the broker resumes; then the same with timeouts."""
    b = start_broker("--workers", "2")
    n = 3000

    async def main() -> None:
        # Not coalescing: 3000 singles fill the pipe, 3 batches would not.
        async with zaio.asyncio.Client(b.ipc, timeout=60, max_inflight=n, coalesce=False) as c:
            await c.ping()
            b.pause()
            try:
                calls = asyncio.gather(*(c.stat("") for _ in range(n)))
                await asyncio.sleep(0.3)
                assert c.inflight == n and c._slow_sends > 0   # some could not be sent yet
            finally:
                b.resume()
            res = await calls
            assert len(res) == n and all(r.type == "dir" for r in res)
            assert c.inflight == 0 and c._slow_sends == 0

            b.pause()
            try:
                res = await asyncio.gather(*(c.ping(timeout=0.5) for _ in range(n)),
                                           return_exceptions=True)
                assert all(isinstance(r, zaio.Timeout) for r in res)
                assert c.inflight == 0 and c._slow_sends == 0
            finally:
                b.resume()
            assert (await c.stat("")).type == "dir"

    run(main)
