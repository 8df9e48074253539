#!/bin/sh
# Every example is a command that works: each line of the EXAMPLES of
# heapstat -h and of every command's -h (the man pages' EXAMPLES are the same
# lines: tests/pkg/man.sh), and each heapstat/heaptop command of README.md's
# sh blocks that is not one of them (the table below; tests/pkg/man.sh checks
# that it lists exactly those), runs here and exits with the status its page
# documents. What they need is set up first: cgroups /camera, /gpu, /video
# (a process in /camera holding system and default_cma_region buffers), and
# the programs the examples run (./camera_test, ./app, ./test, ./run_tests:
# each allocates two buffers and frees them). Commands that run until a
# signal (heaptop without -n, limit events -f, record -d 60, export) get
# SIGINT once they have attached their BPF programs; those that run for a set
# time (report -d 10, heaptop -n 5) run beside the examples after them.
. /heapstat/tests/lib.sh

S=/sys/fs/cgroup
ex=/tmp/examples
pass() { echo "PASS: examples: $1"; }
fail() { echo "FAIL: examples: $1: $2"; }

# README.md's commands that no -h shows (the text between the markers is
# read by tests/pkg/man.sh)
readme_commands() {
	cat <<'EOF'
# README-BEGIN
heapstat report buffers --heap default_cma_region
heapstat report -d 10
heaptop -b -n 5 --view processes
heaptop -j -n 3 -c /camera
heapstat report cgroups -c /camera
heaptop -c /camera
heapstat limit events -f
heapstat limit exec --create --set default_cma_region=32M /ci/job1 -- ./camera_test
heapstat record --stacks -o run.hsrec -- ./run_tests
heapstat analyze run.hsrec --fail-on 'leaks,failures,peak:system>256M,p99:system>5ms' --junit heapstat.xml --html heapstat.html --perfetto heapstat.pftrace
# README-END
EOF
}

# expected exit status: 0 unless said here
status_of() {
	case $1 in
	# this boot has dma_heap.mem_accounting on: the system heap is charged
	# to memcg, whose limit needs --memcg (bpf-lsm's own boot:
	# tests/boot/lsm_limit.sh)
	"heapstat limit set /video system 256M") echo 2 ;;
	# a latency gate: its p99 under TCG may pass 5 ms (1, the gate failing)
	*"p99:system>5ms"*) echo "0 1" ;;
	*) echo 0 ;;
	esac
}

# run until a signal?
bounded() {
	case $1 in
	heaptop*" -n "* | "heapstat top"*" -n "*) return 1 ;;
	heaptop* | "heapstat top"*) return 0 ;;
	*"events -f"* | *" -d 60"* | "heapstat export"*) return 0 ;;
	esac
	return 1
}

# the EXAMPLES lines of heapstat's -h ($1 empty) or of heapstat $1 -h,
# comments dropped
examples() {
	if [ -z "$1" ]; then
		heapstat -h | sed -n '/^Examples:/,/^$/s/^  //p'
	else
		ARGP_HELP_FMT=rmargin=1000 heapstat "$1" -h | sed -n '/^EXAMPLES:/,/^$/s/^    //p'
	fi | sed 's/  *# .*$//'
}

# runs for a set time (a duration, or frames), when not bounded: started in
# the background, beside the examples after it, and judged at the end
# (judge_timed)
timed() {
	case $1 in
	*" -d "[0-9]* | heaptop*" -n "* | "heapstat top"*" -n "*) return 0 ;;
	esac
	return 1
}

# judge CMD N RC: example N (CMD) exited with RC
judge() {
	want=$(status_of "$1")
	# a latency gate that failed: that gate alone
	if [ "$3" = 1 ] && [ "$want" = "0 1" ] && grep -v p99 $ex/err.$2 | grep -q .; then
		fail "$1" "exit 1, not by its p99 gate alone: $(tail -n 5 $ex/err.$2)"
		return
	fi
	for s in $want; do
		if [ "$3" = "$s" ]; then
			pass "$1 (exit $3)"
			return
		fi
	done
	fail "$1" "exit $3, not $want: $(tail -n 5 $ex/err.$2)"
}

