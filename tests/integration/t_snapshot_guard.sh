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

# ---- the memory file of a restored VM is truncated under it --------------
# snap_truncated NAME GUEST_ARGS WAIT_LINE [RESTORE_ARGS...]: snapshot
# snapcount at line 1, restore it, and once the restored guest prints
# WAIT_LINE truncate the memory file the VM maps; then (with
# RESTORE_ARGS) SIGUSR1 asks ember for a snapshot.  ember must stop with
# EXIT_MEMFILE (74) and one line naming the file, not crash.
snap_truncated() {
	local name=$1 args=$2 wait_line=$3 why="" rc line pid fd
	shift 3
	snap_case "$name" || return 0
	d=$snap_dir
	snap_ember "$d/run.out" "$d/run.err" run $SNAP_RUN_OPTS --kernel "$GUESTS/snapcount.pvh" \
		--cmdline "$args snap=1" --snapshot-dir "$d/snap" --snapshot-exit
	if [ $snap_rc != 0 ]; then
		snap_fail "$name" "the snapshot run: status $snap_rc" "$d/run.out" "$d/run.err"
		return 0
	fi
	coproc TRUNCEM { exec timeout -k 5 "$TIMEOUT" "$EMBER" restore "$d/snap" "$@" \
		2>"$d/r.err" </dev/null; }
	pid=$TRUNCEM_PID
	exec {fd}<&"${TRUNCEM[0]}"
	: >"$d/r.out"
	# the event: the restored guest runs (its own output says so)
	while IFS= read -r line <&$fd; do
		printf '%s\n' "$line" >>"$d/r.out"
		if [ "$line" = "$wait_line" ]; then
			truncate -s 0 "$d/snap/memory"
			[ $# -gt 0 ] && kill -USR1 "$(pgrep -P "$pid")"
		fi
	done
	wait "$pid"
	rc=$?
	exec {fd}<&-
	if ! grep -qxF "$wait_line" "$d/r.out"; then
		why="the restored guest never printed '$wait_line' (status $rc)"
	elif [ $rc != 74 ]; then
		why="expected status 74, got $rc$([ $rc = 124 ] && echo ' (timeout)')"
	elif ! grep -qxF "ember: snapshot memory '$d/snap/memory' changed under the running VM (truncated?): the guest RAM it held is gone" "$d/r.err"; then
		why="no message naming the memory file"
	fi
	if [ -n "$why" ]; then
		snap_fail "$name" "$why" "$d/r.out" "$d/r.err"
	else
		snap_pass "$name"
	fi
}
# the guest's next access: KVM_RUN fails with EFAULT
snap_truncated snap-memfile-truncated "n=1000000 pace=100000000" "count 2"
# ember's own: a snapshot of the halted guest finds the file shrunk
snap_truncated snap-memfile-truncated-snapshot "n=2 halt=1" "halted" \
	--snapshot-dir "$WORK/snap-memfile-truncated-snapshot/snap2" --snapshot-on sigusr1

# ---- a memory file others could change is refused before the VM exists --
if snap_case snap-memfile-writable; then
	d=$snap_dir
	snap_ember "$d/run.out" "$d/run.err" run $SNAP_RUN_OPTS --kernel "$GUESTS/snapcount.pvh" \
		--cmdline "n=3 snap=1" --snapshot-dir "$d/snap" --snapshot-exit
	chmod 0664 "$d/snap/memory"
	snap_ember "$d/r.out" "$d/r.err" restore "$d/snap"
	if [ $snap_rc != 2 ] || [ -s "$d/r.out" ] ||
		! grep -qxF "ember: snapshot memory '$d/snap/memory': writable by its group (mode 0664), who could change it under the running VM (chmod go-w)" "$d/r.err"; then
		snap_fail snap-memfile-writable "expected status 2 and the refusal, got $snap_rc" \
			"$d/r.out" "$d/r.err"
	else
		snap_pass snap-memfile-writable
	fi
fi
