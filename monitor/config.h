/* monitor/config.h - a VM's configuration (struct vm_config), its parser
 * for `ember run` (monitor/config.c) and its setters (monitor/config_set.c),
 * shared by argv, --config-file and the API.  Part of monitor/monitor.h,
 * which includes it where its types are needed: include that, not this. */
#pragma once
#ifndef EMBER_MONITOR_H_INSIDE
#error "include monitor/monitor.h, not monitor/config.h"
#endif

/* ---- configuration (monitor/config.c) --------------------------------- */
enum console_kind { CONSOLE_STDIO, CONSOLE_FILE, CONSOLE_NONE };
/* --boot-protocol: how the kernel is started (monitor/boot/detect.c) */
enum boot_proto { BOOT_PROTO_AUTO, BOOT_PROTO_PVH, BOOT_PROTO_ELF64,
		  BOOT_PROTO_BZIMAGE, BOOT_PROTO_MULTIBOOT };
enum irqchip_mode { IRQCHIP_SPLIT, IRQCHIP_FULL };

#define MAX_DRIVES 8
#define MAX_NETS 4
#define CONFIG_ID_MAX 64	/* drive and network interface ids */
/* A token bucket (Firecracker's TokenBucket): at most `size` tokens,
 * refilled completely in `refill_ms`; `one_time_burst` extra tokens at the
 * start.  size 0 or refill_ms 0: no limit. */
struct tbucket_cfg {
	uint64_t size, one_time_burst, refill_ms;
};
/* A device's rate limiter: bytes and operations (virtio/ratelimit.c). */
struct ratelimit_cfg {
	struct tbucket_cfg bw, ops;
};
struct drive_cfg {
	const char *path;
	const char *id;		/* NULL: "vd<letter>" */
	bool ro, direct;
	bool root;		/* the root device: kept first (/dev/vda) */
	const char *partuuid;	/* root=PARTUUID=.. instead of /dev/vda (root only) */
	bool writeback;		/* Firecracker cache_type Writeback (else Unsafe) */
	bool io_sync;		/* Firecracker io_engine Sync (else Async) */
	struct ratelimit_cfg rl;	/* bw_size=.., ops_size=.. (no limit: zeros) */
};
struct net_cfg {
	const char *id;		/* NULL: "eth<index>" */
	const char *tap;
	uint8_t mac[6];
	bool mac_set;
	/* rx_bw_size=.., tx_ops_size=..: frames the TAP gives the guest (rx)
	 * and the guest sends (tx), by their bytes and count (no limit: zeros) */
	struct ratelimit_cfg rx_rl, tx_rl;
};
/* Firecracker's logger: where ember's log goes and what it shows. */
enum { CONFIG_LOG_UNSET = -1, CONFIG_LOG_OFF = -2 };
struct logger_cfg {
	const char *path;	/* NULL: stderr */
	int level;		/* enum log_level, CONFIG_LOG_OFF or _UNSET */
	bool show_level, show_origin;
	const char *module;	/* only messages of this module; NULL: all */
};

struct vsock_cfg {
	uint64_t cid;		/* the guest's CID, >= 3 */
	const char *uds;	/* NULL: no vsock device */
};

