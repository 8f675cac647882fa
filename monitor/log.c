/* monitor/log.c - levelled logging on stderr, error buffers, the clock. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "monitor/monitor.h"

static int log_level_cur = -1;

void log_init(void)
{
	const char *e = getenv("EMBER_LOG");

	if (log_level_cur >= 0)
		return;
	log_level_cur = LOG_WARN;
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
	if (log_level_cur < 0)
		log_init();
	return (int)level <= log_level_cur;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	int n;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* one write, so lines from different threads do not interleave */
	fprintf(stderr, "ember: %s\n", buf);
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
