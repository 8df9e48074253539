#!/bin/bash
# heapstat export on the host kernel, whatever it has (it may refuse tracing:
# the exporter then exports what it can and says why once): bad input exits 2
# with a message (an unknown option, neither or both of --listen and
# --textfile, malformed addresses and numbers, a port in use, a directory
# that cannot be written); the HTTP server answers GET /metrics only (and HEAD,
# without a body; 404, 405, 400, 431), in OpenMetrics when asked, with more
# silent clients connected than it serves at once, and out of file
# descriptors without a busy loop; every scrape passes promtool check metrics;
# --textfile writes heapstat.prom whole (after a stop, one file, not one per
# interval missed), which node_exporter's textfile
# collector reads without error, also untraced in a PID namespace of its own;
# --listen :PORT serves IPv4 and IPv6 alike; a request's target in absolute
# form is taken as its path; a burst of scrapers is answered whole, and out
# of file descriptors an idle client makes room;
# NOTIFY_SOCKET is told READY=1 once the port is served or the first file
# written; SIGINT, SIGTERM and SIGHUP end it with 0.
set -uo pipefail
. "$(dirname "$0")/../lib.sh"
top=$(cd "$(dirname "$0")/../.." && pwd)
hs=${HEAPSTAT:-$top/build/heapstat}	# HEAPSTAT: another build (make check: the sanitizers')
PATH=$top/build/tests:$PATH		# notify_wait
pass() { echo "PASS: export_host: $1"; }
fail() { echo "FAIL: export_host: $1: $2"; }
skip() { echo "SKIP: export_host: $1"; }
tmp=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

# usage errors: exit 2, a message on stderr, nothing on stdout
usage_case() {	# usage_case WHY-PATTERN ARGS...
	local pat=$1 out err rc
	shift
	out=$("$hs" export "$@" 2>"$tmp/err"); rc=$?
	err=$(cat "$tmp/err")
	if [ $rc = 2 ] && [ -z "$out" ] && grep -qiE -- "$pat" <<<"$err"; then
		pass "export $* : exit 2, says why"
	else
		fail "export $* : exit 2, says why" "exit $rc, stdout '$out', stderr '$err'"
	fi
}
usage_case "unrecognized option|invalid option" --nosuch
usage_case "one of --listen" 
usage_case "one of --listen" --listen 127.0.0.1:9464 --textfile "$tmp"
usage_case "invalid address" --listen 127.0.0.1
usage_case "invalid address" --listen 127.0.0.1:0
usage_case "invalid address" --listen 127.0.0.1:65536
usage_case "invalid address" --listen localhost:9464
usage_case "invalid address" --listen 300.1.2.3:9464
usage_case "invalid address" --listen '[::1]9464'
usage_case "given twice" --listen 127.0.0.1:9464 --listen :9464
usage_case "given twice" --textfile "$tmp" --textfile "$tmp"
usage_case "invalid address" --listen ':'
usage_case "invalid address" --listen ':0'
usage_case "invalid address" --listen ':65536'
usage_case "invalid address" --listen '[::1]:'
usage_case "invalid address" --listen '[fe80::1%nosuchif]:9464'
usage_case "invalid interval" --listen 127.0.0.1:9464 -i 0
usage_case "invalid interval" --listen 127.0.0.1:9464 -i 1x
usage_case "invalid cgroup depth" --listen 127.0.0.1:9464 --cgroup-depth -1
usage_case "invalid series bound" --listen 127.0.0.1:9464 --max-series many
usage_case "unexpected argument" --listen 127.0.0.1:9464 extra
usage_case "no such file" --textfile "$tmp/none"
touch "$tmp/file"
usage_case "not a directory" --textfile "$tmp/file"
# where root's access() passes but nothing can be made: /proc
usage_case "cannot write in it" --textfile /proc

# a directory it may not write in: as nobody, root's 0755 directory
mkdir "$tmp/ro" && chmod 0755 "$tmp/ro" && chmod 0755 "$tmp"
if command -v setpriv >/dev/null && [ "$(id -u)" = 0 ]; then
	out=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$hs" export --textfile "$tmp/ro" 2>&1); rc=$?
	[ $rc = 2 ] && grep -q 'cannot write in it' <<<"$out" &&
		pass "export --textfile DIR not writable: exit 2, says why" ||
		fail "export --textfile DIR not writable: exit 2, says why" "exit $rc: $out"
