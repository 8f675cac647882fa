#!/usr/bin/env bash
# virtio benchmarks: virtio-blk from a test guest against fio on the host,
# on the same image file, in the same run; virtio-net between the guest and
# a peer in a network namespace made for the purpose (packets/s, Gbit/s,
# round trip); peak RSS of ember during each; exits per request.
#
# The guest is tests/guests/virtio/vbench.elf64: its I/O loop runs in ring
# 3, where guest code runs natively even on a host whose KVM emulates guest
# ring 0; it kicks once per batch (when EVENT_IDX says the device wants
# it) and polls the used ring, so the only exits in its loop are the
# QueueNotify writes it counts ("exits/req").  Where perf and tracefs are
# usable, KVM's own count (kvm:kvm_mmio + kvm:kvm_pio, boot subtracted)
# is shown beside it.  Each row: median (min, max) of R runs; a run's
# time is between the guest's control-port markers 1 and 2 (ember
# --boot-time); its length is set from a short probe run to about SECS.
#
# The references, measured in the same run: fio on the same image file for
# virtio-blk (ember/fio), and for virtio-net the host's own UDP path between
# two network namespaces over a veth pair, driven by the same helper that
# is the guest's peer (ember/host), the two alternating run by run.  Where
# the scratch directory has no O_DIRECT (tmpfs), the direct rows use an
# ext4 image mounted through a loop device there (root only).
#
# Env: EMBER, GUESTS (as for run.sh), BENCH_OUT (scratch dir; in the L1
# lane the lane's own /tmp instead, BENCH_OUT being the 9p-shared tree
# there), R (runs per row, default 3), SECS (default 1.5, 1 in the lane),
# IMG_MB (image size, default 256), VIRTIO_BENCH=blk|net|all (default all).
set -uo pipefail
: "${EMBER:?set EMBER to the ember binary}" "${GUESTS:?set GUESTS to the guests dir}"
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
R=${R:-3}
SECS=${SECS:-$(lane_default 1 1.5)}
IMG_MB=${IMG_MB:-256}
WHICH=${VIRTIO_BENCH:-all}
if in_l1; then
	D=$(mktemp -d "${TMPDIR:-/tmp}/ember-bench-virtio.XXXXXX")
else
	D=$BENCH_OUT/virtio
fi
VB=$GUESTS/vbench.elf64
mkdir -p "$D"
LOOPMNT=""
virtio_cleanup() {
	[ -n "$LOOPMNT" ] && umount "$LOOPMNT" 2>/dev/null
	LOOPMNT=""
	if in_l1; then
		rm -rf "$D"
	fi
}
trap 'net_cleanup; virtio_cleanup' EXIT

if [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ] || [ ! -f "$VB" ]; then
	echo "## virtio: skipped (needs /dev/kvm and $VB)"
	exit 0
fi

# ---- the host-side helper: peak RSS of a command, UDP sink/flood/rtt ----
cat >"$D/vbhelp.c" <<'EOF'
/* vbhelp: the host side of bench_virtio.sh.
 *   vbhelp rss FILE -- CMD...       runs CMD, writes its peak RSS (KiB) to
 *                                   FILE, exits with CMD's status
 *   vbhelp sink PORT                counts UDP datagrams to PORT until
 *                                   SIGTERM; prints "ready", then at the end
 *                                   "packets N bytes B"
 *   vbhelp flood DST PORT SIZE      sends SIZE-byte UDP datagrams to
 *                                   DST:PORT until DST answers "done";
 *                                   prints "sent N"
 *   vbhelp rtt DST PORT COUNT SIZE  COUNT ping-pongs of SIZE bytes; prints
 *                                   "rtt_us median M p99 P min N", then
 *                                   sends "quit"
 *   vbhelp sinkt PORT SECS          the host-only reference: counts UDP
 *                                   datagrams for SECS from the first one,
 *                                   then answers "done" to their sender and
 *                                   prints "pps P packets N"
 *   vbhelp echo PORT                echoes datagrams until "quit" */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64

static volatile sig_atomic_t stop;

static void on_term(int s)
{
	(void)s;
	stop = 1;
}

