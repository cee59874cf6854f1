"""The op surface both clients share: one :class:`OpSpec` per op method.

A spec says which request fields a method sends, from which of its
arguments, and how the reply becomes its return value. The methods of
:class:`zaio.Client` and :class:`zaio.asyncio.Client` keep their own
signatures and docstrings (so type checkers and IDEs see them) and hand
their arguments to their spec in one line; nothing else about an op is
written per client. ``tests/test_surface.py`` holds the two clients' method
signatures to each other and to these specs.
"""

from __future__ import annotations

import os
from typing import (TYPE_CHECKING, Any, Callable, Dict, Generic, List, Optional, Sequence, Tuple,
                    TypeVar, Union, cast)

from . import _codec
from ._types import DirEntry, Hello, Listing, ReadResult, Reply, Stat

if TYPE_CHECKING:
    from ._base import ClientBase

T = TypeVar("T")

# How a method argument becomes a request field. A required field is sent as
# given; an optional one only when it says more than the wire's default: a
# flag only when true, ``offset`` only when not 0, anything else only when
# given (not None). ``data`` is the data frame, not a field.
_DATA = "data"
_REQUIRED = "required"
_FLAG = "flag"
_OFFSET = "offset"
_GIVEN = "given"

_FLAGS = frozenset({"create", "parents", "datasync"})

#: A path argument: ``str``, or any :class:`os.PathLike` (``pathlib.PurePosixPath``...).
PathArg = Union[str, "os.PathLike[str]"]

#: Fields that name a path: they take ``str`` or any :class:`os.PathLike`.
PATH_FIELDS = frozenset({"path", "to"})


def fspath(name: str, value: Any) -> str:
    """A path argument as the protocol's str: ``str`` as it is, an
    :class:`os.PathLike` through :func:`os.fspath` (bytes from one must be
    UTF-8). Anything else is a TypeError naming the argument."""
    if isinstance(value, str):
        return value
    try:
        value = os.fspath(value)
    except TypeError:
        raise TypeError(f"{name} must be str or os.PathLike, not {type(value).__name__}") from None
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise ValueError(f"{name} is not UTF-8: {value!r}") from None
    return value


def _rule(op: str, name: str) -> str:
    required, optional = _codec.OPS[op]
    if name == "data":
        assert op in _codec.DATA_OPS, f"{op} takes no data"
        return _DATA
    if name in required:
        return _REQUIRED
    assert name in optional, f"{op} takes no field {name}"
    if name in _FLAGS:
        return _FLAG
    return _OFFSET if name == "offset" else _GIVEN


class OpSpec(Generic[T]):
    """One op method of both clients.

    :ivar method: the clients' method name.
    :ivar op: the protocol op it sends.
    :ivar params: its positional parameters, in order: the op's field
        names, and ``data`` for the data frame.

    ``then``, if given, turns the value :func:`zaio._codec.result_of` makes
    of a successful reply into the method's return value (it gets the
    client too); without it that value is returned as it is.
    """

    __slots__ = ("method", "op", "params", "_rules", "_then")

    def __init__(self, method: str, params: str = "", *, op: Optional[str] = None,
                 then: Optional[Callable[["ClientBase", Any], T]] = None) -> None:
        self.method = method
        self.op = op or method
        self.params: Tuple[str, ...] = tuple(params.split())
        self._rules = tuple((name, _rule(self.op, name)) for name in self.params)
        required, _ = _codec.OPS[self.op]
        assert required <= set(self.params), f"{method} lacks a required field of {self.op}"
        assert (self.op in _codec.DATA_OPS) == ("data" in self.params), f"{method}: data"
        self._then = then

    def request(self, args: Sequence[Any]) -> Tuple[Dict[str, Any], Any]:
        """The fields and the data frame (or None) of a call whose
        positional arguments, in :attr:`params` order, are ``args``."""
        fields: Dict[str, Any] = {}
        data = None
        for (name, rule), value in zip(self._rules, args):
            if name in PATH_FIELDS:
                value = fspath(name, value)
            if rule is _REQUIRED:
                fields[name] = value
            elif rule is _DATA:
                data = value
            elif rule is _FLAG:
                if value:
                    fields[name] = True
            elif rule is _OFFSET:
                if value:
                    fields[name] = value
            elif value is not None:
                fields[name] = value
        return fields, data

    def result(self, client: "ClientBase", reply: Reply, path: Optional[str]) -> T:
        """The method's return value for ``reply``; an error reply raises
        (see :func:`zaio._codec.result_of`)."""
        value = _codec.result_of(self.op, reply, path)
        return cast(T, value) if self._then is None else self._then(client, value)

    def __repr__(self) -> str:
        return f"OpSpec({self.method!r}, {' '.join(self.params)!r}, op={self.op!r})"


