# tests/integration/t_console.sh - where the guest's serial output goes.
# Sourced by run.sh.

expect console-file --status 33 \
	--file "$WORK/console-file/console.txt" --file-line "PVH: hello" \
	-- --kernel "$GUESTS/hello.pvh" --console "file:$WORK/console-file/console.txt"

expect console-none --status 33 \
	-- --kernel "$GUESTS/hello.pvh" --console none

# ---- a stop wins over a console nobody reads -----------------------------
# stdout is a FIFO that this shell holds open but never reads, shrunk to one
# page (so it fills at once): ember's vCPU thread then waits on it.
# SIGTERM must still end ember at once with 128+15, the unsent line
# counted on stderr.
console_stop_case() {
	local name=console-sigterm-full-pipe d pfd pid rc why="" t
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	if [ -n "$kvm_reason" ]; then
		echo "SKIP $name: $kvm_reason"
		nskip=$((nskip + 1))
		return 0
	fi
	d=$WORK/$name
	mkdir -p "$d"
	mkfifo "$d/pipe"
	exec {pfd}<>"$d/pipe"
	perl -e 'fcntl(STDIN, 1031, 4096) or die "F_SETPIPE_SZ: $!\n"' <&$pfd
	"$EMBER" run --kernel "$GUESTS/spew.pvh" </dev/null >&$pfd 2>"$d/err" &
	pid=$!
	# the event: the pipe is not empty and a thread of ember sleeps writing
	# to it (in write, or in poll waiting for room: a pipe polls writable
	# only while it has a free page slot); bounded, looked at every 10 ms
	t=$(perl -MTime::HiRes=time,sleep -e '
		my ($pid, $end, $seen) = ($ARGV[0], time + $ARGV[1], "");
		while (time < $end && -d "/proc/$pid") {
			my $n = pack("L", 0);
			ioctl(STDIN, 0x541B, $n) or die "FIONREAD: $!\n";
			if (unpack("L", $n) == 0) { sleep 0.01; next; }
			$seen = "";
			for my $w (glob("/proc/$pid/task/*/wchan")) {
				open(my $f, "<", $w) or next;
				my $c = <$f> // "";
				if ($c =~ /pipe_write|poll/) { print "blocked\n"; exit 0; }
				$seen .= " $c";
			}
			sleep 0.01;
		}
		print -d "/proc/$pid" ? "timeout (threads in:$seen)\n" : "ember exited\n";' \
		"$pid" "$TIMEOUT" <&$pfd 2>&1)
	if [ "$t" != blocked ]; then
		why="ember never filled the pipe and waited on it: $t"
		kill -KILL "$pid" 2>/dev/null
	else
		kill -TERM "$pid"
		# bounded: 10 s after SIGTERM, then SIGKILL
		if ! timeout 10 tail --pid="$pid" -s 0.05 -f /dev/null; then
			why="ember still ran 10 s after SIGTERM"
			kill -KILL "$pid"
		fi
	fi
	{ wait "$pid"; } 2>/dev/null	# (no "Killed" job notice)
	rc=$?
	exec {pfd}<&-
	if [ -z "$why" ] && [ "$rc" != 143 ]; then
		why="expected status 143, got $rc"
	fi
	if [ -z "$why" ] && ! grep -qxF "ember: stopped by signal Terminated" "$d/err"; then
		why="no 'stopped by signal Terminated' on stderr"
	fi
	# the line the vCPU waited to write is dropped: 64 bytes
	if [ -z "$why" ] && ! grep -qxF "ember: console: 64 bytes of guest output dropped: the console took no more when the VM stopped" "$d/err"; then
		why="stderr does not count the one line dropped"
	fi
	if [ -z "$why" ]; then
		echo "PASS $name"
		npass=$((npass + 1))
	else
		echo "FAIL $name: $why"
		echo "  C (stderr):"
		show "$d/err"
		nfail=$((nfail + 1))
	fi
}
console_stop_case
