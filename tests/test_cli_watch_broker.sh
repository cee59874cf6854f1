#!/usr/bin/env bash
# test_cli_watch_broker.sh ZAIO BROKER: `zaio watch` says (on stderr) when
# no broker is there yet, when it connects, when it loses the broker and
# when it connects again; and (on stdout, with the events) when a lower
# seq shows that the broker restarted.
ZAIO=$1
BROKER=$2
. "$(dirname "$0")/test_cli_lib.sh"

# wait_for FILE PATTERN: until FILE has a line matching PATTERN (grep -E),
# 10 s at most; each try may run the command given after the pattern.
wait_for () {
    local file=$1 pattern=$2 tries=0
    shift 2
    until grep -Eq -- "$pattern" "$file" 2> /dev/null; do
        tries=$((tries + 1))
        if [ $tries -ge 200 ]; then
            fail "$file lacks /$pattern/ after 10 s: $(cat "$file")"
            return 1
        fi
        [ $# -eq 0 ] || "$@" > /dev/null 2>&1 || true
        sleep 0.05
    done
}

EV="ipc://$WORK/events.ipc"
"$ZAIO" -e "$EV" watch > "$WORK/w.out" 2> "$WORK/w.err" &
WATCH=$!
"$ZAIO" -e "$EV" watch --json > "$WORK/j.out" 2> "$WORK/j.err" &
JSON_WATCH=$!
trap 'kill $WATCH $JSON_WATCH 2> /dev/null || true; cleanup' EXIT

wait_for "$WORK/w.err" "^zaio: watch: no broker at $EV yet; still trying$"
start_broker
wait_for "$WORK/w.err" "^zaio: watch: connected to $EV$"
wait_for "$WORK/w.out" " ping +- ok " "$ZAIO" ping
"$ZAIO" ping 20 > /dev/null
stop_broker
wait_for "$WORK/w.err" "^zaio: watch: lost the broker at $EV; reconnecting$"
start_broker
wait_for "$WORK/w.err" "^zaio: watch: connected to $EV again$"
wait_for "$WORK/w.out" "^-- broker restarted \(seq [0-9]+ after [0-9]+\)" "$ZAIO" ping
wait_for "$WORK/j.out" '^\{"restart":true,"seq":[0-9]+,"last_seq":[0-9]+\}$' "$ZAIO" ping
grep -q "^-- missed" "$WORK/w.out" && fail "a restart counted as missed events: $(cat "$WORK/w.out")"
[ "$(grep -c "connected to" "$WORK/w.err")" = 2 ] || fail "connections said: $(cat "$WORK/w.err")"
kill -INT $WATCH $JSON_WATCH
wait $WATCH || fail "watch exited $? on SIGINT"
wait $JSON_WATCH || fail "watch --json exited $? on SIGINT"
finish
