/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>

#include "test_util.h"

#include "mirad_codec.h"
#include "mirad_codec_tiff.h"

#include <tiffio.h>
#include "test_tiff.h"
#include <vips/vips.h>

/* The test files are written by libvips (its own encoders), read back by
 * mirad_codec (libpng, libjpeg, libtiff directly). */

static VipsImage *
noise(int w, int h, int bands)
{
	VipsImage *g, *t, *out;

	/* A fixed seed: the same bytes, so the same damage, every run. */
	assert_int_equal(vips_gaussnoise(&g, w, h, "mean", 128.0, "sigma", 40.0,
	                     "seed", 7, NULL),
	    0);
	if (bands > 1) {
		VipsImage *in[4] = {g, g, g, g};

		assert_int_equal(vips_bandjoin(in, &t, bands, NULL), 0);
		g_object_unref(g);
		g = t;
	}
	assert_int_equal(vips_cast_uchar(g, &out, NULL), 0);
	g_object_unref(g);
	return out;
}

static char *
write_image(const char *dir, const char *name, VipsImage *im)
{
	char *path = mirad_path_join(dir, name);
	const char *ext = mirad_path_ext(name);
	int rc;

	/* By content, whatever the name says. */
	if (strstr(name, "jpeg") != NULL)
		rc = vips_jpegsave(im, path, "Q", 90, NULL);
	else if (strstr(name, "tiff") != NULL)
		rc = vips_tiffsave(im, path, NULL);
	else
		rc = vips_pngsave(im, path, NULL);
	(void)ext;
	assert_int_equal(rc, 0);
	return path;
}

static int
header_of(const char *path, struct mirad_codec_info *info, char *err)
{
	int fd = open(path, O_RDONLY);
	int rc;

	assert_true(fd >= 0);
	memset(info, 0, sizeof *info);
	rc = mirad_codec_header(fd, info, err, 256);
	close(fd);
	return rc;
}

static int
check_of(const char *path, char *err)
{
	int fd = open(path, O_RDONLY);
	int rc;

	assert_true(fd >= 0);
	rc = mirad_codec_check(fd, err, 256);
	close(fd);
	return rc;
}

static long
file_size(const char *path)
{
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	return (long)st.st_size;
}

/* XOR the bytes [AT, AT + N) of PATH with 0x55. */
static void
flip_bytes(const char *path, long at, int n)
{
	FILE *f = fopen(path, "r+b");

	assert_non_null(f);
	for (int i = 0; i < n; i++) {
		int c;

		assert_int_equal(fseek(f, at + i, SEEK_SET), 0);
		c = fgetc(f);
		assert_true(c != EOF);
		assert_int_equal(fseek(f, at + i, SEEK_SET), 0);
		fputc(c ^ 0x55, f);
	}
	fclose(f);
}

