"""What the blocking and the asyncio clients share apart from their op
methods (``_ops``): configuration, request ids, building requests, buffers,
the QUEUE_FULL retry policy, the errors of a call that cannot complete, and
for event streams their setup, ``seq`` tracking and the ``ready``
handshake."""

from __future__ import annotations

import collections
import itertools
import logging
import os
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import zmq

from . import _codec, _curve
from ._types import Event, Limits, Reply
from .errors import AuthFailed, Closed, Error, Timeout, TooBig

log = logging.getLogger("zaio")


class _Default:
    """Type of :data:`DEFAULT`: "use the client's default timeout"."""

    _instance: Optional["_Default"] = None

    def __new__(cls) -> "_Default":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "DEFAULT"


#: Sentinel for ``timeout=``: the client's default. ``None`` means no timeout.
DEFAULT = _Default()

#: The endpoints a ``zaio-broker`` binds by default (its ``--bind`` and
#: ``--events``), used by a client made without an endpoint when
#: ``$ZAIO_ENDPOINT`` (and ``$ZAIO_EVENTS``) are not set, as libzaio does.
DEFAULT_ENDPOINT = "ipc:///tmp/zaio.ipc"
DEFAULT_EVENTS = "ipc:///tmp/zaio-events.ipc"

#: Seconds, or ``None`` for no limit, or :data:`DEFAULT`.
TimeoutArg = Union[float, None, _Default]

#: Anything that exposes a byte buffer: bytes, bytearray, memoryview, mmap,
#: numpy arrays, zmq.Frame...
BufferLike = Any

#: A data frame up to this size is always under a broker's transport limit
#: (its payload limit plus 64 KiB, PROTOCOL.md section 6), so the broker
#: answers it, with TOOBIG if it is over the payload limit. A bigger frame
#: over the transport limit makes ZeroMQ drop the connection unanswered.
TRANSPORT_SLACK = 64 * 1024

#: Payloads at least this big are handed to ZeroMQ without a copy.
COPY_THRESHOLD = 64 * 1024


def as_buffer(data: BufferLike) -> Union[bytes, memoryview]:
    """``data`` as a flat byte buffer ZeroMQ can send, copying only when it
    is not contiguous. ``str`` is refused: encode it first."""
    if isinstance(data, bytes):
        return data
    if isinstance(data, str):
        raise TypeError("data must be a bytes-like object, not str (encode it first)")
    mv = memoryview(data)
    if not mv.c_contiguous:
        mv = memoryview(mv.tobytes())
    if mv.ndim != 1 or mv.format != "B":
        mv = mv.cast("B")
    return mv


