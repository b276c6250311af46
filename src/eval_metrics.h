/* SPDX-License-Identifier: MIT */
/*
 * The metrics core of mirad-eval: exact AUROC, average precision, F1-max and
 * the MVTec AU-PRO, plus the compatibility estimators of ADer / ADEval.
 * Pure C: no I/O, no libraries but POSIX threads (the pixel metrics count
 * the negatives on every core).
 *
 * Pixel-level metrics of one category are computed from a store that keeps
 * every negative pixel as a 32-bit order key (4 bytes) and every positive
 * pixel as a key plus a region id (8 bytes).  Only the positives are
 * sorted (which needs as much again); the negatives are counted against
 * the distinct positive keys where they lie, so the peak is about 4 bytes
 * per negative and 16 per positive pixel, plus up to 60 per distinct
 * positive key (its slot counts, one set per counting thread) and up to
 * 5 MiB per counting thread (keys gathered by key range, so that each
 * range is counted against tables that stay in cache).
 * A store rebuilt from partial files (mirad-eval --merge) holds the
 * negatives as runs of equal keys with 64-bit counts instead (12 bytes per
 * distinct key, already in order).
 *
 * Results that are undefined (no positives or no negatives, no regions) are
 * NaN, AP without positives included (sklearn returns 0 with a warning;
 * a 0 would pull a mean over categories down for no measured reason).
 */
#ifndef EVAL_METRICS_H
#define EVAL_METRICS_H

#include "mirad_platform.h"

/*
 * An order-preserving key of a float32 score: a < b iff key(a) < key(b), and
 * -0.0 and +0.0 get the same key.  F must not be NaN.
 */
uint32_t eval_key_from_float(float f);
/* The float a key came from (+0.0 for the zero key). */
float eval_float_from_key(uint32_t key);

struct eval_result {
	double auroc;        /* NaN when P or N is 0 */
	double ap;           /* sklearn average_precision_score; NaN if P = 0 */
	double f1max;        /* max 2TP/(TP+FP+P); NaN if P = 0 */
	double f1_threshold; /* the lowest score reaching f1max */
	double aupro;        /* MVTec AU-PRO at the limit; NaN if no regions */
	uint64_t negatives, positives;
	uint64_t regions; /* connected GT regions (pixel level) */
};

/*
 * The single pass over distinct score values shared by every exact metric.
 * Feed the groups in strictly descending score order.
 */
struct eval_scan {
	uint64_t n_neg, n_pos;
	double n_regions, limit;
	uint64_t fp, tp;
	double omega;
	unsigned __int128 auroc2; /* twice the Mann-Whitney U */
	double ap, f1, f1_threshold;
	double area, prev_fpr, prev_pro;
	bool crossed;
};

/* Start a scan over N_NEG negatives, N_POS positives and N_REGIONS regions
 * (0 at image level), integrating the PRO curve up to LIMIT (0 < L <= 1). */
void eval_scan_init(struct eval_scan *s, uint64_t n_neg, uint64_t n_pos,
    double n_regions, double limit);
/* One distinct score VALUE held by NEG negatives and POS positives whose
 * region weights (1/|C|) sum to OMEGA. */
void eval_scan_group(struct eval_scan *s, uint64_t neg, uint64_t pos,
    double omega, double value);
/* The metrics; OUT->regions is set from n_regions. */
void eval_scan_finish(const struct eval_scan *s, struct eval_result *out);

/*
 * Image-level metrics (AUROC, AP, F1-max; aupro NaN) of N scores with labels
 * (non-zero = anomalous).  Scores must be finite.  Returns 0, or -1 if out
 * of memory.
 */
int eval_binary(const double *scores, const uint8_t *labels, size_t n,
    struct eval_result *out);

/*
 * Label the non-zero pixels of MASK (WIDTH x HEIGHT, row-major) into
 * 8-connected regions.  LABELS (WIDTH*HEIGHT entries, caller-owned) gets 0
 * for background and 1..R for regions, numbered in raster order of their
 * first pixel.  *SIZES receives a new array of R+1 entries (caller frees;
 * [0] is unused) with each region's pixel count.  Returns R, or -1 if out
 * of memory (*SIZES NULL).
 */
long eval_label_regions(const uint8_t *mask, size_t width, size_t height,
    uint32_t *labels, uint32_t **sizes);

/* The pixel store of one category. */
struct eval_pixels;

/* An empty store, NULL if out of memory.  Free with eval_pixels_free(). */
struct eval_pixels *eval_pixels_new(void);
void eval_pixels_free(struct eval_pixels *p);

