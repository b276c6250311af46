/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of mirad-eval's metrics core on cases computed by hand.
 */
#include "mirad_platform.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "eval_metrics.h"

#define assert_near(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

static void
test_eval_metrics_key_order(void **state)
{
	static const float v[] = {-INFINITY, -3.5f, -1e-30f, 0.0f, 1e-30f,
	    0.25f, 1.0f, 3e38f, INFINITY};
	(void)state;
	for (size_t i = 0; i + 1 < sizeof v / sizeof *v; i++)
		assert_true(
		    eval_key_from_float(v[i]) < eval_key_from_float(v[i + 1]));
	assert_int_equal(eval_key_from_float(-0.0f), eval_key_from_float(0.0f));
	for (size_t i = 0; i < sizeof v / sizeof *v; i++)
		assert_true(
		    eval_float_from_key(eval_key_from_float(v[i])) == v[i]);
}

static void
test_eval_metrics_binary_distinct(void **state)
{
	/* sklearn: roc_auc_score([0,0,1,1],[.1,.4,.35,.8]) = 0.75,
	 * average_precision_score = 0.8333...; F1 at 0.35 = 4/5. */
	static const double s[] = {0.1, 0.4, 0.35, 0.8};
	static const uint8_t l[] = {0, 0, 1, 1};
	struct eval_result r;
	(void)state;

	assert_int_equal(eval_binary(s, l, 4, &r), 0);
	assert_near(r.auroc, 0.75, 1e-15);
	assert_near(r.ap, 0.5 * 1.0 + 0.5 * (2.0 / 3.0), 1e-15);
	assert_near(r.f1max, 0.8, 1e-15);
	assert_true(r.f1_threshold == 0.35);
	assert_true(isnan(r.aupro));
}

static void
test_eval_metrics_binary_ties(void **state)
{
	/* A tied positive/negative pair gets half credit. */
	static const double s[] = {1, 1, 0, 0, 0.0};
	static const uint8_t l[] = {1, 0, 1, 0, 0};
	struct eval_result r;
	(void)state;

	assert_int_equal(eval_binary(s, l, 5, &r), 0);
	/* pairs: (1,1)=.5 (1,0)x2=2 ; (0 pos vs 0,0)=.5+.5, vs 1 = 0 */
	assert_near(r.auroc, (0.5 + 2 + 1.0) / 6.0, 1e-15);
	/* at 1: TP1 FP1 P=.5 R=.5; at 0: TP2 FP3 P=.4 R=1 */
	assert_near(r.ap, 0.5 * 0.5 + 0.5 * 0.4, 1e-15);
	/* F1: 2/(2+2)=.5 and 4/(5+2)=.571 */
	assert_near(r.f1max, 4.0 / 7.0, 1e-15);
	assert_true(r.f1_threshold == 0.0);
}

static void
test_eval_metrics_binary_one_class(void **state)
{
	static const double s[] = {0.3, 0.2};
	static const uint8_t neg[] = {0, 0}, pos[] = {1, 1};
	struct eval_result r;
	(void)state;

	assert_int_equal(eval_binary(s, neg, 2, &r), 0);
	assert_true(isnan(r.auroc));
	assert_true(isnan(r.ap)); /* undefined, like AUROC */
	assert_true(isnan(r.f1max));
	assert_int_equal(eval_binary(s, pos, 2, &r), 0);
	assert_true(isnan(r.auroc));
	assert_near(r.ap, 1.0, 1e-15);
	assert_near(r.f1max, 1.0, 1e-15);
}

static void
test_eval_metrics_regions_8_connected(void **state)
{
	/* Diagonal touches join (8-connectivity); a U shape merges two
	 * provisional labels; the last pixel stands alone. */
	static const uint8_t m[] = {
	    1,
	    0,
	    0,
	    0,
	    1,
	    0,
	    0,
	    1,
	    0,
	    1,
	    0,
	    0,
	    0,
	    0,
	    1,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    1,
	    0,
	    1,
	    0,
	    0,
	    255,
	    1,
	    1,
	    1,
	    0,
	    0,
	    0,
	};
	static const uint32_t want[] = {
	    1,
	    0,
	    0,
	    0,
	    1,
	    0,
	    0,
	    1,
	    0,
	    1,
	    0,
	    0,
	    0,
	    0,
	    1,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    0,
	    2,
	    0,
	    2,
	    0,
	    0,
	    3,
	    2,
	    2,
	    2,
	    0,
	    0,
	    0,
	};
	uint32_t labels[36], *sizes;
	(void)state;

	assert_int_equal(eval_label_regions(m, 6, 6, labels, &sizes), 3);
	assert_memory_equal(labels, want, sizeof want);
	assert_int_equal(sizes[1], 5);
	assert_int_equal(sizes[2], 5);
	assert_int_equal(sizes[3], 1);
	free(sizes);
}