static void
test_codec_headers(void **state)
{
	char *d = test_tmpdir();
	VipsImage *rgb = noise(12, 7, 3), *grey = noise(9, 5, 1), *g16, *t16;
	VipsImage *cmyk;
	char *png, *png16, *jpg, *tif, *jcmyk, *pal;
	struct mirad_codec_info info;
	char err[256];

	(void)state;
	png = write_image(d, "rgb.png", rgb);
	assert_int_equal(header_of(png, &info, err), 0);
	assert_int_equal(info.width, 12);
	assert_int_equal(info.height, 7);
	assert_int_equal(info.bands, 3);
	assert_int_equal(info.bits, 8);
	assert_false(info.cmyk);
	assert_string_equal(info.format, "png");

	assert_int_equal(vips_cast_ushort(grey, &t16, NULL), 0);
	assert_int_equal(vips_copy(t16, &g16, "interpretation",
	                     VIPS_INTERPRETATION_GREY16, NULL),
	    0);
	g_object_unref(t16);
	png16 = write_image(d, "grey16.png", g16);
	assert_int_equal(header_of(png16, &info, err), 0);
	assert_int_equal(info.bands, 1);
	assert_int_equal(info.bits, 16);

	/* A palette is loaded as RGB: three bands. */
	pal = mirad_path_join(d, "palette.png");
	assert_int_equal(vips_pngsave(rgb, pal, "palette", TRUE, NULL), 0);
	assert_int_equal(header_of(pal, &info, err), 0);
	assert_int_equal(info.bands, 3);
	assert_int_equal(info.bits, 8);

	jpg = write_image(d, "rgb.jpeg.jpg", rgb);
	assert_int_equal(header_of(jpg, &info, err), 0);
	assert_int_equal(info.width, 12);
	assert_int_equal(info.height, 7);
	assert_int_equal(info.bands, 3);
	assert_string_equal(info.format, "jpeg");

	t16 = noise(8, 8, 4);
	assert_int_equal(vips_copy(t16, &cmyk, "interpretation",
	                     VIPS_INTERPRETATION_CMYK, NULL),
	    0);
	g_object_unref(t16);
	jcmyk = write_image(d, "cmyk.jpeg.jpg", cmyk);
	assert_int_equal(header_of(jcmyk, &info, err), 0);
	assert_true(info.cmyk);
	assert_int_equal(info.bands, 4);

	tif = write_image(d, "rgb.tiff.tif", rgb);
	assert_int_equal(header_of(tif, &info, err), 0);
	assert_int_equal(info.width, 12);
	assert_int_equal(info.bands, 3);
	assert_int_equal(info.bits, 8);
	assert_string_equal(info.format, "tiff");

	/* Intact files pass the check. */
	assert_int_equal(check_of(png, err), 0);
	assert_int_equal(check_of(png16, err), 0);
	assert_int_equal(check_of(pal, err), 0);
	assert_int_equal(check_of(jpg, err), 0);
	assert_int_equal(check_of(jcmyk, err), 0);
	assert_int_equal(check_of(tif, err), 0);

	g_object_unref(rgb);
	g_object_unref(grey);
	g_object_unref(g16);
	g_object_unref(cmyk);
	mirad_rm_rf(d);
	free(png);
	free(png16);
	free(pal);
	free(jpg);
	free(jcmyk);
	free(tif);
	free(d);
}

/* The bytes, not the name, decide: a JPEG called .png is a JPEG. */
static void
test_codec_wrong_extension_and_unknown(void **state)
{
	char *d = test_tmpdir();
	VipsImage *rgb = noise(10, 6, 3);
	char *fake = write_image(d, "really-a-jpeg.png", rgb);
	char *text = mirad_path_join(d, "text.png");
	char *bmp = mirad_path_join(d, "x.png");
	struct mirad_codec_info info;
	char err[256] = "";

	(void)state;
	assert_int_equal(header_of(fake, &info, err), 0);
	assert_string_equal(info.format, "jpeg");
	assert_int_equal(check_of(fake, err), 0);

	/* Neither PNG, JPEG nor TIFF: left to the caller (libvips). */
	test_write(d, "text.png", "not an image at all\n");
	test_write(d, "x.png", "BM\x36 not much of a bitmap");
	assert_int_equal(header_of(text, &info, err), MIRAD_CODEC_UNKNOWN);
	assert_int_equal(check_of(text, err), MIRAD_CODEC_UNKNOWN);
	assert_int_equal(header_of(bmp, &info, err), MIRAD_CODEC_UNKNOWN);
	assert_int_equal(check_of(bmp, err), MIRAD_CODEC_UNKNOWN);

	g_object_unref(rgb);
	mirad_rm_rf(d);
	free(fake);
	free(text);
	free(bmp);
	free(d);
}