else
	skip "a directory it may not write in: not root, or no setpriv"
fi

if [ "$(id -u)" != 0 ]; then
	skip "the exporter's runs need root"
	exit 0
fi

# --listen, told ready as systemd's Type=notify wants (NOTIFY_SOCKET): the
# port served from then on, and the status says whether it traces
port=$(free_port)
rs=$(ready_socket)
NOTIFY_SOCKET=$rs "$hs" export --listen 127.0.0.1:$port 2>"$tmp/stderr" & p=$!
pids+=($p)
wait_ready "$rs" $p "$tmp/ready"
code=$(curl -s -m 5 -o "$tmp/m0" -w '%{http_code}' "http://127.0.0.1:$port/metrics")
if grep -qx 'heapstat_export_tracing 1' "$tmp/m0"; then
	status="STATUS=serving /metrics, tracing"
else
	status="STATUS=serving /metrics, not tracing: snapshots"
fi
[ "$code" = 200 ] && grep -qxF "$status" "$tmp/ready" && [ "$(grep -c . "$tmp/ready")" = 2 ] &&
	pass "NOTIFY_SOCKET: READY=1 and '$status', the port served" ||
	fail "NOTIFY_SOCKET: READY=1, the status, the port served" \
		"HTTP $code, message '$(cat "$tmp/ready" 2>/dev/null)'"

# a port in use (by that exporter)
out=$("$hs" export --listen 127.0.0.1:$port 2>&1); rc=$?
[ $rc = 2 ] && grep -q 'the port is in use' <<<"$out" &&
	pass "a port in use: exit 2, says so" || fail "a port in use: exit 2, says so" "exit $rc: $out"

# the kernel refuses tracing here, or not: either way it runs, and says why once
n=$(grep -c 'not traced' "$tmp/stderr")
curl -s "http://127.0.0.1:$port/metrics" >"$tmp/m1"
if grep -qx 'heapstat_export_tracing 1' "$tmp/m1" && [ "$n" = 0 ] ||
	{ grep -qx 'heapstat_export_tracing 0' "$tmp/m1" && [ "$n" = 1 ]; }; then
	pass "traced, or exported untraced saying why once ($n)"
else
	fail "traced, or exported untraced saying why once" "$n lines: $(cat "$tmp/stderr")"
fi

# scrapes: text 0.0.4, promtool check metrics
hdr=$(curl -s -D - -o "$tmp/m2" "http://127.0.0.1:$port/metrics" | tr -d '\r')
lint=$(promtool check metrics <"$tmp/m2" 2>&1); rc=$?
len=$(sed -n 's/^Content-Length: //p' <<<"$hdr")
if [ $rc = 0 ] && grep -q '^Content-Type: text/plain; version=0.0.4' <<<"$hdr" &&
	[ "$len" = "$(stat -c %s "$tmp/m2")" ] && grep -q '^heapstat_build_info{version="' "$tmp/m2" &&
	grep -q '^heapstat_export_scrape_duration_seconds [0-9.e-]*$' "$tmp/m2"; then
	pass "GET /metrics: text 0.0.4, Content-Length, promtool check metrics passes"
else
	fail "GET /metrics: text 0.0.4, promtool check metrics passes" "$hdr $lint"
fi

# OpenMetrics when asked (Prometheus's own Accept header)
accept='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'
hdr=$(curl -s -D - -o "$tmp/om" -H "Accept: $accept" "http://127.0.0.1:$port/metrics" | tr -d '\r')
if grep -q '^Content-Type: application/openmetrics-text; version=1.0.0' <<<"$hdr" &&
	[ "$(tail -n 1 "$tmp/om")" = "# EOF" ] &&
	grep -qx '# TYPE heapstat_export_events_dropped counter' "$tmp/om" &&
	grep -q '^heapstat_export_events_dropped_total ' "$tmp/om" &&
	grep -qx '# TYPE heapstat_build info' "$tmp/om"; then
	pass "OpenMetrics when Accept asks: its content type, counters' family names, # EOF"
else
	fail "OpenMetrics when Accept asks" "$hdr $(head -n 5 "$tmp/om")"
