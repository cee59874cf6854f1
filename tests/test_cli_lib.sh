# test_cli_lib.sh: shared by the test_cli_*.sh scripts (sourced, not run).
# Usage in a script: ZAIO=... BROKER=... then `. test_cli_lib.sh`;
# start_broker; ... ; the EXIT trap stops the broker and removes $WORK.

set -euo pipefail
WORK=$(mktemp -d /tmp/zaio-cli-test-XXXXXX)
BROKER_PID=
FAILS=0

cleanup () {
    if [ -n "$BROKER_PID" ]; then
        kill -TERM "$BROKER_PID" 2>/dev/null || true
        wait "$BROKER_PID" 2>/dev/null || true
    fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# A broker on a fresh root, ipc endpoints inside $WORK.
start_broker () {
    mkdir -p "$WORK/root"
    export ZAIO_ENDPOINT="ipc://$WORK/broker.ipc"
    export ZAIO_EVENTS="ipc://$WORK/events.ipc"
    mkfifo "$WORK/broker.out"
    "$BROKER" --root "$WORK/root" --bind "$ZAIO_ENDPOINT" --events "$ZAIO_EVENTS" \
        --workers 2 "$@" > "$WORK/broker.out" 2> "$WORK/broker.err" &
    BROKER_PID=$!
    exec 7< "$WORK/broker.out"
    local line
    while read -r -t 10 line <&7; do
        [ "$line" = ready ] && return 0
    done
    echo "FAIL: broker did not start" >&2
    cat "$WORK/broker.err" >&2
    exit 1
}

fail () {
    echo "FAIL: $*" >&2
    FAILS=$((FAILS + 1))
}

# expect STATUS STDERR_PATTERN -- COMMAND...: exit status and stderr (grep -E).
expect () {
    local want=$1 pattern=$2
    shift 3
    local status=0
    "$@" > "$WORK/out" 2> "$WORK/err" || status=$?
    if [ "$status" != "$want" ]; then
        fail "'$*' exited $status, wanted $want; stderr: $(cat "$WORK/err")"
    elif [ -n "$pattern" ] && ! grep -Eq -- "$pattern" "$WORK/err"; then
        fail "'$*' stderr lacks /$pattern/: $(cat "$WORK/err")"
    fi
}

# out_has PATTERN: the last expect's stdout matches (grep -E).
out_has () {
    grep -Eq -- "$1" "$WORK/out" || fail "stdout lacks /$1/: $(cat "$WORK/out")"
}

finish () {
    if [ "$FAILS" -ne 0 ]; then
        echo "$(basename "$0"): $FAILS failures" >&2
        exit 1
    fi
    echo "$(basename "$0"): OK"
}
