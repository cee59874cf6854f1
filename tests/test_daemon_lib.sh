# test_daemon_lib.sh: shared by test_broker_daemon.sh, test_worker_config.sh
# and test_broker_service.sh (sourced, not run): zaio-broker and
# zaio-worker as background processes, waited on by the lines they print,
# never by sleeping; every one stopped by the EXIT trap.
set -euo pipefail
WORK=$(mktemp -d /tmp/zaio-daemon-test-XXXXXX)
FAILS=0
declare -A DAEMON_PIDS=()
NEXT_FD=20

fail () {
    echo "FAIL: $*" >&2
    FAILS=$((FAILS + 1))
}

die () {
    echo "FAIL: $*" >&2
    exit 1
}

# stop_daemon NAME [SIGNAL]: signals it (TERM) and waits; its exit status
# goes to $WORK/NAME.status.
stop_daemon () {
    local name=$1 sig=${2:-TERM} pid=${DAEMON_PIDS[$1]:-}
    [ -n "$pid" ] || return 0
    kill -"$sig" "$pid" 2> /dev/null || true
    local status=0
    wait "$pid" || status=$?
    echo "$status" > "$WORK/$name.status"
    unset "DAEMON_PIDS[$name]"
}

cleanup () {
    local name
    for name in "${!DAEMON_PIDS[@]}"; do stop_daemon "$name" KILL; done
    rm -rf "$WORK"
}
trap cleanup EXIT

# start_daemon NAME -- COMMAND...: runs COMMAND in the background, stdout
# on a fifo, stderr in $WORK/NAME.err, and returns once it printed
# "ready" (within 10 s; the lines before it go to $WORK/NAME.lines), or
# fails the test saying what it wrote on stderr.
start_daemon () {
    local name=$1
    shift 2
    rm -f "$WORK/$name.out" "$WORK/$name.lines" "$WORK/$name.err" "$WORK/$name.status"
    mkfifo "$WORK/$name.out"
    "$@" > "$WORK/$name.out" 2> "$WORK/$name.err" &
    DAEMON_PIDS[$name]=$!
    local fd=$NEXT_FD line
    NEXT_FD=$((NEXT_FD + 1))
    eval "exec $fd< \"\$WORK/\$name.out\""
    while read -r -t 10 line <&"$fd"; do
        if [ "$line" = ready ]; then
            #  The rest of its stdout is not read: keep the fifo drained.
            cat <&"$fd" > /dev/null &
            eval "exec $fd<&-"
            return 0
        fi
        echo "$line" >> "$WORK/$name.lines"
    done
    eval "exec $fd<&-"
    die "$name did not start: $* ; stderr: $(cat "$WORK/$name.err")"
}

# expect_exit STATUS PATTERN -- COMMAND...: COMMAND exits at once with
# STATUS, saying PATTERN (grep -E) on stderr.
expect_exit () {
    local want=$1 pattern=$2
    shift 3
    local status=0
    timeout 20 "$@" > "$WORK/expect.out" 2> "$WORK/expect.err" || status=$?
    if [ "$status" != "$want" ]; then
        fail "$* exited $status, wanted $want; stderr: $(cat "$WORK/expect.err")"
    elif ! grep -Eq -- "$pattern" "$WORK/expect.err"; then
        fail "$* stderr lacks /$pattern/: $(cat "$WORK/expect.err")"
    fi
}

# check_log_lines FILE FORMAT PROGRAM: every line of FILE is a log line of
# PROGRAM in FORMAT (text or json): for json, one JSON object per line
# with ts (ISO-8601 UTC, milliseconds), level, program, component, msg,
# and peer when present; for text, the same fields in order. Prints how
# many lines had a peer.
check_log_lines () {
    python3 - "$@" << 'PY'
import json, re, sys
path, fmt, program = sys.argv[1:4]
ts = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
levels = {"ERROR", "WARN", "NOTICE", "INFO", "DEBUG"}
text = re.compile(r"^(\S+) (ERROR|WARN|NOTICE|INFO|DEBUG) (\S+) (\S+)( \[[^\]]*\])?: ")
peers = 0
with open(path, "rb") as f:
    lines = f.read().split(b"\n")
assert lines[-1] == b"", "the last line does not end"
for raw in lines[:-1]:
    if fmt == "json":
        obj = json.loads(raw.decode("utf-8"))
        assert set(obj) <= {"ts", "level", "program", "component", "peer", "msg"}, obj
        assert ts.match(obj["ts"]) and obj["level"] in levels, obj
        assert obj["program"] == program and obj["component"] and "msg" in obj, obj
        peers += "peer" in obj
    else:
        m = text.match(raw.decode("utf-8", "replace"))
        assert m and ts.match(m.group(1)) and m.group(3) == program, raw
        peers += m.group(5) is not None
print(peers)
PY
}
