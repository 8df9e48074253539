#!/bin/bash
# analyze --junit as CI reads it: valid against tests/record/junit.xsd (the
# Ant JUnit format, strict: the schema is shown to refuse broken variants),
# a testcase per check plus "recording", the failures' text bodies naming
# what analyze -j finds, a cut recording still reported, hostile names
# escaped, an unwritable path refused.
# usage: tests/record/junit.sh DIR (holding run.hsrec, kselftest.hsrec and seeds/)
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
hs=$top/build/heapstat
xsd=$top/tests/record/junit.xsd
run=$1/run.hsrec
ks=$1/kselftest.hsrec
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS: record_outputs: junit: $1"; }
fail() { echo "FAIL: record_outputs: junit: $1: $2"; }
check() { # NAME WHY CONDITION...: PASS when the condition holds
	local name=$1 why=$2
	shift 2
	if "$@"; then pass "$name"; else fail "$name" "$why"; fi
}
xp() { xmllint --xpath "$1" "$2" 2>/dev/null; }	# an XPath's string value
valid() { xmllint --noout --schema "$xsd" "$1" 2>"$tmp/xmllint.err"; }
# the names of the testcases (names WHICH FILE: of those with a WHICH child), one a line
names() {
	local n i
	n=$(xp "count(//testcase$1)" "$2")
	for ((i = 1; i <= n; i++)); do
		xp "string((//testcase$1)[$i]/@name)" "$2"	# with its newline
	done
}
: >"$tmp/xmllint.err"

checks='leaks,failures,peak:system>3M,peak:system>4M,p99:system>1s'

# the known run, five checks
"$hs" analyze "$run" -j >"$tmp/a.json" 2>/dev/null
"$hs" analyze "$run" --fail-on "$checks" --junit "$tmp/run.xml" >/dev/null 2>"$tmp/err"; rc=$?
check "run: exit 1 on failed checks" "exit $rc: $(cat "$tmp/err")" [ $rc = 1 ]
check "run: valid against junit.xsd" "$(cat "$tmp/xmllint.err")" valid "$tmp/run.xml"
got=$(names "" "$tmp/run.xml" | paste -sd ' ')
check "run: a testcase per check and 'recording'" "$got" \
	[ "$got" = "leaks failures peak:system>3M peak:system>4M p99:system>1s recording" ]
