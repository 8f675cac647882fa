#!/usr/bin/env bash
# virtio-blk under Linux's own virtio_blk driver: fio in ember's default
# guest against fio on the host file, in the same run, rounds alternating.
#
# The default guest's kernel has neither io_uring nor Linux AIO, so the
# guest's QD 32 is fio's psync engine with 32 threads (numjobs=32
# --thread), each with one read in flight, on /dev/vda with O_DIRECT (the
# guest's page cache kept out of it); ember opens the image without
# O_DIRECT, so its reads come from the host page cache, as fio's on the
# host with --direct=0.  Host references, on the same image file:
#   - the same job (psync, 32 threads, direct=0): like with like;
#   - io_uring at iodepth 32, direct=0: the one the virtio bench and the
#     README quote.
# And the guest's own ceiling: the same job in the guest on a 64 MiB file in
# its initramfs (RAM, no device at all), which is as fast as the guest's
# CPU runs fio there.
# fio and the libraries it links go to the guest on a second drive (an
# ext4 image made with mkfs.ext4 -d, read-only), run through the dynamic
# loader with --library-path.  Per round the guest's run also gives
# KVM's exit counters (ember --boot-time) and the requests the guest's
# fio completed, so the exits and interrupts per request can be read (the
# boot's own are subtracted with a run of fio that does no I/O; the
# guest's fio has no ramp, the host's 1 s).
#
# EMBER_BEFORE (optional): a second ember binary (e.g. main's, for a
# before/after comparison) run in every round right after EMBER, on the
# same image and against the same host reference; its rows are marked
# "before".
#
# Env: EMBER, BENCH_OUT (tests/perf/run.sh sets them), N rounds (default
# 5), FIO_SECS (default 4), IMG_MB (default 256), EMBER_KERNEL_DIR
# (default: ember's own default guest), EMBER_BEFORE.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
N=${N:-5}
FIO_SECS=${FIO_SECS:-4}
IMG_MB=${IMG_MB:-256}
echo "## virtio-blk: fio in the default Linux guest vs fio on the host file ($N rounds)"
if [ ! -w /dev/kvm ] || ! command -v fio >/dev/null || ! command -v mkfs.ext4 >/dev/null; then
	echo "(skipped: needs /dev/kvm, fio and mkfs.ext4)"
	exit 0
fi
if in_l1; then
	D=$(mktemp -d "${TMPDIR:-/tmp}/ember-bench-blkfio.XXXXXX")
else
	D=$BENCH_OUT/blkfio
	rm -rf "$D"
	mkdir -p "$D"
fi
trap 'rm -rf "$D"' EXIT

# the guest's tools drive: fio, its libraries, the loader
mkdir -p "$D/tools"
fio_bin=$(command -v fio)
cp -L "$fio_bin" "$D/tools/fio"
ldd "$fio_bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
	while read -r l; do cp -L "$l" "$D/tools/"; done
ld=$(ldd "$fio_bin" | awk '$1 ~ /^\/.*ld-linux/ { print $1 }')
cp -L "$ld" "$D/tools/ld.so"
mb=$(($(du -sm "$D/tools" | cut -f1) + 32))
if ! mkfs.ext4 -q -F -d "$D/tools" "$D/tools.img" "${mb}M" >"$D/mkfs.log" 2>&1; then
	echo "(skipped: mkfs.ext4 -d failed: $(tail -n 1 "$D/mkfs.log"))"
	exit 0
fi
rm -rf "$D/tools"
IMG=$D/disk.img
head -c "${IMG_MB}M" /dev/urandom >"$IMG"

