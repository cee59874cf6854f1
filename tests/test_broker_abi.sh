#!/usr/bin/env bash
# test_broker_abi.sh LIBZAIO_BROKER_SO MAP LIBZAIO_SO: libzaio-broker, the
# embeddable broker, exports exactly the functions its version script MAP
# (broker/libzaio-broker.map) lists, every one of them declared in
# zaio_broker.h, and none of libzaio's (the client and its codec stay in
# libzaio); libzaio exports nothing of the broker's.
set -euo pipefail
LIB=$1
MAP=$2
CLIENT=$3
HEADER=$(dirname "$MAP")/zaio_broker.h
WORK=$(mktemp -d /tmp/zaio-broker-abi-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
fails=0
fail () {
    echo "FAIL: $*" >&2
    fails=$((fails + 1))
}
exports () {
    nm -D --defined-only "$1" | awk '$2 != "A" { sub (/@.*/, "", $3); print $3 }' | LC_ALL=C sort -u
}

exports "$LIB" > "$WORK/exported"
sed -n 's/^ *\(zaio_[a-z_0-9]*\);$/\1/p' "$MAP" | LC_ALL=C sort -u > "$WORK/allowed"
[ -s "$WORK/allowed" ] || fail "no symbols found in $MAP"
echo "libzaio-broker.so exports $(wc -l < "$WORK/exported") symbols; $MAP lists $(wc -l < "$WORK/allowed")"
diff -u --label "listed ($MAP)" --label "exported ($LIB)" "$WORK/allowed" "$WORK/exported" ||
    fail "the exports differ from the version script"
while read -r name; do
    grep -q "^[a-z].* \**$name (" "$HEADER" || fail "$name is exported but not declared in zaio_broker.h"
done < "$WORK/allowed"
grep -v '^zaio_broker_' "$WORK/exported" > "$WORK/stray" && fail "exports outside zaio_broker_: $(tr '\n' ' ' < "$WORK/stray")"
exports "$CLIENT" > "$WORK/client"
comm -12 "$WORK/exported" "$WORK/client" > "$WORK/both"
[ -s "$WORK/both" ] && fail "exported by both libraries: $(tr '\n' ' ' < "$WORK/both")"
grep '^zaio_broker_' "$WORK/client" > "$WORK/leak" && fail "libzaio exports the broker's: $(tr '\n' ' ' < "$WORK/leak")"
readelf -d "$LIB" | grep -q 'SONAME.*\[libzaio-broker\.so\.0\]' || fail "no SONAME libzaio-broker.so.0"

[ "$fails" -eq 0 ] || exit 1
echo "test_broker_abi.sh: OK"
