"""Every op against a real broker with the blocking client: successes checked
against the files on disk, and the errors each op can meet."""

from __future__ import annotations

import array
import asyncio
import errno
import os
import pickle
import stat as stat_mod
import threading

import pytest

import zaio


def umasked(mode: int) -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mode & ~mask


def test_ping_hello(client: zaio.Client) -> None:
    assert client.ping() is None
    h = client.hello()
    assert h.protocol == 1 and isinstance(h.version, str) and h.version
    assert set(h.ops) >= {"ping", "hello", "stat", "read", "write", "append", "readfile",
                          "writefile", "truncate", "fsync", "unlink", "rename", "mkdir",
                          "rmdir", "listdir", "copy"}
    assert any(v.name == "default" and v.workers >= 1 for v in h.volumes)
    assert h.limits.payload_max == 64 * 1024 * 1024 and h.limits.path_max == 1024
    assert client.limits == h.limits


def test_stat(client: zaio.Client, broker, tdir: str) -> None:
    p = broker.path(f"{tdir}/f")
    p.write_bytes(b"12345")
    os.chmod(p, 0o640)
    st = client.stat(f"{tdir}/f")
    assert (st.type, st.size, st.mode & 0o7777) == ("file", 5, 0o640)
    assert st.mtime_ns == os.stat(p).st_mtime_ns
    assert client.stat(tdir).type == "dir"
    os.symlink("f", broker.path(f"{tdir}/link"))
    assert client.stat(f"{tdir}/link").type == "symlink"      # not followed
    assert client.stat("").type == "dir" and client.stat(".").type == "dir"
    assert client.stat(f"{tdir}/../{tdir}/f").size == 5         # .. inside the root is fine


def test_read(client: zaio.Client, broker, tdir: str) -> None:
    data = bytes(range(256)) * 40
    broker.path(f"{tdir}/r").write_bytes(data)
    got = client.read(f"{tdir}/r", 0, 100)
    assert isinstance(got, memoryview) and got.readonly and got == data[:100]
    assert client.read(f"{tdir}/r", 5000, 300) == data[5000:5300]
    r = client.read_result(f"{tdir}/r", len(data) - 10, 100)
    assert r.data == data[-10:] and r.eof is True
    r = client.read_result(f"{tdir}/r", 0, 10)
    assert r.eof is False
    r = client.read_result(f"{tdir}/r", len(data) + 100, 10)
    assert r.data == b"" and r.eof is True


def test_write(client: zaio.Client, broker, tdir: str) -> None:
    path = f"{tdir}/w"
    with pytest.raises(FileNotFoundError) as info:
        client.write(path, 0, b"x")
    assert info.value.code == "ENOENT" and info.value.errno == errno.ENOENT
    assert client.write(path, 0, b"hello world", create=True, mode=0o600) == 11
    assert stat_mod.S_IMODE(os.stat(broker.path(path)).st_mode) == umasked(0o600)
    assert client.write(path, 6, bytearray(b"WORLD")) == 5
    assert client.write(path, 20, memoryview(b"__tail__")[2:6]) == 4
    assert broker.path(path).read_bytes() == b"hello WORLD" + b"\0" * 9 + b"tail"
    assert client.write(path, 0, b"") == 0
    ints = array.array("I", [1, 2, 3])                     # any buffer, itemsize 4
    assert client.write(path, 0, ints) == 12
    assert broker.path(path).read_bytes()[:12] == ints.tobytes()
    with pytest.raises(TypeError):
        client.write(path, 0, "text")  # type: ignore[arg-type]


def test_append(client: zaio.Client, broker, tdir: str) -> None:
    path = f"{tdir}/log"
    with pytest.raises(zaio.NotFound):
        client.append(path, b"x")
    assert client.append(path, b"one\n", create=True) == 0
    assert client.append(path, b"two\n") == 4
    assert client.append(path, b"") == 8
    assert broker.path(path).read_bytes() == b"one\ntwo\n"


def test_readfile_writefile(client: zaio.Client, broker, tdir: str) -> None:
    path = f"{tdir}/whole"
    with pytest.raises(FileNotFoundError):
        client.readfile(path)
    assert client.writefile(path, b"first", mode=0o640) == 5
    assert stat_mod.S_IMODE(os.stat(broker.path(path)).st_mode) == umasked(0o640)
    assert client.readfile(path) == b"first"
    assert client.writefile(path, b"second, longer") == 14
    got = client.readfile(path)
    assert isinstance(got, memoryview) and bytes(got) == b"second, longer"
    assert client.writefile(f"{tdir}/empty", b"") == 0
    assert client.readfile(f"{tdir}/empty") == b""
    assert sorted(os.listdir(broker.path(tdir))) == ["empty", "whole"]   # no temp files left
    with pytest.raises(FileNotFoundError):
        client.writefile(f"{tdir}/no/such/dir/f", b"x")


