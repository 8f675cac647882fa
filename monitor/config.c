/* monitor/config.c - parsing of `ember run` arguments and their values. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor/boot/boot.h"
#include "monitor/monitor.h"

int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	default: break;
	}
	if (*end == 'i' && shift)
		end++;
	if ((*end == 'B' || *end == 'b') && shift)
		end++;
	if (*end)
		return -EINVAL;
	if (shift && v > (UINT64_MAX >> shift))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static int parse_uint(const char *s, unsigned max, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!s || !*s || *s == '-')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = (unsigned)v;
	return 0;
}

static bool parse_onoff(const char *v, bool *out)
{
	if (!strcmp(v, "on") || !strcmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "off") || !strcmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return false;
	return true;
}

/* The rate limiter keys of --drive and --rng-rate (Cloud Hypervisor's
 * names; --net's rx_ and tx_ ones are these with a prefix): the field of
 * rl that key sets, or NULL. */
static uint64_t *rl_key(struct ratelimit_cfg *rl, const char *key)
{
	static const struct {
		const char *name;
		size_t off;
	} keys[] = {
		{ "bw_size", offsetof(struct ratelimit_cfg, bw.size) },
		{ "bw_one_time_burst", offsetof(struct ratelimit_cfg, bw.one_time_burst) },
		{ "bw_refill_time", offsetof(struct ratelimit_cfg, bw.refill_ms) },
		{ "ops_size", offsetof(struct ratelimit_cfg, ops.size) },
		{ "ops_one_time_burst", offsetof(struct ratelimit_cfg, ops.one_time_burst) },
		{ "ops_refill_time", offsetof(struct ratelimit_cfg, ops.refill_ms) },
	};

	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(key, keys[i].name))
			return (uint64_t *)((char *)rl + keys[i].off);
	return NULL;
}

/* A rate limiter key of option opt: sets the field of rl it names from v.
 * 1 if key is not one (the caller goes on), else 0 or -EINVAL
 * "<opt>: <key> must be a number, not '<v>'" (key as the user wrote it:
 * name is key without a prefix such as --net's "rx_"). */
static int rl_opt(struct ratelimit_cfg *rl, const char *name, const char *key, const char *v,
		  const char *opt, struct errbuf *err)
{
	uint64_t *n = rl_key(rl, name);

	if (!n)
		return 1;
	if (parse_size(v, n) < 0)
		return err_set(err, EINVAL, "%s: %s must be a number, not '%s'", opt, key, v);
	return 0;
}

/* Cuts "key=value" (kv, in a writable copy) at its '=': *v the value.
 * 0, or -EINVAL "<opt>: 'kv' is not key=value". */
static int kv_split(char *kv, const char *opt, char **v, struct errbuf *err)
{
	*v = strchr(kv, '=');
	if (!*v)
		return err_set(err, EINVAL, "%s: '%s' is not key=value", opt, kv);
	*(*v)++ = 0;
	return 0;
}

/* "k=v,k=v": cut up in a copy, then added through the setter. */
static int parse_drive(const char *arg, struct vm_config *cfg, struct errbuf *err)
{
	char *save = NULL, *spec = strdup(arg);
	struct drive_cfg d = { 0 };
	int r = 0;

	if (!spec)
		return -ENOMEM;
	for (char *kv = strtok_r(spec, ",", &save); kv && !r; kv = strtok_r(NULL, ",", &save)) {
		char *v;

		if ((r = kv_split(kv, "--drive", &v, err)))
			break;
		if (!strcmp(kv, "path") && *v)
			d.path = v;
		else if (!strcmp(kv, "id") && *v)
			d.id = v;
		else if (!strcmp(kv, "ro")) {
			if (!parse_onoff(v, &d.ro))
				r = err_set(err, EINVAL, "--drive: ro must be on or off, not '%s'", v);
		} else if (!strcmp(kv, "direct")) {
			if (!parse_onoff(v, &d.direct))
				r = err_set(err, EINVAL, "--drive: direct must be on or off, not '%s'", v);
		} else if ((r = rl_opt(&d.rl, kv, kv, v, "--drive", err)) > 0)
			r = err_set(err, EINVAL, "--drive: unknown key '%s'", kv);
	}
	if (!r && !d.path)
		r = err_set(err, EINVAL, "--drive: path= is required");
	if (!r)
		r = vm_config_put_drive(cfg, &d, "--drive", err);
	free(spec);
	return r;
}

