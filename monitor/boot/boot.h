/* monitor/boot/boot.h - kernel loaders.  Each loader looks at the image,
 * places it and its boot structures in guest memory (only via gm_ptr), and
 * says how the boot vCPU must start.  The one internal header of boot/. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "monitor/monitor.h"

enum boot_mode {
	BOOT_REAL16,	/* real mode at cs:rip (raw binaries) */
	BOOT_PROT32,	/* flat 32-bit protected mode, paging off (PVH, multiboot) */
	BOOT_LONG64,	/* 64-bit long mode, first 4 GiB identity mapped (Linux) */
};

struct boot_entry {
	enum boot_mode mode;
	uint64_t rip;
	uint16_t cs;		/* BOOT_REAL16 only: CS selector (base = cs << 4) */
	uint64_t rax, rbx, rsi, rsp;
	const char *kind;	/* "pvh", "elf64", "bzimage", "multiboot", "raw" */
};

struct boot_input {
	const char *path;	/* kernel file name, for messages */
	const uint8_t *image;	/* whole kernel file */
	size_t len;
	const char *initrd_path;	/* NULL if none */
	const uint8_t *initrd;
	size_t initrd_len;
	const char *cmdline;	/* never NULL */
	unsigned ncpus;
	enum boot_proto proto;	/* --boot-protocol; BOOT_PROTO_AUTO (0): by content */
};

/* Parses a --boot-protocol value: auto, pvh, elf64, bzimage, multiboot.
 * 0 or -EINVAL. */
int boot_proto_parse(const char *s, enum boot_proto *out);
/* The name boot_proto_parse accepts for p. */
const char *boot_proto_name(enum boot_proto p);

/* Looks at the image and calls the matching loader: bzImage ("HdrS"),
 * ELF with a PVH note, ELF64 (Linux 64-bit boot protocol), Multiboot v1
 * header in the first 8 KiB.  Returns 0 or -errno with a message naming
 * the file and the reason, e.g. "kernel 'x': not an ELF, bzImage or
 * Multiboot image".  With in->proto set, that loader is used instead (a
 * vmlinux with a PVH note can be started through ELF64); an image that is
 * not of that kind is refused: "kernel 'x': --boot-protocol bzimage: not
 * a bzImage". */
int boot_load(struct vm *vm, const struct boot_input *in,
	      struct boot_entry *out, struct errbuf *err);

/* The loaders, for tests.  Same contract as boot_load. */
int boot_load_pvh(struct vm *vm, const struct boot_input *in,
		  struct boot_entry *out, struct errbuf *err);
int boot_load_elf64(struct vm *vm, const struct boot_input *in,
		    struct boot_entry *out, struct errbuf *err);
int boot_load_bzimage(struct vm *vm, const struct boot_input *in,
		      struct boot_entry *out, struct errbuf *err);
int boot_load_multiboot(struct vm *vm, const struct boot_input *in,
			struct boot_entry *out, struct errbuf *err);
/* Copies the raw binary to addr and starts real mode at
 * CS = addr >> 4, IP = addr & 15.  addr + len must lie in RAM below 1 MiB. */
int boot_load_raw(struct vm *vm, const struct boot_input *in, uint64_t addr,
		  struct boot_entry *out, struct errbuf *err);

/* Writes the MP floating pointer and configuration table at MPTABLE_ADDR:
 * ncpus processors (APIC IDs 0..ncpus-1, CPU 0 the BSP), an ISA bus, the
 * IOAPIC (ID ncpus) with interrupts for its 24 pins (not IRQ 2, the
 * cascade), LINT0 ExtINT, LINT1 NMI. */
int mptable_write(struct vm *vm, unsigned ncpus, struct errbuf *err);

/* ---- guest-visible boot structures (public ABIs) ---------------------- */

