# tests/integration/t_snapshot.sh - snapshot, restore, diff snapshots,
# fork and the fuzzing reset loop.  Sourced by run.sh: uses its counters
# (npass, nfail, nskip), WORK, PATTERN, TIMEOUT, kvm_reason and show.
# Multi-step cases (run, then restore, ...) report through snap_pass and
# snap_fail below, in run.sh's format.
#
# SNAP_RUN_OPTS: extra options for the runs that take snapshots.  When it
# is not set and the seccomp sandbox kills a run that takes a snapshot,
# the case snap-sandbox fails (naming the cause) and the other cases take
# their snapshots with --no-seccomp, so that they still test snapshots.

if [ -z "${SNAP_RUN_OPTS+set}" ]; then
	SNAP_RUN_OPTS=
	if [ -z "$kvm_reason" ] && [[ snap-* == $PATTERN || snap-sandbox == $PATTERN ]]; then
		mkdir -p "$WORK/snap-probe"
		timeout -k 5 "$TIMEOUT" "$EMBER" run --kernel "$GUESTS/snapcount.pvh" \
			--cmdline "n=2 snap=1" --snapshot-dir "$WORK/snap-probe/snap" --snapshot-exit \
			</dev/null >"$WORK/snap-probe/out" 2>"$WORK/snap-probe/err"
		snap_probe_rc=$?
		if [[ snap-sandbox == $PATTERN ]]; then
			if [ $snap_probe_rc = 0 ] && [ -f "$WORK/snap-probe/snap/state" ]; then
				echo "PASS snap-sandbox"
				npass=$((npass + 1))
			else
				echo "FAIL snap-sandbox: a run that takes a snapshot under the seccomp" \
					"sandbox: status $snap_probe_rc (159: SIGSYS, a syscall the filter" \
					"does not allow; see SC_F_SNAPSHOT in seccomp/rules.c)"
				show "$WORK/snap-probe/err"
				nfail=$((nfail + 1))
			fi
		fi
		[ $snap_probe_rc = 159 ] && SNAP_RUN_OPTS=--no-seccomp
	fi
fi

# snap_case NAME: 0 if the case should run (matches PATTERN, KVM usable).
snap_case() {
	# shellcheck disable=SC2053
	[[ $1 == $PATTERN ]] || return 1
	if [ -n "$kvm_reason" ]; then
		echo "SKIP $1: $kvm_reason"
		nskip=$((nskip + 1))
		return 1
	fi
	snap_dir=$WORK/$1
	rm -rf "$snap_dir"
	mkdir -p "$snap_dir"
	return 0
}

snap_pass() {
	echo "PASS $1"
	npass=$((npass + 1))
}

# snap_fail NAME WHY [FILE...]: the files are shown.
snap_fail() {
	local name=$1 why=$2 f
	shift 2
	echo "FAIL $name: $why"
	for f in "$@"; do
		echo "  $(basename "$f"):"
		show "$f"
	done
	nfail=$((nfail + 1))
}

# snap_ember NAME OUT ERR ARGS...: runs ember (bounded), status in $snap_rc.
snap_ember() {
	local out=$1 err=$2
	shift 2
	timeout -k 5 "$TIMEOUT" "$EMBER" "$@" </dev/null >"$out" 2>"$err"
	snap_rc=$?
}

count_lines() {	# count_lines FROM TO: "count FROM" .. "count TO"
	local i
	for ((i = $1; i <= $2; i++)); do
		echo "count $i"
	done
}

# ---- a counting guest, snapshot by the control port, restore ------------
if snap_case snap-restore-continues; then
	d=$snap_dir
	snap_ember "$d/run.out" "$d/run.err" run $SNAP_RUN_OPTS --kernel "$GUESTS/snapcount.pvh" \
		--cmdline "n=30 snap=12" --snapshot-dir "$d/snap" --snapshot-on control-port \
		--snapshot-exit
	count_lines 1 12 >"$d/want1"
	{ count_lines 13 30; echo done; } >"$d/want2"
	if [ $snap_rc != 0 ] || ! cmp -s "$d/want1" "$d/run.out"; then
		snap_fail snap-restore-continues "the snapshot run: status $snap_rc" "$d/run.out" "$d/run.err"
	else
		snap_ember "$d/r.out" "$d/r.err" restore "$d/snap"
		if [ $snap_rc != 0 ] || ! cmp -s "$d/want2" "$d/r.out"; then
			snap_fail snap-restore-continues "restore: status $snap_rc, output not 13..30" \
				"$d/r.out" "$d/r.err"
		else
			snap_pass snap-restore-continues
		fi
	fi
