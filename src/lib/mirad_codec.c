/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

#include "mirad_codec.h"
#include "mirad_codec_tiff.h"

/*
 * Weak: reading TIFF headers here must not link libtiff (and its eight
 * libraries) into a tool that reads headers only; each costs start-up
 * time.  A tool that links mirad_codec_tiff (libvips' tools, the map
 * readers) reads TIFF here; in the others a TIFF is MIRAD_CODEC_UNKNOWN
 * and goes to libvips like any format not described here.
 */
#pragma weak mirad_codec_tiff_run

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
		if (mirad_codec_tiff_run != NULL)
			rc = mirad_codec_tiff_run(fd, check, info, err, errlen);
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
