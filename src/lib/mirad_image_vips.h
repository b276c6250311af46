/* SPDX-License-Identifier: MIT */
/*
 * The libvips half of mirad_image, behind a table of functions, so that a
 * program that reads headers only does not load libvips (about a hundred
 * shared libraries) at start-up.  mirad_image.c calls libvips only through
 * this table.  The table comes either from the program itself, when it
 * links libvips (mirad_image_init()), or from the module mirad-vips.so,
 * loaded on first need (a header of a format mirad_codec does not
 * describe).  The module is mirad_image_vips.c built with
 * MIRAD_IMAGE_VIPS_MODULE: it holds the table only, and takes
 * mirad_image_reason() and mirad_path_ext() from the program.
 *
 * Internal to mirad_image; the tools use mirad_image.h.
 */
#ifndef MIRAD_IMAGE_VIPS_H
#define MIRAD_IMAGE_VIPS_H

#include "mirad_platform.h"

#include "mirad_image.h"

/* Bumped whenever the table changes: a module left over from another
 * build is refused rather than called with the wrong arguments. */
#define MIRAD_IMAGE_VIPS_ABI 1

struct mirad_image_vips_ops {
	int abi; /* MIRAD_IMAGE_VIPS_ABI */
	/* vips_init and our settings; 0, or -1 with ERR. */
	int (*start)(const char *argv0, int jobs, char *err, size_t errlen);
	/* The header of a file mirad_codec does not describe. */
	int (*header)(const char *path, struct mirad_image_info *info,
	    char *err, size_t errlen);
	int (*concurrency)(void);
	void (*thread_done)(void);
	void (*shutdown)(void);
	const char *(*version)(void);
};

/* The module's one exported symbol: a function returning its table. */
#define MIRAD_IMAGE_VIPS_MODULE_ENTRY "mirad_image_vips_module_ops"
typedef const struct mirad_image_vips_ops *(*mirad_image_vips_entry)(void);
/* Defined in the module only. */
const struct mirad_image_vips_ops *mirad_image_vips_module_ops(void);

/*
 * Start libvips through OPS (the program's own table) now, unless it runs
 * already; mirad_image_init()'s body.  0, or -1 with ERR.
 */
int mirad_image_start_with(const struct mirad_image_vips_ops *ops,
    const char *argv0, int jobs, char *err, size_t errlen);

/*
 * Start libvips if mirad_image_init_lazy() deferred it, through the
 * table a program that links libvips passes as LINKED (NULL: the module).
 * 0 (also when nothing was deferred), or -1 with ERR.
 */
int mirad_image_start_deferred(
    const struct mirad_image_vips_ops *linked, char *err, size_t errlen);

/*
 * What mirad_image_load() checks before libvips opens PATH: a regular,
 * non-empty file, not a BMP, with a header mirad_codec accepts when it
 * knows the format.  FORMAT gets mirad_codec's name of it ("png"), or ""
 * for a format it does not know.  0, or -1 with ERR.
 */
int mirad_image_check_input(
    const char *path, char format[8], char *err, size_t errlen);

#endif