static double now_us(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec * 1e6 + (double)t.tv_nsec / 1e3;
}

static int udp(const char *port, struct sockaddr_in *peer, const char *dst)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port)) };
	int fd = socket(AF_INET, SOCK_DGRAM, 0), big = 16 << 20;

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		perror("vbhelp: socket/bind");
		exit(1);
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &big, sizeof(big));
	setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &big, sizeof(big));
	if (dst) {
		*peer = a;
		if (inet_pton(AF_INET, dst, &peer->sin_addr) != 1) {
			fprintf(stderr, "vbhelp: bad address %s\n", dst);
			exit(1);
		}
	}
	return fd;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static char bufs[BATCH][2048];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct sockaddr_in peer;
	int fd;

	if (argc >= 5 && !strcmp(argv[1], "rss") && !strcmp(argv[3], "--")) {
		struct rusage ru;
		int st;
		pid_t p = fork();
		FILE *f;

		if (p == 0) {
			execvp(argv[4], argv + 4);
			_exit(127);
		}
		if (p < 0 || wait4(p, &st, 0, &ru) < 0)
			return 70;
		f = fopen(argv[2], "w");
		if (f) {
			fprintf(f, "%ld\n", ru.ru_maxrss);
			fclose(f);
		}
		return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
	memset(m, 0, sizeof(m));
	for (int i = 0; i < BATCH; i++) {
		iov[i] = (struct iovec){ bufs[i], sizeof(bufs[i]) };
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	if (argc == 3 && !strcmp(argv[1], "sink")) {
		unsigned long long pk = 0, by = 0;
		struct sigaction sa = { .sa_handler = on_term };

		sigaction(SIGTERM, &sa, NULL);	/* no SA_RESTART: recvmmsg returns */
		fd = udp(argv[2], NULL, NULL);
		printf("ready\n");
		fflush(stdout);
		while (!stop) {
			int k = recvmmsg(fd, m, BATCH, MSG_WAITFORONE, NULL);

			for (int i = 0; i < k; i++)
				by += m[i].msg_len;
			if (k > 0)
				pk += (unsigned)k;
		}
		printf("packets %llu bytes %llu\n", pk, by);
		return 0;
	}
	if (argc == 4 && !strcmp(argv[1], "sinkt")) {
		static struct sockaddr_in from[BATCH];
		struct timeval tv = { 1, 0 };
		unsigned long long pk = 0;
		double t0 = 0, t = 0, secs = atof(argv[3]);
		int idle = 0;

		fd = udp(argv[2], NULL, NULL);
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		for (int i = 0; i < BATCH; i++)
			m[i].msg_hdr.msg_name = &from[i];
		printf("ready\n");
		fflush(stdout);
		for (;;) {
			int k;

			for (int i = 0; i < BATCH; i++)
				m[i].msg_hdr.msg_namelen = sizeof(from[i]);
			k = recvmmsg(fd, m, BATCH, MSG_WAITFORONE, NULL);
			if (k <= 0) {
				if (t0 > 0 && now_us() - t0 > secs * 1e6 + 5e6)
					break;	/* the sender went away */
				if (t0 == 0 && ++idle > 60)
					return 1;	/* nothing came in a minute */
				continue;
			}
			t = now_us();
			if (t0 == 0) {	/* the first batch starts the clock */
				t0 = t;
				continue;
			}
			pk += (unsigned)k;
			if (t - t0 >= secs * 1e6) {
				for (int i = 0; i < 3; i++)
					sendto(fd, "done", 4, 0, (struct sockaddr *)&from[k - 1],
					       sizeof(from[k - 1]));
				break;
			}
		}
		printf("pps %.0f packets %llu\n", t > t0 ? (double)pk / ((t - t0) / 1e6) : 0.0, pk);
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "echo")) {
		char in[2048];

		fd = udp(argv[2], NULL, NULL);
		printf("ready\n");
		fflush(stdout);
		for (;;) {
			struct sockaddr_in from;
			socklen_t fl = sizeof(from);
			ssize_t k = recvfrom(fd, in, sizeof(in), 0, (struct sockaddr *)&from, &fl);

			if (k == 4 && !memcmp(in, "quit", 4))
				return 0;
			if (k > 0)
				sendto(fd, in, (size_t)k, 0, (struct sockaddr *)&from, fl);
		}
	}
	if (argc == 5 && !strcmp(argv[1], "flood")) {
		unsigned long long sent = 0;
		size_t size = (size_t)atoi(argv[4]);
		double t0 = now_us();

		fd = udp(argv[3], &peer, argv[2]);
		for (int i = 0; i < BATCH; i++) {
			memset(bufs[i], 'x', sizeof(bufs[i]));
			iov[i].iov_len = size;
			m[i].msg_hdr.msg_name = &peer;
			m[i].msg_hdr.msg_namelen = sizeof(peer);
		}
		for (;;) {
			char r[16];
			ssize_t k = recv(fd, r, sizeof(r), MSG_DONTWAIT);
			int s;

			if (k >= 4 && !memcmp(r, "done", 4))
				break;
			if (now_us() - t0 > 60e6) {
				fprintf(stderr, "vbhelp: flood: no 'done' in 60 s\n");
				return 1;
			}
			s = sendmmsg(fd, m, BATCH, 0);
			if (s > 0)
				sent += (unsigned)s;
			else if (errno != ENOBUFS && errno != EAGAIN)
				perror("vbhelp: sendmmsg");
		}
		printf("sent %llu\n", sent);
		return 0;
	}
	if (argc == 6 && !strcmp(argv[1], "rtt")) {
		int count = atoi(argv[4]);
		size_t size = (size_t)atoi(argv[5]);
		double *t = calloc((size_t)count, sizeof(*t));
		char out[2048], in[2048];

		fd = udp(argv[3], &peer, argv[2]);
		memset(out, 'p', sizeof(out));
		for (int i = 0; i < count; i++) {
			struct pollfd p = { fd, POLLIN, 0 };
			double t0 = now_us();

			sendto(fd, out, size, 0, (struct sockaddr *)&peer, sizeof(peer));
			if (poll(&p, 1, 5000) != 1 || recv(fd, in, sizeof(in), 0) < 0) {
				fprintf(stderr, "vbhelp: rtt: no echo within 5 s\n");
				return 1;
			}
			t[i] = now_us() - t0;
		}
		sendto(fd, "quit", 4, 0, (struct sockaddr *)&peer, sizeof(peer));
		qsort(t, (size_t)count, sizeof(*t), cmp_d);
		printf("rtt_us median %.1f p99 %.1f min %.1f\n", t[count / 2],
		       t[count * 99 / 100], t[0]);
		return 0;
	}
	fprintf(stderr, "usage: see the comment at the top of vbhelp.c\n");
	return 2;
}
EOF
cc -O2 -Wall -Wextra -o "$D/vbhelp" "$D/vbhelp.c" || exit 1
H=$D/vbhelp

