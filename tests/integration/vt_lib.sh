# tests/integration/vt_lib.sh - helpers of the cases that are not one
# `expect` (t_virtio.sh, t_load.sh): selecting a case, its verdict, and the
# bytes of vblk.pvh's pattern.  Sourced (once) by those files.
[ -n "${VT_LIB:-}" ] && return 0
VT_LIB=1

# vt_pattern N [TAG]: the bytes vblk.pvh writes over N sectors: sector s
# is "vblk sector %05d", the letters a..z repeated up to byte 510, "\n";
# with tag=TAG on its command line the first five letters are TAG as
# "%05d".
vt_pattern() {
	local a=abcdefghijklmnopqrstuvwxyz f="" s
	for s in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19; do f+=$a; done
	f=${f:0:494}
	[ -n "${2:-}" ] && f=$(printf '%05d' "$2")${f:5}
	for ((s = 0; s < $1; s++)); do
		printf 'vblk sector %05d%s\n' "$s" "$f"
	done
}

# vt_ff FILE BYTES: a file of BYTES bytes of 0xff.
vt_ff() {
	head -c "$2" /dev/zero | tr '\0' '\377' >"$1"
}

# vt_zero FILE FIRST COUNT: zeroes COUNT sectors from FIRST in FILE.
vt_zero() {
	dd if=/dev/zero of="$1" bs=512 seek="$2" count="$3" conv=notrunc status=none
}

# vt_selected NAME: true if PATTERN selects case NAME.
vt_selected() {
	# shellcheck disable=SC2053
	[[ $1 == $PATTERN ]]
}

# vt_want NAME [NEEDS]: true if case NAME runs now (it matches PATTERN and
# /dev/kvm is usable); NEEDS, a case whose run this one checks, must match
# too.  Prints SKIP where a case is selected but cannot run.
vt_want() {
	vt_selected "$1" || return 1
	if [ -n "$kvm_reason" ]; then
		echo "SKIP $1: $kvm_reason"
		nskip=$((nskip + 1))
		return 1
	fi
	if [ -n "${2:-}" ] && ! vt_selected "$2"; then
		echo "SKIP $1: checks the run of case $2, which PATTERN leaves out"
		nskip=$((nskip + 1))
		return 1
	fi
}

# vt_result NAME WHY [FILE...]: the verdict of a case that is not an
# `expect`: PASS if WHY is empty, else FAIL with WHY and the FILEs shown.
vt_result() {
	local name=$1 why=$2 f
	shift 2
	if [ -z "$why" ]; then
		echo "PASS $name"
		npass=$((npass + 1))
		return 0
	fi
	echo "FAIL $name: $why"
	for f in "$@"; do
		echo "  $(basename "$f"):"
		show "$f"
	done
	nfail=$((nfail + 1))
}

# vt_cmp NAME WANT GOT: case NAME passes if the two files are equal.
vt_cmp() {
	local where
	if where=$(cmp "$2" "$3" 2>&1); then
		vt_result "$1" ""
	else
		vt_result "$1" "the image differs from what the guest wrote: $where"
	fi
}

# vt_sigterm PID FD OUT: sends SIGTERM to ember (PID, its stdout read on
# FD) and waits at most 1 s for its end of file; a line that still comes
# is added to OUT.  Adds to `why` (the caller's) what went wrong: a line
# after SIGTERM, ember still running after 1 s (then SIGKILL), or a status
# other than 143.  Reaps ember.
vt_sigterm() {
	local pid=$1 fd=$2 line st
	kill -TERM "$pid" 2>/dev/null
	IFS= read -r -t 1 -u "$fd" line
	st=$?
	if [ $st = 0 ]; then
		echo "$line" >>"$3"
		why=${why:-"a line after SIGTERM"}
	elif [ $st -gt 128 ]; then
		why="${why:+$why; }ember still ran 1 s after SIGTERM"
	fi
	[ $st != 1 ] && kill -KILL "$pid" 2>/dev/null	# 1: end of file, ember is gone
	wait "$pid" 2>/dev/null
	st=$?
	if [ -z "$why" ] && [ "$st" != 143 ]; then
		why="ember ended with status $st after SIGTERM, not 143"
	fi
}