fi

# one_write FORMAT: printf's output in one write (bash's printf writes line by
# line: the server could answer before the rest came)
one_write() { printf "$1" | dd bs=64k iflag=fullblock status=none; }
# raw requests: REQUEST (printf format), expected status line
raw() {
	exec 3<>/dev/tcp/127.0.0.1/$port || return 1
	one_write "$1" >&3
	timeout 5 head -n 1 <&3 | tr -d '\r'
	exec 3<&- 3>&-
}
check_raw() {	# check_raw NAME REQUEST STATUS
	local got
	got=$(raw "$2")
	[ "$got" = "HTTP/1.1 $3" ] && pass "$1: $3" || fail "$1: $3" "got '$got'"
}
check_raw "another path" 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' "404 Not Found"
check_raw "another method" 'POST /metrics HTTP/1.1\r\nHost: x\r\n\r\n' "405 Method Not Allowed"
allow=$(curl -s -D - -o /dev/null -X PUT "http://127.0.0.1:$port/metrics" | tr -d '\r' | sed -n 's/^Allow: //p')
[ "$allow" = "GET, HEAD" ] && pass "405 allows GET, HEAD" || fail "405 allows GET, HEAD" "Allow: '$allow'"
# HEAD: GET's status and headers, its Content-Length too, and not a byte more
head_req() {	# head_req 'PATH [VERSION]': the whole response in $tmp/head
	exec 3<>/dev/tcp/127.0.0.1/$port
	printf 'HEAD %s\r\nHost: x\r\n\r\n' "$1" >&3
	timeout 5 cat <&3 >"$tmp/head"
	exec 3<&- 3>&-
}
# its errors too, even one found before the request line is read whole
for r in "/nope HTTP/1.1:404 Not Found" "/metrics:400 Bad Request"; do
	head_req "${r%%:*}"
	if [ "$(head -n 1 "$tmp/head" | tr -d '\r')" = "HTTP/1.1 ${r#*:}" ] &&
		[ "$(tail -c 4 "$tmp/head" | od -An -c | tr -d ' ')" = '\r\n\r\n' ]; then
		pass "HEAD ${r%%:*}: ${r#*:}, no body"
	else
		fail "HEAD ${r%%:*}: ${r#*:}, no body" "got: $(cat "$tmp/head")"
	fi
done
head_req "/metrics HTTP/1.1"
hlen=$(tr -d '\r' <"$tmp/head" | sed -n 's/^Content-Length: //p')
glen=$(curl -s "http://127.0.0.1:$port/metrics" | wc -c)
# the same samples unless the scrape fell in another interval: a length near GET's
if [ "$(head -n 1 "$tmp/head" | tr -d '\r')" = "HTTP/1.1 200 OK" ] &&
	[ "$(tail -c 4 "$tmp/head" | od -An -c | tr -d ' ')" = '\r\n\r\n' ] &&
	[ "${hlen:-0}" -gt $((glen / 2)) ] && [ "$hlen" -lt $((glen * 2)) ] &&
	grep -q '^Content-Type: text/plain; version=0.0.4' "$tmp/head"; then
	pass "HEAD: 200, GET's headers with Content-Length $hlen (GET: $glen), no body"
else
	fail "HEAD: 200, GET's headers, no body" "GET $glen bytes; got: $(head -c 600 "$tmp/head")"
fi
# what follows the blank line is no header: an Accept there asks nothing
exec 3<>/dev/tcp/127.0.0.1/$port
one_write 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nAccept: application/openmetrics-text;version=1.0.0\r\n' >&3
ctype=$(timeout 5 cat <&3 | tr -d '\r' | sed -n 's/^Content-Type: //p')
exec 3<&- 3>&-
[ "$ctype" = "text/plain; version=0.0.4; charset=utf-8" ] &&
	pass "an Accept after the headers' end: no header, text 0.0.4" ||
	fail "an Accept after the headers' end: no header, text 0.0.4" "Content-Type: '$ctype'"
