#!/usr/bin/env bash
# tests/integration/run.sh - boots the test guests under ember and checks
# what they print (the guest's serial output on ember's stdout, exactly) and
# ember's exit status, plus stderr where a case names a message.
#
#   EMBER=build/ember GUESTS=build/guests tests/integration/run.sh [PATTERN]
#
# The cases are in t_*.sh beside this file; each calls `expect` once per
# case.  PATTERN (a shell glob) runs only the cases whose name matches.
# Every ember run is bounded by `timeout` (TIMEOUT seconds, default 20).
# Prints "PASS name", "FAIL name: expected ... got ..." or "SKIP name:
# reason" per case, then "N passed, N failed[, N skipped]"; exits 1 if
# anything failed.
set -u

if [ -z "${EMBER:-}" ] || [ -z "${GUESTS:-}" ]; then
	echo "usage: EMBER=path/to/ember GUESTS=dir/of/guests $0 [PATTERN]" >&2
	exit 2
fi
# In the L1 lane everything runs at TCG speed, and an ASan build is slower
# again (10000 fuzz runs took over 20 s there): a longer bound, not a sleep.
if [ "${EMBER_IN_L1:-0}" = 1 ]; then
	TIMEOUT=${TIMEOUT:-90}
else
	TIMEOUT=${TIMEOUT:-20}
fi
PATTERN=${1:-*}
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d "${TMPDIR:-/tmp}/ember-it.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

npass=0
nfail=0
nskip=0

kvm_reason=""
if [ ! -e /dev/kvm ]; then
	kvm_reason="no /dev/kvm on this host"
elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then
	kvm_reason="/dev/kvm is not usable by $(id -un)"
fi
if [ ! -x "$EMBER" ]; then
	echo "run.sh: EMBER='$EMBER' is not an executable" >&2
	exit 2
fi

# Shows a file (or "(nothing)") indented, at most 20 lines.
show() {
	if [ -s "$1" ]; then
		head -n 20 "$1" | sed 's/^/    | /'
	else
		echo "    (nothing)"
	fi
}

# api_check OUT: builds tests/fuzz/api_check.c (an embedder of libember)
# against the libember.a next to $EMBER into OUT.  0, or 1 with the reason
# in api_check_why (the compiler's messages in OUT.err).
api_check() {
	local lib san=""
	lib=$(dirname "$EMBER")/libember.a
	api_check_why=""
	# a SAN=1 library needs its runtime
	nm "$lib" 2>/dev/null | grep -q __asan_report && san="-fsanitize=address,undefined"
	if [ ! -f "$lib" ]; then
		api_check_why="no $lib"
	elif ! cc -std=gnu11 $san -I"$HERE/../../include" -o "$1" "$HERE/../fuzz/api_check.c" \
		"$lib" $(pkg-config --libs liburing libseccomp libcap jansson) -lpthread 2>"$1.err"; then
		api_check_why="api_check.c does not build"
	fi
	[ -z "$api_check_why" ]
}

