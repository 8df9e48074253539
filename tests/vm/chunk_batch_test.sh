#!/bin/sh
# The chunk heap in a fragmented CMA area: every other chunk of the whole
# area held, an 8-chunk buffer asks CMA for 8, 4 and 2 chunks (refused: the
# area has no such range), then 1, and for the 7 left never again for more
# than CMA last gave: one chunk at a time. The cma_alloc_start tracepoint's
# request counts, in order. Needs scripts/vm --load-heaps.
. "$(dirname "$0")/../lib.sh"
tmp=$(mktemp -d)
H=chunk-reserved
A=reserved
T=/sys/kernel/tracing
pass() { echo "PASS: chunk_batch: $1"; }
fail() { echo "FAIL: chunk_batch: $1: $2"; }
[ -e /dev/dma_heap/$H ] || { echo "SKIP: chunk_batch: no heap $H (scripts/vm --load-heaps)"; exit 0; }
P=$((1 << $(cat /sys/module/heapstat_chunk_heap/parameters/order)))	# pages a chunk
n=$(($(cat /sys/kernel/mm/cma/$A/total_pages) / P))
ulimit -n $((n + 64))

dmabuf_alloc -H $H -s $((P * 4))K -n $n --holes -w 600 -R "$tmp/r" 2>"$tmp/e" &
holder=$!
wait_while '[ ! -e "$tmp/r" ] && kill -0 $holder 2>/dev/null'
maxchunk=$(cat /sys/kernel/debug/cma/$A/maxchunk)
if [ -e "$tmp/r" ] && [ "$maxchunk" = $P ]; then
	pass "the area in holes of one chunk ($n chunks of $P pages, every other held)"
else
	fail "the area in holes of one chunk" "maxchunk $maxchunk, want $P: $(cat "$tmp/e")"
fi

echo >$T/trace
echo 1 >$T/events/cma/cma_alloc_start/enable
dmabuf_alloc -H $H -s $((P * 4 * 8))K 2>"$tmp/e8"; rc=$?
echo 0 >$T/events/cma/cma_alloc_start/enable
got=$(sed -n "s/.*cma_alloc_start: name=$A request_count=\([0-9]*\) .*/\1/p" $T/trace | tr '\n' ' ')
want="$((P * 8)) $((P * 4)) $((P * 2)) $P $P $P $P $P $P $P $P "
[ $rc = 0 ] && [ "$got" = "$want" ] &&
	pass "8 chunks: 8, 4, 2 refused, then one at a time, 11 asks in all" ||
	fail "8 chunks: 8, 4, 2 refused, then one at a time, 11 asks in all" \
		"exit $rc, asked (pages) $got, want $want: $(cat "$tmp/e8")"
kill $holder
wait $holder
rm -rf "$tmp"
