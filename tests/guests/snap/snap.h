/* tests/guests/snap/snap.h - control-port commands of ember's snapshot
 * and fuzzing protocol (see snapshot/fuzz.c), for the snapshot guests. */
#pragma once
#include "rt.h"

#define CTL_DATA_LO 0xe84
#define CTL_DATA_HI 0xe88
#define CTL_SNAPSHOT 3
#define CTL_NEXT_INPUT 4
#define CTL_DONE 5
#define CTL_CRASH 6

static inline void snap_here(void)
{
	outl(CTL_PORT, CTL_SNAPSHOT);
}

/* Asks for this run's input into buf (at most cap bytes); returns its
 * length (paging is off: addresses are physical). */
static inline uint32_t snap_next_input(void *buf, uint32_t cap)
{
	outl(CTL_DATA_LO, (uint32_t)(uintptr_t)buf);
	outl(CTL_DATA_HI, 0);
	outl(CTL_PORT, (cap << 8) | CTL_NEXT_INPUT);
	return inl(CTL_DATA_LO);
}

static inline void snap_done(void)
{
	outl(CTL_PORT, CTL_DONE);
}

static inline void snap_crash(uint32_t code)
{
	outl(CTL_PORT, (code << 8) | CTL_CRASH);
}
