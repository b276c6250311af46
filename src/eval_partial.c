/* SPDX-License-Identifier: MIT */
/*
 * mirad-eval's partial files; see eval_partial.h for the format.
 */
#include "mirad_platform.h"

#include "eval_partial.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const unsigned char magic[8] = {'M', 'I', 'R', 'A', 'D', 'E', 'V', 'P'};
static const unsigned char sect_tag[4] = {'S', 'E', 'C', 'T'};
static const unsigned char end_tag[4] = {'E', 'N', 'D', '!'};

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME  0x100000001b3ull
/* Longest job block and resize note accepted. */
#define MAX_JOB  (64u << 20)
#define MAX_NOTE 65536u

/* ---- the job ---- */

static char *
dup_mem(const void *p, size_t n)
{
	char *s = malloc(n + 1);

	if (s != NULL) {
		if (n > 0)
			memcpy(s, p, n);
		s[n] = '\0';
	}
	return s;
}

static int
job_push(struct eval_job *j, char *key, char *value)
{
	char **k, **v;

	if (key == NULL || value == NULL)
		goto fail;
	k = realloc(j->keys, (j->n + 1) * sizeof *k);
	if (k == NULL)
		goto fail;
	j->keys = k;
	v = realloc(j->values, (j->n + 1) * sizeof *v);
	if (v == NULL)
		goto fail;
	j->values = v;
	j->keys[j->n] = key;
	j->values[j->n++] = value;
	return 0;
fail:
	free(key);
	free(value);
	return -1;
}

void
eval_job_add(struct eval_job *j, const char *key, const char *value)
{
	if (job_push(j, dup_mem(key, strlen(key)),
	        dup_mem(value, strlen(value))) != 0)
		abort(); /* out of memory while describing the job */
}

void
eval_job_clear(struct eval_job *j)
{
	for (size_t i = 0; i < j->n; i++) {
		free(j->keys[i]);
		free(j->values[i]);
	}
	free(j->keys);
	free(j->values);
	memset(j, 0, sizeof *j);
}

static size_t
varint_put(unsigned char *p, uint64_t v)
{
	size_t n = 0;

	do {
		unsigned char b = v & 0x7f;

		v >>= 7;
		p[n++] = b | (v ? 0x80 : 0);
	} while (v);
	return n;
}

/* Decode a varint at P[*POS..LEN) and advance *POS past it: 0, or -1 if
 * malformed (over 10 bytes, overlong) or cut at LEN.  The one decoder of
 * the file: the readers below call it on their buffer. */
static inline int
varint_get(const unsigned char *p, size_t len, size_t *pos, uint64_t *out)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < 10; i++) {
		unsigned char b;

		if (*pos >= len)
			return -1;
		b = p[(*pos)++];
		if (i == 9 && b > 1)
			return -1;
		v |= (uint64_t)(b & 0x7f) << (7 * i);
		if (!(b & 0x80)) {
			if (b == 0 && i > 0)
				return -1; /* overlong */
			*out = v;
			return 0;
		}
	}
	return -1;
}

unsigned char *
eval_job_encode(const struct eval_job *j, size_t *len)
{
	size_t cap = 10, n = 0;
	unsigned char *buf;

	for (size_t i = 0; i < j->n; i++)
		cap += 20 + strlen(j->keys[i]) + strlen(j->values[i]);
	buf = malloc(cap);
	if (buf == NULL)
		return NULL;
	n += varint_put(buf + n, j->n);
	for (size_t i = 0; i < j->n; i++) {
		const char *s[2] = {j->keys[i], j->values[i]};

		for (int k = 0; k < 2; k++) {
			size_t l = strlen(s[k]);

			n += varint_put(buf + n, l);
			memcpy(buf + n, s[k], l);
			n += l;
		}
	}
	*len = n;
	return buf;
}

