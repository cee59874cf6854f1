#!/usr/bin/env bash
# test_cli_top.sh ZAIO BROKER WORKER: `zaio top` driven in a detached tmux
# session of a fixed size against a loaded broker (pings on volume
# default, failing stats on volume photos, served by a zaio-worker): the
# view shows each op's rate, s < > r change the sort, v filters by volume,
# h shows the keys, q exits 0. Without a terminal, `zaio top -n 2` prints
# two plain tables. `zaio stats`, text and JSON. The commands of README's
# "zaio top" section run as written (the tmux session runs its `zaio top`).
ZAIO=$1
BROKER=$2
WORKER=$3
. "$(dirname "$0")/test_cli_lib.sh"

TMUX_SOCKET=zaio-top-test-$$
LOAD_PIDS=()
WORKER_PID=
stop_all () {
    tmux -L "$TMUX_SOCKET" kill-server 2> /dev/null || true
    for pid in "${LOAD_PIDS[@]}"; do kill "$pid" 2> /dev/null || true; done
    for pid in "${LOAD_PIDS[@]}"; do wait "$pid" 2> /dev/null || true; done
    [ -z "$WORKER_PID" ] || { kill "$WORKER_PID" 2> /dev/null; wait "$WORKER_PID" 2> /dev/null || true; }
    cleanup
}
trap stop_all EXIT

start_broker --worker-bind "ipc://$WORK/workers.ipc"
mkdir -p "$WORK/photos"
"$WORKER" --connect "ipc://$WORK/workers.ipc" --volume "photos=$WORK/photos" --threads 1 \
    2> "$WORK/worker.err" &
WORKER_PID=$!
tries=0
until "$ZAIO" --volume photos ping > /dev/null 2>&1; do
    tries=$((tries + 1))
    [ $tries -lt 500 ] || { echo "FAIL: volume photos never served" >&2; exit 1; }
    sleep 0.02
done

# README.md's "### zaio top" block, a line per command (comments cut)
README=$(dirname "$0")/../README.md
awk '/^### zaio top$/ {on = 1; next} on && /^##/ {exit} on && /^```/ {block = !block; next}
     on && block' "$README" | sed 's/ *#.*//' > "$WORK/readme.cmds"
[ "$(cat "$WORK/readme.cmds")" = "$(printf 'zaio stats\nzaio stats --json\nzaio top\nzaio top -n 3 | cat')" ] ||
    fail "README's zaio top block is now: $(cat "$WORK/readme.cmds")"
# readme LINE: run README's line as written, zaio from this build first in PATH
BIN=$(cd "$(dirname "$ZAIO")" && pwd)
readme () {
    expect 0 "" -- env PATH="$BIN:$PATH" bash -c "$1"
}

# zaio stats: the volumes, the worker, the jobs so far
expect 0 "" -- "$ZAIO" stats
out_has "^broker [0-9.]+, up [0-9:]+$"
out_has "^photos +1 +0 +64 +64 +0$"
out_has "^ping +ok +photos +[1-9][0-9]* +0$"
expect 0 "" -- "$ZAIO" stats --json
python3 -c 'import json, sys; r = json.load(open(sys.argv[1]))
assert {v["name"] for v in r["volumes"]} == {"default", "photos"}, r["volumes"]
assert len(r["latency_bounds_us"]) == 27 and all(len(l["service"]) == 28 for l in r["latency"])
assert any(w["remote"] and w["volumes"] == ["photos"] for w in r["workers"])' "$WORK/out" ||
    fail "zaio stats --json: $(head -c 300 "$WORK/out")"
readme "$(sed -n 1p "$WORK/readme.cmds")"
out_has "^photos +1 +0 +64 +64 +0$"
readme "$(sed -n 2p "$WORK/readme.cmds")"
out_has '^\{"version":"[0-9.]+","uptime_ms":[0-9]+,'
expect 2 "stats: takes --json only" -- "$ZAIO" stats --yaml
expect 3 "^zaio: stats: UNREACHABLE \(no broker at ipc://$WORK/nobody.ipc" -- \
    "$ZAIO" --retry-ms 0 --connect "ipc://$WORK/nobody.ipc" stats

# The load: pings on default, stats of missing files (ENOENT) on photos;
# paced (the sleeps), so that it leaves the machine's cores to others
(while "$ZAIO" ping 200 > /dev/null; do sleep 0.05; done) &
LOAD_PIDS+=($!)
(while :; do "$ZAIO" --volume photos stat $(seq -f 'p%g' 1 100) > /dev/null 2>&1 || sleep 0.05; done) &
LOAD_PIDS+=($!)

# Without a terminal: a plain table per refresh
"$ZAIO" top -n 2 --interval 200 | cat > "$WORK/plain" || fail "zaio top -n 2 | cat exited non-zero"
[ "$(grep -c '^OP ' "$WORK/plain")" = 2 ] || fail "zaio top -n 2 printed: $(cat "$WORK/plain")"
grep -Eq '^ping +default +[1-9]' "$WORK/plain" || fail "no ping rate in: $(cat "$WORK/plain")"
grep -q 'q quit' "$WORK/plain" && fail "the plain table has the key line"
readme "$(sed -n 4p "$WORK/readme.cmds")"
[ "$(grep -c '^OP ' "$WORK/out")" = 3 ] || fail "README's zaio top -n 3 | cat printed: $(cat "$WORK/out")"
expect 2 "top: bad COUNT" -- "$ZAIO" top -n 0
expect 2 "top: bad --interval" -- "$ZAIO" top --interval 5
expect 3 "^zaio: top: UNREACHABLE \(no broker at ipc://$WORK/nobody.ipc" -- \
    "$ZAIO" --retry-ms 0 --connect "ipc://$WORK/nobody.ipc" top -n 1

