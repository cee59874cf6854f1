#!/usr/bin/env bash
# test_broker_run.sh SOURCE BUILD: ./scripts/run, as a terminal runs it:
# in a process group of its own, stopped by Ctrl-C (SIGINT to the whole
# group) once it has said the broker runs; it exits 0, with the broker
# stopped. A broker that cannot start makes it exit 1, saying so.
# (ZAIO_BUILD_DIR: the binaries of this build; endpoints of its own, so
# that it meets no other broker on this machine.)
trap 'echo "FAIL: test_broker_run.sh line $LINENO: $BASH_COMMAND" >&2' ERR
SOURCE=$1
BUILD=$2
. "$(dirname "$0")/test_daemon_lib.sh"
command -v setsid > /dev/null || die "setsid (util-linux) is missing"

export ZAIO_BUILD_DIR=$BUILD
export ZAIO_ENDPOINT="ipc://$WORK/b.ipc"
mkfifo "$WORK/run.out"
setsid "$SOURCE/scripts/run" --root "$WORK/root" --bind "$ZAIO_ENDPOINT" --events "ipc://$WORK/e.ipc" \
    --workers 1 > "$WORK/run.out" 2> "$WORK/run.err" &
RUN=$!
DAEMON_PIDS[run]=$RUN
exec 7< "$WORK/run.out"
running=
while read -r -t 30 line <&7; do
    echo "$line" >> "$WORK/run.lines"
    [[ "$line" == "Broker running (pid "* ]] && { running=${line#Broker running (pid }; running=${running%%)*}; break; }
done
[ -n "$running" ] || die "scripts/run did not start the broker: $(cat "$WORK/run.err")"
grep -q "hello from zaio" "$WORK/run.lines" || fail "the demo did not run: $(cat "$WORK/run.lines")"
cat <&7 > /dev/null &
exec 7<&-
# Ctrl-C: SIGINT to the process group setsid made (its leader is $RUN).
kill -INT -- "-$RUN"
status=0
timeout 30 tail --pid="$RUN" -f /dev/null || die "scripts/run still running 30 s after Ctrl-C"
wait "$RUN" || status=$?
unset "DAEMON_PIDS[run]"
[ $status = 0 ] || fail "scripts/run exited $status after Ctrl-C: $(tail -5 "$WORK/run.err")"
kill -0 "$running" 2> /dev/null && fail "the broker (pid $running) still runs after Ctrl-C"
grep -q "SIGINT, draining\|SIGTERM, draining" "$WORK/run.err" || fail "the broker did not drain: $(cat "$WORK/run.err")"

# A broker that cannot start: exit 1, and a line that says so.
status=0
timeout 30 "$SOURCE/scripts/run" --no-such-option > "$WORK/bad.out" 2> "$WORK/bad.err" || status=$?
[ $status = 1 ] || fail "scripts/run with a broker that cannot start exited $status"
grep -q "zaio-broker did not start (exit status 2)" "$WORK/bad.err" || fail "no word of it: $(cat "$WORK/bad.err")"

if [ "$FAILS" -ne 0 ]; then
    echo "test_broker_run.sh: $FAILS failures" >&2
    exit 1
fi
echo "test_broker_run.sh: OK"
