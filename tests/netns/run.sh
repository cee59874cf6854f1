#!/usr/bin/env bash
# tests/netns/run.sh BROKER WORKER LOAD ZAIO: the multi-host remote-worker test.
#
# Five hosts, each a network namespace of its own (tests/netns/hosts.sh),
# on a private subnet that never meets any real network; parallel runs
# (whose namespace names carry their pid) cannot collide.
#
#   broker  10.241.77.1   zaio-broker: clients :5670, events :5671, workers :5672
#   host1   10.241.77.11  zaio-worker, volume shared = $T/shared
#   host2   10.241.77.12  zaio-worker, volume shared = $T/shared (the same
#                         directory: hosts sharing storage)
#   host3   10.241.77.13  zaio-worker, volume solo = $T/solo
#   client  10.241.77.20  zaio_netns_load (tests/netns/netns_load.c)
#
# Every tcp link speaks CURVE: the broker admits the three workers and the
# load's clients and subscriber by their certificates (zaio keygen), so
# the test runs what a deployment across hosts runs.
#
# 1. 20,000 mixed jobs from 8 pipelined DEALERs; host1 gets SIGKILL half
#    way. Every job gets exactly one reply, every idempotent job succeeds,
#    every acknowledged change is on disk (read back from the directories),
#    UNKNOWN_OUTCOME only for host1's non-idempotent jobs (zaio_load.h);
#    hello then counts one worker for shared.
# 2. The broker is stopped (SIGTERM) and started again at the same address;
#    host2 and host3 re-register, and 4,000 more jobs pass the same checks.
# 3. host3, the only worker of solo, gets SIGKILL: solo answers NOVOLUME.
# 4. host2 and the broker stop on SIGTERM and exit 0.
#
# Needs root for the namespaces; without it prints SKIPPED and exits 77
# (ctest's SKIP_RETURN_CODE). Cleans up on any exit.
set -euo pipefail

USAGE="usage: run.sh ZAIO_BROKER ZAIO_WORKER ZAIO_NETNS_LOAD ZAIO"
BROKER=${1:?$USAGE}
WORKER=${2:?$USAGE}
LOAD=${3:?$USAGE}
TOOL=${4:?$USAGE}

JOBS=${ZAIO_NETNS_JOBS:-20000}
NET=10.241.77
# Quick to notice a death (1 s), slow enough not to see one in a busy
# machine's scheduling stalls.
HEARTBEAT=(--heartbeat-ms 100 --heartbeat-misses 10)
THREADS=2
PER_THREAD=2            # zaio-worker --credit: keeps the set lost with a worker small
CREDIT=$((THREADS * PER_THREAD)) # jobs one zaio-worker holds at most
declare -A ADDR=([broker]=$NET.1 [host1]=$NET.11 [host2]=$NET.12 [host3]=$NET.13 [client]=$NET.20)
PREFIX="zaio$$"
START_S=$SECONDS

say () { echo "netns: $*"; }
skip () { echo "SKIPPED: netns_remote: $*"; exit 77; }
ns () { echo "$PREFIX-$1"; }

[ "$(id -u)" = 0 ] || skip "needs root to create network namespaces"
command -v ip > /dev/null || skip "ip (iproute2) is not installed"
for bin in "$BROKER" "$WORKER" "$LOAD" "$TOOL"; do
    [ -x "$bin" ] || { echo "netns: FAIL: $bin is not built" >&2; exit 1; }
done

T=$(mktemp -d /tmp/zaio-netns.XXXXXX)
declare -A PID=()
CREATED=()
STATUS=0
FAILED=1

