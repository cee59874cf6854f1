"""CURVE: loading certificates, and a real zaio-broker that requires CURVE
on tcp, with client certificates and grants.

Certificates are made by ``zaio keygen PATH NAME`` ($ZAIO_TOOL, or
build/bindings/c/zaio), the czmq format the broker reads. The grants:

* ``alice``: no entry, so every volume read-write and events;
* ``reader``: ``default`` read-only;
* ``other``: only ``scratch`` (so ``default`` is as if absent);
* ``stranger``: not among ``--client-certs`` at all.
"""

from __future__ import annotations

import asyncio
import os
import pathlib
import shutil
import struct
import subprocess
import time
from typing import Any, Callable, Dict, Iterator, Optional

import pytest
import zmq
import zmq.auth
from zmq.auth.thread import ThreadAuthenticator

import zaio
import zaio.asyncio
from zaio import _codec, _curve

from conftest import REPO, Broker, FakeBroker, _short_tmp, broker_binary

#: A refusal must come long before a call's timeout. Not within a few
#: hundred ms: an attempt the broker hangs up on may first wait out a
#: handshake or reconnect back-off on a busy machine.
CALL_TIMEOUT = 20.0
PROMPT = 12.0
#: A plain client's call at the CURVE endpoint, which may see only hang-ups.
PLAIN_TIMEOUT = 3.0

GRANTS = """\
grants
    client
        reader
            volumes
                default = ro
        other
            volumes
                scratch = rw
"""


def tool() -> pathlib.Path:
    env = os.environ.get("ZAIO_TOOL")
    path = pathlib.Path(env) if env else REPO / "build" / "bindings" / "c" / "zaio"
    if not (path.is_file() and os.access(path, os.X_OK)):
        if env:
            pytest.fail(f"ZAIO_TOOL={env} is not an executable file")
        pytest.skip(f"no zaio tool at {path} (build it, or set ZAIO_TOOL)")
    return path


def keygen(path: pathlib.Path, name: str) -> pathlib.Path:
    """``zaio keygen PATH NAME``: PATH (public) and PATH_secret."""
    subprocess.run([str(tool()), "keygen", str(path), name], check=True,
                   stdout=subprocess.DEVNULL, timeout=30)
    return path


class Keys:
    """The certificates of a broker and its clients, in ``tmp``."""

    def __init__(self, tmp: pathlib.Path) -> None:
        self.dir = tmp / "keys"
        self.clients = tmp / "clients"  # the broker's --client-certs
        self.dir.mkdir()
        self.clients.mkdir()
        self.broker = keygen(self.dir / "broker", "broker")
        for name in ("alice", "reader", "other", "stranger"):
            setattr(self, name, keygen(self.dir / name, name))
            if name != "stranger":
                shutil.copy(self.dir / name, self.clients / name)


# ------------------------------------------------------------ loading keys


def test_both_or_neither(tmp_path: pathlib.Path) -> None:
    keys = Keys(tmp_path)
    for kw in ({"curve_server": keys.broker}, {"curve_cert": keys.alice}):
        with pytest.raises(ValueError, match="both or neither"):
            zaio.Client("tcp://127.0.0.1:1", **kw)  # type: ignore[arg-type]
        with pytest.raises(ValueError, match="both or neither"):
            zaio.asyncio.Client("tcp://127.0.0.1:1", **kw)  # type: ignore[arg-type]


def test_key_files(tmp_path: pathlib.Path) -> None:
    keys = Keys(tmp_path)
    public, secret = zmq.auth.load_certificate(str(keys.alice) + "_secret")
    server, _ = zmq.auth.load_certificate(keys.broker)
    want = _curve.CurveKeys(server, public, secret)
    # PATH or PATH_secret for either; a z85 key for the server.
    assert _curve.curve_keys(keys.broker, keys.alice) == want
    assert _curve.curve_keys(str(keys.broker) + "_secret", str(keys.alice) + "_secret") == want
    assert _curve.curve_keys(server.decode(), keys.alice) == want
    # The client's certificate must hold its secret key.
    lone = tmp_path / "lone"
    shutil.copy(keys.alice, lone)
    with pytest.raises(ValueError, match="no secret key"):
        _curve.curve_keys(keys.broker, lone)
    with pytest.raises(FileNotFoundError):
        _curve.curve_keys(keys.broker, tmp_path / "missing")
    with pytest.raises(FileNotFoundError):
        _curve.curve_keys(tmp_path / "missing", keys.alice)
    junk = tmp_path / "junk"
    junk.write_text("curve\n    public-key = \"short\"\n")
    with pytest.raises(ValueError, match="z85"):
        _curve.curve_keys(junk, keys.alice)


