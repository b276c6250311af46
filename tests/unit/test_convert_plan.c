/* SPDX-License-Identifier: MIT */
/* Unit tests of mirad-convert's plan: folders per target and file names. */
#include "mirad_platform.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include "test_records.h"
#include <stdlib.h>
#include <string.h>

#include "convert_plan.h"
#include "mirad_err.h"

static struct mirad_record *
rec(const char *cat, const char *split, const char *label, const char *defect,
    const char *image, const char *mask)
{
	return test_record(NULL, cat, split, label, defect, image, mask);
}

/* Plan R for target O into IT; returns convert_plan_folders()' result. */
static int
plan(const struct convert_plan_options *o, struct mirad_record *r,
    struct convert_item *it, const char *ext)
{
	char why[256];

	memset(it, 0, sizeof *it);
	it->src = r;
	it->out_ext = mirad_xstrdup(ext);
	return convert_plan_folders(o, it, why, sizeof why);
}

static void
test_target_names(void **state)
{
	enum convert_target t;

	(void)state;
	assert_int_equal(convert_target_from_name("mvtec", &t), 0);
	assert_int_equal(t, CONVERT_TO_MVTEC);
	assert_int_equal(convert_target_from_name("visa-prepared", &t), 0);
	assert_int_equal(t, CONVERT_TO_VISA_PREPARED);
	assert_int_equal(convert_target_from_name("none", &t), -1);
	assert_int_equal(convert_target_from_name("coco", &t), -1);
}

static void
test_safe_names(void **state)
{
	(void)state;
	assert_true(convert_plan_safe_name("chain_buckle"));
	assert_false(convert_plan_safe_name(""));
	assert_false(convert_plan_safe_name(NULL));
	assert_false(convert_plan_safe_name(".hidden"));
	assert_false(convert_plan_safe_name(".."));
	assert_false(convert_plan_safe_name("a/b"));
	assert_false(convert_plan_safe_name("caf\xc3\xa9"));
}

static void
test_mvtec_folders(void **state)
{
	struct convert_plan_options o = {CONVERT_TO_MVTEC, NULL, false};
	struct mirad_record *a =
	    rec("bottle", "test", "anomaly", "crack", "x/1.png", "m/1.png");
	struct mirad_record *n =
	    rec("bottle", "val", "normal", "good", "v/1.png", NULL);
	struct mirad_record *bad =
	    rec("bottle", "train", "anomaly", "crack", "t/1.png", "m.png");
	struct mirad_record *unsafe =
	    rec("../etc", "test", "normal", "good", "t/1.png", NULL);
	struct convert_item it;

	(void)state;
	assert_int_equal(plan(&o, a, &it, ".png"), 0);
	assert_string_equal(it.image_dir, "bottle/test/crack");
	assert_string_equal(it.mask_dir, "bottle/ground_truth/crack");
	convert_item_clear(&it);
	assert_int_equal(plan(&o, n, &it, ".png"), 0);
	assert_string_equal(it.image_dir, "bottle/validation/good");
	assert_null(it.mask_dir);
	convert_item_clear(&it);
	/* train/ holds only good images in the MVTec layout. */
	assert_int_equal(plan(&o, bad, &it, ".png"), -1);
	convert_item_clear(&it);
	assert_int_equal(plan(&o, unsafe, &it, ".png"), -1);
	convert_item_clear(&it);
	/* MIRAD pools every defect in test/anomaly. */
	o.target = CONVERT_TO_MIRAD;
	assert_int_equal(plan(&o, a, &it, ".png"), 0);
	assert_string_equal(it.image_dir, "bottle/test/anomaly");
	assert_string_equal(it.mask_dir, "bottle/ground_truth/anomaly");
	convert_item_clear(&it);
	mirad_record_free(a);
	mirad_record_free(n);
	mirad_record_free(bad);
	mirad_record_free(unsafe);
}

static void
test_visa_folders(void **state)
{
	struct convert_plan_options o = {CONVERT_TO_VISA, NULL, false};
	struct mirad_record *a = rec("candle", "train", "anomaly", "bad",
	    "candle/Data/Images/Anomaly/000.JPG", "m.png");
	struct mirad_record *v =
	    rec("candle", "val", "normal", "good", "v.png", NULL);
	struct convert_item it;

	(void)state;
	assert_int_equal(plan(&o, a, &it, ".jpg"), 0);
	assert_string_equal(it.image_dir, "candle/Data/Images/Anomaly");
	assert_string_equal(it.mask_dir, "candle/Data/Masks/Anomaly");
	convert_item_clear(&it);
	assert_int_equal(plan(&o, v, &it, ".png"), -1);
	convert_item_clear(&it);

	o.target = CONVERT_TO_VISA_PREPARED;
	o.prefix = "1cls";
	/* An anomaly in train needs the 2cls structure. */
	assert_int_equal(plan(&o, a, &it, ".JPG"), -1);
	convert_item_clear(&it);
	o.prefix = "2cls_fewshot";
	o.two_class = true;
	assert_int_equal(plan(&o, a, &it, ".JPG"), 0);
	assert_string_equal(it.image_dir, "2cls_fewshot/candle/train/bad");
	assert_string_equal(
	    it.mask_dir, "2cls_fewshot/candle/ground_truth/train/bad");
	convert_item_clear(&it);
	mirad_record_free(a);
	mirad_record_free(v);
}

