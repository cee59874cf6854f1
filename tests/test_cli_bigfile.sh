#!/usr/bin/env bash
# test_cli_bigfile.sh ZAIO BROKER: put then get of a 256 MiB file through
# the zaio tool, in chunks below the broker's payload limit (set to 16 MiB
# here so the file cannot go in one message), compared by checksum; put
# replacing an existing file; the progress bar on a terminal and its
# absence otherwise.
ZAIO=$1
BROKER=$2
. "$(dirname "$0")/test_cli_lib.sh"
start_broker --payload-max 16777216
R=$WORK/root

head -c 268435456 /dev/urandom > "$WORK/big.bin"
sum=$(sha256sum < "$WORK/big.bin")

begin=$(date +%s%N)
expect 0 "" -- "$ZAIO" put "$WORK/big.bin" big.bin
middle=$(date +%s%N)
expect 0 "" -- "$ZAIO" get big.bin "$WORK/back.bin"
end=$(date +%s%N)
[ ! -s "$WORK/err" ] || fail "get printed to a non-terminal stderr: $(cat "$WORK/err")"
[ "$(sha256sum < "$R/big.bin")" = "$sum" ] || fail "put: checksum differs"
[ "$(sha256sum < "$WORK/back.bin")" = "$sum" ] || fail "get: checksum differs"
echo "put 256 MiB in $(((middle - begin) / 1000000)) ms, get in $(((end - middle) / 1000000)) ms"

# cat through a pipe (chunks written in order)
[ "$("$ZAIO" cat big.bin | sha256sum)" = "$sum" ] || fail "cat: checksum differs"

# put over an existing file: replaced whole
head -c 10000000 /dev/urandom > "$WORK/small.bin"
expect 0 "" -- "$ZAIO" put "$WORK/small.bin" big.bin
cmp -s "$WORK/small.bin" "$R/big.bin" || fail "put over an existing file"
ls -a "$R" | grep zaio-put > /dev/null && fail "put left a temporary file"

# On a terminal: a progress bar with bytes, rate and ETA.
if command -v script > /dev/null; then
    script -qec "'$ZAIO' get big.bin '$WORK/tty.bin'" /dev/null > "$WORK/tty.out" 2>&1 \
        || fail "get on a terminal"
    grep -aq "MiB/s" "$WORK/tty.out" || fail "no progress bar on a terminal: $(head -c 300 "$WORK/tty.out")"
    grep -aq "9.5 MiB / 9.5 MiB  100%" "$WORK/tty.out" || fail "progress bar lacks the total"
fi

finish
