/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of mirad-eval's .npy header parser, bilinear resize and
 * float32 and float64 TIFF readers.
 */
#include "mirad_platform.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <tiffio.h>
#include "test_tiff.h"
#include <unistd.h>

#include "eval_maps.h"
#include "mirad_image.h"

/* A .npy file (version VER) with header dict DICT and NDATA data bytes. */
static size_t
make_npy(unsigned char *buf, int ver, const char *dict, size_t ndata)
{
	size_t pre = ver == 1 ? 10 : 12, dl = strlen(dict);
	size_t hlen = dl + 1, pad = (64 - (pre + hlen) % 64) % 64;

	memcpy(buf, "\x93NUMPY", 6);
	buf[6] = (unsigned char)ver;
	buf[7] = 0;
	hlen += pad;
	buf[8] = (unsigned char)(hlen & 0xff);
	buf[9] = (unsigned char)(hlen >> 8);
	if (ver != 1) {
		buf[10] = 0;
		buf[11] = 0;
	}
	memcpy(buf + pre, dict, dl);
	memset(buf + pre + dl, ' ', pad);
	buf[pre + dl + pad] = '\n';
	memset(buf + pre + hlen, 0, ndata);
	return pre + hlen + ndata;
}

static void
test_eval_maps_npy_ok(void **state)
{
	unsigned char buf[512];
	const void *data;
	size_t w, h, n;
	char err[256];
	(void)state;

	n = make_npy(buf, 1,
	    "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 5), }", 60);
	assert_int_equal(
	    eval_npy_parse(buf, n, &data, &w, &h, err, sizeof err), 0);
	assert_int_equal(w, 5);
	assert_int_equal(h, 3);
	assert_ptr_equal(data, buf + n - 60);
	/* version 2, other key order, a leading 1 in the shape */
	n = make_npy(buf, 2,
	    "{'shape': (1, 2, 4), 'fortran_order': False, 'descr': '<f4'}", 32);
	assert_int_equal(
	    eval_npy_parse(buf, n, &data, &w, &h, err, sizeof err), 0);
	assert_int_equal(w, 4);
	assert_int_equal(h, 2);
}

static void
test_eval_maps_npy_errors(void **state)
{
	static const struct {
		const char *dict;
		size_t ndata;
		const char *why;
	} cases[] = {
	    {"{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", 32,
	        "dtype '<f8' not supported"},
	    {"{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16,
	        "Fortran-order"},
	    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), }", 12,
	        "does not match its shape"},
	    {"{'descr': '<f4', 'fortran_order': False, 'shape': (4,), }", 16,
	        "shape must be"},
	    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2, 2), }",
	        32, "shape must be"},
	    {"{'descr': '<f4', 'fortran_order': False}", 16, "malformed"},
	    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 2), "
	     "'extra': 1}",
	        16, "malformed"},
	    {"{'descr': '<f4', 'fortran_order': False, 'shape': (2, -2), }", 16,
	        "malformed"},
	    {"{\"descr\": \"<f4\" 'shape': (2, 2)}", 16, "malformed"},
	};
	unsigned char buf[512];
	const void *data;
	size_t w, h, n;
	char err[256];
	(void)state;

	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		n = make_npy(buf, 1, cases[i].dict, cases[i].ndata);
		err[0] = '\0';
		assert_int_equal(
		    eval_npy_parse(buf, n, &data, &w, &h, err, sizeof err), -1);
		if (strstr(err, cases[i].why) == NULL)
			fail_msg(
			    "case %zu: '%s' lacks '%s'", i, err, cases[i].why);
	}
	n = make_npy(buf, 1,
	    "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1), }", 4);
	buf[1] = 'X';
	assert_int_equal(
	    eval_npy_parse(buf, n, &data, &w, &h, err, sizeof err), -1);
	assert_non_null(strstr(err, "bad magic"));
	/* a header length past the end of the file */
	buf[1] = 'N';
	assert_int_equal(
	    eval_npy_parse(buf, 20, &data, &w, &h, err, sizeof err), -1);
	assert_non_null(strstr(err, "truncated"));
}

static void
test_eval_maps_resize(void **state)
{
	static const float in[] = {0, 1, 2, 3};
	/* 2x2 -> 4x4 with half-pixel centres (cv2.INTER_LINEAR gives the
	 * same): source x = (x + 0.5) / 2 - 0.5, clamped at 0 and 1. */
	static const float want[] = {
	    0.0f,
	    0.25f,
	    0.75f,
	    1.0f,
	    0.5f,
	    0.75f,
	    1.25f,
	    1.5f,
	    1.5f,
	    1.75f,
	    2.25f,
	    2.5f,
	    2.0f,
	    2.25f,
	    2.75f,
	    3.0f,
	};
	float out[16], same[4];
	(void)state;

	eval_resize_bilinear(in, 2, 2, out, 4, 4);
	for (int i = 0; i < 16; i++)
		assert_true(fabsf(out[i] - want[i]) < 1e-6f);
	eval_resize_bilinear(in, 2, 2, same, 2, 2);
	assert_memory_equal(same, in, sizeof in);
}

