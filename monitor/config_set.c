/* monitor/config_set.c - the setters of struct vm_config: the one place
 * where a configuration value is checked, whichever way it came in (argv,
 * the --config-file JSON, an API request).  Strings are copied into the
 * config (cfg->strs) so that a request's buffer may go away. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/monitor.h"

void vm_config_init(struct vm_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cmdline = "";
	cfg->cpus = 1;
	cfg->mem_size = MiB(256);
	cfg->console = CONSOLE_STDIO;
	cfg->irqchip = IRQCHIP_SPLIT;
	cfg->share_drive = -1;
	cfg->logger.level = CONFIG_LOG_UNSET;
}

/* A copy of s that the config owns, or NULL (out of memory). */
static char *keep(struct vm_config *cfg, const char *s)
{
	char *c;

	if (cfg->nstrs == cfg->capstrs) {
		unsigned cap = cfg->capstrs ? cfg->capstrs * 2 : 16;
		char **n = realloc(cfg->strs, cap * sizeof(*n));

		if (!n)
			return NULL;
		cfg->strs = n;
		cfg->capstrs = cap;
	}
	c = strdup(s);
	if (c)
		cfg->strs[cfg->nstrs++] = c;
	return c;
}

/* Frees s if the config owns it (a value being replaced). */
static void drop(struct vm_config *cfg, const char *s)
{
	for (unsigned i = 0; s && i < cfg->nstrs; i++) {
		if (cfg->strs[i] == s) {
			free(cfg->strs[i]);
			cfg->strs[i] = cfg->strs[--cfg->nstrs];
			return;
		}
	}
}

/* *slot = a copy of v (NULL stays NULL), freeing the old value if owned. */
static int replace(struct vm_config *cfg, const char **slot, const char *v)
{
	char *c = NULL;

	if (v && !(c = keep(cfg, v)))
		return -ENOMEM;
	drop(cfg, *slot);
	*slot = c;
	return 0;
}

int vm_config_set_cpus(struct vm_config *cfg, unsigned long long n, const char *field,
		       struct errbuf *err)
{
	if (n < 1 || n > MAX_CPUS)
		return err_set(err, EINVAL, "%s: '%llu' is not a number from 1 to %d", field, n,
			       MAX_CPUS);
	cfg->cpus = (unsigned)n;
	return 0;
}

/* "2 MiB", "4100 KiB", "123 bytes": a size as the user probably wrote it. */
static const char *size_str(uint64_t b, char buf[40])
{
	if (b && !(b & (MiB(1) - 1)))
		snprintf(buf, 40, "%llu MiB", (unsigned long long)(b >> 20));
	else if (b && !(b & (KiB(1) - 1)))
		snprintf(buf, 40, "%llu KiB", (unsigned long long)(b >> 10));
	else
		snprintf(buf, 40, "%llu bytes", (unsigned long long)b);
	return buf;
}

int vm_config_set_mem(struct vm_config *cfg, uint64_t bytes, const char *field,
		      struct errbuf *err)
{
	char buf[40];

	if (bytes < MiB(2) || bytes > GiB(1024) || (bytes & 0xfff))
		return err_set(err, EINVAL,
			       "%s: %s is out of range (2 MiB to 1 TiB, a multiple of 4 KiB)",
			       field, size_str(bytes, buf));
	cfg->mem_size = bytes;
	return 0;
}

int vm_config_set_mem_mib(struct vm_config *cfg, unsigned long long mib, const char *field,
			  struct errbuf *err)
{
	if (mib < 2 || mib > 1024 * 1024)
		return err_set(err, EINVAL, "%s: %llu MiB is out of range (2 to 1048576)", field,
			       mib);
	cfg->mem_size = MiB(mib);
	return 0;
}

/* A file name from the user: not empty, no control characters (they
 * would only garble messages and the API's answers). */
static int check_path(const char *path, const char *what, const char *field,
		      struct errbuf *err)
{
	if (!path || !*path)
		return err_set(err, EINVAL, "%s: the %s is empty", field, what);
	for (const char *p = path; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return err_set(err, EINVAL, "%s: the %s has a control character (0x%02x)",
				       field, what, (unsigned char)*p);
	if (strlen(path) >= 4096)
		return err_set(err, ENAMETOOLONG, "%s: the %s is longer than 4095 bytes", field,
			       what);
	return 0;
}

int vm_config_set_kernel(struct vm_config *cfg, const char *path, const char *field,
			 struct errbuf *err)
{
	int r = check_path(path, "kernel path", field, err);

