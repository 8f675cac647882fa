# tests/integration/t_errors.sh - bad input: ember exits 2 with a one-line
# reason on stderr and the guest never runs.  Sourced by run.sh.

expect err-missing-kernel --status 2 \
	--stderr-line "ember: kernel 'nope': No such file or directory" \
	-- --kernel nope

head -c 8192 /dev/urandom >"$WORK/random.bin"
expect err-random-kernel --status 2 \
	--stderr-has "not an ELF, bzImage or Multiboot image" \
	-- --kernel "$WORK/random.bin"

expect err-cpus-0 --no-kvm --status 2 -- --kernel "$GUESTS/hello.pvh" --cpus 0

expect err-mem-1M --no-kvm --status 2 -- --kernel "$GUESTS/hello.pvh" --mem 1M