# stats: numbers on stdin -> "median min max"
stats() {
	sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%s %s %s\n", v[int((NR + 1) / 2)], v[1], v[NR]; else print "- - -" }'
}
# calc EXPR: awk arithmetic
calc() {
	awk "BEGIN { printf \"%s\", $1 }"
}
# marker_ms FILE N: the time of control-port marker N in ember's --boot-time output
marker_ms() {
	awk -v n="$2" '$1 == "marker" && $2 == n { print $3; exit }' "$1"
}

# perf_exits OUT CMD...: runs CMD under perf stat (KVM tracepoints, tracefs
# mounted in a private mount namespace); writes "mmio pio" to OUT.  False
# if that is not possible here.
PERF_OK=0
if command -v perf >/dev/null && command -v unshare >/dev/null &&
	unshare -m sh -c 'mount -t tracefs none /sys/kernel/tracing 2>/dev/null &&
		perf stat -e kvm:kvm_mmio -x, -o /dev/null true' >/dev/null 2>&1; then
	PERF_OK=1
fi
perf_exits() {
	local out=$1
	shift
	[ $PERF_OK = 1 ] || return 1
	# shellcheck disable=SC2016
	unshare -m sh -c 'mount -t tracefs none /sys/kernel/tracing &&
		exec perf stat -e kvm:kvm_mmio,kvm:kvm_pio -x, -o "$0.perf" "$@"' "$out" "$@" \
		>/dev/null 2>&1 || return 1
	awk -F, '$3 == "kvm:kvm_mmio" { m = $1 } $3 == "kvm:kvm_pio" { p = $1 }
		END { print m + 0, p + 0 }' "$out.perf" >"$out"
}

