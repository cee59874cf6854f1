#!/usr/bin/env python3
"""peers_report.py: the report of scripts/bench's peers section, from the
sides it measured.

    python3 peers_report.py SIDES_FILE [--json] [--seconds S]

SIDES_FILE holds one line per run of a side, "NAME<TAB>JSON": the side's
JSON line (tests/perf/zaio_peer_side.h, bindings/*/bench.*), or {"error":
TEXT} if it failed, or {"missing": TEXT} if it cannot be measured here (a
library not found, a client without a batch API). A side run in several
rounds is its median run by ops/s, with every run's ops/s in "runs"; it
failed if any run did. Prints a table with the machine line, or with
--json one object:

    {"machine": {...}, "seconds": S, "sides": {NAME: {...}, ...},
     "comparisons": [{"name", "zaio_ops", "peer_ops", "ratio", "target"}, ...],
     "remote_broker_cpu_ratio": {"ratio", "target", "remote_us_per_op",
                                 "local_us_per_op", "lower_is_better": true},
     "remote_bare_relay": {"bare_relay_ops", "remote_ops", "local_ops",
                           "remote_vs_bare_relay", "bare_relay_vs_local"}}

remote_bare_relay puts the batched remote side beside the bare relay, which
moves the same bytes over the same two loopback tcp hops with no IO and no
protocol: bare_relay_vs_local is the most remote_batched_vs_local could be
on this machine, remote_vs_bare_relay how much of that zaio reaches.

A comparison is higher-is-better, zaio's ops/s over its peer's; one whose
side was not measured has "zaio_ops" or "peer_ops" and "ratio" null, and
says why ("missing" or "error"). Nothing is asserted: targets are shown.
"""

import json
import os
import sys

# (name, zaio side, peer side, target): the names and targets of issue 20.
COMPARISONS = [
    ("c_batched_inproc_vs_libuv", "c_batched_inproc", "libuv", 1.0),
    ("c_batched_ipc_vs_libuv", "c_batched_ipc", "libuv", 0.7),
    ("node_batched_vs_node_fs", "node_batched", "node_fs_callback", 1.0),
    ("node_single_vs_node_fs", "node_single", "node_fs_callback", 0.5),
    ("python_batched_vs_to_thread", "python_batched", "to_thread", 3.0),
    ("remote_batched_vs_local", "c_batched_remote", "c_batched_local", 0.8),
]
BROKER_CPU_TARGET = 1.2  # remote over local, lower is better

# The table's rows: side, what it is.
SIDES = [
    ("pread", "pread loop, 1 thread (the physical reference)"),
    ("io_uring", "io_uring, 1 thread"),
    ("libuv", "libuv uv_fs_read, pool of 2"),
    ("node_fs_callback", "Node fs.read, pool of 2"),
    ("node_fs_promises", "Node FileHandle.read, pool of 2"),
    ("to_thread", "Python asyncio.to_thread(os.pread), 2 threads"),
    ("c_inproc", "zaio C, inproc, embedded broker"),
    ("c_batched_inproc", "zaio C batched, inproc, embedded broker"),
    ("c_ipc", "zaio C, ipc, zaio-broker"),
    ("c_batched_ipc", "zaio C batched, ipc, zaio-broker"),
    ("node_single", "zaio Node, ipc"),
    ("node_batched", "zaio Node batched, ipc"),
    ("python_single", "zaio Python asyncio, ipc"),
    ("python_batched", "zaio Python asyncio batched, ipc"),
    ("c_local", "zaio C, tcp, broker's 2 threads"),
    ("c_batched_local", "zaio C batched, tcp, broker's 2 threads"),
    ("c_remote", "zaio C, tcp, remote zaio-worker of 2 threads"),
    ("c_batched_remote", "zaio C batched, tcp, remote zaio-worker"),
    ("bare_relay", "bare relay: remote bytes over 2 tcp hops, no IO"),
]

CPU_KEYS = ("cpu_us_per_op", "client_cpu_us_per_op", "broker_cpu_us_per_op", "worker_cpu_us_per_op")


def machine():
    model = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu_model": model, "loadavg": os.getloadavg()[0]}


def read_sides(path):
    runs = {}
    with open(path) as f:
        for line in f:
            name, _, text = line.rstrip("\n").partition("\t")
            try:
                side = json.loads(text)
            except json.JSONDecodeError:
                side = {"error": f"not JSON: {text[:200]!r}"}
            if not isinstance(side, dict):
                side = {"error": f"not an object: {text[:200]!r}"}
            runs.setdefault(name, []).append(side)
    return {name: median_run(sides) for name, sides in runs.items()}


