#!/bin/bash
# heapstat export read by the real scrapers: Debian's Prometheus on the host's
# loopback scrapes the exporter in the VM (scripts/vm --forward, QEMU's user
# networking), and what its query API (/api/v1/query) returns is exactly what
# the guest's workload holds (tests/vm/export_workload.sh: known sizes in
# known cgroups, one with a name to escape, two not UTF-8 and one named as
# their escapes read (three series), two folded by
# --cgroup-depth 1); every scrape passes promtool check metrics; the textfile
# the guest wrote (--fetch) is read by prometheus-node-exporter's textfile
# collector without error and with the same values; SIGTERM ends both
# exporters with 0.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
. "$top/tests/lib.sh"
pass() { echo "PASS: export_prometheus: $1"; }
fail() { echo "FAIL: export_prometheus: $1: $2"; }
for b in prometheus promtool prometheus-node-exporter; do
	command -v $b >/dev/null || {
		echo "SKIP: export_prometheus: no $b (scripts/deps.sh installs it)"
		exit 0
	}
done
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
port=$(free_port) ctl=$(free_port) pport=$(free_port) nport=$(free_port)
H=default_cma_region

HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --load-heaps --forward "$port:9464" --forward "$ctl:9465" \
	--fetch "$tmp/out" --timeout 900 -- sh /heapstat/tests/vm/export_workload.sh >"$tmp/vm.out" 2>&1 &
vm=$!
pids+=($vm)
t0=$SECONDS
while [ $((SECONDS - t0)) -lt 600 ]; do
	grep -q '^export-ready' "$tmp/vm.out" 2>/dev/null && break
	kill -0 $vm 2>/dev/null || break
	sleep 0.2
done
if ! grep -q '^export-ready' "$tmp/vm.out"; then
	# a guest still running is stopped: scripts/vm then says how far it got
	kill -0 $vm 2>/dev/null && state="still running, stopped" || state=ended
	kill $vm 2>/dev/null
	wait $vm
	fail "the guest's exporter and workload" \
		"no export-ready after $((SECONDS - t0)) s, the guest $state: $(tail -n 30 "$tmp/vm.out")"
	exit 0
fi
capacity=$(sed -n 's/^capacity=\([0-9]*\).*/\1/p' "$tmp/vm.out" | tr -d '\r')

# every scrape passes promtool check metrics (the text format; OpenMetrics is
# what Prometheus itself asks for, below)
bad=
for i in 1 2 3; do
	curl -s -m 60 "http://127.0.0.1:$port/metrics" >"$tmp/scrape$i" || bad="$bad scrape $i failed;"
	out=$(promtool check metrics <"$tmp/scrape$i" 2>&1) || bad="$bad $out"
	sleep 1
done
[ -z "$bad" ] && pass "3 scrapes through the forwarded port pass promtool check metrics" ||
	fail "3 scrapes pass promtool check metrics" "$bad"

# a scrape the guest answers late fails, and Prometheus marks every series of
# the target stale at once: 3 s, for an emulated guest under a busy host
cat >"$tmp/prometheus.yml" <<EOF
global:
  scrape_interval: 3s
  scrape_timeout: 3s
scrape_configs:
  - job_name: heapstat
    static_configs:
      - targets: ['127.0.0.1:$port']
EOF
prometheus --config.file="$tmp/prometheus.yml" --storage.tsdb.path="$tmp/tsdb" \
	--web.listen-address="127.0.0.1:$pport" >"$tmp/prometheus.log" 2>&1 &
pids+=($!)

# query PROMQL: its one value ("" when none or several)
query() {
	curl -s -m 10 "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
		jq -r 'if .status == "success" and (.data.result | length) == 1
			then .data.result[0].value[1] else "" end' 2>/dev/null
}
for _ in $(seq 120); do
	[ "$(query 'up{job="heapstat"}')" = 1 ] && [ -n "$(query 'heapstat_export_rows')" ] && break
	sleep 1
done
health=$(curl -s "http://127.0.0.1:$pport/api/v1/targets" |
	jq -r '.data.activeTargets[0] | "\(.health) \(.lastError)"')
[ "$health" = "up " ] && pass "Prometheus scrapes the exporter (OpenMetrics), target up, no error" ||
	fail "Prometheus scrapes the exporter, target up, no error" "$health $(tail -n 5 "$tmp/prometheus.log")"