/*
 * Add one image: SCORES (finite float32) and MASK (non-zero = anomalous),
 * both WIDTH x HEIGHT.  Regions are labelled per image (8-connectivity).
 * Returns 0, or -1 if out of memory or past 2^32 regions (errno set); the
 * store is unchanged then.
 */
int eval_pixels_add(struct eval_pixels *p, const float *scores,
    const uint8_t *mask, size_t width, size_t height);

/*
 * A hint: about IMAGES images of the size of the first will be added.  The
 * store then reserves room for their pixels at once (saving the copies of
 * a growing array and most of its page faults).
 */
void eval_pixels_expect(struct eval_pixels *p, uint64_t images);

/* Number of pixels added so far. */
uint64_t eval_pixels_count(const struct eval_pixels *p);

/*
 * Building a store from its parts, as mirad-eval --merge does from partial
 * files (eval_partial.h).  The metrics depend on the negatives only through
 * how many there are of each key (integer counts), and on the positives
 * through the order in which they were added (the region weights of equal
 * keys are summed in that order): a store whose positives are appended in
 * the order eval_pixels_add() would have added them, and whose negatives
 * hold the same keys as runs, gives bit-identical results.
 *
 * Append N region sizes (each >= 1); *FIRST gets the 0-based index of the
 * first.  Returns -1 with errno EINVAL (a size 0), EOVERFLOW (past 2^32
 * regions) or ENOMEM.
 */
int eval_pixels_append_regions(
    struct eval_pixels *p, const uint32_t *sizes, size_t n, size_t *first);
/* Append one positive pixel with order key KEY in region REGION (0-based,
 * already appended).  -1 with errno EINVAL or ENOMEM. */
int eval_pixels_append_positive(
    struct eval_pixels *p, uint32_t key, size_t region);
/*
 * Append COUNT negative pixels of order key KEY.  Keys must come in
 * non-increasing order, and a store holds either image pixels
 * (eval_pixels_add) or runs: -1 with errno EINVAL otherwise (and then
 * eval_pixels_add() refuses the store too), EOVERFLOW or ENOMEM.
 */
int eval_pixels_append_negatives(
    struct eval_pixels *p, uint32_t key, uint64_t count);
/* The same for N runs; stops at the first refused one. */
int eval_pixels_append_runs(struct eval_pixels *p, const uint32_t *keys,
    const uint64_t *counts, size_t n);

/* Read access to a store's arrays, for writing partial files. */
struct eval_pixels_data {
	const uint32_t *neg;       /* negative keys */
	const uint64_t *neg_count; /* their run lengths; NULL: 1 each */
	size_t n_neg;
	bool neg_sorted;     /* neg[] is in descending order */
	const uint64_t *pos; /* key << 32 | region (0-based), in the order
	                        added until eval_pixels_compute() */
	size_t n_pos;
	const uint32_t *region_size;
	size_t n_regions;
};
void eval_pixels_view(const struct eval_pixels *p, struct eval_pixels_data *d);
/* Sort the negatives (only) in descending order.  -1 if out of memory. */
int eval_pixels_sort_negatives(struct eval_pixels *p);

/*
 * Exact P-AUROC, P-AP, P-F1max and AU-PRO at LIMIT.  Sorts the positives
 * in place (the store stays usable, also for the compat estimators below;
 * the negatives keep their order).  Returns 0, or -1 if out of memory.
 */
int eval_pixels_compute(
    struct eval_pixels *p, double limit, struct eval_result *out);

/*
 * ADEval's histogram estimator as ADer runs it (use_adeval, nstrips=NSTRIPS,
 * bins between the category's min and max, computed in float32 like
 * torch.histc; the max counted twice; region weights float32(1/|C|)):
 * fills auroc, ap (trapezoid AUPR) and aupro (at LIMIT), leaves f1max NaN.
 * Returns 0, or -1 if the category has a constant map (ADEval asserts).
 */
int eval_pixels_adeval(const struct eval_pixels *p, unsigned nstrips,
    double limit, struct eval_result *out);

/*
 * ADer's mF1_max_px: the maps min-max normalised in float32, 21 thresholds
 * 0, 0.05, ..., 1 (compared in float32), prediction = score > threshold,
 * F1 = 2PR/(P+R+1e-8) with P, R using +1e-8 denominators; the max.
 * NaN for a constant map.
 */
double eval_pixels_ader_f1max(const struct eval_pixels *p);

/*
 * The max of the K x K mean-pooled map (stride 1, no padding; ADer and
 * UniAD image scores), computed in double and rounded to float32 like
 * torch's avg_pool2d output.  Falls back to the plain max when the map is
 * smaller than K in either direction.
 */
double eval_avgpool_max(
    const float *scores, size_t width, size_t height, unsigned k);

#endif
