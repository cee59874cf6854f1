"""CURVE for both clients: loading the keys (``curve_server=``,
``curve_cert=``), setting them on a socket, and reading what the socket
monitor says about handshakes.

Certificates are czmq's ZPL files, as ``zaio keygen`` and pyzmq's
``zmq.auth.create_certificates`` write them: ``NAME`` holds the public key,
``NAME_secret`` both keys.

What a client can tell about a failed handshake (libzmq 4.3) is in its
socket monitor; :class:`HandshakeWatch` turns that into a verdict, by the
rules libzaio and the Node client follow too: AUTH
(:class:`zaio.AuthFailed`) for a key the broker refused (ZAP status 400),
for a mechanism mismatch (one side CURVE, the other not), and, only under
CURVE, for a broker that hung up in the handshake on :data:`HANGUPS_MAX`
attempts in a row (a wrong ``curve_server`` key shows as nothing else).
After a verdict the client stops connecting, fails every waiting call with
AUTH, and its next call connects again; an event stream raises AUTH from
then on.
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

#: Handshakes in a row that a CURVE client may see the broker hang up on
#: before that is AUTH: as many as libzaio's connection attempts (its
#: ``retries`` + 1, 4 by default), under a second at libzmq's default
#: ``reconnect_ivl``.
HANGUPS_MAX = 4

_ENDED = int(zmq.EVENT_HANDSHAKE_FAILED_AUTH) | int(zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL)
_HANGUP = int(zmq.EVENT_HANDSHAKE_FAILED_NO_DETAIL)
_SUCCEEDED = int(zmq.EVENT_HANDSHAKE_SUCCEEDED)


def watched(curve: bool) -> int:
    """The monitor events a socket's verdict needs: the failures that end
    a connection, and under CURVE the hang-ups and the successes that end
    a run of them (a plain client does not count hang-ups: with no keys,
    a port that is not a broker's looks the same)."""
    return _ENDED | (_HANGUP | _SUCCEEDED if curve else 0)


_monitors = itertools.count(1)


def open_monitor(sock: zmq.Socket, context: Any, curve: bool) -> Any:
    """A PAIR socket from ``context`` that receives the events of
    ``sock`` that :class:`HandshakeWatch` reads. Close it (linger 0)
    before or after ``sock``.

    Its queue has no limit (``RCVHWM`` 0, set before it connects): libzmq
    sends monitor events blocking, so a monitor that falls behind by its
    high-water mark would stall the context's I/O thread and every socket
    on it. Hang-ups repeat every ``reconnect_ivl`` while a broker turns
    this client away, and the blocking client reads them only while a call
    waits; a verdict stops the connecting, and with it the events."""
    endpoint = f"inproc://zaio.monitor.{os.getpid()}.{next(_monitors)}"
    sock.monitor(endpoint, watched(curve))
    mon = context.socket(zmq.PAIR)
    mon.setsockopt(zmq.LINGER, 0)
    mon.setsockopt(zmq.RCVHWM, 0)
    mon.connect(endpoint)
    return mon


def stop(sock: zmq.Socket, endpoint: str) -> None:
    """Stop ``sock`` connecting to ``endpoint`` (after a verdict of AUTH:
    trying again would fail the same way)."""
    try:
        sock.disconnect(endpoint)
    except zmq.ZMQError:
        pass  # already gone


def reconnect(sock: zmq.Socket, endpoint: str) -> None:
    """Connect ``sock`` to ``endpoint`` again, after libzmq or a verdict
    gave up on it."""
    stop(sock, endpoint)
    sock.connect(endpoint)


class HandshakeWatch:
    """The verdict on a socket's handshakes, from its monitor's events,
    without IO: the one place both clients and both event streams decide
    that a failed handshake is AUTH, by libzaio's rules (PROTOCOL.md 6.1
    and 11):

    * the broker refused our key (``HANDSHAKE_FAILED_AUTH``, ZAP status
      400);
    * one side uses CURVE and the other not (``HANDSHAKE_FAILED_PROTOCOL``,
      mechanism mismatch), whether or not we use CURVE; and a CURVE peer
      that fails authentication (ZMTP cryptographic error);
    * only when we use CURVE: the broker took the TCP connection and hung
      up in the handshake (``HANDSHAKE_FAILED_NO_DETAIL``) on
      :data:`HANGUPS_MAX` attempts in a row, no handshake succeeding in
      between: how a wrong ``curve_server`` key shows (the broker cannot
      open our HELLO). One hang-up is not AUTH (a broker killed in the
      handshake looks the same), nor is ZAP status 500 or 300.

    libzmq gives up on a connection at any ``HANDSHAKE_FAILED_AUTH`` or
    ``_PROTOCOL`` event; the caller stops connecting after a hang-up
    verdict. Either way :meth:`restart` then says to connect again.

    :ivar refused: the :class:`zaio.AuthFailed` of the verdict, until
        :meth:`restart`.
    :ivar trouble: why the last handshake failed, for a timeout's message
        (``None`` once one succeeds, or after :meth:`restart`).
    """

    def __init__(self, curve: bool, who: str = "client") -> None:
        self.curve = curve
        self.who = who
        self.refused: Optional[AuthFailed] = None
        self.trouble: Optional[str] = None
        self.hangups = 0
        self._ended = False  # libzmq (or a verdict) ended the connection

    def feed(self, frames: List[Any]) -> Optional[AuthFailed]:
        """Take one monitor message; the verdict so far (the error for
        waiting calls), or None."""
        raw = [bytes(f) for f in frames]
        if len(raw) != 2 or len(raw[0]) != 6:
            return self.refused
        event, value = struct.unpack("=HI", raw[0])
        if self.refused is not None:
            return self.refused  # decided: the rest is the same connection's end
        endpoint = raw[1].decode("utf-8", "replace")
        why = None
        if event == _SUCCEEDED:
            self.hangups = 0
            self.trouble = None
        elif event == _HANGUP:
            self.hangups += 1
            self.trouble = f"the broker hung up in the handshake ({self.hangups} in a row)"
            if self.curve and self.hangups >= HANGUPS_MAX:
                why = (f"hung up in the CURVE handshake on every attempt ({self.hangups} in a "
                       f"row): is the broker's public key the right one, and does it use CURVE?")
        elif event & _ENDED:
            self._ended = True
            why = refusal(event, value, self.curve)
            self.trouble = why or _trouble(event, value)
        if why is not None:
            self._ended = True
            where = f"broker at {endpoint}" + (f", as a {self.who}" if self.who != "client"
                                               else "")
            self.refused = AuthFailed(message=f"{where}: {why}")
        return self.refused

    def restart(self) -> bool:
        """Whether the socket must connect again before its next use (the
        last connection was ended, by libzmq or by a verdict); forgets
        the verdict and the run of hang-ups."""
        if not self._ended:
            return False
        self.refused = self.trouble = None
        self.hangups = 0
        self._ended = False
        return True


#: ZMQ_PROTOCOL_ERROR_ZMTP_* (not named by older pyzmq).
_MECHANISM_MISMATCH = getattr(zmq, "PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH", 0x11000002)
_CRYPTOGRAPHIC = getattr(zmq, "PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC", 0x11000001)
#: ZAP status code of a refused peer (RFC 27).
_ZAP_REFUSED = 400


def refusal(event: int, value: int, curve: bool) -> Optional[str]:
    """Why the broker refused the handshake for good, if the monitor
    ``event`` (with its ``value``) says it did; None if it does not (the
    broker may do better on the next connection). As libzaio's
    ``zaio_curve_refusal``; ``curve``: whether we use CURVE."""
    if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH and value == _ZAP_REFUSED:
        return "the broker refused this key (unknown, or not allowed here)"
    if event != zmq.EVENT_HANDSHAKE_FAILED_PROTOCOL:
        return None
    if value == _MECHANISM_MISMATCH:
        if curve:
            return "the broker does not use CURVE"
        return ("the broker requires CURVE: give its public certificate and ours "
                "(curve_server= and curve_cert=)")
    if value == _CRYPTOGRAPHIC:
        return "the broker failed CURVE authentication: is its public key the right one?"
    return None


def _trouble(event: int, value: int) -> str:
    """Why a handshake failed that is not a refusal, for a timeout's message."""
    if event == zmq.EVENT_HANDSHAKE_FAILED_AUTH:
        return (f"the broker could not authenticate this client (ZAP status {value}: "
                f"{'try again later' if value == 300 else 'its fault'})")
    return f"the handshake broke the protocol (libzmq error 0x{value:x})"