	if (r)
		return r;
	r = replace(cfg, &cfg->kernel, path);
	if (!r)
		cfg->kernel_default = false;
	return r;
}

int vm_config_set_initrd(struct vm_config *cfg, const char *path, const char *field,
			 struct errbuf *err)
{
	int r = path ? check_path(path, "initrd path", field, err) : 0;

	return r ? r : replace(cfg, &cfg->initrd, path);
}

int vm_config_set_cmdline(struct vm_config *cfg, const char *cmdline, const char *field,
			  struct errbuf *err)
{
	size_t n = strlen(cmdline);

	if (n >= BOOT_CMDLINE_MAX)
		return err_set(err, E2BIG, "%s: the command line is %zu bytes, over ember's limit of %d",
			       field, n, BOOT_CMDLINE_MAX - 1);
	for (const char *p = cmdline; *p; p++)
		if ((unsigned char)*p < 0x20 && *p != '\t')
			return err_set(err, EINVAL, "%s: the command line has a control character (0x%02x)",
				       field, (unsigned char)*p);
	return replace(cfg, &cfg->cmdline, cmdline);
}

static int check_id(const char *id, const char *what, const char *field, struct errbuf *err)
{
	size_t n = strlen(id);

	if (n == 0 || n > CONFIG_ID_MAX)
		return err_set(err, EINVAL, "%s: %s id '%s' is not 1 to %d characters long", field,
			       what, id, CONFIG_ID_MAX);
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-' || *p == '.'))
			return err_set(err, EINVAL,
				       "%s: %s id '%s' has a character other than a letter, a digit, '_', '-' or '.'",
				       field, what, id);
	return 0;
}

int vm_config_find_drive(const struct vm_config *cfg, const char *id)
{
	for (unsigned i = 0; id && i < cfg->ndrives; i++)
		if (cfg->drives[i].id && !strcmp(cfg->drives[i].id, id))
			return (int)i;
	return -1;
}

int vm_config_find_net(const struct vm_config *cfg, const char *id)
{
	for (unsigned i = 0; id && i < cfg->nnets; i++)
		if (cfg->nets[i].id && !strcmp(cfg->nets[i].id, id))
			return (int)i;
	return -1;
}

/* A bucket is either wholly absent (all 0) or has a size and a refill
 * time; the refill time is at most an hour (Firecracker takes any u64, but
 * a bucket that needs days to fill is a mistake, not a limit). */
static int check_bucket(const struct tbucket_cfg *b, const char *what, const char *field,
			struct errbuf *err)
{
	if (!b->size && !b->refill_ms && !b->one_time_burst)
		return 0;
	if (!b->size)
		return err_set(err, EINVAL, "%s: %s rate limiter: size must be more than 0",
			       field, what);
	if (!b->refill_ms || b->refill_ms > 3600000)
		return err_set(err, EINVAL, "%s: %s rate limiter: refill time must be 1 to "
			       "3600000 ms, not %llu", field, what,
			       (unsigned long long)b->refill_ms);
	return 0;
}

int vm_config_check_ratelimit(const struct ratelimit_cfg *rl, const char *field,
			      struct errbuf *err)
{
	int r = check_bucket(&rl->bw, "bandwidth", field, err);

	return r ? r : check_bucket(&rl->ops, "ops", field, err);
}

int vm_config_put_drive(struct vm_config *cfg, const struct drive_cfg *d, const char *field,
			struct errbuf *err)
{
	int old = vm_config_find_drive(cfg, d->id), r;
	struct drive_cfg n = *d;
	unsigned at;

