/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "test_util.h"

#include "mirad_image.h"

/* vips_vector_isenabled(): not part of vips.h in 8.14. */
#include <vips/vector.h>

static VipsImage *
constant(int w, int h, int bands, double v)
{
	VipsImage *black, *out;
	double ink[4] = {v, v, v, v};

	assert_int_equal(vips_black(&black, w, h, "bands", bands, NULL), 0);
	out = vips_image_new_from_image(black, ink, bands);
	g_object_unref(black);
	assert_non_null(out);
	return out;
}

static void
test_image_extensions(void **state)
{
	(void)state;
	assert_true(mirad_image_has_image_ext("a/000.PNG"));
	assert_true(mirad_image_has_image_ext("x.JPeG"));
	assert_true(mirad_image_has_image_ext("x.tiff"));
	assert_false(mirad_image_has_image_ext("x.txt"));
	assert_false(mirad_image_has_image_ext(".png"));
	assert_false(mirad_image_has_image_ext("png"));
}

static void
test_image_save_header_and_hash(void **state)
{
	char *d = test_tmpdir();
	char *png = mirad_path_join(d, "a.png");
	char *tif = mirad_path_join(d, "a.tif");
	struct mirad_image_info info;
	char err[256], h1[65], h2[65];
	VipsImage *im = constant(12, 7, 3, 200), *a, *b;
	struct mirad_strlist l;

	(void)state;
	assert_int_equal(mirad_image_save(im, png, 0, err, sizeof err), 0);
	assert_int_equal(mirad_image_save(im, tif, 0, err, sizeof err), 0);
	assert_int_equal(mirad_list_dir(d, &l), 0);
	assert_int_equal(l.count, 2); /* no temporary files left */
	mirad_strlist_free(&l);
	assert_int_equal(mirad_image_header(png, &info, err, sizeof err), 0);
	assert_int_equal(info.width, 12);
	assert_int_equal(info.height, 7);
	assert_int_equal(info.bands, 3);
	assert_int_equal(info.bits, 8);
	assert_string_equal(info.format, "png");
	/* Same pixels in two encodings hash the same. */
	a = mirad_image_load(png, false, err, sizeof err);
	b = mirad_image_load(tif, false, err, sizeof err);
	assert_non_null(a);
	assert_non_null(b);
	assert_int_equal(mirad_image_pixel_sha256(a, h1, err, sizeof err), 0);
	assert_int_equal(mirad_image_pixel_sha256(b, h2, err, sizeof err), 0);
	assert_string_equal(h1, h2);
	assert_int_equal(strlen(h1), 64);
	g_object_unref(a);
	g_object_unref(b);
	{
		/* The encoding alone gives the saved file's bytes. */
		void *buf;
		size_t len;
		gchar *file;
		gsize flen;

		assert_int_equal(
		    mirad_image_encode(im, png, 0, &buf, &len, err, sizeof err),
		    0);
		assert_true(g_file_get_contents(png, &file, &flen, NULL));
		assert_int_equal(len, flen);
		assert_memory_equal(buf, file, len);
		assert_int_equal(memcmp(buf, "\x89PNG", 4), 0);
		g_free(buf);
		g_free(file);
	}
	g_object_unref(im);
	mirad_rm_rf(d);
	free(png);
	free(tif);
	free(d);
}

static void
test_image_binarise_any_nonzero(void **state)
{
	VipsImage *ones = constant(4, 4, 3, 0), *mem, *bin;
	double one[3] = {0, 1, 0};
	char err[256];
	double mn, mx;

	(void)state;
	mem = vips_image_copy_memory(ones);
	assert_int_equal(
	    vips_draw_rect(mem, one, 3, 0, 0, 2, 4, "fill", TRUE, NULL), 0);
	bin = mirad_image_binarise(mem, err, sizeof err);
	assert_non_null(bin);
	assert_int_equal(vips_image_get_bands(bin), 1);
	assert_int_equal(vips_image_get_format(bin), VIPS_FORMAT_UCHAR);
	assert_int_equal(vips_min(bin, &mn, NULL), 0);
	assert_int_equal(vips_max(bin, &mx, NULL), 0);
	assert_true(mn == 0 && mx == 255);
	{
		double avg;

		assert_int_equal(vips_avg(bin, &avg, NULL), 0);
		assert_true(avg == 127.5); /* half the pixels set */
	}
	g_object_unref(bin);
	g_object_unref(mem);
	g_object_unref(ones);
}

