/* SPDX-License-Identifier: MIT */
/*
 * mirad-augment pixel effects: physical models and libvips calls.  The
 * chain runs in float from the first decode to the final quantisation.  Spatial
 * fields (geometry maps, light fields) are computed in C into float buffers:
 * exact, order-free and simple.
 */
#include "mirad_platform.h"

#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "augment_effects.h"
#include "mirad_err.h"
#include "mirad_image.h"

/* A scratch context: images in T are unreferenced with it. */
struct scratch {
	VipsObject *ctx;
	VipsImage **t;
};

static struct scratch
scratch_new(int n)
{
	struct scratch s;

	s.ctx = VIPS_OBJECT(vips_image_new());
	s.t = (VipsImage **)vips_object_local_array(s.ctx, n);
	return s;
}

/* Hand RESULT to *OUT (new reference) unless RC failed; free S. */
static int
scratch_end(struct scratch *s, int rc, VipsImage *result, VipsImage **out,
    char *err, size_t el)
{
	if (rc == 0) {
		g_object_ref(result);
		*out = result;
	} else {
		mirad_image_take_error(err, el);
	}
	g_object_unref(s->ctx);
	return rc;
}

static float *
float_buffer(int w, int h, int bands)
{
	return mirad_xmalloc((size_t)w * h * bands * sizeof(float));
}

static double
srgb_decode(double v)
{
	return v <= 0.04045 ? v / 12.92 : pow((v + 0.055) / 1.055, 2.4);
}

/*
 * A private float copy of IN, rendered to memory, whose pixels the caller
 * may change in place through *DATA (interleaved bands).  Pointwise steps
 * run as plain loops over it: libvips would recompute an input once per
 * consumer, and clipping needs the input three times.
 */
/* Set by augment_render() on its own thread: the images it passes in are
 * private memory buffers it is about to drop, so steps may work in place
 * instead of copying 12 MB per megapixel and step. */
static _Thread_local bool render_in_place;

static VipsImage *
private_copy(VipsImage *in, float **data, char *err, size_t el)
{
	VipsImage *f = NULL, *m, *copy;

	if (render_in_place && in->dtype == VIPS_IMAGE_SETBUF &&
	    in->BandFmt == VIPS_FORMAT_FLOAT) {
		g_object_ref(in);
		*data = (float *)VIPS_IMAGE_ADDR(in, 0, 0);
		return in;
	}

	if (in->BandFmt != VIPS_FORMAT_FLOAT) {
		if (vips_cast(in, &f, VIPS_FORMAT_FLOAT, NULL) != 0) {
			mirad_image_take_error(err, el);
			return NULL;
		}
		in = f;
	}
	m = mirad_image_copy_memory_here(in);
	if (f != NULL)
		g_object_unref(f);
	if (m == NULL) {
		mirad_image_take_error(err, el);
		return NULL;
	}
	copy = vips_image_new_from_memory_copy(VIPS_IMAGE_ADDR(m, 0, 0),
	    VIPS_IMAGE_SIZEOF_IMAGE(m), m->Xsize, m->Ysize, m->Bands,
	    VIPS_FORMAT_FLOAT);
	g_object_unref(m);
	if (copy == NULL) {
		mirad_image_take_error(err, el);
		return NULL;
	}
	*data = (float *)VIPS_IMAGE_ADDR(copy, 0, 0);
	return copy;
}

static size_t
nsamples(const VipsImage *im)
{
	return (size_t)im->Xsize * im->Ysize * im->Bands;
}

/* IN as a memory image of format FMT (a new reference), or NULL. */
static VipsImage *
memory_as(VipsImage *in, VipsBandFormat fmt, char *err, size_t el)
{
	VipsImage *c = NULL, *m;

	if (in->BandFmt != fmt) {
		if (vips_cast(in, &c, fmt, NULL) != 0) {
			mirad_image_take_error(err, el);
			return NULL;
		}
		in = c;
	}
	m = mirad_image_copy_memory_here(in);
	if (c != NULL)
		g_object_unref(c);
	if (m == NULL)
		mirad_image_take_error(err, el);
	return m;
}

/* A new writable memory image of W x H x BANDS in FMT, resolution and
 * interpretation from LIKE; NULL (error in ERR) on failure. */
static VipsImage *
memory_image(VipsImage *like, int w, int h, int bands, VipsBandFormat fmt,
    VipsInterpretation type, char *err, size_t el)
{
	VipsImage *im = vips_image_new_memory();

	vips_image_init_fields(im, w, h, bands, fmt, VIPS_CODING_NONE, type,
	    like->Xres, like->Yres);
	if (vips_image_write_prepare(im) != 0) {
		mirad_image_take_error(err, el);
		g_object_unref(im);
		return NULL;
	}
	return im;
}

static float
clip01(float v)
{
	return v < 0 ? 0 : v > 1 ? 1 : v;
}

int
augment_to_linear(VipsImage *in, VipsImage **out, char *err, size_t el)
{
	struct scratch s = scratch_new(6);
	float lut[256];
	VipsImage *x = in;
	int rc = 0;

	for (int i = 0; i < 256; i++)
		lut[i] = (float)srgb_decode(i / 255.0);
	if (x->BandFmt == VIPS_FORMAT_UCHAR && x->Bands <= 4) {
		/* The usual case as one loop over the decoded pixels: the same
		 * table, without building a pipeline of libvips operations. */
		VipsImage *m = mirad_image_copy_memory_here(x), *o;
		int bands = x->Bands, map[3];
		size_t npx = (size_t)x->Xsize * x->Ysize;
		const VipsPel *p;
		float *q;

		g_object_unref(s.ctx);
		if (m == NULL) {
			mirad_image_take_error(err, el);
			return -1;
		}
		for (int c = 0; c < 3; c++)
			map[c] =
			    bands >= 3 ? c : 0; /* grey (+ alpha) replicated */
		o = vips_image_new_memory();
		vips_image_init_fields(o, x->Xsize, x->Ysize, 3,
		    VIPS_FORMAT_FLOAT, VIPS_CODING_NONE,
		    VIPS_INTERPRETATION_scRGB, x->Xres, x->Yres);
		if (vips_image_write_prepare(o) != 0) {
			mirad_image_take_error(err, el);
			g_object_unref(o);
			g_object_unref(m);
			return -1;
		}
		p = VIPS_IMAGE_ADDR(m, 0, 0);
		q = (float *)VIPS_IMAGE_ADDR(o, 0, 0);
		for (size_t i = 0; i < npx; i++, p += bands, q += 3) {
			q[0] = lut[p[map[0]]];
			q[1] = lut[p[map[1]]];
			q[2] = lut[p[map[2]]];
		}
		g_object_unref(m);
		*out = o;
		return 0;
	}
	if (x->BandFmt != VIPS_FORMAT_UCHAR) {
		/* 16-bit input: scale to 8 bits (outputs are 8-bit). */
		rc = vips_linear1(x, &s.t[0],
		    x->BandFmt == VIPS_FORMAT_USHORT ? 1.0 / 257 : 1.0, 0.5,
		    "uchar", TRUE, NULL);
		x = s.t[0];
	}
	if (rc == 0 && (x->Bands == 2 || x->Bands == 4)) {
		rc = vips_extract_band(x, &s.t[1], 0, "n", x->Bands - 1, NULL);
		x = s.t[1];
	}
	if (rc == 0 && x->Bands == 1) {
		VipsImage *three[3] = {x, x, x};

		rc = vips_bandjoin(three, &s.t[2], 3, NULL);
		x = s.t[2];
	}
	if (rc == 0) {
		s.t[3] = vips_image_new_from_memory_copy(
		    lut, sizeof lut, 256, 1, 1, VIPS_FORMAT_FLOAT);
		rc = s.t[3] == NULL ||
		    vips_maplut(x, &s.t[4], s.t[3], NULL) != 0 ||
		    vips_copy(s.t[4], &s.t[5], "interpretation",
		        VIPS_INTERPRETATION_scRGB, NULL) != 0;
		rc = rc ? -1 : 0;
	}
	return scratch_end(&s, rc, s.t[5], out, err, el);
}

/* The sRGB encode as a 65537-entry table over [0, 1] with linear
 * interpolation: the error (< 1e-7) is far below half a grey level, so
 * 8-bit round trips stay exact (tested), at a fraction of powf's cost. */
#define ENCODE_STEPS 65536
static float encode_lut[ENCODE_STEPS + 2];
static gsize encode_lut_ready;

