# tests/integration/t_virtio.sh - virtio-blk, virtio-rng and a hostile
# guest, with the guests of tests/guests/virtio (see the README there).
# Sourced by run.sh.  Images live in $WORK/virtio; after a guest has run,
# the image file is checked on the host byte for byte.

VT=$WORK/virtio
mkdir -p "$VT"

# the helpers (vt_pattern, vt_ff, vt_zero, vt_want, vt_result ...)
. "$HERE/vt_lib.sh"

vt_pattern 128 >"$VT/pattern"
cp "$VT/pattern" "$VT/rw.want"
for first in 16 48 80; do	# write-zeroes, write-zeroes+unmap, discard
	vt_zero "$VT/rw.want" "$first" 16
done

# --- virtio-blk: pattern, flush, read back, write-zeroes, discard ---
vt_ff "$VT/rw.img" 65536
expect virtio-blk --line "vblk: capacity 128 sectors" --line "vblk: id bootdisk" \
	--line "vblk: wrote 8 requests" --line "vblk: flushed" \
	--line "vblk: read back ok" --line "vblk: bad requests refused" \
	--line "vblk: write-zeroes and discard ok" --line "vblk: ok" \
	-- --kernel "$GUESTS/vblk.pvh" --mem 64M --drive "path=$VT/rw.img,id=bootdisk"
vt_want virtio-blk-file virtio-blk && vt_cmp virtio-blk-file "$VT/rw.want" "$VT/rw.img"

# --- the same with O_DIRECT, where the file system has it; else (tmpfs,
# as in the L1 lane) on an ext4 image mounted through a loop device, when
# root may ---
vt_direct() {	# can DIR take O_DIRECT?
	dd if=/dev/zero of="$1/direct.probe" bs=4096 count=1 oflag=direct status=none 2>/dev/null
}
VT_DIRECT=$VT VT_LOOPMNT=""
if ! vt_direct "$VT" && vt_selected virtio-blk-direct && [ "$(id -u)" = 0 ] &&
	command -v mkfs.ext4 >/dev/null && truncate -s 16M "$VT/ext4.img" &&
	mkfs.ext4 -q -F "$VT/ext4.img" >/dev/null 2>&1 && mkdir -p "$VT/ext4" &&
	mount -o loop "$VT/ext4.img" "$VT/ext4" 2>/dev/null; then
	VT_LOOPMNT=$VT/ext4 VT_DIRECT=$VT/ext4
fi
if vt_direct "$VT_DIRECT"; then
	vt_ff "$VT_DIRECT/direct.img" 65536
	expect virtio-blk-direct --line "vblk: capacity 128 sectors" --line "vblk: id vda" \
		--line "vblk: wrote 8 requests" --line "vblk: flushed" \
		--line "vblk: read back ok" --line "vblk: bad requests refused" \
		--line "vblk: write-zeroes and discard ok" --line "vblk: ok" \
		-- --kernel "$GUESTS/vblk.pvh" --mem 64M --drive "path=$VT_DIRECT/direct.img,direct=on"
	vt_want virtio-blk-direct-file virtio-blk-direct &&
		vt_cmp virtio-blk-direct-file "$VT/rw.want" "$VT_DIRECT/direct.img"
elif vt_selected virtio-blk-direct; then
	echo "SKIP virtio-blk-direct: O_DIRECT not supported under $VT (and no ext4 loop mount: not root, or no mkfs.ext4 or loop device)"
	nskip=$((nskip + 1))
fi
if [ -n "$VT_LOOPMNT" ]; then
	umount "$VT_LOOPMNT" || echo "t_virtio.sh: could not unmount $VT_LOOPMNT" >&2
	rm -f "$VT/ext4.img"
fi

# --- read-only drive: writes fail with IOERR, the file is unchanged ---
cp "$VT/pattern" "$VT/ro.img"
expect virtio-blk-ro --line "vblk: capacity 128 sectors" --line "vblk: read-only" \
	--line "vblk: read ok" --line "vblk: writes fail with IOERR" --line "vblk: ok" \
	-- --kernel "$GUESTS/vblk.pvh" --mem 64M --cmdline "vblk=ro" --drive "path=$VT/ro.img,ro=on"
vt_want virtio-blk-ro-file virtio-blk-ro && vt_cmp virtio-blk-ro-file "$VT/pattern" "$VT/ro.img"

