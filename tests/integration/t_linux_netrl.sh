# tests/integration/t_linux_netrl.sh - virtio-net rate limiters as the
# default Linux guest sees them, through four TAPs in a test-made network
# namespace: TCP through one limited in bandwidth each way (tx 32 KiB a
# 500 ms, 64 KiB/s; rx 64 KiB a 500 ms, 128 KiB/s) and through one without
# a limit; pings through one limited to 10 frames a 500 ms sent and one
# limited to as many received (20/s).  Sourced by run.sh (after t_linux.sh, whose helpers lx_*
# it uses).
#
# The buckets hold half a second of tokens and each window is 4 to 8 s:
# with a quarter of a second, tokens were lost while ember or the guest
# could not run on a loaded machine (rates 15 to 35 % low while the whole
# suite ran beside); with a second, what a sender slower than the limit
# left in the bucket before the window came out in it (up to 20 % high).
#
# The peers are busybox nc listeners in the namespace, started before the
# guest boots (a listener per transfer: nothing waits for anything).  Each
# limited transfer first empties its bucket, then the timed one runs, as
# the virtio-blk case does:
# - tx: the guest sends 576 KiB (1088 KiB without a limit); the peer times
#   from its first 64 KiB to the end of the stream (bash's
#   EPOCHREALTIME), and the bytes are those its TAP counted meanwhile
#   (statistics/rx_bytes);
# - rx: the peer sends 1088 KiB; the guest times from its first 64 KiB to
#   the end of the stream (its /proc/uptime, read by the shell itself),
#   and the bytes are those its interface counted meanwhile;
# - frames: `ping -A` (the next request when the reply is in) 10 times to
#   empty the bucket, then 80 times, timed.
# Timing from the first 64 KiB on measures the steady state, whatever the
# bucket held at the start; counting the interface's bytes measures what
# the limiter let through (the Ethernet frames, as it counts them,
# retransmissions included: TCP's payload rate, shown too, also depends on
# what was buffered before the window).  Each limited rate must be within
# 15 % of the configured one, each unlimited rate more than twice the
# limited one.  (In the L1
# lane, under emulation and beside other jobs, the guest received 0.37 to
# 4 MB/s without a limit but sent only 150 to 650 KB/s: its TCP saw the
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
	# what is left in the namespace (a peer whose guest never came)
	ip netns pids "$lxn_ns" 2>/dev/null | xargs -r kill 2>/dev/null
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

# lxn_tx_peer PORT DEV OUT: a peer on PORT that reads the guest's
# transfer and writes to OUT "PAYLOAD START END FRAME_BYTES" for what came
# after the first 64 KiB (FRAME_BYTES: what TAP DEV received meanwhile).
lxn_tx_peer() {
	# shellcheck disable=SC2016
	ip netns exec "$lxn_ns" bash -c 'busybox nc -l -p "$1" <"$2" | {
		dd bs=65536 count=1 iflag=fullblock of=/dev/null 2>/dev/null
		read -r c <"/sys/class/net/$3/statistics/rx_bytes"
		a=$EPOCHREALTIME
		n=$(wc -c)
		b=$EPOCHREALTIME
		read -r d <"/sys/class/net/$3/statistics/rx_bytes"
		echo "$n $a $b $((d - c))"
	} >"$4"' _ "$1" "$lxn_dir/hold" "$2" "$3" &
	lxn_pids="$lxn_pids $!" lxn_txpeers="$lxn_txpeers $!"
}

# The guest's side.  `tx IP PORT BYTES` sends; `rx NAME IP PORT DEV`
# prints "NAME PAYLOAD START END FRAME_BYTES", `pings NAME IP` "NAME PINGS
# START END" (LXN_FUNCS, also t_api_net.sh's).  eth0 is the
# bandwidth-limited device (ember.ip), eth1 the free one, eth2 and eth3
# the ones limited in frames sent and received.
# shellcheck disable=SC2016
LXN_FUNCS='
mkfifo /tmp/hold && exec 3<>/tmp/hold || exit 5
tx() {
	head -c "$3" /dev/zero | nc "$1" "$2" >/dev/null || exit 6
}
rx() {
	nc "$2" "$3" </tmp/hold | {
		dd bs=65536 count=1 iflag=fullblock of=/dev/null 2>/dev/null
		read -r c </sys/class/net/$4/statistics/rx_bytes
		read -r a _ </proc/uptime
		n=$(wc -c)
		read -r b _ </proc/uptime
		read -r d </sys/class/net/$4/statistics/rx_bytes
		echo "$1" $n "$a" "$b" $((d - c))
	}
}
pings() {
	ping -A -q -c 10 "$2" >/dev/null || exit 7
	read -r a _ </proc/uptime
	ping -A -q -c 80 "$2" >/dev/null || exit 7
	read -r b _ </proc/uptime
	echo "$1 80 $a $b"
}
'
# shellcheck disable=SC2016
LXN_GUEST=$LXN_FUNCS'
for i in 1 2 3; do
	ip addr add 10.211.$((i + 2)).2/24 dev eth$i && ip link set eth$i up || exit 3
