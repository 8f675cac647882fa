# tests/integration/t_api.sh - `ember --api-sock`: Firecracker's HTTP API
# on a Unix socket, driven with `curl --unix-socket` exactly as
# Firecracker's getting-started guide drives Firecracker.  Every request
# asserts the status code and a piece of the body (the fault_message for
# a 400).  The Linux cases boot the default guest through the API alone,
# pause it, snapshot it, load the snapshot in a new ember and talk to the
# guest over vsock.  Sourced by run.sh (it loads t_linux_hw.sh's helpers).
#
# ember says "API: serving on 'PATH'" on stderr (EMBER_LOG=info) once the
# socket accepts: the cases wait for that line, never for a time.

AP_CASES="api-preboot api-malformed api-many-clients api-cli api-boot-snapshot-load
	api-load-paused api-drive-patch api-config-file api-vsock-timeout"

if ! declare -F lxh_start >/dev/null; then
	ap_pattern=$PATTERN PATTERN=" none "
	. "$HERE/t_linux_hw.sh"
	PATTERN=$ap_pattern
fi

# ap_start DIR EMBER_ARGS...: ember in the background (PID ap_pid), in
# DIR, stdout read by ap_wait/ap_end into DIR/out, stderr into DIR/err;
# returns once it serves (false if it ended first).
ap_start() {
	local dir=$1 line end=$((SECONDS + TIMEOUT))
	shift
	mkdir -p "$dir"
	rm -f "$dir/o.fifo" "$dir/e.fifo"
	mkfifo "$dir/o.fifo" "$dir/e.fifo"
	: >"$dir/out"
	: >"$dir/err"
	(cd "$dir" && exec ${AP_NETNS:+ip netns exec "$AP_NETNS"} timeout -k 5 "$TIMEOUT" \
		env EMBER_LOG=info EMBER_KERNEL_DIR="${LX_DIR:-}" "$EMBER" "$@") \
		</dev/null >"$dir/o.fifo" 2>"$dir/e.fifo" &
	ap_pid=$!
	exec {ap_o}<"$dir/o.fifo" {ap_e}<"$dir/e.fifo"
	while [ $SECONDS -lt $end ] && IFS= read -r -t $((end - SECONDS)) -u "$ap_e" line; do
		printf '%s\n' "$line" >>"$dir/err"
		case $line in *"API: serving on"*)
			cat <&"$ap_e" >>"$dir/err" &
			ap_ecat=$!
			return 0 ;;
		esac
	done
	cat <&"$ap_e" >>"$dir/err" &
	ap_ecat=$!
	return 1
}
# ap_serve NAME DIR WHO [EMBER_ARGS...]: ap_start DIR --api-sock DIR/s
# EMBER_ARGS; when that ember does not serve, ends it and fails case NAME
# ("WHO did not serve"), and is false.
ap_serve() {
	local name=$1 dir=$2 who=$3
	shift 3
	ap_start "$dir" --api-sock "$dir/s" "$@" && return 0
	ap_end "$dir"
	lx_fail "$name" "$who did not serve" "$dir"
	ap_errs=""
	return 1
}
# ap_wait DIR LINE: reads the guest's console until a line is LINE.
ap_wait() {
	local line end=$((SECONDS + TIMEOUT))
	while [ $SECONDS -lt $end ] && IFS= read -r -t $((end - SECONDS)) -u "$ap_o" line; do
		line=${line%$'\r'}
		printf '%s\n' "$line" >>"$1/out"
		[ "$line" = "$2" ] && return 0
	done
	return 1
}
# ap_end DIR [SIGNAL]: (signals ember, then) reads the rest of its output
# until it ends; its status in ap_rc.
ap_end() {
	[ -n "${2:-}" ] && kill "-$2" "$(pgrep -P "$ap_pid" -x ember)" 2>/dev/null
	tr -d '\r' <&"$ap_o" >>"$1/out"
	wait "$ap_pid"
	ap_rc=$?
	wait "$ap_ecat"
	exec {ap_o}<&- {ap_e}<&-
}

