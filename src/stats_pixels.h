/* SPDX-License-Identifier: MIT */
/*
 * mirad-stats: the modes that decode pixels (--imaging, --geometry,
 * --plots, --html, --mosaic), in the module mirad-stats-pixels.so, which
 * links libvips.  The program does not, so that counting and --check-sizes
 * start without libvips' hundred shared libraries; it loads the module
 * when a pixel mode is asked for and calls it through this table.  The
 * module takes the rest (stats_report, stats_table, libmirad) from the
 * program, whose symbols are exported.
 */
#ifndef STATS_PIXELS_H
#define STATS_PIXELS_H

#include "mirad_platform.h"

#include "stats_html.h"
#include "stats_plot.h"
#include "stats_report.h"

/* Bumped whenever the table changes (a stale module is refused). */
#define STATS_PIXELS_ABI 1

struct stats_pixels_ops {
	int abi; /* STATS_PIXELS_ABI */
	/* mirad_image_init() in the module. */
	int (*init)(const char *argv0, int jobs, char *err, size_t errlen);
	/* Decode X's image and mask and measure them: X->measured,
	 * X->has_mask, or X->error (malloc'ed) set. */
	void (*measure_entry)(struct stats_entry *x);
	/* stats_plot_write_all(), stats_mosaic_write(), stats_html_write(). */
	int (*plot_write_all)(const char *dir, const struct stats_entries *e,
	    const cJSON *imaging, const cJSON *geometry, enum stats_by by,
	    int w, int h, char *err, size_t errlen);
	int (*mosaic_write)(const char *path, const struct stats_entries *e,
	    enum stats_by by, int per, int tile, int label_width, bool masks,
	    char *err, size_t errlen);
	int (*html_write)(FILE *f, const char *input,
	    const struct stats_table *t, const struct stats_entries *e,
	    const cJSON *imaging, const cJSON *geometry, char *err,
	    size_t errlen);
};

#define STATS_PIXELS_MODULE_FILE  "mirad-stats-pixels.so"
#define STATS_PIXELS_MODULE_ENTRY "stats_pixels_module_ops"
/* The module's one entry point. */
typedef const struct stats_pixels_ops *(*stats_pixels_entry)(void);
const struct stats_pixels_ops *stats_pixels_module_ops(void);

#endif
