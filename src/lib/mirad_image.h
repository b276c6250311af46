/* SPDX-License-Identifier: MIT */
/*
 * Images through libvips.  This module owns libvips' life cycle (init,
 * cache, shutdown, the global error buffer) and the operations several tools
 * share: header reads, loads that fail on damaged files, atomic saves, mask
 * binarisation and pixel hashes.  Pixel code private to one tool (augment
 * effects, stats measures) builds on the VipsImage handles returned here.
 *
 * Errors: functions return NULL or -1 and write the first line of libvips'
 * message into the caller's ERR buffer (the global buffer is then cleared).
 */
#ifndef MIRAD_IMAGE_H
#define MIRAD_IMAGE_H

#include "mirad_platform.h"

#include <vips/vips.h>

/*
 * Start libvips once (argv0 for its messages).  JOBS > 0 sets the thread
 * count (else VIPS_CONCURRENCY or the CPU count).  Returns -1 with ERR set.
 */
int mirad_image_init(const char *argv0, int jobs, char *err, size_t errlen);
/*
 * Start libvips only when first needed: by a header of a format the fast
 * readers (mirad_codec) do not describe, or by mirad_image_load().  For
 * the tools that read headers only, libvips' start-up (its modules, its
 * thread pool) would cost more than all the headers.  ARGV0 must stay
 * valid.  Code calling libvips directly must use mirad_image_init().
 */
void mirad_image_init_lazy(const char *argv0, int jobs);
/* How many threads header readers should use: libvips' concurrency once
 * started, else what it would choose (JOBS, VIPS_CONCURRENCY, the CPU
 * count). */
int mirad_image_threads(void);
/* At the end of a worker thread that used this module: frees libvips'
 * per-thread buffers if it was started. */
void mirad_image_thread_done(void);
/* Shut libvips down (only if it was started). */
void mirad_image_shutdown(void);
/* libvips' version string; borrowed, static.  Before libvips is started,
 * the version the tools were built with. */
const char *mirad_image_library_version(void);

/*
 * Load the module FILE (a shared object of this package, such as a tool's
 * code that calls libvips directly, kept out of the program so that its
 * other modes start without libvips) and return its SYMBOL; NULL with
 * ERR.  FILE is looked up in $MIRAD_MODULE_DIR when set, else beside the
 * program (a build tree), else in the installed package library folder.
 * The module stays loaded.  The program must export its symbols
 * (gmodule-export-2.0) for the module to call the library.
 */
void *mirad_image_module_symbol(
    const char *file, const char *symbol, char *err, size_t errlen);

/* Does NAME have an image extension (.png .jpg .jpeg .bmp .tif .tiff,
 * any case)?  .bmp is listed so that folder scans report BMP files (not
 * supported) instead of skipping them without a word. */
bool mirad_image_has_image_ext(const char *name);

struct mirad_image_info {
	int width, height;
	int bands;       /* 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA/CMYK */
	int bits;        /* bits per sample: 8, 16, 32 ... */
	char format[16]; /* loader: "png", "jpeg", "tiff", "bmp", ... */
	bool from_cmyk;  /* CMYK in the file, described as the load gives */
};

/*
 * Read PATH's header only (no pixel decoding).  Like mirad_image_load(),
 * it refuses what is not a regular file (errno is then EISDIR for a
 * folder), an empty file and BMP, and describes a CMYK image as what the
 * load gives (8-bit RGB).
 */
int mirad_image_header(
    const char *path, struct mirad_image_info *info, char *err, size_t errlen);

/*
 * mirad_image_header() of NAME in the folder open on DIR (or AT_FDCWD),
 * for a walk that reads many headers of a few folders: the kernel looks
 * up one name instead of a whole path.  LISTED_REGULAR says that the
 * caller's listing saw a regular file there (MIRAD_ENTRY_REGULAR), which
 * spares a stat(); the same files are refused either way.  Returns 0, -1
 * with ERR, or 1 when the file is in a format only libvips describes
 * (call mirad_image_header() with its path).
 */
int mirad_image_header_at(int dir, const char *name, bool listed_regular,
    struct mirad_image_info *info, char *err, size_t errlen);

/*
 * Is the image at PATH intact, without decoding it through libvips?  The
 * same file checks as mirad_image_header(), then mirad_codec_check(): a
 * PNG decoded row by row, a JPEG's every block entropy-decoded at 1/8
 * scale (libjpeg's corrupt-data warnings count as damage), a TIFF's
 * strips decoded.  Returns 0, -1 with ERR ("truncated JPEG", ...), or 1
 * for a format it does not know (decode it through libvips instead).
 */
