/* SPDX-License-Identifier: MIT */
/*
 * The manifest: the record that flows through pipes between the tools, one
 * JSON object per line (JSON Lines).  See mirad(5).
 *
 * Core fields are kept in the struct; every other field of the line (node,
 * variant, source, tool-specific ones) is kept, in input order, in EXTRA and
 * written back after the core fields, so tools pass through what they do not
 * understand.
 *
 * Paths: IMAGE and MASK are relative to ROOT unless absolute.  ROOT is
 * always an absolute directory after reading (see mirad(5) for the rule).
 */
#ifndef MIRAD_MANIFEST_H
#define MIRAD_MANIFEST_H

#include "mirad_platform.h"

#include <cjson/cJSON.h>
#include <glib.h>
#include <stdbool.h>
#include <stdio.h>

struct mirad_record {
	char *category; /* required */
	char *split;    /* "train", "test" or "val" */
	char *label;    /* "normal" or "anomaly" */
	char *defect;   /* defect folder name; "good" for normal images */
	char *image;    /* path, relative to root unless absolute */
	char *mask;     /* path or NULL */
	char *root;     /* absolute directory or NULL (then cwd) */
	int width, height, channels; /* 0 = unknown */
	cJSON *extra; /* other fields (an object) or NULL; owned */
	/* The text those fields had in the line they were read from, as
	 * cJSON_Raw items under the same keys, or NULL; owned.  Written back
	 * verbatim (cJSON would round numbers to doubles and cut strings at
	 * \u0000); a field set or removed later loses its text. */
	cJSON *extra_raw;
	/* The manifest line it was read from; 0 when scanned or made. */
	unsigned long line;
};

/* An empty record; free with mirad_record_free() (accepts NULL). */
struct mirad_record *mirad_record_new(void);
void mirad_record_free(struct mirad_record *r);
/* Deep copy; caller frees with mirad_record_free(). */
struct mirad_record *mirad_record_clone(const struct mirad_record *r);
/* Replace string field *FIELD with a copy of VALUE (NULL allowed). */
void mirad_record_set(char **field, const char *value);
bool mirad_record_is_anomaly(const struct mirad_record *r);

/* Extra fields.  The getters return borrowed values (NULL if absent or of
 * another type). */
const char *mirad_record_get_string(
    const struct mirad_record *r, const char *key);
bool mirad_record_get_number(
    const struct mirad_record *r, const char *key, double *out);
/* Set or replace extra field KEY; ITEM is consumed (owned by the record). */
void mirad_record_put(struct mirad_record *r, const char *key, cJSON *item);
void mirad_record_put_string(
    struct mirad_record *r, const char *key, const char *value);
void mirad_record_put_number(
    struct mirad_record *r, const char *key, double value);

/* ROOT joined with REL (the image or mask path).  Caller frees. */
char *mirad_record_path(const struct mirad_record *r, const char *rel);

/* The record as a JSON object, core fields first.  Caller cJSON_Delete()s. */
cJSON *mirad_record_to_json(const struct mirad_record *r);
/*
 * Build a record from a JSON object.  BASE is the directory a relative
 * "root" (or a missing one) resolves against; it must be absolute.  Returns
 * NULL and writes a reason into ERR on a missing or ill-typed field.
 * Caller frees the record.
 */
struct mirad_record *mirad_record_from_json(
    const cJSON *obj, const char *base, char *err, size_t errlen);
/*
 * Keep the text of R's extra fields as written in TEXT (LEN bytes), the
 * JSON object R was built from (already parsed by cJSON), so that writing
 * R gives them back unchanged.
 */
void mirad_record_keep_raw(
    struct mirad_record *r, const char *text, size_t len);
/*
 * For code that passes whole records (or lines holding them) through as
 * JSON: the text of member KEY of the JSON object TEXT (LEN bytes, already
 * parsed by cJSON), or NULL if it has none.  Caller frees.
 */
char *mirad_json_member_text(const char *text, size_t len, const char *key);
/*
 * Replace each member of OBJ, the parse of TEXT (LEN bytes), by a
 * cJSON_Raw item holding its text in TEXT, so that printing OBJ writes it
 * back unchanged; the members named in PARSED (NULL-terminated, or NULL)
 * stay parsed for the caller to read or replace.
 */
void mirad_json_keep_text(
    cJSON *obj, const char *text, size_t len, const char *const *parsed);
/* Write R as one line.  Returns 0, or -1 with errno on a write error. */
int mirad_record_write(FILE *out, const struct mirad_record *r);

/* Reading manifests. */
struct mirad_manifest;

enum mirad_manifest_status {
	MIRAD_MANIFEST_RECORD = 1, /* *out holds a record */
	MIRAD_MANIFEST_EOF = 0,
	MIRAD_MANIFEST_BAD = 2, /* malformed line skipped; see _error() */
	MIRAD_MANIFEST_READ_ERROR = -1 /* errno set */
};

/*
 * Open PATH ("-" = stdin, named "<stdin>" in messages).  Relative paths in
 * it resolve against the manifest's directory (the current directory for
 * stdin) unless ROOT_OVERRIDE (may be NULL) is given.  NULL with errno on
 * failure.  Free with mirad_manifest_close().
 */
