# tests/integration/t_terminal.sh - ember run from a terminal, as a user
# runs it (`make run`): on a pseudo-terminal made by ptyrun (ptyrun.c), the
# console goes raw while the guest runs and comes back as it was when ember
# ends, with the guest's status, under the sandbox (restoring the terminal
# is an ioctl the loop's seccomp filter must allow).  Sourced by run.sh.

# tty_case NAME STATUS WANT_LINE -- EMBER_ARGS...
tty_case() {
	local name=$1 status=$2 want=$3 dir=$WORK/$1
	shift 4
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	if [ -n "$kvm_reason" ]; then
		echo "SKIP $name: $kvm_reason"; nskip=$((nskip + 1)); return 0
	fi
	if [ -z "${PTYRUN:-}" ] || [ ! -x "$PTYRUN" ]; then
		echo "FAIL $name: PTYRUN='${PTYRUN:-}' is not an executable (make builds it)"
		nfail=$((nfail + 1)); return 0
	fi
	mkdir -p "$dir"
	timeout -k 5 "$TIMEOUT" "$PTYRUN" "$dir/console" "$EMBER" run "$@" \
		</dev/null >"$dir/out" 2>"$dir/err"
	printf 'status %s\nterminal restored\n' "$status" >"$dir/want"
	if cmp -s "$dir/want" "$dir/out" && tr -d '\r' <"$dir/console" | grep -qxF -- "$want"; then
		echo "PASS $name"; npass=$((npass + 1)); return 0
	fi
	echo "FAIL $name: expected ember's status $status, the terminal restored and a console line '$want'"
	echo "  ptyrun:"; show "$dir/out"
	echo "  console:"; tr -d '\r' <"$dir/console" >"$dir/console.txt"; show "$dir/console.txt"
	echo "  stderr:"; show "$dir/err"
	nfail=$((nfail + 1))
}

tty_case tty-debug-exit 33 "PVH: hello" -- --kernel "$GUESTS/hello.pvh"
tty_case tty-control-port-exit 0 "ember demo guest: hello from PVH" -- --kernel "$GUESTS/demo.pvh"
tty_case tty-triple-fault 71 "triple: faulting" -- --kernel "$GUESTS/triple.pvh"
