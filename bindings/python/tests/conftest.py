"""Fixtures: a real zaio-broker on a temporary root, and clients of it.

The broker binary is $ZAIO_BROKER (ctest sets it) or, failing that,
build/broker/zaio-broker in the source tree. When ZAIO_BROKER is set and
the binary is missing the live tests fail; without it they are skipped.
"""

from __future__ import annotations

import os
import pathlib
import queue
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from typing import Any, Callable, Dict, Iterator, List, Optional

import pytest
import zmq

import zaio
from zaio import _codec

HERE = pathlib.Path(__file__).resolve().parent
PACKAGE_DIR = HERE.parent
REPO = PACKAGE_DIR.parent.parent
VECTORS = REPO / "schemas" / "vectors"

START_TIMEOUT = 15.0
STOP_TIMEOUT = 15.0


def broker_binary() -> pathlib.Path:
    env = os.environ.get("ZAIO_BROKER")
    path = pathlib.Path(env) if env else REPO / "build" / "broker" / "zaio-broker"
    if not (path.is_file() and os.access(path, os.X_OK)):
        if env:
            pytest.fail(f"ZAIO_BROKER={env} is not an executable file")
        pytest.skip(f"no broker binary at {path} (build it, or set ZAIO_BROKER)")
    return path


class Broker:
    """A zaio-broker process and the endpoints it printed."""

    def __init__(self, tmp: pathlib.Path, args: List[str]) -> None:
        self.tmp = tmp
        self.root = tmp / "root"
        self.root.mkdir()
        self.log_path = tmp / "broker.log"
        cmd = [str(broker_binary()), "--root", str(self.root),
               "--bind", f"ipc://{tmp}/b.ipc", "--bind", "tcp://127.0.0.1:*",
               "--events", "tcp://127.0.0.1:*", *args]
        self.cmd = cmd
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self._log,
                                     stdin=subprocess.DEVNULL)
        self.clients: List[str] = []
        self.events_endpoints: List[str] = []
        self.stdout_lines: List[str] = []
        lines: "queue.Queue[Optional[str]]" = queue.Queue()

        def pump() -> None:
            assert self.proc.stdout is not None
            for raw in self.proc.stdout:
                lines.put(raw.decode("utf-8", "replace").rstrip("\n"))
            lines.put(None)

        threading.Thread(target=pump, daemon=True).start()
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            try:
                line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                self.kill()
                raise RuntimeError(f"broker printed no 'ready' in {START_TIMEOUT} s: "
                                   f"{self.stdout_lines} {self.log()}")
            if line is None:
                code = self.proc.wait()
                raise RuntimeError(f"broker exited ({code}) before 'ready': "
                                   f"{self.stdout_lines} {self.log()}")
            self.stdout_lines.append(line)
            m = re.fullmatch(r"(client|events) (\S+)", line)
            if m:
                (self.clients if m.group(1) == "client" else self.events_endpoints).append(
                    m.group(2))
            elif line == "ready":
                break
        self.ipc = next(e for e in self.clients if e.startswith("ipc://"))
        self.tcp = next(e for e in self.clients if e.startswith("tcp://"))
        self.events = self.events_endpoints[0]

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def path(self, rel: str) -> pathlib.Path:
        """The local path of a file under the broker's root."""
        return self.root / rel

    def stop(self) -> int:
        """SIGTERM and wait; the exit code (the broker must exit 0)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                self.kill()
                return -999
        self._log.close()
        return self.proc.returncode

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def pause(self) -> None:
        """SIGSTOP, and wait until every thread has stopped."""
        self.proc.send_signal(signal.SIGSTOP)
        deadline = time.monotonic() + 5
        tasks = pathlib.Path(f"/proc/{self.proc.pid}/task")
        while time.monotonic() < deadline:
            states = []
            for t in tasks.iterdir():
                try:
                    states.append((t / "stat").read_text().rsplit(")", 1)[1].split()[0])
                except OSError:
                    pass
            if states and all(st in ("T", "t") for st in states):
                return
            time.sleep(0.005)
        raise RuntimeError("broker did not stop on SIGSTOP")

    def resume(self) -> None:
        self.proc.send_signal(signal.SIGCONT)


def _short_tmp() -> pathlib.Path:
    # ipc:// paths must fit in sun_path (108 bytes): keep them short.
    return pathlib.Path(tempfile.mkdtemp(prefix="zaio-py-"))


@pytest.fixture(scope="session")
def broker() -> Iterator[Broker]:
    """One broker shared by the session's tests (each works in its own dir)."""
    broker_binary()
    tmp = _short_tmp()
    b = Broker(tmp, ["--workers", "4"])
    yield b
    code = b.stop()
    log = b.log() if code else ""
    if not os.environ.get("ZAIO_KEEP_BROKER_DIR"):
        shutil.rmtree(tmp, ignore_errors=True)
    assert code == 0, f"broker exit code {code} after SIGTERM: {log}"