struct mirad_manifest *mirad_manifest_open(
    const char *path, const char *root_override);
/* Read from an open stream (not closed by mirad_manifest_close()); NAME is
 * used in messages, BASE_DIR is where relative paths resolve. */
struct mirad_manifest *mirad_manifest_from_stream(FILE *stream,
    const char *name, const char *base_dir, const char *root_override);
/* Next record into *OUT (caller frees). */
enum mirad_manifest_status mirad_manifest_next(
    struct mirad_manifest *m, struct mirad_record **out);
/* "name:line: reason" of the last BAD line; borrowed until the next call. */
const char *mirad_manifest_error(const struct mirad_manifest *m);
/* The two parts of that message, for callers that place them apart (a name
 * may itself contain ": "); borrowed until the next call. */
const char *mirad_manifest_error_where(const struct mirad_manifest *m);
const char *mirad_manifest_error_reason(const struct mirad_manifest *m);
/* Header fields seen so far ({"mirad_manifest": ...} lines) or NULL;
 * borrowed. */
const cJSON *mirad_manifest_header(const struct mirad_manifest *m);
void mirad_manifest_close(struct mirad_manifest *m);

/*
 * Records in order, held by a GPtrArray.  {0} is an empty set that owns its
 * records (freed with mirad_record_free()); a view made with
 * mirad_recordset_init_view() or mirad_recordset_view() borrows them
 * instead.  ITEMS and COUNT are a view of the array for reading (and for
 * reordering items in place); only the functions below add or remove, so
 * never shrink COUNT by hand.
 */
struct mirad_recordset {
	struct mirad_record **items; /* the array's items; NULL while empty */
	size_t count;
	GPtrArray *array; /* owns the records unless the set is a view */
};
/* Make S an empty view: the records pushed stay owned by their owner. */
void mirad_recordset_init_view(struct mirad_recordset *s);
/* Make VIEW a view of the records of S, in its order (borrowed). */
void mirad_recordset_view(
    struct mirad_recordset *view, const struct mirad_recordset *s);
/* Append R; an owning set takes ownership. */
void mirad_recordset_push(struct mirad_recordset *s, struct mirad_record *r);
/*
 * Remove the records whose DROP[i] is set (DROP has S->count entries),
 * keeping the order of the rest; an owning set frees them.  Returns how
 * many were removed.
 */
size_t mirad_recordset_drop(struct mirad_recordset *s, const bool *drop);
/*
 * Forget every record from index N on without freeing any: for a caller
 * that has moved the records it keeps to the front of ITEMS and freed (or
 * handed on) the others itself.
 */
void mirad_recordset_steal_tail(struct mirad_recordset *s, size_t n);
/* Sort by category, split, defect, image (strcmp: locale-independent). */
void mirad_recordset_sort(struct mirad_recordset *s);
/* The same order for S->items[FROM..] only; the records before stay. */
void mirad_recordset_sort_from(struct mirad_recordset *s, size_t from);
/* Free the array, and every record of an owning set; S itself is not
 * freed and is left empty ({0}). */
void mirad_recordset_clear(struct mirad_recordset *s);

/*
 * Duplicates: two records naming the same image file (ROOT and IMAGE
 * joined, "." and ".." resolved).  LATER's image was already listed by
 * FIRST (FIRST < LATER, indexes into the set as it was searched); an image
 * listed three times gives two pairs with the same FIRST.
 */
struct mirad_duplicate {
	size_t first, later;
};
/*
 * The duplicates among S->items[FROM..], in the order of LATER, into *OUT
 * (caller frees; NULL when none).  Returns how many.
 */
size_t mirad_recordset_find_duplicates(
    const struct mirad_recordset *s, size_t from, struct mirad_duplicate **out);
/*
 * "NAME:LINE: IMAGE also at line N" for D (NAME is the manifest's name in
 * messages), followed by " (train and test: leakage)" when the two splits
 * differ or " (normal and anomaly)" when the labels do.  Records without a
 * line number are named by their path.
 */
void mirad_duplicate_describe(const struct mirad_recordset *s,
    const struct mirad_duplicate *d, const char *name, char *buf, size_t len);
/* Is D the same image twice in one split (not a leak between splits)? */
bool mirad_duplicate_is_repeat(
    const struct mirad_recordset *s, const struct mirad_duplicate *d);
/*
 * Remove (and free) the LATER record of every repeat among the N
 * duplicates D (found on S as it is now), keeping the order of the rest;
 * leaks between splits stay.  Returns how many records were removed.
 */
size_t mirad_recordset_drop_repeats(
    struct mirad_recordset *s, const struct mirad_duplicate *d, size_t n);

/*
 * The columns of the overview table (mirad-stats, mirad-fetch).
 * Anomalous training images have their own column: "train" counts normal
 * training images only, as in the papers' tables.
 */
struct mirad_counts {
	size_t train, train_abnormal, val, test_normal, test_abnormal;
};
/* Count an image of SPLIT with LABEL (NULL = normal) in its column. */
void mirad_counts_add(
    struct mirad_counts *c, const char *split, const char *label);
/* Add every column of PART to TOTAL. */
void mirad_counts_sum(
    struct mirad_counts *total, const struct mirad_counts *part);

#endif