def median_run(sides):
    """The median of a side's runs by ops/s (the upper one of an even
    count), with "runs"; the first run not measured if any was not."""
    for side in sides:
        if ops(side) is None:
            return side
    ordered = sorted(sides, key=ops)
    median = dict(ordered[len(ordered) // 2])
    median["runs"] = [ops(side) for side in sides]
    return median


def ops(side):
    """A side's ops/s, or None if it was not measured."""
    if side is None or "error" in side or "missing" in side:
        return None
    value = side.get("ops_per_sec")
    return value if isinstance(value, (int, float)) and value > 0 else None


def cpu(side):
    """CPU µs per read of every process a side used (its own, the broker's,
    a remote worker's), or None."""
    if ops(side) is None:
        return None
    values = [side[k] for k in CPU_KEYS if isinstance(side.get(k), (int, float))]
    return round(sum(values), 2) if values else None


def why(side, name):
    if side is None:
        return {"error": f"side {name} did not run"}
    if "missing" in side:
        return {"missing": side["missing"]}
    if "error" in side:
        return {"error": f"{name}: {side['error']}"}
    return {"error": f"{name}: no ops_per_sec"}


def compare(sides):
    out = []
    for name, top, bottom, target in COMPARISONS:
        zaio, peer = ops(sides.get(top)), ops(sides.get(bottom))
        entry = {
            "name": name,
            "zaio_ops": zaio,
            "peer_ops": peer,
            "ratio": round(zaio / peer, 3) if zaio and peer else None,
            "target": target,
            "zaio_side": top,
            "peer_side": bottom,
        }
        if zaio is None:
            entry.update(why(sides.get(top), top))
        elif peer is None:
            entry.update(why(sides.get(bottom), bottom))
        out.append(entry)
    return out


def broker_cpu(sides):
    remote, local = sides.get("c_batched_remote"), sides.get("c_batched_local")
    r = remote.get("broker_cpu_us_per_op") if ops(remote) else None
    l = local.get("broker_cpu_us_per_op") if ops(local) else None
    entry = {
        "ratio": round(r / l, 3) if r and l else None,
        "target": BROKER_CPU_TARGET,
        "lower_is_better": True,
        "remote_us_per_op": r,
        "local_us_per_op": l,
    }
    if entry["ratio"] is None:
        entry.update(why(remote if r is None else local,
                         "c_batched_remote" if r is None else "c_batched_local"))
    return entry


def bare_relay(sides):
    bare = ops(sides.get("bare_relay"))
    remote = ops(sides.get("c_batched_remote"))
    local = ops(sides.get("c_batched_local"))
    return {
        "bare_relay_ops": bare,
        "remote_ops": remote,
        "local_ops": local,
        "remote_vs_bare_relay": round(remote / bare, 3) if remote and bare else None,
        "bare_relay_vs_local": round(bare / local, 3) if bare and local else None,
    }


def table(report):
    m = report["machine"]
    rounds = max((len(s.get("runs", [])) for s in report["sides"].values()), default=1)
    print(f"4 KiB random reads of a cached file, 64 in flight, {report['seconds']} s per side, "
          f"median of {rounds} round(s); "
          f"{m['nproc']} CPUs ({m['cpu_model']}), load {m['loadavg']:.2f} at the end")
    print(f"{'side':<50} {'ops/s':>9} {'CPU us/op':>10} {'broker':>7}"
          f"{'  runs' if rounds > 1 else ''}")
    for name, text in SIDES:
        side = report["sides"].get(name)
        if ops(side) is None:
            reason = why(side, name)
            print(f"{text:<50} {'-':>9}  {reason.get('missing') or reason.get('error')}")
            continue
        broker = side.get("broker_cpu_us_per_op")
        runs = side.get("runs", [])
        spread = f"  {min(runs):.0f}..{max(runs):.0f}" if len(runs) > 1 else ""
        print(f"{text:<50} {ops(side):>9.0f} {cpu(side):>10.2f} "
              f"{broker if broker is not None else '':>7}{spread}")
    print()
    print(f"{'comparison':<30} {'zaio':>9} {'peer':>9} {'ratio':>7} {'target':>7}")
    for c in report["comparisons"]:
        def fig(v):
            return f"{v:>9.0f}" if v is not None else f"{'-':>9}"
        ratio = f"{c['ratio']:>6.2f}x" if c["ratio"] is not None else f"{'-':>7}"
        note = c.get("missing") or c.get("error") or ""
        print(f"{c['name']:<30} {fig(c['zaio_ops'])} {fig(c['peer_ops'])} {ratio} "
              f"{c['target']:>6.1f}x {note}".rstrip())
    b = report["remote_broker_cpu_ratio"]
    ratio = f"{b['ratio']:.2f}x" if b["ratio"] is not None else "-"
    print(f"remote_broker_cpu_ratio: {ratio} (broker CPU us per read remote "
          f"{b['remote_us_per_op']} / local {b['local_us_per_op']}; target <= {b['target']}x)")
    r = report["remote_bare_relay"]
    if r["bare_relay_ops"]:
        print(f"remote_bare_relay: the bare relay moves {r['bare_relay_ops']:.0f} reads/s "
              f"({r['bare_relay_vs_local']}x the broker's own threads, the most the remote "
              f"ratio could be here); batched remote is {r['remote_vs_bare_relay']}x of it")


def main(argv):
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    seconds = float(argv[argv.index("--seconds") + 1]) if "--seconds" in argv else None
    sides = read_sides(argv[1])
    for side in sides.values():
        if ops(side) is not None:
            side["total_cpu_us_per_op"] = cpu(side)
    report = {
        "machine": machine(),
        "seconds": seconds,
        "sides": sides,
        "comparisons": compare(sides),
        "remote_broker_cpu_ratio": broker_cpu(sides),
        "remote_bare_relay": bare_relay(sides),
    }
    if "--json" in argv:
        print(json.dumps(report))
    else:
        table(report)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
