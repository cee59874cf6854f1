"""Exceptions raised by zaio clients.

Every error is a :class:`zaio.Error` whose ``code`` is the error name the
broker sent (``"ENOENT"``, ``"QUEUE_FULL"``...) or, for failures the client
detects itself, a name of its own (``"TIMEOUT"``, ``"CLOSED"``,
``"BAD_REPLY"``, ``"AUTH"``). Code that handles errors acts on ``code`` or on the class,
never on the message (PROTOCOL.md section 6).

POSIX errors are also :class:`OSError` with ``errno`` set, and where Python
has a built-in subclass for the errno the zaio class is an instance of it
too, so ``except FileNotFoundError`` works as it would for local IO::

    try:
        client.stat("missing")
    except FileNotFoundError as e:      # also zaio.NotFound, zaio.Error
        assert e.code == "ENOENT" and e.errno == errno.ENOENT
"""

from __future__ import annotations

import errno as _errno
from typing import Any, Dict, Optional, Tuple, Type

__all__ = [
    "Error",
    "PosixError",
    "NotFound",
    "Exists",
    "IsADirectory",
    "NotADirectory",
    "PermissionDenied",
    "TimedOut",
    "ProtocolError",
    "BadVersion",
    "Malformed",
    "UnknownOp",
    "TooBig",
    "QueueFull",
    "Shutdown",
    "NoVolume",
    "UnknownOutcome",
    "Internal",
    "ClientError",
    "Timeout",
    "Closed",
    "BadReply",
    "AuthFailed",
    "error_for",
]


class Error(Exception):
    """Base class of every zaio error.

    :ivar code: the error name, e.g. ``"ENOENT"`` or ``"QUEUE_FULL"``.
    :ivar message: human-readable detail (do not parse it).
    :ivar path: the request's ``path``, when it had one.
    :ivar op: the request's op, when known.
    :ivar id: the request id the broker's reply carried (``None`` for
        errors the client detected itself); events carry the same id.
    """

    #: The error name this class stands for (the default for ``code``).
    default_code: str = "ERROR"

    def __init__(self, code: Optional[str] = None, message: str = "", *,
                 path: Optional[str] = None, op: Optional[str] = None,
                 id: Optional[int] = None) -> None:
        self.code: str = code if code is not None else self.default_code
        self.message: str = message
        self.path: Optional[str] = path
        self.op: Optional[str] = op
        self.id: Optional[int] = id
        self._init_base()

    def _init_base(self) -> None:
        Exception.__init__(self, self.code, self.message)

    def __str__(self) -> str:
        text = f"{self.code}: {self.message}" if self.message else self.code
        if self.op is not None and self.path is not None:
            text += f" ({self.op} {self.path!r})"
        elif self.op is not None:
            text += f" ({self.op})"
        return text

    def __reduce__(self) -> Tuple[Any, ...]:
        return (_rebuild, (type(self), self.code, self.message, self.path, self.op, self.id))


def _rebuild(cls: Type[Error], code: str, message: str, path: Optional[str],
             op: Optional[str], id: Optional[int] = None) -> Error:
    return cls(code, message, path=path, op=op, id=id)


class PosixError(Error, OSError):
    """A POSIX error from the broker's system call; also an :class:`OSError`.

    ``errno`` is this platform's number for ``code`` (``None`` if it has
    none), ``strerror`` the broker's message and ``filename`` the path.
    """

    default_code = "EIO"

    def _init_base(self) -> None:
        OSError.__init__(self, getattr(_errno, self.code, None), self.message, self.path)


class NotFound(PosixError, FileNotFoundError):
    """``ENOENT``: no such file or directory."""

    default_code = "ENOENT"


class Exists(PosixError, FileExistsError):
    """``EEXIST``: the file or directory exists."""

    default_code = "EEXIST"


class IsADirectory(PosixError, IsADirectoryError):
    """``EISDIR``: a file operation on a directory."""

    default_code = "EISDIR"


class NotADirectory(PosixError, NotADirectoryError):
    """``ENOTDIR``: a path component or a directory operand is not a directory."""

    default_code = "ENOTDIR"


class PermissionDenied(PosixError, PermissionError):
    """``EACCES`` or ``EPERM``."""

    default_code = "EACCES"