class ClientBase:
    """Configuration and request building common to both clients."""

    def __init__(self, endpoint: Optional[str] = None, *, events: Optional[str] = None,
                 timeout: Optional[float] = 30.0, volume: Optional[str] = None,
                 queue_full_retries: int = 8, queue_full_backoff: float = 0.005,
                 curve_server: Optional[_curve.KeyArg] = None,
                 curve_cert: Optional[_curve.KeyArg] = None) -> None:
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be > 0 or None")
        # Loaded before any socket exists, so a bad file makes none.
        self._curve = _curve.curve_keys(curve_server, curve_cert)
        self._watch = _curve.HandshakeWatch(self._curve is not None)
        if endpoint is None:
            endpoint = os.environ.get("ZAIO_ENDPOINT") or DEFAULT_ENDPOINT
            if events is None:
                events = os.environ.get("ZAIO_EVENTS") or DEFAULT_EVENTS
        #: The broker's client endpoint: the one given, else
        #: ``$ZAIO_ENDPOINT``, else the broker's default, ``ipc:///tmp/zaio.ipc``.
        self.endpoint: str = endpoint
        #: The broker's events endpoint, for :meth:`events`: the one given;
        #: for a client made without an endpoint, ``$ZAIO_EVENTS``, else the
        #: broker's default ``ipc:///tmp/zaio-events.ipc``; else none.
        self.events_endpoint: Optional[str] = events
        #: Default per-call timeout in seconds (``None``: wait forever).
        self.timeout: Optional[float] = timeout
        #: Default volume for calls that name none (``None``: the broker's default).
        self.volume: Optional[str] = volume
        #: How many times a ``QUEUE_FULL`` reply is retried before it is raised.
        self.queue_full_retries: int = queue_full_retries
        #: First back-off in seconds; it doubles each retry, up to 0.25 s.
        self.queue_full_backoff: float = queue_full_backoff
        #: The broker's limits, once :meth:`hello` has been called.
        self.limits: Optional[Limits] = None
        #: Whether the broker takes the ``batch`` op (its hello lists it);
        #: ``None`` until a hello has said.
        self.batches: Optional[bool] = None
        self._ids = itertools.count(1)
        self._closed = False

    # ------------------------------------------------------------ internals

    def _check_open(self, op: Optional[str] = None, path: Optional[str] = None) -> None:
        """Raise :class:`zaio.Closed` once the client is closed."""
        if self._closed:
            raise Closed(message="client is closed", op=op, path=path)

    def _timeout_error(self, op: str, path: Optional[str], sent: bool) -> Timeout:
        """:func:`timeout_error`, saying why the last handshake failed if
        one did."""
        return timeout_error(op, path, sent, self._watch.trouble)

    def _events_at(self) -> str:
        """The events endpoint, for ``events()``; ValueError without one."""
        if self.events_endpoint is None:
            raise ValueError("this client was made without an events= endpoint")
        return self.events_endpoint

    def _timeout(self, timeout: TimeoutArg) -> Optional[float]:
        if isinstance(timeout, _Default):
            return self.timeout
        if timeout is not None and timeout <= 0:
            raise ValueError("timeout must be > 0 or None")
        return timeout

    def _header(self, op: str, fields: Dict[str, Any], volume: Optional[str]) -> Dict[str, Any]:
        header: Dict[str, Any] = {"id": next(self._ids), "op": op}
        header.update(fields)
        vol = volume if volume is not None else self.volume
        if vol is not None and op != "stats":  # stats names no volume (section 5.3)
            header["volume"] = vol
        return header

    def _needs_limits(self, data: Optional[Union[bytes, memoryview]]) -> bool:
        """True when a payload is too big to send before the broker's limits
        are known (``hello``): past the transport limit the call would get
        no answer, only a dropped connection."""
        return data is not None and self.limits is None and len(data) > TRANSPORT_SLACK

    def _check_payload(self, op: str, path: Optional[str],
                       data: Optional[Union[bytes, memoryview]]) -> None:
        """Refuse a payload over the broker's limit, as the broker would
        (TOOBIG). An unknown limit is left to the broker."""
        limit = self.limits.payload_max if self.limits is not None else None
        if data is not None and limit is not None and len(data) > limit:
            raise TooBig(message=f"payload of {len(data)} bytes is over the broker's "
                         f"limit of {limit} (checked by the client)", op=op, path=path)

    def _frames(self, header: Dict[str, Any],
                data: Optional[Union[bytes, memoryview]]) -> List[Any]:
        """A request's frames. A header over the protocol's limit is refused
        here with the broker's TOOBIG: the broker could not read its id, so
        its own TOOBIG would carry id 0 and reach no caller."""
        frames = _codec.encode_request(header, data)
        if len(frames[1]) > _codec.HEADER_MAX:
            raise TooBig(message=f"request header of {len(frames[1])} bytes is over the "
                         f"limit of {_codec.HEADER_MAX} (checked by the client)",
                         op=header["op"], path=header.get("path"))
        return frames

    @staticmethod
    def _zero_copy(data: Optional[Union[bytes, memoryview]]) -> bool:
        """Whether to hand a request's frames to ZeroMQ without copying: only
        for big payloads (for small frames a copy is cheaper)."""
        return data is not None and len(data) >= COPY_THRESHOLD

    def _groups(self, entries: Sequence[Tuple[bytes, Any]]) -> List[List[int]]:
        """Indexes of ``entries`` (each an encoded request header and
        anything) in runs that fit one wire batch under the broker's
        ``batch_max`` and ``batch_bytes_max`` (the spec's defaults where
        hello did not say), in order."""
        lim = self.limits
        most = (lim.batch_max if lim is not None and lim.batch_max else None) or _codec.BATCH_MAX
        room = ((lim.batch_bytes_max if lim is not None and lim.batch_bytes_max else None)
                or _codec.BATCH_BYTES_MAX) - 5  # the array's head
        groups: List[List[int]] = []
        size = 0
        for i, (header, _) in enumerate(entries):
            n = _codec.entry_size(header)
            if not groups or len(groups[-1]) >= most or size + n > room:
                groups.append([])
                size = 0
            groups[-1].append(i)
            size += n
        return groups

    def _retry_pause(self, reply: Reply, attempt: int, left: Optional[float]) -> Optional[float]:
        """Seconds to pause before sending a request again after ``reply``,
        its answer to try ``attempt`` (from 0), or None to return ``reply``.
        Only ``QUEUE_FULL`` is retried (the broker did not take the job, so
        a retry is safe), at most :attr:`queue_full_retries` times, with a
        back-off that doubles up to 0.25 s, and never when the pause would
        outlast the ``left`` seconds of the call's timeout."""
        if reply.ok or reply.error != "QUEUE_FULL" or attempt >= self.queue_full_retries:
            return None
        pause: float = min(self.queue_full_backoff * (2 ** attempt), 0.25)
        if left is not None and left <= pause:
            return None
        return pause


