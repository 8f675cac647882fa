/* snapshot/sbuf.c - growable, bounds-checked state buffer. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot/sbuf.h"

void sbuf_init(struct sbuf *sb)
{
	memset(sb, 0, sizeof(*sb));
}

void sbuf_view(struct sbuf *sb, const void *data, size_t len)
{
	memset(sb, 0, sizeof(*sb));
	sb->data = (uint8_t *)data;
	sb->len = len;
	sb->cap = 0;	/* cap 0 with data set: a view, never freed or grown */
}

void sbuf_free(struct sbuf *sb)
{
	if (sb->cap)
		free(sb->data);
	memset(sb, 0, sizeof(*sb));
}

void sbuf_put(struct sbuf *sb, const void *p, size_t len)
{
	if (sb->err || len == 0)
		return;
	if (sb->data && !sb->cap) {
		sb->err = -EINVAL;	/* writing into a view */
		return;
	}
	if (sb->len + len > sb->cap) {
		size_t ncap = sb->cap ? sb->cap : 256;
		uint8_t *n;

		while (ncap < sb->len + len)
			ncap *= 2;
		n = realloc(sb->data, ncap);
		if (!n) {
			sb->err = -ENOMEM;
			return;
		}
		sb->data = n;
		sb->cap = ncap;
	}
	memcpy(sb->data + sb->len, p, len);
	sb->len += len;
}

void sbuf_get(struct sbuf *sb, void *p, size_t len)
{
	if (sb->err || len > sb->len - sb->pos) {
		memset(p, 0, len);
		if (!sb->err)
			sb->err = -EINVAL;
		return;
	}
	memcpy(p, sb->data + sb->pos, len);
	sb->pos += len;
}

void sbuf_put_str(struct sbuf *sb, const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n > UINT32_MAX) {
		if (!sb->err)
			sb->err = -EINVAL;
		return;
	}
	sbuf_put_u32(sb, (uint32_t)n);
	sbuf_put(sb, s, n);
}

int sbuf_get_str(struct sbuf *sb, char *out, size_t cap)
{
	uint32_t n = sbuf_get_u32(sb);

	if (!sb->err && (cap == 0 || n > cap - 1 || n > sb->len - sb->pos))
		sb->err = -EINVAL;
	if (sb->err) {
		if (cap)
			out[0] = 0;
		return sb->err;
	}
	sbuf_get(sb, out, n);
	out[n] = 0;
	if (memchr(out, 0, n))
		sb->err = -EINVAL;
	return sb->err;
}
