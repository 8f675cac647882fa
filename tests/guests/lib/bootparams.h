/* tests/guests/lib/bootparams.h - Linux zero page checks (64-bit guests). */
#pragma once
#include "rt.h"

/* Checks the zero page at bp: at least one e820 entry and RAM holding
 * [1 MiB, 2 MiB).  Returns the command line ("" if cmd_line_ptr is 0), or
 * NULL after printing "<tag>: <what is wrong>". */
const char *bp_check(const uint8_t *bp, const char *tag);