# what Prometheus holds: exactly the workload's numbers
check() {	# check PROMQL VALUE
	local got
	got=$(query "$1")
	if [ "$got" = "$2" ]; then
		echo "ok $1 = $2"
	else
		echo "BAD $1 = '$got', not $2"
	fi
}
{
	check 'heapstat_cgroup_held_bytes{cgroup="/gpu",heap="system"}' 3145728
	check 'heapstat_cgroup_held_buffers{cgroup="/gpu",heap="system"}' 3
	check 'heapstat_allocations_total{cgroup="/gpu",heap="system"}' 3
	check 'heapstat_allocated_bytes_total{cgroup="/gpu",heap="system"}' 3145728
	check "heapstat_cgroup_held_bytes{cgroup=\"/camera\",heap=\"$H\"}" 4194304
	check "heapstat_cgroup_charged_bytes{cgroup=\"/camera\",heap=\"$H\"}" 4194304
	check "heapstat_cgroup_limit_bytes{cgroup=\"/camera\",heap=\"$H\"}" 25165824
	check "heapstat_cgroup_headroom_bytes{cgroup=\"/camera\",heap=\"$H\"}" 20971520
	check "heapstat_cgroup_peak_bytes{cgroup=\"/camera\",heap=\"$H\"}" 4194304
	check "heapstat_allocations_total{cgroup=\"/camera\",heap=\"$H\"}" 2
	check "heapstat_allocation_failures_total{cgroup=\"/camera\",heap=\"$H\",class=\"limit\"}" 1
	check "heapstat_limit_refusals_total{cgroup=\"/camera\",heap=\"$H\"}" 1
	check 'count(heapstat_cgroup_limit_bytes{cgroup="/gpu"})' ""
	check 'heapstat_cgroup_held_bytes{cgroup="/we\"ird\\name é",heap="system"}' 65536
	check 'heapstat_cgroup_held_bytes{cgroup="/bad\\xffname",heap="system"}' 65536
	check 'heapstat_cgroup_held_bytes{cgroup="/bad\\xfename",heap="system"}' 65536
	check 'heapstat_cgroup_held_bytes{cgroup="/bad\\\\xffname",heap="system"}' 65536
	check 'count(heapstat_cgroup_held_bytes{cgroup=~"/bad.*"})' 3
	check 'heapstat_cgroup_held_bytes{cgroup="/deep",heap="system"}' 196608
	check 'heapstat_cgroup_held_buffers{cgroup="/deep",heap="system"}' 3
	check 'count(heapstat_cgroup_held_bytes{cgroup=~"/deep/.*"})' ""
	check 'heapstat_export_rows_folded' 2
	check 'heapstat_export_series_dropped' 0
	check 'heapstat_heap_bytes{heap="system"}' 3604480
	check 'heapstat_heap_buffers{heap="system"}' 10
	check "heapstat_heap_bytes{heap=\"$H\"}" 4194304
	check "heapstat_heap_capacity_bytes{heap=\"$H\"}" "$capacity"
	check 'heapstat_allocation_latency_seconds_count{heap="system"}' 10
	check "heapstat_allocation_latency_seconds_count{heap=\"$H\"}" 3
	check 'heapstat_allocation_latency_seconds_bucket{heap="system",le="+Inf"}' 10
	check 'heapstat_allocation_latency_seconds_bucket{heap="system",le="8.589934591"}' 10
	check 'heapstat_export_latencies_lost_total' 0
	check 'heapstat_export_tracing' 1
	check 'heapstat_export_events_dropped_total' 0
	check 'heapstat_export_calls_skipped_total' 0
	check 'heapstat_cma_total_bytes{area="reserved"}' 134217728
	check 'heapstat_build_info{version="'"$(cat "$top/VERSION")"'"}' 1
	check 'count(heapstat_export_scrape_duration_seconds > 0)' 1
} >"$tmp/checks"
n=$(grep -c '^ok ' "$tmp/checks")
if ! grep -q '^BAD ' "$tmp/checks"; then
	pass "Prometheus's query API returns exactly the workload's $n numbers"
else
	fail "Prometheus's query API returns exactly the workload's numbers" \
		"$(grep '^BAD ' "$tmp/checks")"
fi

# the guest stops its exporters (SIGTERM) once told, and the VM ends
exec 3<>/dev/tcp/127.0.0.1/$ctl && exec 3<&- 3>&-
wait $vm
rc=$?
if [ $rc = 0 ] && grep -q '^export-exit 0 0' "$tmp/vm.out"; then
	pass "SIGTERM: both exporters exit 0; the guest's dmesg is clean"
else
	fail "SIGTERM: both exporters exit 0; the guest's dmesg is clean" "exit $rc: $(tail -n 20 "$tmp/vm.out")"
fi

# the textfile: promtool, then node_exporter's textfile collector
tf=$tmp/out/heapstat.prom
if [ -s "$tf" ] && out=$(promtool check metrics <"$tf" 2>&1) && [ "$(ls -A "$tmp/out")" = heapstat.prom ]; then
	pass "--textfile: heapstat.prom alone in its directory, promtool check metrics passes"
else
	fail "--textfile: heapstat.prom alone, promtool check metrics passes" "$(ls -A "$tmp/out") ${out:-}"
fi
prometheus-node-exporter --web.listen-address="127.0.0.1:$nport" --collector.disable-defaults \
	--collector.textfile --collector.textfile.directory="$tmp/out" >"$tmp/ne.log" 2>&1 &
ne=$!
pids+=($ne)
for _ in $(seq 100); do
	curl -s "http://127.0.0.1:$nport/metrics" >"$tmp/ne" 2>/dev/null && break
	sleep 0.1
done
# value VALUE-LINE-PREFIX: the number node_exporter gives it (it writes 3.145728e+06)
value() { grep -F "$1 " "$tmp/ne" | awk '{ printf "%.0f\n", $NF }'; }
got="$(grep -x 'node_textfile_scrape_error 0' "$tmp/ne")
$(value 'heapstat_cgroup_held_bytes{cgroup="/gpu",heap="system"}')
$(value "heapstat_cgroup_charged_bytes{cgroup=\"/camera\",heap=\"$H\"}")
$(value 'heapstat_cgroup_held_bytes{cgroup="/deep",heap="system"}')
$(value 'heapstat_heap_bytes{heap="system"}')"
want="node_textfile_scrape_error 0
3145728
4194304
196608
3604480"
[ "$got" = "$want" ] &&
	pass "node_exporter reads the textfile: node_textfile_scrape_error 0, the workload's values" ||
	fail "node_exporter reads the textfile" "$(diff <(echo "$want") <(echo "$got")) $(tail -n 5 "$tmp/ne.log")"
exit 0
