"""Closing a blocking Client that other threads are using: every waiting
call raises Closed at once, and close() never touches the socket while a
libzmq call on it may be running in another thread."""

from __future__ import annotations

import threading
import time
from typing import Any, Dict, List

import pytest

import zaio

from conftest import FakeBroker


def silent(header: Dict[str, Any]) -> List[List[bytes]]:
    return []


@pytest.mark.parametrize("waiting_for", ["reply", "send"])
def test_close_wakes_waiting_threads(fake_broker, waiting_for: str) -> None:
    if waiting_for == "reply":
        fake: FakeBroker = fake_broker(silent)
        endpoint = fake.endpoint
    else:  # nobody listens: the request cannot even be sent
        endpoint = "ipc:///tmp/zaio-py-close-test-nobody.ipc"
    c = zaio.Client(endpoint, timeout=None)
    errors: List[BaseException] = []

    def call() -> None:
        try:
            c.ping()
        except BaseException as e:
            errors.append(e)

    # One thread in poll on the socket, the other waiting for its turn.
    threads = [threading.Thread(target=call, daemon=True) for _ in range(2)]
    for th in threads:
        th.start()
    deadline = time.monotonic() + 5
    while waiting_for == "reply" and not fake.requests:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    time.sleep(0.1)
    assert not errors
    t0 = time.monotonic()
    c.close()
    for th in threads:
        th.join(5)
    assert time.monotonic() - t0 < 1 and not any(th.is_alive() for th in threads)
    assert len(errors) == 2 and all(type(e) is zaio.Closed for e in errors), errors
    with pytest.raises(zaio.Closed):
        c.ping()
    c.close()
