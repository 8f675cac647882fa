# tests/integration/t_linux_netrl.sh - virtio-net rate limiters as the
# default Linux guest sees them, through four TAPs in a test-made network
# namespace: TCP through one limited in bandwidth each way (tx 16 KiB a
# 250 ms, 64 KiB/s; rx 32 KiB a 250 ms, 128 KiB/s) and through one without
# a limit; pings through one limited to 10 frames a 500 ms sent and one
# limited to as many received (20 frames/s).  Sourced by run.sh (after
# t_linux.sh, whose helpers lx_* it uses).
#
# The peers are busybox nc listeners in the namespace, started before the
# guest boots (a listener per transfer: nothing waits for anything).  Each
# limited transfer first empties its bucket, then the timed one runs, as
# the virtio-blk case does:
# - tx: the guest sends 256 KiB (1 MiB without a limit); the time from
#   before its connect until its nc ends, which is after the peer has read
#   everything and closed;
# - rx: the peer sends 576 KiB; the guest times from its first 64 KiB to
#   the end of the stream and counts the bytes in between;
# - frames: `ping -A` (the next request when the reply is in) 10 times to
#   empty the bucket, then 40 times, timed.
# Times are the guest's /proc/uptime, read by the shell itself.  Each
# limited rate must be within 15 % of the configured one (the limiter
# counts whole Ethernet frames, so TCP's payload rate is a little below
# it), each unlimited rate more than twice the limited one.  (In the L1
# lane, under emulation and beside other jobs, the guest received 0.75 to
# 2.8 MB/s without a limit but sent only 150 to 550 KB/s: its TCP saw the
# frames reordered, retransmitted 2 to 7 % of its segments and got DSACKs
# for them, while the peer's side dropped none.)  The traffic never leaves
# the namespace; the namespace (and the TAPs in it) and the peers go on
# every path out.

LXN_CASES="linux-hw-net-ratelimit"

# Sourced first (a locale that sorts this file before t_linux.sh): load
# t_linux.sh's helpers without running any of its cases.
if ! declare -F lx_run >/dev/null; then
	lxn_pattern=$PATTERN PATTERN=" none "
	. "$HERE/t_linux.sh"
	PATTERN=$lxn_pattern
fi

lxn_cleanup() {
	local p
	for p in ${lxn_pids:-}; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	[ -n "${lxn_hold:-}" ] && exec {lxn_hold}>&-
	ip netns del "$lxn_ns" 2>/dev/null	# takes the TAPs with it
	lxn_pids="" lxn_hold=""
	if [ -n "$lxn_trap" ]; then trap -- "$lxn_trap" EXIT; else trap - EXIT; fi
}

# lxn_listen PORT IN OUT: a peer on PORT in the namespace, stdin IN,
# stdout OUT.
lxn_listen() {
	ip netns exec "$lxn_ns" busybox nc -l -p "$1" <"$2" >"$3" &
	lxn_pids="$lxn_pids $!"
}

# The guest's side.  eth0 is the bandwidth-limited device (ember.ip), eth1
# the free one, eth2 and eth3 the ones limited in frames sent and
# received.  `tx NAME IP PORT BYTES`, `rx NAME IP PORT` and `pings NAME
# IP` print "NAME BYTES|PINGS START END".
# shellcheck disable=SC2016
LXN_GUEST='
for i in 1 2 3; do
	ip addr add 10.211.$((i + 2)).2/24 dev eth$i && ip link set eth$i up || exit 3
