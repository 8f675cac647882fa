#!/bin/bash
# `make run`: boot ember's default Linux guest to a shell on the console,
# building the guest kernel and initramfs first when missing.  Where this
# host's KVM is hardware-backed (VT-x/AMD-V) ember runs here; elsewhere (no
# /dev/kvm, or kvm_pvm) it says so in one line and runs ember inside the L1
# lane (tests/l1/: Debian's kernel with kvm_amd under QEMU TCG), slower but
# real.  Ctrl-A x leaves the guest; `exit` in its shell ends it too.
#
# usage: guest-kernel-config/run.sh EMBER [ember run options...]
set -uo pipefail

[ $# -ge 1 ] || { echo "usage: $0 EMBER [ember run options...]" >&2; exit 2; }
ember=$1
shift
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)

dir=$("$here/default.sh") || exit 1
export EMBER_KERNEL_DIR=$dir
mapfile -t kvm < <("$root/tests/l1/kvm.sh" --detect)
if [ "${kvm[0]}" = direct ]; then
	exec "$ember" run --kernel default --boot-time "$@"
fi
echo "ember: make run: ${kvm[1]}: booting the guest under ember inside the L1 lane (kvm_amd under QEMU TCG; slower than hardware)" >&2
exec "$root/tests/l1/lane.sh" --interactive -- "$ember" run --kernel default --boot-time "$@"
