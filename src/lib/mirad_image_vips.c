/* SPDX-License-Identifier: MIT */
/*
 * mirad_image's calls into libvips (mirad_image_vips.h says why they are
 * apart).  Built twice: into libmirad.a, where it also holds the pixel
 * functions of mirad_image.h, and, with MIRAD_IMAGE_VIPS_MODULE, as the
 * module mirad-vips.so, which holds the table of mirad_image_vips.h only.
 */
#include "mirad_platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gmodule.h>

#include "mirad_codec.h"
#include "mirad_codec_tiff.h"
#include "mirad_fs.h"
#include "mirad_image.h"
#include "mirad_image_vips.h"

/* Not part of vips.h in 8.14. */
#include <vips/vector.h>

/* libvips logs warnings (a damaged tile, a bad header field) through GLib;
 * the tools report failures themselves, so the warnings are dropped. */
static void
on_vips_log(const gchar *domain, GLogLevelFlags level, const gchar *message,
    gpointer data)
{
	(void)domain;
	(void)level;
	(void)message;
	(void)data;
}

/* mirad_image_reason() of libvips' error buffer, which is cleared. */
static void
take_vips_error(char *err, size_t errlen)
{
	char *msg = vips_error_buffer_copy();

	mirad_image_reason(msg, err, errlen);
	g_free(msg);
}

static int
start_vips(const char *argv0, int jobs, char *err, size_t errlen)
{
	if (VIPS_INIT(argv0 ? argv0 : "mirad")) {
		take_vips_error(err, errlen);
		return -1;
	}
	/* Many different images, each read once: caching only costs
	 * memory. */
	vips_cache_set_max(0);
	/* liborc 0.4.33 (Debian bookworm) returns compiled code to its
	 * pool (orc_code_chunk_free) without taking the mutex that guards
	 * allocation; later liborc releases take it.  libvips frees an orc
	 * program whenever an operation such as reducev is disposed, so our
	 * worker threads corrupted the pool: mirad-convert --resize crashed
	 * on a few thousand images (3,273 tiny images: 1 run in 5; 7,663
	 * images: 4 runs in 5), and 8 threads running reducev crashed in
	 * every run.
	 * libvips' C paths cost the same CPU time here (convert --resize on
	 * 7,663 images: 27 s user either way) and give the same pixels on every
	 * CPU. */
	vips_vector_set_enabled(FALSE);
	g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE,
	    on_vips_log, NULL);
	if (jobs > 0)
		vips_concurrency_set(jobs);
	/* Only the loaders libvips trusts with hostile files (PNG, JPEG,
	 * TIFF, ...): not ImageMagick, nor the other large decoders. */
	vips_block_untrusted_set(TRUE);
	return 0;
}

static int
ops_concurrency(void)
{
	return vips_concurrency_get();
}

static void
ops_thread_done(void)
{
	vips_thread_shutdown();
}

static void
ops_shutdown(void)
{
	vips_shutdown();
}

static const char *
ops_version(void)
{
	return vips_version_string();
}

/* VIPS_META_LOADER holds the loader's nickname: "pngload" -> "png",
 * "jpegload_source" -> "jpeg". */
static void
loader_short_name(const char *loader, char *out, size_t outlen)
{
	const char *end = strstr(loader, "load");
	size_t n = end ? (size_t)(end - loader) : strlen(loader);

	if (n == 0 || strncmp(loader, "magick", 6) == 0)
		snprintf(out, outlen, "other");
	else
		snprintf(out, outlen, "%.*s", (int)n, loader);
}

/*
 * Loader types by file extension, looked up once.  Opening a file through
 * vips_image_new_from_file() sniffs every loader and finds the operation by
 * name each time, which costs more than reading a PNG header; a direct
 * operation of the known type skips both.
 */
static const struct {
	const char *ext;
	const char *format; /* as mirad_codec names it */
	const char *loader;
} loader_by_ext[] = {
    {".png", "png", "pngload"},
    {".jpg", "jpeg", "jpegload"},
    {".jpeg", "jpeg", "jpegload"},
    {".tif", "tiff", "tiffload"},
    {".tiff", "tiff", "tiffload"},
};
#define NLOADERS (sizeof loader_by_ext / sizeof *loader_by_ext)
static GType loader_types[NLOADERS];
static GOnce loader_types_once = G_ONCE_INIT;

static gpointer
find_loader_types(gpointer data)
{
	(void)data;
	for (size_t i = 0; i < NLOADERS; i++)
		loader_types[i] =
		    vips_type_find("VipsOperation", loader_by_ext[i].loader);
	return NULL;
}

/* The loader type for an extension (".png") or, with BY_FORMAT, for a
 * format name ("png"); 0 when there is none. */
