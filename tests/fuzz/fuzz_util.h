/* tests/fuzz/fuzz_util.h - what the libFuzzer targets of tests/fuzz/
 * share: a fake VM (guest RAM and buses, no KVM: vm_fd -1), a reader that
 * takes fields from the input bytes (zeros once they run out), and quiet
 * logging. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "monitor/monitor.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Logs errors only (EMBER_LOG wins when set): a guest-triggered warning
 * on every input would drown the fuzzer's own output. */
void fz_quiet(void);
/* A VM with mem bytes of fresh RAM and empty buses; aborts on failure. */
void fz_vm_init(struct vm *vm, uint64_t mem);
/* Destroys the devices, the buses and the RAM of a fz_vm_init VM. */
void fz_vm_destroy(struct vm *vm);
/* A drive image of size bytes (a memfd, as /proc/self/fd/N) into path;
 * the fd stays open for the process.  Aborts on failure. */
void fz_image(char *path, size_t cap, uint64_t size);

struct fz {
	const uint8_t *p;
	size_t n;
};
uint8_t fz_u8(struct fz *f);
uint16_t fz_u16(struct fz *f);
uint32_t fz_u32(struct fz *f);
uint64_t fz_u64(struct fz *f);
/* Up to len bytes (fewer at the end): a pointer into the input, the
 * count in *got. */
const uint8_t *fz_bytes(struct fz *f, size_t len, size_t *got);
