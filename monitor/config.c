/* monitor/config.c - parsing of `ember run` arguments and their values. */
#include <errno.h>
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

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3],
		   &b[4], &b[5], &tail) != 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	if (mac[0] & 1)
		return -EINVAL;	/* multicast */
	return 0;
}

/* Splits "k=v,k=v" in place (the string is a copy owned by the config). */
static int parse_drive(char *spec, struct drive_cfg *d, struct errbuf *err)
{
	char *save = NULL;

	memset(d, 0, sizeof(*d));
	for (char *kv = strtok_r(spec, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '=');

		if (!v)
			return err_set(err, EINVAL, "--drive: '%s' is not key=value", kv);
		*v++ = 0;
		if (!strcmp(kv, "path") && *v)
			d->path = v;
		else if (!strcmp(kv, "id") && *v)
			d->id = v;
		else if (!strcmp(kv, "ro")) {
			if (!parse_onoff(v, &d->ro))
				return err_set(err, EINVAL, "--drive: ro must be on or off, not '%s'", v);
		} else if (!strcmp(kv, "direct")) {
			if (!parse_onoff(v, &d->direct))
				return err_set(err, EINVAL, "--drive: direct must be on or off, not '%s'", v);
		} else
			return err_set(err, EINVAL, "--drive: unknown key '%s'", kv);
	}
	if (!d->path)
		return err_set(err, EINVAL, "--drive: path= is required");
	return 0;
}

static int parse_net(char *spec, struct net_cfg *n, struct errbuf *err)
{
	char *save = NULL;

	memset(n, 0, sizeof(*n));
	for (char *kv = strtok_r(spec, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '=');

		if (!v)
			return err_set(err, EINVAL, "--net: '%s' is not key=value", kv);
		*v++ = 0;
		if (!strcmp(kv, "tap") && *v) {
			if (strlen(v) >= 16)
				return err_set(err, EINVAL, "--net: tap name '%s' is longer than 15 characters", v);
			n->tap = v;
		} else if (!strcmp(kv, "mac")) {
			if (parse_mac(v, n->mac))
				return err_set(err, EINVAL, "--net: '%s' is not a unicast MAC address", v);
			n->mac_set = true;
		} else
			return err_set(err, EINVAL, "--net: unknown key '%s'", kv);
	}
	if (!n->tap)
		return err_set(err, EINVAL, "--net: tap= is required");
	return 0;
}

