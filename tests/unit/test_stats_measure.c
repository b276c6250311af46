/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of mirad-stats' measures and summaries on synthetic images with
 * known answers.
 */
#include "mirad_platform.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "mirad_err.h"
#include "mirad_image.h"
#include "stats_measure.h"
#include "stats_report.h"

/* A W x H RGB buffer filled with R, G, B. */
static uint8_t *
flat_rgb(int w, int h, int r, int g, int b)
{
	uint8_t *px = mirad_xmalloc((size_t)w * (size_t)h * 3);

	for (size_t i = 0; i < (size_t)w * (size_t)h; i++) {
		px[3 * i] = (uint8_t)r;
		px[3 * i + 1] = (uint8_t)g;
		px[3 * i + 2] = (uint8_t)b;
	}
	return px;
}

/* Paint a filled disk of radius RAD at CX, CY in an RGB buffer. */
static void
disk_rgb(uint8_t *px, int w, int h, int cx, int cy, int rad, int v)
{
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <=
			    rad * rad)
				memset(px +
				        3 * ((size_t)y * (size_t)w + (size_t)x),
				    v, 3);
}

static void
test_flat_image_has_zero_sharpness_and_noise(void **state)
{
	struct stats_image_measure m;
	uint8_t *px = flat_rgb(64, 48, 120, 120, 120);

	(void)state;
	memset(&m, 0, sizeof m);
	stats_measure_pixels(px, 64, 48, 3, &m);
	assert_int_equal(m.width, 64);
	assert_int_equal(m.height, 48);
	assert_true(m.sharpness == 0.0);
	assert_true(m.noise == 0.0);
	assert_true(m.contrast == 0.0);
	assert_int_equal(m.background[0], 120);
	assert_int_equal(m.background[2], 120);
	assert_true(m.fg_share == 0.0);
	/* sRGB 120/255 = 0.4706; linear light: ((0.4706 + 0.055) / 1.055)^2.4
	 * = 0.1878. */
	assert_float_equal(m.luma_srgb, 120.0 / 255.0, 1e-9);
	assert_float_equal(m.luma_linear, 0.18782, 1e-4);
	free(px);
}

static void
test_edge_is_sharp_and_disk_is_foreground(void **state)
{
	struct stats_image_measure m;
	uint8_t *px = flat_rgb(100, 100, 0, 0, 0);

	(void)state;
	disk_rgb(px, 100, 100, 50, 50, 20, 255);
	stats_measure_pixels(px, 100, 100, 3, &m);
	assert_true(m.sharpness > 100.0);
	assert_int_equal(m.background[0], 0);
	/* A disk of radius 20 covers about pi * 400 = 1257 of 10000 px. */
	assert_float_equal(m.fg_share, 0.1257, 0.003);
	assert_float_equal(m.fg_x, 0.505, 0.002);
	assert_float_equal(m.fg_y, 0.505, 0.002);
	assert_float_equal(m.fg_luma_linear, 1.0, 1e-9);
	free(px);
}

static void
test_grey_buffer_equals_rgb(void **state)
{
	struct stats_image_measure a, b;
	uint8_t grey[16 * 16], *rgb = flat_rgb(16, 16, 0, 0, 0);

	(void)state;
	for (int i = 0; i < 256; i++) {
		grey[i] = (uint8_t)i;
		memset(rgb + 3 * i, i, 3);
	}
	stats_measure_pixels(grey, 16, 16, 1, &a);
	stats_measure_pixels(rgb, 16, 16, 3, &b);
	assert_true(a.luma_linear == b.luma_linear);
	assert_true(a.sharpness == b.sharpness);
	assert_true(a.noise == b.noise);
	free(rgb);
}

static void
test_noise_estimate_of_checkerboard(void **state)
{
	/* Immerkaer's operator on a +-d checkerboard gives 16d everywhere:
	 * sigma = sqrt(pi/2) * 16d / 6. */
	uint8_t px[32 * 32];
	struct stats_image_measure m;

	(void)state;
	for (int y = 0; y < 32; y++)
		for (int x = 0; x < 32; x++)
			px[y * 32 + x] = (x + y) % 2 ? 110 : 100;
	stats_measure_pixels(px, 32, 32, 1, &m);
	assert_float_equal(m.noise, sqrt(M_PI / 2) * 16 * 5 / 6, 1e-9);
}