class TimedOut(PosixError, TimeoutError):
    """``ETIMEDOUT`` from the broker: the job's ``deadline`` passed before it
    started, so it did not run. (A client-side timeout is :class:`Timeout`.)"""

    default_code = "ETIMEDOUT"


class ProtocolError(Error):
    """An error of the protocol itself (upper-case names without ``E``)."""

    #: Whether the spec says the request may be sent again as it is.
    retryable: bool = False


class BadVersion(ProtocolError):
    """``BADVERSION``: the broker does not speak ZAIO/1."""

    default_code = "BADVERSION"


class Malformed(ProtocolError):
    """``MALFORMED``: the broker refused the request's frames or fields."""

    default_code = "MALFORMED"


class UnknownOp(ProtocolError):
    """``UNKNOWN_OP``: the broker has no such operation."""

    default_code = "UNKNOWN_OP"


class TooBig(ProtocolError):
    """``TOOBIG``: a size limit was exceeded (header, payload, a field)."""

    default_code = "TOOBIG"


class QueueFull(ProtocolError):
    """``QUEUE_FULL``: the job was not accepted. The client retries these
    itself a few times with a back-off before raising this."""

    default_code = "QUEUE_FULL"
    retryable = True


class Shutdown(ProtocolError):
    """``SHUTDOWN``: the broker is stopping; the job did not run."""

    default_code = "SHUTDOWN"
    retryable = True


class NoVolume(ProtocolError):
    """``NOVOLUME``: no such volume, or no live worker serves it."""

    default_code = "NOVOLUME"


class UnknownOutcome(ProtocolError):
    """``UNKNOWN_OUTCOME``: the worker running a non-idempotent job was lost;
    the job may or may not have taken effect."""

    default_code = "UNKNOWN_OUTCOME"


class Internal(ProtocolError):
    """``INTERNAL``: a broker fault."""

    default_code = "INTERNAL"


class ClientError(Error):
    """A failure the client detected itself; no reply from the broker says so."""


class Timeout(ClientError, TimeoutError):
    """The per-call timeout passed without a reply (``code`` ``"TIMEOUT"``).

    The request may still run on the broker; its late reply is discarded."""

    default_code = "TIMEOUT"


class Closed(ClientError):
    """The client was closed while the request waited (``code`` ``"CLOSED"``)."""

    default_code = "CLOSED"


class BadReply(ClientError):
    """The broker's reply or event broke the protocol (``code`` ``"BAD_REPLY"``)."""

    default_code = "BAD_REPLY"


class AuthFailed(ClientError):
    """Authentication between this client and the broker failed at the
    ZeroMQ handshake, and trying again will not help (``code`` ``"AUTH"``,
    PROTOCOL.md 6.1): the broker refused its CURVE key (not among the
    broker's ``--client-certs``), one side uses CURVE and the other not,
    or, under CURVE, the broker hung up in every handshake of a run (a
    wrong ``curve_server`` key). The client stops connecting; its next
    call connects again."""

    default_code = "AUTH"


_BY_CODE: Dict[str, Type[Error]] = {
    "ENOENT": NotFound,
    "EEXIST": Exists,
    "EISDIR": IsADirectory,
    "ENOTDIR": NotADirectory,
    "EACCES": PermissionDenied,
    "EPERM": PermissionDenied,
    "ETIMEDOUT": TimedOut,
    "BADVERSION": BadVersion,
    "MALFORMED": Malformed,
    "UNKNOWN_OP": UnknownOp,
    "TOOBIG": TooBig,
    "QUEUE_FULL": QueueFull,
    "SHUTDOWN": Shutdown,
    "NOVOLUME": NoVolume,
    "UNKNOWN_OUTCOME": UnknownOutcome,
    "INTERNAL": Internal,
}


def error_for(code: str, message: str = "", *, path: Optional[str] = None,
              op: Optional[str] = None, id: Optional[int] = None) -> Error:
    """The exception for an error reply named ``code``.

    Known names get their own class; other errno names (any name Python's
    :mod:`errno` knows, e.g. ``ENOTEMPTY``, ``EXDEV``) a :class:`PosixError`;
    anything else (a protocol error newer than this client) a plain
    :class:`ProtocolError`.
    """
    cls = _BY_CODE.get(code)
    if cls is None:
        cls = PosixError if hasattr(_errno, code) and code.startswith("E") else ProtocolError
    return cls(code, message, path=path, op=op, id=id)
