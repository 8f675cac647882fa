# tests/integration/t_api_net.sh - PATCH /network-interfaces/{id} on a
# running VM: the default guest, booted through the API on a TAP in a
# test-made network namespace, sends and receives through it at the
# limits of its PUT (tx 16 KiB a 500 ms: 32 KiB/s; rx 32 KiB a 500 ms:
# 64 KiB/s), says so on its console and waits on vsock; the test PATCHes
# the tx limiter, then the rx limiter, in two requests (each leaves the
# other as it is: Firecracker's merge), lets the guest go on, and the
# guest sends and receives again at the new limits (tx 64 KiB/s, rx
# 128 KiB/s).  Each rate must be at most 15 % over its limit (the
# limiter holds; a second PATCH that dropped the first's limiter would let
# it go far over: unlimited, the lane's guest sent 150 to 650 KB/s and
# received 0.37 to 4 MB/s, t_linux_netrl.sh); the rates after must be
# more than 20 % over the old limits (which a limiter that kept them
# cannot let through: its half-second bucket is 6 % of a window), those
# before more than half their limits (the transfer ran).  Lower bounds
# are loose on purpose: on a loaded lane (five lanes on two cores) the
# guest sent 26.6 KB/s at 32 KiB/s and 46 KB/s at 64 KiB/s, and received
# 108 KB/s at 128 KiB/s, in three runs whose other rates were within
# 6 %: what it could do, not what the limiter let through.  Also: the
# PATCH before the start, with an unknown field, a bad value and an
# unknown interface, each a 400 naming it; GET /vm/config shows the new
# limits.  The peers and the measurement are t_linux_netrl.sh's (lxn_*).
# Sourced by run.sh.

APN_CASES="api-net-patch"

# Sourced first in some locales: load t_api.sh's and t_linux_netrl.sh's
# helpers without running any of their cases.
if ! declare -F ap_start >/dev/null; then
	apn_pattern=$PATTERN PATTERN=" none "
	. "$HERE/t_api.sh"
	PATTERN=$apn_pattern
fi
if ! declare -F lxn_tx_peer >/dev/null; then
	apn_pattern=$PATTERN PATTERN=" none "
	. "$HERE/t_linux_netrl.sh"
	PATTERN=$apn_pattern
fi

# shellcheck disable=SC2016
APN_GUEST=$LXN_FUNCS'
ping -c 1 -W 5 10.212.2.1 >/dev/null || exit 4
tx 10.212.2.1 5002 327680
rx drain 10.212.2.1 5003 eth0 >/dev/null
rx rx-a 10.212.2.1 5004 eth0
echo patch-me
vsock-tool -r listen 5000 >/dev/null
tx 10.212.2.1 5005 589824
rx rx-b 10.212.2.1 5006 eth0
echo done
'

# apn_under RATE LIMIT PCT: RATE is over PCT % of LIMIT and at most 115 %
# of it
apn_under() {
	[ -n "$1" ] && [ "$1" -gt $(($2 * $3 / 100)) ] && [ "$1" -le $(($2 * 115 / 100)) ]
}

# apn_lim SIZE: a limiter of SIZE bytes a 500 ms
apn_lim() { printf '{"bandwidth":{"size":%d,"refill_time":500}}' "$1"; }