# ------------------------------------------------------------ the verdict


def _event(event: int, value: int = 0) -> Any:
    """A monitor message as libzmq 4.3 sends it."""
    return [struct.pack("=HI", event, value), b"tcp://127.0.0.1:9"]


MISMATCH = getattr(zmq, "PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH", 0x11000002)


def test_verdict_rules() -> None:
    """libzaio's rules (PROTOCOL.md 11), without sockets: AUTH for ZAP 400
    and a mechanism mismatch (CURVE or not), and under CURVE only for
    HANGUPS_MAX hang-ups in a row; not for ZAP 500, nor fewer hang-ups, nor
    a run broken by a handshake that succeeded."""
    hangup = _event(zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL, 32)
    for curve in (True, False):
        w = _curve.HandshakeWatch(curve)
        assert w.feed(_event(zmq.EVENT_HANDSHAKE_FAILED_AUTH, 400)) is not None
        assert "refused this key" in w.refused.message  # type: ignore[union-attr]
        assert w.restart() and w.refused is None and not w.restart()
        err = w.feed(_event(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL, MISMATCH))
        assert err is not None and err.code == "AUTH"
        assert ("does not use CURVE" if curve else "requires CURVE") in err.message
        assert w.restart()
        # ZAP 500: libzmq ends the connection (connect again), but not AUTH.
        assert w.feed(_event(zmq.EVENT_HANDSHAKE_FAILED_AUTH, 500)) is None
        assert "ZAP status 500" in (w.trouble or "") and w.restart()
    w = _curve.HandshakeWatch(True)
    for _ in range(_curve.HANGUPS_MAX - 1):
        assert w.feed(hangup) is None
    assert w.feed(_event(zmq.EVENT_HANDSHAKE_SUCCEEDED)) is None  # the run is broken
    for _ in range(_curve.HANGUPS_MAX - 1):
        assert w.feed(hangup) is None
    assert not w.restart()  # libzmq keeps trying by itself
    err = w.feed(hangup)
    assert err is not None and "public key" in err.message
    assert w.restart() and w.hangups == 0
    plain = _curve.HandshakeWatch(False)
    for _ in range(10 * _curve.HANGUPS_MAX):
        assert plain.feed(hangup) is None  # a plain client counts no hang-ups


# ------------------------------------------------------------ a bare CURVE ROUTER


@pytest.fixture
def curve_router(tmp_path: pathlib.Path) -> Iterator[Any]:
    """A FakeBroker answering every request ok, CURVE server with the keys
    of ``Keys(tmp_path)``; pyzmq's authenticator (a ZAP handler, as the
    broker's) allows the clients whose certificates are in ``zap`` (as
    ``NAME.key``: it reads no other names), none at first."""
    keys = Keys(tmp_path)
    zap = tmp_path / "zap"
    zap.mkdir()
    ctx = zmq.Context.instance()
    auth = ThreadAuthenticator(ctx)
    auth.start()
    auth.configure_curve(domain="*", location=str(zap))
    _, secret = zmq.auth.load_certificate(str(keys.broker) + "_secret")

    def ok(h: Dict[str, Any]) -> Any:
        return [_codec.encode_reply({"id": h["id"], "ok": True})]

    fake = FakeBroker(ok, setup=lambda s: (s.setsockopt(zmq.CURVE_SERVER, 1),
                                           s.setsockopt(zmq.CURVE_SECRETKEY, secret)))
    def allow(name: str) -> None:
        shutil.copy(getattr(keys, name), zap / f"{name}.key")
        auth.configure_curve(domain="*", location=str(zap))

    fake.keys = keys  # type: ignore[attr-defined]
    fake.allow = allow  # type: ignore[attr-defined]
    yield fake
    fake.close()
    auth.stop()


