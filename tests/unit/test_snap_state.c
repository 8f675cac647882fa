/* Unit tests of the snapshot sections (config, memory, vCPU, VM) and of
 * the memory images (sparse full file, diff, applying a diff), on a memfd
 * guest RAM: no KVM. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot/snapshot.h"

Test(snap_state, strings)
{
	struct sbuf sb, v;
	char out[8];

	sbuf_init(&sb);
	sbuf_put_str(&sb, "abc");
	sbuf_put_str(&sb, "");
	sbuf_put_str(&sb, "too long!");
	sbuf_view(&v, sb.data, sb.len);
	cr_assert_eq(sbuf_get_str(&v, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "abc");
	cr_assert_eq(sbuf_get_str(&v, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "");
	cr_assert_eq(sbuf_get_str(&v, out, sizeof(out)), -EINVAL, "9 bytes do not fit in 8");
	cr_assert_eq(sbuf_get_str(&v, out, sizeof(out)), -EINVAL, "errors stick");
	sbuf_free(&sb);
}

Test(snap_state, string_with_nul_refused)
{
	struct sbuf sb, v;
	char out[8];

	sbuf_init(&sb);
	sbuf_put_u32(&sb, 3);
	sbuf_put(&sb, "a\0b", 3);
	sbuf_view(&v, sb.data, sb.len);
	cr_assert_eq(sbuf_get_str(&v, out, sizeof(out)), -EINVAL);
	sbuf_free(&sb);
}

Test(snap_state, config_round_trip)
{
	struct vm_config in, out;
	struct sbuf sb, v;

	memset(&in, 0, sizeof(in));
	in.mem_size = MiB(512);
	in.cpus = 3;
	in.irqchip = IRQCHIP_FULL;
	in.pit = true;
	in.rng = true;
	in.cmdline = "console=ttyS0 quiet";
	in.ndrives = 2;
	in.drives[0].path = "/img/root.ext4";
	in.drives[0].ro = true;
	in.drives[1].path = "data.img";
	in.drives[1].id = "data";
	in.drives[1].direct = true;
	in.drives[1].rl = (struct ratelimit_cfg){ { 1 << 20, 4096, 250 }, { 100, 0, 1000 } };
	in.rng_rl = (struct ratelimit_cfg){ { 4096, 0, 1000 }, { 0, 0, 0 } };
	in.nnets = 1;
	in.nets[0].tap = "tap0";
	memcpy(in.nets[0].mac, "\x02\x11\x22\x33\x44\x55", 6);
	in.nets[0].mac_set = true;
	in.nets[0].rx_rl = (struct ratelimit_cfg){ { 128 << 10, 1 << 20, 250 }, { 0, 0, 0 } };
	in.nets[0].tx_rl = (struct ratelimit_cfg){ { 0, 0, 0 }, { 1000, 10, 100 } };
	sbuf_init(&sb);
	snap_config_encode(&in, &sb);
	sbuf_view(&v, sb.data, sb.len);
	cr_assert_eq(snap_config_decode(&v, &out), 0);
	cr_assert_eq(out.mem_size, MiB(512));
	cr_assert_eq(out.cpus, 3);
	cr_assert_eq(out.irqchip, IRQCHIP_FULL);
	cr_assert(out.pit && out.rng);
	cr_assert_str_eq(out.cmdline, "console=ttyS0 quiet");
	cr_assert_eq(out.ndrives, 2);
	cr_assert_str_eq(out.drives[0].path, "/img/root.ext4");
	cr_assert_null(out.drives[0].id);
	cr_assert(out.drives[0].ro && !out.drives[0].direct);
	cr_assert_str_eq(out.drives[1].id, "data");
	cr_assert(out.drives[1].direct && !out.drives[1].ro);
	cr_assert_eq(memcmp(&out.drives[1].rl, &in.drives[1].rl, sizeof(in.drives[1].rl)), 0,
		     "the rate limiter");
	cr_assert_eq(out.drives[0].rl.bw.size, 0, "no limiter");
	cr_assert_eq(out.rng_rl.bw.size, 4096);
	cr_assert_eq(out.rng_rl.bw.refill_ms, 1000);
	cr_assert_eq(out.nnets, 1);
	cr_assert_str_eq(out.nets[0].tap, "tap0");
	cr_assert_eq(memcmp(out.nets[0].mac, "\x02\x11\x22\x33\x44\x55", 6), 0);
	cr_assert(out.nets[0].mac_set);
	cr_assert_eq(memcmp(&out.nets[0].rx_rl, &in.nets[0].rx_rl, sizeof(in.nets[0].rx_rl)), 0,
		     "the rx limiter");
	cr_assert_eq(memcmp(&out.nets[0].tx_rl, &in.nets[0].tx_rl, sizeof(in.nets[0].tx_rl)), 0,
		     "the tx limiter");
	cr_assert_eq(out.console, CONSOLE_STDIO);
	config_free(&out);
	/* every truncation is refused */
	for (size_t n = 0; n < sb.len; n++) {
		sbuf_view(&v, sb.data, n);
		cr_assert_neq(snap_config_decode(&v, &out), 0, "%zu of %zu bytes", n, sb.len);
		config_free(&out);
	}
	sbuf_free(&sb);
}

