# tests/integration/t_virtio_net.sh - virtio-net against a peer: a network
# namespace made for the test holds a TAP (10.0.2.1/24); ember runs inside
# it (`ip netns exec`) with vnet.pvh as 10.0.2.2.  The guest ARPs for and
# pings the peer (the namespace's kernel answers), then the test sends it a
# UDP datagram to port 7 from the namespace (bash's /dev/udp) and must get
# the same bytes back.  Needs root (or CAP_NET_ADMIN), iproute2 and
# /dev/net/tun; prints SKIP with the reason otherwise.  The namespace and
# the TAP are removed on every path out, failures and signals included.
# Sourced by run.sh.

# vn_cleanup: removes what vn_run made (safe to call twice).
vn_cleanup() {
	if [ -n "${vn_fd:-}" ]; then
		exec {vn_fd}<&-
		vn_fd=
	fi
	if [ -n "${vn_pid:-}" ]; then
		kill -9 "$vn_pid" 2>/dev/null
		wait "$vn_pid" 2>/dev/null
		vn_pid=
	fi
	if [ -n "${vn_ns:-}" ]; then
		ip -n "$vn_ns" link del "$vn_tap" 2>/dev/null
		ip netns del "$vn_ns" 2>/dev/null
		vn_ns=
	fi
}

vn_skip() {
	echo "SKIP $1: $2"
	nskip=$((nskip + 1))
}

vn_run() {
	local name=virtio-net dir=$WORK/virtio-net line why="" st reply="" old_trap
	local payload="ember-udp-$$-$RANDOM"
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	[ -n "$kvm_reason" ] && { vn_skip $name "$kvm_reason"; return 0; }
	command -v ip >/dev/null || { vn_skip $name "no 'ip' command (iproute2)"; return 0; }
	if [ ! -c /dev/net/tun ] || [ ! -r /dev/net/tun ] || [ ! -w /dev/net/tun ]; then
		vn_skip $name "/dev/net/tun is missing or not usable by $(id -un)"
		return 0
	fi
	mkdir -p "$dir"
	vn_ns=ember-it-$$
	vn_tap=emt$$
	old_trap=$(trap -p EXIT)
	trap 'vn_cleanup; rm -rf "$WORK"' EXIT
	if ! ip netns add "$vn_ns" 2>"$dir/ns.err"; then
		vn_ns=
		vn_skip $name "cannot create a network namespace: $(head -n1 "$dir/ns.err")"
		eval "$old_trap"
		return 0
	fi
	if ! { ip -n "$vn_ns" tuntap add dev "$vn_tap" mode tap &&
		ip -n "$vn_ns" addr add 10.0.2.1/24 dev "$vn_tap" &&
		ip -n "$vn_ns" link set "$vn_tap" up; } 2>"$dir/ns.err"; then
		vn_cleanup
		vn_skip $name "cannot set up a TAP in the namespace: $(head -n1 "$dir/ns.err")"
		eval "$old_trap"
		return 0
	fi

	mkfifo "$dir/fifo"
	ip netns exec "$vn_ns" "$EMBER" run --kernel "$GUESTS/vnet.pvh" --mem 64M \
		--net "tap=$vn_tap,mac=52:54:00:12:34:56" --cmdline "ip=10.0.2.2 peer=10.0.2.1" \
		</dev/null >"$dir/fifo" 2>"$dir/err" &
	vn_pid=$!
	exec {vn_fd}<"$dir/fifo"
	: >"$dir/out"
	while :; do
		IFS= read -r -t "$TIMEOUT" -u "$vn_fd" line
		st=$?
		if [ $st -gt 128 ]; then
			why="no output from ember for ${TIMEOUT}s"
			break
		fi
		[ $st != 0 ] && break	# end of output: ember is done
		echo "$line" >>"$dir/out"
		if [ "$line" = "vnet: waiting for udp" ]; then
			# shellcheck disable=SC2016
			reply=$(ip netns exec "$vn_ns" timeout 10 bash -c \
				'exec 3<>/dev/udp/10.0.2.2/7 && printf "%s\n" "$1" >&3 && head -n1 <&3' \
				_ "$payload" 2>>"$dir/err")
		fi
	done
	if [ -z "$why" ]; then
		wait "$vn_pid"
		st=$?
		vn_pid=
		[ "$st" != 0 ] && why="expected status 0, got $st"
	fi
	printf '%s\n' "vnet: ping 10.0.2.1 ok" "vnet: waiting for udp" \
		"vnet: udp echo $payload" >"$dir/want"
	if [ -z "$why" ] && ! cmp -s "$dir/want" "$dir/out"; then
		why="expected stdout A, got B"
	fi
	if [ -z "$why" ] && [ "$reply" != "$payload" ]; then
		why="sent '$payload' to 10.0.2.2:7, got back '$reply'"
	fi
	vn_cleanup
	eval "$old_trap"
	vt_result_net $name "$why" "$dir/want" "$dir/out" "$dir/err"
}

# The verdict, counted like expect's; on failure shows A (want), B (out),
# C (stderr).
vt_result_net() {
	if [ -z "$2" ]; then
		echo "PASS $1"
		npass=$((npass + 1))
		return 0
	fi
	echo "FAIL $1: $2"
	echo "  A (expected stdout):"; show "$3"
	echo "  B (stdout):"; show "$4"
	echo "  C (stderr):"; show "$5"
	nfail=$((nfail + 1))
}

vn_run
