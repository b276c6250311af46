/* SPDX-License-Identifier: MIT */
/*
 * Detecting and scanning dataset trees: MIRAD, MVTec AD (and its LOCO
 * variant's validation split and mask folders), VisA's raw release and
 * VisA's prepared (prepare_data.py) trees.  mirad(7) documents the rules
 * for users.
 *
 * The scan reads directory entries and, with read_sizes, image headers; it
 * never decodes pixels.  Problems (an anomaly without a mask, a mask without
 * an image, a size mismatch, ...) are passed to a callback and counted; the
 * tree still scans.
 */
#ifndef MIRAD_LAYOUT_H
#define MIRAD_LAYOUT_H

#include "mirad_platform.h"

#include "mirad_manifest.h"

enum mirad_layout {
	MIRAD_LAYOUT_AUTO = 0,
	MIRAD_LAYOUT_MIRAD,
	MIRAD_LAYOUT_MVTEC,
	MIRAD_LAYOUT_VISA,
	MIRAD_LAYOUT_VISA_PREPARED
};

/* "auto", "mirad", "mvtec", "visa", "visa-prepared"; borrowed, static. */
const char *mirad_layout_name(enum mirad_layout layout);
/* Parse a name as above; -1 if unknown. */
int mirad_layout_from_name(const char *name, enum mirad_layout *out);

/* Called once per problem: WHERE is a path (or "file:line"), WHY a short
 * reason.  Both are borrowed for the duration of the call. */
typedef void (*mirad_problem_fn)(void *ctx, const char *where, const char *why);

struct mirad_scan_options {
	enum mirad_layout layout; /* AUTO detects */
	const char *split_csv;    /* VisA: split file (default
	                             split_csv/1cls.csv under the root) */
	bool read_sizes;          /* read image and mask headers */
	/* With read_sizes: leave out the records whose image is unreadable
	 * or whose mask is unreadable or of another size (still reported). */
	bool drop_reported;
	mirad_problem_fn problem; /* may be NULL */
	void *problem_ctx;
};

struct mirad_scan_stats {
	enum mirad_layout layout; /* as detected or forced */
	size_t ignored;           /* hidden files, non-images */
	size_t problems;          /* calls made to the problem callback */
};

/* Guess the layout of ROOT; MIRAD_LAYOUT_AUTO when nothing fits. */
enum mirad_layout mirad_layout_detect(const char *root);

/*
 * Scan ROOT and append one record per image to OUT, sorted (see
 * mirad_recordset_sort()).  Records carry the absolute root, paths relative
 * to it, and, with read_sizes, width/height/channels.  Returns 0 (even with
 * problems; see STATS), or -1 when ROOT cannot be scanned at all (not a
 * directory, unreadable split file), with a reason in ERR, or
 * MIRAD_LAYOUT_UNKNOWN when no layout fits ROOT (the tool says how to name
 * one).
 */
#define MIRAD_LAYOUT_UNKNOWN (-2)
int mirad_layout_scan(const char *root, const struct mirad_scan_options *opts,
    struct mirad_recordset *out, struct mirad_scan_stats *stats, char *err,
    size_t errlen);

#endif
