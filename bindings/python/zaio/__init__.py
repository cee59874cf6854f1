"""zaio: a client for the zaio IO broker (protocol ZAIO/1 over ZeroMQ).

``zaio.Client`` is the blocking client, ``zaio.asyncio.Client`` the asyncio
one; both have a method per protocol op with the op's name and the
protocol's field names and order (``read(path, offset, length)``,
``rename(path, to)``...), each taking keyword ``timeout=`` and ``volume=``.
Errors are :class:`zaio.Error` subclasses carrying the protocol's error name
in ``code``; POSIX ones are also the matching built-in ``OSError`` subclass.
"""

from ._base import DEFAULT
from ._codec import SIGNATURE
from ._types import DirEntry, Event, Hello, Limits, Listing, ReadResult, Reply, Stat, VolumeInfo
from .client import Client, EventStream
from .errors import (AuthFailed, BadReply, BadVersion, ClientError, Closed, Error, Exists,
                     Internal, IsADirectory, Malformed, NotADirectory, NotFound, NoVolume,
                     PermissionDenied, PosixError, ProtocolError, QueueFull, Shutdown, TimedOut,
                     Timeout, TooBig, UnknownOp, UnknownOutcome, error_for)

from . import asyncio  # noqa: E402  (zaio.asyncio.Client after a plain `import zaio`)

__version__ = "0.1.0"

__all__ = [
    "Client", "EventStream", "asyncio", "DEFAULT", "SIGNATURE",
    "Stat", "DirEntry", "Listing", "Limits", "VolumeInfo", "Hello", "ReadResult", "Event",
    "Reply",
    "Error", "PosixError", "NotFound", "Exists", "IsADirectory", "NotADirectory",
    "PermissionDenied", "TimedOut", "ProtocolError", "BadVersion", "Malformed", "UnknownOp",
    "TooBig", "QueueFull", "Shutdown", "NoVolume", "UnknownOutcome", "Internal", "ClientError",
    "Timeout", "Closed", "BadReply", "AuthFailed", "error_for",
]
