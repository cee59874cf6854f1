#!/usr/bin/env python3
"""bench.py: pipelined read throughput of the Python asyncio client.

    python3 bench.py --endpoint ipc:///tmp/zaio.ipc --path bench.bin --seconds 5
                     [--inflight 64] [--size 4096] [--volume NAME]
                     [--random] [--batch] [--broker-pid PID]

Keeps --inflight reads of --size bytes (default 64 of 4 KiB) in flight on
one zaio.asyncio.Client for --seconds, walking the file in --size steps
(--random: at random aligned offsets), and prints one JSON line:
{"ops_per_sec": ..., ...}. The file is created with 1 MiB of data if it
does not exist. Exits 1 on any failed read.

--batch sends the reads through `client.batch()`, two batches of half the
window in flight. The shape assumed until that API lands (issue 20: "collects
calls and sends them as one"): `async with client.batch() as b`, `b.read(...)`
an awaitable per call, sent when the block ends. A client without `batch`
prints {"missing": "client has no batch API yet"} and measures nothing.
--broker-pid adds the broker process's CPU time per read in the same
stretch (from /proc).

Runs from a source checkout too: without an installed zaio it imports the
package beside this file (pyzmq and msgpack must be importable).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time

try:
    import zaio.asyncio
except ImportError:
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import zaio.asyncio


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--endpoint", default="ipc:///tmp/zaio.ipc")
    p.add_argument("--path", default="bench.bin")
    p.add_argument("--seconds", type=float, default=5.0)
    p.add_argument("--inflight", type=int, default=64)
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--volume", default=None)
    p.add_argument("--random", action="store_true")
    p.add_argument("--batch", action="store_true")
    p.add_argument("--broker-pid", type=int, default=0)
    a = p.parse_args()
    if a.seconds <= 0 or a.inflight < 1 or a.size < 1:
        p.error("--seconds, --inflight and --size must be positive")
    return a


MISSING_BATCH = "client has no batch API yet"


def proc_cpu(pid: int) -> float:
    """The CPU seconds (user and system) process pid has used; 0 for pid 0."""
    if not pid:
        return 0.0
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def run(a: argparse.Namespace) -> dict:
    async with zaio.asyncio.Client(a.endpoint, timeout=30, volume=a.volume,
                                   max_inflight=a.inflight) as c:
        try:
            size = (await c.stat(a.path)).size
        except zaio.NotFound:
            size = 1024 * 1024
            await c.writefile(a.path, b"\x5a" * size)
        if a.batch and not hasattr(c, "batch"):
            return {"missing": MISSING_BATCH, "client": "python-asyncio"}
        blocks = max(1, size // a.size)
        await c.read(a.path, 0, a.size)          # warm the cache and the connection
        loop = asyncio.get_running_loop()
        ops = nbytes = 0
        counter = 0
        pick = random.Random(0x9E3779B9).randrange

        def offset() -> int:
            nonlocal counter
            counter += 1
            return (pick(blocks) if a.random else counter % blocks) * a.size

        cpu0 = time.process_time()
        broker0 = proc_cpu(a.broker_pid)
        start = loop.time()
        end = start + a.seconds

        async def lane() -> None:
            # Each lane issues its next read as soon as its last one returns.
            nonlocal ops, nbytes
            while loop.time() < end:
                data = await c.read(a.path, offset(), a.size)
                ops += 1
                nbytes += len(data)

        async def batch_lane(count: int) -> None:
            # Each lane sends count reads as one batch, and the next batch
            # once they have all returned.
            nonlocal ops, nbytes
            while loop.time() < end:
                async with c.batch() as b:
                    reads = [b.read(a.path, offset(), a.size) for _ in range(count)]
                for data in await asyncio.gather(*reads):
                    ops += 1
                    nbytes += len(data)

        if a.batch:
            halves = (a.inflight // 2, a.inflight - a.inflight // 2)
            await asyncio.gather(*(batch_lane(n) for n in halves if n))
        else:
            await asyncio.gather(*(lane() for _ in range(a.inflight)))
        seconds = loop.time() - start
        cpu = time.process_time() - cpu0
        broker = proc_cpu(a.broker_pid) - broker0
    result = {
        "ops_per_sec": round(ops / seconds),
        "mib_per_sec": round(nbytes / seconds / 1048576, 1),
        "ops": ops,
        "seconds": round(seconds, 3),
        "inflight": a.inflight,
        "size": a.size,
        "client": "python-asyncio",
        # This process's CPU per read (all its threads, libzmq's included):
        # what the binding costs, less sensitive to other load than ops/s.
        "client_cpu_us_per_op": round(cpu / max(ops, 1) * 1e6, 1),
        "batch": a.batch,
    }
    if a.broker_pid:
        result["broker_cpu_us_per_op"] = round(broker / max(ops, 1) * 1e6, 2)
    return result


def main() -> int:
    a = parse_args()
    try:
        result = asyncio.run(run(a))
    except Exception as e:  # report and fail: a benchmark with errors is no result
        print(f"bench.py: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
