/* SPDX-License-Identifier: MIT */
/*
 * mirad-eval's inputs: anomaly maps (float32, float64 or 16/8-bit TIFF,
 * PNG, and NumPy .npy float32) and ground-truth masks, decoded to plain
 * arrays, and the bilinear resize used when a map's size differs from its
 * image.  float64 TIFF, which libvips refuses, is read with libtiff.
 *
 * Errors: functions return -1 (or NULL) and write a one-line reason into the
 * caller's ERR buffer; they never print.
 */
#ifndef EVAL_MAPS_H
#define EVAL_MAPS_H

#include "mirad_platform.h"

/* A decoded anomaly map, row-major. */
struct eval_map {
	float *data; /* owned; free with eval_map_clear() */
	size_t width, height;
	bool rounded; /* values were float64 and were rounded to float32 */
};

/* Free M's pixels and zero it.  Accepts an already cleared map. */
void eval_map_clear(struct eval_map *m);

/*
 * The map file for STEM in directory DIR: exactly one of STEM plus .tiff,
 * .tif, .TIFF, .TIF, .png, .PNG, .npy must exist.  Returns a new path
 * (caller frees), or NULL with "no map" / "several maps" in ERR.
 */
char *eval_map_find(
    const char *dir, const char *stem, char *err, size_t errlen);

/*
 * Read the map at PATH into OUT (one band; integer samples convert exactly,
 * float64 is rounded to float32 and flagged).  Non-finite values are
 * errors, reported with their pixel position.
 */
int eval_map_read(
    const char *path, struct eval_map *out, char *err, size_t errlen);

/*
 * Parse an in-memory .npy file (format versions 1-3, dtype '<f4', C order,
 * shape (H, W), (1, H, W) or (H, W, 1)).  On success *DATA points into BUF
 * (borrowed; may be unaligned: copy it out), with *WIDTH and *HEIGHT set.
 */
int eval_npy_parse(const void *buf, size_t len, const void **data,
    size_t *width, size_t *height, char *err, size_t errlen);

/*
 * The mask at PATH as 0/1 bytes (1 where any band is non-zero, alpha
 * ignored), WIDTH*HEIGHT of them; *MASK is new (caller frees with free()).
 */
int eval_mask_read(const char *path, uint8_t **mask, size_t *width,
    size_t *height, char *err, size_t errlen);

/*
 * Bilinear resize of IN (IW x IH) into OUT (OW x OH, caller-owned) with
 * half-pixel centres and edge clamping: the convention of OpenCV's
 * INTER_LINEAR and torch's interpolate(align_corners=False), which the
 * Python evaluation code uses.
 */
void eval_resize_bilinear(
    const float *in, size_t iw, size_t ih, float *out, size_t ow, size_t oh);

#endif