struct vm_config {
	const char *kernel;	/* --kernel */
	const char *initrd;	/* --initrd */
	const char *cmdline;	/* --cmdline, "" if none */
	const char *raw;	/* --raw FILE[@ADDR] (file part) */
	uint64_t raw_addr;	/* load address; start CS:IP = addr>>4 : addr&15 */
	unsigned cpus;		/* --cpus, 1..MAX_CPUS */
	uint64_t mem_size;	/* --mem */
	enum console_kind console;
	const char *console_path;
	enum irqchip_mode irqchip;	/* --irqchip split|full */
	bool pit;		/* --pit (implies full irqchip) */
	bool boot_time;		/* --boot-time */
	struct drive_cfg drives[MAX_DRIVES];	/* --drive path=..,ro=on,id=..,direct=on */
	unsigned ndrives;
	struct net_cfg nets[MAX_NETS];	/* --net tap=NAME[,mac=..][,rx_bw_size=..] */
	unsigned nnets;
	bool rng;		/* --rng */
	struct ratelimit_cfg rng_rl;	/* --rng-rate (no limit: zeros) */
	struct vsock_cfg vsock;	/* --vsock cid=N,uds=PATH */
	bool no_seccomp;	/* --no-seccomp: no filters (debugging; warns) */
	unsigned sandbox_features;	/* SC_F_* (seccomp/seccomp.h) a command needs
					 * beyond what the options imply */
	/* the only directories the sandbox lets ember write beneath, by
	 * path (Landlock): the snapshot directory, the fuzz crash directory;
	 * write_anywhere (libember, whose snapshots go where the program
	 * says at run time): no such confinement */
	const char *write_dirs[2];
	unsigned nwrite_dirs;
	bool write_anywhere;
	uint64_t start_ns;	/* process start (now_ns), 0: when the VM is created */
	const char *mem_file;	/* restore (snapshot/): guest RAM is this snapshot
				 * memory file (gmem_init_file); nothing is loaded
				 * and the vCPUs keep their reset state */
	const struct kvm_cpuid2 *cpuid;	/* restore: the saved CPUID table; NULL:
					 * KVM_GET_SUPPORTED_CPUID (vcpu/cpu.c) */
	bool cpu_time;		/* record the process's CPU time at the first
				 * KVM_RUN (vm->first_run_cpu_ns; ember fork) */
	bool dirty_ring;	/* track dirty pages with KVM's dirty ring
				 * (monitor/dring.c; on before the vCPUs exist):
				 * the fuzzing reset, whose runs dirty a few
				 * pages each.  Diff snapshots, with many pages
				 * between two, use the dirty bitmap. */
	/* Linux guests (monitor/linux.c) */
	bool kernel_default;	/* --kernel default, or only `-- CMD`: the cached
				 * guest kernel + initramfs (linux_resolve_default) */
	char *const *cmd;	/* the words after `--` (ember.cmd), NULL if none */
	int ncmd;
	const char *share;	/* --share DIR: a read-only ext4 image of DIR */
	int share_drive;	/* its index in drives[], -1 until built */
	enum boot_proto boot_proto;	/* --boot-protocol (default: by content) */
	char *linux_owned[3];	/* default kernel, initrd, share image paths */
	bool share_unlinked;	/* linux_share_cleanup done (no unlink under seccomp) */
	char *owned[MAX_DRIVES + MAX_NETS + 4];	/* copies freed by config_free */
	unsigned nowned;
	/* set through the setters (API, config file) */
	bool track_dirty;	/* machine-config track_dirty_pages: diff snapshots */
	struct logger_cfg logger;	/* logger: applied by whoever runs the VM */
	const char *metrics_path;	/* metrics: where FlushMetrics writes */
	char **strs;		/* the setters' copies of strings, freed by config_free */
	unsigned nstrs, capstrs;
};

/* Parses a size such as 256M, 1G, 4096, 64K into bytes. 0 or -EINVAL. */
int parse_size(const char *s, uint64_t *out);
/* Parses the arguments of `ember run` (argv[0] is "run").  Fills cfg with
 * defaults for what is absent.  Returns 0, or -EINVAL with a message. */
int config_parse_run(int argc, char **argv, struct vm_config *cfg,
		     struct errbuf *err);
/* Parses a --console value (stdio, none, file:PATH) into cfg (PATH is
 * copied: config_free frees it).  0 or -EINVAL with a message. */
int config_parse_console(const char *v, struct vm_config *cfg, struct errbuf *err);
/* Frees what config_parse_run and the setters allocated. */
void config_free(struct vm_config *cfg);

/* ---- configuration setters (monitor/config_set.c) --------------------- */
/* Every source of configuration (argv, the --config-file JSON, API
 * requests) changes a struct vm_config through these: each checks its
 * value, and on bad input returns -EINVAL (or -ENOSPC, -ENOMEM) with a
 * message "<field>: <the value and what is wrong with it>", field being
 * the caller's name for it ("--cpus", "vcpu_count").  Strings are copied
 * (the config owns them; config_free frees them); nothing changes on
 * failure. */

/* Empties cfg and gives it ember's defaults: 1 vCPU, 256 MiB, console on
 * stdio, split irqchip, empty command line, no logger level. */
void vm_config_init(struct vm_config *cfg);
/* vCPUs: 1 to MAX_CPUS. */
int vm_config_set_cpus(struct vm_config *cfg, unsigned long long n, const char *field,
		       struct errbuf *err);
