/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <tiffio.h>

#include "mirad_codec.h"
#include "mirad_codec_tiff.h"

/* ---- TIFF --------------------------------------------------------------- */

struct tiff_job {
	int fd;
	toff_t pos;
	char message[160]; /* libtiff's first error */
};

static tmsize_t
tiff_read(thandle_t h, void *buf, tmsize_t n)
{
	struct tiff_job *job = (struct tiff_job *)h;
	ssize_t got;

	do
		got = pread(job->fd, buf, (size_t)n, (off_t)job->pos);
	while (got < 0 && errno == EINTR);
	if (got > 0)
		job->pos += (toff_t)got;
	return got;
}

static tmsize_t
tiff_write(thandle_t h, void *buf, tmsize_t n)
{
	(void)h;
	(void)buf;
	(void)n;
	return -1;
}

static toff_t
tiff_size(thandle_t h)
{
	struct tiff_job *job = (struct tiff_job *)h;
	struct stat st;

	return fstat(job->fd, &st) == 0 ? (toff_t)st.st_size : 0;
}

static toff_t
tiff_seek(thandle_t h, toff_t off, int whence)
{
	struct tiff_job *job = (struct tiff_job *)h;

	if (whence == SEEK_SET)
		job->pos = off;
	else if (whence == SEEK_CUR)
		job->pos += off;
	else if (whence == SEEK_END)
		job->pos = tiff_size(h) + off;
	return job->pos;
}

static int
tiff_close(thandle_t h)
{
	(void)h;
	return 0;
}

static int
tiff_map(thandle_t h, void **base, toff_t *size)
{
	(void)h;
	(void)base;
	(void)size;
	return 0;
}

static void
tiff_unmap(thandle_t h, void *base, toff_t size)
{
	(void)h;
	(void)base;
	(void)size;
}

/* libtiff's format strings: checked as printf formats. */
MIRAD_PRINTF(4, 0)
static int tiff_on_error(
    TIFF *tif, void *data, const char *module, const char *fmt, va_list ap);

static int
tiff_on_error(
    TIFF *tif, void *data, const char *module, const char *fmt, va_list ap)
{
	struct tiff_job *job = data;

	(void)tif;
	(void)module;
	if (job->message[0] == '\0')
		vsnprintf(job->message, sizeof job->message, fmt, ap);
	return 1;
}

static int
tiff_on_warning(
    TIFF *tif, void *data, const char *module, const char *fmt, va_list ap)
{
	(void)tif;
	(void)data;
	(void)module;
	(void)fmt;
	(void)ap;
	return 1;
}

static void
tiff_reason(const struct tiff_job *job, char *err, size_t errlen)
{
	if (strstr(job->message, "Read error") != NULL ||
	    strstr(job->message, "Cannot read") != NULL ||
	    strstr(job->message, "Seek error") != NULL)
		snprintf(err, errlen, "truncated TIFF");
	else
		snprintf(err, errlen, "damaged TIFF");
}

/*
 * Describe the TIFF as libvips loads it, for the plain cases: grey or RGB
 * (with extra samples), unsigned 8 or 16 bits, and 8-bit CMYK.  Anything
 * else (palette, float, bilevel, YCbCr, Lab ...) is MIRAD_CODEC_UNKNOWN.
 */
static int
tiff_describe(TIFF *tif, struct mirad_codec_info *info)
{
	uint32_t w = 0, h = 0;
	uint16_t spp = 1, bps = 1, fmt = SAMPLEFORMAT_UINT, photo = 0;
	uint16_t inkset = INKSET_CMYK;

	if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w) ||
	    !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h) ||
	    !TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photo))
		return MIRAD_CODEC_UNKNOWN;
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
	TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &fmt);
	TIFFGetFieldDefaulted(tif, TIFFTAG_INKSET, &inkset);
	if (fmt != SAMPLEFORMAT_UINT || (bps != 8 && bps != 16))
		return MIRAD_CODEC_UNKNOWN;
	info->cmyk = false;
	if (photo == PHOTOMETRIC_MINISBLACK && spp >= 1 && spp <= 2)
		;
	else if (photo == PHOTOMETRIC_RGB && spp >= 3 && spp <= 4)
		;
	else if (photo == PHOTOMETRIC_SEPARATED && inkset == INKSET_CMYK &&
	    spp == 4 && bps == 8)
		info->cmyk = true;
	else
		return MIRAD_CODEC_UNKNOWN;
	info->width = (int)w;
	info->height = (int)h;
	info->bands = spp;
	info->bits = bps;
	snprintf(info->format, sizeof info->format, "tiff");
	return 0;
}

