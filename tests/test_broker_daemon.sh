#!/usr/bin/env bash
# test_broker_daemon.sh BROKER ZAIO VERSION: zaio-broker's command line,
# config file and logs. -V/--version; the short options of the shared
# table (-R root, -C config, -b, -e, -w) and the old letters refused (-r,
# -c, -v); a config file's unknown key (named, with its line), bad value
# and missing file each stop the start with exit 1 and a readable
# message; --log-format text and json (every line parsed), from the
# command line or the file (the command line wins); refused requests
# logged with the client as peer.
trap 'echo "FAIL: test_broker_daemon.sh line $LINENO: $BASH_COMMAND" >&2' ERR
BROKER=$1
ZAIO=$2
VERSION=$3
. "$(dirname "$0")/test_daemon_lib.sh"

# Version, both spellings.
[ "$("$BROKER" --version)" = "zaio-broker $VERSION" ] || fail "--version: $("$BROKER" --version)"
[ "$("$BROKER" -V)" = "zaio-broker $VERSION" ] || fail "-V: $("$BROKER" -V)"
usage=$("$BROKER" --help)
grep -q -- "-R, --root DIR" <<< "$usage" || fail "--help lacks -R, --root"
grep -q -- "^      --verbose" <<< "$usage" || fail "--help: --verbose is not long only"

# Letters that meant something else before issue 21 are gone.
expect_exit 2 "invalid option -- 'r'" -- "$BROKER" -r "$WORK/root"
expect_exit 2 "invalid option -- 'c'" -- "$BROKER" -c "$WORK/x.cfg"
expect_exit 2 "invalid option -- 'v'" -- "$BROKER" -v
expect_exit 2 "--log-format is text or json, not 'xml'" -- "$BROKER" --log-format xml

# Config files that stop the start: exit 1, the key and its line named.
printf 'broker\n    root = %s\n\n    # typo below\n    wrokers = 2\n' "$WORK/root" > "$WORK/typo.cfg"
expect_exit 1 "ERROR zaio-broker config: $WORK/typo.cfg:5: unknown key 'broker/wrokers'" \
    -- "$BROKER" -C "$WORK/typo.cfg"
grep -q "ERROR zaio-broker daemon: not started: bad config file $WORK/typo.cfg" "$WORK/expect.err" \
    || fail "no closing line"
# Every form getopt_long takes names the file: a shortened --config, and
# -C glued to its value.
for form in "--conf=$WORK/typo.cfg" "-C$WORK/typo.cfg"; do
    expect_exit 1 "typo.cfg:5: unknown key 'broker/wrokers'" -- "$BROKER" "$form"
done
# In json, every line of a daemon that does not start is JSON, czmq's
# own too (a file zconfig cannot read: an unclosed quote).
printf 'broker\n    root = "unclosed\n' > "$WORK/quote.cfg"
expect_exit 1 "cannot load $WORK/quote.cfg: not a ZPL file" -- "$BROKER" --log-format json -C "$WORK/quote.cfg"
check_log_lines "$WORK/expect.err" json zaio-broker > /dev/null || fail "json: $(cat "$WORK/expect.err")"
printf 'broker\n  name = x\n' > "$WORK/indent.cfg"
expect_exit 1 "indent.cfg:2: indented by 2 spaces: ZPL indents by 4" -- "$BROKER" -C "$WORK/indent.cfg"
printf 'broker\n    workers = many\n' > "$WORK/value.cfg"
expect_exit 1 "config: broker/workers = 'many' is not a number in 0..1024" \
    -- "$BROKER" --config "$WORK/value.cfg"
expect_exit 1 "config: cannot read $WORK/missing.cfg: No such file or directory" \
    -- "$BROKER" --config "$WORK/missing.cfg"
printf 'broker\n    log_format = yaml\n' > "$WORK/format.cfg"
expect_exit 1 "broker/log_format = 'yaml' is not text or json" -- "$BROKER" -C "$WORK/format.cfg"
# A broker that refuses to start logs in the format asked for.
expect_exit 1 '^\{"ts":"[^"]*","level":"ERROR","program":"zaio-broker","component":"config","msg":".*typo.cfg:5: unknown key' \
    -- "$BROKER" --log-format json -C "$WORK/typo.cfg"

# The short options start a broker: the file gives the endpoints, the
# flags the root and threads.
cat > "$WORK/ok.cfg" << CFG
broker
    bind
        ipc = ipc://$WORK/b.ipc
    events
        ipc = ipc://$WORK/e.ipc
    log_format = json
CFG
start_daemon broker -- "$BROKER" -C "$WORK/ok.cfg" -R "$WORK/short-root" -w 1
[ -d "$WORK/short-root" ] || fail "-R did not make the root"
grep -qx "client ipc://$WORK/b.ipc" "$WORK/broker.lines" || fail "endpoints: $(cat "$WORK/broker.lines")"
export ZAIO_ENDPOINT="ipc://$WORK/b.ipc"
# Refused requests: volumes nobody serves. Each is logged as a sample
# line naming the client (its routing id, in hex) as peer.
for i in 1 2 3; do "$ZAIO" --volume nosuch stat x > /dev/null 2>&1 || true; done
stop_daemon broker
[ "$(cat "$WORK/broker.status")" = 0 ] || fail "SIGTERM: exit $(cat "$WORK/broker.status")"
peers=$(check_log_lines "$WORK/broker.err" json zaio-broker) || fail "json log: $(cat "$WORK/broker.err")"
[ "${peers:-0}" -ge 1 ] || fail "no json line with a peer: $(cat "$WORK/broker.err")"
grep -q '"level":"INFO","program":"zaio-broker","component":"broker","peer":"[0-9A-F]*","msg":"request [0-9]* refused NOVOLUME: ' \
    "$WORK/broker.err" || fail "no refusal line: $(cat "$WORK/broker.err")"

# The command line's --log-format wins over the file's; text lines.
start_daemon broker -- "$BROKER" -C "$WORK/ok.cfg" -R "$WORK/short-root" -w 1 --log-format text
"$ZAIO" --volume nosuch stat x > /dev/null 2>&1 || true
stop_daemon broker
peers=$(check_log_lines "$WORK/broker.err" text zaio-broker) || fail "text log: $(cat "$WORK/broker.err")"
[ "${peers:-0}" -ge 1 ] || fail "no text line with a peer"
grep -Eq '^[0-9T:.-]+Z INFO zaio-broker broker \[[0-9A-F]+\]: request [0-9]+ refused NOVOLUME: ' \
    "$WORK/broker.err" || fail "no text refusal line: $(cat "$WORK/broker.err")"

if [ "$FAILS" -ne 0 ]; then
    echo "test_broker_daemon.sh: $FAILS failures" >&2
    exit 1
fi
echo "test_broker_daemon.sh: OK"
