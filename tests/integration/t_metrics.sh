# tests/integration/t_metrics.sh - --metrics-path and the logger options
# with the default Linux guest (hardware virtualization).  The guest reads
# and writes its drive and reads virtio-rng; the metrics lines ember
# appended (one when the VM stops; with EMBER_METRICS_PERIOD_MS, the
# test-only period, more while it runs) must be JSON objects whose
# counters, deltas summed over the lines, match that I/O.  The logger
# cases check the file's lines, their level and origin prefixes, the
# level filter, and the errors for a bad level or path.  Sourced by run.sh
# after t_linux_hw.sh (its lxh_* helpers); python3 reads the JSON.

MT_CASES="metrics-linux-io metrics-periodic logger-file logger-errors"

if ! declare -F lxh_exec >/dev/null; then
	mt_pattern=$PATTERN PATTERN=" none "
	. "$HERE/t_linux_hw.sh"
	PATTERN=$mt_pattern
fi

# The guest's I/O: 4 MiB read from /dev/vda, 1 MiB written with O_DIRECT
# and fsync'd (a flush), 4096 bytes of /dev/hwrng.
MT_GUEST='dd if=/dev/vda of=/dev/null bs=64k count=64 iflag=direct 2>/dev/null
dd if=/dev/zero of=/dev/vda bs=64k count=16 seek=64 oflag=direct conv=fsync 2>/dev/null
head -c 4096 /dev/hwrng | wc -c'

# mt_sums FILE: checks that every line of FILE is a JSON object with
# utc_timestamp_ms first and non-decreasing, and prints "lines N", then
# "SECTION.KEY SUM" for the counters the cases look at, summed over the
# lines.  Status 1 with the reason on stdout when a line is not so.
mt_sums() {
	python3 - "$1" <<'PY'
import json, sys
keys = [("block", "read_bytes"), ("block_vda", "read_bytes"), ("block_vda", "read_count"),
        ("block_vda", "write_bytes"), ("block_vda", "write_count"),
        ("block_vda", "flush_count"), ("block_vda", "execute_fails"),
        ("entropy", "entropy_bytes"), ("vcpu", "exits"), ("vcpu", "exit_io"),
        ("vcpu", "exit_mmio")]
sums = {k: 0 for k in keys}
last = kvm_exits = 0
lines = open(sys.argv[1]).read().split("\n")
if lines[-1] != "":
    print("the file does not end in a newline"); sys.exit(1)
for i, l in enumerate(lines[:-1]):
    try:
        o = json.loads(l)
    except ValueError as e:
        print("line %d is not JSON: %s" % (i + 1, e)); sys.exit(1)
    if not isinstance(o, dict) or next(iter(o), None) != "utc_timestamp_ms":
        print("line %d does not start with utc_timestamp_ms" % (i + 1)); sys.exit(1)
    if o["utc_timestamp_ms"] < last:
        print("line %d goes back in time" % (i + 1)); sys.exit(1)
    last = o["utc_timestamp_ms"]
    for s, k in keys:
        sums[(s, k)] += o[s][k]
    if "kvm" not in o["vcpu"]:
        print("line %d has no vcpu.kvm (KVM_GET_STATS_FD, Linux 5.14)" % (i + 1)); sys.exit(1)
    kvm_exits += o["vcpu"]["kvm"]["exits"]
print("lines", len(lines) - 1)
for s, k in keys:
    print("%s.%s %d" % (s, k, sums[(s, k)]))
print("vcpu.kvm.exits", kvm_exits)
PY
}

# mt_get DIR KEY: a value mt_sums printed into DIR/sums.
mt_get() { awk -v k="$2" '$1 == k { print $2 }' "$1/sums"; }