Test(snap_state, config_version_1_has_no_limiters_and_bad_limiters_refused)
{
	struct vm_config in, out;
	struct sbuf sb, v;

	memset(&in, 0, sizeof(in));
	in.mem_size = MiB(256);
	in.cpus = 1;
	in.cmdline = "";
	in.ndrives = 1;
	in.drives[0].path = "a.img";
	in.drives[0].rl.ops.size = 5;	/* no refill time: refused */
	sbuf_init(&sb);
	snap_config_encode(&in, &sb);
	sbuf_view(&v, sb.data, sb.len);
	cr_assert_eq(snap_config_decode(&v, &out), -EINVAL, "a bucket without refill time");
	config_free(&out);
	/* the same as version 1: no limiter words after the drive's flags */
	sbuf_free(&sb);
	in.drives[0].rl.ops.size = 0;
	sbuf_init(&sb);
	snap_config_encode(&in, &sb);
	{
		/* drop the rng's limiter (the last 48 bytes) and the drive's
		 * (the 48 before the net count) */
		uint32_t one = 1;
		size_t nets = sb.len - 48 - 4, lim = nets - 48;

		memcpy(sb.data, &one, 4);
		memmove(sb.data + lim, sb.data + nets, 4);
		sbuf_view(&v, sb.data, lim + 4);
	}
	cr_assert_eq(snap_config_decode(&v, &out), 0, "version 1");
	cr_assert_str_eq(out.drives[0].path, "a.img");
	cr_assert_eq(out.drives[0].rl.ops.size, 0);
	config_free(&out);
	sbuf_free(&sb);
}

/* A config section as versions 1 and 2 wrote it: one drive (limited in
 * 2), one network device, the rng (limited in 2). */
static void old_config(struct sbuf *sb, uint32_t ver)
{
	static const uint8_t mac[8] = { 0x02, 0, 0, 0, 0, 0x07, 1, 0 };
	const struct ratelimit_cfg drive = { { 4096, 0, 100 }, { 0, 0, 0 } };
	const struct ratelimit_cfg rng = { { 128, 0, 100 }, { 0, 0, 0 } };
	const struct ratelimit_cfg *rls[] = { &drive, &rng };

	sbuf_put_u32(sb, ver);
	sbuf_put_u64(sb, MiB(256));
	sbuf_put_u32(sb, 1);		/* vCPUs */
	sbuf_put_u32(sb, IRQCHIP_SPLIT);
	sbuf_put_u32(sb, 0);		/* pit */
	sbuf_put_u32(sb, 1);		/* rng */
	sbuf_put_str(sb, "console=ttyS0");
	sbuf_put_u32(sb, 1);
	sbuf_put_str(sb, "a.img");
	sbuf_put_str(sb, "");
	sbuf_put_u32(sb, 1);		/* ro */
	for (unsigned i = 0; i < 2; i++) {
		if (ver >= 2) {
			const struct ratelimit_cfg *rl = rls[i];

			sbuf_put_u64(sb, rl->bw.size);
			sbuf_put_u64(sb, rl->bw.one_time_burst);
			sbuf_put_u64(sb, rl->bw.refill_ms);
			sbuf_put_u64(sb, rl->ops.size);
			sbuf_put_u64(sb, rl->ops.one_time_burst);
			sbuf_put_u64(sb, rl->ops.refill_ms);
		}
		if (i == 0) {	/* the network devices, between the two */
			sbuf_put_u32(sb, 1);
			sbuf_put_str(sb, "tap0");
			sbuf_put(sb, mac, sizeof(mac));
		}
	}
}