int
eval_job_decode(const unsigned char *buf, size_t len, struct eval_job *j)
{
	size_t pos = 0;
	uint64_t n;

	eval_job_clear(j);
	if (varint_get(buf, len, &pos, &n) != 0 || n > (len - pos) / 2)
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		char *s[2];

		for (int k = 0; k < 2; k++) {
			uint64_t l;

			if (varint_get(buf, len, &pos, &l) != 0 ||
			    l > len - pos ||
			    memchr(buf + pos, '\0', (size_t)l) != NULL)
				goto fail_k;
			s[k] = dup_mem(buf + pos, (size_t)l);
			if (s[k] == NULL)
				goto fail_k;
			pos += (size_t)l;
			continue;
		fail_k:
			if (k == 1)
				free(s[0]);
			goto fail;
		}
		if (job_push(j, s[0], s[1]) != 0)
			goto fail;
	}
	if (pos != len)
		goto fail;
	return 0;
fail:
	eval_job_clear(j);
	return -1;
}

long
eval_job_first_difference(const struct eval_job *a, const struct eval_job *b)
{
	size_t n = a->n < b->n ? a->n : b->n;

	for (size_t i = 0; i < n; i++)
		if (strcmp(a->keys[i], b->keys[i]) != 0 ||
		    strcmp(a->values[i], b->values[i]) != 0)
			return (long)i;
	return a->n == b->n ? -1 : (long)n;
}

/* ---- writing ---- */

struct eval_partial_writer {
	FILE *f;
	uint64_t hash;
	size_t n;
	bool failed;
	int err; /* errno of the first write error */
	unsigned char buf[1 << 16];
};

static void
w_flush(struct eval_partial_writer *w)
{
	for (size_t i = 0; i < w->n; i++) {
		w->hash ^= w->buf[i];
		w->hash *= FNV_PRIME;
	}
	if (w->n > 0 && fwrite(w->buf, 1, w->n, w->f) != w->n && !w->failed) {
		w->failed = true;
		w->err = errno ? errno : EIO;
	}
	w->n = 0;
}

static void
w_put(struct eval_partial_writer *w, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n > 0) {
		size_t k = sizeof w->buf - w->n;

		if (k > n)
			k = n;
		memcpy(w->buf + w->n, s, k);
		w->n += k;
		s += k;
		n -= k;
		if (w->n == sizeof w->buf)
			w_flush(w);
	}
}

