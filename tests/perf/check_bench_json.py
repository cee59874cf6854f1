#!/usr/bin/env python3
"""Checks what `zaio_bench --json` printed (on stdin): every case measured
on every side (the protocol floor in throughput only), and every ratio a
number within the range of its pairs. Nothing about speed is asserted;
this only guards the report's shape. Every problem found is named, with
the bench's own reason when a measurement failed; the exit status is 1 if
there was any."""

import sys

from bench_json import is_number, main


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


if __name__ == "__main__":
    sys.exit(main("check_bench_json", "zaio_bench", check))