static void
encode_lut_init(void)
{
	for (int i = 0; i <= ENCODE_STEPS; i++) {
		double x = (double)i / ENCODE_STEPS;

		encode_lut[i] =
		    (float)(x <= 0.0031308 ? 12.92 * x
		                           : 1.055 * pow(x, 1 / 2.4) - 0.055);
	}
	encode_lut[ENCODE_STEPS + 1] = encode_lut[ENCODE_STEPS];
}

static float
encode_one(float x)
{
	float pos, frac;
	int i;

	if (x <= 0.0031308f)
		return x <= 0 ? 0 : 12.92f * x;
	if (x >= 1)
		return 1;
	pos = x * ENCODE_STEPS;
	i = (int)pos;
	frac = pos - (float)i;
	return encode_lut[i] + frac * (encode_lut[i + 1] - encode_lut[i]);
}

int
augment_to_encoded(VipsImage *in, VipsImage **out, char *err, size_t el)
{
	float *v;
	VipsImage *im = private_copy(in, &v, err, el);
	size_t n;

	if (im == NULL)
		return -1;
	if (g_once_init_enter(&encode_lut_ready)) {
		encode_lut_init();
		g_once_init_leave(&encode_lut_ready, 1);
	}
	n = nsamples(im);
	for (size_t i = 0; i < n; i++)
		v[i] = encode_one(v[i]);
	*out = im;
	return 0;
}

int
augment_quantise(
    VipsImage *in, bool grey, VipsImage **out, char *err, size_t el)
{
	int bands = grey && in->Bands > 1 ? 1 : in->Bands;
	size_t npx = (size_t)in->Xsize * in->Ysize;
	VipsImage *m = memory_as(in, VIPS_FORMAT_FLOAT, err, el), *o;
	const float *p;
	VipsPel *q;

	if (m == NULL)
		return -1;
	o = memory_image(in, in->Xsize, in->Ysize, bands, VIPS_FORMAT_UCHAR,
	    grey ? VIPS_INTERPRETATION_B_W : VIPS_INTERPRETATION_sRGB, err, el);
	if (o == NULL) {
		g_object_unref(m);
		return -1;
	}
	p = (const float *)VIPS_IMAGE_ADDR(m, 0, 0);
	q = VIPS_IMAGE_ADDR(o, 0, 0);
	for (size_t i = 0; i < npx; i++, p += m->Bands) {
		for (int c = 0; c < bands; c++) {
			float v = p[c];

			if (bands < m->Bands) {
				/* Grey: the mean of the bands. */
				v = 0;
				for (int k = 0; k < m->Bands; k++)
					v += p[k];
				v /= (float)m->Bands;
			}
			/* Clip to 0..255, +0.5 then truncate rounds. */
			v = v * 255.0f + 0.5f;
			*q++ = v <= 0 ? 0 : v >= 255 ? 255 : (VipsPel)v;
		}
	}
	g_object_unref(m);
	*out = o;
	return 0;
}

/* Sum of band BAND over the rectangle (X, Y, W, H) of memory image IM. */
static double
area_sum(VipsImage *im, int band, int x0, int y0, int w, int h)
{
	uint64_t sum = 0;
	double fsum = 0;

	for (int y = y0; y < y0 + h; y++) {
		const VipsPel *row = VIPS_IMAGE_ADDR(im, x0, y);

		if (im->BandFmt == VIPS_FORMAT_DOUBLE) {
			const double *p = (const double *)row;

			for (int x = 0; x < w; x++)
				fsum += p[x * im->Bands + band];
		} else if (im->BandFmt == VIPS_FORMAT_USHORT) {
			const unsigned short *p = (const unsigned short *)row;

			for (int x = 0; x < w; x++)
				sum += p[x * im->Bands + band];
		} else {
			for (int x = 0; x < w; x++)
				sum += row[x * im->Bands + band];
		}
	}
	return (double)sum + fsum;
}

int
augment_border_colour(
    VipsImage *in, int band, double rgb[3], char *err, size_t el)
{
	int w = in->Xsize, h = in->Ysize;
	int b = band < 1 ? 1 : band;
	double sum[3] = {0, 0, 0}, n = 0;
	VipsImage *m;

	if (b * 2 >= w || b * 2 >= h)
		b = 1;
	/* Plain sums over the decoded pixels: per-strip vips_stats and
	 * vips_getpoint calls built a dozen pipelines per image, the largest
	 * cost of a small image. */
	if (in->BandFmt == VIPS_FORMAT_UCHAR ||
	    in->BandFmt == VIPS_FORMAT_USHORT) {
		if ((m = mirad_image_copy_memory_here(in)) == NULL) {
			mirad_image_take_error(err, el);
			return -1;
		}
	} else if ((m = memory_as(in, VIPS_FORMAT_DOUBLE, err, el)) == NULL) {
		return -1;
	}
	{
		/* Top, bottom, left, right strips (corners counted twice:
		 * harmless for a mean colour). */
		int area[4][4] = {{0, 0, w, b}, {0, h - b, w, b}, {0, 0, b, h},
		    {w - b, 0, b, h}};

		for (int k = 0; k < 4; k++) {
			for (int c = 0; c < 3; c++) {
				int bandi = c < in->Bands ? c : 0;

				if (in->Bands == 2 || in->Bands == 4)
					bandi = c < in->Bands - 1 ? c : 0;
				sum[c] += area_sum(m, bandi, area[k][0],
				    area[k][1], area[k][2], area[k][3]);
			}
			n += (double)area[k][2] * area[k][3];
		}
	}
	{
		double scale = m->BandFmt == VIPS_FORMAT_USHORT ? 1.0 / 257 : 1;

		for (int c = 0; c < 3; c++)
			rgb[c] = sum[c] / n * scale;
	}
	g_object_unref(m);
	return 0;
}

/* Geometry. */

bool
augment_geometry_is_identity(const struct augment_geometry *g)
{
	for (int i = 0; i < 4; i++)
		if (g->corner[i][0] != 0 || g->corner[i][1] != 0)
			return false;
	return g->rotate_deg == 0 && g->scale == 1 && g->shift_x == 0 &&
	    g->shift_y == 0 && g->k1 == 0 && g->k2 == 0;
}

/* Solve the 8x8 system of the homography taking SRC[i] to DST[i]. */
static void
homography(const double src[4][2], const double dst[4][2], double h[9])
{
	double a[8][9];

	for (int i = 0; i < 4; i++) {
		double x = src[i][0], y = src[i][1];
		double u = dst[i][0], v = dst[i][1];
		double r0[9] = {x, y, 1, 0, 0, 0, -u * x, -u * y, u};
		double r1[9] = {0, 0, 0, x, y, 1, -v * x, -v * y, v};

		memcpy(a[2 * i], r0, sizeof r0);
		memcpy(a[2 * i + 1], r1, sizeof r1);
	}
	for (int c = 0; c < 8; c++) {
		int piv = c;

		for (int r = c + 1; r < 8; r++)
			if (fabs(a[r][c]) > fabs(a[piv][c]))
				piv = r;
		if (piv != c)
			for (int k = 0; k < 9; k++) {
				double t = a[c][k];

				a[c][k] = a[piv][k];
				a[piv][k] = t;
			}
		for (int r = 0; r < 8; r++) {
			double f;

			if (r == c || a[c][c] == 0)
				continue;
			f = a[r][c] / a[c][c];
			for (int k = c; k < 9; k++)
				a[r][k] -= f * a[c][k];
		}
	}
	for (int i = 0; i < 8; i++)
		h[i] = a[i][i] != 0 ? a[i][8] / a[i][i] : (i == 0 || i == 4);
	h[8] = 1;
}

/*
 * The warp resamples in one pass of plain C over memory buffers: the map
 * is computed per pixel and used at once (vips_mapim would take it as an
 * image and, for a rotation, prepare a large input area per output tile,
 * which made it the slowest step of the chain).  Bilinear: a neighbour
 * outside the image takes FILL, so the border blends into it; the mask
 * takes the nearest pixel (rounded), 0 outside.
 */
