/* seccomp/caps.c - dropping every capability, for good.
 *
 * libcap clears the effective, permitted and inheritable sets and tells
 * how many capabilities the kernel has; the bounding and ambient sets are
 * cleared with the plain prctl()s, which is what libcap's cap_drop_bound
 * and cap_reset_ambient do too, at a fifth of the cost (they take ~80 us
 * here for the 41 capabilities, the prctls ~12 us). */
#include <errno.h>
#include <sys/prctl.h>
#include <linux/securebits.h>
#include <sys/capability.h>

#include "seccomp/seccomp.h"

/* Root without capabilities would get them back through execve unless
 * these are set; they are locked so nothing can clear them. */
#define LOCKED_SECUREBITS \
	(SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP | \
	 SECBIT_NO_SETUID_FIXUP_LOCKED | SECBIT_KEEP_CAPS_LOCKED | \
	 SECBIT_NO_CAP_AMBIENT_RAISE | SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED)

int sc_caps_drop_bound(void)
{
	int n = (int)cap_max_bits();

	for (int c = 0; c < n; c++) {
		/* EPERM: no CAP_SETPCAP; EINVAL: the kernel has fewer */
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return -errno;
	}
	return 0;
}

int sc_caps_drop(void)
{
	cap_t empty;
	int r;

	/* securebits and the bounding set need CAP_SETPCAP; without it (an
	 * unprivileged ember) the bounding set stays, which no_new_privs and
	 * a filter without execve make moot */
	if (prctl(PR_SET_SECUREBITS, LOCKED_SECUREBITS, 0, 0, 0) < 0 && errno != EPERM)
		log_debug("sandbox: securebits: %m");
	r = sc_caps_drop_bound();
	if (r && r != -EPERM)
		return r;
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return -errno;
	empty = cap_init();	/* effective, permitted, inheritable: empty */
	if (!empty)
		return -errno;
	r = cap_set_proc(empty) < 0 ? -errno : 0;
	cap_free(empty);
	if (r)
		return r;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -errno;
	return 0;
}