check_raw "not HTTP" 'hello\r\n\r\n' "400 Bad Request"
check_raw "no version" 'GET /metrics\r\n\r\n' "400 Bad Request"
check_raw "a header line without a colon" 'GET /metrics HTTP/1.1\r\nHost: x\r\nbogus\r\n\r\n' "400 Bad Request"
check_raw "HTTP/1.0 and a query string" 'GET /metrics?x=1 HTTP/1.0\r\n\r\n' "200 OK"
# a target in absolute form (what a proxy is sent; RFC 9112 has servers take it)
check_raw "absolute form" "GET http://127.0.0.1:$port/metrics HTTP/1.1\r\nHost: x\r\n\r\n" "200 OK"
check_raw "absolute form, another path" 'GET http://x/metricsx HTTP/1.1\r\nHost: x\r\n\r\n' "404 Not Found"
check_raw "absolute form, no path" 'GET HTTP://x HTTP/1.1\r\nHost: x\r\n\r\n' "404 Not Found"
check_raw "absolute form, a query, no path" 'GET http://x?/metrics HTTP/1.1\r\nHost: x\r\n\r\n' "404 Not Found"
check_raw "absolute form and a query string" 'GET http://x/metrics?y=1 HTTP/1.0\r\n\r\n' "200 OK"
check_raw "another scheme" 'GET ftp://x/metrics HTTP/1.1\r\nHost: x\r\n\r\n' "400 Bad Request"
check_raw "absolute form, no host" 'GET http:///metrics HTTP/1.1\r\nHost: x\r\n\r\n' "400 Bad Request"
# a bare LF ends a line too, whatever ended the one before (RFC 9112 2.2),
# and one empty line before the request line is ignored
check_raw "LF, then CRLF for the blank line" 'GET /metrics HTTP/1.1\nHost: x\n\r\n' "200 OK"
check_raw "an empty line first" '\r\nGET /metrics HTTP/1.1\r\nHost: x\r\n\r\n' "200 OK"
check_raw "empty lines alone" '\r\n\r\n' "400 Bad Request"
# Host: one in HTTP/1.1, at most one before (RFC 9112 3.2); an empty one is one
check_raw "HTTP/1.1 without Host" 'GET /metrics HTTP/1.1\r\n\r\n' "400 Bad Request"
check_raw "HTTP/1.1, an empty Host" 'GET /metrics HTTP/1.1\r\nhost:\r\n\r\n' "200 OK"
check_raw "HTTP/1.1, a Hostname but no Host" 'GET /metrics HTTP/1.1\r\nHostname: x\r\n\r\n' "400 Bad Request"
check_raw "two Host lines" 'GET /metrics HTTP/1.0\r\nHost: x\r\nHost: y\r\n\r\n' "400 Bad Request"
check_raw "HTTP/1.1, two Host lines" 'GET /metrics HTTP/1.1\r\nHost: x\r\nhost: x\r\n\r\n' "400 Bad Request"
# a NUL in the request line or a header is no request; one in a body is the body's
check_raw "a NUL in a header" 'GET /metrics HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n' "400 Bad Request"
check_raw "a NUL after the headers" 'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n\0\0' "200 OK"
big=$(head -c 9000 /dev/zero | tr '\0' a)
check_raw "a request past 8 KiB" "GET /metrics HTTP/1.1\r\nX-Big: $big\r\n\r\n" \
	"431 Request Header Fields Too Large"
check_raw "a request line past 8 KiB" "GET /metrics?$big HTTP/1.1\r\n\r\n" "414 URI Too Long"

# silent clients (connected, saying nothing) hold up no scrape, even more
# of them than are served at once (32): the new one takes the slot of the
# one silent the longest, rather than wait in the backlog behind them
for i in $(seq 40); do
	exec {fd}<>/dev/tcp/127.0.0.1/$port
	eval "silent$i=$fd"
done
t0=$(date +%s%N)
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$code" = 200 ] && [ $ms -lt 3000 ] && pass "40 silent clients connected: a scrape answered in $ms ms" ||
	fail "40 silent clients connected: a scrape answered" "HTTP $code in $ms ms"
for i in $(seq 40); do eval "exec {silent$i}<&-"; done
# nor clients answered that never close (each lingers, its response written,
# until it does): the new one takes the slot of the one answered first
for i in $(seq 40); do
	exec {fd}<>/dev/tcp/127.0.0.1/$port
	printf 'GET /nope HTTP/1.1\r\nHost: x\r\n\r\n' >&$fd
	eval "idle$i=$fd"
