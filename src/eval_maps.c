/* SPDX-License-Identifier: MIT */
/*
 * mirad-eval's map and mask readers; see eval_maps.h.
 */
#include "mirad_platform.h"

#include "eval_maps.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mirad_codec.h"
#include "mirad_codec_tiff.h"
#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_image.h"

void
eval_map_clear(struct eval_map *m)
{
	free(m->data);
	memset(m, 0, sizeof *m);
}

char *
eval_map_find(const char *dir, const char *stem, char *err, size_t errlen)
{
	static const char *const exts[] = {
	    ".tiff", ".tif", ".TIFF", ".TIF", ".png", ".PNG", ".npy"};
	char *found = NULL;
	int n = 0;

	for (size_t i = 0; i < sizeof exts / sizeof *exts; i++) {
		char *name = mirad_xasprintf("%s/%s%s", dir, stem, exts[i]);

		if (mirad_is_file(name)) {
			n++;
			if (found == NULL) {
				found = name;
				continue;
			}
		}
		free(name);
	}
	if (n == 1)
		return found;
	if (n == 0)
		snprintf(err, errlen,
		    "%s/%s: no anomaly map (.tiff, .tif, "
		    ".png or .npy)",
		    dir, stem);
	else
		snprintf(err, errlen,
		    "%s/%s: %d anomaly maps with different "
		    "extensions",
		    dir, stem, n);
	free(found);
	return NULL;
}

static int
check_finite(
    const char *path, const struct eval_map *m, char *err, size_t errlen)
{
	for (size_t i = 0; i < m->width * m->height; i++)
		if (!isfinite(m->data[i])) {
			snprintf(err, errlen, "%s: %s score at x=%zu y=%zu",
			    path, isnan(m->data[i]) ? "NaN" : "infinite",
			    i % m->width, i / m->width);
			return -1;
		}
	return 0;
}

/* ---- .npy ---- */

static const char *
skip_ws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	return p;
}

/* A quoted Python string literal ('...' or "...") without escapes. */
static const char *
parse_pystr(const char *p, const char *end, char *out, size_t outlen)
{
	char q;
	size_t n = 0;

	if (p >= end || (*p != '\'' && *p != '"'))
		return NULL;
	q = *p++;
	while (p < end && *p != q) {
		if (*p == '\\' || n + 1 >= outlen)
			return NULL;
		out[n++] = *p++;
	}
	if (p >= end)
		return NULL;
	out[n] = '\0';
	return p + 1;
}

