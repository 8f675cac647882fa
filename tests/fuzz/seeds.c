/* tests/fuzz/seeds.c - writes the seed corpora of the fuzz targets
 * (`make fuzz-seeds`; the output, tests/fuzz/corpus/<target>/, is checked
 * in): small valid inputs made with ember's own encoders and device
 * saves, so that each target starts from what ember really reads.
 *   seeds DIR */
#include <asm/bootparam.h>
#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "monitor/boot/boot.h"
#include "snapshot/snapshot.h"
#include "tests/fuzz/fuzz_util.h"
#include "virtio/virtio.h"

static const char *root;

/* Writes DIR/target/name: the selector byte(s) pre, then p. */
static void put(const char *target, const char *name, const void *pre, size_t npre,
		const void *p, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, target);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s", root, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(pre, 1, npre, f) != npre || fwrite(p, 1, n, f) != n || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* ---- fuzz_snapshot ------------------------------------------------------ */
static struct vm vm;

static void make_devices(void)
{
	struct drive_cfg drive = { .id = "vda" };
	struct device *d;
	struct errbuf err;
	char img[64];

	fz_vm_init(&vm, MiB(2));
	fz_image(img, sizeof(img), KiB(64));
	drive.path = img;
	if (serial_create(&vm.host, COM1_BASE, COM1_IRQ, -1, &d) || i8042_create(&vm.host, &d) ||
	    debug_exit_create(&vm.host, &d) || ctlport_create(&vm.host, &d) ||
	    ioapic_create(&vm.host, &vm.ioapic) || blk_create(&vm.host, 0, &drive, NULL, &err) ||
	    rng_create(&vm.host, 1, NULL, NULL, &err))
		exit(1);
}

static void wr32(uint64_t gpa, uint32_t v)
{
	bus_access(&vm.mmio, gpa, &v, 4, true);
}

/* Drives a virtio device at base to DRIVER_OK with rings at ring. */
static void virtio_up(uint64_t base, uint64_t ring)
{
	uint64_t feat = 1ULL << VIRTIO_F_VERSION_1;

	wr32(base + VIRTIO_MMIO_STATUS, 3);
	wr32(base + VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr32(base + VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(feat >> 32));
	wr32(base + VIRTIO_MMIO_STATUS, 0xb);
	wr32(base + VIRTIO_MMIO_QUEUE_NUM, 16);
	wr32(base + VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)ring);
	wr32(base + VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)ring + 0x1000);
	wr32(base + VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)ring + 0x2000);
	wr32(base + VIRTIO_MMIO_QUEUE_READY, 1);
	wr32(base + VIRTIO_MMIO_STATUS, 0xf);
}

static void section(struct sbuf *file, uint32_t type, uint32_t index, const struct sbuf *s,
		    const char *name)
{
	uint8_t sel = type == SNAP_SEC_CPUID ? 5 : (uint8_t)type;

	if (type == SNAP_SEC_DEVICE)
		sel = (uint8_t)(6 + index);
	put("fuzz_snapshot", name, &sel, 1, s->data, s->len);
	snap_write_section(file, type, index, s->data, s->len);
}

/* vm.devices[] of make_devices (and of fuzz_snapshot.c) */
static const char *const dev_names[] = {
	"serial", "i8042", "isa-debug-exit", "ctlport", "ioapic", "virtio-blk", "virtio-rng",
};