def test_refused_then_allowed(curve_router: Any) -> None:
    """A refused client's next call connects again: once its key is
    allowed, it works (libzmq itself never retries after a refusal)."""
    keys = curve_router.keys
    with zaio.Client(curve_router.endpoint, timeout=CALL_TIMEOUT, curve_server=keys.broker,
                     curve_cert=keys.stranger) as c:
        with pytest.raises(zaio.AuthFailed):
            c.ping()
        curve_router.allow("stranger")
        c.ping()


def test_refused_then_allowed_asyncio(curve_router: Any) -> None:
    keys = curve_router.keys

    async def main() -> None:
        async with zaio.asyncio.Client(curve_router.endpoint, timeout=CALL_TIMEOUT,
                                       curve_server=keys.broker,
                                       curve_cert=keys.stranger) as c:
            with pytest.raises(zaio.AuthFailed):
                await c.ping()
            curve_router.allow("stranger")
            await asyncio.gather(*(c.ping() for _ in range(5)))
    asyncio.run(main())


def test_refused_subscriber(tmp_path: pathlib.Path) -> None:
    """An event stream whose key the publisher refuses raises AuthFailed,
    promptly and on every later receive (libzmq does not retry it)."""
    keys = Keys(tmp_path)
    ctx = zmq.Context.instance()
    auth = ThreadAuthenticator(ctx)
    auth.start()
    (tmp_path / "nobody").mkdir()
    auth.configure_curve(domain="*", location=str(tmp_path / "nobody"))
    pub = ctx.socket(zmq.PUB)
    pub.setsockopt(zmq.LINGER, 0)
    pub.setsockopt(zmq.CURVE_SERVER, 1)
    pub.setsockopt(zmq.CURVE_SECRETKEY, zmq.auth.load_certificate(str(keys.broker) + "_secret")[1])
    pub.bind("tcp://127.0.0.1:*")
    endpoint = pub.getsockopt_string(zmq.LAST_ENDPOINT)
    stream_keys = _curve.curve_keys(keys.broker, keys.stranger)
    try:
        with zaio.EventStream(endpoint, keys=stream_keys) as s:
            for _ in range(2):
                start = time.monotonic()
                with pytest.raises(zaio.AuthFailed, match="subscriber"):
                    s.recv(timeout=CALL_TIMEOUT)
                assert time.monotonic() - start < PROMPT

        async def main() -> None:
            async with zaio.asyncio.EventStream(endpoint, keys=stream_keys) as s:
                start = time.monotonic()
                with pytest.raises(zaio.AuthFailed):
                    await s.recv()  # no timeout at all
                assert time.monotonic() - start < PROMPT
        asyncio.run(main())
    finally:
        pub.close(linger=0)
        auth.stop()


# ------------------------------------------------------------ a real broker


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Keys:
    return Keys(tmp_path_factory.mktemp("curve"))


@pytest.fixture(scope="module")
def secure(keys: Keys) -> Iterator[Broker]:
    """A broker that requires CURVE on tcp (clients and events)."""
    broker_binary()
    tmp = _short_tmp()
    config = tmp / "zaio.cfg"
    config.write_text(GRANTS)
    b = Broker(tmp, ["--workers", "2", "--config", str(config),
                     "--curve-cert", str(keys.broker), "--client-certs", str(keys.clients)])
    yield b
    code = b.stop()
    log = b.log_path.read_text(errors="replace")[-4000:]
    shutil.rmtree(tmp, ignore_errors=True)
    assert code == 0, f"broker exit code {code}: {log}"


def sync_client(secure: Broker, keys: Keys, who: str, **kw: Any) -> zaio.Client:
    return zaio.Client(secure.tcp, events=secure.events, timeout=CALL_TIMEOUT,
                       curve_server=keys.broker, curve_cert=getattr(keys, who), **kw)


