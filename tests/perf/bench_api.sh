#!/usr/bin/env bash
# ember's Firecracker-compatible API (`ember --api-sock`, issue 10), timed
# by apitime.c, a small C client (curl's own start, tens of ms in the L1
# lane, would drown what is measured):
#  1. process start -> API socket ready: wall time, and ember's CPU time at
#     that moment (the sum over its threads of /proc/PID/task/*/schedstat's
#     first field, exact ns on the CPU; /proc/PID/stat's utime+stime is
#     printed beside it in 10 ms ticks).  "Ready" is ember's stderr line
#     "API: serving on" (EMBER_LOG=info), and, to compare with peers that
#     print nothing, the first GET / answered while polling connect every
#     1 ms.  Peers: QEMU microvm (-S, its QMP greeting, polled alike) and
#     the raw-KVM floor program run to its exit.  Firecracker is not
#     packaged in Debian: measured only when a `firecracker` that is not
#     ember is on PATH.
#  2. GET / latency: sequential requests, a new connection each (apitime
#     get), and 100 clients at once (apitime many: 100 connections, 100
#     requests, every answer awaited); the same with curl (one process a
#     request, --write-out time_total; and --parallel --parallel-max 100
#     as t_api.sh, whose wall time includes curl's start).
#  3. InstanceStart sent -> the guest's first line (ember-init's command
#     echoes "bench-up") for the default Linux guest booted through the
#     API, beside `ember run` and QEMU microvm booting the same vmlinux,
#     initramfs and command line to the same line, timed from process start
#     by linetime.c as bench_linux.sh does; `ember run` gets the same vsock
#     device as the API's guest.  The API's times are bash's EPOCHREALTIME
#     when the line is read against apitime's clock; the 3 PUTs and
#     InstanceStart go as an orchestrator sends them, one after the other on
#     one connection (apitime seq), each stamped when sent and when answered.
#     The API's process start -> line is also given less the client's own
#     start (the script reads "serving", then starts apitime: tens of ms of
#     harness in the lane that an orchestrator does not pay).
#  4. vsock through the API-booted guest: 64 MiB host -> guest (Firecracker's
#     "CONNECT 5000" on the vsock socket, zeros, until the guest's EOF),
#     64 MiB guest -> host (vsock-tool from a tmpfs file to the host's
#     uds_6000 listener, accept to EOF), and COUNT round trips of 64 bytes
#     over one connection to an echo made of vsock-tool with its stdin and
#     stdout on one FIFO.  Peer: the same guest and script under QEMU
#     microvm with vhost-vsock-device (the kernel's vhost, the host on
#     AF_VSOCK straight: no Unix-socket hop), when /dev/vhost-vsock exists.
# Rounds interleave ember and its peers, so that load that comes and goes
# weighs on all alike; in the L1 lane only the ratios mean anything.
#
# Env: EMBER, BENCH_OUT (run.sh sets them); N rounds (API_N overrides; 5 in
# the L1 lane, 10 elsewhere); EMBER_KERNEL_DIR as bench_linux.sh.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"
N=${API_N:-${N:-$(lane_default 5 10)}}
SECS=$(lane_default 120 30)	# bound of one boot or transfer
MIB=64 COUNT=100 GETS=100
cc -O2 -Wall -o "$BENCH_OUT/apitime" "$here/apitime.c" || exit 1
cc -O2 -Wall -o "$BENCH_OUT/linetime" "$here/linetime.c" || exit 1
AT=$BENCH_OUT/apitime LT=$BENCH_OUT/linetime
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ember-bench-api.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
HTTP_GET=$'GET / HTTP/1.1\r\nHost: localhost\r\n\r\n'

echo "## Firecracker-compatible API: ember --api-sock ($N rounds)"
qemu=$(command -v qemu-system-x86_64 || true)
fc=$(command -v firecracker || true)
# a `firecracker` that is ember (ember's link of that name) is not one
[ -n "$fc" ] && { [ "$(basename "$(readlink -f "$fc")")" = ember ] ||
	cmp -s "$(readlink -f "$fc")" "$EMBER"; } && fc=""