done
cat /sys/class/net/eth[0-3]/address
for i in 2 3 4 5; do ping -c 1 -W 5 10.211.$i.1 >/dev/null || exit 4; done
echo ping-ok
pings tx-ops 10.211.4.1
pings rx-ops 10.211.5.1
tx 10.211.2.1 5002 589824
rx drain 10.211.2.1 5003 eth0 >/dev/null
rx rx-limited 10.211.2.1 5004 eth0
tx 10.211.3.1 5005 1114112
rx rx-free 10.211.3.1 5006 eth1
'

# lxn_rate NAME FIELD [SCALE]: the rate of field FIELD (2: payload bytes
# or pings, 5: frame bytes) of the line NAME, per second, times SCALE
# (default 1), or "".  The guest's lines are in DIR/out, the tx peers'
# in DIR/NAME (without the name).
lxn_rate() {
	{ cat "$lxn_dir/out"; [ -f "$lxn_dir/$1" ] && sed "s/^/$1 /" "$lxn_dir/$1"; } |
		awk -v n="$1" -v f="$2" -v k="${3:-1}" \
			'$1 == n && $4 > $3 && $f != "" { printf "%d", k * $f / ($4 - $3) }'
}

# lxn_within RATE WANT PCT: true when RATE is within PCT % of WANT.
lxn_within() {
	[ -n "$1" ] && [ "$1" -ge $(($2 * (100 - $3) / 100)) ] &&
		[ "$1" -le $(($2 * (100 + $3) / 100)) ]
}

lxn_case() {
	local name=linux-hw-net-ratelimit why="" txl rxl txf rxf txo rxo txp rxp i
	local macs="52:54:00:00:00:10 52:54:00:00:00:11 52:54:00:00:00:12 52:54:00:00:00:13"
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	lxn_dir=$WORK/$name lxn_ns=ember-rl$$ lxn_pids="" lxn_txpeers="" lxn_hold=""
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
	head -c 65536 /dev/zero >"$lxn_dir/rx-drain"
	head -c 1114112 /dev/urandom >"$lxn_dir/rx-data"
	lxn_tx_peer 5002 embrl0 "$lxn_dir/tx-limited"
	lxn_listen 5003 "$lxn_dir/rx-drain" /dev/null
	lxn_listen 5004 "$lxn_dir/rx-data" /dev/null
	lxn_tx_peer 5005 embrl1 "$lxn_dir/tx-free"
	lxn_listen 5006 "$lxn_dir/rx-data" /dev/null
	(cd "$lxn_dir" && exec timeout -k 5 "$TIMEOUT" env EMBER_KERNEL_DIR="$LX_DIR" \
		ip netns exec "$lxn_ns" "$EMBER" run \
		--net "tap=embrl0,mac=${macs:0:17},tx_bw_size=32K,tx_bw_refill_time=500,rx_bw_size=64K,rx_bw_refill_time=500" \
		--net "tap=embrl1,mac=${macs:18:17}" \
		--net "tap=embrl2,mac=${macs:36:17},tx_ops_size=10,tx_ops_refill_time=500" \
		--net "tap=embrl3,mac=${macs:54:17},rx_ops_size=10,rx_ops_refill_time=500" \
		--cmdline "ember.ip=10.211.2.2/24" \
		-- sh -c "$LXN_GUEST") </dev/null >"$lxn_dir/out.raw" 2>"$lxn_dir/err"
	lxn_rc=$?
	tr -d '\r' <"$lxn_dir/out.raw" >"$lxn_dir/out"
	# a guest that got through has closed both tx connections: their
	# peers are writing their line, or have
	if [ "$lxn_rc" = 0 ]; then
		for i in $lxn_txpeers; do wait "$i" 2>/dev/null; done
	fi
	lxn_cleanup
	txl=$(lxn_rate tx-limited 5) rxl=$(lxn_rate rx-limited 5)
	txf=$(lxn_rate tx-free 5) rxf=$(lxn_rate rx-free 5)
	txp=$(lxn_rate tx-limited 2) rxp=$(lxn_rate rx-limited 2)
	txo=$(lxn_rate tx-ops 2 10) rxo=$(lxn_rate rx-ops 2 10)
	if [ "$lxn_rc" != 0 ]; then
		why="expected status 0, got $lxn_rc"
	elif [ "$(head -n 5 "$lxn_dir/out" | tr '\n' ' ')" != "$macs ping-ok " ]; then
		why="eth0-3 are not the devices in the order given ($macs), or no ping"
	elif [ -z "$txl" ] || [ -z "$rxl" ] || [ -z "$txf" ] || [ -z "$rxf" ] ||
		[ -z "$txo" ] || [ -z "$rxo" ]; then
		why="expected six timings"
	elif [ "$(cut -d' ' -f1 "$lxn_dir/tx-limited")" != 524288 ] ||
		[ "$(cut -d' ' -f1 "$lxn_dir/tx-free")" != 1048576 ] ||
		[ "$(grep -c '^rx-[a-z]* 1048576 ' "$lxn_dir/out")" != 2 ]; then
		why="a transfer lost bytes (the peers counted $(cut -d' ' -f1 "$lxn_dir/tx-limited") of 524288 and $(cut -d' ' -f1 "$lxn_dir/tx-free") of 1048576)"
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
	echo "  $name: tx $txl B/s of frames, $txp of payload (configured 65536), rx $rxl B/s, $rxp (configured 131072); without a limit tx $txf B/s, rx $rxf B/s; pings $((txo / 10)).$((txo % 10))/s with 20 frames/s sent, $((rxo / 10)).$((rxo % 10))/s with 20 frames/s received"
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
