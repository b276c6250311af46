/* SPDX-License-Identifier: MIT */
/*
 * TIFF through libtiff: the header and integrity reader behind
 * mirad_codec_header() and mirad_codec_check(), and the pixels of anomaly
 * maps stored as float32 or float64 TIFF.  The one module that links
 * libtiff: mirad_codec reaches it through a weak reference, so that a tool
 * reading headers only does not load libtiff and its libraries.
 *
 * Errors: functions return -1 and write a short reason ("truncated TIFF",
 * "damaged TIFF") into the caller's ERR buffer.  Thread-safe: no global
 * state is touched.
 */
#ifndef MIRAD_CODEC_TIFF_H
#define MIRAD_CODEC_TIFF_H

#include "mirad_platform.h"

#include "mirad_codec.h"

/*
 * The TIFF open on FD (read from offset 0 with pread: the descriptor is
 * neither moved nor closed), as mirad_codec_header() (CHECK false: INFO
 * filled) or mirad_codec_check() (CHECK true: every strip or tile
 * decoded; INFO may be NULL) describe it.  Returns 0, -1 with ERR
 * ("truncated TIFF", "damaged TIFF"), or MIRAD_CODEC_UNKNOWN for a TIFF
 * variant not described here (libtiff before 4.5: every TIFF).
 */
int mirad_codec_tiff_run(int fd, bool check, struct mirad_codec_info *info,
    char *err, size_t errlen);

/*
 * Read the one-band float32 TIFF (an anomaly map) open on FD, from offset
 * 0 with pread, when it has the plain layout read here exactly: strips,
 * the host's byte order, no predictor, grey, top-left orientation, at
 * most MAX_PIXELS pixels.  Returns 0 with *PIXELS new (row-major, *WIDTH
 * x *HEIGHT; the caller frees it with free()), -1 with ERR (a damaged
 * file: "truncated TIFF", "damaged TIFF"), or MIRAD_CODEC_UNKNOWN for
 * anything else, which libvips should read (another layout, not a TIFF,
 * libtiff before 4.5).  *PIXELS is NULL unless 0 is returned.
 */
int mirad_codec_read_float32_tiff(int fd, uint64_t max_pixels, float **pixels,
    size_t *width, size_t *height, char *err, size_t errlen);

/*
 * Read the one-band float64 TIFF open on FD (strips or tiles, as tifffile
 * and NumPy write them; libvips refuses 64-bit float samples), each value
 * rounded to the nearest float32.  Returns 0 with *PIXELS new as above,
 * -1 with ERR (more than one band, a size of 0 or past MAX_PIXELS, a
 * damaged file: "damaged TIFF: <libtiff's reason>"), or MIRAD_CODEC_UNKNOWN
 * when the bytes are not a float64 TIFF (or libtiff is older than 4.5).
 * *PIXELS is NULL unless 0 is returned.
 */
int mirad_codec_read_float64_tiff(int fd, uint64_t max_pixels, float **pixels,
    size_t *width, size_t *height, char *err, size_t errlen);

#endif
