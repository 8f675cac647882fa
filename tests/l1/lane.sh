#!/bin/bash
# tests/l1/lane.sh - run a command on hardware-style KVM inside an L1 VM.
#
#   tests/l1/lane.sh [--interactive] [--timeout SECS] [--rw DIR]... -- CMD [ARGS...]
#
# Boots Debian's linux-image-amd64 under qemu-system-x86_64 with TCG and
# -cpu max (QEMU emulates AMD SVM with nested paging, so kvm_amd binds and
# gives a real /dev/kvm), with this machine's / mounted read-only over 9p
# under a tmpfs overlay and each --rw DIR (default: the ember work tree)
# mounted read-write at its own path.  CMD runs there, as root, in the
# current directory, with this shell's exported environment plus
# EMBER_IN_L1=1; its output is the lane's stdout and its status the lane's
# status.  /tmp, /run and /dev/shm in L1 are its own (tmpfs), not the host's.
#
#   --interactive   CMD gets the terminal (a shell under ember, `make run`)
#   --timeout SECS  end the VM after SECS (default 3600; status 124 and the
#                   tail of the L1 kernel's log)
#
# The kernel package is fetched with `apt-get download` and unpacked with
# `dpkg -x` into <cache>/l1/<package>_<version>/, with an initramfs of
# busybox-static and the modules the suite needs (kvm-amd, 9p, overlay,
# tun, veth, bridge, vsock, vhost-vsock, loop, dm-delay, ext4, fuse).
# <cache> = ${EMBER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ember}.
# L1_LOG=FILE keeps the L1 kernel's log there.
# L1_MEM (default 8G) and L1_CPUS (default 1, see below) size the VM.
#
# Status: CMD's, or 124 (timeout), 125 (the lane itself failed: the reason
# is printed on stderr, starting with "l1: ").
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
die() { echo "l1: $*" >&2; exit 125; }

interactive=0 timeout=3600
declare -a rw=()
while [ $# -gt 0 ]; do
	case $1 in
	--interactive) interactive=1; shift ;;
	--timeout) timeout=$2; shift 2 ;;
	--rw) rw+=("$(cd "$2" && pwd)") || die "no directory '$2'"; shift 2 ;;
	--) shift; break ;;
	*) die "unknown option '$1' (usage: lane.sh [--interactive] [--timeout S] [--rw DIR]... -- CMD...)" ;;
	esac
