/* SPDX-License-Identifier: MIT */
/* Unit tests of mirad-augment's effects: each measures what the effect
 * claims on a synthetic chart. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment_effects.h"
#include "mirad_image.h"

static char err[1024];

/* A W x H x BANDS float image with every sample V. */
static VipsImage *
flat(int w, int h, int bands, float v)
{
	size_t n = (size_t)w * h * bands;
	float *buf = malloc(n * sizeof *buf);
	VipsImage *im;

	for (size_t i = 0; i < n; i++)
		buf[i] = v;
	im = vips_image_new_from_memory_copy(
	    buf, n * sizeof *buf, w, h, bands, VIPS_FORMAT_FLOAT);
	free(buf);
	return im;
}

/* A linear-light chart: 8 px checks of 0.1 / 0.6, 3 bands. */
static VipsImage *
checks(int w, int h)
{
	size_t n = (size_t)w * h * 3;
	float *buf = malloc(n * sizeof *buf);
	VipsImage *im;

	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++)
			for (int c = 0; c < 3; c++)
				buf[((size_t)y * w + x) * 3 + c] =
				    ((x / 8 + y / 8) % 2) ? 0.6f : 0.1f;
	im = vips_image_new_from_memory_copy(
	    buf, n * sizeof *buf, w, h, 3, VIPS_FORMAT_FLOAT);
	free(buf);
	return im;
}

/* The pixels of IM as doubles (caller frees); *N samples. */
static double *
pixels(VipsImage *im, size_t *n)
{
	VipsImage *d;
	size_t len;
	void *mem;
	double *out;

	assert_int_equal(vips_cast(im, &d, VIPS_FORMAT_DOUBLE, NULL), 0);
	mem = vips_image_write_to_memory(d, &len);
	assert_non_null(mem);
	g_object_unref(d);
	out = malloc(len);
	memcpy(out, mem, len);
	g_free(mem);
	*n = len / sizeof(double);
	return out;
}

static double
at(VipsImage *im, int x, int y, int band)
{
	double *v;
	int n;
	double r;

	assert_int_equal(vips_getpoint(im, &v, &n, x, y, NULL), 0);
	r = v[band];
	g_free(v);
	return r;
}

/* Mean squared horizontal plus vertical neighbour difference. */
static double
hf_energy(VipsImage *im)
{
	size_t n;
	double *p = pixels(im, &n), sum = 0;
	int w = im->Xsize, h = im->Ysize, b = im->Bands;

	for (int y = 0; y + 1 < h; y++)
		for (int x = 0; x + 1 < w; x++)
			for (int c = 0; c < b; c++) {
				size_t i = ((size_t)y * w + x) * b + c;

				double dx = p[i] - p[i + b];
				double dy = p[i] - p[i + (size_t)w * b];

				sum += dx * dx + dy * dy;
			}
	free(p);
	return sum / ((double)(w - 1) * (h - 1) * b);
}

static void
test_srgb_round_trip_is_exact(void **state)
{
	unsigned char ramp[256 * 3];
	VipsImage *in, *lin, *enc, *u8;
	size_t len;
	unsigned char *back;

	(void)state;
	for (int i = 0; i < 256 * 3; i++)
		ramp[i] = (unsigned char)(i / 3);
	in = vips_image_new_from_memory_copy(
	    ramp, sizeof ramp, 256, 1, 3, VIPS_FORMAT_UCHAR);
	assert_int_equal(augment_to_linear(in, &lin, err, sizeof err), 0);
	assert_true(fabs(at(lin, 255, 0, 0) - 1.0) < 1e-6);
	assert_true(fabs(at(lin, 128, 0, 1) - 0.2158605) < 1e-6);
	assert_int_equal(augment_to_encoded(lin, &enc, err, sizeof err), 0);
	assert_int_equal(augment_quantise(enc, false, &u8, err, sizeof err), 0);
	back = vips_image_write_to_memory(u8, &len);
	assert_int_equal(len, sizeof ramp);
	assert_memory_equal(back, ramp, sizeof ramp);
	g_free(back);
	g_object_unref(in);
	g_object_unref(lin);
	g_object_unref(enc);
	g_object_unref(u8);
}

