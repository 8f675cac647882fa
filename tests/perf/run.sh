#!/usr/bin/env bash
# make bench: builds the benchmark helpers, then runs every bench_*.sh here
# (BENCH="startup sandbox": only bench_startup.sh and bench_sandbox.sh;
# BENCH=api: bench_api.sh, ember's Firecracker-compatible API and vsock;
# BENCH=restore: bench_restore.sh, ember restore against QEMU -incoming).
# Env: EMBER (the ember binary), GUESTS (built test guests).  Benchmarks are
# not tests: they print tables, they do not pass or fail on numbers.  Every
# table sets ember against a reference measured in the same run (the
# raw-KVM floor program, QEMU microvm, fio); in the L1 lane (EMBER_IN_L1=1)
# those ratios are the only figures that mean anything.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${EMBER:?set EMBER to the ember binary}" "${GUESTS:?set GUESTS to the guests dir}"
export BENCH_OUT=${BENCH_OUT:-$(dirname "$EMBER")/perf}
mkdir -p "$BENCH_OUT"
cc -O2 -Wall -o "$BENCH_OUT/timeit" "$here/timeit.c"
cc -O2 -Wall -o "$BENCH_OUT/rawkvm" "$here/rawkvm.c"
cc -nostdlib -static -Wl,--build-id=none -T "$here/exit_pvh.ld" -o "$BENCH_OUT/exit.pvh" "$here/exit_pvh.S"
export TIMEIT="$BENCH_OUT/timeit" EXIT_PVH="$BENCH_OUT/exit.pvh" RAWKVM="$BENCH_OUT/rawkvm"

start=$(date +%s)
echo "ember benchmarks, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) CPUs, $(uname -r), KVM module: $(cd /sys/module && ls -d kvm_* 2>/dev/null | tr '\n' ' ')"
if [ "${EMBER_IN_L1:-}" = 1 ]; then
	echo "Where: IN THE L1 LANE (EMBER_IN_L1=1): KVM is kvm_amd inside a QEMU TCG VM"
	echo "(tests/l1/), every instruction of it and of ember emulated, other jobs on"
	echo "the same cores.  Absolute times here mean nothing.  Only ratios measured in"
	echo "this same run count: ember / raw-KVM floor program (the / floor columns),"
	echo "ember / QEMU microvm (the / QEMU and ember/QEMU columns), ember / fio."
else
	echo "Where: directly on this host's KVM (EMBER_IN_L1 unset).  The ratios to the"
	echo "raw-KVM floor program and to QEMU microvm of the same run are beside the figures."
fi
echo "Load average at the start: $(cut -d' ' -f1-3 /proc/loadavg)"
for n in ${BENCH:-$(cd "$here" && ls bench_*.sh | sed 's/^bench_//; s/\.sh$//')}; do
	b=$here/bench_$n.sh
	t0=$(date +%s)
	echo
	st=0
	bash "$b" || st=$?
	[ $st = 0 ] || echo "($(basename "$b") ended with status $st)"
	echo "($(basename "$b"): $(($(date +%s) - t0)) s)"
done
echo
echo "all benchmarks: $(($(date +%s) - start)) s; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