static void snapshot_seeds(void)
{
	struct vm_config cfg = { .mem_size = MiB(2), .cpus = 1, .cmdline = "console=ttyS0" };
	struct snap_run runs[2] = { { 0, 1 }, { 16, 2 } };
	struct snap_mem mem = { .size = MiB(2), .low_size = MiB(2) };
	struct kvm_cpuid2 *cpuid = calloc(1, sizeof(*cpuid) + 2 * sizeof(cpuid->entries[0]));
	struct vm_state vs = { .have_clock = true, .have_irqchip = true };
	struct cpu_state cs = { .have = 1u << CPU_REGS | 1u << CPU_SREGS | 1u << CPU_LAPIC |
				1u << CPU_MP_STATE | 1u << CPU_MSRS | 1u << CPU_EVENTS };
	struct sbuf file, s;
	uint8_t zero = 0;
	char name[32];

	make_devices();
	virtio_up(VIRTIO_MMIO_BASE, 0x10000);
	virtio_up(VIRTIO_MMIO_BASE + VIRTIO_MMIO_SIZE, 0x20000);
	snap_write_begin(&file);
	cpuid->nent = 2;
	cpuid->entries[1].function = 1;
	cpuid->entries[1].eax = 0x806f8;
	sbuf_init(&s);
	snap_cpuid_encode(cpuid, &s);
	section(&file, SNAP_SEC_CPUID, 0, &s, "cpuid");
	sbuf_free(&s);
	cfg.ndrives = 1;
	cfg.drives[0].path = "disk.img";
	cfg.nnets = 1;
	cfg.nets[0].tap = "tap0";
	snap_config_encode(&cfg, &s);
	section(&file, SNAP_SEC_CONFIG, 0, &s, "config");
	sbuf_free(&s);
	snprintf(mem.file, sizeof(mem.file), "%s", SNAP_MEM_NAME);
	snap_mem_encode(&mem, &s);
	section(&file, SNAP_SEC_MEMORY, 0, &s, "memory");
	sbuf_free(&s);
	for (unsigned i = 0; i < 3; i++)
		vs.chip[i].chip_id = i;
	vm_state_encode(&vs, &s);
	section(&file, SNAP_SEC_VM, 0, &s, "vm");
	sbuf_free(&s);
	cs.regs.rip = 0x100000;
	cs.sregs.cr0 = 0x11;
	cs.mp.mp_state = KVM_MP_STATE_RUNNABLE;
	cs.msrs = calloc(1, sizeof(*cs.msrs) + 2 * sizeof(cs.msrs->entries[0]));
	cs.msrs->nmsrs = 2;
	cs.msrs->entries[0].index = 0x10;
	cs.msrs->entries[1].index = 0xc0000080;
	cpu_state_encode(&cs, &s);
	section(&file, SNAP_SEC_VCPU, 0, &s, "vcpu");
	sbuf_free(&s);
	cpu_state_free(&cs);
	for (unsigned i = 0; i < vm.ndevices; i++) {
		sbuf_init(&s);
		if (snap_device_save(vm.devices[i], &s))
			exit(1);
		snprintf(name, sizeof(name), "device-%s", dev_names[i]);
		section(&file, SNAP_SEC_DEVICE, i, &s, name);
		sbuf_free(&s);
	}
	snap_write_end(&file, 0, 0);
	put("fuzz_snapshot", "state", &zero, 1, file.data, file.len);
	sbuf_free(&file);
	/* a diff's memory section */
	mem.diff = true;
	snprintf(mem.file, sizeof(mem.file), "%s", SNAP_DIFF_NAME);
	snprintf(mem.base, sizeof(mem.base), "../1");
	mem.nruns = 2;
	mem.runs = runs;
	sbuf_init(&s);
	snap_mem_encode(&mem, &s);
	put("fuzz_snapshot", "memory-diff", "\2", 1, s.data, s.len);
	sbuf_free(&s);
	free(cpuid);
	fz_vm_destroy(&vm);
}

/* ---- fuzz_boot ------------------------------------------------------------ */
static uint8_t img[0x3000];

/* The fuzz_boot header: loader, vCPUs, raw address, command line, initrd. */
static void boot_seed(const char *name, uint8_t kind, uint8_t b1, uint32_t raw,
		      const char *cmdline, size_t initrd, size_t len)
{
	uint8_t pre[512];
	size_t n = 0, cl = strlen(cmdline);
	uint16_t il = (uint16_t)initrd;

	pre[n++] = kind;
	pre[n++] = b1;
	memcpy(pre + n, &raw, 4);
	n += 4;
	pre[n++] = (uint8_t)cl;
	memcpy(pre + n, cmdline, cl);
	n += cl;
	memcpy(pre + n, &il, 2);
	n += 2;
	memset(pre + n, 0x5a, initrd);
	n += initrd;
	put("fuzz_boot", name, pre, n, img, len);
}