done
sleep 0.5
t0=$(date +%s%N)
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics")
ms=$((($(date +%s%N) - t0) / 1000000))
[ "$code" = 200 ] && [ $ms -lt 3000 ] &&
	pass "40 clients answered that never close: a scrape answered in $ms ms" ||
	fail "40 clients answered that never close: a scrape answered" "HTTP $code in $ms ms"
for i in $(seq 40); do eval "exec {idle$i}<&-"; done

# a burst of scrapers, more than are served at once, each asking at once:
# every one answered (none put out by the next before its request was read)
ok=$(python3 - "$port" <<'PY'
import socket, sys
socks = []
for _ in range(100):	# connected and asking, each before the next connects
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    socks.append(s)
ok = 0
for s in socks:
    s.settimeout(30)
    try:
        ok += s.makefile("rb").readline() == b"HTTP/1.1 200 OK\r\n"
    except OSError:
        pass
print(ok)
PY
)
[ "$ok" = 100 ] && pass "100 scrapers at once: every one answered 200" ||
	fail "100 scrapers at once: every one answered 200" "$ok answered 200"

kill -TERM $p; wait $p; rc=$?
[ $rc = 0 ] && pass "SIGTERM: exit 0" || fail "SIGTERM: exit 0" "exit $rc"

# --listen :PORT: every interface, IPv4 and IPv6 alike (as node_exporter's
# :9100), whatever net.ipv6.bindv6only says
aport=$(free_port)
rs=$(ready_socket)
NOTIFY_SOCKET=$rs "$hs" export --listen :$aport 2>"$tmp/any.err" & p=$!
pids+=($p)
wait_ready "$rs" $p "$tmp/any.ready"
v4=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$aport/metrics")
if [ -e /proc/net/if_inet6 ]; then
	v6=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://[::1]:$aport/metrics")
	ss=$(ss -Htln "sport = :$aport" | awk '{ print $4 }')
	[ "$v4" = 200 ] && [ "$v6" = 200 ] && [ "$ss" = "*:$aport" ] &&
		pass "--listen :PORT: served on every interface ($ss), IPv4 and IPv6" ||
		fail "--listen :PORT: served on every interface, IPv4 and IPv6" \
			"IPv4 $v4, IPv6 $v6, listening on '$ss': $(cat "$tmp/any.err")"
else
	[ "$v4" = 200 ] && pass "--listen :PORT without IPv6: served on IPv4" ||
		fail "--listen :PORT without IPv6: served on IPv4" "HTTP $v4: $(cat "$tmp/any.err")"
fi
kill -HUP $p; wait $p; rc=$?
[ $rc = 0 ] && pass "SIGHUP (its terminal gone): exit 0" || fail "SIGHUP: exit 0" "exit $rc"
# and where IPv6 sockets take IPv6 alone by default (bindv6only, per network
# namespace): IPv4 still served
if [ -e /proc/net/if_inet6 ] && command -v unshare >/dev/null; then
	v6only_served() {	# v6only_served ADDR: "HTTP-CODE BINDV6ONLY" of IPv4 in a netns of its own
		unshare -n sh -c 'ip link set lo up && sysctl -qw net.ipv6.bindv6only=1 || exit 9
			"$1" export --listen "$2" 2>/dev/null & p=$!
			for _ in $(seq 100); do
				c=$(curl -s -m 1 -o /dev/null -w "%{http_code}" "http://127.0.0.1:$3/metrics") &&
					[ "$c" = 200 ] && break
				sleep 0.1
			done
			echo "$c $(cat /proc/sys/net/ipv6/bindv6only)"; kill $p' sh "$hs" "$1" "$aport"
	}
	code=$(v6only_served ":$aport")
	[ "$code" = "200 1" ] && pass "--listen :PORT with bindv6only=1: IPv4 served too" ||
		fail "--listen :PORT with bindv6only=1: IPv4 served too" "HTTP and bindv6only: '$code'"
	# an IPv4-mapped address is IPv4's there too
	code=$(v6only_served "[::ffff:127.0.0.1]:$aport")
	[ "$code" = "200 1" ] && pass "--listen [::ffff:127.0.0.1]:PORT with bindv6only=1: served" ||
		fail "--listen [::ffff:127.0.0.1]:PORT with bindv6only=1: served" "HTTP and bindv6only: '$code'"
