/* monitor/memfile.c - a snapshot memory file that must not change under
 * the VMs that map it.  restore, fork and fuzz map it MAP_PRIVATE: every
 * page the VM has not written yet is still the file's.  Were the file
 * truncated, those pages would be gone: an access by ember (a device, a
 * snapshot, the fuzzing reset) raises SIGBUS, one by the guest makes
 * KVM_RUN fail with EFAULT.  So a file others could change is refused
 * before it is mapped, and either fault becomes a clear stop with one
 * message and EXIT_MEMFILE instead of a crash (Firecracker, likewise,
 * ends with its own status on SIGBUS). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "monitor/monitor.h"

int memfile_check(const char *path, const struct stat *st, struct errbuf *err)
{
	static const char *const who[] = { "", "others", "its group", "its group and others" };
	unsigned w = ((st->st_mode & S_IWGRP) ? 2 : 0) | ((st->st_mode & S_IWOTH) ? 1 : 0);

	/* root may change anything anyway (and owns what a jail maps) */
	if (st->st_uid != geteuid() && st->st_uid != 0)
		return err_set(err, EPERM, "snapshot memory '%s': owned by uid %u, neither ember's "
			       "user (uid %u) nor root, who could change it under the running VM",
			       path, (unsigned)st->st_uid, (unsigned)geteuid());
	if (w)
		return err_set(err, EPERM, "snapshot memory '%s': writable by %s (mode %04o), who "
			       "could change it under the running VM (chmod go-w)", path, who[w],
			       (unsigned)(st->st_mode & 07777));
	return 0;
}

void memfile_changed_msg(const char *path, char *buf, size_t len)
{
	snprintf(buf, len, "snapshot memory '%s' changed under the running VM (truncated?): "
		 "the guest RAM it held is gone", path ? path : "?");
}

/* The handler finds the mapping without the VM, so the mappings live in a
 * table of their own (libember may run several VMs in one process); the
 * message is made when the file is mapped, as the handler may only write
 * it.  A slot is published by its start address (release) last. */
#define SLOTS 16
static struct memfile_slot {
	_Atomic(uintptr_t) start;	/* 0: free */
	size_t len;
	size_t msg_len;
	char msg[4600];		/* "ember: ...\n" */
} slots[SLOTS];
static pthread_mutex_t slots_lock = PTHREAD_MUTEX_INITIALIZER;
static struct sigaction prev_sa;
static bool installed;

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;

	/* BUS_ADRERR: a mapped page beyond the file's end (a hardware
	 * memory error, BUS_MCEERR_*, is not ours to explain) */
	for (unsigned i = 0; si->si_code == BUS_ADRERR && i < SLOTS; i++) {
		uintptr_t s = atomic_load_explicit(&slots[i].start, memory_order_acquire);

		if (s && a >= s && a - s < slots[i].len) {
			ssize_t w = write(STDERR_FILENO, slots[i].msg, slots[i].msg_len);

			(void)w;
			_exit(EXIT_MEMFILE);
		}
	}
	/* not guest RAM: what would have happened without ember's handler */
	if ((prev_sa.sa_flags & SA_SIGINFO) && prev_sa.sa_sigaction) {
		prev_sa.sa_sigaction(sig, si, uc);
	} else if (prev_sa.sa_handler != SIG_DFL && prev_sa.sa_handler != SIG_IGN) {
		prev_sa.sa_handler(sig);
	} else {
		struct sigaction dfl = { .sa_handler = SIG_DFL };

		sigaction(SIGBUS, &dfl, NULL);	/* the fault repeats and kills */
	}
}

int memfile_watch(const void *start, size_t len, const char *path)
{
	int r = -ENOSPC;

	pthread_mutex_lock(&slots_lock);
	if (!installed) {
		struct sigaction sa = { .sa_sigaction = on_sigbus,
					.sa_flags = SA_SIGINFO };

		sigemptyset(&sa.sa_mask);
		if (sigaction(SIGBUS, &sa, &prev_sa) < 0) {
			r = -errno;
			goto out;
		}
		installed = true;
	}
	for (unsigned i = 0; i < SLOTS; i++) {
		struct memfile_slot *s = &slots[i];
		char msg[4500];

		if (atomic_load(&s->start))
			continue;
		memfile_changed_msg(path, msg, sizeof(msg));
		s->msg_len = (size_t)snprintf(s->msg, sizeof(s->msg), "ember: %s\n", msg);
		if (s->msg_len >= sizeof(s->msg))
			s->msg_len = sizeof(s->msg) - 1;
		s->len = len;
		atomic_store_explicit(&s->start, (uintptr_t)start, memory_order_release);
		r = 0;
		break;
	}
out:
	pthread_mutex_unlock(&slots_lock);
	return r;
}

void memfile_unwatch(const void *start)
{
	pthread_mutex_lock(&slots_lock);
	for (unsigned i = 0; start && i < SLOTS; i++)
		if (atomic_load(&slots[i].start) == (uintptr_t)start)
			atomic_store(&slots[i].start, 0);
	pthread_mutex_unlock(&slots_lock);
}
