#!/usr/bin/env bash
# test_broker_service.sh SOURCE BUILD: the service files of dist/.
#   - cmake --install into a temporary prefix puts the systemd units in
#     <prefix>/lib/systemd/system, their ExecStart and config naming the
#     install's paths; the example configs in share/doc/zaio/examples and
#     <prefix>/etc/zaio; a config an admin edited is kept on reinstall;
#     ZAIO_SYSTEMD_UNIT_DIR puts the units elsewhere;
#   - systemd-analyze verify passes on the installed units (and fails on
#     one whose ExecStart is missing, so it is really checking);
#   - sd_notify: with NOTIFY_SOCKET on a datagram socket this script
#     binds, READY=1 comes once the broker answers, STOPPING=1 after
#     SIGTERM; the same for zaio-worker;
#   - both daemons start from the example configs as installed, with only
#     the paths and ports the files say an admin sets changed, serve a
#     volume together, and do so again with every commented default
#     turned on; every key the daemons know is in their example.
trap 'echo "FAIL: test_broker_service.sh line $LINENO: $BASH_COMMAND" >&2' ERR
SOURCE=$1
BUILD=$2
. "$(dirname "$0")/test_daemon_lib.sh"
P=$WORK/prefix
#  The client: the build's (the installed daemons are what is tested).
ZAIO=$BUILD/bindings/c/zaio

command -v systemd-analyze > /dev/null \
    || die "systemd-analyze is missing: install Debian's package systemd (scripts/deps does)"

cmake --install "$BUILD" --prefix "$P" > "$WORK/install.log" 2>&1 \
    || die "cmake --install failed: $(tail -20 "$WORK/install.log")"
UNITS=$P/lib/systemd/system
for file in "$UNITS/zaio-broker.service" "$UNITS/zaio-worker.service" \
    "$P/etc/zaio/zaio-broker.cfg" "$P/etc/zaio/zaio-worker.cfg" \
    "$P/share/doc/zaio/examples/zaio-broker.cfg" "$P/share/doc/zaio/examples/zaio-worker.cfg"; do
    [ -f "$file" ] || die "not installed: $file"
done
grep -qx "ExecStart=$P/bin/zaio-broker --config $P/etc/zaio/zaio-broker.cfg" "$UNITS/zaio-broker.service" \
    || fail "broker unit: $(grep ExecStart "$UNITS/zaio-broker.service")"
grep -qx "ExecStart=$P/bin/zaio-worker --config $P/etc/zaio/zaio-worker.cfg" "$UNITS/zaio-worker.service" \
    || fail "worker unit: $(grep ExecStart "$UNITS/zaio-worker.service")"
for key in Type=notify RuntimeDirectory=zaio; do
    grep -qx "$key" "$UNITS/zaio-broker.service" || fail "broker unit lacks $key"
done
grep -qx Type=notify "$UNITS/zaio-worker.service" || fail "worker unit lacks Type=notify"
grep -q "^RuntimeDirectory=" "$UNITS/zaio-worker.service" \
    && fail "worker unit has a RuntimeDirectory: stopping it would remove the broker's /run/zaio"
cmp -s "$SOURCE/dist/config/zaio-broker.cfg" "$P/etc/zaio/zaio-broker.cfg" || fail "etc config differs"

# systemd-analyze verify: the units as installed. It runs their
# Documentation= through man: the install's man pages (INSTALL puts them
# in share/man), else the source tree's.
MANDIR=$P/share/man
if [ ! -f "$MANDIR/man8/zaio-broker.8" ]; then
    MANDIR=$WORK/man
    mkdir -p "$MANDIR/man8"
    cp "$SOURCE/docs/man/zaio-broker.8" "$SOURCE/docs/man/zaio-worker.8" "$MANDIR/man8/"
    echo "test_broker_service: man pages from the source tree (the install has none)"
fi
status=0
MANPATH=$MANDIR systemd-analyze verify "$UNITS/zaio-broker.service" "$UNITS/zaio-worker.service" \
    > "$WORK/verify.out" 2>&1 || status=$?
[ $status = 0 ] && [ ! -s "$WORK/verify.out" ] \
    || fail "systemd-analyze verify: exit $status: $(cat "$WORK/verify.out")"
mkdir -p "$WORK/broken"
sed "s|^ExecStart=$P/bin/zaio-broker|ExecStart=$P/bin/no-such-broker|" "$UNITS/zaio-broker.service" \
    > "$WORK/broken/zaio-broker.service"
status=0
MANPATH=$MANDIR systemd-analyze verify "$WORK/broken/zaio-broker.service" > "$WORK/verify.out" 2>&1 \
    || status=$?
[ $status != 0 ] && grep -q "no-such-broker" "$WORK/verify.out" \
    || fail "systemd-analyze verify passed a unit without its binary (exit $status): $(cat "$WORK/verify.out")"