int
eval_npy_parse(const void *buf, size_t len, const void **data, size_t *width,
    size_t *height, char *err, size_t errlen)
{
	const unsigned char *b = buf;
	const char *p, *end;
	size_t hlen, off, shape[3] = {0, 0, 0};
	int ndim = -1, fortran = -1;
	char descr[16] = "";

	if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0) {
		snprintf(err, errlen, "not a .npy file (bad magic)");
		return -1;
	}
	if (b[6] == 1) {
		hlen = (size_t)b[8] | (size_t)b[9] << 8;
		off = 10;
	} else if (b[6] == 2 || b[6] == 3) {
		if (len < 12) {
			snprintf(err, errlen, "truncated .npy header");
			return -1;
		}
		hlen = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 |
		    (size_t)b[11] << 24;
		off = 12;
	} else {
		snprintf(
		    err, errlen, ".npy format version %d not supported", b[6]);
		return -1;
	}
	if (hlen > len - off) {
		snprintf(err, errlen, "truncated .npy header");
		return -1;
	}
	p = (const char *)b + off;
	end = p + hlen;
	/* The header is a Python dict literal padded with spaces and ending
	 * in '\n': {'descr': '<f4', 'fortran_order': False, 'shape': (H, W), }
	 */
	while (end > p && (end[-1] == '\n' || end[-1] == ' '))
		end--;
	p = skip_ws(p, end);
	if (p >= end || *p++ != '{')
		goto bad;
	for (;;) {
		char key[32];

		p = skip_ws(p, end);
		if (p < end && *p == '}') {
			p++;
			break;
		}
		if ((p = parse_pystr(p, end, key, sizeof key)) == NULL)
			goto bad;
		p = skip_ws(p, end);
		if (p >= end || *p++ != ':')
			goto bad;
		p = skip_ws(p, end);
		if (strcmp(key, "descr") == 0 && descr[0] == '\0') {
			if ((p = parse_pystr(p, end, descr, sizeof descr)) ==
			        NULL ||
			    descr[0] == '\0')
				goto bad;
		} else if (strcmp(key, "fortran_order") == 0 && fortran < 0) {
			if (end - p >= 4 && memcmp(p, "True", 4) == 0) {
				fortran = 1;
				p += 4;
			} else if (end - p >= 5 && memcmp(p, "False", 5) == 0) {
				fortran = 0;
				p += 5;
			} else {
				goto bad;
			}
		} else if (strcmp(key, "shape") == 0 && ndim < 0) {
			if (p >= end || *p++ != '(')
				goto bad;
			ndim = 0;
			for (;;) {
				char *e;
				unsigned long long v;

				p = skip_ws(p, end);
				if (p < end && *p == ')') {
					p++;
					break;
				}
				if (ndim == 3 || p >= end || *p < '0' ||
				    *p > '9')
					goto bad;
				errno = 0;
				v = strtoull(p, &e, 10);
				if (errno != 0 || e > end || v > SIZE_MAX)
					goto bad;
				shape[ndim++] = (size_t)v;
				p = skip_ws(e, end);
				if (p < end && *p == ',')
					p++;
				else if (p >= end || *p != ')')
					goto bad;
			}
		} else {
			goto bad;
		}
		p = skip_ws(p, end);
		if (p < end && *p == ',')
			p++;
		else if (p >= end || *p != '}')
			goto bad;
	}
	if (skip_ws(p, end) != end || ndim < 0 || fortran < 0 ||
	    descr[0] == '\0')
		goto bad;
	if (strcmp(descr, "<f4") != 0) {
		snprintf(err, errlen,
		    ".npy dtype '%s' not supported (float32 '<f4' only)",
		    descr);
		return -1;
	}
	if (fortran) {
		snprintf(err, errlen, "Fortran-order .npy not supported");
		return -1;
	}
	if (ndim == 3 && shape[0] == 1) {
		shape[0] = shape[1];
		shape[1] = shape[2];
		ndim = 2;
	} else if (ndim == 3 && shape[2] == 1) {
		ndim = 2;
	}
	if (ndim != 2 || shape[0] == 0 || shape[1] == 0) {
		snprintf(err, errlen,
		    ".npy shape must be (H, W), (1, H, W) or (H, W, 1)");
		return -1;
	}
	if (shape[1] > (SIZE_MAX / 4) / shape[0] ||
	    len - off - hlen != shape[0] * shape[1] * 4) {
		snprintf(err, errlen,
		    ".npy data size does not match its "
		    "shape (%zu x %zu float32)",
		    shape[0], shape[1]);
		return -1;
	}
	*data = b + off + hlen;
	*height = shape[0];
	*width = shape[1];
	return 0;
bad:
	snprintf(err, errlen, "malformed .npy header");
	return -1;
}

