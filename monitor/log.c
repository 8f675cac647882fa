/* monitor/log.c - levelled logging on stderr or a log file (Firecracker's
 * logger), error buffers, the clock. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "monitor/monitor.h"

/* The level (-1: none), read by every thread; log_apply changes the
 * rest before the threads that log exist (Firecracker takes its logger
 * before the VM starts), so plain fields do for them. */
static atomic_int log_level_cur = LOG_WARN;
static atomic_bool log_inited;
static int log_fd = STDERR_FILENO;	/* a file of log_apply's, or stderr */
static atomic_bool log_show_level, log_show_origin;
static char log_module[CONFIG_ID_MAX + 1];	/* "": every message */

void log_init(void)
{
	const char *e = getenv("EMBER_LOG");

	if (atomic_exchange(&log_inited, true))
		return;
	if (!e)
		return;
	if (!strcmp(e, "error"))
		log_level_cur = LOG_ERROR;
	else if (!strcmp(e, "info"))
		log_level_cur = LOG_INFO;
	else if (!strcmp(e, "debug"))
		log_level_cur = LOG_DEBUG;
}

bool log_enabled(enum log_level level)
{
	if (!atomic_load_explicit(&log_inited, memory_order_relaxed))
		log_init();
	return (int)level <= atomic_load_explicit(&log_level_cur, memory_order_relaxed);
}

int log_level_parse(const char *s, int *level)
{
	static const struct {
		const char *name;
		int level;
	} names[] = {
		{ "error", LOG_ERROR }, { "warning", LOG_WARN }, { "warn", LOG_WARN },
		{ "info", LOG_INFO }, { "debug", LOG_DEBUG }, { "trace", LOG_DEBUG },
		{ "off", CONFIG_LOG_OFF },
	};

	for (unsigned i = 0; s && i < ARRAY_SIZE(names); i++)
		if (!strcasecmp(s, names[i].name)) {
			*level = names[i].level;
			return 0;
		}
	return -EINVAL;
}

int log_apply(const struct logger_cfg *l, struct errbuf *err)
{
	if (l->module && strlen(l->module) >= sizeof(log_module))
		return err_set(err, EINVAL, "logger: module '%.64s...' is longer than %zu bytes",
			       l->module, sizeof(log_module) - 1);
	if (l->path) {
		int fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NONBLOCK, 0644);

		if (fd < 0)
			return err_set(err, errno, "log path '%s': %s", l->path, strerror(errno));
		if (log_fd == STDERR_FILENO) {
			log_fd = fd;
		} else {	/* the same descriptor, now on the new file */
			int r = dup3(fd, log_fd, O_CLOEXEC);

			close(fd);
			if (r < 0)
				return err_set(err, errno, "log path '%s': %s", l->path,
					       strerror(errno));
		}
	}
	log_enabled(LOG_ERROR);	/* EMBER_LOG first: the logger's level wins */
	if (l->level == CONFIG_LOG_OFF)
		atomic_store(&log_level_cur, -1);
	else if (l->level != CONFIG_LOG_UNSET)
		atomic_store(&log_level_cur, l->level);
	atomic_store(&log_show_level, l->show_level);
	atomic_store(&log_show_origin, l->show_origin);
	snprintf(log_module, sizeof(log_module), "%s", l->module ? l->module : "");
	return 0;
}

void log_msg_at(enum log_level level, const char *file, int line, const char *fmt, ...)
{
	static const char *const names[] = { "ERROR", "WARN", "INFO", "DEBUG" };
	char buf[1280];
	size_t n = 0, cap = sizeof(buf) - 1;
	va_list ap;
	int k;

	if (!log_enabled(level) || (log_module[0] && strncmp(file, log_module, strlen(log_module))))
		return;
	k = snprintf(buf, cap, "ember: ");
	n = (size_t)k;
	if (atomic_load_explicit(&log_show_level, memory_order_relaxed) &&
	    (unsigned)level < ARRAY_SIZE(names))
		n += (size_t)snprintf(buf + n, cap - n, "[%s] ", names[level]);
	if (atomic_load_explicit(&log_show_origin, memory_order_relaxed))
		n += (size_t)snprintf(buf + n, cap - n, "[%s:%d] ", file, line);
	if (n >= cap)
		n = cap - 1;
	va_start(ap, fmt);
	k = vsnprintf(buf + n, cap - n, fmt, ap);
	va_end(ap);
	if (k < 0)
		return;
	n += (size_t)k < cap - n ? (size_t)k : cap - n - 1;
	buf[n++] = '\n';
	/* one write, so lines from different threads do not interleave */
	if (write(log_fd, buf, n) < 0)
		return;		/* nowhere left to say so */
}

int err_set(struct errbuf *e, int errnum, const char *fmt, ...)
{
	va_list ap;

	if (e) {
		va_start(ap, fmt);
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
		va_end(ap);
	}
	return -errnum;
}

uint64_t cpu_time_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}