def _learn_limits(client: "ClientBase", hello: Hello) -> Hello:
    """``hello``'s result, its limits kept by the client for the payload
    checks, and whether it takes batches."""
    client.limits = hello.limits
    client.batches = "batch" in hello.ops
    return hello


def _data(client: "ClientBase", result: ReadResult) -> memoryview:
    return result.data


PING: OpSpec[None] = OpSpec("ping")
HELLO: OpSpec[Hello] = OpSpec("hello", then=_learn_limits)
STAT: OpSpec[Stat] = OpSpec("stat", "path")
READ: OpSpec[memoryview] = OpSpec("read", "path offset length", then=_data)
READ_RESULT: OpSpec[ReadResult] = OpSpec("read_result", "path offset length", op="read")
WRITE: OpSpec[int] = OpSpec("write", "path offset data create mode")
APPEND: OpSpec[int] = OpSpec("append", "path data create mode")
READFILE: OpSpec[memoryview] = OpSpec("readfile", "path")
WRITEFILE: OpSpec[int] = OpSpec("writefile", "path data mode")
TRUNCATE: OpSpec[None] = OpSpec("truncate", "path size")
FSYNC: OpSpec[None] = OpSpec("fsync", "path datasync")
UNLINK: OpSpec[None] = OpSpec("unlink", "path")
RENAME: OpSpec[None] = OpSpec("rename", "path to")
MKDIR: OpSpec[None] = OpSpec("mkdir", "path parents mode")
RMDIR: OpSpec[None] = OpSpec("rmdir", "path")
LISTDIR: OpSpec[Listing] = OpSpec("listdir", "path after limit")
COPY: OpSpec[int] = OpSpec("copy", "path to")
#: Not in METHODS: stats takes no ``volume`` keyword (it names none).
STATS: OpSpec[Dict[str, Any]] = OpSpec("stats", "top")

#: Method name -> spec, for every op method of both clients.
METHODS: Dict[str, OpSpec[Any]] = {s.method: s for s in (
    PING, HELLO, STAT, READ, READ_RESULT, WRITE, APPEND, READFILE, WRITEFILE, TRUNCATE, FSYNC,
    UNLINK, RENAME, MKDIR, RMDIR, LISTDIR, COPY)}


def request_fields(fields: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """``request()``'s ``fields``, copied: every header field but ``id``,
    ``op`` and ``volume`` (a keyword), which are refused with TypeError."""
    fields = dict(fields or {})
    if "id" in fields or "op" in fields or "volume" in fields:
        raise TypeError("id, op and volume are not fields (volume is a keyword)")
    for name in PATH_FIELDS & fields.keys():
        fields[name] = fspath(name, fields[name])
    return fields


def raw_result(op: str, reply: Reply, fields: Dict[str, Any]) -> Reply:
    """``request()``'s result: the reply itself, unless it is an error,
    which raises as the op's method would."""
    if not reply.ok:
        _codec.result_of(op, reply, fields.get("path"))
    return reply


class Pager:
    """Paging through a directory with ``listdir`` (``listdir_iter``),
    without the IO: ask for the page after :attr:`after` until
    :attr:`done`, handing each page to :meth:`turn`."""

    def __init__(self) -> None:
        #: ``after`` of the next page (None: the first).
        self.after: Optional[Union[str, bytes]] = None
        #: True once the last page has been turned.
        self.done = False

    def turn(self, page: Listing) -> List[DirEntry]:
        """The entries of ``page``, which becomes the one the next page
        follows; the last page is one that says no ``more``, or that is
        empty (no name to go on from)."""
        if page.more and page.entries:
            self.after = page.entries[-1].name
        else:
            self.done = True
        return page.entries
