#!/usr/bin/env bash
# The sandbox's start-up cost: capability drop + seccomp filters (targets:
# under 0.3 ms on the path to the first guest instruction), and the whole
# jail (target: under 5 ms).  Run by tests/perf/run.sh (EMBER, EXIT_PVH,
# TIMEIT set); the jail part needs root.
# shellcheck disable=SC2016 # row's second arguments are awk expressions
set -uo pipefail
N=${N:-20}
W=${W:-3}
TINY=(--kernel "$EXIT_PVH" --mem 128M --console none)

# median / min / max of column $1 of stdin (numbers)
stats() {
	sort -n | awk '{ v[NR] = $1 } END {
		if (!NR) { print "      -  |      -  |      -"; exit }
		printf "%8.3f | %8.3f | %8.3f\n", v[int((NR + 1) / 2)], v[1], v[NR] }'
}

# N runs with EMBER_LOG=info; prints the lines that match $1
info_lines() {
	local pat=$1
	shift
	for _ in $(seq "$N"); do
		EMBER_LOG=info "$@" 2>&1 >/dev/null | grep -- "$pat"
	done
}

echo "## sandbox: capabilities + seccomp ($N runs)"
echo "ember's own measurements (EMBER_LOG=info).  On the path to the first"
echo "guest instruction: the capability drop, the vCPU filter's compilation"
echo "(libseccomp) and its install by the vCPU thread.  The loop thread compiles"
echo "and installs its own filter while the guest already runs."
echo
echo "| step                                  | median ms |   min ms |   max ms |"
echo "|---------------------------------------|-----------|----------|----------|"
info_lines "sandbox: capabilities" "$EMBER" run "${TINY[@]}" |
	sed 's/[^0-9. ]//g' >"${BENCH_OUT:-/tmp}/sandbox.times"
row() {	# NAME AWK-EXPRESSION over the columns caps vbuild lbuild vinst linst
	printf '| %-37s | %s |\n' "$1" \
		"$(awk "{ print $2 }" "${BENCH_OUT:-/tmp}/sandbox.times" | stats)"
}
row "capability drop (main thread)" '$1'
row "vCPU filter compile (main thread)" '$2'
row "vCPU filter install (vCPU thread)" '$4'
row "= on the start path" '$1 + $2 + $4'
row "loop filter compile (loop thread)" '$3'
row "loop filter install (loop thread)" '$5'
echo
echo "End to end (process start -> exit of a guest that exits at once, so the"
echo "loop filter's cost shows too); --no-seccomp still drops capabilities:"
echo
echo "| what                         | median ms |   min ms |   max ms | peak RSS MiB |"
echo "|------------------------------|-----------|----------|----------|--------------|"
"$TIMEIT" "ember run" "$N" "$W" 1 -- "$EMBER" run "${TINY[@]}"
"$TIMEIT" "ember run --no-seccomp" "$N" "$W" 1 -- "$EMBER" run "${TINY[@]}" --no-seccomp

echo
echo "## jail ($N runs)"
if [ "$(id -u)" != 0 ]; then
	echo "(skipped: ember jail needs root)"
	exit 0
fi
base=$(mktemp -d "${TMPDIR:-/tmp}/ember-bench-jail.XXXXXX")
trap 'rm -rf "$base"' EXIT
JAIL=(jail --id bench --uid 65534 --gid 65534 --chroot-base "$base")
echo
echo "| what                         | median ms |   min ms |   max ms | peak RSS MiB |"
echo "|------------------------------|-----------|----------|----------|--------------|"
"$TIMEIT" "ember run" "$N" "$W" 1 -- "$EMBER" run "${TINY[@]}"
"$TIMEIT" "ember jail (new netns)" "$N" "$W" 1 -- "$EMBER" "${JAIL[@]}" -- run "${TINY[@]}"
netns=""
if command -v ip >/dev/null && ip netns add ember-bench 2>/dev/null; then
	netns=/run/netns/ember-bench
	"$TIMEIT" "ember jail --netns (joined)" "$N" "$W" 1 -- "$EMBER" "${JAIL[@]}" \
		--netns "$netns" -- run "${TINY[@]}"
fi
echo
echo "The jailed process's own set-up (EMBER_LOG=info; the parent's cgroup"
echo "creation and clone3 are in the end-to-end difference above):"
echo
echo "| step                                  | median ms |   min ms |   max ms |"
echo "|---------------------------------------|-----------|----------|----------|"
info_lines "jail 'bench': set-up" "$EMBER" "${JAIL[@]}" -- run "${TINY[@]}" |
	sed 's/.*set-up//; s/[^0-9. ]//g' >"$base/jail.times"
for spec in "namespaces (new netns):\$2" "filesystem (tmpfs, binds, pivot_root):\$3" \
	"rlimits, uid/gid:\$4" "= jailed process set-up:\$1"; do
	printf '| %-37s | %s |\n' "${spec%%:*}" "$(awk "{ print ${spec##*:} }" "$base/jail.times" | stats)"
done
[ -n "$netns" ] && ip netns delete ember-bench
exit 0
