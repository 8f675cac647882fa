# tests/integration/t_snapshot_virtio.sh - snapshots and the fuzzing reset
# loop with virtio devices that write guest RAM behind KVM's dirty log
# (used rings, the buffers a drive fills) and a drive the reset loop must
# put back.  Sourced by run.sh after t_snapshot.sh, whose helpers it uses
# (snap_case, snap_pass, snap_fail, snap_ember, SNAP_RUN_OPTS).

if ! declare -F snap_case >/dev/null; then
	echo "t_snapshot_virtio.sh: needs t_snapshot.sh's helpers (run it through run.sh)" >&2
	return 0
fi

# svirt_disk FILE: 32 sectors, sector s starts with "disk sector s at the
# snapshot" and is padded with a letter.
svirt_disk() {
	local s t
	for ((s = 0; s < 32; s++)); do
		t="disk sector $s at the snapshot"
		printf '%s\n' "$t"
		head -c $((512 - ${#t} - 1)) /dev/zero | tr '\0' "\\$(printf '%03o' $((65 + s % 26)))"
	done >"$1"
}

# ---- fuzzing with a drive: every run sees the snapshot's disk, the image
# file is never written -----------------------------------------------------
if snap_case snap-virtio-fuzz-blk; then
	d=$snap_dir
	why=""
	svirt_disk "$d/disk.img"
	snap_ember "$d/run.out" "$d/run.err" run $SNAP_RUN_OPTS --kernel "$GUESTS/snapfuzzblk.pvh" \
		--drive "path=$d/disk.img" --snapshot-dir "$d/snap" --snapshot-exit
	[ $snap_rc = 0 ] && [ "$(cat "$d/run.out")" = "fuzzblk: ready" ] ||
		why="the snapshot run: status $snap_rc"
	cp "$d/disk.img" "$d/disk.orig"
	mkdir -p "$d/in"
	printf 'hello' >"$d/in/1-short"
	printf 'Z' >"$d/in/2-zeroes"
	for ((i = 0; i < 128; i++)); do printf 'fuzz%04d' $i; done >"$d/in/3-1k"
	: >"$d/in/4-empty"
	for ((i = 0; i < 300; i++)); do printf 'long%03d' $i; done >"$d/in/5-long"
	for mode in full fast; do
		[ -n "$why" ] && break
		# the guest reports crash 0xb1 if a run reads what another wrote,
		# 0xb2 if the drive does not read back what the run wrote
		snap_ember "$d/$mode.out" "$d/$mode.err" fuzz "$d/snap" --inputs "$d/in" \
			--runs 100 --reset $mode --drive "id=vda,path=$d/disk.img"
		[ $snap_rc = 0 ] && grep -qxF "fuzz: 100 runs: 100 ok, 0 crashes, 0 timeouts, 0 exits" \
			"$d/$mode.out" || why="--reset $mode: status $snap_rc"
		[ -z "$why" ] && [ -s "$d/$mode.err" ] && why="--reset $mode: messages on stderr"
		[ -z "$why" ] && ! cmp -s "$d/disk.img" "$d/disk.orig" &&
			why="--reset $mode: the image file changed"
	done
	if [ -n "$why" ]; then
		snap_fail snap-virtio-fuzz-blk "$why" "$d/run.out" "$d/run.err" "$d/full.out" \
			"$d/full.err" "$d/fast.out" "$d/fast.err"
	else
		snap_pass snap-virtio-fuzz-blk
	fi
fi

# ---- writes in flight at the snapshot: replayed into the overlay by every
# run (snapblk.pvh then reads back B and exits 0), never into the image ----
if snap_case snap-virtio-fuzz-blk-in-flight; then
	d=$snap_dir
	why=""
	truncate -s 64K "$d/disk.img"
	snap_ember "$d/run.out" "$d/run.err" run $SNAP_RUN_OPTS --kernel "$GUESTS/snapblk.pvh" \
		--drive "path=$d/disk.img" --snapshot-dir "$d/snap" --snapshot-exit
	[ $snap_rc = 0 ] && [ "$(cat "$d/run.out")" = "blk: A flushed" ] ||
		why="the snapshot run: status $snap_rc"
	cp "$d/disk.img" "$d/disk.orig"
	mkdir -p "$d/in"
	printf 'x' >"$d/in/x"
	if [ -z "$why" ]; then
		snap_ember "$d/out" "$d/err" fuzz "$d/snap" --inputs "$d/in" --runs 3 \
			--console "file:$d/console" --drive "id=vda,path=$d/disk.img"
		{
			for i in 1 2 3; do
				echo "fuzz: run $i: input '$d/in/x': exit: guest exit, status 0"
			done
			echo "fuzz: 3 runs: 0 ok, 0 crashes, 0 timeouts, 3 exits"
		} >"$d/want"
		printf 'blk: B read back\n%.0s' 1 2 3 >"$d/want-console"
		cmp -s "$d/want" "$d/out" || why="status $snap_rc, not three clean exits"
		[ -z "$why" ] && ! cmp -s "$d/want-console" "$d/console" &&
			why="a run did not read back B"
		[ -z "$why" ] && ! cmp -s "$d/disk.img" "$d/disk.orig" && why="the image file changed"
	fi
	if [ -n "$why" ]; then
		snap_fail snap-virtio-fuzz-blk-in-flight "$why" "$d/want" "$d/out" "$d/err" \
			"$d/console"
	else
		snap_pass snap-virtio-fuzz-blk-in-flight
	fi
fi

# ---- a diff snapshot holds what the drive wrote into guest RAM -----------
# snapfuzzblk.pvh diff=1: snapshot 1, a read into a page only the device
# writes, snapshot 2 (the diff), print the page's first line.  Without the
# device's writes in the diff, the restored page is empty.
if snap_case snap-virtio-diff-blk; then
	d=$snap_dir
	why=""
	svirt_disk "$d/disk.img"
	line="fuzzblk: read 'disk sector 6 at the snapshot'"
	snap_ember "$d/run.out" "$d/run.err" run $SNAP_RUN_OPTS --kernel "$GUESTS/snapfuzzblk.pvh" \
		--drive "path=$d/disk.img" --cmdline "diff=1" --snapshot-dir "$d/snap" --snapshot-diff
	[ $snap_rc = 0 ] && [ "$(cat "$d/run.out")" = "$line" ] ||
		why="the snapshot run: status $snap_rc"
	[ -z "$why" ] && [ ! -f "$d/snap/2/memory.diff" ] && why="no diff file"
	if [ -z "$why" ]; then
		snap_ember "$d/r.out" "$d/r.err" restore "$d/snap/2" --drive "id=vda,path=$d/disk.img"
		[ $snap_rc = 0 ] && [ "$(cat "$d/r.out")" = "$line" ] ||
			why="restore of the diff: status $snap_rc, not the line the drive read"
	fi
	if [ -z "$why" ] && [ "$(du -k "$d/snap/2/memory.diff" | cut -f1)" -gt 1024 ]; then
		why="the diff is larger than 1 MiB"
	fi
	# a snapshot is untrusted: the image it remembers is not opened on
	# its own, by restore, fork or fuzz
	for cmd in restore fork fuzz; do
		[ -n "$why" ] && break
		case $cmd in
		restore) set -- ;;
		fork) set -- -n 1 --out "$d/children" ;;
		fuzz) mkdir -p "$d/in1" && printf x >"$d/in1/x" && set -- --inputs "$d/in1" ;;
		esac
		snap_ember "$d/$cmd-unnamed.out" "$d/$cmd-unnamed.err" $cmd "$d/snap/2" "$@"
		want="ember: $cmd: the snapshot's drive 'vda' needs --drive id=vda,path=IMG (it was made with '$d/disk.img'; a snapshot is not trusted to choose the files it opens)"
		[ $snap_rc = 2 ] && [ "$(cat "$d/$cmd-unnamed.err")" = "$want" ] ||
			why="$cmd without --drive: status $snap_rc, not the refusal"
	done
	if [ -n "$why" ]; then
		snap_fail snap-virtio-diff-blk "$why" "$d/run.out" "$d/run.err" "$d/r.out" "$d/r.err" \
			"$d/restore-unnamed.err" "$d/fork-unnamed.err" "$d/fuzz-unnamed.err"
	else
		snap_pass snap-virtio-diff-blk
	fi
fi
