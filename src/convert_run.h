/* SPDX-License-Identifier: MIT */
/*
 * mirad-convert's engine: the run's settings and state (struct convert),
 * the plan of every record, the parallel processing of the records into a
 * private folder, the naming of the survivors, the lists, and the
 * publishing of OUT through mirad_outdir.
 *
 * Tool code: errors are reported and fatal ones exit (mirad_die), after
 * abandoning the unpublished output; nothing here is library code.
 */
#ifndef CONVERT_RUN_H
#define CONVERT_RUN_H

#include "mirad_platform.h"

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "convert_pixels.h"
#include "convert_plan.h"
#include "mirad_cli.h"
#include "mirad_dataset.h"
#include "mirad_formats.h"
#include "mirad_manifest.h"
#include "mirad_shard.h"

enum convert_image_format {
	IMAGE_FORMAT_DEFAULT = 0, /* png for mvtec, else keep */
	IMAGE_FORMAT_KEEP,
	IMAGE_FORMAT_PNG,
	IMAGE_FORMAT_JPG
};

/* The options (set by the command line) and the state of one run.  The
 * strings of the options are borrowed (argv, or the merge's shard data);
 * what the run allocates it frees itself. */
struct convert {
	struct mirad_dataset_options in;
	const char *input;
	const char *output;
	const char *split_type;
	const char *mapping;
	bool anomalib, force, strict;
	unsigned jobs; /* 0: mirad_cpu_count() */
	enum convert_image_format image_format;
	struct mirad_strlist categories; /* owned */
	bool emit[MIRAD_FORMAT_META_JSON + 1];
	bool any_emit;
	struct convert_plan_options plan;
	struct convert_pixel_options pixels;
	unsigned shard_index, shard_count; /* --shard I/N: N > 0 */
	struct mirad_cli_merge merge;      /* --merge PART... */
	char **parts;                      /* --merge: the shard folders */
	int nparts;
	char *abs_mapping; /* --shard: --mapping made absolute */

	/* run state */
	char *abs_output;
	struct mirad_outdir *out; /* the transaction writing OUT */
	const char *tmp;          /* its temporary folder, or the merge's */
	struct convert_item *items;
	size_t nitems;
	size_t bad;
	size_t nmine;                       /* items of this shard */
	struct mirad_shard_set *set;        /* --merge: the parts */
	struct mirad_shard_merge *assembly; /* --merge: OUT being built */
	struct mirad_recordset merge_src;   /* --merge: names of sources */
};

/*
 * Convert C->input into C->output as the options in C ask (the whole
 * program after the option parsing): load, plan, process, name, publish,
 * print the manifest.  ARGV0 starts libvips.  Returns the exit status, or
 * exits on a fatal error or a signal, leaving no partial output.
 */
int convert_run(struct convert *c, const char *argv0);

/* ---- steps, also used by the merge (convert_merge.h) and the tests ---- */

/* Is item I this run's (all are, unless --shard)? */
bool convert_mine(const struct convert *c, size_t i);

/* Keep only the records of --categories (exits, status 2, when one of them
 * has no records). */
void convert_select_categories(
    struct convert *c, struct mirad_recordset *records);

/* C->items from RECORDS, which must outlive them (the items borrow the
 * records): planned folders and extensions, or the reason a record cannot
 * be placed in item->error.  Also decides c->plan.two_class, prefix and
 * the default image format. */
void convert_plan_items(struct convert *c, struct mirad_recordset *records);

/*
 * Process this run's planned items into C->tmp (their planned names) on
 * C->jobs threads with mirad_parallel_for(): items start in index order;
 * a failure stops the loop under --strict or when fatal (the output could
 * not be written), and so does a signal; the items already running
 * finish.  The outcome is in each item (done, error, fatal).
 */
void convert_process(struct convert *c);

/* Create the planned folders of this run's items under C->tmp. */
void convert_make_dirs(struct convert *c);
/* Remove the folders every file of which failed (empty ones only). */
void convert_remove_empty_dirs(struct convert *c);

/* Write the lists --emit asks for (and VisA's split file) under C->tmp,
 * from RECORDS. */
void convert_write_lists(
    struct convert *c, const struct mirad_recordset *records);
/* Write image_anno.csv per VisA class under C->tmp, from RECORDS. */
void convert_write_visa_anno(
    struct convert *c, const struct mirad_recordset *records);
/* Write the --mapping file from the output records OUT (after publishing). */
void convert_write_mapping(
    struct convert *c, const struct mirad_recordset *out);

/* Abandon the unpublished output (its temporary folder and lock, or the
 * merge's): safe to call more than once. */
void convert_abandon(struct convert *c);
/* Abandon the output, then exit with status 3 and the message. */
MIRAD_NORETURN void convert_die_cleanly(struct convert *c, const char *fmt, ...)
    MIRAD_PRINTF(2, 3);
/* On a pending signal, abandon the output and end by the signal. */
void convert_check_signal(struct convert *c);
/* Close stdout after OUT was published; returns STATUS, or 3 (with a
 * note that OUT is complete) when standard output failed. */
int convert_close_stdout_published(const struct convert *c, int status);

#endif
