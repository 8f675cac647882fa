# tests/integration/t_sandbox_jail.sh - `ember jail`: test guests boot in
# the jail, and from outside the jailed ember is seen in its own
# namespaces, in a root holding only what the VM needs, as the given
# uid/gid, without capabilities, with rlimits, an empty environment and in
# its cgroup; snapshots restore in the jail (`-- restore DIR`) from a root
# holding only the snapshot's files; bad ids, missing files and bad
# snapshots give exact errors.  Needs root (the jail does); skipped
# otherwise.  Sourced by run.sh after t_sandbox.sh (whose helpers it uses).

sb_jail_uid=65534	# nobody: the guests and their directories are world-readable
sb_jail_base=$WORK/jails

# sj_run NAME STATUS WANT_STDOUT_FILE -- CMD...: runs CMD (bounded), checks
# its status and stdout.
sj_run() {
	local name=$1 status=$2 want=$3 got dir=$WORK/$1
	shift 4
	(cd "$dir" && exec timeout -k 5 "$TIMEOUT" "$@") </dev/null >"$dir/out" 2>"$dir/err"
	got=$?
	if [ "$got" != "$status" ]; then
		sb_fail "$name" "expected status $status, got $got" "$dir/out" "$dir/err"
	elif ! cmp -s "$want" "$dir/out"; then
		sb_fail "$name" "expected stdout A, got B" "$want" "$dir/out"
	else
		return 0
	fi
	return 1
}

# sj_error NAME 'STDERR LINE' ARGS...: `ember jail ARGS` exits 2 with
# exactly that line on stderr and nothing on stdout.
sj_error() {
	local name=$1 line=$2 dir=$WORK/$1
	shift 2
	sb_case "$name" || return 0
	: >"$dir/want"
	if sj_run "$name" 2 "$dir/want" -- "$EMBER" jail "$@"; then
		if grep -qxF -- "$line" "$dir/err"; then
			sb_pass "$name"
		else
			sb_fail "$name" "expected stderr line '$line'" "$dir/err"
		fi
	fi
}

sj_root_reason=""
if [ "$(id -u)" != 0 ]; then
	sj_root_reason="ember jail needs root"
elif [ ! -f "$GUESTS/sandbox.pvh" ]; then
	sj_root_reason="no $GUESTS/sandbox.pvh (tests/guests/sandbox/sandbox.mk)"
fi
sj_cases="jail-hello jail-metrics-log jail-smp jail-outside-view jail-daemonize jail-snapshot jail-err-id-chars
	jail-err-id-long jail-err-missing-kernel jail-err-missing-initrd jail-err-no-command
	jail-err-netns jail-err-cgroup jail-err-not-root jail-restore jail-restore-diff
	jail-restore-outside-view jail-restore-err-missing jail-restore-err-corrupt
	jail-restore-err-command jail-restore-err-drive"
if [ -n "$sj_root_reason" ]; then
	for n in $sj_cases; do
		# shellcheck disable=SC2053
		[[ $n == $PATTERN ]] && sb_skip "$n" "$sj_root_reason"
	done
else

# ---- test guests boot in the jail ----
if sb_case jail-hello; then
	printf 'PVH: hello\n' >"$WORK/jail-hello/want"
	sj_run jail-hello 33 "$WORK/jail-hello/want" -- "$EMBER" jail --id it-hello \
		--uid $sb_jail_uid --gid $sb_jail_uid --chroot-base "$sb_jail_base" \
		-- run --kernel "$GUESTS/hello.pvh" && sb_pass jail-hello
fi

# --metrics-path and --log-path name files outside the jail: each is made
# as the jail's uid and bound in, and gets its lines
if sb_case jail-metrics-log; then
	d=$WORK/jail-metrics-log
	printf 'PVH: hello\n' >"$d/want"
	if sj_run jail-metrics-log 33 "$d/want" -- "$EMBER" jail --id it-metrics \
		--uid $sb_jail_uid --gid $sb_jail_uid --chroot-base "$sb_jail_base" \
		-- run --kernel "$GUESTS/hello.pvh" --metrics-path "$d/m.json" \
		--log-path "$d/log" --level Info; then
		if [ "$(wc -l <"$d/m.json")" != 1 ] ||
			! grep -q '^{"utc_timestamp_ms":[0-9]*,.*"exit_io":[1-9]' "$d/m.json"; then
			sb_fail jail-metrics-log "expected one metrics line with I/O exits" "$d/m.json"
		elif ! grep -q '^ember: sandbox: capabilities' "$d/log"; then
			sb_fail jail-metrics-log "no sandbox line in the log file" "$d/log" "$d/err"
		elif [ "$(stat -c %u "$d/m.json")" != $sb_jail_uid ]; then
			sb_fail jail-metrics-log "m.json is not the jail's uid's" "$d/err"
		else
			sb_pass jail-metrics-log
		fi
	fi