fi

# ---- the same snapshot restored three times: the same output ------------
if snap_case snap-restore-3-times; then
	d=$snap_dir
	snap_ember "$d/run.out" "$d/run.err" run $SNAP_RUN_OPTS --kernel "$GUESTS/snapcount.pvh" \
		--cmdline "n=20 snap=5 dirty=64 touch=64" --snapshot-dir "$d/snap" --snapshot-exit
	why=""
	[ $snap_rc = 0 ] || why="the snapshot run: status $snap_rc"
	for i in 1 2 3; do
		[ -n "$why" ] && break
		snap_ember "$d/r$i.out" "$d/r$i.err" restore "$d/snap"
		[ $snap_rc = 0 ] || why="restore $i: status $snap_rc"
	done
	if [ -z "$why" ] && { ! cmp -s "$d/r1.out" "$d/r2.out" || ! cmp -s "$d/r1.out" "$d/r3.out"; }; then
		why="the three restores printed different things"
	fi
	if [ -z "$why" ] && [ "$(tail -n 1 "$d/r1.out")" != done ]; then
		why="the guest did not finish"
	fi
	if [ -n "$why" ]; then
		snap_fail snap-restore-3-times "$why" "$d/run.err" "$d/r1.out" "$d/r2.out" "$d/r3.out"
	else
		snap_pass snap-restore-3-times
	fi
fi

# ---- SIGUSR1 at an arbitrary point: nothing printed twice or skipped ----
if snap_case snap-sigusr1; then
	d=$snap_dir
	coproc SNAPEM { exec timeout -k 5 "$TIMEOUT" "$EMBER" run $SNAP_RUN_OPTS \
		--kernel "$GUESTS/snapcount.pvh" --cmdline "n=80 pace=100000000" \
		--snapshot-dir "$d/snap" --snapshot-on sigusr1 --snapshot-exit 2>"$d/run.err"; }
	pid=$SNAPEM_PID
	exec {snap_fd}<&"${SNAPEM[0]}"
	: >"$d/run.out"
	# the guest's own output says when it runs: signal ember (the child
	# of `timeout`) after line 5.  The guest paces its lines by the TSC
	# (about 30-50 ms each): on hardware KVM a busy loop of a fixed count
	# ends before the shell has read line 5.
	while IFS= read -r line <&$snap_fd; do
		printf '%s\n' "$line" >>"$d/run.out"
		[ "$line" = "count 5" ] && kill -USR1 "$(pgrep -P "$pid")"
	done
	# a partial last line (snapshot mid-line) has no newline
	[ -n "$line" ] && printf '%s' "$line" >>"$d/run.out"
	wait "$pid"
	rc=$?
	exec {snap_fd}<&-
	{ count_lines 1 80; echo done; } >"$d/want"
	snap_ember "$d/r.out" "$d/r.err" restore "$d/snap"
	cat "$d/run.out" "$d/r.out" >"$d/both"
	if [ $rc != 0 ] || [ $snap_rc != 0 ] || ! cmp -s "$d/want" "$d/both"; then
		snap_fail snap-sigusr1 "statuses $rc and $snap_rc, or run + restore is not 1..80 once each" \
			"$d/run.out" "$d/run.err" "$d/r.out" "$d/r.err"
	else
		snap_pass snap-sigusr1
	fi
fi

