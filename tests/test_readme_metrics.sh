#!/usr/bin/env bash
# tests/test_readme_metrics.sh README REPO BINDIR...: runs README.md's
# section "Metrics and stats" as written, in a network and mount namespace
# of its own (its fixed ports and the default /tmp sockets are then this
# test's alone: /tmp is a fresh tmpfs there):
#   - ```sh blocks: each line runs in order, from one directory; a
#     zaio-broker line starts in the background and the test waits for its
#     "ready" and for it to serve; a line whose comment says "fails: TEXT"
#     must exit non-zero and print TEXT; every other line must exit 0 (a
#     pipe: every command in it);
#   - the ```yaml block is written as prometheus.yml first (the section
#     says to save it so), for the line that checks it;
#   - the ```python block runs with the package in REPO/bindings/python and
#     /usr/bin/python3, and must exit 0.
# BINDIR... hold zaio, zaio-broker; they go first in PATH. Needs root; else
# prints SKIPPED and exits 77.
set -euo pipefail
README=${1:?usage: test_readme_metrics.sh README REPO BINDIR...}
REPO=${2:?}
shift 2
SECTION="Metrics and stats"
skip () { echo "SKIPPED: test_readme_metrics: $*"; exit 77; }
fail () { echo "test_readme_metrics: FAIL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || skip "needs root for namespaces"
command -v unshare > /dev/null && command -v ip > /dev/null || skip "unshare or ip missing"
for tool in curl promtool; do command -v $tool > /dev/null || fail "$tool missing"; done
if [ -z "${ZAIO_README_METRICS_INNER:-}" ]; then
    # Where the namespace keeps the real /tmp in view (see below).
    hold=$(mktemp -d /var/tmp/zaio-readme-metrics.XXXXXX)
    status=0
    env ZAIO_README_METRICS_INNER=1 ZAIO_README_METRICS_HOLD="$hold" \
        unshare --net --mount --propagation private bash "$0" "$README" "$REPO" "$@" || status=$?
    rmdir "$hold"
    exit $status
fi
ip link set lo up
# A fresh tmpfs on /tmp. What the test runs from under /tmp (a clone built
# there, as CI may make) is bound back in at the same paths, so its
# binaries, their RUNPATH and the repository are found as before.
under_tmp=()
for path in "$README" "$REPO" "$@"; do
    real=$(realpath "$path")
    case $real in /tmp/*) rest=${real#/tmp/}; under_tmp+=("${rest%%/*}") ;; esac
done
mount --bind /tmp "$ZAIO_README_METRICS_HOLD"
mount -t tmpfs zaio-readme-metrics /tmp
for top in "${under_tmp[@]}"; do
    mountpoint -q "/tmp/$top" && continue
    mkdir -p "/tmp/$top"
    mount --bind "$ZAIO_README_METRICS_HOLD/$top" "/tmp/$top"
done

BIN=$(mktemp -d /tmp/bin.XXXXXX)
for dir in "$@"; do
    for tool in zaio zaio-broker; do
        [ -x "$dir/$tool" ] && ln -sf "$(cd "$dir" && pwd)/$tool" "$BIN/$tool"
    done
done
for tool in zaio zaio-broker; do [ -x "$BIN/$tool" ] || fail "$tool not found in $*"; done
export PATH="$BIN:$PATH"
RUN=$(mktemp -d /tmp/run.XXXXXX)
cd "$RUN"
PIDS=()
cleanup () {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2> /dev/null || true; done
    for pid in "${PIDS[@]}"; do wait "$pid" 2> /dev/null || true; done
}
trap cleanup EXIT

# The section's blocks, as "LANG\0CODE\0" pairs.
python3 - "$README" "$SECTION" > "$RUN/blocks" << 'EOF'
import re, sys
text = open(sys.argv[1]).read()
start = text.index("\n### " + sys.argv[2] + "\n")
end = re.search(r"\n#{2,3} ", text[start + 1:])
section = text[start:start + 1 + end.start()] if end else text[start:]
blocks = re.findall(r"^```(\w+)\n(.*?)^```$", section, re.M | re.S)
assert blocks, "no blocks"
for lang, code in blocks:
    sys.stdout.write(lang + "\0" + code + "\0")
EOF

lines=0
run_sh () {
    local line
    while IFS= read -r line; do
        [ -z "$line" ] && continue
        lines=$((lines + 1))
        echo "\$ $line"
        if [[ "$line" =~ \#\ fails:\ (.*)$ ]]; then
            local want=${BASH_REMATCH[1]} status=0
            bash -c "$line" > out 2>&1 || status=$?
            [ $status -ne 0 ] || fail "'$line' succeeded"
            grep -q -- "$want" out || fail "'$line' did not say '$want': $(cat out)"
        elif [[ "$line" == zaio-broker* ]]; then
            bash -c "exec $line" > broker.out 2> broker.err &
            PIDS+=($!)
            local tries=0
            until grep -q '^ready$' broker.out; do
                tries=$((tries + 1))
                [ $tries -lt 1000 ] || fail "'$line' not ready: $(cat broker.err)"
                kill -0 "${PIDS[-1]}" 2> /dev/null || fail "'$line' exited: $(cat broker.err)"
                sleep 0.01
            done
            until zaio ping > /dev/null 2>&1; do
                tries=$((tries + 1))
                [ $tries -lt 2000 ] || fail "'$line' does not serve"
                sleep 0.01
            done
        else
            bash -o pipefail -c "$line" > out 2>&1 || fail "'$line' failed: $(cat out)"
            head -3 out
        fi
    done <<< "$1"
}

yaml=0 python=0
while IFS= read -r -d '' lang && IFS= read -r -d '' code; do
    case $lang in
        sh) run_sh "$code" ;;
        yaml) printf '%s' "$code" > prometheus.yml; yaml=$((yaml + 1)) ;;
        python)
            printf '%s' "$code" > example.py
            PYTHONPATH="$REPO/bindings/python" /usr/bin/python3 example.py > out 2>&1 ||
                fail "the python example failed: $(cat out)"
            cat out
            python=$((python + 1)) ;;
        *) fail "a block in $lang" ;;
    esac
done < "$RUN/blocks"
[ $lines -ge 4 ] && [ $yaml = 1 ] && [ $python = 1 ] ||
    fail "ran $lines lines, $yaml yaml and $python python blocks"
echo "test_readme_metrics: OK ($lines lines, prometheus.yml, the python example)"
