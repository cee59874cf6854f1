"""``stats()`` (PROTOCOL.md section 5.3) on both clients against a real
broker: a dict of the reply's results, whose rows count the calls made;
``top`` honoured and checked; no volume sent, even from a client that has
a default volume (the broker refuses one)."""

from __future__ import annotations

import asyncio
from typing import Any, Dict

import pytest

import zaio
import zaio.asyncio


def jobs(stats: Dict[str, Any], op: str, outcome: str, volume: str) -> int:
    return sum(r["jobs"] for r in stats["jobs"]
               if (r["op"], r["outcome"], r["volume"]) == (op, outcome, volume))


def test_stats_counts_calls(start_broker) -> None:
    b = start_broker()
    with zaio.Client(b.ipc, timeout=20, volume="default") as c:
        c.writefile("s.txt", b"12345")
        with pytest.raises(zaio.errors.NotFound):
            c.stat("missing")
        s = c.stats()
        assert s["version"] and s["uptime_ms"] >= 0 and s["time_ns"] > 0
        row = [r for r in s["jobs"] if (r["op"], r["outcome"]) == ("writefile", "ok")]
        assert row == [{"bytes": 5, "jobs": 1, "op": "writefile", "outcome": "ok",
                        "volume": "default"}]
        assert jobs(s, "stat", "ENOENT", "default") == 1
        assert set(s["gauges"]) >= {"queued", "queued_bytes", "running", "inflight",
                                    "held_replies", "held_bytes", "clients", "workers",
                                    "subscriptions"}
        assert [v["name"] for v in s["volumes"]] == ["default"]
        assert len(s["latency_bounds_us"]) == 27
        w = [x for x in s["latency"] if x["op"] == "writefile"][0]
        assert w["count"] == 1 and len(w["service"]) == 28 and sum(w["service"]) == 1
        assert len(c.stats(1)["top_clients"]) == 1
        with pytest.raises(zaio.Error) as e:
            c.stats(101)
        assert e.value.code == "TOOBIG"


def test_stats_asyncio(start_broker) -> None:
    b = start_broker()

    async def main() -> Dict[str, Any]:
        async with zaio.asyncio.Client(b.ipc, timeout=20, volume="default") as c:
            await c.ping()
            return await c.stats(top=5)

    s = asyncio.run(main())
    assert jobs(s, "ping", "ok", "default") >= 1
    assert jobs(s, "stats", "ok", "") == 1
    assert len(s["top_clients"]) <= 5
