# tests/integration/t_linux.sh - ember's default Linux guest
# (guest-kernel-config/: kernel, initramfs, ember-init).  Sourced by run.sh.
#
# On a host with hardware virtualization: `ember run -- CMD` end to end
# (status, console output, --drive, --share, a root disk, writes reaching
# the host, virtio-net to a peer in a test-made network namespace, SMP).
# On a kvm_pvm host, where guest ring 0 is emulated and Linux cannot reach
# init, the same kernel is booted through PVH, ELF64 and bzImage and must
# print its banner, ember's command line and ember's e820 map within a
# bounded time; the other cases say SKIP with the reason found at run time.
# ember-init itself is also run on the host, as PID 1 of a PID namespace
# (ember.test=1), when the tests run as root.
#
# The kernel comes from guest-kernel-config/build.sh (built when missing:
# minutes), the initramfs from initramfs.sh.  LINUX_EARLY_TIMEOUT bounds
# the PVH and ELF64 early-boot cases (seconds, default 20; they take ~1.5 s
# on kvm_pvm), LINUX_BZIMAGE_TIMEOUT the bzImage one (default 10: under
# kvm_pvm its decompressor alone runs about a minute, so by default that
# case checks only that it runs without a fault, and says so; LINUX_SLOW=1
# waits up to 240 s for its banner).

LX_ROOT=$(cd "$HERE/../.." && pwd)
LX_EARLY_TIMEOUT=${LINUX_EARLY_TIMEOUT:-20}
if [ -n "${LINUX_SLOW:-}" ]; then
	LX_BZIMAGE_TIMEOUT=240
else
	LX_BZIMAGE_TIMEOUT=${LINUX_BZIMAGE_TIMEOUT:-10}
fi
LX_HW_CASES="linux-true linux-false linux-status-42 linux-killed linux-echo
	linux-drive-read linux-drive-write linux-share linux-libember-share linux-root-disk
	linux-net-ping
	linux-smp-2 linux-smp-4 linux-output-tail"
LX_EARLY_CASES="linux-pvh-early linux-elf64-early linux-bzimage-decompressor linux-bzimage-early"
LX_INIT_CASES="init-host-command init-host-status init-host-net init-host-badcmd
	init-host-notfound init-host-root-share"

lx_pass() { echo "PASS $1"; npass=$((npass + 1)); }
lx_skip() { echo "SKIP $1: $2"; nskip=$((nskip + 1)); }
lx_fail() {
	echo "FAIL $1: $2"
	if [ -n "${3:-}" ]; then
		echo "  stdout:"; show "$3/out"
		echo "  stderr:"; show "$3/err"
	fi
	nfail=$((nfail + 1))
}
# True when one of the names matches PATTERN.
lx_wanted() {
	local n
	for n in "$@"; do
		# shellcheck disable=SC2053
		[[ $n == $PATTERN ]] && return 0
	done
	return 1
}
lx_skip_all() {
	local n
	for n in $1; do
		# shellcheck disable=SC2053
		[[ $n == $PATTERN ]] && lx_skip "$n" "$2"
	done
	return 0
}

# Why this host's KVM cannot run an unmodified Linux kernel, or "".
lx_hw_reason() {
	if [ -e /sys/module/kvm_pvm ]; then
		echo "KVM here is kvm_pvm: guest ring 0 is emulated and KVM's emulator rejects XSAVE/XRSTOR and INT3, so Linux cannot reach init"
	elif ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
		echo "no hardware virtualization (no vmx or svm flag in /proc/cpuinfo)"
	fi
}

# The guest: kernel + initramfs, linked into one directory for
# EMBER_KERNEL_DIR.  Sets LX_DIR, or LX_NOGUEST to the reason.
lx_guest() {
	local kdir initrd log=$WORK/linux-build.log
	LX_DIR=$WORK/linux-guest LX_NOGUEST=""
	if ! kdir=$("$LX_ROOT/guest-kernel-config/build.sh" 2>"$log"); then
		LX_NOGUEST="the guest kernel did not build: $(tail -n 1 "$log")"
		return
	fi
	if ! initrd=$("$LX_ROOT/guest-kernel-config/initramfs.sh" 2>>"$log"); then
		LX_NOGUEST="the initramfs did not build: $(tail -n 1 "$log")"
		return
	fi
	mkdir -p "$LX_DIR"
	ln -sf "$kdir/vmlinux" "$kdir/bzImage" "$initrd" "$LX_DIR/"
}