# expect NAME [options] -- EMBER_RUN_ARGS...
#   --status N        ember's exit status must be N (default 0)
#   --line TEXT       one line of the expected stdout (repeat; none: empty)
#   --sorted          compare stdout lines in any order
#   --stderr-line TEXT stderr must hold this whole line
#   --stderr-has TEXT  stderr must contain this text
#   --file PATH       with --file-line: a file whose content is checked
#   --file-line TEXT  one line of the expected content of --file
#   --no-kvm          the case needs no /dev/kvm (config errors)
#   --not-in-l1 WHY   SKIP with WHY inside the L1 lane (EMBER_IN_L1=1): for a
#                     case the lane cannot run for a reason outside ember
# Runs `$EMBER run ARGS...` in a scratch directory, stdin from /dev/null.
expect() {
	local name=$1
	shift
	local status=0 sorted=0 stderr_has="" stderr_line="" file="" needs_kvm=1 not_l1=""
	local -a lines=() file_lines=()
	while [ $# -gt 0 ]; do
		case $1 in
		--status) status=$2; shift 2 ;;
		--line) lines+=("$2"); shift 2 ;;
		--sorted) sorted=1; shift ;;
		--stderr-has) stderr_has=$2; shift 2 ;;
		--stderr-line) stderr_line=$2; shift 2 ;;
		--file) file=$2; shift 2 ;;
		--file-line) file_lines+=("$2"); shift 2 ;;
		--no-kvm) needs_kvm=0; shift ;;
		--not-in-l1) not_l1=$2; shift 2 ;;
		--) shift; break ;;
		*) echo "run.sh: $name: bad option '$1'" >&2; exit 2 ;;
		esac
	done
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	if [ $needs_kvm = 1 ] && [ -n "$kvm_reason" ]; then
		echo "SKIP $name: $kvm_reason"
		nskip=$((nskip + 1))
		return 0
	fi
	if [ -n "$not_l1" ] && [ "${EMBER_IN_L1:-0}" = 1 ]; then
		echo "SKIP $name: in the L1 lane: $not_l1"
		nskip=$((nskip + 1))
		return 0
	fi

	local dir=$WORK/$name
	mkdir -p "$dir/cwd"
	: >"$dir/want"
	if [ ${#lines[@]} -gt 0 ]; then
		printf '%s\n' "${lines[@]}" >"$dir/want"
	fi
	local got
	(cd "$dir/cwd" && exec timeout -k 5 "$TIMEOUT" "$EMBER" run "$@") \
		</dev/null >"$dir/out" 2>"$dir/err"
	got=$?

	local why=""
	if [ $got = 124 ] || [ $got = 137 ]; then
		why="expected status $status, got a timeout after ${TIMEOUT}s"
	elif [ "$got" != "$status" ]; then
		why="expected status $status, got $got"
	fi
	if [ $sorted = 1 ]; then
		sort "$dir/want" >"$dir/want.s" && mv "$dir/want.s" "$dir/want"
		sort "$dir/out" >"$dir/out.s" && mv "$dir/out.s" "$dir/out"
	fi
	if [ -z "$why" ] && ! cmp -s "$dir/want" "$dir/out"; then
		why="expected stdout$([ $sorted = 1 ] && echo ' (sorted)') A, got B"
	fi
	if [ -z "$why" ] && [ -n "$stderr_line" ] &&
		! grep -qxF -- "$stderr_line" "$dir/err"; then
		why="expected stderr to hold the line '$stderr_line', got C"
	fi
	if [ -z "$why" ] && [ -n "$stderr_has" ] &&
		! grep -qF -- "$stderr_has" "$dir/err"; then
		why="expected stderr to contain '$stderr_has', got C"
	fi
	if [ -z "$why" ] && [ -n "$file" ]; then
		: >"$dir/fwant"
		if [ ${#file_lines[@]} -gt 0 ]; then
			printf '%s\n' "${file_lines[@]}" >"$dir/fwant"
		fi
		if [ ! -f "$file" ]; then
			why="expected file $file, got none"
		elif ! cmp -s "$dir/fwant" "$file"; then
			why="expected $file to hold A, got B"
			cp "$file" "$dir/fgot"
		fi
	fi

	if [ -z "$why" ]; then
		echo "PASS $name"
		npass=$((npass + 1))
		return 0
	fi
	echo "FAIL $name: $why"
	echo "  ember run$(printf ' %q' "$@")"
	if [[ $why == *"hold A"* ]]; then
		echo "  A (expected):"; show "$dir/fwant"
		echo "  B (got):"; show "$dir/fgot"
	else
		echo "  A (expected stdout):"; show "$dir/want"
		echo "  B (stdout):"; show "$dir/out"
	fi
	echo "  C (stderr):"; show "$dir/err"
	nfail=$((nfail + 1))
}

for t in "$HERE"/t_*.sh; do
	# shellcheck source=/dev/null
	. "$t"
done

summary="$npass passed, $nfail failed"
[ $nskip -gt 0 ] && summary="$summary, $nskip skipped"
echo "$summary"
[ $nfail = 0 ]
