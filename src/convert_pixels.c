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
 * decoding.  With ONLY_0_255, *BINARY tells whether every sample of a
 * uchar image is 0 or 255.  Returns 0, or -1 with ERR set (truncated or
 * damaged file).
 */
static int
decode_here(VipsImage *im, bool *binary, char *err, size_t errlen)
{
	VipsRegion *reg = vips_region_new(im);
	int w = vips_image_get_width(im), h = vips_image_get_height(im);
	size_t row_bytes = (size_t)VIPS_IMAGE_SIZEOF_LINE(im);
	bool check =
	    binary != NULL && vips_image_get_format(im) == VIPS_FORMAT_UCHAR;
	int rc = 0;

	if (binary != NULL)
		*binary = check;
	for (int y = 0; y < h && rc == 0; y += 64) {
		VipsRect r = {0, y, w, VIPS_MIN(64, h - y)};

		if (vips_region_prepare(reg, &r) != 0) {
			mirad_image_take_error(err, errlen);
			rc = -1;
			break;
		}
		for (int yy = 0; check && *binary && yy < r.height; yy++) {
			const unsigned char *p =
			    VIPS_REGION_ADDR(reg, 0, r.top + yy);

			for (size_t x = 0; x < row_bytes; x++) {
				if (p[x] != 0 && p[x] != 255) {
					*binary = false;
					break;
				}
			}
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
	rc = decode_here(im, NULL, err, errlen);
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
 * the copy.
 */
static int
placeable_as_is(
    const char *path, int *w, int *h, int *bands, char *err, size_t errlen)
{
	struct mirad_image_info info;

	if (mirad_image_header(path, &info, err, errlen) != 0)
		return -1;
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

/*
 * Is the file at PATH an 8-bit greyscale PNG (IHDR bit depth 8, colour
 * type 0)?  libvips expands 1-, 2- and 4-bit greys to 8 bits without
 * saying so in its header, and such files are not the 8-bit L masks the
 * consumers expect, so they must be re-encoded.
 */
static bool
is_png_grey8(const char *path)
{
	static const unsigned char sig[8] = {
	    0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
	unsigned char head[26];
	bool yes = false;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	if (read(fd, head, sizeof head) == (ssize_t)sizeof head &&
	    memcmp(head, sig, 8) == 0 && memcmp(head + 12, "IHDR", 4) == 0)
		yes = head[24] == 8 && head[25] == 0;
	close(fd);
	return yes;
}

/*
 * Can the mask file at PATH be used as it is: an 8-bit single-band PNG
 * holding only 0 and 255?  Decodes it (so damage is found) and stores its
 * size.  Returns 1 (yes), 0 (no, re-encode) or -1 (unreadable, ERR set).
 */
static int
mask_usable_as_is(const char *path, int *w, int *h, char *err, size_t errlen)
{
	VipsImage *im;
	bool binary = false;
	int rc;

	if (strcasecmp(mirad_path_ext(path), ".png") != 0 || mirad_is_dir(path))
		return 0;
	im = mirad_image_load(path, true, err, errlen);
	if (im == NULL)
		return -1;
	*w = vips_image_get_width(im);
	*h = vips_image_get_height(im);
	if (vips_image_get_bands(im) != 1 ||
	    vips_image_get_format(im) != VIPS_FORMAT_UCHAR) {
		g_object_unref(im);
		return 0;
	}
	rc = decode_here(im, &binary, err, errlen);
	g_object_unref(im);
	if (rc != 0)
		return -1;
	return binary && is_png_grey8(path) ? 1 : 0;
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

/* Tag a 1-band mask as B_W so the PNG saver keeps one band. */
static int
save_mask(VipsImage *mask, const char *path, char *err, size_t errlen)
{
	VipsImage *bw;
	int rc;

	if (vips_copy(
	        mask, &bw, "interpretation", VIPS_INTERPRETATION_B_W, NULL)) {
		mirad_image_take_error(err, errlen);
		return -1;
	}
	rc = mirad_image_save(bw, path, 0, err, errlen);
	{
		int e = errno; /* the write error, for the caller */

		g_object_unref(bw);
		errno = e;
	}
	return rc;
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

int
convert_pixels_record(const struct convert_pixel_options *o,
    struct convert_item *item, const char *image_out, const char *mask_out)
{
	const struct mirad_record *r = item->src;
	char *src = mirad_record_path(r, r->image);
	char *msrc = r->mask && mask_out ? mirad_record_path(r, r->mask) : NULL;
	char *mwhere_owned = NULL;
	const char *mwhere = msrc;
	VipsImage *im = NULL, *mask = NULL, *sized = NULL;
	bool resize = o->resize_width > 0;
	bool image_written = false, mask_as_is = false;
	char err[512];
	int w = 0, h = 0, bands = 0, as_is = 0, rc;

	item->done = false;
	item->fatal = false;
	item->wrote_mask = false;
	if (!item->transcode && !resize) {
		as_is = placeable_as_is(src, &w, &h, &bands, err, sizeof err);
		if (as_is < 0) {
			set_error(item, src, "%s", err);
			goto out;
		}
	}
	if (!as_is) {
		im = mirad_image_load(src, true, err, sizeof err);
		if (im == NULL) {
			set_error(item, src, "%s", err);
			goto out;
		}
		w = vips_image_get_width(im);
		h = vips_image_get_height(im);
		bands = vips_image_get_bands(im);
	}
	if (msrc != NULL && !resize) {
		int mw = 0, mh = 0;
		int usable = mask_usable_as_is(msrc, &mw, &mh, err, sizeof err);

		if (usable < 0) {
			set_error(item, msrc, "%s", err);
			goto out;
		}
		if (usable == 1 && (mw != w || mh != h)) {
			set_error(item, msrc, "mask is %dx%d, image is %dx%d",
			    mw, mh, w, h);
			goto out;
		}
		mask_as_is = usable == 1;
	}
	if (msrc != NULL && !mask_as_is) {
		mask = load_mask(msrc, &mwhere, &mwhere_owned, err, sizeof err);
		if (mask == NULL) {
			set_error(item, mwhere, "%s", err);
			goto out;
		}
		if (vips_image_get_width(mask) != w ||
		    vips_image_get_height(mask) != h) {
			set_error(item, msrc, "mask is %dx%d, image is %dx%d",
			    vips_image_get_width(mask),
			    vips_image_get_height(mask), w, h);
			goto out;
		}
		if (resize) {
			VipsImage *t = resize_mask(mask, o->resize_width,
			    o->resize_height, err, sizeof err);

			if (t == NULL) {
				set_error(item, msrc, "%s", err);
				goto out;
			}
			g_object_unref(mask);
			mask = t;
		}
	}
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
		rc = mirad_image_save(
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
			if (verify_image(src, err, sizeof err) != 0) {
				set_error(item, src, "%s", err);
				goto out;
			}
		}
		if (place_file(o->link, src, image_out) != 0) {
			item->fatal = true;
			set_error(item, image_out, "%s", strerror(errno));
			goto out;
		}
		item->width = w;
		item->height = h;
		item->channels = bands;
	}
	image_written = true;
	if (mask_as_is) {
		/* Already what consumers want: place it like an image. */
		if (place_file(o->link, msrc, mask_out) != 0) {
			item->fatal = true;
			set_error(item, mask_out, "%s", strerror(errno));
			goto out;
		}
		item->wrote_mask = true;
	} else if (mask != NULL) {
		rc = save_mask(mask, mask_out, err, sizeof err);
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
	if (im != NULL)
		g_object_unref(im);
	free(mwhere_owned);
	free(msrc);
	free(src);
	return item->done ? 0 : -1;
}
