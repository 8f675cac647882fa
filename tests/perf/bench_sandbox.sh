#!/usr/bin/env bash
# The sandbox's start-up cost: capability drop + seccomp filters (targets:
# under 0.3 ms on the path to the first guest instruction), and the whole
# jail (target: under 5 ms).  Run by tests/perf/run.sh (EMBER, EXIT_PVH,
# TIMEIT set); the jail part needs root.  Every figure is also given over
# the raw-KVM floor of the same run (end-to-end rows interleaved with it).
# Env: N runs (default 20, 10 in the L1 lane), W warm-up rounds (3).
# shellcheck disable=SC2016 # row's second arguments are awk expressions
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
N=${N:-$(lane_default 10 20)}
W=${W:-3}
TINY=(--kernel "$EXIT_PVH" --mem 128M --console none)

# N runs with EMBER_LOG=info; prints the lines that match $1
info_lines() {
	local pat=$1
	shift
	for _ in $(seq "$N"); do
		EMBER_LOG=info "$@" 2>&1 >/dev/null | grep -- "$pat"
	done
}

# stats_ratio FLOOR: median / min / max of the numbers on stdin, then the
# median over FLOOR (ms)
stats_ratio() {
	sort -n | awk -v f="$1" '{ v[NR] = $1 } END {
		if (!NR) { print "      -   |        - |        - |       -"; exit }
		m = v[int((NR + 1) / 2)]
		printf "%9.3f | %8.3f | %8.3f | %7s\n", m, v[1], v[NR],
			(f > 0 ? sprintf("%.3fx", m / f) : "-") }'
}

echo "## sandbox: capabilities + seccomp ($N runs)"
# the end-to-end runs first: their floor is the yardstick of the steps too
"$TIMEIT" -i "$N" "$W" -- "$FLOOR" 1 "$RAWKVM" \
	:: "ember run" 1 "$EMBER" run "${TINY[@]}" \
	:: "ember run --no-seccomp" 1 "$EMBER" run "${TINY[@]}" --no-seccomp \
	>"$BENCH_OUT/sandbox.rows" 2>"$BENCH_OUT/sandbox.rows.err"
floor=$(row_median "$BENCH_OUT/sandbox.rows" "$FLOOR")
echo "ember's own measurements (EMBER_LOG=info).  On the path to the first"
echo "guest instruction: the capability drop, the vCPU filter's compilation"
echo "(libseccomp) and its install by the vCPU thread.  The loop thread compiles"
echo "and installs its own filter while the guest already runs.  / floor: the"
echo "median over the raw-KVM floor program's whole run (${floor:-?} ms, below)."
echo
echo "| step                                  | median ms |   min ms |   max ms | / floor |"
echo "|---------------------------------------|-----------|----------|----------|---------|"
info_lines "sandbox: capabilities" "$EMBER" run "${TINY[@]}" |
	sed 's/[^0-9. ]//g' >"$BENCH_OUT/sandbox.times"
row() {	# NAME AWK-EXPRESSION over the columns caps vbuild lbuild vinst linst
	printf '| %-37s | %s |\n' "$1" \
		"$(awk "{ print $2 }" "$BENCH_OUT/sandbox.times" | stats_ratio "${floor:-0}")"
}
row "capability drop (main thread)" '$1'
row "vCPU filter compile (main thread)" '$2'
row "vCPU filter install (vCPU thread)" '$4'
row "= on the start path" '$1 + $2 + $4'
row "loop filter compile (loop thread)" '$3'
row "loop filter install (loop thread)" '$5'
echo
echo "End to end (process start -> exit of a guest that exits at once, so the"
echo "loop filter's cost shows too); --no-seccomp still drops capabilities;"
echo "interleaved with the floor:"
echo
timeit_table "$BENCH_OUT/sandbox.rows" "" floor "$FLOOR" "ember run" "ember run" --

echo
echo "## jail ($N runs)"
if [ "$(id -u)" != 0 ]; then
	echo "(skipped: ember jail needs root)"
	exit 0
fi
base=$(mktemp -d "${TMPDIR:-/tmp}/ember-bench-jail.XXXXXX")
netns=""
cleanup() {
	[ -n "$netns" ] && ip netns delete ember-bench
	rm -rf "$base"
}
trap cleanup EXIT
JAIL=(jail --id bench --uid 65534 --gid 65534 --chroot-base "$base")
cmds=("$FLOOR" 1 "$RAWKVM"
	:: "ember run" 1 "$EMBER" run "${TINY[@]}"
	:: "ember jail (new netns)" 1 "$EMBER" "${JAIL[@]}" -- run "${TINY[@]}")
jrow=""
if command -v ip >/dev/null && ip netns add ember-bench 2>/dev/null; then
	netns=/run/netns/ember-bench
	cmds+=(:: "ember jail --netns (joined)" 1 "$EMBER" "${JAIL[@]}" --netns "$netns" -- run "${TINY[@]}")
else
	jrow="| ember jail --netns (joined)  | not run: no 'ip' or 'ip netns add' failed |"
fi
echo
timeit_table "$base/jail.rows" "$jrow" floor "$FLOOR" "ember run" "ember run" -- \
	-i "$N" "$W" -- "${cmds[@]}"
floor=$(row_median "$base/jail.rows" "$FLOOR")
echo
echo "The jailed process's own set-up (EMBER_LOG=info; the parent's cgroup"
echo "creation and clone3 are in the end-to-end difference above); / floor:"
echo "over the floor's median in the table above:"
echo
echo "| step                                  | median ms |   min ms |   max ms | / floor |"
echo "|---------------------------------------|-----------|----------|----------|---------|"
info_lines "jail 'bench': set-up" "$EMBER" "${JAIL[@]}" -- run "${TINY[@]}" |
	sed 's/.*set-up//; s/[^0-9. ]//g' >"$base/jail.times"
for spec in "namespaces (new netns):\$2" "filesystem (tmpfs, binds, pivot_root):\$3" \
	"rlimits, uid/gid:\$4" "= jailed process set-up:\$1"; do
	printf '| %-37s | %s |\n' "${spec%%:*}" \
		"$(awk "{ print ${spec##*:} }" "$base/jail.times" | stats_ratio "${floor:-0}")"
done
exit 0