static void
test_exposure_one_ev_doubles_linear_intensity(void **state)
{
	VipsImage *in = flat(16, 16, 3, 0.2f), *out, *sat;

	(void)state;
	assert_int_equal(augment_exposure(in, 1.0, &out, err, sizeof err), 0);
	assert_true(fabs(at(out, 3, 3, 1) - 0.4) < 1e-6);
	/* Full well: +2 EV of 0.4 saturates at 1. */
	assert_int_equal(augment_exposure(out, 2.0, &sat, err, sizeof err), 0);
	assert_true(at(sat, 3, 3, 1) == 1.0);
	g_object_unref(in);
	g_object_unref(out);
	g_object_unref(sat);
}

static void
test_vignetting_corner_ratio(void **state)
{
	VipsImage *in = flat(101, 61, 3, 0.5f), *out;

	(void)state;
	assert_int_equal(augment_vignetting(in, 0.6, &out, err, sizeof err), 0);
	assert_true(fabs(at(out, 50, 30, 0) - 0.5) < 1e-6);
	assert_true(fabs(at(out, 0, 0, 0) / 0.5 - 0.6) < 1e-4);
	assert_true(fabs(at(out, 100, 60, 2) / 0.5 - 0.6) < 1e-4);
	g_object_unref(in);
	g_object_unref(out);
}

static void
test_white_balance_moves_grey_the_right_way(void **state)
{
	VipsImage *grey = flat(4, 4, 3, 0.3f), *warm, *cold, *same;

	(void)state;
	assert_int_equal(
	    augment_white_balance(grey, 3000, 6504, 0, &warm, err, sizeof err),
	    0);
	assert_true(at(warm, 1, 1, 0) > at(warm, 1, 1, 1));
	assert_true(at(warm, 1, 1, 1) > at(warm, 1, 1, 2));
	assert_int_equal(
	    augment_white_balance(grey, 12000, 6504, 1, &cold, err, sizeof err),
	    0);
	assert_true(at(cold, 1, 1, 2) > at(cold, 1, 1, 0));
	assert_int_equal(
	    augment_white_balance(grey, 5000, 5000, 0, &same, err, sizeof err),
	    0);
	for (int c = 0; c < 3; c++)
		assert_true(fabs(at(same, 1, 1, c) - 0.3) < 1e-6);
	g_object_unref(grey);
	g_object_unref(warm);
	g_object_unref(cold);
	g_object_unref(same);
}

static void
test_blur_lowers_high_frequencies(void **state)
{
	VipsImage *in = checks(96, 96), *dof, *mot;
	double e0, e1, e2;

	(void)state;
	e0 = hf_energy(in);
	assert_int_equal(augment_defocus(in, 4.0, &dof, err, sizeof err), 0);
	assert_int_equal(
	    augment_motion_blur(in, 12.0, 0, &mot, err, sizeof err), 0);
	e1 = hf_energy(dof);
	e2 = hf_energy(mot);
	assert_true(e1 < 0.5 * e0);
	assert_true(e2 < 0.8 * e0);
	/* Blur keeps the mean (kernels sum to 1): centre pixel of a
	 * symmetric chart region stays within the chart's range. */
	assert_true(at(dof, 48, 48, 0) > 0.1 && at(dof, 48, 48, 0) < 0.6);
	g_object_unref(in);
	g_object_unref(dof);
	g_object_unref(mot);
}