static void
test_codec_truncated(void **state)
{
	char *d = test_tmpdir();
	VipsImage *rgb = noise(96, 64, 3);
	char *png = write_image(d, "cut.png", rgb);
	char *jpg = write_image(d, "cut.jpeg.jpg", rgb);
	char *tif = write_image(d, "cut.tiff.tif", rgb);
	struct mirad_codec_info info;
	char err[256];

	(void)state;
	/* A PNG without its end chunk is called truncated at once. */
	assert_int_equal(truncate(png, file_size(png) - 20), 0);
	assert_int_equal(header_of(png, &info, err), -1);
	assert_string_equal(err, "truncated PNG");
	assert_int_equal(check_of(png, err), -1);
	assert_string_equal(err, "truncated PNG");

	/* A JPEG cut in its scan still has a header; the check finds the
	 * missing data. */
	assert_int_equal(truncate(jpg, file_size(jpg) * 2 / 3), 0);
	assert_int_equal(header_of(jpg, &info, err), 0);
	assert_int_equal(info.width, 96);
	assert_int_equal(check_of(jpg, err), -1);
	assert_string_equal(err, "truncated JPEG");
	/* Cut inside its header: the header read fails too. */
	assert_int_equal(truncate(jpg, 40), 0);
	assert_int_equal(header_of(jpg, &info, err), -1);
	assert_string_equal(err, "truncated JPEG");

	/* A TIFF whose strips are cut short. */
	assert_int_equal(truncate(tif, file_size(tif) / 2), 0);
	assert_int_not_equal(check_of(tif, err), 0);

	g_object_unref(rgb);
	mirad_rm_rf(d);
	free(png);
	free(jpg);
	free(tif);
	free(d);
}

static void
test_codec_bit_flips(void **state)
{
	char *d = test_tmpdir();
	VipsImage *rgb = noise(96, 64, 3);
	char *png = write_image(d, "flip.png", rgb);
	char *jpg = write_image(d, "flip.jpeg.jpg", rgb);
	char *jpg2 = write_image(d, "flip2.jpeg.jpg", rgb);
	struct mirad_codec_info info;
	char err[256];
	long size;

	(void)state;
	/* One byte in the middle of the compressed pixels: the header is
	 * intact, the chunk's CRC is not. */
	size = file_size(png);
	flip_bytes(png, size / 2, 1);
	assert_int_equal(header_of(png, &info, err), 0);
	assert_int_equal(check_of(png, err), -1);
	assert_string_equal(err, "truncated or damaged PNG");

	/* Flipped bytes in the entropy-coded data: the header is intact,
	 * libjpeg warns about corrupt data while decoding. */
	size = file_size(jpg);
	flip_bytes(jpg, size / 2, 16);
	assert_int_equal(header_of(jpg, &info, err), 0);
	assert_int_equal(check_of(jpg, err), -1);
	assert_string_equal(err, "damaged JPEG");

	/* A flipped start-of-image: not a JPEG any more. */
	flip_bytes(jpg2, 1, 1);
	assert_int_equal(header_of(jpg2, &info, err), MIRAD_CODEC_UNKNOWN);

	g_object_unref(rgb);
	mirad_rm_rf(d);
	free(png);
	free(jpg);
	free(jpg2);
	free(d);
}

/* ---- float32 TIFF maps ---- */

/* How write_float_tiff() lays the file out. */
enum float_tiff_kind {
	FT_PLAIN,          /* host byte order, strips of 3 rows */
	FT_BIG_PREDICTOR,  /* big-endian, floating-point predictor */
	FT_BIG_PLAIN,      /* big-endian, no predictor */
	FT_HOST_PREDICTOR, /* host byte order, floating-point predictor */
	FT_TILED,
	FT_TWO_BANDS,
	FT_DEFLATE, /* compressed, no predictor: still read here */
};

/* The sample value of pixel I: signed, fractional, subnormal, -0.0. */
static float
float_sample(size_t i)
{
	if (i == 5)
		return -0.0f;
	if (i == 6)
		return 1e-40f;
	return ((float)i - 100.0f) / 7.0f;
}

