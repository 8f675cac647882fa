/* monitor/boot/elf.c - ELF parsing shared by the PVH, ELF64 and Multiboot
 * loaders: checks every header field a hostile file could lie in before
 * anything is written to the guest, then loads PT_LOADs at p_paddr. */
#include <elf.h>
#include <errno.h>
#include <string.h>

#include "monitor/boot/boot.h"

#define ELF_MAX_PHDRS 128

bool boot_is_elf(const uint8_t *image, size_t len)
{
	return len >= SELFMAG && memcmp(image, ELFMAG, SELFMAG) == 0;
}

/* One program header, whatever the class. */
struct phdr {
	uint32_t type;
	uint64_t offset, paddr, filesz, memsz;
};

static void read_phdr(const uint8_t *p, int elfclass, struct phdr *ph)
{
	if (elfclass == 64) {
		Elf64_Phdr h;

		memcpy(&h, p, sizeof(h));
		ph->type = h.p_type;
		ph->offset = h.p_offset;
		ph->paddr = h.p_paddr;
		ph->filesz = h.p_filesz;
		ph->memsz = h.p_memsz;
	} else {
		Elf32_Phdr h;

		memcpy(&h, p, sizeof(h));
		ph->type = h.p_type;
		ph->offset = h.p_offset;
		ph->paddr = h.p_paddr;
		ph->filesz = h.p_filesz;
		ph->memsz = h.p_memsz;
	}
}

static uint32_t rd32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t rd64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* Walks the notes of one PT_NOTE segment (already known to lie inside the
 * file) looking for the Xen PVH entry. */
static int scan_notes(const struct boot_input *in, unsigned idx,
		      const uint8_t *p, uint64_t len, struct elf_image *out,
		      struct errbuf *err)
{
	uint64_t off = 0;

	while (len - off >= 12) {
		uint32_t namesz = rd32(p + off), descsz = rd32(p + off + 4);
		uint32_t type = rd32(p + off + 8);
		uint64_t name_off = off + 12;
		uint64_t desc_off = name_off + (((uint64_t)namesz + 3) & ~3ULL);
		uint64_t next = desc_off + (((uint64_t)descsz + 3) & ~3ULL);

		if (desc_off > len || next > len || descsz > len - desc_off)
			return err_set(err, EINVAL,
				       "kernel '%s': malformed ELF note in segment %u",
				       in->path, idx);
		if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
		    memcmp(p + name_off, "Xen", 4) == 0) {
			uint64_t v;

			if (descsz == 4)
				v = rd32(p + desc_off);
			else if (descsz == 8)
				v = rd64(p + desc_off);
			else
				return err_set(err, EINVAL,
					       "kernel '%s': PVH entry note has a %u-byte value (expected 4 or 8)",
					       in->path, descsz);
			if (v > UINT32_MAX)
				return err_set(err, EINVAL,
					       "kernel '%s': PVH entry point 0x%llx is above 4 GiB",
					       in->path, (unsigned long long)v);
			out->has_pvh = true;
			out->pvh_entry = v;
		}
		off = next;
	}
	return 0;
}

static int parse_ehdr(const struct boot_input *in, struct elf_image *out,
		      uint64_t *phoff, unsigned *phnum, struct errbuf *err)
{
	const uint8_t *id = in->image;
	size_t ehsize, phentsize;
	uint16_t type, ph_entsz;
	uint32_t version;

	if (!boot_is_elf(in->image, in->len))
		return err_set(err, ENOEXEC, "kernel '%s': not an ELF file (bad magic)",
			       in->path);
	if (in->len < EI_NIDENT)
		return err_set(err, EINVAL, "kernel '%s': truncated ELF header",
			       in->path);
	if (id[EI_CLASS] != ELFCLASS32 && id[EI_CLASS] != ELFCLASS64)
		return err_set(err, EINVAL, "kernel '%s': unsupported ELF class %u",
			       in->path, id[EI_CLASS]);
	if (id[EI_DATA] != ELFDATA2LSB)
		return err_set(err, EINVAL, "kernel '%s': not a little-endian ELF file",
			       in->path);
	out->elfclass = id[EI_CLASS] == ELFCLASS64 ? 64 : 32;
	ehsize = out->elfclass == 64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);
	phentsize = out->elfclass == 64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	if (in->len < ehsize)
		return err_set(err, EINVAL, "kernel '%s': truncated ELF header",
			       in->path);
	if (out->elfclass == 64) {
		Elf64_Ehdr h;

		memcpy(&h, in->image, sizeof(h));
		type = h.e_type;
		out->machine = h.e_machine;
		version = h.e_version;
		out->entry = h.e_entry;
		*phoff = h.e_phoff;
		ph_entsz = h.e_phentsize;
		*phnum = h.e_phnum;
	} else {
		Elf32_Ehdr h;

		memcpy(&h, in->image, sizeof(h));
		type = h.e_type;
		out->machine = h.e_machine;
		version = h.e_version;
		out->entry = h.e_entry;
		*phoff = h.e_phoff;
		ph_entsz = h.e_phentsize;
		*phnum = h.e_phnum;
	}
	if (version != EV_CURRENT)
		return err_set(err, EINVAL, "kernel '%s': unsupported ELF version %u",
			       in->path, version);
	if (type != ET_EXEC && type != ET_DYN)
		return err_set(err, EINVAL, "kernel '%s': ELF type %u is not an executable",
			       in->path, type);
	if ((out->elfclass == 64 && out->machine != EM_X86_64) ||
	    (out->elfclass == 32 && out->machine != EM_386))
		return err_set(err, EINVAL, "kernel '%s': ELF%d machine %u is not %s",
			       in->path, out->elfclass, out->machine,
			       out->elfclass == 64 ? "x86-64" : "i386");
	if (*phnum == 0)
		return err_set(err, EINVAL, "kernel '%s': no program headers",
			       in->path);
	if (ph_entsz != phentsize)
		return err_set(err, EINVAL,
			       "kernel '%s': program header size %u, expected %zu",
			       in->path, ph_entsz, phentsize);
	if (*phnum > ELF_MAX_PHDRS)
		return err_set(err, EINVAL, "kernel '%s': too many program headers (%u)",
			       in->path, *phnum);
	/* phnum * phentsize is small now; only phoff can overflow */
	if (*phoff > in->len || in->len - *phoff < (uint64_t)*phnum * phentsize)
		return err_set(err, EINVAL,
			       "kernel '%s': program headers lie outside the file",
			       in->path);
	return 0;
}

