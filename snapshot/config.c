/* snapshot/config.c - the config and memory sections of a state file:
 * what a restore needs to rebuild the VM (memory size, vCPUs, irqchip,
 * drives, network, rng, vsock) and where guest RAM comes from.  Pure code. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/snapshot.h"

/* 2: each drive's rate limiter (six u64 after its flags) and the rng's
 * (six u64 after the network devices); 3: each network device's rx and
 * tx limiters (twice six u64 after its MAC); 1 and 2 are read too */
#define CONFIG_VERSION 3
#define MEM_VERSION 1

static void put_rl(struct sbuf *sb, const struct ratelimit_cfg *rl)
{
	sbuf_put_u64(sb, rl->bw.size);
	sbuf_put_u64(sb, rl->bw.one_time_burst);
	sbuf_put_u64(sb, rl->bw.refill_ms);
	sbuf_put_u64(sb, rl->ops.size);
	sbuf_put_u64(sb, rl->ops.one_time_burst);
	sbuf_put_u64(sb, rl->ops.refill_ms);
}

/* A rate limiter, checked.  0 or -EINVAL. */
static int get_rl(struct sbuf *sb, struct ratelimit_cfg *rl)
{
	struct errbuf err;

	rl->bw.size = sbuf_get_u64(sb);
	rl->bw.one_time_burst = sbuf_get_u64(sb);
	rl->bw.refill_ms = sbuf_get_u64(sb);
	rl->ops.size = sbuf_get_u64(sb);
	rl->ops.one_time_burst = sbuf_get_u64(sb);
	rl->ops.refill_ms = sbuf_get_u64(sb);
	return sb->err || vm_config_check_ratelimit(rl, "snapshot", &err) ? -EINVAL : 0;
}

void snap_config_encode(const struct vm_config *cfg, struct sbuf *sb)
{
	uint8_t mac[8];

	sbuf_put_u32(sb, CONFIG_VERSION);
	sbuf_put_u64(sb, cfg->mem_size);
	sbuf_put_u32(sb, cfg->cpus);
	sbuf_put_u32(sb, cfg->irqchip);
	sbuf_put_u32(sb, cfg->pit);
	sbuf_put_u32(sb, cfg->rng);
	sbuf_put_str(sb, cfg->cmdline ? cfg->cmdline : "");
	sbuf_put_u32(sb, cfg->ndrives);
	for (unsigned i = 0; i < cfg->ndrives; i++) {
		const struct drive_cfg *d = &cfg->drives[i];

		sbuf_put_str(sb, d->path);
		sbuf_put_str(sb, d->id ? d->id : "");
		sbuf_put_u32(sb, (uint32_t)d->ro | (uint32_t)d->direct << 1);
		put_rl(sb, &d->rl);
	}
	sbuf_put_u32(sb, cfg->nnets);
	for (unsigned i = 0; i < cfg->nnets; i++) {
		const struct net_cfg *n = &cfg->nets[i];

		sbuf_put_str(sb, n->tap);
		memset(mac, 0, sizeof(mac));
		memcpy(mac, n->mac, 6);
		mac[6] = n->mac_set;
		sbuf_put(sb, mac, sizeof(mac));
		put_rl(sb, &n->rx_rl);
		put_rl(sb, &n->tx_rl);
	}
	put_rl(sb, &cfg->rng_rl);
	/* vsock: a tail only VMs with one have (after the rng's limiter) */
	if (cfg->vsock.uds) {
		sbuf_put_u64(sb, cfg->vsock.cid);
		sbuf_put_str(sb, cfg->vsock.uds);
	}
}

/* Strings of the decoded config live in one block (cfg->owned[0]). */
struct arena {
	char *p;
	size_t used, cap;
};

static const char *arena_str(struct sbuf *sb, struct arena *a, bool empty_null)
{
	char *s = a->p + a->used;

	if (sbuf_get_str(sb, s, a->cap - a->used))
		return NULL;
	a->used += strlen(s) + 1;
	return empty_null && !*s ? NULL : s;
}