# lx_run NAME [--status N] [--has LINE]... [--in CMD...] [--prog P] -- EMBER_RUN_ARGS...
#   ember's status must be N (default 0) and its stdout (CRs removed) hold
#   each LINE as a whole line.  --in runs ember under a prefix command
#   (e.g. ip netns exec NS); it ends at the next option.  --prog runs
#   `P run ARGS...` instead of `ember run ARGS...` (api_check: the same
#   through libember).  Returns 0 on PASS, 1 on FAIL, 2 when NAME does not
#   match PATTERN.
lx_run() {
	local name=$1 status=0 dir=$WORK/$1 got prog=$EMBER
	local -a has=() pre=()
	shift
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		case $1 in
		--status) status=$2; shift 2 ;;
		--has) has+=("$2"); shift 2 ;;
		--prog) prog=$2; shift 2 ;;
		--in) shift; while [ $# -gt 0 ] && [[ $1 != --* ]]; do pre+=("$1"); shift; done ;;
		*) echo "t_linux.sh: $name: bad option '$1'" >&2; exit 2 ;;
		esac
	done
	shift
	mkdir -p "$dir"
	(cd "$dir" && exec timeout -k 5 "$TIMEOUT" env EMBER_KERNEL_DIR="$LX_DIR" \
		"${pre[@]}" "$prog" run "$@") </dev/null >"$dir/out.raw" 2>"$dir/err"
	got=$?
	tr -d '\r' <"$dir/out.raw" >"$dir/out"
	if [ "$got" != "$status" ]; then
		lx_fail "$name" "expected status $status, got $got" "$dir"
		return 1
	fi
	local l
	for l in "${has[@]}"; do
		if ! grep -qxF -- "$l" "$dir/out"; then
			lx_fail "$name" "expected a stdout line '$l'" "$dir"
			return 1
		fi
	done
	lx_pass "$name"
}

