/* SPDX-License-Identifier: MIT */
/*
 * mirad-split's outputs: the manifest header that records the protocol,
 * the views written to standard output or to files named from the -o
 * prefix (one per K, one per split for the one-split-per-file formats),
 * and the --summary table.
 *
 * Outputs are written as one transaction: every file is complete on disk
 * before the first replaces its old version, and a failure removes the
 * temporary files and dies (mirad_die), leaving earlier outputs as they
 * were.  Tool code, not library code.
 */
#ifndef SPLIT_OUTPUT_H
#define SPLIT_OUTPUT_H

#include "mirad_platform.h"

#include <cjson/cJSON.h>
#include <stdio.h>

#include "split_run.h"

/* The manifest header of S: seed and options, so a split can be remade.
 * K is the shot count of this file, or SIZE_MAX for all of them.  Caller
 * cJSON_Delete()s. */
cJSON *split_make_header(const struct split *s, size_t k);
/* The header as one line on F; -1 on a write error (errno set). */
int split_write_header(FILE *f, const struct split *s, size_t k);

/* PREFIX joined with PART and EXT ("-" between prefix and part unless
 * PREFIX ends in '/').  Caller frees. */
char *split_output_name(const char *prefix, const char *part, const char *ext);

/* Write the NVIEWS VIEWS as S asks (standard output or -o, the format,
 * the header).  With several views on standard output, each record gets a
 * "shots" field (the records are changed). */
void split_write_outputs(
    const struct split *s, struct split_view *views, size_t nviews);

/* The --summary of view V: normal and anomalous counts per category and
 * split, on standard error. */
void split_print_summary(const struct split *s, const struct split_view *v);

#endif