/* Xen PVH start of day (version 1), passed in EBX at the PVH entry. */
#define HVM_START_MAGIC 0x336ec578u
#define XEN_ELFNOTE_PHYS32_ENTRY 18
struct hvm_start_info {
	uint32_t magic;			/* HVM_START_MAGIC */
	uint32_t version;		/* 1: memmap fields valid */
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;		/* struct hvm_modlist_entry[nr_modules] */
	uint64_t cmdline_paddr;		/* NUL-terminated command line */
	uint64_t rsdp_paddr;		/* 0: no ACPI */
	uint64_t memmap_paddr;		/* struct hvm_memmap_table_entry[] */
	uint32_t memmap_entries;
	uint32_t reserved;
};
struct hvm_modlist_entry {
	uint64_t paddr, size, cmdline_paddr, reserved;
};
struct hvm_memmap_table_entry {
	uint64_t addr, size;
	uint32_t type, reserved;
};

/* Multiboot v1. */
#define MB_HEADER_MAGIC 0x1BADB002u
#define MB_BOOT_MAGIC 0x2BADB002u	/* EAX at the kernel entry */
#define MB_SEARCH_LEN 8192		/* the header lies in the first 8 KiB */
#define MB_FLAG_PAGE_ALIGN (1u << 0)	/* header: modules page aligned */
#define MB_FLAG_MEMINFO (1u << 1)	/* header: mem_* fields wanted */
#define MB_FLAG_VIDEO (1u << 2)		/* header: video mode wanted */
#define MB_FLAG_AOUT_KLUDGE (1u << 16)	/* header: address fields valid */
#define MBI_MEM (1u << 0)		/* info flags */
#define MBI_CMDLINE (1u << 2)
#define MBI_MODS (1u << 3)
#define MBI_MMAP (1u << 6)
#define MBI_LOADER_NAME (1u << 9)
struct mb_header {
	uint32_t magic, flags, checksum;
	uint32_t header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr;
};
struct mb_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;	/* KiB below 640K / above 1 MiB */
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
	uint32_t drives_length, drives_addr;
	uint32_t config_table;
	uint32_t boot_loader_name;
	uint32_t apm_table;
	uint32_t vbe[4];		/* vbe_control_info .. vbe_interface_len */
	uint8_t framebuffer[28];	/* framebuffer_* fields, unused */
};
struct mb_module {
	uint32_t mod_start, mod_end;	/* [start, end) */
	uint32_t string, reserved;
};
struct __attribute__((packed)) mb_mmap_entry {
	uint32_t size;			/* 20: the size of the rest */
	uint64_t addr, len;
	uint32_t type;
};

/* Intel MultiProcessor Specification 1.4 (packed on-disk layouts). */
struct __attribute__((packed)) mpf_intel {	/* floating pointer, 16 bytes */
	char signature[4];		/* "_MP_" */
	uint32_t physptr;		/* the configuration table */
	uint8_t length;			/* in 16-byte units: 1 */
	uint8_t specification;		/* 4 */
	uint8_t checksum;
	uint8_t feature[5];
};
struct __attribute__((packed)) mpc_table {	/* configuration table header */
	char signature[4];		/* "PCMP" */
	uint16_t length;		/* base table, header included */
	uint8_t spec;
	uint8_t checksum;
	char oem[8];
	char productid[12];
	uint32_t oemptr;
	uint16_t oemsize;
	uint16_t oemcount;		/* number of entries */
	uint32_t lapic;
	uint16_t ext_length;
	uint8_t ext_checksum;
	uint8_t reserved;
};
enum { MP_PROCESSOR = 0, MP_BUS = 1, MP_IOAPIC = 2, MP_INTSRC = 3,
       MP_LINTSRC = 4 };
enum { MP_INT = 0, MP_NMI = 1, MP_SMI = 2, MP_EXTINT = 3 };
struct __attribute__((packed)) mpc_cpu {	/* 20 bytes */
	uint8_t type, apicid, apicver, cpuflag;	/* cpuflag: 1 enabled, 2 BSP */
	uint32_t cpufeature;		/* CPUID.1 signature */
	uint32_t featureflag;		/* CPUID.1 EDX */
	uint32_t reserved[2];
};
struct __attribute__((packed)) mpc_bus {	/* 8 bytes */
	uint8_t type, busid;
	char bustype[6];
};
struct __attribute__((packed)) mpc_ioapic {	/* 8 bytes */
	uint8_t type, apicid, apicver, flags;	/* flags: 1 enabled */
	uint32_t apicaddr;
};
struct __attribute__((packed)) mpc_intsrc {	/* 8 bytes; also local */
	uint8_t type, irqtype;
	uint16_t irqflag;		/* 0: conforms to the bus */
	uint8_t srcbus, srcbusirq, dstapic, dstirq;
};

