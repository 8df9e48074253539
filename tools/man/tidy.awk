# scdoc's output, tidied for mandoc -T lint: scdoc puts .P after every section
# heading and before every .RE and heading; mandoc (and man --warnings) flag
# them as empty paragraphs. Kept where they separate text: a .P closing an
# indented block moves after its .RE.
function flush() { if (held) { out(".P"); held = 0 } }
function out(l) { print l; prev = l }
/^\.P$/ {
	if (prev ~ /^\.(TH|SH|SS|P)( |$)/) next
	held = 1; next
}
/^\.RE$/ { out($0); next }
/^\.(SH|SS|TH)( |$)/ { held = 0; out($0); next }
{ flush(); out($0) }
