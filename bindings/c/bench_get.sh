#!/usr/bin/env bash
# bench_get.sh BUILD_DIR [SIZE_MIB] [ROUNDS]: `zaio get` of a cached file
# over ipc and over tcp (loopback) against `cat FILE > /dev/null` on the
# same file, in the same run, rounds interleaved. Prints the median of each
# and the ratios of throughput to cat's.
#
# Two references show what loopback TCP itself allows on this machine
# (tests/perf/zaio_tcp_stream.c): tcp-file, the file read in 4 MiB chunks
# and sent over one bare TCP connection (the copies `zaio get` makes, no
# protocol, no broker); tcp-mem, the same bytes sent from memory (TCP alone).
set -euo pipefail
BUILD=$(realpath "$1")
SIZE_MIB=${2:-1024}
ROUNDS=${3:-5}
WORK=$(mktemp -d /tmp/zaio-bench-get-XXXXXX)
PID=
cleanup () {
    [ -n "$PID" ] && { kill -TERM "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; }
    rm -rf "$WORK"
}
trap cleanup EXIT

mkdir "$WORK/root"
head -c "$((SIZE_MIB * 1048576))" /dev/urandom > "$WORK/root/file.bin"
cat "$WORK/root/file.bin" > /dev/null   # into the page cache
port=$((20000 + RANDOM % 12000))
mkfifo "$WORK/out"
"$BUILD/broker/zaio-broker" --root "$WORK/root" --bind "ipc://$WORK/b.ipc" \
    --bind "tcp://127.0.0.1:$port" --events "ipc://$WORK/e.ipc" > "$WORK/out" 2> "$WORK/err" &
PID=$!
exec 7< "$WORK/out"
while read -r -t 10 line <&7; do [ "$line" = ready ] && break; done
ZAIO=$BUILD/bindings/c/zaio

seconds () {   # seconds COMMAND...: wall time of one run
    local start end
    start=$(date +%s%N)
    "$@"
    end=$(date +%s%N)
    awk -v s="$start" -v e="$end" 'BEGIN { printf "%.4f\n", (e - s) / 1e9 }'
}
median () { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }

STREAM=$BUILD/tests/perf/zaio_tcp_stream
KINDS="cat ipc tcp tcp-file tcp-mem"
for kind in $KINDS; do : > "$WORK/$kind"; done
for _ in $(seq "$ROUNDS"); do
    seconds sh -c "cat '$WORK/root/file.bin' > /dev/null" >> "$WORK/cat"
    seconds "$ZAIO" --connect "ipc://$WORK/b.ipc" get file.bin /dev/null >> "$WORK/ipc"
    seconds "$ZAIO" --connect "tcp://127.0.0.1:$port" get file.bin /dev/null >> "$WORK/tcp"
    seconds sh -c "'$STREAM' '$WORK/root/file.bin' > /dev/null" >> "$WORK/tcp-file"
    seconds sh -c "'$STREAM' '$WORK/root/file.bin' --memory > /dev/null" >> "$WORK/tcp-mem"
done
cat_s=$(median < "$WORK/cat")
ipc_s=$(median < "$WORK/ipc")
tcp_s=$(median < "$WORK/tcp")
file_s=$(median < "$WORK/tcp-file")
mem_s=$(median < "$WORK/tcp-mem")
if [ "${BENCH_JSON:-0}" = 1 ]; then
    awk -v m="$SIZE_MIB" -v r="$ROUNDS" -v c="$cat_s" -v i="$ipc_s" -v t="$tcp_s" \
        -v f="$file_s" -v x="$mem_s" 'BEGIN {
        printf "{\"mib\": %d, \"rounds\": %d, \"cat_s\": %s, \"ipc_s\": %s, \"tcp_s\": %s, ", m, r, c, i, t
        printf "\"tcp_file_s\": %s, \"tcp_mem_s\": %s, ", f, x
        printf "\"ipc_vs_cat\": %.3f, \"tcp_vs_cat\": %.3f, ", c / i, c / t
        printf "\"tcp_file_vs_cat\": %.3f, \"tcp_mem_vs_cat\": %.3f}\n", c / f, c / x }'
else
    echo "file: $SIZE_MIB MiB, cached; $ROUNDS rounds, medians"
    for kind in $KINDS; do
        s=$(median < "$WORK/$kind")
        awk -v k="$kind" -v s="$s" -v m="$SIZE_MIB" -v c="$cat_s" \
            'BEGIN { printf "%-8s %7.3f s  %8.1f MiB/s  %.2fx cat\n", k, s, m / s, c / s }'
    done
fi