/* Versions 1 and 2 are read: their network devices have no limiters, and
 * 2's drive and rng limiters are kept. */
Test(snap_state, config_versions_1_and_2_are_read)
{
	for (uint32_t ver = 1; ver <= 2; ver++) {
		struct vm_config out;
		struct sbuf sb, v;

		sbuf_init(&sb);
		old_config(&sb, ver);
		sbuf_view(&v, sb.data, sb.len);
		cr_assert_eq(snap_config_decode(&v, &out), 0, "version %u", ver);
		cr_assert_str_eq(out.cmdline, "console=ttyS0");
		cr_assert_eq(out.ndrives, 1);
		cr_assert_str_eq(out.drives[0].path, "a.img");
		cr_assert(out.drives[0].ro);
		cr_assert_eq(out.drives[0].rl.bw.size, ver == 2 ? 4096 : 0, "version %u", ver);
		cr_assert_eq(out.rng_rl.bw.size, ver == 2 ? 128 : 0, "version %u", ver);
		cr_assert_eq(out.nnets, 1);
		cr_assert_str_eq(out.nets[0].tap, "tap0");
		cr_assert(out.nets[0].mac_set && out.nets[0].mac[5] == 7);
		cr_assert_eq(out.nets[0].rx_rl.bw.size, 0);
		cr_assert_eq(out.nets[0].rx_rl.ops.size, 0);
		cr_assert_eq(out.nets[0].tx_rl.bw.size, 0);
		cr_assert_eq(out.nets[0].tx_rl.ops.size, 0);
		config_free(&out);
		/* read as version 3 the same bytes lack the net limiters */
		if (ver == 2) {
			uint32_t three = 3;

			memcpy(sb.data, &three, 4);
			sbuf_view(&v, sb.data, sb.len);
			cr_assert_eq(snap_config_decode(&v, &out), -EINVAL);
			config_free(&out);
		}
		sbuf_free(&sb);
	}
}

/* A network device's limiter that is not one (a size without a refill
 * time) is refused, in rx and in tx. */
Test(snap_state, config_bad_net_limiter_refused)
{
	for (unsigned dir = 0; dir < 2; dir++) {
		struct vm_config in, out;
		struct sbuf sb, v;

		memset(&in, 0, sizeof(in));
		in.mem_size = MiB(256);
		in.cpus = 1;
		in.cmdline = "";
		in.nnets = 1;
		in.nets[0].tap = "tap0";
		(dir ? &in.nets[0].tx_rl : &in.nets[0].rx_rl)->bw.size = 4096;
		sbuf_init(&sb);
		snap_config_encode(&in, &sb);
		sbuf_view(&v, sb.data, sb.len);
		cr_assert_eq(snap_config_decode(&v, &out), -EINVAL, "%s", dir ? "tx" : "rx");
		config_free(&out);
		sbuf_free(&sb);
	}
}

Test(snap_state, config_refuses_bad_values)
{
	struct vm_config in, out;
	struct sbuf sb, v;

	memset(&in, 0, sizeof(in));
	in.mem_size = MiB(256);
	in.cpus = 0;
	sbuf_init(&sb);
	snap_config_encode(&in, &sb);
	sbuf_view(&v, sb.data, sb.len);
	cr_assert_eq(snap_config_decode(&v, &out), -EINVAL, "0 vCPUs");
	config_free(&out);
	sbuf_free(&sb);
	in.cpus = 1;
	in.mem_size = MiB(256) + 1;
	sbuf_init(&sb);
	snap_config_encode(&in, &sb);
	sbuf_view(&v, sb.data, sb.len);
	cr_assert_eq(snap_config_decode(&v, &out), -EINVAL, "memory not a multiple of 4K");
	config_free(&out);
	sbuf_free(&sb);
}

static int mem_round(struct snap_mem *in, struct snap_mem *out)
{
	struct sbuf sb, v;
	int r;

	sbuf_init(&sb);
	snap_mem_encode(in, &sb);
	sbuf_view(&v, sb.data, sb.len);
	r = snap_mem_decode(&v, out);
	sbuf_free(&sb);
	return r;
}