static void
test_disk_mask_gives_area_and_one_region(void **state)
{
	int w = 200, h = 100, area = 0;
	uint8_t *px = calloc((size_t)w * h, 1);
	struct stats_mask_measure m;

	(void)state;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			if ((x - 60) * (x - 60) + (y - 50) * (y - 50) <=
			    15 * 15) {
				px[y * w + x] = 255;
				area++;
			}
	stats_measure_mask_pixels(px, w, h, &m);
	assert_int_equal(m.regions, 1);
	assert_int_equal(m.defect_pixels, area);
	assert_int_equal(m.region_sizes[0], area);
	assert_int_equal(m.tiny_regions, 0);
	stats_mask_measure_clear(&m);
	free(px);
}

static void
test_eight_connectivity_and_tiny_regions(void **state)
{
	/* A diagonal staircase is one region under 8-connectivity; a lone
	 * pixel in a 1024 x 1024 mask vanishes at 256 x 256; a U shape
	 * joins two provisional labels. */
	int w = 1024, h = 1024;
	uint8_t *px = calloc((size_t)w * h, 1);
	struct stats_mask_measure m;

	(void)state;
	for (int i = 0; i < 10; i++)
		px[(10 + i) * w + 10 + i] = 1;
	px[500 * w + 500] = 255;
	for (int y = 100; y < 110; y++) {
		px[y * w + 100] = 1;
		px[y * w + 105] = 1;
	}
	for (int x = 100; x <= 105; x++)
		px[110 * w + x] = 1;
	stats_measure_mask_pixels(px, w, h, &m);
	assert_int_equal(m.regions, 3);
	assert_int_equal(m.defect_pixels, 10 + 1 + 20 + 6);
	assert_int_equal(m.region_sizes[0], 1);
	assert_int_equal(m.region_sizes[1], 10);
	assert_int_equal(m.region_sizes[2], 26);
	assert_int_equal(m.tiny_regions, 2); /* 1 and 10 px: < 16 px */
	stats_mask_measure_clear(&m);
	assert_true(stats_region_is_tiny(15, 1024, 1024));
	assert_false(stats_region_is_tiny(16, 1024, 1024));
	free(px);
}

static void
test_empty_mask(void **state)
{
	uint8_t px[64] = {0};
	struct stats_mask_measure m;

	(void)state;
	stats_measure_mask_pixels(px, 8, 8, &m);
	assert_int_equal(m.regions, 0);
	assert_int_equal(m.defect_pixels, 0);
	stats_mask_measure_clear(&m);
}

/* An entry of category CAT with a measure of the given size, background
 * and foreground brightness. */
static void
add_entry(struct stats_entries *e, const char *cat, const char *image, int w,
    int h, int bg, double fg, double sharp)
{
	struct stats_entry *x = stats_entries_add(
	    e, cat, "train", "normal", "good", image, NULL, NULL);

	x->measured = true;
	x->image_m.width = w;
	x->image_m.height = h;
	x->image_m.bands = 3;
	x->image_m.background[0] = bg;
	x->image_m.background[1] = bg;
	x->image_m.background[2] = bg;
	x->image_m.fg_luma_linear = fg;
	x->image_m.fg_share = 0.2;
	x->image_m.sharpness = sharp;
	x->image_m.fg_x = x->image_m.fg_y = 0.5;
}

static const cJSON *
group_flags(const cJSON *groups, int i)
{
	return cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetArrayItem(groups, i), "flags");
}

static bool
flag_set(const cJSON *groups, int i, const char *name)
{
	return cJSON_IsTrue(
	    cJSON_GetObjectItemCaseSensitive(group_flags(groups, i), name));
}

