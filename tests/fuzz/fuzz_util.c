/* tests/fuzz/fuzz_util.c - see fuzz_util.h. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "devices/devices.h"
#include "tests/fuzz/fuzz_util.h"

void fz_quiet(void)
{
	setenv("EMBER_LOG", "error", 0);
	log_init();
}

void fz_vm_init(struct vm *vm, uint64_t mem)
{
	memset(vm, 0, sizeof(*vm));
	if (gmem_init(&vm->mem, mem)) {
		fprintf(stderr, "fuzz: guest RAM of %llu bytes: cannot map\n",
			(unsigned long long)mem);
		abort();
	}
	vm->kvm_fd = vm->vm_fd = vm->stop_efd = vm->work.efd = vm->console_fd = -1;
	vm->pio.name = "pio";
	vm->mmio.name = "mmio";
	vm_host_init(vm);
}

void fz_vm_destroy(struct vm *vm)
{
	for (unsigned i = vm->ndevices; i-- > 0;)
		vm->devices[i]->ops->destroy(vm->devices[i]);
	vm->ndevices = 0;
	bus_destroy(&vm->mmio);
	bus_destroy(&vm->pio);
	gmem_destroy(&vm->mem);
}

void fz_image(char *path, size_t cap, uint64_t size)
{
	int fd = memfd_create("ember-fuzz-drive", 0);

	if (fd < 0 || ftruncate(fd, (off_t)size) < 0) {
		perror("fuzz: drive image");
		abort();
	}
	snprintf(path, cap, "/proc/self/fd/%d", fd);
}

const uint8_t *fz_bytes(struct fz *f, size_t len, size_t *got)
{
	const uint8_t *p = f->p;

	if (len > f->n)
		len = f->n;
	f->p += len;
	f->n -= len;
	*got = len;
	return p;
}

static uint64_t take(struct fz *f, size_t len)
{
	uint64_t v = 0;
	size_t got;
	const uint8_t *p = fz_bytes(f, len, &got);

	memcpy(&v, p, got);	/* little-endian host */
	return v;
}

uint8_t fz_u8(struct fz *f) { return (uint8_t)take(f, 1); }
uint16_t fz_u16(struct fz *f) { return (uint16_t)take(f, 2); }
uint32_t fz_u32(struct fz *f) { return (uint32_t)take(f, 4); }
uint64_t fz_u64(struct fz *f) { return take(f, 8); }