/* An ELF of class cls: one PT_LOAD of 0x100 bytes at 1 MiB (bss to
 * 0x2000), and with pvh a PT_NOTE holding the Xen PVH entry note. */
static size_t build_elf(int cls, bool pvh)
{
	uint32_t note[5] = { 4, 4, XEN_ELFNOTE_PHYS32_ENTRY, 0x6e6558, 0x100000 };

	memset(img, 0, sizeof(img));
	memcpy(img + 0x200, note, sizeof(note));
	memset(img + 0x400, 0x90, 0x100);
	if (cls == 64) {
		Elf64_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_X86_64,
				  .e_version = EV_CURRENT, .e_entry = 0x100000,
				  .e_phoff = sizeof(eh), .e_ehsize = sizeof(eh),
				  .e_phentsize = sizeof(Elf64_Phdr), .e_phnum = pvh ? 2 : 1 };
		Elf64_Phdr ph[2] = {
			{ .p_type = PT_LOAD, .p_offset = 0x400, .p_vaddr = 0x100000,
			  .p_paddr = 0x100000, .p_filesz = 0x100, .p_memsz = 0x2000 },
			{ .p_type = PT_NOTE, .p_offset = 0x200, .p_filesz = sizeof(note) },
		};

		memcpy(eh.e_ident, ELFMAG, SELFMAG);
		eh.e_ident[EI_CLASS] = ELFCLASS64;
		eh.e_ident[EI_DATA] = ELFDATA2LSB;
		eh.e_ident[EI_VERSION] = EV_CURRENT;
		memcpy(img, &eh, sizeof(eh));
		memcpy(img + sizeof(eh), ph, sizeof(ph));
	} else {
		Elf32_Ehdr eh = { .e_type = ET_EXEC, .e_machine = EM_386,
				  .e_version = EV_CURRENT, .e_entry = 0x100000,
				  .e_phoff = sizeof(eh), .e_ehsize = sizeof(eh),
				  .e_phentsize = sizeof(Elf32_Phdr), .e_phnum = pvh ? 2 : 1 };
		Elf32_Phdr ph[2] = {
			{ .p_type = PT_LOAD, .p_offset = 0x400, .p_vaddr = 0x100000,
			  .p_paddr = 0x100000, .p_filesz = 0x100, .p_memsz = 0x2000 },
			{ .p_type = PT_NOTE, .p_offset = 0x200, .p_filesz = sizeof(note) },
		};

		memcpy(eh.e_ident, ELFMAG, SELFMAG);
		eh.e_ident[EI_CLASS] = ELFCLASS32;
		eh.e_ident[EI_DATA] = ELFDATA2LSB;
		eh.e_ident[EI_VERSION] = EV_CURRENT;
		memcpy(img, &eh, sizeof(eh));
		memcpy(img + sizeof(eh), ph, sizeof(ph));
	}
	return 0x500;
}

static void mb_header(size_t off, uint32_t flags, const struct mb_header *h)
{
	struct mb_header m = { 0 };

	if (h)
		m = *h;
	m.magic = MB_HEADER_MAGIC;
	m.flags = flags;
	m.checksum = -(MB_HEADER_MAGIC + flags);
	memcpy(img + off, &m, sizeof(m));
}

