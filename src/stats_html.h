/* SPDX-License-Identifier: MIT */
/*
 * mirad-stats: the dataset report, one self-contained HTML page (no
 * network, images inline as data: URLs): the paper-style table, the
 * heterogeneity flags with the measures behind them, the charts, the
 * mosaic with defects tinted, and the problems found per group.
 */
#ifndef STATS_HTML_H
#define STATS_HTML_H

#include "mirad_platform.h"

#include <cjson/cJSON.h>
#include <stdio.h>

#include "stats_report.h"
#include "stats_table.h"

/*
 * Write the report of INPUT (a name for the title) to F.  T is the counts
 * table, IMAGING and GEOMETRY the summaries of stats_report_*(), E the
 * measured entries (the mosaic needs their paths: without them, as after
 * --merge, it is left out with a note).  Returns 0, or -1 with ERR set
 * when a chart or the mosaic could not be drawn.
 */
int stats_html_write(FILE *f, const char *input, const struct stats_table *t,
    const struct stats_entries *e, const cJSON *imaging, const cJSON *geometry,
    char *err, size_t errlen);

#endif