/* Decode every strip or tile of the first directory. */
static int
tiff_decode_all(TIFF *tif)
{
	bool tiled = TIFFIsTiled(tif);
	tmsize_t size = tiled ? TIFFTileSize(tif) : TIFFStripSize(tif);
	uint32_t n = tiled ? TIFFNumberOfTiles(tif) : TIFFNumberOfStrips(tif);
	void *buf;
	int rc = 0;

	if (size <= 0)
		return -1;
	buf = malloc((size_t)size);
	if (buf == NULL)
		return -1;
	for (uint32_t i = 0; i < n && rc == 0; i++) {
		tmsize_t got = tiled ? TIFFReadEncodedTile(tif, i, buf, size)
		                     : TIFFReadEncodedStrip(tif, i, buf, size);

		if (got < 0)
			rc = -1;
	}
	free(buf);
	return rc;
}

/* Per-file error handlers (TIFFOpenOptions) came with libtiff 4.5; an
 * older one would print to stderr, so TIFF is left to libvips there. */
#if TIFFLIB_VERSION >= 20221213
int
mirad_codec_tiff_run(
    int fd, bool check, struct mirad_codec_info *info, char *err, size_t errlen)
{
	struct tiff_job job = {fd, 0, ""};
	struct mirad_codec_info local;
	TIFFOpenOptions *opts = TIFFOpenOptionsAlloc();
	TIFF *tif;
	int rc;

	if (opts == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	TIFFOpenOptionsSetErrorHandlerExtR(opts, tiff_on_error, &job);
	TIFFOpenOptionsSetWarningHandlerExtR(opts, tiff_on_warning, NULL);
	/* "m": no memory mapping, every read goes through tiff_read. */
	tif = TIFFClientOpenExt("image", "rm", (thandle_t)&job, tiff_read,
	    tiff_write, tiff_seek, tiff_close, tiff_size, tiff_map, tiff_unmap,
	    opts);
	TIFFOpenOptionsFree(opts);
	if (tif == NULL) {
		tiff_reason(&job, err, errlen);
		return -1;
	}
	rc = tiff_describe(tif, info != NULL ? info : &local);
	if (rc == 0 && check && tiff_decode_all(tif) != 0) {
		tiff_reason(&job, err, errlen);
		rc = -1;
	}
	TIFFClose(tif);
	return rc;
}
#else
int
mirad_codec_tiff_run(
    int fd, bool check, struct mirad_codec_info *info, char *err, size_t errlen)
{
	(void)fd;
	(void)check;
	(void)info;
	(void)err;
	(void)errlen;
	return MIRAD_CODEC_UNKNOWN;
}
#endif

/* ---- float32 TIFF maps -------------------------------------------------- */

#if TIFFLIB_VERSION >= 20221213
/* Whether TIF is the layout read exactly here: one band of float32
 * samples in strips, in the host's byte order, without a predictor. */
static bool
tiff_is_plain_float32(TIFF *tif, uint32_t *w, uint32_t *h, uint32_t *rows)
{
	uint16_t bits = 0, format = 0, spp = 0, planar = 0, photometric = 0;
	uint16_t orientation = ORIENTATION_TOPLEFT, predictor = PREDICTOR_NONE;
	uint16_t compression = COMPRESSION_NONE;

	TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
	TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
	TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &orientation);
	TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, rows);
	TIFFGetFieldDefaulted(tif, TIFFTAG_COMPRESSION, &compression);
	/* Only a compression scheme knows the tag: asked of an uncompressed
	 * file, libtiff reports an error and answers 0. */
	if (compression != COMPRESSION_NONE)
		TIFFGetFieldDefaulted(tif, TIFFTAG_PREDICTOR, &predictor);
	if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric) ||
	    !TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, w) ||
	    !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, h))
		return false;
	/* A swapped byte order or a predictor is left to libvips: libtiff
	 * 4.5.0 decodes a big-endian float32 file with the floating-point
	 * predictor wrongly, so only the plainest layout is taken. */
	return bits == 32 && format == SAMPLEFORMAT_IEEEFP && spp == 1 &&
	    planar == PLANARCONFIG_CONTIG &&
	    photometric == PHOTOMETRIC_MINISBLACK &&
	    orientation == ORIENTATION_TOPLEFT && !TIFFIsTiled(tif) &&
	    !TIFFIsByteSwapped(tif) && predictor == PREDICTOR_NONE && *w > 0 &&
	    *h > 0 && *rows > 0 &&
	    (size_t)TIFFScanlineSize(tif) == (size_t)*w * sizeof(float);
}

