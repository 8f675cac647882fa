/* tests/guests/lib/rt.c - serial output, exits, markers, string helpers. */
#include "rt.h"

void rt_halt(void)
{
	for (;;)
		__asm__ volatile("cli; hlt");
}

void rt_putc(char c)
{
	outb(COM1, (uint8_t)c);
}

void rt_puts(const char *s)
{
	while (*s)
		outb(COM1, (uint8_t)*s++);
}

void rt_println(const char *s)
{
	rt_puts(s);
	outb(COM1, '\n');
}

void rt_put_hex(uint64_t v)
{
	char buf[19];
	int i = sizeof(buf) - 1;

	buf[i] = 0;
	do {
		buf[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	buf[--i] = 'x';
	buf[--i] = '0';
	rt_puts(buf + i);
}

void rt_put_dec(uint32_t v)
{
	char buf[11];
	int i = sizeof(buf) - 1;

	buf[i] = 0;
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	rt_puts(buf + i);
}

void rt_marker(uint32_t id)
{
	outl(CTL_PORT, (id << 8) | CTL_MARKER);
}

void rt_exit(uint32_t status)
{
	outl(CTL_PORT, (status << 8) | CTL_EXIT);
	outb(DEBUG_EXIT_PORT, (uint8_t)status);
	rt_halt();
}

void rt_exit_debug(uint8_t v)
{
	outb(DEBUG_EXIT_PORT, v);
	rt_halt();
}

size_t rt_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}

bool rt_streq(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return *a == *b;
}

bool rt_cmdline_num(const char *cmdline, const char *key, uint64_t *out)
{
	size_t klen = rt_strlen(key);
	const char *p = cmdline;

	while (*p) {
		while (*p == ' ')
			p++;
		if (!memcmp(p, key, klen) && p[klen] == '=') {
			uint64_t v = 0, base = 10;

			p += klen + 1;
			if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
				base = 16, p += 2;
			for (;; p++) {
				unsigned d;

				if (*p >= '0' && *p <= '9')
					d = (unsigned)(*p - '0');
				else if (base == 16 && *p >= 'a' && *p <= 'f')
					d = (unsigned)(*p - 'a' + 10);
				else if (base == 16 && *p >= 'A' && *p <= 'F')
					d = (unsigned)(*p - 'A' + 10);
				else
					break;
				v = v * base + d;
			}
			if (*p == 'K' || *p == 'k')
				v <<= 10;
			else if (*p == 'M' || *p == 'm')
				v <<= 20;
			else if (*p == 'G' || *p == 'g')
				v <<= 30;
			*out = v;
			return true;
		}
		while (*p && *p != ' ')
			p++;
	}
	return false;
}

void *memcpy(void *dst, const void *src, size_t n)
{
	uint8_t *d = dst;
	const uint8_t *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	uint8_t *d = dst;

	while (n--)
		*d++ = (uint8_t)c;
	return dst;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const uint8_t *x = a, *y = b;

	for (; n; n--, x++, y++)
		if (*x != *y)
			return *x - *y;
	return 0;
}