static void
write_float_tiff(
    const char *path, uint32_t w, uint32_t h, enum float_tiff_kind kind)
{
	const bool big = kind == FT_BIG_PREDICTOR || kind == FT_BIG_PLAIN;
	const uint16_t spp = kind == FT_TWO_BANDS ? 2 : 1;
	TIFF *tif = TIFFOpen(path, big ? "wb" : "w");
	float *row = malloc((size_t)w * spp * sizeof *row);

	assert_non_null(tif);
	assert_non_null(row);
	TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, w);
	TIFFSetField(tif, TIFFTAG_IMAGELENGTH, h);
	TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, spp);
	TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 32);
	TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_IEEEFP);
	TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
	TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
	if (kind == FT_BIG_PREDICTOR || kind == FT_HOST_PREDICTOR ||
	    kind == FT_DEFLATE)
		TIFFSetField(
		    tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
	if (kind == FT_BIG_PREDICTOR || kind == FT_HOST_PREDICTOR)
		TIFFSetField(tif, TIFFTAG_PREDICTOR, PREDICTOR_FLOATINGPOINT);
	if (kind == FT_TILED) {
		float *tile = calloc(16 * 16, sizeof *tile);

		assert_non_null(tile);
		TIFFSetField(tif, TIFFTAG_TILEWIDTH, 16);
		TIFFSetField(tif, TIFFTAG_TILELENGTH, 16);
		for (uint32_t y = 0; y < h; y += 16)
			for (uint32_t x = 0; x < w; x += 16)
				assert_true(
				    TIFFWriteTile(tif, tile, x, y, 0, 0) >= 0);
		free(tile);
	} else {
		TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 3);
		for (uint32_t y = 0; y < h; y++) {
			for (size_t x = 0; x < (size_t)w * spp; x++)
				row[x] = float_sample((size_t)y * w * spp + x);
			assert_int_equal(TIFFWriteScanline(tif, row, y, 0), 1);
		}
	}
	TIFFClose(tif);
	free(row);
}

static int
read_float_tiff(const char *path, uint64_t max_pixels, float **px, size_t *w,
    size_t *h, char *err)
{
	int fd = open(path, O_RDONLY);
	int rc;

	assert_true(fd >= 0);
	err[0] = '\0';
	rc = mirad_codec_read_float32_tiff(fd, max_pixels, px, w, h, err, 256);
	close(fd);
	return rc;
}

static void
test_codec_float32_tiff(void **state)
{
	char *d = test_tmpdir();
	char *path = mirad_path_join(d, "map.tiff");
	float *px = NULL;
	size_t w = 0, h = 0;
	char err[256];

	(void)state;
	/* The plain layout, plain and deflated: every bit read back, the
	 * last strip short (17 rows in strips of 3). */
	for (int kind = FT_PLAIN; kind <= FT_DEFLATE; kind += FT_DEFLATE) {
		write_float_tiff(path, 21, 17, (enum float_tiff_kind)kind);
		assert_int_equal(
		    read_float_tiff(path, 1000, &px, &w, &h, err), 0);
		assert_int_equal(w, 21);
		assert_int_equal(h, 17);
		for (size_t i = 0; i < w * h; i++) {
			float want = float_sample(i);

			assert_memory_equal(&px[i], &want, sizeof want);
		}
		free(px);
	}

	/* More pixels than allowed: left to the caller's other reader. */
	write_float_tiff(path, 21, 17, FT_PLAIN);
	assert_int_equal(read_float_tiff(path, 21 * 17 - 1, &px, &w, &h, err),
	    MIRAD_CODEC_UNKNOWN);
	assert_null(px);
	free(path);
	mirad_rm_rf(d);
	free(d);
}

static void
test_codec_float32_tiff_refused(void **state)
{
	static const enum float_tiff_kind others[] = {FT_BIG_PREDICTOR,
	    FT_BIG_PLAIN, FT_HOST_PREDICTOR, FT_TILED, FT_TWO_BANDS};
	char *d = test_tmpdir();
	char *path = mirad_path_join(d, "map.tiff");
	VipsImage *grey = noise(20, 10, 1);
	char *png = write_image(d, "grey.png", grey);
	char *tif8 = write_image(d, "grey.tiff", grey);
	float *px = NULL;
	size_t w = 0, h = 0;
	char err[256];

	(void)state;
	/* Every other layout, the byte-swapped predictor file libtiff 4.5.0
	 * decodes wrongly among them, is left to libvips. */
	for (size_t k = 0; k < sizeof others / sizeof *others; k++) {
		write_float_tiff(path, 21, 17, others[k]);
		assert_int_equal(read_float_tiff(path, 1000, &px, &w, &h, err),
		    MIRAD_CODEC_UNKNOWN);
		assert_null(px);
	}
	/* Not float32, not a TIFF. */
	assert_int_equal(
	    read_float_tiff(tif8, 1000, &px, &w, &h, err), MIRAD_CODEC_UNKNOWN);
	assert_int_equal(
	    read_float_tiff(png, 1000, &px, &w, &h, err), MIRAD_CODEC_UNKNOWN);

	/* A plain map whose compressed strips are damaged (libtiff writes
	 * them first, the directory last): an error, not another layout. */
	write_float_tiff(path, 21, 17, FT_DEFLATE);
	flip_bytes(path, 16, 32);
	assert_int_equal(read_float_tiff(path, 1000, &px, &w, &h, err), -1);
	assert_null(px);
	assert_string_equal(err, "damaged TIFF");

	g_object_unref(grey);
	free(png);
	free(tif8);
	free(path);
	mirad_rm_rf(d);
	free(d);
}

