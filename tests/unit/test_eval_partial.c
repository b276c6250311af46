/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of mirad-eval's partial files: a store written by shards and
 * rebuilt from their partial files gives bit-identical metrics to the store
 * of the single run; damaged and truncated files are refused.
 */
#include "mirad_platform.h"

#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eval_metrics.h"
#include "eval_partial.h"

enum {
	NIMG = 7,
	W = 23,
	H = 17
};

/* Synthetic image I: scores on LEVELS levels (0 = continuous) and a mask
 * with a few blobs (none for every third image). */
static void
make_image(unsigned i, unsigned levels, float *score, uint8_t *mask)
{
	uint32_t s = 2463534242u + i * 7919u;

	for (size_t p = 0; p < W * H; p++) {
		float v;

		s ^= s << 13;
		s ^= s >> 17;
		s ^= s << 5;
		v = (float)(s % 100000) / 100000.0f;
		if (levels > 0)
			v = (float)(s % levels) / (float)levels;
		score[p] = (i % 2 && p % 5 == 0) ? -0.0f : v;
		mask[p] = 0;
	}
	if (i % 3 == 2)
		return;
	for (size_t y = 2; y < 7; y++)
		for (size_t x = 3 + i; x < 9 + i && x < W; x++)
			mask[y * W + x] = 1;
	for (size_t k = 0; k < 4; k++) /* a diagonal region */
		mask[(10 + k) * W + 2 + k] = 1;
	mask[(H - 1) * W + W - 1] = 1; /* a single pixel in the corner */
}

/* A store of images [FROM, TO). */
static struct eval_pixels *
store_of(unsigned from, unsigned to, unsigned levels)
{
	struct eval_pixels *p = eval_pixels_new();
	float score[W * H];
	uint8_t mask[W * H];

	assert_non_null(p);
	for (unsigned i = from; i < to; i++) {
		make_image(i, levels, score, mask);
		assert_int_equal(eval_pixels_add(p, score, mask, W, H), 0);
	}
	return p;
}

/* Every metric of P (exact, ADEval, ADer F1), as raw bits. */
struct all_results {
	struct eval_result exact, adeval;
	double ader_f1;
	uint64_t count;
};

static void
results_of(struct eval_pixels *p, struct all_results *r)
{
	memset(r, 0, sizeof *r);
	assert_int_equal(eval_pixels_compute(p, 0.3, &r->exact), 0);
	(void)eval_pixels_adeval(p, 50, 0.3, &r->adeval);
	r->ader_f1 = eval_pixels_ader_f1max(p);
	r->count = eval_pixels_count(p);
}

static void
test_job(struct eval_job *j)
{
	memset(j, 0, sizeof *j);
	eval_job_add(j, "tool", "mirad-eval");
	eval_job_add(j, "pro-limit", "0x1.3333333333333p-2");
	eval_job_add(j, "category", "with\nnewline and \xc3\xa9");
}

/* Write the shard of images [FROM, TO) as shard K of N, one section
 * (method 0, category 0); returns the bytes. */
static char *
write_shard(unsigned from, unsigned to, unsigned levels, unsigned k, unsigned n,
    size_t *len)
{
	struct eval_pixels *p = store_of(from, to, levels);
	struct eval_partial_image im[NIMG];
	struct eval_partial_writer *w;
	struct eval_job job;
	char *buf = NULL;
	FILE *f = open_memstream(&buf, len);

	assert_non_null(f);
	test_job(&job);
	w = eval_partial_writer_new(f, k, n, &job);
	assert_non_null(w);
	eval_job_clear(&job);
	for (unsigned i = from; i < to; i++) {
		im[i - from].index = i;
		im[i - from].label = i % 3 != 2;
		im[i - from].score = 0.5 + i;
	}
	assert_int_equal(eval_partial_write_section(w, 0, 0, im, to - from,
	                     from == 0, from == 0 ? "first.tiff" : NULL, p),
	    0);
	assert_int_equal(eval_partial_writer_finish(w, k, 0), 0);
	assert_int_equal(fclose(f), 0);
	eval_pixels_free(p);
	return buf;
}

/* Read N partial buffers as shards of one category into a new store, as
 * mirad-eval --merge does (2-way merging of the runs in turn). */