fi

if sb_case jail-smp; then
	printf 'all 2 cpus up\ncpu 0 up\ncpu 1 up\n' >"$WORK/jail-smp/want"
	# relative kernel path: the jail keeps the working directory
	if (cd "$WORK/jail-smp" && timeout -k 5 "$TIMEOUT" "$EMBER" jail --id it-smp \
		--uid $sb_jail_uid --gid $sb_jail_uid --chroot-base "$sb_jail_base" \
		-- --kernel "$(realpath --relative-to="$WORK/jail-smp" "$GUESTS/smp.pvh")" --cpus 2 \
		</dev/null | sort >"$WORK/jail-smp/out") 2>"$WORK/jail-smp/err" &&
		cmp -s "$WORK/jail-smp/want" "$WORK/jail-smp/out"; then
		sb_pass jail-smp
	else
		sb_fail jail-smp "expected A (sorted), got B" "$WORK/jail-smp/want" \
			"$WORK/jail-smp/out" "$WORK/jail-smp/err"
	fi
fi

# ---- the jailed ember seen from outside ----
# sj_view PID ID FILE...: its root holds the device nodes and the FILEs,
# bound read-only in that order, and nothing else.  SB_WHY says what is
# wrong, if anything.
sj_view() {
	local pid=$1 id=$2 v want got cg f
	shift 2
	SB_WHY=""
	sb_proc_checks "$pid" || return 1
	v=$(awk '$1 == "Uid:" { print $2 $3 $4 $5 }' /proc/"$pid"/status)
	[ "$v" = "$sb_jail_uid$sb_jail_uid$sb_jail_uid$sb_jail_uid" ] ||
		{ SB_WHY="Uid: $v"; return 1; }
	v=$(awk '$1 == "Gid:" { print $2 $3 $4 $5 }' /proc/"$pid"/status)
	[ "$v" = "$sb_jail_uid$sb_jail_uid$sb_jail_uid$sb_jail_uid" ] ||
		{ SB_WHY="Gid: $v"; return 1; }
	v=$(awk '$1 == "Groups:" { print $2 }' /proc/"$pid"/status)
	[ -z "$v" ] || { SB_WHY="supplementary groups: $v"; return 1; }
	for ns in mnt pid ipc uts net; do
		[ "$(readlink /proc/"$pid"/ns/$ns)" != "$(readlink /proc/self/ns/$ns)" ] ||
			{ SB_WHY="shares our $ns namespace"; return 1; }
	done
	# its root: a read-only tmpfs and a read-only bind of each file
	# (mount point, first option; the root's file system type)
	got=$(awk '{ sub(/,.*/, "", $6); for (i = 7; $i != "-"; i++);
		print $5, $6, (NR == 1 ? $(i + 1) : "") }' /proc/"$pid"/mountinfo | tr '\n' '|')
	want="/ ro tmpfs|"
	for f in "$@"; do
		want="$want$f ro |"
	done
	if [ "$got" != "$want" ]; then
		SB_WHY="mountinfo: $(tr '\n' '|' </proc/"$pid"/mountinfo)"
		return 1
	fi
	# ... holding only the device nodes and the files (compared as sorted
	# sets: the files may sort before or after /dev)
	got=$(cd /proc/"$pid"/root && find . ! -type d | sort | tr '\n' ' ')
	want=$(printf '.%s\n' /dev/kvm /dev/urandom "$@" | sort | tr '\n' ' ')
	[ "$got" = "$want" ] || { SB_WHY="root holds: $got (expected $want)"; return 1; }
	v=$(stat -c '%u %a' /proc/"$pid"/root/dev/kvm)
	[ "$v" = "$sb_jail_uid 600" ] || { SB_WHY="/dev/kvm in the jail: $v"; return 1; }
	[ "$(tr -d '\0' </proc/"$pid"/environ | wc -c)" = 0 ] ||
		{ SB_WHY="environment not empty"; return 1; }
	v=$(awk '/^Max core file size/ { print $5 } /^Max open files/ { print $4 }' \
		/proc/"$pid"/limits | tr '\n' ' ')
	[ "$v" = "0 2048 " ] || { SB_WHY="limits (core, nofile): $v"; return 1; }
	# inherited fds are closed: ours (fd 9 here) is not among its fds
	for fd in /proc/"$pid"/fd/*; do
		case $(readlink "$fd") in
		*sj-marker*) SB_WHY="inherited fd $fd"; return 1 ;;
		esac
	done
	cg=$(awk -F: '$1 == "0" { print $3 }' /proc/"$pid"/cgroup)
	if grep -q ' - cgroup2 ' /proc/self/mountinfo && [ "$cg" != "/ember/$id" ]; then
		SB_WHY="cgroup: '$cg'"
		return 1
	fi
	return 0
}

if sb_case jail-outside-view; then
	exec 9>"$WORK/jail-outside-view/sj-marker"
	if ! sb_start jail-outside-view env SJ_SECRET=1 "$EMBER" jail --id it-view \
		--uid $sb_jail_uid --gid $sb_jail_uid --chroot-base "$sb_jail_base" \
		-- run --kernel "$GUESTS/sandbox.pvh"; then
		sb_fail jail-outside-view "$SB_WHY" "$WORK/jail-outside-view/err"
	else
		read -r sj_child </proc/"$SB_PID"/task/"$SB_PID"/children
		sj_view "$sj_child" it-view "$GUESTS/sandbox.pvh"
		sj_why=$SB_WHY
		sb_stop
		if [ -n "$sj_why" ]; then
			sb_fail jail-outside-view "$sj_why"
		elif [ "$SB_STATUS" != 0 ]; then
			sb_fail jail-outside-view "expected status 0, got $SB_STATUS" \
				"$WORK/jail-outside-view/err"
		elif [ -d "$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)/ember/it-view" ]; then
			sb_fail jail-outside-view "the jail's cgroup is still there after it ended"
		else
			sb_pass jail-outside-view
		fi
	fi
	exec 9>&-
fi

# ---- --daemonize: prints the jailed pid and goes; console on a FIFO ----
if sb_case jail-daemonize; then
	sj_dir=$WORK/jail-daemonize
	mkfifo -m 0666 "$sj_dir/console"
	sj_pid=$(timeout -k 5 "$TIMEOUT" "$EMBER" jail --id it-daemon --uid $sb_jail_uid \
		--gid $sb_jail_uid --chroot-base "$sb_jail_base" --daemonize \
		-- run --kernel "$GUESTS/sandbox.pvh" --console "file:$sj_dir/console" \
		</dev/null 2>"$sj_dir/err")
	sj_status=$?
	if [ $sj_status != 0 ] || ! [ "$sj_pid" -gt 0 ] 2>/dev/null; then
		sb_fail jail-daemonize "expected status 0 and a pid, got $sj_status '$sj_pid'" "$sj_dir/err"
	else
		# a bounded reader: if ember never opens its console, the read
		# below ends when the timeout ends cat
		exec 8< <(timeout -k 5 "$TIMEOUT" cat "$sj_dir/console")
		sj_line=""
		read -t "$TIMEOUT" -r sj_line <&8
		sj_ppid=$(ps -o ppid= -p "$sj_pid" | tr -d ' ')
		sj_sid=$(ps -o sid= -p "$sj_ppid" | tr -d ' ')
		kill -TERM "$sj_pid"
		# ember ends: its console closes
		read -t "$TIMEOUT" -r sj_rest <&8
		sj_eof=$?
		exec 8<&-
		if [ "$sj_line" != "sandbox: ready" ]; then
			sb_fail jail-daemonize "console: '$sj_line'" "$sj_dir/err"
		elif [ "$sj_sid" != "$sj_ppid" ]; then
			sb_fail jail-daemonize "the waiting process ($sj_ppid) leads no session ($sj_sid)"
		elif [ $sj_eof = 0 ] || [ $sj_eof -gt 128 ]; then
			sb_fail jail-daemonize "ember did not end on SIGTERM ('$sj_rest')"
		else
			sb_pass jail-daemonize
		fi
	fi
fi

# ---- a snapshot taken in the jail, into a directory the jail made ----
if sb_case jail-snapshot; then
	sj_dir=$WORK/jail-snapshot
	printf 'count 1\n' >"$sj_dir/want"
	if [ ! -f "$GUESTS/snapcount.pvh" ]; then
		sb_skip jail-snapshot "no $GUESTS/snapcount.pvh"
	elif sj_run jail-snapshot 0 "$sj_dir/want" -- "$EMBER" jail --id it-snap \
		--uid $sb_jail_uid --gid $sb_jail_uid --chroot-base "$sb_jail_base" \
		-- run --kernel "$GUESTS/snapcount.pvh" --cmdline "n=2 snap=1" \
		--snapshot-dir "$sj_dir/snap" --snapshot-exit; then
		sj_owner=$(stat -c %u "$sj_dir/snap/state" 2>/dev/null)
		# the jail's user still owns the memory file and could change it
		# under a VM restored outside: refused until its owner is ours
		sj_want="ember: snapshot memory '$sj_dir/snap/memory': owned by uid $sb_jail_uid, neither ember's user (uid $(id -u)) nor root, who could change it under the running VM"
		if [ "$sj_owner" != $sb_jail_uid ]; then
			sb_fail jail-snapshot "snapshot state owned by '$sj_owner'" "$sj_dir/err"
		elif timeout -k 5 "$TIMEOUT" "$EMBER" restore "$sj_dir/snap" </dev/null \
			>"$sj_dir/refused.out" 2>&1 || [ "$(cat "$sj_dir/refused.out")" != "$sj_want" ]; then
			sb_fail jail-snapshot "a memory file the jail's user owns was not refused" \
				"$sj_dir/refused.out"
		elif ! chown -R "$(id -u):$(id -g)" "$sj_dir/snap" ||
			! timeout -k 5 "$TIMEOUT" "$EMBER" restore "$sj_dir/snap" </dev/null \
			>"$sj_dir/restore.out" 2>&1; then
			sb_fail jail-snapshot "the snapshot does not restore" "$sj_dir/restore.out"
		else
			sb_pass jail-snapshot
		fi
	fi
fi

# ---- restore in the jail ----
# sj_jail ID: the jail options of the restore cases.
sj_jail() {
	SJ_JAIL=(jail --id "$1" --uid "$sb_jail_uid" --gid "$sb_jail_uid" --chroot-base "$sb_jail_base")
}

# sj_snapshot NAME DIR ARGS...: takes a snapshot of snapcount.pvh into DIR
# (outside the jail; ARGS: more run options).  Returns 1 (case failed or
# skipped) if it could not.
sj_snapshot() {
	local name=$1 snap=$2 dir=$WORK/$1
	shift 2
	if [ ! -f "$GUESTS/snapcount.pvh" ]; then
		sb_skip "$name" "no $GUESTS/snapcount.pvh"
		return 1
	fi
	if ! (cd "$dir" && exec timeout -k 5 "$TIMEOUT" "$EMBER" run \
		--kernel "$GUESTS/snapcount.pvh" --snapshot-dir "$snap" "$@") \
		</dev/null >"$dir/snap.out" 2>"$dir/snap.err" || [ ! -d "$dir/$snap" ]; then
		sb_fail "$name" "the snapshot run failed" "$dir/snap.out" "$dir/snap.err"
		return 1
	fi
	return 0
}

# the restore continues where the snapshot was taken (as snap-restore-
# continues in t_snapshot.sh), the snapshot named relative to the working
# directory, which the jail keeps
if sb_case jail-restore; then
	sj_dir=$WORK/jail-restore
	for ((i = 13; i <= 30; i++)); do echo "count $i"; done >"$sj_dir/want"
	echo "done" >>"$sj_dir/want"
	sj_jail it-restore
	sj_snapshot jail-restore snap --cmdline "n=30 snap=12" --snapshot-on control-port \
		--snapshot-exit &&
		sj_run jail-restore 0 "$sj_dir/want" -- "$EMBER" "${SJ_JAIL[@]}" -- restore snap &&
		sb_pass jail-restore
fi

# a diff snapshot: the jail holds its chain (each state file, the diff,
# the base's memory file), found through the base named in the state file
if sb_case jail-restore-diff; then
	sj_dir=$WORK/jail-restore-diff
	printf 'count 7\ncount 8\ncount 9\ndone\n' >"$sj_dir/want"
	sj_jail it-restore-diff
	if sj_snapshot jail-restore-diff snap --cmdline "n=9 snap=3 snap2=6 dirty=100 touch=32" \
		--snapshot-diff; then
		if [ ! -f "$sj_dir/snap/2/memory.diff" ]; then
			sb_fail jail-restore-diff "no diff snapshot" "$sj_dir/snap.err"
		else
			sj_run jail-restore-diff 0 "$sj_dir/want" -- "$EMBER" "${SJ_JAIL[@]}" \
				-- restore "$sj_dir/snap/2" && sb_pass jail-restore-diff
		fi
	fi
fi

# the restored VM seen from outside: its root holds the state and memory
# files (read-only) and the device nodes, nothing else.  The snapshot is
# of sandbox.pvh waiting for a command byte (SIGUSR1 after its ready
# line); restored, it answers '9' (a control-port command ember ignores)
# with "sandbox: survived 9": then the VM runs.
if sb_case jail-restore-outside-view; then
	sj_dir=$WORK/jail-restore-outside-view
	sj_snap=$sj_dir/snap
	exec 9>"$sj_dir/sj-marker"
	if ! sb_start jail-restore-outside-view "$EMBER" run --kernel "$GUESTS/sandbox.pvh" \
		--snapshot-dir "$sj_snap" --snapshot-on sigusr1 --snapshot-exit; then
		sb_fail jail-restore-outside-view "the snapshot run: $SB_WHY" "$sj_dir/err"
	else
		kill -USR1 "$SB_PID"
		wait "$SB_PID"
		sj_status=$?
		exec 7>&- 8<&-
		sj_jail it-restore-view
		if [ $sj_status != 0 ] || [ ! -f "$sj_snap/state" ]; then
			sb_fail jail-restore-outside-view "the snapshot run: status $sj_status" \
				"$sj_dir/err"
		else
			rm -f "$sj_dir/in" "$sj_dir/out"
			mkfifo "$sj_dir/in" "$sj_dir/out"
			exec 7<>"$sj_dir/in"
			env SJ_SECRET=1 "$EMBER" "${SJ_JAIL[@]}" -- restore "$sj_snap" \
				<"$sj_dir/in" >"$sj_dir/out" 2>"$sj_dir/err" &
			SB_PID=$!
			exec 8<"$sj_dir/out"
			echo 9 >&7
			sj_line=""
			if ! read -t "$TIMEOUT" -r sj_line <&8 || [ "$sj_line" != "sandbox: survived 9" ]; then
				kill -KILL "$SB_PID" 2>/dev/null
				wait "$SB_PID" 2>/dev/null
				exec 7>&- 8<&-
				sb_fail jail-restore-outside-view "restored: got '$sj_line'" "$sj_dir/err"
			else
				read -r sj_child </proc/"$SB_PID"/task/"$SB_PID"/children
				sj_view "$sj_child" it-restore-view "$sj_snap/state" "$sj_snap/memory"
				sj_why=$SB_WHY
				sb_stop
				if [ -n "$sj_why" ]; then
					sb_fail jail-restore-outside-view "$sj_why"
				elif [ "$SB_STATUS" != 0 ]; then
					sb_fail jail-restore-outside-view "expected status 0, got $SB_STATUS" \
						"$sj_dir/err"
				else
					sb_pass jail-restore-outside-view
				fi
			fi
		fi
	fi
	exec 9>&-
fi

# ---- restore: exact errors ----
sj_error jail-restore-err-missing "ember: snapshot '/nonexistent/snap/state': No such file or directory" \
	--id it-err --uid 1 --gid 1 -- restore /nonexistent/snap
sj_error jail-restore-err-command "ember: jail: cannot jail 'fork' (only 'run' or 'restore')" \
	--id it-err --uid 1 --gid 1 -- fork /nonexistent/snap
# one byte of the state file's header flipped: the loader's message
if sb_case jail-restore-err-corrupt &&
	sj_snapshot jail-restore-err-corrupt snap --cmdline "n=2 snap=1" --snapshot-exit; then
	sj_state=$WORK/jail-restore-err-corrupt/snap/state
	sj_b=$(od -An -tu1 -j44 -N1 "$sj_state" | tr -d ' ')
	# shellcheck disable=SC2059
	printf "\\$(printf %03o $((sj_b ^ 255)))" |
		dd of="$sj_state" bs=1 seek=44 conv=notrunc status=none
	sj_error jail-restore-err-corrupt \
		"ember: snapshot 'snap/state': header is corrupt (CRC32 mismatch)" \
		--id it-err --uid 1 --gid 1 -- restore snap
fi
# --drive gives a drive image that is not there
if sb_case jail-restore-err-drive; then
	truncate -s 64K "$WORK/jail-restore-err-drive/disk.img"
	sj_snapshot jail-restore-err-drive snap --cmdline "n=2 snap=1" --snapshot-exit \
		--drive path=disk.img &&
		sj_error jail-restore-err-drive "ember: drive '/nonexistent/disk.img': No such file or directory" \
			--id it-err --uid 1 --gid 1 -- restore snap --drive id=vda,path=/nonexistent/disk.img
fi

# ---- exact errors ----
sj_k=$GUESTS/hello.pvh
sj_error jail-err-id-chars "ember: jail id 'a/../b': only letters, digits and '-' are allowed" \
	--id a/../b --uid 1 --gid 1 -- run --kernel "$sj_k"
sj_error jail-err-id-long \
	"ember: jail id 'x1234567890123456789012345678901234567890123456789012345678901234': longer than 64 characters" \
	--id x1234567890123456789012345678901234567890123456789012345678901234 --uid 1 --gid 1 \
	-- run --kernel "$sj_k"
sj_error jail-err-missing-kernel "ember: kernel '/nonexistent/vmlinux': No such file or directory" \
	--id it-err --uid 1 --gid 1 -- run --kernel /nonexistent/vmlinux
sj_error jail-err-missing-initrd "ember: initrd 'no-initrd': No such file or directory" \
	--id it-err --uid 1 --gid 1 -- run --kernel "$sj_k" --initrd no-initrd
sj_error jail-err-no-command \
	"ember: jail: the command to jail must follow '--' (ember jail ... -- run --kernel FILE)" \
	--id it-err --uid 1 --gid 1
sj_error jail-err-netns "ember: --netns '/nonexistent/netns': No such file or directory" \
	--id it-err --uid 1 --gid 1 --chroot-base "$sb_jail_base" --netns /nonexistent/netns \
	-- run --kernel "$sj_k"
# a limit of a controller cgroup v2 does not offer here, or a bad value
sj_cg_root=$(awk '$9 == "cgroup2" { print $5; exit }' /proc/self/mountinfo)
if [ -z "$sj_cg_root" ]; then
	sj_error jail-err-cgroup "ember: --cgroup: cgroup v2 is not mounted here" \
		--id it-err --uid 1 --gid 1 --cgroup pids.max=10 -- run --kernel "$sj_k"
elif ! grep -qw pids "$sj_cg_root/cgroup.controllers"; then
	sj_error jail-err-cgroup \
		"ember: --cgroup 'pids.max=10': controller 'pids' is not available in cgroup v2 here" \
		--id it-err --uid 1 --gid 1 --cgroup pids.max=10 -- run --kernel "$sj_k"
else
	sj_error jail-err-cgroup "ember: --cgroup 'pids.max=lots': Invalid argument" \
		--id it-err --uid 1 --gid 1 --cgroup pids.max=lots -- run --kernel "$sj_k"
fi
if sb_case jail-err-not-root; then
	: >"$WORK/jail-err-not-root/want"
	if ! command -v setpriv >/dev/null; then
		sb_skip jail-err-not-root "no setpriv"
	elif sj_run jail-err-not-root 2 "$WORK/jail-err-not-root/want" -- setpriv \
		--reuid=$sb_jail_uid --regid=$sb_jail_uid --clear-groups "$EMBER" jail --id it-err \
		--uid 1 --gid 1 -- run --kernel "$sj_k"; then
		if grep -qxF "ember: jail: must be started as root (it builds namespaces, mounts and device nodes, then becomes uid 1)" \
			"$WORK/jail-err-not-root/err"; then
			sb_pass jail-err-not-root
		else
			sb_fail jail-err-not-root "stderr" "$WORK/jail-err-not-root/err"
		fi
	fi
fi

fi