def test_truncate(client: zaio.Client, broker, tdir: str) -> None:
    path = f"{tdir}/t"
    broker.path(path).write_bytes(b"0123456789")
    assert client.truncate(path, 4) is None
    assert broker.path(path).read_bytes() == b"0123"
    client.truncate(path, 5_000_000_000)                   # sparse
    assert client.stat(path).size == 5_000_000_000
    with pytest.raises(FileNotFoundError):
        client.truncate(f"{tdir}/missing", 0)


def test_fsync(client: zaio.Client, broker, tdir: str) -> None:
    broker.path(f"{tdir}/s").write_bytes(b"x")
    assert client.fsync(f"{tdir}/s") is None
    assert client.fsync(f"{tdir}/s", datasync=True) is None
    assert client.fsync(tdir) is None                      # a directory too
    with pytest.raises(FileNotFoundError):
        client.fsync(f"{tdir}/missing")


def test_unlink(client: zaio.Client, broker, tdir: str) -> None:
    broker.path(f"{tdir}/u").write_bytes(b"x")
    assert client.unlink(f"{tdir}/u") is None
    assert not broker.path(f"{tdir}/u").exists()
    with pytest.raises(FileNotFoundError):
        client.unlink(f"{tdir}/u")
    with pytest.raises(zaio.PosixError) as info:
        client.unlink(tdir)                                # a directory
    assert info.value.code in ("EISDIR", "EPERM")


def test_rename(client: zaio.Client, broker, tdir: str) -> None:
    broker.path(f"{tdir}/a").write_bytes(b"A")
    broker.path(f"{tdir}/b").write_bytes(b"B")
    assert client.rename(f"{tdir}/a", f"{tdir}/b") is None   # replaces
    assert broker.path(f"{tdir}/b").read_bytes() == b"A" and not broker.path(f"{tdir}/a").exists()
    with pytest.raises(FileNotFoundError):
        client.rename(f"{tdir}/a", f"{tdir}/c")
    with pytest.raises(zaio.PosixError) as info:
        client.rename(f"{tdir}/b", "../outside")
    assert info.value.code == "EXDEV"


def test_mkdir_rmdir(client: zaio.Client, broker, tdir: str) -> None:
    assert client.mkdir(f"{tdir}/d", mode=0o700) is None
    assert stat_mod.S_IMODE(os.stat(broker.path(f"{tdir}/d")).st_mode) == umasked(0o700)
    with pytest.raises(FileExistsError) as info:
        client.mkdir(f"{tdir}/d")
    assert isinstance(info.value, zaio.Exists) and info.value.code == "EEXIST"
    client.mkdir(f"{tdir}/d", parents=True)                 # exists: fine with parents
    with pytest.raises(FileNotFoundError):
        client.mkdir(f"{tdir}/x/y/z")
    client.mkdir(f"{tdir}/x/y/z", parents=True)
    assert broker.path(f"{tdir}/x/y/z").is_dir()
    with pytest.raises(zaio.PosixError) as info:
        client.rmdir(f"{tdir}/x")
    assert info.value.code == "ENOTEMPTY" and info.value.errno == errno.ENOTEMPTY
    client.rmdir(f"{tdir}/x/y/z")
    assert not broker.path(f"{tdir}/x/y/z").exists()
    with pytest.raises(FileNotFoundError):
        client.rmdir(f"{tdir}/x/y/z")
    broker.path(f"{tdir}/file").write_bytes(b"")
    with pytest.raises(NotADirectoryError) as info:
        client.rmdir(f"{tdir}/file")
    assert info.value.code == "ENOTDIR"


def test_listdir_names_not_utf8(client: zaio.Client, broker, tdir: str) -> None:
    # Names that are not UTF-8 come as bytes (msgpack bin); the others as
    # str; a bytes name pages on as `after`; the async client alike.
    raw = [b"caf\xe9", b"o\xc0\xaf", b"s\xed\xa0\x80"]
    for n in raw + [b"\xc3\xa9"]:
        with open(os.path.join(os.fsencode(broker.path(tdir)), n), "wb") as f:
            f.write(b"x")
    names = [e.name for e in client.listdir(tdir).entries]
    assert names == raw + ["\u00e9"]
    assert [e.name for e in client.listdir_all(tdir, limit=1)] == names
    assert [e.name for e in client.listdir(tdir, after=raw[0], limit=2).entries] == raw[1:]

    async def main() -> None:
        async with zaio.asyncio.Client(broker.ipc, timeout=20) as aclient:
            page = await aclient.listdir(tdir, after=b"o\xc0\xaf")
            assert [e.name for e in page.entries] == names[2:]

    asyncio.run(main())


