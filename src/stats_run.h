/* SPDX-License-Identifier: MIT */
/*
 * mirad-stats' engine: the run's settings (struct stats, filled by the
 * option parser), the entries built from the loaded records (nodes, the
 * shard's share, the files to read), the measures taken through the pixel
 * module, and the reports written from the entries: the tables, and the
 * charts, page and mosaic that the pixel module draws.
 *
 * Nothing here calls libvips: the pixel modes are reached only through
 * stats_pixels_load(), which loads mirad-stats-pixels.so on first use, so
 * that counting and --check-sizes never start libvips.
 *
 * Tool code: failures are reported (mirad_warn) or fatal (mirad_die), as
 * mirad-stats(1) documents; nothing here is library code.
 */
#ifndef STATS_RUN_H
#define STATS_RUN_H

#include "mirad_platform.h"

#include <stdio.h>

#include "mirad_cli.h"
#include "mirad_dataset.h"
#include "mirad_manifest.h"
#include "mirad_table.h"
#include "stats_pixels.h"
#include "stats_report.h"
#include "stats_table.h"

/* The settings and the state of one run.  Strings are borrowed from argv
 * unless marked owned; stats_run_free() frees the owned parts. */
struct stats {
	struct mirad_dataset_options in;
	enum mirad_table_format format;
	const char *input;
	const char *output; /* -o FILE, else NULL: standard output */
	char **inputs;      /* --merge: the partial files */
	int ninputs;
	bool imaging, geometry, partial, merge, mosaic_masks;
	struct mirad_cli_merge merge_rule;
	enum stats_by by;
	bool by_given;
	const char *nodes_file;
	const char *plots_dir;
	int plot_w, plot_h;
	const char *mosaic;
	int mosaic_per, mosaic_tile;
	unsigned shard_index, shard_count;
	char job[65]; /* --partial: the fingerprint every shard shares */
	int jobs;
	struct stats_entries entries;    /* owned */
	struct mirad_strlist categories; /* --categories; empty: all; owned */
	const char *defects_file;        /* --defects FILE or NULL */
	const char *html;                /* --html FILE or NULL */
	struct stats_table table;        /* owned */
};

/* Free what S owns (not S itself). */
void stats_run_free(struct stats *s);

/* Does the run decode pixels (measures, charts, the page, a partial)? */
bool stats_measuring(const struct stats *s);

/*
 * The entries of RECORDS (this shard's share) into S->entries, each with
 * its node (the record's field, else --nodes FILE, else
 * DATASET/nodes.csv for --by node and --partial) and the files to
 * measure; with --partial, also the job fingerprint S->job of every
 * record.  Dies when a nodes file cannot be read.
 */
void stats_build_entries(
    struct stats *s, const struct mirad_recordset *records);

/* The pixel module's table, loaded on first use (the program never links
 * libvips); a missing or stale module is fatal.  Borrowed, static. */
const struct stats_pixels_ops *stats_pixels_load(void);

/* Measure every entry of S, S->jobs at a time (0: the CPUs); each worker
 * writes only its own entry, so the result does not depend on
 * scheduling. */
void stats_measure_all(struct stats *s);

/*
 * Write the reports of S: the tables to OUT in S->format, then the
 * charts, the HTML page and the mosaic asked for.  Every failure is
 * reported; returns 0, or -1 when one failed (the run's output is then
 * not to be kept).
 */
int stats_write_reports(struct stats *s, FILE *out);

#endif