apn_case() {
	local name=api-net-patch dir=$WORK/api-net-patch s cmd why="" ta tb ra rb i
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || [ ! -x /bin/busybox ]; then
		lx_skip "$name" "needs root, iproute2 and busybox to make a network namespace"
		return
	fi
	lxn_dir=$dir/a lxn_ns=ember-apn$$ lxn_pids="" lxn_txpeers="" lxn_hold=""
	s=$dir/a/s
	mkdir -p "$lxn_dir"
	lxn_trap=$(trap -p EXIT)
	lxn_trap=${lxn_trap#trap -- }
	eval "lxn_trap=${lxn_trap% EXIT}"
	trap "lxn_cleanup; $lxn_trap" EXIT
	if ! ip netns add "$lxn_ns" || ! ip -n "$lxn_ns" tuntap add dev embap0 mode tap ||
		! ip -n "$lxn_ns" addr add 10.212.2.1/24 dev embap0 ||
		! ip -n "$lxn_ns" link set embap0 up; then
		lxn_cleanup
		lx_skip "$name" "cannot make a TAP in a new network namespace here"
		return
	fi
	rm -f "$lxn_dir/hold"
	mkfifo "$lxn_dir/hold"
	exec {lxn_hold}<>"$lxn_dir/hold"
	head -c 65536 /dev/zero >"$dir/rx-drain"
	head -c 589824 /dev/urandom >"$dir/rx-a"
	head -c 1114112 /dev/urandom >"$dir/rx-b"
	lxn_tx_peer 5002 embap0 "$lxn_dir/tx-a"
	lxn_listen 5003 "$dir/rx-drain" /dev/null
	lxn_listen 5004 "$dir/rx-a" /dev/null
	lxn_tx_peer 5005 embap0 "$lxn_dir/tx-b"
	lxn_listen 5006 "$dir/rx-b" /dev/null
	cmd=$(ap_cmd "$APN_GUEST")
	AP_NETNS=$lxn_ns
	# the guest's four transfers take about 40 s by design: its ember
	# gets that on top of what a case's run gets
	if ! TIMEOUT=$((TIMEOUT + 60)) ap_start "$dir/a" --api-sock "$s"; then
		ap_end "$dir/a"
		unset AP_NETNS
		lxn_cleanup
		lx_fail "$name" "ember did not serve" "$dir/a"
		return
	fi
	unset AP_NETNS
	ap_ok "$s" 204 '' PUT /machine-config '{"vcpu_count":1,"mem_size_mib":256}'
	ap_ok "$s" 204 '' PUT /boot-source "{\"kernel_image_path\":\"$LX_DIR/vmlinux\",\"initrd_path\":\"$LX_DIR/initramfs.cpio.gz\",\"boot_args\":\"$LINUX_CMDLINE ember.ip=10.212.2.2/24 ember.cmd=$cmd\"}"
	ap_ok "$s" 204 '' PUT /network-interfaces/eth0 "{\"iface_id\":\"eth0\",\"host_dev_name\":\"embap0\",\"tx_rate_limiter\":$(apn_lim 16384),\"rx_rate_limiter\":$(apn_lim 32768)}"
	ap_ok "$s" 204 '' PUT /vsock "{\"guest_cid\":3,\"uds_path\":\"$dir/v\"}"
	ap_ok "$s" 400 'not allowed before the VM has started' PATCH /network-interfaces/eth0 "{\"iface_id\":\"eth0\",\"tx_rate_limiter\":$(apn_lim 1024)}"
	ap_ok "$s" 204 '' PUT /actions '{"action_type":"InstanceStart"}'
	if ! ap_wait "$dir/a" listening; then
		ap_end "$dir/a" TERM
		lxn_cleanup
		lx_fail "$name" "the guest never came to its PATCH: $ap_errs" "$dir/a"
		ap_errs=""
		return
	fi
	ap_ok "$s" 400 "unknown field 'host_dev_name'" PATCH /network-interfaces/eth0 '{"iface_id":"eth0","host_dev_name":"embap1"}'
	ap_ok "$s" 400 "tx_rate_limiter: bandwidth: field 'size' must be an unsigned integer" PATCH /network-interfaces/eth0 '{"iface_id":"eth0","tx_rate_limiter":{"bandwidth":{"size":-1,"refill_time":500}}}'
	ap_ok "$s" 400 "there is no network interface 'eth1'" PATCH /network-interfaces/eth1 '{"iface_id":"eth1"}'
	ap_ok "$s" 204 '' PATCH /network-interfaces/eth0 "{\"iface_id\":\"eth0\",\"tx_rate_limiter\":$(apn_lim 32768)}"
	ap_ok "$s" 204 '' PATCH /network-interfaces/eth0 "{\"iface_id\":\"eth0\",\"rx_rate_limiter\":$(apn_lim 65536)}"
	ap_ok "$s" 200 '"rx_rate_limiter":{"bandwidth":{"size":65536,"one_time_burst":0,"refill_time":500}' GET /vm/config
	ap_ok "$s" 200 '"tx_rate_limiter":{"bandwidth":{"size":32768,"one_time_burst":0,"refill_time":500}' GET /vm/config
	printf 'CONNECT 5000\n' | timeout "$TIMEOUT" socat -t 30 - "UNIX-CONNECT:$dir/v" >/dev/null 2>&1
	ap_wait "$dir/a" done || ap_errs+="the guest never said done"$'\n'
	ap_end "$dir/a"
	[ "$ap_rc" = 0 ] || ap_errs+="ember ended with status $ap_rc, not 0"$'\n'
	# the guest closed both tx connections: their peers write their line
	if [ "$ap_rc" = 0 ]; then
		for i in $lxn_txpeers; do wait "$i" 2>/dev/null; done
	fi
	lxn_cleanup
	ta=$(lxn_rate tx-a 5) tb=$(lxn_rate tx-b 5) ra=$(lxn_rate rx-a 5) rb=$(lxn_rate rx-b 5)
	if [ -z "$ta" ] || [ -z "$tb" ] || [ -z "$ra" ] || [ -z "$rb" ]; then
		why="expected four timings"
	elif [ "$(cut -d' ' -f1 "$lxn_dir/tx-a")" != 262144 ] ||
		[ "$(cut -d' ' -f1 "$lxn_dir/tx-b")" != 524288 ] ||
		! grep -q '^rx-a 524288 ' "$lxn_dir/out" || ! grep -q '^rx-b 1048576 ' "$lxn_dir/out"; then
		why="a transfer lost bytes"
	elif ! apn_under "$ta" 32768 50; then
		why="tx before the PATCH $ta B/s, not from 50 to 115 % of 32768"
	elif ! apn_under "$ra" 65536 50; then
		why="rx before the PATCH $ra B/s, not from 50 to 115 % of 65536"
	elif ! apn_under "$tb" 65536 60; then
		why="tx after the PATCH $tb B/s, not from 60 % (120 % of the old limit) to 115 % of 65536"
	elif ! apn_under "$rb" 131072 60; then
		why="rx after the PATCH $rb B/s, not from 60 % (120 % of the old limit) to 115 % of 131072"
	fi
	echo "  $name: tx $ta B/s of frames (limit 32768), then $tb (65536); rx $ra (65536), then $rb (131072)"
	[ -n "$why" ] && ap_errs+="$why"$'\n'
	ap_verdict "$name" "$dir/a"
}

if lx_wanted $APN_CASES; then
	apn_why=$kvm_reason
	[ -z "$apn_why" ] && apn_why=$(lx_hw_reason)
	[ -z "$apn_why" ] && ! command -v curl >/dev/null && apn_why="curl is not installed"
	[ -z "$apn_why" ] && ! command -v socat >/dev/null && apn_why="socat is not installed"
	if [ -z "$apn_why" ] && [ -z "${LX_DIR:-}" ]; then
		lx_guest
	fi
	[ -z "$apn_why" ] && apn_why=${LX_NOGUEST:-}
	if [ -n "$apn_why" ]; then
		lx_skip_all "$APN_CASES" "$apn_why"
	else
		apn_case
	fi
fi
