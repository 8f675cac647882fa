/* monitor/boot/detect.c - boot_load(): tells the image formats apart by
 * their content and hands the image to the matching loader. */
#include <errno.h>
#include <string.h>

#include "monitor/boot/boot.h"

static bool is_bzimage(const uint8_t *img, size_t len)
{
	return len >= 0x206 && img[0x1fe] == 0x55 && img[0x1ff] == 0xaa &&
	       memcmp(img + 0x202, "HdrS", 4) == 0;
}

/* An ELF: PVH note first (any class), then a Multiboot header with
 * address fields or in an ELF32, then a plain ELF64 (Linux protocol). */
static int load_elf(struct vm *vm, const struct boot_input *in,
		    struct boot_entry *out, struct errbuf *err)
{
	struct elf_image img;
	struct mb_header h;
	size_t off;
	int mb, r;

	r = boot_elf_parse(vm, in, &img, err);
	if (r < 0)
		return r;
	if (img.has_pvh)
		return boot_load_pvh(vm, in, out, err);
	mb = boot_mb_find(in->image, in->len, &off);
	if (mb >= 0 && img.elfclass == 32)
		return boot_load_multiboot(vm, in, out, err);
	if (mb > 0 && in->len - off >= 8) {
		memcpy(&h, in->image + off, 8);
		if (h.flags & MB_FLAG_AOUT_KLUDGE)
			return boot_load_multiboot(vm, in, out, err);
	}
	if (img.elfclass == 64)
		return boot_load_elf64(vm, in, out, err);
	return err_set(err, ENOEXEC, "kernel '%s': no PVH note and not an ELF64 image",
		       in->path);
}

static const char *const proto_names[] = {
	[BOOT_PROTO_AUTO] = "auto", [BOOT_PROTO_PVH] = "pvh",
	[BOOT_PROTO_ELF64] = "elf64", [BOOT_PROTO_BZIMAGE] = "bzimage",
	[BOOT_PROTO_MULTIBOOT] = "multiboot",
};

int boot_proto_parse(const char *s, enum boot_proto *out)
{
	for (unsigned i = 0; i < sizeof(proto_names) / sizeof(proto_names[0]); i++)
		if (!strcmp(s, proto_names[i])) {
			*out = (enum boot_proto)i;
			return 0;
		}
	return -EINVAL;
}

const char *boot_proto_name(enum boot_proto p)
{
	return (unsigned)p < sizeof(proto_names) / sizeof(proto_names[0]) ?
	       proto_names[p] : "?";
}

/* --boot-protocol forces a loader; the image must be of its kind. */
static int load_forced(struct vm *vm, const struct boot_input *in,
		       struct boot_entry *out, struct errbuf *err)
{
	const char *name = boot_proto_name(in->proto);
	size_t off;

	switch (in->proto) {
	case BOOT_PROTO_PVH:
	case BOOT_PROTO_ELF64:
		if (!boot_is_elf(in->image, in->len))
			return err_set(err, ENOEXEC, "kernel '%s': --boot-protocol %s: not an ELF image",
				       in->path, name);
		return in->proto == BOOT_PROTO_PVH ? boot_load_pvh(vm, in, out, err) :
						     boot_load_elf64(vm, in, out, err);
	case BOOT_PROTO_BZIMAGE:
		if (!is_bzimage(in->image, in->len))
			return err_set(err, ENOEXEC, "kernel '%s': --boot-protocol bzimage: not a bzImage",
				       in->path);
		return boot_load_bzimage(vm, in, out, err);
	case BOOT_PROTO_MULTIBOOT:
		if (boot_mb_find(in->image, in->len, &off) < 0)
			return err_set(err, ENOEXEC,
				       "kernel '%s': --boot-protocol multiboot: no Multiboot header in the first 8 KiB",
				       in->path);
		return boot_load_multiboot(vm, in, out, err);
	default:
		return err_set(err, EINVAL, "kernel '%s': unknown boot protocol %d", in->path,
			       (int)in->proto);
	}
}

int boot_load(struct vm *vm, const struct boot_input *in,
	      struct boot_entry *out, struct errbuf *err)
{
	size_t off;

	if (in->proto != BOOT_PROTO_AUTO)
		return load_forced(vm, in, out, err);
	if (is_bzimage(in->image, in->len))
		return boot_load_bzimage(vm, in, out, err);
	if (boot_is_elf(in->image, in->len))
		return load_elf(vm, in, out, err);
	if (boot_mb_find(in->image, in->len, &off) >= 0)
		return boot_load_multiboot(vm, in, out, err);
	return err_set(err, ENOEXEC,
		       "kernel '%s': not an ELF, bzImage or Multiboot image",
		       in->path);
}