static void
test_noise_variance_follows_ax_plus_b(void **state)
{
	const double a = 0.01, b = 0.0004, xs[2] = {0.1, 0.5};

	(void)state;
	for (int k = 0; k < 2; k++) {
		VipsImage *in = flat(256, 256, 3, (float)xs[k]), *out;
		size_t n;
		double *p, mean = 0, var = 0, want = a * xs[k] + b;

		assert_int_equal(augment_sensor_noise(
		                     in, a, b, 12345, &out, err, sizeof err),
		    0);
		p = pixels(out, &n);
		for (size_t i = 0; i < n; i++)
			mean += p[i];
		mean /= n;
		for (size_t i = 0; i < n; i++)
			var += (p[i] - mean) * (p[i] - mean);
		var /= n - 1;
		assert_true(fabs(mean - xs[k]) < 0.002);
		assert_true(fabs(var / want - 1) < 0.03);
		free(p);
		g_object_unref(in);
		g_object_unref(out);
	}
}

static void
test_noise_fields_of_derived_seeds_are_uncorrelated(void **state)
{
	VipsImage *in = flat(512, 512, 3, 0.5f), *f1, *f2;
	const char *p1[] = {"img", "a/0.png", "#0", NULL};
	const char *p2[] = {"img", "a/0.png", "#1", NULL};
	size_t n1, n2;
	double *x, *y, sxy = 0, sxx = 0, syy = 0, r;

	(void)state;
	assert_int_equal(augment_sensor_noise(in, 0, 0.01, augment_key(1, p1),
	                     &f1, err, sizeof err),
	    0);
	assert_int_equal(augment_sensor_noise(in, 0, 0.01, augment_key(1, p2),
	                     &f2, err, sizeof err),
	    0);
	x = pixels(f1, &n1);
	y = pixels(f2, &n2);
	assert_int_equal(n1, n2);
	for (size_t i = 0; i < n1; i++) {
		sxy += (x[i] - 0.5) * (y[i] - 0.5);
		sxx += (x[i] - 0.5) * (x[i] - 0.5);
		syy += (y[i] - 0.5) * (y[i] - 0.5);
	}
	r = sxy / sqrt(sxx * syy);
	assert_true(fabs(r) < 0.005);
	free(x);
	free(y);
	g_object_unref(in);
	g_object_unref(f1);
	g_object_unref(f2);
}

static double
psnr_u8(VipsImage *a, VipsImage *b)
{
	size_t na, nb;
	double *p = pixels(a, &na), *q = pixels(b, &nb), mse = 0;

	assert_int_equal(na, nb);
	for (size_t i = 0; i < na; i++)
		mse += (p[i] - q[i]) * (p[i] - q[i]);
	free(p);
	free(q);
	mse /= na;
	return 10 * log10(255.0 * 255.0 / (mse > 0 ? mse : 1e-12));
}

static VipsImage *
chart_u8(void)
{
	VipsImage *big = checks(140, 110), *lin, *noisy, *enc, *u8;

	/* Checks off the 8x8 JPEG grid, plus a little noise. */
	assert_int_equal(vips_extract_area(big, &lin, 3, 5, 128, 96, NULL), 0);
	g_object_unref(big);
	assert_int_equal(
	    augment_sensor_noise(lin, 0.0, 0.00002, 9, &noisy, err, sizeof err),
	    0);
	assert_int_equal(augment_to_encoded(noisy, &enc, err, sizeof err), 0);
	assert_int_equal(augment_quantise(enc, false, &u8, err, sizeof err), 0);
	g_object_unref(lin);
	g_object_unref(noisy);
	g_object_unref(enc);
	return u8;
}

static void
test_jpeg_quality_lowers_psnr(void **state)
{
	VipsImage *u8 = chart_u8(), *q90, *q20;
	void *bytes = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(
	    augment_jpeg(u8, 90, 0, &q90, &bytes, &len, err, sizeof err), 0);
	assert_true(len > 100);
	assert_true(((unsigned char *)bytes)[0] == 0xff);
	g_free(bytes);
	assert_int_equal(
	    augment_jpeg(u8, 20, 0, &q20, NULL, NULL, err, sizeof err), 0);
	assert_true(psnr_u8(u8, q90) > psnr_u8(u8, q20) + 3);
	assert_int_equal(q20->Xsize, 128);
	g_object_unref(u8);
	g_object_unref(q90);
	g_object_unref(q20);
}