@pytest.fixture
def start_broker() -> Iterator:
    """Factory for a dedicated broker with extra command-line arguments."""
    started: List[Broker] = []

    def start(*args: str) -> Broker:
        broker_binary()
        b = Broker(_short_tmp(), list(args))
        started.append(b)
        return b

    yield start
    for b in started:
        b.resume()
        code = b.stop()
        shutil.rmtree(b.tmp, ignore_errors=True)
        assert code == 0, f"dedicated broker exit code {code}"


@pytest.fixture
def tdir(broker: Broker, request: pytest.FixtureRequest) -> str:
    """A fresh directory under the shared broker's root, for this test."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)[:100]
    path = broker.root / name
    if path.exists():
        shutil.rmtree(path)
    path.mkdir()
    return name


@pytest.fixture
def client(broker: Broker) -> Iterator[zaio.Client]:
    c = zaio.Client(broker.ipc, events=broker.events, timeout=20)
    yield c
    c.close()


#: A fake broker's script: the replies (lists of frames) to send for a
#: request header; none for silence.
Answer = Callable[[Dict[str, Any]], List[List[bytes]]]


class FakeBroker:
    """A ROUTER standing in for the broker, served by a thread: it records
    each request's header and answers with what ``answer`` returns. A
    request batch counts as its entries, each answered so; their replies
    go back as one reply batch. ``messages`` holds the entries of each
    message received (1 for a single request)."""

    def __init__(self, answer: Answer,
                 setup: Optional[Callable[[zmq.Socket], Any]] = None) -> None:
        self.answer = answer
        self.requests: List[Dict[str, Any]] = []
        self.messages: List[int] = []
        #: If set, the reply to a whole request batch (its frames, the
        #: client's identity left out), instead of its entries' answers.
        self.batch_reply: Optional[Callable[[List[bytes]], List[bytes]]] = None
        self._sock: zmq.Socket = zmq.Context.instance().socket(zmq.ROUTER)
        self._sock.setsockopt(zmq.LINGER, 0)
        if setup is not None:  # options before bind (CURVE...)
            setup(self._sock)
        self._sock.bind("tcp://127.0.0.1:*")
        self.endpoint: str = self._sock.getsockopt_string(zmq.LAST_ENDPOINT)
        self._stop = threading.Event()
        # From here on only the thread uses the socket.
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            if not self._sock.poll(20):
                continue
            peer, *frames = self._sock.recv_multipart()
            if len(frames) > 2 and frames[2][:1] and frames[2][0] >= 0x90:
                _, entries = _codec.decode_batch(frames)
                self.messages.append(len(entries))
                if self.batch_reply is not None:
                    self._sock.send_multipart([peer, *self.batch_reply(frames)])
                    continue
                replies = []
                for header, _ in entries:
                    self.requests.append(header)
                    for reply in self.answer(header):
                        replies.append((_codec.decode_reply(reply).header,
                                        reply[2] if len(reply) == 3 else None))
                if replies:
                    self._sock.send_multipart([peer, *_codec.encode_reply_batch(replies)])
                continue
            header, _ = _codec.decode_request(frames)
            self.requests.append(header)
            self.messages.append(1)
            for reply in self.answer(header):
                self._sock.send_multipart([peer, *reply])

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close(linger=0)


@pytest.fixture
def fake_broker() -> Iterator[Callable[[Answer], FakeBroker]]:
    """Factory for scripted fake brokers, closed after the test."""
    made: List[FakeBroker] = []

    def make(answer: Answer) -> FakeBroker:
        made.append(FakeBroker(answer))
        return made[-1]

    yield make
    for f in made:
        f.close()
