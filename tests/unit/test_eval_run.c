/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <math.h>

#include "test_util.h"

#include "eval_run.h"
#include "eval_scores.h"

static void
test_eval_run_shard_range(void **state)
{
	(void)state;
	/* The shards' blocks, in shard order, tile [0, N) with sizes that
	 * differ by at most one. */
	for (uint64_t n = 0; n < 40; n++)
		for (unsigned k = 1; k <= 7; k++) {
			uint64_t next = 0, lo, hi;

			for (unsigned i = 0; i < k; i++) {
				eval_shard_range(n, i, k, &lo, &hi);
				assert_int_equal(lo, next);
				assert_true(hi >= lo);
				assert_true(hi - lo <= n / k + 1);
				assert_true(hi - lo >= n / k);
				next = hi;
			}
			assert_int_equal(next, n);
		}
}

static void
test_eval_run_scores(void **state)
{
	char *d = test_tmpdir();
	char *csv = mirad_path_join(d, "s.csv");
	char *jsonl = mirad_path_join(d, "s.jsonl");
	struct eval e = {0};

	(void)state;
	test_write(d, "s.csv", "score,image\n0.5,b/2.png\n-1e3,a/1.png\n");
	e.scores_path = csv;
	eval_load_scores(&e);
	/* sorted by image, numbers parsed */
	assert_int_equal(e.nscores, 2);
	assert_string_equal(e.scores[0].image, "a/1.png");
	assert_true(e.scores[0].score == -1000.0);
	assert_string_equal(e.scores[1].image, "b/2.png");
	assert_true(e.scores[1].score == 0.5);
	eval_clear(&e);
	assert_int_equal(e.nscores, 0);

	test_write(d, "s.jsonl",
	    "{\"image\": \"z\", \"score\": 2}\n\n{\"image\": \"y\", "
	    "\"score\": 0.25}\n");
	e.scores_path = jsonl;
	eval_load_scores(&e);
	assert_int_equal(e.nscores, 2);
	assert_string_equal(e.scores[0].image, "y");
	assert_true(e.scores[0].score == 0.25);
	assert_true(e.scores[1].score == 2.0);
	eval_clear(&e);
	mirad_rm_rf(d);
	free(csv);
	free(jsonl);
	free(d);
}

/* A category of two images of 4x1 pixels whose anomalous pixels score
 * highest: every metric 1. */
static void
test_eval_run_add_category(void **state)
{
	static const float s0[4] = {0.1f, 0.2f, 0.3f, 0.4f};
	static const float s1[4] = {0.1f, 0.9f, 0.8f, 0.2f};
	static const uint8_t m0[4] = {0, 0, 0, 0}, m1[4] = {0, 1, 1, 0};
	struct eval e = {0};
	struct run *run = calloc(1, sizeof *run);
	struct cat_state st = {0};

	(void)state;
	assert_non_null(run);
	e.limit = 0.3;
	e.metric_on[M_P_AUROC] = true;
	st.px = eval_pixels_new();
	assert_non_null(st.px);
	assert_int_equal(eval_pixels_add(st.px, s0, m0, 4, 1), 0);
	assert_int_equal(eval_pixels_add(st.px, s1, m1, 4, 1), 0);
	for (int i = 0; i < 2; i++) {
		eval_cat_grow(&st);
		st.iscore[st.n] = i ? 0.9 : 0.4;
		st.ilabel[st.n] = (uint8_t)i;
		st.iindex[st.n++] = (uint64_t)i;
	}
	eval_run_add_category(&e, run, "widget", &st);
	eval_cat_free(&st);
	assert_null(st.px);
	assert_int_equal(run->ncats, 1);
	assert_string_equal(run->cats[0].category, "widget");
	assert_int_equal(run->cats[0].images, 2);
	assert_int_equal(run->cats[0].anomalous, 1);
	assert_int_equal(run->cats[0].pixels, 8);
	assert_int_equal(run->cats[0].regions, 1);
	for (int m = 0; m < NMETRICS; m++)
		if (m != M_I_F1MAX && m != M_P_F1MAX)
			assert_true(run->cats[0].m[m] == 1.0);
	run->name = strdup("m");
	run->maps = strdup("dir");
	eval_runs_free(run, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eval_run_shard_range),
	    cmocka_unit_test(test_eval_run_scores),
	    cmocka_unit_test(test_eval_run_add_category),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