# ---- SMP: every CPU resumes where it was ---------------------------------
snap_smp() {	# snap_smp NAME CPUS IRQCHIP
	local name=$1 n=$2 chip=$3 c why=""
	snap_case "$name" || return 0
	d=$snap_dir
	snap_ember "$d/run.out" "$d/run.err" run $SNAP_RUN_OPTS --kernel "$GUESTS/snapsmp.pvh" \
		--cpus "$n" --irqchip "$chip" --cmdline "cpus=$n n=12 snap=4 spin=300" \
		--snapshot-dir "$d/snap" --snapshot-exit
	[ $snap_rc = 0 ] || why="the snapshot run: status $snap_rc"
	if [ -z "$why" ]; then
		snap_ember "$d/r.out" "$d/r.err" restore "$d/snap"
		[ $snap_rc = 0 ] || why="restore: status $snap_rc"
	fi
	if [ -z "$why" ]; then
		[ "$(tail -n 1 "$d/r.out")" = "all $n cpus done" ] || why="not every CPU finished"
		# (a line may be cut by the snapshot: join the two outputs first)
		cat "$d/run.out" "$d/r.out" >"$d/both"
		for ((c = 0; c < n; c++)); do
			grep "^cpu $c count" "$d/both" >"$d/cpu$c"
			for ((i = 1; i <= 12; i++)); do echo "cpu $c count $i"; done >"$d/want$c"
			cmp -s "$d/want$c" "$d/cpu$c" || why="cpu $c did not count 1..12 once each"
		done
	fi
	if [ -n "$why" ]; then
		snap_fail "$name" "$why" "$d/run.out" "$d/run.err" "$d/r.out" "$d/r.err"
	else
		snap_pass "$name"
	fi
}
snap_smp snap-smp-2 2 split
snap_smp snap-smp-4-full-irqchip 4 full

# ---- diff snapshots: DIR/1 full, DIR/2 a diff on it ----------------------
if snap_case snap-diff; then
	d=$snap_dir
	snap_ember "$d/run.out" "$d/run.err" run $SNAP_RUN_OPTS --kernel "$GUESTS/snapcount.pvh" \
		--cmdline "n=9 snap=3 snap2=6 dirty=100 touch=32" --snapshot-dir "$d/snap" \
		--snapshot-diff
	why=""
	[ $snap_rc = 0 ] || why="the snapshot run: status $snap_rc"
	[ -z "$why" ] && [ ! -f "$d/snap/2/memory.diff" ] && why="no diff file"
	if [ -z "$why" ]; then
		snap_ember "$d/r1.out" "$d/r1.err" restore "$d/snap/1"
		{ count_lines 4 9; echo done; } >"$d/want1"
		cmp -s "$d/want1" "$d/r1.out" || why="restore of the full snapshot"
	fi
	if [ -z "$why" ]; then
		snap_ember "$d/r2.out" "$d/r2.err" restore "$d/snap/2"
		{ count_lines 7 9; echo done; } >"$d/want2"
		cmp -s "$d/want2" "$d/r2.out" || why="restore of the diff"
	fi
	# the diff holds the pages written since the full one, not all of RAM
	if [ -z "$why" ] && [ "$(du -k "$d/snap/2/memory.diff" | cut -f1)" -gt 1024 ]; then
		why="the diff is larger than 1 MiB"
	fi
	if [ -n "$why" ]; then
		snap_fail snap-diff "$why" "$d/run.err" "$d/r1.out" "$d/r1.err" "$d/r2.out" "$d/r2.err"
	else
		snap_pass snap-diff
	fi
fi

# ---- thousands of pages dirtied between two snapshots (KVM's dirty
# bitmap; the guest checks every page after the restore) ----
if snap_case snap-diff-many-pages; then
	d=$snap_dir
	snap_ember "$d/run.out" "$d/run.err" run $SNAP_RUN_OPTS \
		--kernel "$GUESTS/snapcount.pvh" --mem 256M --snapshot-dir "$d/snap" --snapshot-diff \
		--cmdline "n=3 snap=1 snap2=2 dirty=4500"
	why=""
	[ $snap_rc = 0 ] || why="the snapshot run: status $snap_rc"
	if [ -z "$why" ]; then
		snap_ember "$d/r2.out" "$d/r2.err" restore "$d/snap/2"
		{ count_lines 3 3; echo done; } >"$d/want2"
		cmp -s "$d/want2" "$d/r2.out" || why="restore of the diff"
	fi
	if [ -n "$why" ]; then
		snap_fail snap-diff-many-pages "$why" "$d/run.err" "$d/r2.out" "$d/r2.err"
	else
		snap_pass snap-diff-many-pages
	fi