# --- SIGKILL right after the guest saw its FLUSH complete: the data is in
# the file.  The guest prints "vblk: flushed" and stops; we wait for that
# line (read with a bounded timeout), then kill -9 ember. ---
vt_kill9() {
	local name=virtio-blk-kill9 dir=$VT/kill9 pid line why="" st
	vt_want $name || return 0
	mkdir -p "$dir"
	vt_ff "$dir/img" 65536
	mkfifo "$dir/fifo"
	"$EMBER" run --kernel "$GUESTS/vblk.pvh" --mem 64M --cmdline "vblk=crash" \
		--drive "path=$dir/img" </dev/null >"$dir/fifo" 2>"$dir/err" &
	pid=$!
	exec {vt_fd}<"$dir/fifo"
	: >"$dir/out"
	while IFS= read -r -t "$TIMEOUT" -u "$vt_fd" line; do
		echo "$line" >>"$dir/out"
		[ "$line" = "vblk: flushed" ] && break
	done
	if [ "$line" != "vblk: flushed" ]; then
		why="no 'vblk: flushed' line within ${TIMEOUT}s"
	fi
	kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null	# (no "Killed" job report)
	st=$?
	exec {vt_fd}<&-
	if [ -z "$why" ] && [ "$st" != 137 ]; then
		why="ember ended with status $st before the SIGKILL"
	fi
	if [ -z "$why" ] && ! cmp -s "$VT/pattern" "$dir/img"; then
		why="the image does not hold the flushed data: $(cmp "$VT/pattern" "$dir/img" 2>&1)"
	fi
	vt_result $name "$why" "$dir/out" "$dir/err"
}
vt_kill9

# --- virtio-rng, interrupt-driven, with both interrupt controllers ---
expect virtio-rng --line "vrng: round 1: 2 chains, 96 bytes" \
	--line "vrng: round 2: 1 chain, 64 bytes" --line "vrng: ok" \
	-- --kernel "$GUESTS/vrng.pvh" --mem 64M --rng
expect virtio-rng-irqchip-full --line "vrng: round 1: 2 chains, 96 bytes" \
	--line "vrng: round 2: 1 chain, 64 bytes" --line "vrng: ok" \
	-- --kernel "$GUESTS/vrng.pvh" --mem 64M --rng --irqchip full

# --- a hostile guest: garbage rings on drive A, drive B keeps working ---
vt_ff "$VT/hostile-a.img" 65536
vt_ff "$VT/hostile-b.img" 65536
vt_hostile_lines=()
for c in "descriptor loop" "next out of range" "avail index jump" "head out of range" \
	"buffer outside RAM" "buffer wrapping the address space" "indirect not negotiated" \
	"indirect inside indirect" "readable after writable" "request without a header"; do
	vt_hostile_lines+=(--line "vhostile: $c: needs reset; drive B ok")
done
expect virtio-hostile "${vt_hostile_lines[@]}" \
	--line "vhostile: ring outside RAM: refused, needs reset; drive B ok" \
	--line "vhostile: drive A works after a reset with writes in flight" --line "vhostile: ok" \
	--stderr-line "ember: virtio vda at 0xd0000000: queue 0: descriptor chain too long (loop); device needs reset" \
	-- --kernel "$GUESTS/vhostile.pvh" --mem 64M \
	--drive "path=$VT/hostile-a.img" --drive "path=$VT/hostile-b.img"