got=$(names "[failure]" "$tmp/run.xml" | paste -sd ' ')
counts=$(xp 'concat(/testsuites/@tests," ",/testsuites/@failures," ",/testsuites/@errors," ",
	/testsuites/testsuite/@tests," ",/testsuites/testsuite/@failures," ",
	/testsuites/testsuite/@errors," ",count(//testsuite)," ",/testsuites/testsuite/@name)' \
	"$tmp/run.xml")
check "run: leaks, failures and peak:system>3M failed, the counts say 6 tests, 3 failures" \
	"failed '$got', counts '$counts'" \
	[ "$got" = "leaks failures peak:system>3M" -a "$counts" = "6 3 0 6 3 0 1 heapstat analyze" ]

# the leaks body names every leaked inode analyze -j finds, as 2.0M of default_cma_region
body=$(xp 'string(//testcase[@name="leaks"]/failure)' "$tmp/run.xml")
inodes=$(jq -r '.leaks[].inode' "$tmp/a.json")
ok=1
[ "$(wc -w <<<"$inodes")" = 3 ] || ok=0
for i in $inodes; do
	grep -q "^inode $i: default_cma_region 2\.0M by pid [0-9]* (dmabuf_alloc) in /[^ ]* at .*, \
held at the end by pid [0-9]*$" <<<"$body" || ok=0
done
[ "$(grep -c '^inode ' <<<"$body")" = 3 ] || ok=0
[ "$(head -n1 <<<"$body")" = "leaks: 3 buffers, 6.0M" ] || ok=0
msg=$(xp 'string(//testcase[@name="leaks"]/failure/@message)' "$tmp/run.xml")
check "run: the leaks failure's text lists the 3 leaked inodes ($(echo $inodes))" \
	"inodes '$(echo $inodes)', message '$msg', body: $body" \
	[ $ok = 1 -a "$msg" = "leaks: 3 buffers, 6.0M" ]

body=$(xp 'string(//testcase[@name="failures"]/failure)' "$tmp/run.xml")
type=$(xp 'string(//testcase[@name="failures"]/failure/@type)' "$tmp/run.xml")
check "run: the failures failure's text names the 4.0M allocation refused by a limit" \
	"type '$type', body: $body" eval '[ "$type" = failures ] &&
	[ "$(head -n1 <<<"$body")" = "failures: 1 failed allocation" ] &&
	[ "$(grep -c . <<<"$body")" = 2 ] &&
	grep -q "^default_cma_region 4\.0M by pid [0-9]* (dmabuf_alloc) in .*: .* (limit)$" \
		<<<"$body"'

body=$(xp 'string(//testcase[@name="peak:system>3M"]/failure)' "$tmp/run.xml")
out=$(xp 'string(//testcase[@name="peak:system>4M"]/system-out)' "$tmp/run.xml")
p99=$(jq '[.heaps[] | select(.heap == "system")][0].latency.p99_ns' "$tmp/a.json")
lat=$(xp 'string(//testcase[@name="p99:system>1s"]/system-out)' "$tmp/run.xml")
check "run: peaks name whose allocations made them, passing checks keep their numbers in system-out" \
	"3M: $body / 4M: $out / p99: $lat" eval '
	grep -qx "peak:system: 4.0M over 3.0M" <<<"$body" &&
	grep -qx "alive then, allocated by pid [0-9]* (dmabuf_alloc) in /.*: 4.0M in 4 buffers" <<<"$body" &&
	grep -qx "peak:system: 4.0M within 4.0M" <<<"$out" &&
	grep -qx "alive then, allocated by pid [0-9]* (dmabuf_alloc) in /.*: 4.0M in 4 buffers" <<<"$out" &&
	grep -qx "p99:system: .* within 1.0s" <<<"$lat" &&
	grep -qx "4 allocations: p50 .*, p90 .*, p99 .*, max .*" <<<"$lat" &&
	[ "$p99" -gt 0 ] &&
	[ "$(xp "count(//testcase[system-out and not(failure)])" "$tmp/run.xml")" = 3 ]'

# the recording's testcase and the suite's attributes, from analyze -j
ns=$(jq '.recording.duration_ns' "$tmp/a.json")
want_time=$(printf '%d.%03d' $((ns / 1000000000)) $((ns / 1000000 % 1000)))
want_host=$(jq -r '.recording.host' "$tmp/a.json")
events=$(jq '.recording.events' "$tmp/a.json")
got=$(xp 'concat(//testsuite/@time,"|",//testsuite/@hostname,"|",//testsuite/@timestamp,"|",
	//testcase[@name="recording"]/system-out,"|",//testcase[1]/@classname)' "$tmp/run.xml")
stamp='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}'
want="recording: $events events over [^|]*, 0 lost, exited 5"
check "run: time, hostname, timestamp, 'recording' passed" "got '$got'" eval '
	[[ "$got" =~ ^"$want_time|$want_host|"$stamp"|"$want$'\''\n'\''"|heapstat.run"$ ]]'

# no --fail-on: leaks and failures judged, and the exit status still 0
"$hs" analyze "$run" --junit "$tmp/d.xml" >/dev/null 2>"$tmp/err"; rc=$?
got=$(names "" "$tmp/d.xml" | paste -sd ' ')
check "no --fail-on: leaks, failures and recording judged, exit 0, nothing on stderr" \
	"exit $rc, testcases '$got': $(cat "$tmp/err")" \
	eval '[ $rc = 0 ] && [ ! -s "$tmp/err" ] && valid "$tmp/d.xml" &&
	[ "$got" = "leaks failures recording" ] &&
	[ "$(names "[failure]" "$tmp/d.xml" | paste -sd " ")" = "leaks failures" ]'
"$hs" analyze --help | tr '\n' ' ' |
	grep -q -- "--junit.*exit status stays 0 when they fail: only --fail-on sets it" &&
	pass "--help says --junit alone leaves the exit status 0" ||
	fail "--help says --junit alone leaves the exit status 0" "$("$hs" analyze --help)"

# no temporary file left beside the report
left=$(ls "$tmp" | grep -c '\.tmp$')
check "no temporary file left beside the reports" "$(ls "$tmp")" [ "$left" = 0 ]

# a recording cut short, inside its records: exit 3, "recording" failed, still valid
size=$(stat -c %s "$run")
head -c $((size * 2 / 3)) "$run" >"$tmp/cut.hsrec"
"$hs" analyze "$tmp/cut.hsrec" --fail-on leaks --junit "$tmp/cut.xml" >/dev/null 2>"$tmp/err"; rc=$?
got=$(xp 'concat(//testcase[@name="recording"]/failure/@type,"|",//testsuite/@failures,"|",
	//testcase[@name="recording"]/failure/@message)' "$tmp/cut.xml")
check "cut at byte $((size * 2 / 3)) of $size: exit 3, valid, 'recording' failed as truncated" \
	"exit $rc, got '$got': $(cat "$tmp/err" "$tmp/xmllint.err")" eval '[ $rc = 3 ] &&
	valid "$tmp/cut.xml" &&
	[[ "$got" =~ ^"truncated|"[12]"|recording: cut short at byte "[0-9]+" (" ]]'
# cut inside its header: nothing judged, the report says so as an error
head -c 20 "$run" >"$tmp/hdr.hsrec"
"$hs" analyze "$tmp/hdr.hsrec" --fail-on leaks --junit "$tmp/hdr.xml" >/dev/null 2>"$tmp/err"; rc=$?
got=$(xp 'concat(count(//testcase),"|",//testsuite/@errors,"|",//testsuite/@failures,"|",
	//testcase[@name="recording"]/error/@type)' "$tmp/hdr.xml")
check "cut inside its header: exit 3, a valid report of one error 'recording'" \
	"exit $rc, got '$got': $(cat "$tmp/err" "$tmp/xmllint.err")" \
	eval '[ $rc = 3 ] && valid "$tmp/hdr.xml" && [ "$got" = "1|1|0|unreadable" ]'

# the kselftest: 11 failures listed, well-formed and valid
"$hs" analyze "$ks" -j >"$tmp/k.json" 2>/dev/null
"$hs" analyze "$ks" --fail-on leaks,failures --junit "$tmp/k.xml" >/dev/null 2>"$tmp/err"; rc=$?
nfail=$(jq '.failed_allocations' "$tmp/k.json")
body=$(xp 'string(//testcase[@name="failures"]/failure)' "$tmp/k.xml")
check "kselftest: valid, exit 1, its $nfail failures one line each, no leak" \
	"exit $rc, body: $body $(cat "$tmp/err" "$tmp/xmllint.err")" eval '[ $rc = 1 ] &&
	xmllint --noout "$tmp/k.xml" 2>"$tmp/xmllint.err" && valid "$tmp/k.xml" &&
	[ "$nfail" -gt 0 ] &&
	[ "$(grep -c " by pid [0-9]* (.*) in .* at .*: .* ([a-z]*)$" <<<"$body")" = "$nfail" ] &&
	[ "$(names "[failure]" "$tmp/k.xml" | paste -sd " ")" = failures ]'

# hostile names: a recording's file name and a check's heap holding markup,
# quotes, controls, an escape sequence, a C1 control, a bidirectional control
# and bytes that are not UTF-8 (the writer's samples name that heap:
# tests/unit/record_samples.h)
evil=$(printf 'r&<>"\x27\x01\x1b[31m\xff\xc2\x85\xe2\x80\xae\t.x')
cp "$1/seeds/samples" "$tmp/$evil.hsrec"
heap=$(printf 'a<b&c"d\x27\x02\x1b]0;t\x07\xfe\xc2\x9b\tz')
"$hs" analyze "$tmp/$evil.hsrec" --fail-on "failures,peak:$heap>1M" --junit "$tmp/evil.xml" \
	>/dev/null 2>"$tmp/err"; rc=$?
got=$(xp 'concat(//testcase[2]/@name,"|",//testcase[1]/@classname)' "$tmp/evil.xml")
want=$(printf 'peak:a<b&c"d\x27\\x02\\x1b]0;t\\x07\\xfe\\x9b\tz>1M|')
want+=$(printf 'heapstat.r&<>"\x27\\x01\\x1b[31m\\xff\\x85\\u202e\t.x')
check "hostile names: well-formed, valid, \\xNN (\\uNNNN) for what XML or a terminal must not get" \
	"exit $rc, got '$got' want '$want': $(cat "$tmp/err" "$tmp/xmllint.err")" eval '
	[ $rc = 1 ] && xmllint --noout "$tmp/evil.xml" 2>"$tmp/xmllint.err" &&
	valid "$tmp/evil.xml" && [ "$got" = "$want" ] &&
	! LC_ALL=C grep -q "[[:cntrl:]]" <(tr -d "\n" <"$tmp/evil.xml") &&
	iconv -f UTF-8 -t UTF-8 "$tmp/evil.xml" >/dev/null'

# the schema bites: broken variants of a good report are refused
broken() { # NAME SED-SCRIPT
	sed "$2" "$tmp/run.xml" >"$tmp/broken.xml"
	if cmp -s "$tmp/run.xml" "$tmp/broken.xml"; then
		fail "junit.xsd refuses $1" "the sed script changed nothing"
	elif xmllint --noout --schema "$xsd" "$tmp/broken.xml" 2>/dev/null; then
		fail "junit.xsd refuses $1" "it validates"
	else
		pass "junit.xsd refuses $1"
	fi
}
broken "a testsuite without tests=" '/<testsuite /s/ tests="[0-9]*"//'
broken "a testcase without classname=" '0,/<testcase /s/ classname="[^"]*"//'
broken "a failure without type=" '0,/<failure /s/ type="[^"]*"//'
broken "properties after a testcase" '/<properties>/,/<\/properties>/d; /<\/testsuite>/i\
    <properties><property name="x" value="y"/></properties>'
broken "system-out before a failure" '0,/<failure /s/<failure /<system-out\/><failure /'
broken "a timestamp that is no date" 's/ timestamp="[^"]*"/ timestamp="yesterday"/'
broken "a negative time" '0,/<testcase /s/ time="[^"]*"/ time="-1"/'
broken "an unknown element" 's/<properties>/<properties><bogus\/>/'

# an unwritable report: exit 2, said so, nothing left behind
"$hs" analyze "$run" --junit /nonexistent/x.xml >"$tmp/o0" 2>"$tmp/err"; rc=$?
check "an unwritable --junit path: exit 2 and why, no analysis printed (as --html's)" \
	"exit $rc: $(cat "$tmp/err"; head -c 300 "$tmp/o0")" eval '
	[ $rc = 2 ] && [ ! -s "$tmp/o0" ] &&
	grep -qx "heapstat analyze: failed to create /nonexistent/x.xml: No such file or directory" \
		"$tmp/err"'
# an empty name, and a file that is there but cannot be replaced (nothing can
# be made beside it in /proc): each said as it is
"$hs" analyze "$run" --junit '' >"$tmp/o1" 2>"$tmp/e1"; r1=$?
"$hs" analyze "$run" --junit /proc/version >/dev/null 2>"$tmp/e2"; r2=$?
check "an empty --junit path and one that cannot be replaced: exit 2, each said" \
	"exit $r1: $(cat "$tmp/e1"); exit $r2: $(cat "$tmp/e2")" eval '
	[ $r1 = 2 ] && grep -qx "heapstat analyze: --junit: an empty file name: give one" "$tmp/e1" &&
	[ ! -s "$tmp/o1" ] &&
	[ $r2 = 2 ] && grep -qx "heapstat analyze: failed to replace /proc/version: cannot make /proc/version\.[0-9]*\.tmp beside it: .*" "$tmp/e2"'
mkdir "$tmp/dir"
"$hs" analyze "$run" --fail-on leaks --junit "$tmp/dir" >/dev/null 2>"$tmp/err"; rc=$?
check "a directory as --junit path: exit 2, no temporary file left" \
	"exit $rc: $(cat "$tmp/err"; ls "$tmp")" eval '[ $rc = 2 ] &&
	grep -q "failed to create .*/dir: Is a directory" "$tmp/err" &&
	[ -z "$(ls "$tmp" | grep "\.tmp$")" ] && [ -d "$tmp/dir" ]'

if command -v valgrind >/dev/null; then
	valgrind -q --leak-check=full --error-exitcode=9 "$hs" analyze "$ks" --junit "$tmp/v.xml" \
		--fail-on "leaks,failures,peak:system>1M,p99:system>1ms" >/dev/null 2>"$tmp/err"
	rc=$?
	check "valgrind: analyze --junit clean" "exit $rc: $(cat "$tmp/err")" [ $rc = 1 ]
else
	echo "SKIP: record_outputs: junit: valgrind: not installed"
fi
