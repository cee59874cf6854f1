"""What a user of the Python binding expects from Python (issue 21):
``zaio.Client()`` finds the broker as libzaio does ($ZAIO_ENDPOINT, else the
broker's default endpoint), paths may be any os.PathLike, and ``Stat`` reads
like os.stat_result."""

from __future__ import annotations

import asyncio
import os
import pathlib
import stat
import time

import pytest

import zaio
import zaio.asyncio
from conftest import Broker


class _Bytes(os.PathLike):
    """A PathLike whose path is bytes, as os.fspath allows."""

    def __init__(self, raw: bytes) -> None:
        self.raw = raw

    def __fspath__(self) -> bytes:  # type: ignore[override]
        return self.raw


# ---------------------------------------------------------------- endpoints

def test_client_honours_zaio_endpoint(broker: Broker, monkeypatch) -> None:
    monkeypatch.setenv("ZAIO_ENDPOINT", broker.ipc)
    monkeypatch.setenv("ZAIO_EVENTS", broker.events)
    with zaio.Client(timeout=10) as c:
        assert c.endpoint == broker.ipc and c.events_endpoint == broker.events
        c.ping()
        with c.events("err.") as errors:
            with pytest.raises(zaio.NotFound):
                c.stat("no-such-file-for-env-test")
            ev = errors.recv(timeout=10)
            assert (ev.op, ev.error) == ("stat", "ENOENT")


def test_asyncio_client_honours_zaio_endpoint(broker: Broker, monkeypatch) -> None:
    monkeypatch.setenv("ZAIO_ENDPOINT", broker.ipc)

    async def main() -> None:
        async with zaio.asyncio.Client(timeout=10) as c:
            assert c.endpoint == broker.ipc
            await c.ping()
    asyncio.run(main())


def test_defaults_are_the_brokers(monkeypatch) -> None:
    monkeypatch.delenv("ZAIO_ENDPOINT", raising=False)
    monkeypatch.delenv("ZAIO_EVENTS", raising=False)
    for cls in (zaio.Client, zaio.asyncio.Client):
        c = cls()
        try:
            assert c.endpoint == "ipc:///tmp/zaio.ipc"
            assert c.events_endpoint == "ipc:///tmp/zaio-events.ipc"
        finally:
            c.close()


def test_explicit_endpoint_wins(monkeypatch) -> None:
    monkeypatch.setenv("ZAIO_ENDPOINT", "tcp://127.0.0.1:1")
    monkeypatch.setenv("ZAIO_EVENTS", "tcp://127.0.0.1:2")
    with zaio.Client("tcp://127.0.0.1:3") as c:
        assert c.endpoint == "tcp://127.0.0.1:3"
        # events are not guessed for an endpoint the caller chose
        assert c.events_endpoint is None
        with pytest.raises(ValueError):
            c.events("")


# ---------------------------------------------------------------- paths

def test_pathlike_paths(client: zaio.Client, tdir: str) -> None:
    d = pathlib.PurePosixPath(tdir)
    client.mkdir(d / "a" / "b", parents=True)
    client.writefile(d / "a" / "f.txt", b"hello")
    assert bytes(client.readfile(d / "a" / "f.txt")) == b"hello"
    assert bytes(client.read(d / "a" / "f.txt", 1, 3)) == b"ell"
    client.rename(d / "a" / "f.txt", d / "a" / "g.txt")
    client.copy(d / "a" / "g.txt", d / "a" / "h.txt")
    assert [e.name for e in client.listdir_all(d / "a")] == ["b", "g.txt", "h.txt"]
    assert client.stat(_Bytes(f"{tdir}/a/h.txt".encode())).size == 5
    with client.batch() as b:
        st = b.stat(d / "a" / "g.txt")
    assert st.result().size == 5
    reply = client.request("stat", {"path": d / "a" / "h.txt"})
    assert reply.ok and reply.header["size"] == 5
    client.unlink(d / "a" / "g.txt")
    client.rmdir(d / "a" / "b")


def test_pathlike_errors_name_the_path(client: zaio.Client, tdir: str) -> None:
    with pytest.raises(zaio.NotFound) as e:
        client.stat(pathlib.PurePosixPath(tdir) / "missing")
    assert e.value.path == f"{tdir}/missing"


def test_bad_path_types(client: zaio.Client) -> None:
    with pytest.raises(TypeError, match="path must be str or os.PathLike, not int"):
        client.stat(7)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="to must be str or os.PathLike"):
        client.rename("a", None)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="not UTF-8"):
        client.stat(_Bytes(b"\xff\xfe"))


def test_asyncio_pathlike(broker: Broker, tdir: str) -> None:
    async def main() -> None:
        async with zaio.asyncio.Client(broker.ipc, timeout=10) as c:
            p = pathlib.PurePosixPath(tdir) / "x.bin"
            await c.writefile(p, b"12345")
            assert (await c.stat(p)).st_size == 5
            async with c.batch() as b:
                t = b.stat(p)
            assert t.result().is_file()
    asyncio.run(main())


# ---------------------------------------------------------------- Stat

def test_stat_reads_like_os_stat_result(client: zaio.Client, broker: Broker, tdir: str) -> None:
    before = time.time_ns()
    client.writefile(f"{tdir}/f", b"x" * 42, mode=0o640)
    client.mkdir(f"{tdir}/d")
    os.symlink("f", broker.root / tdir / "l")
    local = os.stat(broker.root / tdir / "f")

    st = client.stat(f"{tdir}/f")
    assert st.st_size == 42 == local.st_size
    assert st.st_mode == local.st_mode and stat.S_ISREG(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == st.mode == 0o640
    assert st.st_mtime_ns == local.st_mtime_ns == st.mtime_ns
    assert st.st_mtime == pytest.approx(local.st_mtime) and isinstance(st.st_mtime, float)
    assert st.st_mtime_ns >= before - 2_000_000_000
    assert (st.is_file(), st.is_dir(), st.is_symlink()) == (True, False, False)
    assert (st.type, st.size) == ("file", 42)   # the old names stay

    d = client.stat(f"{tdir}/d")
    assert stat.S_ISDIR(d.st_mode) and d.st_mode == os.stat(broker.root / tdir / "d").st_mode
    assert (d.is_file(), d.is_dir(), d.is_symlink()) == (False, True, False)

    link = client.stat(f"{tdir}/l")
    assert stat.S_ISLNK(link.st_mode) and link.is_symlink() and not link.is_file()
    assert link.st_mode == os.lstat(broker.root / tdir / "l").st_mode

    kinds = {e.name: (e.is_file(), e.is_dir(), e.is_symlink()) for e in client.listdir_all(tdir)}
    assert kinds == {"d": (False, True, False), "f": (True, False, False), "l": (False, False, True)}


def test_stat_other_has_no_type_bits() -> None:
    st = zaio.Stat(type="other", size=0, mode=0o600, mtime_ns=0)
    assert st.st_mode == 0o600 and not (st.is_file() or st.is_dir() or st.is_symlink())