fi
# a link-local address by the index of its interface: taken (none has it here)
out=$("$hs" export --listen "[fe80::1%1]:$aport" 2>&1); rc=$?
[ $rc = 2 ] && grep -qF "cannot listen on [fe80::1%1]:$aport: no interface has that address" <<<"$out" &&
	pass "--listen [fe80::1%1]:PORT: the zone an index, the address none has: exit 2, said" ||
	fail "--listen [fe80::1%1]:PORT: the zone an index, the address none has: exit 2, said" "exit $rc: $out"
# a link-local address without its interface: said so; an interface there is not: refused
out=$("$hs" export --listen "[fe80::1]:$aport" 2>&1); rc=$?
[ $rc = 2 ] && grep -qF "a link-local address needs its interface, as [fe80::1%eth0]:PORT" <<<"$out" &&
	pass "--listen [fe80::1]:PORT: exit 2, its interface asked for" ||
	fail "--listen [fe80::1]:PORT: exit 2, its interface asked for" "exit $rc: $out"

# out of file descriptors: the backlog waits, no busy loop (the listening
# socket stays readable while accept4() fails with EMFILE); served after
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
eport=$(free_port)
bash -c "ulimit -n 16; exec \"$hs\" export --listen 127.0.0.1:$eport" 2>"$tmp/emfile.err" & p=$!
pids+=($p)
for _ in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$eport/metrics" && break; sleep 0.1; done
for i in $(seq 16); do
	exec {fd}<>/dev/tcp/127.0.0.1/$eport
	eval "full$i=$fd"
done
sleep 0.5
t0=$(ticks $p)
sleep 2
t1=$(ticks $p)
# the idle ones still connected: one of them (a second or more) makes room
t2=$(date +%s%N)
code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$eport/metrics")
ms=$((($(date +%s%N) - t2) / 1000000))
for i in $(seq 16); do eval "exec {full$i}<&-"; done
[ $((t1 - t0)) -lt 50 ] && [ "$code" = 200 ] && [ $ms -lt 3000 ] &&
	pass "out of fds: $((t1 - t0)) ticks of CPU in 2 s, an idle client makes room: served in $ms ms" ||
	fail "out of fds: no busy loop, an idle client makes room" \
		"$((t1 - t0)) ticks in 2 s, HTTP $code in $ms ms: $(cat "$tmp/emfile.err")"
kill $p; wait $p 2>/dev/null

# --textfile: heapstat.prom whole every interval, nothing else left in DIR
# (told ready once the first is written)
mkdir "$tmp/tf"
rs=$(ready_socket)
NOTIFY_SOCKET=$rs "$hs" export --textfile "$tmp/tf" -i 0.2 2>"$tmp/tf.err" & p=$!
pids+=($p)
wait_ready "$rs" $p "$tmp/tf.ready"
[ -s "$tmp/tf/heapstat.prom" ] && grep -q '^STATUS=writing the textfile' "$tmp/tf.ready" &&
	pass "--textfile: READY=1 once DIR/heapstat.prom is written" ||
	fail "--textfile: READY=1 once DIR/heapstat.prom is written" \
		"$(ls -A "$tmp/tf"), message '$(cat "$tmp/tf.ready" 2>/dev/null)'"
sleep 1
kill -INT $p; wait $p; rc=$?
files=$(ls -A "$tmp/tf")
lint=$(promtool check metrics <"$tmp/tf/heapstat.prom" 2>&1); lrc=$?
mode=$(stat -c %a "$tmp/tf/heapstat.prom")
if [ $rc = 0 ] && [ "$files" = heapstat.prom ] && [ $lrc = 0 ] && [ "$mode" = 644 ] &&
	grep -q '^heapstat_build_info' "$tmp/tf/heapstat.prom"; then
	pass "--textfile: DIR/heapstat.prom (0644) alone, promtool passes; SIGINT: exit 0"
else
	fail "--textfile: DIR/heapstat.prom alone, promtool passes; SIGINT: exit 0" \
		"exit $rc, files '$files', mode $mode, $lint $(cat "$tmp/tf.err")"
fi

