#!/usr/bin/env bash
# test_cli_curve.sh ZAIO BROKER WORKER: the zaio tool's CURVE options, and
# zaio-worker's, against real zaio-broker daemons: --curve-server and
# --curve-cert, and $ZAIO_CURVE_SERVER / $ZAIO_CURVE_CERT (the options
# win), for every command, watch too; certificate files that cannot serve
# are usage errors (exit 2) naming the option and the file; a refused
# handshake is AUTH, exit 4, at once.
#
#   1. a plain broker: CURVE against it is AUTH;
#   2. a CURVE broker (--curve-cert, --client-certs, --worker-certs, a
#      read-only grant): an admitted client works over tcp, by options and
#      by environment, and watches events that name it; a read-only one
#      gets EACCES for a write; a client the broker does not know, one with
#      a wrong server key, and one without CURVE are AUTH (exit 4) within
#      seconds; an admitted zaio-worker registers its volume over CURVE, an
#      unknown one does not and says it was refused.
ZAIO=$1
BROKER=$2
WORKER=$3
. "$(dirname "$0")/test_cli_lib.sh"
K=$WORK/keys
mkdir -p "$K/clients" "$K/workers"
keygen () { # PATH NAME
    "$ZAIO" keygen "$1" "$2" > /dev/null || { echo "FAIL: keygen $2" >&2; exit 1; }
}
for name in broker impostor mallory stranger; do keygen "$K/$name" "$name"; done
keygen "$K/clients/alice" alice
keygen "$K/clients/reader" reader
keygen "$K/workers/storage-b" storage-b
# The broker's directories hold public certificates; the pairs live in $K.
for cert in clients/alice clients/reader workers/storage-b; do
    mv "$K/${cert}_secret" "$K/"
    cp "$K/$cert" "$K/"
done

# Help
expect 0 "" -- "$ZAIO" --help
out_has "--curve-server FILE"
out_has "--curve-cert FILE"
out_has "ZAIO_CURVE_SERVER"
out_has "4    AUTH"

# Files that cannot serve: usage errors, before any connection
expect 2 "zaio: --curve-cert $K/nobody: cannot read: No such file or directory" -- \
    "$ZAIO" --curve-server "$K/broker" --curve-cert "$K/nobody" ping
expect 2 "zaio: --curve-server $K/nobody: cannot read: No such file or directory" -- \
    "$ZAIO" --curve-server "$K/nobody" --curve-cert "$K/alice" ping
printf 'not a certificate\n' > "$K/junk"
expect 2 "zaio: --curve-server $K/junk: not a CURVE certificate" -- \
    "$ZAIO" --curve-server "$K/junk" --curve-cert "$K/alice" stat x
cp "$K/alice" "$K/public-only"
expect 2 "zaio: --curve-cert $K/public-only: not a CURVE certificate with its secret key" -- \
    "$ZAIO" --curve-server "$K/broker" --curve-cert "$K/public-only" ping
expect 2 "--curve-server and --curve-cert go together" -- "$ZAIO" --curve-cert "$K/alice" ping
expect 2 "--curve-server and --curve-cert go together" -- \
    env ZAIO_CURVE_SERVER="$K/broker" "$ZAIO" ping
expect 2 "--curve-cert $K/nobody: cannot read" -- \
    env ZAIO_CURVE_SERVER="$K/broker" ZAIO_CURVE_CERT="$K/nobody" "$ZAIO" watch --count 1
# keygen needs no broker, and no keys either
expect 0 "" -- env ZAIO_CURVE_CERT="$K/nobody" "$ZAIO" keygen "$K/carol"
# CURVE against a plain broker: AUTH (exit 4) at once, by option or by
# environment, for a call and for watch; options win over the environment.
start_broker
start=$(date +%s)
expect 4 "^zaio: ping: AUTH \(" -- \
    "$ZAIO" --curve-server "$K/broker" --curve-cert "$K/alice" ping
