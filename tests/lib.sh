# Shell helpers shared by the test scripts (host and VM): source as
#   . "$(dirname "$0")/../lib.sh"

# jq_true [jq options] FILTER [FILE]: true when the filter gives output and
# every result is true. Unlike jq -e, no input (a select() that found no
# row) or no result is a failure, not a pass.
jq_true() {
	_jq_out=$(jq -M -c "$@") || return 1
	[ -n "$_jq_out" ] && ! printf '%s\n' "$_jq_out" | grep -qvx true
}

# wait_frames N: until the caller's frames() counts N heaptop frames (60 s at most);
# none while heaptop's output file is not there yet (its shell has not opened it)
wait_frames() {
	_wf_i=0
	while [ "$(frames 2>/dev/null || echo 0)" -lt "$1" ] && [ $_wf_i -lt 600 ]; do
		sleep 0.1
		_wf_i=$((_wf_i + 1))
	done
}

# wait_while TEST: wait while TEST (a shell command) holds, 60 s at most: a
# helper that never answers fails one check, through the caller's fail(),
# and the test goes on (wait_while false), where the whole suite's guest
# waited for its timeout
wait_while() {
	_w=0 _w_end=$(($(date +%s) + 60))
	while eval "$1"; do
		_w=$((_w + 1))
		if [ $((_w % 25)) = 0 ] && [ "$(date +%s)" -ge $_w_end ]; then
			fail "waited 60 s while: $1" "$(ls "${tmp:-/nonexistent}" 2>/dev/null | tr '\n' ' ')"
			return 1
		fi
		sleep 0.02
	done
}

# csv_lf FILE...: heapstat's CSV, whose records end in CRLF (RFC 4180), with
# LF line ends as grep, cut and awk read them; lf: the same as a filter
csv_lf() {
	sed -i 's/\r$//' "$@"
}
lf() {
	sed 's/\r$//'
}

# whole_lines FILE: FILE's lines but one still being written: a frame heaptop
# is writing (one past its stdout's buffer takes several writes) is not read
# half made; last_line FILE: the last of them
whole_lines() {
	head -n "$(wc -l <"$1")" "$1"
}
last_line() {
	whole_lines "$1" | tail -n 1
}

# ready_socket: the path of a socket, listened on (tests/vm/notify_wait.c), to
# start a heapstat command with as NOTIFY_SOCKET:
#   rs=$(ready_socket); NOTIFY_SOCKET=$rs heapstat report -d 10 >out & wait_ready $rs
ready_socket() {
	_rs=$(mktemp -u /tmp/ready.XXXXXX)
	notify_wait "$_rs" 120 >"$_rs.msg" 2>&1 || return
	echo "$_rs"
}

# wait_ready PATH [PID [FILE]]: until the command given NOTIFY_SOCKET=PATH
# (process PID) said READY=1, as it does once it traces (sd_notify(3)), the
# message kept in FILE; false, and why on stderr, when PID ended first or
# nothing came in 120 s
wait_ready() {
	until grep -qx 'READY=1' "$1.msg" 2>/dev/null; do
		_wr_why=
		if grep -q '^notify_wait' "$1.msg" 2>/dev/null || [ ! -S "$1" ]; then
			_wr_why=$(cat "$1.msg" 2>/dev/null)
		elif [ -n "${2:-}" ] && ! alive "$2"; then
			sleep 0.1	# what it sent before it ended
			grep -qx 'READY=1' "$1.msg" 2>/dev/null && break
			_wr_why="process $2 ended before it was ready"
		fi
		if [ -n "$_wr_why" ]; then
			echo "wait_ready: $_wr_why" >&2
			rm -f "$1" "$1.msg"
			return 1
		fi
		sleep 0.05
	done
	[ -z "${3:-}" ] || cp "$1.msg" "$3"
	rm -f "$1" "$1.msg"
}

