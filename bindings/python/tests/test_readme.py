"""Run every ```python block of README.md against a live broker, so the
examples cannot rot. Each block runs as written, in a fresh interpreter that
imports the same zaio package as the tests; the examples use the default
endpoints, which ``$ZAIO_ENDPOINT`` and ``$ZAIO_EVENTS`` point at the test
broker, as the README says a user may."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from typing import List

import pytest

import zaio
from conftest import PACKAGE_DIR

README = PACKAGE_DIR / "README.md"


def blocks() -> List[str]:
    return re.findall(r"^```python\n(.*?)^```", README.read_text(), re.S | re.M)


def test_readme_has_examples() -> None:
    found = blocks()
    assert len(found) >= 3
    assert any("zaio.asyncio" in b for b in found) and any("events(" in b for b in found)


@pytest.mark.parametrize("index", range(len(blocks())))
def test_readme_example(index: int, broker, tmp_path) -> None:
    code = blocks()[index]
    assert "Client()" in code or "Client(timeout=" in code, "examples use the default endpoints"
    env = dict(os.environ)
    env["ZAIO_ENDPOINT"] = broker.ipc
    env["ZAIO_EVENTS"] = broker.events
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(os.path.abspath(zaio.__file__)))]
        + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120, env=env)
    assert proc.returncode == 0, f"README example {index} failed:\n{code}\n{proc.stderr}"
    print(proc.stdout)