n=0
timed_n=
# run CMD, expect its status; a bounded one gets SIGINT once attached, a
# timed one is waited for by judge_timed
run() {
	n=$((n + 1))
	if bounded "$1"; then
		rs=$(ready_socket)
		NOTIFY_SOCKET=$rs sh -c "exec $1" >$ex/out.$n 2>$ex/err.$n &
		p=$!
		wait_ready $rs $p
		sleep 1
		kill -INT $p
		wait $p
		judge "$1" $n $?
		return
	fi
	sh -c "$1" >$ex/out.$n 2>$ex/err.$n &
	p=$!
	(sleep 300; kill $p) 2>/dev/null &
	w=$!
	if timed "$1"; then
		printf '%s\n' "$1" >$ex/cmd.$n
		echo "$p $w" >$ex/pid.$n
		timed_n="$timed_n $n"
		return
	fi
	wait $p
	rc=$?
	kill $w 2>/dev/null
	judge "$1" $n $rc
}

judge_timed() {
	for i in $timed_n; do
		read -r p w <$ex/pid.$i
		wait $p
		rc=$?
		kill $w 2>/dev/null
		judge "$(cat $ex/cmd.$i)" $i $rc
	done
	timed_n=
}

# record --flight in the background, then kill -USR1 %1: its recording of
# that moment. In a shell of their own, where the recorder is job 1.
run_flight() {
	rm -f /var/tmp/heapstat-*.hsrec
	rs=$(ready_socket)
	sh -c ". /heapstat/tests/lib.sh
		NOTIFY_SOCKET=$rs $1
		wait_ready $rs \$!
		sleep 1
		$2
		i=0
		while ! ls /var/tmp/heapstat-*-sigusr1.hsrec >/dev/null 2>&1 && [ \$i -lt 300 ]; do
			sleep 0.1
			i=\$((i + 1))
		done
		kill -INT %1
		wait %1" >$ex/flight.out 2>$ex/flight.err
	rc=$?
	if [ $rc = 0 ] && heapstat analyze /var/tmp/heapstat-*-sigusr1.hsrec >/dev/null; then
		pass "$1; $2 (exit 0, a recording of that moment)"
	else
		fail "$1; $2" "exit $rc: $(ls /var/tmp; tail -n 5 $ex/flight.err)"
	fi
	rm -f /var/tmp/heapstat-*.hsrec
}

# setup
rm -rf $ex
mkdir -p $ex /var/tmp /var/lib/prometheus/node-exporter
cd $ex || exit 1
echo "+dmem +memory" >$S/cgroup.subtree_control
mkdir -p $S/camera $S/gpu $S/video
for p in camera_test app test run_tests; do
	printf '#!/bin/sh\nexec dmabuf_alloc -H system -s 64K -n 2 -w 0\n' >$p
	chmod +x $p
done
sh -c "echo \$\$ >$S/camera/cgroup.procs
	exec dmabuf_alloc -H system,default_cma_region -s 1M -n 2 -w 900 -R $ex/ready" &
holder=$!
i=0
while [ ! -e $ex/ready ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
[ -e $ex/ready ] || fail setup "the /camera holder did not start"

# every command's examples, in their order (record's before analyze's)
cmds=$(heapstat -h | sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p')
[ -n "$cmds" ] || fail setup "no command in heapstat -h"
for c in "" $cmds; do
	examples "$c" >$ex/list
	[ -s $ex/list ] || fail "heapstat $c -h" "no EXAMPLES"
	prev=
	while IFS= read -r cmd; do
		case $cmd in
		*" &") prev=$cmd; continue ;;
		"kill -USR1 %1") run_flight "$prev" "$cmd" </dev/null; prev= ; continue ;;
		esac
		run "$cmd" </dev/null
	done <$ex/list
	[ -z "$prev" ] || fail "$prev" "a background example with no kill after it"
done
readme_commands | grep -v '^#' >$ex/list
while IFS= read -r cmd; do
	run "$cmd" </dev/null
done <$ex/list
judge_timed

kill -0 $holder 2>/dev/null && pass "the /camera holder outlived every example" ||
	fail "the /camera holder outlived every example" "it is gone"

# leave the VM as found
kill $holder 2>/dev/null
wait $holder 2>/dev/null
for cg in camera gpu video ci/t1 ci/job1; do
	[ -d $S/$cg ] && heapstat limit clear /$cg >/dev/null 2>&1
done
for cg in camera gpu video ci/t1 ci/job1 ci; do
	[ -d $S/$cg ] && rmdir $S/$cg 2>/dev/null
done
cd / && rm -rf $ex
exit 0
