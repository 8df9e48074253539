#!/bin/bash
# make bench: every benchmark, each in one VM boot, reported as ratios.
# BENCH=heaps,inventory,tracing,startup,heaptop,limit,record,export picks some (default: all).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BENCH=${BENCH:-heaps,inventory,tracing,startup,heaptop,limit,record,export}
for b in ${BENCH//,/ }; do
	case $b in heaps|inventory|tracing|startup|heaptop|limit|record|export) ;;
	*) die "BENCH: unknown benchmark '$b' (heaps, inventory, tracing, startup, heaptop, limit, record, export)" ;;
	esac
done
want() { [[ ",$BENCH," == *",$1,"* ]]; }

if want heaps; then
echo "== heaps (tests/bench/heaps.sh)"
HEAPSTAT_VM_NOBUILD=1 "$TOP/scripts/vm" --mttcg --timeout 1200 -- sh /heapstat/tests/bench/heaps.sh
echo
fi

if want inventory; then
echo "== inventory (tests/bench/inventory.sh), emulated time"
HEAPSTAT_VM_NOBUILD=1 "$TOP/scripts/vm" --mttcg --mem 3G --timeout 1800 -- sh /heapstat/tests/bench/inventory.sh
echo "== inventory, guest instructions (--icount)"
HEAPSTAT_VM_NOBUILD=1 "$TOP/scripts/vm" --icount --mem 3G --timeout 1800 -- sh /heapstat/tests/bench/inventory.sh
echo
fi

if want tracing; then
echo "== tracing overhead (trace_bench)"
HEAPSTAT_VM_NOBUILD=1 "$TOP/scripts/vm" --icount --timeout 1800 --load system_heap -- trace_bench
echo "== heaptop's holder hooks on a fork+exec loop (fork_bench)"
HEAPSTAT_VM_NOBUILD=1 "$TOP/scripts/vm" --icount --timeout 1800 -- fork_bench
echo
fi

if want startup; then
echo "== start-up (tests/bench/startup.sh), guest instructions (--icount)"
# the BPF objects for verify_time, in this boot alone
HEAPSTAT_VM_NOBUILD=1 "$TOP/scripts/vm" --icount --timeout 1200 \
	--add "$TOP/build/bpf/dmabuf_iter.bpf.o:/heapstat/bpf/dmabuf_iter.bpf.o" \
	--add "$TOP/build/bpf/cgroup_iter.bpf.o:/heapstat/bpf/cgroup_iter.bpf.o" \
	--add "$TOP/build/bpf/collector.bpf.o:/heapstat/bpf/collector.bpf.o" \
	--add "$TOP/build/bpf/collector_fs.bpf.o:/heapstat/bpf/collector_fs.bpf.o" \
	-- sh /heapstat/tests/bench/startup.sh
# the same zeroing natively, against the guest's count of it (startup.sh's "emulation" line)
echo "host, 16 MiB zeroed: $("$TOP/build/tests/rep_count")"
echo
fi

if want limit; then
echo "== limits (limit_bench): each backend per alloc+free, guest instructions, one CPU"
# the system heap charging nobody (bpf-lsm's case) and the carveout heap
# (dmem's); one CPU: no other CPU's work in the loop's time
HEAPSTAT_VM_NOBUILD=1 "$TOP/scripts/vm" --icount --cpus 1 --load-heaps --load system_heap \
	--cmdline dma_heap.mem_accounting=0 --timeout 3600 -- limit_bench system carveout-vm
echo
fi

if want record; then
echo "== record (tests/bench/record.sh): sustained events per second, bytes per event, forced drops"
# guest time in instructions (--icount): the host's load does not move it; the
# host's reference loop, the fastest of three, for the same reason
host=$(for i in 1 2 3; do "$TOP/build/tests/refloop"; done | sed -n 's/refloop_ms=//p' | sort -n | head -n 1)
out=$(HEAPSTAT_VM_NOBUILD=1 "$TOP/scripts/vm" --icount --timeout 1800 --load system_heap -- \
	sh /heapstat/tests/bench/record.sh)
echo "$out"
awk -v host="$host" '
	function kv(line,   n, i, f) { sub(/^[a-z]+: /, "", line); n = split(line, f, /[ =]/); delete v
		for (i = 1; i < n; i += 2) v[f[i]] = f[i + 1] }
	/^refloop_ms=/ { split($0, f, "="); guest = f[2] }
	/^base:/ { kv($0); base_ev = v["events"]; base_cpu = v["cpu_ms"] }
	/^sustained:/ { kv($0); slow = guest / host
		rate = (v["events"] - base_ev) / ((v["cpu_ms"] - base_cpu) / 1000)
		printf "reference loop: host %.0f ms, guest %.0f ms: slowdown %.1fx\n", host, guest, slow
		printf "record: %d events of %d pairs, %d dropped, in %.0f ms of the recorder'"'"'s CPU (%.0f ms of it start-up and snapshots, from a run of %d events): %.0f events/s in the guest, %.2fM/s native-equivalent (target >= 1M/s)\n",
			v["events"], v["pairs"], v["drops"], v["cpu_ms"], base_cpu, base_ev, rate, rate * slow / 1e6
		printf "record: %.1f bytes per event (file %d bytes; header, snapshots and process records included), the load made %.0f events/s\n",
			v["file_bytes"] / v["events"], v["file_bytes"], 3e6 / v["load_us_per_pair"] }
	/^forced:/ { kv($0)
		printf "forced drops: %d pairs (%d events) with the recorder stopped: %d recorded + %d dropped = %d (%s)\n",
			v["pairs"], 3 * v["pairs"], v["events"], v["drops"], v["events"] + v["drops"],
			v["events"] + v["drops"] == 3 * v["pairs"] ? "exact" : "NOT exact" }
