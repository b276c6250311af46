/* SPDX-License-Identifier: MIT */
/*
 * The engine of mirad-augment: which (image, severity, variant) jobs a run
 * has and where their files go under the output, rendering them into the
 * run's private folder, and what a --shard run leaves for the merge.  The
 * program parses the options, holds the output's transaction and reports.
 */
#ifndef AUGMENT_RUN_H
#define AUGMENT_RUN_H

#include "mirad_platform.h"

#include "augment_profile.h"
#include "mirad_manifest.h"

struct augment_job {
	size_t seq; /* its place in the single run's output */
	const struct mirad_record *record; /* borrowed from the recordset */
	/* Where its image and mask go, relative to the output (borrowed
	 * from the run). */
	const char *image_rel, *mask_rel;
	int severity;
	unsigned variant;
	/* Results, owned by the job until augment_run_free(): */
	char *line;    /* manifest line (no newline, cJSON_free) or NULL */
	char *problem; /* "file: reason" for a skipped input, or NULL */
	bool fatal;    /* PROBLEM ends the run */
};

struct augment_run {
	/* Set by the caller before augment_run_plan(); all borrowed. */
	const struct augment_profile *profile;
	uint64_t run_seed;
	int sev_lo, sev_hi;                /* severities rendered */
	unsigned variants;                 /* per image and severity */
	unsigned shard_index, shard_count; /* shard_count 0: no --shard */
	const char *target; /* absolute OUT, for the manifest's roots */
	/* Set by the caller before rendering (borrowed): where outputs are
	 * built. */
	const char *tmpdir;

	/* Set by augment_run_plan(), owned by the run: */
	bool subdirs; /* one folder per severity/variant */
	struct augment_job *jobs;
	size_t njobs;
	size_t total; /* jobs of the single (unsharded) run */
	/* Per record: where its image and mask go (NULL image: the record
	 * could not be placed under the output and has no jobs). */
	char **image_rels, **mask_rels;
	size_t nrecords;
};

/*
 * Plan RUN over RECORDS (which must outlive RUN): place every record under
 * the output (relative paths as they are; absolute or ".." ones where
 * mirad-convert --to mirad puts them, clear of the relative ones) and make
 * the jobs of this shard, in the single run's order.  Returns the number of
 * records that could not be placed (their image_rels[i] is NULL).
 */
size_t augment_run_plan(
    struct augment_run *run, const struct mirad_recordset *records);

/*
 * Render job J into RUN->tmpdir.  Returns 0, 1 (input skipped: J->problem)
 * or 3 (fatal: J->problem, J->fatal).
 */
int augment_run_render(const struct augment_run *run, struct augment_job *j);

/*
 * Render every job of RUN on JOBS threads (0: CPUs), counting progress.  A
 * fatal error or a pending signal stops starting new jobs.
 */
void augment_run_render_all(const struct augment_run *run, unsigned jobs);

/* What decides a sharded run's output, as 64 hex digits in HEX, so parts
 * of different jobs are not mixed. */
void augment_run_fingerprint(const struct augment_run *run,
    const struct mirad_recordset *records, char hex[65]);

/*
 * Write the shard's metadata into RUN->tmpdir: per job its place in the
 * single run, the files it left, its manifest line or why it was skipped.
 * JOB is the fingerprint, STATUS the shard's exit status.  0, or -1 with
 * the reason in ERR.
 */
int augment_run_write_shard(const struct augment_run *run, const char *job,
    int status, char *err, size_t errlen);

/* Free what RUN owns (the jobs, their results and the placed paths). */
void augment_run_free(struct augment_run *run);

#endif
