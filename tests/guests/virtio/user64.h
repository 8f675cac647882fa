/* tests/guests/virtio/user64.h - ring 3 for the 64-bit benchmark guest.
 *
 * Under an emulating KVM every guest ring-0 instruction costs about a
 * microsecond while ring-3 code runs natively, so the benchmark's I/O
 * loop runs in ring 3.  user64_enter builds 4-level page tables
 * identity-mapping the first 4 GiB with 2 MiB pages, all user-accessible
 * (RAM, rings, buffers, the virtio-mmio windows), a GDT with ring-3
 * code/data segments and a TSS, an IDT whose every vector reports itself
 * and exits 1, and goes to fn(arg) in ring 3 by iretq with IOPL=3 and
 * interrupts off.  fn must not return: it exits through the control port.
 *
 * Port I/O from ring 3 (serial output, markers, exit): on an emulating
 * host the CPU that runs guest ring 3 ignores the guest's IOPL and every
 * IN/OUT faults with #GP; the #GP handler then performs the access in
 * ring 0 and resumes after the instruction (~0.1 ms each there: keep port
 * I/O out of measured loops).  Elsewhere IOPL=3 lets it through. */
#pragma once
#include "rt.h"

noreturn void user64_enter(void (*fn)(void *), void *arg);
