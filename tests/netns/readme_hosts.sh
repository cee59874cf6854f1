#!/usr/bin/env bash
# tests/netns/readme_hosts.sh SECTION README BINDIR...: runs the shell
# blocks of one section of README.md ("Running on several hosts",
# "Security") exactly as written, each on the host its comment names, on
# hosts made of network namespaces.
#
#   hostA  10.241.78.1   (a bridge; "hostA" resolves to it on every host)
#   hostB  10.241.78.2, hostC 10.241.78.3, hostD 10.241.78.4
#   "admin machine" lines run on hostD.
#
# A block is split at its comment lines "# host X: ..." and
# "# admin machine: ...". The hosts share one file system, as if every copy
# the README asks for had been made; /etc/zaio, /srv, /mnt and /data are
# fresh tmpfs mounts in a mount namespace of this test, so the machine's
# own are not touched, and the storage the README's workers serve
# (/mnt/shared/photos, /data/archive) is made there first. Each line runs as written, with three readings:
#   - zaio-broker and zaio-worker lines start in the background (a user
#     would give each a terminal), and the test waits for their "ready";
#   - a line whose comment says "fails: NAME" must exit non-zero and say
#     NAME;
#   - before hostD's client lines, the test waits until the broker serves
#     every volume the workers announced (hello), so a worker's READY
#     still on its way is not a failure.
# BINDIR... hold zaio, zaio-broker and zaio-worker; they go first in PATH.
# Needs root; without it prints SKIPPED and exits 77.
set -euo pipefail

USAGE="usage: readme_hosts.sh SECTION README BINDIR..."
SECTION=${1:?$USAGE}
README=${2:?$USAGE}
shift 2
skip () { echo "SKIPPED: readme_hosts ($SECTION): $*"; exit 77; }
fail () { echo "readme_hosts ($SECTION): FAIL: $*" >&2; exit 1; }
say () { echo "readme_hosts ($SECTION): $*"; }

[ "$(id -u)" = 0 ] || skip "needs root for namespaces and mounts"
command -v ip > /dev/null && command -v unshare > /dev/null || skip "ip or unshare missing"

# Into a mount namespace of our own first, where these are private tmpfs
# mounts (made on the machine only if missing, and removed after).
MOUNTS=(/etc/zaio /srv /mnt /data)
if [ -z "${ZAIO_README_INNER:-}" ]; then
    created=()
    for dir in "${MOUNTS[@]}"; do
        [ -d "$dir" ] || { mkdir "$dir"; created+=("$dir"); }
    done
    status=0
    ZAIO_README_INNER=1 unshare --mount --propagation private \
        bash "$0" "$SECTION" "$README" "$@" || status=$?
    for dir in "${created[@]}"; do rmdir "$dir" 2> /dev/null || true; done
    exit "$status"
fi
for dir in "${MOUNTS[@]}"; do mount -t tmpfs zaio-readme "$dir"; done
mkdir -p /mnt/shared/photos /data/archive

BIN=$(mktemp -d /tmp/zaio-readme-bin.XXXXXX)
for dir in "$@"; do
    for tool in zaio zaio-broker zaio-worker; do
        [ -x "$dir/$tool" ] && ln -sf "$(cd "$dir" && pwd)/$tool" "$BIN/$tool"
    done
done
for tool in zaio zaio-broker zaio-worker; do
    [ -x "$BIN/$tool" ] || fail "$tool not found in $*"
done
export PATH="$BIN:$PATH"

T=$(mktemp -d /tmp/zaio-readme.XXXXXX)
PREFIX="zaiordm$$"
NET=10.241.78
declare -A ADDR=([A]=$NET.1 [B]=$NET.2 [C]=$NET.3 [D]=$NET.4)
CREATED=()
FAILED=1

