#!/bin/bash
# A failed CMA allocation is classified busy when a page in the way cannot be
# migrated: a page of ordinary memory inside the area, referenced by a pipe
# (tests/vm/cma_pin.c), makes the whole-area allocation fail after a busy
# retry. Its own boot with little memory, so that anonymous memory spills
# into CMA quickly.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
out=$(HEAPSTAT_VM_NOBUILD=1 "$top/scripts/vm" --load-heaps --mem 384M -- sh -c '
	. /heapstat/tests/lib.sh
	rs=$(ready_socket)
	NOTIFY_SOCKET=$rs heapstat report -j -d 120 >/tmp/j 2>/tmp/e & rp=$!
	wait_ready $rs $rp	# the collector is attached
	cma_pin reserved /tmp/pin & p=$!
	while [ ! -e /tmp/pin ] && kill -0 $p 2>/dev/null; do sleep 0.1; done
	dmabuf_alloc -H default_cma_region -s 128M; echo "rc=$?"
	kill -INT $rp; wait $rp; echo "report=$?"
	heapstat record -o /tmp/r -- dmabuf_alloc -H default_cma_region -s 128M 2>/dev/null
	echo "record=$?"
	heapstat analyze /tmp/r -j >/tmp/a
	kill $p
	jq -M -c "[.activity[] | select(.heap == \"default_cma_region\") | .failures],
		[.cma_activity[] | select(.area == \"reserved\") | .busy_retries > 0 and .failures == 1]" /tmp/j
	jq -M -c "[.failures.busy, ([.cma[] | select(.area == \"reserved\") | .busy_retries > 0] | all)]" /tmp/a
	cat /tmp/e' 2>&1); rc=$?
# (the guests' jq, gojq, prints an object's keys sorted)
want='dmabuf_alloc: allocating 134217728 bytes from default_cma_region: Cannot allocate memory
rc=1
report=0
record=1
[{"busy":1,"capacity":0,"fragmentation":0,"limit":0,"other":0}]
[true]
[1,true]'
if [ $rc = 0 ] && [ "$out" = "$want" ]; then
	echo "PASS: cma_busy: an allocation blocked by an unmovable page is a busy failure (report and record)"
else
	echo "FAIL: cma_busy: an allocation blocked by an unmovable page is a busy failure (report and record): exit $rc: $out"
fi
