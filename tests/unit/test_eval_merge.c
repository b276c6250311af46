/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <math.h>

#include "test_util.h"

#include "eval_merge.h"
#include "mirad_manifest.h"

enum {
	NIMG = 5,
	W = 6,
	H = 5
};

/* Image I's scores and mask: few distinct scores, so that equal keys
 * lie in several shards and the merge must join their runs. */
static void
image(int i, float *s, uint8_t *m)
{
	for (int p = 0; p < W * H; p++) {
		m[p] = i % 2 == 1 && p % W >= 2 && p % W <= 3 && p / W >= 1;
		s[p] =
		    (float)((p * 7 + i * 3) % 11) / 10.0f + (m[p] ? 0.3f : 0);
	}
}

static struct mirad_recordset
records(void)
{
	struct mirad_recordset set = {0};

	for (int i = 0; i < NIMG; i++) {
		struct mirad_record *r = mirad_record_new();
		char name[32];

		snprintf(name, sizeof name, "w/test/x/%d.png", i);
		mirad_record_set(&r->category, "widget");
		mirad_record_set(&r->split, "test");
		mirad_record_set(&r->label, i % 2 ? "anomaly" : "normal");
		mirad_record_set(&r->image, name);
		mirad_recordset_push(&set, r);
	}
	return set;
}

static void
settings(struct eval *e)
{
	memset(e, 0, sizeof *e);
	e->maps = "maps";
	e->limit = 0.3;
	e->adeval_strips = 50;
	e->ader_pooling = 16;
	e->metric_on[M_P_AUROC] = e->metric_on[M_AUPRO] = true;
}

/* Write shard K of N of the category to PATH. */
static void
write_shard(
    const char *path, unsigned k, unsigned n, const struct eval_job *job)
{
	FILE *f = fopen(path, "wb");
	struct eval_partial_writer *w = eval_partial_writer_new(f, k, n, job);
	struct eval_pixels *px = eval_pixels_new();
	struct eval_partial_image im[NIMG];
	uint64_t lo, hi;
	size_t nim = 0;

	assert_non_null(w);
	eval_shard_range(NIMG, k, n, &lo, &hi);
	for (uint64_t i = lo; i < hi; i++) {
		float s[W * H];
		uint8_t m[W * H];

		image((int)i, s, m);
		assert_int_equal(eval_pixels_add(px, s, m, W, H), 0);
		im[nim].index = i;
		im[nim].label = i % 2 == 1;
		im[nim++].score = (double)(i % 2) + (double)i / 100;
	}
	assert_int_equal(
	    eval_partial_write_section(w, 0, 0, im, nim, 0, NULL, px), 0);
	assert_int_equal(eval_partial_writer_finish(w, 0, 0), 0);
	assert_int_equal(fclose(f), 0);
	eval_pixels_free(px);
}

static void
test_eval_merge_job(void **state)
{
	struct mirad_recordset set = records();
	struct run run = {(char *)"m", "maps", NULL, 0};
	struct eval e;
	struct eval_job job = {0};

	(void)state;
	settings(&e);
	eval_build_job(&e, &set, &run, 1, &job);
	/* the settings, then the method, then the categories */
	assert_true(job.n >= 14);
	assert_string_equal(job.keys[0], "tool");
	assert_string_equal(job.values[1], "maps");
	assert_string_equal(job.values[2], "p-auroc,aupro");
	assert_string_equal(job.values[4], "exact");
	assert_string_equal(job.keys[9], "test-images");
	assert_string_equal(job.values[9], "5");
	assert_string_equal(job.keys[10], "method");
	assert_string_equal(job.values[10], "m");
	assert_string_equal(job.values[12], "widget");
	assert_string_equal(job.values[13], "5");
	eval_job_clear(&job);
	mirad_recordset_clear(&set);
}

static void
test_eval_merge_equals_single_run(void **state)
{
	struct mirad_recordset set = records();
	struct run one = {(char *)"m", "maps", NULL, 0}, *runs = NULL;
	struct eval e;
	struct eval_job job = {0};
	struct eval_pixels *px = eval_pixels_new();
	struct eval_result want;
	char *d = test_tmpdir();
	char *parts[3];
	size_t nruns = 0;

	(void)state;
	settings(&e);
	eval_build_job(&e, &set, &one, 1, &job);
	for (unsigned k = 0; k < 3; k++) {
		char name[16];

		snprintf(name, sizeof name, "p%u", k);
		parts[k] = mirad_path_join(d, name);
		write_shard(parts[k], k, 3, &job);
	}
	/* the single run's store */
	for (int i = 0; i < NIMG; i++) {
		float s[W * H];
		uint8_t m[W * H];

		image(i, s, m);
		assert_int_equal(eval_pixels_add(px, s, m, W, H), 0);
	}
	assert_int_equal(eval_pixels_compute(px, 0.3, &want), 0);

	/* given in any order */
	settings(&e);
	e.merge = true;
	e.inputs = (char *[]){parts[2], parts[0], parts[1]};
	e.ninputs = 3;
	assert_int_equal(eval_merge(&e, &runs, &nruns), 0);
	assert_int_equal(nruns, 1);
	assert_int_equal(runs[0].ncats, 1);
	assert_int_equal(runs[0].cats[0].images, NIMG);
	assert_int_equal(runs[0].cats[0].anomalous, 2);
	assert_int_equal(runs[0].cats[0].pixels, NIMG * W * H);
	assert_memory_equal(
	    &runs[0].cats[0].m[M_P_AUROC], &want.auroc, sizeof want.auroc);
	assert_memory_equal(
	    &runs[0].cats[0].m[M_AUPRO], &want.aupro, sizeof want.aupro);
	assert_true(runs[0].cats[0].m[M_I_AUROC] == 1.0);

	eval_runs_free(runs, nruns);
	eval_pixels_free(px);
	eval_job_clear(&job);
	mirad_recordset_clear(&set);
	for (unsigned k = 0; k < 3; k++)
		free(parts[k]);
	mirad_rm_rf(d);
	free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eval_merge_job),
	    cmocka_unit_test(test_eval_merge_equals_single_run),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
