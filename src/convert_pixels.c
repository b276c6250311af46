/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "convert_pixels.h"
#include "mirad_cli.h"
#include "mirad_codec.h"
#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_image.h"

static const char *const link_names[] = {"auto", "copy", "hardlink", "symlink"};

int
convert_link_from_name(const char *name, enum convert_link *out)
{
	for (size_t i = 0; i < sizeof link_names / sizeof *link_names; i++) {
		if (strcmp(name, link_names[i]) == 0) {
			*out = (enum convert_link)i;
			return 0;
		}
	}
	return -1;
}

void
convert_pixels_init(void)
{
	vips_block_untrusted_set(TRUE);
}

/* The format family of an extension: "jpeg" for .jpg/.jpeg, ... */
static const char *
format_family(const char *ext)
{
	if (strcasecmp(ext, ".jpg") == 0 || strcasecmp(ext, ".jpeg") == 0)
		return "jpeg";
	if (strcasecmp(ext, ".tif") == 0 || strcasecmp(ext, ".tiff") == 0)
		return "tiff";
	if (strcasecmp(ext, ".png") == 0)
		return "png";
	if (strcasecmp(ext, ".bmp") == 0)
		return "bmp";
	return ext;
}

bool
convert_pixels_same_format(const char *ext_a, const char *ext_b)
{
	return strcasecmp(format_family(ext_a), format_family(ext_b)) == 0;
}

int
convert_pixels_copy_file(const char *src, const char *dst)
{
	return mirad_clone_file(src, dst);
}

static int
place_file(enum convert_link mode, const char *src, const char *dst)
{
	switch (mode) {
	case CONVERT_LINK_COPY:
		return convert_pixels_copy_file(src, dst);
	case CONVERT_LINK_HARDLINK:
		return link(src, dst);
	case CONVERT_LINK_SYMLINK:
		return symlink(src, dst);
	case CONVERT_LINK_AUTO:
		/* Never a hard link by default: an in-place edit of the
		 * converted tree would change the source dataset too. */
		return mirad_clone_file(src, dst);
	}
	errno = EINVAL;
	return -1;
}

/* place_file() for a source already open on FD (-1: open it). */
static int
place_open_file(
    enum convert_link mode, int fd, const char *src, const char *dst)
{
	if (fd >= 0 && (mode == CONVERT_LINK_COPY || mode == CONVERT_LINK_AUTO))
		return mirad_clone_fd(fd, dst);
	return place_file(mode, src, dst);
}

static void set_error(struct convert_item *item, const char *where,
    const char *fmt, ...) MIRAD_PRINTF(3, 4);

