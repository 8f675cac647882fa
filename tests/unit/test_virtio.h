/* tests/unit/test_virtio.h - a tiny virtio-mmio "guest driver" for the
 * device unit tests (tests/unit/test_virtio_util.c): one VM with 16 MiB of
 * fake RAM and no KVM, rings for each queue at fixed addresses, register
 * access through the MMIO bus. */
#pragma once
#include <stdbool.h>
#include <stdint.h>

#include "virtio/virtio.h"

#define VT_DESC(q) (0x10000ULL + 0x4000ULL * (q))
#define VT_AVAIL(q) (VT_DESC(q) + 0x1000)
#define VT_USED(q) (VT_DESC(q) + 0x2000)
#define VT_BUF 0x100000ULL

extern struct vm vt_vm;
extern struct virtio_dev *vt_vd;

/* A VM with only RAM and the buses (vm_fd -1: no ioeventfd, no irq). */
void vt_setup_vm(void);
/* vt_setup_vm + virtio-rng as window 0. */
void vt_setup_rng(void);
/* Destroys the devices, the buses and the RAM. */
void vt_teardown(void);
uint8_t *vt_g(uint64_t gpa);
uint32_t vt_rd(uint64_t off);
void vt_wr(uint64_t off, uint32_t v);
/* VERSION_1 | INDIRECT_DESC plus extra. */
uint64_t vt_features(uint64_t extra);
/* Reset, ACK, DRIVER, features, FEATURES_OK, every queue (size qsize,
 * zeroed rings at VT_DESC/AVAIL/USED(q)), DRIVER_OK. */
void vt_driver_init(uint64_t features, uint32_t qsize);
void vt_set_desc(unsigned q, unsigned i, uint64_t addr, uint32_t len,
		 uint16_t flags, uint16_t next);
void vt_avail_add(unsigned q, uint16_t head);
/* One device-writable buffer as chain `head`, made available. */
void vt_post_write(unsigned q, uint16_t head, uint64_t addr, uint32_t len);
uint16_t vt_used_idx(unsigned q);
uint32_t vt_used_id(unsigned q, unsigned slot);
uint32_t vt_used_len(unsigned q, unsigned slot);
/* Dispatches loop completions until used.idx of q is n (a 10 s deadline,
 * never reached when things work).  True when it got there. */
bool vt_pump_until_used(struct loop *l, unsigned q, uint16_t n);
/* One turn of the loop as loop_run makes it: submits, waits for one
 * completion if wait (10 s deadline), dispatches every completion there
 * is.  Returns how many it dispatched (0: none came).  (A NOP, and a poll
 * of an fd that is ready, complete as they are submitted.) */
unsigned vt_loop_turn(struct loop *l, bool wait);
/* Makes chain `head` available n times (a guest republishing it). */
void vt_avail_repeat(unsigned q, uint16_t head, unsigned n);
/* CLOCK_MONOTONIC in milliseconds (the limiter tests time their waits). */
uint64_t vt_mono_ms(void);