/* Guest RAM in bytes: 2 MiB to 1 TiB, a multiple of 4 KiB. */
int vm_config_set_mem(struct vm_config *cfg, uint64_t bytes, const char *field,
		      struct errbuf *err);
/* Guest RAM in MiB: 2 to 1048576. */
int vm_config_set_mem_mib(struct vm_config *cfg, unsigned long long mib, const char *field,
			  struct errbuf *err);
/* The kernel file (not empty; no newline).  Clears --raw and the default kernel. */
int vm_config_set_kernel(struct vm_config *cfg, const char *path, const char *field,
			 struct errbuf *err);
/* The initrd file (not empty), or NULL for none. */
int vm_config_set_initrd(struct vm_config *cfg, const char *path, const char *field,
			 struct errbuf *err);
/* The kernel command line: shorter than BOOT_CMDLINE_MAX, no control characters. */
int vm_config_set_cmdline(struct vm_config *cfg, const char *cmdline, const char *field,
			  struct errbuf *err);
/* Checks a rate limiter: each bucket is all zeros (no limit) or has a
 * size and a refill time of 1..3600000 ms.  0, or -EINVAL naming field. */
int vm_config_check_ratelimit(const struct ratelimit_cfg *rl, const char *field,
			      struct errbuf *err);
/* Adds drive d, or replaces the drive of the same id (d->id NULL: always
 * adds).  Checks: id of 1 to CONFIG_ID_MAX letters, digits, '_', '-' or
 * '.'; a path; at most MAX_DRIVES; one root device, kept first; a
 * partuuid only on the root device. */
int vm_config_put_drive(struct vm_config *cfg, const struct drive_cfg *d, const char *field,
			struct errbuf *err);
/* Adds network interface n, or replaces the one of the same id.  Checks:
 * the id as for drives; a tap name of 1 to 15 characters that no other
 * interface uses; a unicast MAC (if set) no other interface has; the rx
 * and tx rate limiters (as vm_config_check_ratelimit, field "<field>: rx"
 * or ": tx"); at most MAX_NETS. */
int vm_config_put_net(struct vm_config *cfg, const struct net_cfg *n, const char *field,
		      struct errbuf *err);
/* Parses "aa:bb:cc:dd:ee:ff" into mac: a unicast address, else -EINVAL
 * with "<field>: 'S' is not a unicast MAC address". */
int vm_config_parse_mac(const char *s, uint8_t mac[6], const char *field, struct errbuf *err);
/* The virtio-rng device on or off. */
void vm_config_set_rng(struct vm_config *cfg, bool on);
/* The virtio-vsock device: guest CID 3..UINT32_MAX-1 and the host's Unix
 * socket path (not empty; copied).  0 or -EINVAL naming field. */
int vm_config_set_vsock(struct vm_config *cfg, unsigned long long cid, const char *uds,
			const char *field, struct errbuf *err);
/* The virtio-rng device on, with rate limiter rl (checked as
 * vm_config_check_ratelimit does).  0 or -EINVAL naming field. */
int vm_config_set_rng_limit(struct vm_config *cfg, const struct ratelimit_cfg *rl,
			    const char *field, struct errbuf *err);
/* The guest console: CONSOLE_FILE needs a path (not empty), the others none. */
int vm_config_set_console(struct vm_config *cfg, enum console_kind kind, const char *path,
			  const char *field, struct errbuf *err);
/* Dirty page tracking for diff snapshots. */
void vm_config_set_track_dirty(struct vm_config *cfg, bool on);
/* The logger: a path (not empty) or NULL, a level (enum log_level,
 * CONFIG_LOG_OFF or CONFIG_LOG_UNSET), a module (not empty) or NULL. */
int vm_config_set_logger(struct vm_config *cfg, const struct logger_cfg *l, const char *field,
			 struct errbuf *err);
/* Where metrics are written (not empty). */
int vm_config_set_metrics(struct vm_config *cfg, const char *path, const char *field,
			  struct errbuf *err);
/* Index of the drive (nets: interface) called id, or -1. */
int vm_config_find_drive(const struct vm_config *cfg, const char *id);
int vm_config_find_net(const struct vm_config *cfg, const char *id);

