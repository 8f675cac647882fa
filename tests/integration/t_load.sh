# tests/integration/t_load.sh - load and faults: many VMs at once, each
# writing its own drive, and a guest that hits every device register from
# every vCPU.  Sourced by run.sh.  (A kill -9 of ember during a Linux
# guest's ext4 writes is linux-hw-ext4-kill-writes in t_linux_hw.sh.)

. "$HERE/vt_lib.sh"
LD=$WORK/load
mkdir -p "$LD"

# --- 50 ember processes at once, each running vblk.pvh in its "load" mode
# on a drive of its own: the guest writes its tagged pattern, flushes,
# reads it back and compares, and exits with 1 + tag % 100.  Every ember
# must end with its guest's status and every image must hold exactly the
# bytes its guest wrote (a tag that differs per VM: a drive swapped
# between processes shows).  Each ember is bounded by `timeout`; the
# waits are `wait` on each process. ---
ld_many() {
	local name=load-50-vms dir=$LD/many n=50 i why="" st bound
	local -a pids=()
	vt_want $name || return 0
	mkdir -p "$dir"
	# 50 VMs share the CPUs: the bound is for all of them, not one
	bound=$((TIMEOUT * 4))
	for ((i = 0; i < n; i++)); do
		vt_ff "$dir/$i.img" 32768
		vt_pattern 64 "$i" >"$dir/$i.want"
	done
	for ((i = 0; i < n; i++)); do
		timeout -k 5 "$bound" "$EMBER" run --kernel "$GUESTS/vblk.pvh" --mem 32M \
			--cmdline "vblk=load tag=$i" --drive "path=$dir/$i.img,id=load$i" \
			</dev/null >"$dir/$i.out" 2>"$dir/$i.err" &
		pids[i]=$!
	done
	for ((i = 0; i < n; i++)); do
		wait "${pids[i]}"
		st=$?
		if [ -n "$why" ]; then
			continue
		elif [ "$st" != $((1 + i % 100)) ]; then
			why="VM $i: expected status $((1 + i % 100)), got $st"
		elif [ "$(tail -n 1 "$dir/$i.out")" != "vblk: read back ok" ]; then
			why="VM $i: the last line is not 'vblk: read back ok'"
		elif ! cmp -s "$dir/$i.want" "$dir/$i.img"; then
			why="VM $i: its image does not hold what it wrote: $(cmp "$dir/$i.want" "$dir/$i.img" 2>&1)"
		elif [ -s "$dir/$i.err" ]; then
			why="VM $i: ember wrote on stderr"
		fi
	done
	if [ -n "$why" ]; then
		i=${why#VM }
		i=${i%%:*}
		vt_result $name "$why" "$dir/$i.out" "$dir/$i.err"
	else
		vt_result $name ""
	fi
}
ld_many

# --- spam.pvh on 4 vCPUs with a drive and the rng: random reads and
# writes of every port, every virtio-mmio register, the IOAPIC and the
# unbacked MMIO gap, virtqueues pointed at garbage (see spam.c for the
# few writes it leaves out: the ones that end the VM on purpose).  After
# 5000 accesses per vCPU the guest says so and goes on; SIGTERM must then
# end ember within a second, with 143.  The guest's output is read line by
# line from a FIFO, each wait bounded by `read -t`. ---
ld_spam() {
	local name=load-spam-registers dir=$LD/spam pid fd line why="" st
	local first="spam: 4 cpus, 2 virtio windows"
	local done="spam: 4 cpus x 5000 accesses, still running"
	vt_want $name || return 0
	mkdir -p "$dir"
	vt_ff "$dir/img" 65536
	mkfifo "$dir/fifo"
	"$EMBER" run --kernel "$GUESTS/spam.pvh" --cpus 4 --mem 64M --cmdline "cpus=4 spam=5000" \
		--drive "path=$dir/img" --rng </dev/null >"$dir/fifo" 2>"$dir/err" &
	pid=$!
	exec {fd}<"$dir/fifo"
	: >"$dir/out"
	while IFS= read -r -t "$TIMEOUT" -u "$fd" line; do
		echo "$line" >>"$dir/out"
		[ "$line" = "$done" ] && break
	done
	[ "$line" != "$done" ] && why="no '$done' line within ${TIMEOUT}s"
	vt_sigterm "$pid" "$fd" "$dir/out"
	exec {fd}<&-
	if [ -z "$why" ] && [ "$(cat "$dir/out")" != "$first"$'\n'"$done" ]; then
		why="unexpected output"
	fi
	if [ -z "$why" ] && ! grep -qxF "ember: stopped by signal Terminated" "$dir/err"; then
		why="stderr does not say 'ember: stopped by signal Terminated'"
	fi
	vt_result $name "$why" "$dir/out" "$dir/err"
}
ld_spam
