/* SPDX-License-Identifier: MIT */
/*
 * mirad-eval's engine: the run's settings (struct eval), the methods and
 * their per-category results (struct run), and the evaluation of every
 * category from its maps, into results or, for one shard, into a partial
 * file.  The per-image scores (--scores) are read by eval_scores.h.
 *
 * Tool code: errors are reported and fatal ones exit (mirad_die), as the
 * tool's behaviour requires; nothing here is library code.
 */
#ifndef EVAL_RUN_H
#define EVAL_RUN_H

#include "mirad_platform.h"

#include "eval_metrics.h"
#include "eval_partial.h"
#include "mirad_cli.h"
#include "mirad_dataset.h"

enum format {
	FORMAT_MD,
	FORMAT_CSV,
	FORMAT_JSON,
	FORMAT_TEX
};

enum compat {
	COMPAT_NONE,
	COMPAT_ADER
};

enum metric {
	M_I_AUROC,
	M_I_AP,
	M_I_F1MAX,
	M_P_AUROC,
	M_P_AP,
	M_P_F1MAX,
	M_AUPRO,
	NMETRICS
};

/* Each metric's names, indexed by enum metric. */
struct eval_metric_name {
	const char *key;   /* --metrics name, csv/json key */
	const char *title; /* md/tex heading */
};
extern const struct eval_metric_name eval_metric_names[NMETRICS];

/* The results of one category for one method. */
struct cat_result {
	char *category;
	size_t images, anomalous;
	uint64_t pixels, regions;
	double m[NMETRICS];
};

/* One method: its maps and, once evaluated, its categories' results
 * (all owned; eval_runs_free() frees them). */
struct run {
	char *name; /* method name */
	const char *maps;
	struct cat_result *cats;
	size_t ncats;
};

/* Per-image scores from --scores: image path -> score. */
struct score_entry {
	char *image;
	double score;
};

/* The run's settings and state, from the command line (or, for --merge,
 * the partial files' job).  scores[] and inputs[] are owned. */
struct eval {
	struct mirad_dataset_options in;
	const char *gt, *maps, *methods, *scores_path, *output;
	enum format format;
	enum compat compat;
	unsigned adeval_strips;
	unsigned ader_pooling; /* --compat=ader image score kernel; 0: none */
	bool ader_pooling_given;
	bool metric_on[NMETRICS];
	bool metrics_given;
	double limit;
	bool strict;
	struct score_entry *scores;
	size_t nscores;
	size_t scores_capacity;
	size_t bad; /* images skipped */
	bool rounded_warned;
	/* sharding (--shard/--partial/--merge) */
	bool partial, merge;
	struct mirad_cli_merge merge_rule;
	unsigned shard_index, shard_count;
	char **inputs; /* --merge: the partial files */
	size_t ninputs;
};

/* One category being evaluated: its pixel store and image scores (all
 * owned; eval_cat_free() frees them). */
struct cat_state {
	struct eval_pixels *px;
	double *iscore;
	uint8_t *ilabel;
	uint64_t *iindex; /* position among the category's test images */
	size_t n, cap;
	size_t resized;
	char *first_resized;
	size_t unpooled; /* --compat=ader maps smaller than the kernel */
};

/* Free the settings' scores (e->scores) and the partial file list. */
void eval_clear(struct eval *e);

/* Free RUNS[0..N) (names, maps, results) and the array itself. */
void eval_runs_free(struct run *runs, size_t n);

/* The test images [*LO, *HI) of a category of N that shard I of K takes:
 * a contiguous block, so that the shards' blocks in shard order are the
 * single run's image order. */
void eval_shard_range(
    uint64_t n, unsigned i, unsigned k, uint64_t *lo, uint64_t *hi);

/* Make room for one more image in ST. */
void eval_cat_grow(struct cat_state *st);
/* Free ST's store and arrays and zero it. */
void eval_cat_free(struct cat_state *st);
/* Compute the metrics of CATEGORY from ST (with images) and append them
 * to RUN (the name is copied). */
void eval_run_add_category(struct eval *e, struct run *run,
    const char *category, struct cat_state *st);

/*
 * Evaluate every category of RECORDS (sorted) with the maps in RUN, method
 * number METHOD.  With W (--partial), only this shard's images, written as
 * sections of W; else into RUN's results.  Bad images are warned about and
 * counted in e->bad (fatal with --strict).
 */
void eval_evaluate(struct eval *e, const struct mirad_recordset *records,
    struct run *run, size_t method, struct eval_partial_writer *w);

/* --partial: evaluate this shard's images of every method into the
 * partial file (e->output or standard output).  Returns the exit status
 * from STATUS and the images skipped. */
int eval_write_partial(struct eval *e, const struct mirad_recordset *records,
    struct run *runs, size_t nruns, int status);

#endif
