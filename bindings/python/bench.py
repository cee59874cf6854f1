#!/usr/bin/env python3
"""bench.py: pipelined read throughput of the Python asyncio client.

    python3 bench.py --endpoint ipc:///tmp/zaio.ipc --path bench.bin --seconds 5
                     [--inflight 64] [--size 4096] [--volume NAME]

Keeps --inflight reads of --size bytes (default 64 of 4 KiB) in flight on
one zaio.asyncio.Client for --seconds, walking the file in --size steps,
and prints one JSON line: {"ops_per_sec": ..., ...}. The file is created
with 1 MiB of data if it does not exist. Exits 1 on any failed read.

Runs from a source checkout too: without an installed zaio it imports the
package beside this file (pyzmq and msgpack must be importable).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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
    a = p.parse_args()
    if a.seconds <= 0 or a.inflight < 1 or a.size < 1:
        p.error("--seconds, --inflight and --size must be positive")
    return a


async def run(a: argparse.Namespace) -> dict:
    async with zaio.asyncio.Client(a.endpoint, timeout=30, volume=a.volume,
                                   max_inflight=a.inflight) as c:
        try:
            size = (await c.stat(a.path)).size
        except zaio.NotFound:
            size = 1024 * 1024
            await c.writefile(a.path, b"\x5a" * size)
        blocks = max(1, size // a.size)
        await c.read(a.path, 0, a.size)          # warm the cache and the connection
        loop = asyncio.get_running_loop()
        ops = nbytes = 0
        counter = 0
        cpu0 = time.process_time()
        start = loop.time()
        end = start + a.seconds

        async def lane() -> None:
            # Each lane issues its next read as soon as its last one returns.
            nonlocal ops, nbytes, counter
            while loop.time() < end:
                offset = (counter % blocks) * a.size
                counter += 1
                data = await c.read(a.path, offset, a.size)
                ops += 1
                nbytes += len(data)

        await asyncio.gather(*(lane() for _ in range(a.inflight)))
        seconds = loop.time() - start
        cpu = time.process_time() - cpu0
    return {
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
    }


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