static void
test_eval_metrics_regions_border(void **state)
{
	/* Regions touching the right border must not wrap to the next
	 * row's left border. */
	static const uint8_t m[] = {0, 0, 1, 1, 0, 0};
	uint32_t labels[6], *sizes;
	(void)state;

	assert_int_equal(eval_label_regions(m, 3, 2, labels, &sizes), 2);
	free(sizes);
}

static void
test_eval_metrics_pixels_aupro(void **state)
{
	/* One region of 2 pixels, 2 negatives.  Curve: (0,0) (0,.5)
	 * (.5,.5) (.5,1) (1,1). */
	static const float s[] = {0.9f, 0.2f, 0.5f, 0.1f};
	static const uint8_t m[] = {1, 1, 0, 0};
	struct eval_pixels *p = eval_pixels_new();
	struct eval_result r;
	(void)state;

	assert_non_null(p);
	assert_int_equal(eval_pixels_add(p, s, m, 4, 1), 0);
	assert_int_equal(eval_pixels_compute(p, 0.3, &r), 0);
	assert_near(r.aupro, 0.5, 1e-15);
	assert_near(r.auroc, 0.75, 1e-15);
	assert_int_equal(r.regions, 1);
	assert_int_equal(r.positives, 2);
	assert_int_equal(r.negatives, 2);
	/* AP: at .9 TP1 FP0 -> 1; at .2 TP2 FP1 -> 2/3 */
	assert_near(r.ap, 0.5 + 0.5 * 2.0 / 3.0, 1e-15);
	assert_int_equal(eval_pixels_compute(p, 1.0, &r), 0);
	assert_near(r.aupro, 0.75, 1e-15);
	eval_pixels_free(p);
}

static void
test_eval_metrics_pixels_tie_interpolation(void **state)
{
	/* A tie of 2 negatives and the only positive: a diagonal segment
	 * from (0,0) to (2/3,1), interpolated at 0.3. */
	static const float s[] = {0.5f, 0.5f, 0.5f, 0.1f};
	static const uint8_t m[] = {1, 0, 0, 0};
	static const float s2[] = {0.7f, -0.0f, 0.0f, 0.0f};
	static const uint8_t m2[] = {0, 0, 0, 0};
	struct eval_pixels *p = eval_pixels_new();
	struct eval_result r;
	(void)state;

	assert_int_equal(eval_pixels_add(p, s, m, 2, 2), 0);
	assert_int_equal(eval_pixels_compute(p, 0.3, &r), 0);
	assert_near(r.aupro, 0.5 * 0.45 * 0.3 / 0.3, 1e-15);
	assert_near(r.auroc, (2 * 0.5 + 1.0) / 3.0, 1e-15);
	/* A normal image added after sorting: one more negative above,
	 * and three zero scores (-0 ties with +0) below everything. */
	assert_int_equal(eval_pixels_add(p, s2, m2, 4, 1), 0);
	assert_int_equal(eval_pixels_compute(p, 0.3, &r), 0);
	/* N = 7: (1/7,0) then (3/7,1); crossing at .3 */
	{
		double x0 = 1.0 / 7, x1 = 3.0 / 7;
		double y = (0.3 - x0) / (x1 - x0);

		assert_near(r.aupro, (y / 2 * (0.3 - x0)) / 0.3, 1e-15);
	}
	assert_near(r.auroc, (4 * 1.0 + 2 * 0.5) / 7.0, 1e-15);
	eval_pixels_free(p);
}

static void
test_eval_metrics_pixels_no_anomaly(void **state)
{
	static const float s[] = {0.1f, 0.2f, 0.3f};
	static const uint8_t m[] = {0, 0, 0};
	struct eval_pixels *p = eval_pixels_new();
	struct eval_result r;
	(void)state;

	assert_int_equal(eval_pixels_add(p, s, m, 3, 1), 0);
	assert_int_equal(eval_pixels_compute(p, 0.3, &r), 0);
	assert_true(isnan(r.auroc));
	assert_true(isnan(r.aupro));
	assert_true(isnan(r.ap)); /* undefined, like AUROC */
	eval_pixels_free(p);
}