static struct eval_pixels *
merge_buffers(char **bufs, size_t *lens, unsigned n, size_t *images)
{
	struct eval_pixels *p = eval_pixels_new();
	struct eval_partial_reader *r[4];
	struct eval_partial_section s[4];
	uint32_t key[4];
	uint64_t count[4], bad;
	uint32_t flags;
	int more[4];
	char err[256];

	assert_true(n <= 4);
	memset(s, 0, sizeof s);
	*images = 0;
	for (unsigned k = 0; k < n; k++) {
		r[k] = eval_partial_open_mem(
		    bufs[k], lens[k], "mem", err, sizeof err);
		assert_non_null(r[k]);
		assert_int_equal(eval_partial_shard(r[k]), k);
		assert_int_equal(eval_partial_nshards(r[k]), n);
		assert_int_equal(eval_partial_read_section(
		                     r[k], 0, 0, &s[k], p, err, sizeof err),
		    0);
		*images += s[k].nimages;
	}
	for (unsigned k = 0; k < n; k++) {
		more[k] = eval_partial_next_run(
		    r[k], &s[k], &key[k], &count[k], err, sizeof err);
		assert_true(more[k] >= 0);
	}
	for (;;) {
		int best = -1;

		for (unsigned k = 0; k < n; k++)
			if (more[k] && (best < 0 || key[k] > key[best]))
				best = (int)k;
		if (best < 0)
			break;
		assert_int_equal(
		    eval_pixels_append_negatives(p, key[best], count[best]), 0);
		more[best] = eval_partial_next_run(r[best], &s[best],
		    &key[best], &count[best], err, sizeof err);
		assert_true(more[best] >= 0);
	}
	for (unsigned k = 0; k < n; k++) {
		assert_int_equal(
		    eval_partial_read_end(r[k], &bad, &flags, err, sizeof err),
		    0);
		assert_int_equal(bad, k);
		eval_partial_section_clear(&s[k]);
		eval_partial_close(r[k]);
	}
	return p;
}

static void
check_shards(unsigned levels, const unsigned *cut, unsigned n)
{
	struct eval_pixels *single = store_of(0, NIMG, levels), *merged;
	struct all_results a, b;
	char *bufs[4];
	size_t lens[4], images;

	for (unsigned k = 0; k < n; k++)
		bufs[k] =
		    write_shard(cut[k], cut[k + 1], levels, k, n, &lens[k]);
	merged = merge_buffers(bufs, lens, n, &images);
	assert_int_equal(images, NIMG);
	results_of(single, &a);
	results_of(merged, &b);
	/* bit for bit, NaNs included */
	assert_memory_equal(&a, &b, sizeof a);
	assert_true(a.exact.regions > 0 && a.exact.positives > 0);
	for (unsigned k = 0; k < n; k++)
		free(bufs[k]);
	eval_pixels_free(single);
	eval_pixels_free(merged);
}

static void
test_eval_partial_one_shard(void **state)
{
	static const unsigned cut[] = {0, NIMG};
	(void)state;

	check_shards(0, cut, 1); /* continuous scores */
	check_shards(6, cut, 1); /* heavy ties */
}

static void
test_eval_partial_three_shards(void **state)
{
	static const unsigned cut[] = {0, 2, 5, NIMG};
	static const unsigned empty[] = {0, 3, 3, NIMG};
	(void)state;

	check_shards(0, cut, 3);
	check_shards(6, cut, 3);
	check_shards(3, empty, 3); /* a shard without images */
}

static void
test_eval_partial_round_trip_fields(void **state)
{
	struct eval_partial_reader *r;
	struct eval_partial_section s = {0};
	struct eval_pixels *p = eval_pixels_new();
	const struct eval_job *job;
	size_t len, jlen;
	char *buf = write_shard(0, 3, 6, 1, 2, &len);
	char err[256];
	(void)state;

	r = eval_partial_open_mem(buf, len, "mem", err, sizeof err);
	assert_non_null(r);
	assert_string_equal(eval_partial_name(r), "mem");
	assert_non_null(eval_partial_job_bytes(r, &jlen));
	assert_true(jlen > 0);
	job = eval_partial_job(r);
	assert_int_equal(job->n, 3);
	assert_string_equal(job->keys[1], "pro-limit");
	assert_string_equal(job->values[2], "with\nnewline and \xc3\xa9");
	assert_int_equal(
	    eval_partial_read_section(r, 0, 1, &s, p, err, sizeof err), -1);
	assert_non_null(strstr(err, "sections out of order"));
	eval_partial_close(r);

	r = eval_partial_open_mem(buf, len, "mem", err, sizeof err);
	assert_int_equal(
	    eval_partial_read_section(r, 0, 0, &s, p, err, sizeof err), 0);
	assert_int_equal(s.nimages, 3);
	assert_int_equal(s.images[2].index, 2);
	assert_int_equal(s.images[2].label, 0);
	assert_true(s.images[1].score == 1.5);
	assert_int_equal(s.resized, 1);
	assert_string_equal(s.first_resized, "first.tiff");
	eval_partial_section_clear(&s);
	eval_partial_close(r);
	eval_pixels_free(p);
	free(buf);
}