int
augment_warp(VipsImage *image, VipsImage *mask,
    const struct augment_geometry *g, const double fill[3],
    VipsImage **out_image, VipsImage **out_mask, char *err, size_t el)
{
	int w = image->Xsize, h = image->Ysize, b = image->Bands;
	double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
	double r2 = cx * cx + cy * cy;
	double th = -g->rotate_deg * G_PI / 180.0;
	double ct = cos(th) / g->scale, st = sin(th) / g->scale;
	double src[4][2] = {{0, 0}, {w - 1, 0}, {w - 1, h - 1}, {0, h - 1}};
	double dst[4][2], hm[9];
	float bg[4] = {0, 0, 0, 0};
	VipsImage *in, *min = NULL, *out, *mout = NULL;
	const float *iv;
	const unsigned char *mv = NULL;
	float *ov;
	unsigned char *mo = NULL;
	size_t row = (size_t)w * b;
	bool flat = true; /* no perspective: the homography is the identity */

	if (b > 4 ||
	    (mask != NULL &&
	        (mask->Xsize != w || mask->Ysize != h || mask->Bands != 1))) {
		snprintf(err, el, "warp: unsupported image or mask layout");
		return -1;
	}
	for (int c = 0; c < b; c++)
		bg[c] = (float)fill[c < 3 ? c : 2];
	if ((in = memory_as(image, VIPS_FORMAT_FLOAT, err, el)) == NULL)
		return -1;
	if (mask != NULL &&
	    (min = memory_as(mask, VIPS_FORMAT_UCHAR, err, el)) == NULL) {
		g_object_unref(in);
		return -1;
	}
	out = vips_image_new_memory();
	vips_image_init_fields(out, w, h, b, VIPS_FORMAT_FLOAT,
	    VIPS_CODING_NONE, image->Type, image->Xres, image->Yres);
	if (min != NULL) {
		mout = vips_image_new_memory();
		vips_image_init_fields(mout, w, h, 1, VIPS_FORMAT_UCHAR,
		    VIPS_CODING_NONE, mask->Type, mask->Xres, mask->Yres);
	}
	if (vips_image_write_prepare(out) != 0 ||
	    (mout != NULL && vips_image_write_prepare(mout) != 0)) {
		mirad_image_take_error(err, el);
		g_object_unref(in);
		g_object_unref(out);
		if (min != NULL) {
			g_object_unref(min);
			g_object_unref(mout);
		}
		return -1;
	}
	iv = (const float *)VIPS_IMAGE_ADDR(in, 0, 0);
	ov = (float *)VIPS_IMAGE_ADDR(out, 0, 0);
	if (min != NULL) {
		mv = VIPS_IMAGE_ADDR(min, 0, 0);
		mo = VIPS_IMAGE_ADDR(mout, 0, 0);
	}

	for (int i = 0; i < 4; i++) {
		dst[i][0] = src[i][0] + g->corner[i][0] * w;
		dst[i][1] = src[i][1] + g->corner[i][1] * h;
	}
	homography(src, dst, hm);
	if (r2 <= 0)
		r2 = 1;
	for (int i = 0; i < 4; i++)
		flat = flat && g->corner[i][0] == 0 && g->corner[i][1] == 0;
	for (int y = 0; y < h; y++) {
		float *o = ov + (size_t)y * row;
		double dy = y - cy;

		for (int x = 0; x < w; x++, o += b) {
			/* Lens (inverse map), then the viewpoint. */
			double dx = x - cx;
			double rn = (dx * dx + dy * dy) / r2;
			double f = 1 + g->k1 * rn + g->k2 * rn * rn;
			double px = dx * f - g->shift_x * w;
			double py = dy * f - g->shift_y * h;
			double sx = cx + ct * px - st * py;
			double sy = cy + st * px + ct * py;
			float fx, fy, u, v;
			int x0, y0;
			const float *p[4];

			if (flat) {
				u = (float)sx, v = (float)sy;
			} else {
				double z = hm[6] * sx + hm[7] * sy + hm[8];

				if (z == 0)
					z = 1e-12;
				u = (float)((hm[0] * sx + hm[1] * sy + hm[2]) /
				    z);
				v = (float)((hm[3] * sx + hm[4] * sy + hm[5]) /
				    z);
			}
			if (mo != NULL) {
				float ru = floorf(u + 0.5f),
				      rv = floorf(v + 0.5f);

				mo[(size_t)y * w + x] =
				    ru >= 0 && rv >= 0 && ru < w && rv < h
				    ? mv[(size_t)rv * w + (size_t)ru]
				    : 0;
			}
			if (!(u > -1 && v > -1 && u < w && v < h)) {
				for (int c = 0; c < b; c++)
					o[c] = bg[c];
				continue;
			}
			x0 = (int)floorf(u), y0 = (int)floorf(v);
			fx = u - (float)x0, fy = v - (float)y0;
			if (x0 >= 0 && y0 >= 0 && x0 + 1 < w && y0 + 1 < h) {
				p[0] = iv + (size_t)y0 * row + (size_t)x0 * b;
				p[1] = p[0] + b;
				p[2] = p[0] + row;
				p[3] = p[2] + b;
			} else {
				for (int k = 0; k < 4; k++) {
					int xk = x0 + (k & 1),
					    yk = y0 + (k >> 1);

					p[k] = xk >= 0 && yk >= 0 && xk < w &&
					        yk < h
					    ? iv + (size_t)yk * row +
					        (size_t)xk * b
					    : bg;
				}
			}
			for (int c = 0; c < b; c++) {
				float top = p[0][c] + fx * (p[1][c] - p[0][c]);
				float bot = p[2][c] + fx * (p[3][c] - p[2][c]);

				o[c] = top + fy * (bot - top);
			}
		}
	}
	g_object_unref(in);
	if (min != NULL)
		g_object_unref(min);
	*out_image = out;
	if (out_mask != NULL)
		*out_mask = mout;
	else if (mout != NULL)
		g_object_unref(mout);
	return 0;
}

/* Photometric effects in linear light. */

static int
multiply_field(
    VipsImage *lin, float *field, VipsImage **out, char *err, size_t el)
{
	float *v;
	VipsImage *im = private_copy(lin, &v, err, el);
	size_t npx;
	int b;

	if (im == NULL) {
		free(field);
		return -1;
	}
	npx = (size_t)im->Xsize * im->Ysize;
	b = im->Bands;
	for (size_t i = 0; i < npx; i++)
		for (int c = 0; c < b; c++)
			v[i * b + c] *= field[i];
	free(field);
	*out = im;
	return 0;
}

int
augment_exposure(
    VipsImage *lin, double ev, VipsImage **out, char *err, size_t el)
{
	float *v, gain = (float)pow(2.0, ev);
	VipsImage *im = private_copy(lin, &v, err, el);
	size_t n;

	if (im == NULL)
		return -1;
	/* Full well at 1.0: a brighter exposure saturates. */
	n = nsamples(im);
	for (size_t i = 0; i < n; i++)
		v[i] = clip01(v[i] * gain);
	*out = im;
	return 0;
}

int
augment_vignetting(
    VipsImage *lin, double vc, VipsImage **out, char *err, size_t el)
{
	int w = lin->Xsize, h = lin->Ysize;
	double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
	double r = sqrt(cx * cx + cy * cy);
	double f = r / sqrt(pow(vc, -0.5) - 1);
	float *field = float_buffer(w, h, 1);

	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			double q = ((x - cx) * (x - cx) + (y - cy) * (y - cy)) /
			    (f * f);

			field[(size_t)y * w + x] =
			    (float)(1 / ((1 + q) * (1 + q)));
		}
	return multiply_field(lin, field, out, err, el);
}

static void
mat3_mul(const double a[9], const double b[9], double c[9])
{
	double r[9];

	for (int i = 0; i < 3; i++)
		for (int j = 0; j < 3; j++)
			r[3 * i + j] = a[3 * i] * b[j] +
			    a[3 * i + 1] * b[3 + j] + a[3 * i + 2] * b[6 + j];
	memcpy(c, r, sizeof r);
}

static void
mat3_inv(const double m[9], double r[9])
{
	double det = m[0] * (m[4] * m[8] - m[5] * m[7]) -
	    m[1] * (m[3] * m[8] - m[5] * m[6]) +
	    m[2] * (m[3] * m[7] - m[4] * m[6]);

	r[0] = (m[4] * m[8] - m[5] * m[7]) / det;
	r[1] = (m[2] * m[7] - m[1] * m[8]) / det;
	r[2] = (m[1] * m[5] - m[2] * m[4]) / det;
	r[3] = (m[5] * m[6] - m[3] * m[8]) / det;
	r[4] = (m[0] * m[8] - m[2] * m[6]) / det;
	r[5] = (m[2] * m[3] - m[0] * m[5]) / det;
	r[6] = (m[3] * m[7] - m[4] * m[6]) / det;
	r[7] = (m[1] * m[6] - m[0] * m[7]) / det;
	r[8] = (m[0] * m[4] - m[1] * m[3]) / det;
}

