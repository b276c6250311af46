/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>
#include <tiffio.h>

#include "mirad_codec.h"

/* ---- reading a descriptor through a buffer ---------------------------- */

/*
 * The libraries pull bytes through callbacks; one pread per buffer fill
 * (a dataset image is often a few kilobytes: one read in all).
 */
struct fd_reader {
	int fd;
	off_t next; /* file offset of the next fill */
	size_t len; /* bytes in buf */
	size_t pos; /* bytes of buf consumed (libpng) */
	bool eof;
	bool primed; /* buf holds a fill not yet handed to libjpeg */
	unsigned char buf[16384];
};

static void
reader_init(struct fd_reader *r, int fd)
{
	r->fd = fd;
	r->next = 0;
	r->len = r->pos = 0;
	r->eof = false;
	r->primed = false;
}

/* Refill BUF; false at the end of the file or on a read error. */
static bool
reader_fill(struct fd_reader *r)
{
	if (r->primed) {
		/* The fill run() made to tell the format. */
		r->primed = false;
		r->pos = 0;
		return r->len > 0;
	}
	ssize_t n;

	do
		n = pread(r->fd, r->buf, sizeof r->buf, r->next);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		r->eof = true;
		r->len = r->pos = 0;
		return false;
	}
	r->next += n;
	r->len = (size_t)n;
	r->pos = 0;
	return true;
}

enum format {
	FORMAT_UNKNOWN,
	FORMAT_PNG,
	FORMAT_JPEG,
	FORMAT_TIFF
};

/* The format by the first bytes of the file. */
static enum format
format_of(const unsigned char *head, size_t n)
{
	if (n >= 8 && png_sig_cmp(head, 0, 8) == 0)
		return FORMAT_PNG;
	if (n >= 3 && head[0] == 0xff && head[1] == 0xd8 && head[2] == 0xff)
		return FORMAT_JPEG;
	/* Classic and BigTIFF, either byte order. */
	if (n >= 4 &&
	    ((head[0] == 'I' && head[1] == 'I' &&
	         (head[2] == 42 || head[2] == 43) && head[3] == 0) ||
	        (head[0] == 'M' && head[1] == 'M' && head[2] == 0 &&
	            (head[3] == 42 || head[3] == 43))))
		return FORMAT_TIFF;
	return FORMAT_UNKNOWN;
}

/*
 * Does the PNG end with its IEND chunk?  libpng reports a cut file only as
 * a read error (the same words as a damaged one); the missing end chunk
 * says which it is, before any decoding.  Bytes some writers append after
 * IEND are allowed, up to 4 KiB.  R holds the first bytes of the file.
 */
static bool
png_has_end(const struct fd_reader *r)
{
	unsigned char tail[4096];
	const unsigned char *p = tail;
	size_t want = sizeof tail;
	struct stat st;

	if (r->len < sizeof r->buf) {
		/* The first read got the whole file. */
		want = r->len < want ? r->len : want;
		p = r->buf + r->len - want;
	} else {
		if (fstat(r->fd, &st) != 0)
			return true; /* let libpng judge */
		if (st.st_size < (off_t)want)
			want = (size_t)st.st_size;
		if (pread(r->fd, tail, want, st.st_size - (off_t)want) !=
		    (ssize_t)want)
			return true;
	}
	for (size_t i = want >= 4 ? want - 4 + 1 : 0; i-- > 0;)
		if (memcmp(p + i, "IEND", 4) == 0)
			return true;
	return false;
}

/* ---- PNG ---------------------------------------------------------------- */

struct png_job {
	struct fd_reader in; /* first, as in jpeg_job: see run() */
	jmp_buf jmp;
};

static void
png_on_error(png_structp png, png_const_charp msg)
{
	struct png_job *job = png_get_error_ptr(png);

	(void)msg;
	longjmp(job->jmp, 1);
}

static void
png_on_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

