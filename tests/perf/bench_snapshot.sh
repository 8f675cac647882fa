#!/usr/bin/env bash
# Snapshots: create (full, diff), restore to the guest's first instruction
# for 128 MiB, 1 GiB and 4 GiB guests (with the per-step cost of one
# restore), the fuzzing reset against a PIO exit round trip measured in the
# same run, and fork (rate and memory per child).  Run by tests/perf/run.sh
# ($EMBER, $GUESTS, $TIMEIT, $BENCH_OUT).  Times are also given over the
# raw-KVM floor program's run measured in the same run (interleaved with the
# restores), the fuzzing reset over a PIO exit of the same run.
# Env: N runs (default 20, 10 in the L1 lane), W warm-ups (3), RUNS fuzz
# runs a row (3000, 1000 in the lane), FORKS children (100, 50 in the lane).
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
: "${GUESTS:?set GUESTS to the guests dir}"
N=${N:-$(lane_default 10 20)}
W=${W:-3}
RUNS=${RUNS:-$(lane_default 1000 3000)}
FORKS=${FORKS:-$(lane_default 50 100)}
work=$(mktemp -d "${TMPDIR:-/tmp}/ember-bench-snap.XXXXXX")
trap 'rm -rf "$work"' EXIT
E=$EMBER

# median min max of numbers on stdin, then the median over $1 (the floor, ms)
stats() {
	sort -n | awk -v f="${1:-0}" '{ v[NR] = $1 } END {
		if (!NR) { print "(no data) |"; exit }
		m = v[int((NR + 1) / 2)]
		printf "%9.3f | %8.3f | %8.3f | %7s\n", m, v[1], v[NR], (f > 0 ? sprintf("%.3fx", m / f) : "-") }'
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

echo "## snapshot: the yardsticks of this run ($N interleaved rounds)"
timeit_table "$work/yard.rows" "" floor "$FLOOR" -- -i "$N" "$W" -- "$FLOOR" 1 "$RAWKVM" \
	:: "ember run, tiny guest" 1 "$E" run --kernel "$EXIT_PVH" --mem 128M --console none
FLOOR_MS=$(row_median "$work/yard.rows" "$FLOOR")

echo
echo "## snapshot create (guest paused while it is written; / floor: over ${FLOOR_MS:-?} ms)"
echo "| what                                   | median ms |   min ms |   max ms | / floor |"
echo "|----------------------------------------|-----------|----------|----------|---------|"
for pages in 0 4096; do
	for ((i = 0; i < 5; i++)); do
		rm -rf "$work/c"
		snapshot "$work/c" 256M "n=1 snap=1 touch=$pages"
	done | stats "$FLOOR_MS" | sed "s/^/| $(printf '%-38s' "full, 256 MiB guest, $((pages * 4 / 1024)) MiB touched") | /; s/$/ |/"
done
for ((i = 0; i < 5; i++)); do
	rm -rf "$work/d"
	EMBER_LOG=info "$E" run $SNAP_RUN_OPTS --kernel "$GUESTS/snapcount.pvh" --mem 256M --console none \
		--cmdline "n=3 snap=1 snap2=2 touch=4096 dirty=256" --snapshot-dir "$work/d" \
		--snapshot-diff 2>&1 | sed -n 's/.*snapshot 2 written to .* in \([0-9.]*\) ms/\1/p'
done | stats "$FLOOR_MS" | sed 's/^/| diff, 256 pages dirtied since the full  | /; s/$/ |/'

echo
echo "## restore: process start -> first guest instruction (ember's clock, ms; $N runs)"
echo "whole: process start -> exit of a restore that runs to the guest's end,"
echo "interleaved with the floor; both ratios are over that floor's median."
echo "| guest RAM | median ms |   min ms |   max ms | / floor | whole, median ms | / floor | floor ms |"
echo "|-----------|-----------|----------|----------|---------|------------------|---------|----------|"
for mem in 128M 1G 4G; do
	rm -rf "$work/r$mem"
	snapshot "$work/r$mem" "$mem" "n=1 snap=1 touch=256" >/dev/null
	"$TIMEIT" -i "$N" "$W" -- "$FLOOR" 1 "$RAWKVM" \
		:: "restore" 0 "$E" restore "$work/r$mem" --console none >"$work/rr.rows" 2>"$work/rr.err"
	fl=$(row_median "$work/rr.rows" "$FLOOR")
	whole=$(row_median "$work/rr.rows" restore)
	for ((i = 0; i < N + W; i++)); do
		"$E" restore "$work/r$mem" --console none --boot-time 2>&1 |
			sed -n 's/.*first KVM_RUN *\([0-9.]*\).*/\1/p' | tail -n "+$((i < W ? 2 : 1))"
	done | stats "$fl" | sed "s/^/| $(printf '%-9s' "$mem") | /; s/$/ | /" | tr -d '\n'
	printf '%16s | %7s | %8s |\n' "${whole:-(failed)}" "$(ratio "$whole" "$fl" "%.3fx")" "${fl:--}"
	sed 's/^/    /' "$work/rr.err"
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
# fork_floor: the fork output on stdin, then CPU per child over the floor
fork_floor() {
	tee "$work/fork.out" | sed 's/^/    /'
	cpu=$(sed -n 's/.*CPU per child to its first guest instruction \([0-9.]*\) ms.*/\1/p' "$work/fork.out")
	echo "    CPU per child / floor (${FLOOR_MS:-?} ms, a whole raw-KVM process): $(ratio "$cpu" "$FLOOR_MS" "%.3fx")"
}
"$E" fork "$work/k" -n "$FORKS" --out "$work/kout" | fork_floor
rm -rf "$work/k0"
snapshot "$work/k0" 256M "n=1 snap=1" >/dev/null
echo "  the same with a guest that only prints one line after the restore:"
"$E" fork "$work/k0" -n "$FORKS" --out "$work/kout0" | fork_floor