/* Chromaticity of a white at T kelvin. */
static void
white_xy(double t, int locus, double *x, double *y)
{
	double u = 1e3 / t;

	if (locus == 1) {
		/* CIE daylight locus, defined from 4000 K. */
		if (t < 4000)
			t = 4000, u = 1e3 / t;
		*x = t <= 7000 ? 0.244063 + 0.09911 * u + 2.9678 * u * u -
		        4.6070 * u * u * u
		               : 0.237040 + 0.24748 * u + 1.9018 * u * u -
		        2.0064 * u * u * u;
		*y = -3 * *x * *x + 2.87 * *x - 0.275;
		return;
	}
	/* Planckian locus, Kim et al. 2002 cubic spline. */
	*x = t <= 4000 ? -0.2661239 * u * u * u - 0.2343589 * u * u +
	        0.8776956 * u + 0.179910
	               : -3.0258469 * u * u * u + 2.1070379 * u * u +
	        0.2226347 * u + 0.240390;
	if (t < 2222)
		*y = -1.1063814 * pow(*x, 3) - 1.34811020 * *x * *x +
		    2.18555832 * *x - 0.20219683;
	else if (t <= 4000)
		*y = -0.9549476 * pow(*x, 3) - 1.37418593 * *x * *x +
		    2.09137015 * *x - 0.16748867;
	else
		*y = 3.0817580 * pow(*x, 3) - 5.87338670 * *x * *x +
		    3.75112997 * *x - 0.37001483;
}

void
augment_cast_matrix(double cct_k, double ref_k, int locus, double m[9])
{
	static const double rgb2xyz[9] = {0.4124564, 0.3575761, 0.1804375,
	    0.2126729, 0.7151522, 0.0721750, 0.0193339, 0.1191920, 0.9503041};
	static const double bfd[9] = {0.8951, 0.2664, -0.1614, -0.7502, 1.7135,
	    0.0367, 0.0389, -0.0685, 1.0296};
	double xyz2rgb[9], bfd_inv[9], d[9] = {0}, ws[3], wd[3], rs[3], rd[3];
	double x, y;

	mat3_inv(rgb2xyz, xyz2rgb);
	mat3_inv(bfd, bfd_inv);
	white_xy(ref_k, locus, &x, &y);
	ws[0] = x / y, ws[1] = 1, ws[2] = (1 - x - y) / y;
	white_xy(cct_k, locus, &x, &y);
	wd[0] = x / y, wd[1] = 1, wd[2] = (1 - x - y) / y;
	for (int i = 0; i < 3; i++) {
		rs[i] = bfd[3 * i] * ws[0] + bfd[3 * i + 1] * ws[1] +
		    bfd[3 * i + 2] * ws[2];
		rd[i] = bfd[3 * i] * wd[0] + bfd[3 * i + 1] * wd[1] +
		    bfd[3 * i + 2] * wd[2];
		d[4 * i] = rd[i] / rs[i];
	}
	mat3_mul(d, bfd, m);
	mat3_mul(bfd_inv, m, m);
	mat3_mul(m, rgb2xyz, m);
	mat3_mul(xyz2rgb, m, m);
}

int
augment_white_balance(VipsImage *lin, double cct_k, double ref_k, int locus,
    VipsImage **out, char *err, size_t el)
{
	double m[9];
	float *v, mf[9];
	VipsImage *im = private_copy(lin, &v, err, el);
	size_t npx;

	if (im == NULL)
		return -1;
	augment_cast_matrix(cct_k, ref_k, locus, m);
	for (int i = 0; i < 9; i++)
		mf[i] = (float)m[i];
	npx = (size_t)im->Xsize * im->Ysize;
	for (size_t i = 0; i < npx; i++) {
		float *p = v + i * 3;
		float r = p[0], g = p[1], b = p[2];

		p[0] = mf[0] * r + mf[1] * g + mf[2] * b;
		p[1] = mf[3] * r + mf[4] * g + mf[5] * b;
		p[2] = mf[6] * r + mf[7] * g + mf[8] * b;
	}
	*out = im;
	return 0;
}

/* ACC[i] += K * SRC[i]: the inner loop of the convolution and the
 * resampler, written so that the compiler vectorises it (the buffers never
 * overlap). */
static void
add_scaled(float *restrict acc, const float *restrict src, float k, size_t n)
{
	for (size_t i = 0; i < n; i++)
		acc[i] += k * src[i];
}

/*
 * Convolve with an N x N kernel normalised to sum 1, edges extended by
 * copying (as vips_conv does).  Plain C over memory: row by row, each
 * non-zero tap adds a shifted copy of a padded source row, a loop the
 * compiler vectorises; no pipeline to build per image.
 */
static int
convolve(
    VipsImage *lin, double *k, int n, VipsImage **out, char *err, size_t el)
{
	int w = lin->Xsize, h = lin->Ysize, b = lin->Bands, half = n / 2;
	size_t row = (size_t)w * b;
	double sum = 0;
	float *kf = mirad_xmalloc((size_t)n * n * sizeof *kf);
	float *pad = mirad_xmalloc((row + (size_t)2 * half * b) * sizeof *pad);
	VipsImage *in, *o;
	const float *iv;
	float *ov;

	for (int i = 0; i < n * n; i++)
		sum += k[i];
	for (int i = 0; i < n * n; i++)
		kf[i] = (float)(k[i] / sum);
	in = memory_as(lin, VIPS_FORMAT_FLOAT, err, el);
	o = in == NULL
	    ? NULL
	    : memory_image(lin, w, h, b, VIPS_FORMAT_FLOAT, lin->Type, err, el);
	if (o == NULL) {
		if (in != NULL)
			g_object_unref(in);
		free(kf);
		free(pad);
		return -1;
	}
	iv = (const float *)VIPS_IMAGE_ADDR(in, 0, 0);
	ov = (float *)VIPS_IMAGE_ADDR(o, 0, 0);
	for (int y = 0; y < h; y++) {
		float *acc = ov + (size_t)y * row;

		memset(acc, 0, row * sizeof *acc);
		for (int ky = 0; ky < n; ky++) {
			const float *kr = kf + (size_t)ky * n;
			int sy = y + ky - half;
			bool any = false;

			for (int kx = 0; kx < n; kx++)
				any = any || kr[kx] != 0;
			if (!any)
				continue;
			sy = sy < 0 ? 0 : sy >= h ? h - 1 : sy;
			{
				const float *src = iv + (size_t)sy * row;

				memcpy(pad + (size_t)half * b, src,
				    row * sizeof *pad);
				for (int x = 0; x < half; x++)
					for (int c = 0; c < b; c++) {
						pad[(size_t)x * b + c] = src[c];
						pad[(size_t)(half + w + x) * b +
						    c] = src[row - b + c];
					}
			}
			for (int kx = 0; kx < n; kx++) {
				float kv = kr[kx];
				const float *sp = pad + (size_t)kx * b;

				if (kv != 0)
					add_scaled(acc, sp, kv, row);
			}
		}
	}
	g_object_unref(in);
	free(kf);
	free(pad);
	*out = o;
	return 0;
}

int
augment_defocus(VipsImage *lin, double r, VipsImage **out, char *err, size_t el)
{
	int half = (int)ceil(r + 0.5), n = 2 * half + 1, rc;
	double *k = mirad_xcalloc((size_t)n * n, sizeof *k);
	const int ss = 8; /* supersampling for the anti-aliased edge */

	for (int y = 0; y < n; y++)
		for (int x = 0; x < n; x++) {
			int in = 0;

			for (int j = 0; j < ss; j++)
				for (int i = 0; i < ss; i++) {
					double px =
					    x - half + (i + 0.5) / ss - 0.5;
					double py =
					    y - half + (j + 0.5) / ss - 0.5;

					in += px * px + py * py <= r * r;
				}
			k[y * n + x] = (double)in / (ss * ss);
		}
	rc = convolve(lin, k, n, out, err, el);
	free(k);
	return rc;
}

int
augment_motion_blur(VipsImage *lin, double length, double angle,
    VipsImage **out, char *err, size_t el)
{
	int half = (int)ceil(length / 2 + 1), n = 2 * half + 1, rc;
	int steps = (int)ceil(length * 4) + 1;
	double *k = mirad_xcalloc((size_t)n * n, sizeof *k);
	double dx = cos(angle * G_PI / 180), dy = sin(angle * G_PI / 180);

	/* Splat evenly spaced points of the segment bilinearly. */
	for (int i = 0; i < steps; i++) {
		double t = steps > 1 ? (double)i / (steps - 1) - 0.5 : 0;
		double px = half + t * length * dx, py = half + t * length * dy;
		int x0 = (int)floor(px), y0 = (int)floor(py);
		double fx = px - x0, fy = py - y0;

		k[y0 * n + x0] += (1 - fx) * (1 - fy);
		k[y0 * n + x0 + 1] += fx * (1 - fy);
		k[(y0 + 1) * n + x0] += (1 - fx) * fy;
		k[(y0 + 1) * n + x0 + 1] += fx * fy;
	}
	rc = convolve(lin, k, n, out, err, el);
	free(k);
	return rc;
}

