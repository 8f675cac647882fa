# tests/integration/t_sandbox.sh - the sandbox of `ember run`: what a
# running ember looks like from outside (no capabilities, no_new_privs,
# a seccomp filter on every thread), that each thread kind dies by SIGSYS
# when it makes a forbidden call, and --no-seccomp.  Sourced by run.sh.
#
# The SIGSYS cases need ember built with -DEMBER_TEST_HOOKS (control-port
# command 0x7f, "sandbox self-test"): EMBER_TEST names it, default
# ember-test beside EMBER; they are skipped without it.

# ---- helpers (shared with t_sandbox_jail.sh) ----
# sb_case NAME: true if the case is to run now (pattern, KVM); else prints
# SKIP where due.
sb_case() {
	# shellcheck disable=SC2053
	[[ $1 == $PATTERN ]] || return 1
	if [ -n "$kvm_reason" ]; then
		sb_skip "$1" "$kvm_reason"
		return 1
	fi
	mkdir -p "$WORK/$1"
	return 0
}
sb_pass() { echo "PASS $1"; npass=$((npass + 1)); }
sb_skip() { echo "SKIP $1: $2"; nskip=$((nskip + 1)); }
# sb_fail NAME WHY [FILE...]: the files are shown under the message.
sb_fail() {
	local name=$1 why=$2 f
	shift 2
	echo "FAIL $name: $why"
	for f in "$@"; do
		echo "  $(basename "$f"):"
		show "$f"
	done
	nfail=$((nfail + 1))
}

# sb_start NAME CMD...: starts CMD in the background with its stdin and
# stdout on FIFOs (fd 7 writes its input, fd 8 reads its output), and
# waits (bounded) for the guest's "sandbox: ready" line.  Sets SB_PID.
# Returns 1 (with SB_WHY) if the line does not come.
sb_start() {
	local dir=$WORK/$1 line=""
	shift
	rm -f "$dir/in" "$dir/out"
	mkfifo "$dir/in" "$dir/out"
	exec 7<>"$dir/in"
	"$@" <"$dir/in" >"$dir/out" 2>"$dir/err" &
	SB_PID=$!
	exec 8<"$dir/out"
	if ! read -t "$TIMEOUT" -r line <&8 || [ "$line" != "sandbox: ready" ]; then
		SB_WHY="no 'sandbox: ready' line within ${TIMEOUT}s (got '$line')"
		kill -KILL "$SB_PID" 2>/dev/null
		wait "$SB_PID" 2>/dev/null
		exec 7>&- 8<&-
		return 1
	fi
	return 0
}
# sb_stop: sends 'q' to the guest and waits for ember; sets SB_STATUS.
sb_stop() {
	echo q >&7
	wait "$SB_PID"
	SB_STATUS=$?
	exec 7>&- 8<&-
}

# sb_proc_checks PID: every thread of PID has no capabilities, the
# bounding set empty (when we are root: clearing it needs CAP_SETPCAP),
# no_new_privs and a seccomp filter.  Sets SB_WHY.
sb_proc_checks() {
	local pid=$1 t f v n=0 caps="CapEff CapPrm CapInh CapAmb"
	[ "$(id -u)" = 0 ] && caps="$caps CapBnd"
	for t in /proc/"$pid"/task/*; do
		n=$((n + 1))
		for f in $caps; do
			v=$(awk -v k="$f:" '$1 == k { print $2 }' "$t/status")
			if [ "$v" != 0000000000000000 ]; then
				SB_WHY="thread ${t##*/}: $f is $v"
				return 1
			fi
		done
		v=$(awk '$1 == "NoNewPrivs:" { print $2 }' "$t/status")
		[ "$v" = 1 ] || { SB_WHY="thread ${t##*/}: NoNewPrivs is '$v'"; return 1; }
		v=$(awk '$1 == "Seccomp:" { print $2 }' "$t/status")
		[ "$v" = 2 ] || { SB_WHY="thread ${t##*/}: Seccomp is '$v'"; return 1; }
	done
	if [ $n -lt 2 ]; then
		SB_WHY="$n thread(s): expected the loop and a vCPU thread"
		return 1
	fi
	return 0
}

# ---- a running ember, seen from outside ----
if [ ! -f "$GUESTS/sandbox.pvh" ]; then
	sb_skip sandbox-proc-status "no $GUESTS/sandbox.pvh (tests/guests/sandbox/sandbox.mk)"