Test(snap_state, memory_section)
{
	struct snap_run runs[3] = { { 0, 2 }, { 10, 1 }, { 4095, 1 } };
	struct snap_mem in = { 0 }, out;

	in.size = MiB(16);
	in.low_size = MiB(16);
	in.diff = true;
	snprintf(in.file, sizeof(in.file), "%s", SNAP_DIFF_NAME);
	snprintf(in.base, sizeof(in.base), "../1");
	in.nruns = 3;
	in.runs = runs;
	cr_assert_eq(mem_round(&in, &out), 0);
	cr_assert(out.diff);
	cr_assert_str_eq(out.base, "../1");
	cr_assert_eq(out.nruns, 3);
	cr_assert_eq(out.runs[2].first, 4095);
	snap_mem_free(&out);

	runs[1].first = 1;	/* overlaps the first run */
	cr_assert_eq(mem_round(&in, &out), -EINVAL);
	runs[1].first = 10;
	runs[2].n = 2;		/* past the end of 16 MiB */
	cr_assert_eq(mem_round(&in, &out), -EINVAL);
	runs[2].n = 1;
	snprintf(in.file, sizeof(in.file), "../memory");	/* outside the directory */
	cr_assert_eq(mem_round(&in, &out), -EINVAL);
	snprintf(in.file, sizeof(in.file), "%s", SNAP_DIFF_NAME);
	in.low_size = MiB(8);	/* not what the size implies */
	cr_assert_eq(mem_round(&in, &out), -EINVAL);
}

Test(snap_state, vcpu_round_trip)
{
	struct cpu_state in, out;
	struct sbuf sb, v;

	memset(&in, 0, sizeof(in));
	in.have = CPU_ALL & ~(1u << CPU_FPU);
	in.regs.rip = 0x100000;
	in.regs.rax = 0x1234;
	in.sregs.cr0 = 0x11;
	in.lapic.regs[0x20] = 7;
	in.mp.mp_state = KVM_MP_STATE_HALTED;
	in.xsave_size = 4096;
	in.xsave = calloc(1, 4096);
	in.xsave->region[5] = 0xdead;
	in.msrs = calloc(1, sizeof(*in.msrs) + 2 * sizeof(in.msrs->entries[0]));
	in.msrs->nmsrs = 2;
	in.msrs->entries[0].index = 0x10;
	in.msrs->entries[0].data = 99;
	in.msrs->entries[1].index = 0xc0000080;
	sbuf_init(&sb);
	cpu_state_encode(&in, &sb);
	sbuf_view(&v, sb.data, sb.len);
	cr_assert_eq(cpu_state_decode(&v, &out), 0);
	cr_assert_eq(out.have, in.have);
	cr_assert_eq(out.regs.rip, 0x100000);
	cr_assert_eq(out.sregs.cr0, 0x11);
	cr_assert_eq(out.lapic.regs[0x20], 7);
	cr_assert_eq(out.mp.mp_state, KVM_MP_STATE_HALTED);
	cr_assert_eq(out.xsave_size, 4096);
	cr_assert_eq(out.xsave->region[5], 0xdead);
	cr_assert_eq(out.msrs->nmsrs, 2);
	cr_assert_eq(out.msrs->entries[0].data, 99);
	cr_assert_eq(out.msrs->entries[1].index, 0xc0000080);
	cpu_state_free(&out);
	for (size_t n = 0; n < sb.len; n += 7) {
		sbuf_view(&v, sb.data, n);
		cr_assert_neq(cpu_state_decode(&v, &out), 0, "%zu of %zu bytes", n, sb.len);
	}
	/* a class the header does not announce */
	{
		uint32_t have = in.have & ~(1u << CPU_DEBUGREGS);

		memcpy(sb.data + 4, &have, 4);
	}
	sbuf_view(&v, sb.data, sb.len);
	cr_assert_eq(cpu_state_decode(&v, &out), -EINVAL);
	sbuf_free(&sb);
	cpu_state_free(&in);
}