' <<<"$out"
echo
fi

if want export; then
echo "== export (tests/bench/export.sh): scraped every 1 s, 10k buffers, 1k cgroups, 60 scrapes"
# the load of heaptop's benchmark; guest time in instructions (--icount), and
# the host's reference loop the fastest of three, as for record
host=$(for i in 1 2 3; do "$TOP/build/tests/refloop"; done | sed -n 's/refloop_ms=//p' | sort -n | head -n 1)
out=$(HEAPSTAT_VM_NOBUILD=1 "$TOP/scripts/vm" --icount --mem 3G --timeout 1800 -- \
	sh /heapstat/tests/bench/export.sh)
echo "$out"
guest=$(sed -n 's/refloop_ms=//p' <<<"$out" | sort -n | head -n 1)
awk -v host="$host" -v guest="$guest" '
	function kv(line,   n, i, f) { sub(/^[a-z]+: /, "", line); n = split(line, f, /[ =]/); delete v
		for (i = 1; i < n; i += 2) v[f[i]] = f[i + 1] }
	/^rows=/ { kv($0); rows = v["rows"]; series = v["series"]; bytes = v["bytes"] }
	/^steady_rss_kb=/ { split($0, f, "="); steady = f[2] }
	/^scrapes=/ { kv($0); n = v["scrapes"]; cpu = v["cpu_ms"]; wall = v["wall_ms"] }
	/^total: / { kv($0); peak = v["maxrss_kb"]; tcpu = v["cpu_ms"]; twall = v["wall_ms"] }
	END { slow = guest / host; share = cpu / wall * 100
		printf "reference loop: host %.0f ms, guest %.0f ms: slowdown %.1fx\n", host, guest, slow
		printf "export: %d rows, %d series, %d bytes a scrape\n", rows, series, bytes
		printf "export: %.1f ms CPU per scrape in the guest, %.2f%% of a core; native-equivalent %.2f%% (target <= 1%%)\n",
			cpu / n, share, share / slow
		printf "export: all of the run (loading, the first sample): %.0f ms CPU in %.0f ms\n", tcpu, twall
		printf "export: RSS %.1f MiB after %d scrapes, peak %.1f MiB (target <= 20 MiB)\n",
			steady / 1024, n, peak / 1024 }' <<<"$out"
echo
fi

want heaptop || exit 0
echo "== heaptop (tests/bench/heaptop.sh): 1 s refresh, 10k buffers, 1k cgroups, steady then churning"
# guest time in instructions (--icount), the host's reference loop the fastest
# of three, as for export
host=$(for i in 1 2 3; do "$TOP/build/tests/refloop"; done | sed -n 's/refloop_ms=//p' | sort -n | head -n 1)
# HEAPTOP_HEAP: the heap of the load and the churn (default system, which
# charges nobody): default_cma_region charges dmem, system with
# HEAPTOP_HEAP_ARGS=--load-heaps (mem_accounting) memcg
heap=${HEAPTOP_HEAP:-system}
[ "$heap" = system ] || HEAPTOP_HEAP_ARGS=--load-heaps
echo "heap: $heap ${HEAPTOP_HEAP_ARGS:-}"
out=$(HEAPSTAT_VM_NOBUILD=1 "$TOP/scripts/vm" --icount --mem 3G --timeout 2400 ${HEAPTOP_HEAP_ARGS:-} -- \
	env HEAP="$heap" ${FRAMES:+FRAMES=$FRAMES} sh /heapstat/tests/bench/heaptop.sh)
echo "$out"
guest=$(sed -n 's/refloop_ms=//p' <<<"$out" | sort -n | head -n 1)
awk -v host="$host" -v guest="$guest" '
	function kv(line,   n, i, f) { sub(/^[a-z]+: /, "", line); n = split(line, f, /[ =]/); delete v
		for (i = 1; i < n; i += 2) v[f[i]] = f[i + 1] }
	function part(name) { share = v["cpu_ms"] / v["wall_ms"] * 100
		printf "heaptop, %s: %.1f ms CPU per refresh in the guest, %.2f%% of a core; native-equivalent %.2f%% (target <= 1%%)\n",
			name, v["cpu_ms"] / v["frames"], share, share / slow }
	BEGIN { slow = guest / host
		printf "reference loop: host %.0f ms, guest %.0f ms: slowdown %.1fx\n", host, guest, slow }
	/^steady_rss_kb=/ { split($0, f, "="); steady = f[2] }
	/^churn_rss_kb=/ { split($0, f, "="); churn = f[2] }
	/^churn_alloc_per_s=/ { split($0, f, "="); rate = f[2] }
	/^steady: / { kv($0); part("steady") }
	/^churn: / { churned = $0 }
	/^peak_rss_kb=/ { split($0, f, "="); peak = f[2] }
	END { if (churned != "") { kv(churned)
			part(sprintf("%.0f buffers allocated and freed a second", rate)) }
		printf "heaptop: RSS %.1f MiB steady, %.1f MiB churning, peak %.1f MiB (target <= 20 MiB)\n",
		steady / 1024, churn / 1024, peak / 1024 }' <<<"$out"
