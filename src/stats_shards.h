/* SPDX-License-Identifier: MIT */
/*
 * mirad-stats' partial files: --partial writes one shard's entries with
 * the job fingerprint, the shard number and the options the report needs;
 * --merge checks that its files are every shard of one job, each once,
 * takes their options, and reads their entries.
 *
 * Tool code: a file that does not fit is fatal (mirad_die), with a
 * message naming it.
 */
#ifndef STATS_SHARDS_H
#define STATS_SHARDS_H

#include "mirad_platform.h"

#include <stdio.h>

#include "stats_run.h"

/* The partial document of S (its entries, S->job, the shard, the options)
 * as one line on F; a write error shows on F. */
void stats_print_partial(const struct stats *s, FILE *f);

/*
 * --merge: read S->inputs (S->ninputs partial files) into S->entries,
 * after checking that they are the shards 0..N-1 of one job, each given
 * once.  The options the partials were made with are applied to S
 * (imaging, geometry; --by unless S->by_given).  Dies on any mismatch.
 */
void stats_merge_inputs(struct stats *s);

#endif