/* 1001 images in one folder: four digits for all, so sorting pairs. */
static void
test_numbered_width(void **state)
{
	struct convert_plan_options o = {CONVERT_TO_MVTEC, NULL, false};
	enum {
		N = 1001
	};
	struct convert_item *items = calloc(N, sizeof *items);
	struct mirad_record *r =
	    rec("c", "test", "anomaly", "crack", "src/x.png", "src/x_mask.png");

	(void)state;
	assert_non_null(items);
	for (int i = 0; i < N; i++)
		assert_int_equal(plan(&o, r, &items[i], ".png"), 0);
	convert_plan_names(&o, items, N, true);
	assert_string_equal(
	    items[0].planned_image_rel, "c/test/crack/0000.png");
	assert_string_equal(
	    items[0].planned_mask_rel, "c/ground_truth/crack/0000_mask.png");
	assert_string_equal(
	    items[1000].planned_image_rel, "c/test/crack/1000.png");
	/* Two failures: 999 survivors, back to three digits, no gap. */
	for (int i = 0; i < N; i++) {
		items[i].done = i != 1 && i != 500;
		items[i].wrote_mask = items[i].done;
	}
	convert_plan_names(&o, items, N, false);
	assert_null(items[1].image_rel);
	assert_string_equal(items[2].image_rel, "c/test/crack/001.png");
	assert_string_equal(
	    items[2].mask_rel, "c/ground_truth/crack/001_mask.png");
	assert_string_equal(items[1000].image_rel, "c/test/crack/998.png");
	for (int i = 0; i < N; i++)
		convert_item_clear(&items[i]);
	free(items);
	mirad_record_free(r);
}

/* VisA raw masks take the image's number and no "_mask" suffix. */
static void
test_visa_mask_names(void **state)
{
	struct convert_plan_options o = {CONVERT_TO_VISA, NULL, false};
	struct mirad_record *r =
	    rec("c", "test", "anomaly", "bad", "a/7.png", "m/7.png");
	struct convert_item it;

	(void)state;
	assert_int_equal(plan(&o, r, &it, ".png"), 0);
	convert_plan_names(&o, &it, 1, true);
	assert_string_equal(
	    it.planned_image_rel, "c/Data/Images/Anomaly/000.png");
	assert_string_equal(
	    it.planned_mask_rel, "c/Data/Masks/Anomaly/000.png");
	convert_item_clear(&it);
	mirad_record_free(r);
}

/* visa-prepared keeps names; colliding stems get the source folder. */
static void
test_original_names(void **state)
{
	struct convert_plan_options o = {
	    CONVERT_TO_VISA_PREPARED, "1cls", false};
	struct mirad_record *r[4] = {
	    rec("c", "test", "anomaly", "crack", "c/test/crack/000.png",
	        "gt/crack/000_mask.png"),
	    rec("c", "test", "anomaly", "hole", "c/test/hole/000.png",
	        "gt/hole/000_mask.png"),
	    rec("c", "test", "anomaly", "hole", "c/test/hole/hole_000.png",
	        "gt/hole/x.png"),
	    rec("c", "test", "normal", "good", "c/test/good/000.JPG", NULL),
	};
	struct convert_item items[4];

	(void)state;
	for (int i = 0; i < 4; i++)
		assert_int_equal(
		    plan(&o, r[i], &items[i], i == 3 ? ".JPG" : ".png"), 0);
	convert_plan_names(&o, items, 4, true);
	assert_string_equal(
	    items[0].planned_image_rel, "1cls/c/test/bad/000.png");
	assert_string_equal(
	    items[0].planned_mask_rel, "1cls/c/ground_truth/bad/000.png");
	assert_string_equal(
	    items[1].planned_image_rel, "1cls/c/test/bad/hole_000.png");
	assert_string_equal(
	    items[1].planned_mask_rel, "1cls/c/ground_truth/bad/hole_000.png");
	/* "hole_000" is taken now: the folder prefix again. */
	assert_string_equal(
	    items[2].planned_image_rel, "1cls/c/test/bad/hole_hole_000.png");
	assert_string_equal(
	    items[3].planned_image_rel, "1cls/c/test/good/000.JPG");
	assert_null(items[3].planned_mask_rel);
	for (int i = 0; i < 4; i++) {
		convert_item_clear(&items[i]);
		mirad_record_free(r[i]);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_target_names),
	    cmocka_unit_test(test_safe_names),
	    cmocka_unit_test(test_mvtec_folders),
	    cmocka_unit_test(test_visa_folders),
	    cmocka_unit_test(test_numbered_width),
	    cmocka_unit_test(test_visa_mask_names),
	    cmocka_unit_test(test_original_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