/* ---- float64 TIFF maps ---- */

static int
read_double_tiff(const char *path, uint64_t max_pixels, float **px, size_t *w,
    size_t *h, char *err)
{
	int fd = open(path, O_RDONLY);
	int rc;

	assert_true(fd >= 0);
	err[0] = '\0';
	rc = mirad_codec_read_float64_tiff(fd, max_pixels, px, w, h, err, 256);
	close(fd);
	return rc;
}

static void
test_codec_float64_tiff(void **state)
{
	char *d = test_tmpdir();
	char *path = mirad_path_join(d, "map.tiff");
	char *f32 = mirad_path_join(d, "map32.tiff");
	VipsImage *grey = noise(20, 10, 1);
	char *png = write_image(d, "grey.png", grey);
	float *px = NULL;
	size_t w = 0, h = 0;
	char err[256];

	(void)state;
#if TIFFLIB_VERSION < 20221213
	skip();
#endif
	/* Strips (the last one short) and tiles (cut at the right and the
	 * bottom): every sample rounded to the nearest float32. */
	for (int tiled = 0; tiled < 2; tiled++) {
		test_write_float64_tiff(path, 20, 19, 1, tiled);
		assert_int_equal(
		    read_double_tiff(path, 1000, &px, &w, &h, err), 0);
		assert_int_equal(w, 20);
		assert_int_equal(h, 19);
		for (size_t i = 0; i < w * h; i++)
			assert_true(px[i] == (float)(i + 1.0 / 3));
		free(px);
	}
	/* Two bands, too many pixels, cut strips: errors, not left to
	 * libvips (which cannot read float64 samples at all). */
	test_write_float64_tiff(path, 5, 4, 2, false);
	assert_int_equal(read_double_tiff(path, 1000, &px, &w, &h, err), -1);
	assert_string_equal(err, "map has 2 bands, expected 1");
	assert_null(px);
	test_write_float64_tiff(path, 20, 19, 1, false);
	assert_int_equal(
	    read_double_tiff(path, 20 * 19 - 1, &px, &w, &h, err), -1);
	assert_string_equal(err, "bad TIFF size 20x19");
	assert_null(px);
	/* Damaged strips (libtiff writes them first, the directory last):
	 * an error naming libtiff's reason; cut before the directory: not
	 * a TIFF at all. */
	flip_bytes(path, 16, 32);
	assert_int_equal(read_double_tiff(path, 1000, &px, &w, &h, err), -1);
	assert_true(strncmp(err, "damaged TIFF: ", 14) == 0);
	assert_null(px);
	assert_int_equal(truncate(path, 200), 0);
	assert_int_equal(read_double_tiff(path, 1000, &px, &w, &h, err),
	    MIRAD_CODEC_UNKNOWN);
	assert_null(px);
	/* float32, not a TIFF: left to the other readers. */
	write_float_tiff(f32, 21, 17, FT_PLAIN);
	assert_int_equal(
	    read_double_tiff(f32, 1000, &px, &w, &h, err), MIRAD_CODEC_UNKNOWN);
	assert_int_equal(
	    read_double_tiff(png, 1000, &px, &w, &h, err), MIRAD_CODEC_UNKNOWN);
	assert_null(px);

	g_object_unref(grey);
	free(png);
	free(f32);
	free(path);
	mirad_rm_rf(d);
	free(d);
}

