# tests/integration/t_vsock.sh - virtio-vsock with the default Linux guest
# (hardware virtualization): a host program connects through the Unix
# socket (socat, "CONNECT <port>\n" / "OK <hostport>\n") to vsock-tool
# listening in the guest, and the guest connects to a socat listening on
# "<uds>_<port>"; each moves VSOCK_MIB MiB of random data and both ends
# compare its SHA-256.  The host shuts its side first in the first case,
# the guest in the second (each then closes at the other's EOF, so that no
# byte is still in flight when the guest ends).  Sourced by run.sh after t_linux_hw.sh (its lxh_* helpers).

VS_CASES="vsock-host-to-guest vsock-guest-to-host vsock-cli-errors vsock-restore
	vsock-init-stdout vsock-fork"
# 64 MiB each way (issue 10's target): in the L1 lane both cases take
# 56 s together, boots included (16 MiB: 27 s)
VSOCK_MIB=${VSOCK_MIB:-64}

if ! declare -F lxh_start >/dev/null; then
	vs_pattern=$PATTERN PATTERN=" none "
	. "$HERE/t_linux_hw.sh"
	PATTERN=$vs_pattern
fi

# the host connects, sends, shuts its side (socat at stdin's EOF), reads
# the guest's EOF; the guest prints the hash of what it received
vs_host_to_guest() {
	local name=vsock-host-to-guest dir=$WORK/vsock-host-to-guest sum got
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	mkdir -p "$dir"
	head -c $((VSOCK_MIB << 20)) /dev/urandom >"$dir/data"
	sum=$(sha256sum <"$dir/data")
	lxh_start "$dir" run --vsock "cid=7,uds=$dir/v" -- sh -c \
		'vsock-tool -r listen 5000 >/tmp/got && sha256sum </tmp/got && echo done'
	if ! lxh_wait "$dir" listening; then
		lxh_end "$dir"
		lx_fail "$name" "the guest never listened" "$dir"
		return
	fi
	{ printf 'CONNECT 5000\n'; cat "$dir/data"; } |
		timeout "$TIMEOUT" socat -t 60 - "UNIX-CONNECT:$dir/v" >"$dir/resp" 2>"$dir/socat.err"
	lxh_end "$dir"
	got=$(cat "$dir/resp")
	if [ "$got" != "OK 1073741824" ]; then
		lx_fail "$name" "socat read '$got', not 'OK 1073741824'" "$dir"
	elif [ -e "$dir/v" ]; then
		lx_fail "$name" "the socket file is still there after ember ended" "$dir"
	else
		lxh_check "$name" 0 "listening
$sum
done"
	fi
}

# the guest connects to <uds>_6000, sends and shuts its side first
vs_guest_to_host() {
	local name=vsock-guest-to-host dir=$WORK/vsock-guest-to-host sum pid
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	mkdir -p "$dir"
	socat -u "UNIX-LISTEN:$dir/v_6000" "CREATE:$dir/received" 2>"$dir/socat.err" &
	pid=$!
	lxh_exec "$name" -- run --vsock "cid=3,uds=$dir/v" -- sh -c \
		"head -c $((VSOCK_MIB << 20)) /dev/urandom >/tmp/d && sha256sum </tmp/d &&
		vsock-tool connect 2 6000 </tmp/d && echo sent"
	grep -qx sent "$dir/out" || kill "$pid" 2>/dev/null
	wait "$pid"
	sum=$(sha256sum <"$dir/received")
	if [ "$lxh_rc" = 0 ] && [ "$(stat -c %s "$dir/received")" != $((VSOCK_MIB << 20)) ]; then
		lx_fail "$name" "the host received $(stat -c %s "$dir/received") bytes" "$dir"
	else
		lxh_check "$name" 0 "$sum
sent"
	fi
}