static GType
loader_type(const char *key, bool by_format)
{
	g_once(&loader_types_once, find_loader_types, NULL);
	for (size_t i = 0; i < NLOADERS; i++)
		if (strcasecmp(key,
		        by_format ? loader_by_ext[i].format
		                  : loader_by_ext[i].ext) == 0)
			return loader_types[i];
	return 0;
}

/* Open PATH with the loader TYPE, pixels read with ACCESS and any decoding
 * error failing the read; NULL when TYPE is 0 or the loader refuses the
 * file, with libvips' error kept when KEEP_ERROR (else cleared, for a
 * caller that falls back to sniffing). */
static VipsImage *
open_with_loader(
    GType type, const char *path, VipsAccess access, bool keep_error)
{
	VipsOperation *op;
	VipsImage *out = NULL;

	if (type == 0)
		return NULL;
	op = VIPS_OPERATION(g_object_new(type, NULL));
	if (vips_object_set(VIPS_OBJECT(op), "filename", path, "access", access,
	        "fail_on", VIPS_FAIL_ON_ERROR, NULL) == 0 &&
	    vips_object_build(VIPS_OBJECT(op)) == 0)
		g_object_get(op, "out", &out, NULL);
	else if (!keep_error)
		vips_error_clear();
	vips_object_unref_outputs(VIPS_OBJECT(op));
	g_object_unref(op);
	return out;
}

static bool
is_cmyk(VipsImage *im)
{
	return vips_image_guess_interpretation(im) == VIPS_INTERPRETATION_CMYK;
}

/* The header through libvips, for the formats mirad_codec does not
 * describe. */
static int
ops_header(
    const char *path, struct mirad_image_info *info, char *err, size_t errlen)
{
	const char *loader = NULL;
	VipsImage *im;

	/* Opening reads the header only; pixels are decoded on demand. */
	im = open_with_loader(loader_type(mirad_path_ext(path), false), path,
	    VIPS_ACCESS_RANDOM, true);
	if (im == NULL) {
		/* The loader's refusal is kept (sniffing clears it): when no
		 * other loader reads the file either, it says what is wrong
		 * (a TIFF whose directory is cut or damaged). */
		char *refusal = vips_error_buffer_copy();

		im = vips_image_new_from_file(path, NULL);
		if (im == NULL) {
			char *sniffed = vips_error_buffer_copy();
			char *both = g_strconcat(refusal, sniffed, NULL);

			mirad_image_reason(both, err, errlen);
			g_free(both);
			g_free(sniffed);
		}
		g_free(refusal);
		vips_error_clear();
		if (im == NULL)
			return -1;
	}
	info->width = vips_image_get_width(im);
	info->height = vips_image_get_height(im);
	info->bands = vips_image_get_bands(im);
	info->bits = (int)vips_format_sizeof(vips_image_get_format(im)) * 8;
	info->from_cmyk = is_cmyk(im);
	if (info->from_cmyk) { /* what mirad_image_load() gives: 8-bit sRGB */
		info->bands -= 1;
		info->bits = 8;
	}
	if (vips_image_get_string(im, VIPS_META_LOADER, &loader) != 0)
		loader = "";
	loader_short_name(loader, info->format, sizeof info->format);
	g_object_unref(im);
	return 0;
}

static const struct mirad_image_vips_ops linked_ops = {
    .abi = MIRAD_IMAGE_VIPS_ABI,
    .start = start_vips,
    .header = ops_header,
    .concurrency = ops_concurrency,
    .thread_done = ops_thread_done,
    .shutdown = ops_shutdown,
    .version = ops_version,
};

#ifdef MIRAD_IMAGE_VIPS_MODULE

G_MODULE_EXPORT const struct mirad_image_vips_ops *
mirad_image_vips_module_ops(void)
{
	return &linked_ops;
}

#else

/*
 * A program that links libvips loads libtiff anyway (libvips depends on
 * it): this reference links mirad_codec_tiff, so that its TIFF headers
 * and integrity checks keep libtiff's cheaper path instead of libvips'.
 */
__attribute__((used)) static int (*const keep_codec_tiff)(int, bool,
    struct mirad_codec_info *, char *, size_t) = mirad_codec_tiff_run;

int
mirad_image_init(const char *argv0, int jobs, char *err, size_t errlen)
{
	return mirad_image_start_with(&linked_ops, argv0, jobs, err, errlen);
}

void
mirad_image_take_error(char *err, size_t errlen)
{
	take_vips_error(err, errlen);
}

/* A CMYK image as 8-bit sRGB, through its embedded ICC profile (or a
 * generic CMYK one): libvips loads CMYK as four inverted-looking bands
 * that every consumer would take for RGBA.  Takes over IM. */