cleanup () {
    local status=$?
    [ -f "$T/pids" ] && while read -r pid; do kill -TERM "$pid" 2> /dev/null || true; done < "$T/pids"
    sleep 0.2
    [ -f "$T/pids" ] && while read -r pid; do kill -KILL "$pid" 2> /dev/null || true; done < "$T/pids"
    for host in "${CREATED[@]}"; do
        ip netns del "$PREFIX-$host" 2> /dev/null || true
        rm -rf "/etc/netns/$PREFIX-$host"
    done
    if [ "$FAILED" = 1 ]; then
        for log in "$T"/*.log "$T"/*.out; do
            [ -f "$log" ] || continue
            echo "---- $(basename "$log") (last 20 lines)" >&2
            tail -n 20 "$log" >&2
        done
    fi
    rm -rf "$T" "$BIN"
    exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------------
# Hosts (tests/netns/hosts.sh); /etc/netns/NS/hosts is what ip netns exec
# shows as /etc/hosts there.

. "$(dirname "$0")/hosts.sh"
netns_hosts "$PREFIX" A ADDR B C D || skip "cannot create network namespaces here"
for host in A B C D; do
    mkdir -p "/etc/netns/$PREFIX-$host"
    {
        echo "127.0.0.1 localhost"
        for name in A B C D; do echo "${ADDR[$name]} host$name"; done
    } > "/etc/netns/$PREFIX-$host/hosts"
done

# ---------------------------------------------------------------------
# The README's blocks, cut into (host, lines) segments

awk -v section="## $SECTION" '$0 == section { in_section = 1; next }
     /^## / { in_section = 0 }
     in_section && /^```sh$/ { in_block = 1; print "#BLOCK"; next }
     in_section && in_block && /^```$/ { in_block = 0; next }
     in_section && in_block { print }' "$README" > "$T/blocks"
[ -s "$T/blocks" ] || fail "no shell blocks in the section $SECTION of $README"

# The prelude of every segment's script: how daemons start and how a
# command that must fail is checked.
cat > "$T/prelude" << 'PRELUDE'
set -euo pipefail
[ -f "$ZAIO_ENV" ] && . "$ZAIO_ENV"
daemon () {
    local log=$1; shift
    "$@" > "$log" 2>&1 &
    echo $! >> "$ZAIO_PIDS"
    local deadline=$((SECONDS + 30))
    until grep -qx ready "$log" 2> /dev/null; do
        kill -0 "$!" 2> /dev/null || { echo "exited before ready: $*" >&2; cat "$log" >&2; exit 1; }
        [ "$SECONDS" -lt "$deadline" ] || { echo "not ready within 30 s: $*" >&2; exit 1; }
        sleep 0.05
    done
}
must_fail () {
    local word=$1; shift
    if "$@" > "$ZAIO_OUT" 2>&1; then echo "succeeded, should fail with $word: $*" >&2; exit 1; fi
    grep -q "$word" "$ZAIO_OUT" || { echo "no $word from: $*" >&2; cat "$ZAIO_OUT" >&2; exit 1; }
}
PRELUDE

SEGMENT=0
HOST=""
VOLUMES=() # announced by the workers started so far
SERVED=1   # the broker serves all of them

# run_segment: runs $T/segment on $HOST.
run_segment () {
    [ -s "$T/segment.body" ] || return 0
    SEGMENT=$((SEGMENT + 1))
    #  Client commands wait for the workers started before them.
    if [ "$HOST" = D ] && [ "$SERVED" = 0 ] && grep -qv '^daemon ' "$T/segment.body"; then
        wait_served
    fi
    #  What a segment exports stays for the host's next one, as in the
    #  terminal of a user who reads on.
    { cat "$T/prelude" "$T/segment.body"; echo "export -p | grep ' ZAIO_' > \"\$ZAIO_ENV\" || true"; } \
        > "$T/segment$SEGMENT.sh"
    say "segment $SEGMENT on host$HOST"
    ip netns exec "$PREFIX-$HOST" env ZAIO_PIDS="$T/pids" ZAIO_OUT="$T/segment$SEGMENT.out" \
        ZAIO_ENV="$T/env.$HOST" \
        bash "$T/segment$SEGMENT.sh" > "$T/segment$SEGMENT.log" 2>&1 \
        || fail "segment $SEGMENT on host$HOST: $(tail -n 5 "$T/segment$SEGMENT.log")"
    : > "$T/segment.body"
}

# Waits (from hostD, with the first client key the README made, if it
# made keys) until the broker's hello lists every volume announced so far.
wait_served () {
    local deadline=$((SECONDS + 20)) volume missing curve=()
    [ -f keys/alice_secret ] && curve=(--curve-server keys/broker --curve-cert keys/alice_secret)
    while :; do
        ip netns exec "$PREFIX-D" zaio --connect tcp://hostA:5670 "${curve[@]}" hello \
            > "$T/hello.out" 2>&1 || true
        missing=""
        for volume in "${VOLUMES[@]}"; do grep -q "$volume" "$T/hello.out" || missing=$volume; done
        if [ -z "$missing" ]; then
            SERVED=1
            return 0
        fi
        [ "$SECONDS" -lt "$deadline" ] || fail "volume $missing not served within 20 s"
        sleep 0.1
    done
}

cd "$T"
: > "$T/segment.body"
volume_re='--volume ([a-z]+)='
heredoc_re="<<'([A-Z]+)'"
in_heredoc=""
while IFS= read -r line; do
    if [ -n "$in_heredoc" ]; then
        printf '%s\n' "$line" >> "$T/segment.body"
        [ "$line" = "$in_heredoc" ] && in_heredoc=""
        continue
    fi
    case "$line" in
        "#BLOCK") run_segment ;;
        "# host "?:*)
            run_segment
            HOST=${line:7:1}
            ;;
        "# admin machine:"*)
            run_segment
            HOST=D
            ;;
        "#"* | "") ;;
        zaio-broker* | zaio-worker*)
            [ -n "$HOST" ] || fail "a command before any host comment: $line"
            printf 'daemon %s %s\n' "$T/daemon$SEGMENT-$RANDOM.log" "$line" >> "$T/segment.body"
            if [[ "$line" =~ $volume_re ]]; then
                VOLUMES+=("${BASH_REMATCH[1]}")
                SERVED=0
            fi
            ;;
        *"# fails: "*)
            word=${line##*# fails: }
            word=${word%%[ ,]*}
            printf 'must_fail %s %s\n' "$word" "${line%%#*}" >> "$T/segment.body"
            ;;
        *)
            [ -n "$HOST" ] || fail "a command before any host comment: $line"
            printf '%s\n' "$line" >> "$T/segment.body"
            if [[ "$line" =~ $heredoc_re ]]; then in_heredoc=${BASH_REMATCH[1]}; fi
            ;;
    esac
done < "$T/blocks"
run_segment

# What the commands did, seen from outside.
case "$SECTION" in
    Security)
        cmp -s /etc/hostname /srv/photos/hostname.txt || fail "alice's put did not reach host B"
        ;;
    "Running on several hosts")
        [ -d /mnt/shared/photos/2024 ] || fail "the client's mkdir did not reach the shared storage"
        ;;
esac
FAILED=0
say "PASS: $SEGMENT segments"
