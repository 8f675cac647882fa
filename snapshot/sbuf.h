/* snapshot/sbuf.h - a growable byte buffer that device state is saved into
 * and restored from.  Reads are bounds-checked. */
#pragma once
#include <stddef.h>
#include <stdint.h>

struct sbuf {
	uint8_t *data;
	size_t len;	/* bytes written */
	size_t cap;
	size_t pos;	/* read cursor */
	int err;	/* first error (-ENOMEM on write, -EINVAL on short read) */
};

/* An empty buffer for writing. */
void sbuf_init(struct sbuf *sb);
/* A read-only view of existing bytes (not freed by sbuf_free). */
void sbuf_view(struct sbuf *sb, const void *data, size_t len);
void sbuf_free(struct sbuf *sb);
/* Appends len bytes; on failure records -ENOMEM in sb->err. */
void sbuf_put(struct sbuf *sb, const void *p, size_t len);
/* Reads len bytes; on a short buffer zeroes p and records -EINVAL. */
void sbuf_get(struct sbuf *sb, void *p, size_t len);
static inline void sbuf_put_u32(struct sbuf *sb, uint32_t v) { sbuf_put(sb, &v, 4); }
static inline void sbuf_put_u64(struct sbuf *sb, uint64_t v) { sbuf_put(sb, &v, 8); }
static inline uint32_t sbuf_get_u32(struct sbuf *sb) { uint32_t v; sbuf_get(sb, &v, 4); return v; }
static inline uint64_t sbuf_get_u64(struct sbuf *sb) { uint64_t v; sbuf_get(sb, &v, 8); return v; }
/* Strings: a u32 length and the bytes (no NUL).  get copies into out
 * (cap bytes, NUL-terminated); a string that does not fit, or holds a
 * NUL, sets -EINVAL in sb->err and returns it. */
void sbuf_put_str(struct sbuf *sb, const char *s);
int sbuf_get_str(struct sbuf *sb, char *out, size_t cap);
