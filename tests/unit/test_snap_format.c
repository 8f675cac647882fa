/* Unit tests of the snapshot state file: CRC32, sections, and the exact
 * refusal of truncated, corrupt, foreign, newer and oversized files. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "snapshot/snapshot.h"

#define PATH "dir/state"

/* A small valid file: three sections, one of odd length. */
static uint8_t *make_file(size_t *len)
{
	struct sbuf w;
	uint8_t *copy;

	snap_write_begin(&w);
	snap_write_section(&w, SNAP_SEC_CONFIG, 0, "config!", 7);
	snap_write_section(&w, SNAP_SEC_VCPU, 3, "0123456789abcdef", 16);
	snap_write_section(&w, SNAP_SEC_DEVICE, 1, "", 0);
	cr_assert_eq(snap_write_end(&w, 0x1122334455667788ull, SNAP_F_DIFF), 0);
	copy = malloc(w.len);
	memcpy(copy, w.data, w.len);
	*len = w.len;
	sbuf_free(&w);
	return copy;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void fix_header_crc(uint8_t *b)
{
	put32(b + 60, snap_crc32(0, b, 60));
}

/* Parses buf and expects refusal with exactly `msg`. */
static void refused(uint8_t *buf, size_t len, const char *msg)
{
	struct snap_file f;
	struct errbuf err = { "" };

	cr_assert_eq(snap_parse(buf, len, PATH, &f, &err), -EINVAL, "accepted: %s", msg);
	cr_assert_str_eq(err.msg, msg);
	cr_assert_null(f.buf, "refused files are freed, never half-loaded");
	cr_assert_eq(f.nsec, 0);
}

Test(snap_format, crc32_check_value)
{
	cr_assert_eq(snap_crc32(0, "123456789", 9), 0xcbf43926u);
	cr_assert_eq(snap_crc32(snap_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
	cr_assert_eq(snap_crc32(0, "", 0), 0);
}

Test(snap_format, round_trip)
{
	struct snap_file f;
	struct errbuf err = { "" };
	const struct snap_sec *s;
	size_t len;
	uint8_t *b = make_file(&len);

	cr_assert_eq(len % 8, 0);
	cr_assert_eq(snap_parse(b, len, PATH, &f, &err), 0, "%s", err.msg);
	cr_assert_eq(f.nsec, 3);
	cr_assert_eq(f.version, SNAP_VERSION);
	cr_assert_eq(f.flags, SNAP_F_DIFF);
	cr_assert_eq(f.fingerprint, 0x1122334455667788ull);
	s = snap_find(&f, SNAP_SEC_VCPU, 3);
	cr_assert_not_null(s);
	cr_assert_eq(s->len, 16);
	cr_assert_eq(memcmp(s->data, "0123456789abcdef", 16), 0);
	s = snap_find(&f, SNAP_SEC_CONFIG, 0);
	cr_assert_eq(s->len, 7);
	cr_assert_eq(memcmp(s->data, "config!", 7), 0);
	cr_assert_eq(snap_find(&f, SNAP_SEC_DEVICE, 1)->len, 0);
	cr_assert_null(snap_find(&f, SNAP_SEC_VCPU, 0));
	cr_assert_eq(snap_check_fingerprint(&f, 0x1122334455667788ull, &err), 0);
	snap_file_free(&f);
}

Test(snap_format, refuses_short_header)
{
	size_t len;
	uint8_t *b = make_file(&len);

	refused(b, 10, "snapshot 'dir/state': truncated: 10 bytes, less than the 64-byte header");
}

Test(snap_format, refuses_bad_magic)
{
	size_t len;
	uint8_t *b = make_file(&len);

	memcpy(b, "ELF\x7f", 4);
	refused(b, len, "snapshot 'dir/state': not an ember snapshot (bad magic)");
}

Test(snap_format, refuses_newer_version)
{
	size_t len;
	uint8_t *b = make_file(&len);

	put32(b + 8, SNAP_VERSION + 1);	/* checked before the CRC: its layout may differ */
	refused(b, len, "snapshot 'dir/state': format version 3 is newer than this ember supports (2)");
}

Test(snap_format, refuses_older_version)
{
	size_t len;
	uint8_t *b = make_file(&len);

	put32(b + 8, SNAP_VERSION - 1);	/* version 1: no CPUID section */
	fix_header_crc(b);
	refused(b, len, "snapshot 'dir/state': format version 1 is older than this ember reads (2); "
		"take the snapshot again");
}

Test(snap_format, host_fingerprint_is_stable)
{
	uint64_t a = snap_host_fingerprint();

	cr_assert_neq(a, 0);
	for (int i = 0; i < 100; i++)	/* same on whichever core this runs */
		cr_assert_eq(snap_host_fingerprint(), a);
}

Test(snap_format, refuses_header_crc)
{
	size_t len;
	uint8_t *b = make_file(&len);

	b[41] ^= 1;	/* the creation time */
	refused(b, len, "snapshot 'dir/state': header is corrupt (CRC32 mismatch)");
}

Test(snap_format, refuses_version_zero)
{
	size_t len;
	uint8_t *b = make_file(&len);

	put32(b + 8, 0);
	fix_header_crc(b);
	refused(b, len, "snapshot 'dir/state': header is corrupt (version 0, header size 64)");
}

Test(snap_format, refuses_truncated_file)
{
	size_t len;
	uint8_t *b = make_file(&len);
	char msg[128];

	snprintf(msg, sizeof(msg), "snapshot 'dir/state': truncated: %zu of %zu bytes", len - 8, len);
	refused(b, len - 8, msg);
}

Test(snap_format, refuses_trailing_bytes)
{
	size_t len;
	uint8_t *b = make_file(&len), *big = calloc(1, len + 5);
	char msg[160];

	memcpy(big, b, len);
	free(b);
	snprintf(msg, sizeof(msg),
		 "snapshot 'dir/state': corrupt: 5 bytes after the end the header gives (%zu)", len);
	refused(big, len + 5, msg);
}

Test(snap_format, refuses_section_crc)
{
	size_t len;
	uint8_t *b = make_file(&len);

	/* the second section's payload: header, first section (24 + 8), then 24 */
	b[64 + 32 + 24 + 5] ^= 0x40;
	refused(b, len, "snapshot 'dir/state': section 1 (vcpu 3) is corrupt (CRC32 mismatch)");
}

Test(snap_format, refuses_section_past_end)
{
	size_t len;
	uint8_t *b = make_file(&len);
	uint64_t huge = 1ull << 40;

	memcpy(b + 64 + 32 + 8, &huge, 8);	/* section 1's length */
	refused(b, len, "snapshot 'dir/state': corrupt: section 1 (vcpu 3) of 1099511627776 bytes lies past the end");
}

Test(snap_format, refuses_unknown_section)
{
	size_t len;
	uint8_t *b = make_file(&len);

	uint8_t payload[7];

	put32(b + 64, 99);	/* section 0's type, with a matching CRC */
	memcpy(payload, b + 64 + 24, 7);
	put32(b + 64 + 16, snap_crc32(snap_crc32(0, b + 64, 16), payload, 7));
	refused(b, len, "snapshot 'dir/state': corrupt: section 0 has unknown type 99");
}

Test(snap_format, refuses_too_many_sections)
{
	size_t len;
	uint8_t *b = make_file(&len);

	put32(b + 32, 100000);
	fix_header_crc(b);
	refused(b, len, "snapshot 'dir/state': corrupt: 100000 sections (at most 4096)");
}

Test(snap_format, refuses_foreign_cpu)
{
	struct snap_file f;
	struct errbuf err = { "" };
	size_t len;
	uint8_t *b = make_file(&len);

	cr_assert_eq(snap_parse(b, len, PATH, &f, &err), 0);
	cr_assert_eq(snap_check_fingerprint(&f, 0xabcdefull, &err), -EINVAL);
	cr_assert_str_eq(err.msg, "snapshot 'dir/state': taken on a host CPU with different features "
			 "(CPU fingerprint 1122334455667788, this host 0000000000abcdef)");
	snap_file_free(&f);
}

Test(snap_format, size_cap_before_reading)
{
	char path[] = "/tmp/ember-snap-capXXXXXX";
	struct snap_file f;
	struct errbuf err = { "" };
	char msg[256];
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)SNAP_STATE_MAX + 1), 0);	/* sparse */
	close(fd);
	cr_assert_eq(snap_file_read(path, &f, &err), -EFBIG);
	snprintf(msg, sizeof(msg), "snapshot '%s': %llu bytes, more than the 64 MiB limit", path,
		 (unsigned long long)SNAP_STATE_MAX + 1);
	cr_assert_str_eq(err.msg, msg);
	unlink(path);
}

Test(snap_format, read_missing_file)
{
	struct snap_file f;
	struct errbuf err = { "" };

	cr_assert_eq(snap_file_read("/nonexistent/state", &f, &err), -ENOENT);
	cr_assert_str_eq(err.msg, "snapshot '/nonexistent/state': No such file or directory");
}

Test(snap_format, every_single_bit_flip_is_refused)
{
	size_t len;
	uint8_t *ref = make_file(&len);

	/* CRCs cover the header and each section's header and payload;
	 * reserved fields and padding must be zero */
	for (size_t i = 0; i < len; i++) {
		for (int bit = 0; bit < 8; bit++) {
			uint8_t *b = malloc(len);
			struct snap_file f;
			struct errbuf err = { "" };

			memcpy(b, ref, len);
			b[i] ^= (uint8_t)(1u << bit);
			cr_assert_neq(snap_parse(b, len, PATH, &f, &err), 0, "byte %zu bit %d", i, bit);
		}
	}
	free(ref);
}
