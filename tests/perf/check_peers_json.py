#!/usr/bin/env python3
"""Checks what `scripts/bench --only peers --json` printed (on stdin): every
side of the peers section measured or said to be missing (never failed),
every comparison of issue 20 there by name with its figures and target,
the ratio the figures' quotient, and the broker's CPU ratio. Nothing about
speed is asserted; this only guards the report's shape. Every problem
found is named; the exit status is 1 if there was any."""

import sys

from bench_json import is_number, main
from peers_report import BROKER_CPU_TARGET, COMPARISONS, SIDES


def check_side(report, name, side):
    if not isinstance(side, dict):
        report.problem(f"side {name}: {side!r}")
    elif "error" in side:
        report.problem(f"side {name} failed: {side['error']}")
    elif "missing" in side:
        if not isinstance(side["missing"], str) or not side["missing"]:
            report.problem(f"side {name}: missing is {side['missing']!r}, not a reason")
    else:
        for key in ("ops_per_sec", "total_cpu_us_per_op"):
            value = side.get(key)
            if not is_number(value) or value <= 0:
                report.problem(f"side {name}: {key} is {value!r}, not above 0")


def check_comparison(report, entry, target):
    where = f"comparison {entry.get('name')}"
    if entry.get("target") != target:
        report.problem(f"{where}: target is {entry.get('target')!r}, not {target}")
    zaio, peer, ratio = entry.get("zaio_ops"), entry.get("peer_ops"), entry.get("ratio")
    if "error" in entry:
        report.problem(f"{where}: {entry['error']}")
    elif "missing" in entry:
        if ratio is not None or (zaio is not None and peer is not None):
            report.problem(f"{where}: missing ({entry['missing']!r}) but has figures")
    elif not (is_number(zaio) and zaio > 0 and is_number(peer) and peer > 0):
        report.problem(f"{where}: zaio_ops {zaio!r} and peer_ops {peer!r} are not both above 0")
    elif not is_number(ratio) or abs(ratio - zaio / peer) > 1e-3:
        report.problem(f"{where}: ratio {ratio!r} is not {zaio} / {peer}")


def check(report, document):
    sections = report.field("report", document, "sections")
    peers = report.field("sections", sections, "peers") if sections is not None else None
    if peers is None:
        return 0
    machine = report.field("peers", peers, "machine")
    if machine is not None:
        report.field("machine", machine, "nproc", "number")
        if not isinstance(machine.get("cpu_model"), str):
            report.problem(f"machine: cpu_model is {machine.get('cpu_model')!r}")
    sides = report.field("peers", peers, "sides")
    if sides is not None:
        for name, _ in SIDES:
            if name not in sides:
                report.problem(f"sides: no {name}")
            else:
                check_side(report, name, sides[name])
    comparisons = report.field("peers", peers, "comparisons", "list") or []
    by_name = {entry.get("name"): entry for entry in comparisons if isinstance(entry, dict)}
    if len(by_name) != len(comparisons):
        report.problem(f"comparisons: {comparisons!r} are not objects with distinct names")
    for name, _, _, target in COMPARISONS:
        if name not in by_name:
            report.problem(f"comparisons: no {name}")
        else:
            check_comparison(report, by_name.pop(name), target)
    for name in by_name:
        report.problem(f"comparisons: {name} is not one of issue 20's")
    cpu = report.field("peers", peers, "remote_broker_cpu_ratio")
    if cpu is not None:
        if cpu.get("target") != BROKER_CPU_TARGET or cpu.get("lower_is_better") is not True:
            report.problem(f"remote_broker_cpu_ratio: {cpu!r} lacks its target")
        if "error" in cpu:
            report.problem(f"remote_broker_cpu_ratio: {cpu['error']}")
        elif not is_number(cpu.get("ratio")) or cpu["ratio"] <= 0:
            report.problem(f"remote_broker_cpu_ratio: ratio is {cpu.get('ratio')!r}, not above 0")
    relay = report.field("peers", peers, "remote_bare_relay")
    if relay is not None:
        for key in ("bare_relay_ops", "remote_vs_bare_relay", "bare_relay_vs_local"):
            if not is_number(relay.get(key)) or relay[key] <= 0:
                report.problem(f"remote_bare_relay: {key} is {relay.get(key)!r}, not above 0")
    return len(comparisons) + 2


if __name__ == "__main__":
    sys.exit(main("check_peers_json", "scripts/bench --only peers", check))
