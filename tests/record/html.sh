#!/bin/bash
# analyze --html on the known run (tests/vm/record/workload.sh) and on
# upstream's kselftest: one file that loads nothing, rendered by headless
# Chromium, whose DOM shows what analyze -j says (the leaks, the failure on a
# limit, a timeline series per heap drawn step by step) and whose screenshot
# is a real, non-blank 1280 px wide PNG; strings a user controls (comm,
# cgroup path, host) are shown, never obeyed; a path it cannot write exits 2.
# usage: tests/record/html.sh DIR (holding run.hsrec and kselftest.hsrec)
. "$(dirname "$0")/../lib.sh"
hs=${HEAPSTAT:-$(cd "$(dirname "$0")/../.." && pwd)/build/heapstat}
dir=$(cd "$1" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
pass() { echo "PASS: record_outputs: $*"; }
fail() { _t=$1; shift; echo "FAIL: record_outputs: $_t: $*"; }

# a blank 1280x2000 page's screenshot is about 12 KB; a report's is far above
MIN_PNG=60000

# xp XPATH FILE: the XPath's value on an HTML file (libxml2 warns about the
# SVG elements it does not know: they are parsed all the same)
xp() { xmllint --html --xpath "$1" "$2" 2>/dev/null; }

# render NAME: DIR/NAME.html's DOM after Chromium loaded it in $tmp/NAME.dom
# and its screenshot in DIR/NAME.png (Chromium's dbus and GPU chatter ignored)
render() {
	rm -f "$dir/$1.png"
	timeout 60 chromium --headless --disable-gpu --no-sandbox --user-data-dir="$tmp/chromium" \
		--window-size=1280,2000 --screenshot="$dir/$1.png" --dump-dom \
		"file://$dir/$1.html" >"$tmp/$1.dom" 2>"$tmp/$1.chromium"
}

# png_ok PNG: a PNG (signature, IHDR first) 1280 px wide, and not a blank page
png_ok() {
	[ -f "$1" ] && [ "$(od -An -tx1 -N16 "$1" | tr -d ' \n')" = \
		89504e470d0a1a0a0000000d49484452 ] &&
		[ "$(od -An -tu1 -j16 -N4 "$1" | tr -s ' ')" = " 0 0 5 0" ] &&
		[ "$(stat -c %s "$1")" -gt $MIN_PNG ]
}

# offline NAME: nothing in DIR/NAME.html points outside it
offline() {
	! grep -Eiq 'https?://|<link|@import|url\(|src=|<script|<iframe|<object|<embed' \
		"$dir/$1.html"
}

# leak_rows DOM: "inode heap comm" of each row of the leaks table
leak_rows() {
	n=$(xp 'count(//table[@id="leaks"]//tr[@data-inode])' "$1")
	for i in $(seq 1 "${n:-0}"); do
		r="(//table[@id=\"leaks\"]//tr[@data-inode])[$i]"
		echo "$(xp "string($r/td[1])" "$1") $(xp "string($r/td[2])" "$1")" \
			"$(xp "string($r/td[5])" "$1")"
	done
}

# series_ok DOM JSON: the timeline has one series per heap -j names, no other,
# each with one vertical move per allocation and release of the heap
series_ok() {
	[ "$(xp 'count(//svg[@id="timeline"]//path[@class="series"])' "$1")" = \
		"$(jq '.heaps | length' "$2")" ] || return 1
	for h in $(jq -r '.heaps[].heap' "$2"); do
		steps=$(jq --arg h "$h" '[.heaps[] | select(.heap == $h)][0] |
			(.latency.count // 0) + (.lifetime.count // 0)' "$2")
		d=$(xp "string(//svg[@id=\"timeline\"]//path[@data-heap=\"$h\"]/@d)" "$1")
		[ -n "$d" ] && [ "$(tr -cd V <<<"$d" | wc -c)" = "$steps" ] || return 1
	done
}

# the known run: 3 leaks, a failure on a limit, system and default_cma_region
"$hs" analyze "$dir/run.hsrec" -j >"$tmp/run.json" 2>/dev/null
rm -f "$dir/run.html"
"$hs" analyze "$dir/run.hsrec" --fail-on leaks,failures --html "$dir/run.html" >/dev/null \
	2>"$tmp/err"
rc=$?
[ $rc = 1 ] && [ -s "$dir/run.html" ] && offline run &&
	pass "--html writes one page that loads nothing (with failing checks: exit 1)" ||
	fail "--html writes one page that loads nothing (with failing checks: exit 1)" \
		"exit $rc: $(cat "$tmp/err"; grep -Eio \
		'.{20}(https?://|<link|@import|url\(|src=|<script).{20}' "$dir/run.html" | head -3)"

render run
rc=$?
dom=$tmp/run.dom
[ $rc = 0 ] && [ "$(xp 'count(//table[@id="leaks"])' "$dom")" = 1 ] &&
	pass "chromium renders run.html" ||
	fail "chromium renders run.html" "exit $rc: $(tail -3 "$tmp/run.chromium")"

leak_rows "$dom" | sort >"$tmp/leaks.dom"
jq -r '.leaks[] | "\(.inode) \(.heap) \(.comm)"' "$tmp/run.json" | sort >"$tmp/leaks.json"
[ "$(jq '.leaks | length' "$tmp/run.json")" = 3 ] && [ "$(wc -l <"$tmp/leaks.dom")" = 3 ] &&
	cmp -s "$tmp/leaks.dom" "$tmp/leaks.json" &&
	pass "the leaks table shows the 3 leaks of analyze -j (inode, heap, comm)" ||
	fail "the leaks table shows the 3 leaks of analyze -j (inode, heap, comm)" \
		"page: $(tr '\n' ',' <"$tmp/leaks.dom") -j: $(tr '\n' ',' <"$tmp/leaks.json")"

n=$(xp 'count(//table[@id="failures"]//tr[@data-class="limit"])' "$dom")
h=$(xp 'string(//table[@id="failures"]//tr[@data-class="limit"]/td[2])' "$dom")
[ "$(jq '.failures.limit' "$tmp/run.json")" = 1 ] && [ "$n" = 1 ] &&
	[ "$(xp 'count(//table[@id="failures"]//tr[@data-class])' "$dom")" = \
		"$(jq '.failed_allocations' "$tmp/run.json")" ] && [ "$h" = default_cma_region ] &&
	pass "the failed allocations list the one refused by a limit" ||
	fail "the failed allocations list the one refused by a limit" \
		"$n rows of class limit, heap '$h'"

t='//svg[@id="timeline"]//path[@class="series"]'
what="the timeline draws system and default_cma_region, a step per allocation and release"
series_ok "$dom" "$tmp/run.json" && [ "$(xp "count($t[@data-heap=\"system\"])" "$dom")" = 1 ] &&
	[ "$(xp "count($t[@data-heap=\"default_cma_region\"])" "$dom")" = 1 ] &&
	pass "$what" || fail "$what" \
		"$(xp '//svg[@id="timeline"]//path[@class="series"]' "$dom" | head -c 600)"

png_ok "$dir/run.png" &&
	pass "run.png: a 1280 px wide PNG, $(stat -c %s "$dir/run.png") bytes (not blank)" ||
	fail "run.png: a 1280 px wide PNG (not blank)" \
		"$(od -An -tx1 -N24 "$dir/run.png" 2>&1) $(stat -c %s "$dir/run.png" 2>&1)"

# upstream's kselftest: 5 heaps, 11 failures, no leak, a page under 1 MB
"$hs" analyze "$dir/kselftest.hsrec" -j >"$tmp/ks.json" 2>/dev/null
rm -f "$dir/kselftest.html"
"$hs" analyze "$dir/kselftest.hsrec" --fail-on leaks --html "$dir/kselftest.html" >/dev/null \
	2>"$tmp/err"
rc=$?
size=$(stat -c %s "$dir/kselftest.html" 2>/dev/null || echo 0)
[ $rc = 0 ] && [ "$size" -gt 0 ] && [ "$size" -lt 1048576 ] && offline kselftest &&
	pass "kselftest.html: $size bytes, under 1 MB, loads nothing" ||
	fail "kselftest.html: under 1 MB, loads nothing" "exit $rc, $size bytes: $(cat "$tmp/err")"

render kselftest
rc=$?
dom=$tmp/kselftest.dom
[ $rc = 0 ] && [ "$(xp 'count(//table[@id="leaks"]//tr[@data-inode])' "$dom")" = \
	"$(jq '.leaks | length' "$tmp/ks.json")" ] &&
	[ "$(xp 'count(//table[@id="failures"]//tr[@data-class])' "$dom")" = \
		"$(jq '.failed_allocations' "$tmp/ks.json")" ] &&
	[ "$(jq '.failed_allocations' "$tmp/ks.json")" -gt 0 ] && series_ok "$dom" "$tmp/ks.json" &&
	[ "$(xp 'count(//table[@id="check-table"]//tr[@data-failed="0"])' "$dom")" = 1 ] &&
	pass "kselftest.html: leaks, failures, a series per heap and the check as -j says" ||
	fail "kselftest.html: leaks, failures, a series per heap and the check as -j says" \
		"chromium exit $rc; $(xp 'count(//table[@id="leaks"]//tr[@data-inode])' "$dom")" \
		"leaks," \
		"$(xp 'count(//table[@id="failures"]//tr[@data-class])' "$dom") failures," \
		"$(xp 'count(//svg[@id="timeline"]//path[@class="series"])' "$dom") series"
png_ok "$dir/kselftest.png" &&
	pass "kselftest.png: a 1280 px wide PNG, $(stat -c %s "$dir/kselftest.png") bytes" \
		"(not blank)" ||
	fail "kselftest.png: a 1280 px wide PNG (not blank)" \
		"$(od -An -tx1 -N24 "$dir/kselftest.png" 2>&1)"

# --junit alone judges leaks and failures for its report; the page shows
# --fail-on's checks only, and says that none was given (exit 0)
"$hs" analyze "$dir/run.hsrec" --junit "$tmp/j.xml" --html "$tmp/j.html" >/dev/null 2>"$tmp/err"
rc=$?
[ $rc = 0 ] && [ "$(xp 'count(//table[@id="check-table"])' "$tmp/j.html")" = 0 ] &&
	grep -q "No --fail-on check was given" "$tmp/j.html" &&
	[ "$(xmllint --xpath 'count(//testcase[@name="leaks"]/failure)' "$tmp/j.xml")" = 1 ] &&
	pass "--junit without --fail-on: its checks fail in the XML, the page judges nothing" ||
	fail "--junit without --fail-on: its checks fail in the XML, the page judges nothing" \
		"exit $rc: $(cat "$tmp/err"; grep -o '[^>]*</b><span>--fail-on checks' "$tmp/j.html")"

# a path that cannot be written: exit 2, said, nothing left behind
for out in "$tmp/no/such/dir/x.html" "$tmp"; do
	"$hs" analyze "$dir/run.hsrec" --html "$out" >/dev/null 2>"$tmp/err"
	rc=$?
	[ $rc = 2 ] && grep -q "^heapstat analyze: failed to create " "$tmp/err" &&
		[ ! -e "$tmp/no" ] && pass "--html $out: exit 2" ||
		fail "--html $out: exit 2" "exit $rc: $(cat "$tmp/err")"
done
# no output over the recording it reads, refused before anything is
# printed or written (another output of the same run too); a device is
# written through and never removed when the write fails; a symlink is
# written through, not replaced
cp "$dir/run.hsrec" "$tmp/copy.hsrec"
mknod "$tmp/full" c 1 7	# /dev/full's numbers
for opt in --html --junit --perfetto; do
	side=--html
	[ $opt = --html ] && side=--perfetto
	"$hs" analyze "$tmp/copy.hsrec" $side "$tmp/side" $opt "$tmp/copy.hsrec" >"$tmp/o" 2>"$tmp/err"
	rc=$?
	[ $rc = 2 ] && grep -qx "heapstat analyze: $opt $tmp/copy.hsrec is the recording: not writing over it" "$tmp/err" &&
		cmp -s "$dir/run.hsrec" "$tmp/copy.hsrec" && [ ! -s "$tmp/o" ] && [ ! -e "$tmp/side" ] &&
		pass "$opt refuses to write over the recording: exit 2, nothing printed or written" ||
		fail "$opt refuses to write over the recording: exit 2, nothing printed or written" \
			"exit $rc: $(cat "$tmp/err"; head -c 300 "$tmp/o"; ls "$tmp/side" 2>&1)"
	"$hs" analyze "$tmp/copy.hsrec" $opt "$tmp/full" >/dev/null 2>"$tmp/err"
	rc=$?
	[ $rc = 2 ] && grep -q "failed to write .*: No space left on device" "$tmp/err" && [ -c "$tmp/full" ] &&
		pass "$opt to a full device: exit 2, the device left alone" ||
		fail "$opt to a full device: exit 2, the device left alone" "exit $rc: $(cat "$tmp/err"; ls -l "$tmp/full")"
	rm -f "$tmp/target" "$tmp/link"
	ln -s "$tmp/target" "$tmp/link"
	"$hs" analyze "$tmp/copy.hsrec" $opt "$tmp/link" >/dev/null 2>"$tmp/err"
	rc=$?
	[ $rc = 0 ] && [ -L "$tmp/link" ] && [ -s "$tmp/target" ] && [ -z "$(ls "$tmp" | grep '\.tmp$')" ] &&
		pass "$opt through a symlink: its target written, the link kept" ||
		fail "$opt through a symlink: its target written, the link kept" "exit $rc: $(cat "$tmp/err"; ls -l "$tmp")"
	# a name of NAME_MAX bytes: the file written beside it fits too
	long=$tmp/$(printf 'n%.0s' $(seq 251)).out
	"$hs" analyze "$tmp/copy.hsrec" $opt "$long" >/dev/null 2>"$tmp/err"
	rc=$?
	[ $rc = 0 ] && [ -s "$long" ] && [ -z "$(ls "$tmp" | grep '\.tmp$')" ] &&
		pass "$opt to a name of 255 bytes: written" ||
		fail "$opt to a name of 255 bytes: written" "exit $rc: $(cat "$tmp/err"; ls "$tmp")"
	rm -f "$long"
	# ended by a signal while written (TERM at its fsync): the half-written file removed
	strace -f -o /dev/null -e trace=fsync -e inject=fsync:signal=SIGTERM \
		"$hs" analyze "$tmp/copy.hsrec" $opt "$tmp/sig.out" >/dev/null 2>"$tmp/err"
	rc=$?
	[ $rc = 143 ] && [ ! -e "$tmp/sig.out" ] && [ -z "$(ls "$tmp" | grep '\.tmp$')" ] &&
		pass "$opt: TERM while written leaves no file behind" ||
		fail "$opt: TERM while written leaves no file behind" "exit $rc: $(cat "$tmp/err"; ls "$tmp")"
done
# a reader of stdout that stops at once (| head): every file written all the same
# (the JSON is more than stdio's buffer, written before the end)
"$hs" analyze "$dir/kselftest.hsrec" -j --html "$tmp/p.html" --junit "$tmp/p.xml" --perfetto "$tmp/p.pf" \
	2>"$tmp/err" | (exec <&-; sleep 1)
[ -s "$tmp/p.html" ] && [ -s "$tmp/p.xml" ] && [ -s "$tmp/p.pf" ] &&
	pass "analyze | head: the HTML, JUnit and Perfetto files written" ||
	fail "analyze | head: the HTML, JUnit and Perfetto files written" "$(cat "$tmp/err"; ls "$tmp")"

# the known run with hostile names: its comm made markup, an escape sequence and
# a bidi override, its cgroup paths and host markup (string records and the header
# rewritten, their checksums computed again); the page shows them as text
if ! command -v python3 >/dev/null; then
	echo "SKIP: record_outputs: --html escapes hostile names: no python3 to rewrite a recording"
	exit 0
fi
python3 - "$dir/run.hsrec" "$tmp/hostile.hsrec" <<'EOF'
import struct, sys

def crc32c(data):
    crc = 0xffffffff
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82f63b78 if crc & 1 else 0)
    return crc ^ 0xffffffff

def uvar(b, i):
    v = s = 0
    while True:
        v |= (b[i] & 0x7f) << s
        s += 7
        i += 1
        if not b[i - 1] & 0x80:
            return v, i

def enc(v):
    out = bytearray()
    while True:
        out.append((v & 0x7f) | (0x80 if v > 0x7f else 0))
        v >>= 7
        if not v:
            return bytes(out)

def inline(s):
    return enc(len(s)) + s

src = open(sys.argv[1], 'rb').read()
out = bytearray(src[:12])
i = 12
while i < len(src):
    t, j = uvar(src, i)
    n, j = uvar(src, j)
    body = src[j:j + n]
    i = j + n + 4
    if t == 1:          # header: mono_ns, real_ns, page_size, kernel, host, command
        k = 0
        for _ in range(3):
            _, k = uvar(body, k)
        kl, k2 = uvar(body, k)
        hl, k3 = uvar(body, k2 + kl)
        body = body[:k2 + kl] + inline(b'<h1>host</h1>\x07') + body[k3 + hl:]
    elif t == 2:        # string: id, bytes
        sid, k = uvar(body, 0)
        sl, k = uvar(body, k)
        s = body[k:k + sl]
        if s == b'dmabuf_alloc':
            s = b'<img src=x onerror=alert(1)>\'"&\x1b[31m\xe2\x80\xae'
        elif s.startswith(b'/'):
            s += b'/</td></table><script>alert(1)</script>'
        body = enc(sid) + inline(s) + body[k + sl:]
    frame = enc(t) + enc(len(body)) + body
    out += frame + struct.pack('<I', crc32c((bytes(out[:12]) if t == 1 else b'') + frame))
open(sys.argv[2], 'wb').write(out)
EOF
"$hs" analyze "$tmp/hostile.hsrec" -j >"$tmp/h.json" 2>"$tmp/err"
"$hs" analyze "$tmp/hostile.hsrec" --html "$tmp/hostile.html" >/dev/null 2>>"$tmp/err"
rc=$?
p=$tmp/hostile.html
comm="<img src=x onerror=alert(1)>'\"&^[[31m\\u202e"
cg="$(jq -r '.leaks[0].cgroup' "$tmp/run.json")/</td></table><script>alert(1)</script>"
[ $rc = 0 ] && [ "$(jq -r '.leaks[0].comm' "$tmp/h.json" | head -c 4)" = "<img" ] &&
	[ "$(xp 'count(//script|//img|//h1[.="host"]|//td//table)' "$p")" = 0 ] &&
	[ "$(xp 'count(//table[@id="leaks"]//tr[@data-inode])' "$p")" = 3 ] &&
	[ "$(xp 'string((//table[@id="leaks"]//tr[@data-inode])[1]/td[5])' "$p")" = "$comm" ] &&
	[ "$(xp 'string((//table[@id="leaks"]//tr[@data-inode])[1]/td[6])' "$p")" = "$cg" ] &&
	xp 'string(//dl)' "$p" | grep -qF '<h1>host</h1>^G' &&
	! grep -q -e $'\x1b' -e $'\x07' -e $'\xe2\x80\xae' "$p" &&
	pass "--html shows hostile comm, cgroup and host as text, controls as ^[ and \\u202e" ||
	fail "--html shows hostile comm, cgroup and host as text, controls as ^[ and \\u202e" \
		"exit $rc: $(cat "$tmp/err") comm" \
		"'$(xp 'string((//table[@id="leaks"]//tr[@data-inode])[1]/td[5])' "$p")'"

# more rows than a table shows: the peaks table, as the others, the first
# 1,000 (the largest: the heap's, 2.7G, then the cgroups' from 808K, the
# 202nd smallest, up), and says how many there are
if [ -s "$dir/seeds/many-rows" ]; then
	"$hs" analyze "$dir/seeds/many-rows" --html "$tmp/many.html" >/dev/null 2>"$tmp/err"
	rc=$?
	rows=$(xp 'count(//table[@id="peak-table"]//tr[td])' "$tmp/many.html")
	[ $rc = 0 ] && [ "$rows" = 1000 ] && grep -q 'The first 1000 of 1201 cgroup x heap peaks' "$tmp/many.html" &&
		[ "$(xp 'string((//table[@id="peak-table"]//tr[td])[1]/td[3])' "$tmp/many.html")" = 2.7G ] &&
		[ "$(xp 'string((//table[@id="peak-table"]//tr[td])[2]/td[3])' "$tmp/many.html")" = 808.0K ] &&
		pass "--html: 1,201 peaks: the 1,000 largest shown, the rest counted" ||
		fail "--html: 1,201 peaks: the 1,000 largest shown, the rest counted" "exit $rc, $rows rows: $(cat "$tmp/err")"
else
	fail "--html: 1,201 peaks" "no $dir/seeds/many-rows (tests/boot/record_outputs.sh)"
fi
