/*
 * Bounds-checked decoding of the bootstrap message. Kept apart from the
 * code that acts on it so that a Go fuzz test can drive it directly.
 */
#include <stdio.h>
#include <string.h>

#include <sched.h>

#include "bootstrap.h"

#ifndef CLONE_NEWPID
#define CLONE_NEWPID 0x20000000
#endif
#define CLONE_NEWTIME_FLAG 0x00000080

static uint32_t get_u32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

static uint16_t get_u16(const uint8_t *p)
{
	uint16_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

#define FAIL(...)                                    \
	do {                                         \
		snprintf(err, errlen, __VA_ARGS__); \
		return -1;                           \
	} while (0)

static int parse_record(uint16_t type, const uint8_t *val, uint16_t vlen, struct bootstrap *b, char *err,
			size_t errlen)
{
	switch (type) {
	case REC_UNSHARE:
		if (vlen != 4)
			FAIL("bootstrap: unshare record of %u bytes, want 4", vlen);
		b->unshare = get_u32(val);
		return 0;
	case REC_JOIN:
		if (vlen != 8)
			FAIL("bootstrap: join record of %u bytes, want 8", vlen);
		if (b->njoin >= BOOTSTRAP_MAX_JOIN)
			FAIL("bootstrap: more than %d namespaces to join", BOOTSTRAP_MAX_JOIN);
		b->join[b->njoin].type = get_u32(val);
		b->join[b->njoin].fd = (int32_t)get_u32(val + 4);
		if (b->join[b->njoin].fd < 0)
			FAIL("bootstrap: negative namespace fd %d", b->join[b->njoin].fd);
		b->njoin++;
		return 0;
	case REC_CGROUP:
		if (vlen == 0 || vlen > BOOTSTRAP_MAX_PATH)
			FAIL("bootstrap: cgroup path of %u bytes, 1 to %d", vlen, BOOTSTRAP_MAX_PATH);
		if (b->ncgroup >= BOOTSTRAP_MAX_CGROUPS)
			FAIL("bootstrap: more than %d cgroups", BOOTSTRAP_MAX_CGROUPS);
		if (memchr(val, '\0', vlen) != NULL || val[0] != '/')
			FAIL("bootstrap: cgroup path is not absolute or has a NUL byte");
		b->cgroup[b->ncgroup].path = val;
		b->cgroup[b->ncgroup].len = vlen;
		b->ncgroup++;
		return 0;
	case REC_TIMENS:
	case REC_FORK:
	case REC_ROOT:
		if (vlen != 1 || val[0] > 1)
			FAIL("bootstrap: flag record %u must be one byte 0 or 1", type);
		if (type == REC_TIMENS)
			b->timens = val[0];
		else if (type == REC_FORK)
			b->fork = val[0];
		else
			b->root = val[0];
		return 0;
	}
	FAIL("bootstrap: unknown record type %u", type);
}

/* A process that enters a new or joined pid namespace, or a new time
 * namespace, must fork: the namespace only applies to its children, and
 * a process whose children would land in another pid or time namespace
 * cannot make threads. A joined time namespace applies at once (setns(2)
 * switches both the process's and its children's). */
static int check_records(const struct bootstrap *b, char *err, size_t errlen)
{
	const uint32_t need = CLONE_NEWPID | CLONE_NEWTIME_FLAG;
	int needs = (b->unshare & need) != 0;

	for (int i = 0; i < b->njoin; i++)
		needs |= (b->join[i].type & CLONE_NEWPID) != 0;
	if (needs && !b->fork)
		FAIL("bootstrap: a pid or time namespace needs the fork record");
	if (b->timens && !(b->unshare & CLONE_NEWTIME_FLAG))
		FAIL("bootstrap: time namespace offsets without a new time namespace");
	return 0;
}

int bootstrap_parse(const uint8_t *buf, size_t len, struct bootstrap *b, char *err, size_t errlen)
{
	size_t off;

	memset(b, 0, sizeof(*b));
	if (len < BOOTSTRAP_HEADER)
		FAIL("bootstrap: message of %zu bytes is shorter than its header", len);
	if (get_u32(buf) != BOOTSTRAP_MAGIC)
		FAIL("bootstrap: bad magic %#x", get_u32(buf));
	if (get_u32(buf + 4) != len)
		FAIL("bootstrap: header says %u bytes, message has %zu", get_u32(buf + 4), len);
	if (len > BOOTSTRAP_MAX)
		FAIL("bootstrap: message of %zu bytes, at most %d", len, BOOTSTRAP_MAX);

	for (off = BOOTSTRAP_HEADER; off < len;) {
		uint16_t type, vlen;

		if (len - off < 4)
			FAIL("bootstrap: truncated record header at byte %zu", off);
		type = get_u16(buf + off);
		vlen = get_u16(buf + off + 2);
		off += 4;
		if (len - off < vlen)
			FAIL("bootstrap: record %u at byte %zu runs past the end", type, off - 4);
		if (parse_record(type, buf + off, vlen, b, err, errlen) < 0)
			return -1;
		off += vlen;
	}
	return check_records(b, err, errlen);
}
