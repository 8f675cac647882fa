#!/bin/bash
# tests/l1/kvm.sh - run a command where hardware-style KVM is: directly when
# this host's /dev/kvm is backed by VT-x/AMD-V, else inside the L1 lane
# (tests/l1/lane.sh).  The first line printed says which, and why.
#
#   tests/l1/kvm.sh [--what WHAT] [lane options...] -- CMD [ARGS...]
#   tests/l1/kvm.sh --detect      # prints "direct" or "l1", then the reason
#
# EMBER_TEST_KVM=direct|l1 forces one.  WHAT names the run in the first
# line ("integration tests", "make run", ...).  Lane options (--interactive,
# --timeout S, --rw DIR) are passed to lane.sh.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Sets where=direct|l1 and why.
detect() {
	local mods="" m
	for m in kvm_intel kvm_amd kvm_pvm; do
		[ -e /sys/module/$m ] && mods="$mods $m"
	done
	mods=${mods# }
	case ${EMBER_TEST_KVM:-} in
	direct) where=direct why="EMBER_TEST_KVM=direct"; return ;;
	l1) where=l1 why="EMBER_TEST_KVM=l1"; return ;;
	"") ;;
	*) echo "kvm.sh: EMBER_TEST_KVM must be direct or l1, not '$EMBER_TEST_KVM'" >&2; exit 2 ;;
	esac
	where=l1
	if [ ! -e /dev/kvm ]; then
		if [[ " $mods " == *" kvm_pvm "* ]]; then
			why="no /dev/kvm on this host (kvm_pvm is loaded but not bound)"
		else
			why="no /dev/kvm on this host${mods:+ (loaded: $mods)}"
		fi
	elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
		why="/dev/kvm is not usable by $(id -un)"
	elif [[ " $mods " == *" kvm_pvm "* ]]; then
		why="/dev/kvm here is kvm_pvm (software virtualization, not VT-x/AMD-V)"
	elif [[ " $mods " == *" kvm_intel "* ]] || [[ " $mods " == *" kvm_amd "* ]]; then
		where=direct why="/dev/kvm is hardware-backed ($mods loaded)"
	elif grep -qwE 'vmx|svm' /proc/cpuinfo; then
		where=direct why="/dev/kvm is hardware-backed (the CPU has $(grep -owE 'vmx|svm' /proc/cpuinfo | head -n 1))"
	else
		why="/dev/kvm exists but neither kvm_intel nor kvm_amd is loaded and the CPU shows no vmx/svm"
	fi
}

what="command"
declare -a lane_opts=()
while [ $# -gt 0 ]; do
	case $1 in
	--detect) detect; echo "$where"; echo "$why"; exit 0 ;;
	--what) what=$2; shift 2 ;;
	--interactive) lane_opts+=("$1"); shift ;;
	--timeout|--rw) lane_opts+=("$1" "$2"); shift 2 ;;
	--) shift; break ;;
	*) echo "kvm.sh: unknown option '$1'" >&2; exit 2 ;;
	esac
done
[ $# -gt 0 ] || { echo "usage: kvm.sh [--what WHAT] [lane options] -- CMD [ARGS...]" >&2; exit 2; }

detect
if [ "$where" = direct ]; then
	echo "$what: on this host's KVM: $why"
	exec "$@"
fi
echo "$what: in the L1 lane (kvm_amd under QEMU TCG, tests/l1/): $why"
exec "$here/lane.sh" "${lane_opts[@]}" -- "$@"
