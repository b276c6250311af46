/* SPDX-License-Identifier: MIT */
/*
 * mirad-stats: PNG charts and the sample mosaic, drawn with libvips
 * (rectangles, lines, circles and, when libvips has it, vips_text labels).
 */
#ifndef STATS_PLOT_H
#define STATS_PLOT_H

#include "mirad_platform.h"

#include <cjson/cJSON.h>

#include "stats_report.h"

/* The chart files --plots writes into its directory. */
#define STATS_PLOT_COUNTS     "counts.png"
#define STATS_PLOT_AREA       "defect_area.png"
#define STATS_PLOT_BRIGHTNESS "brightness.png"
#define STATS_PLOT_RESOLUTION "resolution.png"
#define STATS_PLOT_COUNT      4
/* The four file names, in the order of stats_plot_render()'s CHART. */
extern const char *const stats_plot_names[STATS_PLOT_COUNT];

/*
 * Draw chart CHART (0 counts, 1 defect area, 2 brightness, 3 resolution)
 * on a new W x H canvas.  Returns a new reference, or NULL with ERR set.
 */
VipsImage *stats_plot_render(int chart, const struct stats_entries *e,
    const cJSON *imaging, const cJSON *geometry, enum stats_by by, int w, int h,
    char *err, size_t errlen);

/*
 * Write the four charts (each W x H pixels) into directory DIR (created if
 * needed): images per group (stacked train / test normal / test abnormal),
 * the defect-area histogram, the foreground's linear brightness per group
 * (median bar, p10..p90 whisker) and the resolution scatter, each with a
 * title, axis titles with units and labelled ticks.  IMAGING
 * and GEOMETRY are the summaries of stats_report_*().  Returns 0, or -1
 * with a reason in ERR.
 */
int stats_plot_write_all(const char *dir, const struct stats_entries *e,
    const cJSON *imaging, const cJSON *geometry, enum stats_by by, int w, int h,
    char *err, size_t errlen);

/*
 * Write a grid of PER images for each group (rows in group order; images
 * evenly spaced over the group's sorted entries), each fitted into a TILE x
 * TILE cell, with the group name in a left column of LABEL_WIDTH pixels
 * (0 for none).  With MASKS, defects are tinted red.  The file is
 * LABEL_WIDTH + PER * TILE wide and GROUPS * TILE high.  Entries without a
 * path are skipped.  Returns 0, or -1 with ERR set.
 */
int stats_mosaic_write(const char *path, const struct stats_entries *e,
    enum stats_by by, int per, int tile, int label_width, bool masks, char *err,
    size_t errlen);

/* The mosaic of stats_mosaic_write() as a new image, or NULL with ERR. */
VipsImage *stats_mosaic_render(const struct stats_entries *e, enum stats_by by,
    int per, int tile, int label_width, bool masks, char *err, size_t errlen);

#endif
