#!/usr/bin/env bash
# test_client_abi.sh LIBZAIO_SO ALLOWLIST BUILD_DIR: libzaio exports the
# client API and the ZAIO/1 codec, and nothing of zaio's internals.
#
#   1. The symbols libzaio.so defines (nm -D --defined-only: code and data,
#      whatever their type letter) are exactly the lines of ALLOWLIST
#      (bindings/c/libzaio.abi); a difference is shown as a diff.
#   2. None of them, and no line of ALLOWLIST, is of the broker's or the
#      workers' side: the worker protocol (envelope, ready, done, outcome),
#      the socket helpers, the daemon, the list, the credit pool.
#   3. The headers `cmake --install BUILD_DIR` puts in include/ name none of
#      those either (zaio_done_fn, the client's callback type, is the one
#      public name of that shape; zaio_broker.h, libzaio-broker's header,
#      names its own zaio_broker_* API).
set -euo pipefail
LIB=$1
ALLOW=$2
BUILD=$3
WORK=$(mktemp -d /tmp/zaio-abi-test-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
INTERNAL='zaio_(envelope|ready|done|outcome|sock|daemon|worker|relay|broker|list|credit|fence|job_envelope)_'
fails=0
fail () {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}

# Every defined dynamic symbol but the absolute ones (A: version nodes).
nm -D --defined-only "$LIB" | awk '$2 != "A" { sub (/@.*/, "", $3); print $3 }' | LC_ALL=C sort -u \
    > "$WORK/exported"
grep -v -e '^#' -e '^$' "$ALLOW" > "$WORK/allowed"
LC_ALL=C sort -c "$WORK/allowed" 2> /dev/null || fail "$ALLOW is not sorted (LC_ALL=C sort)"
echo "libzaio.so exports $(wc -l < "$WORK/exported") symbols; $ALLOW allows $(wc -l < "$WORK/allowed")"

if ! diff -u --label "allowed ($ALLOW)" --label "exported ($LIB)" "$WORK/allowed" "$WORK/exported" \
    > "$WORK/diff"; then
    cat "$WORK/diff" >&2
    fail "the exports differ from the allowlist (- allowed, not exported; + exported, not allowed):" \
        "mark public functions ZAIO_EXPORT, and change $ALLOW only with the public API"
fi
if grep -E "^$INTERNAL" "$WORK/exported" > "$WORK/leaks"; then
    fail "libzaio.so exports internals: $(tr '\n' ' ' < "$WORK/leaks")"
fi
if grep -E "^$INTERNAL" "$WORK/allowed" > "$WORK/leaks"; then
    fail "$ALLOW allows internals: $(tr '\n' ' ' < "$WORK/leaks")"
fi

cmake --install "$BUILD" --prefix "$WORK/prefix" > "$WORK/install.log"
[ -e "$WORK/prefix/include/zaio.h" ] || fail "no include/zaio.h installed"
NAMES="\\b($INTERNAL[A-Za-z0-9_]*|ZAIO_(WORKER|ENVELOPE|JOB_ENVELOPE|CREDIT|DAEMON|FENCE)_[A-Z0-9_]*|ZAIOW|zaio_(recv_parts|wait_input|inproc_name|frame_is|link_t)|ZAIO_HOLDER)\\b"
#  zaio_broker.h is libzaio-broker's public header (tests/test_broker_abi.sh):
#  it may name its own zaio_broker_*, and nothing else of the internals.
if grep -rnoE "$NAMES" "$WORK/prefix/include" | grep -v ':zaio_done_fn$' |
    grep -vE '^[^:]*/include/zaio_broker\.h:[0-9]+:(zaio_broker_[a-z_]*|ZAIO_BROKER_[A-Z_]*)$' > "$WORK/named"; then
    sed "s|$WORK/prefix/||" "$WORK/named" >&2
    fail "installed headers name internals (above)"
fi

[ "$fails" -eq 0 ] || exit 1
echo "test_client_abi.sh: OK"
