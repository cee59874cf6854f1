#!/usr/bin/env bash
# Reruns the JeroMQ handshake-stall experiment of README.md (beside this file).
#
#   tests/java/run.sh [MODE...]     MODE: stock broker-ivl client-ivl patched
#                                   (all four if none)
#
# Needs java/javac (Debian: default-jdk-headless), cc, curl, and a built
# zaio-broker (ZAIO_BROKER, default build/broker/zaio-broker). Each mode starts
# its own broker on an ephemeral loopback port and runs ROUNDS (5) fresh JVMs
# of COUNT (40) connections each. CAPTURE=1 also records a pcap per mode with
# tcpdump (needs root). Work files go to WORK (default a new /tmp directory).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
broker=${ZAIO_BROKER:-$repo/build/broker/zaio-broker}
work=${WORK:-$(mktemp -d /tmp/zaio-java.XXXXXX)}
count=${COUNT:-40}
rounds=${ROUNDS:-5}
maven=https://repo1.maven.org/maven2/org/zeromq/jeromq/0.6.0
jar_sha1=95a6e9e71ef50f5cb023fe01dad748c3174ad7eb
modes=("$@")
[ ${#modes[@]} -gt 0 ] || modes=(stock broker-ivl client-ivl patched)
mkdir -p "$work"
cd "$work"
echo "run.sh: work files in $work"

# JeroMQ 0.6.0 from Maven Central, its sources for the patched Poller.
[ -f jeromq-0.6.0.jar ] || curl -sSfL -o jeromq-0.6.0.jar $maven/jeromq-0.6.0.jar
echo "$jar_sha1  jeromq-0.6.0.jar" | sha1sum -c --quiet
[ -f jeromq-0.6.0-sources.jar ] || curl -sSfL -o jeromq-0.6.0-sources.jar $maven/jeromq-0.6.0-sources.jar
rm -rf patched-src && mkdir -p patched-src classes patched-classes
(cd patched-src && unzip -q ../jeromq-0.6.0-sources.jar zmq/poll/Poller.java &&
    patch -s -p1 < "$here/jeromq-0.6.0-poller.patch")
javac -nowarn -cp jeromq-0.6.0.jar -d classes "$here/ZaioHandshakeProbe.java" 2>&1 | grep -v '^Note' || true
javac -nowarn -cp jeromq-0.6.0.jar -d patched-classes patched-src/zmq/poll/Poller.java 2>&1 | grep -v '^Note' || true
cc -shared -fPIC -o handshake_ivl_preload.so "$here/handshake_ivl_preload.c" -ldl

broker_pid=
capture_pid=
stop() {
    [ -z "$capture_pid" ] || { kill -INT "$capture_pid" 2>/dev/null || true; wait "$capture_pid" 2>/dev/null || true; }
    [ -z "$broker_pid" ] || { kill "$broker_pid" 2>/dev/null || true; wait "$broker_pid" 2>/dev/null || true; }
    broker_pid= capture_pid=
}
trap stop EXIT

# start_broker NAME [ENV...]: a broker on an ephemeral port; sets endpoint.
start_broker() {
    local name=$1; shift
    mkdir -p "root-$name"
    env "$@" "$broker" --root "root-$name" --bind 'tcp://127.0.0.1:*' --events 'tcp://127.0.0.1:*' \
        --workers 2 > "broker-$name.out" 2> "broker-$name.err" &
    broker_pid=$!
    for _ in $(seq 100); do grep -qx ready "broker-$name.out" 2>/dev/null && break; sleep 0.1; done
    endpoint=$(sed -n 's/^client //p' "broker-$name.out")
    [ -n "$endpoint" ] || { echo "run.sh: broker did not start" >&2; exit 1; }
    if [ "${CAPTURE:-0}" = 1 ]; then
        tcpdump -i lo -nn -s 256 -w "capture-$name.pcap" "tcp port ${endpoint##*:}" 2> /dev/null &
        capture_pid=$!
        sleep 1
    fi
}

# probe NAME CLASSPATH [CLIENT_HANDSHAKE_MS]: ROUNDS fresh JVMs.
probe() {
    local name=$1 classpath=$2 client_ms=${3:-}
    for round in $(seq "$rounds"); do
        java -cp "$classpath" ZaioHandshakeProbe "$endpoint" "$count" 40000 $client_ms \
            > "probe-$name-$round.txt"
    done
    local total stalled worst
    total=$(cat probe-"$name"-*.txt | grep -c '^conn')
    stalled=$(cat probe-"$name"-*.txt | grep -c 'DISCONNECTED' || true)
    worst=$(cat probe-"$name"-*.txt | sed -n 's/.*max \([0-9]*\) ms$/\1/p' | sort -n | tail -1)
    printf '%-11s %4d connections, %3d stalled until a handshake timeout, slowest first reply %6d ms\n' \
        "$name" "$total" "$stalled" "$worst"
}

for mode in "${modes[@]}"; do
    case $mode in
    stock) start_broker stock; probe stock "jeromq-0.6.0.jar:classes" ;;
    broker-ivl)
        start_broker broker-ivl ZAIO_HANDSHAKE_MS=5000 LD_PRELOAD="$work/handshake_ivl_preload.so"
        probe broker-ivl "jeromq-0.6.0.jar:classes" ;;
    client-ivl)
        start_broker client-ivl ZAIO_HANDSHAKE_MS=5000 LD_PRELOAD="$work/handshake_ivl_preload.so"
        probe client-ivl "jeromq-0.6.0.jar:classes" 2000 ;;
    patched) start_broker patched; probe patched "patched-classes:jeromq-0.6.0.jar:classes" ;;
    *) echo "run.sh: unknown mode $mode" >&2; exit 2 ;;
    esac
    stop
done