static void
test_resolution_keeps_size_loses_detail(void **state)
{
	VipsImage *in = checks(101, 77), *enc, *out;

	(void)state;
	assert_int_equal(augment_to_encoded(in, &enc, err, sizeof err), 0);
	assert_int_equal(
	    augment_resolution(enc, 0.3, 0, 0, &out, err, sizeof err), 0);
	assert_int_equal(out->Xsize, 101);
	assert_int_equal(out->Ysize, 77);
	assert_true(hf_energy(out) < 0.7 * hf_energy(enc));
	g_object_unref(in);
	g_object_unref(enc);
	g_object_unref(out);
}

static void
test_warp_identity_and_mask_values(void **state)
{
	VipsImage *in = checks(64, 48), *out, *mask, *mout, *m8;
	struct augment_geometry id = {0, 1, 0, 0, {{0}}, 0, 0};
	struct augment_geometry g = {9, 1.05, 0.02, 0, {{0.01, 0}}, 0.05, 0};
	double fill[3] = {0, 0, 0};
	unsigned char *mbuf = calloc(64 * 48, 1);
	size_t n;
	double *p, *q;

	(void)state;
	for (int y = 10; y < 30; y++)
		for (int x = 20; x < 44; x++)
			mbuf[y * 64 + x] = 255;
	mask = vips_image_new_from_memory_copy(
	    mbuf, 64 * 48, 64, 48, 1, VIPS_FORMAT_UCHAR);
	free(mbuf);
	assert_true(augment_geometry_is_identity(&id));
	assert_int_equal(
	    augment_warp(in, mask, &id, fill, &out, &mout, err, sizeof err), 0);
	p = pixels(in, &n);
	q = pixels(out, &n);
	assert_memory_equal(p, q, n * sizeof *p);
	free(p);
	free(q);
	g_object_unref(out);
	g_object_unref(mout);
	assert_false(augment_geometry_is_identity(&g));
	assert_int_equal(
	    augment_warp(in, mask, &g, fill, &out, &mout, err, sizeof err), 0);
	assert_int_equal(mout->Xsize, 64);
	assert_int_equal(mout->Ysize, 48);
	assert_int_equal(vips_cast(mout, &m8, VIPS_FORMAT_UCHAR, NULL), 0);
	p = pixels(m8, &n);
	{
		size_t on = 0;

		for (size_t i = 0; i < n; i++) {
			assert_true(p[i] == 0 || p[i] == 255);
			on += p[i] == 255;
		}
		/* Still about the 24 x 20 square, moved. */
		assert_true(on > 300 && on < 700);
	}
	free(p);
	g_object_unref(m8);
	g_object_unref(in);
	g_object_unref(out);
	g_object_unref(mout);
	g_object_unref(mask);
}

static void
test_illumination_fields(void **state)
{
	VipsImage *in = flat(101, 51, 3, 0.5f), *ramp, *lamp;
	struct augment_light r = {0, 0.5, 0, 0.5, 0.5, 1, 0.25, 1};
	struct augment_light l = {1, 1, 0, 0.0, 0.5, 0.3, 0.25, 1};

	(void)state;
	assert_int_equal(
	    augment_illumination(in, &r, &ramp, err, sizeof err), 0);
	/* Ramp along +x: brighter on the right, centre unchanged. */
	assert_true(at(ramp, 100, 25, 0) > at(ramp, 0, 25, 0));
	assert_true(fabs(at(ramp, 50, 25, 0) - 0.5) < 1e-6);
	assert_int_equal(
	    augment_illumination(in, &l, &lamp, err, sizeof err), 0);
	/* Lamp at the left edge: 1 at the centre, brighter toward it. */
	assert_true(fabs(at(lamp, 50, 25, 1) - 0.5) < 1e-6);
	assert_true(at(lamp, 0, 25, 1) > at(lamp, 50, 25, 1));
	assert_true(at(lamp, 100, 25, 1) < at(lamp, 50, 25, 1));
	g_object_unref(in);
	g_object_unref(ramp);
	g_object_unref(lamp);
}