/* --rng-rate bw_size=..,bw_refill_time=..,ops_size=..: the rng, limited. */
static int parse_rng_rate(const char *arg, struct vm_config *cfg, struct errbuf *err)
{
	char *save = NULL, *spec = strdup(arg);
	struct ratelimit_cfg rl = { 0 };
	int r = 0;

	if (!spec)
		return -ENOMEM;
	for (char *kv = strtok_r(spec, ",", &save); kv && !r; kv = strtok_r(NULL, ",", &save)) {
		char *v;

		if ((r = kv_split(kv, "--rng-rate", &v, err)))
			break;
		if ((r = rl_opt(&rl, kv, kv, v, "--rng-rate", err)) > 0)
			r = err_set(err, EINVAL, "--rng-rate: unknown key '%s'", kv);
	}
	if (!r)
		r = vm_config_set_rng_limit(cfg, &rl, "--rng-rate", err);
	free(spec);
	return r;
}

/* --net's rate limiter keys: rx_ or tx_, then a key of --drive's.  As
 * rl_opt. */
static int net_rl_opt(struct net_cfg *n, const char *kv, const char *v, struct errbuf *err)
{
	struct ratelimit_cfg *rl = !strncmp(kv, "rx_", 3) ? &n->rx_rl :
				   !strncmp(kv, "tx_", 3) ? &n->tx_rl : NULL;

	return rl ? rl_opt(rl, kv + 3, kv, v, "--net", err) : 1;
}

static int parse_net(const char *arg, struct vm_config *cfg, struct errbuf *err)
{
	char *save = NULL, *spec = strdup(arg);
	struct net_cfg n = { 0 };
	int r = 0;

	if (!spec)
		return -ENOMEM;
	for (char *kv = strtok_r(spec, ",", &save); kv && !r; kv = strtok_r(NULL, ",", &save)) {
		char *v;

		if ((r = kv_split(kv, "--net", &v, err)))
			break;
		if (!strcmp(kv, "tap") && *v)
			n.tap = v;
		else if (!strcmp(kv, "mac"))
			n.mac_set = !(r = vm_config_parse_mac(v, n.mac, "--net", err));
		else if ((r = net_rl_opt(&n, kv, v, err)) > 0)
			r = err_set(err, EINVAL, "--net: unknown key '%s'", kv);
	}
	if (!r && !n.tap)
		r = err_set(err, EINVAL, "--net: tap= is required");
	if (!r)
		r = vm_config_put_net(cfg, &n, "--net", err);
	free(spec);
	return r;
}

/* --vsock cid=N,uds=PATH (the path's length is checked by vsock_create) */
static int parse_vsock(const char *arg, struct vm_config *cfg, struct errbuf *err)
{
	char *save = NULL, *end, *spec = strdup(arg);
	unsigned long long cid = 0;
	const char *uds = NULL;
	int r = 0;

	if (!spec)
		return -ENOMEM;
	for (char *kv = strtok_r(spec, ",", &save); kv && !r; kv = strtok_r(NULL, ",", &save)) {
		char *v;

		if ((r = kv_split(kv, "--vsock", &v, err)))
			break;
		if (!strcmp(kv, "cid")) {
			errno = 0;
			cid = strtoull(v, &end, 10);
			if (errno || !*v || *end)
				r = err_set(err, EINVAL, "--vsock: cid '%s' is not a number from 3 "
					    "to %u (0-2 are reserved)", v, UINT32_MAX - 1);
		} else if (!strcmp(kv, "uds") && *v) {
			uds = v;
		} else
			r = err_set(err, EINVAL, "--vsock: unknown key '%s'", kv);
	}
	if (!r && (!cid || !uds))
		r = err_set(err, EINVAL, "--vsock: cid= and uds= are required");
	if (!r)
		r = vm_config_set_vsock(cfg, cid, uds, "--vsock", err);
	free(spec);
	return r;
}