def timeout_error(op: str, path: Optional[str], sent: bool,
                  trouble: Optional[str] = None) -> Timeout:
    """The error of a call that ran out of time waiting for its reply
    (``sent``), or waiting to send; ``trouble`` says why the last
    handshake failed, if one did."""
    if sent:
        why = "no reply within the timeout"
    elif trouble is None:
        why = "could not send within the timeout (no connection to the broker?)"
    else:
        why = f"could not send within the timeout: no connection to the broker, {trouble}"
    return Timeout(message=why, op=op, path=path)


def remaining(deadline: Optional[float]) -> Optional[float]:
    """Seconds to a ``time.monotonic()`` deadline (None: no deadline)."""
    return None if deadline is None else deadline - time.monotonic()


def poll_ms(seconds: Optional[float]) -> Optional[int]:
    """A wait in seconds as a ZeroMQ poll timeout: ms rounded up, never
    negative (None: no limit)."""
    return None if seconds is None else max(0, int(seconds * 1000 + 0.999))


class SeqTracker:
    """Counts events lost between consecutive ``seq`` numbers.

    Only meaningful on a stream that subscribes to every event: ``seq``
    numbers all of a broker's events, so a prefix filter sees gaps by design
    and :attr:`gap` is then ``None``.
    """

    def __init__(self, prefixes: Sequence[str]) -> None:
        self.last_seq: Optional[int] = None
        self.gap: Optional[int] = 0 if "" in prefixes else None
        self.malformed: int = 0

    def track(self, ev: Event) -> None:
        if self.gap is not None and self.last_seq is not None:
            if ev.seq > self.last_seq + 1:
                self.gap += ev.seq - self.last_seq - 1
            elif ev.seq <= self.last_seq:
                log.info("zaio events: seq went back from %d to %d (broker restarted?)",
                         self.last_seq, ev.seq)
        self.last_seq = ev.seq


class EventStreamBase:
    """What the blocking and asyncio event streams share: their prefixes,
    ``seq`` tracking, the setup of their SUB socket, closing it, and the
    logic of their ``ready`` handshake."""

    prefixes: Tuple[str, ...]
    timeout: Optional[float]
    _sock: Any
    _monitor: Any
    _endpoint: str
    _tracker: SeqTracker
    _early: "collections.deque[Event]"
    _closed: bool

    def _open(self, context: Any, endpoint: str, prefix: Union[str, Sequence[str]],
              timeout: Optional[float], curve: Optional["_curve.CurveKeys"]) -> None:
        """Make the SUB socket from ``context``, CURVE keys on it if
        ``curve``, subscribe and connect it (it is closed again if that
        fails). A bad ``prefix`` is a TypeError before any socket exists."""
        self.prefixes = prefixes_of(prefix)
        self.timeout = timeout
        self._tracker = SeqTracker(self.prefixes)
        self._early = collections.deque()
        self._closed = False
        self._watch = _curve.HandshakeWatch(curve is not None, "subscriber")
        self._endpoint = endpoint
        self._sock = context.socket(zmq.SUB)
        self._monitor = None
        try:
            _curve.apply(self._sock, curve)
            self._monitor = _curve.open_monitor(self._sock, context, curve is not None)
            # For draining it without waiting, whichever kind of socket it is.
            self._monitor_raw = zmq.Socket.shadow(self._monitor.underlying)
            setup_sub(self._sock, endpoint, self.prefixes)
        except BaseException:
            if self._monitor is not None:
                self._monitor.close(linger=0)
            self._sock.close(linger=0)
            raise

    def close(self) -> None:
        """Close the SUB socket (linger 0). Idempotent."""
        if not self._closed:
            self._closed = True
            self._monitor.close(linger=0)
            self._sock.close(linger=0)

    def _check_refused(self) -> None:
        """Take what the monitor has; raise :class:`zaio.AuthFailed` on a
        verdict of AUTH (see _curve), after which the stream stops
        connecting: every receive raises it again (make a new stream)."""
        raw = self._monitor_raw
        while int(raw.get(zmq.EVENTS)) & zmq.POLLIN:
            self._watch.feed(raw.recv_multipart(zmq.NOBLOCK))
        refused = self._watch.refused
        if refused is not None:
            _curve.stop(self._sock, self._endpoint)
            raise AuthFailed(message=refused.message)

    def _wait_time(self, timeout: TimeoutArg) -> Optional[float]:
        """How long a receive may wait for an event: ``timeout``, or the
        stream's own. Raises :class:`zaio.Closed` once the stream is closed."""
        if self._closed:
            raise Closed(message="event stream is closed")
        return self.timeout if isinstance(timeout, _Default) else timeout

    def _handshake(self, timeout: Optional[float]) -> "Handshake":
        """The ``ready`` handshake of this stream, ``timeout`` seconds long."""
        return Handshake(self._sock, self.prefixes, timeout)

    def _accept(self, frames: List[Any]) -> None:
        """Queue a received message if it is an event for this stream; a
        malformed one is counted and dropped."""
        try:
            ev = _codec.decode_event(frames)
        except Error as e:
            self._tracker.malformed += 1
            log.warning("zaio: dropped a malformed event: %s", e)
            return
        if matches(ev.topic, self.prefixes):
            self._tracker.track(ev)
            self._early.append(ev)

    @property
    def gap(self) -> Optional[int]:
        """Events lost so far (``None`` unless subscribed to everything)."""
        return self._tracker.gap

    @property
    def last_seq(self) -> Optional[int]:
        """``seq`` of the last event received."""
        return self._tracker.last_seq

    @property
    def malformed(self) -> int:
        """Event messages dropped because they did not decode."""
        return self._tracker.malformed


