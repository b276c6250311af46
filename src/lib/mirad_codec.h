/* SPDX-License-Identifier: MIT */
/*
 * PNG, JPEG and TIFF through their reference libraries (libpng,
 * libjpeg-turbo, libtiff), for the two questions asked of every file of a
 * dataset: its header (size, bands, bit depth), and whether it is intact.
 * Both are much cheaper here than through libvips, which builds an object
 * and sniffs every loader per file, and neither needs libvips started.
 * TIFF is read by mirad_codec_tiff (the module that links libtiff), when
 * the program links it: otherwise a TIFF is MIRAD_CODEC_UNKNOWN.
 *
 * Errors: functions return -1 and write a short reason ("truncated JPEG",
 * "truncated or damaged PNG") into the caller's ERR buffer.  Thread-safe:
 * no global state is touched.
 */
#ifndef MIRAD_CODEC_H
#define MIRAD_CODEC_H

#include "mirad_platform.h"

/* Returned when the bytes are none of PNG, JPEG or TIFF, or a TIFF
 * variant this module does not describe: ask libvips. */
#define MIRAD_CODEC_UNKNOWN 1

struct mirad_codec_info {
	int width, height;
	int bands;      /* as libvips loads it: a palette PNG is 3 or 4 */
	int bits;       /* bits per sample as loaded: 8 or 16 */
	bool cmyk;      /* a CMYK JPEG or TIFF (bands counts the ink) */
	char format[8]; /* "png", "jpeg", "tiff" */
};

/*
 * Read the header of the regular file open on FD (read from offset 0 with
 * pread: the descriptor is neither moved nor closed).  Returns 0, -1 with
 * ERR (a damaged or cut header), or MIRAD_CODEC_UNKNOWN.
 */
int mirad_codec_header(
    int fd, struct mirad_codec_info *info, char *err, size_t errlen);

/*
 * Is the file open on FD intact?  A PNG is decoded row by row (every
 * chunk's CRC, the compressed stream and the end chunk are checked); a
 * JPEG's entropy-coded data is decoded at 1/8 scale (every block is read,
 * most of the inverse DCT is skipped), and any libjpeg warning about
 * corrupt data counts as damage; a TIFF's strips or tiles are decoded.
 * Returns 0, -1 with ERR ("truncated JPEG", "damaged JPEG", ...), or
 * MIRAD_CODEC_UNKNOWN.
 */
int mirad_codec_check(int fd, char *err, size_t errlen);

/* ---- masks ------------------------------------------------------------ */

/*
 * A mask as every consumer reads it: one byte per pixel, rows top to
 * bottom, 255 where any colour sample of the file is non-zero, else 0
 * (alpha and tRNS transparency are ignored: a transparent pixel is not a
 * defect).
 */
struct mirad_codec_mask {
	int width, height;
	unsigned char *pixels; /* width * height bytes; caller free()s */
	bool as_is; /* the file already is this mask: an 8-bit greyscale PNG
	               without transparency holding only 0 and 255 */
};

/*
 * Decode the PNG open on FD (read with pread, not moved or closed) into
 * MASK, checking it as mirad_codec_check() does (every CRC, the end
 * chunk).  A header declaring more than MAX_PIXELS pixels is refused
 * before any pixel buffer is allocated.  Returns 0, -1 with ERR, or
 * MIRAD_CODEC_UNKNOWN when the bytes are not a PNG.
 */
int mirad_codec_read_mask(int fd, uint64_t max_pixels,
    struct mirad_codec_mask *mask, char *err, size_t errlen);

/* ---- pixels ----------------------------------------------------------- */

/* An 8-bit image as libvips' PNG loader gives it: WIDTH x HEIGHT pixels of
 * BANDS interleaved samples, rows top to bottom. */
struct mirad_codec_pixels {
	int width, height;
	int bands;             /* 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA */
	unsigned char *pixels; /* width * height * bands; caller free()s */
};

/*
 * Decode the PNG open on FD (read with pread, not moved or closed) into
 * IMAGE with the transforms libvips' PNG loader applies (a palette becomes
 * RGB, 1-, 2- and 4-bit greys 8-bit, tRNS transparency an alpha band; no
 * gamma), checking it as mirad_codec_check() does (every CRC, the end
 * chunk).  A header declaring more than MAX_PIXELS pixels is refused
 * before any pixel buffer is allocated.  Zlib's Adler-32 of the inflated
 * data is not verified (the chunk CRCs cover every compressed byte).
 * Returns 0, -1 with ERR, or MIRAD_CODEC_UNKNOWN when the bytes are not a
 * PNG, or its samples are 16-bit, or it holds an ICC profile or Exif data
 * (libvips keeps 16 bits, and acts on the profile and the Exif
 * orientation: let it load those).
 */
int mirad_codec_read_png8(int fd, uint64_t max_pixels,
    struct mirad_codec_pixels *image, char *err, size_t errlen);

/*
 * Encode WIDTH x HEIGHT bytes of PIXELS (rows top to bottom) as an 8-bit
 * greyscale PNG (zlib level 6, no row filter, as libvips writes one) into
 * *BUF (caller free()s) and *LEN.  Returns 0, or -1 with ERR.
 */
int mirad_codec_write_grey_png(const unsigned char *pixels, int width,
    int height, void **buf, size_t *len, char *err, size_t errlen);
/*
 * The same for 8-bit samples of BANDS bands interleaved (1 grey, 2 grey
 * and alpha, 3 RGB, 4 RGBA), as libvips' PNG saver writes them with
 * metadata stripped.
 */
int mirad_codec_write_png(const unsigned char *pixels, int width, int height,
    int bands, void **buf, size_t *len, char *err, size_t errlen);

#endif