JOB="--name=b --rw=randread --bs=4k --ioengine=psync --numjobs=32 --thread --group_reporting --minimal"
# guest FIO_ARGS: ember with fio in the guest; stdout in $D/out, stderr
# (--boot-time) in $D/err
# (the binary: $bin, EMBER unless set)
guest() {
	timeout -k 5 $((FIO_SECS * 10 + 180)) "${bin:-$EMBER}" run --kernel default --mem 512M --boot-time --console stdio \
		--drive "path=$IMG" --drive "path=$D/tools.img,ro=on" -- sh -c "
		mount -o ro /dev/vdb /mnt || exit 1
		/mnt/ld.so --library-path /mnt /mnt/fio $1 | sed 's/^/fio;/'" \
		</dev/null >"$D/out" 2>"$D/err"
	local st=$?
	[ $st = 124 ] && echo "(ember timed out; the console's last lines: $(tail -n 3 "$D/out" | tr -d '\r' | tr '\n' '|'))" >&2
	return $st
}
# fio terse v3: field 6 read KiB, 8 read IOPS
fio_field() { awk -F';' -v f="$1" '$1 == "fio" { print $(f + 1); exit }' "$2"; }
kvm_stat() { awk -v n="$1" '$1 == "kvm" && $2 == n { print $3; exit }' "$D/err"; }
stats() {
	sort -g | awk '{ v[NR] = $1 } END {
		if (!NR) { print "- - -"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.0f %.0f %.0f\n", m, v[1], v[NR] }'
}
COUNTERS="exits mmio_exits halt_exits irq_injections"

cat "$IMG" >/dev/null	# the host page cache holds the image
tags=after
[ -n "${EMBER_BEFORE:-}" ] && tags="after before"
binof() { if [ "$1" = before ]; then echo "$EMBER_BEFORE"; else echo "$EMBER"; fi; }
: >"$D/hs"; : >"$D/hu"; : >"$D/gr"; : >"$D/ab"
for t in $tags; do
	# the boot's own counters: fio loaded, no I/O
	bin=$(binof "$t") guest --version
	for c in $COUNTERS; do kvm_stat "$c" >"$D/base.$t.$c"; : >"$D/per.$t.$c"; done
	: >"$D/g.$t"; : >"$D/rr.$t"; : >"$D/giops.$t"
done
for i in $(seq "$N"); do
	for t in $tags; do
		bin=$(binof "$t") guest "$JOB --filename=/dev/vda --direct=1 --runtime=$FIO_SECS --time_based"
		iops=$(fio_field 8 "$D/out")
		echo "$iops" >"$D/giops.$t"
		if [ -z "$iops" ]; then
			echo "(round $i, $t: the guest's fio gave no result: $(grep -m1 -v '^fio;' "$D/out" | tr -d '\r'))"
			continue
		fi
		echo "$iops" >>"$D/g.$t"
		ios=$(awk -v k="$(fio_field 6 "$D/out")" 'BEGIN { print k / 4 }')
		for c in $COUNTERS; do
			awk -v a="$(kvm_stat "$c")" -v b="$(cat "$D/base.$t.$c")" -v n="$ios" \
				'BEGIN { if (n > 0 && a != "") printf "%.3f\n", (a - b) / n }' >>"$D/per.$t.$c"
		done
		[ "$t" = after ] && cp "$D/err" "$D/err.last"
	done
	# shellcheck disable=SC2086 # JOB is a list of options
	fio $JOB --filename="$IMG" --direct=0 --invalidate=0 --runtime="$FIO_SECS" --ramp_time=1 \
		--time_based 2>/dev/null | awk -F';' '{ print $8 }' >>"$D/hs"
	fio --name=u --filename="$IMG" --rw=randread --bs=4k --ioengine=io_uring --iodepth=32 \
		--direct=0 --invalidate=0 --runtime="$FIO_SECS" --ramp_time=1 --time_based --minimal \
		2>/dev/null | awk -F';' '{ print $8 }' >>"$D/hu"
	bin=$EMBER guest "$JOB --filename=/bench.f --size=64M --direct=0 --runtime=$FIO_SECS --time_based"
	fio_field 8 "$D/out" >>"$D/gr"
	[ -n "${EMBER_BEFORE:-}" ] && awk -v a="$(cat "$D/giops.after")" -v b="$(cat "$D/giops.before")" \
		'BEGIN { if (a > 0 && b > 0) printf "%.2f\n", a / b }' >>"$D/ab"
	msg=
	for t in $tags; do
		iops=$(cat "$D/giops.$t")
		[ -n "$iops" ] && awk -v g="$iops" -v h="$(tail -n 1 "$D/hs")" \
			'BEGIN { if (h > 0) printf "%.1f\n", 100 * g / h }' >>"$D/rr.$t"
		msg="$msg guest ($t) ${iops:-failed},"
	done
	echo "(round $i:$msg guest RAM file $(tail -n 1 "$D/gr"), host same job $(tail -n 1 "$D/hs"), io_uring $(tail -n 1 "$D/hu"))"
done
read -r hs hsmin hsmax <<<"$(stats <"$D/hs")"
read -r hu humin humax <<<"$(stats <"$D/hu")"
read -r gr grmin grmax <<<"$(stats <"$D/gr")"
echo
echo "4 KiB random read, QD 32, ${FIO_SECS} s (host: after 1 s of ramp); IOPS, median (min-max) of $N"
echo "| fio                                              | IOPS median | min    | max    | guest/this |"
echo "|--------------------------------------------------|-------------|--------|--------|------------|"
for t in $tags; do
	read -r g gmin gmax <<<"$(stats <"$D/g.$t")"
	[ "$t" = after ] && ga=$g
	printf '| %-48s | %11s | %6s | %6s | %10s |\n' "guest ($t): psync, 32 threads, O_DIRECT, /dev/vda" "$g" "$gmin" "$gmax" ""
done
g=$ga
printf '| %-48s | %11s | %6s | %6s | %10s |\n' "guest: the same job on a file in its RAM" "$gr" "$grmin" "$grmax" "$(pct "$g" "$gr")"
printf '| %-48s | %11s | %6s | %6s | %10s |\n' "host file: the same job, direct=0" "$hs" "$hsmin" "$hsmax" "$(pct "$g" "$hs")"
printf '| %-48s | %11s | %6s | %6s | %10s |\n' "host file: io_uring, iodepth 32, direct=0" "$hu" "$humin" "$humax" "$(pct "$g" "$hu")"
echo "guest / host, the same job, round by round (the two ran back to back, so"
echo "load that comes and goes weighs less than on the medians above): median"
for t in $tags; do
	printf '  %-6s ' "$t:"
	sort -g "$D/rr.$t" | awk '{ v[NR] = $1 } END { if (NR) printf "%s %% (min %s, max %s)\n", v[int((NR + 1) / 2)], v[1], v[NR]; else print "-" }'
done
if [ -n "${EMBER_BEFORE:-}" ]; then
	printf '  after / before, guest IOPS, round by round: '
	sort -g "$D/ab" | awk '{ v[NR] = $1 } END { if (NR) printf "%s (min %s, max %s)\n", v[int((NR + 1) / 2)], v[1], v[NR]; else print "-" }'
fi
echo
echo "per guest request (KVM's counters over the run less a boot's, over the requests"
echo "fio completed; median of $N):"
for t in $tags; do
	for c in $COUNTERS; do
		printf '  %-6s %-15s %s\n' "$t" "$c" "$(sort -g "$D/per.$t.$c" | awk '{ v[NR] = $1 } END { print NR ? v[int((NR + 1) / 2)] : "-" }')"
	done
done
echo
echo "ember's --boot-time of the last round (after):"
sed 's/^/    /' "$D/err.last" 2>/dev/null