/* V as BYTES little-endian bytes (4 or 8). */
static void
w_uint(struct eval_partial_writer *w, uint64_t v, int bytes)
{
	unsigned char b[8];

	for (int i = 0; i < bytes; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	w_put(w, b, (size_t)bytes);
}

static void
w_varint(struct eval_partial_writer *w, uint64_t v)
{
	unsigned char b[10];

	if (sizeof w->buf - w->n >= 10) { /* the common case: in place */
		w->n += varint_put(w->buf + w->n, v);
		if (w->n == sizeof w->buf)
			w_flush(w);
		return;
	}
	w_put(w, b, varint_put(b, v));
}

struct eval_partial_writer *
eval_partial_writer_new(
    FILE *f, unsigned shard, unsigned nshards, const struct eval_job *job)
{
	struct eval_partial_writer *w = calloc(1, sizeof *w);
	unsigned char *jb;
	size_t jlen;

	if (w == NULL)
		return NULL;
	jb = eval_job_encode(job, &jlen);
	if (jb == NULL || jlen > MAX_JOB) {
		free(jb);
		free(w);
		errno = jb ? EOVERFLOW : ENOMEM;
		return NULL;
	}
	w->f = f;
	w->hash = FNV_OFFSET;
	w_put(w, magic, sizeof magic);
	w_uint(w, EVAL_PARTIAL_VERSION, 4);
	w_uint(w, shard, 4);
	w_uint(w, nshards, 4);
	w_uint(w, (uint32_t)jlen, 4);
	w_put(w, jb, jlen);
	free(jb);
	return w;
}

int
eval_partial_write_section(struct eval_partial_writer *w, size_t method,
    size_t category, const struct eval_partial_image *images, size_t nimages,
    uint64_t resized, const char *first_resized, struct eval_pixels *px)
{
	struct eval_pixels_data d;
	size_t note = first_resized ? strlen(first_resized) : 0;
	uint64_t nruns = 0;
	uint32_t prev = UINT32_MAX;

	if (note > MAX_NOTE)
		note = MAX_NOTE;
	if (eval_pixels_sort_negatives(px) != 0)
		return -1;
	eval_pixels_view(px, &d);
	w_put(w, sect_tag, sizeof sect_tag);
	w_varint(w, method);
	w_varint(w, category);
	w_varint(w, nimages);
	for (size_t i = 0; i < nimages; i++) {
		uint64_t bits;

		w_varint(w, images[i].index);
		w_put(w, &images[i].label, 1);
		memcpy(&bits, &images[i].score, sizeof bits);
		w_uint(w, bits, 8);
	}
	w_varint(w, resized);
	w_varint(w, note);
	w_put(w, first_resized ? first_resized : "", note);
	w_varint(w, d.n_regions);
	for (size_t r = 0; r < d.n_regions; r++)
		w_varint(w, d.region_size[r]);
	w_varint(w, d.n_pos);
	for (size_t i = 0; i < d.n_pos; i++) {
		w_uint(w, (uint32_t)(d.pos[i] >> 32), 4);
		w_varint(w, (uint64_t)(uint32_t)d.pos[i] + 1);
	}
	for (size_t i = 0; i < d.n_neg; i++)
		nruns += i == 0 || d.neg[i] != d.neg[i - 1];
	w_varint(w, nruns);
	for (size_t i = 0; i < d.n_neg;) {
		uint32_t key = d.neg[i];
		uint64_t count = 0;

		for (; i < d.n_neg && d.neg[i] == key; i++)
			count += d.neg_count ? d.neg_count[i] : 1;
		/* the gap below the previous key (the first: below the top) */
		w_varint(w, (uint64_t)(prev - key));
		w_varint(w, count);
		prev = key;
	}
	w_flush(w);
	if (w->failed) {
		errno = w->err;
		return -1;
	}
	return 0;
}

int
eval_partial_writer_finish(
    struct eval_partial_writer *w, uint64_t bad, uint32_t flags)
{
	uint64_t h;
	unsigned char b[8];
	int rc;

	w_put(w, end_tag, sizeof end_tag);
	w_uint(w, bad, 8);
	w_uint(w, flags, 4);
	w_flush(w);
	h = w->hash;
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(h >> (8 * i));
	if (fwrite(b, 1, 8, w->f) != 8 && !w->failed) {
		w->failed = true;
		w->err = errno ? errno : EIO;
	}
	rc = w->failed ? -1 : 0;
	if (rc != 0)
		errno = w->err;
	free(w);
	return rc;
}

void
eval_partial_writer_free(struct eval_partial_writer *w)
{
	free(w);
}

/* ---- reading ---- */

struct eval_partial_reader {
	char *name;
	int fd;             /* -1 when reading memory */
	unsigned char *own; /* the read buffer of a file */
	const unsigned char *buf;
	size_t pos, len; /* the window buf[0..len) */
	uint64_t left;   /* bytes of the file not consumed */
	uint64_t hash;
	unsigned shard, nshards;
	unsigned char *job_bytes;
	size_t job_len;
	struct eval_job job;
	uint32_t run_key; /* the previous run's key */
	bool run_first;
};

/* The read buffer of a file: --merge keeps every shard's file open. */
#define READ_BUF (128u << 10)

static int MIRAD_PRINTF(4, 5) r_fail(const struct eval_partial_reader *r,
    char *err, size_t errlen, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(err, errlen, "%s: %s", r->name, msg);
	return -1;
}

static int
r_truncated(const struct eval_partial_reader *r, char *err, size_t errlen)
{
	return r_fail(r, err, errlen, "truncated partial file");
}

static int
r_corrupt(const struct eval_partial_reader *r, char *err, size_t errlen,
    const char *what)
{
	return r_fail(r, err, errlen, "corrupt partial file (%s)", what);
}

/* Make at least one byte available.  -1 at the end of the file. */
static int
r_fill(struct eval_partial_reader *r, char *err, size_t errlen)
{
	ssize_t n;
	size_t want;

	if (r->left == 0)
		return r_truncated(r, err, errlen);
	if (r->pos < r->len)
		return 0;
	if (r->fd < 0) /* memory: LEFT counts what is in BUF */
		return r_truncated(r, err, errlen);
	want = r->left < READ_BUF ? (size_t)r->left : READ_BUF;
	do
		n = read(r->fd, r->own, want);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return r_fail(r, err, errlen, "%s", strerror(errno));
	if (n == 0) /* the file shrank while being read */
		return r_truncated(r, err, errlen);
	r->pos = 0;
	r->len = (size_t)n;
	return 0;
}

static inline int
r_byte(
    struct eval_partial_reader *r, unsigned char *b, char *err, size_t errlen)
{
	if (r->pos == r->len || r->left == 0)
		if (r_fill(r, err, errlen) != 0)
			return -1;
	*b = r->buf[r->pos++];
	r->left--;
	r->hash = (r->hash ^ *b) * FNV_PRIME;
	return 0;
}

static int
r_bytes(struct eval_partial_reader *r, void *out, size_t n, char *err,
    size_t errlen)
{
	unsigned char *o = out;

	if (n > r->left)
		return r_truncated(r, err, errlen);
	while (n > 0) {
		size_t k;

		if (r_fill(r, err, errlen) != 0)
			return -1;
		k = r->len - r->pos;
		if (k > n)
			k = n;
		memcpy(o, r->buf + r->pos, k);
		for (size_t i = 0; i < k; i++)
			r->hash = (r->hash ^ o[i]) * FNV_PRIME;
		r->pos += k;
		r->left -= k;
		o += k;
		n -= k;
	}
	return 0;
}

/* *V from BYTES little-endian bytes (4 or 8). */
static int
r_uint(struct eval_partial_reader *r, uint64_t *v, int bytes, char *err,
    size_t errlen)
{
	unsigned char b[8];

	if (r_bytes(r, b, (size_t)bytes, err, errlen) != 0)
		return -1;
	*v = 0;
	for (int i = bytes - 1; i >= 0; i--)
		*v = *v << 8 | b[i];
	return 0;
}

static int
r_u32(struct eval_partial_reader *r, uint32_t *v, char *err, size_t errlen)
{
	uint64_t wide;

	if (r_uint(r, &wide, 4, err, errlen) != 0)
		return -1;
	*v = (uint32_t)wide;
	return 0;
}

static inline int
r_varint(struct eval_partial_reader *r, uint64_t *out, char *err, size_t errlen)
{
	unsigned char b[10];
	size_t n = 0, pos = 0;

	/* The common case: the whole number is in the buffer (a varint has
	 * at most 10 bytes, so -1 there means malformed, not cut). */
	if (r->len - r->pos >= 10 && r->left >= 10) {
		const unsigned char *p = r->buf + r->pos;

		if (varint_get(p, 10, &pos, out) != 0)
			return r_corrupt(r, err, errlen, "bad number");
		for (size_t k = 0; k < pos; k++)
			r->hash = (r->hash ^ p[k]) * FNV_PRIME;
		r->pos += pos;
		r->left -= pos;
		return 0;
	}
	/* Near a buffer's end: byte by byte up to the last one. */
	do {
		if (r_byte(r, &b[n], err, errlen) != 0)
			return -1;
	} while ((b[n++] & 0x80) && n < sizeof b);
	if (varint_get(b, n, &pos, out) != 0)
		return r_corrupt(r, err, errlen, "bad number");
	return 0;
}

/* A count of items taking at least MIN bytes each, checked against what
 * is left of the file (so that nothing is allocated beyond its size). */
static int
r_count(struct eval_partial_reader *r, uint64_t min, uint64_t *n, char *err,
    size_t errlen)
{
	if (r_varint(r, n, err, errlen) != 0)
		return -1;
	if (*n > r->left / min)
		return r_truncated(r, err, errlen);
	return 0;
}

static struct eval_partial_reader *
r_header(struct eval_partial_reader *r, char *err, size_t errlen)
{
	unsigned char m[sizeof magic];
	uint32_t version, jlen;
	size_t have = r->left < sizeof magic ? (size_t)r->left : sizeof magic;

	if (r->left == 0) {
		r_fail(r, err, errlen, "empty file, not a mirad-eval partial");
		goto fail;
	}
	if (r_bytes(r, m, have, err, errlen) != 0)
		goto fail;
	if (memcmp(m, magic, have) != 0) {
		r_fail(r, err, errlen, "not a mirad-eval partial file");
		goto fail;
	}
	if (have < sizeof magic) {
		r_truncated(r, err, errlen);
		goto fail;
	}
	if (r_u32(r, &version, err, errlen) != 0)
		goto fail;
	if (version != EVAL_PARTIAL_VERSION) {
		r_fail(r, err, errlen,
		    "partial file version %lu; this mirad-eval reads "
		    "version %d",
		    (unsigned long)version, EVAL_PARTIAL_VERSION);
		goto fail;
	}
	if (r_u32(r, &r->shard, err, errlen) != 0 ||
	    r_u32(r, &r->nshards, err, errlen) != 0 ||
	    r_u32(r, &jlen, err, errlen) != 0)
		goto fail;
	if (r->nshards == 0 || r->shard >= r->nshards) {
		r_corrupt(r, err, errlen, "shard number");
		goto fail;
	}
	if (jlen > MAX_JOB || jlen > r->left) {
		r_truncated(r, err, errlen);
		goto fail;
	}
	r->job_bytes = malloc(jlen ? jlen : 1);
	if (r->job_bytes == NULL) {
		r_fail(r, err, errlen, "%s", strerror(ENOMEM));
		goto fail;
	}
	r->job_len = jlen;
	if (r_bytes(r, r->job_bytes, jlen, err, errlen) != 0)
		goto fail;
	if (eval_job_decode(r->job_bytes, jlen, &r->job) != 0) {
		r_corrupt(r, err, errlen, "job description");
		goto fail;
	}
	return r;
fail:
	eval_partial_close(r);
	return NULL;
}

static struct eval_partial_reader *
r_new(const char *name, char *err, size_t errlen)
{
	struct eval_partial_reader *r = calloc(1, sizeof *r);

	if (r == NULL || (r->name = dup_mem(name, strlen(name))) == NULL) {
		free(r);
		snprintf(err, errlen, "%s: %s", name, strerror(ENOMEM));
		return NULL;
	}
	r->fd = -1;
	r->hash = FNV_OFFSET;
	return r;
}

struct eval_partial_reader *
eval_partial_open(const char *path, char *err, size_t errlen)
{
	struct eval_partial_reader *r = r_new(path, err, errlen);
	struct stat st;

	if (r == NULL)
		return NULL;
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0 || fstat(r->fd, &st) != 0) {
		r_fail(r, err, errlen, "%s", strerror(errno));
		eval_partial_close(r);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		r_fail(r, err, errlen, "not a regular file");
		eval_partial_close(r);
		return NULL;
	}
	r->own = malloc(READ_BUF);
	if (r->own == NULL) {
		r_fail(r, err, errlen, "%s", strerror(ENOMEM));
		eval_partial_close(r);
		return NULL;
	}
	r->buf = r->own;
	r->left = (uint64_t)st.st_size;
	return r_header(r, err, errlen);
}