elif sb_case sandbox-proc-status; then
	if ! sb_start sandbox-proc-status "$EMBER" run --kernel "$GUESTS/sandbox.pvh" --cpus 2; then
		sb_fail sandbox-proc-status "$SB_WHY" "$WORK/sandbox-proc-status/err"
	elif ! sb_proc_checks "$SB_PID"; then
		sb_stop
		sb_fail sandbox-proc-status "$SB_WHY"
	else
		sb_stop
		if [ "$SB_STATUS" = 0 ]; then
			sb_pass sandbox-proc-status
		else
			sb_fail sandbox-proc-status "expected status 0, got $SB_STATUS" \
				"$WORK/sandbox-proc-status/err"
		fi
	fi
fi

# ---- --no-seccomp: runs, and says so loudly ----
expect sandbox-no-seccomp-warns --line "ember demo guest: hello from PVH" \
	--stderr-line "ember: WARNING: --no-seccomp: the seccomp filters are OFF. A guest that" \
	-- --kernel "$GUESTS/demo.pvh" --no-seccomp

# ---- every thread kind dies by SIGSYS on a forbidden call ----
: "${EMBER_TEST:=$(dirname "$EMBER")/ember-test}"
sb_selftests="sandbox-sigsys-vcpu sandbox-sigsys-loop sandbox-sigsys-vcpu-ioctl
	sandbox-sigsys-vcpu-exec-mmap sandbox-sigsys-loop-ioctl sandbox-uring-refuses-openat
	sandbox-selftest-no-seccomp sandbox-landlock-write-outside"
if [ -x "$EMBER_TEST" ] && [ -f "$GUESTS/sandbox.pvh" ]; then
	sb_saved_ember=$EMBER
	EMBER=$EMBER_TEST
	# 159 = 128 + SIGSYS, as a shell reports it
	expect sandbox-sigsys-vcpu --status 159 --line "sandbox: ready" \
		--stderr-line "ember: sandbox self-test: the vCPU thread calls mount(2)" \
		-- --kernel "$GUESTS/sandbox.pvh" --cmdline selftest=0
	expect sandbox-sigsys-loop --status 159 --line "sandbox: ready" \
		--stderr-line "ember: sandbox self-test: the loop thread calls mount(2)" \
		-- --kernel "$GUESTS/sandbox.pvh" --cmdline selftest=1
	expect sandbox-sigsys-vcpu-ioctl --status 159 --line "sandbox: ready" \
		--stderr-line "ember: sandbox self-test: the vCPU thread calls ioctl(KVM_CHECK_EXTENSION)" \
		-- --kernel "$GUESTS/sandbox.pvh" --cmdline selftest=2
	expect sandbox-sigsys-vcpu-exec-mmap --status 159 --line "sandbox: ready" \
		--stderr-line "ember: sandbox self-test: the vCPU thread maps memory PROT_EXEC" \
		-- --kernel "$GUESTS/sandbox.pvh" --cmdline selftest=3
	expect sandbox-sigsys-loop-ioctl --status 159 --line "sandbox: ready" \
		--stderr-line "ember: sandbox self-test: the loop thread calls ioctl(KVM_CHECK_EXTENSION)" \
		-- --kernel "$GUESTS/sandbox.pvh" --cmdline selftest=4
	# io_uring operations bypass seccomp: the ring refuses what ember does
	# not use (the self-test then exits with 100)
	expect sandbox-uring-refuses-openat --status 100 --line "sandbox: ready" \
		--stderr-line "ember: sandbox self-test: the ring refused IORING_OP_OPENAT: Permission denied" \
		-- --kernel "$GUESTS/sandbox.pvh" --cmdline selftest=5
	# a compromised loop thread may create files with the flags a
	# snapshot uses, but only beneath --snapshot-dir (Landlock)
	mkdir -p "$WORK/landlock"
	expect sandbox-landlock-write-outside --status 100 --line "sandbox: ready" \
		--stderr-line "ember: sandbox self-test: Landlock refused writing outside '$WORK/landlock/snap' (openat: Permission denied, mkdirat: Permission denied)" \
		-- --kernel "$GUESTS/sandbox.pvh" --cmdline selftest=6 --snapshot-dir "$WORK/landlock/snap"
	# and without filters the same call comes back (the self-test then
	# stops the VM with 101)
	expect sandbox-selftest-no-seccomp --status 101 --line "sandbox: ready" \
		--stderr-line "ember: sandbox self-test: mount(2) returned -1: no filter stopped it" \
		-- --kernel "$GUESTS/sandbox.pvh" --cmdline selftest=0 --no-seccomp
	EMBER=$sb_saved_ember
else
	for n in $sb_selftests; do
		# shellcheck disable=SC2053
		[[ $n == $PATTERN ]] &&
			sb_skip "$n" "needs EMBER_TEST='$EMBER_TEST' (ember -DEMBER_TEST_HOOKS) and sandbox.pvh"
	done
fi