# stopped for 6 intervals, then on: one file, then the next on time, not
# one for each interval missed (write calls counted in /proc/PID/io)
syscw() { sed -n 's/^syscw: //p' "/proc/$1/io"; }
mkdir "$tmp/tc"
"$hs" export --textfile "$tmp/tc" -i 0.5 2>/dev/null & p=$!
pids+=($p)
for _ in $(seq 100); do [ -s "$tmp/tc/heapstat.prom" ] && break; sleep 0.1; done
sleep 0.5
w0=$(syscw $p)
sleep 1
w1=$(syscw $p)
kill -STOP $p
sleep 3
kill -CONT $p
sleep 0.25
w2=$(syscw $p)
kill $p; wait $p 2>/dev/null
[ $((w2 - w1)) -gt 0 ] && [ $((w2 - w1)) -le $((w1 - w0)) ] &&
	pass "--textfile after a stop: one file, not one per interval missed" ||
	fail "--textfile after a stop: one file, not one per interval missed" \
		"$((w1 - w0)) write calls in 1 s running, $((w2 - w1)) in 0.25 s after the stop"

# its directory gone while running, then back: said once, tried again every
# interval, the file written again and said; the exit then 1
mkdir "$tmp/tw"
"$hs" export --textfile "$tmp/tw" -i 0.2 2>"$tmp/tw.err" & p=$!
pids+=($p)
for _ in $(seq 100); do [ -s "$tmp/tw/heapstat.prom" ] && break; sleep 0.1; done
mv "$tmp/tw" "$tmp/tw.gone"	# at once, whatever the exporter is doing in it
sleep 1.5
alive=$(kill -0 $p 2>/dev/null && echo alive)
mkdir "$tmp/tw"
for _ in $(seq 50); do [ -s "$tmp/tw/heapstat.prom" ] && break; sleep 0.1; done
sleep 0.3
kill -INT $p; wait $p; rc=$?
# gone between its file's making and renaming, the rename is what failed
want="heapstat export: cannot write in $tmp/tw: No such file or directory; trying again every 0.2 s
heapstat export: $tmp/tw/heapstat.prom written again"
got=$(grep -v '^heapstat export: not traced' "$tmp/tw.err" |
	sed "s|cannot rename $tmp/tw/\.heapstat\.prom\.[^ ]* over $tmp/tw/heapstat\.prom:|cannot write in $tmp/tw:|")
[ "$alive" = alive ] && [ $rc = 1 ] && [ "$got" = "$want" ] && [ "$(ls -A "$tmp/tw")" = heapstat.prom ] &&
	promtool check metrics <"$tmp/tw/heapstat.prom" >/dev/null 2>&1 &&
	pass "--textfile: its directory gone, then back: said once, written again, exit 1" ||
	fail "--textfile: its directory gone, then back: said once, written again, exit 1" \
		"${alive:-exited}, exit $rc, files '$(ls -A "$tmp/tw")': $(diff <(echo "$want") <(echo "$got"))"

# the first file failing (DIR writable, heapstat.prom a directory there): not
# started, so exit 1 at once, never READY=1, said with both names; nothing left
mkdir -p "$tmp/t1/heapstat.prom"
rs=$(ready_socket)
NOTIFY_SOCKET=$rs timeout 60 "$hs" export --textfile "$tmp/t1" -i 0.2 2>"$tmp/t1.err"; rc=$?
got=$(grep -v '^heapstat export: not traced' "$tmp/t1.err" |
	sed "s|$tmp/t1/\.heapstat\.prom\.[^ ]*|TMP|")
want="heapstat export: cannot rename TMP over $tmp/t1/heapstat.prom: Is a directory"
sleep 0.1	# what it sent before it ended
! grep -q READY "$rs.msg" && ready=no || ready=yes
rm -f "$rs" "$rs.msg"
[ $rc = 1 ] && [ "$got" = "$want" ] && [ $ready = no ] &&
	[ "$(ls -A "$tmp/t1")" = heapstat.prom ] &&
	pass "--textfile: the first file failing: exit 1 at once, not told ready" ||
	fail "--textfile: the first file failing: exit 1 at once, not told ready" \
		"exit $rc, ready $ready, files '$(ls -A "$tmp/t1")': $(diff <(echo "$want") <(echo "$got"))"