/* Read BUF completely; 0 if it is a valid partial file. */
static int
read_all(const char *buf, size_t len, char *err, size_t errlen)
{
	struct eval_partial_reader *r;
	struct eval_partial_section s = {0};
	struct eval_pixels *p = eval_pixels_new();
	uint32_t key, flags;
	uint64_t count, bad;
	int rc = -1, more;

	err[0] = '\0';
	r = eval_partial_open_mem(buf, len, "mem", err, errlen);
	if (r == NULL)
		goto out;
	if (eval_partial_read_section(r, 0, 0, &s, p, err, errlen) != 0)
		goto out;
	while ((more = eval_partial_next_run(
	            r, &s, &key, &count, err, errlen)) > 0)
		if (eval_pixels_append_negatives(p, key, count) != 0)
			goto out;
	if (more < 0)
		goto out;
	rc = eval_partial_read_end(r, &bad, &flags, err, errlen);
out:
	eval_partial_section_clear(&s);
	eval_partial_close(r);
	eval_pixels_free(p);
	return rc;
}

static void
test_eval_partial_truncated(void **state)
{
	size_t len;
	char *buf = write_shard(0, 3, 4, 0, 1, &len);
	char err[256];
	(void)state;

	assert_int_equal(read_all(buf, len, err, sizeof err), 0);
	for (size_t n = 0; n < len; n++) {
		assert_int_equal(read_all(buf, n, err, sizeof err), -1);
		assert_true(strncmp(err, "mem: ", 5) == 0);
		if (n >= 8)
			assert_non_null(strstr(err, "truncated"));
	}
	free(buf);
}

static void
test_eval_partial_every_byte_checked(void **state)
{
	size_t len;
	char *buf = write_shard(0, 2, 0, 0, 1, &len);
	char err[256];
	(void)state;

	/* FNV-1a changes with any single byte: no damage goes unseen */
	for (size_t i = 0; i < len; i++) {
		buf[i] ^= 0x10;
		assert_int_equal(read_all(buf, len, err, sizeof err), -1);
		assert_true(err[0] != '\0');
		buf[i] ^= 0x10;
	}
	assert_int_equal(read_all(buf, len, err, sizeof err), 0);
	buf[8] = 2; /* the version */
	assert_int_equal(read_all(buf, len, err, sizeof err), -1);
	assert_string_equal(err,
	    "mem: partial file version 2; this mirad-eval reads version 1");
	buf[0] = 'X';
	assert_int_equal(read_all(buf, len, err, sizeof err), -1);
	assert_string_equal(err, "mem: not a mirad-eval partial file");
	free(buf);
}

static void
test_eval_partial_hostile_counts(void **state)
{
	/* A valid header, then a section claiming 2^62 images: refused as
	 * truncated before anything of that size is allocated. */
	static const unsigned char tail[] = {'S', 'E', 'C', 'T', 0, 0, 0x80,
	    0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x40, 1, 2, 3};
	size_t len, hlen;
	char *buf = write_shard(0, 1, 0, 0, 1, &len), *h, err[256];
	struct eval_job job;
	unsigned char *jb;
	(void)state;

	test_job(&job);
	jb = eval_job_encode(&job, &hlen);
	eval_job_clear(&job);
	free(jb);
	hlen += 24; /* magic, version, shard, count, job length */
	h = malloc(hlen + sizeof tail);
	assert_non_null(h);
	memcpy(h, buf, hlen);
	memcpy(h + hlen, tail, sizeof tail);
	assert_int_equal(read_all(h, hlen + sizeof tail, err, sizeof err), -1);
	assert_string_equal(err, "mem: truncated partial file");
	/* an overlong number */
	h[hlen + 6] = (char)0x80;
	h[hlen + 7] = 0;
	assert_int_equal(read_all(h, hlen + 8, err, sizeof err), -1);
	assert_string_equal(err, "mem: corrupt partial file (bad number)");
	free(h);
	free(buf);
}

