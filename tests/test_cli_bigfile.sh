#!/usr/bin/env bash
# test_cli_bigfile.sh ZAIO BROKER: put then get of a 256 MiB file through
# the zaio tool, in chunks below the broker's payload limit (set to 16 MiB
# here so the file cannot go in one message), compared by checksum; put
# replacing an existing file; the progress bar on a terminal and its
# absence otherwise; get and put interrupted by SIGINT; put of a read-only
# file of several chunks to a broker that is not root.
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

# Interrupted get and put: exit 130 without a crash (the sanitized build
# catches callbacks run after their transfer returned), the local file as
# it was, no temporary file left on either side.
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_stack_use_after_return=1"
# interrupt DIR NAME -- COMMAND...: run COMMAND (stdout to $WORK/int/stdout),
# SIGINT it once a file NAME (a glob) under DIR holds more than 1 MiB, that
# is, while the transfer is under way; expect exit 130 from the tool's own
# EINTR handling (not death by the signal after it finished).
interrupt () {
    local dir=$1 name=$2 status=0 tries=0
    shift 3
    #  No file of the last run may stand for this one's progress.
    rm -f "$WORK/int/stdout"
    #  Background jobs start with SIGINT ignored unless it is reset.
    env --default-signal=INT "$@" > "$WORK/int/stdout" 2> "$WORK/err" &
    local pid=$!
    until [ -n "$(find "$dir" -name "$name" -size +1M)" ]; do
        if [ $tries -ge 3000 ] || ! kill -0 "$pid" 2> /dev/null; then
            fail "'$*' ended or took 30 s before $dir/$name held 1 MiB to interrupt it at"
            break
        fi
        sleep 0.01
        tries=$((tries + 1))
    done
    kill -INT "$pid" 2> /dev/null || true
    wait "$pid" || status=$?
    [ "$status" = 130 ] && grep -q EINTR "$WORK/err" \
        || fail "interrupted '$*' exited $status, wanted 130: $(head -c 2000 "$WORK/err")"
}
mkdir "$WORK/int"
cp "$WORK/big.bin" "$R/big.bin"
echo precious > "$WORK/int/keep.txt"
cp "$WORK/int/keep.txt" "$WORK/keep.txt"
interrupt "$WORK/int" "*" -- "$ZAIO" get big.bin "$WORK/int/keep.txt"
cmp -s "$WORK/keep.txt" "$WORK/int/keep.txt" || fail "interrupted get changed the local file"
ls -a "$WORK/int" | grep zaio-get > /dev/null && fail "interrupted get left a temporary file"
interrupt "$WORK/int" stdout -- "$ZAIO" cat big.bin
interrupt "$R" "*zaio-put*" -- "$ZAIO" put "$WORK/big.bin" big2.bin
ls -a "$R" | grep zaio-put > /dev/null && fail "interrupted put left a temporary file"
[ ! -e "$R/big2.bin" ] || fail "interrupted put created the target"

# A read-only file of several chunks, to a broker that is not root: it
# opens the temporary file again for each chunk.
if [ "$(id -u)" = 0 ] && ! command -v setpriv > /dev/null; then
    echo "SKIPPED read-only put to a broker that is not root: no setpriv"
else
    [ "$(id -u)" = 0 ] && BROKER_USER=nobody start_broker --payload-max 16777216
    head -c 10000000 /dev/urandom > "$WORK/ro.bin"
    head -c 1000 /dev/urandom > "$WORK/ro-small.bin"
    chmod 0444 "$WORK/ro.bin" "$WORK/ro-small.bin"
    expect 0 "" -- "$ZAIO" put "$WORK/ro.bin" ro.bin
    cmp -s "$WORK/ro.bin" "$R/ro.bin" || fail "put of a read-only file of several chunks"
    [ "$(stat -c %A "$R/ro.bin" | cut -c2-3)" = rw ] || fail "ro.bin: $(stat -c %A "$R/ro.bin")"
    expect 0 "" -- "$ZAIO" put "$WORK/ro-small.bin" ro-small.bin
    [ "$(stat -c %a "$R/ro-small.bin")" = 444 ] || fail "put of one chunk keeps the mode"
    ls -a "$R" | grep zaio-put > /dev/null && fail "put left a temporary file"
fi

finish
