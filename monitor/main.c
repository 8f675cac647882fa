/* monitor/main.c - the `ember` command line. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/monitor.h"
#include "api/vmm.h"
#include "jail/jail.h"
#include "seccomp/seccomp.h"
#include "snapshot/snapshot.h"

#define EMBER_VERSION "0.1.0"

static void usage(FILE *f)
{
	fprintf(f, "usage: ember run --kernel FILE [options]   boot a kernel\n"
	      "       ember run --raw FILE[@ADDR] [options] start a raw binary in real mode\n"
	      "       ember run [--kernel default] [options] [-- CMD ARGS...]\n"
	      "                  boot the default Linux guest, run CMD (else a shell), exit with\n"
	      "                  its status (guest from `make guest-kernel`, or $EMBER_KERNEL_DIR)\n"
	      "       ember jail --id ID --uid U --gid G [jail options] -- run|restore [options]\n"
	      "       ember restore DIR [--console ..] [--drive id=NAME,path=IMG]... [--net id=netN,tap=TAP]...\n"
	      "                         [--vsock uds=PATH] [--boot-time]   (every drive, TAP and vsock\n"
	      "                         socket of the snapshot must be named)\n"
	      "       ember fork DIR -n N [--out DIR] [--drive ..]... [--net ..]...   N copy-on-write VMs\n"
	      "       ember fuzz DIR --inputs DIR [fuzz options] [--no-seccomp]   reset loop (see README)\n"
	      "       ember rebase-snap --base-file MEM --diff-file DIFF   merge an API Diff snapshot's\n"
	      "                  memory into the previous memory file (as Firecracker's rebase-snap)\n"
	      "       ember --api-sock PATH [--config-file FILE] [--id ID] [--no-api] [...]\n"
	      "                  Firecracker's API on a Unix socket (`ember --api-sock x --help`)\n"
	      "       ember version | help\n"
	      "\n"
	      "run options:\n"
	      "  --kernel FILE        PVH ELF, ELF64 vmlinux, bzImage or Multiboot kernel\n"
	      "  --kernel default     the default Linux guest (vmlinux + initramfs)\n"
	      "  --boot-protocol auto|pvh|elf64|bzimage|multiboot   how to start it\n"
	      "  --share DIR          DIR as a read-only ext4 disk, at /mnt/share in the guest\n"
	      "  -- CMD ARGS...       (last) the command ember-init runs in the guest\n"
	      "  --initrd FILE        initial ramdisk (module for PVH/Multiboot)\n"
	      "  --cmdline TEXT       kernel command line\n"
	      "  --cpus N             vCPUs (1-64, default 1)\n"
	      "  --mem SIZE           guest RAM (default 256M)\n"
	      "  --console stdio|file:PATH|none   where the serial console goes\n"
	      "  --raw FILE[@ADDR]    load FILE at ADDR (default 0x7c00), start in real mode\n"
	      "  --irqchip split|full KVM interrupt controllers (default split)\n"
	      "  --pit                in-kernel PIT (implies --irqchip full)\n"
	      "  --drive path=IMG[,ro=on][,id=NAME][,direct=on]   virtio-blk disk\n"
	      "          [,bw_size=BYTES,bw_refill_time=MS[,bw_one_time_burst=BYTES]]\n"
	      "          [,ops_size=N,ops_refill_time=MS[,ops_one_time_burst=N]]   rate limits\n"
	      "  --net tap=NAME[,mac=XX:XX:XX:XX:XX:XX]          virtio-net on a TAP\n"
	      "          [,rx_bw_size=BYTES,rx_bw_refill_time=MS..][,tx_ops_size=N..]   rate limits:\n"
	      "                       --drive's keys after rx_ (to the guest) or tx_ (from it)\n"
	      "  --rng                virtio-rng\n"
	      "  --rng-rate bw_size=BYTES,bw_refill_time=MS[,ops_size=N,ops_refill_time=MS..]\n"
	      "                       virtio-rng with a rate limiter (keys as for --drive)\n"
	      "  --vsock cid=N,uds=PATH   virtio-vsock (CID >= 3): host programs connect to\n"
	      "                       PATH and write \"CONNECT <port>\\n\"; guest connections to\n"
	      "                       host port P go to PATH_P\n"
	      "  --boot-time          print the time of each start-up step, and the\n"
	      "                       exits by kind (KVM's counters, ember's by port), on stderr\n"
	      "  --metrics-path FILE  append Firecracker-style metrics to FILE: one JSON line\n"
	      "                       every 60 s and at the end, counters since the last line\n"
	      "  --log-path FILE      ember's log to FILE instead of stderr\n"
	      "  --level Error|Warning|Info|Debug|Off   how much is logged (else $EMBER_LOG)\n"
	      "  --show-level         each log line with its level\n"
	      "  --show-log-origin    each log line with the source file and line\n"
	      "  --no-seccomp         no seccomp filters (debugging only; warns)\n"
	      "%s"
	      "\n"
	      "jail options (ember runs as root, the VM as U:G in new namespaces):\n"
	      "  --id ID              1-64 of [A-Za-z0-9-]; root is <base>/ID/root\n"
	      "  --chroot-base DIR    base (default /srv/jailer)\n"
	      "  --netns PATH         join this network namespace (default: a new one)\n"
	      "  --cgroup KEY=VAL     cgroup v2 limit, e.g. memory.max=512M (repeatable)\n"
	      "  --rlimit NAME=VAL    nofile, fsize, nproc, core, memlock, as (repeatable)\n"
	      "  --daemonize          detach; print the jailed process id on stdout\n"
	      "\n"
	      "exit status: the guest's (port 0xf4: value*2+1; control port: as given),\n"
	      "0 on power-off or reset, 2 bad input, 70 host failure, 71 triple fault,\n"
	      "72 KVM internal/emulation error, 73 unhandled exit.\n", snap_usage);
}

static int cmd_run(int argc, char **argv, uint64_t start_ns)
{
	struct vm_config cfg;
	struct errbuf err = { "" };
	struct snap_opts sopts;
	struct launch l = { .boot = &cfg, .snap = &sopts, .start_ns = start_ns };
	struct snap_session *sess;
	struct vm *vm = NULL;
	int status = EXIT_BADINPUT;
	uint64_t t;

	if (launch_run_args(&argc, argv, &cfg, &sopts, &l.no_seccomp, &err) ||
	    vm_launch(&l, &vm, &sess, &err, &status)) {
		fprintf(stderr, "ember: %s\n", err.msg);
		config_free(&cfg);
		return status;
	}
	status = launch_run(vm, sess);
	if (cfg.boot_time)
		vm_print_boot_times(vm);
	t = now_ns();
	vm_destroy(vm);
	if (cfg.boot_time)
		fprintf(stderr, "  %-16s %9.3f  +%.3f\n", "teardown", (double)(now_ns() - start_ns) / 1e6,
			(double)(now_ns() - t) / 1e6);
	config_free(&cfg);
	return status;
}

/* `ember --api-sock PATH ...`, or any command line of a `firecracker` link */
static int cmd_api(int argc, char **argv, bool fc, uint64_t start_ns)
{
	struct vmm_opts o = { .version = EMBER_VERSION };
	struct vm_config cfg;
	struct errbuf err = { "" };
	int r = vmm_args(argc, argv, fc, &o, &cfg, &err);

	if (r) {
		if (r < 0)
			fprintf(stderr, "ember: %s\n", err.msg);
		config_free(&cfg);
		return r < 0 ? EXIT_BADINPUT : 0;
	}
	o.start_ns = start_ns;
	return vmm_main(&o, &cfg);
}

