"""The blocking and the asyncio clients have one op surface: the same
methods with the same signatures, each matching its spec in ``zaio._ops``;
and for the same calls they send the same requests and return the same
results (or raise the same errors)."""

from __future__ import annotations

import asyncio
import inspect
from typing import Any, Callable, Dict, List, Tuple

import pytest

import zaio
import zaio.asyncio
from zaio import _codec, _ops

from conftest import FakeBroker

SYNC, ASYNC = zaio.Client, zaio.asyncio.Client

#: Methods besides the op specs that both clients have, with one signature.
EXTRA = ("listdir_all", "listdir_iter", "request", "events", "stats")
#: Public names only one client has: the asyncio one's lifecycle.
ASYNC_ONLY = {"aclose", "inflight"}


def public(cls: type) -> set:
    return {n for n in dir(cls) if not n.startswith("_")}


def test_same_public_names() -> None:
    assert public(ASYNC) - public(SYNC) == ASYNC_ONLY
    assert public(SYNC) - public(ASYNC) == set()
    assert set(_ops.METHODS) | set(EXTRA) <= public(SYNC)


@pytest.mark.parametrize("name", [*_ops.METHODS, *EXTRA])
def test_same_signature(name: str) -> None:
    sync_sig = inspect.signature(getattr(SYNC, name))
    async_sig = inspect.signature(getattr(ASYNC, name))
    assert sync_sig.parameters == async_sig.parameters
    if name != "listdir_iter":  # Iterator / AsyncIterator
        assert sync_sig.return_annotation == async_sig.return_annotation
    assert getattr(SYNC, name).__doc__ and getattr(ASYNC, name).__doc__


@pytest.mark.parametrize("name", list(_ops.METHODS))
def test_methods_match_their_spec(name: str) -> None:
    spec = _ops.METHODS[name]
    for cls in (SYNC, ASYNC):
        params = list(inspect.signature(getattr(cls, name)).parameters.values())[1:]
        positional = tuple(p.name for p in params if p.kind is p.POSITIONAL_OR_KEYWORD)
        keywords = {p.name: p.default for p in params if p.kind is p.KEYWORD_ONLY}
        assert positional == spec.params, cls
        assert keywords == {"timeout": zaio.DEFAULT, "volume": None}, cls


def test_sync_and_async_kinds() -> None:
    for name in [*_ops.METHODS, "listdir_all", "request"]:
        assert inspect.iscoroutinefunction(getattr(ASYNC, name)), name
        assert not inspect.iscoroutinefunction(getattr(SYNC, name)), name
    assert inspect.isasyncgenfunction(ASYNC.listdir_iter)
    assert inspect.isgeneratorfunction(SYNC.listdir_iter)
    assert not inspect.iscoroutinefunction(ASYNC.events)


# ------------------------------------------------------------ same wire, same results

LIMITS = {"header_max": 8192, "path_max": 1024, "payload_max": 1 << 20, "listdir_max": 100,
          "inflight_max": 64, "queue_max": 128}
HELLO = {"protocol": 1, "version": "9.9", "ops": ["ping"], "limits": LIMITS,
         "volumes": [{"name": "default", "readonly": False, "workers": 1}]}
ENTRIES = [{"name": n, "type": "file", "size": 1, "mtime_ns": 0} for n in "abc"]


def answer(h: Dict[str, Any]) -> List[List[Any]]:
    """A plausible reply to each op; path "missing" gets ENOENT; listdir
    pages two entries at a time."""
    op, rid = h["op"], h["id"]
    data = None
    if h.get("path") == "missing":
        return [_codec.encode_reply({"id": rid, "ok": False, "error": "ENOENT",
                                     "message": "no such file"})]
    body: Dict[str, Any] = {}
    if op == "hello":
        body = HELLO
    elif op == "stat":
        body = {"type": "file", "size": 5, "mode": 0o640, "mtime_ns": -3}
    elif op in ("read", "readfile"):
        data = b"abc"
        body = {"bytes": 3, "eof": True} if op == "read" else {"bytes": 3}
    elif op in ("write", "writefile", "copy"):
        body = {"bytes": 3}
    elif op == "append":
        body = {"bytes": 3, "offset": 9}
    elif op == "listdir":
        start = 0 if "after" not in h else [e["name"] for e in ENTRIES].index(h["after"]) + 1
        body = {"entries": ENTRIES[start:start + 2], "more": start + 2 < len(ENTRIES)}
    return [_codec.encode_reply({"id": rid, "ok": True, **body}, data)]