def async_client(secure: Broker, keys: Keys, who: str) -> zaio.asyncio.Client:
    return zaio.asyncio.Client(secure.tcp, events=secure.events, timeout=CALL_TIMEOUT,
                               curve_server=keys.broker, curve_cert=getattr(keys, who))


def test_allowed_client_works(secure: Broker, keys: Keys) -> None:
    with sync_client(secure, keys, "alice") as c:
        assert c.writefile("alice.txt", b"over curve") == 10
        assert bytes(c.readfile("alice.txt")) == b"over curve"
        assert "default" in [v.name for v in c.hello().volumes]
    assert secure.path("alice.txt").read_bytes() == b"over curve"


def test_allowed_client_works_asyncio(secure: Broker, keys: Keys) -> None:
    async def main() -> None:
        async with async_client(secure, keys, "alice") as c:
            await c.writefile("alice-async.txt", b"x" * 4096)
            parts = await asyncio.gather(*(c.read("alice-async.txt", i * 512, 512)
                                           for i in range(8)))
            assert b"".join(parts) == b"x" * 4096
    asyncio.run(main())


def test_events_over_curve(secure: Broker, keys: Keys) -> None:
    """The event stream subscribes with the client's keys (the ready
    handshake sees a ping event over the CURVE SUB socket)."""
    with sync_client(secure, keys, "alice") as c, c.events("err.unlink.") as errors:
        with pytest.raises(zaio.NotFound):
            c.unlink("never-was")
        ev = errors.recv(timeout=CALL_TIMEOUT)
        assert (ev.op, ev.error, ev.path) == ("unlink", "ENOENT", "never-was")


def test_unknown_key_is_auth(secure: Broker, keys: Keys) -> None:
    """A key not among --client-certs: AUTH at once, not a timeout; and
    again on the next call, which connects again."""
    with sync_client(secure, keys, "stranger") as c:
        for _ in range(2):
            start = time.monotonic()
            with pytest.raises(zaio.AuthFailed) as info:
                c.stat("anything")
            assert time.monotonic() - start < PROMPT
            assert info.value.code == "AUTH" and info.value.op == "stat"
            assert "refused" in info.value.message


def test_unknown_key_cannot_subscribe(secure: Broker, keys: Keys) -> None:
    """Subscribers authenticate like clients: an unknown key's event stream
    is refused (AUTH), not left waiting."""
    stream_keys = _curve.curve_keys(keys.broker, keys.stranger)
    with zaio.EventStream(secure.events, keys=stream_keys) as s:
        start = time.monotonic()
        with pytest.raises(zaio.AuthFailed):
            s.recv(timeout=CALL_TIMEOUT)
        assert time.monotonic() - start < PROMPT


def test_unknown_key_is_auth_asyncio(secure: Broker, keys: Keys) -> None:
    async def main() -> None:
        async with async_client(secure, keys, "stranger") as c:
            start = time.monotonic()
            results = await asyncio.gather(*(c.stat(f"f{i}") for i in range(10)),
                                           return_exceptions=True)
            assert time.monotonic() - start < PROMPT
            assert all(isinstance(r, zaio.AuthFailed) for r in results), results
            assert [r.path for r in results] == [f"f{i}" for i in range(10)]  # type: ignore
            assert c.inflight == 0
            with pytest.raises(zaio.AuthFailed):
                await c.ping()
    asyncio.run(main())


#: Every op that writes, as a call on a client (path "ro.txt" exists).
WRITE_OPS: Dict[str, Callable[[Any], Any]] = {
    "write": lambda c: c.write("ro.txt", 0, b"XX"),
    "write-create": lambda c: c.write("ro-new.txt", 0, b"XX", create=True),
    "append": lambda c: c.append("ro.txt", b"XX"),
    "writefile": lambda c: c.writefile("ro.txt", b"XX"),
    "truncate": lambda c: c.truncate("ro.txt", 0),
    "unlink": lambda c: c.unlink("ro.txt"),
    "rename": lambda c: c.rename("ro.txt", "ro-moved.txt"),
    "copy": lambda c: c.copy("ro.txt", "ro-copy.txt"),
    "mkdir": lambda c: c.mkdir("ro-dir"),
    "rmdir": lambda c: c.rmdir("ro-keep"),
}