echo "## virtio ($(date -u +%Y-%m-%d), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg))"

# ===================================== virtio-blk =====================================
IMG=$D/disk.img
# vblk_run OPT RW BS QD N: one ember run; prints "secs rss_kib kicks" (or "fail")
vblk_run() {
	local opt=$1 rw=$2 bs=$3 qd=$4 n=$5 m1 m2 k
	if ! "$H" rss "$D/rss" -- "$EMBER" run --kernel "$VB" --mem 256M \
		--drive "path=$IMG$opt" --boot-time \
		--cmdline "bench=blk rw=$rw bs=$bs qd=$qd n=$n warm=$((n / 10 + qd))" \
		</dev/null >"$D/out" 2>"$D/err"; then
		echo fail
		return
	fi
	m1=$(marker_ms "$D/err" 1)
	m2=$(marker_ms "$D/err" 2)
	k=$(awk '$1 == "vbench:" { print $5 }' "$D/out")
	echo "$(calc "($m2 - $m1) / 1000") $(cat "$D/rss") $k"
}

# fio_iops DIRECT RW BS QD: fio's IOPS on the same image (io_uring, as ember)
fio_iops() {
	local f=8
	case $2 in *write) f=49 ;; esac
	fio --name=vb --filename="$IMG" --rw="$2" --bs="$3" --iodepth="$4" \
		--ioengine=io_uring --direct="$1" --invalidate=0 --runtime="$SECS" \
		--time_based --minimal 2>/dev/null | awk -F';' -v f=$f '{ print $f }'
}

# blk_row NAME OPT DIRECT RW BS QD PROBE_N
blk_row() {
	local name=$1 opt=$2 direct=$3 rw=$4 bs=$5 qd=$6 probe=$7 r n i e f k=0 rss=0 x
	local perf=""
	[ "$direct" = 0 ] && cat "$IMG" >/dev/null	# the page cache holds the image
	r=$(vblk_run "$opt" "$rw" "$bs" "$qd" "$probe")
	if [ "$r" = fail ]; then
		printf '| %-28s | ember failed: %s |\n' "$name" "$(head -n1 "$D/err")"
		return
	fi
	n=$(calc "int($probe * $SECS / (${r%% *} + 0.001))")
	[ "$n" -lt "$probe" ] && n=$probe
	: >"$D/e.iops"
	for ((i = 0; i < R; i++)); do
		x=$(vblk_run "$opt" "$rw" "$bs" "$qd" "$n")
		[ "$x" = fail ] && continue
		read -r secs xr xk <<<"$x"
		calc "$n / $secs" >>"$D/e.iops"
		echo >>"$D/e.iops"
		[ "$xr" -gt "$rss" ] && rss=$xr
		k=$xk
	done
	: >"$D/f.iops"
	if command -v fio >/dev/null; then
		for ((i = 0; i < R; i++)); do
			fio_iops "$direct" "$rw" "$bs" "$qd" >>"$D/f.iops"
		done
	fi
	read -r e emin emax <<<"$(stats <"$D/e.iops")"
	read -r f _ _ <<<"$(stats <"$D/f.iops")"
	if [ "$PERF_OK" = 1 ] && [ -n "${PERF_BASE:-}" ] &&
		perf_exits "$D/perf" "$EMBER" run --kernel "$VB" --mem 256M --drive "path=$IMG$opt" \
			--console none --cmdline "bench=blk rw=$rw bs=$bs qd=$qd n=$n warm=$((n / 10 + qd))"; then
		read -r pm pp <"$D/perf"
		perf=$(calc "sprintf(\"%.3f\", ($pm + $pp - $PERF_BASE) / ($n + int($n / 10) + $qd))")
	fi
	printf '| %-28s | %9.0f | %9.0f | %9.0f | %8.1f | %9s | %5s | %6.3f | %6s | %6.2f |\n' \
		"$name" "$e" "$emin" "$emax" "$(calc "$e * $bs / 1e6")" \
		"${f:-n/a}" "$([ -n "$f" ] && [ "$f" != - ] && calc "sprintf(\"%.0f%%\", 100 * $e / $f)" || echo n/a)" \
		"$(calc "$k / $n")" "${perf:--}" "$(calc "$rss / 1024")"
}