# In a terminal: 150 x 45, in a tmux server of its own
tmux -L "$TMUX_SOCKET" -f /dev/null new-session -d -s top -x 150 -y 45 \
    "env TERM=screen PATH='$BIN:$PATH' ZAIO_ENDPOINT='$ZAIO_ENDPOINT' $(sed -n 3p "$WORK/readme.cmds"); echo \$? > '$WORK/top.exit'"
screen () {
    tmux -L "$TMUX_SOCKET" capture-pane -p -t top > "$WORK/screen" 2> /dev/null || : > "$WORK/screen"
}
# see PATTERN...: until the screen has a line matching each (grep -E), 10 s at most
see () {
    local tries=0 pattern missing
    while :; do
        screen
        missing=
        for pattern in "$@"; do
            grep -Eq -- "$pattern" "$WORK/screen" || missing=$pattern
        done
        [ -z "$missing" ] && return 0
        tries=$((tries + 1))
        if [ $tries -ge 100 ]; then
            fail "the screen lacks /$missing/ after 10 s:"
            cat "$WORK/screen" >&2
            return 1
        fi
        sleep 0.1
    done
}
# not_see PATTERN: the screen (as last seen) has no line matching it
not_see () {
    ! grep -Eq -- "$1" "$WORK/screen" || fail "the screen has /$1/: $(cat "$WORK/screen")"
}
keys () {
    tmux -L "$TMUX_SOCKET" send-keys -t top "$@"
}

see "^zaio top: .* broker [0-9.]+ at $ZAIO_ENDPOINT" "^OP +VOLUME +JOBS/S\*" \
    "^ping +default +[1-9]" "^stat +photos +[1-9][0-9.k]* +[0-9.]+ B +[1-9]" \
    "^WORKER " " photos +\[" "^CLIENT " "^q quit "
# Sort: s is the next column, < and > move it, r reverses
keys s
see "BYTES/S\*" "sort BYTES/S "
keys '<' '<'
see "VOLUME\*" "sort VOLUME "
keys '>'
see "JOBS/S\*"
keys r
see "sort JOBS/S \(reversed\)"
keys r
see "sort JOBS/S  volume \(all\)"
# Sorted by volume: default's rows come before photos'
keys '<'
see "VOLUME\*" "^ping +default"
[ "$(grep -nE '^ping +default' "$WORK/screen" | cut -d: -f1)" -lt \
    "$(grep -nE '^stat +photos' "$WORK/screen" | cut -d: -f1)" ] ||
    fail "sorted by VOLUME, default is not above photos: $(cat "$WORK/screen")"
keys r
see "sort VOLUME \(reversed\)"
sleep_until_order () { # photos above default now, once redrawn
    local tries=0
    while :; do
        screen
        local p d
        p=$(grep -nE '^stat +photos' "$WORK/screen" | cut -d: -f1)
        d=$(grep -nE '^ping +default' "$WORK/screen" | cut -d: -f1)
        [ -n "$p" ] && [ -n "$d" ] && [ "$p" -lt "$d" ] && return 0
        tries=$((tries + 1))
        [ $tries -lt 100 ] || { fail "reversed, photos is not above default: $(cat "$WORK/screen")"; return 1; }
        sleep 0.1
    done
}
sleep_until_order
# Filter: v asks for a volume; only its rows and workers stay
keys v
see "^volume \(empty: all\):"
keys photos Enter
see "volume photos" "^stat +photos +[1-9]"
not_see "^ping +default"
not_see "^[^ ]+ +default +"
keys v
see "^volume \(empty: all\):"
keys Enter
see "volume \(all\)" "^ping +default +[1-9]" "^stat +photos"
# A broker that stops answering is said on the view (after two
# refreshes' worth, 2 s), which goes on and clears it once it answers
kill -STOP "$BROKER_PID"
see "^broker at $ZAIO_ENDPOINT: TIMEOUT \(.*\); trying again$"
kill -CONT "$BROKER_PID"
tries=0
while screen; grep -q "trying again" "$WORK/screen"; do
    tries=$((tries + 1))
    [ $tries -lt 100 ] || { fail "the alert stayed after the broker came back"; break; }
    sleep 0.1
done
see "^ping +default +[1-9]"
# Help, then any key back
keys h
see "^zaio top: keys" "^  v +show one volume only"
keys x
see "^OP +VOLUME"
# q quits, with status 0
keys q
tries=0
until [ -s "$WORK/top.exit" ]; do
    tries=$((tries + 1))
    [ $tries -lt 100 ] || { fail "zaio top did not exit on q"; break; }
    sleep 0.1
done
[ "$(cat "$WORK/top.exit" 2> /dev/null)" = 0 ] || fail "zaio top exited $(cat "$WORK/top.exit" 2> /dev/null)"

finish