int
augment_sensor_noise(VipsImage *lin, double a, double b, uint64_t seed,
    VipsImage **out, char *err, size_t el)
{
	float *v;
	VipsImage *im = private_copy(lin, &v, err, el);
	uint64_t key = augment_mix64(seed);
	float fa = (float)a, fb = (float)b;
	size_t n;

	if (im == NULL)
		return -1;
	n = nsamples(im);
	/* Standard normals keyed on (SEED, sample index): a counter-based
	 * generator, so the field does not depend on tiles, threads or
	 * order.  (libvips' gaussnoise would do too, but it sums 12 hashed
	 * uniforms per sample and was the slowest step of the chain.) */
	for (size_t i = 0; i < n; i += 2) {
		/* One 64-bit draw gives two 32-bit uniforms for Box-Muller,
		 * in float: the noise needs no more precision. */
		uint64_t k = augment_mix64(key ^ (uint64_t)i);
		float u1 = ((float)(uint32_t)(k >> 40) + 0.5f) * 0x1.0p-24f;
		float u2 = (float)(uint32_t)(k & 0xffffff) * 0x1.0p-24f;
		float r = sqrtf(-2.0f * logf(u1)), t = 2.0f * (float)G_PI * u2;
		float z[2] = {r * cosf(t), r * sinf(t)};

		for (size_t j = i; j < i + 2 && j < n; j++) {
			float x = clip01(v[j]);

			v[j] = x + sqrtf(fa * x + fb) * z[j - i];
		}
	}
	*out = im;
	return 0;
}

/* The last tone curve's table, per thread: a profile's curve is the same
 * for many images, and 65537 pow() calls cost more than a small image. */
enum {
	TONE_STEPS = 65536
};
static _Thread_local float *tone_lut;
static _Thread_local double tone_gamma, tone_contrast;

static const float *
tone_table(double gamma, double contrast)
{
	if (tone_lut == NULL || tone_gamma != gamma ||
	    tone_contrast != contrast) {
		if (tone_lut == NULL)
			tone_lut =
			    mirad_xmalloc((TONE_STEPS + 2) * sizeof *tone_lut);
		for (int i = 0; i <= TONE_STEPS; i++)
			tone_lut[i] = (float)(0.5 +
			    contrast *
			        (pow((double)i / TONE_STEPS, gamma) - 0.5));
		tone_lut[TONE_STEPS + 1] = tone_lut[TONE_STEPS];
		tone_gamma = gamma;
		tone_contrast = contrast;
	}
	return tone_lut;
}

void
augment_thread_cleanup(void)
{
	free(tone_lut);
	tone_lut = NULL;
}

int
augment_tone_curve(VipsImage *enc, double gamma, double contrast,
    VipsImage **out, char *err, size_t el)
{
	float *v;
	const float *lut;
	VipsImage *im = private_copy(enc, &v, err, el);
	size_t n;

	if (im == NULL)
		return -1;
	/* A table of the curve, linearly interpolated (error < 1e-4). */
	lut = tone_table(gamma, contrast);
	n = nsamples(im);
	for (size_t i = 0; i < n; i++) {
		float pos = clip01(v[i]) * TONE_STEPS, frac;
		int k = (int)pos;

		frac = pos - (float)k;
		v[i] = lut[k] + frac * (lut[k + 1] - lut[k]);
	}
	*out = im;
	return 0;
}

/* Resampling kernels by profile index: Lanczos 3, cubic (Catmull-Rom),
 * linear, nearest; their half-widths in input pixels at scale 1. */
static double
kernel_value(int kind, double x)
{
	x = fabs(x);
	switch (kind) {
	case 1:
		return x < 1 ? (1.5 * x - 2.5) * x * x + 1
		    : x < 2  ? ((-0.5 * x + 2.5) * x - 4) * x + 2
		             : 0;
	case 2:
		return x < 1 ? 1 - x : 0;
	default:
		if (x < 1e-9)
			return 1;
		if (x >= 3)
			return 0;
		return 3 * sin(G_PI * x) * sin(G_PI * x / 3) /
		    (G_PI * G_PI * x * x);
	}
}

static double
kernel_support(int kind)
{
	return kind == 1 ? 2 : kind == 2 ? 1 : 3;
}

/* The taps taking IN_N samples to OUT_N (centres aligned, the kernel
 * widened by the shrink when reducing, edges extended by copying): for
 * output i, NTAPS indices in IDX[i * NTAPS] and weights summing to 1. */
static void
axis_taps(int in_n, int out_n, int kind, int *ntaps, int **idx, float **wt)
{
	double scale = (double)out_n / in_n;
	double stretch = scale < 1 ? 1 / scale : 1;
	double support = kind == 3 ? 0.5 : kernel_support(kind) * stretch;
	int nt = kind == 3 ? 1 : 2 * (int)ceil(support) + 1;

	double *wd = mirad_xmalloc((size_t)nt * sizeof *wd);

	*ntaps = nt;
	*idx = mirad_xcalloc((size_t)out_n * nt, sizeof **idx);
	*wt = mirad_xcalloc((size_t)out_n * nt, sizeof **wt);
	for (int o = 0; o < out_n; o++) {
		double c = (o + 0.5) / scale - 0.5, total = 0;
		int *ix = *idx + (size_t)o * nt;
		float *w = *wt + (size_t)o * nt;
		int lo;

		if (kind == 3) {
			int i = (int)floor(c + 0.5);

			ix[0] = i < 0 ? 0 : i >= in_n ? in_n - 1 : i;
			w[0] = 1;
			continue;
		}
		lo = (int)floor(c - support) + 1;
		for (int t = 0; t < nt; t++) {
			int i = lo + t;

			wd[t] = kernel_value(kind, (i - c) / stretch);
			total += wd[t];
			ix[t] = i < 0 ? 0 : i >= in_n ? in_n - 1 : i;
		}
		for (int t = 0; t < nt; t++)
			w[t] =
			    (float)(total != 0 ? wd[t] / total : t == nt / 2);
	}
	free(wd);
}

/* Resample memory float image IN (B bands) to OW x OH: rows, then
 * columns, each output row a weighted sum of whole input rows. */
static VipsImage *
resample(VipsImage *in, int ow, int oh, int kind, char *err, size_t el)
{
	int w = in->Xsize, h = in->Ysize, b = in->Bands, ntx, nty;
	int *ix, *iy;
	float *wx, *wy, *tmp;
	size_t orow = (size_t)ow * b;
	const float *iv = (const float *)VIPS_IMAGE_ADDR(in, 0, 0);
	VipsImage *o =
	    memory_image(in, ow, oh, b, VIPS_FORMAT_FLOAT, in->Type, err, el);
	float *ov;

	if (o == NULL)
		return NULL;
	ov = (float *)VIPS_IMAGE_ADDR(o, 0, 0);
	axis_taps(w, ow, kind, &ntx, &ix, &wx);
	axis_taps(h, oh, kind, &nty, &iy, &wy);
	tmp = mirad_xmalloc((size_t)h * orow * sizeof *tmp);
	for (int y = 0; y < h; y++) {
		const float *src = iv + (size_t)y * w * b;
		float *dst = tmp + (size_t)y * orow;

		for (int x = 0; x < ow; x++) {
			const int *xi = ix + (size_t)x * ntx;
			const float *xw = wx + (size_t)x * ntx;

			for (int c = 0; c < b; c++) {
				float a = 0;

				for (int t = 0; t < ntx; t++)
					a += xw[t] * src[(size_t)xi[t] * b + c];
				dst[(size_t)x * b + c] = a;
			}
		}
	}
	for (int y = 0; y < oh; y++) {
		float *dst = ov + (size_t)y * orow;

		memset(dst, 0, orow * sizeof *dst);
		for (int t = 0; t < nty; t++) {
			float wv = wy[(size_t)y * nty + t];
			const float *src =
			    tmp + (size_t)iy[(size_t)y * nty + t] * orow;

			if (wv != 0)
				add_scaled(dst, src, wv, orow);
		}
	}
	free(tmp);
	free(ix);
	free(iy);
	free(wx);
	free(wy);
	return o;
}