static void
test_image_truncated_file_fails_with_reason(void **state)
{
	char *d = test_tmpdir();
	char *png = mirad_path_join(d, "t.png");
	VipsImage *im = constant(64, 64, 3, 10), *back;
	char err[256];
	double avg;
	FILE *f;
	long size;

	(void)state;
	assert_int_equal(mirad_image_save(im, png, 0, err, sizeof err), 0);
	f = fopen(png, "r+");
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fclose(f);
	assert_int_equal(truncate(png, size / 2), 0);
	/* The missing end chunk is seen before any decoding, and said in
	 * the user's words, not libpng's "read error". */
	back = mirad_image_load(png, false, err, sizeof err);
	assert_null(back);
	assert_string_equal(err, "truncated PNG");
	(void)avg;
	/* The caller names the file; the reason does not repeat it. */
	assert_int_equal(mirad_image_load("/nonexistent.png", false, err,
	                     sizeof err) == NULL,
	    1);
	assert_string_equal(err, strerror(ENOENT));
	g_object_unref(im);
	mirad_rm_rf(d);
	free(png);
	free(d);
}

/* What is not a regular file never reaches libvips: a FIFO without a
 * writer used to block the open (and a device such as /dev/zero the read)
 * for ever. */
static void
test_image_refuses_what_is_not_a_regular_file(void **state)
{
	char *d = test_tmpdir();
	char *fifo = mirad_path_join(d, "fifo.png");
	char *empty = mirad_path_join(d, "empty.png");
	char *bmp = mirad_path_join(d, "x.png");
	struct mirad_image_info info;
	char err[256];
	FILE *f;

	(void)state;
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_null(mirad_image_load(fifo, true, err, sizeof err));
	assert_string_equal(err, "not a regular file");
	assert_int_equal(mirad_image_header(fifo, &info, err, sizeof err), -1);
	assert_string_equal(err, "not a regular file");
	assert_null(mirad_image_load("/dev/zero", true, err, sizeof err));
	assert_string_equal(err, "not a regular file");
	assert_int_equal(
	    mirad_image_header("/dev/zero", &info, err, sizeof err), -1);
	assert_string_equal(err, "not a regular file");
	/* Options after the name do not hide the file's type. */
	assert_null(
	    mirad_image_load("/dev/zero[shrink=8]", true, err, sizeof err));
	assert_string_equal(err, "not a regular file");

	f = fopen(empty, "w");
	fclose(f);
	assert_null(mirad_image_load(empty, true, err, sizeof err));
	assert_string_equal(err, "empty file");

	/* BMP, whatever its name: only ImageMagick reads it in libvips 8.14,
	 * and that loader stays blocked. */
	f = fopen(bmp, "w");
	fputs("BM\x36\x00\x00\x00 not much of a bitmap", f);
	fclose(f);
	assert_null(mirad_image_load(bmp, true, err, sizeof err));
	assert_string_equal(
	    err, "BMP is not supported: convert it to PNG first");
	assert_int_equal(mirad_image_header(bmp, &info, err, sizeof err), -1);
	mirad_rm_rf(d);
	free(fifo);
	free(empty);
	free(bmp);
	free(d);
}

/* A CMYK JPEG loads as 8-bit sRGB through its profile: red stays red,
 * not the colour negative four raw bands would give. */
static void
test_image_cmyk_becomes_srgb(void **state)
{
	char *d = test_tmpdir();
	char *jpg = mirad_path_join(d, "cmyk.jpg");
	double ink[4] = {0, 255, 255, 0};
	struct mirad_image_info info;
	VipsImage *black, *cmyk, *tagged, *back;
	double r, g, b;
	int from_cmyk = 0;
	char err[256];

	(void)state;
	assert_int_equal(vips_black(&black, 16, 16, "bands", 4, NULL), 0);
	cmyk = vips_image_new_from_image(black, ink, 4);
	assert_int_equal(vips_copy(cmyk, &tagged, "interpretation",
	                     VIPS_INTERPRETATION_CMYK, NULL),
	    0);
	assert_int_equal(vips_jpegsave(tagged, jpg, "Q", 95, NULL), 0);
	assert_int_equal(mirad_image_header(jpg, &info, err, sizeof err), 0);
	assert_int_equal(info.bands, 3);
	assert_int_equal(info.bits, 8);
	back = mirad_image_load(jpg, false, err, sizeof err);
	assert_non_null(back);
	assert_int_equal(vips_image_get_bands(back), 3);
	assert_int_equal(vips_image_get_format(back), VIPS_FORMAT_UCHAR);
	assert_int_equal(
	    vips_image_get_int(back, MIRAD_IMAGE_META_FROM_CMYK, &from_cmyk),
	    0);
	assert_int_equal(from_cmyk, 1);
	{
		VipsImage *stats;

		assert_int_equal(vips_stats(back, &stats, NULL), 0);
		/* Row 1 + band: the mean is column 4. */
		r = *VIPS_MATRIX(stats, 4, 1);
		g = *VIPS_MATRIX(stats, 4, 2);
		b = *VIPS_MATRIX(stats, 4, 3);
		g_object_unref(stats);
	}
	assert_true(r > 180 && g < 100 && b < 100);
	g_object_unref(back);
	g_object_unref(tagged);
	g_object_unref(cmyk);
	g_object_unref(black);
	mirad_rm_rf(d);
	free(jpg);
	free(d);
}