#: (method, args, kwargs): every method, non-default arguments included.
CALLS: List[Tuple[str, Tuple[Any, ...], Dict[str, Any]]] = [
    ("ping", (), {}),
    ("ping", (), {"volume": "v"}),
    ("hello", (), {}),
    ("stat", ("s",), {}),
    ("stat", ("missing",), {}),
    ("read", ("r", 0, 3), {}),
    ("read", ("r", 7, 3), {"volume": "v"}),
    ("read_result", ("r", 5, 10), {}),
    ("write", ("w", 0, b"abc"), {}),
    ("write", ("w", 4, bytearray(b"abc"), True, 0o600), {}),
    ("append", ("a", b"abc"), {}),
    ("append", ("a", memoryview(b"abc"), True, 0o644), {}),
    ("readfile", ("f",), {}),
    ("writefile", ("f", b"abc"), {}),
    ("writefile", ("f", b"abc", 0o600), {}),
    ("truncate", ("t", 0), {}),
    ("fsync", ("y",), {}),
    ("fsync", ("y", True), {}),
    ("unlink", ("u",), {}),
    ("rename", ("x", "y"), {}),
    ("mkdir", ("d",), {}),
    ("mkdir", ("d", True, 0o700), {}),
    ("rmdir", ("d",), {}),
    ("listdir", (), {}),
    ("listdir", ("d", "a", 2), {}),
    ("listdir_all", ("d",), {}),
    ("listdir_all", ("d", 2), {}),
    ("listdir_iter", ("d",), {}),
    ("copy", ("x", "y"), {}),
    ("request", ("stat", {"path": "s", "priority": 3}), {"volume": "v"}),
    ("request", ("writefile", {"path": "f"}, b"abc"), {}),
]

Outcome = Tuple[str, Any]


def plain(value: Any) -> Any:
    """A result in a form to compare: buffers as bytes, replies as maps."""
    if isinstance(value, memoryview):
        return bytes(value)
    if isinstance(value, zaio.ReadResult):
        return ("ReadResult", bytes(value.data), value.eof)
    if isinstance(value, zaio.Reply):
        return ("Reply", value.id > 0, value.ok,
                {k: v for k, v in value.header.items() if k != "id"},
                None if value.data is None else bytes(value.data))
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value


def failure(e: BaseException) -> Outcome:
    assert isinstance(e, zaio.Error)
    return ("raised", (type(e), e.code, e.op, e.path))


def requests(fake: FakeBroker) -> List[Dict[str, Any]]:
    return [{k: v for k, v in h.items() if k != "id"} for h in fake.requests]


def run_sync(endpoint: str) -> Tuple[List[Outcome], Any]:
    out: List[Outcome] = []
    with zaio.Client(endpoint, timeout=5) as c:
        for name, args, kwargs in CALLS:
            try:
                value = getattr(c, name)(*args, **kwargs)
                if name == "listdir_iter":
                    value = list(value)
                out.append(("returned", plain(value)))
            except zaio.Error as e:
                out.append(failure(e))
        return out, c.limits


def run_async(endpoint: str) -> Tuple[List[Outcome], Any]:
    async def main() -> Tuple[List[Outcome], Any]:
        out: List[Outcome] = []
        # Not coalescing: that starts with a hello of its own (is there a
        # batch op?), which the blocking client does not send.
        async with zaio.asyncio.Client(endpoint, timeout=5, coalesce=False) as c:
            for name, args, kwargs in CALLS:
                try:
                    call = getattr(c, name)(*args, **kwargs)
                    if name == "listdir_iter":
                        value = [e async for e in call]
                    else:
                        value = await call
                    out.append(("returned", plain(value)))
                except zaio.Error as e:
                    out.append(failure(e))
            return out, c.limits

    return asyncio.run(main())


def test_same_requests_and_results(fake_broker: Callable[..., FakeBroker]) -> None:
    sync_fake, async_fake = fake_broker(answer), fake_broker(answer)
    sync_out, sync_limits = run_sync(sync_fake.endpoint)
    async_out, async_limits = run_async(async_fake.endpoint)
    assert requests(sync_fake) == requests(async_fake)
    assert sync_out == async_out
    assert sync_limits == async_limits == zaio.Limits(**LIMITS)
    # Spot checks that the comparison compares something.
    outcomes = dict(zip((f"{n}{a}" for n, a, _ in CALLS), sync_out))
    assert outcomes["listdir_all('d',)"] == ("returned", [
        zaio.DirEntry(name=n, type="file", size=1, mtime_ns=0) for n in "abc"])
    assert outcomes["stat('missing',)"] == ("raised", (zaio.NotFound, "ENOENT", "stat",
                                                       "missing"))
    assert outcomes["read('r', 0, 3)"] == ("returned", b"abc")
    assert {"op": "write", "path": "w", "offset": 4, "create": True,
            "mode": 0o600} in requests(sync_fake)
    assert {"op": "listdir", "path": "d", "after": "b"} in requests(sync_fake)