static int parse_raw(const char *arg, struct vm_config *cfg, struct errbuf *err)
{
	const char *at = strrchr(arg, '@');
	uint64_t addr = 0x7c00;

	if (at) {
		unsigned slot = cfg->nowned;

		if (parse_size(at + 1, &addr) || addr >= LOWMEM_RAM_END)
			return err_set(err, EINVAL, "--raw: bad load address '%s' (must be below 0x%llx)",
				       at + 1, (unsigned long long)LOWMEM_RAM_END);
		/* a later --raw replaces an earlier one: reuse its copy's slot
		 * (each repeat taking a new one overran cfg->owned) */
		for (unsigned i = 0; i < cfg->nowned; i++)
			if (cfg->raw && cfg->owned[i] == cfg->raw)
				slot = i;
		if (slot == ARRAY_SIZE(cfg->owned))
			return err_set(err, EINVAL, "--raw: too many options");
		if (slot < cfg->nowned)
			free(cfg->owned[slot]);
		cfg->raw = cfg->owned[slot] = strndup(arg, (size_t)(at - arg));
		if (slot == cfg->nowned)
			cfg->nowned++;
	} else {
		cfg->raw = arg;
	}
	if (!cfg->raw || !*cfg->raw)
		return err_set(err, EINVAL, "--raw: file name missing");
	cfg->raw_addr = addr;
	return 0;
}

/* --log-path FILE, --level L, --show-level, --show-log-origin: Firecracker's
 * logger options, into cfg->logger. */
static int parse_logger(struct vm_config *cfg, const char *name, const char *v,
			struct errbuf *err)
{
	struct logger_cfg l = cfg->logger;

	if (!strcmp(name, "--log-path"))
		l.path = v;
	else if (!strcmp(name, "--show-level"))
		l.show_level = true;
	else if (!strcmp(name, "--show-log-origin"))
		l.show_origin = true;
	else if (log_level_parse(v, &l.level))
		return err_set(err, EINVAL, "--level: '%s' is not Error, Warning, Info, Debug, "
			       "Trace or Off", v);
	return vm_config_set_logger(cfg, &l, name, err);
}

int config_parse_console(const char *v, struct vm_config *cfg, struct errbuf *err)
{
	if (!strcmp(v, "stdio"))
		return vm_config_set_console(cfg, CONSOLE_STDIO, NULL, "--console", err);
	if (!strcmp(v, "none"))
		return vm_config_set_console(cfg, CONSOLE_NONE, NULL, "--console", err);
	if (!strncmp(v, "file:", 5) && v[5])
		return vm_config_set_console(cfg, CONSOLE_FILE, v + 5, "--console", err);
	return err_set(err, EINVAL, "--console: '%s' is not stdio, none or file:PATH", v);
}

/* Options that take a value; the value may follow as the next argument or
 * after '='. */
static const char *const valued[] = {
	"--kernel", "--initrd", "--cmdline", "--cpus", "--mem", "--console",
	"--raw", "--irqchip", "--drive", "--net", "--share", "--boot-protocol", "--rng-rate",
	"--vsock", "--metrics-path", "--log-path", "--level", NULL,
};

static bool takes_value(const char *name)
{
	for (int i = 0; valued[i]; i++)
		if (!strcmp(valued[i], name))
			return true;
	return false;
}

static int apply(struct vm_config *cfg, const char *name, char *v,
		 struct errbuf *err)
{
	if (!strcmp(name, "--kernel")) {
		if (!strcmp(v, "default")) {
			cfg->kernel_default = true;
			cfg->kernel = NULL;
		} else {
			return vm_config_set_kernel(cfg, v, "--kernel", err);
		}
	} else if (!strcmp(name, "--share")) {
		if (!*v)
			return err_set(err, EINVAL, "--share needs a directory");
		cfg->share = v;
	} else if (!strcmp(name, "--boot-protocol")) {
		if (boot_proto_parse(v, &cfg->boot_proto))
			return err_set(err, EINVAL,
				       "--boot-protocol: '%s' is not auto, pvh, elf64, bzimage or multiboot", v);
	} else if (!strcmp(name, "--initrd"))
		return vm_config_set_initrd(cfg, v, "--initrd", err);
	else if (!strcmp(name, "--cmdline"))
		return vm_config_set_cmdline(cfg, v, "--cmdline", err);
	else if (!strcmp(name, "--cpus")) {
		unsigned n;

		if (parse_uint(v, ~0u, &n))
			return err_set(err, EINVAL, "--cpus: '%s' is not a number from 1 to %d", v, MAX_CPUS);
		return vm_config_set_cpus(cfg, n, "--cpus", err);
	} else if (!strcmp(name, "--mem")) {
		uint64_t size;

		if (parse_size(v, &size))
			return err_set(err, EINVAL, "--mem: '%s' is not a size (e.g. 256M, 1G)", v);
		return vm_config_set_mem(cfg, size, "--mem", err);
	} else if (!strcmp(name, "--console"))
		return config_parse_console(v, cfg, err);
	else if (!strcmp(name, "--raw"))
		return parse_raw(v, cfg, err);
	else if (!strcmp(name, "--irqchip")) {
		if (!strcmp(v, "split"))
			cfg->irqchip = IRQCHIP_SPLIT;
		else if (!strcmp(v, "full"))
			cfg->irqchip = IRQCHIP_FULL;
		else
			return err_set(err, EINVAL, "--irqchip: '%s' is not split or full", v);
	} else if (!strcmp(name, "--drive")) {
		return parse_drive(v, cfg, err);
	} else if (!strcmp(name, "--net")) {
		return parse_net(v, cfg, err);
	} else if (!strcmp(name, "--boot-time"))
		cfg->boot_time = true;
	else if (!strcmp(name, "--pit"))
		cfg->pit = true;
	else if (!strcmp(name, "--rng"))
		vm_config_set_rng(cfg, true);
	else if (!strcmp(name, "--rng-rate"))
		return parse_rng_rate(v, cfg, err);
	else if (!strcmp(name, "--vsock"))
		return parse_vsock(v, cfg, err);
	else if (!strcmp(name, "--metrics-path"))
		return vm_config_set_metrics(cfg, v, "--metrics-path", err);
	else if (!strcmp(name, "--log-path") || !strcmp(name, "--level") ||
		 !strcmp(name, "--show-level") || !strcmp(name, "--show-log-origin"))
		return parse_logger(cfg, name, v, err);
	else
		return err_set(err, EINVAL, "unknown option '%s' (see 'ember help')", name);
	return 0;
}

