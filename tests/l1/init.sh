#!/bin/busybox sh
# /init of the L1 lane's initramfs (tests/l1/lane.sh builds it): runs in a
# Debian linux-image-amd64 kernel under QEMU TCG with -cpu max, where
# kvm_amd gives a hardware-style /dev/kvm.  It loads the modules listed in
# /modules.list, builds the root the command runs in (the host's / over 9p,
# read-only, under a tmpfs overlay; the host directories named in the lane's
# config mounted read-write at their own paths), runs the command there and
# writes its status to the lane directory, which the host reads.
#
# Kernel messages go to ttyS1 (a file on the host); the command's output to
# ttyS0 (the lane's stdout).
/bin/busybox --install -s /bin
export PATH=/bin

mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev

lane=/lane
mkdir -p $lane
fail() {
	echo "l1: $*" >/dev/ttyS1
	echo "l1: $*" >$lane/error 2>/dev/null
	echo 125 >$lane/status 2>/dev/null
	sync
	poweroff -f
}

while read -r m; do
	insmod "/modules/$m" 2>/dev/ttyS1 || echo "l1: insmod $m failed" >/dev/ttyS1
done </modules.list

opts=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o $opts,cache=none lane $lane || fail "cannot mount the lane directory (9p)"
. $lane/config || fail "no lane config"

mkdir -p /lower /rw /root
mount -t 9p -o $opts,ro,cache=loose hostroot /lower || fail "cannot mount the host's / over 9p"
mount -t tmpfs -o mode=0755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work overlay /root ||
	fail "cannot mount the overlay root"

mount -t tmpfs -o mode=1777 tmpfs /root/tmp
mount -t tmpfs -o mode=0755 tmpfs /root/run

# The read-write host directories: tags rw0, rw1, ... (lane.sh), mounted at
# their host paths.
i=0
for d in $LANE_RW; do
	mkdir -p "/root$d" || fail "cannot create $d"
	mount -t 9p -o $opts,cache=mmap,access=any "rw$i" "/root$d" ||
		fail "cannot mount $d (rw$i) over 9p"
	i=$((i + 1))
done
mkdir -p "/root$LANE_DIR"
mount --bind $lane "/root$LANE_DIR"

mount -t proc proc /root/proc
mount -t sysfs sys /root/sys
mount -t devtmpfs dev /root/dev
mkdir -p /root/dev/pts /root/dev/shm /root/dev/mqueue
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /root/dev/pts
mount -t tmpfs -o mode=1777 tmpfs /root/dev/shm
mount -t cgroup2 cgroup2 /root/sys/fs/cgroup 2>/dev/null
ln -sf /proc/self/fd /root/dev/fd
ln -sf /proc/self/fd/0 /root/dev/stdin
ln -sf /proc/self/fd/1 /root/dev/stdout
ln -sf /proc/self/fd/2 /root/dev/stderr
hostname ember-l1
ip link set lo up

if [ ! -c /root/dev/kvm ]; then
	fail "no /dev/kvm in the L1 VM: kvm_amd did not load ($(dmesg | grep -i -e kvm -e svm | tail -n 2 | tr '\n' ' '))"
fi

# Before the host's timeout ends the lane, what is stuck is written down
# for it to print: the blocked (state D) tasks' stacks in the kernel log
# (sysrq w) and every process with its state and wait channel in
# hang.txt.  A minute before the end, or half-way for short lanes.
if [ "$LANE_INTERACTIVE" != 1 ] && [ "${LANE_TIMEOUT:-0}" -gt 0 ]; then
	at=$((LANE_TIMEOUT - 60))
	[ $at -lt $((LANE_TIMEOUT / 2)) ] && at=$((LANE_TIMEOUT / 2))
	(
		sleep $at
		echo w >/proc/sysrq-trigger 2>/dev/null
		for p in /proc/[0-9]*; do
			st=$(cut -d' ' -f1-3 "$p/stat" 2>/dev/null) || continue
			args=$(tr '\0' ' ' <"$p/cmdline" 2>/dev/null | cut -c1-160)
			# kernel threads (no args) only when blocked
			[ -n "$args" ] || [ "${st##* }" = D ] || continue
			echo "$st wchan=$(cat "$p/wchan" 2>/dev/null) $args"
			[ "${st##* }" = D ] && sed 's/^/    /' "$p/stack" 2>/dev/null
		done >$lane/hang.txt 2>&1
		sync
	) &
fi

if [ "$LANE_INTERACTIVE" = 1 ]; then
	stty -F /dev/ttyS0 sane rows "$LANE_ROWS" cols "$LANE_COLS" 2>/dev/null
	setsid -c chroot /root /bin/bash "$LANE_DIR/cmd.sh" </dev/ttyS0 >/dev/ttyS0 2>&1
else
	# Raw: the command's bytes reach the host as they are (no \r added).
	stty -F /dev/ttyS0 raw -echo 2>/dev/null
	chroot /root /bin/bash "$LANE_DIR/cmd.sh" </dev/null >/dev/ttyS0 2>&1
fi
echo $? >$lane/status
sync
poweroff -f
