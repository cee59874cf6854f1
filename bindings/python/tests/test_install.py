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