static void
set_error(struct convert_item *item, const char *where, const char *fmt, ...)
{
	char why[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	free(item->error);
	item->error = mirad_xasprintf("%s: %s", where, why);
}

/*
 * Decode every pixel of IM in the calling thread, top to bottom (so a
 * sequential loader works), without a libvips thread pool: for the many
 * small files of a dataset the pool's thread hand-offs cost more than the
 * decoding.  Returns 0, or -1 with ERR set (truncated or damaged file).
 */
static int
decode_here(VipsImage *im, char *err, size_t errlen)
{
	VipsRegion *reg = vips_region_new(im);
	int w = vips_image_get_width(im), h = vips_image_get_height(im);
	int rc = 0;

	for (int y = 0; y < h; y += 64) {
		VipsRect r = {0, y, w, VIPS_MIN(64, h - y)};

		if (vips_region_prepare(reg, &r) != 0) {
			mirad_image_take_error(err, errlen);
			rc = -1;
			break;
		}
	}
	g_object_unref(reg);
	return rc;
}

/*
 * Check that image IM (opened from PATH, not yet decoded) is intact.  PNG,
 * JPEG and TIFF are checked by their own libraries (mirad_image_check: a
 * PNG decoded row by row, a JPEG's blocks entropy-decoded at 1/8 scale
 * with libjpeg's corrupt-data warnings taken as damage), without a
 * libvips pipeline; another format is decoded through libvips.
 */
static int
verify_image(const char *path, char *err, size_t errlen)
{
	VipsImage *im;
	int rc = mirad_image_check(path, err, errlen);

	if (rc <= 0)
		return rc;
	im = mirad_image_load(path, true, err, errlen);
	if (im == NULL)
		return -1;
	rc = decode_here(im, err, errlen);
	g_object_unref(im);
	return rc;
}

/*
 * Can the image at PATH be placed as it is (linked or copied), judged from
 * its header alone: its bytes are the format its extension names, not
 * CMYK, and within MIRAD_IMAGE_MAX_PIXELS?  Stores its size and bands.
 * Returns 1 (yes), 0 (no: load it through libvips, which re-encodes it or
 * says what is wrong) or -1 (unreadable header, ERR set).  No libvips
 * image is made: for a dataset's many small files that costs more than
 * the copy.  For a PNG, JPEG or TIFF (a format mirad_codec reads), *FD is
 * left open on the file so that the check and the copy need no second
 * open (the caller closes it); else it is -1.
 */
static int
placeable_as_is(const char *path, int *fd, int *w, int *h, int *bands,
    char *err, size_t errlen)
{
	struct mirad_image_info info;
	struct mirad_codec_info c;
	int rc;

	*fd = mirad_image_open_input(path, err, errlen);
	if (*fd < 0)
		return -1;
	rc = mirad_codec_header(*fd, &c, err, errlen);
	if (rc == 0) {
		info.width = c.width;
		info.height = c.height;
		info.bands = c.bands;
		info.from_cmyk = c.cmyk;
		snprintf(info.format, sizeof info.format, "%s", c.format);
	} else {
		close(*fd);
		*fd = -1;
		/* Another format: what libvips makes of it. */
		if (rc < 0 || mirad_image_header(path, &info, err, errlen) != 0)
			return -1;
	}
	if (info.from_cmyk ||
	    strcmp(info.format, format_family(mirad_path_ext(path))) != 0 ||
	    (uint64_t)info.width * (uint64_t)info.height >
	        MIRAD_IMAGE_MAX_PIXELS)
		return 0;
	*w = info.width;
	*h = info.height;
	*bands = info.bands;
	return 1;
}

/* Load one mask file as 1-band 0/255.  New reference or NULL. */
static VipsImage *
load_one_mask(const char *path, char *err, size_t errlen)
{
	VipsImage *raw = mirad_image_load(path, false, err, errlen);
	VipsImage *bin;

	if (raw == NULL)
		return NULL;
	bin = mirad_image_binarise(raw, err, errlen);
	g_object_unref(raw);
	return bin;
}

/*
 * The record's mask as 1-band 0/255: a file, or (MVTec LOCO) a folder of
 * masks OR-ed together.  WHERE receives the failing path.
 */
static VipsImage *
load_mask(const char *path, const char **where, char **where_owned, char *err,
    size_t errlen)
{
	struct mirad_strlist names;
	VipsImage *acc = NULL;

	*where = path;
	if (!mirad_is_dir(path))
		return load_one_mask(path, err, errlen);
	if (mirad_list_dir(path, &names) != 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return NULL;
	}
	for (size_t i = 0; i < names.count; i++) {
		char *p;
		VipsImage *m, * or ;

		if (names.items[i][0] == '.' ||
		    !mirad_image_has_image_ext(names.items[i]))
			continue;
		p = mirad_path_join(path, names.items[i]);
		m = load_one_mask(p, err, errlen);
		if (m == NULL) {
			*where_owned = p;
			*where = p;
			goto fail;
		}
		if (acc == NULL) {
			acc = m;
			free(p);
			continue;
		}
		if (vips_image_get_width(m) != vips_image_get_width(acc) ||
		    vips_image_get_height(m) != vips_image_get_height(acc)) {
			snprintf(err, errlen,
			    "masks of one image differ in size (%dx%d, %dx%d)",
			    vips_image_get_width(m), vips_image_get_height(m),
			    vips_image_get_width(acc),
			    vips_image_get_height(acc));
			g_object_unref(m);
			*where_owned = p;
			*where = p;
			goto fail;
		}
		if (vips_orimage(acc, m, & or, NULL)) {
			mirad_image_take_error(err, errlen);
			g_object_unref(m);
			*where_owned = p;
			*where = p;
			goto fail;
		}
		g_object_unref(m);
		g_object_unref(acc);
		acc = or ;
		free(p);
	}
	mirad_strlist_free(&names);
	if (acc == NULL)
		snprintf(err, errlen, "mask folder holds no masks");
	return acc;
fail:
	mirad_strlist_free(&names);
	if (acc != NULL)
		g_object_unref(acc);
	return NULL;
}

/* Resize a 0/255 mask to W x H, nearest neighbour, and keep it 0/255. */
static VipsImage *
resize_mask(VipsImage *mask, int w, int h, char *err, size_t errlen)
{
	double sx = (double)w / vips_image_get_width(mask);
	double sy = (double)h / vips_image_get_height(mask);
	VipsImage *t = NULL, *fit = NULL, *bin;

	if (vips_resize(mask, &t, sx, "vscale", sy, "kernel",
	        VIPS_KERNEL_NEAREST, NULL)) {
		mirad_image_take_error(err, errlen);
		return NULL;
	}
	/* Rounding may leave the result one pixel off: pad with the edge
	 * or crop to the exact size. */
	if (vips_image_get_width(t) != w || vips_image_get_height(t) != h) {
		if (vips_gravity(t, &fit, VIPS_COMPASS_DIRECTION_NORTH_WEST, w,
		        h, "extend", VIPS_EXTEND_COPY, NULL)) {
			mirad_image_take_error(err, errlen);
			g_object_unref(t);
			return NULL;
		}
		g_object_unref(t);
		t = fit;
	}
	bin = mirad_image_binarise(t, err, errlen);
	g_object_unref(t);
	return bin;
}

/*
 * Write BYTES to the new file PATH in the private output folder: straight
 * to its name and unsynced (the folder is synced once before it is
 * published; an fsync per file was most of the time of a small mask).
 * Returns 0 or MIRAD_IMAGE_WRITE_ERROR with errno set.
 */
static int
write_output(const char *path, const void *bytes, size_t len)
{
	return mirad_write_file_unsynced(path, bytes, len) == 0
	    ? 0
	    : MIRAD_IMAGE_WRITE_ERROR;
}

/* Write W x H bytes of 0/255 PIXELS as an 8-bit greyscale PNG.  Returns
 * 0, -1 with ERR or MIRAD_IMAGE_WRITE_ERROR with errno. */
static int
save_mask_pixels(const unsigned char *pixels, int w, int h, const char *path,
    char *err, size_t errlen)
{
	void *buf = NULL;
	size_t len = 0;
	int rc, e;

	if (mirad_codec_write_grey_png(pixels, w, h, &buf, &len, err, errlen) !=
	    0)
		return -1;
	rc = write_output(path, buf, len);
	e = errno;
	free(buf);
	errno = e;
	return rc;
}

static unsigned char *render_here(VipsImage *im, char *err, size_t errlen);

/* Save a 1-band 0/255 libvips mask as mirad_codec writes masks, its pixels
 * computed in this thread (vips_image_write_to_memory() would start a
 * thread pool for each mask). */
static int
save_mask(VipsImage *mask, const char *path, char *err, size_t errlen)
{
	unsigned char *pixels = render_here(mask, err, errlen);
	int rc, e;

	if (pixels == NULL)
		return -1;
	rc = save_mask_pixels(pixels, vips_image_get_width(mask),
	    vips_image_get_height(mask), path, err, errlen);
	e = errno;
	g_free(pixels);
	errno = e;
	return rc;
}

/*
 * The pixels of 8-bit IM, computed in the calling thread 64 rows at a time
 * (top to bottom, so a sequential loader works) into one packed buffer
 * (g_free), without a libvips thread pool: for a small output its thread
 * hand-offs cost more than the pixels.  NULL with ERR set.
 */
static unsigned char *
render_here(VipsImage *im, char *err, size_t errlen)
{
	VipsRegion *reg = vips_region_new(im);
	int w = vips_image_get_width(im), h = vips_image_get_height(im);
	size_t line = (size_t)VIPS_IMAGE_SIZEOF_LINE(im);
	unsigned char *out = g_try_malloc(line * (size_t)h + 1);

	if (out == NULL)
		snprintf(err, errlen, "out of memory");
	for (int y = 0; out != NULL && y < h; y += 64) {
		VipsRect r = {0, y, w, VIPS_MIN(64, h - y)};

		if (vips_region_prepare(reg, &r) != 0) {
			mirad_image_take_error(err, errlen);
			g_free(out);
			out = NULL;
			break;
		}
		for (int yy = 0; yy < r.height; yy++)
			memcpy(out + (size_t)(y + yy) * line,
			    VIPS_REGION_ADDR(reg, 0, y + yy), line);
	}
	g_object_unref(reg);
	return out;
}

/* Encode IM by PATH's extension and write it.  Returns 0, -1 with ERR (IM
 * cannot be computed or encoded: usually a damaged input) or
 * MIRAD_IMAGE_WRITE_ERROR with errno.  An 8-bit PNG of 1 to 4 bands is
 * computed here and encoded by libpng as libvips would (metadata
 * stripped); the rest goes through libvips' savers. */
static int
save_image(
    VipsImage *im, const char *path, int quality, char *err, size_t errlen)
{
	int bands = vips_image_get_bands(im);
	bool by_libpng = false;
	void *buf = NULL;
	size_t len = 0;
	int rc, e;

	if (strcasecmp(mirad_path_ext(path), ".png") == 0 &&
	    vips_image_get_format(im) == VIPS_FORMAT_UCHAR && bands >= 1 &&
	    bands <= 4) {
		unsigned char *px = render_here(im, err, errlen);

		if (px == NULL)
			return -1;
		rc = mirad_codec_write_png(px, vips_image_get_width(im),
		    vips_image_get_height(im), bands, &buf, &len, err, errlen);
		g_free(px);
		if (rc != 0)
			return -1;
		by_libpng = true;
	} else if (mirad_image_encode(
	               im, path, quality, &buf, &len, err, errlen) != 0) {
		return -1;
	}
	rc = write_output(path, buf, len);
	e = errno;
	if (by_libpng)
		free(buf);
	else
		g_free(buf);
	errno = e;
	return rc;
}

/*
 * The image at PATH when it is an 8-bit PNG, decoded by libpng into
 * *PIXELS (the caller free()s it after the image is gone) and wrapped as a
 * libvips image with the interpretation libvips' PNG loader gives it, so
 * that the operations on it compute what they would on the loaded file.
 * For a dataset's many small images the loader's machinery (an operation
 * object, its sequential cache, regions fed row by row) cost more than
 * the decoding.  Returns a new reference; NULL with *RC -1 and ERR set (a
 * damaged or unreadable file) or MIRAD_CODEC_UNKNOWN (not an 8-bit PNG:
 * load it through libvips).
 */
static VipsImage *
load_png8(
    const char *path, unsigned char **pixels, int *rc, char *err, size_t errlen)
{
	struct mirad_codec_pixels px;
	VipsImage *wrap, *out = NULL;
	int fd = mirad_image_open_input(path, err, errlen);

	*pixels = NULL;
	if (fd < 0) {
		*rc = -1;
		return NULL;
	}
	*rc =
	    mirad_codec_read_png8(fd, MIRAD_IMAGE_MAX_PIXELS, &px, err, errlen);
	close(fd);
	if (*rc != 0)
		return NULL;
	wrap = vips_image_new_from_memory(px.pixels,
	    (size_t)px.width * (size_t)px.height * (size_t)px.bands, px.width,
	    px.height, px.bands, VIPS_FORMAT_UCHAR);
	if (wrap == NULL ||
	    vips_copy(wrap, &out, "interpretation",
	        px.bands < 3 ? VIPS_INTERPRETATION_B_W
	                     : VIPS_INTERPRETATION_sRGB,
	        NULL) != 0) {
		mirad_image_take_error(err, errlen);
		if (wrap != NULL)
			g_object_unref(wrap);
		free(px.pixels);
		*rc = -1;
		return NULL;
	}
	g_object_unref(wrap);
	/* Marked as the loader marks a sequential image, so that the
	 * resize keeps its line caches (without them every output row
	 * recomputes its vertical shrink: twice the CPU time). */
	vips_image_set_int(out, VIPS_META_SEQUENTIAL, 1);
	*pixels = px.pixels;
	return out;
}

/*
 * Must the image at PATH (opened as IM) be re-encoded although its format
 * is the target's?  A CMYK JPEG (placed as it is, consumers would read
 * four bands: the load converted it to sRGB), and a file whose bytes are
 * not what its extension says (a JPEG named .png: the output's name
 * promises the extension's format).
 */
static bool
needs_reencoding(const char *path, VipsImage *im)
{
	char format[16];
	int from_cmyk = 0;

	if (vips_image_get_typeof(im, MIRAD_IMAGE_META_FROM_CMYK) != 0 &&
	    vips_image_get_int(im, MIRAD_IMAGE_META_FROM_CMYK, &from_cmyk) ==
	        0 &&
	    from_cmyk)
		return true;
	mirad_image_format_of(im, format, sizeof format);
	return strcmp(format, format_family(mirad_path_ext(path))) != 0;
}

/*
 * The record's mask MSRC for an image of W x H: a PNG file is decoded by
 * libpng into *PNG (PNG->pixels set; usable as it is when PNG->as_is) and
 * left open on *FD (else -1; the caller closes it);
 * anything else (a folder of masks, another format) is loaded through
 * libvips into *VMASK.  With O's resize, the mask comes back resized in
 * *VMASK.  Returns 0, or -1 with the item's error set.
 */
static int
read_mask(const struct convert_pixel_options *o, struct convert_item *item,
    const char *msrc, int w, int h, struct mirad_codec_mask *png, int *fd,
    VipsImage **vmask)
{
	char *where_owned = NULL;
	const char *where = msrc;
	char err[512];
	int mw, mh, rc = MIRAD_CODEC_UNKNOWN;

	*fd = mirad_image_open_input(msrc, err, sizeof err);
	if (*fd < 0 && !mirad_is_dir(msrc)) {
		set_error(item, msrc, "%s", err);
		return -1;
	}
	if (*fd >= 0) {
		rc = mirad_codec_read_mask(
		    *fd, MIRAD_IMAGE_MAX_PIXELS, png, err, sizeof err);
		if (rc < 0) {
			set_error(item, msrc, "%s", err);
			return -1;
		}
	}
	if (rc == 0) {
		mw = png->width;
		mh = png->height;
	} else {
		*vmask = load_mask(msrc, &where, &where_owned, err, sizeof err);
		if (*vmask == NULL) {
			set_error(item, where, "%s", err);
			free(where_owned);
			return -1;
		}
		mw = vips_image_get_width(*vmask);
		mh = vips_image_get_height(*vmask);
	}
	if (mw != w || mh != h) {
		set_error(
		    item, msrc, "mask is %dx%d, image is %dx%d", mw, mh, w, h);
		return -1;
	}
	if (o->resize_width > 0) {
		VipsImage *t, *src = *vmask;

		if (src == NULL) {
			/* Over the decoded pixels (kept until *VMASK goes). */
			src = vips_image_new_from_memory(png->pixels,
			    (size_t)mw * (size_t)mh, mw, mh, 1,
			    VIPS_FORMAT_UCHAR);
			if (src == NULL) {
				mirad_image_take_error(err, sizeof err);
				set_error(item, msrc, "%s", err);
				return -1;
			}
		}
		t = resize_mask(
		    src, o->resize_width, o->resize_height, err, sizeof err);
		g_object_unref(src);
		*vmask = t;
		if (t == NULL) {
			set_error(item, msrc, "%s", err);
			return -1;
		}
	}
	return 0;
}

int
convert_pixels_record(const struct convert_pixel_options *o,
    struct convert_item *item, const char *image_out, const char *mask_out)
{
	const struct mirad_record *r = item->src;
	char *src = mirad_record_path(r, r->image);
	char *msrc = r->mask && mask_out ? mirad_record_path(r, r->mask) : NULL;
	struct mirad_codec_mask png = {0};
	VipsImage *im = NULL, *mask = NULL, *sized = NULL;
	unsigned char *decoded = NULL; /* IM's pixels when libpng read them */
	bool resize = o->resize_width > 0;
	bool image_written = false;
	char err[512];
	int w = 0, h = 0, bands = 0, as_is = 0, rc;
	int fd = -1, mfd = -1;

	item->done = false;
	item->fatal = false;
	item->wrote_mask = false;
	if (!item->transcode && !resize) {
		as_is =
		    placeable_as_is(src, &fd, &w, &h, &bands, err, sizeof err);
		if (as_is < 0) {
			set_error(item, src, "%s", err);
			goto out;
		}
	}
	if (!as_is && resize && strcasecmp(mirad_path_ext(src), ".png") == 0) {
		im = load_png8(src, &decoded, &rc, err, sizeof err);
		if (im == NULL && rc != MIRAD_CODEC_UNKNOWN) {
			set_error(item, src, "%s", err);
			goto out;
		}
	}
	if (!as_is && im == NULL) {
		im = mirad_image_load(src, true, err, sizeof err);
		if (im == NULL) {
			set_error(item, src, "%s", err);
			goto out;
		}
	}
	if (!as_is) {
		w = vips_image_get_width(im);
		h = vips_image_get_height(im);
		bands = vips_image_get_bands(im);
	}
	if (msrc != NULL &&
	    read_mask(o, item, msrc, w, h, &png, &mfd, &mask) != 0)
		goto out;
	if (!as_is && (item->transcode || needs_reencoding(src, im))) {
		VipsImage *outim = im;

		if (resize) {
			/* Antialiased: thumbnail shrinks with a box filter
			 * first, then lanczos3. */
			if (vips_thumbnail_image(im, &sized, o->resize_width,
			        "height", o->resize_height, "size",
			        VIPS_SIZE_FORCE, NULL)) {
				mirad_image_take_error(err, sizeof err);
				set_error(item, src, "%s", err);
				goto out;
			}
			outim = sized;
		}
		rc = save_image(
		    outim, image_out, o->jpeg_quality, err, sizeof err);
		if (rc == MIRAD_IMAGE_WRITE_ERROR) {
			item->fatal = true;
			set_error(item, image_out, "%s", strerror(errno));
			goto out;
		}
		if (rc != 0) {
			set_error(item, src, "%s", err);
			goto out;
		}
		item->width = vips_image_get_width(outim);
		item->height = vips_image_get_height(outim);
		item->channels = vips_image_get_bands(outim);
	} else {
		if (o->verify) {
			/* Truncated or damaged files fail here. */
			rc = fd >= 0 ? mirad_codec_check(fd, err, sizeof err)
			             : verify_image(src, err, sizeof err);
			if (rc != 0) {
				set_error(item, src, "%s", err);
				goto out;
			}
		}
		if (place_open_file(o->link, fd, src, image_out) != 0) {
			item->fatal = true;
			set_error(item, image_out, "%s", strerror(errno));
			goto out;
		}
		item->width = w;
		item->height = h;
		item->channels = bands;
	}
	image_written = true;
	if (msrc == NULL) {
		/* no mask */
	} else if (mask == NULL && png.as_is &&
	    strcasecmp(mirad_path_ext(msrc), ".png") == 0) {
		/* Already what consumers want: place it like an image. */
		if (place_open_file(o->link, mfd, msrc, mask_out) != 0) {
			item->fatal = true;
			set_error(item, mask_out, "%s", strerror(errno));
			goto out;
		}
		item->wrote_mask = true;
	} else {
		rc = mask != NULL ? save_mask(mask, mask_out, err, sizeof err)
		                  : save_mask_pixels(png.pixels, png.width,
		                        png.height, mask_out, err, sizeof err);
		if (rc == MIRAD_IMAGE_WRITE_ERROR) {
			item->fatal = true;
			set_error(item, mask_out, "%s", strerror(errno));
			goto out;
		}
		if (rc != 0) {
			set_error(item, msrc, "%s", err);
			goto out;
		}
		item->wrote_mask = true;
	}
	item->done = true;
out:
	if (!item->done && image_written)
		unlink(image_out);
	if (sized != NULL)
		g_object_unref(sized);
	if (mask != NULL)
		g_object_unref(mask);
	free(png.pixels);
	if (fd >= 0)
		close(fd);
	if (mfd >= 0)
		close(mfd);
	if (im != NULL)
		g_object_unref(im);
	free(decoded);
	free(msrc);
	free(src);
	return item->done ? 0 : -1;
}
