#!/bin/bash
# heapstat's command line on the host, no kernel needed: the help of every
# command written to a full device is an error (exit 1, said on stderr; 2
# for analyze, whose 1 is a failed check), as every command's output is; an
# argument echoed in an error comes back escaped, whoever writes the message;
# record's -o is checked before the collector loads.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
hs=${HEAPSTAT:-$top/build/heapstat}	# HEAPSTAT: another build (make check: the sanitizers')
. "$top/tests/lib.sh"
pass() { echo "PASS: cli_host: $1"; }
fail() { echo "FAIL: cli_host: $1: $2"; }

for cmd in "" report top limit record analyze export; do
	# shellcheck disable=SC2086
	"$hs" $cmd -h >/dev/full 2>/tmp/cli_host.$$; rc=$?
	want=1
	[ "$cmd" = analyze ] && want=2
	[ $rc = $want ] && grep -q "^heapstat${cmd:+ $cmd}: failed to write the output: No space left on device" \
		/tmp/cli_host.$$ &&
		pass "heapstat ${cmd:+$cmd }-h >/dev/full: exit $want, said" ||
		fail "heapstat ${cmd:+$cmd }-h >/dev/full: exit $want, said" "exit $rc: $(cat /tmp/cli_host.$$)"
done
# -V after a command's name as before it, -vv as -v
want=$("$hs" -V)
for cmd in report top limit record analyze export; do
	got=$("$hs" $cmd -V 2>&1); rc=$?
	[ $rc = 0 ] && [ "$got" = "$want" ] && pass "heapstat $cmd -V: '$want'" ||
		fail "heapstat $cmd -V: '$want'" "exit $rc: $got"