int mirad_image_check(const char *path, char *err, size_t errlen);

/*
 * The largest image mirad_image_load() opens: 2^28 pixels (16384 x 16384,
 * far above any dataset image).  A header declaring more (a damaged file
 * or a decompression bomb: a few kilobytes of PNG can declare 20000 x
 * 20000) is refused before any pixel buffer is allocated.
 */
#define MIRAD_IMAGE_MAX_PIXELS ((uint64_t)1 << 28)

/*
 * Open PATH for pixel access.  Damaged files (truncated, bad CRC) and
 * images over MIRAD_IMAGE_MAX_PIXELS are errors, and so are, before
 * libvips opens anything, what is not a regular file (FIFO, device:
 * "not a regular file"), an empty file and a BMP.  A CMYK image comes
 * back as 8-bit sRGB converted through its ICC profile, with
 * MIRAD_IMAGE_META_FROM_CMYK set.  SEQUENTIAL asks for top-to-bottom
 * streaming (less memory).  Returns a new reference; caller
 * g_object_unref()s.
 */
#define MIRAD_IMAGE_META_FROM_CMYK "mirad-from-cmyk"
VipsImage *mirad_image_load(
    const char *path, bool sequential, char *err, size_t errlen);

/*
 * Open PATH for reading with the file checks of mirad_image_load() (a
 * regular, non-empty file: "not a regular file", "empty file"), for the
 * callers that read it through mirad_codec.  Returns the descriptor (the
 * caller closes it), or -1 with ERR.
 */
int mirad_image_open_input(const char *path, char *err, size_t errlen);

/*
 * Save IM to PATH, format from PATH's extension (.png, .jpg, .tif, ...),
 * written under a temporary name and renamed.  QUALITY (1..100) applies to
 * JPEG; 0 means the default (90).  Returns 0; -1 when IM cannot be
 * computed or encoded (for a lazily loaded image, usually a damaged
 * input); MIRAD_IMAGE_WRITE_ERROR when the file cannot be written (disk
 * full, ...: errno is set and ERR names PATH).  Nothing is left at PATH
 * or under a temporary name on failure.
 */
#define MIRAD_IMAGE_WRITE_ERROR (-2)
int mirad_image_save(
    VipsImage *im, const char *path, int quality, char *err, size_t errlen);
/*
 * The encoding half of mirad_image_save(): IM in the format PATH's
 * extension names, with the same settings, as *BUF (g_free) and *LEN.
 */
int mirad_image_encode(VipsImage *im, const char *path, int quality, void **buf,
    size_t *len, char *err, size_t errlen);

/*
 * A mask normalised to what every consumer accepts: one band, 8-bit, 255
 * where any band of IN is non-zero, else 0 (alpha ignored).  New reference.
 */
VipsImage *mirad_image_binarise(VipsImage *in, char *err, size_t errlen);

/*
 * vips_image_copy_memory() computed in the calling thread: IM's pixels,
 * top to bottom in strips (so a sequential loader works), into a new
 * memory image with IM's fields and metadata, without a libvips thread
 * pool.  For a dataset's small images, the pool's start-up and thread
 * hand-offs, once per image, cost more than the pixels; the callers
 * already run one image per core.  IM already in memory is returned with
 * a new reference.  Returns a new reference (caller g_object_unref()s),
 * or NULL with the error in libvips' error buffer, as
 * vips_image_copy_memory().
 */
VipsImage *mirad_image_copy_memory_here(VipsImage *im);

/*
 * SHA-256 (hex, 64 chars + NUL) of the decoded pixels and the geometry
 * (width, height, bands, format), so equal hashes mean equal images
 * whatever the file encoding.
 */
int mirad_image_pixel_sha256(
    VipsImage *im, char hex[65], char *err, size_t errlen);

/*
 * The format IM was read in, from its loader: "png", "jpeg", "tiff", or
 * "other".
 */
void mirad_image_format_of(VipsImage *im, char *out, size_t outlen);

/*
 * A short reason for libvips' error message MSG ("truncated JPEG", "not an
 * image (unknown format)"), without libvips' internal names and paths;
 * the first line of MSG when it is not a known one.
 */
void mirad_image_reason(const char *msg, char *err, size_t errlen);

/* mirad_image_reason() of libvips' error buffer, which is cleared. */
void mirad_image_take_error(char *err, size_t errlen);

#endif
