# Shell helpers shared by the test scripts (host and VM): source as
#   . "$(dirname "$0")/../lib.sh"

# jq_true [jq options] FILTER [FILE]: true when the filter gives output and
# every result is true. Unlike jq -e, no input (a select() that found no
# row) or no result is a failure, not a pass.
jq_true() {
	_jq_out=$(jq -M -c "$@") || return 1
	[ -n "$_jq_out" ] && ! printf '%s\n' "$_jq_out" | grep -qvx true
}

# wait_frames N: until the caller's frames() counts N heaptop frames (60 s at most)
wait_frames() {
	_wf_i=0
	while [ "$(frames)" -lt "$1" ] && [ $_wf_i -lt 600 ]; do sleep 0.1; _wf_i=$((_wf_i + 1)); done
}