int snap_config_decode(struct sbuf *sb, struct vm_config *cfg)
{
	struct arena a;
	uint32_t ver, cpus, irqchip, pit, rng, nd, nn;
	uint8_t mac[8];

	memset(cfg, 0, sizeof(*cfg));
	cfg->console = CONSOLE_STDIO;
	cfg->cmdline = "";
	/* every string is shorter than the section: one block holds them all */
	a.cap = sb->len - sb->pos + 16;
	a.used = 0;
	a.p = malloc(a.cap);
	if (!a.p)
		return -ENOMEM;
	cfg->owned[cfg->nowned++] = a.p;

	ver = sbuf_get_u32(sb);
	cfg->mem_size = sbuf_get_u64(sb);
	cpus = sbuf_get_u32(sb);
	irqchip = sbuf_get_u32(sb);
	pit = sbuf_get_u32(sb);
	rng = sbuf_get_u32(sb);
	if (sb->err || ver < 1 || ver > CONFIG_VERSION || cpus < 1 || cpus > MAX_CPUS ||
	    irqchip > IRQCHIP_FULL || pit > 1 || rng > 1 || cfg->mem_size < MiB(2) ||
	    cfg->mem_size > GiB(1024) || (cfg->mem_size & 0xfff))
		return -EINVAL;
	cfg->cpus = cpus;
	cfg->irqchip = irqchip;
	cfg->pit = pit;
	cfg->rng = rng;
	cfg->cmdline = arena_str(sb, &a, false);
	nd = sbuf_get_u32(sb);
	if (!cfg->cmdline || sb->err || nd > MAX_DRIVES)
		return -EINVAL;
	cfg->ndrives = nd;
	for (unsigned i = 0; i < nd; i++) {
		struct drive_cfg *d = &cfg->drives[i];
		uint32_t fl;

		d->path = arena_str(sb, &a, true);
		d->id = arena_str(sb, &a, true);
		fl = sbuf_get_u32(sb);
		if (sb->err || !d->path || fl > 3)
			return -EINVAL;
		d->ro = fl & 1;
		d->direct = fl & 2;
		if (ver >= 2 && get_rl(sb, &d->rl))
			return -EINVAL;
	}
	nn = sbuf_get_u32(sb);
	if (sb->err || nn > MAX_NETS)
		return -EINVAL;
	cfg->nnets = nn;
	for (unsigned i = 0; i < nn; i++) {
		struct net_cfg *n = &cfg->nets[i];

		n->tap = arena_str(sb, &a, true);
		sbuf_get(sb, mac, sizeof(mac));
		if (sb->err || !n->tap || mac[6] > 1)
			return -EINVAL;
		memcpy(n->mac, mac, 6);
		n->mac_set = mac[6];
		if (ver >= 3 && (get_rl(sb, &n->rx_rl) || get_rl(sb, &n->tx_rl)))
			return -EINVAL;
	}
	if (ver >= 2 && get_rl(sb, &cfg->rng_rl))
		return -EINVAL;
	if (sb->pos < sb->len) {
		cfg->vsock.cid = sbuf_get_u64(sb);
		cfg->vsock.uds = arena_str(sb, &a, true);
		if (sb->err || !cfg->vsock.uds || cfg->vsock.cid < 3 ||
		    cfg->vsock.cid >= UINT32_MAX)
			return -EINVAL;
	}
	return sb->pos == sb->len ? 0 : -EINVAL;
}

void snap_mem_encode(const struct snap_mem *m, struct sbuf *sb)
{
	sbuf_put_u32(sb, MEM_VERSION);
	sbuf_put_u64(sb, m->size);
	sbuf_put_u64(sb, m->low_size);
	sbuf_put_u32(sb, m->diff);
	sbuf_put_str(sb, m->file);
	sbuf_put_str(sb, m->base);
	sbuf_put_u64(sb, m->diff ? m->nruns : 0);
	if (m->diff)
		sbuf_put(sb, m->runs, m->nruns * sizeof(*m->runs));
}

int snap_mem_decode(struct sbuf *sb, struct snap_mem *m)
{
	uint32_t ver, diff;
	uint64_t pages, next = 0;

	memset(m, 0, sizeof(*m));
	ver = sbuf_get_u32(sb);
	m->size = sbuf_get_u64(sb);
	m->low_size = sbuf_get_u64(sb);
	diff = sbuf_get_u32(sb);
	if (sb->err || ver != MEM_VERSION || diff > 1 || m->size < MiB(2) ||
	    m->size > GiB(1024) || (m->size & 0xfff) ||
	    m->low_size != (m->size < MMIO_GAP_START ? m->size : MMIO_GAP_START))
		return -EINVAL;
	m->diff = diff;
	if (sbuf_get_str(sb, m->file, sizeof(m->file)) ||
	    sbuf_get_str(sb, m->base, sizeof(m->base)))
		return -EINVAL;
	/* the memory file lives in the snapshot's own directory */
	if (!m->file[0] || strchr(m->file, '/') || !strcmp(m->file, ".") ||
	    !strcmp(m->file, "..") || (m->diff && !m->base[0]))
		return -EINVAL;
	m->nruns = sbuf_get_u64(sb);
	pages = m->size / PAGE_SIZE_4K;
	if (sb->err || m->nruns > pages || (!m->diff && m->nruns) ||
	    m->nruns * sizeof(*m->runs) != sb->len - sb->pos)
		return -EINVAL;
	if (m->nruns) {
		m->runs = malloc(m->nruns * sizeof(*m->runs));
		if (!m->runs)
			return -ENOMEM;
		sbuf_get(sb, m->runs, m->nruns * sizeof(*m->runs));
	}
	for (uint64_t i = 0; i < m->nruns; i++) {
		const struct snap_run *r = &m->runs[i];

		/* sorted, not overlapping, not empty, inside the image */
		if (r->n == 0 || r->first < next || r->first > pages || r->n > pages - r->first) {
			snap_mem_free(m);
			return -EINVAL;
		}
		next = r->first + r->n;
	}
	return sb->err;
}

void snap_mem_free(struct snap_mem *m)
{
	free(m->runs);
	m->runs = NULL;
	m->nruns = 0;
}