fi

# ---- virtio-blk writes in flight at the snapshot: completed, never lost ----
if snap_case snap-virtio-blk-in-flight; then
	d=$snap_dir
	truncate -s 64K "$d/disk.img"
	snap_ember "$d/run.out" "$d/run.err" run $SNAP_RUN_OPTS --kernel "$GUESTS/snapblk.pvh" \
		--drive "path=$d/disk.img" --snapshot-dir "$d/snap" --snapshot-exit
	why=""
	[ $snap_rc = 0 ] && [ "$(cat "$d/run.out")" = "blk: A flushed" ] ||
		why="the snapshot run: status $snap_rc"
	if [ -z "$why" ]; then
		# the disk as the first process left it; the restored guest
		# waits for its 8 writes, flushes and reads back
		snap_ember "$d/r.out" "$d/r.err" restore "$d/snap" --drive "id=vda,path=$d/disk.img"
		[ $snap_rc = 0 ] && [ "$(cat "$d/r.out")" = "blk: B read back" ] ||
			why="restore: status $snap_rc"
	fi
	if [ -z "$why" ]; then
		for s in 0 63 127; do
			[ "$(dd if="$d/disk.img" bs=512 skip=$s count=1 status=none | head -c 7)" = \
				"B $(printf '%05d' $s)" ] || why="sector $s of the disk does not hold B"
		done
	fi
	if [ -n "$why" ]; then
		snap_fail snap-virtio-blk-in-flight "$why" "$d/run.out" "$d/run.err" "$d/r.out" "$d/r.err"
	else
		snap_pass snap-virtio-blk-in-flight
	fi
fi

# ---- refusals, each with its own message ---------------------------------
snap_refusal_base() {	# one good snapshot in $WORK/refusal-base
	[ -f "$WORK/refusal-base/state" ] && return 0
	timeout -k 5 "$TIMEOUT" "$EMBER" run $SNAP_RUN_OPTS --kernel "$GUESTS/snapcount.pvh" \
		--cmdline "n=3 snap=1" --snapshot-dir "$WORK/refusal-base" --snapshot-exit \
		</dev/null >/dev/null 2>&1
}

