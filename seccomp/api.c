/* seccomp/api.c - the API thread's sandbox (`ember --api-sock`): it holds
 * no capability and makes only the system calls of its SC_API rows
 * (seccomp/rules.c).  Its ring is restricted like the VM's
 * (seccomp/uring.c), so what the kernel's io_uring workers do for it is
 * bounded too. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "seccomp/seccomp.h"

int sc_api_enter(bool off, struct errbuf *err)
{
	struct sc_params p = { .vm_fd = -1, .pid = getpid() };
	struct sock_fprog prog;
	unsigned features = 0;
	int r = sc_caps_drop();

	if (r)
		return err_set(err, -r, "sandbox: dropping capabilities: %s", strerror(-r));
	if (off)
		return 0;
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_UNDEFINED__) || \
	defined(EMBER_SANITIZER)
	features |= SC_F_SANITIZER;
#endif
	r = sc_build(SC_API, features, &p, &prog);
	if (r)
		return err_set(err, -r, "sandbox: building the API thread's filter: %s", strerror(-r));
	r = sc_install(&prog);
	sc_prog_free(&prog);
	if (r)
		return err_set(err, -r, "sandbox: installing the API thread's filter: %s", strerror(-r));
	return 0;
}
