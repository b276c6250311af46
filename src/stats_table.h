/* SPDX-License-Identifier: MIT */
/*
 * mirad-stats: the counts table of the MIRAD paper (train, test normal,
 * test abnormal, defect types per group, and a total row) in Markdown,
 * CSV, JSON and LaTeX.
 *
 * A defect type is a (category, defect label) pair: the total row counts
 * the distinct pairs of all groups, so groups whose defect sets overlap
 * (--by node, split, variant) are never summed.  Layouts that pool all
 * anomalies of a category in one folder (MIRAD's test/anomaly, VisA
 * without image_anno.csv) carry no defect type: such a count is unknown
 * and printed as a dash with a footnote (JSON: null, CSV: empty).
 */
#ifndef STATS_TABLE_H
#define STATS_TABLE_H

#include "mirad_platform.h"

#include <cjson/cJSON.h>
#include <stdio.h>

#include "mirad_table.h"
#include "stats_report.h"

struct stats_count_row {
	char *name;            /* group name; owned */
	struct mirad_counts n; /* images per column */
	size_t defect_types;   /* distinct (category, defect) pairs */
	bool defects_unknown;  /* an anomaly carries a pooled label */
};

struct stats_table {
	enum stats_by by;
	struct stats_count_row *rows; /* owned; strcmp order of names */
	size_t nrows;
	struct stats_count_row total; /* name "total" */
};

/* Is DEFECT the label of a pooled anomaly folder ("anomaly", "bad")? */
bool stats_defect_is_pooled(const char *defect);

/* Count the entries of E grouped by BY into T (zeroed first). */
void stats_table_count(
    struct stats_table *t, const struct stats_entries *e, enum stats_by by);
void stats_table_free(struct stats_table *t);

/* The counts table for FMT: Markdown (with the footnote when a count is
 * unknown), CSV (empty for unknown), JSON (the groups, then the total row
 * without a name; null for unknown) or LaTeX.  The LaTeX table has the
 * paper's shape: the counts, then with IMAGING (the groups of
 * stats_report_imaging(), may be NULL) the DV, DI, DR, DB check marks.
 * Free with mirad_table_free(). */
struct mirad_table *stats_table_counts(const struct stats_table *t,
    enum mirad_table_format fmt, const cJSON *imaging);
/*
 * Write the tables of a run to F in FMT: the counts table, then with
 * IMAGING and GEOMETRY (either may be NULL) their summaries.  Markdown and
 * LaTeX have the tables one after another; CSV with more than the counts
 * has them as one table whose first column "table" names the part of
 * each row (counts, imaging, geometry), empty cells under the columns of
 * the other parts; JSON is one document (stats_table_print_json()).
 * Returns 0, or -1 with a reason in ERR.
 */
int stats_tables_write(FILE *f, enum mirad_table_format fmt,
    const struct stats_table *t, const cJSON *imaging, const cJSON *geometry,
    char *err, size_t errlen);
/* The table as an HTML table (id "counts") with the flags of IMAGING (may
 * be NULL) and the footnote when a count is unknown. */
void stats_table_print_html(
    FILE *f, const struct stats_table *t, const cJSON *imaging);
/* The JSON document: the groups ("categories" or "groups"), "totals", and
 * IMAGING / GEOMETRY (may be NULL) with their thresholds; printed with
 * exact numbers. */
void stats_table_print_json(FILE *f, const struct stats_table *t,
    const cJSON *imaging, const cJSON *geometry);

#endif