static void
png_read_bytes(png_structp png, png_bytep out, png_size_t want)
{
	struct png_job *job = png_get_io_ptr(png);
	struct fd_reader *r = &job->in;

	while (want > 0) {
		size_t n;

		if (r->pos == r->len && !reader_fill(r))
			png_error(png, "end of file");
		n = r->len - r->pos;
		if (n > want)
			n = want;
		memcpy(out, r->buf + r->pos, n);
		r->pos += n;
		out += n;
		want -= n;
	}
}

/* Bands as libvips loads the PNG: a palette becomes RGB, transparency
 * (tRNS) an alpha band. */
static int
png_bands(png_structp png, png_infop info)
{
	int type = png_get_color_type(png, info);
	bool trns = png_get_valid(png, info, PNG_INFO_tRNS) != 0;

	switch (type) {
	case PNG_COLOR_TYPE_GRAY:
		return trns ? 2 : 1;
	case PNG_COLOR_TYPE_GRAY_ALPHA:
		return 2;
	case PNG_COLOR_TYPE_PALETTE:
	case PNG_COLOR_TYPE_RGB:
		return trns ? 4 : 3;
	default:
		return 4;
	}
}

/*
 * A reader of FD for a PNG (caller frees), or NULL with *RC
 * MIRAD_CODEC_UNKNOWN when FD holds no PNG, or -1 with the reason in ERR.
 */
static struct png_job *
png_job_new(int fd, int *rc, char *err, size_t errlen)
{
	struct png_job *job = malloc(sizeof *job);

	if (job == NULL) {
		snprintf(err, errlen, "out of memory");
		*rc = -1;
		return NULL;
	}
	reader_init(&job->in, fd);
	(void)reader_fill(&job->in);
	if (format_of(job->in.buf, job->in.len) != FORMAT_PNG) {
		free(job);
		*rc = MIRAD_CODEC_UNKNOWN;
		return NULL;
	}
	return job;
}

/*
 * The set-up the PNG readers share: refuse a file without its end chunk,
 * create the libpng structures reading from JOB and, with STRICT_CRC,
 * make a bad CRC in any chunk an error.  The caller sets the setjmp()
 * target before calling into libpng (it must be in the caller's frame)
 * and destroys *PNG and *PINFO whatever this returns.
 */