static void
test_image_reasons_in_plain_words(void **state)
{
	char err[128];

	(void)state;
	mirad_image_reason("VipsForeignLoad: \"/abs/x.png\" is not a known "
	                   "file format\n",
	    err, sizeof err);
	assert_string_equal(err, "not an image (unknown format)");
	mirad_image_reason(
	    "VipsJpeg: Premature end of JPEG file\n", err, sizeof err);
	assert_string_equal(err, "truncated JPEG");
	mirad_image_reason(
	    "VipsForeignLoad: magickload: operation is blocked\n", err,
	    sizeof err);
	assert_string_equal(err, "format not supported");
	/* A TIFF's directory unreadable (tiffload), then no loader found by
	 * sniffing: the TIFF's reason wins. */
	mirad_image_reason("TIFFReadDirectory: Failed to read directory at "
	                   "offset 8\nmagickload: operation is blocked\n",
	    err, sizeof err);
	assert_string_equal(err, "damaged TIFF");
	mirad_image_reason("something new\nsecond line", err, sizeof err);
	assert_string_equal(err, "something new");
	mirad_image_reason(NULL, err, sizeof err);
	assert_string_equal(err, "image error");
}

/* One worker of the concurrency test: shrink tiny images vertically (the
 * libvips operation that compiles and frees an orc program each time)
 * until the deadline. */
static gpointer
reduce_until(gpointer deadline_us)
{
	gint64 deadline = *(const gint64 *)deadline_us;
	intptr_t failures = 0;

	for (int i = 0; g_get_monotonic_time() < deadline; i++) {
		VipsImage *in, *out;
		size_t len;
		void *pixels;

		if (vips_black(&in, 24 + i % 7, 24, "bands", 3, NULL)) {
			failures++;
			continue;
		}
		if (vips_reducev(in, &out, 1.7, NULL) == 0) {
			pixels = vips_image_write_to_memory(out, &len);
			failures += pixels == NULL;
			g_free(pixels);
			g_object_unref(out);
		} else
			failures++;
		g_object_unref(in);
	}
	return (gpointer)failures;
}

/* With liborc 0.4.33 and orc paths on, 8 threads doing this crashed in
 * orc_code_chunk_free in every run, but only after 0.5 to 15 s (median
 * about 5 s): too slow to catch every time here, so the assertion that
 * init turned the orc paths off is the guard and the 2-second run checks
 * that libvips is still usable from several threads. */
static void
test_image_threads_share_libvips_safely(void **state)
{
	enum {
		THREADS = 8
	};
	GThread *threads[THREADS];
	gint64 deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
	intptr_t failures = 0;

	(void)state;
	assert_false(vips_vector_isenabled());
	for (int t = 0; t < THREADS; t++)
		threads[t] = g_thread_new("reduce", reduce_until, &deadline);
	for (int t = 0; t < THREADS; t++)
		failures += (intptr_t)g_thread_join(threads[t]);
	assert_int_equal(failures, 0);
}

/* A pipeline of W x H x BANDS uchar pixels that differ from each other
 * (not yet computed: a libvips operation would run a thread pool). */
static VipsImage *
ramp(int w, int h, int bands)
{
	VipsImage *x, *b, *u;
	VipsImage *in[4];

	assert_int_equal(vips_xyz(&x, w, h, NULL), 0);
	for (int i = 0; i < bands; i++)
		assert_int_equal(vips_extract_band(x, &in[i], i % 2, NULL), 0);
	assert_int_equal(vips_bandjoin(in, &b, bands, NULL), 0);
	for (int i = 0; i < bands; i++)
		g_object_unref(in[i]);
	assert_int_equal(vips_cast_uchar(b, &u, NULL), 0);
	g_object_unref(b);
	g_object_unref(x);
	return u;
}