# lx_watch DIR SECONDS TEXT... -- EMBER_RUN_ARGS...
#   Runs ember with its stdout into a FIFO and reads the lines as they come
#   (CRs removed, kept in DIR/out); stops ember (SIGTERM) as soon as every
#   TEXT has been seen in some line, or after SECONDS.  Sets lx_left (TEXTs
#   not seen), lx_status (ember's status; 143 when stopped) and
#   lx_missing (the first TEXT not seen).
lx_watch() {
	local dir=$1 secs=$2 line fd pid i end
	local -a pats=() seen=()
	shift 2
	while [ $# -gt 0 ] && [ "$1" != -- ]; do pats+=("$1"); shift; done
	shift
	mkdir -p "$dir"
	rm -f "$dir/fifo"
	mkfifo "$dir/fifo"
	: >"$dir/out"
	timeout -k 3 "$secs" env EMBER_KERNEL_DIR="$LX_DIR" "$EMBER" run "$@" \
		</dev/null >"$dir/fifo" 2>"$dir/err" &
	pid=$!
	exec {fd}<"$dir/fifo"
	lx_left=${#pats[@]}
	end=$((SECONDS + secs + 1))
	while [ "$lx_left" -gt 0 ] && [ $SECONDS -lt $end ] &&
		IFS= read -r -t $((end - SECONDS)) -u "$fd" line; do
		line=${line%$'\r'}
		printf '%s\n' "$line" >>"$dir/out"
		for i in "${!pats[@]}"; do
			if [ -z "${seen[$i]:-}" ] && [[ $line == *"${pats[$i]}"* ]]; then
				seen[i]=1
				lx_left=$((lx_left - 1))
			fi
		done
	done
	kill -TERM "$pid" 2>/dev/null	# timeout passes it on to ember
	tr -d '\r' <&"$fd" >>"$dir/out"
	exec {fd}<&-
	wait "$pid"
	lx_status=$?
	lx_missing=""
	for i in "${!pats[@]}"; do
		if [ -z "${seen[$i]:-}" ]; then
			lx_missing=${pats[$i]}
			break
		fi
	done
}

# ---- Linux end to end (hardware virtualization) ---------------------------
lx_hw_cases() {
	local d=$WORK/linux-data
	mkdir -p "$d/share" "$d/disk" "$d/root/bin" "$d/root/etc"
	echo "from the share: 7" >"$d/share/hello.txt"
	echo "from the drive: 8" >"$d/disk/hello.txt"
	mke2fs -q -F -t ext4 -d "$d/disk" "$d/disk.img" 8M >/dev/null
	cp /bin/busybox "$d/root/bin/busybox"
	ln -sf busybox "$d/root/bin/sh"
	ln -sf busybox "$d/root/bin/cat"
	echo "root disk marker" >"$d/root/etc/marker"
	mke2fs -q -F -t ext4 -d "$d/root" "$d/root.img" 16M >/dev/null
	head -c 1M /dev/zero >"$d/raw.img"

	lx_run linux-true -- -- true
	lx_run linux-false --status 1 -- -- false
	lx_run linux-status-42 --status 42 -- -- sh -c 'exit 42'
	lx_run linux-killed --status 137 -- -- sh -c 'kill -9 $$'
	lx_run linux-echo --has "two  spaces, 'quotes' and \"more\"" -- \
		-- echo "two  spaces, 'quotes' and \"more\""
	lx_run linux-drive-read --has "from the drive: 8" -- --drive "path=$d/disk.img,ro=on" \
		-- sh -c 'mount -o ro /dev/vda /mnt && cat /mnt/hello.txt'
	lx_run linux-share --has "from the share: 7" -- --share "$d/share" \
		-- cat /mnt/share/hello.txt
	# the same through libember (ember_vm_create), which once dropped --share
	if lx_wanted linux-libember-share; then
		if api_check "$WORK/api_check"; then
			lx_run linux-libember-share --has "from the share: 7" --prog "$WORK/api_check" \
				-- --share "$d/share" -- cat /mnt/share/hello.txt
		else
			lx_fail linux-libember-share "$api_check_why"
		fi
	fi
	lx_run linux-root-disk --has "root disk marker" -- --drive "path=$d/root.img" \
		--cmdline "ember.root=/dev/vda" -- cat /etc/marker
	if lx_run linux-drive-write -- --drive "path=$d/raw.img" \
		-- sh -c 'printf EMBER-WROTE-THIS | dd of=/dev/vda bs=512 seek=8 conv=fsync 2>/dev/null'; then
		if [ "$(dd if="$d/raw.img" bs=512 skip=8 count=1 2>/dev/null | head -c 16)" != EMBER-WROTE-THIS ]; then
			npass=$((npass - 1))
			lx_fail linux-drive-write "the guest's bytes are not at offset 4096 of the image"
		fi
	fi
	lx_run linux-smp-2 --has 2 -- --cpus 2 -- sh -c 'grep -c ^processor /proc/cpuinfo'
	lx_run linux-smp-4 --has 4 -- --cpus 4 -- sh -c 'grep -c ^processor /proc/cpuinfo'
	# the command's output ends at once with its exit: none of it may be
	# lost (a hangup of the console at the command's exit used to discard
	# what the UART had not sent yet)
	if [ "${EMBER_IN_L1:-0}" = 1 ]; then
		# shellcheck disable=SC2053
		[[ linux-output-tail == $PATTERN ]] && lx_skip linux-output-tail "in the L1 lane this case froze the whole L1 VM in about half the runs (its kernel printed nothing more, not even a watchdog: the emulator stopped, as with emulation-failure); linux-smp-2/4 show the loss there"
	elif lx_run linux-output-tail --has 6000 -- --cpus 2 -- seq 1 6000; then
		if [ "$(grep -cx '[0-9]*' "$WORK/linux-output-tail/out")" != 6000 ]; then
			npass=$((npass - 1))
			lx_fail linux-output-tail "not all 6000 lines of the command's output arrived" \
				"$WORK/linux-output-tail"
		fi
	fi
	lx_net_case
}

# A TAP in a network namespace made for the test, the peer address on it.
lx_net_case() {
	lx_wanted linux-net-ping || return 0
	local ns=ember-t$$ tap=embtap0
	if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null; then
		lx_skip linux-net-ping "needs root and iproute2 to make a network namespace"
		return
	fi
	if ! ip netns add "$ns" 2>/dev/null ||
		! ip -n "$ns" tuntap add dev "$tap" mode tap ||
		! ip -n "$ns" addr add 10.211.0.1/24 dev "$tap" ||
		! ip -n "$ns" link set "$tap" up; then
		ip netns del "$ns" 2>/dev/null
		lx_skip linux-net-ping "cannot make a TAP in a new network namespace here"
		return
	fi
	lx_run linux-net-ping --in ip netns exec "$ns" -- --net "tap=$tap" \
		--cmdline "ember.ip=10.211.0.2/24" -- ping -c 1 -W 5 10.211.0.1
	ip netns del "$ns"
}

# ---- early boot on an emulated host: banner, command line, e820 ----------
# lx_early NAME PROTOCOL [EXPECTED_EXTRA_CMDLINE -- EXTRA_EMBER_ARGS...]
lx_early() {
	local name=$1 proto=$2 secs=$LX_EARLY_TIMEOUT extra=""
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	shift 2
	if [ $# -gt 0 ]; then
		extra=" $1"
		shift 2
	fi
	[ "$proto" = bzimage ] && secs=$LX_BZIMAGE_TIMEOUT
	lx_watch "$WORK/$name" "$secs" \
		"Linux version 6.1" \
		"Command line: $LINUX_DEFAULT_CMDLINE$extra ember.cmd=dHJ1ZQA loglevel=8 earlyprintk=ttyS0" \
		"BIOS-e820: [mem 0x0000000000000000-0x000000000009fbff] usable" \
		"BIOS-e820: [mem 0x000000000009fc00-0x00000000000fffff] reserved" \
		"BIOS-e820: [mem 0x0000000000100000-0x000000000fffffff] usable" \
		-- --kernel default --boot-protocol "$proto" --mem 256M "$@" \
		--cmdline "loglevel=8 earlyprintk=ttyS0" -- true
	if [ "$lx_left" = 0 ] && [ "$lx_status" != 143 ] && [ "$lx_status" != 72 ]; then
		lx_fail "$name" "ember ended with status $lx_status after the lines (143: stopped, 72: emulation failure)" \
			"$WORK/$name"
	elif [ "$lx_left" = 0 ]; then
		lx_pass "$name"
	elif [ "$proto" = bzimage ] &&
		! grep -q "Linux version" "$WORK/$name/out" &&
		{ [ "$lx_status" = 124 ] || [ "$lx_status" = 143 ]; }; then
		# linux-bzimage-decompressor shows it got that far
		lx_skip "$name" "no banner within ${secs}s: the bzImage decompresses itself in emulated ring 0 (about a minute on kvm_pvm); it ran without a fault until stopped; LINUX_SLOW=1 waits up to 240s for the banner"
	else
		lx_fail "$name" "no line with '$lx_missing' within ${secs}s (ember status $lx_status)" \
			"$WORK/$name"
	fi
}
LINUX_DEFAULT_CMDLINE="console=ttyS0 reboot=k panic=-1 quiet"

# ---- a bzImage reaches its decompressor --------------------------------
# Its "Decompressing Linux... " has no newline until decompression ends (a
# minute of emulated ring 0 on kvm_pvm), so this reads the console in
# chunks and stops as soon as the text is there.
lx_decompressor() {
	local name=linux-bzimage-decompressor dir=$WORK/linux-bzimage-decompressor
	local want="Decompressing Linux... " buf="" chunk fd pid end
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	mkdir -p "$dir"
	rm -f "$dir/fifo"
	mkfifo "$dir/fifo"
	timeout -k 3 "$LX_EARLY_TIMEOUT" env EMBER_KERNEL_DIR="$LX_DIR" "$EMBER" run \
		--kernel default --boot-protocol bzimage --mem 256M \
		--cmdline "earlyprintk=ttyS0" -- true </dev/null >"$dir/fifo" 2>"$dir/err" &
	pid=$!
	exec {fd}<"$dir/fifo"
	end=$((SECONDS + LX_EARLY_TIMEOUT + 1))
	while [[ $buf != *"$want"* ]] && [ $SECONDS -lt $end ]; do
		chunk=""
		IFS= read -r -N 256 -t 1 -u "$fd" chunk
		local rc=$?
		buf+=$chunk
		# EOF: ember has ended
		[ $rc -ne 0 ] && [ $rc -le 128 ] && [ -z "$chunk" ] && break
	done
	kill -TERM "$pid" 2>/dev/null
	cat <&"$fd" >/dev/null
	exec {fd}<&-
	wait "$pid"
	printf '%s' "$buf" >"$dir/out"
	if [[ $buf == *"$want"* ]]; then
		lx_pass "$name"
	else
		lx_fail "$name" "no '$want' within ${LX_EARLY_TIMEOUT}s" "$dir"
	fi
}

# ---- ember-init on the host, as PID 1 of a PID namespace -----------------
lx_b64() { printf '%s\0' "$@" | base64 -w0 | tr '+/' '-_' | tr -d '='; }

# lx_init NAME STATUS WANT_LINE CMDLINE [NET_SETUP]
lx_init() {
	local name=$1 status=$2 want=$3 cmdline=$4 net=${5:-true} dir=$WORK/$1 got a
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	mkdir -p "$dir/root/bin"
	cp "$LX_INIT" "$dir/root/init"
	cp /bin/busybox "$dir/root/bin/busybox"
	for a in sh echo cat ip grep; do ln -sf busybox "$dir/root/bin/$a"; done
	printf '%s\n' "$cmdline" >"$dir/root/cmdline"
	timeout -k 5 "$TIMEOUT" unshare --pid --mount --net --fork \
		sh -c "$net && exec env -i EMBER_INIT_CMDLINE=/cmdline '$LX_CHROOT' '$dir/root' /init" \
		</dev/null >"$dir/out" 2>"$dir/err"
	got=$?
	if [ "$got" != "$status" ]; then
		lx_fail "$name" "expected status $status, got $got" "$dir"
	elif [ -n "$want" ] && ! grep -qxF -- "$want" "$dir/out" "$dir/err"; then
		lx_fail "$name" "expected a line '$want'" "$dir"
	else
		lx_pass "$name"
	fi
}

lx_init_cases() {
	LX_CHROOT=$(command -v chroot)
	if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null || [ ! -x /bin/busybox ] ||
		[ -z "$LX_CHROOT" ]; then
		lx_skip_all "$LX_INIT_CASES" "needs root, unshare, chroot and busybox-static to run ember-init in a PID namespace"
		return
	fi
	lx_init init-host-command 0 "a b|c" \
		"ember.test=1 ember.cmd=$(lx_b64 sh -c 'echo "$1|$2"' sh 'a b' c)"
	lx_init init-host-status 3 "" "quiet ember.test=1 ember.cmd=$(lx_b64 sh -c 'exit 3')"
	lx_init init-host-net 0 "    inet 10.9.8.7/24 brd 10.9.8.255 scope global eth0" \
		"ember.test=1 ember.ip=10.9.8.7/24,10.9.8.1 ember.cmd=$(lx_b64 sh -c 'ip addr show eth0 | grep inet && ip route | grep -q "default via 10.9.8.1"')" \
		"ip link add eth0 type veth peer name eth1"
	lx_init init-host-badcmd 125 "ember-init: ember.cmd: not unpadded base64url (A-Z a-z 0-9 - _)" \
		"ember.test=1 ember.cmd=not+base64"
	lx_init init-host-notfound 127 "ember-init: cannot run 'no-such-command': No such file or directory" \
		"ember.test=1 ember.cmd=$(lx_b64 no-such-command)"
	lx_init_disks
}

# ember.root and ember.share on loop devices: ember-init mounts the root,
# moves /dev, /proc, /sys into it, switches, then mounts the share.
lx_init_disks() {
	local name=init-host-root-share d=$WORK/init-host-disks root share
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	if ! command -v losetup >/dev/null || ! command -v mke2fs >/dev/null; then
		lx_skip "$name" "needs losetup and mke2fs"
		return
	fi
	mkdir -p "$d/root/bin" "$d/root/etc" "$d/share"
	cp /bin/busybox "$d/root/bin/busybox"
	ln -sf busybox "$d/root/bin/sh"
	ln -sf busybox "$d/root/bin/cat"
	echo "on the root disk" >"$d/root/etc/marker"
	echo "on the share" >"$d/share/hello.txt"
	mke2fs -q -F -t ext4 -d "$d/root" "$d/root.img" 16M >/dev/null &&
		mke2fs -q -F -t ext4 -O ^has_journal -d "$d/share" "$d/share.img" 4M >/dev/null || {
		lx_fail "$name" "mke2fs failed"
		return
	}
	if ! root=$(losetup -f --show "$d/root.img" 2>/dev/null); then
		lx_skip "$name" "no loop device available"
		return
	fi
	share=$(losetup -f --show -r "$d/share.img")
	lx_init "$name" 0 "on the root disk|on the share|/dev/$(basename "$root") / ext4" \
		"ember.test=1 ember.root=$root ember.share=$share ember.cmd=$(lx_b64 sh -c \
		'echo "$(cat /etc/marker)|$(cat /mnt/share/hello.txt)|$(cat /proc/mounts | while read d m t o; do [ "$m" = / ] && echo "$d $m $t"; done)"')"
	losetup -d "$root" "$share"
}

# ---- ember's side, no Linux needed: errors, forced protocols -------------
mkdir -p "$WORK/linux-dummy"
for f in vmlinux bzImage initramfs.cpio.gz; do echo x >"$WORK/linux-dummy/$f"; done
EMBER_KERNEL_DIR=$WORK/linux-none expect linux-err-no-guest --no-kvm --status 2 \
	--stderr-line "ember: default guest: '$WORK/linux-none/vmlinux' is missing: build it with \`make guest-kernel\` (or set EMBER_KERNEL_DIR to a directory with vmlinux, bzImage and initramfs.cpio.gz)" \
	-- -- true
EMBER_KERNEL_DIR=$WORK/linux-dummy expect linux-err-cmdline-too-long --status 2 \
	--stderr-line "ember: kernel command line is 2110 bytes, over Linux's limit of 2047 (x86 COMMAND_LINE_SIZE 2048, NUL included); the command after -- takes 2072 of them" \
	-- -- echo "$(head -c 1540 /dev/zero | tr '\0' x)"
expect linux-err-share-missing --no-kvm --status 2 \
	--stderr-line "ember: --share '$WORK/linux-none': No such file or directory" \
	-- --kernel "$GUESTS/hello.pvh" --share "$WORK/linux-none"
expect linux-err-dashdash --no-kvm --status 2 \
	--stderr-line "ember: '--' must be followed by a command" -- --kernel "$GUESTS/hello.pvh" --
expect linux-err-protocol --status 2 \
	--stderr-line "ember: kernel '$GUESTS/hello.pvh': --boot-protocol bzimage: not a bzImage" \
	-- --kernel "$GUESTS/hello.pvh" --boot-protocol bzimage
expect linux-forced-multiboot --line "Multiboot: hello" --line "Multiboot: cmdline: mb" \
	-- --kernel "$GUESTS/hello.mb" --boot-protocol multiboot --cmdline mb
# a test guest's command line gets what ember adds, before a "--"
expect linux-cmdline-appended --line "ELF64: hello" \
	--line "ELF64: cmdline: a b ember.cmd=dHJ1ZQA -- c" \
	-- --kernel "$GUESTS/hello.elf64" --boot-protocol elf64 --cmdline "a b -- c" -- true

# ---- which of them run here ----------------------------------------------
if lx_wanted $LX_INIT_CASES; then
	if LX_INIT=$("$LX_ROOT/guest-kernel-config/initramfs.sh" 2>"$WORK/linux-initramfs.log"); then
		LX_INIT=$(dirname "$LX_INIT")/ember-init
		lx_init_cases
	else
		lx_skip_all "$LX_INIT_CASES" "the initramfs did not build: $(tail -n 1 "$WORK/linux-initramfs.log")"
	fi
fi
if lx_wanted $LX_HW_CASES $LX_EARLY_CASES; then
	if [ -n "$kvm_reason" ]; then
		lx_skip_all "$LX_HW_CASES $LX_EARLY_CASES" "$kvm_reason"
	else
		lx_guest
		lx_hw=$(lx_hw_reason)
		if [ -n "$LX_NOGUEST" ]; then
			lx_skip_all "$LX_HW_CASES $LX_EARLY_CASES" "$LX_NOGUEST"
		elif [ -z "$lx_hw" ]; then
			lx_hw_cases
			lx_skip_all "$LX_EARLY_CASES" "this host runs Linux to init: the end-to-end cases cover it"
		else
			lx_skip_all "$LX_HW_CASES" "$lx_hw"
			# PVH also with a drive and a share: ember's whole command line
			mkdir -p "$WORK/linux-early-share"
			echo shared >"$WORK/linux-early-share/f"
			head -c 64K /dev/zero >"$WORK/linux-early.img"
			lx_early linux-pvh-early pvh \
				"virtio_mmio.device=4K@0xd0000000:5 virtio_mmio.device=4K@0xd0001000:6 ember.share=vdb" \
				-- --drive "path=$WORK/linux-early.img" --share "$WORK/linux-early-share"
			lx_early linux-elf64-early elf64
			lx_decompressor
			lx_early linux-bzimage-early bzimage
		fi
	fi
fi
