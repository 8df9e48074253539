# docs/errors.md -> the errno table heap_stress is built with: one
# ERRTAB(id, "system", "cma", "heapstat", "nomap", "lsm") line per table row whose
# first cell is an input id in backticks; cells are lists of errno names
# and 0, or "-" (not tried on that kind).
BEGIN {
	print "/* generated from docs/errors.md by tests/stress/errors.awk: do not edit */"
}
/^\| `[a-z0-9_]+` \|/ {
	line = $0
	gsub(/\\\|/, "", line)		# an escaped | inside a cell
	n = split(line, c, "|")
	if (n < 9) {
		printf "errors.awk: %d: expected 8 cells: %s\n", NR, $0 > "/dev/stderr"
		exit 1
	}
	id = c[2]
	gsub(/[ `]/, "", id)
	out = "ERRTAB(" id
	for (k = 4; k <= 8; k++) {
		cell = c[k]
		gsub(/^ +| +$/, "", cell)
		if (cell !~ /^(-|(0|E[A-Z0-9]+)(, (0|E[A-Z0-9]+))*)$/) {
			printf "errors.awk: %d: cell '%s' is not a list of errnos\n", NR, cell > "/dev/stderr"
			exit 1
		}
		out = out ", \"" cell "\""
	}
	print out ")"
	rows++
}
END {
	if (!rows) {
		print "errors.awk: no table row found" > "/dev/stderr"
		exit 1
	}
}