cleanup () {
    local status=$?
    for name in "${!PID[@]}"; do
        kill -KILL "${PID[$name]}" 2> /dev/null || true
    done
    wait 2> /dev/null || true
    for name in "${CREATED[@]}"; do
        ip netns del "$(ns "$name")" 2> /dev/null || true
    done
    if [ "$FAILED" = 1 ]; then
        for log in "$T"/*.log; do
            [ -f "$log" ] || continue
            echo "---- $(basename "$log") (last 30 lines)" >&2
            tail -n 30 "$log" >&2
        done
    fi
    rm -rf "$T"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail () {
    echo "netns: FAIL: $*" >&2
    exit 1
}

# Namespaces of earlier runs that died without cleaning up (their pid is
# gone): ours by name, so removing them touches nothing else.
for stale in $(ip netns list 2> /dev/null | awk '{print $1}' | grep -E '^zaio[0-9]+-(broker|host[0-9]|client)$' || true); do
    owner=${stale#zaio}
    owner=${owner%%-*}
    kill -0 "$owner" 2> /dev/null || ip netns del "$stale" 2> /dev/null || true
done

# ---------------------------------------------------------------------
# The network

. "$(dirname "$0")/hosts.sh"
netns_hosts "$PREFIX" broker ADDR host1 host2 host3 client \
    || skip "cannot create network namespaces here (ip netns add failed)"
B=$(ns broker)
say "5 hosts on $NET.0/24 (namespaces $PREFIX-*)"

# ---------------------------------------------------------------------
# Daemons

# Children die with this script, even if it is killed outright.
DEATHSIG=()
if command -v setpriv > /dev/null; then DEATHSIG=(setpriv --pdeathsig KILL --); fi

# start NAME HOST LOG CMD...: CMD on HOST in the background; waits for its
# "ready" line.
start () {
    local name=$1 host=$2 log=$3
    shift 3
    ip netns exec "$(ns "$host")" "${DEATHSIG[@]}" "$@" > "$T/$log" 2>&1 &
    PID[$name]=$!
    local deadline=$((SECONDS + 30))
    until grep -qx ready "$T/$log" 2> /dev/null; do
        kill -0 "${PID[$name]}" 2> /dev/null || fail "$name exited before it was ready"
        [ "$SECONDS" -lt "$deadline" ] || fail "$name not ready within 30 s"
        sleep 0.05
    done
}

# reap NAME: waits for NAME to exit; its exit status in STATUS.
reap () {
    STATUS=0
    wait "${PID[$1]}" || STATUS=$?
    unset "PID[$1]"
}

# Certificates: each secret stays in keys/, the public halves the broker
# admits go to keys/clients and keys/workers.
K=$T/keys
mkdir -p "$K/clients" "$K/workers"
"$TOOL" keygen "$K/broker" broker > /dev/null
for host in host1 host2 host3; do
    "$TOOL" keygen "$K/$host" "$host" > /dev/null
    cp "$K/$host" "$K/workers/"
done
"$TOOL" keygen "$K/load" load > /dev/null
cp "$K/load" "$K/clients/"

start_broker () {
    start broker broker "$1" "$BROKER" --root "$T/root" \
        --bind "tcp://${ADDR[broker]}:5670" --events "tcp://${ADDR[broker]}:5671" \
        --worker-bind "tcp://${ADDR[broker]}:5672" --workers 1 "${HEARTBEAT[@]}" \
        --curve-cert "$K/broker_secret" --client-certs "$K/clients" --worker-certs "$K/workers"
}

start_worker () {
    local host=$1 volume=$2
    start "$host" "$host" "$host.log" "$WORKER" --connect "tcp://${ADDR[broker]}:5672" \
        --volume "$volume" --threads "$THREADS" --credit "$PER_THREAD" "${HEARTBEAT[@]}" \
        --name "$host" --curve-cert "$K/${host}_secret" --broker-key "$K/broker"
}

mkdir -p "$T/root" "$T/shared" "$T/solo"
start_broker broker.log
start_worker host1 "shared=$T/shared"
start_worker host2 "shared=$T/shared"
start_worker host3 "solo=$T/solo"
say "broker and 3 workers ready"

client () {
    ip netns exec "$(ns client)" timeout 200 "$LOAD" \
        --connect "tcp://${ADDR[broker]}:5670" --events "tcp://${ADDR[broker]}:5671" \
        --volume "shared=$T/shared" --volume "solo=$T/solo" --curve "$K/broker,$K/load_secret" "$@"
}

# ---------------------------------------------------------------------
# 1. A worker dies in the middle

say "step 1: $JOBS jobs, SIGKILL to host1 half way"
client --tag kill --jobs "$JOBS" --expect shared=2 --expect solo=1 \
    --kill-pid "${PID[host1]}" --kill-name host1 --kill-credit "$CREDIT" --after shared=1 \
    || fail "step 1"
reap host1
[ "$STATUS" = 137 ] || fail "host1 exited with $STATUS, not by SIGKILL (137)"

# ---------------------------------------------------------------------
# 2. The broker restarts; the workers come back

say "step 2: broker restart"
kill -TERM "${PID[broker]}"
reap broker
[ "$STATUS" = 0 ] || fail "broker exited with $STATUS on SIGTERM"
start_broker broker-restarted.log
client --tag restart --jobs 4000 --expect shared=1 --expect solo=1 || fail "step 2"

# ---------------------------------------------------------------------
# 3. A volume loses its only worker

say "step 3: SIGKILL to host3, the only worker of solo"
kill -KILL "${PID[host3]}"
reap host3
client --expect solo=0 --novolume solo || fail "step 3"

# ---------------------------------------------------------------------
# 4. Orderly stop

kill -TERM "${PID[host2]}"
reap host2
[ "$STATUS" = 0 ] || fail "host2 exited with $STATUS on SIGTERM"
kill -TERM "${PID[broker]}"
reap broker
[ "$STATUS" = 0 ] || fail "broker exited with $STATUS on SIGTERM"

FAILED=0
say "PASS in $((SECONDS - START_S)) s"
