"""The suite tests the package as installed (run-tests.sh sets
ZAIO_EXPECT_INSTALLED), not the source tree by accident."""

from __future__ import annotations

import os

import pytest

import zaio
import zaio.asyncio
from conftest import PACKAGE_DIR


def test_public_api() -> None:
    ops = ["ping", "hello", "stat", "read", "write", "append", "readfile", "writefile",
           "truncate", "fsync", "unlink", "rename", "mkdir", "rmdir", "listdir", "copy"]
    for cls in (zaio.Client, zaio.asyncio.Client):
        for op in ops:
            assert callable(getattr(cls, op)), (cls, op)
            assert getattr(cls, op).__doc__
    assert zaio.SIGNATURE == b"ZAIO/1"


@pytest.mark.skipif(not os.environ.get("ZAIO_EXPECT_INSTALLED"), reason="not run by run-tests.sh")
def test_installed_package_is_used() -> None:
    here = os.path.realpath(zaio.__file__)
    assert not here.startswith(os.path.realpath(PACKAGE_DIR) + os.sep), here
    assert "site-packages" in here
    typed = os.path.join(os.path.dirname(here), "py.typed")
    assert os.path.exists(typed), "py.typed is not installed"


def _readme_pip_command() -> str:
    """The README's install line (its first ```sh block), comment dropped."""
    import re
    text = (PACKAGE_DIR / "README.md").read_text()
    m = re.search(r"^```sh\n(.*?)^```", text, re.S | re.M)
    assert m, "no sh block in README.md"
    return m.group(1).split("#")[0].strip()


def test_readme_pip_command_is_the_documented_one() -> None:
    assert _readme_pip_command() == "pip install ./bindings/python"


@pytest.mark.skipif(not os.environ.get("ZAIO_EXPECT_INSTALLED"), reason="not run by run-tests.sh")
def test_readme_pip_install_from_a_fresh_clone(tmp_path, broker) -> None:
    """The README's `pip install ./bindings/python`, as written, in the root
    of a fresh clone of the committed HEAD, with a new venv's pip first on
    PATH (as an activated venv has it); then zaio.Client() reaches the
    broker that $ZAIO_ENDPOINT names. Dependencies as run-tests.sh pins
    them (PIP_CONSTRAINT)."""
    import subprocess
    import sys
    from conftest import REPO
    clone = tmp_path / "zaio"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env['PATH']}"
    env["VIRTUAL_ENV"] = str(venv)
    env.setdefault("PIP_CONSTRAINT", str(PACKAGE_DIR / "constraints.txt"))
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    proc = subprocess.run(["sh", "-ec", _readme_pip_command()], cwd=clone, env=env,
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    env["ZAIO_ENDPOINT"] = broker.ipc
    code = ("import zaio; c = zaio.Client(timeout=10); c.writefile('pip.txt', b'ok'); "
            "print(c.stat('pip.txt').st_size, zaio.__file__.startswith(%r))" % str(venv))
    out = subprocess.run([str(venv / "bin" / "python"), "-c", code], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "2 True"