Test(snap_state, vm_round_trip)
{
	struct vm_state in, out;
	struct sbuf sb, v;

	memset(&in, 0, sizeof(in));
	in.have_clock = in.have_irqchip = true;
	in.clock.clock = 123456789;
	for (unsigned i = 0; i < 3; i++)
		in.chip[i].chip_id = i;
	in.chip[2].chip.ioapic.id = 5;
	sbuf_init(&sb);
	vm_state_encode(&in, &sb);
	sbuf_view(&v, sb.data, sb.len);
	cr_assert_eq(vm_state_decode(&v, &out), 0);
	cr_assert(out.have_clock && out.have_irqchip && !out.have_pit);
	cr_assert_eq(out.clock.clock, 123456789);
	cr_assert_eq(out.chip[2].chip.ioapic.id, 5);
	sb.data[8 + sizeof(in.clock)] = 7;	/* chip 0 says it is chip 7 */
	sbuf_view(&v, sb.data, sb.len);
	cr_assert_eq(vm_state_decode(&v, &out), -EINVAL);
	sbuf_free(&sb);
}

Test(snap_state, cpuid_round_trip_and_refusals)
{
	struct kvm_cpuid2 *in = calloc(1, sizeof(*in) + 3 * sizeof(in->entries[0])), *out;
	struct sbuf sb, v;
	uint32_t big = SNAP_CPUID_MAX + 1;

	in->nent = 3;
	for (unsigned i = 0; i < 3; i++) {
		in->entries[i].function = 0xb;
		in->entries[i].index = i;
		in->entries[i].flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
		in->entries[i].eax = 10 + i;
		in->entries[i].edx = 0xdead0000 + i;
	}
	sbuf_init(&sb);
	snap_cpuid_encode(in, &sb);
	sbuf_view(&v, sb.data, sb.len);
	cr_assert_eq(snap_cpuid_decode(&v, &out), 0);
	cr_assert_eq(out->nent, 3);
	cr_assert_eq(memcmp(out->entries, in->entries, 3 * sizeof(in->entries[0])), 0);
	free(out);
	sbuf_view(&v, sb.data, sb.len - 1);	/* a short last entry */
	cr_assert_eq(snap_cpuid_decode(&v, &out), -EINVAL);
	cr_assert_null(out);
	memcpy(sb.data, &big, 4);		/* more entries than any CPU has */
	sbuf_view(&v, sb.data, sb.len);
	cr_assert_eq(snap_cpuid_decode(&v, &out), -EINVAL);
	memset(sb.data, 0, 4);			/* none */
	sbuf_view(&v, sb.data, 4);
	cr_assert_eq(snap_cpuid_decode(&v, &out), -EINVAL);
	sbuf_free(&sb);
	free(in);
}

/* ---- memory images ---------------------------------------------------- */
static char tmpdir[64];

static void mk_tmp(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/ember-snap-memXXXXXX");
	cr_assert_not_null(mkdtemp(tmpdir));
}

static void rm_tmp(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmpdir);
	cr_assert_eq(system(cmd), 0);
}

static uint64_t allocated(const char *path)
{
	struct stat st;

	cr_assert_eq(stat(path, &st), 0);
	return (uint64_t)st.st_blocks * 512;
}

Test(snap_mem, full_is_sparse_and_exact, .init = mk_tmp, .fini = rm_tmp)
{
	struct vm vm;
	struct errbuf err = { "" };
	char path[128];
	uint64_t pages = 0;
	uint8_t *back;
	int fd;

	memset(&vm, 0, sizeof(vm));
	cr_assert_eq(gmem_init(&vm.mem, MiB(64)), 0);
	vm.mem.host[0] = 1;
	vm.mem.host[MiB(3) + 17] = 2;
	memset(vm.mem.host + MiB(10), 0, 4096);	/* touched, but all zero */
	vm.mem.host[MiB(64) - 1] = 3;
	snprintf(path, sizeof(path), "%s/memory", tmpdir);
	cr_assert_eq(mem_write_full(&vm, AT_FDCWD, path, -1, &pages, &err), 0, "%s", err.msg);
	cr_assert_eq(pages, 3, "only non-zero pages are written");
	cr_assert_leq(allocated(path), 3 * 4096 + 65536, "sparse");
	fd = open(path, O_RDONLY);
	back = malloc(MiB(64));
	cr_assert_eq(pread(fd, back, MiB(64), 0), (ssize_t)MiB(64));
	cr_assert_eq(memcmp(back, vm.mem.host, MiB(64)), 0);
	close(fd);
	free(back);
	gmem_destroy(&vm.mem);
	/* and it maps back copy-on-write, the file untouched */
	cr_assert_eq(gmem_init_file(&vm.mem, MiB(64), path, NULL), 0);
	cr_assert(vm.mem.cow);
	cr_assert_eq(vm.mem.host[MiB(3) + 17], 2);
	vm.mem.host[MiB(3) + 17] = 9;
	gmem_destroy(&vm.mem);
	cr_assert_eq(gmem_init_file(&vm.mem, MiB(64), path, NULL), 0);
	cr_assert_eq(vm.mem.host[MiB(3) + 17], 2, "the file never changes");
	gmem_destroy(&vm.mem);
	cr_assert_eq(gmem_init_file(&vm.mem, MiB(32), path, NULL), -EINVAL, "size must match");
}