def test_listdir(client: zaio.Client, broker, tdir: str) -> None:
    names = [f"n{i:03d}" for i in range(25)]
    for n in names:
        broker.path(f"{tdir}/{n}").write_bytes(n.encode())
    broker.path(f"{tdir}/sub").mkdir()
    os.symlink("/etc", broker.path(f"{tdir}/zlink"))
    page = client.listdir(tdir)
    assert [e.name for e in page.entries] == names + ["sub", "zlink"] and page.more is False
    by = {e.name: e for e in page.entries}
    assert (by["n003"].type, by["n003"].size) == ("file", 4)
    assert by["n003"].mtime_ns == os.stat(broker.path(f"{tdir}/n003")).st_mtime_ns
    assert by["sub"].type == "dir" and by["zlink"].type == "symlink"
    page = client.listdir(tdir, after="n010", limit=5)
    assert [e.name for e in page.entries] == names[11:16] and page.more is True
    assert [e.name for e in client.listdir_all(tdir, limit=4)] == names + ["sub", "zlink"]
    assert [e.name for e in client.listdir_iter(tdir, limit=7)] == names + ["sub", "zlink"]
    assert client.listdir(tdir, after="zzz").entries == []
    client.mkdir(f"{tdir}/empty")
    assert client.listdir(f"{tdir}/empty") == zaio.Listing(entries=[], more=False)
    assert any(e.name == tdir for e in client.listdir_all())   # the root by default
    with pytest.raises(FileNotFoundError):
        client.listdir(f"{tdir}/missing")
    with pytest.raises(NotADirectoryError):
        client.listdir(f"{tdir}/n001")
    with pytest.raises(zaio.Malformed):
        client.listdir(tdir, limit=0)
    with pytest.raises(zaio.TooBig):
        client.listdir(tdir, limit=10001)


def test_copy(client: zaio.Client, broker, tdir: str) -> None:
    data = os.urandom(300_000)
    broker.path(f"{tdir}/src").write_bytes(data)
    assert client.copy(f"{tdir}/src", f"{tdir}/dst") == len(data)
    assert broker.path(f"{tdir}/dst").read_bytes() == data
    broker.path(f"{tdir}/short").write_bytes(b"abc")
    assert client.copy(f"{tdir}/short", f"{tdir}/dst") == 3      # truncates
    assert broker.path(f"{tdir}/dst").read_bytes() == b"abc"
    with pytest.raises(FileNotFoundError):
        client.copy(f"{tdir}/missing", f"{tdir}/x")


# ------------------------------------------------------------ errors

@pytest.mark.parametrize("path", ["..", "../etc/passwd", "{tdir}/../../x", "/etc/passwd"])
def test_path_escape_is_exdev(client: zaio.Client, tdir: str, path: str) -> None:
    with pytest.raises(zaio.PosixError) as info:
        client.stat(path.format(tdir=tdir))
    assert info.value.code == "EXDEV" and info.value.errno == errno.EXDEV


def test_symlink_escape_is_exdev(client: zaio.Client, broker, tdir: str) -> None:
    os.symlink("/etc", broker.path(f"{tdir}/abs"))
    os.symlink("../../..", broker.path(f"{tdir}/rel"))
    os.symlink("..", broker.path(f"{tdir}/up"))                 # stays inside: fine
    for p in (f"{tdir}/abs/passwd", f"{tdir}/rel/etc/passwd"):
        with pytest.raises(zaio.PosixError) as info:
            client.readfile(p)
        assert info.value.code == "EXDEV", p
    with pytest.raises(zaio.PosixError) as info:
        client.writefile(f"{tdir}/abs/zaio-must-not-exist", b"x")
    assert info.value.code == "EXDEV"
    assert not os.path.exists("/etc/zaio-must-not-exist")
    assert client.stat(f"{tdir}/up/{tdir}").type == "dir"


def test_posix_errors(client: zaio.Client, broker, tdir: str) -> None:
    broker.path(f"{tdir}/f").write_bytes(b"x")
    with pytest.raises(NotADirectoryError) as info:
        client.stat(f"{tdir}/f/under")
    assert isinstance(info.value, zaio.NotADirectory) and info.value.errno == errno.ENOTDIR
    with pytest.raises(IsADirectoryError) as info2:
        client.readfile(tdir)
    assert info2.value.code == "EISDIR"
    with pytest.raises(zaio.PosixError) as info3:
        client.stat("a" * 1025)
    assert info3.value.code == "ENAMETOOLONG"
    with pytest.raises(zaio.PosixError) as info3:
        client.stat("a\0b")
    assert info3.value.code == "EINVAL"
    e = info3.value
    assert isinstance(e, OSError) and isinstance(e, zaio.Error) and e.path == "a\0b"