blk_bench() {
	local mode opt direct
	echo
	echo "### virtio-blk: $IMG_MB MiB image of random data, guest I/O loop in ring 3, polled"
	echo "exits/req: QueueNotify writes per request, counted by the guest (its loop makes no"
	echo "other MMIO or port access and takes no interrupt); KVM exits/req: kvm:kvm_mmio +"
	echo "kvm:kvm_pio per request over a whole run, less those of a run without requests."
	if ! command -v fio >/dev/null; then
		echo "(fio is not installed: no host figures)"
	fi
	head -c "${IMG_MB}M" /dev/urandom >"$IMG"
	sync
	PERF_BASE=""
	if [ "$PERF_OK" = 1 ] && perf_exits "$D/perf" "$EMBER" run --kernel "$VB" --mem 256M \
		--drive "path=$IMG" --console none --cmdline "bench=blk rw=read bs=4096 qd=1 n=0 warm=0"; then
		read -r pm pp <"$D/perf"
		PERF_BASE=$((pm + pp))
	fi
	for mode in buffered direct; do
		opt="" direct=0
		if [ $mode = direct ]; then
			if ! dd if="$IMG" of=/dev/null bs=4096 count=1 iflag=direct status=none 2>/dev/null; then
				if ! loop_ext4; then
					echo "(O_DIRECT not supported under $D and no loop-mounted ext4 there: no direct rows)"
					break
				fi
				rm -f "$IMG"
				IMG=$LOOPMNT/disk.img
				head -c "${IMG_MB}M" /dev/urandom >"$IMG"
				sync
				echo
				echo "(O_DIRECT: $D has none; the image is on an ext4 loop-mounted from a file there)"
			fi
			opt=",direct=on" direct=1
		fi
		echo
		echo "$mode I/O (ember --drive ...${opt:-}; fio --direct=$direct --ioengine=io_uring --invalidate=0):"
		echo "| workload                     | ember IOPS | min       | max       | MB/s     | fio IOPS  | ember/fio | exits/req | KVM exits/req (perf) | peak RSS MiB |"
		echo "|------------------------------|-----------|-----------|-----------|----------|-----------|-------|--------|--------|--------|"
		blk_row "4 KiB random read, QD 1" "$opt" $direct randread 4096 1 2000
		blk_row "4 KiB random read, QD 32" "$opt" $direct randread 4096 32 10000
		blk_row "4 KiB random write, QD 1" "$opt" $direct randwrite 4096 1 2000
		blk_row "4 KiB random write, QD 32" "$opt" $direct randwrite 4096 32 10000
		blk_row "1 MiB sequential read, QD 8" "$opt" $direct read 1048576 8 200
		blk_row "1 MiB sequential write, QD 8" "$opt" $direct write 1048576 8 200
		sync
	done
	rm -f "$IMG"
	virtio_cleanup_loop
}

# loop_ext4: mounts an ext4 image file of D through a loop device at
# $D/ext4 (LOOPMNT); false where that cannot be done
loop_ext4() {
	[ "$(id -u)" = 0 ] && command -v mkfs.ext4 >/dev/null || return 1
	if ! { truncate -s "$((IMG_MB + 64))M" "$D/ext4.img" &&
		mkfs.ext4 -q -F "$D/ext4.img" >/dev/null 2>&1 &&
		mkdir -p "$D/ext4" && mount -o loop "$D/ext4.img" "$D/ext4" 2>/dev/null; }; then
		rm -f "$D/ext4.img"
		return 1
	fi
	LOOPMNT=$D/ext4
	if ! dd if=/dev/zero of="$LOOPMNT/probe" bs=4096 count=1 oflag=direct status=none 2>/dev/null; then
		virtio_cleanup_loop
		return 1
	fi
	rm -f "$LOOPMNT/probe"
}
virtio_cleanup_loop() {
	if [ -n "$LOOPMNT" ]; then
		umount "$LOOPMNT" 2>/dev/null
		LOOPMNT=""
		rm -f "$D/ext4.img"
	fi
}