static void boot_seeds(void)
{
	struct boot_params *bp = (struct boot_params *)img;
	struct mb_header aout = { .header_addr = 0x200100, .load_addr = 0x200000,
				  .load_end_addr = 0x200800, .bss_end_addr = 0x201000,
				  .entry_addr = 0x200200 };
	size_t n;

	n = build_elf(64, false);
	boot_seed("elf64", 0, 0, 0, "console=ttyS0", 0, n);
	boot_seed("elf64-forced", 2, 1, 0, "", 16, n);
	n = build_elf(64, true);
	boot_seed("elf64-pvh", 1, 0, 0, "quiet", 0, n);
	n = build_elf(32, true);
	boot_seed("elf32-pvh", 0, 3, 0, "", 32, n);
	n = build_elf(32, false);
	mb_header(0x480, MB_FLAG_MEMINFO | MB_FLAG_PAGE_ALIGN, NULL);
	boot_seed("multiboot-elf32", 4, 0, 0, "mb", 64, n);
	memset(img, 0, sizeof(img));
	mb_header(0x100, MB_FLAG_AOUT_KLUDGE | MB_FLAG_MEMINFO, &aout);
	boot_seed("multiboot-aout", 0, 1, 0, "hello", 0, 0x800);
	memset(img, 0, sizeof(img));
	bp->hdr.setup_sects = 1;
	bp->hdr.boot_flag = 0xAA55;
	bp->hdr.header = 0x53726448;
	bp->hdr.version = 0x020f;
	bp->hdr.loadflags = LOADED_HIGH;
	bp->hdr.initrd_addr_max = 0x7fffff;
	bp->hdr.kernel_alignment = 0x200000;
	bp->hdr.relocatable_kernel = 1;
	bp->hdr.min_alignment = 21;
	bp->hdr.xloadflags = XLF_KERNEL_64 | XLF_CAN_BE_LOADED_ABOVE_4G;
	bp->hdr.cmdline_size = 2047;
	bp->hdr.pref_address = 0x200000;
	bp->hdr.init_size = 0x100000;
	memset(img + 0x400, 0x90, 0x200);
	boot_seed("bzimage", 3, 0, 0, "console=ttyS0 quiet", 48, 0x600);
	boot_seed("bzimage-auto", 0, 1, 0, "", 0, 0x600);
	boot_seed("bzimage-forced", 6, 3, 0, "a", 0, 0x600);
	memset(img, 0xf4, 64);
	boot_seed("raw", 5, 0, 0x7c00, "", 0, 64);
}

/* ---- fuzz_virtio (the operations of fuzz_virtio.c) ------------------------ */
enum { OP_WRITE, OP_READ, OP_MEM, OP_KICK, OP_INIT, OP_DESC, OP_AVAIL, OP_SAVE,
       OP_RESTORE };

static uint8_t ops[1024];
static size_t nops;

static void emit(const void *p, size_t n)
{
	memcpy(ops + nops, p, n);
	nops += n;
}

static void op(uint8_t code, uint8_t dq)
{
	emit(&code, 1);
	emit(&dq, 1);
}

static void op_init(uint8_t dq, uint64_t features, uint16_t qsize)
{
	op(OP_INIT, dq);
	emit(&features, 8);
	emit(&qsize, 2);
}

static void op_desc(uint8_t dq, uint16_t i, uint32_t addr, uint32_t len, uint16_t flags,
		    uint16_t next)
{
	op(OP_DESC, dq);
	emit(&i, 2);
	emit(&addr, 4);
	emit(&len, 4);
	emit(&flags, 2);
	emit(&next, 2);
}

static void op_mem(uint32_t gpa, const void *p, uint8_t n)
{
	op(OP_MEM, 0);
	emit(&gpa, 4);
	emit(&n, 1);
	emit(p, n);
}

static void op_avail(uint8_t dq, uint16_t head)
{
	op(OP_AVAIL, dq);
	emit(&head, 2);
}

