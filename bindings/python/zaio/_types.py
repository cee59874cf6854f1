"""Typed results of zaio operations and the completion event record."""

from __future__ import annotations

import stat as _stat
from dataclasses import dataclass
from typing import Any, Dict, List, Optional, Union

__all__ = [
    "Stat",
    "DirEntry",
    "Listing",
    "Limits",
    "VolumeInfo",
    "Hello",
    "ReadResult",
    "Event",
    "Reply",
]


#: The file type bits ``st_mode`` carries for each ``type`` (``"other"``:
#: none, the protocol does not say which kind of special file it is).
_TYPE_BITS = {"file": _stat.S_IFREG, "dir": _stat.S_IFDIR, "symlink": _stat.S_IFLNK}


class _TypeTests:
    """``is_file()``, ``is_dir()`` and ``is_symlink()`` from ``type``, as
    :class:`os.DirEntry` and :class:`pathlib.Path` have them."""

    type: str

    def is_file(self) -> bool:
        """True for a regular file."""
        return self.type == "file"

    def is_dir(self) -> bool:
        """True for a directory."""
        return self.type == "dir"

    def is_symlink(self) -> bool:
        """True for a symbolic link (zaio never follows one)."""
        return self.type == "symlink"


@dataclass(frozen=True)
class Stat(_TypeTests):
    """Result of ``stat``, read like :class:`os.stat_result`: ``st_size``,
    ``st_mode`` (the permission bits and the file type bits, so
    ``stat.S_ISREG(st.st_mode)`` works), ``st_mtime`` (seconds, a float)
    and ``st_mtime_ns``; and ``is_file()``, ``is_dir()``, ``is_symlink()``.

    The protocol's own fields stay: ``type`` is ``"file"``, ``"dir"``,
    ``"symlink"`` or ``"other"`` (a symlink is reported itself, not
    followed), ``size``, ``mode`` (permission bits only, ``st_mode &
    0o7777``) and ``mtime_ns``."""

    type: str
    size: int
    mode: int
    mtime_ns: int

    @property
    def st_size(self) -> int:
        """Size in bytes."""
        return self.size

    @property
    def st_mode(self) -> int:
        """File type and permission bits, as :func:`os.stat` gives them
        (no type bits for ``"other"``)."""
        return _TYPE_BITS.get(self.type, 0) | self.mode

    @property
    def st_mtime(self) -> float:
        """Last modification, in seconds since the epoch."""
        return self.mtime_ns / 1e9

    @property
    def st_mtime_ns(self) -> int:
        """Last modification, in nanoseconds since the epoch."""
        return self.mtime_ns


@dataclass(frozen=True)
class DirEntry(_TypeTests):
    """One entry of a ``listdir`` page (symlinks are not followed).

    ``name`` is ``bytes`` for a name that is not UTF-8 (the broker sends
    such names as msgpack bin): its raw bytes, as ``os.listdir`` of a
    bytes path gives them. Such a name works as ``listdir``'s ``after``
    but cannot be used in a path, which is always a str. ``is_file()``,
    ``is_dir()`` and ``is_symlink()`` read ``type``, as on
    :class:`os.DirEntry`."""

    name: Union[str, bytes]
    type: str
    size: int
    mtime_ns: int


@dataclass(frozen=True)
class Listing:
    """One ``listdir`` page: ``entries`` sorted bytewise by name; ``more`` is
    true when entries remain (ask again with ``after=entries[-1].name``)."""

    entries: List[DirEntry]
    more: bool


@dataclass(frozen=True)
class Limits:
    """The broker's limits, from ``hello``. A limit the broker does not
    report is unknown (PROTOCOL.md section 5.1) and is ``None`` here."""

    header_max: Optional[int]
    path_max: Optional[int]
    payload_max: Optional[int]
    listdir_max: Optional[int]
    inflight_max: Optional[int]
    queue_max: Optional[int]
    #: Reported by brokers since these bounds exist.
    queue_bytes_max: Optional[int] = None
    reply_hwm: Optional[int] = None
    #: Entries in one batch, and bytes of its entries frame (brokers that
    #: take the ``batch`` op).
    batch_max: Optional[int] = None
    batch_bytes_max: Optional[int] = None


@dataclass(frozen=True)
class VolumeInfo:
    """A volume the broker knows and how many live workers serve it."""

    name: str
    readonly: bool
    workers: int


@dataclass(frozen=True)
class Hello:
    """Result of ``hello``: what the broker speaks."""

    protocol: int
    version: str
    ops: List[str]
    volumes: List[VolumeInfo]
    limits: Limits


@dataclass(frozen=True)
class ReadResult:
    """Result of :meth:`Client.read_result`: the bytes and whether the read
    reached the end of the file. ``data`` is a read-only view of the
    received ZeroMQ frame (no copy)."""

    data: memoryview
    eof: bool


@dataclass(frozen=True)
class Event:
    """A completion event (PROTOCOL.md section 8).

    ``error`` is set only when ``outcome`` is ``"err"``. ``topic`` is the
    PUB topic frame, ``OUTCOME.OP.VOLUME``.
    """

    topic: str
    seq: int
    id: int
    client: str
    op: str
    outcome: str
    path: str
    volume: str
    bytes: int
    queue_us: int
    service_us: int
    time_us: int
    worker: str
    error: Optional[str] = None

    @property
    def ok(self) -> bool:
        """True for a successful completion."""
        return self.outcome == "ok"

    def to_header(self) -> Dict[str, Any]:
        """The event body as a plain map (spec fields only), for re-encoding."""
        body: Dict[str, Any] = {
            "bytes": self.bytes, "client": self.client, "id": self.id, "op": self.op,
            "outcome": self.outcome, "path": self.path, "queue_us": self.queue_us,
            "seq": self.seq, "service_us": self.service_us, "time_us": self.time_us,
            "volume": self.volume, "worker": self.worker,
        }
        if self.error is not None:
            body["error"] = self.error
        return body


@dataclass
class Reply:
    """A decoded reply: the whole header map, its ``id``/``ok``/``error``/
    ``message`` pulled out, and the data frame (if any) as a memoryview."""

    id: int
    ok: bool
    header: Dict[str, Any]
    data: Optional[memoryview] = None
    error: Optional[str] = None
    message: str = ""