done
cat /sys/class/net/eth[0-3]/address
for i in 2 3 4 5; do ping -c 1 -W 5 10.211.$i.1 >/dev/null || exit 4; done
echo ping-ok
mkfifo /tmp/hold && exec 3<>/tmp/hold || exit 5
tx() {
	read -r a _ </proc/uptime
	head -c "$4" /dev/zero | nc "$2" "$3" >/dev/null || exit 6
	read -r b _ </proc/uptime
	echo "$1 $4 $a $b"
}
rx() {
	nc "$2" "$3" </tmp/hold | {
		dd bs=65536 count=1 iflag=fullblock of=/dev/null 2>/dev/null
		read -r a _ </proc/uptime
		n=$(wc -c)
		read -r b _ </proc/uptime
		echo "$1" $n "$a" "$b"
	}
}
pings() {
	ping -A -q -c 10 "$2" >/dev/null || exit 7
	read -r a _ </proc/uptime
	ping -A -q -c 40 "$2" >/dev/null || exit 7
	read -r b _ </proc/uptime
	echo "$1 40 $a $b"
}
pings tx-ops 10.211.4.1
pings rx-ops 10.211.5.1
tx drain 10.211.2.1 5001 16384 >/dev/null
tx tx-limited 10.211.2.1 5002 262144
rx drain 10.211.2.1 5003 >/dev/null
rx rx-limited 10.211.2.1 5004
tx tx-free 10.211.3.1 5005 1048576
rx rx-free 10.211.3.1 5006
'

# lxn_rate NAME [SCALE]: the rate (B/s, or pings/s) of the guest's line
# NAME times SCALE (default 1), or "".
lxn_rate() {
	awk -v n="$1" -v k="${2:-1}" '$1 == n && $4 > $3 { printf "%d", k * $2 / ($4 - $3) }' \
		"$lxn_dir/out"
}

# lxn_within RATE WANT PCT: true when RATE is within PCT % of WANT.
lxn_within() {
	[ -n "$1" ] && [ "$1" -ge $(($2 * (100 - $3) / 100)) ] &&
		[ "$1" -le $(($2 * (100 + $3) / 100)) ]
}

