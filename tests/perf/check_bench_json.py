#!/usr/bin/env python3
"""Checks what `zaio_bench --json` printed (on stdin): every case measured
on every side (the protocol floor in throughput only), and every ratio a
number within the range of its pairs. Nothing about speed is asserted;
this only guards the report's shape."""

import json
import math
import sys


def check_ratio(where, ratio, pairs):
    assert isinstance(ratio, (int, float)) and ratio > 0, f"{where}: ratio {ratio!r}"
    assert isinstance(pairs, list) and len(pairs) == 2, f"{where}: range {pairs!r}"
    low, high = pairs
    # The JSON rounds to 3 places: allow that much.
    assert low - 1e-3 <= ratio <= high + 1e-3, f"{where}: {ratio} outside [{low}, {high}]"


def main():
    report = json.load(sys.stdin)
    results = report["results"]
    assert results, "no results"
    for result in results:
        where = f"{result['case']} {result['transport']}"
        throughput, latency = result["throughput"], result["latency"]
        for side in ("zaio", "baseline", "floor"):
            figure = throughput[side]
            assert figure and figure["ops_per_sec"] > 0, f"{where}: {side} ops/s"
        for side in ("zaio", "baseline"):
            figure = latency[side]
            assert figure and figure["p50_us"] > 0, f"{where}: {side} p50"
        assert latency["floor"] is None, f"{where}: floor latency measured"
        for name in ("ratio", "floor_ratio", "zaio_floor_ratio", "zaio_floor_cpu_ratio"):
            check_ratio(f"{where} throughput {name}", throughput[name], throughput[name + "_range"])
        check_ratio(where + " p50", latency["p50_ratio"], latency["p50_ratio_range"])
        assert isinstance(throughput["meets_target"], bool), f"{where}: meets_target"
        assert math.isfinite(latency["p99_ratio"]), f"{where}: p99_ratio"
    print(f"check_bench_json: {len(results)} results well formed")


if __name__ == "__main__":
    main()
