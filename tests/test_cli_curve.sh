#!/usr/bin/env bash
# test_cli_curve.sh ZAIO BROKER: the zaio tool's CURVE options against a
# real zaio-broker daemon: --curve-server and --curve-cert, and
# $ZAIO_CURVE_SERVER / $ZAIO_CURVE_CERT (the options win), for every
# command, watch too; certificate files that cannot serve are usage errors
# (exit 2) naming the option and the file; a refused handshake is AUTH,
# exit 4, at once.
ZAIO=$1
BROKER=$2
. "$(dirname "$0")/test_cli_lib.sh"
K=$WORK/keys
mkdir -p "$K"
for name in broker alice; do
    "$ZAIO" keygen "$K/$name" "$name" > /dev/null || { echo "FAIL: keygen $name" >&2; exit 1; }
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

finish
