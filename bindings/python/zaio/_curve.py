"""CURVE for both clients: loading the keys (``curve_server=``,
``curve_cert=``), setting them on a socket, and reading what the socket
monitor says about handshakes.

Certificates are czmq's ZPL files, as ``zaio keygen`` and pyzmq's
``zmq.auth.create_certificates`` write them: ``NAME`` holds the public key,
``NAME_secret`` both keys.

What a client can tell about a failed handshake (libzmq 4.3):

* the broker refused its key (ZAP status 400): the monitor reports
  ``HANDSHAKE_FAILED_AUTH`` and libzmq drops the connection for good;
  waiting calls raise :class:`zaio.AuthFailed` (``AUTH``);
* one side uses CURVE and the other not: ``HANDSHAKE_FAILED_PROTOCOL``
  (mechanism mismatch), also for good; calls time out, and the timeout's
  message says why;
* a wrong ``curve_server`` key: the broker cannot decrypt the client's
  HELLO and closes the connection; libzmq reports only
  ``HANDSHAKE_FAILED_NO_DETAIL``, as for any connection lost during a
  handshake, and retries every ``reconnect_ivl``. Calls time out. This one
  is not watched at all: an event that repeats forever would fill the
  monitor's queue while no call reads it, and a full monitor queue blocks
  the context's I/O thread (every socket of the context stalls).

The two watched failures end a connection for good, so each can happen
once per connect: the monitor queue stays bounded even while the client
is idle. After either, the client's next call connects again.
"""

from __future__ import annotations

import itertools
import os
import re
import struct
from typing import Any, List, NamedTuple, Optional, Union

import zmq
import zmq.auth

from .errors import AuthFailed

#: A file path (``str`` or path-like) or, for ``curve_server``, a z85 key.
KeyArg = Union[str, "os.PathLike[str]"]

_Z85_KEY = re.compile(r"[0-9a-zA-Z.\-:+=^!/*?&<>()\[\]{}@%$#]{40}")


class CurveKeys(NamedTuple):
    """The z85 keys a CURVE client socket needs."""

    server: bytes
    public: bytes
    secret: bytes


def curve_keys(curve_server: Optional[KeyArg],
               curve_cert: Optional[KeyArg]) -> Optional[CurveKeys]:
    """The keys of a client made with ``curve_server`` and ``curve_cert``
    (both or neither: ValueError), or None without CURVE.

    ``curve_server``: the broker's public certificate file (``PATH`` or
    ``PATH_secret``; only the public key is used) or its z85 public key.
    ``curve_cert``: the client's certificate, which must hold the secret
    key: ``PATH_secret`` is tried first, then ``PATH`` (as czmq's
    ``zcert_load``). A missing file is FileNotFoundError, a file without
    the key needed ValueError."""
    if curve_server is None and curve_cert is None:
        return None
    if curve_server is None or curve_cert is None:
        raise ValueError("curve_server and curve_cert go together: give both or neither")
    server = _server_key(curve_server)
    public, secret = _client_keys(curve_cert)
    return CurveKeys(server, public, secret)


def _server_key(value: KeyArg) -> bytes:
    path = os.fspath(value)
    if not isinstance(path, str):
        raise TypeError("curve_server must be a path or a z85 key (str)")
    if os.path.exists(path):
        public, _ = _load(path)
        return public
    if _Z85_KEY.fullmatch(path):
        return path.encode("ascii")
    raise FileNotFoundError(f"curve_server: no certificate file {path!r} "
                            f"(nor is it a 40-character z85 key)")


def _client_keys(value: KeyArg) -> "tuple[bytes, bytes]":
    path = os.fspath(value)
    if not isinstance(path, str):
        raise TypeError("curve_cert must be a path (str or path-like)")
    for candidate in (path + "_secret", path):
        if os.path.exists(candidate):
            public, secret = _load(candidate)
            if secret is None:
                raise ValueError(f"curve_cert: {candidate!r} holds no secret key "
                                 f"(give the secret certificate, NAME_secret)")
            return public, secret
    raise FileNotFoundError(f"curve_cert: no certificate file {path!r} nor {path + '_secret'!r}")