done
"$hs" -vv limit -V >/dev/null 2>&1 && pass "heapstat -vv: as -v" || fail "heapstat -vv: as -v" "exit $?"
# the usage lines and examples as written, not wrapped by argp (a copied example must run)
for cmd in "" report top limit record analyze export; do
	# shellcheck disable=SC2086
	wrapped=$("$hs" $cmd --help | awk 'length($0) > 79 { print; next }
		/^(USAGE|EXAMPLES):/ { block = 1; next } /^$/ { block = 0 }
		block && !/^ / { print }')
	[ -z "$wrapped" ] && pass "heapstat ${cmd:+$cmd }--help: usage and examples within 79 columns" ||
		fail "heapstat ${cmd:+$cmd }--help: usage and examples within 79 columns" "$wrapped"
done
# a command's output to a full device: exit 1 and one message, however it writes
if [ "$(id -u)" = 0 ]; then
	for args in "report" "report -j" "report heaps --csv" "top -b -n 2 -d 0.1" "top -j -n 2 -d 0.1" \
		"limit show -j"; do
		# shellcheck disable=SC2086
		"$hs" $args >/dev/full 2>/tmp/cli_host.$$; rc=$?
		[ $rc = 1 ] && [ "$(grep -c 'No space left on device' /tmp/cli_host.$$)" = 1 ] &&
			[ "$(grep -vc 'no DMA-BUF heaps here' /tmp/cli_host.$$)" = 1 ] &&
			pass "heapstat $args >/dev/full: exit 1, said once" ||
			fail "heapstat $args >/dev/full: exit 1, said once" "exit $rc: $(cat /tmp/cli_host.$$)"
	done
fi
# limit show where there is no heap (this host, without /dev/dma_heap) says so
if [ ! -e /dev/dma_heap ]; then
	"$hs" limit show >/dev/null 2>/tmp/cli_host.$$; rc=$?
	[ $rc = 0 ] && [ "$(cat /tmp/cli_host.$$)" = "heapstat limit: no DMA-BUF heaps here (no \
/dev/dma_heap: CONFIG_DMABUF_HEAPS): nothing to limit" ] &&
		pass "limit show without /dev/dma_heap: says so, exit 0" ||
		fail "limit show without /dev/dma_heap: says so, exit 0" "exit $rc: $(cat /tmp/cli_host.$$)"
fi
"$hs" report -h >/dev/null; rc=$?
[ $rc = 0 ] && pass "heapstat report -h: exit 0" || fail "heapstat report -h: exit 0" "exit $rc"
esc=$(printf '\033')
# the last ones are echoed by getopt (an unknown option) or with errno (a file)
for args in "report -c x$esc[31m" "top -d $esc]0;t$(printf '\007')" "report --source ${esc}c" \
	"x$esc[2J" "report --x$esc[2J" "top -$esc" "analyze /nonexistent/$esc[2J" \
	"export --textfile /nonexistent/$esc[2J"; do
	# shellcheck disable=SC2086
	"$hs" $args >/dev/null 2>/tmp/cli_host.$$; rc=$?
	[ $rc = 2 ] && ! grep -q "$(printf '\033')" /tmp/cli_host.$$ && grep -qF '^[' /tmp/cli_host.$$ &&
		pass "heapstat $(printf %s "${args%% *}" | cat -v): a bad argument with controls comes back escaped, exit 2" ||
		fail "heapstat $(printf %s "${args%% *}" | cat -v): a bad argument with controls comes back escaped, exit 2" \
			"exit $rc: $(od -c /tmp/cli_host.$$ | head -n 4)"
done
# options that do nothing where they are given, and durations past a day: exit 2 and why
while IFS='|' read -r args why; do
	# shellcheck disable=SC2086
	"$hs" $args >/dev/null 2>/tmp/cli_host.$$; rc=$?
	[ $rc = 2 ] && grep -qF -- "$why" /tmp/cli_host.$$ &&
		pass "heapstat $args: exit 2, said" ||
		fail "heapstat $args: exit 2, said" "exit $rc: $(cat /tmp/cli_host.$$)"
done <<'EOF'
report --attach kprobe heaps|--attach goes with --duration
limit show --memcg|--memcg goes with set, clear and exec --set
report -d 86400.5|seconds from 0.001 to 86400
record -o /tmp/cli_host.hsrec -d 86401 -- true|give seconds from 0.001 to 86400
limit events -f -d 100000|give seconds from 0.001 to 86400
record extra -o /tmp/cli_host.hsrec|give the recording's file with -o FILE, before the command
record -o /tmp/cli_host.hsrec --|no command after --
top -b -n 1 --heap nosuch|heapstat top: no heap or exporter 'nosuch'
limit set /nosuch system -1|heapstat limit: size '-1': give bytes
limit set / system 1MB|heapstat limit: size '1MB': give bytes with an optional K, M or G suffix (powers of 1024)
limit set /nosuch system 1.5G|heapstat limit: size '1.5G': give bytes
report -c /a/../b|cgroup '/a/../b': give a path from the cgroup2 root, starting with '/' and without '..' parts
top -b -n 1 -c /a/..|cgroup '/a/..': give a path from the cgroup2 root, starting with '/' and without '..' parts
record -d 1 -o /tmp/cli_host.hsrec -c rel|cgroup 'rel': give a path from the cgroup2 root
limit show rel|cgroup 'rel': give a path from the cgroup2 root
limit set / system 1M|heapstat limit: the root cgroup cannot be limited
limit clear /|heapstat limit: the root cgroup cannot be limited
limit show -f|heapstat limit: -f goes with events
limit show -c /x|heapstat limit: -c goes with events
limit exec --set system=1M / -- true|heapstat limit: the root cgroup cannot be limited
limit exec --create --set system=1M / -- true|heapstat limit: the root cgroup cannot be limited
record -o /tmp/cli_host.hsrec -d 1 -c /nope//x|heapstat record: no cgroup /nope/x (under /
report -d 0|heapstat report: invalid duration '0': give seconds from 0.001 to 86400, to the millisecond, e.g. 10 or 0.5
report -d 0.0015|invalid duration '0.0015': give seconds from 0.001 to 86400, to the millisecond
top -b -n 1 -d 0.1234|invalid interval '0.1234': seconds from 0.1 to 3600, to the millisecond
export -i 1.0001|invalid interval '1.0001': seconds from 0.1 to 3600, to the millisecond
top -b -n 1 --keep-removed 86401|invalid time to keep removed cgroups '86401': 0, or seconds up to 86400
top -b -n 1 --keep-removed -1|invalid time to keep removed cgroups '-1'
export --listen 127.0.0.1:9464 --keep-removed 1h|invalid time to keep removed cgroups '1h'
EOF
# a name too long for a message: cut ("..."), the message whole
"$hs" report --heap "$(printf 'h%.0s' $(seq 1000))" >/dev/null 2>/tmp/cli_host.$$; rc=$?
[ $rc = 2 ] && grep -q "^heapstat report: no heap or exporter 'h*\.\.\.' (not in .*, no live buffer of it)$" /tmp/cli_host.$$ &&
	pass "report --heap of 1000 bytes: exit 2, the name cut, the message whole" ||
	fail "report --heap of 1000 bytes: exit 2, the name cut, the message whole" "exit $rc: $(cat /tmp/cli_host.$$)"
# the same for arguments that are empty: each said as such
while IFS='|' read -r -a a; do
	why=${a[-1]}
	unset 'a[-1]'
	"$hs" "${a[@]}" >/dev/null 2>/tmp/cli_host.$$; rc=$?
	[ $rc = 2 ] && grep -qF -- "$why" /tmp/cli_host.$$ &&
		pass "heapstat ${a[*]}: exit 2, said" ||
		fail "heapstat ${a[*]}: exit 2, said" "exit $rc: $(cat /tmp/cli_host.$$)"
done <<'EOF'
top|-b|-n|1|--heap||heapstat top: no heap or exporter ''
record|-o||--|true|heapstat record: an empty file name: give one with -o
analyze||heapstat analyze: an empty file name: give the recording to analyse
analyze|x.hsrec|--html|/tmp/cli_host.html|--junit|/tmp/cli_host.html|--html and --junit both write /tmp/cli_host.html
analyze|x.hsrec|--html|/tmp/cli_host.html|--perfetto|/tmp/./cli_host.html|--html and --perfetto both write /tmp/./cli_host.html
analyze|x.hsrec|--junit|/tmp/a.xml|--junit|/tmp/b.xml|heapstat analyze: --junit given twice: one file each
analyze|x.hsrec|--html|/tmp/a.html|--html|/tmp/b.html|heapstat analyze: --html given twice: one file each
analyze|x.hsrec|--perfetto|/tmp/a.pf|--perfetto|/tmp/b.pf|heapstat analyze: --perfetto given twice: one file each
record|--flight|10|-o||--|true|heapstat record: an empty directory name: give one with -o
EOF
# a cgroup path longer than the kernel takes: said as such by every command
long=/$(printf '%05000d' 0)
for args in "report -c" "top -b -n 1 -c" "limit show" "limit events -c" "record -d 1 -o /tmp/cli_host.hsrec -c"; do
	# shellcheck disable=SC2086
	"$hs" $args "$long" >/dev/null 2>/tmp/cli_host.$$; rc=$?
	[ $rc = 2 ] && grep -q "^heapstat [a-z]*: cgroup '/0000.*': too long$" /tmp/cli_host.$$ &&
		pass "heapstat $args /0000...: exit 2, too long" ||
		fail "heapstat $args /0000...: exit 2, too long" "exit $rc: $(cut -c 1-200 /tmp/cli_host.$$)"
done
# a line break in an unknown command or option's name is shown, never printed:
# one line of stderr each, the break as ^J (getopt would print it whole)
for args in "x|heapstat: forged" "--x|forged" "report|--bad|forged" "analyze|--y|z"; do
	IFS='|' read -r -a a <<<"$args"
	last=$((${#a[@]} - 1))
	a[last - 1]="${a[last - 1]}"$'\n'"${a[last]}"
	unset 'a[last]'
	"$hs" "${a[@]}" >/dev/null 2>/tmp/cli_host.$$; rc=$?
	[ $rc = 2 ] && [ "$(grep -c . /tmp/cli_host.$$)" -ge 1 ] && grep -q "\^J" /tmp/cli_host.$$ &&
		! grep -qx "forged.*\|heapstat: forged.*\|z.*" /tmp/cli_host.$$ &&
		pass "heapstat ${a[*]//$'\n'/^J}: exit 2, the line break shown as ^J" ||
		fail "heapstat ${a[*]//$'\n'/^J}: exit 2, the line break shown as ^J" \
			"exit $rc: $(cat -A /tmp/cli_host.$$)"
done
# record's output checked before anything loads: exit 2, the collector never loaded
for out in /nonexistent/x.hsrec /tmp; do
	"$hs" record -o "$out" -- true >/dev/null 2>/tmp/cli_host.$$; rc=$?
	[ $rc = 2 ] && grep -q "cannot write in /nonexistent\|-o /tmp is a directory" /tmp/cli_host.$$ &&
		pass "record -o $out: exit 2 before loading anything" ||
		fail "record -o $out: exit 2 before loading anything" "exit $rc: $(cat /tmp/cli_host.$$)"
done
# heaptop -j into a pipe whose reader stalls (4 KiB of room, full within a
# second), a SIGINT coming while a frame's write waits: the write goes on once
# read (SA_RESTART), every line whole JSON, exit 0 (it was exit 1, "failed to
# write a frame: Interrupted system call", and a frame larger than the pipe cut)
out=$(python3 - "$hs" <<'PY'
import fcntl, json, os, signal, subprocess, sys, time
r, w = os.pipe()
fcntl.fcntl(w, 1031, 4096)	# F_SETPIPE_SZ
p = subprocess.Popen([sys.argv[1], 'top', '-j', '-d', '0.1'], stdout=w, stderr=subprocess.PIPE)
os.close(w)
time.sleep(2)
p.send_signal(signal.SIGINT)
time.sleep(0.5)
data = b''
while True:
    b = os.read(r, 65536)
    if not b:
        break
    data += b
rc = p.wait()
lines = data.decode(errors='replace').split('\n')
bad = 0
for l in lines[:-1]:
    try:
        json.loads(l)
    except ValueError:
        bad += 1
print(rc, len(lines) - 1, bad, repr(lines[-1]), p.stderr.read().decode().strip())
PY
)
read -r rc n bad last err <<<"$out"
[ "$rc" = 0 ] && [ "$n" -ge 4 ] && [ "$bad" = 0 ] && [ "$last" = "''" ] &&
	pass "top -j, a SIGINT while a write waits on a stalled pipe: whole JSON lines, exit 0" ||
	fail "top -j, a SIGINT while a write waits on a stalled pipe: whole JSON lines, exit 0" "$out"

# plain frames on a terminal whose locale is not UTF-8 (LC_ALL=C, in tmux): a
# character beyond ASCII is a ? per column, as the interactive view shows it
# there (its bytes could read as C1 controls); into a pipe, as it is
root=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/self/mounts)
cg=hs_$(printf '\303\274')$$	# ü
if [ "$(id -u)" = 0 ] && [ -n "$root" ] && mkdir "$root/$cg" 2>/dev/null; then
	rm -f /tmp/cli_host.$$.rc
	tmux -L cli_host$$ new-session -d -x 200 -y 20 \
		"LC_ALL=C $hs top -b -n 1 -d 0.1 -c /$cg; echo \$? >/tmp/cli_host.$$.rc; sleep 30" 2>/dev/null
	for _ in $(seq 100); do [ -s /tmp/cli_host.$$.rc ] && break; sleep 0.1; done
	pane=$(tmux -L cli_host$$ capture-pane -p 2>/dev/null)
	tmux -L cli_host$$ kill-server 2>/dev/null
	piped=$(LC_ALL=C "$hs" top -b -n 1 -d 0.1 -c "/$cg" 2>/dev/null | grep -c "cgroup /$cg,")
	rmdir "$root/$cg"
	[ "$(cat /tmp/cli_host.$$.rc 2>/dev/null)" = 0 ] && grep -q "cgroup /hs_?$$, " <<<"$pane" &&
		! grep -q "$cg" <<<"$pane" && [ "$piped" = 1 ] &&
		pass "top -b, a terminal in the C locale: beyond ASCII a ?; into a pipe, as it is" ||
		fail "top -b, a terminal in the C locale: beyond ASCII a ?; into a pipe, as it is" \
			"exit $(cat /tmp/cli_host.$$.rc 2>/dev/null), piped $piped: $pane"
else
	echo "SKIP: cli_host: top -b in the C locale: not root, or no cgroup2 to make a cgroup in"
fi

# plain frames without -n: the first within a second, the next an interval
# later; SIGINT ends it, exit 0 (--foreground: one SIGINT, to heaptop alone;
# timeout's others, to its process group and then SIGCONTs, could reach
# heapstat under ASan as its leak check stopped its threads at exit, which
# then waited for ever; killed 5 s after, if it did not end)
timeout --foreground --preserve-status -k 5 -s INT 3.5 "$hs" top -b -d 5 >/tmp/cli_host.$$ 2>/dev/null
rc=$?
n=$(grep -c '^heaptop - ' /tmp/cli_host.$$)
[ "$n" = 1 ] && [ $rc = 0 ] && pass "top -b -d 5: the first frame within a second, none more for 5 s" ||
	fail "top -b -d 5: the first frame within a second, none more for 5 s" "$n frames in 3.5 s, exit $rc"

# why nothing is traced, read whole on an 80-column screen: wrapped at
# spaces, as a plain frame (one line) says it
why=$("$hs" top -b -n 1 -d 0.1 2>/dev/null | grep '^NOT TRACED')
if [ -n "$why" ]; then
	tmux -L cli_host$$ new-session -d -x 80 -y 24 "$hs top -d 0.2" 2>/dev/null
	for _ in $(seq 100); do
		pane=$(tmux -L cli_host$$ capture-pane -p 2>/dev/null)
		grep -q '^view ' <<<"$pane" && break
		sleep 0.1
	done
	tmux -L cli_host$$ kill-server 2>/dev/null
	shown=$(sed -n '/^NOT TRACED/,/^view /p' <<<"$pane" | sed '$d' | sed 's/^  //' | paste -sd ' ')
	[ "$shown" = "$why" ] && [ "$(sed -n '/^NOT TRACED/,/^view /p' <<<"$pane" | wc -l)" -gt 2 ] &&
		pass "top on 80 columns: why nothing is traced, wrapped, read whole" ||
		fail "top on 80 columns: why nothing is traced, wrapped, read whole" "$why | $pane"
else
	echo "SKIP: cli_host: top on 80 columns: this kernel traces (nothing to say why not)"
fi

# heaptop on a terminal that cannot move its cursor (TERM=dumb, in tmux) or
# that it does not know: says so and that -b prints frames, exit 1, instead
# of a blank screen, before it loads anything (-v says nothing of sources)
for t in "dumb:TERM=dumb cannot move the cursor:" \
	"nosuchterm:cannot set up the terminal (TERM=nosuchterm):" \
	"unset:cannot set up the terminal (TERM is not set):" \
	"empty:cannot set up the terminal (TERM is empty):"; do
	rm -f /tmp/cli_host.$$.rc
	envs="TERM=${t%%:*}"
	[ "${t%%:*}" = unset ] && envs="env -u TERM"
	[ "${t%%:*}" = empty ] && envs="TERM="
	tmux -L cli_host$$ new-session -d -x 80 -y 10 \
		"$envs $hs top -v -d 0.2 2>/tmp/cli_host.$$; echo \$? >/tmp/cli_host.$$.rc" 2>/dev/null
	for _ in $(seq 100); do [ -s /tmp/cli_host.$$.rc ] && break; sleep 0.1; done
	tmux -L cli_host$$ kill-server 2>/dev/null
	[ "$(cat /tmp/cli_host.$$.rc 2>/dev/null)" = 1 ] &&
		[ "$(cat /tmp/cli_host.$$)" = "heapstat top: ${t#*:} heaptop -b prints frames one after another" ] &&
		pass "top with TERM=${t%%:*}: exit 1, says why and what prints frames, before loading" ||
		fail "top with TERM=${t%%:*}: exit 1, says why and what prints frames, before loading" \
			"exit $(cat /tmp/cli_host.$$.rc 2>/dev/null): $(cat /tmp/cli_host.$$)"
done

# a kernel without BTF (its /sys/kernel/btf hidden, in a mount namespace of
# its own): what must trace says so, the cause and not what failed for want
# of it; report -d and record exit 2 (the system cannot run them), record
# before its file is made; limit events -f, which follows bpf-lsm refusals
# without the collector, exits 1; heaptop shows snapshots and says why
# (where this kernel has BTF to hide, and a mount namespace can be made)
nobtf_run() {
	over_tmpfs "" /sys/kernel/btf "$@"
}
if [ -r /sys/kernel/btf/vmlinux ] && command -v unshare >/dev/null && nobtf_run true 2>/dev/null
then
	nobtf="this kernel has no BTF (/sys/kernel/btf/vmlinux): build it with CONFIG_DEBUG_INFO_BTF=y"
	rm -f /tmp/cli_host.$$.rec
	while IFS='|' read -r want args said then; do
		# shellcheck disable=SC2086
		nobtf_run "$hs" $args >/tmp/cli_host.$$.out 2>/tmp/cli_host.$$; rc=$?
		[ $rc = "$want" ] && grep -qxF -- "$said: $nobtf$then" /tmp/cli_host.$$ &&
			[ ! -e /tmp/cli_host.$$.rec ] &&
			pass "heapstat ${args//$$/PID} without BTF: exit $want, says why" ||
			fail "heapstat ${args//$$/PID} without BTF: exit $want, says why" \
				"exit $rc: $(cat /tmp/cli_host.$$)$([ -e /tmp/cli_host.$$.rec ] && echo ', file made')"
	done <<EOF2
2|record -o /tmp/cli_host.$$.rec -- true|heapstat record: nothing can be recorded|
2|report -d 1|heapstat report|, or use --source procfs
1|limit events -f -d 1|heapstat limit events: dmem and memcg refusals cannot be seen|
EOF2
	nobtf_run "$hs" top -b -n 1 >/tmp/cli_host.$$.out 2>/tmp/cli_host.$$; rc=$?
	[ $rc = 0 ] && grep -qF "NOT TRACED (snapshots only: no rates, latencies or failures): $nobtf" \
		/tmp/cli_host.$$.out &&
		pass "heaptop -b without BTF: snapshots, saying why nothing is traced" ||
		fail "heaptop -b without BTF: snapshots, saying why nothing is traced" \
			"exit $rc: $(cat /tmp/cli_host.$$ /tmp/cli_host.$$.out)"
else
	echo "SKIP: cli_host: without BTF: needs a kernel with BTF to hide, root and unshare"
fi
rm -f /tmp/cli_host.$$ /tmp/cli_host.$$.rc /tmp/cli_host.$$.out /tmp/cli_host.$$.rec