expect 4 "^zaio: stat x: AUTH" -- \
    env ZAIO_CURVE_SERVER="$K/broker" ZAIO_CURVE_CERT="$K/alice" "$ZAIO" stat x
expect 4 "AUTH" -- env ZAIO_CURVE_SERVER="$K/nobody" ZAIO_CURVE_CERT="$K/nobody" \
    "$ZAIO" --curve-server="$K/broker" --curve-cert="$K/alice_secret" ls
expect 4 "^zaio: watch: AUTH" -- \
    "$ZAIO" --curve-server "$K/broker" --curve-cert "$K/alice" watch --count 1
[ $(($(date +%s) - start)) -lt 10 ] || fail "AUTH took too long"
# An empty variable is no variable
expect 0 "" -- env ZAIO_CURVE_SERVER= ZAIO_CURVE_CERT= "$ZAIO" ping

# 2. A CURVE broker: tcp endpoints for clients, events and workers; ipc
# stays plain (trusted by file mode) for the checks below.
printf 'grants\n    client\n        reader\n            volumes\n                default = ro\n' \
    > "$WORK/grants.cfg"
start_broker --bind tcp://127.0.0.1:* --events tcp://127.0.0.1:* --worker-bind tcp://127.0.0.1:* \
    --curve-cert "$K/broker" --client-certs "$K/clients" --worker-certs "$K/workers" \
    --config "$WORK/grants.cfg"
TCP=$(sed -n 's/^client \(tcp:.*\)/\1/p' "$WORK/broker.lines")
EVENTS=$(sed -n 's/^events \(tcp:.*\)/\1/p' "$WORK/broker.lines")
WORKERS=$(sed -n 's/^workers \(tcp:.*\)/\1/p' "$WORK/broker.lines")
[ -n "$TCP" ] && [ -n "$EVENTS" ] && [ -n "$WORKERS" ] ||
    { echo "FAIL: broker endpoints: $(cat "$WORK/broker.lines")" >&2; exit 1; }
ALICE=(--connect "$TCP" --curve-server "$K/broker" --curve-cert "$K/alice")

# An admitted client works, by options and by environment
printf 'over curve\n' > "$WORK/local.txt"
expect 0 "" -- "$ZAIO" "${ALICE[@]}" put "$WORK/local.txt" remote.txt
expect 0 "" -- "$ZAIO" "${ALICE[@]}" cat remote.txt
out_has "^over curve$"
expect 0 "" -- env ZAIO_ENDPOINT="$TCP" ZAIO_CURVE_SERVER="$K/broker_secret" \
    ZAIO_CURVE_CERT="$K/alice_secret" "$ZAIO" stat remote.txt
# A read-only grant: writes are EACCES (exit 1), reads work
expect 1 "EACCES" -- "$ZAIO" --connect "$TCP" --curve-server "$K/broker" \
    --curve-cert "$K/reader" put "$WORK/local.txt" remote.txt
expect 0 "" -- "$ZAIO" --connect "$TCP" --curve-server "$K/broker" --curve-cert "$K/reader" \
    cat remote.txt

# stats and top: refused to a grant without monitor (the reader), answered
# to alice (no grant entry: every volume)
expect 1 "^zaio: stats: EACCES \(stats needs the monitor grant\)$" -- "$ZAIO" --connect "$TCP" \
    --curve-server "$K/broker" --curve-cert "$K/reader" stats
expect 1 "^zaio: top: EACCES \(stats needs the monitor grant\)$" -- "$ZAIO" --connect "$TCP" \
    --curve-server "$K/broker" --curve-cert "$K/reader" top -n 1
expect 0 "" -- "$ZAIO" "${ALICE[@]}" stats
out_has "^default +[0-9]+ "