int
augment_resolution(VipsImage *enc, double scale, int down, int up,
    VipsImage **out, char *err, size_t el)
{
	int w = enc->Xsize, h = enc->Ysize;
	int dw = (int)lround(w * scale), dh = (int)lround(h * scale);
	VipsImage *in, *small;

	if ((in = memory_as(enc, VIPS_FORMAT_FLOAT, err, el)) == NULL)
		return -1;
	small = resample(in, dw < 1 ? 1 : dw, dh < 1 ? 1 : dh,
	    down >= 0 && down < 4 ? down : 0, err, el);
	g_object_unref(in);
	if (small == NULL)
		return -1;
	*out = resample(small, w, h, up >= 0 && up < 4 ? up : 0, err, el);
	g_object_unref(small);
	return *out == NULL ? -1 : 0;
}

int
augment_jpeg(VipsImage *in, int quality, int subsample, VipsImage **out,
    void **bytes, size_t *nbytes, char *err, size_t el)
{
	static const VipsForeignSubsample modes[] = {VIPS_FOREIGN_SUBSAMPLE_ON,
	    VIPS_FOREIGN_SUBSAMPLE_OFF, VIPS_FOREIGN_SUBSAMPLE_AUTO};
	void *buf = NULL;
	size_t len = 0;
	VipsImage *dec = NULL;

	if (vips_jpegsave_buffer(in, &buf, &len, "Q", quality, "subsample_mode",
	        modes[subsample >= 0 && subsample < 3 ? subsample : 0], "strip",
	        TRUE, "optimize_coding", FALSE, NULL) != 0 ||
	    vips_jpegload_buffer(buf, len, &dec, NULL) != 0) {
		mirad_image_take_error(err, el);
		g_free(buf);
		return -1;
	}
	*out = mirad_image_copy_memory_here(dec);
	g_object_unref(dec);
	if (*out == NULL) {
		mirad_image_take_error(err, el);
		g_free(buf);
		return -1;
	}
	if (bytes != NULL) {
		*bytes = buf;
		*nbytes = len;
	} else {
		g_free(buf);
	}
	return 0;
}

int
augment_illumination(VipsImage *lin, const struct augment_light *l,
    VipsImage **out, char *err, size_t el)
{
	int w = lin->Xsize, h = lin->Ysize, lng = w > h ? w : h;
	double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0;
	double rr = sqrt(cx * cx + cy * cy);
	float *field;

	if (l->model == 2) {
		/* A seeded Perlin field in [-1, 1]. */
		struct scratch s = scratch_new(4);
		int cell = (int)lround(l->cell_size * lng);
		int rc =
		    vips_perlin(&s.t[0], w, h, "cell_size", cell < 2 ? 2 : cell,
		        "seed", (int)(uint32_t)augment_mix64(l->seed), NULL) ||
		    vips_linear1(s.t[0], &s.t[1], l->gain, 1.0, NULL) ||
		    vips_multiply(lin, s.t[1], &s.t[2], NULL);

		return scratch_end(&s, rc ? -1 : 0, s.t[2], out, err, el);
	}
	field = float_buffer(w, h, 1);
	if (l->model == 0) {
		double nx = cos(l->angle_deg * G_PI / 180);
		double ny = sin(l->angle_deg * G_PI / 180);

		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) {
				double v = 1 +
				    l->gain * ((x - cx) * nx + (y - cy) * ny) /
				        rr;

				field[(size_t)y * w + x] =
				    (float)(v < 0 ? 0 : v);
			}
	} else {
		/* Inverse square times cosine over a Lambertian plane,
		 * normalised to 1 at the image centre. */
		double lx = l->x * (w - 1), ly = l->y * (h - 1);
		double hh = l->height * lng;
		double ec = hh /
		    pow((cx - lx) * (cx - lx) + (cy - ly) * (cy - ly) + hh * hh,
		        1.5);

		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) {
				double e = hh /
				    pow((x - lx) * (x - lx) +
				            (y - ly) * (y - ly) + hh * hh,
				        1.5);

				field[(size_t)y * w + x] =
				    (float)(1 + l->gain * (e / ec - 1));
			}
	}
	return multiply_field(lin, field, out, err, el);
}

int
augment_glare(VipsImage *lin, double x0, double y0, double radius,
    double amplitude, double haze, VipsImage **out, char *err, size_t el)
{
	float *v;
	VipsImage *im = private_copy(lin, &v, err, el);
	int w, h, lng, b;
	double gx, gy, sg;

	if (im == NULL)
		return -1;
	w = im->Xsize, h = im->Ysize, b = im->Bands;
	lng = w > h ? w : h;
	gx = x0 * (w - 1), gy = y0 * (h - 1), sg = radius * lng;
	{
		/* The Gaussian is separable: W + H exponentials. */
		double *ex = mirad_xmalloc((size_t)w * sizeof *ex);
		double *ey = mirad_xmalloc((size_t)h * sizeof *ey);

		for (int x = 0; x < w; x++)
			ex[x] = exp(-(x - gx) * (x - gx) / (2 * sg * sg));
		for (int y = 0; y < h; y++)
			ey[y] = amplitude *
			    exp(-(y - gy) * (y - gy) / (2 * sg * sg));
		for (int y = 0; y < h; y++)
			for (int x = 0; x < w; x++) {
				float add = (float)(ey[y] * ex[x] + haze);

				for (int c = 0; c < b; c++)
					v[((size_t)y * w + x) * b + c] += add;
			}
		free(ex);
		free(ey);
	}
	*out = im;
	return 0;
}

/* sRGB 0-255 to CIE Lab (D65), as libvips' scRGB -> LAB does. */
static void
srgb_to_lab(const double rgb[3], double lab[3])
{
	static const double m[9] = {0.4124564, 0.3575761, 0.1804375, 0.2126729,
	    0.7151522, 0.0721750, 0.0193339, 0.1191920, 0.9503041};
	static const double wn[3] = {0.95047, 1.0, 1.08883};
	double l[3], f[3];

	for (int i = 0; i < 3; i++)
		l[i] = srgb_decode(rgb[i] / 255.0);
	for (int i = 0; i < 3; i++) {
		double t = (m[3 * i] * l[0] + m[3 * i + 1] * l[1] +
		               m[3 * i + 2] * l[2]) /
		    wn[i];

		f[i] =
		    t > 216.0 / 24389 ? cbrt(t) : (24389.0 / 27 * t + 16) / 116;
	}
	lab[0] = 116 * f[1] - 16;
	lab[1] = 500 * (f[0] - f[1]);
	lab[2] = 200 * (f[1] - f[2]);
}