/* A blk request of type at sector: header, len data bytes, status. */
static void blk_request(uint16_t d, uint32_t type, uint64_t sector, uint32_t len, bool in)
{
	struct virtio_blk_outhdr h = { .type = type, .sector = sector };
	uint32_t at = 0x100000 + 0x1000u * d;

	op_mem(at, &h, sizeof(h));
	op_desc(0, d, at, sizeof(h), VRING_DESC_F_NEXT, len ? d + 1 : d + 2);
	if (len)
		op_desc(0, d + 1, at + 0x200, len, VRING_DESC_F_NEXT | (in ? VRING_DESC_F_WRITE : 0),
			d + 2);
	op_desc(0, d + 2, at + 0x100, 1, VRING_DESC_F_WRITE, 0);
	op_avail(0, d);
}

static void virtio_seed(const char *name)
{
	put("fuzz_virtio", name, "", 0, ops, nops);
	nops = 0;
}

static void virtio_seeds(void)
{
	uint64_t blk_feat = 1ULL << VIRTIO_F_VERSION_1 | 1ULL << VQ_F_INDIRECT_DESC |
			    1ULL << VIRTIO_BLK_F_DISCARD | 1ULL << VIRTIO_BLK_F_WRITE_ZEROES;
	uint64_t v;
	uint16_t off;

	op_init(0, blk_feat, 16);
	blk_request(0, VIRTIO_BLK_T_OUT, 1, 512, false);
	blk_request(3, VIRTIO_BLK_T_IN, 1, 512, true);
	op(OP_KICK, 0);
	virtio_seed("blk-write-read");
	op_init(0, blk_feat | 1ULL << VQ_F_EVENT_IDX, 8);
	blk_request(0, VIRTIO_BLK_T_GET_ID, 0, 20, true);
	blk_request(3, VIRTIO_BLK_T_FLUSH, 0, 0, false);
	op(OP_KICK, 4);
	op(OP_SAVE, 0);
	virtio_seed("blk-getid-flush-save");
	op_init(0, blk_feat, 16);
	{
		uint8_t range[16] = { 0 };	/* sector 2, 4 sectors, flags 0 */

		range[0] = 2;
		range[8] = 4;
		op_mem(0x100200, range, sizeof(range));
	}
	blk_request(0, VIRTIO_BLK_T_DISCARD, 0, 16, false);
	op(OP_KICK, 0);
	virtio_seed("blk-discard");
	/* an indirect table at 0x110000 of two entries */
	op_init(0, blk_feat, 4);
	{
		struct virtio_blk_outhdr h = { .type = VIRTIO_BLK_T_IN };
		struct vring_desc t[3] = {
			{ .addr = 0x100000, .len = sizeof(h), .flags = VRING_DESC_F_NEXT, .next = 1 },
			{ .addr = 0x100200, .len = 512, .flags = VRING_DESC_F_NEXT | VRING_DESC_F_WRITE,
			  .next = 2 },
			{ .addr = 0x100100, .len = 1, .flags = VRING_DESC_F_WRITE },
		};

		op_mem(0x100000, &h, sizeof(h));
		op_mem(0x110000, t, sizeof(t));
	}
	op_desc(0, 0, 0x110000, 48, VRING_DESC_F_INDIRECT, 0);
	op_avail(0, 0);
	op(OP_KICK, 0);
	virtio_seed("blk-indirect");
	/* registers one by one, then config space reads */
	for (off = 0; off <= 0x70; off += 4) {
		op(OP_READ, 0);
		emit(&off, 2);
	}
	off = 0x100;
	op(OP_READ, 3 << 2);
	emit(&off, 2);
	op(OP_WRITE, 1);
	off = VIRTIO_MMIO_STATUS;
	emit(&off, 2);
	v = 3;
	emit(&v, 8);
	virtio_seed("registers");
	op_init(1, 1ULL << VIRTIO_F_VERSION_1, 4);
	op_desc(1, 0, 0x100000, 64, VRING_DESC_F_WRITE, 0);
	op_avail(1, 0);
	op(OP_KICK, 1);
	op(OP_SAVE, 1);
	virtio_seed("rng");
	/* a saved blk with one request in flight, restored */
	op_init(0, blk_feat, 16);
	op(OP_SAVE, 0);
	op(OP_RESTORE, 0);
	{
		struct sbuf sb;
		uint16_t len;

		make_devices();
		virtio_up(VIRTIO_MMIO_BASE, 0x10000);
		sbuf_init(&sb);
		vm.devices[5]->ops->save(vm.devices[5], &sb);
		len = (uint16_t)sb.len;
		emit(&len, 2);
		emit(sb.data, sb.len);
		sbuf_free(&sb);
		fz_vm_destroy(&vm);
	}
	op(OP_KICK, 4);
	virtio_seed("blk-restore");
}