# a full disk (a tmpfs of one page, in a mount namespace of its own): said as
# the write's failure, not the sample's; exit 1 at once if the first file
# fails, else at SIGINT after the next file failed (the first may fit); the
# signal to it alone (--foreground): sent to its process group too, it may
# reach LeakSanitizer's tracer at its exit (make san), which then waits for good
if command -v unshare >/dev/null; then
	mkdir "$tmp/full"
	over_tmpfs size=4k "$tmp/full" timeout --foreground --preserve-status -s INT 2 \
		"$hs" export --textfile "$tmp/full" -i 0.2 2>"$tmp/full.err"; rc=$?
	got=$(grep -v '^heapstat export: not traced' "$tmp/full.err" |
		sed "s|$tmp/full/\.heapstat\.prom\.[^ :]*|TMP|; s|; trying again every 0.2 s$||")
	want="heapstat export: cannot write TMP: No space left on device"
	[ $rc = 1 ] && [ "$got" = "$want" ] &&
		pass "--textfile on a full disk: the write's failure said, exit 1" ||
		fail "--textfile on a full disk: the write's failure said, exit 1" \
			"exit $rc: $(diff <(echo "$want") <(echo "$got"))"
else
	skip "--textfile on a full disk: no unshare (util-linux)"
fi

# in a PID namespace of its own (a container's): samples untraced, holders from
# its /proc (BPF's pids are the host's), said once on stderr; promtool passes
if command -v unshare >/dev/null; then
	mkdir "$tmp/ns"
	unshare --pid --fork --mount-proc --kill-child "$hs" export --textfile "$tmp/ns" -i 0.2 \
		2>"$tmp/ns.err" & p=$!
	pids+=($p)
	for _ in $(seq 100); do [ -s "$tmp/ns/heapstat.prom" ] && break; sleep 0.1; done
	# the child: unshare --fork leaves SIGINT to it (without the children
	# file, unshare killed: --kill-child takes the child, and the test fails)
	c=$(cat "/proc/$p/task/$p/children" 2>/dev/null)
	if [ -n "$c" ]; then kill -INT $c; else kill -KILL $p; fi
	wait $p; rc=$?
	lint=$(promtool check metrics <"$tmp/ns/heapstat.prom" 2>&1); lrc=$?
	if [ $rc = 0 ] && [ $lrc = 0 ] && grep -qx 'heapstat_export_tracing 0' "$tmp/ns/heapstat.prom" &&
		[ "$(grep -c 'PID namespace of its own (holders: its processes only): .*--pid=host' \
			"$tmp/ns.err")" = 1 ]; then
		pass "in a PID namespace of its own: untraced samples, why said once; SIGINT: exit 0"
	else
		fail "in a PID namespace of its own: untraced samples, why said once; SIGINT: exit 0" \
			"exit $rc, $lint $(grep '^heapstat_export_tracing' "$tmp/ns/heapstat.prom") $(cat "$tmp/ns.err")"
	fi
else
	skip "in a PID namespace of its own: no unshare (util-linux)"
fi

# node_exporter's textfile collector reads it: no scrape error, the values there
if command -v prometheus-node-exporter >/dev/null; then
	nport=$(free_port)
	prometheus-node-exporter --web.listen-address=127.0.0.1:$nport --collector.disable-defaults \
		--collector.textfile --collector.textfile.directory="$tmp/tf" >"$tmp/ne.log" 2>&1 & ne=$!
	pids+=($ne)
	for _ in $(seq 100); do
		curl -s "http://127.0.0.1:$nport/metrics" >"$tmp/ne" 2>/dev/null && break
		sleep 0.1
	done
	kill $ne
	want=$(grep '^heapstat_build_info' "$tmp/tf/heapstat.prom")
	if grep -qx 'node_textfile_scrape_error 0' "$tmp/ne" && grep -qxF "$want" "$tmp/ne"; then
		pass "node_exporter reads heapstat.prom: node_textfile_scrape_error 0, the values there"
	else
		fail "node_exporter reads heapstat.prom" "$(grep -E 'textfile|heapstat_build' "$tmp/ne"; tail -n 5 "$tmp/ne.log")"
	fi
else
	skip "node_exporter: prometheus-node-exporter is not installed (scripts/deps.sh)"
fi
exit 0
