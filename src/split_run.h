/* SPDX-License-Identifier: MIT */
/*
 * mirad-split's engine: the run's settings (struct split, filled by the
 * option parser), the protocol options applied to the loaded records in
 * their fixed order, and the K-shot views that the outputs are written
 * from (split_output.h).
 *
 * Tool code: a bad request is a usage error and a failure is fatal
 * (mirad_usage_error, mirad_die), as mirad-split(1) documents; nothing
 * here is library code.
 */
#ifndef SPLIT_RUN_H
#define SPLIT_RUN_H

#include "mirad_platform.h"

#include "mirad_cli.h"
#include "mirad_dataset.h"
#include "mirad_formats.h"
#include "mirad_manifest.h"
#include "split_sample.h"

/* The seed used when --seed is not given (recorded in the header). */
#define SPLIT_DEFAULT_SEED 0

/* The settings of one run.  The strings are borrowed from argv unless
 * marked owned; split_settings_free() frees the owned ones. */
struct split {
	struct mirad_dataset_options in;
	const char *output;
	const char *input;
	enum mirad_format format;
	uint64_t seed;
	bool seed_given;
	size_t *shots; /* owned; NULL without --shots; ascending */
	size_t nshots;
	const char *shots_arg;
	struct split_amount val, train_anomalies;
	const char *val_arg, *train_anomalies_arg;
	bool by_defect;
	unsigned folds, fold;
	bool fold_given;
	struct mirad_strlist categories; /* owned */
	const char *merge;
	char *by_field;                 /* owned */
	struct mirad_strlist by_values; /* owned */
	const char *by_arg;
	const char *nodes;
	bool summary;
};

/* Free what S owns (not S itself). */
void split_settings_free(struct split *s);

/* Does the output describe a protocol (and so get a header)? */
bool split_has_protocol(const struct split *s);

/* Apply the protocol options of S to RECORDS in their fixed order (see
 * mirad-split(1)): nodes, the split file, categories, --by, anomalies in
 * train, folds, val.  Dies on a bad request or when nothing is left. */
void split_apply_protocols(struct split *s, struct mirad_recordset *records);

/* One output: the records of one K (or all). */
struct split_view {
	size_t k;                   /* SIZE_MAX without --shots */
	struct mirad_recordset set; /* borrowed records */
};

/*
 * The views of RECORDS: one per K of --shots, else one with every record.
 * Returns an array of *NVIEWS views whose sets borrow the records of
 * RECORDS; free it with split_views_free() before RECORDS.
 */
struct split_view *split_make_views(const struct split *s,
    const struct mirad_recordset *records, size_t *nviews);
void split_views_free(struct split_view *views, size_t nviews);

/* Refuse, as a usage error before anything is written, a format that
 * cannot hold RECORDS or one of the VIEWS. */
void split_check_format(const struct split *s,
    const struct mirad_recordset *records, const struct split_view *views,
    size_t nviews);

#endif