static void
test_flags_from_known_groups(void **state)
{
	struct stats_entries e = {0};
	cJSON *groups;
	const cJSON *bgs;

	(void)state;
	/* "a": two sizes, one background, one brightness. */
	add_entry(&e, "a", "a/1.png", 100, 80, 10, 0.3, 50);
	add_entry(&e, "a", "a/2.png", 120, 90, 12, 0.3, 50);
	/* "b": one size, two backgrounds, two brightness levels. */
	add_entry(&e, "b", "b/1.png", 100, 80, 10, 0.2, 50);
	add_entry(&e, "b", "b/2.png", 100, 80, 200, 0.5, 50);
	/* "c": identical images except sharpness (motion blur). */
	add_entry(&e, "c", "c/1.png", 100, 80, 10, 0.3, 10);
	add_entry(&e, "c", "c/2.png", 100, 80, 10, 0.3, 80);
	stats_entries_sort(&e);
	groups = stats_report_imaging(&e, STATS_BY_CATEGORY);
	assert_int_equal(cJSON_GetArraySize(groups), 3);

	assert_true(flag_set(groups, 0, "DR"));
	assert_false(flag_set(groups, 0, "DB"));
	assert_false(flag_set(groups, 0, "DI"));
	assert_false(flag_set(groups, 0, "DV"));

	assert_false(flag_set(groups, 1, "DR"));
	assert_true(flag_set(groups, 1, "DB"));
	assert_true(flag_set(groups, 1, "DI"));
	bgs = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetArrayItem(groups, 1), "backgrounds");
	assert_int_equal(cJSON_GetArraySize(bgs), 2);

	assert_true(flag_set(groups, 2, "DV"));
	assert_false(flag_set(groups, 2, "DR"));
	cJSON_Delete(groups);
	stats_entries_free(&e);
}

static void
test_partial_round_trip(void **state)
{
	struct stats_entries e = {0}, back = {0};
	cJSON *doc, *doc2;
	char *t1, *t2, err[256];
	struct stats_entry *x;

	(void)state;
	add_entry(&e, "a", "a/1.png", 100, 80, 10, 0.123456789012345, 50.5);
	x = stats_entries_add(
	    &e, "a", "test", "anomaly", "crack", "a/2.png", "3", NULL);
	x->has_mask = true;
	{
		uint8_t px[16] = {
		    1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 1, 1};

		stats_measure_mask_pixels(px, 4, 4, &x->mask_m);
	}
	doc = stats_partial_to_json(&e);
	assert_int_equal(stats_partial_read(doc, &back, err, sizeof err), 0);
	doc2 = stats_partial_to_json(&back);
	t1 = cJSON_PrintUnformatted(doc);
	t2 = cJSON_PrintUnformatted(doc2);
	assert_string_equal(t1, t2);
	assert_int_equal(back.items[1].mask_m.regions, 2);
	assert_string_equal(back.items[1].node, "3");
	cJSON_free(t1);
	cJSON_free(t2);
	cJSON_Delete(doc);
	cJSON_Delete(doc2);
	stats_entries_free(&e);
	stats_entries_free(&back);
}

/* The libvips path gives the same numbers as the buffer path. */
static void
test_vips_image_matches_buffer(void **state)
{
	uint8_t *px = flat_rgb(40, 30, 10, 20, 30);
	VipsImage *im;
	struct stats_image_measure a, b;
	char err[256];

	(void)state;
	disk_rgb(px, 40, 30, 20, 15, 8, 200);
	im = vips_image_new_from_memory_copy(
	    px, 40 * 30 * 3, 40, 30, 3, VIPS_FORMAT_UCHAR);
	assert_non_null(im);
	assert_int_equal(stats_measure_image(im, &a, err, sizeof err), 0);
	stats_measure_pixels(px, 40, 30, 3, &b);
	assert_string_equal(a.colour, "rgb");
	assert_true(a.sharpness == b.sharpness);
	assert_true(a.luma_linear == b.luma_linear);
	assert_int_equal(a.background[1], 20);
	g_object_unref(im);
	free(px);
}

static int
setup(void **state)
{
	char err[256];

	(void)state;
	return mirad_image_init("test_stats_measure", 1, err, sizeof err);
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
	    cmocka_unit_test(test_flat_image_has_zero_sharpness_and_noise),
	    cmocka_unit_test(test_edge_is_sharp_and_disk_is_foreground),
	    cmocka_unit_test(test_grey_buffer_equals_rgb),
	    cmocka_unit_test(test_noise_estimate_of_checkerboard),
	    cmocka_unit_test(test_disk_mask_gives_area_and_one_region),
	    cmocka_unit_test(test_eight_connectivity_and_tiny_regions),
	    cmocka_unit_test(test_empty_mask),
	    cmocka_unit_test(test_flags_from_known_groups),
	    cmocka_unit_test(test_partial_round_trip),
	    cmocka_unit_test(test_vips_image_matches_buffer),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
