/* SPDX-License-Identifier: MIT */
/*
 * mirad-augment pixel effects on libvips images (handles from
 * mirad_image.h).  Colour work happens in linear light: 3-band float
 * images with sRGB primaries (scRGB), 1.0 = full well.  Every function
 * returns a new reference in *OUT (caller g_object_unref()s) and 0, or -1
 * with the libvips message in ERR.  All paths stay in float so results do
 * not depend on libvips' vector path or thread count.
 */
#ifndef AUGMENT_EFFECTS_H
#define AUGMENT_EFFECTS_H

#include "mirad_platform.h"

#include <vips/vips.h>

#include "augment_profile.h"

/* 8-bit sRGB (1, 2, 3 or 4 bands; alpha dropped, grey replicated) to
 * 3-band linear float, through an exact 256-entry table. */
int augment_to_linear(VipsImage *in, VipsImage **out, char *err, size_t el);
/* Linear to encoded sRGB in [0, 1] (float), clipping to [0, 1] first. */
int augment_to_encoded(VipsImage *in, VipsImage **out, char *err, size_t el);
/* Encoded [0, 1] float to 8-bit with rounding; GREY averages the bands to
 * one. */
int augment_quantise(
    VipsImage *in, bool grey, VipsImage **out, char *err, size_t el);

/* Mean sRGB colour (0-255) of a border band BAND px wide of 8-bit IN;
 * integer sums, so the result is exact at any thread count. */
int augment_border_colour(
    VipsImage *in, int band, double rgb[3], char *err, size_t el);

/* Geometry: the output-to-input map of viewpoint and lens distortion. */
struct augment_geometry {
	double rotate_deg, scale, shift_x, shift_y; /* shift: fractions */
	double corner[4][2]; /* perspective offsets, fractions of W, H */
	double k1, k2;       /* inverse-map radial terms at the
	                        half-diagonal */
};
bool augment_geometry_is_identity(const struct augment_geometry *g);
/* Warp IMAGE (bilinear, border filled with FILL) and MASK (nearest, fill
 * 0; may be NULL) with the same map. */
int augment_warp(VipsImage *image, VipsImage *mask,
    const struct augment_geometry *g, const double fill[3],
    VipsImage **out_image, VipsImage **out_mask, char *err, size_t el);

int augment_exposure(
    VipsImage *lin, double ev, VipsImage **out, char *err, size_t el);
/* Corner value VC in (0, 1]: cos^4 law with the matching focal length. */
int augment_vignetting(
    VipsImage *lin, double vc, VipsImage **out, char *err, size_t el);
/* Bradford cast from a REF_K white to a CCT_K white on LOCUS (0
 * Planckian, 1 daylight).  The 3x3 matrix is in M (row-major). */
void augment_cast_matrix(double cct_k, double ref_k, int locus, double m[9]);
int augment_white_balance(VipsImage *lin, double cct_k, double ref_k, int locus,
    VipsImage **out, char *err, size_t el);
/* Disk PSF of radius R px. */
int augment_defocus(
    VipsImage *lin, double r, VipsImage **out, char *err, size_t el);
/* Box line PSF of LENGTH px at ANGLE degrees. */
int augment_motion_blur(VipsImage *lin, double length, double angle,
    VipsImage **out, char *err, size_t el);
/* y = x + sqrt(a x + b) N(0,1); N keyed on (SEED, x, y, band). */
int augment_sensor_noise(VipsImage *lin, double a, double b, uint64_t seed,
    VipsImage **out, char *err, size_t el);
/* Free this thread's cached tables (call before a worker thread ends). */
void augment_thread_cleanup(void);
/* On encoded values: v^gamma, then 0.5 + contrast (v - 0.5). */
int augment_tone_curve(VipsImage *enc, double gamma, double contrast,
    VipsImage **out, char *err, size_t el);
/* Downsample by SCALE and back to the input size (kernels: 0 lanczos3,
 * 1 cubic, 2 linear, 3 nearest). */
int augment_resolution(VipsImage *enc, double scale, int down, int up,
    VipsImage **out, char *err, size_t el);
/* JPEG round trip of 8-bit IN at QUALITY; SUBSAMPLE 0 on, 1 off, 2 auto.
 * The encoded bytes are returned in *BYTES (g_free) when BYTES is
 * non-NULL. */
int augment_jpeg(VipsImage *in, int quality, int subsample, VipsImage **out,
    void **bytes, size_t *nbytes, char *err, size_t el);

/* Illumination fields, multiplicative (MODEL 0 ramp, 1 point light, 2
 * random field with SEED). */
struct augment_light {
	int model;
	double gain, angle_deg, x, y, height, cell_size;
	uint64_t seed;
};
int augment_illumination(VipsImage *lin, const struct augment_light *l,
    VipsImage **out, char *err, size_t el);
/* Additive glare: AMPLITUDE * Gaussian(x, y, radius) + HAZE. */
int augment_glare(VipsImage *lin, double x, double y, double radius,
    double amplitude, double haze, VipsImage **out, char *err, size_t el);

/* Background change: pixels within DE of the border colour BORDER_RGB,
 * outside the dilated MASK (may be NULL), are tinted (MODE 0) or replaced
 * (MODE 1) toward TARGET_RGB. */
struct augment_background {
	int mode;
	double border_rgb[3], target_rgb[3];
	double delta_e, protect_px, feather_px, strength;
};
int augment_background(VipsImage *lin, VipsImage *mask,
    const struct augment_background *b, VipsImage **out, char *err, size_t el);

/*
 * The whole chain for one output: SRC (8-bit, as loaded), MASK (8-bit
 * binarised or NULL), profile P and sample S.  *OUT is the final 8-bit
 * image (in memory), *OUT_MASK the warped mask or NULL when no geometric
 * effect applied.  When JPEG_OUT_Q > 0 the output is to be saved as JPEG:
 * the final encode happens here (quality from the jpeg effect if applied,
 * else JPEG_OUT_Q) and its bytes are returned in *JPEG_BYTES.
 */
int augment_render(VipsImage *src, VipsImage *mask,
    const struct augment_profile *p, const struct augment_sample *s,
    int jpeg_out_q, VipsImage **out, VipsImage **out_mask, void **jpeg_bytes,
    size_t *jpeg_len, char *err, size_t el);

#endif