# ===================================== virtio-net =====================================
NS=""
TAP=""
HNS=""
net_cleanup() {
	[ -n "${NET_FD:-}" ] && exec {NET_FD}<&- && NET_FD=""
	if [ -n "$NS" ]; then
		ip -n "$NS" link del "$TAP" 2>/dev/null
		ip netns del "$NS" 2>/dev/null
		NS=""
	fi
	if [ -n "$HNS" ]; then
		ip netns del "$HNS" 2>/dev/null
		HNS=""
	fi
}

# host_ref: the host-only reference, a veth pair from the peer's namespace
# (10.0.3.1) to one more namespace (10.0.3.2); HNS is set when it works
host_ref() {
	local h=ember-bench-h$$
	if ip netns add "$h" 2>/dev/null; then
		HNS=$h
		if ip link add "ebh$$a" netns "$NS" type veth peer name "ebh$$b" netns "$HNS" &&
			ip -n "$NS" addr add 10.0.3.1/24 dev "ebh$$a" &&
			ip -n "$HNS" addr add 10.0.3.2/24 dev "ebh$$b" &&
			ip -n "$NS" link set "ebh$$a" up && ip -n "$HNS" link set "ebh$$b" up &&
			ip -n "$HNS" link set lo up; then
			return 0
		fi
		ip netns del "$HNS"
		HNS=""
	fi
	return 1
}

# host_pps SIZE: packets/s of SIZE-byte frames from the peer's namespace to
# the other over the veth pair for SECS (vbhelp flood -> vbhelp sinkt)
host_pps() {
	local sink fd pps=""
	[ -n "$HNS" ] || return 0
	rm -f "$D/hfifo"
	mkfifo "$D/hfifo"
	ip netns exec "$HNS" "$H" sinkt 9001 "$SECS" >"$D/hfifo" &
	sink=$!
	exec {fd}<"$D/hfifo"
	if read -r -t 10 -u "$fd" _; then
		ip netns exec "$NS" timeout 120 "$H" flood 10.0.3.2 9001 "$(($1 - 42))" >/dev/null
		read -r -t 30 -u "$fd" _ pps _ _
	fi
	kill "$sink" 2>/dev/null
	wait "$sink" 2>/dev/null
	exec {fd}<&-
	echo "$pps"
}

# host_rtt: the same round trip as the guest's, between the two namespaces
host_rtt() {
	local echo fd
	[ -n "$HNS" ] || return 0
	rm -f "$D/hfifo"
	mkfifo "$D/hfifo"
	ip netns exec "$HNS" "$H" echo 9001 >"$D/hfifo" &
	echo=$!
	exec {fd}<"$D/hfifo"
	if read -r -t 10 -u "$fd" _; then
		ip netns exec "$NS" timeout 120 "$H" rtt 10.0.3.2 9001 5000 64
	fi
	kill "$echo" 2>/dev/null
	wait "$echo" 2>/dev/null
	exec {fd}<&-
}

# net_ember MODE ARGS: ember with vbench in the namespace, stdout+stderr
# into the fifo $D/fifo (opened on NET_FD); its pid in EM_PID.
net_ember() {
	rm -f "$D/fifo"
	mkfifo "$D/fifo"
	ip netns exec "$NS" "$H" rss "$D/rss" -- "$EMBER" run --kernel "$VB" --mem 256M \
		--net "tap=$TAP,mac=52:54:00:12:34:56" --boot-time \
		--cmdline "bench=$1 ip=10.0.2.2 peer=10.0.2.1 peermac=$PEERMAC port=9000 $2" \
		</dev/null >"$D/fifo" 2>&1 &
	EM_PID=$!
	exec {NET_FD}<"$D/fifo"
}

