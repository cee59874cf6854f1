"""The asyncio zaio client, built on ``zmq.asyncio``.

One DEALER socket, one receive task, a map of pending futures by request
id: thousands of requests may be in flight at once and each reply resolves
its own future, in whatever order replies come::

    import asyncio, zaio.asyncio

    async def main():
        async with zaio.asyncio.Client("ipc:///run/zaio/client.ipc") as c:
            blocks = await asyncio.gather(*(c.read("big.bin", i * 4096, 4096)
                                            for i in range(100)))

In-flight requests are bounded (``max_inflight``, default 64; callers
beyond it wait their turn), each call has its own timeout, and closing
fails whatever is still pending with :class:`zaio.Closed` and drops the
socket with linger 0.

Batches: calls started in the same turn of the event loop (before it next
waits, as ``asyncio.gather`` starts them) leave together at the end of the
turn, as one wire batch (the ``batch`` op) when the broker's hello lists
it, else one by one; ``coalesce=False`` sends each call at once instead.
``client.batch()`` groups calls explicitly. Each call keeps its own reply,
timeout and retries either way.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from typing import Any, AsyncIterator, Dict, List, Optional, Sequence, Tuple, TypeVar, Union, cast

import zmq
import zmq.asyncio

from . import _codec, _curve, _ops
from ._base import (DEFAULT, BufferLike, ClientBase, EventStreamBase, TimeoutArg, as_buffer, log,
                    poll_ms, remaining, setup_dealer)
from ._ops import PathArg
from ._types import DirEntry, Event, Hello, Listing, ReadResult, Reply, Stat
from .errors import AuthFailed, BadReply, Closed, Timeout

__all__ = ["Client", "EventStream"]

T = TypeVar("T")

# Plain ints: pyzmq's enum flags cost an enum operation per use on the hot path.
_NOBLOCK = int(zmq.NOBLOCK)
_EVENTS = int(zmq.EVENTS)
_POLLIN = int(zmq.POLLIN)

#: True in the tasks of a :class:`Batch`: their calls are batched even
#: when the client does not coalesce.
_IN_BATCH: "contextvars.ContextVar[bool]" = contextvars.ContextVar("zaio_in_batch", default=False)


class _Out:
    """A request waiting for the end of the loop's turn to be sent, then
    until its reply: its id, header frame and data, the future its reply
    resolves, whether it has left, and the batch tag it left under."""

    __slots__ = ("rid", "header", "data", "fut", "sent", "tag")

    def __init__(self, rid: int, header: bytes, data: Optional[Any],
                 fut: "asyncio.Future[Reply]") -> None:
        self.rid = rid
        self.header = header
        self.data = data
        self.fut = fut
        self.sent = False
        self.tag: Optional["_Tag"] = None


class _Tag:
    """A wire batch sent and not yet settled: its tag id (``B``), whose
    only possible reply refuses the whole batch, and its entries. Dropped
    once an entry is answered (the broker took the batch) or every entry
    is settled."""

    __slots__ = ("bid", "outs", "left")

    def __init__(self, bid: int, outs: List[_Out]) -> None:
        self.bid = bid
        self.outs = outs
        self.left = len(outs)


class Client(ClientBase):
    """asyncio client of a zaio broker; every op method is a coroutine.

    The parameters are those of :class:`zaio.Client`, plus ``max_inflight``:
    the most requests this client keeps in flight (keep it under the
    broker's ``inflight_max`` and half its ``reply_hwm``: libzmq tells the
    broker that replies were taken only every ``reply_hwm / 2``, so a wider
    window gets replies held while the client reads), and ``coalesce``:
    whether calls started in one turn of the loop leave together (see the
    module's docstring; on by default: it delays a lone call by one turn
    of the loop, a few microseconds). The socket is made at construction;
    the receive task starts with the first call, in the running loop. Use
    one client per event loop.
    """

    def __init__(self, endpoint: Optional[str] = None, *, events: Optional[str] = None,
                 timeout: Optional[float] = 30.0, volume: Optional[str] = None,
                 context: Optional[zmq.asyncio.Context] = None, max_inflight: int = 64,
                 coalesce: bool = True, queue_full_retries: int = 8,
                 queue_full_backoff: float = 0.005,
                 curve_server: Optional[_curve.KeyArg] = None,
                 curve_cert: Optional[_curve.KeyArg] = None) -> None:
        super().__init__(endpoint, events=events, timeout=timeout, volume=volume,
                         queue_full_retries=queue_full_retries,
                         queue_full_backoff=queue_full_backoff, curve_server=curve_server,
                         curve_cert=curve_cert)
        if max_inflight < 1:
            raise ValueError("max_inflight must be >= 1")
        self.max_inflight: int = max_inflight
        #: Whether calls started in one turn of the loop leave together.
        self.coalesce: bool = coalesce
        self._context: zmq.asyncio.Context = context or zmq.asyncio.Context.instance()
        self._sock: zmq.asyncio.Socket = self._context.socket(zmq.DEALER)
        # Read by its own task from the first call on; its queue has no
        # limit (see _curve).
        self._monitor: Optional[zmq.asyncio.Socket] = None
        try:
            _curve.apply(self._sock, self._curve)
            self._monitor = _curve.open_monitor(self._sock, self._context,
                                                self._curve is not None)
            setup_dealer(self._sock, self.endpoint)
        except BaseException:
            if self._monitor is not None:
                self._monitor.close(linger=0)
            self._sock.close(linger=0)
            raise
        # A plain (non-asyncio) view of the same socket for the fast path:
        # sends that need no wait and replies that are already there skip
        # zmq.asyncio's per-call futures and wake-ups. Waiting is always
        # left to zmq.asyncio.
        self._raw: zmq.Socket = zmq.Socket.shadow(self._sock.underlying)
        # Sends waiting in zmq.asyncio (pipe full or not connected); while
        # any do, later sends queue behind them, so requests leave in order.
        self._slow_sends = 0
        # Requests to send at the end of this turn of the loop (_flush).
        self._out: List[_Out] = []
        self._flush_at: Optional[asyncio.Handle] = None
        # Batch tag -> the batch, while its refusal may still come.
        self._tags: Dict[int, _Tag] = {}
        # The hello that asks whether the broker takes batches (held here:
        # the loop keeps only a weak reference to a task).
        self._asking: Optional["asyncio.Task[None]"] = None
        self._pending: Dict[int, "asyncio.Future[Reply]"] = {}
        self._recv_task: Optional["asyncio.Task[None]"] = None
        self._watch_task: Optional["asyncio.Task[None]"] = None
        self._slots: Optional[asyncio.Semaphore] = None
        # Taken by calls that must learn the limits first, so that many big
        # writes at once on a new client send one hello, not one each.
        self._limits_lock: Optional[asyncio.Lock] = None

    # ------------------------------------------------------------ lifecycle

    @property
    def inflight(self) -> int:
        """Requests sent and not yet answered (or timed out)."""
        return len(self._pending)

    def close(self) -> None:
        """Fail pending calls with :class:`zaio.Closed`, stop the receive
        task and close the socket (linger 0). Idempotent."""
        self._shut("client closed while the request was pending")

    def _shut(self, why: str) -> None:
        """:meth:`close`, failing pending calls with ``why``."""
        if self._closed:
            return
        self._closed = True
        for fut in self._pending.values():
            if not fut.done():
                fut.set_exception(Closed(message=why))
        self._pending.clear()
        for task in (self._recv_task, self._watch_task):
            if task is not None and not task.done():
                try:
                    task.cancel()
                except RuntimeError:  # its loop is already closed
                    pass
        self._recv_task = self._watch_task = None
        if self._flush_at is not None:
            self._flush_at.cancel()
            self._flush_at = None
        self._out.clear()
        self._tags.clear()
        assert self._monitor is not None
        self._monitor.close(linger=0)
        self._sock.close(linger=0)

    async def aclose(self) -> None:
        """:meth:`close`, then wait for the receive task to finish."""
        task = self._recv_task
        self.close()
        if task is not None:
            try:
                await task
            except (asyncio.CancelledError, Exception):
                pass

    async def __aenter__(self) -> "Client":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    # ------------------------------------------------------------ core

    def _start(self, op: Optional[str] = None) -> None:
        """Start the receive and monitor tasks with the first call (of
        ``op``), and, when coalescing, the hello that asks whether the
        broker takes batches, unless that call is a hello itself."""
        self._check_open()
        if self._recv_task is None:
            self._slots = asyncio.Semaphore(self.max_inflight)
            self._limits_lock = asyncio.Lock()
            loop = asyncio.get_running_loop()
            self._recv_task = loop.create_task(self._receive())
            self._watch_task = loop.create_task(self._read_monitor())
            if self.coalesce and self.batches is None and op != "hello":
                self._asking = loop.create_task(self._ask())

    async def _receive(self) -> None:
        """The one receive loop: resolve each reply's future by its id.
        After each awaited message it drains what else is ready without
        waiting, so a burst of replies costs one wake-up."""
        try:
            while True:
                self._dispatch(await self._sock.recv_multipart(copy=False))
                self._drain()
        except asyncio.CancelledError:
            raise
        except Exception as e:
            # Socket closed under us, a zmq error or a bug: no reply can
            # arrive any more, so the client closes itself and every call,
            # pending or later, fails with Closed at once instead of hanging.
            if not self._closed:
                log.error("zaio: receive loop failed, client closed: %r", e)
                self._recv_task = None  # close() must not cancel this very task
                self._shut(f"receive loop failed: {e!r}")

    async def _read_monitor(self) -> None:
        """The monitor's reader: on a verdict of AUTH (see _curve) the
        socket stops connecting and every pending call fails with
        :class:`zaio.AuthFailed` (no reply can come); the next call
        connects again."""
        assert self._monitor is not None
        try:
            while True:
                refused = self._watch.feed(await self._monitor.recv_multipart())
                if refused is None:
                    continue
                _curve.stop(self._sock, self.endpoint)
                for fut in self._pending.values():
                    if not fut.done():
                        fut.set_exception(AuthFailed(message=refused.message))
        except asyncio.CancelledError:
            raise
        except Exception as e:  # the socket was closed under us
            if not self._closed:
                log.error("zaio: monitor reader failed: %r", e)

    def _drain(self) -> None:
        """Dispatch every reply already received, without waiting.

        ZMQ_FD is edge-triggered and any call on the socket may consume an
        edge. Calls on the plain view are therefore always followed by a
        drain (until EAGAIN), so no reply is left waiting for a wake-up
        that will not come; zmq.asyncio's own receive sees every later
        edge. Plain sends happen only while zmq.asyncio has no send
        waiting, so its sends are never starved of their wake-up either
        (it re-checks the socket whenever the receive loop waits again)."""
        raw = self._raw
        for _ in range(4096):
            # Asking for EVENTS processes the socket's pending commands, as
            # a receive would, and is cheaper than a receive that fails.
            if not cast(int, raw.get(_EVENTS)) & _POLLIN:
                return
            self._dispatch(raw.recv_multipart(_NOBLOCK, copy=False))

    def _dispatch(self, frames: List[Any]) -> None:
        """Hand a received message, a reply or a reply batch, to the calls
        it answers. A reply that does not decode fails the call whose id
        can still be read from it (BadReply); one whose id cannot is
        dropped, and its call times out."""
        if _codec.is_batch(frames):
            try:
                replies = _codec.decode_reply_batch(frames)
            except BadReply as e:
                ids = _codec.batch_reply_ids(frames)
                log.warning("zaio: undecodable reply batch (%d ids readable): %s", len(ids), e)
                for rid in ids:
                    self._fail(rid, e)
                return
            for r in replies:
                if isinstance(r, BadReply):
                    self._fail(r.id or 0, r)
                else:
                    self._resolve(r)
            return
        try:
            reply = _codec.decode_reply(frames)
        except BadReply as e:
            rid = _codec.reply_id(frames)
            if rid is None or not self._fail(rid, e):
                log.warning("zaio: dropped an undecodable reply: %s", e)
            return
        tag = self._tags.pop(reply.id, None)
        if tag is not None and not reply.ok:
            # The broker refused the whole batch: every entry has its error.
            for o in tag.outs:
                if not o.fut.done():
                    o.fut.set_result(Reply(id=o.rid, ok=False, header=reply.header,
                                           error=reply.error, message=reply.message))
            return
        self._resolve(reply)

    def _resolve(self, reply: Reply) -> None:
        """Resolve the future of the call ``reply`` answers, if any waits."""
        fut = self._pending.get(reply.id)
        if fut is not None and not fut.done():
            fut.set_result(reply)
        else:
            log.debug("zaio: dropped reply id %d: nobody waits for it", reply.id)

    def _fail(self, rid: int, e: BadReply) -> bool:
        """Fail call ``rid`` with ``e``; whether a call was waiting."""
        fut = self._pending.get(rid)
        if fut is None or fut.done():
            return False
        fut.set_exception(e)
        return True

    async def request(self, op: str, fields: Optional[Dict[str, Any]] = None,
                      data: Optional[BufferLike] = None, *, timeout: TimeoutArg = DEFAULT,
                      volume: Optional[str] = None) -> Reply:
        """Any request, as the protocol spells it; see
        :meth:`zaio.Client.request`."""
        fields = _ops.request_fields(fields)
        return _ops.raw_result(op, await self._exchange(op, fields, data, timeout, volume), fields)

    async def _op(self, spec: "_ops.OpSpec[T]", args: Tuple[Any, ...], timeout: TimeoutArg,
                  volume: Optional[str]) -> T:
        """A call of the op method ``spec`` describes, ``args`` its
        positional arguments."""
        fields, data = spec.request(args)
        reply = await self._exchange(spec.op, fields, data, timeout, volume)
        return spec.result(self, reply, fields.get("path"))

    async def _exchange(self, op: str, fields: Dict[str, Any], data: Optional[BufferLike],
                        timeout: TimeoutArg, volume: Optional[str]) -> Reply:
        """A request and its reply, the payload checked against the broker's
        limit first (learnt from ``hello`` when it is big; see the README)."""
        buf = as_buffer(data) if data is not None else None
        if self._needs_limits(buf):
            self._start("hello")
            assert self._limits_lock is not None
            async with self._limits_lock:
                if self.limits is None:
                    # Naming the call's volume, as the sync client does.
                    await self.hello(timeout=timeout, volume=volume)
        self._check_payload(op, fields.get("path"), buf)
        return await self._roundtrip(op, fields, buf, self._timeout(timeout), volume)

    async def _roundtrip(self, op: str, fields: Dict[str, Any], data: Optional[Any],
                         timeout: Optional[float], volume: Optional[str]) -> Reply:
        self._start(op)
        assert self._slots is not None
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        path = fields.get("path")
        attempt = 0
        async with self._slots:
            while True:
                header = self._header(op, fields, volume)
                reply = await self._once(header, data, deadline, op, path)
                left = None if deadline is None else deadline - loop.time()
                pause = self._retry_pause(reply, attempt, left)
                if pause is None:
                    return reply
                attempt += 1
                await asyncio.sleep(pause)

    async def _once(self, header: Dict[str, Any], data: Optional[Any],
                    deadline: Optional[float], op: str, path: Optional[str]) -> Reply:
        """One request: register its future, post it for sending (at the
        end of the loop's turn when coalescing or in a batch, else now),
        wait for the reply or the deadline (a timer fails the future; no
        task per call)."""
        self._check_open(op, path)
        if self._watch.restart():  # the last connection was given up on
            _curve.reconnect(self._sock, self.endpoint)
        loop = asyncio.get_running_loop()
        rid = header["id"]
        frames = self._frames(header, data)
        fut: "asyncio.Future[Reply]" = loop.create_future()
        out = _Out(rid, frames[1], data, fut)
        self._pending[rid] = fut
        timer = None
        if deadline is not None:
            def expire() -> None:
                if not fut.done():
                    fut.set_exception(self._timeout_error(op, path, sent=out.sent))
            timer = loop.call_at(deadline, expire)
        try:
            self._out.append(out)
            if self.coalesce or _IN_BATCH.get():
                if self._flush_at is None:
                    self._flush_at = loop.call_soon(self._flush)
            else:
                self._flush()
            return await fut
        except AuthFailed as e:  # from the monitor's reader, which knows no call
            e.op, e.path = op, path
            raise
        finally:
            if timer is not None:
                timer.cancel()
            self._pending.pop(rid, None)
            tag = out.tag
            if tag is not None:
                tag.left -= 1
                if not tag.left:
                    self._tags.pop(tag.bid, None)

    def _flush(self) -> None:
        """Send the requests posted so far, in order, those that have not
        already failed: as wire batches split by the broker's limits when
        there are several and it takes batches, else one by one. When it
        is not yet known whether it does, a hello asks (the requests go
        one by one meanwhile)."""
        self._flush_at = None
        outs = [o for o in self._out if not o.fut.done()]
        self._out.clear()
        if len(outs) > 1 and self.batches is None and self._asking is None:
            self._asking = asyncio.get_running_loop().create_task(self._ask())
        if len(outs) < 2 or not self.batches:
            for o in outs:
                self._send([o], _codec.encode_request_frames(o.header, o.data))
            return
        for group in self._groups([(o.header, o) for o in outs]):
            batch = [outs[i] for i in group]
            if len(batch) == 1:
                self._send(batch, _codec.encode_request_frames(batch[0].header, batch[0].data))
                continue
            tag = _Tag(next(self._ids), batch)
            for o in batch:
                o.tag = tag
            self._tags[tag.bid] = tag
            self._send(batch, _codec.encode_batch(tag.bid, [(o.header, o.data) for o in batch]))

    async def _ask(self) -> None:
        """Learn from a hello whether the broker takes batches (started
        with the first call when coalescing); if it cannot answer, send one
        by one."""
        if self._watch.refused is not None:
            # The broker refused us before the hello could go: asking now
            # would connect again for nothing, and leave it in flight. The
            # next calls that go out together ask (_flush).
            self._asking = None
            return
        try:
            await self.hello()
        except Exception as e:  # Error, or the client closed under it
            log.info("zaio: no hello, so no batches: %r", e)
            self.batches = False

    def _send(self, outs: List[_Out], frames: List[Any]) -> None:
        """Send one message carrying ``outs``: at once when the socket
        takes it, else through zmq.asyncio, which waits (pipe full, or not
        connected yet) and keeps the order. A send still waiting when all
        its calls have failed (timeout, refusal) is cancelled."""
        copy = not any(self._zero_copy(o.data) for o in outs)
        if not self._slow_sends:
            try:
                self._raw.send_multipart(frames, _NOBLOCK, copy=copy)
            except zmq.Again:
                pass
            else:
                for o in outs:
                    o.sent = True
                self._drain()
                return
        self._slow_sends += 1
        send = self._sock.send_multipart(frames, copy=copy)

        def sent(f: "asyncio.Future[Any]") -> None:
            self._slow_sends -= 1
            if not f.cancelled() and f.exception() is None:
                for o in outs:
                    o.sent = True

        def settled(_: Any) -> None:
            if not send.done() and all(o.fut.done() for o in outs):
                send.cancel()

        send.add_done_callback(sent)
        for o in outs:
            o.fut.add_done_callback(settled)

    def batch(self) -> "Batch":
        """Calls grouped into wire batches, whether or not the client
        coalesces::

            async with client.batch() as b:
                head = b.read("big.bin", 0, 4096)
                st = b.stat("big.bin")
            print(head.result(), st.result())

        Each op method of ``b`` takes the client method's arguments, starts
        the call and returns its task. Leaving the block waits for every
        call; each keeps its own result or exception (leaving does not
        raise them)."""
        return Batch(self)

    # ------------------------------------------------------------ ops
    # Each is its spec in _ops, called with the method's own arguments.

    async def ping(self, *, timeout: TimeoutArg = DEFAULT,
                   volume: Optional[str] = None) -> None:
        """Round trip to the broker (``ping``)."""
        return await self._op(_ops.PING, (), timeout, volume)

    async def hello(self, *, timeout: TimeoutArg = DEFAULT,
                    volume: Optional[str] = None) -> Hello:
        """What the broker speaks: protocol, version, ops, volumes, limits
        (``hello``). Also stored in :attr:`limits`."""
        return await self._op(_ops.HELLO, (), timeout, volume)

    async def stats(self, top: Optional[int] = None, *,
                    timeout: TimeoutArg = DEFAULT) -> Dict[str, Any]:
        """The broker's counters, gauges, volumes, workers, latency
        histograms and ``top`` busiest clients (default 10, at most 100):
        the results of the ``stats`` op as a dict (PROTOCOL.md section
        5.3). An identity whose grant entry lacks ``monitor`` gets
        :class:`zaio.errors.PermissionDenied` (``EACCES``)."""
        return await self._op(_ops.STATS, (top,), timeout, None)

    async def stat(self, path: PathArg, *, timeout: TimeoutArg = DEFAULT,
                   volume: Optional[str] = None) -> Stat:
        """Type, size, mode and mtime of ``path``; a symlink is not followed."""
        return await self._op(_ops.STAT, (path,), timeout, volume)

    async def read(self, path: PathArg, offset: int, length: int, *,
                   timeout: TimeoutArg = DEFAULT, volume: Optional[str] = None) -> memoryview:
        """Up to ``length`` bytes of ``path`` from ``offset`` (fewer at end of
        file), as a read-only memoryview of the received frame (no copy)."""
        return await self._op(_ops.READ, (path, offset, length), timeout, volume)

    async def read_result(self, path: PathArg, offset: int, length: int, *,
                          timeout: TimeoutArg = DEFAULT,
                          volume: Optional[str] = None) -> ReadResult:
        """Like :meth:`read`, also telling whether the read reached end of file."""
        return await self._op(_ops.READ_RESULT, (path, offset, length), timeout, volume)

    async def write(self, path: PathArg, offset: int, data: BufferLike, create: bool = False,
                    mode: Optional[int] = None, *, timeout: TimeoutArg = DEFAULT,
                    volume: Optional[str] = None) -> int:
        """Write ``data`` (any bytes-like object) at ``offset``; ``ENOENT``
        unless the file exists or ``create``. Returns the bytes written.
        Do not change ``data`` until the call returns."""
        return await self._op(_ops.WRITE, (path, offset, data, create, mode), timeout, volume)

    async def append(self, path: PathArg, data: BufferLike, create: bool = False,
                     mode: Optional[int] = None, *, timeout: TimeoutArg = DEFAULT,
                     volume: Optional[str] = None) -> int:
        """Append ``data`` at the end of ``path``; returns the offset where
        it landed."""
        return await self._op(_ops.APPEND, (path, data, create, mode), timeout, volume)

    async def readfile(self, path: PathArg, *, timeout: TimeoutArg = DEFAULT,
                       volume: Optional[str] = None) -> memoryview:
        """The whole file, as a read-only memoryview of the received frame."""
        return await self._op(_ops.READFILE, (path,), timeout, volume)

    async def writefile(self, path: PathArg, data: BufferLike, mode: Optional[int] = None, *,
                        timeout: TimeoutArg = DEFAULT, volume: Optional[str] = None) -> int:
        """Replace ``path`` with ``data`` atomically and durably; returns the
        bytes written."""
        return await self._op(_ops.WRITEFILE, (path, data, mode), timeout, volume)

    async def truncate(self, path: PathArg, size: int, *, timeout: TimeoutArg = DEFAULT,
                       volume: Optional[str] = None) -> None:
        """Set the size of ``path``."""
        return await self._op(_ops.TRUNCATE, (path, size), timeout, volume)

    async def fsync(self, path: PathArg, datasync: bool = False, *, timeout: TimeoutArg = DEFAULT,
                    volume: Optional[str] = None) -> None:
        """Flush a file or directory to storage (``fdatasync`` if ``datasync``)."""
        return await self._op(_ops.FSYNC, (path, datasync), timeout, volume)

    async def unlink(self, path: PathArg, *, timeout: TimeoutArg = DEFAULT,
                     volume: Optional[str] = None) -> None:
        """Remove a file."""
        return await self._op(_ops.UNLINK, (path,), timeout, volume)

    async def rename(self, path: PathArg, to: PathArg, *, timeout: TimeoutArg = DEFAULT,
                     volume: Optional[str] = None) -> None:
        """Rename ``path`` to ``to``, replacing ``to`` if it exists."""
        return await self._op(_ops.RENAME, (path, to), timeout, volume)

    async def mkdir(self, path: PathArg, parents: bool = False, mode: Optional[int] = None, *,
                    timeout: TimeoutArg = DEFAULT, volume: Optional[str] = None) -> None:
        """Create a directory; with ``parents``, its missing ancestors too
        and no error if it exists."""
        return await self._op(_ops.MKDIR, (path, parents, mode), timeout, volume)

    async def rmdir(self, path: PathArg, *, timeout: TimeoutArg = DEFAULT,
                    volume: Optional[str] = None) -> None:
        """Remove an empty directory."""
        return await self._op(_ops.RMDIR, (path,), timeout, volume)

    async def listdir(self, path: PathArg = "", after: Optional[Union[str, bytes]] = None,
                      limit: Optional[int] = None, *, timeout: TimeoutArg = DEFAULT,
                      volume: Optional[str] = None) -> Listing:
        """One page of a directory's entries, sorted by name, all after
        ``after`` if given, at most ``limit`` (broker default 1000). See
        :meth:`listdir_all` for every entry."""
        return await self._op(_ops.LISTDIR, (path, after, limit), timeout, volume)

    async def listdir_all(self, path: PathArg = "", limit: Optional[int] = None, *,
                          timeout: TimeoutArg = DEFAULT,
                          volume: Optional[str] = None) -> List[DirEntry]:
        """Every entry of a directory, paging through :meth:`listdir` (each
        page gets its own ``timeout``)."""
        return [e async for e in self.listdir_iter(path, limit, timeout=timeout, volume=volume)]

    async def listdir_iter(self, path: PathArg = "", limit: Optional[int] = None, *,
                           timeout: TimeoutArg = DEFAULT,
                           volume: Optional[str] = None) -> AsyncIterator[DirEntry]:
        """Iterate over every entry of a directory, a page at a time."""
        pager = _ops.Pager()
        while not pager.done:
            for entry in pager.turn(await self.listdir(path, pager.after, limit, timeout=timeout,
                                                       volume=volume)):
                yield entry

    async def copy(self, path: PathArg, to: PathArg, *, timeout: TimeoutArg = DEFAULT,
                   volume: Optional[str] = None) -> int:
        """Copy the file ``path`` to ``to`` inside the broker; returns its size."""
        return await self._op(_ops.COPY, (path, to), timeout, volume)

    # ------------------------------------------------------------ events

    def events(self, prefix: Union[str, Sequence[str]] = "", *,
               timeout: Optional[float] = None, ready: bool = True) -> "EventStream":
        """Subscribe to completion events whose topic starts with ``prefix``
        (or any of several); an async iterator of :class:`zaio.Event`.
        ``timeout`` limits each wait (then :class:`zaio.Timeout`). Needs the
        ``events=`` endpoint.

        With ``ready`` (the default) the stream makes sure its subscription
        has reached the broker (:meth:`EventStream.ready`) on
        ``async with`` or its first receive, whichever comes first; use
        ``async with`` so that requests sent inside it are all seen.
        """
        return EventStream(self._events_at(), prefix, timeout=timeout, context=self._context,
                           client=self if ready else None, keys=self._curve)


class Batch:
    """Calls of one client sent together (:meth:`Client.batch`). Its op
    methods are the client's (``read``, ``stat``... and ``request``), each
    returning the call's task; the calls start at once and leave as wire
    batches at the end of the loop's turn. Before the first call it makes
    sure the client knows whether the broker takes batches (a hello)."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self.tasks: List["asyncio.Task[Any]"] = []

    def __getattr__(self, name: str) -> Any:
        if name not in _ops.METHODS and name != "request":
            raise AttributeError(name)
        method = getattr(self._client, name)

        def start(*args: Any, **kwargs: Any) -> "asyncio.Task[Any]":
            # The task copies the context it is made in: this one, marked.
            ctx = contextvars.copy_context()
            ctx.run(_IN_BATCH.set, True)
            task: "asyncio.Task[Any]" = ctx.run(asyncio.ensure_future, method(*args, **kwargs))
            self.tasks.append(task)
            return task
        return start

    async def __aenter__(self) -> "Batch":
        if self._client.batches is None:
            await self._client.hello()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.wait()

    async def wait(self) -> List[Any]:
        """Wait for every call started so far; their results, or the
        exceptions they raised, in order."""
        return list(await asyncio.gather(*self.tasks, return_exceptions=True))


class EventStream(EventStreamBase):
    """An async iterator over completion events from a SUB socket.

    ``async with client.events("err.") as s: ... await s.recv()`` or
    ``async for ev in s``. See :class:`zaio.client.EventStream` for
    :attr:`gap`, :attr:`last_seq` and :attr:`malformed`, ``keys`` and
    :class:`zaio.AuthFailed`.
    """

    def __init__(self, endpoint: str, prefix: Union[str, Sequence[str]] = "", *,
                 timeout: Optional[float] = None,
                 context: Optional[zmq.asyncio.Context] = None,
                 client: Optional[Client] = None,
                 keys: Optional[_curve.CurveKeys] = None) -> None:
        self._client = client
        self._sock: zmq.asyncio.Socket
        self._open(context or zmq.asyncio.Context.instance(), endpoint, prefix, timeout, keys)
        self._poller = zmq.asyncio.Poller()
        self._poller.register(self._sock, zmq.POLLIN)
        self._poller.register(self._monitor, zmq.POLLIN)

    async def _poll(self, timeout_ms: Optional[int]) -> bool:
        """Wait up to ``timeout_ms`` (None: no limit) for a message; whether
        one is there. Raises :class:`zaio.AuthFailed` on a refusal."""
        deadline = None if timeout_ms is None else time.monotonic() + timeout_ms / 1000
        while True:
            self._check_refused()
            ready = dict(await self._poller.poll(poll_ms(remaining(deadline))))
            if self._sock in ready:
                return True
            if self._monitor not in ready:
                return False

    async def ready(self, client: Optional[Client] = None,
                    timeout: TimeoutArg = DEFAULT) -> None:
        """Wait until this subscription has reached the broker, pinging
        through ``client`` (default: the client that made the stream) until
        an event arrives; see :meth:`zaio.client.EventStream.ready`."""
        client = client or self._client
        if client is None:
            raise ValueError("ready() needs a client to ping through")
        self._client = None
        with self._handshake(client._timeout(timeout)) as shake:
            while True:
                await client._roundtrip("ping", {}, None, shake.ping_timeout(), None)
                if await self._poll(shake.poll_ms()):
                    await self._take()
                    return

    async def _take(self) -> None:
        self._accept(await self._sock.recv_multipart(copy=False))

    async def recv(self, timeout: TimeoutArg = DEFAULT) -> Event:
        """The next event; :class:`zaio.Timeout` if none comes in time."""
        t = self._wait_time(timeout)
        if self._client is not None:
            await self.ready()
        deadline = None if t is None else time.monotonic() + t
        while not self._early:
            if not await self._poll(poll_ms(remaining(deadline))):
                raise Timeout(message="no event within the timeout")
            await self._take()
        return self._early.popleft()

    def __aiter__(self) -> "EventStream":
        return self

    async def __anext__(self) -> Event:
        return await self.recv()

    async def __aenter__(self) -> "EventStream":
        if self._client is not None:
            try:
                await self.ready()
            except BaseException:
                self.close()
                raise
        return self

    async def __aexit__(self, *exc: Any) -> None:
        self.close()
