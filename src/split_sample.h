/* SPDX-License-Identifier: MIT */
/*
 * mirad-split's protocols: the operations that turn a record set into a
 * benchmark split (node ids, category filters, cross-node splits, anomalies
 * in train, K-fold val rotation, val from train, nested K-shot sets, merged
 * categories).  mirad-split(1) documents them for users.
 *
 * Every random choice is a pure function of the seed and the image's path
 * relative to its root: the key of an image is the first 8 bytes (big
 * endian) of SHA-256("SEED:PATH") for the K-shot sets, and of
 * SHA-256("SEED:PURPOSE:PATH") for the other choices (PURPOSE "val",
 * "anomaly", "fold"), so the choices are independent of each other.
 * Within a category the images with the smallest keys are taken; adding an
 * image elsewhere changes no key, and the K-shot set for K is the first K
 * of one order, hence a subset of every larger one.
 *
 * Functions returning int give 0, or -1 with a message in ERR that names
 * what is available; mirad-split reports those as usage errors.
 */
#ifndef SPLIT_SAMPLE_H
#define SPLIT_SAMPLE_H

#include "mirad_platform.h"

#include "mirad_cli.h"
#include "mirad_manifest.h"

/* The selection key of PATH for PURPOSE (NULL: the K-shot key). */
uint64_t split_key(uint64_t seed, const char *purpose, const char *path);

/* A count or a fraction, as --val and --train-anomalies take them. */
struct split_amount {
	bool given;
	bool is_fraction;
	double fraction; /* in (0, 1) */
	uint64_t count;
};
/*
 * Parse "0.25" (a fraction strictly between 0 and 1: the text has a '.')
 * or "12" (a count).  -1 when it is neither.
 */
int split_parse_amount(const char *arg, struct split_amount *out);
/* The count AMOUNT means out of N: a count as is, a fraction rounded half
 * up and at least 1. */
size_t split_amount_of(const struct split_amount *amount, size_t n);

/*
 * Read CSV FILE with columns image,node and attach "node" to every record
 * whose image path (relative to its root) is listed: a number when the
 * value is an integer, else a string.  *UNMATCHED counts records without a
 * node.  -1 when FILE cannot be read or lacks the columns (ERR says why).
 */
int split_attach_nodes(struct mirad_recordset *set, const char *file,
    size_t *unmatched, char *err, size_t errlen);

/*
 * Take the split of every record from VisA split file FILE
 * (object,split,label,image,mask), matching the image column against the
 * record's image path, and order the records as the file lists them.
 * Records the file does not list are removed and counted in *UNLISTED.
 */
int split_apply_split_csv(struct mirad_recordset *set, const char *file,
    size_t *unlisted, char *err, size_t errlen);

/* The distinct categories of SET, sorted, into OUT. */
void split_categories(
    const struct mirad_recordset *set, struct mirad_strlist *out);

/* Keep only the records of categories NAMES; -1 if a name is unknown. */
int split_keep_categories(struct mirad_recordset *set,
    const struct mirad_strlist *names, char *err, size_t errlen);

/*
 * The value of FIELD of R as text (core fields, then extra fields; numbers
 * printed as integers when whole).  NULL when R has no such field.  Caller
 * frees.
 */
char *split_field_text(const struct mirad_record *r, const char *field);

/*
 * Cross-domain split: normal records whose FIELD is one of VALUES go to
 * train, every other record to test; anomalies whose FIELD matches are
 * left out (one-class training) and counted in *DROPPED.  -1 when no
 * record has FIELD or a value never occurs (ERR lists the values seen).
 */
int split_by_field(struct mirad_recordset *set, const char *field,
    const struct mirad_strlist *values, size_t *dropped, char *err,
    size_t errlen);

/*
 * Move AMOUNT of the test anomalies of each category to train (with their
 * masks).  With BY_DEFECT the count is shared among defect types in
 * proportion to their sizes (largest remainders).  -1 when a category has
 * fewer anomalies than asked (or none to leave in test).
 */
int split_train_anomalies(struct mirad_recordset *set, uint64_t seed,
    const struct split_amount *amount, bool by_defect, char *err,
    size_t errlen);

/*
 * K-fold rotation of each category's test set: the test records, per
 * category and label (and defect with BY_DEFECT), are ordered by key and
 * dealt round-robin into FOLDS folds; fold FOLD becomes val.  -1 when a
 * category has fewer test images than folds.
 */
int split_folds(struct mirad_recordset *set, uint64_t seed, unsigned folds,
    unsigned fold, bool by_defect, char *err, size_t errlen);

/* Move AMOUNT of each category's normal train records to val.  -1 when a
 * category would keep no normal training image. */
int split_val(struct mirad_recordset *set, uint64_t seed,
    const struct split_amount *amount, char *err, size_t errlen);

/*
 * The K-shot view of SET: OUT receives borrowed pointers to the records of
 * SET in their order, keeping K normal train records per category (the K
 * smallest K-shot keys) and every other record.  OUT is a view (see
 * mirad_recordset_init_view()): mirad_recordset_clear() frees it and
 * leaves the records to SET.  -1 when a category has fewer
 * than K normal training images.
 */
int split_shots(const struct mirad_recordset *set, uint64_t seed, size_t k,
    struct mirad_recordset *out, char *err, size_t errlen);

/*
 * Merge every category into NAME, keeping the old category in the field
 * "source_category" (image paths keep their category folders, so names
 * stay unique).  -1 when two records share a root and image path.
 */
int split_merge(
    struct mirad_recordset *set, const char *name, char *err, size_t errlen);

#endif