/* ---- fuzz_cli --------------------------------------------------------------- */
static void cli_seed(const char *name, uint8_t sel, const char *const *words)
{
	char buf[1024];
	size_t n = 0;

	for (unsigned i = 0; words[i]; i++) {
		size_t l = strlen(words[i]) + 1;

		memcpy(buf + n, words[i], l);
		n += l;
	}
	put("fuzz_cli", name, &sel, 1, buf, n ? n - 1 : 0);
}

static void cli_seeds(void)
{
	cli_seed("run", 0, (const char *const[]){ "--kernel", "vmlinux", "--cpus=2", "--mem",
		 "512M", "--cmdline", "console=ttyS0", "--drive",
		 "path=a.img,ro=on,id=root,direct=off", "--net", "tap=tap0,mac=02:00:00:00:00:01",
		 "--rng", "--pit", "--console", "file:out.log", "--boot-protocol", "pvh", NULL });
	cli_seed("run-raw", 0, (const char *const[]){ "--raw", "boot.bin@0x7c00", "--irqchip",
		 "full", "--boot-time", "--console=none", NULL });
	cli_seed("run-default", 0, (const char *const[]){ "--share", "/tmp", "--", "sh", "-c",
		 "echo hi", NULL });
	cli_seed("main", 1, (const char *const[]){ "--snapshot-dir", "snaps", "--snapshot-on",
		 "control-port,sigusr1", "--snapshot-exit", "--snapshot-diff", "--no-seccomp",
		 "--kernel=k", "--initrd=i", NULL });
	cli_seed("jail", 2, (const char *const[]){ "--id", "vm-1", "--uid", "1000", "--gid=1000",
		 "--chroot-base", "/srv/jailer", "--cgroup", "memory.max=256M", "--rlimit",
		 "nofile=1024", "--netns", "/run/netns/x", "--daemonize", "--", "run", "--kernel",
		 "/nonexistent/vmlinux", NULL });
	cli_seed("jail-restore", 2, (const char *const[]){ "--id=a", "--uid=0", "--gid=0", "--",
		 "restore", "/nonexistent/snap", "--drive", "id=vda,path=x", NULL });
	cli_seed("restore", 3, (const char *const[]){ "--drive", "id=vda,path=/tmp/a.img",
		 "--drive=id=data,path=b.img", "--net", "id=net0,tap=tap9", "--net=id=net1,tap=t",
		 "--console", "stdio", "--boot-time", NULL });
	cli_seed("values", 4, (const char *const[]){ "256M", "1GiB", "0x1000", "auto", "bzimage",
		 "file:x", "none", "abc-123", NULL });
}

/* ---- fuzz_api ------------------------------------------------------------ */
/* Selector bytes: mode (0 HTTP stream, 1 config file, 2 request lines),
 * start state (0 not started, 1 running, 2 paused), HTTP piece size. */
static void api_seed(const char *name, uint8_t mode, uint8_t state, const char *text)
{
	uint8_t sel[3] = { mode, state, mode == 0 ? 7 : 0 };

	put("fuzz_api", name, sel, 3, text, strlen(text));
}