int
augment_background(VipsImage *lin, VipsImage *mask,
    const struct augment_background *b, VipsImage **out, char *err, size_t el)
{
	struct scratch s = scratch_new(24);
	double lab[3], neg[3], ones[3] = {1, 1, 1}, gain[3], target[3];
	VipsImage *alpha;
	int rc;

	srgb_to_lab(b->border_rgb, lab);
	{
		/* Tint keeps the background's luminance and takes the
		 * target's chromaticity: per-band gains (t/Yt) / (s/Ys). */
		double src[3], ys, yt;

		for (int i = 0; i < 3; i++) {
			src[i] = srgb_decode(b->border_rgb[i] / 255.0);
			target[i] = srgb_decode(b->target_rgb[i] / 255.0);
			neg[i] = -lab[i];
		}
		ys = 0.2126729 * src[0] + 0.7151522 * src[1] +
		    0.0721750 * src[2];
		yt = 0.2126729 * target[0] + 0.7151522 * target[1] +
		    0.0721750 * target[2];
		for (int i = 0; i < 3; i++)
			gain[i] = src[i] > 1e-6 && yt > 1e-6
			    ? (target[i] / yt) / (src[i] / ys)
			    : 1;
	}
	/* Background = close (dE76) to the border colour. */
	rc = vips_copy(lin, &s.t[0], "interpretation",
	         VIPS_INTERPRETATION_scRGB, NULL) ||
	    vips_colourspace(s.t[0], &s.t[1], VIPS_INTERPRETATION_LAB, NULL) ||
	    vips_linear(s.t[1], &s.t[2], ones, neg, 3, NULL) ||
	    vips_multiply(s.t[2], s.t[2], &s.t[3], NULL) ||
	    vips_bandmean(s.t[3], &s.t[4], NULL) ||
	    vips_linear1(s.t[4], &s.t[5], 3.0, 0.0, NULL) ||
	    vips_relational_const1(s.t[5], &s.t[6],
	        VIPS_OPERATION_RELATIONAL_LESS, b->delta_e * b->delta_e,
	        NULL) ||
	    vips_linear1(s.t[6], &s.t[7], 1.0 / 255, 0.0, NULL);
	alpha = s.t[7];
	if (rc == 0 && mask != NULL) {
		/* Keep off the defect: dilate the mask by a square of
		 * PROTECT px (float box filter > 0), remove it from alpha. */
		int r = (int)ceil(b->protect_px), n = 2 * r + 1;
		double *box = mirad_xmalloc((size_t)n * sizeof *box);

		for (int i = 0; i < n; i++)
			box[i] = 1;
		s.t[8] = vips_image_new_matrix_from_array(n, 1, box, n);
		free(box);
		rc = s.t[8] == NULL ||
		    vips_cast(mask, &s.t[9], VIPS_FORMAT_FLOAT, NULL) ||
		    vips_convsep(s.t[9], &s.t[10], s.t[8], "precision",
		        VIPS_PRECISION_FLOAT, NULL) ||
		    vips_relational_const1(s.t[10], &s.t[11],
		        VIPS_OPERATION_RELATIONAL_LESSEQ, 0.0, NULL) ||
		    vips_linear1(s.t[11], &s.t[12], 1.0 / 255, 0.0, NULL) ||
		    vips_multiply(alpha, s.t[12], &s.t[13], NULL);
		alpha = s.t[13];
	}
	if (rc == 0 && b->feather_px >= 0.3) {
		rc = vips_gaussblur(alpha, &s.t[14], b->feather_px, "precision",
		    VIPS_PRECISION_FLOAT, NULL);
		alpha = s.t[14];
	}
	if (rc == 0)
		rc = vips_linear1(alpha, &s.t[15], b->strength, 0.0, NULL);
	/* target image: tint (per-band gain) or a flat colour. */
	if (rc == 0) {
		if (b->mode == 0) {
			double zero[3] = {0, 0, 0};

			rc = vips_linear(lin, &s.t[16], gain, zero, 3, NULL);
		} else {
			double zero[3] = {0, 0, 0};

			rc = vips_black(&s.t[17], lin->Xsize, lin->Ysize,
			         "bands", 3, NULL) ||
			    vips_linear(
			        s.t[17], &s.t[16], zero, target, 3, NULL);
		}
	}
	/* out = lin + alpha (target - lin) */
	if (rc == 0)
		rc = vips_subtract(s.t[16], lin, &s.t[18], NULL) ||
		    vips_multiply(s.t[18], s.t[15], &s.t[19], NULL) ||
		    vips_add(lin, s.t[19], &s.t[20], NULL) ||
		    vips_copy(s.t[20], &s.t[21], "interpretation",
		        VIPS_INTERPRETATION_scRGB, NULL);
	return scratch_end(&s, rc ? -1 : 0, s.t[21], out, err, el);
}

/* The chain. */

/*
 * After a step that wrote *NEXT: render it to memory and make it current.
 * libvips recomputes an image once per consumer, and several steps (clips,
 * noise, the sRGB encode) read their input more than once: rendering each
 * step's result bounds the work per step to one pass, for a few
 * full-size float buffers per image.  NEXT is passed by address because it
 * is only set once the step's call has run.
 */
static int
replace(VipsImage **cur, int rc, VipsImage **next, char *err, size_t el)
{
	VipsImage *mem;

	if (rc != 0)
		return rc;
	mem = mirad_image_copy_memory_here(*next);
	g_object_unref(*next);
	*next = NULL;
	if (mem == NULL) {
		mirad_image_take_error(err, el);
		return -1;
	}
	g_object_unref(*cur);
	*cur = mem;
	return 0;
}

/* What the steps of one render share. */
struct chain {
	const struct augment_profile *p;
	const struct augment_sample *s;
	VipsImage *mask;      /* the source's mask or NULL (borrowed) */
	VipsImage *cur;       /* the image so far */
	VipsImage *next;      /* a step's result, before replace() */
	VipsImage *wmask;     /* the warped mask, once warped, or NULL */
	double border[3];     /* sRGB colour of the image's border */
	int lng;              /* the longer side, in pixels */
	int jpeg_q, jpeg_sub; /* the JPEG effect's draw, for the end */
};

/* A step of the chain: apply effect *I of C's profile to C->cur.  It may
 * consume the next effect too (advancing *I).  0 or -1 (ERR). */
typedef int (*chain_step)(struct chain *c, size_t *i, char *err, size_t el);

#define STEP_VALUES(c, i) ((const double(*)[AUGMENT_MAX_DIMS])(c)->s->value[i])

/* C->cur replaced by what a step wrote to C->next (RC its status). */
static int
advance(struct chain *c, int rc, char *err, size_t el)
{
	return replace(&c->cur, rc, &c->next, err, el);
}

static int
step_warp(struct chain *c, size_t *i, char *err, size_t el)
{
	const struct augment_profile *p = c->p;
	const struct augment_sample *s = c->s;
	const double(*v)[AUGMENT_MAX_DIMS] = STEP_VALUES(c, *i);
	struct augment_geometry g = {0, 1, 0, 0, {{0}}, 0, 0};
	double fill[3];
	VipsImage *nm = NULL;
	int rc;

	if (p->effects[*i].type == AUGMENT_LENS_DISTORTION) {
		/* Only reached without a viewpoint effect before it, or as
		 * its own second warp. */
		g.k1 = v[0][0];
		g.k2 = v[1][0];
	} else {
		g.rotate_deg = v[0][0];
		g.scale = v[1][0];
		g.shift_x = v[2][0];
		g.shift_y = v[3][0];
		for (int k = 0; k < 4; k++)
			for (int d = 0; d < 2; d++) {
				uint64_t key = augment_mix64(s->aux_seed[*i] ^
				    (uint64_t)(2 * k + d + 1));

				g.corner[k][d] =
				    v[4][0] * (2 * augment_u01(key) - 1);
			}
		/* Fold a following lens effect into the same map: one
		 * resample. */
		if (*i + 1 < p->neffects &&
		    p->effects[*i + 1].type == AUGMENT_LENS_DISTORTION &&
		    s->applied[*i + 1]) {
			g.k1 = s->value[*i + 1][0][0];
			g.k2 = s->value[*i + 1][1][0];
			(*i)++;
		}
	}
	if (augment_geometry_is_identity(&g))
		return 0;
	for (int k = 0; k < 3; k++)
		fill[k] = srgb_decode(c->border[k] / 255.0);
	rc = augment_warp(c->cur, c->wmask ? c->wmask : c->mask, &g, fill,
	    &c->next, &nm, err, el);
	if (rc == 0) {
		advance(c, 0, err, el);
		if (c->wmask != NULL)
			g_object_unref(c->wmask);
		c->wmask = nm;
	}
	return rc;
}

static int
step_background(struct chain *c, size_t *i, char *err, size_t el)
{
	const struct augment_effect *e = &c->p->effects[*i];
	const double(*v)[AUGMENT_MAX_DIMS] = STEP_VALUES(c, *i);
	struct augment_background b = {e->choice[0],
	    {c->border[0], c->border[1], c->border[2]},
	    {v[0][0], v[0][1], v[0][2]}, v[1][0], v[2][0] * c->lng,
	    v[3][0] * c->lng, v[4][0]};

	if (b.strength <= 0)
		return 0;
	return advance(c,
	    augment_background(
	        c->cur, c->wmask ? c->wmask : c->mask, &b, &c->next, err, el),
	    err, el);
}

static int
step_illumination(struct chain *c, size_t *i, char *err, size_t el)
{
	const double(*v)[AUGMENT_MAX_DIMS] = STEP_VALUES(c, *i);
	struct augment_light l = {c->p->effects[*i].choice[0], v[0][0], v[1][0],
	    v[2][0], v[2][1], v[3][0], v[4][0], c->s->aux_seed[*i]};

	if (l.gain <= 0)
		return 0;
	return advance(
	    c, augment_illumination(c->cur, &l, &c->next, err, el), err, el);
}

static int
step_glare(struct chain *c, size_t *i, char *err, size_t el)
{
	const double(*v)[AUGMENT_MAX_DIMS] = STEP_VALUES(c, *i);

	if (!(v[2][0] > 0 || v[3][0] > 0))
		return 0;
	return advance(c,
	    augment_glare(c->cur, v[0][0], v[0][1], v[1][0], v[2][0], v[3][0],
	        &c->next, err, el),
	    err, el);
}

static int
step_vignetting(struct chain *c, size_t *i, char *err, size_t el)
{
	const double(*v)[AUGMENT_MAX_DIMS] = STEP_VALUES(c, *i);

	if (!(v[0][0] < 1))
		return 0;
	return advance(
	    c, augment_vignetting(c->cur, v[0][0], &c->next, err, el), err, el);
}

