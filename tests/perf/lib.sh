# shellcheck shell=bash
# tests/perf/lib.sh - sourced by the bench_*.sh scripts (not a benchmark).
#
# Every table sets ember's figures against a reference measured in the same
# run: the raw KVM program (rawkvm.c, "the floor": a VM, one vCPU, two
# instructions, no devices) and QEMU microvm where it is installed.  In the
# L1 lane (EMBER_IN_L1=1: KVM nested under QEMU TCG) absolute times mean
# nothing, those ratios are all there is to read.
#
# Env: EMBER, BENCH_OUT; TIMEIT, RAWKVM, EXIT_PVH (run.sh sets them; built
# here when a script runs on its own).

: "${EMBER:?set EMBER to the ember binary}"
BENCH_OUT=${BENCH_OUT:-$(dirname "$EMBER")/perf}
mkdir -p "$BENCH_OUT"
perf_src=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# The helpers, when run.sh did not build them.
if [ -z "${TIMEIT:-}" ] || [ -z "${RAWKVM:-}" ] || [ -z "${EXIT_PVH:-}" ]; then
	cc -O2 -Wall -o "$BENCH_OUT/timeit" "$perf_src/timeit.c" &&
		cc -O2 -Wall -o "$BENCH_OUT/rawkvm" "$perf_src/rawkvm.c" &&
		cc -nostdlib -static -Wl,--build-id=none -T "$perf_src/exit_pvh.ld" \
			-o "$BENCH_OUT/exit.pvh" "$perf_src/exit_pvh.S" || exit 1
	export TIMEIT=$BENCH_OUT/timeit RAWKVM=$BENCH_OUT/rawkvm EXIT_PVH=$BENCH_OUT/exit.pvh
fi

# in_l1: true inside the L1 lane
in_l1() { [ "${EMBER_IN_L1:-}" = 1 ]; }

# lane_default L1 ELSE: the default of a count, smaller in the lane
lane_default() { if in_l1; then echo "$1"; else echo "$2"; fi; }

# hold_open FILE...: keeps the FILEs open until the calling script exits
# (a background `tail --pid` holds them; no trap is set).  The L1 lane
# mounts the work tree over 9p with cache=mmap, where a file's page cache
# goes when its last user closes it: every run of a binary from the tree
# read it again over 9p (ember, a 2.6 MB static binary: most of its
# start-up time there), while QEMU and its libraries come from the host's
# / mounted cache=loose.  Held open, their pages stay cached, as on any
# host that runs a binary again and again.
hold_open() {
	local f fd
	local -a fds=()
	for f; do
		exec {fd}<"$f" || return 1
		fds+=("$fd")
	done
	tail --pid=$$ -f /dev/null >/dev/null 2>&1 &	# inherits the descriptors
	for fd in "${fds[@]}"; do
		exec {fd}<&-
	done
}

# The name of the floor's row in every table.
# shellcheck disable=SC2034 # used by the scripts that source this
FLOOR="raw KVM program (floor)"

# ratio_cols REF...: reads timeit rows ("| name | median | ...") on stdin
# and appends to each row with a number one column per REF: its median
# over the median of the row named REF ("-" when that row has no number).
# Rows without a number (failed, not installed) pass unchanged.
ratio_cols() {
	local IFS='|'
	awk -F'|' -v refs="$*" '
	function trim(s) { gsub(/^[ \t]+|[ \t]+$/, "", s); return s }
	{ line[NR] = $0; name[NR] = trim($2); med[NR] = trim($3) }
	END {
		nr = split(refs, R, "|")
		for (j = 1; j <= nr; j++) {
			rm[j] = 0
			for (i = 1; i <= NR; i++)
				if (name[i] == R[j] && med[i] ~ /^[0-9.]+$/)
					rm[j] = med[i]
		}
		for (i = 1; i <= NR; i++) {
			s = line[i]
			if (med[i] ~ /^[0-9.]+$/)
				for (j = 1; j <= nr; j++)
					s = s sprintf(" %7s |", rm[j] > 0 ? sprintf("%.2fx", med[i] / rm[j]) : "-")
			print s
		}
	}'
}

# timeit_table ROWS EXTRA [TITLE REF]... -- [TIMEIT_ARGS...]
#   Prints a timing table: a header with a " / TITLE" column per REF, then
#   the rows of ROWS (run first as "$TIMEIT" TIMEIT_ARGS when there are
#   any, its stderr kept in ROWS.err) and EXTRA (a row for a peer that did
#   not run, when not empty), each with its median over REF's, then the
#   messages of ROWS.err indented.
timeit_table() {
	local rows=$1 extra=$2 head rule t
	local -a refs=()
	shift 2
	head="| what                         | median ms |   min ms |   max ms | peak RSS MiB |"
	rule="|------------------------------|-----------|----------|----------|--------------|"
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		t=$(printf '/ %-5s' "$1")
		head+=" $t |"
		rule+="$(printf '%*s' $((${#t} + 2)) '' | tr ' ' -)|"
		refs+=("$2")
		shift 2
	done
	shift
	echo "$head"
	echo "$rule"
	[ $# -gt 0 ] && "$TIMEIT" "$@" >"$rows" 2>"$rows.err"
	{
		cat "$rows"
		[ -n "$extra" ] && echo "$extra"
	} | ratio_cols "${refs[@]}"
	[ -f "$rows.err" ] && sed 's/^/    /' "$rows.err"
	return 0
}

# row_median FILE NAME: the median of the timeit row NAME in FILE ("" if none)
row_median() {
	awk -F'|' -v n="$2" '{ a = $2; gsub(/^ +| +$/, "", a); m = $3; gsub(/ /, "", m) }
		a == n && m ~ /^[0-9.]+$/ { print m; exit }' "$1"
}

# ratio A B [FORMAT]: A / B as "1.23x", or "-" when either is missing or B is 0
ratio() {
	awk -v a="${1:-}" -v b="${2:-}" -v f="${3:-%.2fx}" 'BEGIN {
		num = "^[0-9.]+([eE][-+]?[0-9]+)?$"
		if (a ~ num && b ~ num && b + 0 > 0) printf f, a / b; else printf "-" }'
}

# pct A B: A / B in per cent ("54%"), or "-"
pct() {
	awk -v a="${1:-}" -v b="${2:-}" 'BEGIN {
		num = "^[0-9.]+([eE][-+]?[0-9]+)?$"
		if (a ~ num && b ~ num && b + 0 > 0) printf "%.0f%%", 100 * a / b; else printf "-" }'
}
