#!/usr/bin/env python3
"""Checks what `zaio_bench --json` printed (on stdin): every case measured
on every side (the protocol floor in throughput only), and every ratio a
number within the range of its pairs. Nothing about speed is asserted;
this only guards the report's shape. Every problem found is named, with
the bench's own reason when a measurement failed; the exit status is 1 if
there was any."""

import json
import math
import sys


def is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


class Report:
    def __init__(self):
        self.problems = []

    def problem(self, text):
        self.problems.append(text)

    def field(self, where, container, key, kind="object"):
        """container[key], or None with the problem named if it is missing
        or not of the kind asked ("object", "list" or "number")."""
        if not isinstance(container, dict) or key not in container:
            self.problem(f"{where}: no '{key}'")
            return None
        value = container[key]
        ok = {
            "object": isinstance(value, dict),
            "list": isinstance(value, list),
            "number": is_number(value),
        }[kind]
        if not ok:
            self.problem(f"{where}: '{key}' is {value!r}, not a {kind}")
            return None
        return value

    def figure(self, where, mode, figures, side, key):
        """One side's figure must have been measured: key a positive
        number. Returns whether it was."""
        before = len(self.problems)
        if side not in figures:
            self.problem(f"{where}: {mode} has no '{side}' figure")
            return False
        figure = figures[side]
        if figure is None:
            self.problem(f"{where}: {mode} {side} was not measured")
        elif not isinstance(figure, dict):
            self.problem(f"{where}: {mode} {side} figure is {figure!r}")
        elif "error" in figure:
            self.problem(f"{where}: {mode} {side} failed: {figure['error']}")
        elif key not in figure:
            self.problem(f"{where}: {mode} {side} figure has no '{key}': {figure!r}")
        elif not is_number(figure[key]) or figure[key] <= 0:
            self.problem(f"{where}: {mode} {side} '{key}' is {figure[key]!r}, not above 0")
        return len(self.problems) == before

    def ratio(self, where, figures, name):
        """figures[name] a positive number within figures[name + '_range']."""
        ratio = figures.get(name)
        pairs = figures.get(name + "_range")
        if ratio is None:
            self.problem(f"{where}: no {name}")
            return
        if not is_number(ratio) or ratio <= 0:
            self.problem(f"{where}: {name} is {ratio!r}, not above 0")
            return
        if not (isinstance(pairs, list) and len(pairs) == 2 and all(map(is_number, pairs))):
            self.problem(f"{where}: {name}_range is {pairs!r}, not [low, high]")
            return
        low, high = pairs
        # The JSON rounds to 3 places: allow that much.
        if not low - 1e-3 <= ratio <= high + 1e-3:
            self.problem(f"{where}: {name} {ratio} outside its range [{low}, {high}]")


def check(report, document):
    results = report.field("report", document, "results", "list")
    if results is None:
        return 0
    if not results:
        report.problem("report: no results")
    for index, result in enumerate(results):
        if not isinstance(result, dict):
            report.problem(f"result {index}: {result!r}")
            continue
        where = f"{result.get('case', '?')} {result.get('transport', '?')}"
        # A figure that failed leaves its ratios out: that is said once,
        # with the bench's reason, and the ratios are checked only when
        # every figure they compare is there.
        throughput = report.field(where, result, "throughput")
        if throughput is not None:
            measured = [
                report.figure(where, "throughput", throughput, side, "ops_per_sec")
                for side in ("zaio", "baseline", "floor")
            ]
            if all(measured):
                for name in ("ratio", "floor_ratio", "zaio_floor_ratio", "zaio_floor_cpu_ratio"):
                    report.ratio(f"{where} throughput", throughput, name)
                if not isinstance(throughput.get("meets_target"), bool):
                    report.problem(
                        f"{where}: throughput meets_target is {throughput.get('meets_target')!r}"
                    )
        latency = report.field(where, result, "latency")
        if latency is not None:
            measured = [
                report.figure(where, "latency", latency, side, "p50_us")
                for side in ("zaio", "baseline")
            ]
            if latency.get("floor", "absent") is not None:
                report.problem(f"{where}: latency floor is {latency.get('floor', 'absent')!r}, not null")
            if all(measured):
                report.ratio(f"{where} latency", latency, "p50_ratio")
                if not is_number(latency.get("p99_ratio")):
                    report.problem(f"{where}: latency p99_ratio is {latency.get('p99_ratio')!r}")
    return len(results)


def main():
    report = Report()
    text = sys.stdin.read()
    count = 0
    if not text.strip():
        report.problem("no report on stdin: zaio_bench printed nothing (see its stderr)")
    else:
        try:
            count = check(report, json.loads(text))
        except json.JSONDecodeError as error:
            report.problem(f"the report is not JSON ({error}): {text[:200]!r}")
    for problem in report.problems:
        print(f"check_bench_json: {problem}", file=sys.stderr)
    if report.problems:
        print(f"check_bench_json: {len(report.problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"check_bench_json: {count} results well formed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
