/* tests/guests/lib/rt.h - the tiny runtime of ember's freestanding test
 * guests: port I/O, serial output on COM1, exits, markers, and the boot
 * information of each boot protocol.  Built for 32-bit (PVH, Multiboot)
 * and 64-bit (ELF64, bzImage) guests alike.
 *
 * Output goes to the UART's THR without polling LSR: ember's (and QEMU's)
 * UART is always ready, and every instruction of guest ring-0 code is
 * costly when KVM emulates it. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define COM1 0x3f8
#define DEBUG_EXIT_PORT 0xf4	/* isa-debug-exit: status (v << 1) | 1 */
#define CTL_PORT 0xe80		/* ember control port: (arg << 8) | cmd */
#define CTL_MARKER 1
#define CTL_EXIT 2

#define noreturn __attribute__((noreturn))

static inline void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outw(uint16_t port, uint16_t v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}
static inline uint8_t inb(uint16_t port)
{
	uint8_t v;
	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint16_t inw(uint16_t port)
{
	uint16_t v;
	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t inl(uint16_t port)
{
	uint32_t v;
	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}
static inline uint32_t mmio_read32(uintptr_t addr)
{
	return *(volatile uint32_t *)addr;
}
static inline void mmio_write32(uintptr_t addr, uint32_t v)
{
	*(volatile uint32_t *)addr = v;
}
static inline uint8_t mmio_read8(uintptr_t addr)
{
	return *(volatile uint8_t *)addr;
}
static inline void mmio_write8(uintptr_t addr, uint8_t v)
{
	*(volatile uint8_t *)addr = v;
}
static inline void cpu_pause(void)
{
	__asm__ volatile("pause" ::: "memory");
}
static inline uint64_t rdtsc(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
/* Stops this CPU for good (interrupts off). */
noreturn void rt_halt(void);

/* ---- serial output (COM1) ---------------------------------------------- */
void rt_putc(char c);
/* Writes s as is (no newline added). */
void rt_puts(const char *s);
/* Writes s and a newline. */
void rt_println(const char *s);
/* Writes v in hex with a 0x prefix and no leading zeros ("0x0", "0x9fc00"). */
void rt_put_hex(uint64_t v);
/* Writes v in decimal. */
void rt_put_dec(uint32_t v);

/* ---- exits and markers ------------------------------------------------- */
/* ember control port: records marker `id` (0 = boot complete). */
void rt_marker(uint32_t id);
/* Exits through ember's control port with `status` (ember returns it as
 * is).  Should the VM go on (not ember: QEMU has no control port), falls
 * back to isa-debug-exit with `status` (QEMU then exits (status<<1)|1);
 * ember honours only the first exit request, so this changes nothing
 * there. */
noreturn void rt_exit(uint32_t status);
/* Exits through isa-debug-exit: status (v << 1) | 1. */
noreturn void rt_exit_debug(uint8_t v);

/* ---- small string helpers ---------------------------------------------- */
size_t rt_strlen(const char *s);
bool rt_streq(const char *a, const char *b);
/* Finds "key=" as a word in cmdline and parses the number after it (decimal,
 * or hex with 0x, with an optional K/M/G suffix).  True if found. */
bool rt_cmdline_num(const char *cmdline, const char *key, uint64_t *out);
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);

/* ---- boot information -------------------------------------------------- */
/* PVH: struct hvm_start_info (Xen's arch-x86/hvm/start_info.h, version 1). */
#define HVM_START_MAGIC 0x336ec578
struct hvm_start_info {
	uint32_t magic;
	uint32_t version;
	uint32_t flags;
	uint32_t nr_modules;
	uint64_t modlist_paddr;
	uint64_t cmdline_paddr;
	uint64_t rsdp_paddr;
	uint64_t memmap_paddr;		/* version >= 1 */
	uint32_t memmap_entries;	/* version >= 1 */
	uint32_t reserved;
};
struct hvm_memmap_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
	uint32_t reserved;
};
#define E820_RAM 1
#define E820_RESERVED 2

/* Linux boot protocol: offsets into struct boot_params (the zero page). */
#define BP_E820_ENTRIES 0x1e8	/* u8 */
#define BP_HDR 0x1f1		/* struct setup_header */
#define BP_HEADER_MAGIC 0x202	/* u32 "HdrS" */
#define BP_VERSION 0x206	/* u16 */
#define BP_TYPE_OF_LOADER 0x210	/* u8 */
#define BP_LOADFLAGS 0x211	/* u8 */
#define BP_CMD_LINE_PTR 0x228	/* u32 */
#define BP_EXT_CMD_LINE_PTR 0x0c8 /* u32, high half of cmd_line_ptr */
#define BP_E820_TABLE 0x2d0	/* struct boot_e820_entry[128], 20 bytes each */
#define HDRS_MAGIC 0x53726448	/* "HdrS" */
struct boot_e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} __attribute__((packed));

/* Multiboot v1 information structure (the fields the guests use). */
#define MULTIBOOT_BOOTLOADER_MAGIC 0x2BADB002
#define MBI_FLAG_MEM (1u << 0)
#define MBI_FLAG_CMDLINE (1u << 2)
#define MBI_FLAG_MMAP (1u << 6)
struct multiboot_info {
	uint32_t flags;
	uint32_t mem_lower, mem_upper;
	uint32_t boot_device;
	uint32_t cmdline;
	uint32_t mods_count, mods_addr;
	uint32_t syms[4];
	uint32_t mmap_length, mmap_addr;
};
/* One mmap entry; `size` does not count itself. */
struct multiboot_mmap_entry {
	uint32_t size;
	uint64_t addr;
	uint64_t len;
	uint32_t type;
} __attribute__((packed));