lxn_case() {
	local name=linux-hw-net-ratelimit why="" txl rxl txf rxf txo rxo i
	local macs="52:54:00:00:00:10 52:54:00:00:00:11 52:54:00:00:00:12 52:54:00:00:00:13"
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	lxn_dir=$WORK/$name lxn_ns=ember-rl$$ lxn_pids="" lxn_hold=""
	if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || [ ! -x /bin/busybox ]; then
		lx_skip "$name" "needs root, iproute2 and busybox to make a network namespace"
		return
	fi
	mkdir -p "$lxn_dir"
	lxn_trap=$(trap -p EXIT)
	lxn_trap=${lxn_trap#trap -- }
	eval "lxn_trap=${lxn_trap% EXIT}"
	trap "lxn_cleanup; $lxn_trap" EXIT
	ip netns add "$lxn_ns" 2>/dev/null
	for i in 0 1 2 3; do
		ip -n "$lxn_ns" tuntap add dev embrl$i mode tap &&
			ip -n "$lxn_ns" addr add 10.211.$((i + 2)).1/24 dev embrl$i &&
			ip -n "$lxn_ns" link set embrl$i up || break
	done
	if [ "$i" != 3 ] || ! ip -n "$lxn_ns" link show embrl3 >/dev/null 2>&1; then
		lxn_cleanup
		lx_skip "$name" "cannot make TAPs in a new network namespace here"
		return
	fi
	# the tx peers' stdin: a FIFO this shell holds open (no EOF, so they
	# end only when the guest closes)
	mkfifo "$lxn_dir/hold"
	exec {lxn_hold}<>"$lxn_dir/hold"
	head -c 32768 /dev/zero >"$lxn_dir/rx-drain"
	head -c 589824 /dev/urandom >"$lxn_dir/rx-data"
	lxn_listen 5001 "$lxn_dir/hold" /dev/null
	lxn_listen 5002 "$lxn_dir/hold" "$lxn_dir/tx-limited"
	lxn_listen 5003 "$lxn_dir/rx-drain" /dev/null
	lxn_listen 5004 "$lxn_dir/rx-data" /dev/null
	lxn_listen 5005 "$lxn_dir/hold" "$lxn_dir/tx-free"
	lxn_listen 5006 "$lxn_dir/rx-data" /dev/null
	(cd "$lxn_dir" && exec timeout -k 5 "$TIMEOUT" env EMBER_KERNEL_DIR="$LX_DIR" \
		ip netns exec "$lxn_ns" "$EMBER" run \
		--net "tap=embrl0,mac=${macs:0:17},tx_bw_size=16K,tx_bw_refill_time=250,rx_bw_size=32K,rx_bw_refill_time=250" \
		--net "tap=embrl1,mac=${macs:18:17}" \
		--net "tap=embrl2,mac=${macs:36:17},tx_ops_size=10,tx_ops_refill_time=500" \
		--net "tap=embrl3,mac=${macs:54:17},rx_ops_size=10,rx_ops_refill_time=500" \
		--cmdline "ember.ip=10.211.2.2/24" \
		-- sh -c "$LXN_GUEST") </dev/null >"$lxn_dir/out.raw" 2>"$lxn_dir/err"
	lxn_rc=$?
	tr -d '\r' <"$lxn_dir/out.raw" >"$lxn_dir/out"
	lxn_cleanup
	txl=$(lxn_rate tx-limited) rxl=$(lxn_rate rx-limited)
	txf=$(lxn_rate tx-free) rxf=$(lxn_rate rx-free)
	txo=$(lxn_rate tx-ops 10) rxo=$(lxn_rate rx-ops 10)
	if [ "$lxn_rc" != 0 ]; then
		why="expected status 0, got $lxn_rc"
	elif [ "$(head -n 5 "$lxn_dir/out" | tr '\n' ' ')" != "$macs ping-ok " ]; then
		why="eth0-3 are not the devices in the order given ($macs), or no ping"
	elif [ -z "$txl" ] || [ -z "$rxl" ] || [ -z "$txf" ] || [ -z "$rxf" ] ||
		[ -z "$txo" ] || [ -z "$rxo" ]; then
		why="expected six timings"
	elif [ "$(stat -c %s "$lxn_dir/tx-limited")" != 262144 ] ||
		[ "$(stat -c %s "$lxn_dir/tx-free")" != 1048576 ] ||
		[ "$(grep -c '^rx-[a-z]* 524288 ' "$lxn_dir/out")" != 2 ]; then
		why="a transfer lost bytes (the peers got $(stat -c %s "$lxn_dir/tx-limited") of 262144 and $(stat -c %s "$lxn_dir/tx-free") of 1048576)"
	elif ! lxn_within "$txl" 65536 15; then
		why="tx $txl B/s, not within 15 % of 65536"
	elif ! lxn_within "$rxl" 131072 15; then
		why="rx $rxl B/s, not within 15 % of 131072"
	elif [ "$txf" -le $((2 * txl)) ] || [ "$rxf" -le $((2 * rxl)) ]; then
		why="without a limit tx $txf B/s, rx $rxf B/s: not more than twice the limited rates"
	elif ! lxn_within "$txo" 200 15; then
		why="$((txo / 10)).$((txo % 10)) frames/s sent, not within 15 % of 20"
	elif ! lxn_within "$rxo" 200 15; then
		why="$((rxo / 10)).$((rxo % 10)) frames/s received, not within 15 % of 20"
	fi
	echo "  $name: tx $txl B/s (configured 65536), rx $rxl B/s (configured 131072); without a limit tx $txf B/s, rx $rxf B/s; pings $((txo / 10)).$((txo % 10))/s with 20 frames/s sent, $((rxo / 10)).$((rxo % 10))/s with 20 frames/s received"
	if [ -n "$why" ]; then
		lx_fail "$name" "$why" "$lxn_dir"
	else
		lx_pass "$name"
	fi
}

if lx_wanted $LXN_CASES; then
	lxn_why=$kvm_reason
	[ -z "$lxn_why" ] && lxn_why=$(lx_hw_reason)
	if [ -z "$lxn_why" ] && [ -z "${LX_DIR:-}" ]; then
		lx_guest
	fi
	[ -z "$lxn_why" ] && lxn_why=${LX_NOGUEST:-}
	if [ -n "$lxn_why" ]; then
		lx_skip_all "$LXN_CASES" "$lxn_why"
	else
		lxn_case
	fi
fi