static int
read_npy(const char *path, struct eval_map *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	unsigned char *buf = NULL;
	size_t len = 0, cap = 0, n;
	const void *data;
	char why[256];
	int rc = -1;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	do {
		if (len == cap) {
			cap = cap ? 2 * cap : 1 << 16;
			buf = mirad_xrealloc(buf, cap);
		}
		n = fread(buf + len, 1, cap - len, f);
		len += n;
	} while (n > 0);
	if (ferror(f)) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	if (eval_npy_parse(buf, len, &data, &out->width, &out->height, why,
	        sizeof why) != 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		goto out;
	}
	out->data = mirad_xmalloc(out->width * out->height * sizeof(float));
	memcpy(out->data, data, out->width * out->height * sizeof(float));
	{
		/* '<f4' is little-endian: swap on big-endian hosts. */
		const uint16_t probe = 1;

		if (*(const unsigned char *)&probe == 0)
			for (size_t i = 0; i < out->width * out->height; i++) {
				uint32_t u;

				memcpy(&u, &out->data[i], 4);
				u = __builtin_bswap32(u);
				memcpy(&out->data[i], &u, 4);
			}
	}
	rc = 0;
out:
	free(buf);
	fclose(f);
	return rc;
}

/* ---- TIFF maps through mirad_codec ---- */

/* Open PATH for the codec: a descriptor on a non-empty regular file, or
 * -1. */
static int
open_regular(const char *path)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Read PATH as a one-band float64 TIFF (libvips (8.14) refuses 64-bit
 * float samples, which is what tifffile and NumPy write by default).
 * Returns 0 on success, 1 if it is not a float64 TIFF (left to libvips'
 * error), -1 with ERR on a damaged file.
 */
static int
read_tiff_double(
    const char *path, struct eval_map *out, char *err, size_t errlen)
{
	char why[512];
	int fd = open_regular(path), rc;

	if (fd < 0)
		return 1;
	rc = mirad_codec_read_float64_tiff(fd, MIRAD_IMAGE_MAX_PIXELS,
	    &out->data, &out->width, &out->height, why, sizeof why);
	close(fd);
	if (rc == MIRAD_CODEC_UNKNOWN)
		return 1;
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	out->rounded = true;
	return 0;
}

/*
 * The common case, a plain one-band float32 TIFF, read by mirad_codec
 * straight into the map: libvips would decode it into its own buffers and
 * copy it twice.  Returns 0, or 1 for anything else (another layout, a
 * damaged file): those take the libvips path, whose errors are the ones
 * reported.
 */
static int
read_tiff_float_fast(const char *path, struct eval_map *out)
{
	char why[256];
	int fd = open_regular(path), rc;

	if (fd < 0)
		return 1;
	rc = mirad_codec_read_float32_tiff(fd, MIRAD_IMAGE_MAX_PIXELS,
	    &out->data, &out->width, &out->height, why, sizeof why);
	close(fd);
	if (rc != 0)
		return 1;
	out->rounded = false;
	return 0;
}

/* ---- images through libvips ---- */