	if (d->id && (r = check_id(d->id, "drive", field, err)))
		return r;
	if ((r = vm_config_check_ratelimit(&d->rl, field, err)))
		return r;
	if ((r = check_path(d->path, "drive path", field, err)))
		return r;
	if (old < 0 && cfg->ndrives == MAX_DRIVES)
		return err_set(err, ENOSPC, "%s: at most %d drives", field, MAX_DRIVES);
	if (d->partuuid && !d->root)
		return err_set(err, EINVAL, "%s: drive '%s': a partuuid needs is_root_device",
			       field, d->id ? d->id : d->path);
	/* it goes on the kernel command line: one word of at most 64 */
	if (d->partuuid && (!*d->partuuid || strlen(d->partuuid) > CONFIG_ID_MAX ||
			    strspn(d->partuuid, "0123456789abcdefABCDEF-") != strlen(d->partuuid)))
		return err_set(err, EINVAL, "%s: drive '%s': partuuid '%.80s' is not 1 to %d hex digits and '-'",
			       field, d->id ? d->id : d->path, d->partuuid, CONFIG_ID_MAX);
	for (unsigned i = 0; d->root && i < cfg->ndrives; i++)
		if (cfg->drives[i].root && (int)i != old)
			return err_set(err, EINVAL, "%s: drive '%s': drive '%s' is already the root device",
				       field, d->id ? d->id : d->path,
				       cfg->drives[i].id ? cfg->drives[i].id : cfg->drives[i].path);
	n.id = n.path = n.partuuid = NULL;
	if ((d->id && !(n.id = keep(cfg, d->id))) || !(n.path = keep(cfg, d->path)) ||
	    (d->partuuid && !(n.partuuid = keep(cfg, d->partuuid)))) {
		drop(cfg, n.id);
		drop(cfg, n.path);
		return -ENOMEM;
	}
	/* take the old entry out, then put the new one where it belongs: the
	 * root device first (the guest's /dev/vda), the others where they were */
	at = cfg->ndrives;
	if (old >= 0) {
		drop(cfg, cfg->drives[old].id);
		drop(cfg, cfg->drives[old].path);
		drop(cfg, cfg->drives[old].partuuid);
		memmove(&cfg->drives[old], &cfg->drives[old + 1],
			(cfg->ndrives - (unsigned)old - 1) * sizeof(n));
		cfg->ndrives--;
		at = (unsigned)old;
	}
	if (n.root)
		at = 0;
	memmove(&cfg->drives[at + 1], &cfg->drives[at], (cfg->ndrives - at) * sizeof(n));
	cfg->drives[at] = n;
	cfg->ndrives++;
	return 0;
}

int vm_config_parse_mac(const char *s, uint8_t mac[6], const char *field, struct errbuf *err)
{
	unsigned b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &tail) != 6 || strlen(s) != 17 || (b[0] & 1))
		return err_set(err, EINVAL, "%s: '%s' is not a unicast MAC address", field, s);
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	return 0;
}

/* The rx and tx limiters of a network interface, each named in a message. */
static int check_net_limits(const struct net_cfg *n, const char *field, struct errbuf *err)
{
	char f[128];
	int r;

	snprintf(f, sizeof(f), "%s: rx", field);
	if ((r = vm_config_check_ratelimit(&n->rx_rl, f, err)))
		return r;
	snprintf(f, sizeof(f), "%s: tx", field);
	return vm_config_check_ratelimit(&n->tx_rl, f, err);
}

int vm_config_put_net(struct vm_config *cfg, const struct net_cfg *n, const char *field,
		      struct errbuf *err)
{
	int old = vm_config_find_net(cfg, n->id), r;
	const char *name = n->id ? n->id : n->tap ? n->tap : "";
	struct net_cfg c = *n;

