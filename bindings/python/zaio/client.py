"""The blocking zaio client: one DEALER socket, one request at a time.

    import zaio
    with zaio.Client("ipc:///run/zaio/client.ipc", timeout=5) as c:
        c.writefile("hello.txt", b"hi")
        assert c.readfile("hello.txt") == b"hi"

A :class:`Client` may be shared between threads (a lock serialises calls);
for many requests in flight use :class:`zaio.asyncio.Client`, or group
calls with :meth:`Client.batch`, which sends them in one go (as wire
batches when the broker takes them) and waits for all.
"""

from __future__ import annotations

import inspect
import os
import threading
import time
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple, TypeVar, Union

import zmq

from . import _codec, _curve, _ops
from ._base import (DEFAULT, BufferLike, ClientBase, EventStreamBase, TimeoutArg, as_buffer, log,
                    poll_ms, remaining, setup_dealer)
from ._ops import PathArg
from ._types import DirEntry, Event, Hello, Listing, ReadResult, Reply, Stat
from .errors import BadReply, ClientError, Closed, Error, Timeout

__all__ = ["Client", "EventStream", "Batch", "Pending"]

T = TypeVar("T")


class Client(ClientBase):
    """Blocking client of a zaio broker.

    :param endpoint: the broker's client endpoint (``ipc://``, ``tcp://``...);
        without one, ``$ZAIO_ENDPOINT``, else the broker's default
        ``ipc:///tmp/zaio.ipc``.
    :param events: the broker's events endpoint, needed only by :meth:`events`;
        without one (and without ``endpoint``), ``$ZAIO_EVENTS``, else the
        broker's default ``ipc:///tmp/zaio-events.ipc``.
    :param timeout: default per-call timeout in seconds (``None``: no limit);
        each method also takes ``timeout=``. A call that runs out raises
        :class:`zaio.Timeout`.
    :param volume: default volume (``None``: the broker's ``default``).
    :param context: a ``zmq.Context`` (default: the process's shared one).
    :param queue_full_retries: ``QUEUE_FULL`` replies are retried this many
        times, with a doubling back-off, before :class:`zaio.QueueFull` is
        raised (the broker did not accept the job, so a retry is safe).
    :param curve_server: with ``curve_cert``, speak CURVE: the broker's
        public certificate file (czmq's format, as ``zaio keygen`` writes
        it) or its z85 public key. The event stream uses it too.
    :param curve_cert: this client's certificate file, with its secret key
        (``PATH_secret`` is tried first, then ``PATH``). A call the broker
        refuses at the handshake raises :class:`zaio.AuthFailed` (``AUTH``):
        a key it refused, a mechanism mismatch (CURVE or not on one side
        only), or under CURVE a broker that hung up in every handshake of a
        run (a wrong ``curve_server`` key); see the README.
    """

    def __init__(self, endpoint: Optional[str] = None, *, events: Optional[str] = None,
                 timeout: Optional[float] = 30.0, volume: Optional[str] = None,
                 context: Optional[zmq.Context] = None, queue_full_retries: int = 8,
                 queue_full_backoff: float = 0.005, curve_server: Optional[_curve.KeyArg] = None,
                 curve_cert: Optional[_curve.KeyArg] = None) -> None:
        super().__init__(endpoint, events=events, timeout=timeout, volume=volume,
                         queue_full_retries=queue_full_retries,
                         queue_full_backoff=queue_full_backoff, curve_server=curve_server,
                         curve_cert=curve_cert)
        self._closed = True  # until there is a socket for close() (or __del__)
        self._context: zmq.Context = context or zmq.Context.instance()
        # Held by the call using the socket; close() takes it too, so it
        # never closes the socket under a libzmq call in another thread.
        self._lock = threading.Lock()
        # Makes close() run once, whichever threads call it.
        self._close_lock = threading.Lock()
        self._sock: zmq.Socket = self._context.socket(zmq.DEALER)
        # Read while a call waits; its queue has no limit (see _curve).
        self._monitor: Optional[zmq.Socket] = None
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
        self._closed = False
        # close() writes to this pipe to wake a call waiting in poll, which
        # then raises Closed and lets go of the socket.
        self._wake_r, self._wake_w = os.pipe()
        self._readable = zmq.Poller()
        self._writable = zmq.Poller()
        for poller, event in ((self._readable, zmq.POLLIN), (self._writable, zmq.POLLOUT)):
            poller.register(self._sock, event)
            poller.register(self._wake_r, zmq.POLLIN)
            poller.register(self._monitor, zmq.POLLIN)
        self._pausing = zmq.Poller()
        self._pausing.register(self._wake_r, zmq.POLLIN)

    # ------------------------------------------------------------ lifecycle

    def close(self) -> None:
        """Close the socket (linger 0). A call waiting in another thread
        raises :class:`zaio.Closed` at once. Idempotent."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
        os.write(self._wake_w, b"x")
        with self._lock:  # the waiting call has let go of the socket
            assert self._monitor is not None
            self._monitor.close(linger=0)
            self._sock.close(linger=0)
            os.close(self._wake_r)
            os.close(self._wake_w)

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __del__(self) -> None:
        try:
            self.close()
        except Exception:
            pass

    # ------------------------------------------------------------ core

    def request(self, op: str, fields: Optional[Dict[str, Any]] = None,
                data: Optional[BufferLike] = None, *, timeout: TimeoutArg = DEFAULT,
                volume: Optional[str] = None) -> Reply:
        """Any request, as the protocol spells it; returns the raw
        :class:`Reply` (header map and data frame) and raises the error of
        an error reply. ``fields`` are the header fields other than ``id``,
        ``op`` and ``volume``, including those no method takes (``key``,
        ``barrier``, ``link``, ``deadline``, ``priority``); ``data`` is the
        data frame of ``write``, ``append`` and ``writefile``."""
        fields = _ops.request_fields(fields)
        return _ops.raw_result(op, self._exchange(op, fields, data, timeout, volume), fields)

    def _op(self, spec: "_ops.OpSpec[T]", args: Tuple[Any, ...], timeout: TimeoutArg,
            volume: Optional[str]) -> T:
        """A call of the op method ``spec`` describes, ``args`` its
        positional arguments."""
        fields, data = spec.request(args)
        reply = self._exchange(spec.op, fields, data, timeout, volume)
        return spec.result(self, reply, fields.get("path"))

    def _exchange(self, op: str, fields: Dict[str, Any], data: Optional[BufferLike],
                  timeout: TimeoutArg, volume: Optional[str]) -> Reply:
        """A request and its reply, the payload checked against the broker's
        limit first (learnt from ``hello`` when it is big; see the README)."""
        buf = as_buffer(data) if data is not None else None
        if self._needs_limits(buf):
            # Naming the call's volume: one the broker would refuse the call
            # for gets the hello refused alike, and no other.
            self.hello(timeout=timeout, volume=volume)
        self._check_payload(op, fields.get("path"), buf)
        return self._roundtrip(op, fields, buf, self._timeout(timeout), volume)

    def _roundtrip(self, op: str, fields: Dict[str, Any], data: Optional[Any],
                   timeout: Optional[float], volume: Optional[str]) -> Reply:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            self._check_open(op, fields.get("path"))
            if self._watch.restart():  # the last connection was given up on
                _curve.reconnect(self._sock, self.endpoint)
            attempt = 0
            while True:
                header = self._header(op, fields, volume)
                frames = self._frames(header, data)
                self._send(frames, self._zero_copy(data), deadline, op, fields)
                reply = self._recv(header["id"], deadline, op, fields)
                pause = self._retry_pause(reply, attempt, remaining(deadline))
                if pause is None:
                    return reply
                attempt += 1
                self._wait(self._pausing, time.monotonic() + pause, op, fields)

    def _wait(self, poller: zmq.Poller, deadline: Optional[float], op: str,
              fields: Dict[str, Any]) -> bool:
        """Poll until the socket is ready or the ``time.monotonic()``
        ``deadline``; whether it is ready. Raises Closed if close() was
        called meanwhile (it wakes the poll), and AuthFailed once the
        monitor's events make a verdict of AUTH (see _curve)."""
        while True:
            ready = dict(poller.poll(poll_ms(remaining(deadline))))
            if self._closed:
                raise Closed(message="client closed while the request was pending", op=op,
                             path=fields.get("path"))
            if self._monitor in ready:
                self._read_monitor(op, fields)
            if self._sock in ready:
                return True
            left = remaining(deadline)
            if left is not None and left <= 0:
                return False

    def _read_monitor(self, op: str, fields: Dict[str, Any]) -> None:
        """Take what the monitor has; on a verdict of AUTH stop connecting
        (the next call connects again) and raise it."""
        assert self._monitor is not None
        refused = None
        while self._monitor.poll(0, zmq.POLLIN):
            refused = self._watch.feed(self._monitor.recv_multipart())
        if refused is not None:
            _curve.stop(self._sock, self.endpoint)
            raise type(refused)(message=refused.message, op=op, path=fields.get("path"))

    def _send(self, frames: List[Any], zero_copy: bool, deadline: Optional[float], op: str,
              fields: Dict[str, Any]) -> None:
        while True:
            if not self._wait(self._writable, deadline, op, fields):
                raise self._timeout_error(op, fields.get("path"), sent=False)
            try:
                self._sock.send_multipart(frames, flags=zmq.NOBLOCK, copy=not zero_copy)
                return
            except zmq.Again:
                continue

    def _recv(self, rid: int, deadline: Optional[float], op: str,
              fields: Dict[str, Any]) -> Reply:
        while True:
            if not self._wait(self._readable, deadline, op, fields):
                raise self._timeout_error(op, fields.get("path"), sent=True)
            frames = self._sock.recv_multipart(copy=False)
            try:
                reply = _codec.decode_reply(frames)
            except BadReply as e:
                if _codec.reply_id(frames) == rid:
                    e.op, e.path = op, fields.get("path")
                    raise
                log.warning("zaio: dropped an undecodable reply: %s", e)
                continue
            if reply.id == rid:
                return reply
            # A late reply to a request that timed out, or an id-0 reply to
            # a request the broker could not read: nobody waits for it.
            log.debug("zaio: dropped reply id %d (waiting for %d)", reply.id, rid)

    # ------------------------------------------------------------ ops
    # Each is its spec in _ops, called with the method's own arguments.

    def ping(self, *, timeout: TimeoutArg = DEFAULT, volume: Optional[str] = None) -> None:
        """Round trip to the broker (``ping``)."""
        return self._op(_ops.PING, (), timeout, volume)

    def hello(self, *, timeout: TimeoutArg = DEFAULT, volume: Optional[str] = None) -> Hello:
        """What the broker speaks: protocol, version, ops, volumes, limits
        (``hello``). Also stored in :attr:`limits`."""
        return self._op(_ops.HELLO, (), timeout, volume)

    def stats(self, top: Optional[int] = None, *,
              timeout: TimeoutArg = DEFAULT) -> Dict[str, Any]:
        """The broker's counters, gauges, volumes, workers, latency
        histograms and ``top`` busiest clients (default 10, at most 100):
        the results of the ``stats`` op as a dict (PROTOCOL.md section
        5.3). An identity whose grant entry lacks ``monitor`` gets
        :class:`zaio.errors.PermissionDenied` (``EACCES``)."""
        return self._op(_ops.STATS, (top,), timeout, None)

    def stat(self, path: PathArg, *, timeout: TimeoutArg = DEFAULT,
             volume: Optional[str] = None) -> Stat:
        """Type, size, mode and mtime of ``path``; a symlink is not followed."""
        return self._op(_ops.STAT, (path,), timeout, volume)

    def read(self, path: PathArg, offset: int, length: int, *, timeout: TimeoutArg = DEFAULT,
             volume: Optional[str] = None) -> memoryview:
        """Up to ``length`` bytes of ``path`` from ``offset`` (fewer at end of
        file), as a read-only memoryview of the received frame (no copy)."""
        return self._op(_ops.READ, (path, offset, length), timeout, volume)

    def read_result(self, path: PathArg, offset: int, length: int, *,
                    timeout: TimeoutArg = DEFAULT, volume: Optional[str] = None) -> ReadResult:
        """Like :meth:`read`, also telling whether the read reached end of file."""
        return self._op(_ops.READ_RESULT, (path, offset, length), timeout, volume)

    def write(self, path: PathArg, offset: int, data: BufferLike, create: bool = False,
              mode: Optional[int] = None, *, timeout: TimeoutArg = DEFAULT,
              volume: Optional[str] = None) -> int:
        """Write ``data`` (any bytes-like object) at ``offset``; ``ENOENT``
        unless the file exists or ``create``. Returns the bytes written."""
        return self._op(_ops.WRITE, (path, offset, data, create, mode), timeout, volume)

    def append(self, path: PathArg, data: BufferLike, create: bool = False,
               mode: Optional[int] = None, *, timeout: TimeoutArg = DEFAULT,
               volume: Optional[str] = None) -> int:
        """Append ``data`` at the end of ``path``; returns the offset where
        it landed."""
        return self._op(_ops.APPEND, (path, data, create, mode), timeout, volume)

    def readfile(self, path: PathArg, *, timeout: TimeoutArg = DEFAULT,
                 volume: Optional[str] = None) -> memoryview:
        """The whole file, as a read-only memoryview of the received frame."""
        return self._op(_ops.READFILE, (path,), timeout, volume)

    def writefile(self, path: PathArg, data: BufferLike, mode: Optional[int] = None, *,
                  timeout: TimeoutArg = DEFAULT, volume: Optional[str] = None) -> int:
        """Replace ``path`` with ``data`` atomically and durably; returns the
        bytes written."""
        return self._op(_ops.WRITEFILE, (path, data, mode), timeout, volume)

    def truncate(self, path: PathArg, size: int, *, timeout: TimeoutArg = DEFAULT,
                 volume: Optional[str] = None) -> None:
        """Set the size of ``path``."""
        return self._op(_ops.TRUNCATE, (path, size), timeout, volume)

    def fsync(self, path: PathArg, datasync: bool = False, *, timeout: TimeoutArg = DEFAULT,
              volume: Optional[str] = None) -> None:
        """Flush a file or directory to storage (``fdatasync`` if ``datasync``)."""
        return self._op(_ops.FSYNC, (path, datasync), timeout, volume)

    def unlink(self, path: PathArg, *, timeout: TimeoutArg = DEFAULT,
               volume: Optional[str] = None) -> None:
        """Remove a file."""
        return self._op(_ops.UNLINK, (path,), timeout, volume)

    def rename(self, path: PathArg, to: PathArg, *, timeout: TimeoutArg = DEFAULT,
               volume: Optional[str] = None) -> None:
        """Rename ``path`` to ``to``, replacing ``to`` if it exists."""
        return self._op(_ops.RENAME, (path, to), timeout, volume)

    def mkdir(self, path: PathArg, parents: bool = False, mode: Optional[int] = None, *,
              timeout: TimeoutArg = DEFAULT, volume: Optional[str] = None) -> None:
        """Create a directory; with ``parents``, its missing ancestors too
        and no error if it exists."""
        return self._op(_ops.MKDIR, (path, parents, mode), timeout, volume)

    def rmdir(self, path: PathArg, *, timeout: TimeoutArg = DEFAULT,
              volume: Optional[str] = None) -> None:
        """Remove an empty directory."""
        return self._op(_ops.RMDIR, (path,), timeout, volume)

    def listdir(self, path: PathArg = "", after: Optional[Union[str, bytes]] = None,
                limit: Optional[int] = None,
                *, timeout: TimeoutArg = DEFAULT, volume: Optional[str] = None) -> Listing:
        """One page of a directory's entries, sorted by name, all after
        ``after`` if given, at most ``limit`` (broker default 1000). See
        :meth:`listdir_all` for every entry."""
        return self._op(_ops.LISTDIR, (path, after, limit), timeout, volume)

    def listdir_all(self, path: PathArg = "", limit: Optional[int] = None, *,
                    timeout: TimeoutArg = DEFAULT,
                    volume: Optional[str] = None) -> List[DirEntry]:
        """Every entry of a directory, paging through :meth:`listdir` (each
        page gets its own ``timeout``)."""
        return list(self.listdir_iter(path, limit, timeout=timeout, volume=volume))

    def listdir_iter(self, path: PathArg = "", limit: Optional[int] = None, *,
                     timeout: TimeoutArg = DEFAULT,
                     volume: Optional[str] = None) -> Iterator[DirEntry]:
        """Iterate over every entry of a directory, a page at a time."""
        pager = _ops.Pager()
        while not pager.done:
            yield from pager.turn(self.listdir(path, pager.after, limit, timeout=timeout,
                                               volume=volume))

    def copy(self, path: PathArg, to: PathArg, *, timeout: TimeoutArg = DEFAULT,
             volume: Optional[str] = None) -> int:
        """Copy the file ``path`` to ``to`` inside the broker; returns its size."""
        return self._op(_ops.COPY, (path, to), timeout, volume)


    # ------------------------------------------------------------ batches

    def batch(self) -> "Batch":
        """Calls collected, then sent in one go and waited for together::

            with client.batch() as b:
                head = b.read("big.bin", 0, 4096)
                st = b.stat("big.bin")
            print(bytes(head.result()), st.result().size)

        Each op method of ``b`` (``read``, ``stat``... and ``request``)
        takes the client method's arguments and returns a :class:`Pending`.
        Leaving the block (or :meth:`Batch.run`) sends the calls as wire
        batches, split by the broker's ``batch_max`` and
        ``batch_bytes_max``, when its hello lists the ``batch`` op (asked
        once, first), else one by one; each keeps its own timeout,
        ``QUEUE_FULL`` retries and result or exception."""
        return Batch(self)

    def _run_batch(self, calls: List["Pending"]) -> None:
        """Send ``calls`` and wait until each has its outcome. Whether the
        broker takes batches is asked first, once; without an answer the
        calls go one by one (and get the broker's silence as their own
        errors)."""
        if self.batches is None:
            try:
                self.hello()
            except Error as e:
                log.info("zaio: no hello, so no batches: %s", e)
        with self._lock:
            live: List[Pending] = []
            for call in calls:
                try:
                    self._check_open(call.op, call.path)
                    call.prepare(self)
                    live.append(call)
                except Error as e:
                    call.error = e
            try:
                self._exchange_many(live)
            except Error as e:  # closed, or refused: what is left fails with it
                for call in live:
                    if not call.done:
                        call.error = e

    def _exchange_many(self, calls: List["Pending"]) -> None:
        """The requests of ``calls`` and their replies, each call retried
        after ``QUEUE_FULL`` and timed out on its own."""
        if self._watch.restart():
            _curve.reconnect(self._sock, self.endpoint)
        todo = list(calls)
        waiting: Dict[int, Pending] = {}
        tags: Dict[int, List[Pending]] = {}
        while todo or waiting or any(c.retry_at is not None for c in calls):
            if todo:
                self._send_many(todo, waiting, tags)
                todo = []
            now = time.monotonic()
            for call in calls:
                if call.done:
                    continue
                if call.deadline is not None and call.deadline <= now:
                    waiting.pop(call.rid, None)
                    call.retry_at = None
                    call.error = self._timeout_error(call.op, call.path, sent=True)
                elif call.retry_at is not None and call.retry_at <= now:
                    call.retry_at = None
                    todo.append(call)
            if todo or not (waiting or any(c.retry_at is not None for c in calls)):
                continue
            wakes = [w for c in calls if not c.done for w in (c.deadline, c.retry_at)
                     if w is not None]
            op, fields = calls[0].op, {"path": calls[0].path}
            if self._wait(self._readable, min(wakes) if wakes else None, op, fields):
                self._take_replies(self._sock.recv_multipart(copy=False), waiting, tags)

    def _send_many(self, todo: List["Pending"], waiting: Dict[int, "Pending"],
                   tags: Dict[int, List["Pending"]]) -> None:
        """Send ``todo``, each with a fresh id: as wire batches when the
        broker takes them, else one by one; a call that cannot be sent
        before its deadline times out."""
        ready = []
        for call in todo:
            header = self._header(call.op, call.fields, call.volume)
            call.rid = header["id"]
            try:
                call.header = self._frames(header, call.data)[1]
                ready.append(call)
            except Error as e:
                call.error = e
        todo = ready
        groups = self._groups([(c.header, c) for c in todo]) if self.batches else \
            [[i] for i in range(len(todo))]
        for group in groups:
            batch = [todo[i] for i in group]
            if len(batch) == 1:
                frames = _codec.encode_request_frames(batch[0].header, batch[0].data)
            else:
                bid = next(self._ids)
                tags[bid] = batch
                frames = _codec.encode_batch(bid, [(c.header, c.data) for c in batch])
            ends = [c.deadline for c in batch]
            deadline = None if None in ends else max(e for e in ends if e is not None)
            try:
                self._send(frames, any(self._zero_copy(c.data) for c in batch), deadline,
                           batch[0].op, {"path": batch[0].path})
            except Timeout:
                for c in batch:
                    c.error = self._timeout_error(c.op, c.path, sent=False)
                continue
            for c in batch:
                waiting[c.rid] = c

    def _take_replies(self, frames: List[Any], waiting: Dict[int, "Pending"],
                      tags: Dict[int, List["Pending"]]) -> None:
        """Settle the waiting calls a received reply or reply batch
        answers; one that does not decode fails the calls whose ids can be
        read from it (BadReply), else it is dropped."""
        replies: List[Any]
        if _codec.is_batch(frames):
            try:
                replies = _codec.decode_reply_batch(frames)
            except BadReply as e:
                for rid in _codec.batch_reply_ids(frames):
                    if rid in waiting:
                        waiting.pop(rid).error = e
                log.warning("zaio: dropped an undecodable reply batch: %s", e)
                return
        else:
            try:
                replies = [_codec.decode_reply(frames)]
            except BadReply as e:
                e.id = _codec.reply_id(frames)
                replies = [e]
            else:
                refused = tags.pop(replies[0].id, None)
                if refused is not None:
                    for c in refused:
                        if waiting.pop(c.rid, None) is c:
                            c.answer(self, Reply(id=c.rid, ok=False, header=replies[0].header,
                                                 error=replies[0].error,
                                                 message=replies[0].message))
                    return
        for r in replies:
            call = waiting.pop(r.id or 0, None)
            if call is None:
                log.debug("zaio: dropped reply id %s: nobody waits for it", r.id)
            elif isinstance(r, BadReply):
                r.op, r.path = call.op, call.path
                call.error = r
            else:
                call.answer(self, r)

    # ------------------------------------------------------------ events

    def events(self, prefix: Union[str, Sequence[str]] = "", *,
               timeout: Optional[float] = None, ready: bool = True) -> "EventStream":
        """Subscribe to completion events whose topic starts with ``prefix``
        (or any of several prefixes): ``""`` all, ``"err."`` errors,
        ``"ok.write."`` successful writes. Returns an iterator of
        :class:`zaio.Event`; ``timeout`` limits each wait (then
        :class:`zaio.Timeout`). Needs the ``events=`` endpoint.

        With ``ready`` (the default) this returns once the subscription has
        reached the broker (see :meth:`EventStream.ready`), so every request
        sent afterwards has its event seen.
        """
        stream = EventStream(self._events_at(), prefix, timeout=timeout, context=self._context,
                             keys=self._curve)
        if ready:
            try:
                stream.ready(self)
            except BaseException:
                stream.close()
                raise
        return stream


