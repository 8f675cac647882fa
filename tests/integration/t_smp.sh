# tests/integration/t_smp.sh - smp.pvh brings up every AP (INIT-SIPI-SIPI)
# from the MP table; cpus=N on the command line must agree with it.  The
# order of the "cpu N up" lines varies, so they are compared sorted.
# Sourced by run.sh.

smp_case() {
	local n=$1 i
	local -a want=()
	for ((i = 0; i < n; i++)); do
		want+=(--line "cpu $i up")
	done
	expect "smp-$n" --sorted "${want[@]}" --line "all $n cpus up" \
		-- --kernel "$GUESTS/smp.pvh" --cpus "$n" --cmdline "cpus=$n"
}

for n in 1 2 4 32; do
	smp_case "$n"
done