static void
test_eval_maps_tiff64(void **state)
{
	char dir[] = "/tmp/test_eval_maps.XXXXXX", path[64], err[512];
	struct eval_map m;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/m.tiff", dir);
	for (int tiled = 0; tiled < 2; tiled++) {
		test_write_float64_tiff(path, 20, 18, 1, tiled);
		assert_int_equal(eval_map_read(path, &m, err, sizeof err), 0);
		assert_int_equal(m.width, 20);
		assert_int_equal(m.height, 18);
		assert_true(m.rounded);
		for (size_t i = 0; i < 20 * 18; i++)
			assert_true(m.data[i] == (float)(i + 1.0 / 3));
		eval_map_clear(&m);
	}
	test_write_float64_tiff(path, 5, 4, 2, false);
	assert_int_equal(eval_map_read(path, &m, err, sizeof err), -1);
	assert_non_null(strstr(err, "map has 2 bands, expected 1"));
	assert_null(m.data);
	/* a damaged file: the strips cut short */
	test_write_float64_tiff(path, 20, 18, 1, false);
	assert_int_equal(truncate(path, 200), 0);
	assert_int_equal(eval_map_read(path, &m, err, sizeof err), -1);
	assert_null(m.data);
	unlink(path);
	rmdir(dir);
}

/* A W x H float32 TIFF at PATH, value y * W + x + 0.25 (NaN at
 * NAN_AT if that is < W * H): in strips of 3 rows, or in 16x16 tiles
 * (TILED), deflate-compressed and big-endian (PACKED), or plain. */
static void
write_tiff32(const char *path, uint32_t w, uint32_t h, bool tiled, bool packed,
    size_t nan_at)
{
	TIFF *t = TIFFOpen(path, packed ? "wb" : "wl");
	float *v = calloc((size_t)w * h, sizeof *v);

	assert_non_null(t);
	assert_non_null(v);
	for (size_t i = 0; i < (size_t)w * h; i++)
		v[i] = i == nan_at ? NAN : (float)i + 0.25f;
	TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
	TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
	TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, 32);
	TIFFSetField(t, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_IEEEFP);
	TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, 1);
	TIFFSetField(t, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
	TIFFSetField(t, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
	if (packed) {
		TIFFSetField(t, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
	}
	if (tiled) {
		float tile[16 * 16];

		TIFFSetField(t, TIFFTAG_TILEWIDTH, 16);
		TIFFSetField(t, TIFFTAG_TILELENGTH, 16);
		for (uint32_t y0 = 0; y0 < h; y0 += 16)
			for (uint32_t x0 = 0; x0 < w; x0 += 16) {
				for (uint32_t i = 0; i < 16 * 16; i++) {
					uint32_t x = x0 + i % 16,
					         y = y0 + i / 16;

					tile[i] = x < w && y < h
					    ? v[(size_t)y * w + x]
					    : 0;
				}
				assert_true(
				    TIFFWriteTile(t, tile, x0, y0, 0, 0) > 0);
			}
	} else {
		TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, 3);
		for (uint32_t y = 0; y < h; y++)
			assert_int_equal(
			    TIFFWriteScanline(t, v + (size_t)y * w, y, 0), 1);
	}
	TIFFClose(t);
	free(v);
}

static void
test_eval_maps_tiff32(void **state)
{
	char dir[] = "/tmp/test_eval_maps.XXXXXX", path[64], err[512];
	struct eval_map m;
	(void)state;

	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof path, "%s/m.tif", dir);
	/* plain strips (read with libtiff directly); packed big-endian
	 * strips and tiles (read through libvips): the same values */
	for (int variant = 0; variant < 4; variant++) {
		write_tiff32(path, 20, 17, variant >= 2, variant % 2, SIZE_MAX);
		assert_int_equal(eval_map_read(path, &m, err, sizeof err), 0);
		assert_int_equal(m.width, 20);
		assert_int_equal(m.height, 17);
		assert_false(m.rounded);
		for (size_t i = 0; i < 20 * 17; i++)
			assert_true(m.data[i] == (float)i + 0.25f);
		eval_map_clear(&m);
	}
	/* a NaN is reported at its position, whichever reader */
	for (int variant = 0; variant < 3; variant++) {
		write_tiff32(
		    path, 20, 17, variant == 2, variant == 1, 2 * 20 + 3);
		assert_int_equal(eval_map_read(path, &m, err, sizeof err), -1);
		assert_non_null(strstr(err, "NaN score at x=3 y=2"));
		assert_null(m.data);
	}
	/* damaged: the last strips cut short, the file empty */
	write_tiff32(path, 20, 17, false, false, SIZE_MAX);
	assert_int_equal(truncate(path, 600), 0);
	assert_int_equal(eval_map_read(path, &m, err, sizeof err), -1);
	assert_null(m.data);
	assert_int_equal(truncate(path, 0), 0);
	assert_int_equal(eval_map_read(path, &m, err, sizeof err), -1);
	assert_null(m.data);
	unlink(path);
	rmdir(dir);
}

static int
setup_vips(void **state)
{
	char err[256];
	(void)state;

	return mirad_image_init("test_eval_maps", 1, err, sizeof err);
}

static int
teardown_vips(void **state)
{
	(void)state;
	mirad_image_shutdown();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_eval_maps_npy_ok),
	    cmocka_unit_test(test_eval_maps_npy_errors),
	    cmocka_unit_test(test_eval_maps_resize),
	    cmocka_unit_test(test_eval_maps_tiff64),
	    cmocka_unit_test(test_eval_maps_tiff32),
	};

	return cmocka_run_group_tests(tests, setup_vips, teardown_vips);
}
