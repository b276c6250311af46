/* SPDX-License-Identifier: MIT */
/* Unit tests of mirad-augment's engine: where the jobs' files go, how the
 * shards divide the jobs, the fingerprint, and a skipped input. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include "test_records.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment_run.h"
#include "mirad_image.h"

static struct augment_profile profile;

static struct mirad_record *
record(const char *root, const char *category, const char *split,
    const char *label, const char *image, const char *mask)
{
	return test_record(root, category, split, label, NULL, image, mask);
}

static void
init_run(struct augment_run *run, int lo, int hi, unsigned variants)
{
	memset(run, 0, sizeof *run);
	run->profile = &profile;
	run->run_seed = 42;
	run->sev_lo = lo;
	run->sev_hi = hi;
	run->variants = variants;
	run->target = "/out";
}

/* Relative paths stay; absolute ones go where mirad-convert --to mirad
 * puts them, made unique; a category that is no folder name is refused. */
static void
test_plan_places_records(void **state)
{
	struct mirad_recordset set = {0};
	struct augment_run run;

	(void)state;
	mirad_recordset_push(&set,
	    record("/data", "cat", "train", "normal", "cat/train/good/x.png",
	        NULL));
	mirad_recordset_push(&set,
	    record("/data", "cat", "test", "anomaly", "/elsewhere/y.png",
	        "/elsewhere/y_m.png"));
	mirad_recordset_push(&set,
	    record("/data", "cat", "val", "normal", "/other/y.png", NULL));
	mirad_recordset_push(&set,
	    record("/data", "cat", "test", "normal", "/other2/y.png", NULL));
	mirad_recordset_push(
	    &set, record("/data", "..", "test", "normal", "/x/z.png", NULL));
	init_run(&run, 3, 3, 1);
	assert_int_equal(augment_run_plan(&run, &set), 1);
	assert_false(run.subdirs);
	assert_int_equal(run.njobs, 4);
	assert_int_equal(run.total, 4);
	assert_string_equal(run.image_rels[0], "cat/train/good/x.png");
	assert_null(run.mask_rels[0]);
	assert_string_equal(run.image_rels[1], "cat/test/anomaly/y.png");
	assert_string_equal(
	    run.mask_rels[1], "cat/ground_truth/anomaly/y_mask.png");
	assert_string_equal(run.image_rels[2], "cat/validation/good/y.png");
	assert_string_equal(run.image_rels[3], "cat/test/good/y.png");
	assert_null(run.image_rels[4]);
	assert_ptr_equal(run.jobs[1].image_rel, run.image_rels[1]);
	assert_int_equal(run.jobs[3].severity, 3);
	augment_run_free(&run);
	mirad_recordset_clear(&set);
}

/* The same name twice in one folder gets a suffix. */
static void
test_plan_unique_names(void **state)
{
	struct mirad_recordset set = {0};
	struct augment_run run;

	(void)state;
	mirad_recordset_push(
	    &set, record("/data", "cat", "test", "normal", "/a/y.png", NULL));
	mirad_recordset_push(
	    &set, record("/data", "cat", "test", "normal", "/b/y.png", NULL));
	init_run(&run, 1, 1, 1);
	assert_int_equal(augment_run_plan(&run, &set), 0);
	assert_string_equal(run.image_rels[0], "cat/test/good/y.png");
	assert_string_equal(run.image_rels[1], "cat/test/good/y_1.png");
	augment_run_free(&run);
	mirad_recordset_clear(&set);
}

/* The shards of a job divide its (image, severity, variant) jobs: each
 * exactly once, with its place in the single run. */
static void
test_plan_shards_divide_jobs(void **state)
{
	struct mirad_recordset set = {0};
	struct augment_run run;
	unsigned seen[30] = {0};
	size_t sum = 0;

	(void)state;
	for (int i = 0; i < 3; i++) {
		char name[32];

		snprintf(name, sizeof name, "c/test/good/%d.png", i);
		mirad_recordset_push(
		    &set, record("/data", "c", "test", "normal", name, NULL));
	}
	for (unsigned s = 0; s < 3; s++) {
		init_run(&run, 1, 5, 2);
		run.shard_index = s;
		run.shard_count = 3;
		assert_int_equal(augment_run_plan(&run, &set), 0);
		assert_true(run.subdirs);
		assert_int_equal(run.total, 30);
		assert_true(run.njobs < 30);
		for (size_t i = 0; i < run.njobs; i++) {
			assert_true(run.jobs[i].seq < 30);
			seen[run.jobs[i].seq]++;
			if (i > 0)
				assert_true(
				    run.jobs[i].seq > run.jobs[i - 1].seq);
		}
		sum += run.njobs;
		augment_run_free(&run);
	}
	assert_int_equal(sum, 30);
	for (int i = 0; i < 30; i++)
		assert_int_equal(seen[i], 1);
	mirad_recordset_clear(&set);
}

static void
test_fingerprint_follows_the_seed(void **state)
{
	struct mirad_recordset set = {0};
	struct augment_run run;
	char a[65], b[65], c[65];

	(void)state;
	mirad_recordset_push(&set,
	    record("/data", "c", "test", "normal", "c/test/good/0.png", NULL));
	init_run(&run, 1, 1, 1);
	augment_run_fingerprint(&run, &set, a);
	augment_run_fingerprint(&run, &set, b);
	run.run_seed = 43;
	augment_run_fingerprint(&run, &set, c);
	assert_int_equal(strlen(a), 64);
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	mirad_recordset_clear(&set);
}

/* An input that cannot be read is skipped (status 1), naming the file. */
static void
test_render_missing_input_is_skipped(void **state)
{
	struct mirad_recordset set = {0};
	struct augment_run run;

	(void)state;
	mirad_recordset_push(&set,
	    record("/nonexistent", "c", "test", "normal", "c/test/good/0.png",
	        NULL));
	init_run(&run, 1, 1, 1);
	run.tmpdir = "/nonexistent-out";
	assert_int_equal(augment_run_plan(&run, &set), 0);
	assert_int_equal(augment_run_render(&run, &run.jobs[0]), 1);
	assert_non_null(run.jobs[0].problem);
	assert_non_null(
	    strstr(run.jobs[0].problem, "/nonexistent/c/test/good/0.png"));
	assert_null(run.jobs[0].line);
	assert_false(run.jobs[0].fatal);
	augment_run_free(&run);
	mirad_recordset_clear(&set);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_plan_places_records),
	    cmocka_unit_test(test_plan_unique_names),
	    cmocka_unit_test(test_plan_shards_divide_jobs),
	    cmocka_unit_test(test_fingerprint_follows_the_seed),
	    cmocka_unit_test(test_render_missing_input_is_skipped),
	};
	char err[1024];
	int rc;

	(void)argc;
	if (mirad_image_init(argv[0], 1, err, sizeof err) != 0 ||
	    augment_profile_load("node1", &profile, err, sizeof err) != 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	augment_profile_free(&profile);
	mirad_image_shutdown();
	return rc;
}