# Refused: AUTH (exit 4), each well within the 30 s call timeout: a key
# the broker does not know, a wrong server key, no CURVE at all
for who in "--curve-server $K/broker --curve-cert $K/mallory" \
    "--curve-server $K/impostor --curve-cert $K/alice"; do
    start=$(date +%s)
    # shellcheck disable=SC2086 # $who is options
    expect 4 '^zaio: ls "": AUTH' -- "$ZAIO" --connect "$TCP" $who ls
    [ $(($(date +%s) - start)) -lt 25 ] || fail "AUTH for '$who' took too long"
done
# No CURVE at all: never served, and told well within the call timeout.
# AUTH when libzmq reports the mechanism mismatch; but the broker's end of
# a refused handshake may reset the connection before the client has read
# the broker's greeting, and libzmq then reports a plain hang-up on every
# attempt, which a plain client cannot tell from a broker gone: it gives
# up after its retries, UNREACHABLE (exit 3).
start=$(date +%s)
status=0
"$ZAIO" --connect "$TCP" --retries 3 --retry-ms 0 ls > "$WORK/out" 2> "$WORK/err" || status=$?
case "$status:$(cat "$WORK/err")" in
    '4:zaio: ls "": AUTH'* | '3:zaio: ls "": UNREACHABLE'*) ;;
    *) fail "plain client at the CURVE endpoint: exit $status: $(cat "$WORK/err")" ;;
esac
[ $(($(date +%s) - start)) -lt 25 ] || fail "the plain client's refusal took too long"
expect 4 "^zaio: watch: AUTH" -- "$ZAIO" --events "$EVENTS" --curve-server "$K/broker" \
    --curve-cert "$K/mallory" watch --count 1

# watch over CURVE: the admitted client sees its own put, named as itself
"$ZAIO" --events "$EVENTS" --curve-server "$K/broker" --curve-cert "$K/alice" \
    watch --json --count 1 ok. > "$WORK/watch.out" 2> "$WORK/watch.err" &
WATCH_PID=$!
tries=0
while kill -0 $WATCH_PID 2> /dev/null && [ $tries -lt 100 ]; do
    "$ZAIO" "${ALICE[@]}" put "$WORK/local.txt" watched.txt > /dev/null 2>&1 || true
    tries=$((tries + 1))
    sleep 0.1
done
kill $WATCH_PID 2> /dev/null || true
wait $WATCH_PID 2> /dev/null || true
grep -q '"client":"alice"' "$WORK/watch.out" ||
    fail "watch over CURVE: no event naming alice: $(cat "$WORK/watch.out" "$WORK/watch.err")"

# zaio-worker: an admitted one registers its volume over CURVE; a stranger
# is refused, says so, and its volume never appears.
mkdir -p "$WORK/photos" "$WORK/other"
"$WORKER" --connect "$WORKERS" --volume "photos=$WORK/photos" --threads 1 \
    --curve-cert "$K/storage-b" --broker-key "$K/broker" > /dev/null 2> "$WORK/worker.err" &
WORKER_PID=$!
"$WORKER" --connect "$WORKERS" --volume "other=$WORK/other" --threads 1 \
    --curve-cert "$K/stranger" --broker-key "$K/broker" > /dev/null 2> "$WORK/stranger.err" &
STRANGER_PID=$!
tries=0
until "$ZAIO" hello 2> /dev/null | grep -q "photos" &&
    grep -q "refused this worker" "$WORK/stranger.err"; do
    tries=$((tries + 1))
    if [ $tries -ge 200 ]; then
        fail "workers: $("$ZAIO" hello 2>&1 | grep volumes); stranger: $(cat "$WORK/stranger.err")"
        break
    fi
    sleep 0.1
done
echo "in photos" > "$WORK/photos/p.txt"
expect 0 "" -- "$ZAIO" "${ALICE[@]}" --volume photos cat p.txt
out_has "^in photos$"
expect 0 "" -- "$ZAIO" hello
grep -q "other" "$WORK/out" && fail "a worker with an unknown key registered: $(cat "$WORK/out")"
kill -TERM $WORKER_PID $STRANGER_PID
wait $WORKER_PID $STRANGER_PID 2> /dev/null || true

finish