static int
read_vips(const char *path, struct eval_map *out, char *err, size_t errlen)
{
	char why[512];
	VipsImage *im = mirad_image_load(path, true, why, sizeof why);
	VipsImage *flt = NULL;
	VipsBandFormat fmt;
	void *mem;
	size_t len;

	if (im == NULL) {
		const char *ext = mirad_path_ext(path);

		if (strcasecmp(ext, ".tif") == 0 ||
		    strcasecmp(ext, ".tiff") == 0) {
			int rc = read_tiff_double(path, out, err, errlen);

			if (rc <= 0)
				return rc;
		}
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	if (vips_image_get_bands(im) != 1) {
		snprintf(err, errlen, "%s: map has %d bands, expected 1", path,
		    vips_image_get_bands(im));
		g_object_unref(im);
		return -1;
	}
	fmt = vips_image_get_format(im);
	if (fmt == VIPS_FORMAT_COMPLEX || fmt == VIPS_FORMAT_DPCOMPLEX ||
	    fmt == VIPS_FORMAT_UINT || fmt == VIPS_FORMAT_INT) {
		snprintf(err, errlen,
		    "%s: map sample format not supported (float, 8 or 16 bit "
		    "only)",
		    path);
		g_object_unref(im);
		return -1;
	}
	out->rounded = fmt == VIPS_FORMAT_DOUBLE;
	/* 8- and 16-bit samples are exact in float32. */
	if (vips_cast(im, &flt, VIPS_FORMAT_FLOAT, NULL) != 0) {
		mirad_image_take_error(why, sizeof why);
		snprintf(err, errlen, "%s: %s", path, why);
		g_object_unref(im);
		return -1;
	}
	g_object_unref(im);
	mem = vips_image_write_to_memory(flt, &len);
	out->width = (size_t)vips_image_get_width(flt);
	out->height = (size_t)vips_image_get_height(flt);
	g_object_unref(flt);
	if (mem == NULL) {
		mirad_image_take_error(why, sizeof why);
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	out->data = mirad_xmalloc(len);
	memcpy(out->data, mem, len);
	g_free(mem);
	return 0;
}

int
eval_map_read(const char *path, struct eval_map *out, char *err, size_t errlen)
{
	int rc;

	memset(out, 0, sizeof *out);
	if (strcasecmp(mirad_path_ext(path), ".npy") == 0)
		rc = read_npy(path, out, err, errlen);
	else if ((strcasecmp(mirad_path_ext(path), ".tif") == 0 ||
	             strcasecmp(mirad_path_ext(path), ".tiff") == 0) &&
	    read_tiff_float_fast(path, out) == 0)
		rc = 0;
	else
		rc = read_vips(path, out, err, errlen);
	if (rc == 0 && check_finite(path, out, err, errlen) != 0)
		rc = -1;
	if (rc != 0)
		eval_map_clear(out);
	return rc;
}

int
eval_mask_read(const char *path, uint8_t **mask, size_t *width, size_t *height,
    char *err, size_t errlen)
{
	char why[512];
	VipsImage *im = mirad_image_load(path, true, why, sizeof why), *bin;
	uint8_t *mem;
	size_t len;

	*mask = NULL;
	if (im == NULL) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	bin = mirad_image_binarise(im, why, sizeof why);
	g_object_unref(im);
	if (bin == NULL) {
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	mem = vips_image_write_to_memory(bin, &len);
	*width = (size_t)vips_image_get_width(bin);
	*height = (size_t)vips_image_get_height(bin);
	g_object_unref(bin);
	if (mem == NULL) {
		mirad_image_take_error(why, sizeof why);
		snprintf(err, errlen, "%s: %s", path, why);
		return -1;
	}
	*mask = mirad_xmalloc(len ? len : 1);
	for (size_t i = 0; i < len; i++)
		(*mask)[i] = mem[i] != 0;
	g_free(mem);
	return 0;
}

void
eval_resize_bilinear(
    const float *in, size_t iw, size_t ih, float *out, size_t ow, size_t oh)
{
	double sx = (double)iw / (double)ow, sy = (double)ih / (double)oh;

	for (size_t y = 0; y < oh; y++) {
		double fy = ((double)y + 0.5) * sy - 0.5;
		size_t y0, y1;
		double wy;

		if (fy < 0)
			fy = 0;
		y0 = (size_t)fy;
		if (y0 > ih - 1)
			y0 = ih - 1;
		y1 = y0 + 1 < ih ? y0 + 1 : ih - 1;
		wy = fy - (double)y0;
		for (size_t x = 0; x < ow; x++) {
			double fx = ((double)x + 0.5) * sx - 0.5;
			size_t x0, x1;
			double wx, top, bot;

			if (fx < 0)
				fx = 0;
			x0 = (size_t)fx;
			if (x0 > iw - 1)
				x0 = iw - 1;
			x1 = x0 + 1 < iw ? x0 + 1 : iw - 1;
			wx = fx - (double)x0;
			top =
			    in[y0 * iw + x0] * (1 - wx) + in[y0 * iw + x1] * wx;
			bot =
			    in[y1 * iw + x0] * (1 - wx) + in[y1 * iw + x1] * wx;
			out[y * ow + x] = (float)(top * (1 - wy) + bot * wy);
		}
	}
}
