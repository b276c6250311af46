/* SPDX-License-Identifier: MIT */
/*
 * mirad-stats: the per-image entries, their grouping, the per-group
 * summaries of imaging heterogeneity and defect geometry (with the DR, DI,
 * DB and DV flags), and the partial-statistics files that --merge combines.
 *
 * Summaries depend only on the set of entries, never on their input order
 * or on threads: entries are sorted by image path before any sum, medians
 * and percentiles are order statistics of sorted values.
 */
#ifndef STATS_REPORT_H
#define STATS_REPORT_H

#include "mirad_platform.h"

#include <cjson/cJSON.h>
#include <glib.h>
#include <stdio.h>

#include "mirad_cli.h"
#include "mirad_manifest.h"
#include "mirad_table.h"
#include "stats_measure.h"

/* Flag thresholds (documented in mirad-stats(1)). */
/* DI: p90 / p10 of the foreground's linear luminance above this. */
#define STATS_DI_RATIO 1.25
/* DI looks only at images whose foreground covers at least this share
 * (elsewhere the product could not be told from the background). */
#define STATS_DI_MIN_FOREGROUND 0.05
/* DB: background colours further apart than this (Euclidean, 8-bit
 * sRGB) are distinct; two or more distinct colours set DB. */
#define STATS_DB_DISTANCE 40.0
/* DR: the largest width (or height) of the group is more than this share
 * above the smallest: crops that differ by a pixel or two are one
 * resolution, another camera is not. */
#define STATS_DR_RELATIVE 0.10
/* DV: p90 / p10 of the Laplacian variance above this, or a standard
 * deviation of the foreground centroid above this share of the size. */
#define STATS_DV_SHARPNESS_RATIO 2.0
#define STATS_DV_CENTROID_STD    0.02

/* What an image entry is grouped by (--by). */
enum stats_by {
	STATS_BY_CATEGORY,
	STATS_BY_NODE,
	STATS_BY_SPLIT,
	STATS_BY_DEFECT,
	STATS_BY_VARIANT
};
/* "category", ...; borrowed, static. */
const char *stats_by_name(enum stats_by by);
int stats_by_from_name(const char *name, enum stats_by *out);

struct stats_entry {
	char *category, *split, *label, *defect; /* owned */
	char *image;     /* path relative to the root; owned */
	char *node;      /* owned; NULL when unknown */
	char *variant;   /* owned; NULL when absent */
	char *path;      /* the image file to read; owned; NULL after --merge */
	char *mask_path; /* its mask file; owned; may be NULL */
	char *error;     /* "file: reason" when a measure failed; owned */
	bool measured;   /* IMAGE holds a valid measure */
	struct stats_image_measure image_m;
	bool has_mask; /* MASK_M holds a valid mask measure */
	struct stats_mask_measure mask_m;
};

/*
 * Entries in order, held by a GArray; {0} is an empty set.  ITEMS and
 * COUNT are a view of the array for reading and for changing (or
 * reordering) entries in place; only the functions below add or remove.
 */
struct stats_entries {
	struct stats_entry *items; /* the array's data; NULL while empty */
	size_t count;
	GArray *array; /* owns the entries and their strings */
};

/* Append a zeroed entry with copies of the strings (NODE, VARIANT may be
 * NULL); the returned pointer is valid until the next append. */
struct stats_entry *stats_entries_add(struct stats_entries *e,
    const char *category, const char *split, const char *label,
    const char *defect, const char *image, const char *node,
    const char *variant);
/* Sort by image path (then category). */
void stats_entries_sort(struct stats_entries *e);
void stats_entries_free(struct stats_entries *e);
/* The group key of E under BY; borrowed from E ("unknown" / "none" when
 * absent). */
const char *stats_entry_group(const struct stats_entry *e, enum stats_by by);

/* How many entries have no node. */
size_t stats_entries_without_node(const struct stats_entries *e);
/*
 * Keep only the records (entries) whose category is in NAMES.  Returns 0,
 * or -1 with a reason in ERR when a name is not a category of the set
 * (nothing is removed then).
 */
int stats_records_keep_categories(struct mirad_recordset *set,
    const struct mirad_strlist *names, char *err, size_t errlen);
int stats_entries_keep_categories(struct stats_entries *e,
    const struct mirad_strlist *names, char *err, size_t errlen);
/*
 * --defects FILE: a CSV whose header names an "image" and a "defect"
 * column (other columns ignored); images are paths relative to the dataset
 * root, as in manifests.  Every anomaly of E listed there takes the
 * defect.  Returns the number of listed images that are not entries of E,
 * or -1 with a reason in ERR.
 */
long stats_entries_apply_defects(
    struct stats_entries *e, const char *file, char *err, size_t errlen);

/*
 * Per-group imaging summaries and flags: an array of objects, one per
 * group in strcmp order.  Caller cJSON_Delete()s.
 */
cJSON *stats_report_imaging(const struct stats_entries *e, enum stats_by by);
/* Per-group defect-geometry summaries (anomalies with a mask). */
cJSON *stats_report_geometry(const struct stats_entries *e, enum stats_by by);
/* The thresholds as an object. Caller cJSON_Delete()s. */
cJSON *stats_report_thresholds(void);
/* How medians and percentiles are computed, as text per key.  Caller
 * cJSON_Delete()s. */
cJSON *stats_report_definitions(void);

/* Significant digits of the numbers in Markdown, LaTeX and charts. */
#define STATS_READABLE_DIGITS 4
/* V as the shortest text that reads back as the same double ("null" when
 * not finite): for JSON and CSV. */
void stats_format_exact(char *buf, size_t len, double v);
/* V rounded to STATS_READABLE_DIGITS significant digits, in fixed
 * notation without trailing zeros: for people. */
void stats_format_readable(char *buf, size_t len, double v);
/* DOC as JSON text with every number exact (stats_format_exact()).
 * Caller free()s. */
char *stats_json_print(const cJSON *doc, bool formatted);

/* Upper edges of the defect-area histogram bins (the last is 1). */
extern const double stats_area_bin_edges[];
#define STATS_AREA_BINS 7

/* The summaries (as returned above) as a table for FMT: rounded numbers
 * for people (md, tex), exact ones for programs (csv, json).  The LaTeX
 * imaging table holds the measures and the number of background colours
 * (the flags stand in the counts table).  Free with mirad_table_free(). */
struct mirad_table *stats_report_imaging_table(
    const cJSON *groups, enum stats_by by, enum mirad_table_format fmt);
struct mirad_table *stats_report_geometry_table(
    const cJSON *groups, enum stats_by by, enum mirad_table_format fmt);

/*
 * Partial statistics: every entry with its measures.  Caller
 * cJSON_Delete()s.  stats_partial_read() appends the entries of a partial
 * document to E; returns -1 with a reason in ERR if DOC is not one.
 */
cJSON *stats_partial_to_json(const struct stats_entries *e);
int stats_partial_read(
    const cJSON *doc, struct stats_entries *e, char *err, size_t errlen);

#endif