class Pending:
    """One call of a :class:`Batch`: its outcome once the batch has run.

    :ivar done: whether it has its outcome.
    """

    def __init__(self, op: str, fields: Dict[str, Any], data: Optional[BufferLike],
                 timeout: TimeoutArg, volume: Optional[str],
                 spec: Optional["_ops.OpSpec[Any]"]) -> None:
        self.op = op
        self.fields = fields
        self.path: Optional[str] = fields.get("path")
        self.data: Any = data
        self.volume = volume
        self._timeout = timeout
        self._spec = spec
        self.rid = 0
        self.header = b""
        self.deadline: Optional[float] = None
        self.retry_at: Optional[float] = None
        self.attempts = 0
        self._value: Any = None
        self._error: Optional[BaseException] = None
        self.done = False

    @property
    def error(self) -> Optional[BaseException]:
        """The exception the call raised, or None."""
        return self._error

    @error.setter
    def error(self, e: BaseException) -> None:
        self._error, self.done = e, True

    def prepare(self, client: Client) -> None:
        """Its data as a buffer checked against the broker's limit, and
        its deadline; raises what the client method would."""
        if self.data is not None:
            self.data = as_buffer(self.data)
        client._check_payload(self.op, self.path, self.data)
        timeout = client._timeout(self._timeout)
        self.deadline = None if timeout is None else time.monotonic() + timeout

    def answer(self, client: Client, reply: Reply) -> None:
        """Settle with ``reply``, or plan a retry after ``QUEUE_FULL``."""
        pause = client._retry_pause(reply, self.attempts, remaining(self.deadline))
        if pause is not None:
            self.attempts += 1
            self.retry_at = time.monotonic() + pause
            return
        try:
            self._value = (self._spec.result(client, reply, self.path) if self._spec is not None
                           else _ops.raw_result(self.op, reply, self.fields))
            self.done = True
        except Error as e:
            self.error = e

    def result(self) -> Any:
        """What the client method would have returned; raises what it would
        have raised, or :class:`zaio.ClientError` if the batch has not run."""
        if not self.done:
            raise ClientError(message="the batch has not run yet", op=self.op,
                                          path=self.path)
        if self._error is not None:
            raise self._error
        return self._value