# A reinstall keeps the config an admin edited (and says so).
echo "# edited by the admin" >> "$P/etc/zaio/zaio-broker.cfg"
cmake --install "$BUILD" --prefix "$P" > "$WORK/install.log" 2>&1
grep -q "edited by the admin" "$P/etc/zaio/zaio-broker.cfg" || fail "reinstall replaced an edited config"
grep -q "Kept: $P/etc/zaio/zaio-broker.cfg" "$WORK/install.log" || fail "reinstall did not say it kept it"
cp "$SOURCE/dist/config/zaio-broker.cfg" "$P/etc/zaio/zaio-broker.cfg"

# ZAIO_SYSTEMD_UNIT_DIR, in a build of its own (configured only: the
# component "service" needs nothing built).
cmake -S "$SOURCE" -B "$WORK/build2" -DZAIO_BUILD_TESTS=OFF -DCMAKE_INSTALL_PREFIX="$WORK/p2" \
    -DZAIO_SYSTEMD_UNIT_DIR="$WORK/units" > "$WORK/configure.log" 2>&1 \
    || die "configure: $(tail -20 "$WORK/configure.log")"
cmake --install "$WORK/build2" --component service > "$WORK/install2.log" 2>&1 \
    || die "install --component service: $(tail "$WORK/install2.log")"
[ -f "$WORK/units/zaio-broker.service" ] && [ -f "$WORK/units/zaio-worker.service" ] \
    || fail "ZAIO_SYSTEMD_UNIT_DIR: units not in $WORK/units: $(cat "$WORK/install2.log")"
[ ! -e "$WORK/p2/lib/systemd" ] || fail "ZAIO_SYSTEMD_UNIT_DIR: units under the prefix too"
grep -qx "ExecStart=$WORK/p2/bin/zaio-broker --config $WORK/p2/etc/zaio/zaio-broker.cfg" \
    "$WORK/units/zaio-broker.service" || fail "p2 unit: $(grep ExecStart "$WORK/units/zaio-broker.service")"

# The example configs as an admin on this machine would set them: paths
# and ports (the lines their comments say an admin sets), nothing else.
mkdir -p "$WORK/run" "$WORK/lib" "$WORK/srv/data"
admin () {
    sed -e "s|/run/zaio/|$WORK/run/|" -e "s|/var/lib/zaio/|$WORK/lib/|" -e "s|/srv/zaio/|$WORK/srv/|" \
        -e "s|tcp://127.0.0.1:567[0-9]|tcp://127.0.0.1:*|" "$1"
}
admin "$P/etc/zaio/zaio-broker.cfg" > "$WORK/broker.cfg"
admin "$P/etc/zaio/zaio-worker.cfg" > "$WORK/worker.cfg"
diff "$P/etc/zaio/zaio-broker.cfg" "$WORK/broker.cfg" | grep '^>' | grep -vE '(root|ipc|tcp) = ' \
    && fail "the admin's edit changed more than paths and ports"
export ZAIO_ENDPOINT="ipc://$WORK/run/zaio.ipc"

# notify_listen NAME: a datagram socket at $WORK/NAME.sock that prints
# every message it gets (newlines as " | ") on the fifo $WORK/NAME.notify,
# opened on fd 9; stopped as a daemon is (stop_daemon notify-NAME).
notify_listen () {
    rm -f "$WORK/$1.sock" "$WORK/$1.notify"
    mkfifo "$WORK/$1.notify"
    python3 -u - "$WORK/$1.sock" > "$WORK/$1.notify" << 'PY' &
import socket, sys
sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
sock.bind(sys.argv[1])
print("listening")
sock.settimeout(60)
try:
    while True:
        print(sock.recv(4096).decode().replace("\n", " | "))
except socket.timeout:
    pass
PY
    DAEMON_PIDS[notify-$1]=$!
    exec 9< "$WORK/$1.notify"
    local line
    read -r -t 10 line <&9 && [ "$line" = listening ] || die "notify listener did not start"
}

# notify_expect WHAT: the next message on fd 9, within 10 s, holds WHAT.
notify_expect () {
    local line
    read -r -t 10 line <&9 || { fail "no sd_notify message with $1"; return 1; }
    [[ "$line" == *"$1"* ]] || { fail "sd_notify sent '$line', not $1"; return 1; }
    echo "$line"
}

# The broker: READY=1 when it answers, STOPPING=1 at SIGTERM.
notify_listen broker
NOTIFY_SOCKET=$WORK/broker.sock "$P/bin/zaio-broker" --config "$WORK/broker.cfg" \
    > "$WORK/broker.out" 2> "$WORK/broker.err" &
DAEMON_PIDS[broker]=$!
said=$(notify_expect READY=1) || die "broker: $(cat "$WORK/broker.err")"
[[ "$said" == *"MAINPID=${DAEMON_PIDS[broker]}"* ]] || fail "READY without the broker's MAINPID: $said"
"$ZAIO" hello > /dev/null || fail "READY=1 came before the broker answered hello"
grep -qx ready "$WORK/broker.out" || fail "READY=1 before the 'ready' line"
kill -TERM "${DAEMON_PIDS[broker]}"
notify_expect STOPPING=1 > /dev/null || true
stop_daemon broker
[ "$(cat "$WORK/broker.status")" = 0 ] || fail "broker exit $(cat "$WORK/broker.status") at SIGTERM"
exec 9<&-
stop_daemon notify-broker

