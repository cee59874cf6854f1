#!/usr/bin/env python3
"""Checks what `zaio_curve_bench --json` printed (on stdin): every size
measured on every setup, with its CPU split, and every ratio a number
within the range of its pairs. Nothing about speed is asserted; this only
guards the report's shape. The exit status is 1 if there was a problem."""

import sys

from bench_json import main

SETUPS = ("zaio-tcp", "zaio-curve", "echo-tcp", "echo-curve")
FIGURES = ("ops_per_sec", "mb_per_sec", "cpu_us_per_op", "client_cpu_us_per_op",
           "server_io_us_per_op", "switches_per_op")
RATIOS = ("zaio_curve_vs_echo_curve", "zaio_curve_vs_zaio_tcp", "echo_curve_vs_echo_tcp",
          "zaio_tcp_vs_echo_tcp", "cpu_zaio_curve_vs_echo_curve",
          "io_bound_zaio_curve_vs_echo_curve")


def check(report, document):
    results = report.field("report", document, "results", "list")
    if results is None:
        return 0
    if {result.get("size") for result in results if isinstance(result, dict)} != {"4k", "1m"}:
        report.problem(f"report: sizes are not 4k and 1m: {results!r:.200}")
    for result in results:
        if not isinstance(result, dict):
            report.problem(f"result: {result!r}")
            continue
        where = result.get("size", "?")
        measured = [all(report.figure(where, "reads", result, setup, key) for key in FIGURES)
                    for setup in SETUPS]
        if all(measured):
            for name in RATIOS:
                report.ratio(where, result, name)
            if not isinstance(result.get("meets_target"), bool):
                report.problem(f"{where}: meets_target is {result.get('meets_target')!r}")
    if not isinstance(document.get("all_targets_met"), bool):
        report.problem(f"report: all_targets_met is {document.get('all_targets_met')!r}")
    return len(results)


if __name__ == "__main__":
    sys.exit(main("check_curve_json", "zaio_curve_bench", check))
