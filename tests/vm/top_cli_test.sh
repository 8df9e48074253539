#!/bin/sh
# heapstat top in batch mode counts a known workload exactly, and refuses bad
# input with a message and a non-zero exit.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

pass() { echo "PASS: top_cli: $1"; }
fail() { echo "FAIL: top_cli: $1: $2"; }

# bad input: usage errors exit 1 with a message, never a crash
for args in "-d 0" "-d abc" "-n 0" "-n -1" "-x" "extra"; do
	heapstat top $args >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc = 1 ] && [ -s "$tmp/err" ]; then pass "refuses '$args'"
	else fail "refuses '$args'" "exit $rc, stderr '$(cat "$tmp/err")'"; fi
done
heapstat nosuchcommand 2>"$tmp/err"
rc=$?
if [ $rc = 1 ] && grep -q "unknown command" "$tmp/err"; then pass "refuses an unknown command"
else fail "refuses an unknown command" "exit $rc"; fi

# two JSON frames, 3 s apart; the workload starts once the programs are
# attached: three 1 MiB buffers, one closed at once, two held 4 s
heapstat top -j -n 2 -d 3 >"$tmp/json" 2>"$tmp/err" &
pid=$!
i=0
while [ "$(ls -l /proc/$pid/fd 2>/dev/null | grep -c bpf_link)" -lt 2 ] && [ $i -lt 300 ]; do
	sleep 0.1
	i=$((i + 1))
done
dmabuf_alloc -H system -s 1M -n 3 -r 1 -w 4 &
wait $pid
rc=$?
wait
frame1=$(sed -n 1p "$tmp/json")
frame2=$(sed -n 2p "$tmp/json")
want1='"name":"system","live_buffers":2,"live_bytes":2097152,"exports":3,"releases":1,"bytes_exported":3145728,"bytes_released":1048576'
want2='"name":"system","live_buffers":0,"live_bytes":0,"exports":3,"releases":3,"bytes_exported":3145728,"bytes_released":3145728,"exports_per_sec":0.00'
if [ $rc = 0 ] && [ "$(wc -l <"$tmp/json")" = 2 ] && echo "$frame1" | grep -qF "$want1" &&
	echo "$frame2" | grep -qF "$want2"; then
	pass "JSON frames count the workload exactly"
else
	fail "JSON frames count the workload exactly" "exit $rc, output: $(cat "$tmp/json" "$tmp/err")"
fi

# the table names the exporter and its totals
heapstat top -b -n 1 -d 0.5 >"$tmp/table" 2>&1
rc=$?
if [ $rc = 0 ] && grep -q '^EXPORTER' "$tmp/table"; then pass "batch table has a header"
else fail "batch table has a header" "exit $rc, output: $(cat "$tmp/table")"; fi
