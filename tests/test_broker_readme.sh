#!/usr/bin/env bash
# test_broker_readme.sh SOURCE BUILD: README.md's "Running in production"
# as written. Its systemd commands run exactly as the README gives them,
# with sudo, useradd and systemctl stubbed (they record what they are
# asked) and DESTDIR set, from a directory whose build/ is this build:
# the units and configs land where the README says. Its config examples
# are accepted by the daemons (zaio-broker -C FILE --version: the file is
# read, and refused if bad, before the options); its log lines have the
# daemons' format; its unknown-key message is the broker's.
trap 'echo "FAIL: test_broker_readme.sh line $LINENO: $BASH_COMMAND" >&2' ERR
SOURCE=$1
BUILD=$2
. "$(dirname "$0")/test_daemon_lib.sh"
README=$SOURCE/README.md

# section TITLE: the README's section (## or ###) of that title.
section () {
    awk -v title="$1" '$0 == title { inside = 1; next }
        inside && /^##/ { exit }
        inside { print }' "$README"
}
# blocks LANG: the fenced blocks of stdin whose fence says LANG ("" for
# none), each followed by a line "@@".
blocks () {
    awk -v lang="$1" '!inside && $0 == "```" lang { inside = 1; next }
        inside && $0 == "```" { inside = 0; print "@@"; next }
        inside { print }'
}
section "## Running in production" > "$WORK/production.md"
[ -s "$WORK/production.md" ] || die "no section Running in production"

# The systemd commands, as written.
mkdir -p "$WORK/bin" "$WORK/cwd" "$WORK/dest"
for stub in useradd systemctl; do
    printf '#!/bin/sh\necho "%s $*" >> "%s/calls"\n' "$stub" "$WORK" > "$WORK/bin/$stub"
done
printf '#!/bin/sh\necho "sudo $*" >> "%s/calls"\nexec "$@"\n' "$WORK" > "$WORK/bin/sudo"
chmod +x "$WORK/bin/"*
ln -s "$BUILD" "$WORK/cwd/build"
section "### systemd" > "$WORK/systemd.md"
blocks sh < "$WORK/systemd.md" | sed '/^@@$/d' > "$WORK/systemd.sh"
grep -o '`sudo systemctl enable --now zaio-worker`' "$WORK/systemd.md" | tr -d '`' >> "$WORK/systemd.sh"
[ "$(wc -l < "$WORK/systemd.sh")" -ge 5 ] || die "systemd commands not found: $(cat "$WORK/systemd.sh")"
(cd "$WORK/cwd" && DESTDIR=$WORK/dest PATH=$WORK/bin:$PATH bash -e "$WORK/systemd.sh") \
    > "$WORK/systemd.out" 2>&1 || die "the README's systemd commands failed: $(tail "$WORK/systemd.out")"
prefix=$(sed -n 's/^CMAKE_INSTALL_PREFIX:PATH=//p' "$BUILD/CMakeCache.txt")
sysconf=$prefix/etc
[ "$prefix" = /usr ] && sysconf=/etc
for file in "$prefix/lib/systemd/system/zaio-broker.service" "$prefix/lib/systemd/system/zaio-worker.service" \
    "$sysconf/zaio/zaio-broker.cfg" "$sysconf/zaio/zaio-worker.cfg" "$prefix/bin/zaio-broker"; do
    [ -f "$WORK/dest$file" ] || fail "the README's install put no $file"
done
for call in "useradd --system --user-group --home-dir /var/lib/zaio zaio" "systemctl daemon-reload" \
    "systemctl enable --now zaio-broker" "systemctl enable --now zaio-worker"; do
    grep -qx "$call" "$WORK/calls" || fail "the README's commands did not run '$call': $(cat "$WORK/calls")"
done
grep -q "/usr/local/etc/zaio. for the default prefix" "$WORK/systemd.md" \
    || fail "the README no longer says where the default prefix puts the configs"

# The config examples: each a file the daemon it is for accepts.
section "### Configuration" | blocks "" > "$WORK/config.blocks"
n=0
while IFS= read -r line; do
    if [ "$line" = "@@" ]; then
        n=$((n + 1))
        continue
    fi
    echo "$line" >> "$WORK/block$n"
done < "$WORK/config.blocks"
checked=0
for block in "$WORK"/block*; do
    case "$(head -1 "$block")" in
        broker) daemon=$BUILD/broker/zaio-broker ;;
        worker) daemon=$BUILD/workers/zaio-worker ;;
        *) continue ;;
    esac
    "$daemon" -C "$block" --version > /dev/null 2> "$WORK/block.err" \
        || fail "$(basename "$daemon") refuses the README's example: $(cat "$WORK/block.err")"
    checked=$((checked + 1))
done
[ $checked = 2 ] || fail "$checked config examples, wanted the broker's and the worker's"
# The unknown-key message: the broker's, but for the path and line.
said=$(grep -h "unknown key 'broker/wrokers'" "$WORK"/block* | head -1)
printf 'broker\n    wrokers = 8\n' > "$WORK/typo.cfg"
"$BUILD/broker/zaio-broker" -C "$WORK/typo.cfg" > /dev/null 2> "$WORK/typo.err" && fail "typo accepted"
got=$(head -1 "$WORK/typo.err" | sed "s|$WORK/typo.cfg:2|/etc/zaio/zaio-broker.cfg:47|")
[ "${got#* }" = "${said#* }" ] || fail "README says '${said#* }', the broker '${got#* }'"

# The log examples: the daemons' formats.
section "### Logs" | blocks "" | grep -v '^@@$' > "$WORK/logs.txt"
grep '^{' "$WORK/logs.txt" > "$WORK/logs.json"
grep -v '^{' "$WORK/logs.txt" > "$WORK/logs.text"
[ "$(check_log_lines "$WORK/logs.json" json zaio-broker)" = 1 ] || fail "the README's json line"
[ "$(check_log_lines "$WORK/logs.text" text zaio-broker)" = 2 ] || fail "the README's text lines"

if [ "$FAILS" -ne 0 ]; then
    echo "test_broker_readme.sh: $FAILS failures" >&2
    exit 1
fi
echo "test_broker_readme.sh: OK"