class Batch:
    """Calls of a blocking client collected, then sent together
    (:meth:`Client.batch`)."""

    def __init__(self, client: Client) -> None:
        self._client = client
        self.calls: List[Pending] = []

    def __getattr__(self, name: str) -> Any:
        if name not in _ops.METHODS and name != "request":
            raise AttributeError(name)
        signature = inspect.signature(getattr(Client, name))

        def add(*args: Any, **kwargs: Any) -> Pending:
            bound = signature.bind(None, *args, **kwargs)
            bound.apply_defaults()
            a = bound.arguments
            if name == "request":
                fields = _ops.request_fields(a["fields"])
                call = Pending(a["op"], fields, a["data"], a["timeout"], a["volume"], None)
            else:
                spec = _ops.METHODS[name]
                fields, data = spec.request([a[p] for p in spec.params])
                call = Pending(spec.op, fields, data, a["timeout"], a["volume"], spec)
            self.calls.append(call)
            return call
        return add

    def run(self) -> List[Pending]:
        """Send the calls collected since the last run and wait for all of
        them; returns them."""
        calls, self.calls = self.calls, []
        if calls:
            self._client._run_batch(calls)
        return calls

    def __enter__(self) -> "Batch":
        return self

    def __exit__(self, *exc: Any) -> None:
        if exc[0] is None:
            self.run()


