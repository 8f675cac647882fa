/* api/json.h - strict reading of JSON objects with jansson, shared by the
 * request decoders and the config file (private to api/). */
#pragma once
#include <jansson.h>

#include "monitor/monitor.h"

enum jtype { J_STR, J_BOOL, J_UINT, J_OBJ, J_ARR };
struct jfield {
	const char *name;
	enum jtype type;
	bool required;
};

/* Checks that j is an object whose every member is one of fields (a
 * NULL-name-terminated list) with the right type (null counts as absent),
 * and that the required ones are there.  where names the object in
 * messages ("drive", "drives[1]").  0 or -EINVAL:
 *   "<where>: unknown field 'x'", "<where>: field 'x' must be a string",
 *   "<where>: missing field 'x'", "<where>: the body must be a JSON object". */
int j_check(json_t *j, const char *where, const struct jfield *fields, struct errbuf *err);
/* The member's value when present and not null, else NULL/def (after
 * j_check, so the types are right). */
const char *j_str(json_t *j, const char *name);
bool j_bool(json_t *j, const char *name, bool def);
json_t *j_get(json_t *j, const char *name);
/* An unsigned member in [min, max] into *out (unchanged when absent).
 * 0, or -EINVAL "<where>: field 'x' is N, not from MIN to MAX". */
int j_uint(json_t *j, const char *name, unsigned long long min, unsigned long long max,
	   unsigned long long *out, const char *where, struct errbuf *err);
/* A RateLimiter object (bandwidth/ops token buckets of size,
 * one_time_burst, refill_time): checked (vm_config_check_ratelimit's
 * ranges too) into *out, all zeros when absent; *limits set when any
 * bucket limits anything (Firecracker: size 0 or refill_time 0 limits
 * nothing). */
int j_rate_limiter(json_t *j, const char *where, struct ratelimit_cfg *out, bool *limits,
		   struct errbuf *err);
/* The same for a PATCH (Firecracker's RateLimiterUpdate): *out is the
 * limiter `old` becomes, a bucket j leaves out (or j itself absent)
 * keeping old's, a bucket of size or refill_time 0 losing its limit. */
int j_rate_limiter_patch(json_t *j, const char *where, const struct ratelimit_cfg *old,
			 struct ratelimit_cfg *out, struct errbuf *err);
/* Parses text (len bytes) as one JSON value.  NULL with "<where>: invalid
 * JSON at line L column C: <reason>" on error. */
json_t *j_parse(const char *text, size_t len, const char *where, struct errbuf *err);