static void
test_eval_metrics_adeval(void **state)
{
	/* nstrips 2 over [0,1]: negatives in slot 1, positives in slot 2,
	 * the max counted again in the overflow slot (see the header). */
	static const float s[] = {0.0f, 0.25f, 0.75f, 1.0f};
	static const uint8_t m[] = {0, 0, 1, 1};
	struct eval_pixels *p = eval_pixels_new();
	struct eval_result r;
	(void)state;

	assert_int_equal(eval_pixels_add(p, s, m, 4, 1), 0);
	assert_int_equal(eval_pixels_adeval(p, 2, 0.3, &r), 0);
	assert_near(r.auroc, 1.0, 1e-15);
	assert_near(r.ap, 2.0 / 3.0, 1e-15);
	assert_near(r.aupro, 1.0, 1e-15);
	/* ADer F1: at t=0.25 exactly the two positives are above */
	assert_near(eval_pixels_ader_f1max(p), 1.0, 1e-7);
	eval_pixels_free(p);
}

static void
test_eval_metrics_adeval_constant(void **state)
{
	static const float s[] = {0.5f, 0.5f};
	static const uint8_t m[] = {0, 1};
	struct eval_pixels *p = eval_pixels_new();
	struct eval_result r;
	(void)state;

	assert_int_equal(eval_pixels_add(p, s, m, 2, 1), 0);
	assert_int_equal(eval_pixels_adeval(p, 50, 0.3, &r), -1);
	assert_true(eval_pixels_ader_f1max(p) == 0.0);
	eval_pixels_free(p);
}

static void
test_eval_metrics_avgpool(void **state)
{
	static const float s[] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
	(void)state;

	assert_near(eval_avgpool_max(s, 3, 3, 2), 7.0, 1e-12);
	assert_near(eval_avgpool_max(s, 3, 3, 1), 9.0, 1e-12);
	/* too small for the window: the plain max */
	assert_near(eval_avgpool_max(s, 3, 3, 16), 9.0, 1e-12);
}

static void
test_eval_metrics_radix_many(void **state)
{
	/* Enough distinct values to need all three radix passes; the
	 * result must equal the image-level (qsort) path. */
	enum {
		W = 61,
		H = 47
	};
	static float s[W * H];
	static uint8_t m[W * H];
	static double d[W * H];
	struct eval_pixels *p = eval_pixels_new();
	struct eval_result a, b;
	uint32_t x = 12345;
	(void)state;

	for (size_t i = 0; i < W * H; i++) {
		x = x * 1103515245u + 12345u;
		s[i] = (float)((int32_t)x) / 1e6f;
		if (i % 7 == 0)
			s[i] = 0.5f; /* ties */
		m[i] = (x >> 8) % 3 == 0;
		d[i] = s[i];
	}
	assert_int_equal(eval_pixels_add(p, s, m, W, H), 0);
	assert_int_equal(eval_pixels_compute(p, 0.3, &a), 0);
	assert_int_equal(eval_binary(d, m, W * H, &b), 0);
	assert_near(a.auroc, b.auroc, 1e-14);
	assert_near(a.ap, b.ap, 1e-12);
	assert_near(a.f1max, b.f1max, 1e-14);
	assert_true(a.f1_threshold == b.f1_threshold);
	eval_pixels_free(p);
}

/* Every field of two results, bit for bit (NaN equal to NaN). */
static void
assert_same_result(const struct eval_result *a, const struct eval_result *b)
{
	assert_memory_equal(&a->auroc, &b->auroc, sizeof a->auroc);
	assert_memory_equal(&a->ap, &b->ap, sizeof a->ap);
	assert_memory_equal(&a->f1max, &b->f1max, sizeof a->f1max);
	assert_memory_equal(
	    &a->f1_threshold, &b->f1_threshold, sizeof a->f1_threshold);
	assert_memory_equal(&a->aupro, &b->aupro, sizeof a->aupro);
	assert_int_equal(a->negatives, b->negatives);
	assert_int_equal(a->positives, b->positives);
	assert_int_equal(a->regions, b->regions);
}

/*
 * The negatives are counted against the distinct positive keys without
 * being sorted; sorting them first takes the merge path instead.  Both
 * must give the same bits, and so must a store of runs built from the
 * sorted keys, for maps of NPIX pixels drawn by KIND.
 */
