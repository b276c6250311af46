/* SPDX-License-Identifier: MIT */
/*
 * mirad-convert --merge: join the OUT folders of all --shard runs of one
 * job (C->parts) into C->output, named, listed and mapped as one run would
 * have written it.
 *
 * Tool code: errors are reported and fatal ones exit (mirad_die).
 */
#ifndef CONVERT_MERGE_H
#define CONVERT_MERGE_H

#include "mirad_platform.h"

#include <cjson/cJSON.h>

#include "convert_run.h"

/* Run the merge; returns the exit status (exits on fatal errors). */
int convert_merge(struct convert *c);

/* The job's options from a shard's header data D into C: target,
 * split_type, input, mapping (strings borrowed from D, which must outlive
 * C's use of them) and the --emit formats.  Returns 0, or -1 when D is
 * malformed. */
int convert_merge_options(struct convert *c, const cJSON *d);

#endif