struct eval_partial_reader *
eval_partial_open_mem(
    const void *buf, size_t len, const char *name, char *err, size_t errlen)
{
	struct eval_partial_reader *r = r_new(name, err, errlen);

	if (r == NULL)
		return NULL;
	r->buf = buf;
	r->len = len;
	r->left = len;
	return r_header(r, err, errlen);
}

void
eval_partial_close(struct eval_partial_reader *r)
{
	if (r == NULL)
		return;
	if (r->fd >= 0)
		close(r->fd);
	free(r->own);
	free(r->job_bytes);
	eval_job_clear(&r->job);
	free(r->name);
	free(r);
}

const char *
eval_partial_name(const struct eval_partial_reader *r)
{
	return r->name;
}

unsigned
eval_partial_shard(const struct eval_partial_reader *r)
{
	return r->shard;
}

unsigned
eval_partial_nshards(const struct eval_partial_reader *r)
{
	return r->nshards;
}

const unsigned char *
eval_partial_job_bytes(const struct eval_partial_reader *r, size_t *len)
{
	*len = r->job_len;
	return r->job_bytes;
}

const struct eval_job *
eval_partial_job(const struct eval_partial_reader *r)
{
	return &r->job;
}

void
eval_partial_section_clear(struct eval_partial_section *s)
{
	free(s->images);
	free(s->first_resized);
	memset(s, 0, sizeof *s);
}