static void
test_background_spares_object_and_defect(void **state)
{
	/* Grey background (sRGB 60), a red object, a defect mask over part
	 * of the background next to it. */
	int w = 80, h = 60;
	unsigned char *rgb = malloc((size_t)w * h * 3), *m = calloc(w * h, 1);
	VipsImage *src, *lin, *mask, *out;
	struct augment_background b = {
	    0, {60, 60, 60}, {60, 60, 160}, 12, 2, 0, 1};

	(void)state;
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			bool obj = x >= 30 && x < 50 && y >= 20 && y < 40;
			unsigned char *p = rgb + ((size_t)y * w + x) * 3;

			p[0] = obj ? 200 : 60;
			p[1] = obj ? 30 : 60;
			p[2] = obj ? 30 : 60;
			m[y * w + x] =
			    x >= 5 && x < 15 && y >= 5 && y < 15 ? 255 : 0;
		}
	src = vips_image_new_from_memory_copy(
	    rgb, (size_t)w * h * 3, w, h, 3, VIPS_FORMAT_UCHAR);
	mask = vips_image_new_from_memory_copy(
	    m, (size_t)w * h, w, h, 1, VIPS_FORMAT_UCHAR);
	free(rgb);
	free(m);
	assert_int_equal(augment_to_linear(src, &lin, err, sizeof err), 0);
	assert_int_equal(
	    augment_background(lin, mask, &b, &out, err, sizeof err), 0);
	/* Background far from the defect: bluer, same luminance. */
	assert_true(at(out, 70, 50, 2) > 1.5 * at(lin, 70, 50, 2));
	assert_true(at(out, 70, 50, 0) < at(lin, 70, 50, 0));
	/* The object and the (dilated) defect region are untouched. */
	for (int c = 0; c < 3; c++) {
		assert_true(at(out, 40, 30, c) == at(lin, 40, 30, c));
		assert_true(at(out, 10, 10, c) == at(lin, 10, 10, c));
		assert_true(at(out, 16, 10, c) == at(lin, 16, 10, c));
	}
	g_object_unref(src);
	g_object_unref(lin);
	g_object_unref(mask);
	g_object_unref(out);
}

static int
setup(void **state)
{
	(void)state;
	return mirad_image_init("test_augment_effects", 0, err, sizeof err);
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
	    cmocka_unit_test(test_srgb_round_trip_is_exact),
	    cmocka_unit_test(test_exposure_one_ev_doubles_linear_intensity),
	    cmocka_unit_test(test_vignetting_corner_ratio),
	    cmocka_unit_test(test_white_balance_moves_grey_the_right_way),
	    cmocka_unit_test(test_blur_lowers_high_frequencies),
	    cmocka_unit_test(test_noise_variance_follows_ax_plus_b),
	    cmocka_unit_test(
	        test_noise_fields_of_derived_seeds_are_uncorrelated),
	    cmocka_unit_test(test_jpeg_quality_lowers_psnr),
	    cmocka_unit_test(test_resolution_keeps_size_loses_detail),
	    cmocka_unit_test(test_warp_identity_and_mask_values),
	    cmocka_unit_test(test_illumination_fields),
	    cmocka_unit_test(test_background_spares_object_and_defect),
	};

	return cmocka_run_group_tests_name(
	    "augment_effects", tests, setup, teardown);
}
