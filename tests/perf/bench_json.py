"""What the benches' JSON checkers (check_bench_json.py, check_curve_json.py)
share: a Report that collects every problem found in a bench's report, and
main, which reads the report on stdin, checks it and says what was found.
Nothing about speed is asserted; a checker only guards the report's shape."""

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


def main(checker, bench, check):
    """Reads bench's JSON report from stdin and runs check(report, document),
    which returns how many results it saw; every problem goes to stderr,
    prefixed with checker's name. Returns the exit status: 1 if there was
    any problem, else 0."""
    report = Report()
    text = sys.stdin.read()
    count = 0
    if not text.strip():
        report.problem(f"no report on stdin: {bench} printed nothing (see its stderr)")
    else:
        try:
            count = check(report, json.loads(text))
        except json.JSONDecodeError as error:
            report.problem(f"the report is not JSON ({error}): {text[:200]!r}")
    for problem in report.problems:
        print(f"{checker}: {problem}", file=sys.stderr)
    if report.problems:
        print(f"{checker}: {len(report.problems)} problem(s)", file=sys.stderr)
        return 1
    print(f"{checker}: {count} results well formed")
    return 0
