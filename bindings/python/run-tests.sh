#!/bin/sh
# Run the Python binding's tests the way a user installs it: a fresh venv in
# the build tree, `pip install` of this package (dependencies from the
# registry, pinned by constraints.txt), then pytest against a real broker.
#
#   run-tests.sh [WORK_DIR] [PYTEST_ARGS...]
#
# WORK_DIR (default: build/bindings/python) holds the venv and a copy of
# the sources. ZAIO_BROKER names the broker binary (ctest sets it); PYTHON
# the interpreter that makes the venv (default python3, which needs the
# venv module: Debian's python3-venv). pytest's exit code is ours.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
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