int main(int argc, char **argv)
{
	uint64_t start = now_ns();
	const char *base = argc ? strrchr(argv[0], '/') : NULL;

	log_init();
	base = base ? base + 1 : argc ? argv[0] : "";
	if (!strcmp(base, "firecracker"))
		return cmd_api(argc, argv, true, start);
	if (vmm_is_api_argv(argc, argv))
		return cmd_api(argc, argv, false, start);
	if (argc < 2) {
		usage(stderr);
		return EXIT_BADINPUT;
	}
	if (!strcmp(argv[1], "run"))
		return cmd_run(argc - 1, argv + 1, start);
	if (!strcmp(argv[1], "restore"))
		return snap_cmd_restore(argc - 1, argv + 1, start);
	if (!strcmp(argv[1], "fork"))
		return snap_cmd_fork(argc - 1, argv + 1, start);
	if (!strcmp(argv[1], "fuzz"))
		return snap_cmd_fuzz(argc - 1, argv + 1, start);
	if (!strcmp(argv[1], "rebase-snap"))
		return snap_cmd_rebase(argc - 1, argv + 1);
	if (!strcmp(argv[1], "jail"))
		return jail_main(argc - 1, argv + 1, start, cmd_run, snap_cmd_restore);
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("ember %s\n", EMBER_VERSION);
		return 0;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "ember: unknown command '%s' (see 'ember help')\n", argv[1]);
	return EXIT_BADINPUT;
}
