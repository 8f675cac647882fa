/* api/vmm.h - `ember --api-sock` (and `firecracker ...`): the command line
 * (api/cli.c) and the API thread + VMM thread that serve it (api/vmm.c). */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "monitor/monitor.h"

struct vmm_opts {
	const char *sock_path;	/* --api-sock, NULL with --no-api */
	const char *id;		/* --id (GET / "id") */
	const char *version;	/* GET /version */
	bool boot_now;		/* --config-file: InstanceStart at once */
	bool no_seccomp;	/* --no-seccomp */
	bool boot_time;		/* --boot-timer: ember's --boot-time table */
	uint64_t start_ns;	/* process start (now_ns) */
};

/* Reads the command line of API mode (argv[0] the program, then
 * Firecracker's options) into *o and cfg (vm_config_init'd here, with
 * Firecracker's defaults, and the --config-file's sections, logger and
 * metrics applied through the API's own decoders).  `fc`: invoked as
 * `firecracker`, where --api-sock defaults to /run/firecracker.socket.
 * 0; 1 when --help or --version was answered (exit 0); or -EINVAL with a
 * message naming the option.  config_free(cfg) whatever it returns. */
int vmm_args(int argc, char **argv, bool fc, struct vmm_opts *o, struct vm_config *cfg,
	     struct errbuf *err);
/* True if argv[1] starts API mode (one of its options). */
bool vmm_is_api_argv(int argc, char **argv);
/* Runs API mode: the VMM thread, then this thread serves the API socket
 * (or, with --no-api, only waits) until the VM stops.  Takes cfg over.
 * Returns the exit status: the VM's, 128+N after signal N before a start,
 * EXIT_BADINPUT or EXIT_HOSTFAIL. */
int vmm_main(const struct vmm_opts *o, struct vm_config *cfg);
/* The API's SendCtrlAltDel and FlushMetrics on the VM's loop thread.
 * 0 or -errno with a message. */
int vmm_ctrl_alt_del(struct vm *vm, struct errbuf *err);
int vmm_flush_metrics(struct vm *vm, struct errbuf *err);
