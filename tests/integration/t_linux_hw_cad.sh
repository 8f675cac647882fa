# tests/integration/t_linux_hw_cad.sh - Ctrl-Alt-Del through ember's i8042
# to the default Linux guest, which reboots: the VM ends with status 0.
# ember-test (EMBER_TEST, built with -DEMBER_TEST_HOOKS) types Ctrl-Alt-Del
# on SIGUSR2, the stand-in for the API's SendCtrlAltDel.  The guest waits
# until its keyboard is registered with the console's keyboard handler
# (polling /proc/bus/input/devices) and prints "ready"; the test waits for
# that line, sends the signal and reads the console to its end.
#  - linux-hw-cad-reboot: the kernel's default (ctrl-alt-del = 1) restarts
#    at once; the console shows the kernel's "reboot: Restarting system".
#  - linux-hw-cad-init: with ctrl-alt-del = 0 the kernel hands it to PID 1
#    as SIGINT; ember-init says so, stops every process (the command's TERM
#    trap prints "terminated") and reboots.
# Each must end within LXC_BOUND seconds of the signal.
# Sourced by run.sh; uses t_linux.sh's and t_linux_hw.sh's helpers.

LXC_CASES="linux-hw-cad-reboot linux-hw-cad-init"
LXC_BOUND=${LXC_BOUND:-$([ "${EMBER_IN_L1:-0}" = 1 ] && echo 20 || echo 5)}

# Sourced before t_linux_hw.sh (a locale that sorts this file first): load
# its helpers (and t_linux.sh's) without running their cases.
if ! declare -F lxh_start >/dev/null; then
	lxc_pattern=$PATTERN PATTERN=" none "
	. "$HERE/t_linux_hw.sh"
	PATTERN=$lxc_pattern
fi

# The guest side: wait (bounded) for the AT keyboard to reach the
# console's keyboard handler, then say so.
LXC_WAIT='n=0; until grep -qs "^H: Handlers=.*kbd" /proc/bus/input/devices; do
	n=$((n + 1)); [ $n -le 600 ] || { echo "no keyboard"; exit 3; }; sleep 0.1; done'

# lxc_case NAME WANT GUEST_SCRIPT: ember-test runs GUEST_SCRIPT; on "ready"
# SIGUSR2; then status 0, stdout exactly WANT, within LXC_BOUND seconds.
lxc_case() {
	local name=$1 want=$2 dir=$WORK/$1 t0 ms saved=$EMBER
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	EMBER=$EMBER_TEST
	lxh_start "$dir" run -- sh -c "$3"
	EMBER=$saved
	if ! lxh_wait "$dir" ready; then
		lxh_end "$dir"
		lx_fail "$name" "the guest never printed 'ready' (status $lxh_rc)" "$dir"
		return
	fi
	t0=$(date +%s%N)
	kill -USR2 "$(lxh_ember_pid)"
	lxh_end "$dir"
	ms=$((($(date +%s%N) - t0) / 1000000))
	if [ "$ms" -gt $((LXC_BOUND * 1000)) ]; then
		lx_fail "$name" "ember ended ${ms} ms after SIGUSR2, over the bound of ${LXC_BOUND} s" "$dir"
		return
	fi
	echo "  $name: ember ended $ms ms after Ctrl-Alt-Del"
	sed -i 's/^\[ *[0-9]*\.[0-9]*\] //' "$dir/out"	# the kernel's printk time
	lxh_check "$name" 0 "$want"
}

lxc_cases() {
	lxc_case linux-hw-cad-reboot $'ready\nreboot: Restarting system' \
		"$LXC_WAIT; echo ready; exec sleep 600"
	lxc_case linux-hw-cad-init \
		$'ready\nember-init: Ctrl-Alt-Del: stopping every process and rebooting\nterminated\nreboot: Restarting system' \
		"echo 0 >/proc/sys/kernel/ctrl-alt-del; trap 'echo terminated; exit 0' TERM
		$LXC_WAIT; echo ready; sleep 600 & wait"
}

if lx_wanted $LXC_CASES; then
	: "${EMBER_TEST:=$(dirname "$EMBER")/ember-test}"
	lxc_why=$kvm_reason
	[ -z "$lxc_why" ] && lxc_why=$(lx_hw_reason)
	[ -z "$lxc_why" ] && [ ! -x "$EMBER_TEST" ] &&
		lxc_why="needs EMBER_TEST='$EMBER_TEST' (ember built with -DEMBER_TEST_HOOKS)"
	if [ -z "$lxc_why" ] && [ -z "${LX_DIR:-}" ]; then
		lx_guest
	fi
	[ -z "$lxc_why" ] && lxc_why=${LX_NOGUEST:-}
	if [ -n "$lxc_why" ]; then
		lx_skip_all "$LXC_CASES" "$lxc_why"
	else
		lxc_cases
	fi
fi