static VipsImage *
cmyk_to_srgb(VipsImage *im, char *err, size_t errlen)
{
	VipsImage *out = NULL;

	if (!vips_icc_present()) {
		g_object_unref(im);
		snprintf(err, errlen,
		    "CMYK image, and colour management is unavailable");
		return NULL;
	}
	if (vips_icc_transform(im, &out, "srgb", "input_profile", "cmyk",
	        "embedded", TRUE, "depth", 8, NULL) != 0) {
		g_object_unref(im);
		take_vips_error(err, errlen);
		return NULL;
	}
	g_object_unref(im);
	vips_image_set_int(out, MIRAD_IMAGE_META_FROM_CMYK, 1);
	return out;
}

VipsImage *
mirad_image_load(const char *path, bool sequential, char *err, size_t errlen)
{
	/* PATH may carry load options ("x.jpg[shrink=8]"). */
	char *file = vips_filename_get_filename(path);
	VipsAccess access =
	    sequential ? VIPS_ACCESS_SEQUENTIAL : VIPS_ACCESS_RANDOM;
	char format[8];
	VipsImage *im = NULL;
	int w, h;

	if (mirad_image_check_input(file, format, err, errlen) != 0 ||
	    mirad_image_start_deferred(&linked_ops, err, errlen) != 0) {
		g_free(file);
		return NULL;
	}
	/* The format is known from the header: its loader directly, not
	 * vips_image_new_from_file()'s sniffing of every loader (some open
	 * the file again, one a database) for each file. */
	if (strcmp(file, path) != 0 || format[0] == '\0')
		/* Load options after the name, or another format. */
		im = vips_image_new_from_file(path, "access", access, "fail_on",
		    VIPS_FAIL_ON_ERROR, NULL);
	else
		im = open_with_loader(
		    loader_type(format, true), file, access, true);
	g_free(file);
	if (im == NULL) {
		mirad_image_take_error(err, errlen);
		return NULL;
	}
	/* Only the header has been read: refuse a size that would make the
	 * pixel buffers of the callers huge before any data is seen. */
	w = vips_image_get_width(im);
	h = vips_image_get_height(im);
	if ((uint64_t)w * (uint64_t)h > MIRAD_IMAGE_MAX_PIXELS) {
		snprintf(err, errlen,
		    "declares %dx%d pixels, over the limit of %llu (16384x16384)",
		    w, h, (unsigned long long)MIRAD_IMAGE_MAX_PIXELS);
		g_object_unref(im);
		return NULL;
	}
	if (is_cmyk(im))
		im = cmyk_to_srgb(im, err, errlen);
	return im;
}

void
mirad_image_format_of(VipsImage *im, char *out, size_t outlen)
{
	const char *loader = NULL;

	if (vips_image_get_string(im, VIPS_META_LOADER, &loader) != 0)
		loader = "";
	loader_short_name(loader, out, outlen);
}

/*
 * An 8-bit PNG of 1 to 4 bands, computed in the calling thread and encoded
 * by libpng with libvips' settings (zlib level 6, no filter, metadata
 * stripped; libvips would add a pHYs chunk of the image's resolution): the
 * libvips saver starts a thread pool per image, whose hand-offs cost more
 * than a small image's pixels.  *BUF is g_free()d as libvips' would be.
 */
static int
encode_png8_here(
    VipsImage *im, void **buf, size_t *len, char *err, size_t errlen)
{
	VipsImage *mem = mirad_image_copy_memory_here(im);
	void *png = NULL;
	int rc;

	if (mem == NULL) {
		take_vips_error(err, errlen);
		return -1;
	}
	rc = mirad_codec_write_png(VIPS_IMAGE_ADDR(mem, 0, 0), mem->Xsize,
	    mem->Ysize, mem->Bands, &png, len, err, errlen);
	g_object_unref(mem);
	if (rc != 0)
		return -1;
	*buf = g_memdup2(png, *len);
	free(png);
	return 0;
}

int
mirad_image_encode(VipsImage *im, const char *path, int quality, void **buf,
    size_t *len, char *err, size_t errlen)
{
	const char *ext = mirad_path_ext(path);
	int rc;

	*buf = NULL;
	*len = 0;
	if (strcasecmp(ext, ".jpg") == 0 || strcasecmp(ext, ".jpeg") == 0)
		rc = vips_jpegsave_buffer(im, buf, len, "Q",
		    quality > 0 ? quality : 90, "strip", TRUE, NULL);
	else if (strcasecmp(ext, ".png") == 0 &&
	    vips_image_get_format(im) == VIPS_FORMAT_UCHAR &&
	    vips_image_get_bands(im) <= 4)
		return encode_png8_here(im, buf, len, err, errlen);
	else if (strcasecmp(ext, ".png") == 0)
		rc = vips_pngsave_buffer(
		    im, buf, len, "compression", 6, "strip", TRUE, NULL);
	else
		rc = vips_image_write_to_buffer(im, ext, buf, len, NULL);
	if (rc != 0) {
		mirad_image_take_error(err, errlen);
		return -1;
	}
	return 0;
}