# a guest listening when the snapshot is taken still accepts once restored
# (TRANSPORT_RESET resets connections, not listeners), on the socket the
# restore names; the snapshot's own is refused without it
vs_restore() {
	local name=vsock-restore dir=$WORK/vsock-restore sum got want
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	mkdir -p "$dir"
	head -c 1048576 /dev/urandom >"$dir/data"
	sum=$(sha256sum <"$dir/data")
	# "ready" once vsock-tool listens (its "listening" through a FIFO);
	# once restored, a console line makes it say "go": ember is up and
	# its socket made
	lxh_snap_opts=(--vsock "cid=4,uds=$dir/v")
	if ! lxh_snapshot "$dir" sh -c \
		'mkfifo /tmp/f; vsock-tool -r listen 5000 >/tmp/got 2>/tmp/f &
		read -r l </tmp/f; echo ready; read -r l; echo go
		wait $!; sha256sum </tmp/got; echo done'; then
		lxh_snap_opts=()
		lx_fail "$name" "$lxh_why" "$dir/run"
		return
	fi
	lxh_snap_opts=()
	if "$EMBER" restore "$dir/snap" </dev/null >/dev/null 2>"$dir/norestore.err" ||
		! grep -q "needs --vsock uds=PATH" "$dir/norestore.err"; then
		lx_fail "$name" "a restore without --vsock was not refused" "$dir"
		return
	fi
	lxh_start "$dir" restore "$dir/snap" --vsock "uds=$dir/v2"
	echo go-on >&"$lxh_in"
	if ! lxh_wait "$dir" go; then
		lxh_end "$dir"
		lx_fail "$name" "the restored guest never said 'go'" "$dir"
		return
	fi
	{ printf 'CONNECT 5000\n'; cat "$dir/data"; } |
		timeout "$TIMEOUT" socat -t 60 - "UNIX-CONNECT:$dir/v2" >"$dir/resp" 2>"$dir/socat.err"
	lxh_end "$dir"
	got=$(cat "$dir/resp")
	want="go
$sum
done"
	if [ "$got" != "OK 1073741824" ]; then
		lx_fail "$name" "socat read '$got', not 'OK 1073741824'" "$dir"
	elif [ "$lxh_rc" = 0 ] && lxh_l1_exit "$dir/out" "$want"; then
		lx_skip "$name" "the transfer after the restore was checked (OK line, hash), not the status: $LXH_L1_WHY"
	else
		lxh_check "$name" 0 "$want"
	fi
}

# ember fork of a snapshot with vsock: child I listens on "<uds>-I", and
# its guest's connection to host port 7000 reaches "<uds>-I_7000"; three
# children each send their line to their own listener
vs_fork() {
	local name=vsock-fork dir=$WORK/vsock-fork i why="" pids=""
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	mkdir -p "$dir"
	lxh_snap_opts=(--vsock "cid=5,uds=$dir/v")
	if ! lxh_snapshot "$dir" sh -c 'echo ready; sleep 3
		echo "from a child" | vsock-tool connect 2 7000 && echo sent'; then
		lxh_snap_opts=()
		lx_fail "$name" "$lxh_why" "$dir/run"
		return
	fi
	lxh_snap_opts=()
	for i in 0 1 2; do
		socat -u "UNIX-LISTEN:$dir/v-${i}_7000" "CREATE:$dir/got-$i" 2>"$dir/socat-$i.err" &
		pids="$pids $!"
	done
	lxh_exec "$name" -- fork "$dir/snap" -n 3 --out "$dir/children" --vsock "uds=$dir/v"
	# every child that reached its listener ended it (socat -u ends at
	# the guest's EOF); the others are not waited for
	for i in $pids; do kill "$i" 2>/dev/null; wait "$i" 2>/dev/null; done
	if [ "$lxh_rc" != 0 ]; then
		why="ember fork: status $lxh_rc"
	fi
	for i in 0 1 2; do
		[ -n "$why" ] && break
		if [ "$(cat "$dir/got-$i" 2>/dev/null)" != "from a child" ]; then
			why="child $i's listener got '$(head -c 100 "$dir/got-$i" 2>/dev/null)', not 'from a child'"
		elif ! tr -d '\r' <"$dir/children/child-$i.log" | grep -qx sent; then
			why="child $i's guest did not say 'sent'"
		elif [ -e "$dir/v-$i" ]; then
			why="child $i left its socket $dir/v-$i"
		fi
	done
	if [ -n "$why" ]; then
		lx_fail "$name" "$why" "$dir"
	else
		lx_pass "$name"
	fi
}