# caught PID SIG: true when process PID catches signal number SIG (its SigCgt)
caught() {
	_cg_m=$(sed -n 's/^SigCgt:[[:space:]]*//p' /proc/$1/status 2>/dev/null)
	[ -n "$_cg_m" ] && [ $(((0x$_cg_m >> ($2 - 1)) & 1)) = 1 ]
}

# alive PID: process PID runs, not a zombie its parent has yet to wait for
alive() {
	[ -e /proc/$1 ] && ! grep -q '^State:[[:space:]]*Z' /proc/$1/status 2>/dev/null
}

# children PID: the pids whose parent is process PID (the guests' busybox has
# no pgrep, their kernels no /proc/PID/task/TID/children)
children() {
	_ch_p=$1
	for _ch_s in /proc/[0-9]*/stat; do
		read -r _ch_l 2>/dev/null <"$_ch_s" || continue
		# after the name, which may hold spaces and parentheses: state, ppid
		set -- ${_ch_l##*) }
		[ "$2" = "$_ch_p" ] || continue
		_ch_s=${_ch_s#/proc/}
		echo "${_ch_s%/stat}"
	done
}

# alloc_in CGROUP READY SECS ARGS...: dmabuf_alloc ARGS in cgroup CGROUP
# (below /sys/fs/cgroup, made), for SECS seconds at most, writing file READY
# once set up; its pid in $! and added to $pids
alloc_in() {
	_ai_cg=$1 _ai_ready=$2 _ai_secs=$3
	shift 3
	mkdir -p "/sys/fs/cgroup/$_ai_cg"
	sh -c "echo \$\$ >/sys/fs/cgroup/$_ai_cg/cgroup.procs; exec dmabuf_alloc -w $_ai_secs -R $_ai_ready $*" &
	pids="$pids $!"
}

# dmabuf_inodes PID: the inodes of the dma-bufs process PID has fds to, from fdinfo
dmabuf_inodes() {
	for _di_f in /proc/$1/fdinfo/*; do
		grep -q '^exp_name:' "$_di_f" 2>/dev/null && sed -n 's/^ino:[[:space:]]*//p' "$_di_f"
	done
}

# reap_records CGROUP: kill what the commands heapstat record ran left in
# their cgroups below CGROUP ("" for the root) and remove those cgroups
reap_records() {
	for _rr_d in /sys/fs/cgroup$1/heapstat-record-*; do
		[ -d "$_rr_d" ] && kill -9 $(cat "$_rr_d/cgroup.procs") 2>/dev/null
	done
	sleep 0.5
	rmdir /sys/fs/cgroup$1/heapstat-record-* 2>/dev/null
}

# over_tmpfs OPTIONS DIR CMD...: CMD in a mount namespace of its own, with a
# tmpfs (mount options OPTIONS, "" for none) over DIR: a full disk, a file
# hidden (host tests: unshare, util-linux)
over_tmpfs() {
	unshare --mount sh -c 'mount -t tmpfs ${1:+-o "$1"} heapstat "$2" && shift 2 && exec "$@"' \
		- "$@"
}

# free_port: a TCP port nobody listens on, on 127.0.0.1 (host tests: python3)
free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# leak_check MESSAGE [LINES]: in a guest booted with kmemleak=on, after its
# tests: true when the kernel finds no unreferenced object; else "FAIL:
# MESSAGE" and the report's first LINES (20) lines, and false. Not at once:
# what the last test's processes held goes after their exit, some of it after
# an RCU grace period (a BPF object's BTF id, its IDR node, which a scan at
# once reported as unreferenced in one boot of many)
leak_check() {
	sleep 2
	echo scan >/sys/kernel/debug/kmemleak
	echo scan >/sys/kernel/debug/kmemleak	# a second pass confirms young objects
	# a debugfs file has size 0: read it
	[ -z "$(cat /sys/kernel/debug/kmemleak)" ] && return 0
	echo "FAIL: $1"
	head -n "${2:-20}" /sys/kernel/debug/kmemleak
	return 1
}
