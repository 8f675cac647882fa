# tests/integration/t_snapshot_guard.sh - what a guest or a changed file
# cannot do to the host through snapshots: fill the disk with them
# (--snapshot-max), crash ember by shrinking the memory file a restored VM
# maps.  Sourced by run.sh after t_snapshot.sh, whose helpers (snap_case,
# snap_ember, snap_pass, snap_fail, count_lines, SNAP_RUN_OPTS) it uses.

# snap_statuses FROM TO CAP: snapcount's output with snapall=1 for lines
# FROM..TO when CAP snapshots are allowed, then "done".
snap_statuses() {
	local i
	for ((i = $1; i <= $2; i++)); do
		echo "count $i"
		echo "snapshot status $((i > $3 ? 1 : 0))"
	done
	echo done
}

# ---- a guest asks for a diff snapshot after every line: the cap holds ----
snap_max() {	# snap_max NAME LINES CAP [--snapshot-max CAP]
	local name=$1 n=$2 cap=$3 why="" dirs
	shift 3
	snap_case "$name" || return 0
	d=$snap_dir
	snap_ember "$d/run.out" "$d/run.err" run $SNAP_RUN_OPTS --kernel "$GUESTS/snapcount.pvh" \
		--cmdline "n=$n snapall=1" --snapshot-dir "$d/snap" --snapshot-diff "$@"
	snap_statuses 1 "$n" "$cap" >"$d/want"
	[ $snap_rc = 0 ] || why="status $snap_rc"
	dirs=$(find "$d/snap" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
	if [ -z "$why" ] && { [ "$dirs" != "$cap" ] || [ ! -f "$d/snap/$cap/state" ]; }; then
		why="$dirs entries in the snapshot directory, expected $cap (1..$cap)"
	fi
	[ -z "$why" ] && ! cmp -s "$d/want" "$d/run.out" &&
		why="the guest did not read status 0 for the first $cap requests and 1 after"
	if [ -z "$why" ] && ! grep -qxF "ember: snapshot: control-port request refused: $cap snapshots already written to '$d/snap', the limit of --snapshot-max $cap" "$d/run.err"; then
		why="no refusal message naming the limit"
	fi
	if [ -z "$why" ] && ! grep -qxF "ember: snapshot: $((n - cap)) requests refused in all (--snapshot-max $cap)" "$d/run.err"; then
		why="no count of the refused requests"
	fi
	if [ -n "$why" ]; then
		snap_fail "$name" "$why" "$d/run.out" "$d/run.err"
	else
		snap_pass "$name"
	fi
}
snap_max snap-max-diff 5 3 --snapshot-max 3
snap_max snap-max-default 18 16

# ---- full snapshots (each replaces the last) are capped too --------------
if snap_case snap-max-full; then
	d=$snap_dir
	snap_ember "$d/run.out" "$d/run.err" run $SNAP_RUN_OPTS --kernel "$GUESTS/snapcount.pvh" \
		--cmdline "n=3 snapall=1" --snapshot-dir "$d/snap" --snapshot-max=1
	snap_statuses 1 3 1 >"$d/want"
	why=""
	[ $snap_rc = 0 ] || why="status $snap_rc"
	[ -z "$why" ] && ! cmp -s "$d/want" "$d/run.out" && why="the guest's statuses are not 0, 1, 1"
	[ -z "$why" ] && ! grep -qxF "ember: snapshot: control-port request refused: 1 snapshot already written to '$d/snap', the limit of --snapshot-max 1" "$d/run.err" &&
		why="no refusal message"
	[ -z "$why" ] && [ "$(ls "$d/snap")" != "$(printf 'memory\nstate')" ] &&
		why="the snapshot directory holds more than one snapshot"
	# the snapshot holds status 0: the restored guest goes on from there
	if [ -z "$why" ]; then
		snap_ember "$d/r.out" "$d/r.err" restore "$d/snap"
		# (without --snapshot-dir the restored VM takes no snapshot: its
		# register keeps what the guest put there, 0xffffffff)
		{
			echo "snapshot status 0"
			echo "count 2"; echo "snapshot status 4294967295"
			echo "count 3"; echo "snapshot status 4294967295"
			echo done
		} >"$d/rwant"
		if [ $snap_rc != 0 ] || ! cmp -s "$d/rwant" "$d/r.out"; then
			why="restore: status $snap_rc, or the guest did not read 0 first"
		fi
	fi
	if [ -n "$why" ]; then
		snap_fail snap-max-full "$why" "$d/run.out" "$d/run.err" "$d/r.out" "$d/r.err"
	else
		snap_pass snap-max-full
	fi
fi

expect snap-max-bad --no-kvm --status 2 \
	--stderr-line "ember: --snapshot-max: '0' is not a number from 1 to 100000" \
	-- --kernel "$GUESTS/snapcount.pvh" --snapshot-dir "$WORK/snap-max-bad" --snapshot-max 0
expect snap-max-no-dir --no-kvm --status 2 \
	--stderr-line "ember: snapshot options need --snapshot-dir DIR" \
	-- --kernel "$GUESTS/snapcount.pvh" --snapshot-max 4