# shellcheck disable=SC2054 # the commas are QEMU's
QMICRO=(-M microvm,acpi=off,pit=off,pic=off,rtc=off -enable-kvm -cpu host -m 256M -smp 1
	-nodefaults -no-user-config -display none -no-reboot)

# stats FILE: "median min max" of its numbers (or "- - -")
stats() {
	sort -g "$1" | awk 'function f(x) { return sprintf(x >= 1000 ? "%.0f" : "%.4g", x) }
		{ v[NR] = $1 } END {
		if (NR == 0) { print "- - -"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		print f(m), f(v[1]), f(v[NR]) }'
}
med() { stats "$1" | cut -d' ' -f1; }
# row LABEL FILE [REF-FILE]: "| LABEL | med | min | max | med/REF's |"
row() {
	local -a st
	read -r -a st <<<"$(stats "$2")"
	printf '| %-52s | %9s | %9s | %9s | %9s |\n' "$1" "${st[@]}" \
		"$([ -n "${3:-}" ] && ratio "${st[0]}" "$(med "$3")")"
}
# note LABEL TEXT: a row of a peer that did not run
note() { printf '| %-52s | %-53s |\n' "$1" "$2"; }
head5() {
	printf '| %-52s | %9s | %9s | %9s | %9s |\n' "$1" median min max "$2"
	echo "|------------------------------------------------------|-----------|-----------|-----------|-----------|"
}

# ---- 1. process start -> API socket ready ----
for f in e.w e.c e.t p.w p.c q.w q.c f.w f.c k.w k.c; do : >"$tmp/$f"; done
ready() {	# ready OUT-PREFIX HOW CMD...: one apitime ready, appended
	local p=$1 out
	local -a v
	shift
	if out=$("$AT" ready "$SECS" "$@" 2>>"$tmp/ready.err"); then
		read -r -a v <<<"$out"
		echo "${v[0]}" >>"$tmp/$p.w"
		echo "${v[1]}" >>"$tmp/$p.c"
		echo "${v[2]}" >>"$tmp/$p.t"
	fi
	rm -f "$tmp/r.sock"
}
for i in $(seq 0 "$N"); do	# round 0 warms the caches up and is dropped
	[ "$i" = 1 ] && for f in e.w e.c e.t p.w p.c q.w q.c f.w f.c k.w k.c; do : >"$tmp/$f"; done
	EMBER_LOG=info ready e "line:API: serving on" -- "$EMBER" --api-sock "$tmp/r.sock"
	ready p "poll:$tmp/r.sock:$HTTP_GET" -- "$EMBER" --api-sock "$tmp/r.sock"
	[ -n "$qemu" ] && ready q "poll:$tmp/r.sock:" -- "$qemu" "${QMICRO[@]}" -S \
		-qmp "unix:$tmp/r.sock,server=on,wait=off" -kernel "$EXIT_PVH"
	[ -n "$fc" ] && ready f "poll:$tmp/r.sock:$HTTP_GET" -- "$fc" --api-sock "$tmp/r.sock"
	if out=$("$AT" run -- "$RAWKVM"); then
		echo "${out% *}" >>"$tmp/k.w"
		echo "${out#* }" >>"$tmp/k.c"
	fi
done
echo
echo "### 1. process start -> API socket ready (ms; $N interleaved rounds after 1 warm-up)"
head5 "what" "/ floor"
row "ember: wall to its 'API: serving on' line" "$tmp/e.w" "$tmp/k.w"
row "ember: CPU at that line (schedstat, all threads)" "$tmp/e.c" "$tmp/k.c"
row "ember: CPU at that line (utime+stime, 10 ms ticks)" "$tmp/e.t"
row "ember: wall to a first GET / answered (1 ms polls)" "$tmp/p.w" "$tmp/k.w"
row "ember: CPU then (schedstat)" "$tmp/p.c" "$tmp/k.c"
if [ -n "$qemu" ]; then
	row "QEMU microvm -S: wall to its QMP greeting (polls)" "$tmp/q.w" "$tmp/k.w"
	row "QEMU microvm -S: CPU then (schedstat)" "$tmp/q.c" "$tmp/k.c"
else
	note "QEMU microvm -S, QMP socket" "not installed (Debian: qemu-system-x86)"
fi
if [ -n "$fc" ]; then
	row "Firecracker: wall to a first GET / answered" "$tmp/f.w" "$tmp/k.w"
	row "Firecracker: CPU then (schedstat)" "$tmp/f.c" "$tmp/k.c"
else
	note "Firecracker" "not installed (not packaged in Debian)"
fi
row "$FLOOR: wall, start to exit" "$tmp/k.w"
row "$FLOOR: CPU (getrusage)" "$tmp/k.c"
[ -s "$tmp/ready.err" ] && sed 's/^/    /' "$tmp/ready.err" | sort | uniq -c
echo
echo "ember's CPU to ready: median $(med "$tmp/e.c") ms (issue 10's target: 8 ms on" \
	"hardware; $(ratio "$(med "$tmp/e.c")" "$(med "$tmp/k.c")") the floor's whole CPU here);" \
	"ember / QEMU to serving (polled alike): $(ratio "$(med "$tmp/p.w")" "$(med "$tmp/q.w")") wall," \
	"$(ratio "$(med "$tmp/p.c")" "$(med "$tmp/q.c")") CPU"

# ---- ember in API mode in the background, its console read by the script ----
# api_start DIR: ember --api-sock DIR/s; fds api_o (console) api_e (stderr);
# false if it ends before serving
api_start() {
	local d=$1 line end=$((SECONDS + SECS))
	mkdir -p "$d"
	rm -f "$d/o" "$d/e" "$d/s"
	mkfifo "$d/o" "$d/e"
	api_t0=$EPOCHREALTIME
	EMBER_LOG=info "$EMBER" --api-sock "$d/s" </dev/null >"$d/o" 2>"$d/e" &
	api_pid=$!
	exec {api_o}<"$d/o" {api_e}<"$d/e"
	while [ $SECONDS -lt $end ] && IFS= read -r -t $((end - SECONDS)) -u "$api_e" line; do
		printf '%s\n' "$line" >>"$d/err"
		if [[ $line == *"API: serving on"* ]]; then
			cat <&"$api_e" >>"$d/err" &
			api_ecat=$!
			return 0
		fi
	done
	cat <&"$api_e" >>"$d/err" &
	api_ecat=$!
	return 1
}
# api_line DIR TEXT: reads the console until a line is TEXT; api_t is when
api_line() {
	local line end=$((SECONDS + SECS))
	while [ $SECONDS -lt $end ] && IFS= read -r -t $((end - SECONDS)) -u "$api_o" line; do
		line=${line%$'\r'}
		api_t=$EPOCHREALTIME
		printf '%s\n' "$line" >>"$1/out"
		[ "$line" = "$2" ] && return 0
	done
	return 1
}
api_end() {
	kill -TERM "$api_pid" 2>/dev/null
	cat <&"$api_o" >>"$1/out"
	wait "$api_pid"
	wait "$api_ecat"
	exec {api_o}<&- {api_e}<&-
}
# ms_between A B: B - A in ms, each a stamp in s (EPOCHREALTIME) or in us (apitime req)
ms_between() {
	awk -v a="$1" -v b="$2" 'function us(x) { return x ~ /\./ ? x * 1e6 : x + 0 }
		BEGIN { printf "%.1f\n", (us(b) - us(a)) / 1e3 }'
}
b64cmd() { printf 'sh\0-c\0%s\0' "$1" | base64 -w0 | tr '+/' '-_' | tr -d '='; }

# ---- 2. GET / latency, on an ember that is not started ----
for f in g1 g1c gm gmt c1 cm cmt; do : >"$tmp/$f"; done
cfg=$tmp/curl.cfg
for ((i = 0; i < 100; i++)); do printf 'url = "http://localhost/"\noutput = "/dev/null"\n'; done >"$cfg"
if api_start "$tmp/g"; then
	s=$tmp/g/s
	"$AT" get "$s" 3 >/dev/null	# warm-up
	for _ in $(seq "$N"); do
		"$AT" get "$s" "$GETS" >>"$tmp/g1"
		"$AT" many "$s" 100 >"$tmp/m"
		grep -v total "$tmp/m" >>"$tmp/gm"
		awk '$1 == "total" { print $2 }' "$tmp/m" >>"$tmp/gmt"
		for ((i = 0; i < 10; i++)); do
			t=$EPOCHREALTIME
			curl -s -o /dev/null -w '%{time_total}\n' --unix-socket "$s" http://localhost/ |
				awk '{ printf "%.3f\n", $1 * 1e3 }' >>"$tmp/c1"
			ms_between "$t" "$EPOCHREALTIME" >>"$tmp/c1c"
		done
		t=$EPOCHREALTIME
		curl -s --parallel --parallel-immediate --parallel-max 100 --unix-socket "$s" \
			-w '%{time_total}\n' -K "$cfg" 2>/dev/null | awk '{ printf "%.3f\n", $1 * 1e3 }' >>"$tmp/cm"
		ms_between "$t" "$EPOCHREALTIME" >>"$tmp/cmt"
	done
	api_end "$tmp/g"
	echo
	echo "### 2. GET / latency, ember not started (ms)"
	head5 "what" ""
	row "apitime, 1 client: per request ($GETS x $N, new conn.)" "$tmp/g1"
	row "apitime, 100 clients at once: per client" "$tmp/gm"
	row "apitime, 100 clients at once: all answered" "$tmp/gmt"
	row "curl, 1 process a request: its time_total (10 x $N)" "$tmp/c1"
	row "curl, 1 process a request: process wall" "$tmp/c1c"
	row "curl --parallel-max 100: per transfer time_total" "$tmp/cm"
	row "curl --parallel-max 100: process wall, 100 requests" "$tmp/cmt"
	echo "(ember serves at most 16 connections at once; the others wait in the listen backlog)"
else
	echo "(GET / latency: ember did not serve: $(tail -n 2 "$tmp/g/err"))"
fi

# ---- 3 and 4: the default Linux guest, through the API and beside it ----
cache=${EMBER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ember}
gdir=${EMBER_KERNEL_DIR:-$cache/default}
if [ ! -s "$gdir/vmlinux" ] || [ ! -s "$gdir/initramfs.cpio.gz" ]; then
	echo
	echo "(Linux through the API: skipped, no default guest in $gdir: make guest-kernel)"
	exit 0
fi
if [ -e /sys/module/kvm_pvm ] || ! grep -qwE 'vmx|svm' /proc/cpuinfo; then
	echo
	echo "(Linux through the API: skipped, no hardware-backed KVM here: Linux cannot reach init)"
	exit 0
fi
export EMBER_KERNEL_DIR=$gdir
vmlinux=$(readlink -f "$gdir/vmlinux")
initrd=$(readlink -f "$gdir/initramfs.cpio.gz")
CMDLINE="console=ttyS0 reboot=k panic=-1 quiet"	# the default guest's (monitor/monitor.h)
UP=bench-up
# the guest: the marker; 64 MiB to the host's port 5000 listener... in order:
# receive on 5000, send to the host's 6000, then echo on 5001 until the end
script="echo $UP; head -c $((MIB << 20)) /dev/zero >/tmp/d &&
vsock-tool -r listen 5000 >/dev/null && vsock-tool connect 2 6000 </tmp/d && rm /tmp/d &&
mkfifo /tmp/p && vsock-tool listen 5001 <>/tmp/p >&0"
cmd=$(b64cmd "$script")
upcmd=$(b64cmd "echo $UP")
for f in a.start a.proc a.resp a.puts a.serve a.own r.proc q.proc h2g g2h rtt q.h2g q.g2h q.rtt; do
	: >"$tmp/$f"
done
errs=""
# vsock_round DIR UDS PREFIX: the guest's three vsock steps (the host's
# listener on 6000 running as rpid), results appended to PREFIX{h2g,g2h,rtt}
vsock_round() {
	local d=$1 uds=$2 p=$3
	if api_line "$d" listening && "$AT" send "$uds" 5000 "$MIB" >"$d/h2g" 2>>"$d/err"; then
		cut -d' ' -f2 "$d/h2g" >>"$tmp/${p}h2g"
	else
		errs+="$p host -> guest failed: $(tail -n 1 "$d/err")"$'\n'
	fi
	# the guest connects to 6000 once its 5000 is done
	if wait "$rpid" && [ "$(cut -d' ' -f3 "$d/g2h")" = $((MIB << 20)) ]; then
		cut -d' ' -f2 "$d/g2h" >>"$tmp/${p}g2h"
	else
		errs+="$p guest -> host failed: '$(cat "$d/g2h")' $(tail -n 1 "$d/err")"$'\n'
	fi
	api_line "$d" listening && "$AT" ping "$uds" 5001 "$COUNT" 64 >>"$tmp/${p}rtt" 2>>"$d/err" ||
		errs+="$p ping-pong failed: $(tail -n 1 "$d/err")"$'\n'
}
# the same guest under QEMU microvm with vhost-vsock (guest CID 42), the
# host on AF_VSOCK
qemu_vsock() {
	local d=$tmp/qv
	rm -rf "$d"
	mkdir -p "$d"
	mkfifo "$d/o"
	"$AT" recv vsock:6000 >"$d/g2h" 2>>"$d/err" &
	rpid=$!
	"$qemu" "${QMICRO[@]}" -serial stdio -device vhost-vsock-device,guest-cid=42 \
		-kernel "$vmlinux" -initrd "$initrd" -append "$CMDLINE ember.cmd=$cmd" \
		</dev/null >"$d/o" 2>>"$d/err" &
	api_pid=$!
	exec {api_o}<"$d/o" {api_e}</dev/null
	true &
	api_ecat=$!
	if api_line "$d" "$UP"; then
		vsock_round "$d" vsock:42 q.
	else
		errs+="QEMU with vhost-vsock did not boot: $(tail -n 2 "$d/err" | tr '\n' ' ')"$'\n'
	fi
	kill "$rpid" 2>/dev/null
	api_end "$d"
}
for _ in $(seq "$N"); do
	d=$tmp/a
	rm -rf "$d"
	if ! api_start "$d"; then
		api_end "$d"
		errs+="ember --api-sock did not serve: $(tail -n 1 "$d/err")"$'\n'
		continue
	fi
	t_serve=$EPOCHREALTIME
	s=$d/s
	"$AT" recv "$d/v_6000" >"$d/g2h" 2>>"$d/err" &
	rpid=$!
	ok=1
	# "SENT STATUS ANSWERED" a request (apitime seq)
	"$AT" seq "$s" PUT /machine-config '{"vcpu_count":1,"mem_size_mib":256}' \
		PUT /boot-source "{\"kernel_image_path\":\"$vmlinux\",\"initrd_path\":\"$initrd\",\"boot_args\":\"$CMDLINE ember.cmd=$cmd\"}" \
		PUT /vsock "{\"guest_cid\":3,\"uds_path\":\"$d/v\"}" \
		PUT /actions '{"action_type":"InstanceStart"}' >"$d/seq" 2>>"$d/err" || ok=0
	read -r -a put1 <"$d/seq"
	read -r -a start < <(tail -n 1 "$d/seq")
	if [ $ok = 1 ] && api_line "$d" "$UP"; then
		ms_between "${start[0]}" "$api_t" >>"$tmp/a.start"
		ms_between "$api_t0" "$api_t" >>"$tmp/a.proc"
		ms_between "${start[0]}" "${start[2]}" >>"$tmp/a.resp"
		ms_between "${put1[0]}" "${start[0]}" >>"$tmp/a.puts"
		ms_between "$api_t0" "$t_serve" >>"$tmp/a.serve"
		# less the client's start: the script's "serving" read -> the first PUT sent
		awk -v p="$(ms_between "$api_t0" "$api_t")" -v c="$(ms_between "$t_serve" "${put1[0]}")" \
			'BEGIN { printf "%.1f\n", p - c }' >>"$tmp/a.own"
		vsock_round "$d" "$d/v" ""
	else
		errs+="the API boot failed: $(tail -n 2 "$d/err" | tr '\n' ' ')"$'\n'
	fi
	kill "$rpid" 2>/dev/null
	api_end "$d"
	# ember run (the same vsock device), then QEMU, to the same line
	rm -f "$tmp/rv"
	"$LT" "$SECS" "$UP" -- "$EMBER" run --kernel default --mem 256M --console stdio \
		--vsock "cid=3,uds=$tmp/rv" -- sh -c "echo $UP" >"$tmp/out" 2>"$tmp/err" </dev/null
	awk -v u="$UP" '$2 == u { print $1; exit }' "$tmp/out" >>"$tmp/r.proc"
	[ -n "$qemu" ] || continue
	"$LT" "$SECS" "$UP" -- "$qemu" "${QMICRO[@]}" -serial stdio -kernel "$vmlinux" -initrd "$initrd" \
		-append "$CMDLINE ember.cmd=$upcmd" >"$tmp/out" 2>"$tmp/err" </dev/null
	awk -v u="$UP" '$2 == u { print $1; exit }' "$tmp/out" >>"$tmp/q.proc"
	[ -c /dev/vhost-vsock ] && qemu_vsock
done
echo
echo "### 3. default Linux guest to its command's first line (ms; $N rounds)"
head5 "what" "/ QEMU"
QREF=""
[ -n "$qemu" ] && QREF=$tmp/q.proc
row "API: InstanceStart sent -> the line" "$tmp/a.start" "$QREF"
row "API: InstanceStart sent -> its 204 (the VM built)" "$tmp/a.resp"
row "API: process start -> 'serving' read by the script" "$tmp/a.serve"
row "API: 3 PUTs, first sent -> InstanceStart sent" "$tmp/a.puts"
row "API: process start -> the line (3 PUTs between)" "$tmp/a.proc" "$QREF"
row "API: the same, less the client's start" "$tmp/a.own" "$QREF"
row "ember run: process start -> the line (+ vsock)" "$tmp/r.proc" "$QREF"
if [ -n "$qemu" ]; then
	row "QEMU microvm: process start -> the line" "$tmp/q.proc" "$QREF"
else
	note "QEMU microvm" "not installed (Debian: qemu-system-x86)"
fi
if [ -n "$fc" ]; then
	note "Firecracker" "installed, not run: its guest needs its own kernel config"
else
	note "Firecracker" "not installed (not packaged in Debian)"
fi
echo "API's process start -> line / ember run's: $(ratio "$(med "$tmp/a.proc")" "$(med "$tmp/r.proc")");" \
	"less the client's start: $(ratio "$(med "$tmp/a.own")" "$(med "$tmp/r.proc")");" \
	"InstanceStart sent -> line / ember run's process start -> line:" \
	"$(ratio "$(med "$tmp/a.start")" "$(med "$tmp/r.proc")")"
echo
echo "### 4. vsock, the API-booted guest ($MIB MiB a direction; $COUNT x 64 B round trips a round)"
head5 "what" "/ QEMU"
QV=""
[ -s "$tmp/q.h2g" ] && QV=1
row "ember: host -> guest, MiB/s" "$tmp/h2g" "${QV:+$tmp/q.h2g}"
row "ember: guest -> host, MiB/s" "$tmp/g2h" "${QV:+$tmp/q.g2h}"
row "ember: round trip, 64 B, one connection (us)" "$tmp/rtt" "${QV:+$tmp/q.rtt}"
if [ -n "$QV" ]; then
	row "QEMU vhost-vsock: host -> guest, MiB/s" "$tmp/q.h2g" "$tmp/q.h2g"
	row "QEMU vhost-vsock: guest -> host, MiB/s" "$tmp/q.g2h" "$tmp/q.g2h"
	row "QEMU vhost-vsock: round trip, 64 B (us)" "$tmp/q.rtt" "$tmp/q.rtt"
else
	note "QEMU microvm, vhost-vsock-device" "not run (no QEMU or no /dev/vhost-vsock)"
fi
echo "(/ QEMU: ember's median over QEMU's; above 1x is faster for MiB/s, slower for round trips)"
[ -n "$errs" ] && printf '%s' "$errs" | sed 's/^/    /'
for f in a.start r.proc ${qemu:+q.proc} h2g g2h; do
	n=$(wc -l <"$tmp/$f")
	[ "$n" -lt "$N" ] && echo "(only $n of $N runs gave $f)"
done
exit 0
