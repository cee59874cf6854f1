#!/usr/bin/env bash
# test_worker_config.sh WORKER BROKER ZAIO VERSION: zaio-worker's command
# line and config file. -V/--version; the short options of the shared
# table (-c connect, -v volume, -w threads, -n name, -C config) and the
# old letters refused (-t); a worker started from a config file alone
# serves its volumes to a broker; --volume replaces the file's volumes;
# an unknown key (named, with its line), a bad value, a bad volume and a
# missing file each stop the start with exit 1 and a readable message;
# --log-format json (every line parsed).
trap 'echo "FAIL: test_worker_config.sh line $LINENO: $BASH_COMMAND" >&2' ERR
WORKER=$1
BROKER=$2
ZAIO=$3
VERSION=$4
. "$(dirname "$0")/test_daemon_lib.sh"

[ "$("$WORKER" --version)" = "zaio-worker $VERSION" ] || fail "--version: $("$WORKER" --version)"
[ "$("$WORKER" -V)" = "zaio-worker $VERSION" ] || fail "-V: $("$WORKER" -V)"
usage=$("$WORKER" --help)
grep -q -- "-v, --volume NAME=DIR" <<< "$usage" || fail "--help lacks -v, --volume"
grep -q -- "-w, --threads N" <<< "$usage" || fail "--help lacks -w, --threads"
grep -q -- "-C, --config FILE" <<< "$usage" || fail "--help lacks -C, --config"

mkdir -p "$WORK/photos" "$WORK/logs" "$WORK/root"
expect_exit 2 "invalid option -- 't'" -- "$WORKER" -c "ipc://$WORK/w.ipc" -v "p=$WORK/photos" -t 2
expect_exit 2 "--log-format is text or json, not 'xml'" \
    -- "$WORKER" -c "ipc://$WORK/w.ipc" -v "p=$WORK/photos" --log-format xml
expect_exit 2 "--connect and at least one --volume are required \(or their config keys" -- "$WORKER"

# Config files that stop the start.
printf 'worker\n    connect = ipc://%s/w.ipc\n    volume\n        p = %s\n' "$WORK" "$WORK/photos" \
    > "$WORK/typo.cfg"
expect_exit 1 "ERROR zaio-worker config: $WORK/typo.cfg:3: unknown key 'worker/volume'" \
    -- "$WORKER" -C "$WORK/typo.cfg"
grep -q "ERROR zaio-worker daemon: not started: bad config file $WORK/typo.cfg" "$WORK/expect.err" \
    || fail "no closing line"
# Every form getopt_long takes names the file: a shortened --config, and
# -C glued to its value.
for form in "--conf=$WORK/typo.cfg" "-C$WORK/typo.cfg"; do
    expect_exit 1 "typo.cfg:3: unknown key 'worker/volume'" -- "$WORKER" "$form"
done
# In json, every line of a daemon that does not start is JSON, czmq's
# own too (a file zconfig cannot read: an unclosed quote).
printf 'worker\n    name = "unclosed\n' > "$WORK/quote.cfg"
expect_exit 1 "cannot load $WORK/quote.cfg: not a ZPL file" -- "$WORKER" --log-format json -C "$WORK/quote.cfg"
check_log_lines "$WORK/expect.err" json zaio-worker > /dev/null || fail "json: $(cat "$WORK/expect.err")"
printf 'worker\n  name = x\n' > "$WORK/indent.cfg"
expect_exit 1 "indent.cfg:2: indented by 2 spaces: ZPL indents by 4" -- "$WORKER" -C "$WORK/indent.cfg"
printf 'worker\n    connect = ipc://%s/w.ipc\n    threads = -1\n' "$WORK" > "$WORK/value.cfg"
expect_exit 1 "config: worker/threads = '-1' is not a number in 0..1024" \
    -- "$WORKER" --config "$WORK/value.cfg"
printf 'worker\n    connect = ipc://%s/w.ipc\n    volumes\n        b.d = %s\n' "$WORK" "$WORK/photos" \
    > "$WORK/volume.cfg"
expect_exit 1 "config: worker/volumes/b.d = '.*': a volume needs a NAME" \
    -- "$WORKER" --config "$WORK/volume.cfg"
expect_exit 1 "config: cannot read $WORK/missing.cfg: No such file or directory" \
    -- "$WORKER" --config "$WORK/missing.cfg"
expect_exit 1 '^\{"ts":"[^"]*","level":"ERROR","program":"zaio-worker","component":"config","msg":".*typo.cfg:3: unknown key' \
    -- "$WORKER" --log-format json -C "$WORK/typo.cfg"

# A broker for the workers, with no volume of its own beyond default.
start_daemon broker -- "$BROKER" --root "$WORK/root" --bind "ipc://$WORK/b.ipc" \
    --events "ipc://$WORK/e.ipc" --worker-bind "ipc://$WORK/w.ipc" --workers 1
export ZAIO_ENDPOINT="ipc://$WORK/b.ipc"

# served VOLUME: the broker routes a job for VOLUME to a worker (within
# 10 s: the worker's READY may be on its way).
served () {
    local tries=0
    until "$ZAIO" --volume "$1" ping > /dev/null 2>&1; do
        tries=$((tries + 1))
        [ $tries -lt 1000 ] || return 1
        sleep 0.01
    done
}

# From the config file alone: every key of its own, json logs.
echo "hello photos" > "$WORK/photos/a.txt"
cat > "$WORK/worker.cfg" << CFG
worker
    connect = ipc://$WORK/w.ipc
    volumes
        photos = $WORK/photos:ro
        logs = $WORK/logs
    threads = 2
    credit = 8
    payload_max = 33554432
    heartbeat_ms = 1000
    heartbeat_misses = 3
    drain_ms = 5000
    tmp_max_age = 60
    name = storage-test
    insecure = 0
    log_format = json
    verbose = 1
CFG
start_daemon worker -- "$WORKER" -C "$WORK/worker.cfg"
served photos || fail "photos not served from the config file"
served logs || fail "logs not served from the config file"
out=$("$ZAIO" --volume photos cat a.txt 2>&1) || true
[ "$out" = "hello photos" ] || fail "cat from photos: $out"
"$ZAIO" --volume photos put "$WORK/photos/a.txt" b.txt > /dev/null 2>&1 \
    && fail "photos is :ro in the file, and took a put"
stop_daemon worker
[ "$(cat "$WORK/worker.status")" = 0 ] || fail "worker SIGTERM: exit $(cat "$WORK/worker.status")"
check_log_lines "$WORK/worker.err" json zaio-worker > /dev/null || fail "json log: $(cat "$WORK/worker.err")"
grep -q '"component":"relay","msg":"connected to ipc://' "$WORK/worker.err" \
    || fail "verbose = 1: no connection line: $(cat "$WORK/worker.err")"

# --volume (short: -v) replaces the file's volumes; -c, -w, -n, and the
# command line's --log-format wins over the file's.
start_daemon worker -- "$WORKER" -C "$WORK/worker.cfg" -c "ipc://$WORK/w.ipc" \
    -v "scratch=$WORK/logs" -w 1 -n other --log-format text
served scratch || fail "scratch (-v) not served"
"$ZAIO" --volume photos ping > /dev/null 2>&1 && fail "photos served though -v replaced it"
stop_daemon worker
check_log_lines "$WORK/worker.err" text zaio-worker > /dev/null || fail "text log: $(cat "$WORK/worker.err")"
stop_daemon broker

if [ "$FAILS" -ne 0 ]; then
    echo "test_worker_config.sh: $FAILS failures" >&2
    exit 1
fi
echo "test_worker_config.sh: OK"
