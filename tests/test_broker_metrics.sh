#!/usr/bin/env bash
# test_broker_metrics.sh ZAIO BROKER DASHBOARD: zaio-broker's /metrics
# (--metrics-bind, config broker/metrics_bind), scraped with curl and
# checked with `promtool check metrics`:
#   - the exposition is valid, with the families the README lists, and
#     its counters and histograms move after known jobs (pings, a missing
#     file, a write);
#   - only GET and HEAD of /metrics: 404 for other paths, 405 (with Allow)
#     for other methods;
#   - an address other than loopback is refused (exit 2, saying why)
#     unless --insecure; a port in use is reported (exit 1, EADDRINUSE's
#     text); the config key works like the option;
#   - the Grafana dashboard (DASHBOARD) is valid JSON, and every metric
#     its queries name is one the broker exports.
ZAIO=$1
BROKER=$2
DASHBOARD=$3
. "$(dirname "$0")/test_cli_lib.sh"
command -v curl > /dev/null || { echo "FAIL: curl missing" >&2; exit 1; }
command -v promtool > /dev/null || { echo "FAIL: promtool missing" >&2; exit 1; }

# url: the metrics URL the broker printed before "ready".
url () {
    awk '$1 == "metrics" { print $2 }' "$WORK/broker.lines"
}

# scrape FILE: GET the metrics into FILE; promtool must accept them.
scrape () {
    curl -sSf "$(url)" -o "$1" || fail "GET $(url) failed"
    promtool check metrics < "$1" > "$WORK/promtool.out" 2>&1 ||
        fail "promtool check metrics: $(cat "$WORK/promtool.out")"
}

# value FILE SAMPLE: the value of the sample line (name and labels, as
# written) in FILE; 0 if it has none.
value () {
    awk -v sample="$2" '$1 == sample { print $2; found = 1 } END { if (!found) print 0 }' "$1"
}

start_broker --metrics-bind 127.0.0.1:0
grep -Eq '^metrics http://127\.0\.0\.1:[0-9]+/metrics$' "$WORK/broker.lines" ||
    fail "no metrics line: $(cat "$WORK/broker.lines")"
scrape "$WORK/m1"
for family in zaio_build_info zaio_uptime_seconds zaio_jobs_total zaio_job_bytes_total \
    zaio_job_queue_seconds zaio_job_service_seconds zaio_queue_depth zaio_inflight \
    zaio_held_replies zaio_workers zaio_top_client_jobs; do
    grep -q "^# TYPE $family " "$WORK/m1" || fail "no family $family"
done
grep -q '^zaio_build_info{version="[0-9.]*"} 1$' "$WORK/m1" || fail "no build info"
grep -q '^zaio_workers{volume="default"} 2$' "$WORK/m1" || fail "not 2 workers on default"

# Known jobs: 3 pings, a missing file, a write of 5 bytes.
for i in 1 2 3; do "$ZAIO" ping > /dev/null || fail "ping"; done
"$ZAIO" stat no-such-file > /dev/null 2>&1 && fail "stat of a missing file worked"
printf 12345 > "$WORK/five"
"$ZAIO" put "$WORK/five" five.txt > /dev/null || fail "put"
scrape "$WORK/m2"
pings='zaio_jobs_total{op="ping",outcome="ok",volume="default"}'
before=$(value "$WORK/m1" "$pings")
after=$(value "$WORK/m2" "$pings")
[ $((after - before)) -ge 3 ] || fail "pings went from $before to $after"
[ "$(value "$WORK/m2" 'zaio_jobs_total{op="stat",outcome="ENOENT",volume="default"}')" = 1 ] ||
    fail "no ENOENT stat: $(grep ENOENT "$WORK/m2")"
grep -Eq '^zaio_job_bytes_total\{op="(writefile|write)",outcome="ok",volume="default"\} 5$' \
    "$WORK/m2" || fail "no 5 bytes written: $(grep bytes_total "$WORK/m2")"