int
mirad_image_save(
    VipsImage *im, const char *path, int quality, char *err, size_t errlen)
{
	void *buf = NULL;
	size_t len = 0;
	int rc;

	/* Encode in memory first: a failure there is the image's (often a
	 * damaged input decoded on demand), a failure to write the bytes is
	 * the output's (a full disk), and the callers treat them apart. */
	if (mirad_image_encode(im, path, quality, &buf, &len, err, errlen) != 0)
		return -1;
	/* A unique temporary name, flushed to disk, then renamed. */
	rc = mirad_write_file_atomic(path, buf, len);
	g_free(buf);
	if (rc != 0) {
		int e = errno;

		snprintf(err, errlen, "%s: %s", path, strerror(e));
		errno = e;
		return MIRAD_IMAGE_WRITE_ERROR;
	}
	return 0;
}

VipsImage *
mirad_image_binarise(VipsImage *in, char *err, size_t errlen)
{
	VipsImage *base = vips_image_new();
	VipsImage **t =
	    (VipsImage **)vips_object_local_array(VIPS_OBJECT(base), 4);
	VipsImage *src = in, *out = NULL;
	int bands = vips_image_get_bands(in);

	/* Drop alpha: a transparent pixel is not a defect. */
	if (vips_image_hasalpha(in) && bands > 1) {
		if (vips_extract_band(in, &t[0], 0, "n", bands - 1, NULL))
			goto fail;
		src = t[0];
	}
	/* Any non-zero band marks the pixel. */
	if (vips_image_get_bands(src) > 1) {
		if (vips_bandor(src, &t[1], NULL))
			goto fail;
		src = t[1];
	}
	if (vips_notequal_const1(src, &t[2], 0.0, NULL))
		goto fail;
	/* notequal gives 0/255 uchar already; copy to own the result. */
	if (vips_copy(t[2], &out, NULL))
		goto fail;
	g_object_unref(base);
	return out;
fail:
	mirad_image_take_error(err, errlen);
	g_object_unref(base);
	return NULL;
}

VipsImage *
mirad_image_copy_memory_here(VipsImage *im)
{
	VipsImage *out;
	VipsRegion *reg;
	size_t line;

	switch (im->dtype) {
	case VIPS_IMAGE_SETBUF:
	case VIPS_IMAGE_SETBUF_FOREIGN:
	case VIPS_IMAGE_MMAPIN:
	case VIPS_IMAGE_MMAPINRW:
		g_object_ref(im);
		return im;
	default:
		break;
	}
	out = vips_image_new_memory();
	if (vips_image_pipelinev(out, VIPS_DEMAND_STYLE_THINSTRIP, im, NULL) !=
	        0 ||
	    vips_image_write_prepare(out) != 0) {
		g_object_unref(out);
		return NULL;
	}
	reg = vips_region_new(im);
	line = (size_t)VIPS_IMAGE_SIZEOF_LINE(im);
	for (int y = 0; y < im->Ysize; y += 64) {
		VipsRect r = {0, y, im->Xsize, VIPS_MIN(64, im->Ysize - y)};

		if (vips_region_prepare(reg, &r) != 0) {
			g_object_unref(reg);
			g_object_unref(out);
			return NULL;
		}
		for (int yy = 0; yy < r.height; yy++)
			memcpy(VIPS_IMAGE_ADDR(out, 0, y + yy),
			    VIPS_REGION_ADDR(reg, 0, y + yy), line);
	}
	g_object_unref(reg);
	return out;
}

int
mirad_image_pixel_sha256(VipsImage *im, char hex[65], char *err, size_t errlen)
{
	GChecksum *sum;
	VipsImage *mem;
	size_t len;
	const void *buf;
	char geom[96];

	mem = mirad_image_copy_memory_here(im);
	if (mem == NULL) {
		mirad_image_take_error(err, errlen);
		return -1;
	}
	len = VIPS_IMAGE_SIZEOF_IMAGE(mem);
	buf = VIPS_IMAGE_ADDR(mem, 0, 0);
	sum = g_checksum_new(G_CHECKSUM_SHA256);
	snprintf(geom, sizeof geom, "%dx%dx%d:%d;", vips_image_get_width(im),
	    vips_image_get_height(im), vips_image_get_bands(im),
	    (int)vips_image_get_format(im));
	g_checksum_update(sum, (const guchar *)geom, strlen(geom));
	g_checksum_update(sum, buf, len);
	snprintf(hex, 65, "%s", g_checksum_get_string(sum));
	g_checksum_free(sum);
	g_object_unref(mem);
	return 0;
}

#endif /* MIRAD_IMAGE_VIPS_MODULE */