int
mirad_codec_read_float32_tiff(int fd, uint64_t max_pixels, float **pixels,
    size_t *width, size_t *height, char *err, size_t errlen)
{
	struct tiff_job job = {fd, 0, ""};
	TIFFOpenOptions *opts;
	TIFF *tif;
	uint32_t w = 0, h = 0, rows = 0;
	float *data = NULL;
	int rc = MIRAD_CODEC_UNKNOWN;

	*pixels = NULL;
	if ((opts = TIFFOpenOptionsAlloc()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	TIFFOpenOptionsSetErrorHandlerExtR(opts, tiff_on_error, &job);
	TIFFOpenOptionsSetWarningHandlerExtR(opts, tiff_on_warning, NULL);
	/* "m": no memory mapping: each strip is read straight into the
	 * map. */
	tif = TIFFClientOpenExt("image", "rm", (thandle_t)&job, tiff_read,
	    tiff_write, tiff_seek, tiff_close, tiff_size, tiff_map, tiff_unmap,
	    opts);
	TIFFOpenOptionsFree(opts);
	if (tif == NULL)
		return MIRAD_CODEC_UNKNOWN; /* not a TIFF, or not one to read */
	if (!tiff_is_plain_float32(tif, &w, &h, &rows) ||
	    (uint64_t)w * h > max_pixels)
		goto out;
	data = malloc((size_t)w * h * sizeof *data);
	if (data == NULL) {
		snprintf(err, errlen, "out of memory");
		rc = -1;
		goto out;
	}
	for (uint32_t y = 0, strip = 0; y < h; y += rows, strip++) {
		uint32_t n = h - y < rows ? h - y : rows;
		tmsize_t want = (tmsize_t)((size_t)n * w * sizeof(float));

		if (TIFFReadEncodedStrip(
		        tif, strip, data + (size_t)y * w, want) != want ||
		    job.message[0] != '\0') {
			tiff_reason(&job, err, errlen);
			rc = -1;
			goto out;
		}
	}
	*pixels = data;
	data = NULL;
	*width = w;
	*height = h;
	rc = 0;
out:
	free(data);
	TIFFClose(tif);
	return rc;
}

/* The whole file, mapped read-only (libtiff reads from the mapping when
 * it gets one, otherwise through tiff_read). */
static int
tiff_map_file(thandle_t h, void **base, toff_t *size)
{
	struct tiff_job *job = (struct tiff_job *)h;
	toff_t len = tiff_size(h);
	void *p;

	if (len == 0 || len > SIZE_MAX)
		return 0;
	p = mmap(NULL, (size_t)len, PROT_READ, MAP_PRIVATE, job->fd, 0);
	if (p == MAP_FAILED)
		return 0;
	*base = p;
	*size = len;
	return 1;
}

static void
tiff_unmap_file(thandle_t h, void *base, toff_t size)
{
	(void)h;
	munmap(base, (size_t)size);
}

/* Decode SAMPLES float64 values of IN into OUT, rounded to float32. */
static void
round_doubles(const double *in, float *out, size_t samples)
{
	for (size_t i = 0; i < samples; i++)
		out[i] = (float)in[i];
}

/* The float64 samples of TIF (one band, W x H, strips or tiles) into
 * DATA.  Returns 0, or -1 with ERR. */
static int
tiff_read_doubles(TIFF *tif, const struct tiff_job *job, uint32_t w, uint32_t h,
    float *data, char *err, size_t errlen)
{
	double *buf;
	int rc = 0;

	if (TIFFIsTiled(tif)) {
		uint32_t tw = 0, th = 0;

		TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw);
		TIFFGetField(tif, TIFFTAG_TILELENGTH, &th);
		if (tw == 0 || th == 0 ||
		    (size_t)TIFFTileSize(tif) !=
		        (size_t)tw * th * sizeof(double)) {
			snprintf(err, errlen, "bad TIFF tile size");
			return -1;
		}
		if ((buf = malloc((size_t)tw * th * sizeof *buf)) == NULL)
			goto nomem;
		for (uint32_t y = 0; y < h && rc == 0; y += th)
			for (uint32_t x = 0; x < w && rc == 0; x += tw) {
				uint32_t cw = w - x < tw ? w - x : tw;
				uint32_t ch = h - y < th ? h - y : th;

				if (TIFFReadTile(tif, buf, x, y, 0, 0) < 0) {
					rc = -1;
					break;
				}
				for (uint32_t r = 0; r < ch; r++)
					round_doubles(buf + (size_t)r * tw,
					    data + (size_t)(y + r) * w + x, cw);
			}
	} else {
		if ((size_t)TIFFScanlineSize(tif) !=
		    (size_t)w * sizeof(double)) {
			snprintf(err, errlen, "bad TIFF scanline size");
			return -1;
		}
		if ((buf = malloc((size_t)w * sizeof *buf)) == NULL)
			goto nomem;
		for (uint32_t y = 0; y < h; y++) {
			if (TIFFReadScanline(tif, buf, y, 0) < 0) {
				rc = -1;
				break;
			}
			round_doubles(buf, data + (size_t)y * w, w);
		}
	}
	free(buf);
	if (rc != 0)
		snprintf(err, errlen, "damaged TIFF%s%s",
		    job->message[0] ? ": " : "", job->message);
	return rc;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

int
mirad_codec_read_float64_tiff(int fd, uint64_t max_pixels, float **pixels,
    size_t *width, size_t *height, char *err, size_t errlen)
{
	struct tiff_job job = {fd, 0, ""};
	TIFFOpenOptions *opts;
	TIFF *tif;
	uint16_t bits = 0, format = SAMPLEFORMAT_UINT, spp = 1;
	uint32_t w = 0, h = 0;
	float *data = NULL;
	int rc = -1;

	*pixels = NULL;
	if ((opts = TIFFOpenOptionsAlloc()) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	TIFFOpenOptionsSetErrorHandlerExtR(opts, tiff_on_error, &job);
	TIFFOpenOptionsSetWarningHandlerExtR(opts, tiff_on_warning, NULL);
	/* Mapped, as TIFFOpen() reads a file: libtiff checks every strip
	 * and tile against the mapped size, and names the strip cut short
	 * in its message. */
	tif = TIFFClientOpenExt("image", "r", (thandle_t)&job, tiff_read,
	    tiff_write, tiff_seek, tiff_close, tiff_size, tiff_map_file,
	    tiff_unmap_file, opts);
	TIFFOpenOptionsFree(opts);
	if (tif == NULL)
		return MIRAD_CODEC_UNKNOWN;
	TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bits);
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &format);
	TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
	if (bits != 64 || format != SAMPLEFORMAT_IEEEFP) {
		rc = MIRAD_CODEC_UNKNOWN;
		goto out;
	}
	TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
	TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
	if (spp != 1) {
		snprintf(
		    err, errlen, "map has %u bands, expected 1", (unsigned)spp);
		goto out;
	}
	if (w == 0 || h == 0 || (uint64_t)w * h > max_pixels) {
		snprintf(err, errlen, "bad TIFF size %ux%u", (unsigned)w,
		    (unsigned)h);
		goto out;
	}
	if ((data = malloc((size_t)w * h * sizeof *data)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (tiff_read_doubles(tif, &job, w, h, data, err, errlen) != 0)
		goto out;
	*pixels = data;
	data = NULL;
	*width = w;
	*height = h;
	rc = 0;
out:
	free(data);
	TIFFClose(tif);
	return rc;
}
#else
int
mirad_codec_read_float32_tiff(int fd, uint64_t max_pixels, float **pixels,
    size_t *width, size_t *height, char *err, size_t errlen)
{
	(void)fd;
	(void)max_pixels;
	(void)width;
	(void)height;
	(void)err;
	(void)errlen;
	*pixels = NULL;
	return MIRAD_CODEC_UNKNOWN;
}

int
mirad_codec_read_float64_tiff(int fd, uint64_t max_pixels, float **pixels,
    size_t *width, size_t *height, char *err, size_t errlen)
{
	(void)fd;
	(void)max_pixels;
	(void)width;
	(void)height;
	(void)err;
	(void)errlen;
	*pixels = NULL;
	return MIRAD_CODEC_UNKNOWN;
}
#endif