# ap_req SOCK METHOD PATH [BODY]: one request; status in ap_code, body in
# ap_body.
ap_req() {
	local -a data=()
	[ $# -ge 4 ] && data=(-H "Content-Type: application/json" --data-binary "$4")
	ap_body=$(curl -s --max-time "$TIMEOUT" --unix-socket "$1" -X "$2" -w '\n%{http_code}' \
		"${data[@]}" "http://localhost$3")
	ap_code=${ap_body##*$'\n'}
	ap_body=${ap_body%$'\n'*}
}
# ap_ok SOCK CODE WANT METHOD PATH [BODY]: the request must answer CODE
# with WANT in its body (any body when WANT is empty; none for 204);
# mismatches are collected in ap_errs.
ap_errs=""
ap_ok() {
	local sock=$1 code=$2 want=$3
	shift 3
	ap_req "$sock" "$@"
	if [ "$ap_code" != "$code" ]; then
		ap_errs+="$1 $2: got $ap_code '$ap_body', not $code"$'\n'
	elif [ -n "$want" ] && [[ $ap_body != *"$want"* ]]; then
		ap_errs+="$1 $2: $code but '$ap_body' lacks '$want'"$'\n'
	elif [ "$code" = 204 ] && [ -n "$ap_body" ]; then
		ap_errs+="$1 $2: 204 with a body '$ap_body'"$'\n'
	fi
}
ap_verdict() {
	if [ -n "$ap_errs" ]; then
		lx_fail "$1" "$(printf '%s' "$ap_errs" | head -n 8 | tr '\n' ';')" "$2"
	else
		lx_pass "$1"
	fi
	ap_errs=""
}
# the default guest's own command line (monitor/monitor.h)
LINUX_CMDLINE="console=ttyS0 reboot=k panic=-1 quiet"
# ember.cmd's value for sh -c SCRIPT (base64url of "sh\0-c\0SCRIPT\0")
ap_cmd() { printf 'sh\0-c\0%s\0' "$1" | base64 -w0 | tr '+/' '-_' | tr -d '='; }

# every pre-boot endpoint: good, bad body, unknown field, wrong state
ap_preboot() {
	local name=api-preboot dir=$WORK/api-preboot s
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	s=$dir/s
	# its TAP (created by InstanceStart) lives in a namespace of its own
	AP_NETNS=ember-api-$$
	ip netns add "$AP_NETNS" || { lx_fail "$name" "ip netns add failed"; return; }
	if ! ap_start "$dir" --api-sock "$s" --id api-test-1; then
		ap_end "$dir"
		ip netns del "$AP_NETNS"
		unset AP_NETNS
		lx_fail "$name" "ember did not serve" "$dir"
		return
	fi
	: >"$dir/disk"
	ap_ok "$s" 200 '"id":"api-test-1","state":"Not started"' GET /
	ap_ok "$s" 200 '"firecracker_version"' GET /version
	ap_ok "$s" 200 '"mem_size_mib":128' GET /machine-config
	ap_ok "$s" 400 'invalid request method and/or path' GET /nothing
	ap_ok "$s" 400 'a GET request has no body' GET / '{}'
	# boot-source
	ap_ok "$s" 204 '' PUT /boot-source "{\"kernel_image_path\":\"$LX_DIR/vmlinux\",\"boot_args\":\"console=ttyS0\"}"
	ap_ok "$s" 400 'fault_message' PUT /boot-source '{"kernel_image_path":'
	ap_ok "$s" 400 'bogus' PUT /boot-source "{\"kernel_image_path\":\"$LX_DIR/vmlinux\",\"bogus\":1}"
	ap_ok "$s" 400 'no body' PUT /boot-source
	# machine-config
	ap_ok "$s" 204 '' PUT /machine-config '{"vcpu_count":2,"mem_size_mib":256}'
	ap_ok "$s" 400 'vcpu_count' PUT /machine-config '{"vcpu_count":"two","mem_size_mib":256}'
	ap_ok "$s" 400 'vcpu_count' PUT /machine-config '{"vcpu_count":0,"mem_size_mib":256}'
	ap_ok "$s" 400 'wings' PUT /machine-config '{"vcpu_count":1,"mem_size_mib":256,"wings":2}'
	ap_ok "$s" 400 'smt' PUT /machine-config '{"vcpu_count":1,"mem_size_mib":256,"smt":true}'
	ap_ok "$s" 204 '' PATCH /machine-config '{"mem_size_mib":512}'
	ap_ok "$s" 200 '"vcpu_count":2,"mem_size_mib":512' GET /machine-config
	# drives
	ap_ok "$s" 204 '' PUT /drives/data "{\"drive_id\":\"data\",\"path_on_host\":\"$dir/disk\",\"is_root_device\":false,\"is_read_only\":false}"
	ap_ok "$s" 400 "the id in the body ('other')" PUT /drives/data "{\"drive_id\":\"other\",\"path_on_host\":\"$dir/disk\",\"is_root_device\":false}"
	ap_ok "$s" 400 'path_on_host' PUT /drives/d2 '{"drive_id":"d2","is_root_device":false}'
	ap_ok "$s" 400 'colour' PUT /drives/d2 "{\"drive_id\":\"d2\",\"path_on_host\":\"$dir/disk\",\"is_root_device\":false,\"colour\":1}"
	ap_ok "$s" 400 'not allowed before the VM has started' PATCH /drives/data "{\"drive_id\":\"data\",\"path_on_host\":\"$dir/disk\"}"
	# network interfaces
	ap_ok "$s" 204 '' PUT /network-interfaces/eth0 '{"iface_id":"eth0","host_dev_name":"tap-api0","guest_mac":"06:00:ac:10:00:02"}'
	ap_ok "$s" 400 'guest_mac' PUT /network-interfaces/eth1 '{"iface_id":"eth1","host_dev_name":"tap-api1","guest_mac":"zz"}'
	ap_ok "$s" 400 'speed' PUT /network-interfaces/eth1 '{"iface_id":"eth1","host_dev_name":"tap-api1","speed":1}'
	# vsock, entropy, logger, metrics
	ap_ok "$s" 204 '' PUT /vsock "{\"guest_cid\":3,\"uds_path\":\"$dir/v\"}"
	ap_ok "$s" 400 'guest_cid' PUT /vsock "{\"guest_cid\":2,\"uds_path\":\"$dir/v\"}"
	ap_ok "$s" 400 'vsock_id_x' PUT /vsock "{\"guest_cid\":3,\"uds_path\":\"$dir/v\",\"vsock_id_x\":1}"
	ap_ok "$s" 204 '' PUT /entropy '{}'
	ap_ok "$s" 400 'noise' PUT /entropy '{"noise":1}'
	ap_ok "$s" 204 '' PUT /logger "{\"log_path\":\"$dir/log\",\"level\":\"Info\"}"
	ap_ok "$s" 400 'level' PUT /logger '{"level":"Loud"}'
	ap_ok "$s" 204 '' PUT /metrics "{\"metrics_path\":\"$dir/metrics\"}"
	ap_ok "$s" 400 'metrics_path' PUT /metrics '{}'
	# what ember does not have: refused by name
	ap_ok "$s" 400 'balloon' PUT /balloon '{"amount_mib":1,"deflate_on_oom":false}'
	ap_ok "$s" 400 'MMDS' PUT /mmds '{}'
	ap_ok "$s" 400 'CPU templates' PUT /cpu-config '{}'
	# post-boot requests before the start
	ap_ok "$s" 400 'before the VM has started' PATCH /vm '{"state":"Paused"}'
	ap_ok "$s" 400 'before the VM has started' PUT /snapshot/create "{\"snapshot_path\":\"$dir/st\",\"mem_file_path\":\"$dir/mem\"}"
	ap_ok "$s" 400 'before the VM has started' PUT /actions '{"action_type":"FlushMetrics"}'
	ap_ok "$s" 400 'before the VM has started' PUT /actions '{"action_type":"SendCtrlAltDel"}'
	ap_ok "$s" 400 'action_type' PUT /actions '{"action_type":"Explode"}'
	ap_ok "$s" 400 'boot resources' PUT /snapshot/load "{\"snapshot_path\":\"$dir/st\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$dir/mem\"}}"
	# the full configuration, as GET /vm/config shows it
	ap_ok "$s" 200 "\"path_on_host\":\"$dir/disk\"" GET /vm/config
	ap_ok "$s" 200 '"host_dev_name":"tap-api0"' GET /vm/config
	# InstanceStart when the drive's file has gone: 400 naming it, and
	# the VM is still not started
	rm "$dir/disk"
	ap_ok "$s" 400 "$dir/disk" PUT /actions '{"action_type":"InstanceStart"}'
	ap_ok "$s" 200 '"state":"Not started"' GET /
	ap_end "$dir" TERM
	ip netns del "$AP_NETNS"
	unset AP_NETNS
	if [ "$ap_rc" != 143 ]; then
		ap_errs+="SIGTERM before the start: status $ap_rc, not 143"$'\n'
	elif [ -e "$s" ]; then
		ap_errs+="the socket file is still there after ember ended"$'\n'
	fi
	ap_verdict "$name" "$dir"
}

# malformed HTTP: ember answers or closes, and goes on serving
ap_malformed() {
	local name=api-malformed dir=$WORK/api-malformed s resp i big req
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	s=$dir/s
	ap_serve "$name" "$dir" ember || return
	# a truncated header, then the client leaves
	printf 'GET / HTTP/1.1\r\nHost: x\r\n' | timeout "$TIMEOUT" socat -t 1 - "UNIX-CONNECT:$s" >/dev/null
	ap_ok "$s" 200 '"state":"Not started"' GET /
	# garbage request line
	resp=$(printf 'HELLO\r\n\r\n' | timeout "$TIMEOUT" socat -t 5 - "UNIX-CONNECT:$s")
	[[ $resp == "HTTP/1.1 400"* ]] || ap_errs+="garbage request line: '${resp%%$'\r'*}'"$'\n'
	# a method ember does not serve
	ap_ok "$s" 405 '' DELETE /
	# chunked bodies are refused
	resp=$(printf 'PUT /logger HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n' |
		timeout "$TIMEOUT" socat -t 5 - "UNIX-CONNECT:$s")
	[[ $resp == "HTTP/1.1 400"* ]] || ap_errs+="chunked body: '${resp%%$'\r'*}'"$'\n'
	# an oversized body (over 51200 bytes)
	big=$(head -c 60000 /dev/zero | tr '\0' 'a')
	ap_req "$s" PUT /logger "{\"log_path\":\"$big\"}"
	[ "$ap_code" = 400 ] || ap_errs+="a 60000-byte body: $ap_code"$'\n'
	# a slow client (one byte every 0.2 s) holds only its own connection:
	# others are answered meanwhile, and it gets its answer in the end
	{
		req=$'GET / HTTP/1.1\r\n\r\n'
		for ((i = 0; i < ${#req}; i++)); do
			printf '%s' "${req:i:1}"
			sleep 0.2	# the client's pace: the input of the case
		done
	} | timeout "$TIMEOUT" socat -t 5 - "UNIX-CONNECT:$s" >"$dir/slow" &
	ap_ok "$s" 200 '"state":"Not started"' GET /
	wait $!
	grep -q '^HTTP/1.1 200' "$dir/slow" || ap_errs+="the slow client got '$(head -n1 "$dir/slow")'"$'\n'
	ap_ok "$s" 200 '"state":"Not started"' GET /
	ap_end "$dir" TERM
	[ "$ap_rc" = 143 ] || ap_errs+="SIGTERM: status $ap_rc, not 143"$'\n'
	ap_verdict "$name" "$dir"
}

# 100 clients at once: every one is answered
ap_many() {
	local name=api-many-clients dir=$WORK/api-many-clients s i n
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	s=$dir/s
	ap_serve "$name" "$dir" ember || return
	# one curl, 100 connections at once (100 processes would measure how
	# fast the lane starts programs)
	for ((i = 0; i < 100; i++)); do
		printf 'url = "http://localhost/"\noutput = "%s/c%d"\n' "$dir" "$i"
	done >"$dir/curl.cfg"
	curl -s --parallel --parallel-immediate --parallel-max 100 --max-time "$TIMEOUT" \
		--unix-socket "$s" -w '%{http_code}\n' -K "$dir/curl.cfg" >"$dir/codes" 2>"$dir/curl.err"
	n=$(grep -cx 200 "$dir/codes")
	[ "$n" = 100 ] || ap_errs+="$n of 100 clients were answered 200"$'\n'
	ap_ok "$s" 200 '"state":"Not started"' GET /
	ap_end "$dir" TERM
	[ "$ap_rc" = 143 ] || ap_errs+="SIGTERM: status $ap_rc, not 143"$'\n'
	ap_verdict "$name" "$dir"
}

# the command line: Firecracker's options and their errors
ap_cli() {
	local name=api-cli dir=$WORK/api-cli
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	mkdir -p "$dir"
	: >"$dir/taken"
	if "$EMBER" --api-sock "$dir/taken" 2>"$dir/e1"; then
		ap_errs+="a socket path that exists was taken"$'\n'
	fi
	"$EMBER" --no-api 2>"$dir/e2"; [ $? = 2 ] && grep -q -- "--no-api needs --config-file" "$dir/e2" ||
		ap_errs+="--no-api alone: $(cat "$dir/e2")"$'\n'
	"$EMBER" --api-sock "$dir/s" --mmds-size-limit 10 2>"$dir/e3"; [ $? = 2 ] && grep -q "no MMDS" "$dir/e3" ||
		ap_errs+="--mmds-size-limit: $(cat "$dir/e3")"$'\n'
	"$EMBER" --api-sock "$dir/s" --id 'bad id' 2>"$dir/e4"; [ $? = 2 ] && grep -q -- "--id" "$dir/e4" ||
		ap_errs+="--id 'bad id': $(cat "$dir/e4")"$'\n'
	echo '{"boot-source":{"kernel_image_path":"/nonexistent"},"balloon":{}}' >"$dir/c.json"
	"$EMBER" --no-api --config-file "$dir/c.json" 2>"$dir/e5"; [ $? = 2 ] && grep -q "balloon" "$dir/e5" ||
		ap_errs+="a config file with a balloon: $(cat "$dir/e5")"$'\n'
	ln -sf "$EMBER" "$dir/firecracker"
	"$dir/firecracker" --version >"$dir/v" 2>&1 && grep -q "Firecracker v" "$dir/v" ||
		ap_errs+="firecracker --version: $(cat "$dir/v")"$'\n'
	[ -e "$dir/s" ] && ap_errs+="a refused command line left its socket"$'\n'
	ap_verdict "$name" "$dir"
}

# Boots the Linux guest through the API into DIR/a (socket DIR/a/s, vsock
# DIR/v), with track_dirty_pages TRACK (true/false): the guest answers
# "answer N" to each vsock connection on 5000.
ap_boot() {
	local dir=$1 s=$1/a/s cmd track=$2
	cmd=$(ap_cmd 'n=0; while :; do n=$((n+1)); echo "answer $n" | vsock-tool listen 5000 && echo; done')
	ap_start "$dir/a" --api-sock "$s" || return 1
	ap_ok "$s" 204 '' PUT /machine-config "{\"vcpu_count\":1,\"mem_size_mib\":256,\"track_dirty_pages\":$track}"
	ap_ok "$s" 204 '' PUT /boot-source "{\"kernel_image_path\":\"$LX_DIR/vmlinux\",\"initrd_path\":\"$LX_DIR/initramfs.cpio.gz\",\"boot_args\":\"$LINUX_CMDLINE ember.cmd=$cmd\"}"
	ap_ok "$s" 204 '' PUT /vsock "{\"guest_cid\":3,\"uds_path\":\"$dir/v\"}"
	ap_ok "$s" 204 '' PUT /actions '{"action_type":"InstanceStart"}'
	ap_ok "$s" 200 '"state":"Running"' GET /
	ap_wait "$dir/a" listening
}
# ap_booted NAME DIR TRACK: ap_boot DIR TRACK; when the guest never
# listens, ends that ember and fails case NAME, and is false.
ap_booted() {
	ap_boot "$2" "$3" && return 0
	ap_end "$2/a" TERM
	lx_fail "$1" "the guest never listened on vsock: $ap_errs" "$2/a"
	ap_errs=""
	return 1
}
# ap_talk UDS OUT: one connection to the guest's port 5000; true when
# the answer is "OK <port>" then "answer N".
ap_talk() {
	printf 'CONNECT 5000\nhello\n' | timeout "$TIMEOUT" socat -t 30 - "UNIX-CONNECT:$1" >"$2" 2>&1
	head -n1 "$2" | grep -qx 'OK [0-9]*' && sed -n 2p "$2" | grep -qx 'answer [0-9]*'
}

ap_boot_snapshot_load() {
	local name=api-boot-snapshot-load dir=$WORK/api-boot-snapshot-load s
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	mkdir -p "$dir/a" "$dir/b"
	s=$dir/a/s
	ap_booted "$name" "$dir" true || return
	ap_talk "$dir/v" "$dir/t1" || ap_errs+="vsock before the snapshot: '$(tr '\n' ' ' <"$dir/t1")'"$'\n'
	ap_wait "$dir/a" listening
	# post-boot rules
	ap_ok "$s" 400 'after the VM has started' PUT /boot-source "{\"kernel_image_path\":\"$LX_DIR/vmlinux\"}"
	ap_ok "$s" 400 'hot-plug' PUT /drives/x "{\"drive_id\":\"x\",\"path_on_host\":\"$dir/t1\",\"is_root_device\":false}"
	ap_ok "$s" 400 'after the VM has started' PUT /actions '{"action_type":"InstanceStart"}'
	ap_ok "$s" 400 'must be paused' PUT /snapshot/create "{\"snapshot_path\":\"$dir/st\",\"mem_file_path\":\"$dir/mem\"}"
	ap_ok "$s" 400 'state' PATCH /vm '{"state":"Asleep"}'
	ap_ok "$s" 200 '"vcpu_count":1,"mem_size_mib":256' GET /machine-config
	# pause, snapshot, resume: the guest still answers
	ap_ok "$s" 204 '' PATCH /vm '{"state":"Paused"}'
	ap_ok "$s" 204 '' PATCH /vm '{"state":"Paused"}'
	ap_ok "$s" 200 '"state":"Paused"' GET /
	ap_ok "$s" 204 '' PUT /snapshot/create "{\"snapshot_type\":\"Full\",\"snapshot_path\":\"$dir/st\",\"mem_file_path\":\"$dir/mem\"}"
	[ "$(stat -c %s "$dir/mem" 2>/dev/null)" = $((256 << 20)) ] ||
		ap_errs+="the memory file is not 256 MiB: $(ls -l "$dir/mem" 2>&1)"$'\n'
	ap_ok "$s" 204 '' PATCH /vm '{"state":"Resumed"}'
	ap_ok "$s" 200 '"state":"Running"' GET /
	ap_talk "$dir/v" "$dir/t2" || ap_errs+="vsock after resuming: '$(tr '\n' ' ' <"$dir/t2")'"$'\n'
	ap_wait "$dir/a" listening
	# a Diff: only what the guest wrote since, merged over the Full one
	ap_ok "$s" 204 '' PATCH /vm '{"state":"Paused"}'
	ap_ok "$s" 204 '' PUT /snapshot/create "{\"snapshot_type\":\"Diff\",\"snapshot_path\":\"$dir/st2\",\"mem_file_path\":\"$dir/mem2\"}"
	if [ "$(stat -c %s "$dir/mem2" 2>/dev/null)" != $((256 << 20)) ] ||
		[ "$(du -k "$dir/mem2" | cut -f1)" -ge "$(du -k "$dir/mem" | cut -f1)" ]; then
		ap_errs+="the Diff memory file is not a sparse 256 MiB smaller than the Full: $(du -k "$dir/mem" "$dir/mem2" | tr '\n' ' ')"$'\n'
	fi
	cp --sparse=always "$dir/mem" "$dir/merged"
	"$EMBER" rebase-snap --base-file "$dir/merged" --diff-file "$dir/mem2" 2>>"$dir/a/err" ||
		ap_errs+="rebase-snap failed"$'\n'
	# Ctrl-Alt-Del: the guest reboots, and ember ends with status 0
	ap_ok "$s" 204 '' PATCH /vm '{"state":"Resumed"}'
	ap_ok "$s" 204 '' PUT /actions '{"action_type":"SendCtrlAltDel"}'
	ap_end "$dir/a"
	[ "$ap_rc" = 0 ] || ap_errs+="SendCtrlAltDel: the first ember ended with status $ap_rc, not 0"$'\n'
	[ -e "$dir/v" ] && ap_errs+="the first ember left its vsock socket"$'\n'
	if [ -n "$ap_errs" ]; then	# with the first ember's output
		ap_verdict "$name" "$dir/a"
		return
	fi
	# a new ember loads it and runs it at once (resume_vm)
	s=$dir/b/s
	ap_serve "$name" "$dir/b" "the second ember" || return
	ap_ok "$s" 400 'memory' PUT /snapshot/load "{\"snapshot_path\":\"$dir/st\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$dir/nonexistent\"},\"resume_vm\":true}"
	ap_ok "$s" 200 '"state":"Not started"' GET /
	ap_ok "$s" 204 '' PUT /snapshot/load "{\"snapshot_path\":\"$dir/st2\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$dir/merged\"},\"resume_vm\":true,\"vsock_override\":{\"uds_path\":\"$dir/v2\"}}"
	ap_ok "$s" 200 '"state":"Running"' GET /
	ap_ok "$s" 400 'after the VM has started' PUT /snapshot/load "{\"snapshot_path\":\"$dir/st\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$dir/mem\"}}"
	ap_talk "$dir/v2" "$dir/t3" || ap_errs+="vsock after the load: '$(tr '\n' ' ' <"$dir/t3")'"$'\n'
	sed -n 2p "$dir/t3" | grep -qx 'answer 3' ||
		ap_errs+="the loaded guest is not the Diff's (answer 3): '$(tr '\n' ' ' <"$dir/t3")'"$'\n'
	ap_end "$dir/b" TERM
	[ "$ap_rc" = 143 ] || ap_errs+="SIGTERM of the loaded ember: status $ap_rc, not 143"$'\n'
	ap_verdict "$name" "$dir/b"
}

# a load without resume_vm stays paused (no vCPU runs) until PATCH /vm
ap_load_paused() {
	local name=api-load-paused dir=$WORK/api-load-paused s
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	mkdir -p "$dir/a" "$dir/b"
	ap_booted "$name" "$dir" false || return
	s=$dir/a/s
	ap_ok "$s" 204 '' PATCH /vm '{"state":"Paused"}'
	ap_ok "$s" 400 'track_dirty_pages' PUT /snapshot/create "{\"snapshot_type\":\"Diff\",\"snapshot_path\":\"$dir/st\",\"mem_file_path\":\"$dir/mem\"}"
	ap_ok "$s" 204 '' PUT /snapshot/create "{\"snapshot_path\":\"$dir/st\",\"mem_file_path\":\"$dir/mem\"}"
	ap_end "$dir/a" TERM
	s=$dir/b/s
	ap_serve "$name" "$dir/b" "the second ember" || return
	ap_ok "$s" 204 '' PUT /snapshot/load "{\"snapshot_path\":\"$dir/st\",\"mem_backend\":{\"backend_type\":\"File\",\"backend_path\":\"$dir/mem\"},\"vsock_override\":{\"uds_path\":\"$dir/v2\"}}"
	ap_ok "$s" 200 '"state":"Paused"' GET /
	ap_ok "$s" 200 '"vcpu_count":1,"mem_size_mib":256' GET /machine-config
	ap_ok "$s" 400 "snapshot_type 'Bogus'" PUT /snapshot/create "{\"snapshot_path\":\"$dir/st2\",\"mem_file_path\":\"$dir/mem2\",\"snapshot_type\":\"Bogus\"}"
	ap_ok "$s" 204 '' PATCH /vm '{"state":"Resumed"}'
	ap_ok "$s" 200 '"state":"Running"' GET /
	ap_talk "$dir/v2" "$dir/t3" || ap_errs+="vsock after the resume: '$(tr '\n' ' ' <"$dir/t3")'"$'\n'
	ap_end "$dir/b" TERM
	[ "$ap_rc" = 143 ] || ap_errs+="SIGTERM of the loaded ember: status $ap_rc, not 143"$'\n'
	ap_verdict "$name" "$dir/b"
}

# PATCH /drives/{id} on a running VM: a new file (the guest sees its new
# size and contents), new limits, and a file that cannot be opened
ap_drive_patch() {
	local name=api-drive-patch dir=$WORK/api-drive-patch s cmd
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	mkdir -p "$dir/a"
	s=$dir/a/s
	{ printf AAAA; head -c $((1024 * 1024 - 4)) /dev/zero; } >"$dir/d1"
	{ printf BBBB; head -c $((2048 * 1024 - 4)) /dev/zero; } >"$dir/d2"
	# the guest reads its disk, waits for the host's word on vsock, reads
	# again; its driver sees a write cache to flush (cache_type Unsafe:
	# ember offers FLUSH whatever the cache_type, api/README.md)
	cmd=$(ap_cmd 'cat /sys/block/vda/queue/write_cache /sys/block/vda/size; head -c 4 /dev/vda; echo
		vsock-tool -r listen 5000 >/dev/null
		echo 3 >/proc/sys/vm/drop_caches; cat /sys/block/vda/size; head -c 4 /dev/vda; echo; echo done')
	ap_serve "$name" "$dir/a" ember || return
	ap_ok "$s" 204 '' PUT /machine-config '{"vcpu_count":1,"mem_size_mib":256}'
	ap_ok "$s" 204 '' PUT /boot-source "{\"kernel_image_path\":\"$LX_DIR/vmlinux\",\"initrd_path\":\"$LX_DIR/initramfs.cpio.gz\",\"boot_args\":\"$LINUX_CMDLINE ember.cmd=$cmd\"}"
	ap_ok "$s" 204 '' PUT /drives/data "{\"drive_id\":\"data\",\"path_on_host\":\"$dir/d1\",\"is_root_device\":false,\"is_read_only\":false,\"cache_type\":\"Unsafe\",\"io_engine\":\"Async\"}"
	ap_ok "$s" 204 '' PUT /vsock "{\"guest_cid\":3,\"uds_path\":\"$dir/v\"}"
	ap_ok "$s" 204 '' PUT /metrics "{\"metrics_path\":\"$dir/metrics\"}"
	ap_ok "$s" 204 '' PUT /actions '{"action_type":"InstanceStart"}'
	if ! ap_wait "$dir/a" listening; then
		ap_end "$dir/a" TERM
		lx_fail "$name" "the guest never listened: $ap_errs" "$dir/a"
		ap_errs=""
		return
	fi
	# FlushMetrics: one line now, the guest's reads of its disk in it
	ap_ok "$s" 204 '' PUT /actions '{"action_type":"FlushMetrics"}'
	grep -q '"utc_timestamp_ms"' "$dir/metrics" && grep -q '"block_data"' "$dir/metrics" ||
		ap_errs+="FlushMetrics wrote no line with the drive: '$(head -c 300 "$dir/metrics")'"$'\n'
	ap_ok "$s" 400 "$dir/none" PATCH /drives/data "{\"drive_id\":\"data\",\"path_on_host\":\"$dir/none\"}"
	ap_ok "$s" 204 '' PATCH /drives/data "{\"drive_id\":\"data\",\"rate_limiter\":{\"bandwidth\":{\"size\":1048576,\"refill_time\":100}}}"
	ap_ok "$s" 204 '' PATCH /drives/data "{\"drive_id\":\"data\",\"path_on_host\":\"$dir/d2\"}"
	ap_ok "$s" 200 "\"path_on_host\":\"$dir/d2\"" GET /vm/config
	printf 'CONNECT 5000\n' | timeout "$TIMEOUT" socat -t 30 - "UNIX-CONNECT:$dir/v" >/dev/null 2>&1
	ap_wait "$dir/a" done || ap_errs+="the guest never said done"$'\n'
	ap_end "$dir/a" TERM
	sed -i '/^listening$/d' "$dir/a/out"
	[ "$(cat "$dir/a/out")" = $'write back\n2048\nAAAA\n4096\nBBBB\ndone' ] ||
		ap_errs+="the guest saw '$(tr '\n' ' ' <"$dir/a/out")', not write back 2048 AAAA 4096 BBBB done"$'\n'
	ap_verdict "$name" "$dir/a"
}

# A host connection whose REQUEST the guest never answers (paused: its
# vCPU does not run) is closed after 2 s (Firecracker's
# CONN_REQUEST_TIMEOUT_MS), not held; resumed, the guest still serves
ap_vsock_timeout() {
	local name=api-vsock-timeout dir=$WORK/api-vsock-timeout s t0 ms
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	mkdir -p "$dir/a"
	s=$dir/a/s
	ap_booted "$name" "$dir" false || return
	ap_ok "$s" 204 '' PATCH /vm '{"state":"Paused"}'
	# port 5001: nobody listens there, so the guest, resumed, refuses the
	# REQUEST it finds (the listener on 5000 stays untouched); socat waits
	# 60 s for ember's side once its own is done
	t0=${EPOCHREALTIME/./}
	printf 'CONNECT 5001\n' | timeout "$TIMEOUT" socat -t 60 - "UNIX-CONNECT:$dir/v" >"$dir/t1" 2>&1
	ms=$(((${EPOCHREALTIME/./} - t0) / 1000))
	echo "  $name: the paused guest's connection ended after $ms ms"
	[ -s "$dir/t1" ] && ap_errs+="the paused guest's connection got '$(tr '\n' ' ' <"$dir/t1")'"$'\n'
	[ "$ms" -ge 1900 ] && [ "$ms" -lt 20000 ] ||
		ap_errs+="the paused guest's connection ended after $ms ms, not 2 s"$'\n'
	ap_ok "$s" 204 '' PATCH /vm '{"state":"Resumed"}'
	ap_talk "$dir/v" "$dir/t2" || ap_errs+="vsock after resuming: '$(tr '\n' ' ' <"$dir/t2")'"$'\n'
	ap_end "$dir/a" TERM
	grep -q "did not answer a host connection to its port 5001 in 2000 ms" "$dir/a/err" ||
		ap_errs+="ember did not say why it closed the connection"$'\n'
	ap_verdict "$name" "$dir/a"
}

# Firecracker's --config-file with --no-api: boots at once, exits with the
# guest's command's status
ap_config_file() {
	local name=api-config-file dir=$WORK/api-config-file cmd
	# shellcheck disable=SC2053
	[[ $name == $PATTERN ]] || return 0
	mkdir -p "$dir"
	cmd=$(ap_cmd 'echo from-config-file; exit 7')
	cat >"$dir/vm.json" <<-EOF
	{
	  "boot-source": {
	    "kernel_image_path": "$LX_DIR/vmlinux",
	    "initrd_path": "$LX_DIR/initramfs.cpio.gz",
	    "boot_args": "$LINUX_CMDLINE ember.cmd=$cmd"
	  },
	  "machine-config": { "vcpu_count": 1, "mem_size_mib": 256 },
	  "drives": [],
	  "network-interfaces": []
	}
	EOF
	lxh_exec "$name" -- --no-api --config-file "$dir/vm.json"
	lxh_check "$name" 7 "from-config-file"
}

if lx_wanted $AP_CASES; then
	ap_why=$kvm_reason
	[ -z "$ap_why" ] && ap_why=$(lx_hw_reason)
	[ -z "$ap_why" ] && ! command -v curl >/dev/null && ap_why="curl is not installed"
	[ -z "$ap_why" ] && ! command -v socat >/dev/null && ap_why="socat is not installed"
	if [ -z "$ap_why" ] && [ -z "${LX_DIR:-}" ]; then
		lx_guest
	fi
	[ -z "$ap_why" ] && ap_why=${LX_NOGUEST:-}
	if [ -n "$ap_why" ]; then
		lx_skip_all "$AP_CASES" "$ap_why"
	else
		ap_preboot
		ap_malformed
		ap_many
		ap_cli
		ap_boot_snapshot_load
		ap_load_paused
		ap_drive_patch
		ap_config_file
		ap_vsock_timeout
	fi
fi