	if (n->id && (r = check_id(n->id, "network interface", field, err)))
		return r;
	if (!n->tap || !*n->tap)
		return err_set(err, EINVAL, "%s: network interface '%s': the tap name is empty",
			       field, name);
	if (strlen(n->tap) >= 16)
		return err_set(err, EINVAL, "%s: tap name '%s' is longer than 15 characters", field,
			       n->tap);
	if ((r = check_path(n->tap, "tap name", field, err)))
		return r;
	if (n->mac_set && (n->mac[0] & 1))
		return err_set(err, EINVAL, "%s: network interface '%s': the MAC address is not unicast",
			       field, name);
	if ((r = check_net_limits(n, field, err)))
		return r;
	if (old < 0 && cfg->nnets == MAX_NETS)
		return err_set(err, ENOSPC, "%s: at most %d network devices", field, MAX_NETS);
	for (unsigned i = 0; i < cfg->nnets; i++) {
		if ((int)i == old)
			continue;
		if (!strcmp(cfg->nets[i].tap, n->tap))
			return err_set(err, EINVAL, "%s: network interface '%s': tap '%s' is already in use",
				       field, name, n->tap);
		if (n->mac_set && cfg->nets[i].mac_set && !memcmp(cfg->nets[i].mac, n->mac, 6))
			return err_set(err, EINVAL,
				       "%s: network interface '%s': MAC %02x:%02x:%02x:%02x:%02x:%02x is already in use",
				       field, name, n->mac[0], n->mac[1], n->mac[2], n->mac[3],
				       n->mac[4], n->mac[5]);
	}
	c.id = c.tap = NULL;
	if ((n->id && !(c.id = keep(cfg, n->id))) || !(c.tap = keep(cfg, n->tap))) {
		drop(cfg, c.id);
		return -ENOMEM;
	}
	if (old >= 0) {
		drop(cfg, cfg->nets[old].id);
		drop(cfg, cfg->nets[old].tap);
		cfg->nets[old] = c;
	} else {
		cfg->nets[cfg->nnets++] = c;
	}
	return 0;
}

void vm_config_set_rng(struct vm_config *cfg, bool on)
{
	cfg->rng = on;
}

int vm_config_set_vsock(struct vm_config *cfg, unsigned long long cid, const char *uds,
			const char *field, struct errbuf *err)
{
	const char *copy;

	if (cid < 3 || cid >= UINT32_MAX)
		return err_set(err, EINVAL, "%s: cid '%llu' is not a number from 3 to %u "
			       "(0-2 are reserved)", field, cid, UINT32_MAX - 1);
	if (!uds || !*uds)
		return err_set(err, EINVAL, "%s: the socket path is empty", field);
	if (!(copy = keep(cfg, uds)))
		return -ENOMEM;
	drop(cfg, cfg->vsock.uds);
	cfg->vsock.cid = cid;
	cfg->vsock.uds = copy;
	return 0;
}

int vm_config_set_rng_limit(struct vm_config *cfg, const struct ratelimit_cfg *rl,
			    const char *field, struct errbuf *err)
{
	int r = vm_config_check_ratelimit(rl, field, err);

	if (r)
		return r;
	cfg->rng = true;
	cfg->rng_rl = *rl;
	return 0;
}

int vm_config_set_console(struct vm_config *cfg, enum console_kind kind, const char *path,
			  const char *field, struct errbuf *err)
{
	int r = 0;

	if (kind == CONSOLE_FILE) {
		r = check_path(path, "console file", field, err);
		if (!r)
			r = replace(cfg, &cfg->console_path, path);
	} else if (path) {
		return err_set(err, EINVAL, "%s: only a file console has a path", field);
	}
	if (!r)
		cfg->console = kind;
	return r;
}

void vm_config_set_track_dirty(struct vm_config *cfg, bool on)
{
	cfg->track_dirty = on;
}

int vm_config_set_logger(struct vm_config *cfg, const struct logger_cfg *l, const char *field,
			 struct errbuf *err)
{
	const char *path = NULL, *module = NULL;
	int r;

	if (l->level != CONFIG_LOG_UNSET && l->level != CONFIG_LOG_OFF &&
	    (l->level < LOG_ERROR || l->level > LOG_DEBUG))
		return err_set(err, EINVAL, "%s: log level %d is not one of ember's", field, l->level);
	if (l->path && (r = check_path(l->path, "log path", field, err)))
		return r;
	if (l->module && (r = check_path(l->module, "module", field, err)))
		return r;
	if ((l->path && !(path = keep(cfg, l->path))) ||
	    (l->module && !(module = keep(cfg, l->module)))) {
		drop(cfg, path);
		return -ENOMEM;
	}
	drop(cfg, cfg->logger.path);
	drop(cfg, cfg->logger.module);
	cfg->logger = *l;
	cfg->logger.path = path;
	cfg->logger.module = module;
	return 0;
}

int vm_config_set_metrics(struct vm_config *cfg, const char *path, const char *field,
			  struct errbuf *err)
{
	int r = check_path(path, "metrics path", field, err);

	return r ? r : replace(cfg, &cfg->metrics_path, path);
}