static int
r_nomem(const struct eval_partial_reader *r, char *err, size_t errlen)
{
	return r_fail(r, err, errlen, "%s", strerror(errno ? errno : ENOMEM));
}

int
eval_partial_read_section(struct eval_partial_reader *r, size_t method,
    size_t category, struct eval_partial_section *s, struct eval_pixels *px,
    char *err, size_t errlen)
{
	unsigned char tag[4];
	uint64_t m, c, n, note, nreg, npos;
	uint32_t *sizes = NULL, *unfilled = NULL;
	size_t first;
	int rc = -1;

	free(s->images);
	free(s->first_resized);
	memset(s, 0, sizeof *s);
	if (r_bytes(r, tag, 4, err, errlen) != 0)
		return -1;
	if (memcmp(tag, sect_tag, 4) != 0)
		return r_corrupt(r, err, errlen, "section expected");
	if (r_varint(r, &m, err, errlen) != 0 ||
	    r_varint(r, &c, err, errlen) != 0)
		return -1;
	if (m != method || c != category)
		return r_corrupt(r, err, errlen, "sections out of order");
	/* images: at least 10 bytes each */
	if (r_count(r, 10, &n, err, errlen) != 0)
		return -1;
	s->images = malloc((n ? n : 1) * sizeof *s->images);
	if (s->images == NULL)
		return r_nomem(r, err, errlen);
	for (uint64_t i = 0; i < n; i++) {
		struct eval_partial_image *im = &s->images[i];
		uint64_t bits;

		if (r_varint(r, &im->index, err, errlen) != 0 ||
		    r_byte(r, &im->label, err, errlen) != 0 ||
		    r_uint(r, &bits, 8, err, errlen) != 0)
			return -1;
		memcpy(&im->score, &bits, sizeof bits);
		if (im->label > 1 || !isfinite(im->score))
			return r_corrupt(r, err, errlen, "image record");
	}
	s->nimages = (size_t)n;
	if (r_varint(r, &s->resized, err, errlen) != 0 ||
	    r_count(r, 1, &note, err, errlen) != 0)
		return -1;
	if (note > MAX_NOTE)
		return r_corrupt(r, err, errlen, "resize note");
	if (note > 0) {
		s->first_resized = malloc(note + 1);
		if (s->first_resized == NULL)
			return r_nomem(r, err, errlen);
		if (r_bytes(r, s->first_resized, note, err, errlen) != 0)
			return -1;
		s->first_resized[note] = '\0';
		if (strlen(s->first_resized) != note)
			return r_corrupt(r, err, errlen, "resize note");
	}
	/* regions: at least 1 byte each */
	if (r_count(r, 1, &nreg, err, errlen) != 0)
		return -1;
	sizes = malloc((nreg ? nreg : 1) * sizeof *sizes);
	/* unfilled[i]: pixels region i still expects */
	unfilled = malloc((nreg ? nreg : 1) * sizeof *unfilled);
	if (sizes == NULL || unfilled == NULL) {
		r_nomem(r, err, errlen);
		goto out;
	}
	for (uint64_t i = 0; i < nreg; i++) {
		uint64_t v;

		if (r_varint(r, &v, err, errlen) != 0)
			goto out;
		if (v == 0 || v > UINT32_MAX) {
			r_corrupt(r, err, errlen, "region size");
			goto out;
		}
		sizes[i] = unfilled[i] = (uint32_t)v;
	}
	if (eval_pixels_append_regions(px, sizes, (size_t)nreg, &first) != 0) {
		if (errno == EOVERFLOW)
			r_fail(r, err, errlen, "more than 2^32 regions");
		else
			r_nomem(r, err, errlen);
		goto out;
	}
	/* positives: at least 5 bytes each; every region gets exactly as
	 * many pixels as its size says */
	if (r_count(r, 5, &npos, err, errlen) != 0)
		goto out;
	for (uint64_t i = 0; i < npos; i++) {
		uint32_t key;
		uint64_t reg;

		if (r_u32(r, &key, err, errlen) != 0 ||
		    r_varint(r, &reg, err, errlen) != 0)
			goto out;
		if (reg == 0 || reg > nreg || unfilled[reg - 1] == 0) {
			r_corrupt(r, err, errlen, "region of a pixel");
			goto out;
		}
		unfilled[reg - 1]--;
		if (eval_pixels_append_positive(
		        px, key, first + (size_t)reg - 1) != 0) {
			r_nomem(r, err, errlen);
			goto out;
		}
	}
	for (uint64_t i = 0; i < nreg; i++)
		if (unfilled[i] != 0) {
			r_corrupt(r, err, errlen, "region size");
			goto out;
		}
	/* runs: at least 2 bytes each */
	if (r_count(r, 2, &s->runs, err, errlen) != 0)
		goto out;
	r->run_first = true;
	rc = 0;
out:
	free(sizes);
	free(unfilled);
	return rc;
}