Test(snap_mem, diff_layers_on_base, .init = mk_tmp, .fini = rm_tmp)
{
	struct vm vm;
	struct errbuf err = { "" };
	struct snap_mem m;
	char base[128], diff[128];
	uint64_t pages = 0, bm[MiB(16) / 4096 / 64];
	uint8_t *expect;

	memset(&vm, 0, sizeof(vm));
	memset(&m, 0, sizeof(m));
	memset(bm, 0, sizeof(bm));
	cr_assert_eq(gmem_init(&vm.mem, MiB(16)), 0);
	memset(vm.mem.host, 0x11, MiB(1));
	snprintf(base, sizeof(base), "%s/memory", tmpdir);
	cr_assert_eq(mem_write_full(&vm, AT_FDCWD, base, -1, &pages, &err), 0, "%s", err.msg);
	/* change three pages, one of them back to zero */
	vm.mem.host[5 * 4096] = 0x22;
	vm.mem.host[6 * 4096 + 1] = 0x33;
	memset(vm.mem.host + 100 * 4096, 0, 4096);
	bm[0] |= 1ull << 5 | 1ull << 6;
	bm[1] |= 1ull << (100 - 64);
	snprintf(diff, sizeof(diff), "%s/memory.diff", tmpdir);
	cr_assert_eq(mem_write_diff(&vm, bm, AT_FDCWD, diff, &m, &err), 0, "%s", err.msg);
	cr_assert_eq(m.nruns, 2);
	cr_assert_eq(m.runs[0].first, 5);
	cr_assert_eq(m.runs[0].n, 2);
	cr_assert_eq(m.runs[1].first, 100);
	cr_assert_leq(allocated(diff), 2 * 4096 + 65536, "the zero page stays a hole");
	expect = malloc(MiB(16));
	memcpy(expect, vm.mem.host, MiB(16));
	gmem_destroy(&vm.mem);
	cr_assert_eq(gmem_init_file(&vm.mem, MiB(16), base, NULL), 0);
	cr_assert_eq(vm.mem.host[100 * 4096], 0x11, "the base still has it");
	cr_assert_eq(mem_apply_diff(vm.mem.host, vm.mem.size, diff, &m, &err), 0, "%s", err.msg);
	cr_assert_eq(memcmp(vm.mem.host, expect, MiB(16)), 0);
	free(expect);
	snap_mem_free(&m);
	gmem_destroy(&vm.mem);
}

/* Fresh RAM: the pages written are the ones marked (pagemap), and a
 * snapshot holds exactly them. */
Test(snap_mem, written_pages_of_fresh_ram, .init = mk_tmp, .fini = rm_tmp)
{
	struct vm vm;
	struct errbuf err = { "" };
	char path[128];
	uint64_t pages, bm[MiB(8) / 4096 / 64];

	memset(&vm, 0, sizeof(vm));
	cr_assert_eq(gmem_init(&vm.mem, MiB(8)), 0);
	int pm = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);

	cr_assert_geq(pm, 0);
	vm.mem.host[3 * 4096] = 1;
	vm.mem.host[9 * 4096 + 7] = 2;
	memset(bm, 0, sizeof(bm));
	cr_assert_eq(mem_mark_written(&vm, pm, bm), 0);
	cr_assert_eq(bm[0], (1ull << 3) | (1ull << 9));
	snprintf(path, sizeof(path), "%s/memory", tmpdir);
	cr_assert_eq(mem_write_full(&vm, AT_FDCWD, path, pm, &pages, &err), 0, "%s", err.msg);
	cr_assert_eq(pages, 2);
	close(pm);
	gmem_destroy(&vm.mem);
}

/* Fresh RAM without a pagemap (a jail has no /proc: -1, and nothing is
 * opened then) or with one that reads nothing: every page is a candidate,
 * and the snapshot still holds only the non-zero ones. */
