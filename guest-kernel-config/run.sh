#!/bin/bash
# `make run`: boot ember's default Linux guest to a shell on the console,
# building the guest kernel and initramfs first when missing. On a host
# whose KVM cannot run an unmodified Linux kernel it says why in one line
# and boots the freestanding demo guest instead.
#
# usage: guest-kernel-config/run.sh EMBER GUESTS_DIR [ember run options...]
set -uo pipefail

[ $# -ge 2 ] || { echo "usage: $0 EMBER GUESTS_DIR [ember run options...]" >&2; exit 2; }
ember=$1 guests=$2
shift 2
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# Why this host's KVM cannot run Linux, or nothing.
linux_unsupported() {
    if [ -e /sys/module/kvm_pvm ]; then
        echo "KVM on this host is kvm_pvm (software virtualization): its instruction emulator rejects instructions Linux runs in ring 0 (XSAVE/XRSTOR, INT3)"
    elif ! grep -qwE 'vmx|svm' /proc/cpuinfo 2>/dev/null; then
        echo "this CPU shows no hardware virtualization (no vmx or svm flag in /proc/cpuinfo)"
    fi
}

reason=$(linux_unsupported)
if [ -n "$reason" ]; then
    echo "ember: make run: not booting Linux: $reason; booting the demo guest (tests/guests/demo.pvh) instead" >&2
    exec "$ember" run --kernel "$guests/demo.pvh" --boot-time "$@"
fi
dir=$("$here/default.sh") || exit 1
EMBER_KERNEL_DIR=$dir exec "$ember" run --kernel default --boot-time "$@"
