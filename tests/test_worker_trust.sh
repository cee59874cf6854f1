#!/usr/bin/env bash
# test_worker_trust.sh WORKER ZAIO: how zaio-worker decides it may connect.
# A tcp broker not on loopback needs --curve-cert and --broker-key (exit 1
# with a clear message), or --insecure, which starts with a warning; on
# loopback, and over ipc, plain is fine. The two keys go together (exit
# 2); a certificate file that cannot serve stops the start (exit 1),
# naming the option and the file. (Registering over CURVE, and being
# refused with an unknown key: test_remote_curve.)
set -euo pipefail
trap 'echo "FAIL: test_worker_trust.sh line $LINENO: $BASH_COMMAND" >&2' ERR
WORKER=$1
ZAIO=$2
WORK=$(mktemp -d /tmp/zaio-worker-trust-XXXXXX)
trap 'rm -rf "$WORK"' EXIT
FAILS=0
fail () {
    echo "FAIL: $*" >&2
    FAILS=$((FAILS + 1))
}
mkdir -p "$WORK/vol" "$WORK/keys"
K=$WORK/keys
VOLUME=(--volume "v=$WORK/vol" --threads 1)

# expect STATUS STDERR_PATTERN -- ARGS...: zaio-worker exits at once with
# STATUS, saying PATTERN (grep -E) on stderr.
expect () {
    local want=$1 pattern=$2
    shift 3
    local status=0
    timeout 20 "$WORKER" "$@" > "$WORK/out" 2> "$WORK/err" || status=$?
    if [ "$status" != "$want" ]; then
        fail "zaio-worker $* exited $status, wanted $want; stderr: $(cat "$WORK/err")"
    elif ! grep -Eq -- "$pattern" "$WORK/err"; then
        fail "zaio-worker $* stderr lacks /$pattern/: $(cat "$WORK/err")"
    fi
}

# starts PATTERN -- ARGS...: zaio-worker starts (prints ready), saying
# PATTERN on stderr if not empty, and stops on SIGTERM with 0.
starts () {
    local pattern=$1
    shift 2
    #  A fresh file: the shell truncates one that is there only once the
    #  child runs, and an old "ready" in it would be taken for the new one.
    rm -f "$WORK/out" "$WORK/err"
    "$WORKER" "$@" > "$WORK/out" 2> "$WORK/err" &
    local pid=$! tries=0
    until grep -qs '^ready$' "$WORK/out"; do
        tries=$((tries + 1))
        if [ $tries -ge 2000 ] || ! kill -0 $pid 2> /dev/null; then
            fail "zaio-worker $* did not start: $(cat "$WORK/err")"
            kill -KILL $pid 2> /dev/null || true
            wait $pid 2> /dev/null || true
            return
        fi
        sleep 0.01
    done
    kill -TERM $pid 2> /dev/null || true #  it may have stopped by itself: wait says how
    local status=0
    wait $pid || status=$?
    [ $status = 0 ] || fail "zaio-worker $* exited $status on SIGTERM"
    if [ -n "$pattern" ] && ! grep -Eq -- "$pattern" "$WORK/err"; then
        fail "zaio-worker $* stderr lacks /$pattern/: $(cat "$WORK/err")"
    fi
}

# Certificates, from zaio keygen.
for name in broker worker; do
    "$ZAIO" keygen "$K/$name" "$name" > /dev/null
done

expect 1 "zaio-worker: tcp://10.1.2.3:5672 is not loopback: give --curve-cert and --broker-key \(or --insecure\)" \
    -- --connect tcp://10.1.2.3:5672 "${VOLUME[@]}"
expect 1 "is not loopback" -- --connect "tcp://*:5672" "${VOLUME[@]}"
expect 1 "is not loopback" -- --connect "tcp://127.0.0.1;10.1.2.3:5672" "${VOLUME[@]}"
expect 2 "--curve-cert and --broker-key go together" \
    -- --connect tcp://10.1.2.3:5672 "${VOLUME[@]}" --curve-cert "$K/worker"
expect 2 "--curve-cert and --broker-key go together" \
    -- --connect tcp://127.0.0.1:5672 "${VOLUME[@]}" --broker-key "$K/broker"
expect 1 "zaio-worker: --curve-cert $K/nobody: cannot read: No such file or directory" \
    -- --connect tcp://10.1.2.3:5672 "${VOLUME[@]}" --curve-cert "$K/nobody" --broker-key "$K/broker"
expect 1 "zaio-worker: --broker-key $K/nobody: cannot read" \
    -- --connect tcp://10.1.2.3:5672 "${VOLUME[@]}" --curve-cert "$K/worker" --broker-key "$K/nobody"
cp "$K/worker" "$K/public-only"
expect 1 "zaio-worker: --curve-cert $K/public-only: not a CURVE certificate with its secret key" \
    -- --connect tcp://10.1.2.3:5672 "${VOLUME[@]}" --curve-cert "$K/public-only" --broker-key "$K/broker"

# Starts: --insecure off loopback (warning), plain on loopback and ipc,
# CURVE anywhere (192.0.2.1 is TEST-NET: nobody answers, which is fine).
starts "WARN .*--insecure: jobs and data .* plain tcp" \
    -- --connect tcp://192.0.2.1:5672 "${VOLUME[@]}" --insecure
starts "" -- --connect tcp://127.0.0.1:1 "${VOLUME[@]}"
starts "" -- --connect "tcp://[::1]:1" "${VOLUME[@]}"
starts "" -- --connect tcp://localhost:1 "${VOLUME[@]}"
starts "" -- --connect "ipc://$WORK/broker.ipc" "${VOLUME[@]}"
starts "" -- --connect tcp://192.0.2.1:5672 "${VOLUME[@]}" --curve-cert "$K/worker" --broker-key "$K/broker_secret"
grep -q "insecure" "$WORK/err" && fail "a CURVE worker warned about --insecure"

if [ "$FAILS" -ne 0 ]; then
    echo "test_worker_trust.sh: $FAILS failures" >&2
    exit 1
fi
echo "test_worker_trust.sh: OK"