void config_free(struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nowned; i++)
		free(cfg->owned[i]);
	cfg->nowned = 0;
	for (unsigned i = 0; i < cfg->nstrs; i++)
		free(cfg->strs[i]);
	free(cfg->strs);
	cfg->strs = NULL;
	cfg->nstrs = cfg->capstrs = 0;
	linux_config_free(cfg);
}

int config_parse_run(int argc, char **argv, struct vm_config *cfg,
		     struct errbuf *err)
{
	vm_config_init(cfg);

	for (int i = 1; i < argc; i++) {
		char name[32];
		char *arg = argv[i], *v = NULL, *eq;
		int r;

		if (!strcmp(arg, "--")) {	/* the rest is the guest's command */
			cfg->cmd = argv + i + 1;
			cfg->ncmd = argc - i - 1;
			if (cfg->ncmd == 0 || !argv[i + 1][0])
				return err_set(err, EINVAL, "'--' must be followed by a command");
			break;
		}
		if (strncmp(arg, "--", 2) || !arg[2])
			return err_set(err, EINVAL, "unexpected argument '%s'", arg);
		eq = strchr(arg, '=');
		if (eq) {
			size_t n = (size_t)(eq - arg);

			if (n >= sizeof(name))
				return err_set(err, EINVAL, "unknown option '%.*s'", (int)n, arg);
			memcpy(name, arg, n);
			name[n] = 0;
			v = eq + 1;
		} else {
			snprintf(name, sizeof(name), "%s", arg);
			if (strlen(arg) >= sizeof(name))
				return err_set(err, EINVAL, "unknown option '%s'", arg);
		}
		if (takes_value(name)) {
			if (!v) {
				if (i + 1 >= argc)
					return err_set(err, EINVAL, "%s needs a value", name);
				v = argv[++i];
			}
		} else if (v) {
			return err_set(err, EINVAL, "%s takes no value", name);
		}
		r = apply(cfg, name, v, err);
		if (r)
			return r;
	}
	if (!cfg->kernel && !cfg->raw && !cfg->kernel_default && cfg->cmd)
		cfg->kernel_default = true;	/* `ember run -- CMD`: the default guest */
	if (!cfg->kernel && !cfg->raw && !cfg->kernel_default)
		return err_set(err, EINVAL, "no kernel: give --kernel FILE or --raw FILE[@ADDR]");
	if ((cfg->kernel || cfg->kernel_default) && cfg->raw)
		return err_set(err, EINVAL, "--kernel and --raw exclude each other");
	if (cfg->kernel_default) {
		int r = linux_resolve_default(cfg, err);

		if (r)
			return r;
	}
	if (cfg->pit)
		cfg->irqchip = IRQCHIP_FULL;	/* KVM's PIT needs its in-kernel PIC */
	return 0;
}