Test(snap_mem, fresh_ram_without_pagemap, .init = mk_tmp, .fini = rm_tmp)
{
	struct vm vm;
	struct errbuf err = { "" };
	char path[128];
	uint64_t pages, bm[MiB(8) / 4096 / 64];
	int null = open("/dev/null", O_RDONLY | O_CLOEXEC);	/* reads nothing */

	cr_assert_geq(null, 0);
	memset(&vm, 0, sizeof(vm));
	cr_assert_eq(gmem_init(&vm.mem, MiB(8)), 0);
	vm.mem.host[5 * 4096] = 1;
	memset(bm, 0, sizeof(bm));
	cr_assert_eq(mem_mark_written(&vm, null, bm), 0);
	for (size_t i = 0; i < ARRAY_SIZE(bm); i++)
		cr_assert_eq(bm[i], ~0ull);
	memset(bm, 0, sizeof(bm));
	cr_assert_eq(mem_mark_written(&vm, -1, bm), 0);
	cr_assert_eq(bm[0], ~0ull);
	snprintf(path, sizeof(path), "%s/memory", tmpdir);
	cr_assert_eq(mem_write_full(&vm, AT_FDCWD, path, null, &pages, &err), 0, "%s", err.msg);
	cr_assert_eq(pages, 1);
	close(null);
	gmem_destroy(&vm.mem);
}

Test(snap_mem, written_pages_of_a_cow_mapping, .init = mk_tmp, .fini = rm_tmp)
{
	struct vm vm;
	struct errbuf err = { "" };
	char path[128];
	uint64_t pages, bm[MiB(8) / 4096 / 64];

	memset(&vm, 0, sizeof(vm));
	cr_assert_eq(gmem_init(&vm.mem, MiB(8)), 0);
	vm.mem.host[0] = 1;
	snprintf(path, sizeof(path), "%s/memory", tmpdir);
	cr_assert_eq(mem_write_full(&vm, AT_FDCWD, path, -1, &pages, &err), 0);
	gmem_destroy(&vm.mem);
	cr_assert_eq(gmem_init_file(&vm.mem, MiB(8), path, NULL), 0);
	cr_assert_eq(vm.mem.host[0], 1);	/* read: still the file's page */
	vm.mem.host[7 * 4096] = 5;		/* written: copied */
	memset(bm, 0, sizeof(bm));
	cr_assert_eq(mem_mark_written(&vm, -1, bm), 0);
	cr_assert_eq(bm[0], 1ull << 7);
	gmem_destroy(&vm.mem);
}

/* vsock is a tail of the config section: there only when the VM has one */
Test(snap_state, config_vsock_round_trip)
{
	struct vm_config in, out;
	struct sbuf sb, v;
	size_t plain;

	memset(&in, 0, sizeof(in));
	in.mem_size = MiB(256);
	in.cpus = 1;
	sbuf_init(&sb);
	snap_config_encode(&in, &sb);
	plain = sb.len;
	sbuf_free(&sb);
	in.vsock.cid = 42;
	in.vsock.uds = "/run/v.sock";
	sbuf_init(&sb);
	snap_config_encode(&in, &sb);
	cr_assert_gt(sb.len, plain);
	sbuf_view(&v, sb.data, sb.len);
	cr_assert_eq(snap_config_decode(&v, &out), 0);
	cr_assert_eq(out.vsock.cid, 42);
	cr_assert_str_eq(out.vsock.uds, "/run/v.sock");
	config_free(&out);
	/* a cut inside the tail is refused; at its start it is a VM without */
	for (size_t n = plain + 1; n < sb.len; n++) {
		sbuf_view(&v, sb.data, n);
		cr_assert_neq(snap_config_decode(&v, &out), 0, "%zu of %zu bytes", n, sb.len);
		config_free(&out);
	}
	sbuf_view(&v, sb.data, plain);
	cr_assert_eq(snap_config_decode(&v, &out), 0);
	cr_assert_null(out.vsock.uds);
	config_free(&out);
	sbuf_free(&sb);
	in.vsock.cid = 2;	/* reserved */
	sbuf_init(&sb);
	snap_config_encode(&in, &sb);
	sbuf_view(&v, sb.data, sb.len);
	cr_assert_eq(snap_config_decode(&v, &out), -EINVAL);
	config_free(&out);
	sbuf_free(&sb);
}