static void
test_eval_partial_job(void **state)
{
	struct eval_job a, b = {0}, c = {0};
	unsigned char *buf;
	size_t len;
	(void)state;

	test_job(&a);
	buf = eval_job_encode(&a, &len);
	assert_non_null(buf);
	assert_int_equal(eval_job_decode(buf, len, &b), 0);
	assert_int_equal(eval_job_first_difference(&a, &b), -1);
	free(b.values[1]);
	b.values[1] = strdup("0x1.999999999999ap-4");
	assert_int_equal(eval_job_first_difference(&a, &b), 1);
	eval_job_add(&c, "tool", "mirad-eval");
	assert_int_equal(eval_job_first_difference(&a, &c), 1);
	/* malformed: cut, or trailing bytes */
	assert_int_equal(eval_job_decode(buf, len - 1, &c), -1);
	assert_int_equal(c.n, 0);
	buf = realloc(buf, len + 1);
	buf[len] = 0;
	assert_int_equal(eval_job_decode(buf, len + 1, &c), -1);
	free(buf);
	eval_job_clear(&a);
	eval_job_clear(&b);
	eval_job_clear(&c);
}

static void
test_eval_partial_runs_api(void **state)
{
	struct eval_pixels *p = eval_pixels_new(), *q;
	struct eval_pixels_data d;
	float score[4] = {1, 2, 3, 4};
	uint8_t mask[4] = {0};
	uint32_t sizes[1] = {2};
	size_t first;
	(void)state;

	assert_int_equal(eval_pixels_append_negatives(p, 10, 3), 0);
	assert_int_equal(eval_pixels_append_negatives(p, 10, 2), 0);
	assert_int_equal(eval_pixels_append_negatives(p, 7, 0), 0);
	assert_int_equal(eval_pixels_append_negatives(p, 11, 1), -1);
	assert_int_equal(errno, EINVAL);
	assert_int_equal(eval_pixels_add(p, score, mask, 2, 2), -1);
	assert_int_equal(errno, EINVAL);
	/* one entry per run, however long */
	assert_int_equal(
	    eval_pixels_append_negatives(p, 5, (uint64_t)UINT32_MAX + 7), 0);
	assert_int_equal(eval_pixels_append_negatives(p, 5, UINT64_MAX), -1);
	assert_int_equal(errno, EOVERFLOW);
	eval_pixels_view(p, &d);
	assert_int_equal(d.n_neg, 2);
	assert_int_equal(d.neg_count[0], 5);
	assert_int_equal(d.neg_count[1], (uint64_t)UINT32_MAX + 7);
	assert_int_equal(eval_pixels_count(p), 5 + (uint64_t)UINT32_MAX + 7);
	sizes[0] = 0;
	assert_int_equal(eval_pixels_append_regions(p, sizes, 1, &first), -1);
	sizes[0] = 2;
	assert_int_equal(eval_pixels_append_regions(p, sizes, 1, &first), 0);
	assert_int_equal(first, 0);
	assert_int_equal(eval_pixels_append_positive(p, 12, 1), -1);
	assert_int_equal(eval_pixels_append_positive(p, 12, 0), 0);
	eval_pixels_free(p);
	/* image stores refuse runs */
	q = eval_pixels_new();
	assert_int_equal(eval_pixels_add(q, score, mask, 2, 2), 0);
	assert_int_equal(eval_pixels_append_negatives(q, 1, 1), -1);
	assert_int_equal(errno, EINVAL);
	eval_pixels_free(q);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eval_partial_one_shard),
	    cmocka_unit_test(test_eval_partial_three_shards),
	    cmocka_unit_test(test_eval_partial_round_trip_fields),
	    cmocka_unit_test(test_eval_partial_truncated),
	    cmocka_unit_test(test_eval_partial_every_byte_checked),
	    cmocka_unit_test(test_eval_partial_hostile_counts),
	    cmocka_unit_test(test_eval_partial_job),
	    cmocka_unit_test(test_eval_partial_runs_api),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