# mt_io_check NAME DIR MIN_LINES: the I/O case's verdict.
mt_io_check() {
	local name=$1 dir=$2 why="" rd wr
	if [ "$lxh_rc" != 0 ] || [ "$(cat "$dir/out")" != 4096 ]; then
		why="expected status 0 and '4096', got status $lxh_rc"
	elif [ ! -s "$dir/m.json" ]; then
		why="no metrics line was written"
	elif ! mt_sums "$dir/m.json" >"$dir/sums"; then
		why="bad metrics file: $(cat "$dir/sums")"
	fi
	if [ -z "$why" ]; then
		rd=$(mt_get "$dir" block_vda.read_bytes)
		wr=$(mt_get "$dir" block_vda.write_bytes)
		# Linux's own reads (partition table, probing) come on top of the
		# 4 MiB; a counter summed twice would pass 8 MiB
		if [ "$(mt_get "$dir" lines)" -lt "$3" ]; then
			why="$(mt_get "$dir" lines) lines, expected at least $3"
		elif [ "$rd" -lt 4194304 ] || [ "$rd" -gt 6291456 ]; then
			why="block_vda.read_bytes $rd, not 4 MiB (+ Linux's probing, < 2 MiB)"
		elif [ "$(mt_get "$dir" block.read_bytes)" != "$rd" ]; then
			why="block.read_bytes is not the sum of the one drive's"
		elif [ "$(mt_get "$dir" block_vda.read_count)" -lt 64 ]; then
			why="block_vda.read_count $(mt_get "$dir" block_vda.read_count) < 64"
		elif [ "$wr" != 1048576 ]; then
			why="block_vda.write_bytes $wr, expected exactly 1048576"
		elif [ "$(mt_get "$dir" block_vda.write_count)" -lt 16 ]; then
			why="block_vda.write_count $(mt_get "$dir" block_vda.write_count) < 16"
		elif [ "$(mt_get "$dir" block_vda.flush_count)" -lt 1 ]; then
			why="no flush counted"
		elif [ "$(mt_get "$dir" block_vda.execute_fails)" != 0 ]; then
			why="failed requests counted"
		elif [ "$(mt_get "$dir" entropy.entropy_bytes)" -lt 4096 ]; then
			why="entropy.entropy_bytes $(mt_get "$dir" entropy.entropy_bytes) < 4096"
		elif [ "$(mt_get "$dir" vcpu.exit_mmio)" -lt 1 ] ||
			[ "$(mt_get "$dir" vcpu.exits)" -lt "$(mt_get "$dir" vcpu.exit_mmio)" ]; then
			why="vcpu exits: $(grep vcpu "$dir/sums" | tr '\n' ' ')"
		elif [ "$(mt_get "$dir" vcpu.kvm.exits)" -lt "$(mt_get "$dir" vcpu.exits)" ]; then
			why="KVM counted fewer exits than reached ember: $(grep vcpu "$dir/sums" | tr '\n' ' ')"
		fi
	fi
	if [ -n "$why" ]; then
		lx_fail "$name" "$why" "$dir"
	else
		echo "  $name: $(mt_get "$dir" lines) lines, read $rd B, wrote $wr B," \
			"$(mt_get "$dir" vcpu.exits) exits to ember, $(mt_get "$dir" vcpu.kvm.exits) in all"
		lx_pass "$name"
	fi
}

# One line, written when the VM stops (the run is far shorter than 60 s).
mt_io_case() {
	local name=metrics-linux-io dir=$WORK/metrics-linux-io
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	mkdir -p "$dir"
	truncate -s 16M "$dir/disk.img"
	lxh_exec "$name" -- run --drive "path=$dir/disk.img" --rng \
		--metrics-path "$dir/m.json" -- sh -c "$MT_GUEST"
	mt_io_check "$name" "$dir" 1
}

# EMBER_METRICS_PERIOD_MS=100: a line every 100 ms while Linux boots and
# works (over a second in the lane), whose deltas add up to the same I/O.
mt_periodic_case() {
	local name=metrics-periodic dir=$WORK/metrics-periodic
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	mkdir -p "$dir"
	truncate -s 16M "$dir/disk.img"
	lxh_exec "$name" env EMBER_METRICS_PERIOD_MS=100 -- run --drive "path=$dir/disk.img" \
		--rng --metrics-path "$dir/m.json" -- sh -c "$MT_GUEST"
	mt_io_check "$name" "$dir" 3
}