def test_protocol_errors(client: zaio.Client, tdir: str) -> None:
    with pytest.raises(zaio.NoVolume) as info:
        client.stat("x", volume="no-such-volume")
    assert info.value.code == "NOVOLUME" and isinstance(info.value, zaio.ProtocolError)
    with pytest.raises(zaio.NoVolume):
        client.hello(volume="no-such-volume")
    with pytest.raises(zaio.TooBig):
        client.read(f"{tdir}/x", 0, 64 * 1024 * 1024 + 1)
    with pytest.raises(zaio.TooBig):
        client.mkdir(f"{tdir}/m", mode=0o10000)
    with pytest.raises(zaio.UnknownOp) as info:
        client.request("format_disk")
    assert info.value.code == "UNKNOWN_OP"
    reply = client.request("stat", {"path": tdir, "deadline": 60000, "priority": 3, "key": "k"})
    assert reply.ok and reply.header["type"] == "dir"


def test_errors_pickle() -> None:
    for code in ("ENOENT", "EXDEV", "QUEUE_FULL", "WHATEVER"):
        e = zaio.error_for(code, "m", path="p", op="stat", id=7)
        again = pickle.loads(pickle.dumps(e))
        assert type(again) is type(e)
        assert (again.code, again.message, again.path, again.id) == (code, "m", "p", 7)


def test_error_classes() -> None:
    cases = {
        "ENOENT": FileNotFoundError, "EEXIST": FileExistsError, "EISDIR": IsADirectoryError,
        "ENOTDIR": NotADirectoryError, "EACCES": PermissionError, "EPERM": PermissionError,
        "ETIMEDOUT": TimeoutError, "ENOSPC": OSError, "EXDEV": OSError,
    }
    for code, builtin in cases.items():
        e = zaio.error_for(code, "msg", path="p")
        assert isinstance(e, builtin) and isinstance(e, zaio.Error) and e.code == code
        assert e.errno == getattr(errno, code) and e.filename == "p" and e.strerror == "msg"
        assert code in str(e)
    for code in ("MALFORMED", "QUEUE_FULL", "SHUTDOWN", "UNKNOWN_OUTCOME", "BADVERSION",
                 "UNKNOWN_OP", "TOOBIG", "NOVOLUME", "INTERNAL", "SOMETHING_NEW"):
        e = zaio.error_for(code, "msg")
        assert isinstance(e, zaio.ProtocolError) and not isinstance(e, OSError)
        assert e.code == code
    assert zaio.error_for("QUEUE_FULL").retryable and not zaio.error_for("MALFORMED").retryable
    t = zaio.Timeout(message="late")
    assert isinstance(t, TimeoutError) and isinstance(t, zaio.Error) and t.code == "TIMEOUT"


def test_tcp_endpoint(broker, tdir: str) -> None:
    with zaio.Client(broker.tcp, timeout=10) as c:
        c.writefile(f"{tdir}/t", b"over tcp")
        assert c.readfile(f"{tdir}/t") == b"over tcp"


def test_closed_client(broker) -> None:
    c = zaio.Client(broker.ipc)
    c.close()
    c.close()
    with pytest.raises(zaio.Closed):
        c.ping()


def test_request_raw(client: zaio.Client, tdir: str) -> None:
    reply = client.request("writefile", {"path": f"{tdir}/r"}, b"raw")
    assert reply.ok and reply.header["bytes"] == 3 and reply.id > 0
    reply = client.request("read", {"path": f"{tdir}/r", "length": 10, "priority": 200})
    assert reply.data == b"raw" and reply.header["eof"] is True
    with pytest.raises(TypeError):
        client.request("ping", {"id": 5})
    with pytest.raises(ValueError):
        client.request("stat", {"path": "x", "nonsense": 1})


def test_read_length_zero(client: zaio.Client, broker, tdir: str) -> None:
    broker.path(f"{tdir}/z").write_bytes(b"abc")
    r = client.read_result(f"{tdir}/z", 1, 0)
    assert r.data == b""


def test_shared_between_threads(client: zaio.Client, broker, tdir: str) -> None:
    errors = []

    def work(t: int) -> None:
        try:
            for i in range(50):
                client.writefile(f"{tdir}/t{t}-{i}", f"{t}/{i}".encode())
                assert client.readfile(f"{tdir}/t{t}-{i}") == f"{t}/{i}".encode()
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(t,)) for t in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(60)
    assert not errors and len(os.listdir(broker.path(tdir))) == 200