static int
step_defocus(struct chain *c, size_t *i, char *err, size_t el)
{
	const double(*v)[AUGMENT_MAX_DIMS] = STEP_VALUES(c, *i);

	if (!(v[0][0] * c->lng >= 0.25))
		return 0;
	return advance(c,
	    augment_defocus(c->cur, v[0][0] * c->lng, &c->next, err, el), err,
	    el);
}

static int
step_motion_blur(struct chain *c, size_t *i, char *err, size_t el)
{
	const double(*v)[AUGMENT_MAX_DIMS] = STEP_VALUES(c, *i);

	if (!(v[0][0] * c->lng >= 0.5))
		return 0;
	return advance(c,
	    augment_motion_blur(
	        c->cur, v[0][0] * c->lng, v[1][0], &c->next, err, el),
	    err, el);
}

static int
step_exposure(struct chain *c, size_t *i, char *err, size_t el)
{
	const double(*v)[AUGMENT_MAX_DIMS] = STEP_VALUES(c, *i);

	if (v[0][0] == 0)
		return 0;
	return advance(
	    c, augment_exposure(c->cur, v[0][0], &c->next, err, el), err, el);
}

static int
step_sensor_noise(struct chain *c, size_t *i, char *err, size_t el)
{
	const double(*v)[AUGMENT_MAX_DIMS] = STEP_VALUES(c, *i);

	if (!(v[0][0] > 0 || v[1][0] > 0))
		return 0;
	return advance(c,
	    augment_sensor_noise(c->cur, v[0][0], v[1][0], c->s->aux_seed[*i],
	        &c->next, err, el),
	    err, el);
}

static int
step_white_balance(struct chain *c, size_t *i, char *err, size_t el)
{
	const double(*v)[AUGMENT_MAX_DIMS] = STEP_VALUES(c, *i);

	if (v[0][0] == v[1][0])
		return 0;
	return advance(c,
	    augment_white_balance(c->cur, v[0][0], v[1][0],
	        c->p->effects[*i].choice[0], &c->next, err, el),
	    err, el);
}

static int
step_tone_curve(struct chain *c, size_t *i, char *err, size_t el)
{
	const double(*v)[AUGMENT_MAX_DIMS] = STEP_VALUES(c, *i);

	if (!(v[0][0] != 1 || v[1][0] != 1))
		return 0;
	return advance(c,
	    augment_tone_curve(c->cur, v[0][0], v[1][0], &c->next, err, el),
	    err, el);
}

static int
step_resolution(struct chain *c, size_t *i, char *err, size_t el)
{
	const struct augment_effect *e = &c->p->effects[*i];
	const double(*v)[AUGMENT_MAX_DIMS] = STEP_VALUES(c, *i);

	if (!(v[0][0] < 1))
		return 0;
	return advance(c,
	    augment_resolution(
	        c->cur, v[0][0], e->choice[0], e->choice[1], &c->next, err, el),
	    err, el);
}

/* The JPEG round trip comes after the quantisation: only its draw is
 * kept here. */
static int
step_jpeg(struct chain *c, size_t *i, char *err, size_t el)
{
	(void)err;
	(void)el;
	c->jpeg_q = (int)lround(STEP_VALUES(c, *i)[0][0]);
	c->jpeg_sub = c->p->effects[*i].choice[0];
	return 0;
}

/* Each effect's step, by type (the chain runs them in the profile's
 * order, which is this order). */
static const chain_step chain_steps[AUGMENT_NEFFECTS] = {
    [AUGMENT_VIEWPOINT] = step_warp,
    [AUGMENT_LENS_DISTORTION] = step_warp,
    [AUGMENT_BACKGROUND] = step_background,
    [AUGMENT_ILLUMINATION] = step_illumination,
    [AUGMENT_GLARE] = step_glare,
    [AUGMENT_VIGNETTING] = step_vignetting,
    [AUGMENT_DEFOCUS] = step_defocus,
    [AUGMENT_MOTION_BLUR] = step_motion_blur,
    [AUGMENT_EXPOSURE] = step_exposure,
    [AUGMENT_SENSOR_NOISE] = step_sensor_noise,
    [AUGMENT_WHITE_BALANCE] = step_white_balance,
    [AUGMENT_TONE_CURVE] = step_tone_curve,
    [AUGMENT_RESOLUTION] = step_resolution,
    [AUGMENT_JPEG] = step_jpeg,
};

static int
render_chain(VipsImage *src, VipsImage *mask, const struct augment_profile *p,
    const struct augment_sample *s, int jpeg_out_q, VipsImage **out,
    VipsImage **out_mask, void **jpeg_bytes, size_t *jpeg_len, char *err,
    size_t el)
{
	int w = src->Xsize, h = src->Ysize;
	bool grey = src->Bands <= 2, encoded = false;
	bool have_border = false;
	struct chain c = {
	    p, s, mask, NULL, NULL, NULL, {0, 0, 0}, w > h ? w : h, 0, 0};
	VipsImage *u8 = NULL;
	int rc;

	*out = NULL;
	*out_mask = NULL;
	if (jpeg_bytes != NULL)
		*jpeg_bytes = NULL;

	rc = augment_to_linear(src, &c.next, err, el);
	if (rc == 0) {
		c.cur = vips_image_new();
		rc = advance(&c, 0, err, el);
	}
	for (size_t i = 0; i < p->neffects && rc == 0; i++) {
		const struct augment_effect *e = &p->effects[i];

		if (!s->applied[i])
			continue;
		/* The border colour fills what a warp uncovers and is the
		 * background's reference: measured once, on the source. */
		if (!have_border &&
		    (e->type == AUGMENT_VIEWPOINT ||
		        e->type == AUGMENT_LENS_DISTORTION ||
		        e->type == AUGMENT_BACKGROUND)) {
			int band = (int)lround(0.03 * (w < h ? w : h));

			if (e->type == AUGMENT_BACKGROUND)
				band = (int)lround(
				    s->value[i][5][0] * (w < h ? w : h));
			rc =
			    augment_border_colour(src, band, c.border, err, el);
			have_border = true;
			if (rc != 0)
				break;
		}
		if (!encoded && e->type >= AUGMENT_TONE_CURVE) {
			rc = advance(&c,
			    augment_to_encoded(c.cur, &c.next, err, el), err,
			    el);
			encoded = true;
			if (rc != 0)
				break;
		}
		if (chain_steps[e->type] != NULL)
			rc = chain_steps[e->type](&c, &i, err, el);
	}
	if (rc == 0 && !encoded)
		rc = advance(
		    &c, augment_to_encoded(c.cur, &c.next, err, el), err, el);
	if (rc == 0)
		rc = augment_quantise(c.cur, grey, &u8, err, el);
	if (c.cur != NULL)
		g_object_unref(c.cur);
	if (rc == 0 && (c.jpeg_q > 0 || jpeg_out_q > 0)) {
		rc = augment_jpeg(u8, c.jpeg_q > 0 ? c.jpeg_q : jpeg_out_q,
		    c.jpeg_sub, out, jpeg_out_q > 0 ? jpeg_bytes : NULL,
		    jpeg_len, err, el);
	} else if (rc == 0) {
		*out = mirad_image_copy_memory_here(u8);
		if (*out == NULL) {
			mirad_image_take_error(err, el);
			rc = -1;
		}
	}
	if (u8 != NULL)
		g_object_unref(u8);
	if (rc != 0) {
		if (c.wmask != NULL)
			g_object_unref(c.wmask);
		return -1;
	}
	if (c.wmask != NULL) {
		*out_mask = mirad_image_copy_memory_here(c.wmask);
		g_object_unref(c.wmask);
		if (*out_mask == NULL) {
			mirad_image_take_error(err, el);
			g_object_unref(*out);
			*out = NULL;
			return -1;
		}
	}
	return 0;
}

int
augment_render(VipsImage *src, VipsImage *mask, const struct augment_profile *p,
    const struct augment_sample *s, int jpeg_out_q, VipsImage **out,
    VipsImage **out_mask, void **jpeg_bytes, size_t *jpeg_len, char *err,
    size_t el)
{
	VipsImage *decoded;
	int rc;

	/* Decode once: the linear copy and the border colour both read the
	 * source. */
	if ((decoded = mirad_image_copy_memory_here(src)) == NULL) {
		mirad_image_take_error(err, el);
		return -1;
	}
	render_in_place = true;
	rc = render_chain(decoded, mask, p, s, jpeg_out_q, out, out_mask,
	    jpeg_bytes, jpeg_len, err, el);
	render_in_place = false;
	g_object_unref(decoded);
	return rc;
}