# --log-path with --level Info, --show-level and --show-log-origin: the
# sandbox's timing line (info, at the VM's end) goes to the file with its
# prefixes and not to stderr, the bus lines (debug) nowhere; with --level
# Debug and no prefixes, the bus lines come, plain.
mt_logger_case() {
	local name=logger-file dir=$WORK/logger-file why=""
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	lxh_exec "$name" -- run --log-path "$dir/log" --level Info --show-level \
		--show-log-origin -- echo hi
	if [ "$lxh_rc" != 0 ] || [ "$(cat "$dir/out")" != hi ]; then
		why="expected status 0 and 'hi', got status $lxh_rc"
	elif ! grep -Eq '^ember: \[INFO\] \[seccomp/sandbox\.c:[0-9]+\] sandbox: capabilities ' "$dir/log"; then
		why="no '[INFO] [seccomp/sandbox.c:N] sandbox: capabilities' line in the log file"
	elif grep -q 'DEBUG\|bus:' "$dir/log"; then
		why="a debug line at level Info"
	elif grep -q 'sandbox: capabilities' "$dir/err"; then
		why="the line went to stderr too"
	fi
	if [ -z "$why" ]; then
		mv "$dir/log" "$dir/log.info"
		lxh_exec "$name" -- run --log-path "$dir/log" --level debug -- echo hi
		if [ "$lxh_rc" != 0 ]; then
			why="with --level debug: status $lxh_rc"
		elif ! grep -q '^ember: pio bus: [0-9]* accesses hit no device' "$dir/log"; then
			why="with --level debug: no plain 'ember: pio bus:' line in the log file"
		fi
	fi
	if [ -n "$why" ]; then
		lx_fail "$name" "$why" "$dir"
	else
		lx_pass "$name"
	fi
}

# Bad input: status 2 and one message naming it; the metrics file is
# opened before the guest runs, so a bad one stops ember before it boots.
mt_errors_case() {
	local name=logger-errors dir=$WORK/logger-errors why=""
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	lxh_exec "$name" -- run --level loud -- true
	if [ "$lxh_rc" != 2 ] || [ "$(cat "$dir/err")" != "ember: --level: 'loud' is not Error, Warning, Info, Debug, Trace or Off" ]; then
		why="--level loud: status $lxh_rc"
	fi
	[ -z "$why" ] && lxh_exec "$name" -- run --log-path "$dir/no/log" -- true
	if [ -z "$why" ] && { [ "$lxh_rc" != 2 ] ||
		[ "$(cat "$dir/err")" != "ember: log path '$dir/no/log': No such file or directory" ]; }; then
		why="bad --log-path: status $lxh_rc"
	fi
	[ -z "$why" ] && lxh_exec "$name" -- run --metrics-path "$dir/no/m" -- echo booted
	if [ -z "$why" ] && { [ "$lxh_rc" != 2 ] || [ -s "$dir/out" ] ||
		[ "$(cat "$dir/err")" != "ember: metrics path '$dir/no/m': No such file or directory" ]; }; then
		why="bad --metrics-path: status $lxh_rc"
	fi
	if [ -n "$why" ]; then
		lx_fail "$name" "$why" "$dir"
	else
		lx_pass "$name"
	fi
}

if lx_wanted $MT_CASES; then
	mt_why=$kvm_reason
	[ -z "$mt_why" ] && mt_why=$(lx_hw_reason)
	[ -z "$mt_why" ] && ! command -v python3 >/dev/null && mt_why="python3 is not installed"
	if [ -z "$mt_why" ] && [ -z "${LX_DIR:-}" ]; then
		lx_guest
	fi
	[ -z "$mt_why" ] && mt_why=${LX_NOGUEST:-}
	if [ -n "$mt_why" ]; then
		lx_skip_all "$MT_CASES" "$mt_why"
	else
		mt_io_case
		mt_periodic_case
		mt_logger_case
		mt_errors_case
	fi
fi
