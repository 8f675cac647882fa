/* snapshot/format.c - the state file: header, sections with CRC32, and the
 * checks that refuse a corrupt, truncated, foreign or newer file before
 * any of it is used.  Pure code: no KVM (the unit tests drive it). */
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "snapshot/snapshot.h"

/* Fuzz builds only (tests/fuzz/, -DEMBER_FUZZ_NO_CRC): the CRC32s are not
 * checked, so that mutated files reach the section decoders.  Every
 * other check stays. */
#ifdef EMBER_FUZZ_NO_CRC
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#error "EMBER_FUZZ_NO_CRC is for fuzz builds only (tests/fuzz/fuzz.mk)"
#endif
#define FUZZ_NO_CRC 1
#else
#define FUZZ_NO_CRC 0
#endif

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;

		for (int k = 0; k < 8; k++)
			c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[i] = c;
	}
}

uint32_t snap_crc32(uint32_t crc, const void *p, size_t n)
{
	const uint8_t *b = p;

	pthread_once(&crc_once, crc_init);
	crc = ~crc;
	while (n--)
		crc = crc_table[(crc ^ *b++) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static const char *const sec_names[SNAP_SEC__MAX] = {
	[SNAP_SEC_CONFIG] = "config", [SNAP_SEC_MEMORY] = "memory",
	[SNAP_SEC_VM] = "vm", [SNAP_SEC_VCPU] = "vcpu", [SNAP_SEC_DEVICE] = "device",
	[SNAP_SEC_CPUID] = "cpuid",
};

const char *snap_sec_name(uint32_t type)
{
	if (type < SNAP_SEC__MAX && sec_names[type])
		return sec_names[type];
	return "unknown";
}

static void put_le32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put_le64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint32_t get_le32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static uint64_t get_le64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

void snap_write_begin(struct sbuf *w)
{
	uint8_t hdr[SNAP_HDR_SIZE] = { 0 };

	sbuf_init(w);
	sbuf_put(w, hdr, sizeof(hdr));
}

void snap_write_section(struct sbuf *w, uint32_t type, uint32_t index,
			const void *p, size_t len)
{
	uint8_t h[SNAP_SEC_HDR] = { 0 };
	static const uint8_t zero[8];

	put_le32(h, type);
	put_le32(h + 4, index);
	put_le64(h + 8, len);
	put_le32(h + 16, snap_crc32(snap_crc32(0, h, 16), p, len));
	sbuf_put(w, h, sizeof(h));
	sbuf_put(w, p, len);
	if (len % 8)
		sbuf_put(w, zero, 8 - len % 8);
}

int snap_write_end(struct sbuf *w, uint64_t fingerprint, uint32_t flags)
{
	uint8_t *h = w->data;
	uint32_t nsec = 0;
	struct timespec ts;

	if (w->err)
		return w->err;
	for (size_t off = SNAP_HDR_SIZE; off + SNAP_SEC_HDR <= w->len;) {
		uint64_t len = get_le64(w->data + off + 8);

		off += SNAP_SEC_HDR + ((len + 7) & ~7ull);
		nsec++;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	memcpy(h, SNAP_MAGIC, 8);
	put_le32(h + 8, SNAP_VERSION);
	put_le32(h + 12, SNAP_HDR_SIZE);
	put_le64(h + 16, w->len);
	put_le64(h + 24, fingerprint);
	put_le32(h + 32, nsec);
	put_le32(h + 36, flags);
	put_le64(h + 40, (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec);
	memset(h + 48, 0, 12);
	put_le32(h + 60, snap_crc32(0, h, 60));
	return 0;
}

void snap_file_free(struct snap_file *f)
{
	free(f->buf);
	free(f->sec);
	f->buf = NULL;
	f->sec = NULL;
	f->nsec = 0;
	f->len = 0;
}

static bool zero(const uint8_t *p, size_t n)
{
	while (n--)
		if (*p++)
			return false;
	return true;
}

int snap_parse(uint8_t *buf, size_t len, const char *path, struct snap_file *f,
	       struct errbuf *err)
{
	uint64_t fsize;
	uint32_t nsec, hsize;
	size_t off;
	int r = -EINVAL;

	memset(f, 0, sizeof(*f));
	snprintf(f->path, sizeof(f->path), "%s", path);
	f->buf = buf;
	f->len = len;
	if (len < SNAP_HDR_SIZE) {
		err_set(err, EINVAL, "snapshot '%s': truncated: %zu bytes, less than the %d-byte header",
			path, len, SNAP_HDR_SIZE);
		goto fail;
	}
	if (memcmp(buf, SNAP_MAGIC, 8)) {
		err_set(err, EINVAL, "snapshot '%s': not an ember snapshot (bad magic)", path);
		goto fail;
	}
	f->version = get_le32(buf + 8);
	if (f->version > SNAP_VERSION) {
		err_set(err, EINVAL, "snapshot '%s': format version %u is newer than this ember supports (%d)",
			path, f->version, SNAP_VERSION);
		goto fail;
	}
	hsize = get_le32(buf + 12);
	if (!FUZZ_NO_CRC && get_le32(buf + 60) != snap_crc32(0, buf, 60)) {
		err_set(err, EINVAL, "snapshot '%s': header is corrupt (CRC32 mismatch)", path);
		goto fail;
	}
	if (f->version == 0 || hsize != SNAP_HDR_SIZE) {
		err_set(err, EINVAL, "snapshot '%s': header is corrupt (version %u, header size %u)",
			path, f->version, hsize);
		goto fail;
	}
	if (f->version < SNAP_VERSION) {	/* no CPUID section, another fingerprint */
		err_set(err, EINVAL, "snapshot '%s': format version %u is older than this ember reads (%d); take the snapshot again",
			path, f->version, SNAP_VERSION);
		goto fail;
	}
	fsize = get_le64(buf + 16);
	if (fsize > len) {
		err_set(err, EINVAL, "snapshot '%s': truncated: %zu of %llu bytes", path, len,
			(unsigned long long)fsize);
		goto fail;
	}
	if (fsize < len) {
		err_set(err, EINVAL, "snapshot '%s': corrupt: %zu bytes after the end the header gives (%llu)",
			path, len - (size_t)fsize, (unsigned long long)fsize);
		goto fail;
	}
	f->fingerprint = get_le64(buf + 24);
	nsec = get_le32(buf + 32);
	f->flags = get_le32(buf + 36);
	f->created_ns = get_le64(buf + 40);
	if (nsec > SNAP_MAX_SECTIONS) {
		err_set(err, EINVAL, "snapshot '%s': corrupt: %u sections (at most %d)", path, nsec,
			SNAP_MAX_SECTIONS);
		goto fail;
	}
	f->sec = calloc(nsec ? nsec : 1, sizeof(*f->sec));
	if (!f->sec) {
		r = err_set(err, ENOMEM, "snapshot '%s': out of memory", path);
		goto fail;
	}
	off = SNAP_HDR_SIZE;
	for (uint32_t i = 0; i < nsec; i++) {
		struct snap_sec *s = &f->sec[i];
		uint64_t slen, padded;

		if (len - off < SNAP_SEC_HDR) {
			err_set(err, EINVAL, "snapshot '%s': corrupt: section %u header lies past the end",
				path, i);
			goto fail;
		}
		s->type = get_le32(buf + off);
		s->index = get_le32(buf + off + 4);
		slen = get_le64(buf + off + 8);
		padded = (slen + 7) & ~7ull;
		if (slen > len - off - SNAP_SEC_HDR || padded > len - off - SNAP_SEC_HDR) {
			err_set(err, EINVAL, "snapshot '%s': corrupt: section %u (%s %u) of %llu bytes lies past the end",
				path, i, snap_sec_name(s->type), s->index, (unsigned long long)slen);
			goto fail;
		}
		s->data = buf + off + SNAP_SEC_HDR;
		s->len = slen;
		if ((!FUZZ_NO_CRC &&
		     get_le32(buf + off + 16) != snap_crc32(snap_crc32(0, buf + off, 16), s->data, slen)) ||
		    get_le32(buf + off + 20) != 0 || !zero(s->data + slen, padded - slen)) {
			err_set(err, EINVAL, "snapshot '%s': section %u (%s %u) is corrupt (CRC32 mismatch)",
				path, i, snap_sec_name(s->type), s->index);
			goto fail;
		}
		if (s->type == 0 || s->type >= SNAP_SEC__MAX) {
			err_set(err, EINVAL, "snapshot '%s': corrupt: section %u has unknown type %u",
				path, i, s->type);
			goto fail;
		}
		off += SNAP_SEC_HDR + padded;
	}
	if (off != len) {
		err_set(err, EINVAL, "snapshot '%s': corrupt: %zu bytes after the last section",
			path, len - off);
		goto fail;
	}
	f->nsec = nsec;
	return 0;
fail:
	snap_file_free(f);
	return r;
}

int snap_file_read(const char *path, struct snap_file *f, struct errbuf *err)
{
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	memset(f, 0, sizeof(*f));
	if (fd < 0)
		return err_set(err, errno, "snapshot '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(err, EINVAL, "snapshot '%s': not a regular file", path);
	}
	if ((uint64_t)st.st_size > SNAP_STATE_MAX) {
		close(fd);
		return err_set(err, EFBIG, "snapshot '%s': %llu bytes, more than the %llu MiB limit",
			       path, (unsigned long long)st.st_size,
			       (unsigned long long)(SNAP_STATE_MAX >> 20));
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		return err_set(err, ENOMEM, "snapshot '%s': out of memory", path);
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* shrank under us: parse sees a short file */
		got += (size_t)n;
	}
	close(fd);
	return snap_parse(buf, got, path, f, err);
}

const struct snap_sec *snap_find(const struct snap_file *f, uint32_t type,
				 uint32_t index)
{
	for (unsigned i = 0; i < f->nsec; i++)
		if (f->sec[i].type == type && f->sec[i].index == index)
			return &f->sec[i];
	return NULL;
}

int snap_check_fingerprint(const struct snap_file *f, uint64_t host,
			   struct errbuf *err)
{
	if (f->fingerprint == host)
		return 0;
	return err_set(err, EINVAL,
		       "snapshot '%s': taken on a host CPU with different features "
		       "(CPU fingerprint %016llx, this host %016llx)", f->path,
		       (unsigned long long)f->fingerprint, (unsigned long long)host);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n--) {
		h ^= *b++;
		h *= 0x100000001b3ull;
	}
	return h;
}

/* The leaves and registers that describe the CPU: vendor, signature,
 * features, XSAVE components and sizes, address sizes; not the ones that
 * name the core the query ran on (APIC IDs in EBX of leaf 1), caches, or
 * what the host OS enabled (EBX of leaf 0xd).  regs: a mask of EAX EBX
 * ECX EDX. */
static const struct {
	uint32_t fn, idx;
	uint8_t regs;
} fp_leaves[] = {
	{ 0, 0, 0xf },			/* max leaf, vendor */
	{ 1, 0, 0x1 | 0x4 | 0x8 },	/* signature, features */
	{ 7, 0, 0xf },			/* structured features */
	{ 7, 1, 0xf },
	{ 0xd, 0, 0x1 | 0x4 | 0x8 },	/* XSAVE components, largest area */
	{ 0xd, 1, 0x1 },		/* XSAVEOPT/XSAVEC/XSAVES */
	{ 0x80000000, 0, 0x1 },		/* max extended leaf */
	{ 0x80000001, 0, 0x4 | 0x8 },	/* extended features */
	{ 0x80000007, 0, 0x8 },		/* invariant TSC */
	{ 0x80000008, 0, 0x1 | 0x2 },	/* address sizes, features */
};

uint64_t snap_host_fingerprint(void)
{
	uint32_t max = 0, xmax = 0, a, b, c, d;
	uint64_t h = 0xcbf29ce484222325ull;

	__cpuid(0, max, b, c, d);
	__cpuid(0x80000000, xmax, b, c, d);
	for (size_t i = 0; i < sizeof(fp_leaves) / sizeof(fp_leaves[0]); i++) {
		uint32_t fn = fp_leaves[i].fn;
		unsigned m = fp_leaves[i].regs;

		a = b = c = d = 0;
		if (fn <= (fn & 0x80000000u ? xmax : max))
			__cpuid_count(fn, fp_leaves[i].idx, a, b, c, d);
		uint32_t w[6] = { fn, fp_leaves[i].idx, m & 1 ? a : 0, m & 2 ? b : 0,
				  m & 4 ? c : 0, m & 8 ? d : 0 };
		h = fnv(h, w, sizeof(w));
	}
	return h;
}
