/* monitor/boot/bzimage.c - a Linux bzImage started through the 64-bit boot
 * protocol (Documentation/x86/boot.rst): the protected-mode part is loaded
 * high, the setup header is copied into a zero page, and the vCPU enters at
 * the 64-bit entry point (load address + 0x200). */
#include <asm/bootparam.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "monitor/boot/boot.h"

/* Offsets in the file equal offsets in the zero page from 0x1f1 on. */
#define HOFF(field) offsetof(struct boot_params, hdr.field)
#define HDR_START HOFF(setup_sects)			/* 0x1f1 */
#define HDR_END (HDR_START + sizeof(struct setup_header))
#define HDRS_MAGIC 0x53726448u				/* "HdrS" */
#define BZ_DEFAULT_LOAD HIMEM_START
#define BZ_ENTRY64_OFFSET 0x200

_Static_assert(HOFF(header) == 0x202 && HOFF(init_size) == 0x260,
	       "setup header layout");

static uint64_t rd(const uint8_t *img, size_t off, size_t n)
{
	uint64_t v = 0;

	memcpy(&v, img + off, n);	/* little-endian host */
	return v;
}
#define RD(img, field) rd(img, HOFF(field), sizeof(((struct setup_header *)0)->field))

/* What the protected-mode kernel needs in RAM when loaded at `load`. */
struct bz_layout {
	uint64_t ksize;		/* bytes of the protected-mode kernel */
	uint64_t align;		/* kernel_alignment (relocatable kernels) */
	uint64_t pref;		/* pref_address (0 if unknown) */
	uint64_t init_size;	/* from the runtime start */
	bool relocatable;
};

/* The end of the memory the kernel uses when loaded at load, or 0 when
 * that does not fit in RAM at or above 1 MiB. */
static uint64_t bz_fits(struct vm *vm, const struct bz_layout *l, uint64_t load)
{
	uint64_t start, end, rt_end;

	if (load < HIMEM_START || __builtin_add_overflow(load, l->ksize, &end))
		return 0;
	if (l->relocatable) {
		/* the kernel moves itself up to the next aligned address */
		if (__builtin_add_overflow(load, l->align - 1, &start))
			return 0;
		start -= start % l->align;
	} else {
		start = l->pref ? l->pref : load;
	}
	if (start < HIMEM_START ||
	    __builtin_add_overflow(start, l->init_size, &rt_end))
		return 0;
	if (rt_end > end)
		end = rt_end;
	if (start < load)
		load = start;
	return gm_ptr(vm, load, end - load) ? end : 0;
}

/* Checks the header; fills the layout.  No guest writes. */
static int bz_check(const struct boot_input *in, struct bz_layout *l,
		    size_t *setup_len, struct errbuf *err)
{
	const uint8_t *img = in->image;
	unsigned sects, version;

	if (in->len < HOFF(header) + 4 || RD(img, boot_flag) != 0xAA55 ||
	    RD(img, header) != HDRS_MAGIC)
		return err_set(err, ENOEXEC,
			       "kernel '%s': not a bzImage (no 0xAA55 boot flag and \"HdrS\" header)",
			       in->path);
	sects = (unsigned)RD(img, setup_sects);
	if (sects == 0)
		sects = 4;
	*setup_len = (size_t)(sects + 1) * 512;
	if (in->len < *setup_len)
		return err_set(err, EINVAL,
			       "kernel '%s': truncated bzImage (%zu bytes, the setup code alone is %zu)",
			       in->path, in->len, *setup_len);
	if (in->len == *setup_len)
		return err_set(err, EINVAL,
			       "kernel '%s': bzImage has no protected-mode kernel",
			       in->path);
	version = (unsigned)RD(img, version);
	if (version < 0x0206)
		return err_set(err, EINVAL,
			       "kernel '%s': boot protocol %u.%02u is too old (2.06 or later needed)",
			       in->path, version >> 8, version & 0xff);
	if (!(RD(img, loadflags) & LOADED_HIGH))
		return err_set(err, EINVAL,
			       "kernel '%s': zImage kernels are not supported (LOADED_HIGH not set)",
			       in->path);
	if (version < 0x020c || !(RD(img, xloadflags) & XLF_KERNEL_64))
		return err_set(err, EINVAL,
			       "kernel '%s': not a 64-bit kernel (no XLF_KERNEL_64 entry point)",
			       in->path);
	l->ksize = in->len - *setup_len;
	l->relocatable = RD(img, relocatable_kernel) != 0;
	l->align = RD(img, kernel_alignment);
	if (l->align == 0)
		l->align = 1;
	l->pref = version >= 0x020a ? RD(img, pref_address) : 0;
	l->init_size = version >= 0x020a ? RD(img, init_size) : 0;
	return 0;
}

int boot_load_bzimage(struct vm *vm, const struct boot_input *in,
		      struct boot_entry *out, struct errbuf *err)
{
	const uint8_t *img = in->image;
	struct boot_params *bp;
	struct bz_layout l;
	size_t setup_len = 0, hdr_end;
	uint64_t load, end, initrd = 0, initrd_limit;
	uint8_t *dst;
	int r;

	r = bz_check(in, &l, &setup_len, err);
	if (r < 0)
		return r;
	r = boot_write_cmdline(vm, in, (size_t)RD(img, cmdline_size), err);
	if (r < 0)
		return r;

	load = BZ_DEFAULT_LOAD;
	end = 0;
	if (l.relocatable && l.pref) {
		end = bz_fits(vm, &l, l.pref);
		if (end)
			load = l.pref;
	}
	if (!end)
		end = bz_fits(vm, &l, load);
	if (!end)
		return err_set(err, ENOSPC,
			       "kernel '%s': does not fit in guest RAM (%llu bytes, init_size 0x%llx)",
			       in->path, (unsigned long long)l.ksize,
			       (unsigned long long)l.init_size);
	dst = gm_ptr(vm, load, l.ksize);
	if (!dst)
		return err_set(err, EFAULT, "kernel '%s': no guest RAM at 0x%llx",
			       in->path, (unsigned long long)load);
	gmem_copy_in(&vm->mem, dst, img + setup_len, l.ksize);

	initrd_limit = RD(img, initrd_addr_max) + 1ULL;
	r = boot_place_initrd(vm, in, end, initrd_limit, &initrd, err);
	if (r < 0)
		return r;

	bp = gm_ptr(vm, BOOT_PARAMS_ADDR, sizeof(*bp));
	if (!bp)
		return err_set(err, EFAULT, "kernel '%s': no guest RAM for the zero page",
			       in->path);
	memset(bp, 0, sizeof(*bp));
	/* the setup header ends at 0x202 + the byte at 0x201 (the jump) */
	hdr_end = HOFF(header) + img[HOFF(jump) + 1];
	if (hdr_end > HDR_END)
		hdr_end = HDR_END;
	memcpy((uint8_t *)bp + HDR_START, img + HDR_START, hdr_end - HDR_START);
	bp->hdr.code32_start = (uint32_t)load;
	boot_fill_zero_page(vm, bp, initrd, initrd ? in->initrd_len : 0);

	boot_entry_init(out, BOOT_LONG64, "bzimage");
	out->rip = load + BZ_ENTRY64_OFFSET;
	out->rsi = BOOT_PARAMS_ADDR;
	return 0;
}
