/* tests/guests/virtio/virq.h - virtio interrupts for the 32-bit test
 * guests: an IDT, the LAPIC, and IOAPIC pins routed level-triggered (as
 * virtio-mmio's InterruptStatus line is) to a handler that reads
 * InterruptStatus, acknowledges those bits, records them and sends EOI.
 * A guest waits with virq_wait (sti; hlt), bounded by a LAPIC-timer
 * watchdog.  Faults (vectors 0-31) print the vector and exit 1. */
#pragma once
#include "vio.h"

#define VIRQ_VECTOR_BASE 0x40	/* device i of virq_route gets 0x40 + i */
#define VIRQ_MAX 8

/* Loads the IDT and enables the LAPIC (spurious vector 0xff). */
void virq_init(void);
/* Routes d's GSI (IOAPIC pin) to the next free vector; returns a handle
 * for virq_wait, or -1 when all VIRQ_MAX are taken. */
int virq_route(struct vio_dev *d);
/* Waits for an interrupt of handle h (or one already taken since the last
 * call) and returns the InterruptStatus bits seen since then.  After
 * ~5 s without one prints "<tag>: timeout waiting for an interrupt" and
 * exits 1. */
uint32_t virq_wait(int h, const char *tag);
/* Interrupts taken on handle h so far. */
uint32_t virq_count(int h);