# snap_refused NAME EXPECTED_LINE PATCH...: copies the base snapshot,
# applies the patch command (run in the copy's directory), restores.  In
# the expected line @DIR@ is the copy, @IDX@ the vCPU section's index,
# @SIZE@ the state file's size, @VER@ its format version and @FP@ this
# host's CPU fingerprint.
snap_refused() {
	local name=$1 want=$2 base=$WORK/refusal-base
	shift 2
	snap_case "$name" || return 0
	d=$snap_dir
	if ! snap_refusal_base; then
		snap_fail "$name" "could not make the snapshot to corrupt"
		return 0
	fi
	cp -r "$base" "$d/snap"
	(cd "$d/snap" && "$@")
	want=${want//@DIR@/$d/snap}
	want=${want//@IDX@/$(vcpu_section_index "$base/state")}
	want=${want//@SIZE@/$(stat -c %s "$base/state")}
	want=${want//@VER@/$(od -An -t u4 -j 8 -N 4 "$base/state" | tr -d ' ')}
	want=${want//@FP@/$(od -An -t x8 -j 24 -N 8 "$base/state" | tr -d ' ')}
	snap_ember "$d/out" "$d/err" restore "$d/snap"
	if [ $snap_rc != 2 ] || [ -s "$d/out" ] || ! grep -qxF -- "$want" "$d/err"; then
		echo "  want: $want"
		snap_fail "$name" "expected status 2 and that line, got status $snap_rc" "$d/out" "$d/err"
	else
		snap_pass "$name"
	fi
}

# byte patches: put_bytes FILE OFFSET HEX
put_bytes() {
	printf "$(echo "$3" | sed 's/../\\x&/g')" |
		dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}
# vcpu_section FILE [index]: the offset (or with "index", the number) of
# the first vCPU section (type 4), walking the section headers
vcpu_section() {
	local off=64 i=0 type len
	while :; do
		type=$(od -An -t u4 -j $off -N 4 "$1" | tr -d ' ')
		len=$(od -An -t u8 -j $((off + 8)) -N 8 "$1" | tr -d ' ')
		if [ "$type" = 4 ] || [ -z "$type" ]; then
			[ "${2:-}" = index ] && echo $i || echo $off
			return
		fi
		off=$((off + 24 + (len + 7) / 8 * 8))
		i=$((i + 1))
	done
}
vcpu_section_index() {
	vcpu_section "$1" index
}
# flips a byte of the vCPU section's payload (its registers)
flip_vcpu_byte() {
	local off b
	off=$(($(vcpu_section state) + 24 + 40))
	b=$(od -An -t x1 -j $off -N 1 state | tr -d ' ')
	put_bytes state $off "$(printf '%02x' $((0x$b ^ 0xff)))"
}
# another CPU: a fingerprint no host has, with a header CRC that matches
foreign_cpu() {
	python3 - <<'PY'
import struct, zlib
b = bytearray(open("state", "rb").read())
b[24:32] = struct.pack("<Q", 0x0123456789abcdef)
b[60:64] = struct.pack("<I", zlib.crc32(bytes(b[0:60])) & 0xffffffff)
open("state", "wb").write(b)
PY
}

snap_refused snap-refuse-corrupt-crc \
	"ember: snapshot '@DIR@/state': section @IDX@ (vcpu 0) is corrupt (CRC32 mismatch)" \
	flip_vcpu_byte
snap_refused snap-refuse-truncated \
	"ember: snapshot '@DIR@/state': truncated: 1000 of @SIZE@ bytes" \
	truncate -s 1000 state
snap_refused snap-refuse-magic \
	"ember: snapshot '@DIR@/state': not an ember snapshot (bad magic)" \
	put_bytes state 0 4e4f54454d424552
snap_refused snap-refuse-newer-version \
	"ember: snapshot '@DIR@/state': format version 255 is newer than this ember supports (@VER@)" \
	put_bytes state 8 ff000000
if command -v python3 >/dev/null; then
	snap_refused snap-refuse-foreign-cpu \
		"ember: snapshot '@DIR@/state': taken on a host CPU with different features (CPU fingerprint 0123456789abcdef, this host @FP@)" \
		foreign_cpu
elif [[ snap-refuse-foreign-cpu == $PATTERN ]]; then
	echo "SKIP snap-refuse-foreign-cpu: no python3 to patch the header"
	nskip=$((nskip + 1))
fi
snap_refused snap-refuse-memory-size \
	"ember: snapshot memory '@DIR@/memory': 1048576 bytes, the snapshot's RAM is 268435456" \
	truncate -s 1M memory

# ---- fork: 50 children sharing the snapshot's memory ----------------------
if snap_case snap-fork-50; then
	d=$snap_dir
	# the guest touches 2048 pages (8 MiB) before the snapshot, each child
	# writes 64 pages (256 KiB) after it and reads the 8 MiB back
	snap_ember "$d/run.out" "$d/run.err" run $SNAP_RUN_OPTS --kernel "$GUESTS/snapcount.pvh" \
		--cmdline "n=3 snap=2 touch=2048 dirty=64" --snapshot-dir "$d/snap" --snapshot-exit
	why=""
	[ $snap_rc = 0 ] || why="the snapshot run: status $snap_rc"
	if [ -z "$why" ]; then
		snap_ember "$d/fork.out" "$d/fork.err" fork "$d/snap" -n 50 --out "$d/out"
		[ $snap_rc = 0 ] || why="fork: status $snap_rc"
	fi
	printf 'count 3\ndone\n' >"$d/want"
	for ((i = 0; i < 50; i++)); do
		[ -n "$why" ] && break
		cmp -s "$d/want" "$d/out/child-$i.log" || why="child $i's console"
	done
	# the guest RAM a child copied: the 64 pages it wrote (and the guest's
	# own stack and page-table updates), not the 8 MiB it read back.
	# ember's own memory besides is printed; it depends on the host's
	# transparent huge page policy.
	ram=$(sed -n "s/.*guest RAM copied \([0-9]*\) KiB.*/\1/p" "$d/fork.out")
	if [ -z "$why" ] && { [ -z "$ram" ] || [ "$ram" -gt 2048 ]; }; then
		why="a child copied ${ram:-?} KiB of guest RAM (more than 2 MiB)"
	fi
	if [ -n "$why" ]; then
		snap_fail snap-fork-50 "$why" "$d/fork.out" "$d/fork.err" "$d/out/child-$((i - 1)).log"
	else
		snap_pass snap-fork-50
		sed -n 's/^fork: memory/  memory/p' "$d/fork.out"
	fi
fi

# ---- the fuzzing reset loop -------------------------------------------------
snap_fuzz_base() {	# the fuzz target's snapshot in $WORK/fuzz-base
	[ -f "$WORK/fuzz-base/state" ] && return 0
	timeout -k 5 "$TIMEOUT" "$EMBER" run $SNAP_RUN_OPTS --kernel "$GUESTS/snapfuzz.pvh" \
		--mem 64M --snapshot-dir "$WORK/fuzz-base" --snapshot-exit </dev/null >/dev/null 2>&1
}

for mode in full fast; do
	name=snap-fuzz-10000-runs-$mode
	snap_case $name || continue
	d=$snap_dir
	mkdir -p "$d/in"
	printf 'D\x08\x00' >"$d/in/write-8-pages"
	why=""
	snap_fuzz_base || why="could not make the fuzz snapshot"
	if [ -z "$why" ]; then
		snap_ember "$d/out" "$d/err" fuzz "$WORK/fuzz-base" --inputs "$d/in" --runs 10000 \
			--reset $mode
		# the guest reports a crash if any run sees what another wrote
		[ $snap_rc = 0 ] && grep -qxF "fuzz: 10000 runs: 10000 ok, 0 crashes, 0 timeouts, 0 exits" \
			"$d/out" || why="status $snap_rc"
		[ -z "$why" ] && [ -s "$d/err" ] && why="messages on stderr"
	fi
	if [ -n "$why" ]; then
		snap_fail $name "$why" "$d/out" "$d/err"
	else
		snap_pass $name
	fi
done

if snap_case snap-fuzz-outcomes; then
	d=$snap_dir
	mkdir -p "$d/in"
	printf 'D\x02\x00' >"$d/in/1-ok"
	printf 'C*' >"$d/in/2-crash"
	printf 'U' >"$d/in/3-ud2"
	printf 'L' >"$d/in/4-loop"
	printf 'E\x07' >"$d/in/5-exit"
	printf 'x' >"$d/in/6-ok"
	why=""
	snap_fuzz_base || why="could not make the fuzz snapshot"
	if [ -z "$why" ]; then
		snap_ember "$d/out" "$d/err" fuzz "$WORK/fuzz-base" --inputs "$d/in" --runs 12 \
			--timeout 200 --crashes "$d/crashes"
		cat >"$d/want" <<EOF
fuzz: run 2: input '$d/in/2-crash': crash: guest crash report, code 0x2a
fuzz: run 3: input '$d/in/3-ud2': crash: triple fault
fuzz: run 4: input '$d/in/4-loop': timeout: timeout
fuzz: run 5: input '$d/in/5-exit': exit: guest exit, status 7
fuzz: run 8: input '$d/in/2-crash': crash: guest crash report, code 0x2a
fuzz: run 9: input '$d/in/3-ud2': crash: triple fault
fuzz: run 10: input '$d/in/4-loop': timeout: timeout
fuzz: run 11: input '$d/in/5-exit': exit: guest exit, status 7
fuzz: 12 runs: 4 ok, 4 crashes, 2 timeouts, 2 exits
EOF
		[ $snap_rc = 1 ] || why="status $snap_rc (1: findings)"
		[ -z "$why" ] && ! cmp -s "$d/want" "$d/out" && why="the report differs"
		[ -z "$why" ] && ! cmp -s "$d/in/2-crash" "$d/crashes/crash-2-crash" && why="crash input not kept"
	fi
	if [ -n "$why" ]; then
		snap_fail snap-fuzz-outcomes "$why" "$d/want" "$d/out" "$d/err"
	else
		snap_pass snap-fuzz-outcomes
	fi
fi

# `ember fuzz` runs under the sandbox (capabilities dropped, the vCPU filter
# with SC_F_FUZZ on the loop's thread): the same inputs give the same report
# and the same saved findings as with --no-seccomp.
if snap_case snap-fuzz-sandbox-same; then
	d=$snap_dir
	mkdir -p "$d/in"
	printf 'D\x03\x00' >"$d/in/1-ok"
	printf 'C*' >"$d/in/2-crash"
	printf 'U' >"$d/in/3-ud2"
	printf 'L' >"$d/in/4-loop"
	printf 'E\x07' >"$d/in/5-exit"
	why=""
	snap_fuzz_base || why="could not make the fuzz snapshot"
	if [ -z "$why" ]; then
		snap_ember "$d/out" "$d/err" fuzz "$WORK/fuzz-base" --inputs "$d/in" --runs 10 \
			--timeout 200 --reset fast --crashes "$d/crashes"
		rc=$snap_rc
		snap_ember "$d/out-off" "$d/err-off" fuzz "$WORK/fuzz-base" --no-seccomp \
			--inputs "$d/in" --runs 10 --timeout 200 --reset fast --crashes "$d/crashes-off"
		if [ $rc = 159 ]; then
			why="killed by SIGSYS under the sandbox (a syscall SC_F_FUZZ does not allow)"
		elif [ $rc != 1 ] || [ $snap_rc != 1 ]; then
			why="status $rc sandboxed, $snap_rc with --no-seccomp (1: findings)"
		elif ! grep -qxF "fuzz: 10 runs: 2 ok, 4 crashes, 2 timeouts, 2 exits" "$d/out"; then
			why="unexpected report under the sandbox"
		elif ! cmp -s "$d/out" "$d/out-off"; then
			why="the report differs from the --no-seccomp one"
		elif [ -s "$d/err" ]; then
			why="messages on stderr under the sandbox"
		elif ! grep -qF -- "--no-seccomp: the seccomp filters are OFF" "$d/err-off"; then
			why="--no-seccomp did not warn"
		elif ! diff -r "$d/crashes" "$d/crashes-off" >/dev/null ||
			! cmp -s "$d/in/2-crash" "$d/crashes/crash-2-crash"; then
			why="the saved findings differ"
		fi
	fi
	if [ -n "$why" ]; then
		snap_fail snap-fuzz-sandbox-same "$why" "$d/out" "$d/err" "$d/out-off" "$d/err-off"
	else
		snap_pass snap-fuzz-sandbox-same
	fi
fi

# ---- libember: the C API, built against the library next to $EMBER -------
if snap_case snap-libember; then
	d=$snap_dir
	why=""
	if ! api_check "$d/api_check"; then
		why=$api_check_why
	elif snap_fuzz_base; then
		timeout -k 5 "$TIMEOUT" "$d/api_check" "$GUESTS/snapcount.pvh" "$WORK/fuzz-base" "$d" \
			</dev/null >"$d/out" 2>"$d/err"
		rc=$?
		[ $rc = 0 ] || why="api_check: status $rc"
	else
		why="could not make the fuzz snapshot"
	fi
	if [ -n "$why" ]; then
		snap_fail snap-libember "$why" "$d/out" "$d/err" "$d/api_check.err"
	else
		snap_pass snap-libember
	fi
fi
