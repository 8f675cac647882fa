/* api/json.c - strict reading of JSON objects: every member known, every
 * type right, or a message that names the field. */
#include <errno.h>
#include <string.h>

#include "api/json.h"

static const char *const type_name[] = {
	[J_STR] = "a string", [J_BOOL] = "a boolean", [J_UINT] = "an unsigned integer",
	[J_OBJ] = "an object", [J_ARR] = "an array",
};

static bool type_ok(json_t *v, enum jtype t)
{
	switch (t) {
	case J_STR: return json_is_string(v);
	case J_BOOL: return json_is_boolean(v);
	case J_UINT: return json_is_integer(v) && json_integer_value(v) >= 0;
	case J_OBJ: return json_is_object(v);
	case J_ARR: return json_is_array(v);
	}
	return false;
}

int j_check(json_t *j, const char *where, const struct jfield *fields, struct errbuf *err)
{
	const char *key;
	json_t *v;

	if (!json_is_object(j))
		return err_set(err, EINVAL, "%s: the body must be a JSON object", where);
	json_object_foreach(j, key, v) {
		const struct jfield *f = fields;

		while (f->name && strcmp(f->name, key))
			f++;
		if (!f->name)
			return err_set(err, EINVAL, "%s: unknown field '%.64s'", where, key);
		if (!json_is_null(v) && !type_ok(v, f->type))
			return err_set(err, EINVAL, "%s: field '%s' must be %s", where, key,
				       type_name[f->type]);
	}
	for (const struct jfield *f = fields; f->name; f++)
		if (f->required && !j_get(j, f->name))
			return err_set(err, EINVAL, "%s: missing field '%s'", where, f->name);
	return 0;
}

json_t *j_get(json_t *j, const char *name)
{
	json_t *v = json_object_get(j, name);

	return v && !json_is_null(v) ? v : NULL;
}

const char *j_str(json_t *j, const char *name)
{
	return json_string_value(j_get(j, name));
}

bool j_bool(json_t *j, const char *name, bool def)
{
	json_t *v = j_get(j, name);

	return v ? json_is_true(v) : def;
}

int j_uint(json_t *j, const char *name, unsigned long long min, unsigned long long max,
	   unsigned long long *out, const char *where, struct errbuf *err)
{
	json_t *v = j_get(j, name);
	unsigned long long n;

	if (!v)
		return 0;
	n = (unsigned long long)json_integer_value(v);
	if (n < min || n > max)
		return err_set(err, EINVAL, "%s: field '%s' is %llu, not from %llu to %llu", where,
			       name, n, min, max);
	*out = n;
	return 0;
}

static const struct jfield bucket_fields[] = {
	{ "size", J_UINT, true }, { "one_time_burst", J_UINT, false },
	{ "refill_time", J_UINT, true }, { NULL, 0, false },
};
static const struct jfield limiter_fields[] = {
	{ "bandwidth", J_OBJ, false }, { "ops", J_OBJ, false }, { NULL, 0, false },
};

int j_rate_limiter(json_t *j, const char *where, struct ratelimit_cfg *out, bool *limits,
		   struct errbuf *err)
{
	static const char *const buckets[] = { "bandwidth", "ops" };
	struct tbucket_cfg *to[] = { &out->bw, &out->ops };
	char w[160];
	int r;

	*limits = false;
	memset(out, 0, sizeof(*out));
	if (!j)
		return 0;
	if ((r = j_check(j, where, limiter_fields, err)))
		return r;
	for (unsigned i = 0; i < 2; i++) {
		json_t *b = j_get(j, buckets[i]);
		unsigned long long size = 0, burst = 0, refill = 0;

		if (!b)
			continue;
		snprintf(w, sizeof(w), "%s: %s", where, buckets[i]);
		if ((r = j_check(b, w, bucket_fields, err)) ||
		    (r = j_uint(b, "size", 0, UINT64_MAX, &size, w, err)) ||
		    (r = j_uint(b, "one_time_burst", 0, UINT64_MAX, &burst, w, err)) ||
		    (r = j_uint(b, "refill_time", 0, UINT64_MAX, &refill, w, err)))
			return r;
		if (!size || !refill)
			continue;	/* limits nothing */
		*to[i] = (struct tbucket_cfg){ size, burst, refill };
		*limits = true;
	}
	return vm_config_check_ratelimit(out, where, err);
}

int j_rate_limiter_patch(json_t *j, const char *where, const struct ratelimit_cfg *old,
			 struct ratelimit_cfg *out, struct errbuf *err)
{
	bool limits;
	int r = j_rate_limiter(j, where, out, &limits, err);

	if (r)
		return r;
	if (!j || !j_get(j, "bandwidth"))
		out->bw = old->bw;
	if (!j || !j_get(j, "ops"))
		out->ops = old->ops;
	return 0;
}

json_t *j_parse(const char *text, size_t len, const char *where, struct errbuf *err)
{
	json_error_t je;
	json_t *j = json_loadb(text, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);

	if (!j)
		err_set(err, EINVAL, "%s: invalid JSON at line %d column %d: %s", where, je.line,
			je.column, je.text);
	return j;
}