class EventStream(EventStreamBase):
    """A blocking iterator over completion events from a SUB socket.

    :ivar gap: events lost so far, from ``seq`` gaps (``None`` when a prefix
        filter is set: ``seq`` numbers all events, so filtered streams see
        gaps by design).
    :ivar last_seq: the last ``seq`` seen.
    :ivar malformed: events dropped because they broke the protocol.

    ``keys``: CURVE keys (:func:`zaio._curve.curve_keys`), as
    :meth:`Client.events` passes the client's own. A subscriber the broker
    refuses at the handshake raises :class:`zaio.AuthFailed` from
    :meth:`recv` and :meth:`ready`, every time (make a new stream).
    """

    def __init__(self, endpoint: str, prefix: Union[str, Sequence[str]] = "", *,
                 timeout: Optional[float] = None, context: Optional[zmq.Context] = None,
                 keys: Optional[_curve.CurveKeys] = None) -> None:
        self._sock: zmq.Socket
        self._open(context or zmq.Context.instance(), endpoint, prefix, timeout, keys)
        self._poller = zmq.Poller()
        self._poller.register(self._sock, zmq.POLLIN)
        self._poller.register(self._monitor, zmq.POLLIN)

    def _poll(self, timeout_ms: Optional[int]) -> bool:
        """Wait up to ``timeout_ms`` (None: no limit) for a message; whether
        one is there. Raises :class:`zaio.AuthFailed` on a refusal."""
        deadline = None if timeout_ms is None else time.monotonic() + timeout_ms / 1000
        while True:
            self._check_refused()
            ready = dict(self._poller.poll(poll_ms(remaining(deadline))))
            if self._sock in ready:
                return True
            if self._monitor not in ready:
                return False

    def ready(self, client: Client, timeout: TimeoutArg = DEFAULT) -> None:
        """Wait until this subscription has reached the broker.

        ZeroMQ subscriptions travel to the publisher asynchronously, so
        events published just after subscribing can be missed (the "slow
        joiner"). This subscribes to ping events too, pings through
        ``client`` until any event arrives, then drops the ping
        subscription; events that match the stream's prefixes are kept.
        ``timeout`` defaults to the client's.
        """
        with self._handshake(client._timeout(timeout)) as shake:
            while True:
                client._roundtrip("ping", {}, None, shake.ping_timeout(), None)
                if self._poll(shake.poll_ms()):
                    self._take()
                    return

    def _take(self) -> None:
        """Receive one message; queue it if it is an event for this stream."""
        self._accept(self._sock.recv_multipart(copy=False))

    def recv(self, timeout: TimeoutArg = DEFAULT) -> Event:
        """The next event; :class:`zaio.Timeout` if none comes in time."""
        t = self._wait_time(timeout)
        deadline = None if t is None else time.monotonic() + t
        while not self._early:
            if not self._poll(poll_ms(remaining(deadline))):
                raise Timeout(message="no event within the timeout")
            self._take()
        return self._early.popleft()

    def __iter__(self) -> "EventStream":
        return self

    def __next__(self) -> Event:
        return self.recv()

    def __enter__(self) -> "EventStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