static void
check_counting(unsigned kind, size_t npix, uint32_t seed)
{
	float *s = malloc(npix * sizeof *s);
	uint8_t *m = malloc(npix);
	struct eval_pixels *a = eval_pixels_new(), *b = eval_pixels_new();
	struct eval_pixels *runs = eval_pixels_new();
	struct eval_pixels_data d;
	struct eval_result ra, rb, rr;
	uint32_t x = seed;

	assert_non_null(s);
	assert_non_null(m);
	for (size_t i = 0; i < npix; i++) {
		x = x * 1103515245u + 12345u;
		switch (kind) {
		case 0: /* spread values, many ties between classes */
			s[i] = (float)((int32_t)x >> 12) / 64.0f;
			m[i] = (x >> 9) % 5 == 0;
			break;
		case 1: /* every score equal */
			s[i] = 0.25f;
			m[i] = (x >> 9) % 3 == 0;
			break;
		case 2: /* no positive pixel */
			s[i] = (float)(x >> 8) / 16777216.0f;
			m[i] = 0;
			break;
		case 3: /* extremes: negatives above and below every positive,
		           infinities, signed zeros, huge magnitudes */
			m[i] = (x >> 9) % 4 == 0;
			if (m[i])
				s[i] = (float)((x >> 8) % 1000) / 1000.0f;
			else if (i % 5 == 0)
				s[i] = (i % 10 == 0) ? INFINITY : -INFINITY;
			else if (i % 7 == 0)
				s[i] = (i % 14 == 0) ? 0.0f : -0.0f;
			else
				s[i] = (float)((int32_t)x) * 1e28f;
			break;
		case 4: /* many distinct positive keys (counted by key
		           range), negatives on the same grid (ties) and
		           beyond both ends */
			m[i] = (x >> 9) % 4 == 0;
			s[i] = m[i]
			    ? (float)((x >> 8) % 400000) / 1000.0f
			    : (float)((x >> 8) % 600000) / 1000.0f - 100.0f;
			break;
		default: /* few distinct positive keys in one narrow cluster */
			m[i] = (x >> 9) % 50 == 0;
			s[i] = m[i] ? 1.0f + (float)((x >> 20) % 3) * 1e-7f
			            : (float)((x >> 8) % 5000) / 2500.0f;
			break;
		}
	}
	/* two images, so that regions and insertion order span both; A
	 * told to expect them (room reserved at once) */
	eval_pixels_expect(a, 2);
	assert_int_equal(eval_pixels_add(a, s, m, npix / 2, 1), 0);
	assert_int_equal(
	    eval_pixels_add(a, s + npix / 2, m + npix / 2, npix - npix / 2, 1),
	    0);
	assert_int_equal(eval_pixels_add(b, s, m, npix / 2, 1), 0);
	assert_int_equal(
	    eval_pixels_add(b, s + npix / 2, m + npix / 2, npix - npix / 2, 1),
	    0);
	assert_int_equal(eval_pixels_compute(a, 0.3, &ra), 0);
	assert_int_equal(eval_pixels_sort_negatives(b), 0);
	assert_int_equal(eval_pixels_compute(b, 0.3, &rb), 0);
	assert_same_result(&ra, &rb);
	/* the store of runs, from b's sorted arrays */
	eval_pixels_view(b, &d);
	{
		size_t first;

		assert_int_equal(eval_pixels_append_regions(
		                     runs, d.region_size, d.n_regions, &first),
		    0);
		for (size_t i = 0; i < d.n_pos; i++)
			assert_int_equal(
			    eval_pixels_append_positive(runs,
			        (uint32_t)(d.pos[i] >> 32), (uint32_t)d.pos[i]),
			    0);
		for (size_t i = 0; i < d.n_neg; i++)
			assert_int_equal(
			    eval_pixels_append_negatives(runs, d.neg[i], 1), 0);
	}
	assert_int_equal(eval_pixels_compute(runs, 0.3, &rr), 0);
	assert_same_result(&ra, &rr);
	/* computing twice gives the same (the store stays usable) */
	assert_int_equal(eval_pixels_compute(a, 0.3, &rb), 0);
	assert_same_result(&ra, &rb);
	eval_pixels_free(a);
	eval_pixels_free(b);
	eval_pixels_free(runs);
	free(s);
	free(m);
}

static void
test_eval_metrics_counting_matches_sorting(void **state)
{
	(void)state;
	for (unsigned kind = 0; kind < 6; kind++) {
		check_counting(kind, 2, 7);
		check_counting(kind, 301, 11);
		/* past a million negatives: counted by several threads */
		check_counting(kind, 2500000, 13);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eval_metrics_key_order),
	    cmocka_unit_test(test_eval_metrics_binary_distinct),
	    cmocka_unit_test(test_eval_metrics_binary_ties),
	    cmocka_unit_test(test_eval_metrics_binary_one_class),
	    cmocka_unit_test(test_eval_metrics_regions_8_connected),
	    cmocka_unit_test(test_eval_metrics_regions_border),
	    cmocka_unit_test(test_eval_metrics_pixels_aupro),
	    cmocka_unit_test(test_eval_metrics_pixels_tie_interpolation),
	    cmocka_unit_test(test_eval_metrics_pixels_no_anomaly),
	    cmocka_unit_test(test_eval_metrics_adeval),
	    cmocka_unit_test(test_eval_metrics_adeval_constant),
	    cmocka_unit_test(test_eval_metrics_avgpool),
	    cmocka_unit_test(test_eval_metrics_radix_many),
	    cmocka_unit_test(test_eval_metrics_counting_matches_sorting),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