#: Topics of ping events: an event stream subscribes to them while it makes
#: sure its subscription has reached the broker (see ``EventStream.ready``).
PING_TOPICS = ("ok.ping.", "err.ping.")


class Handshake:
    """The logic of ``EventStream.ready``, without its IO.

    ZeroMQ subscriptions travel to the publisher asynchronously, so events
    published just after subscribing can be missed (the "slow joiner").
    While the handshake is open (``with``) the stream is also subscribed to
    the ping events it would not get otherwise; each round the caller pings
    with :meth:`ping_timeout`, then waits up to :meth:`poll_ms` for a
    message on the stream, until one comes. On leaving, the extra
    subscriptions are dropped again.
    """

    def __init__(self, sock: Any, prefixes: Sequence[str], timeout: Optional[float]) -> None:
        self._sock = sock
        self._deadline = None if timeout is None else time.monotonic() + timeout
        self._extra = [p.encode() for p in PING_TOPICS if not matches(p, prefixes)]
        self._wait = 0.005

    def __enter__(self) -> "Handshake":
        for p in self._extra:
            self._sock.setsockopt(zmq.SUBSCRIBE, p)
        return self

    def __exit__(self, *exc: Any) -> None:
        for p in self._extra:
            self._sock.setsockopt(zmq.UNSUBSCRIBE, p)

    def ping_timeout(self) -> Optional[float]:
        """The timeout of the next ping: what is left of the handshake's.
        Raises :class:`zaio.Timeout` when nothing is."""
        left = remaining(self._deadline)
        if left is not None and left <= 0:
            raise Timeout(message="event subscription not confirmed in time")
        return left

    def poll_ms(self) -> Optional[int]:
        """How long to wait for an event after a ping, in ms: 5 ms, doubling
        each round up to 0.1 s, and never past the handshake's timeout."""
        left = remaining(self._deadline)
        wait = self._wait if left is None else min(self._wait, max(left, 0))
        self._wait = min(self._wait * 2, 0.1)
        return poll_ms(wait)


def matches(topic: str, prefixes: Sequence[str]) -> bool:
    """Whether a topic is one a stream subscribed to."""
    return any(topic.startswith(p) for p in prefixes)


def prefixes_of(prefix: Union[str, Sequence[str]]) -> Tuple[str, ...]:
    """One prefix or several, as a tuple of str."""
    if isinstance(prefix, str):
        return (prefix,)
    out = tuple(prefix)
    if not out or not all(isinstance(p, str) for p in out):
        raise TypeError("prefix must be a str or a non-empty sequence of str")
    return out


def setup_dealer(sock: zmq.Socket, endpoint: str) -> None:
    """Options every client DEALER gets, then connect."""
    sock.setsockopt(zmq.LINGER, 0)
    # Queue requests only to a completed connection, so a call to a broker
    # that is not there times out instead of piling up in a pipe.
    sock.setsockopt(zmq.IMMEDIATE, 1)
    sock.copy_threshold = COPY_THRESHOLD
    sock.connect(endpoint)


def setup_sub(sock: zmq.Socket, endpoint: str, prefixes: Sequence[str]) -> None:
    """Options of an event SUB socket, its subscriptions, then connect."""
    sock.setsockopt(zmq.LINGER, 0)
    for p in prefixes:
        sock.setsockopt(zmq.SUBSCRIBE, p.encode("utf-8"))
    sock.connect(endpoint)