/* --vsock cid=N,uds=PATH (the path's length is checked by vsock_create) */
static int parse_vsock(char *spec, struct vsock_cfg *vs, struct errbuf *err)
{
	char *save = NULL, *end;

	memset(vs, 0, sizeof(*vs));
	for (char *kv = strtok_r(spec, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
		char *v = strchr(kv, '=');

		if (!v)
			return err_set(err, EINVAL, "--vsock: '%s' is not key=value", kv);
		*v++ = 0;
		if (!strcmp(kv, "cid")) {
			errno = 0;
			vs->cid = strtoull(v, &end, 10);
			if (errno || !*v || *end || vs->cid < 3 || vs->cid >= UINT32_MAX)
				return err_set(err, EINVAL, "--vsock: cid '%s' is not a number from 3 "
					       "to %u (0-2 are reserved)", v, UINT32_MAX - 1);
		} else if (!strcmp(kv, "uds") && *v) {
			vs->uds = v;
		} else
			return err_set(err, EINVAL, "--vsock: unknown key '%s'", kv);
	}
	if (!vs->cid || !vs->uds)
		return err_set(err, EINVAL, "--vsock: cid= and uds= are required");
	return 0;
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

int config_parse_console(const char *v, struct vm_config *cfg, struct errbuf *err)
{
	if (!strcmp(v, "stdio"))
		cfg->console = CONSOLE_STDIO;
	else if (!strcmp(v, "none"))
		cfg->console = CONSOLE_NONE;
	else if (!strncmp(v, "file:", 5) && v[5]) {
		cfg->console = CONSOLE_FILE;
		cfg->console_path = v + 5;
	} else
		return err_set(err, EINVAL, "--console: '%s' is not stdio, none or file:PATH", v);
	return 0;
}

/* Options that take a value; the value may follow as the next argument or
 * after '='. */
static const char *const valued[] = {
	"--kernel", "--initrd", "--cmdline", "--cpus", "--mem", "--console",
	"--raw", "--irqchip", "--drive", "--net", "--share", "--boot-protocol", "--vsock", NULL,
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
		cfg->kernel_default = !strcmp(v, "default");
		cfg->kernel = cfg->kernel_default ? NULL : v;
	} else if (!strcmp(name, "--share")) {
		if (!*v)
			return err_set(err, EINVAL, "--share needs a directory");
		cfg->share = v;
	} else if (!strcmp(name, "--boot-protocol")) {
		if (boot_proto_parse(v, &cfg->boot_proto))
			return err_set(err, EINVAL,
				       "--boot-protocol: '%s' is not auto, pvh, elf64, bzimage or multiboot", v);
	} else if (!strcmp(name, "--initrd"))
		cfg->initrd = v;
	else if (!strcmp(name, "--cmdline"))
		cfg->cmdline = v;
	else if (!strcmp(name, "--cpus")) {
		if (parse_uint(v, MAX_CPUS, &cfg->cpus) || cfg->cpus == 0)
			return err_set(err, EINVAL, "--cpus: '%s' is not a number from 1 to %d", v, MAX_CPUS);
	} else if (!strcmp(name, "--mem")) {
		if (parse_size(v, &cfg->mem_size))
			return err_set(err, EINVAL, "--mem: '%s' is not a size (e.g. 256M, 1G)", v);
		if (cfg->mem_size < MiB(2) || cfg->mem_size > GiB(1024) || cfg->mem_size & 0xfff)
			return err_set(err, EINVAL, "--mem: %s is out of range (2M to 1T, a multiple of 4K)", v);
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
		if (cfg->ndrives == MAX_DRIVES)
			return err_set(err, EINVAL, "--drive: at most %d drives", MAX_DRIVES);
		return parse_drive(v, &cfg->drives[cfg->ndrives++], err);
	} else if (!strcmp(name, "--net")) {
		if (cfg->nnets == MAX_NETS)
			return err_set(err, EINVAL, "--net: at most %d network devices", MAX_NETS);
		return parse_net(v, &cfg->nets[cfg->nnets++], err);
	} else if (!strcmp(name, "--boot-time"))
		cfg->boot_time = true;
	else if (!strcmp(name, "--pit"))
		cfg->pit = true;
	else if (!strcmp(name, "--rng"))
		cfg->rng = true;
	else if (!strcmp(name, "--vsock"))
		return parse_vsock(v, &cfg->vsock, err);
	else
		return err_set(err, EINVAL, "unknown option '%s' (see 'ember help')", name);
	return 0;
}

void config_free(struct vm_config *cfg)
{
	for (unsigned i = 0; i < cfg->nowned; i++)
		free(cfg->owned[i]);
	cfg->nowned = 0;
	linux_config_free(cfg);
}

int config_parse_run(int argc, char **argv, struct vm_config *cfg,
		     struct errbuf *err)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->cmdline = "";
	cfg->cpus = 1;
	cfg->mem_size = MiB(256);
	cfg->console = CONSOLE_STDIO;
	cfg->irqchip = IRQCHIP_SPLIT;
	cfg->share_drive = -1;

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
			/* drive/net/vsock specs are cut up in place: work on a copy */
			if (!strcmp(name, "--drive") || !strcmp(name, "--net") ||
			    !strcmp(name, "--vsock")) {
				if (cfg->nowned >= ARRAY_SIZE(cfg->owned) - 1)
					return err_set(err, EINVAL, "too many %s options", name);
				v = strdup(v);
				if (!v)
					return -ENOMEM;
				cfg->owned[cfg->nowned++] = v;
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
