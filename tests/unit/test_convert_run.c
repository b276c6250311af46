/* SPDX-License-Identifier: MIT */
/* Unit tests of mirad-convert's engine: the shard filter, the plan of the
 * items, and the parallel processing with its stop rules. */
#include "mirad_platform.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "test_records.h"
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convert_run.h"
#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_image.h"

/* A 2x2 grey PNG. */
static const unsigned char tiny_png[] = {0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a,
    0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
    0x00, 0x02, 0x00, 0x00, 0x00, 0x02, 0x08, 0x00, 0x00, 0x00, 0x00, 0x57,
    0xdd, 0x52, 0xf8, 0x00, 0x00, 0x00, 0x0e, 0x49, 0x44, 0x41, 0x54, 0x78,
    0x9c, 0x63, 0x64, 0x67, 0x60, 0x62, 0x60, 0x00, 0x00, 0x00, 0x35, 0x00,
    0x0b, 0xa4, 0x5a, 0x44, 0xbb, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e,
    0x44, 0xae, 0x42, 0x60, 0x82};

static struct mirad_record *
rec(const char *root, const char *split, const char *label, const char *image)
{
	return test_record(root, "cat", split, label,
	    strcmp(label, "normal") ? "scratch" : "good", image, NULL);
}

/* A run converting N good training images under ROOT (whose files
 * "NNN.png", tiny PNGs, exist when WITH_FILES) to MVTec into the fresh folder
 * TMP. */
static void
setup_run(struct convert *c, struct mirad_recordset *records, const char *root,
    const char *tmp, size_t n, bool with_files)
{
	memset(c, 0, sizeof *c);
	memset(records, 0, sizeof *records);
	c->plan.target = CONVERT_TO_MVTEC;
	c->split_type = "1cls";
	c->pixels.link = CONVERT_LINK_COPY;
	c->pixels.verify = false;
	c->pixels.jpeg_quality = 95;
	for (size_t i = 0; i < n; i++) {
		char name[32];

		snprintf(name, sizeof name, "%03zu.png", i);
		if (with_files) {
			char *p = mirad_path_join(root, name);
			FILE *f = fopen(p, "wb");

			assert_non_null(f);
			assert_int_equal(
			    fwrite(tiny_png, 1, sizeof tiny_png, f),
			    sizeof tiny_png);
			fclose(f);
			free(p);
		}
		mirad_recordset_push(
		    records, rec(root, "train", "normal", name));
	}
	convert_plan_items(c, records);
	c->nmine = c->nitems;
	c->tmp = tmp;
	convert_plan_names(&c->plan, c->items, c->nitems, true);
	convert_make_dirs(c);
}

static void
teardown_run(struct convert *c, struct mirad_recordset *records)
{
	for (size_t i = 0; i < c->nitems; i++)
		convert_item_clear(&c->items[i]);
	free(c->items);
	mirad_recordset_clear(records);
}

static char *
make_temp_dir(void)
{
	char *dir = g_dir_make_tmp("test_convert_run_XXXXXX", NULL);

	assert_non_null(dir);
	return dir;
}

static void
remove_tree(const char *dir)
{
	char *cmd = g_strdup_printf("rm -rf '%s'", dir);

	assert_int_equal(system(cmd), 0);
	g_free(cmd);
}

static void
test_mine(void **state)
{
	struct convert c = {0};

	(void)state;
	for (size_t i = 0; i < 7; i++)
		assert_true(convert_mine(&c, i));
	c.shard_count = 3;
	c.shard_index = 1;
	for (size_t i = 0; i < 7; i++)
		assert_int_equal(convert_mine(&c, i), i % 3 == 1);
}