def test_read_only_grant(secure: Broker, keys: Keys) -> None:
    """``default = ro``: reads work, every write op is EACCES, and the
    files are as they were."""
    with zaio.Client(secure.ipc, timeout=CALL_TIMEOUT) as local:  # ipc: all rights
        local.writefile("ro.txt", b"original")
        local.mkdir("ro-keep")
    before = secure.path("ro.txt").stat()
    with sync_client(secure, keys, "reader") as c:
        assert bytes(c.readfile("ro.txt")) == b"original"
        assert c.stat("ro.txt").size == 8
        for name, call in WRITE_OPS.items():
            with pytest.raises(zaio.PermissionDenied) as info:
                call(c)
            assert info.value.code == "EACCES", name
        assert [v.name for v in c.hello().volumes] == ["default"]
    assert secure.path("ro.txt").read_bytes() == b"original"
    after = secure.path("ro.txt").stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == \
        (before.st_ino, before.st_mtime_ns, before.st_size)
    assert secure.path("ro-keep").is_dir()
    for absent in ("ro-new.txt", "ro-moved.txt", "ro-copy.txt", "ro-dir"):
        assert not secure.path(absent).exists(), absent


def test_volume_not_granted(secure: Broker, keys: Keys) -> None:
    """A client granted only ``scratch``: ``default`` is NOVOLUME, as if it
    did not exist (``hello`` naming it too), and ``hello`` does not list
    it."""
    with zaio.Client(secure.ipc, timeout=CALL_TIMEOUT) as local:
        local.writefile("hidden.txt", b"secret")
    with sync_client(secure, keys, "other") as c:
        for call in (lambda: c.stat("hidden.txt"), lambda: c.readfile("hidden.txt"),
                     lambda: c.stat("no-such-file"), lambda: c.writefile("hidden.txt", b"x")):
            with pytest.raises(zaio.NoVolume):
                call()
        assert "default" not in [v.name for v in c.hello().volumes]
        # hello names a volume only when asked to, and is then answered
        # as every op naming it.
        with pytest.raises(zaio.NoVolume):
            c.hello(volume="default")
    assert secure.path("hidden.txt").read_bytes() == b"secret"


def test_plain_client_is_refused(secure: Broker) -> None:
    """No CURVE against the CURVE tcp endpoint: never served, nothing
    written. AUTH ("requires CURVE") when libzmq reports the mechanism
    mismatch; but the broker's end of the refused handshake may reset the
    connection before the client has read the broker's greeting, and
    libzmq then reports a plain hang-up on every attempt, which a plain
    client cannot tell from a broker gone: the call then times out."""
    def check(e: BaseException, op: str, path: Optional[str]) -> None:
        assert isinstance(e, (zaio.AuthFailed, zaio.Timeout)), repr(e)
        if isinstance(e, zaio.AuthFailed):
            assert "requires CURVE" in e.message, e.message
        assert e.op == op and e.path == path

    with zaio.Client(secure.tcp, timeout=PLAIN_TIMEOUT) as c:
        for _ in range(2):
            with pytest.raises((zaio.AuthFailed, zaio.Timeout)) as info:
                c.writefile("plain.txt", b"no")
            check(info.value, "writefile", "plain.txt")
    assert not secure.path("plain.txt").exists()

    async def main() -> None:
        async with zaio.asyncio.Client(secure.tcp, timeout=PLAIN_TIMEOUT) as c:
            results = await asyncio.gather(*(c.ping() for _ in range(5)),
                                           return_exceptions=True)
            for r in results:
                check(r, "ping", None)
    asyncio.run(main())