count=$(value "$WORK/m2" 'zaio_job_service_seconds_count{op="ping"}')
inf=$(value "$WORK/m2" 'zaio_job_service_seconds_bucket{op="ping",le="+Inf"}')
[ "$count" -ge 3 ] && [ "$count" = "$inf" ] || fail "ping service histogram: count $count, +Inf $inf"
grep -q '^zaio_job_queue_seconds_bucket{op="ping",le="0.000001"} ' "$WORK/m2" ||
    fail "no 1 us queue bucket"
grep -q '^zaio_job_queue_seconds_bucket{op="ping",le="67.108864"} ' "$WORK/m2" ||
    fail "no 2^26 us queue bucket"

# Paths and methods.
base=$(url)
base=${base%/metrics}
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/")" = 404 ] || fail "/ is not 404"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/metrics/x")" = 404 ] || fail "/metrics/x is not 404"
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/metrics")" = 405 ] || fail "POST is not 405"
curl -s -D "$WORK/headers" -o /dev/null -X DELETE "$base/metrics"
grep -qi '^Allow: GET, HEAD' "$WORK/headers" || fail "405 without Allow"
curl -sI "$base/metrics" > "$WORK/head"
grep -q '^HTTP/1.1 200' "$WORK/head" || fail "HEAD is not 200: $(cat "$WORK/head")"
grep -qi '^Content-Type: text/plain; version=0.0.4' "$WORK/head" || fail "HEAD content type"

# The dashboard's queries name only metrics the broker exports (families,
# and a histogram's _bucket, _sum and _count).
python3 - "$DASHBOARD" "$WORK/m2" << 'EOF' || fail "grafana dashboard"
import json, re, sys
dashboard = json.load(open(sys.argv[1]))
families = set(re.findall(r"^# TYPE (\S+) ", open(sys.argv[2]).read(), re.M))
exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
assert dashboard["panels"] and exprs, "no panels or queries"
named = set()
for expr in exprs:
    named |= set(re.findall(r"\bzaio_[a-z_]+", expr))
unknown = {n for n in named if re.sub(r"_(bucket|sum|count)$", "", n) not in families}
assert not unknown, f"queries name metrics the broker does not export: {sorted(unknown)}"
print(f"dashboard: {len(exprs)} queries name {len(named)} metrics, all exported")
EOF
PORT=$(url | sed -E 's|.*:([0-9]+)/metrics|\1|')

# A port in use: another broker cannot listen on it (exit 1, and why).
expect 1 "metrics: cannot listen on 127.0.0.1:$PORT: Address already in use" -- \
    "$BROKER" --root "$WORK/root" --bind "ipc://$WORK/other.ipc" --events "ipc://$WORK/other-events.ipc" \
    --metrics-bind "127.0.0.1:$PORT"

# Not loopback: refused before anything starts, unless --insecure.
expect 2 "--metrics-bind 192.0.2.1:9464 is not a loopback address" -- \
    "$BROKER" --root "$WORK/root" --bind "ipc://$WORK/other.ipc" --metrics-bind 192.0.2.1:9464
expect 2 "not ADDR:PORT" -- "$BROKER" --root "$WORK/root" --metrics-bind 9464
expect 2 "port is not a number" -- "$BROKER" --root "$WORK/root" --metrics-bind 127.0.0.1:99999
start_broker --metrics-bind 0.0.0.0:0 --insecure
PORT=$(url | sed -E 's|.*:([0-9]+)/metrics|\1|')
curl -sSf "http://127.0.0.1:$PORT/metrics" -o "$WORK/m4" || fail "GET on 0.0.0.0"
grep -q '^zaio_build_info' "$WORK/m4" || fail "insecure 0.0.0.0"

# The config key, as the option.
printf 'broker\n    metrics_bind = 127.0.0.1:0\n' > "$WORK/broker.cfg"
start_broker --config "$WORK/broker.cfg"
scrape "$WORK/m3"
printf 'broker\n    metrics_bind = 192.0.2.1:9464\n' > "$WORK/bad.cfg"
expect 2 "is not a loopback address" -- "$BROKER" --root "$WORK/root" --config "$WORK/bad.cfg"

# A clean stop while scraped.
stop_broker
finish