long
eval_partial_read_runs(struct eval_partial_reader *r,
    struct eval_partial_section *s, uint32_t *keys, uint64_t *counts,
    size_t max, char *err, size_t errlen)
{
	size_t n = 0;

	for (; n < max && s->runs > 0; n++) {
		uint64_t gap, count;

		if (r->len - r->pos >= 20 && r->left >= 20) {
			/* both numbers in the buffer: no calls per byte */
			const unsigned char *p = r->buf + r->pos;
			size_t pos = 0;

			if (varint_get(p, 20, &pos, &gap) != 0 ||
			    varint_get(p, 20, &pos, &count) != 0)
				return r_corrupt(r, err, errlen, "bad number");
			for (size_t k = 0; k < pos; k++)
				r->hash = (r->hash ^ p[k]) * FNV_PRIME;
			r->pos += pos;
			r->left -= pos;
		} else if (r_varint(r, &gap, err, errlen) != 0 ||
		    r_varint(r, &count, err, errlen) != 0) {
			return -1;
		}
		if (r->run_first ? gap > UINT32_MAX
		                 : (gap == 0 || gap > r->run_key))
			return r_corrupt(
			    r, err, errlen, "negative keys out of order");
		if (count == 0)
			return r_corrupt(r, err, errlen, "empty run");
		keys[n] = r->run_first ? (uint32_t)(UINT32_MAX - gap)
		                       : (uint32_t)(r->run_key - gap);
		counts[n] = count;
		r->run_key = keys[n];
		r->run_first = false;
		s->runs--;
	}
	return (long)n;
}

int
eval_partial_next_run(struct eval_partial_reader *r,
    struct eval_partial_section *s, uint32_t *key, uint64_t *count, char *err,
    size_t errlen)
{
	long n = eval_partial_read_runs(r, s, key, count, 1, err, errlen);

	return n < 0 ? -1 : (int)n;
}

int
eval_partial_read_end(struct eval_partial_reader *r, uint64_t *bad,
    uint32_t *flags, char *err, size_t errlen)
{
	unsigned char tag[4];
	uint64_t h, stored;

	if (r_bytes(r, tag, 4, err, errlen) != 0)
		return -1;
	if (memcmp(tag, end_tag, 4) != 0)
		return r_corrupt(r, err, errlen, "end expected");
	if (r_uint(r, bad, 8, err, errlen) != 0 ||
	    r_u32(r, flags, err, errlen) != 0)
		return -1;
	h = r->hash;
	if (r_uint(r, &stored, 8, err, errlen) != 0)
		return -1;
	if (stored != h)
		return r_corrupt(r, err, errlen, "checksum mismatch");
	if (r->left != 0)
		return r_corrupt(r, err, errlen, "data after the end");
	return 0;
}