/* Checks one PT_LOAD against the file, guest RAM and the low boot area. */
static int check_load(struct vm *vm, const struct boot_input *in, unsigned i,
		      const struct phdr *ph, struct errbuf *err)
{
	uint64_t end;

	if (ph->filesz > ph->memsz)
		return err_set(err, EINVAL,
			       "kernel '%s': segment %u has a file size (0x%llx) larger than its memory size (0x%llx)",
			       in->path, i, (unsigned long long)ph->filesz,
			       (unsigned long long)ph->memsz);
	if (ph->filesz &&
	    (ph->offset > in->len || in->len - ph->offset < ph->filesz))
		return err_set(err, EINVAL, "kernel '%s': segment %u lies outside the file",
			       in->path, i);
	if (ph->memsz == 0)
		return 0;	/* loads nothing */
	if (__builtin_add_overflow(ph->paddr, ph->memsz, &end) ||
	    !gm_ptr(vm, ph->paddr, ph->memsz))
		return err_set(err, EINVAL, "kernel '%s': segment %u lies outside guest RAM",
			       in->path, i);
	if (ph->paddr < HIMEM_START)
		return err_set(err, EINVAL,
			       "kernel '%s': segment %u overlaps the boot area below 1 MiB",
			       in->path, i);
	return 0;
}

int boot_elf_parse(struct vm *vm, const struct boot_input *in,
		   struct elf_image *out, struct errbuf *err)
{
	uint64_t phoff = 0;
	unsigned phnum = 0, i, j;
	size_t phentsize;
	int r;

	memset(out, 0, sizeof(*out));
	r = parse_ehdr(in, out, &phoff, &phnum, err);
	if (r < 0)
		return r;
	phentsize = out->elfclass == 64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);
	for (i = 0; i < phnum; i++) {
		struct phdr ph;

		read_phdr(in->image + phoff + (uint64_t)i * phentsize,
			  out->elfclass, &ph);
		if (ph.type == PT_NOTE) {
			if (ph.filesz == 0)
				continue;
			if (ph.offset > in->len || in->len - ph.offset < ph.filesz)
				return err_set(err, EINVAL,
					       "kernel '%s': segment %u lies outside the file",
					       in->path, i);
			r = scan_notes(in, i, in->image + ph.offset, ph.filesz,
				       out, err);
			if (r < 0)
				return r;
			continue;
		}
		if (ph.type != PT_LOAD)
			continue;
		r = check_load(vm, in, i, &ph, err);
		if (r < 0)
			return r;
		if (ph.memsz == 0)
			continue;	/* nothing to load */
		if (out->nseg == ELF_MAX_LOADS)
			return err_set(err, EINVAL,
				       "kernel '%s': more than %d loadable segments",
				       in->path, ELF_MAX_LOADS);
		for (j = 0; j < out->nseg; j++) {
			const struct elf_seg *s = &out->seg[j];

			if (ph.paddr < s->paddr + s->memsz &&
			    s->paddr < ph.paddr + ph.memsz)
				return err_set(err, EINVAL,
					       "kernel '%s': segments %u and %u overlap",
					       in->path, s->index, i);
		}
		out->seg[out->nseg++] = (struct elf_seg){
			.index = i, .offset = ph.offset, .filesz = ph.filesz,
			.paddr = ph.paddr, .memsz = ph.memsz,
		};
		if (out->nseg == 1 || ph.paddr < out->lo)
			out->lo = ph.paddr;
		if (ph.paddr + ph.memsz > out->hi)
			out->hi = ph.paddr + ph.memsz;
	}
	if (out->nseg == 0)
		return err_set(err, EINVAL, "kernel '%s': no loadable segments",
			       in->path);
	return 0;
}

static int check_entry(const struct boot_input *in, const struct elf_image *img,
		       uint64_t entry, struct errbuf *err)
{
	unsigned i;

	for (i = 0; i < img->nseg; i++)
		if (entry >= img->seg[i].paddr &&
		    entry - img->seg[i].paddr < img->seg[i].memsz)
			return 0;
	return err_set(err, EINVAL,
		       "kernel '%s': entry point 0x%llx lies outside the loaded segments",
		       in->path, (unsigned long long)entry);
}

int boot_elf_load(struct vm *vm, const struct boot_input *in,
		  const struct elf_image *img, uint64_t entry, struct errbuf *err)
{
	unsigned i;

	if (check_entry(in, img, entry, err))
		return -EINVAL;
	for (i = 0; i < img->nseg; i++) {
		const struct elf_seg *s = &img->seg[i];
		uint8_t *dst = gm_ptr(vm, s->paddr, s->memsz);

		if (!dst)
			return err_set(err, EFAULT,
				       "kernel '%s': segment %u lies outside guest RAM",
				       in->path, s->index);
		if (s->filesz)
			gmem_copy_in(&vm->mem, dst, in->image + s->offset, s->filesz);
		/* the bss, unless RAM is known to be zero still */
		if (!vm->mem.zeroed)
			memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}
	return 0;
}
