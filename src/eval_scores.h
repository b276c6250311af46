/* SPDX-License-Identifier: MIT */
/*
 * mirad-eval's per-image scores (--scores): read from a CSV or JSON Lines
 * file into the run's settings (e->scores, owned by struct eval and freed
 * by eval_clear()), and looked up by image.
 *
 * Tool code: a malformed file is fatal (mirad_die).
 */
#ifndef EVAL_SCORES_H
#define EVAL_SCORES_H

#include "mirad_platform.h"

#include "eval_run.h"

/* Read --scores (e->scores_path, CSV or JSON Lines) into e->scores, sorted
 * by image; a malformed file or an image listed twice is fatal. */
void eval_load_scores(struct eval *e);

/* The score of IMAGE (its path as in the manifest) into *OUT: keyed with
 * or without the extension.  False when the file does not list it. */
bool eval_lookup_score(const struct eval *e, const char *image, double *out);

#endif