/* A W x H image of BANDS samples of FORMAT from DATA (copied). */
static VipsImage *
from_memory(const void *data, int w, int h, int bands, VipsBandFormat format)
{
	VipsImage *im = vips_image_new_from_memory_copy(data,
	    (size_t)w * (size_t)h * (size_t)bands * vips_format_sizeof(format),
	    w, h, bands, format);

	assert_non_null(im);
	return im;
}

static int
mask_of(const char *path, uint64_t max_pixels, struct mirad_codec_mask *m,
    char *err)
{
	int fd = open(path, O_RDONLY);
	int rc;

	assert_true(fd >= 0);
	memset(m, 0, sizeof *m);
	rc = mirad_codec_read_mask(fd, max_pixels, m, err, 256);
	close(fd);
	return rc;
}

/* Save IM as the PNG DIR/NAME, interlaced or not, of BITDEPTH bits. */
static char *
write_png(const char *dir, const char *name, VipsImage *im, bool interlace,
    int bitdepth)
{
	char *path = mirad_path_join(dir, name);

	assert_int_equal(vips_pngsave(im, path, "interlace", interlace,
	                     "bitdepth", bitdepth, NULL),
	    0);
	return path;
}

static void
test_codec_masks(void **state)
{
	static const unsigned char bin[6] = {0, 255, 0, 255, 255, 0};
	static const unsigned char grey[6] = {0, 1, 0, 128, 255, 0};
	static const unsigned char want[6] = {0, 255, 0, 255, 255, 0};
	static const unsigned short deep[6] = {0, 1, 0, 65535, 256, 0};
	/* RGBA: colour in pixel 1 only, alpha in pixels 1 and 2. */
	static const unsigned char rgba[6 * 4] = {0, 0, 0, 0, 0, 7, 0, 255, 0,
	    0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
	static const unsigned char rgba_want[6] = {0, 255, 0, 0, 0, 0};
	char *d = test_tmpdir();
	VipsImage *im;
	char *p;
	struct mirad_codec_mask m;
	char err[256];
	void *buf;
	size_t len;

	(void)state;
	/* An 8-bit 0/255 grey PNG is the mask as it is. */
	im = from_memory(bin, 3, 2, 1, VIPS_FORMAT_UCHAR);
	p = write_png(d, "bin.png", im, false, 8);
	assert_int_equal(mask_of(p, 1000, &m, err), 0);
	assert_int_equal(m.width, 3);
	assert_int_equal(m.height, 2);
	assert_true(m.as_is);
	assert_memory_equal(m.pixels, want, 6);
	free(m.pixels);
	/* The same pixels interlaced: decoded alike. */
	free(p);
	p = write_png(d, "inter.png", im, true, 8);
	assert_int_equal(mask_of(p, 1000, &m, err), 0);
	assert_memory_equal(m.pixels, want, 6);
	free(m.pixels);
	/* Over the pixel limit: refused before decoding. */
	assert_int_equal(mask_of(p, 5, &m, err), -1);
	assert_string_equal(err, "declares 3x2 pixels, over the limit of 5");
	g_object_unref(im);
	free(p);

	/* Other grey values mark their pixels; not usable as it is. */
	im = from_memory(grey, 3, 2, 1, VIPS_FORMAT_UCHAR);
	p = write_png(d, "grey.png", im, false, 8);
	assert_int_equal(mask_of(p, 1000, &m, err), 0);
	assert_false(m.as_is);
	assert_memory_equal(m.pixels, want, 6);
	free(m.pixels);
	g_object_unref(im);
	free(p);

	/* 16 bits: 1 and 256 mark their pixels too. */
	im = from_memory(deep, 3, 2, 1, VIPS_FORMAT_USHORT);
	p = write_png(d, "deep.png", im, false, 16);
	assert_int_equal(mask_of(p, 1000, &m, err), 0);
	assert_false(m.as_is);
	assert_memory_equal(m.pixels, want, 6);
	free(m.pixels);
	g_object_unref(im);
	free(p);

	/* Alpha alone is not a defect. */
	im = from_memory(rgba, 3, 2, 4, VIPS_FORMAT_UCHAR);
	p = write_png(d, "rgba.png", im, false, 8);
	assert_int_equal(mask_of(p, 1000, &m, err), 0);
	assert_false(m.as_is);
	assert_memory_equal(m.pixels, rgba_want, 6);
	free(m.pixels);
	/* A cut file and a flipped byte are errors; a JPEG is not ours. */
	assert_int_equal(truncate(p, file_size(p) - 20), 0);
	assert_int_equal(mask_of(p, 1000, &m, err), -1);
	assert_string_equal(err, "truncated PNG");
	free(p);
	p = write_png(d, "flip.png", im, false, 8);
	flip_bytes(p, file_size(p) / 2, 1);
	assert_int_equal(mask_of(p, 1000, &m, err), -1);
	assert_string_equal(err, "truncated or damaged PNG");
	free(p);
	p = write_image(d, "rgba.jpeg.jpg", im);
	assert_int_equal(mask_of(p, 1000, &m, err), MIRAD_CODEC_UNKNOWN);
	g_object_unref(im);
	free(p);

	/* What is written reads back as the same mask, as it is. */
	assert_int_equal(
	    mirad_codec_write_grey_png(want, 3, 2, &buf, &len, err, 256), 0);
	p = mirad_path_join(d, "written.png");
	assert_int_equal(mirad_write_file_atomic(p, buf, len), 0);
	free(buf);
	assert_int_equal(mask_of(p, 1000, &m, err), 0);
	assert_true(m.as_is);
	assert_int_equal(m.width, 3);
	assert_memory_equal(m.pixels, want, 6);
	free(m.pixels);
	/* and libvips reads it as one 8-bit band. */
	im = vips_image_new_from_file(p, NULL);
	assert_non_null(im);
	assert_int_equal(vips_image_get_bands(im), 1);
	assert_int_equal(vips_image_get_format(im), VIPS_FORMAT_UCHAR);
	g_object_unref(im);
	free(p);

	mirad_rm_rf(d);
	free(d);
}

static void
test_codec_write_png(void **state)
{
	char *d = test_tmpdir();
	VipsImage *want = noise(7, 5, 3), *got;
	size_t size = 0, len = 0;
	void *px = vips_image_write_to_memory(want, &size), *buf = NULL, *back;
	char *p = mirad_path_join(d, "rgb.png");
	char err[256];

	(void)state;
	/* RGB pixels written by libpng read back through libvips alike. */
	assert_int_equal(
	    mirad_codec_write_png(px, 7, 5, 3, &buf, &len, err, 256), 0);
	assert_int_equal(mirad_write_file_atomic(p, buf, len), 0);
	got = vips_image_new_from_file(p, NULL);
	assert_non_null(got);
	assert_int_equal(vips_image_get_bands(got), 3);
	back = vips_image_write_to_memory(got, &len);
	assert_int_equal(len, size);
	assert_memory_equal(back, px, size);
	/* Five bands are no PNG. */
	free(buf);
	assert_int_equal(
	    mirad_codec_write_png(px, 1, 1, 5, &buf, &len, err, 256), -1);
	g_free(back);
	g_free(px);
	g_object_unref(got);
	g_object_unref(want);
	mirad_rm_rf(d);
	free(p);
	free(d);
}

/* mirad_codec_read_png8() of PATH, *PX zeroed first. */
static int
png8_of(const char *path, uint64_t max_pixels, struct mirad_codec_pixels *px,
    char *err)
{
	int fd = open(path, O_RDONLY);
	int rc;

	assert_true(fd >= 0);
	memset(px, 0, sizeof *px);
	rc = mirad_codec_read_png8(fd, max_pixels, px, err, 256);
	close(fd);
	return rc;
}

/* libpng's decoding of PATH gives the pixels libvips' loader gives. */
static void
assert_png8_as_libvips(const char *path)
{
	VipsImage *im = vips_image_new_from_file(path, NULL);
	struct mirad_codec_pixels px;
	size_t size = 0;
	void *want;
	char err[256];

	assert_non_null(im);
	want = vips_image_write_to_memory(im, &size);
	assert_int_equal(png8_of(path, 1u << 20, &px, err), 0);
	assert_int_equal(px.width, vips_image_get_width(im));
	assert_int_equal(px.height, vips_image_get_height(im));
	assert_int_equal(px.bands, vips_image_get_bands(im));
	assert_int_equal(size, (size_t)px.width * px.height * px.bands);
	assert_memory_equal(px.pixels, want, size);
	free(px.pixels);
	g_free(want);
	g_object_unref(im);
}

static void
test_codec_read_png8(void **state)
{
	char *d = test_tmpdir();
	VipsImage *rgba = noise(37, 23, 4), *t;
	struct mirad_codec_pixels px;
	char err[256];
	char *p;

	(void)state;
	/* 1 to 4 bands, interlaced, 1-bit grey, palette: as libvips. */
	for (int bands = 1; bands <= 4; bands++) {
		char name[32];

		VipsImage *b;

		assert_int_equal(
		    vips_extract_band(rgba, &b, 0, "n", bands, NULL), 0);
		assert_int_equal(vips_copy(b, &t, "interpretation",
		                     bands < 3 ? VIPS_INTERPRETATION_B_W
		                               : VIPS_INTERPRETATION_sRGB,
		                     NULL),
		    0);
		g_object_unref(b);
		snprintf(name, sizeof name, "b%d.png", bands);
		p = write_png(d, name, t, false, 8);
		assert_png8_as_libvips(p);
		free(p);
		snprintf(name, sizeof name, "i%d.png", bands);
		p = write_png(d, name, t, true, 8);
		assert_png8_as_libvips(p);
		free(p);
		if (bands == 1) {
			p = write_png(d, "bit1.png", t, false, 1);
			assert_png8_as_libvips(p);
			free(p);
		}
		g_object_unref(t);
	}
	p = mirad_path_join(d, "pal.png");
	if (vips_pngsave(rgba, p, "palette", TRUE, NULL) == 0)
		assert_png8_as_libvips(p);
	else
		vips_error_clear(); /* libvips built without a quantiser */
	free(p);

	/* 16-bit samples: left to libvips. */
	assert_int_equal(vips_cast_ushort(rgba, &t, NULL), 0);
	p = write_png(d, "deep.png", t, false, 16);
	assert_int_equal(png8_of(p, 1u << 20, &px, err), MIRAD_CODEC_UNKNOWN);
	assert_null(px.pixels);
	g_object_unref(t);
	free(p);

	/* Over the pixel limit, a flipped byte, a cut file: errors. */
	p = write_png(d, "rgb.png", rgba, false, 8);
	assert_int_equal(png8_of(p, 100, &px, err), -1);
	assert_non_null(strstr(err, "over the limit"));
	flip_bytes(p, file_size(p) / 2, 1);
	assert_int_equal(png8_of(p, 1u << 20, &px, err), -1);
	assert_string_equal(err, "truncated or damaged PNG");
	assert_null(px.pixels);
	free(p);
	p = write_png(d, "cut.png", rgba, false, 8);
	assert_int_equal(truncate(p, file_size(p) - 20), 0);
	assert_int_equal(png8_of(p, 1u << 20, &px, err), -1);
	free(p);

	/* Not a PNG. */
	p = write_image(d, "x.jpeg.jpg", rgba);
	assert_int_equal(png8_of(p, 1u << 20, &px, err), MIRAD_CODEC_UNKNOWN);
	free(p);

	g_object_unref(rgba);
	mirad_rm_rf(d);
	free(d);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_codec_headers),
	    cmocka_unit_test(test_codec_wrong_extension_and_unknown),
	    cmocka_unit_test(test_codec_truncated),
	    cmocka_unit_test(test_codec_bit_flips),
	    cmocka_unit_test(test_codec_float32_tiff),
	    cmocka_unit_test(test_codec_float32_tiff_refused),
	    cmocka_unit_test(test_codec_float64_tiff),
	    cmocka_unit_test(test_codec_masks),
	    cmocka_unit_test(test_codec_write_png),
	    cmocka_unit_test(test_codec_read_png8),
	};
	int rc;

	(void)argc;
	if (VIPS_INIT(argv[0]))
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	vips_shutdown();
	return rc;
}