/* ---- helpers shared by the loaders (monitor/boot/common.c) ------------ */

/* Copies in->cmdline, NUL-terminated, to BOOT_CMDLINE_ADDR.  Refuses a
 * command line longer than max_len bytes (not counting the NUL) or than
 * BOOT_CMDLINE_MAX - 1.  Returns 0 or -E2BIG with a message. */
int boot_write_cmdline(struct vm *vm, const struct boot_input *in,
		       size_t max_len, struct errbuf *err);
/* Copies the initrd (if any) to the highest page-aligned address whose
 * end is <= limit and <= the end of RAM below the MMIO gap, and whose
 * start is >= floor.  *addr is 0 when there is no initrd.  Returns 0, or
 * -ENOSPC/-EINVAL with a message naming the initrd. */
int boot_place_initrd(struct vm *vm, const struct boot_input *in,
		      uint64_t floor, uint64_t limit, uint64_t *addr,
		      struct errbuf *err);
/* vm->e820, built from vm->mem first if it is still empty. */
const struct e820_map *boot_e820(struct vm *vm);
/* Sets e->rsp to BOOT_STACK_TOP and the other fields to what the mode
 * needs; loaders fill rip and the protocol registers after. */
void boot_entry_init(struct boot_entry *e, enum boot_mode mode,
		     const char *kind);

/* ---- Linux zero page (monitor/boot/elf64.c) --------------------------- */
struct boot_params;
/* Fills the loader-owned fields of a zero page whose setup header is
 * already in place: type_of_loader, the command line pointer
 * (BOOT_CMDLINE_ADDR), the initrd (address 0: none) and the e820 table. */
void boot_fill_zero_page(struct vm *vm, struct boot_params *bp,
			 uint64_t initrd, size_t initrd_len);

/* ---- ELF (monitor/boot/elf.c) ----------------------------------------- */
#define ELF_MAX_LOADS 32		/* PT_LOAD segments we accept */
struct elf_seg {
	unsigned index;			/* program header index, for messages */
	uint64_t offset, filesz, paddr, memsz;
};
struct elf_image {
	int elfclass;			/* 32 or 64 */
	uint16_t machine;		/* EM_386 or EM_X86_64 */
	uint64_t entry;			/* e_entry */
	uint64_t lo, hi;		/* [lowest paddr, highest paddr+memsz) */
	unsigned nseg;
	struct elf_seg seg[ELF_MAX_LOADS];
	bool has_pvh;			/* XEN_ELFNOTE_PHYS32_ENTRY found */
	uint64_t pvh_entry;
};

/* True when the image starts with the ELF magic. */
bool boot_is_elf(const uint8_t *image, size_t len);
/* Validates the ELF header, every PT_LOAD (inside the file, filesz <=
 * memsz, wholly in guest RAM, at or above 1 MiB, not overlapping another)
 * and the PT_NOTEs (finds the PVH entry).  Writes nothing to the guest.
 * Returns 0 or -EINVAL/-ENOEXEC with a message naming file and segment. */
int boot_elf_parse(struct vm *vm, const struct boot_input *in,
		   struct elf_image *out, struct errbuf *err);
/* Checks that entry lies inside one loaded segment (-EINVAL with a
 * message, nothing written), then copies the segments parsed by
 * boot_elf_parse to their p_paddr and zeroes each bss.  Returns 0,
 * -EINVAL, or -EFAULT (cannot happen after a good parse). */
int boot_elf_load(struct vm *vm, const struct boot_input *in,
		  const struct elf_image *img, uint64_t entry, struct errbuf *err);

/* ---- Multiboot (monitor/boot/multiboot.c) ----------------------------- */
/* Finds a Multiboot v1 header (magic, 4-byte aligned, the first 8 KiB).
 * Returns 1 and *off when one with a good checksum is found, 0 when a
 * magic is found but no good checksum (*off = first magic), -1 if none. */
int boot_mb_find(const uint8_t *image, size_t len, size_t *off);
