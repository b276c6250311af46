/* SPDX-License-Identifier: MIT */
/*
 * mirad-eval's sharding: the job description every shard of one run must
 * share (written into each partial file), and --merge, which rebuilds
 * every category's pixel store from the shards' partial files (the
 * negatives by a k-way merge of their key runs) so that the table is
 * identical to the single run's.
 */
#ifndef EVAL_MERGE_H
#define EVAL_MERGE_H

#include "eval_run.h"

/* Fill JOB (caller-owned; eval_job_clear() frees it) with what defines
 * the run: settings, the ground truth's and scores' hashes, the methods
 * and the categories with test images, in the order evaluated. */
void eval_build_job(const struct eval *e, const struct mirad_recordset *records,
    const struct run *runs, size_t nruns, struct eval_job *job);

/*
 * --merge: read e->inputs (the partial files of every shard), set E's
 * settings from their job, and compute every method's results into *RUNS
 * (new, *NRUNS of them; free with eval_runs_free()).  Returns the exit
 * status the single run would have had.  A corrupt, missing or foreign
 * partial file is fatal.
 */
int eval_merge(struct eval *e, struct run **runs, size_t *nruns);

#endif