def test_wrong_server_key_is_auth(secure: Broker, keys: Keys) -> None:
    """Alice's own key as the broker's: the broker cannot read her HELLO and
    hangs up in every handshake. After HANGUPS_MAX of them in a row that is
    AUTH, its message saying what to check, well before the call's
    timeout; the next call connects again and is AUTH again."""
    with zaio.Client(secure.tcp, timeout=CALL_TIMEOUT, curve_server=keys.alice,
                     curve_cert=keys.alice) as c:
        for _ in range(2):
            start = time.monotonic()
            with pytest.raises(zaio.AuthFailed) as info:
                c.writefile("wrong-key.txt", b"no")
            assert time.monotonic() - start < PROMPT
            assert "public key" in info.value.message, info.value.message
    assert not secure.path("wrong-key.txt").exists()

    async def main() -> None:
        async with zaio.asyncio.Client(secure.tcp, timeout=CALL_TIMEOUT,
                                       curve_server=keys.alice, curve_cert=keys.alice) as c:
            for _ in range(2):
                start = time.monotonic()
                results = await asyncio.gather(*(c.stat(f"w{i}") for i in range(5)),
                                               return_exceptions=True)
                assert time.monotonic() - start < PROMPT
                assert all(isinstance(r, zaio.AuthFailed) for r in results), results
                assert c.inflight == 0
    asyncio.run(main())


def test_wrong_server_key_cannot_subscribe(secure: Broker, keys: Keys) -> None:
    """The event streams follow the same rule: AUTH, promptly, for good."""
    stream_keys = _curve.curve_keys(keys.alice, keys.alice)
    with zaio.EventStream(secure.events, keys=stream_keys) as s:
        for _ in range(2):
            start = time.monotonic()
            with pytest.raises(zaio.AuthFailed, match="subscriber.*public key"):
                s.recv(timeout=CALL_TIMEOUT)
            assert time.monotonic() - start < PROMPT

    async def main() -> None:
        async with zaio.asyncio.EventStream(secure.events, keys=stream_keys) as s:
            start = time.monotonic()
            with pytest.raises(zaio.AuthFailed):
                await s.recv()  # no timeout at all
            assert time.monotonic() - start < PROMPT
    asyncio.run(main())


def test_plain_subscriber_is_refused(secure: Broker) -> None:
    """No CURVE at the CURVE events endpoint: no event, ever. AUTH when
    libzmq reports the mismatch, else (only hang-ups, as for a plain
    client above) no event within the timeout."""
    with zaio.EventStream(secure.events) as s:
        with pytest.raises((zaio.AuthFailed, zaio.Timeout)) as info:
            s.recv(timeout=PLAIN_TIMEOUT)
        if isinstance(info.value, zaio.AuthFailed):
            assert "requires CURVE" in info.value.message, info.value.message


def test_curve_client_against_plain_broker_is_auth(broker: Broker, keys: Keys) -> None:
    """CURVE against a broker without it: AUTH, either from the mismatch
    ("does not use CURVE") or, when the broker hangs up first on every
    attempt, from the every-attempt rule ("does it use CURVE?")."""
    with zaio.Client(broker.tcp, timeout=CALL_TIMEOUT, curve_server=keys.broker,
                     curve_cert=keys.alice) as c:
        for _ in range(2):
            start = time.monotonic()
            with pytest.raises(zaio.AuthFailed, match="CURVE"):
                c.ping()
            assert time.monotonic() - start < PROMPT

    async def main() -> None:
        async with zaio.asyncio.Client(broker.tcp, timeout=CALL_TIMEOUT,
                                       curve_server=keys.broker, curve_cert=keys.alice) as c:
            start = time.monotonic()
            results = await asyncio.gather(*(c.ping() for _ in range(5)),
                                           return_exceptions=True)
            assert time.monotonic() - start < PROMPT
            assert all(isinstance(r, zaio.AuthFailed) for r in results), results
    asyncio.run(main())

    with zaio.EventStream(broker.events, keys=_curve.curve_keys(keys.broker, keys.alice)) as s:
        start = time.monotonic()
        with pytest.raises(zaio.AuthFailed, match="CURVE"):
            s.recv(timeout=CALL_TIMEOUT)
        assert time.monotonic() - start < PROMPT