static int
png_reader_open(struct png_job *job, bool strict_crc, png_structp *png,
    png_infop *pinfo, char *err, size_t errlen)
{
	*png = NULL;
	*pinfo = NULL;
	if (!png_has_end(&job->in)) {
		snprintf(err, errlen, "truncated PNG");
		return -1;
	}
	*png = png_create_read_struct(
	    PNG_LIBPNG_VER_STRING, job, png_on_error, png_on_warning);
	if (*png == NULL || (*pinfo = png_create_info_struct(*png)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	png_set_read_fn(*png, job, png_read_bytes);
	/* A flipped bit anywhere, even in a chunk a reader may skip, means
	 * the file is not the one that was written. */
	if (strict_crc)
		png_set_crc_action(
		    *png, PNG_CRC_ERROR_QUIT, PNG_CRC_ERROR_QUIT);
	return 0;
}

/* CHECK: decode every row and read up to the end chunk. */
static int
png_run(struct png_job *job, bool check, struct mirad_codec_info *info,
    char *err, size_t errlen)
{
	png_structp png = NULL;
	png_infop pinfo = NULL;
	/* Set after setjmp(): volatile, so the longjmp keeps its value. */
	png_bytep volatile row = NULL;
	volatile int rc = -1;

	if (png_reader_open(job, check, &png, &pinfo, err, errlen) != 0)
		goto out;
	if (setjmp(job->jmp)) {
		snprintf(err, errlen, "truncated or damaged PNG");
		goto out;
	}
	png_read_info(png, pinfo);
	if (info != NULL) {
		info->width = (int)png_get_image_width(png, pinfo);
		info->height = (int)png_get_image_height(png, pinfo);
		info->bands = png_bands(png, pinfo);
		info->bits = png_get_bit_depth(png, pinfo) == 16 ? 16 : 8;
		info->cmyk = false;
		snprintf(info->format, sizeof info->format, "png");
	}
	if (check) {
		int passes = png_set_interlace_handling(png);
		png_uint_32 h = png_get_image_height(png, pinfo);

		png_read_update_info(png, pinfo);
		row = malloc(png_get_rowbytes(png, pinfo));
		if (row == NULL) {
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		for (int p = 0; p < passes; p++)
			for (png_uint_32 y = 0; y < h; y++)
				png_read_row(png, row, NULL);
		png_read_end(png, NULL);
	}
	rc = 0;
out:
	free(row);
	png_destroy_read_struct(&png, pinfo ? &pinfo : NULL, NULL);
	return rc;
}

/* ---- JPEG --------------------------------------------------------------- */

struct jpeg_job {
	struct fd_reader in; /* first, as in png_job: see run() */
	struct jpeg_error_mgr pub;
	struct jpeg_source_mgr src;
	jmp_buf jmp;
	bool hit_eof; /* the data ended before the end marker */
};

static void
jpeg_on_error(j_common_ptr cinfo)
{
	struct jpeg_job *job = cinfo->client_data;

	longjmp(job->jmp, 1);
}

/* Warnings are counted (num_warnings), not printed. */
static void
jpeg_on_message(j_common_ptr cinfo, int level)
{
	if (level < 0)
		cinfo->err->num_warnings++;
}

static void
jpeg_src_init(j_decompress_ptr cinfo)
{
	(void)cinfo;
}

static boolean
jpeg_src_fill(j_decompress_ptr cinfo)
{
	static const JOCTET fake_eoi[2] = {0xff, JPEG_EOI};
	struct jpeg_job *job = cinfo->client_data;

	if (!reader_fill(&job->in)) {
		/* As libjpeg's own sources do: warn, and end the data. */
		job->hit_eof = true;
		WARNMS(cinfo, JWRN_JPEG_EOF);
		job->src.next_input_byte = fake_eoi;
		job->src.bytes_in_buffer = sizeof fake_eoi;
		return TRUE;
	}
	job->src.next_input_byte = job->in.buf;
	job->src.bytes_in_buffer = job->in.len;
	return TRUE;
}

static void
jpeg_src_skip(j_decompress_ptr cinfo, long n)
{
	struct jpeg_job *job = cinfo->client_data;

	if (n <= 0)
		return;
	while (n > (long)job->src.bytes_in_buffer) {
		n -= (long)job->src.bytes_in_buffer;
		(void)jpeg_src_fill(cinfo);
	}
	job->src.next_input_byte += n;
	job->src.bytes_in_buffer -= (size_t)n;
}

static void
jpeg_src_term(j_decompress_ptr cinfo)
{
	(void)cinfo;
}

static void
jpeg_reason(const struct jpeg_job *job, int code, char *err, size_t errlen)
{
	if (job->hit_eof || code == JERR_INPUT_EOF)
		snprintf(err, errlen, "truncated JPEG");
	else
		snprintf(err, errlen, "damaged JPEG");
}

static int
jpeg_run(struct jpeg_job *job, bool check, struct mirad_codec_info *info,
    char *err, size_t errlen)
{
	struct jpeg_decompress_struct cinfo;
	JSAMPARRAY row = NULL;
	volatile int rc = -1;

	memset(&cinfo, 0, sizeof cinfo);
	cinfo.client_data = job;
	cinfo.err = jpeg_std_error(&job->pub);
	job->pub.error_exit = jpeg_on_error;
	job->pub.emit_message = jpeg_on_message;
	job->hit_eof = false;
	if (setjmp(job->jmp)) {
		jpeg_reason(job, job->pub.msg_code, err, errlen);
		goto out;
	}
	jpeg_create_decompress(&cinfo);
	job->src.init_source = jpeg_src_init;
	job->src.fill_input_buffer = jpeg_src_fill;
	job->src.skip_input_data = jpeg_src_skip;
	job->src.resync_to_restart = jpeg_resync_to_restart;
	job->src.term_source = jpeg_src_term;
	job->src.next_input_byte = NULL;
	job->src.bytes_in_buffer = 0;
	cinfo.src = &job->src;
	if (jpeg_read_header(&cinfo, TRUE) != JPEG_HEADER_OK) {
		jpeg_reason(job, 0, err, errlen);
		goto out;
	}
	if (info != NULL) {
		info->width = (int)cinfo.image_width;
		info->height = (int)cinfo.image_height;
		info->bands = cinfo.num_components;
		info->bits = 8;
		info->cmyk = cinfo.jpeg_color_space == JCS_CMYK ||
		    cinfo.jpeg_color_space == JCS_YCCK;
		snprintf(info->format, sizeof info->format, "jpeg");
	}
	if (check) {
		/* 1/8 scale: every block is still entropy-decoded, but only
		 * its DC term is transformed. */
		cinfo.scale_num = 1;
		cinfo.scale_denom = 8;
		cinfo.dct_method = JDCT_IFAST;
		cinfo.do_fancy_upsampling = FALSE;
		cinfo.do_block_smoothing = FALSE;
		jpeg_start_decompress(&cinfo);
		row = (*cinfo.mem->alloc_sarray)((j_common_ptr)&cinfo,
		    JPOOL_IMAGE, cinfo.output_width * cinfo.output_components,
		    1);
		while (cinfo.output_scanline < cinfo.output_height)
			jpeg_read_scanlines(&cinfo, row, 1);
		jpeg_finish_decompress(&cinfo);
		/* libjpeg reads past corrupt data with a warning (grey
		 * blocks, a cut file padded with an end marker). */
		if (job->pub.num_warnings > 0) {
			jpeg_reason(job, 0, err, errlen);
			goto out;
		}
	}
	rc = 0;
out:
	jpeg_destroy_decompress(&cinfo);
	return rc;
}

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
static int
tiff_run(
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
static int
tiff_run(
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

/* ---- entry points ------------------------------------------------------- */

/* What one file needs.  Both decoder states start with their reader, so
 * the first read can be made before the format is known. */
union codec_job {
	struct fd_reader in;
	struct png_job png;
	struct jpeg_job jpeg;
};

static int
run(int fd, bool check, struct mirad_codec_info *info, char *err, size_t errlen)
{
	union codec_job *job = malloc(sizeof *job);
	int rc = MIRAD_CODEC_UNKNOWN;

	if (job == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* One read tells the format and, for a small file, is all of it. */
	reader_init(&job->in, fd);
	(void)reader_fill(&job->in);
	switch (format_of(job->in.buf, job->in.len)) {
	case FORMAT_PNG:
		rc = png_run(&job->png, check, info, err, errlen);
		break;
	case FORMAT_JPEG:
		/* libjpeg asks for its first buffer: hand it this one. */
		job->in.primed = true;
		rc = jpeg_run(&job->jpeg, check, info, err, errlen);
		break;
	case FORMAT_TIFF:
		rc = tiff_run(fd, check, info, err, errlen);
		break;
	case FORMAT_UNKNOWN:
		break;
	}
	free(job);
	return rc;
}

int
mirad_codec_header(
    int fd, struct mirad_codec_info *info, char *err, size_t errlen)
{
	return run(fd, false, info, err, errlen);
}

int
mirad_codec_check(int fd, char *err, size_t errlen)
{
	return run(fd, true, NULL, err, errlen);
}

/* ---- masks: PNG read to 0/255 and 8-bit greyscale PNG write ------------ */

/* Does any of the first N samples of ROW (BYTES bytes each) differ from
 * zero? */
static bool
any_nonzero(const unsigned char *px, int n, int bytes)
{
	for (int i = 0; i < n * bytes; i++)
		if (px[i] != 0)
			return true;
	return false;
}

/* One decoded row of WIDTH pixels of CHANNELS samples (the last ALPHA of
 * them alpha) of BYTES bytes each, into 0/255 OUT; clears *AS_IS unless
 * every sample is 0 or 255. */
static void
mask_row(const unsigned char *row, int width, int channels, int alpha,
    int bytes, unsigned char *out, bool *as_is)
{
	int colour = channels - alpha, stride = channels * bytes;

	for (int x = 0; x < width; x++) {
		const unsigned char *px = row + (size_t)x * (size_t)stride;

		out[x] = any_nonzero(px, colour, bytes) ? 255 : 0;
		if (*as_is && px[0] != 0 && px[0] != 255)
			*as_is = false;
	}
}

static int
png_run_mask(struct png_job *job, uint64_t max_pixels,
    struct mirad_codec_mask *mask, char *err, size_t errlen)
{
	png_structp png = NULL;
	png_infop pinfo = NULL;
	/* Set after setjmp(): volatile, so the longjmp keeps them. */
	png_bytep volatile raw = NULL;
	unsigned char *volatile pixels = NULL;
	volatile int rc = -1;
	png_uint_32 w, h;
	size_t rowbytes;
	int passes, channels, alpha, bytes;
	bool as_is;

	if (png_reader_open(job, true, &png, &pinfo, err, errlen) != 0)
		goto out;
	if (setjmp(job->jmp)) {
		snprintf(err, errlen, "truncated or damaged PNG");
		goto out;
	}
	png_read_info(png, pinfo);
	w = png_get_image_width(png, pinfo);
	h = png_get_image_height(png, pinfo);
	if ((uint64_t)w * (uint64_t)h > max_pixels) {
		snprintf(err, errlen,
		    "declares %ux%u pixels, over the limit of %llu",
		    (unsigned)w, (unsigned)h, (unsigned long long)max_pixels);
		goto out;
	}
	/* Only an 8-bit grey file without transparency can be the mask as
	 * it is; its samples decide the rest. */
	as_is = png_get_bit_depth(png, pinfo) == 8 &&
	    png_get_color_type(png, pinfo) == PNG_COLOR_TYPE_GRAY &&
	    !png_get_valid(png, pinfo, PNG_INFO_tRNS);
	/* Palette entries and 1-, 2- and 4-bit greys as 8-bit samples (a
	 * non-zero sample stays non-zero); 16-bit samples stay 16-bit, so
	 * that a value of 1 still marks its pixel.  tRNS is not expanded:
	 * transparency is not a defect. */
	png_set_palette_to_rgb(png);
	png_set_expand_gray_1_2_4_to_8(png);
	passes = png_set_interlace_handling(png);
	png_read_update_info(png, pinfo);
	channels = png_get_channels(png, pinfo);
	alpha = (png_get_color_type(png, pinfo) & PNG_COLOR_MASK_ALPHA) ? 1 : 0;
	bytes = png_get_bit_depth(png, pinfo) == 16 ? 2 : 1;
	rowbytes = png_get_rowbytes(png, pinfo);
	/* Interlaced rows are complete after the last pass only. */
	raw = malloc(rowbytes * (passes > 1 ? h : 1));
	pixels = malloc((size_t)w * h > 0 ? (size_t)w * h : 1);
	if (raw == NULL || pixels == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (int p = 0; p < passes; p++) {
		for (png_uint_32 y = 0; y < h; y++) {
			png_bytep row = passes > 1 ? raw + y * rowbytes : raw;

			png_read_row(png, row, NULL);
			if (p == passes - 1)
				mask_row(row, (int)w, channels, alpha, bytes,
				    pixels + (size_t)y * w, &as_is);
		}
	}
	png_read_end(png, NULL);
	mask->width = (int)w;
	mask->height = (int)h;
	mask->as_is = as_is;
	mask->pixels = pixels;
	pixels = NULL;
	rc = 0;
out:
	free(pixels);
	free(raw);
	png_destroy_read_struct(&png, pinfo ? &pinfo : NULL, NULL);
	return rc;
}

int
mirad_codec_read_mask(int fd, uint64_t max_pixels,
    struct mirad_codec_mask *mask, char *err, size_t errlen)
{
	int rc;
	struct png_job *job = png_job_new(fd, &rc, err, errlen);

	if (job == NULL)
		return rc;
	rc = png_run_mask(job, max_pixels, mask, err, errlen);
	free(job);
	return rc;
}

/* ---- pixels: an 8-bit PNG decoded as libvips loads it ------------------ */

/*
 * Skip zlib's Adler-32 of the inflated pixels (a sixth of the decoding
 * time of a large image): every chunk's CRC, still checked, already
 * covers each compressed byte, so a damaged or cut file fails as before;
 * libvips' PNG loader does not verify it either.
 */
static void
skip_adler32(png_structp png)
{
#if defined(PNG_SET_OPTION_SUPPORTED) && defined(PNG_IGNORE_ADLER32)
	png_set_option(png, PNG_IGNORE_ADLER32, PNG_OPTION_ON);
#else
	(void)png;
#endif
}

static int
png_run_pixels(struct png_job *job, uint64_t max_pixels,
    struct mirad_codec_pixels *image, char *err, size_t errlen)
{
	png_structp png = NULL;
	png_infop pinfo = NULL;
	/* Set after setjmp(): volatile, so the longjmp keeps them. */
	png_bytep volatile pixels = NULL;
	png_bytep *volatile rows = NULL;
	volatile int rc = -1;
	png_uint_32 w, h;
	size_t rowbytes;

	if (png_reader_open(job, true, &png, &pinfo, err, errlen) != 0)
		goto out;
	if (setjmp(job->jmp)) {
		snprintf(err, errlen, "truncated or damaged PNG");
		goto out;
	}
	skip_adler32(png);
	png_read_info(png, pinfo);
	w = png_get_image_width(png, pinfo);
	h = png_get_image_height(png, pinfo);
	/* What libvips keeps or acts on beyond the samples: 16-bit depth,
	 * an ICC profile, an Exif orientation (thumbnails are rotated). */
	if (png_get_bit_depth(png, pinfo) == 16 ||
	    png_get_valid(png, pinfo, PNG_INFO_iCCP) ||
	    png_get_valid(png, pinfo, PNG_INFO_eXIf)) {
		rc = MIRAD_CODEC_UNKNOWN;
		goto out;
	}
	if ((uint64_t)w * (uint64_t)h > max_pixels) {
		snprintf(err, errlen,
		    "declares %ux%u pixels, over the limit of %llu",
		    (unsigned)w, (unsigned)h, (unsigned long long)max_pixels);
		goto out;
	}
	/* What libvips' loader asks of libpng (and nothing more). */
	png_set_palette_to_rgb(png);
	png_set_expand_gray_1_2_4_to_8(png);
	if (png_get_valid(png, pinfo, PNG_INFO_tRNS))
		png_set_tRNS_to_alpha(png);
	(void)png_set_interlace_handling(png);
	png_read_update_info(png, pinfo);
	rowbytes = png_get_rowbytes(png, pinfo);
	pixels = malloc(rowbytes * h > 0 ? rowbytes * h : 1);
	rows = malloc(sizeof *rows * (h > 0 ? h : 1));
	if (pixels == NULL || rows == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	for (png_uint_32 y = 0; y < h; y++)
		rows[y] = pixels + y * rowbytes;
	png_read_image(png, rows);
	png_read_end(png, NULL);
	image->width = (int)w;
	image->height = (int)h;
	image->bands = png_get_channels(png, pinfo);
	image->pixels = pixels;
	pixels = NULL;
	rc = 0;
out:
	free(rows);
	free(pixels);
	png_destroy_read_struct(&png, pinfo ? &pinfo : NULL, NULL);
	return rc;
}

int
mirad_codec_read_png8(int fd, uint64_t max_pixels,
    struct mirad_codec_pixels *image, char *err, size_t errlen)
{
	int rc;
	struct png_job *job;

	image->pixels = NULL;
	job = png_job_new(fd, &rc, err, errlen);
	if (job == NULL)
		return rc;
	rc = png_run_pixels(job, max_pixels, image, err, errlen);
	free(job);
	return rc;
}

/* The growing buffer a PNG is encoded into. */
struct png_sink {
	unsigned char *data;
	size_t len, cap;
	jmp_buf jmp;
};

static void
png_sink_on_error(png_structp png, png_const_charp msg)
{
	struct png_sink *s = png_get_error_ptr(png);

	(void)msg;
	longjmp(s->jmp, 1);
}

static void
png_sink_write(png_structp png, png_bytep data, png_size_t n)
{
	struct png_sink *s = png_get_io_ptr(png);

	if (s->cap - s->len < n) {
		size_t cap = s->cap ? s->cap : 4096;
		unsigned char *p;

		while (cap - s->len < n)
			cap *= 2;
		p = realloc(s->data, cap);
		if (p == NULL)
			png_error(png, "out of memory");
		s->data = p;
		s->cap = cap;
	}
	memcpy(s->data + s->len, data, n);
	s->len += n;
}

static void
png_sink_flush(png_structp png)
{
	(void)png;
}

int
mirad_codec_write_png(const unsigned char *pixels, int width, int height,
    int bands, void **buf, size_t *len, char *err, size_t errlen)
{
	static const int types[4] = {PNG_COLOR_TYPE_GRAY,
	    PNG_COLOR_TYPE_GRAY_ALPHA, PNG_COLOR_TYPE_RGB,
	    PNG_COLOR_TYPE_RGB_ALPHA};
	size_t row = (size_t)width * (size_t)(bands > 0 ? bands : 1);
	struct png_sink *s = calloc(1, sizeof *s);
	png_structp png = NULL;
	png_infop pinfo = NULL;
	volatile int rc = -1;

	if (bands < 1 || bands > 4) {
		free(s);
		snprintf(err, errlen, "cannot encode %d bands as PNG", bands);
		return -1;
	}
	if (s == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	png = png_create_write_struct(
	    PNG_LIBPNG_VER_STRING, s, png_sink_on_error, png_on_warning);
	if (png == NULL || (pinfo = png_create_info_struct(png)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (setjmp(s->jmp)) {
		snprintf(err, errlen, "cannot encode PNG");
		goto out;
	}
	png_set_write_fn(png, s, png_sink_write, png_sink_flush);
	/* libvips' PNG defaults: zlib level 6, no row filter. */
	png_set_compression_level(png, 6);
	png_set_filter(png, PNG_FILTER_TYPE_BASE, PNG_FILTER_NONE);
	png_set_IHDR(png, pinfo, (png_uint_32)width, (png_uint_32)height, 8,
	    types[bands - 1], PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_BASE,
	    PNG_FILTER_TYPE_BASE);
	png_write_info(png, pinfo);
	for (int y = 0; y < height; y++)
		png_write_row(png, pixels + (size_t)y * row);
	png_write_end(png, NULL);
	*buf = s->data;
	*len = s->len;
	s->data = NULL;
	rc = 0;
out:
	png_destroy_write_struct(&png, pinfo ? &pinfo : NULL);
	free(s->data);
	free(s);
	return rc;
}

int
mirad_codec_write_grey_png(const unsigned char *pixels, int width, int height,
    void **buf, size_t *len, char *err, size_t errlen)
{
	return mirad_codec_write_png(
	    pixels, width, height, 1, buf, len, err, errlen);
}
