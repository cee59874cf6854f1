#!/usr/bin/env python3
"""peer_to_thread.py: Python asyncio's own file reads, the peer of the
asyncio client through zaio in the peers section (scripts/bench --only
peers).

    python3 peer_to_thread.py --file FILE [--seconds S] [--inflight N]
                              [--threads N] [--size BYTES]

Keeps --inflight `asyncio.to_thread(os.pread, ...)` calls of --size bytes
(default 64 of 4 KiB) at random aligned offsets of FILE in flight for
--seconds, on a default executor of --threads threads (default 2). Prints
the JSON line of tests/perf/zaio_peer_side.h, side "to_thread".
"""

import argparse
import asyncio
import concurrent.futures
import json
import os
import random
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--file", required=True)
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--inflight", type=int, default=64)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--size", type=int, default=4096)
    a = p.parse_args()
    if a.seconds <= 0 or a.inflight < 1 or a.threads < 1 or a.size < 1:
        p.error("--seconds, --inflight, --threads and --size must be positive")
    return a


async def run(a):
    loop = asyncio.get_running_loop()
    loop.set_default_executor(concurrent.futures.ThreadPoolExecutor(max_workers=a.threads))
    fd = os.open(a.file, os.O_RDONLY)
    blocks = os.fstat(fd).st_size // a.size
    if blocks < 1:
        raise ValueError(f"{a.file} holds no {a.size}-byte block")
    pick = random.Random(0x9E3779B9).randrange
    ops = errors = 0
    cpu = time.process_time()
    start = loop.time()
    end = start + a.seconds

    async def lane():
        nonlocal ops, errors
        while loop.time() < end:
            data = await asyncio.to_thread(os.pread, fd, a.size, pick(blocks) * a.size)
            ops += 1
            errors += len(data) != a.size

    await asyncio.gather(*(lane() for _ in range(a.inflight)))
    seconds = loop.time() - start
    cpu = time.process_time() - cpu
    os.close(fd)
    return {
        "side": "to_thread",
        "ops_per_sec": round(ops / seconds),
        "ops": ops,
        "seconds": round(seconds, 3),
        "inflight": a.inflight,
        "threads": a.threads,
        "size": a.size,
        "errors": errors,
        "cpu_us_per_op": round(cpu / max(ops, 1) * 1e6, 2),
    }


def main():
    result = asyncio.run(run(parse_args()))
    print(json.dumps(result), flush=True)
    return 1 if result["errors"] or not result["ops"] else 0


if __name__ == "__main__":
    sys.exit(main())
