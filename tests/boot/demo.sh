#!/bin/bash
# make demo's workload, in batch mode as CI runs it: heaptop's frames show the
# three cgroups on their three heaps, camera refused at its limit (HITS, and
# the last hit in the frame), gpu's shared buffers split among three
# processes, video's leak growing.
. "$(dirname "$0")/../lib.sh"
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$(CI=true "$top/scripts/demo.sh" -j -n 8 2>&1); rc=$?
first=$(grep '^{' <<<"$out" | head -n 1)
last=$(grep '^{' <<<"$out" | tail -n 1)
row() { jq -M -c --arg cg "$1" --arg heap "$2" '.rows[] | select(.cgroup == $cg and .heap == $heap)' <<<"$last"; }
leak() { jq -M '[.rows[] | select(.cgroup == "/video" and .heap == "system")][0].bytes // 0' <<<"$1"; }
if [ $rc = 0 ] && [ "$(grep -c '^{' <<<"$out")" = 8 ] &&
	row /camera default_cma_region | jq_true '.limit_bytes == 25165824 and .failures > 0 and
		.limit_hits > 0 and .charged_bytes <= 25165824' >/dev/null &&
	jq_true '.last_limit_hit.cgroup == "/camera" and .last_limit_hit.heap == "default_cma_region"' \
		<<<"$last" >/dev/null &&
	row /video chunk-reserved | jq_true '.bytes > 0 and .charged_by == "dmem"' >/dev/null &&
	row /gpu system | jq_true '.bytes >= 33554432 and .allocs_per_sec > 0' >/dev/null &&
	jq_true '[.processes[] | select(.cgroup == "/gpu" and .pss_bytes > 0)] | length >= 3' <<<"$last" >/dev/null &&
	[ "$(leak "$last")" -gt "$(leak "$first")" ]; then
	echo "PASS: demo: three cgroups, a limit reached, shared buffers, a growing leak"
else
	echo "FAIL: demo: three cgroups, a limit reached, shared buffers, a growing leak: exit $rc: $(tail -c 3000 <<<"$out")"
fi