# ember.vsock=PORT: the command's stdout reaches <uds>_PORT whole, its
# stderr the console, its status ember's; with nobody listening there
# ember-init says so and the status is 125
vs_init_stdout() {
	local name=vsock-init-stdout dir=$WORK/vsock-init-stdout pid
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	mkdir -p "$dir"
	lxh_exec "$name" -- run --vsock "cid=3,uds=$dir/v" --cmdline ember.vsock=7001 -- true
	if [ "$lxh_rc" != 125 ] ||
		! grep -q "ember.vsock=7001: cannot connect to the host's port 7001" "$dir/out"; then
		lx_fail "$name" "with nobody at port 7001: status $lxh_rc, not 125 and a message" "$dir"
		return
	fi
	socat -u "UNIX-LISTEN:$dir/v_7000" "CREATE:$dir/stdout" 2>"$dir/socat.err" &
	pid=$!
	lxh_exec "$name" -- run --vsock "cid=3,uds=$dir/v" --cmdline ember.vsock=7000 -- \
		sh -c 'seq 1 200000; echo to-console >&2; exit 3'
	# ember-init waited for socat's EOF: socat is done unless it never
	# got a connection
	kill "$pid" 2>/dev/null
	wait "$pid"
	seq 1 200000 >"$dir/want.stdout"
	if ! cmp -s "$dir/want.stdout" "$dir/stdout"; then
		lx_fail "$name" "the host's copy of stdout is not seq 1 200000" "$dir"
	else
		lxh_check "$name" 3 "to-console"
	fi
}

# bad --vsock values are refused before the VM starts, naming the problem
vs_cli_errors() {
	local name=vsock-cli-errors dir=$WORK/vsock-cli-errors long
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	mkdir -p "$dir"
	long=$dir/$(printf 'x%.0s' $(seq 1 100))
	: >"$dir/taken"
	if "$EMBER" run --vsock cid=2,uds="$dir/v" -- true 2>"$dir/e1" ||
		! grep -q "cid '2' is not a number from 3" "$dir/e1"; then
		lx_fail "$name" "cid=2 was not refused as reserved" "$dir"
	elif "$EMBER" run --vsock uds="$dir/v" -- true 2>"$dir/e2" ||
		! grep -q "cid= and uds= are required" "$dir/e2"; then
		lx_fail "$name" "a --vsock without cid= was not refused" "$dir"
	elif EMBER_KERNEL_DIR="$LX_DIR" "$EMBER" run --vsock cid=3,uds="$long" -- true 2>"$dir/e3" ||
		! grep -q "bytes, over 96" "$dir/e3"; then
		lx_fail "$name" "a socket path over 96 bytes was not refused" "$dir"
	elif EMBER_KERNEL_DIR="$LX_DIR" "$EMBER" run --vsock cid=3,uds="$dir/taken" -- true 2>"$dir/e4" ||
		! grep -q "remove the file, or name another path" "$dir/e4"; then
		lx_fail "$name" "an existing socket path was not refused" "$dir"
	else
		lx_pass "$name"
	fi
}

if lx_wanted $VS_CASES; then
	vs_why=$kvm_reason
	[ -z "$vs_why" ] && vs_why=$(lx_hw_reason)
	[ -z "$vs_why" ] && ! command -v socat >/dev/null && vs_why="socat is not installed"
	if [ -z "$vs_why" ] && [ -z "${LX_DIR:-}" ]; then
		lx_guest
	fi
	[ -z "$vs_why" ] && vs_why=${LX_NOGUEST:-}
	if [ -n "$vs_why" ]; then
		lx_skip_all "$VS_CASES" "$vs_why"
	else
		vs_host_to_guest
		vs_guest_to_host
		vs_cli_errors
		vs_restore
		vs_init_stdout
		vs_fork
	fi
fi
