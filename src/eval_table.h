/* SPDX-License-Identifier: MIT */
/*
 * mirad-eval's result tables: one method's per-category table with its
 * mean row, and the multi-method table (mean and population std per
 * category and metric), in md, csv, json or tex (e->format), with the
 * metrics e->metric_on selects.  Written to a stream the caller owns;
 * nothing returned needs freeing.
 */
#ifndef EVAL_TABLE_H
#define EVAL_TABLE_H

#include <stdio.h>

#include "eval_run.h"

/* The table of RUN (one method) to F. */
void eval_print_single(const struct eval *e, const struct run *run, FILE *f);

/* The table of RUNS[0..NRUNS) (--methods) to F: the categories of the
 * first method, each with one row per metric. */
void eval_print_methods(
    const struct eval *e, const struct run *runs, size_t nruns, FILE *f);

#endif
