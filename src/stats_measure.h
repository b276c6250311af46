/* SPDX-License-Identifier: MIT */
/*
 * mirad-stats: per-image measures computed from the pixels.
 *
 * Every measure is computed in one pass over an 8-bit copy of the image
 * with integer accumulators (the linear-light sums use a 16-bit fixed-point
 * table), so the results are exact and do not depend on libvips' thread
 * count or on the order in which images are processed.
 */
#ifndef STATS_MEASURE_H
#define STATS_MEASURE_H

#include "mirad_platform.h"

#include "mirad_image.h"

/* A pixel differs from the background (foreground) when one channel is
 * more than this many 8-bit levels from the background colour. */
#define STATS_FOREGROUND_DELTA 48
/* The image is resized to this size (both sides) by typical AD pipelines;
 * a region smaller than one pixel there is "tiny". */
#define STATS_TINY_SIDE 256

struct stats_image_measure {
	int width, height;
	int bands;          /* bands of the file, alpha included */
	char colour[8];     /* "grey", "greya", "rgb", "rgba" */
	double luma_srgb;   /* mean Rec. 709 luma of the sRGB values, 0..1 */
	double luma_linear; /* mean relative luminance (linear light), 0..1 */
	double contrast;    /* RMS contrast: std of the sRGB luma, 0..1 */
	double sharpness;   /* variance of the 4-neighbour Laplacian of the
	                       8-bit luma (0 for a flat image) */
	double noise;       /* Immerkaer's noise sigma, 8-bit levels */
	int background[3];  /* per-channel median of the border strip */
	double fg_share;    /* share of foreground pixels, 0..1 */
	double fg_luma_linear; /* mean linear luminance of the foreground
	                          (of the whole image when there is none) */
	double fg_x, fg_y;     /* foreground centroid, fractions of the size
	                          (0.5 when there is no foreground) */
	int jpeg_quality;      /* estimated IJG quality, 0 when not a JPEG */
};

/*
 * Measure IM (any band count and sample format; alpha is ignored, 16-bit
 * samples keep their high byte).  Returns 0, or -1 with libvips' reason in
 * ERR.
 */
int stats_measure_image(
    VipsImage *im, struct stats_image_measure *out, char *err, size_t errlen);

/*
 * The same on an interleaved 8-bit buffer of W x H pixels with BANDS (1 or
 * 3) bands.  Leaves bands, colour and jpeg_quality untouched.
 */
void stats_measure_pixels(const uint8_t *px, int w, int h, int bands,
    struct stats_image_measure *out);

/*
 * Estimate the IJG quality (1..100) of the JPEG file at PATH from its
 * luminance quantisation table (libvips does not expose the tables).
 * Returns 0 when PATH is not a JPEG or has no table.
 */
int stats_jpeg_quality(const char *path);

struct stats_mask_measure {
	int width, height;
	uint64_t defect_pixels; /* non-zero pixels */
	size_t regions;         /* 8-connected regions */
	uint64_t *region_sizes; /* pixels per region, ascending; owned, free
	                           with stats_mask_measure_clear() */
	size_t tiny_regions;    /* regions below one pixel at 256 x 256 */
};

/* Measure a mask (any non-zero band marks a defect).  Returns 0, or -1
 * with ERR set. */
int stats_measure_mask(
    VipsImage *mask, struct stats_mask_measure *out, char *err, size_t errlen);
/* The same on a W x H buffer of one byte per pixel (non-zero = defect). */
void stats_measure_mask_pixels(
    const uint8_t *px, int w, int h, struct stats_mask_measure *out);
/* Free the region sizes; OUT can be reused. */
void stats_mask_measure_clear(struct stats_mask_measure *m);

/* Is a region of AREA pixels in a W x H mask below one pixel at 256 x
 * 256? */
bool stats_region_is_tiny(uint64_t area, int w, int h);

#endif
