#!/bin/bash
# The man pages (tools/man/*.scd, built into build/man by make man): each
# passes mandoc -T lint -W warning and man --warnings without a message, has
# NAME, SYNOPSIS, DESCRIPTION, OPTIONS, EXIT STATUS, EXAMPLES and SEE ALSO,
# names every option its command's -h lists, and its EXAMPLES are exactly the
# lines of its command's -h EXAMPLES. And README.md's heapstat and heaptop
# commands are each run by tests/vm/examples_test.sh: one of the -h examples,
# or in its table of README's commands (which lists exactly the others).
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 1
pass() { echo "PASS: man: $1"; }
fail() { echo "FAIL: man: $1: $2"; }

if ! out=$(make -s man build/heapstat 2>&1); then
	fail build "make man: $out"
	exit 0
fi
hs=$top/build/heapstat

# the page of each command: heapstat(8), heapstat-CMD(8); top's is heaptop(8)
page_of() {
	case $1 in
	"") echo heapstat ;;
	top) echo heaptop ;;
	*) echo "heapstat-$1" ;;
	esac
}
cmds=$("$hs" -h | sed -n '/^Commands:/,/^$/s/^  \([a-z]*\) .*/\1/p')
[ -n "$cmds" ] || fail commands "none in heapstat -h"

for c in "" $cmds; do
	p=$(page_of "$c")
	m=build/man/$p.8
	if [ ! -f "$m" ]; then
		fail "$p" "no page for 'heapstat $c' (tools/man/$p.8.scd)"
		continue
	fi
	lint=$(mandoc -T lint -W warning "$m" 2>&1; man --warnings -l "$m" 2>&1 >/dev/null)
	[ -z "$lint" ] && pass "$p(8): mandoc -T lint and man --warnings are silent" ||
		fail "$p(8): mandoc -T lint and man --warnings are silent" "$lint"

	text=$(MANWIDTH=200 MANPAGER=cat man -l "$m" 2>/dev/null)
	missing=
	for s in NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" EXAMPLES "SEE ALSO"; do
		grep -qx "$s" <<<"$text" || missing="$missing $s"
	done
	[ -z "$missing" ] && pass "$p(8): every section" || fail "$p(8): every section" "missing$missing"

	# every option of the -h, in the page (as it renders: "-c, --cgroup=CGROUP")
	if [ -n "$c" ]; then
		opts=$("$hs" "$c" --help | sed -nE -e 's/^  (-[a-zA-Z?]), (--[a-z][a-z-]*).*/\1 \2/p' \
			-e 's/^      (--[a-z][a-z-]*).*/\1/p' -e 's/^  (-[a-zA-Z])  .*/\1/p' | tr ' ' '\n')
		missing=
		for o in $opts; do
			grep -qE -- "(^|[ ,])$(sed 's/[?]/\\?/' <<<"$o")([ ,=]|$)" <<<"$text" ||
				missing="$missing $o"
		done
		[ -n "$opts" ] && [ -z "$missing" ] && pass "$p(8): every option of heapstat $c -h" ||
			fail "$p(8): every option of heapstat $c -h" "missing:${missing:- none found in -h}"
	fi

	# EXAMPLES: the page's code block, the -h's lines
	page_ex=$(sed -n '/^# EXAMPLES/,/^# /p' "tools/man/$p.8.scd" | sed -n '/^```$/,/^```$/p' |
		sed '/^```$/d')
	if [ -z "$c" ]; then
		help_ex=$("$hs" -h | sed -n '/^Examples:/,/^$/s/^  //p')
	else
		help_ex=$(ARGP_HELP_FMT=rmargin=1000 "$hs" "$c" -h |
			sed -n '/^EXAMPLES:/,/^$/s/^    //p')
	fi
	if [ -n "$page_ex" ] && [ "$page_ex" = "$help_ex" ]; then
		pass "$p(8): EXAMPLES are heapstat${c:+ $c} -h's"
	else
		fail "$p(8): EXAMPLES are heapstat${c:+ $c} -h's" \
			"$(diff <(echo "$page_ex") <(echo "$help_ex") | sed -n '2,$p' | head -n 8)"
	fi
done

# no page without its command
for m in build/man/*.8; do
	p=$(basename "$m" .8)
	found=
	for c in "" $cmds; do [ "$(page_of "$c")" = "$p" ] && found=1; done
	[ -n "$found" ] || fail "$p(8)" "a page for no command of heapstat -h"
done

# README.md's commands: the lines of its sh blocks that run heapstat or
# heaptop (sudo, comments and continuation lines folded away)
readme=$(awk '/^```sh$/ {sh = 1; next} /^```/ {sh = 0} sh' README.md |
	sed -e ':a' -e '/\\$/N; s/\\\n[[:space:]]*/ /; ta' |
	sed -E -e 's/^sudo //' -e 's/[[:space:]]+# .*$//' -e 's/[[:space:]]+/ /g' |
	grep -E '^(heapstat|heaptop)( |$)' | sort -u)
examples=$(for c in "" $cmds; do
	if [ -z "$c" ]; then
		"$hs" -h | sed -n '/^Examples:/,/^$/s/^  //p'
	else
		ARGP_HELP_FMT=rmargin=1000 "$hs" "$c" -h | sed -n '/^EXAMPLES:/,/^$/s/^    //p'
	fi
done | sed -E -e 's/[[:space:]]+# .*$//' -e 's/[[:space:]]+/ /g' | sort -u)
table=$(sed -n '/^# README-BEGIN$/,/^# README-END$/p' tests/vm/examples_test.sh | grep -v '^#' |
	sed -E 's/[[:space:]]+/ /g' | sort -u)
want=$(comm -23 <(echo "$readme") <(echo "$examples"))
if [ -n "$readme" ] && [ "$want" = "$table" ]; then
	pass "README.md's $(wc -l <<<"$readme") commands: $(wc -l <<<"$want") in examples_test.sh's table, the rest -h examples"
else
	fail "README.md's commands are each run by examples_test.sh" \
		"$(diff <(echo "$want") <(echo "$table") | sed -n '2,$p' | head -n 12)"
fi
exit 0