# net_wait_line TEXT: reads ember's output (to $D/netout) until TEXT or EOF
net_wait_line() {
	local line
	while IFS= read -r -t 60 -u "$NET_FD" line; do
		echo "$line" >>"$D/netout"
		[ "$line" = "$1" ] && return 0
	done
	return 1
}

# net_finish: reads the rest, waits for ember; writes "secs rss kicks" or
# "fail" to $D/result.  (Not in a $(...): it waits for its sibling.)
net_finish() {
	local st m1 m2
	net_wait_line "(end)"
	wait "$EM_PID"
	st=$?
	exec {NET_FD}<&-
	NET_FD=""
	m1=$(marker_ms "$D/netout" 1)
	m2=$(marker_ms "$D/netout" 2)
	if [ "$st" != 0 ] || [ -z "$m1" ] || [ -z "$m2" ]; then
		echo fail >"$D/result"
		return
	fi
	echo "$(calc "($m2 - $m1) / 1000") $(cat "$D/rss") $(awk '$1 == "vbench:" && $2 != "ready" { print $5 }' "$D/netout")" >"$D/result"
}

# net_tx SIZE N: guest -> peer; writes "secs rss kicks delivered" to $D/result
net_tx() {
	local sink delivered
	rm -f "$D/sinkfifo"
	mkfifo "$D/sinkfifo"
	ip netns exec "$NS" "$H" sink 9000 >"$D/sinkfifo" &
	sink=$!
	exec {SINK_FD}<"$D/sinkfifo"
	read -r -t 10 -u "$SINK_FD" _
	: >"$D/netout"
	net_ember tx "size=$1 n=$2 warm=$(($2 / 10))"
	net_finish
	kill -TERM "$sink"
	read -r -t 10 -u "$SINK_FD" _ delivered _ _
	wait "$sink"
	exec {SINK_FD}<&-
	echo "$(cat "$D/result") ${delivered:-0}" >"$D/result"
}

# net_rx SIZE N: peer -> guest; writes "secs rss kicks sent" to $D/result
net_rx() {
	local sent=""
	: >"$D/netout"
	net_ember rx "n=$2"
	if net_wait_line "vbench: ready"; then
		sent=$(ip netns exec "$NS" timeout 120 "$H" flood 10.0.2.2 9000 "$(($1 - 42))")
	fi
	net_finish
	echo "$(cat "$D/result") ${sent#sent }" >"$D/result"
}

# net_row NAME DIR SIZE PROBE_N
net_row() {
	local name=$1 dir=$2 size=$3 probe=$4 r n i k=0 rss=0 extra="" secs xr xk xe
	"net_$dir" "$size" "$probe"
	r=$(cat "$D/result")
	if [[ $r == fail* ]]; then
		printf '| %-28s | ember failed: %s |\n' "$name" "$(grep -m1 'ember:' "$D/netout")"
		return
	fi
	n=$(calc "int($probe * $SECS / (${r%% *} + 0.001))")
	[ "$n" -lt "$probe" ] && n=$probe
	: >"$D/e.pps"
	: >"$D/h.pps"
	: >"$D/extra"
	for ((i = 0; i < R; i++)); do
		host_pps "$size" >>"$D/h.pps"	# alternating with ember's runs
		"net_$dir" "$size" "$n"
		r=$(cat "$D/result")
		[[ $r == fail* ]] && continue
		read -r secs xr xk xe <<<"$r"
		calc "$n / $secs" >>"$D/e.pps"
		echo >>"$D/e.pps"
		echo "$xe" >>"$D/extra"
		[ "$xr" -gt "$rss" ] && rss=$xr
		k=$xk
	done
	read -r e emin emax <<<"$(stats <"$D/e.pps")"
	read -r h _ _ <<<"$(grep . "$D/h.pps" | stats)"
	if [ "$dir" = tx ]; then	# delivered to the peer's socket, of n + warm-up
		extra="$(calc "sprintf(\"%.1f%%\", 100 * $(stats <"$D/extra" | cut -d' ' -f2) / ($n + int($n / 10)))") delivered"
	else				# the peer offered more than the guest took
		extra="peer sent $(stats <"$D/extra" | cut -d' ' -f1)"
	fi
	[ -n "$HNS" ] || h="n/a"
	printf '| %-26s | %9.0f | %9.0f | %9.0f | %7.2f | %-22s | %6.3f | %6.2f | %9s | %6s |\n' \
		"$name" "$e" "$emin" "$emax" "$(calc "$e * $size * 8 / 1e9")" "$extra" \
		"$(calc "$k / $n")" "$(calc "$rss / 1024")" "$h" "$(pct "$e" "$h")"
}