static void
test_image_copy_memory_here(void **state)
{
	VipsImage *lazy = ramp(150, 130, 3); /* more than two 64-row strips */
	VipsImage *want = vips_image_copy_memory(lazy);
	VipsImage *got = mirad_image_copy_memory_here(lazy), *again;

	(void)state;
	assert_non_null(want);
	assert_non_null(got);
	assert_int_equal(got->Xsize, 150);
	assert_int_equal(got->Ysize, 130);
	assert_int_equal(got->Bands, 3);
	assert_int_equal(got->BandFmt, VIPS_FORMAT_UCHAR);
	assert_memory_equal(VIPS_IMAGE_ADDR(got, 0, 0),
	    VIPS_IMAGE_ADDR(want, 0, 0), VIPS_IMAGE_SIZEOF_IMAGE(want));
	/* Already in memory: the same image, one more reference. */
	again = mirad_image_copy_memory_here(got);
	assert_ptr_equal(again, got);
	g_object_unref(again);
	g_object_unref(got);
	g_object_unref(want);
	g_object_unref(lazy);
}

static void
test_image_encode_png8_by_libpng(void **state)
{
	char err[256];

	(void)state;
	/* 1 to 4 bands of 8 bits: libpng's PNG decodes to the same pixels. */
	for (int bands = 1; bands <= 4; bands++) {
		VipsImage *im = ramp(70, 66, bands), *back, *mem;
		void *buf = NULL;
		size_t len = 0;

		assert_int_equal(
		    mirad_image_encode(im, "x.png", 0, &buf, &len, err, 256),
		    0);
		back = vips_image_new_from_buffer(buf, len, "", NULL);
		assert_non_null(back);
		mem = vips_image_copy_memory(im);
		assert_int_equal(vips_image_get_bands(back), bands);
		assert_int_equal(
		    vips_image_get_format(back), VIPS_FORMAT_UCHAR);
		{
			size_t n = 0;
			void *px = vips_image_write_to_memory(back, &n);

			assert_int_equal(n, VIPS_IMAGE_SIZEOF_IMAGE(mem));
			assert_memory_equal(px, VIPS_IMAGE_ADDR(mem, 0, 0), n);
			g_free(px);
		}
		g_object_unref(mem);
		g_object_unref(back);
		g_free(buf);
		g_object_unref(im);
	}
	/* 16-bit samples stay 16-bit (libvips' saver). */
	{
		VipsImage *im = ramp(20, 10, 1), *u16, *deep, *back;
		void *buf = NULL;
		size_t len = 0;

		assert_int_equal(vips_cast_ushort(im, &u16, NULL), 0);
		assert_int_equal(vips_copy(u16, &deep, "interpretation",
		                     VIPS_INTERPRETATION_GREY16, NULL),
		    0);
		g_object_unref(u16);
		assert_int_equal(
		    mirad_image_encode(deep, "x.png", 0, &buf, &len, err, 256),
		    0);
		back = vips_image_new_from_buffer(buf, len, "", NULL);
		assert_non_null(back);
		assert_int_equal(
		    vips_image_get_format(back), VIPS_FORMAT_USHORT);
		g_object_unref(back);
		g_free(buf);
		g_object_unref(deep);
		g_object_unref(im);
	}
}

static int
setup(void **state)
{
	char err[256];

	(void)state;
	return mirad_image_init("test_image", 1, err, sizeof err);
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
	    cmocka_unit_test(test_image_extensions),
	    cmocka_unit_test(test_image_save_header_and_hash),
	    cmocka_unit_test(test_image_binarise_any_nonzero),
	    cmocka_unit_test(test_image_truncated_file_fails_with_reason),
	    cmocka_unit_test(test_image_refuses_what_is_not_a_regular_file),
	    cmocka_unit_test(test_image_cmyk_becomes_srgb),
	    cmocka_unit_test(test_image_reasons_in_plain_words),
	    cmocka_unit_test(test_image_threads_share_libvips_safely),
	    cmocka_unit_test(test_image_copy_memory_here),
	    cmocka_unit_test(test_image_encode_png8_by_libpng),
	};
	return cmocka_run_group_tests_name("image", tests, setup, teardown);
}