# --- a guest that floods its drive with bad requests for ever (vflood.pvh):
# the rng must still be served meanwhile, and SIGTERM must still end ember
# within a second, with 143 (128 + SIGTERM).  ember's stdout goes into a
# FIFO read line by line, each wait bounded by `read -t`; after SIGTERM
# the guest prints nothing more, so the read's end of file (ember exited)
# or its timeout of 1 s is the verdict (a builtin: starting `timeout` and
# `cat` costs a sixth of that second in the L1 lane).  Unless it has
# exited, ember is killed before the case ends. ---
vt_flood() {
	local name=virtio-flood-sigterm dir=$VT/flood pid fd line why="" st
	local served="vflood: rng served 3 times while flooding" starved="vflood: rng starved"
	vt_want $name || return 0
	mkdir -p "$dir"
	vt_ff "$dir/img" 65536
	mkfifo "$dir/fifo"
	"$EMBER" run --kernel "$GUESTS/vflood.pvh" --mem 64M --drive "path=$dir/img" --rng \
		</dev/null >"$dir/fifo" 2>"$dir/err" &
	pid=$!
	exec {fd}<"$dir/fifo"
	: >"$dir/out"
	while IFS= read -r -t "$TIMEOUT" -u "$fd" line; do
		echo "$line" >>"$dir/out"
		[ "$line" = "$served" ] || [ "$line" = "$starved" ] && break
	done
	if [ "$line" = "$starved" ]; then
		why="the rng was not served while the drive was flooded"
	elif [ "$line" != "$served" ]; then
		why="no '$served' line within ${TIMEOUT}s"
	fi
	vt_sigterm "$pid" "$fd" "$dir/out"
	exec {fd}<&-
	if [ -z "$why" ] && [ "$(cat "$dir/out")" != "vflood: flooding"$'\n'"$served" ]; then
		why="unexpected output"
	fi
	if [ -z "$why" ] && ! grep -qxF "ember: stopped by signal Terminated" "$dir/err"; then
		why="stderr does not say 'ember: stopped by signal Terminated'"
	fi
	vt_result $name "$why" "$dir/out" "$dir/err"
}
vt_flood

# --- bad drive options: exit 2 with the reason, before the guest runs ---
expect virtio-err-missing-image --status 2 \
	--stderr-line "ember: drive '$VT/nope.img': No such file or directory" \
	-- --kernel "$GUESTS/vblk.pvh" --drive "path=$VT/nope.img"
expect virtio-err-net-name --no-kvm --status 2 \
	--stderr-line "ember: --net: tap name 'averyveryverylongname' is longer than 15 characters" \
	-- --kernel "$GUESTS/vnet.pvh" --net tap=averyveryverylongname

# --- a device reset with reads in flight (vreset.pvh), on a slow drive: a
# device-mapper delay target (every I/O 500 ms late) over a loop device
# over an 8 MiB file of 'D's.  The guest resets while its reads wait in
# the delay, then watches its buffers for a second: none may change after
# Status read 0.  Needs root, losetup, dmsetup and dm-delay (the L1 lane
# has them); the mapping and the loop device go at the end, pass or
# fail. ---
vt_reset() {
	local name=virtio-blk-reset-inflight dir=$VT/reset dm=ember-slow-$$ loopdev="" why="" st
	local dmsetup
	vt_want $name || return 0
	dmsetup=$(command -v dmsetup || echo /usr/sbin/dmsetup)
	if [ "$(id -u)" != 0 ] || ! [ -x "$dmsetup" ] || ! command -v losetup >/dev/null; then
		echo "SKIP $name: needs root, losetup and dmsetup (a dm-delay drive)"
		nskip=$((nskip + 1))
		return 0
	fi
	mkdir -p "$dir"
	head -c 8M /dev/zero | tr '\0' D >"$dir/img"
	if ! loopdev=$(losetup -f --show "$dir/img" 2>"$dir/err"); then
		why="losetup: $(cat "$dir/err")"
	elif ! "$dmsetup" create --noudevsync "$dm" --table \
		"0 $(blockdev --getsz "$loopdev") delay $loopdev 0 500" 2>"$dir/err"; then
		why="dmsetup create (dm-delay): $(cat "$dir/err")"
	elif [ ! -b "/dev/mapper/$dm" ] && ! "$dmsetup" mknodes "$dm" 2>"$dir/err"; then
		why="dmsetup mknodes (no udev made /dev/mapper/$dm): $(cat "$dir/err")"
	else
		timeout -k 5 "$TIMEOUT" "$EMBER" run --kernel "$GUESTS/vreset.pvh" --mem 64M \
			--drive "path=/dev/mapper/$dm" </dev/null >"$dir/out" 2>"$dir/err"
		st=$?
		if ! grep -qxF "vreset: PASS: no buffer changed after the reset" "$dir/out"; then
			why="$(grep -F 'vreset: FAIL' "$dir/out" || echo 'no verdict line')"
		elif [ "$st" != 0 ]; then
			why="ember ended with status $st"
		fi
	fi
	"$dmsetup" remove --noudevsync "$dm" 2>/dev/null
	[ -n "$loopdev" ] && losetup -d "$loopdev"
	rm -f "$dir/img"
	vt_result $name "$why" "$dir/out" "$dir/err"
	if [ -z "$why" ]; then
		sed 's/^/  /' "$dir/out"	# (how long the reset took)
	fi
}
vt_reset