net_bench() {
	local old_trap rtt hrtt
	echo
	echo "### virtio-net: guest 10.0.2.2 <-> peer 10.0.2.1 on a TAP in a network namespace"
	if ! command -v ip >/dev/null; then
		echo "(skipped: no 'ip' command)"
		return
	fi
	if [ ! -c /dev/net/tun ] || [ ! -w /dev/net/tun ]; then
		echo "(skipped: /dev/net/tun missing or not writable)"
		return
	fi
	NS=ember-bench-$$
	TAP=ebt$$
	old_trap=$(trap -p EXIT)
	trap 'net_cleanup; virtio_cleanup' EXIT
	if ! { ip netns add "$NS" && ip -n "$NS" tuntap add dev "$TAP" mode tap &&
		ip -n "$NS" addr add 10.0.2.1/24 dev "$TAP" &&
		ip -n "$NS" link set "$TAP" up && ip -n "$NS" link set lo up &&
		ip -n "$NS" neigh add 10.0.2.2 lladdr 52:54:00:12:34:56 dev "$TAP"; } 2>"$D/ns.err"; then
		echo "(skipped: cannot set up the namespace: $(head -n1 "$D/ns.err"))"
		net_cleanup
		eval "$old_trap"
		return
	fi
	PEERMAC=$(ip netns exec "$NS" cat "/sys/class/net/$TAP/address")
	echo "UDP to port 9000; frame sizes include the Ethernet header; 256 buffers in flight; exits/pkt = guest kicks"
	if host_ref; then
		echo "host pkt/s: the same helper sending to a sink in one more namespace over a veth"
		echo "pair, $SECS s, alternating with ember's runs (median of $R); ember/host = ember's"
		echo "packets/s over it"
	else
		echo "(no veth pair between namespaces here: no host reference)"
	fi
	echo "| direction, frame           | packets/s | min       | max       | Gbit/s  | delivered              | exits/pkt | peak RSS MiB | host pkt/s | ember/host |"
	echo "|----------------------------|-----------|-----------|-----------|---------|------------------------|--------|--------|-----------|--------|"
	net_row "guest -> peer, 1514 B" tx 1514 20000
	net_row "guest -> peer, 60 B" tx 60 20000
	net_row "peer -> guest, 1514 B" rx 1514 20000
	echo
	: >"$D/netout"
	net_ember echo ""
	if net_wait_line "vbench: ready"; then
		rtt=$(ip netns exec "$NS" "$H" rtt 10.0.2.2 9000 5000 64)
	fi
	net_finish
	echo "round trip, UDP 64 B payload, one in flight, 5000 times: ${rtt:-failed} (peak RSS $(calc "sprintf(\"%.2f\", $(cat "$D/rss") / 1024)") MiB)"
	hrtt=$(host_rtt)
	if [ -n "$hrtt" ]; then
		echo "the same between two namespaces over a veth pair (host only): $hrtt;" \
			"ember/host (medians): $(ratio "$(echo "$rtt" | awk '{ print $3 }')" "$(echo "$hrtt" | awk '{ print $3 }')")"
	else
		echo "(no host reference for the round trip)"
	fi
	net_cleanup
	eval "$old_trap"
}

case $WHICH in
blk) blk_bench ;;
net) net_bench ;;
*) blk_bench; net_bench ;;
esac
echo
echo "(load average at the end: $(cut -d' ' -f1-3 /proc/loadavg))"
exit 0
