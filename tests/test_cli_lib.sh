# test_cli_lib.sh: shared by the test_cli_*.sh scripts (sourced, not run).
# Usage in a script: ZAIO=... BROKER=... then `. test_cli_lib.sh`;
# start_broker; ... ; the EXIT trap stops the broker and removes $WORK.
# A script may start_broker again: the old broker stops, the new one serves
# a fresh root at the same endpoints.

set -euo pipefail
WORK=$(mktemp -d /tmp/zaio-cli-test-XXXXXX)
BROKER_PID=
FAILS=0

stop_broker () {
    if [ -n "$BROKER_PID" ]; then
        kill -TERM "$BROKER_PID" 2>/dev/null || true
        wait "$BROKER_PID" 2>/dev/null || true
        BROKER_PID=
    fi
}

cleanup () {
    stop_broker
    rm -rf "$WORK"
}
trap cleanup EXIT

# start_broker [BROKER_OPTIONS...]: a broker on a fresh root, ipc endpoints
# inside $WORK. The lines it prints before "ready" (its endpoints, e.g.
# "client tcp://127.0.0.1:41234") go to $WORK/broker.lines. With
# BROKER_USER set (the tests running as root), the broker runs as that
# user and owns $WORK and the root, so that file permissions apply to it.
start_broker () {
    stop_broker
    rm -rf "$WORK/root" "$WORK/broker.out" "$WORK/broker.lines"
    mkdir -p "$WORK/root"
    export ZAIO_ENDPOINT="ipc://$WORK/broker.ipc"
    export ZAIO_EVENTS="ipc://$WORK/events.ipc"
    mkfifo "$WORK/broker.out"
    local as=()
    if [ -n "${BROKER_USER:-}" ]; then
        chown "$BROKER_USER" "$WORK" "$WORK/root"
        as=(setpriv --reuid="$BROKER_USER" --regid="$(id -g "$BROKER_USER")" --clear-groups)
    fi
    "${as[@]}" "$BROKER" --root "$WORK/root" --bind "$ZAIO_ENDPOINT" --events "$ZAIO_EVENTS" \
        --workers 2 "$@" > "$WORK/broker.out" 2> "$WORK/broker.err" &
    BROKER_PID=$!
    exec 7< "$WORK/broker.out"
    local line tries=0
    while read -r -t 10 line <&7; do
        if [ "$line" != ready ]; then
            echo "$line" >> "$WORK/broker.lines"
            continue
        fi
        #  Its local workers announce themselves after "ready": until they
        #  have, a request is answered NOVOLUME. Serving is when a ping is
        #  answered.
        until "$ZAIO" ping > /dev/null 2>&1; do
            tries=$((tries + 1))
            if [ $tries -ge 1000 ]; then
                echo "FAIL: broker did not serve within 10 s" >&2
                exit 1
            fi
            sleep 0.01
        done
        return 0
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
