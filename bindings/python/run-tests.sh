#!/bin/sh
# Run the Python binding's tests the way a user installs it: a fresh venv in
# the build tree, `pip install` of this package (dependencies from the
# registry, pinned by constraints.txt), then pytest against a real broker.
#
#   run-tests.sh [WORK_DIR] [PYTEST_ARGS...]
#   run-tests.sh --system [PYTEST_ARGS...]
#
# WORK_DIR (default: build/bindings/python) holds the venv and a copy of
# the sources. ZAIO_BROKER names the broker binary (ctest sets it); PYTHON
# the interpreter that makes the venv (default python3, which needs the
# venv module: Debian's python3-venv). pytest's exit code is ours.
#
# --system runs the same tests on the source tree with /usr/bin/python3 and
# the distribution's packages (Debian: python3-zmq python3-msgpack
# python3-pytest), to hold the package to the oldest versions it supports;
# it exits 77 (ctest: skipped) when they are not installed.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)

if [ "${1:-}" = "--system" ]; then
    shift
    SYSPY=${SYSTEM_PYTHON:-/usr/bin/python3}
    if ! "$SYSPY" -c "import zmq, msgpack, pytest" 2>/dev/null; then
        echo "python_binding_system: $SYSPY lacks zmq, msgpack or pytest; skipped"
        exit 77
    fi
    "$SYSPY" -c "import sys, zmq, msgpack, pytest; print('python_binding_system:', \
sys.version.split()[0], 'pyzmq', zmq.__version__, 'msgpack', msgpack.version, \
'pytest', pytest.__version__)"
    cd "$HERE"
    PYTHONPATH=$HERE
    export PYTHONPATH
    exec "$SYSPY" -m pytest -p no:cacheprovider "$HERE/tests" "$@"
fi
WORK=${1:-$HERE/../../build/bindings/python}
[ $# -gt 0 ] && shift
PY=${PYTHON:-python3}

mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
VENV=$WORK/venv
STAGE=$WORK/src

echo "python_binding: $("$PY" --version 2>&1) venv in $VENV"
rm -rf "$VENV" "$STAGE"
"$PY" -m venv "$VENV"

# Build from a copy, so pip's in-tree build leaves the source tree alone.
mkdir -p "$STAGE"
cp "$HERE/pyproject.toml" "$HERE/README.md" "$STAGE/"
cp -R "$HERE/zaio" "$STAGE/zaio"

# PIP_CONSTRAINT (not just -c) so the isolated build env is pinned too.
PIP_CONSTRAINT=$HERE/constraints.txt
export PIP_CONSTRAINT
"$VENV/bin/python" -m pip install --disable-pip-version-check --no-input -q \
    -c "$HERE/constraints.txt" "$STAGE[test]"
"$VENV/bin/python" -m pip freeze --disable-pip-version-check | tr '\n' ' '
echo

# Run from the work dir, so `import zaio` finds the installed package only.
cd "$WORK"
ZAIO_EXPECT_INSTALLED=1
export ZAIO_EXPECT_INSTALLED
exec "$VENV/bin/pytest" -p no:cacheprovider --rootdir "$HERE" -c "$HERE/pyproject.toml" \
    "$HERE/tests" "$@"