static void api_seeds(void)
{
	api_seed("http-boot", 0, 0,
		 "PUT /boot-source HTTP/1.1\r\nContent-Length: 59\r\n\r\n"
		 "{\"kernel_image_path\":\"vmlinux\",\"boot_args\":\"console=ttyS0\"}"
		 "PUT /machine-config HTTP/1.1\r\nContent-Length: 39\r\n\r\n"
		 "{\"vcpu_count\":2,\"mem_size_mib\":256}    "
		 "PUT /actions HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 32\r\n\r\n"
		 "{\"action_type\": \"InstanceStart\"}"
		 "GET / HTTP/1.1\r\nConnection: close\r\n\r\n");
	api_seed("http-paused", 0, 1,
		 "PATCH /vm HTTP/1.1\r\nContent-Length: 18\r\n\r\n{\"state\":\"Paused\"}"
		 "PUT /snapshot/create HTTP/1.0\r\nContent-Length: 68\r\n\r\n"
		 "{\"snapshot_type\":\"Diff\",\"snapshot_path\":\"s\",\"mem_file_path\":\"m\"}    ");
	api_seed("config-file", 1, 0,
		 "{\"boot-source\": {\"kernel_image_path\": \"k\", \"initrd_path\": \"i\"},\n"
		 " \"drives\": [{\"drive_id\": \"rootfs\", \"path_on_host\": \"r\", \"is_root_device\": true,"
		 " \"partuuid\": \"0eaa91a0-01\", \"cache_type\": \"Writeback\", \"io_engine\": \"Async\","
		 " \"rate_limiter\": {\"bandwidth\": {\"size\": 0, \"refill_time\": 0}}}],\n"
		 " \"network-interfaces\": [{\"iface_id\": \"eth0\", \"host_dev_name\": \"tap0\","
		 " \"guest_mac\": \"06:00:00:00:00:01\"}],\n"
		 " \"machine-config\": {\"vcpu_count\": 2, \"mem_size_mib\": 512, \"track_dirty_pages\": true},\n"
		 " \"entropy\": {}, \"serial\": {\"serial_out_path\": \"c\"},\n"
		 " \"logger\": {\"log_path\": \"l\", \"level\": \"Debug\", \"show_level\": true},\n"
		 " \"metrics\": {\"metrics_path\": \"m\"}}");
	api_seed("lines-preboot", 2, 0,
		 "U /drives/d {\"drive_id\":\"d\",\"path_on_host\":\"d\",\"is_root_device\":false,\"is_read_only\":true}\n"
		 "U /network-interfaces/e {\"iface_id\":\"e\",\"host_dev_name\":\"t\"}\n"
		 "P /machine-config {\"vcpu_count\":4,\"smt\":false}\n"
		 "U /vsock {\"guest_cid\":3,\"uds_path\":\"v\"}\n"
		 "U /logger {\"level\":\"Info\"}\nU /metrics {\"metrics_path\":\"m\"}\n"
		 "U /snapshot/load {\"snapshot_path\":\"s\",\"mem_backend\":{\"backend_path\":\"m\",\"backend_type\":\"File\"},"
		 "\"resume_vm\":true,\"network_overrides\":[{\"iface_id\":\"e\",\"host_dev_name\":\"t2\"}]}\n"
		 "G /vm/config\nG /machine-config\n");
	api_seed("lines-running", 2, 1,
		 "P /drives/d {\"drive_id\":\"d\",\"path_on_host\":\"d\",\"rate_limiter\":{\"ops\":{\"size\":1,\"refill_time\":1}}}\n"
		 "P /network-interfaces/e {\"iface_id\":\"e\",\"rx_rate_limiter\":{}}\n"
		 "U /actions {\"action_type\":\"SendCtrlAltDel\"}\nU /actions {\"action_type\":\"FlushMetrics\"}\n"
		 "P /vm {\"state\":\"Paused\"}\n"
		 "U /snapshot/create {\"snapshot_path\":\"s\",\"mem_file_path\":\"m\"}\nP /vm {\"state\":\"Resumed\"}\n");
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: seeds DIR\n");
		return 2;
	}
	root = argv[1];
	mkdir(root, 0755);
	fz_quiet();
	snapshot_seeds();
	boot_seeds();
	virtio_seeds();
	cli_seeds();
	api_seeds();
	return 0;
}
