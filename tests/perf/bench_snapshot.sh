#!/usr/bin/env bash
# Snapshots: create (full, diff), restore to the guest's first instruction
# for 128 MiB, 1 GiB and 4 GiB guests (with the per-step cost of one
# restore), the fuzzing reset against a PIO exit round trip measured in the
# same run, and fork (rate and memory per child).  Run by tests/perf/run.sh
# ($EMBER, $GUESTS, $TIMEIT, $BENCH_OUT).
set -uo pipefail
N=${N:-20}
W=${W:-3}
RUNS=${RUNS:-3000}
FORKS=${FORKS:-100}
work=$(mktemp -d "${TMPDIR:-/tmp}/ember-bench-snap.XXXXXX")
trap 'rm -rf "$work"' EXIT
E=$EMBER

# median min max of numbers on stdin
stats() {
	sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%9.3f | %8.3f | %8.3f\n", v[int((NR + 1) / 2)], v[1], v[NR]; else print "(no data) |" }'
}

# SNAP_RUN_OPTS: extra options of the runs that take snapshots (e.g.
# --no-seccomp where the sandbox lacks the rules to write them)
SNAP_RUN_OPTS=${SNAP_RUN_OPTS:-}

# a counting guest snapshotted at its last line: a restore prints "done"
snapshot() {	# snapshot DIR MEM CMDLINE [more run options]
	local dir=$1 mem=$2 cmd=$3
	shift 3
	EMBER_LOG=info "$E" run $SNAP_RUN_OPTS --kernel "$GUESTS/snapcount.pvh" --mem "$mem" --cmdline "$cmd" \
		--console none --snapshot-dir "$dir" --snapshot-exit "$@" 2>&1 |
		sed -n 's/.*written to .* in \([0-9.]*\) ms/\1/p'
}

echo "## snapshot create (guest paused while it is written)"
echo "| what                                   | median ms |   min ms |   max ms |"
echo "|----------------------------------------|-----------|----------|----------|"
for pages in 0 4096; do
	for ((i = 0; i < 5; i++)); do
		rm -rf "$work/c"
		snapshot "$work/c" 256M "n=1 snap=1 touch=$pages"
	done | stats | sed "s/^/| $(printf '%-38s' "full, 256 MiB guest, $((pages * 4 / 1024)) MiB touched") | /; s/$/ |/"
done
for ((i = 0; i < 5; i++)); do
	rm -rf "$work/d"
	EMBER_LOG=info "$E" run $SNAP_RUN_OPTS --kernel "$GUESTS/snapcount.pvh" --mem 256M --console none \
		--cmdline "n=3 snap=1 snap2=2 touch=4096 dirty=256" --snapshot-dir "$work/d" \
		--snapshot-diff 2>&1 | sed -n 's/.*snapshot 2 written to .* in \([0-9.]*\) ms/\1/p'
done | stats | sed 's/^/| diff, 256 pages dirtied since the full  | /; s/$/ |/'

echo
echo "## restore: process start -> first guest instruction (ember's clock, ms; $N runs)"
echo "| guest RAM | median ms |   min ms |   max ms | whole restore+run+exit, median ms |"
echo "|-----------|-----------|----------|----------|-----------------------------------|"
for mem in 128M 1G 4G; do
	rm -rf "$work/r$mem"
	snapshot "$work/r$mem" "$mem" "n=1 snap=1 touch=256" >/dev/null
	for ((i = 0; i < N + W; i++)); do
		"$E" restore "$work/r$mem" --console none --boot-time 2>&1 |
			sed -n 's/.*first KVM_RUN *\([0-9.]*\).*/\1/p' | tail -n "+$((i < W ? 2 : 1))"
	done | stats | sed "s/^/| $(printf '%-9s' "$mem") | /; s/$/ | /" | tr -d '\n'
	echo -n " " 
	"$TIMEIT" "x" "$N" "$W" 0 -- "$E" restore "$work/r$mem" --console none |
		awk -F'|' '{ printf "%34s |\n", $3 }'
done
if command -v firecracker >/dev/null; then
	echo "(firecracker is installed; its restore is not scripted here)"
else
	echo "(Firecracker: not installed; its published restore is 5-9 ms)"
fi
echo
echo "one restore, step by step (1 GiB guest):"
"$E" restore "$work/r1G" --console none --boot-time 2>&1 | sed 's/^/    /'

echo
echo "## fuzzing reset vs a PIO exit (snapfuzz.pvh, 64 MiB, $RUNS runs each)"
rm -rf "$work/f"
"$E" run $SNAP_RUN_OPTS --kernel "$GUESTS/snapfuzz.pvh" --mem 64M --console none --snapshot-dir "$work/f" \
	--snapshot-exit >/dev/null 2>&1
mkdir -p "$work/in1" "$work/in16" "$work/in256" "$work/pio" "$work/nopio"
printf 'D\x01\x00' >"$work/in1/x"
printf 'D\x10\x00' >"$work/in16/x"
printf 'D\x00\x01' >"$work/in256/x"
printf 'P\xe8\x03\x00\x00' >"$work/pio/x"	# 1000 port writes
printf 'Q\xe8\x03\x00\x00' >"$work/nopio/x"	# the same loop, no port write
run_mean() {	# run_mean INPUTS RUNS: the mean guest run time, us
	"$E" fuzz "$work/f" --inputs "$1" --runs "$2" --stats | sed -n 's/.*run mean \([0-9.]*\) us.*/\1/p'
}
pio=$(awk -v a="$(run_mean "$work/pio" 200)" -v b="$(run_mean "$work/nopio" 200)" \
	'BEGIN { printf "%.2f", (a - b) / 1000 }')
echo "PIO exit round trip (guest OUT to an empty port and back, same run): $pio us"
echo "| reset | dirty pages (guest) | pages put back | reset mean us | resets/s (run+reset) | reset / PIO exit |"
echo "|-------|---------------------|----------------|---------------|----------------------|------------------|"
for mode in full fast; do
	for k in 1 16 256; do
		line=$("$E" fuzz "$work/f" --inputs "$work/in$k" --runs "$RUNS" --reset $mode --stats | tail -n 1)
		reset=$(echo "$line" | sed -n 's/.*reset mean \([0-9.]*\) us.*/\1/p')
		pages=$(echo "$line" | sed -n 's/.*(\([0-9.]*\) pages).*/\1/p')
		rate=$(echo "$line" | sed -n 's/.* \([0-9]*\) runs\/s.*/\1/p')
		printf '| %-5s | %19s | %14s | %13s | %20s | %16s |\n' $mode $k "$pages" "$reset" "$rate" \
			"$(awk -v r="$reset" -v p="$pio" 'BEGIN { if (p > 0) printf "%.2fx", r / p }')"
	done
done
echo "(pages put back: the guest's own plus its stack, globals and input page)"
echo "reset breakdown, 16 pages, full:"
"$E" fuzz "$work/f" --inputs "$work/in16" --runs "$RUNS" --stats | tail -n 1 | sed 's/^/    /'

echo
echo "## fork: $FORKS children from one snapshot (256 MiB guest, 8 MiB touched, each child writes 256 KiB)"
rm -rf "$work/k"
snapshot "$work/k" 256M "n=2 snap=1 touch=2048 dirty=64" >/dev/null
"$E" fork "$work/k" -n "$FORKS" --out "$work/kout" | sed 's/^/    /'
rm -rf "$work/k0"
snapshot "$work/k0" 256M "n=1 snap=1" >/dev/null
echo "  the same with a guest that only prints one line after the restore:"
"$E" fork "$work/k0" -n "$FORKS" --out "$work/kout0" | sed 's/^/    /'