static void
test_plan_items(void **state)
{
	struct convert c = {0};
	struct mirad_recordset records = {0};

	(void)state;
	c.plan.target = CONVERT_TO_MVTEC;
	c.split_type = "1cls";
	mirad_recordset_push(&records, rec("/r", "train", "normal", "a.JPG"));
	mirad_recordset_push(&records, rec("/r", "test", "anomaly", "b.png"));
	/* MVTec has no anomalous training images. */
	mirad_recordset_push(&records, rec("/r", "train", "anomaly", "c.png"));
	convert_plan_items(&c, &records);
	assert_int_equal(c.nitems, 3);
	assert_int_equal(c.image_format, IMAGE_FORMAT_PNG);
	assert_ptr_equal(c.items[0].src, records.items[0]);
	assert_true(c.items[0].transcode);
	assert_string_equal(c.items[0].out_ext, ".png");
	assert_null(c.items[0].error);
	assert_false(c.items[1].transcode);
	assert_string_equal(c.items[1].image_dir, "cat/test/scratch");
	assert_null(c.items[2].image_dir);
	assert_non_null(c.items[2].error);
	assert_non_null(strstr(c.items[2].error, "/r/c.png: "));
	for (size_t i = 0; i < c.nitems; i++)
		convert_item_clear(&c.items[i]);
	free(c.items);
	mirad_recordset_clear(&records);
}

/* Every item is processed, at one thread or two, into its planned name. */
static void
test_process_all(void **state)
{
	(void)state;
	for (unsigned jobs = 1; jobs <= 2; jobs++) {
		char *root = make_temp_dir(), *tmp = make_temp_dir();
		struct convert c;
		struct mirad_recordset records;

		setup_run(&c, &records, root, tmp, 9, true);
		c.jobs = jobs;
		convert_process(&c);
		for (size_t i = 0; i < c.nitems; i++) {
			char *p =
			    mirad_path_join(tmp, c.items[i].planned_image_rel);

			assert_true(c.items[i].done);
			assert_null(c.items[i].error);
			assert_true(g_file_test(p, G_FILE_TEST_EXISTS));
			free(p);
		}
		teardown_run(&c, &records);
		remove_tree(root);
		remove_tree(tmp);
		g_free(root);
		g_free(tmp);
	}
}

/* Without --strict a failure does not stop the loop; with it, one thread
 * stops at the first failure, and at any thread count the first item is
 * the one reported. */
static void
test_process_strict_stops(void **state)
{
	(void)state;
	for (int strict = 0; strict <= 1; strict++) {
		for (unsigned jobs = 1; jobs <= 2; jobs++) {
			char *root = make_temp_dir(), *tmp = make_temp_dir();
			struct convert c;
			struct mirad_recordset records;

			/* No source files: every item fails. */
			setup_run(&c, &records, root, tmp, 6, false);
			c.jobs = jobs;
			c.strict = strict;
			convert_process(&c);
			assert_false(c.items[0].done);
			assert_non_null(c.items[0].error);
			for (size_t i = 1; i < c.nitems; i++) {
				assert_false(c.items[i].done);
				if (!strict)
					assert_non_null(c.items[i].error);
				else if (jobs == 1)
					assert_null(c.items[i].error);
			}
			teardown_run(&c, &records);
			remove_tree(root);
			remove_tree(tmp);
			g_free(root);
			g_free(tmp);
		}
	}
}

/* Another shard's items are left alone. */
static void
test_process_shard(void **state)
{
	char *root = make_temp_dir(), *tmp = make_temp_dir();
	struct convert c;
	struct mirad_recordset records;

	(void)state;
	setup_run(&c, &records, root, tmp, 5, true);
	c.jobs = 2;
	c.shard_count = 2;
	c.shard_index = 1;
	convert_process(&c);
	for (size_t i = 0; i < c.nitems; i++)
		assert_int_equal(c.items[i].done, i % 2 == 1);
	teardown_run(&c, &records);
	remove_tree(root);
	remove_tree(tmp);
	g_free(root);
	g_free(tmp);
}

static int
setup(void **state)
{
	char err[256];

	(void)state;
	if (mirad_image_init("test_convert_run", 1, err, sizeof err) != 0)
		return -1;
	convert_pixels_init();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	mirad_image_shutdown();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mine),
	    cmocka_unit_test(test_plan_items),
	    cmocka_unit_test(test_process_all),
	    cmocka_unit_test(test_process_strict_stops),
	    cmocka_unit_test(test_process_shard),
	};

	return cmocka_run_group_tests_name(
	    "convert_run", tests, setup, teardown);
}