# Both from the example configs: the worker connects to the broker's
# ipc worker endpoint and serves volume data from $WORK/srv/data.
start_daemon broker -- "$P/bin/zaio-broker" -C "$WORK/broker.cfg"
[ -d "$WORK/lib/root" ] || fail "the broker made no root at $WORK/lib/root"
notify_listen worker
NOTIFY_SOCKET=$WORK/worker.sock "$P/bin/zaio-worker" --config "$WORK/worker.cfg" \
    > "$WORK/worker.out" 2> "$WORK/worker.err" &
DAEMON_PIDS[worker]=$!
notify_expect READY=1 > /dev/null || die "worker: $(cat "$WORK/worker.err")"
echo "from the example configs" > "$WORK/hello.txt"
tries=0
until "$ZAIO" --volume data ping > /dev/null 2>&1; do
    tries=$((tries + 1))
    [ $tries -lt 1000 ] || die "volume data not served: $(cat "$WORK/worker.err" "$WORK/broker.err")"
    sleep 0.01
done
"$ZAIO" --volume data put "$WORK/hello.txt" hello.txt > /dev/null
cmp -s "$WORK/hello.txt" "$WORK/srv/data/hello.txt" || fail "put did not reach $WORK/srv/data"
kill -TERM "${DAEMON_PIDS[worker]}"
notify_expect STOPPING=1 > /dev/null || true
stop_daemon worker
[ "$(cat "$WORK/worker.status")" = 0 ] || fail "worker exit $(cat "$WORK/worker.status") at SIGTERM"
exec 9<&-
stop_daemon notify-worker
stop_daemon broker

# Every commented default turned on ("# key = value" -> "key = value"):
# every key known, every default valid.
on () { sed 's/^\( *\)# \([a-z_]* = \)/\1\2/' "$1"; }
on "$WORK/broker.cfg" > "$WORK/broker-defaults.cfg"
on "$WORK/worker.cfg" > "$WORK/worker-defaults.cfg"
[ "$(grep -c ' = ' "$WORK/broker-defaults.cfg")" -gt 30 ] || fail "few defaults turned on in the broker's"
start_daemon broker -- "$P/bin/zaio-broker" -C "$WORK/broker-defaults.cfg"
start_daemon worker -- "$P/bin/zaio-worker" -C "$WORK/worker-defaults.cfg"
tries=0
until "$ZAIO" --volume data cat hello.txt > /dev/null 2>&1; do
    tries=$((tries + 1))
    [ $tries -lt 1000 ] || die "defaults on: data not served: $(cat "$WORK/worker.err")"
    sleep 0.01
done
stop_daemon worker
stop_daemon broker

# Every key the daemons know is shown in their example (as a setting or,
# for those without a default, in its comment).
keys () { sed -n '/s_known_keys\[\] = {/,/NULL};/p' "$1" | grep -o "\"$2/[a-z_]*" | sed "s|\"$2/||"; }
for key in $(keys "$SOURCE/broker/zaio_broker_config.c" broker); do
    grep -Eq "^ *(# *)?$key( = |$)" "$SOURCE/dist/config/zaio-broker.cfg" \
        || fail "zaio-broker.cfg does not show key $key"
done
for key in $(keys "$SOURCE/workers/zaio_worker_main.c" worker); do
    grep -Eq "^ *(# *)?$key( = |$)" "$SOURCE/dist/config/zaio-worker.cfg" \
        || fail "zaio-worker.cfg does not show key $key"
done
[ "$(keys "$SOURCE/broker/zaio_broker_config.c" broker | wc -l)" -gt 30 ] || fail "broker keys not found"

# The man pages: every long option of --help and every config key is in
# them, and man renders them without a warning.
for daemon in broker worker; do
    page=$SOURCE/docs/man/zaio-$daemon.8
    warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 > /dev/null) || true
    [ -z "$warnings" ] || fail "man zaio-$daemon.8: $warnings"
    for option in $("$P/bin/zaio-$daemon" --help | grep -o -- '--[a-z-]*' | sort -u); do
        grep -qF -- "${option//-/\\-}" "$page" || fail "zaio-$daemon.8 lacks $option"
    done
done
for key in $(keys "$SOURCE/broker/zaio_broker_config.c" broker) grants; do
    grep -qE "(^|[ \"])$key([ ,\"]|$)" "$SOURCE/docs/man/zaio-broker.8" || fail "zaio-broker.8 lacks key $key"
done
for key in $(keys "$SOURCE/workers/zaio_worker_main.c" worker); do
    grep -qE "(^|[ \"])$key([ ,\"]|$)" "$SOURCE/docs/man/zaio-worker.8" || fail "zaio-worker.8 lacks key $key"
done

if [ "$FAILS" -ne 0 ]; then
    echo "test_broker_service.sh: $FAILS failures" >&2
    exit 1
fi
echo "test_broker_service.sh: OK"