def _load(path: str) -> "tuple[bytes, Optional[bytes]]":
    """The keys of a certificate file, each checked to be a z85 key."""
    try:
        public, secret = zmq.auth.load_certificate(path)
    except ValueError as e:
        raise ValueError(f"{path!r} is not a CURVE certificate: {e}") from None
    for name, key in (("public-key", public), ("secret-key", secret)):
        if key is not None and not _Z85_KEY.fullmatch(key.decode("latin-1")):
            raise ValueError(f"{path!r}: {name} is not a 40-character z85 key")
    return public, secret


def apply(sock: zmq.Socket, keys: Optional[CurveKeys]) -> None:
    """Make ``sock`` a CURVE client with ``keys`` (before it connects)."""
    if keys is not None:
        sock.setsockopt(zmq.CURVE_SERVERKEY, keys.server)
        sock.setsockopt(zmq.CURVE_PUBLICKEY, keys.public)
        sock.setsockopt(zmq.CURVE_SECRETKEY, keys.secret)


# ------------------------------------------------------------ the monitor

#: Only failures that end a connection for good (see the module's doc).
WATCHED = int(zmq.EVENT_HANDSHAKE_FAILED_AUTH) | int(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL)

_monitors = itertools.count(1)


def open_monitor(sock: zmq.Socket, context: Any) -> Any:
    """A PAIR socket from ``context`` that receives ``sock``'s handshake
    failures. Close it (linger 0) before or after ``sock``."""
    endpoint = f"inproc://zaio.monitor.{os.getpid()}.{next(_monitors)}"
    sock.monitor(endpoint, WATCHED)
    mon = context.socket(zmq.PAIR)
    mon.setsockopt(zmq.LINGER, 0)
    mon.connect(endpoint)
    return mon


def reconnect(sock: zmq.Socket, endpoint: str) -> None:
    """Connect ``sock`` to ``endpoint`` again, after libzmq gave up on it."""
    try:
        sock.disconnect(endpoint)
    except zmq.ZMQError:
        pass  # already gone
    sock.connect(endpoint)


class HandshakeWatch:
    """What the monitor said about the client's handshakes, without IO.

    :ivar refused: the :class:`zaio.AuthFailed` of the last refusal, until
        the client connects again.
    :ivar trouble: why the last handshake failed, for a timeout's message
        (``None`` once the client connects again).
    """

    def __init__(self, curve: bool) -> None:
        self.curve = curve
        self.refused: Optional[AuthFailed] = None
        self.trouble: Optional[str] = None

    def feed(self, frames: List[Any]) -> Optional[AuthFailed]:
        """Take one monitor message; the error to raise to waiting calls,
        if it is a refusal."""
        raw = [bytes(f) for f in frames]
        if len(raw) != 2 or len(raw[0]) != 6:
            return None
        event, value = struct.unpack("=HI", raw[0])
        endpoint = raw[1].decode("utf-8", "replace")
        if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
            self.trouble = f"the broker refused this client (ZAP status {value})"
            self.refused = AuthFailed(message=_refusal(value, endpoint, self.curve))
            return self.refused
        if event == zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
            self.trouble = _protocol_trouble(value, self.curve)
        return None

    def restart(self) -> bool:
        """Whether the client must connect again before its next request
        (a watched failure ended the connection); forgets the failure."""
        if self.refused is None and self.trouble is None:
            return False
        self.refused = self.trouble = None
        return True


def _refusal(status: int, endpoint: str, curve: bool) -> str:
    who = "this client's key" if curve else "this client"
    if status == 400:
        return f"the broker at {endpoint} refused {who} during the handshake"
    return (f"the broker at {endpoint} could not authenticate {who} "
            f"(ZAP status {status}: {'try again later' if status == 300 else 'its fault'})")


#: ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH (not named by older pyzmq).
_MECHANISM_MISMATCH = getattr(zmq, "PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH", 0x11000002)


def _protocol_trouble(code: int, curve: bool) -> str:
    if code == _MECHANISM_MISMATCH:
        if curve:
            return "the broker does not use CURVE on this endpoint (mechanism mismatch)"
        return ("the broker requires CURVE on this endpoint (mechanism mismatch): "
                "give curve_server= and curve_cert=")
    return f"the handshake broke the protocol (libzmq error 0x{code:x})"