done
[ $# -gt 0 ] || die "no command (usage: lane.sh [options] -- CMD [ARGS...])"
[ ${#rw[@]} -gt 0 ] || rw=("$root")

qemu=$(command -v qemu-system-x86_64) ||
	die "qemu-system-x86_64 not found: install Debian's qemu-system-x86"
for t in busybox dpkg apt-get depmod modprobe cpio gzip; do
	command -v $t >/dev/null || die "'$t' not found (Debian packages: busybox-static, kmod, cpio, gzip)"
done
busybox=$(command -v busybox)
command -v file >/dev/null && file -b "$busybox" | grep -q dynamic &&
	die "$busybox is dynamically linked: install Debian's busybox-static"

cache=${EMBER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ember}/l1
mkdir -p "$cache" || die "cannot create '$cache'"

# The kernel: the package linux-image-amd64 depends on, at its candidate
# version.  Without apt metadata, the newest one already cached.
kpkg=$(apt-cache depends linux-image-amd64 2>/dev/null | sed -n 's/^ *Depends: \(linux-image-[0-9].*-amd64\)$/\1/p' | head -n 1)
kver=""
[ -n "$kpkg" ] && kver=$(apt-cache policy "$kpkg" 2>/dev/null | sed -n 's/^ *Candidate: //p')
if [ -n "$kpkg" ] && [ -n "$kver" ] && [ "$kver" != "(none)" ]; then
	kdir=$cache/${kpkg}_$kver
else
	kdir=$(ls -d "$cache"/linux-image-*_* 2>/dev/null | sort -V | tail -n 1)
	[ -n "$kdir" ] && [ -e "$kdir/done" ] ||
		die "cannot find Debian's linux-image-amd64 (run 'apt-get update' once) and none is cached in '$cache'"
fi

# Fetches and unpacks the kernel package into $kdir/pkg (once per version).
fetch_kernel() {
	local tmp=$kdir.tmp
	rm -rf "$tmp" && mkdir -p "$tmp/dl" || return 1
	(cd "$tmp/dl" && apt-get download "$kpkg=$kver" >"$tmp/apt.log" 2>&1) ||
		{ echo "l1: apt-get download $kpkg=$kver failed: $(tail -n 1 "$tmp/apt.log")" >&2; return 1; }
	dpkg -x "$tmp"/dl/*.deb "$tmp/pkg" || return 1
	depmod -b "$tmp/pkg" "$(ls "$tmp/pkg/lib/modules")" || return 1
	cp "$tmp"/pkg/boot/vmlinuz-* "$tmp/vmlinuz" || return 1
	rm -rf "$tmp/dl"
	touch "$tmp/done"
	rm -rf "$kdir" && mv "$tmp" "$kdir"
}
# What the suite needs in L1, with their dependencies.
modules="kvm_amd 9pnet_virtio 9p virtio_pci overlay tun veth bridge vsock vhost_vsock
	loop dm_delay ext4 fuse"
# Builds the initramfs $1: busybox, init.sh as /init, the modules (with
# their dependencies, in load order) listed in /modules.list.
build_initrd() {
	local out=$1 ird=$kdir/initrd.tmp kv m line base
	kv=$(ls "$kdir/pkg/lib/modules") || return 1
	rm -rf "$ird" && mkdir -p "$ird"/{bin,dev,proc,sys,modules} || return 1
	cp "$busybox" "$ird/bin/busybox" && ln -s busybox "$ird/bin/sh" &&
		cp "$here/init.sh" "$ird/init" && chmod 755 "$ird/init" || return 1
	: >"$ird/modules.list"
	for m in $modules; do
		modprobe -d "$kdir/pkg" -S "$kv" --show-depends "$m" >"$ird/deps" 2>&1 ||
			{ echo "l1: module $m: $(cat "$ird/deps")" >&2; return 1; }
		while read -r line; do
			[[ $line == insmod* ]] || continue
			line=${line#insmod }
			line=${line%% *}
			base=${line##*/}
			grep -qxF "$base" "$ird/modules.list" && continue
			cp "$line" "$ird/modules/$base" || return 1
			echo "$base" >>"$ird/modules.list"
		done <"$ird/deps"
	done
	rm -f "$ird/deps"
	(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) >"$out.tmp" || return 1
	mv "$out.tmp" "$out" && rm -rf "$ird"
}
# The initramfs is keyed by init.sh and the module list (older ones stay:
# a lane running beside this one may be using one).
initrd=$kdir/initrd-$({ cat "$here/init.sh"; echo $modules; } | sha256sum | cut -c1-16).gz
if [ ! -e "$kdir/done" ] || [ ! -e "$initrd" ]; then
	exec 9>"$cache/.lock"
	flock 9
	if [ ! -e "$kdir/done" ]; then
		[ -n "$kpkg" ] || die "no kernel package to fetch"
		echo "l1: fetching $kpkg $kver (apt-get download, dpkg -x) into $kdir" >&2
		fetch_kernel || die "could not fetch the L1 kernel into '$kdir'"
	fi
	if [ ! -e "$initrd" ]; then
		build_initrd "$initrd" || die "could not build the L1 initramfs '$initrd'"
	fi
	exec 9>&-
fi

lane=$(mktemp -d "${TMPDIR:-/tmp}/ember-l1.XXXXXX") || die "mktemp failed"
qpid=""
cleanup() {
	# timeout leads its own process group, QEMU in it
	[ -n "$qpid" ] && kill -9 -- "-$qpid" "$qpid" 2>/dev/null
	[ -n "${L1_LOG:-}" ] && cp "$lane/kernel.log" "$L1_LOG" 2>/dev/null
	rm -rf "$lane"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# What the command runs with: this shell's exported variables (minus make's
# jobserver, whose fds do not cross), the directory and the argv.
export -p | grep -v -e '^declare -x MAKEFLAGS=' -e '^declare -x MFLAGS=' \
	-e '^declare -x MAKELEVEL=' >"$lane/env"
{
	echo ". $(printf '%q' "$lane/env")"
	echo "export EMBER_IN_L1=1"
	echo "cd $(printf '%q' "$PWD") || exit 125"
	printf 'exec'
	printf ' %q' "$@"
	echo
} >"$lane/cmd.sh"
rows=24 cols=80
if [ $interactive = 1 ] && [ -t 0 ]; then
	read -r rows cols < <(stty size 2>/dev/null) || { rows=24; cols=80; }
fi
{
	echo "LANE_DIR=$(printf '%q' "$lane")"
	echo "LANE_RW=$(printf '%q' "${rw[*]}")"
	echo "LANE_INTERACTIVE=$interactive"
	echo "LANE_ROWS=$rows LANE_COLS=$cols"
	echo "LANE_TIMEOUT=$timeout"
} >"$lane/config"

declare -a virtfs=(
	-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap"
	-virtfs "local,path=$lane,mount_tag=lane,security_model=none"
)
i=0
for d in "${rw[@]}"; do
	virtfs+=(-virtfs "local,path=$d,mount_tag=rw$i,security_model=passthrough,multidevs=remap")
	i=$((i + 1))
done

# One vCPU by default: with two, MTTCG and nested SVM, the L1 kernel was
# seen to wedge now and then with both CPUs in soft lockup (an IPI lost in
# the emulation, it seems), which a test run cannot survive.  L2 guests with
# several vCPUs still run (time-shared).  L1_CPUS=2 is faster when it holds.
cpus=${L1_CPUS:-1}
mem=${L1_MEM:-8G}
declare -a q=(
	"$qemu" -nodefaults -no-user-config -display none -no-reboot
	-machine pc -accel tcg,thread=multi -cpu max -smp "$cpus" -m "$mem"
	-kernel "$kdir/vmlinuz" -initrd "$initrd"
	-append "console=ttyS1 quiet loglevel=${L1_LOGLEVEL:-3} panic=-1 mitigations=off tsc=reliable 8250.nr_uarts=2 rdinit=/init"
	-chardev stdio,id=out,signal=off -serial chardev:out
	-serial "file:$lane/kernel.log"
	"${virtfs[@]}"
)

if [ $interactive = 1 ]; then
	"${q[@]}"
	qs=$?
else
	timeout -k 10 "$timeout" "${q[@]}" </dev/null &
	qpid=$!
	wait $qpid
	qs=$?
	qpid=""
fi
if [ $qs = 124 ] || [ $qs = 137 ]; then
	echo "l1: timed out after ${timeout}s; the L1 kernel's last lines:" >&2
	tail -n 60 "$lane/kernel.log" | sed 's/^/l1:   /' >&2
	if [ -s "$lane/hang.txt" ]; then
		echo "l1: the L1 VM's processes shortly before (pid (name) state wchan args; stacks of D tasks):" >&2
		sed 's/^/l1:   /' "$lane/hang.txt" >&2
	fi
	exit 124
fi
if [ -s "$lane/error" ]; then
	echo "$(cat "$lane/error")" >&2
	exit 125
fi
if [ ! -s "$lane/status" ]; then
	echo "l1: the L1 VM stopped without the command's status (qemu status $qs); its kernel's last lines:" >&2
	tail -n 15 "$lane/kernel.log" | sed 's/^/l1:   /' >&2
	exit 125
fi
exit "$(cat "$lane/status")"
