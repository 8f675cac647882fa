#!/usr/bin/env bash
# make bench: builds the benchmark helpers, then runs every bench_*.sh here.
# Env: EMBER (the ember binary), GUESTS (built test guests).  Benchmarks are
# not tests: they print tables, they do not pass or fail on numbers.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
: "${EMBER:?set EMBER to the ember binary}" "${GUESTS:?set GUESTS to the guests dir}"
export BENCH_OUT=${BENCH_OUT:-$(dirname "$EMBER")/perf}
mkdir -p "$BENCH_OUT"
cc -O2 -Wall -o "$BENCH_OUT/timeit" "$here/timeit.c"
cc -O2 -Wall -o "$BENCH_OUT/rawkvm" "$here/rawkvm.c"
cc -nostdlib -static -Wl,--build-id=none -T "$here/exit_pvh.ld" -o "$BENCH_OUT/exit.pvh" "$here/exit_pvh.S"
export TIMEIT="$BENCH_OUT/timeit" EXIT_PVH="$BENCH_OUT/exit.pvh" RAWKVM="$BENCH_OUT/rawkvm"

echo "ember benchmarks, $(date -u +%Y-%m-%d), $(nproc) CPUs, $(uname -r), KVM module: $(ls -d /sys/module/kvm_* 2>/dev/null | xargs -n1 basename 2>/dev/null | grep -v '^kvm$' | tr '\n' ' ')"
for b in "$here"/bench_*.sh; do
	echo
	bash "$b"
done
