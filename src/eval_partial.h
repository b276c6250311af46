/* SPDX-License-Identifier: MIT */
/*
 * mirad-eval's partial files: what one shard (`--shard I/N --partial`)
 * evaluated, in a form from which `--merge` rebuilds exactly the per-category
 * stores of the single run (eval_metrics.h), so that the merged table is
 * byte-identical to the single-machine one.
 *
 * Format, version 1 (integers little-endian; "varint" is unsigned LEB128,
 * at most 10 bytes, no overlong forms):
 *
 *   magic "MIRADEVP", u32 version, u32 shard I, u32 shard count N,
 *   u32 job length, job: varint field count, per field varint-length key
 *       and value strings (the options, ground truth and names that every
 *       shard of one run must share; compared byte for byte)
 *   one section per (method, category) of the job, method-major:
 *     u32 "SECT", varint method, varint category,
 *     varint images; per image: varint index (position among the
 *       category's test images), u8 label (0/1), f64 score (finite)
 *     varint resized maps, varint-length text naming the first one
 *     varint regions; per region varint size (>= 1)
 *     varint positives; per pixel in the order added: u32 order key,
 *       varint region (1-based, within this section)
 *     varint runs; per run of equal negative keys in descending order:
 *       varint gap (the first: 0xffffffff - key; then previous - key, >= 1)
 *       and varint count (>= 1)
 *   u32 "END!", u64 images skipped, u32 flags, u64 FNV-1a 64 of all
 *   bytes before it
 *
 * The reader checks every count against the bytes left in the file before
 * allocating, so a hostile or truncated file costs at most memory in
 * proportion to its size.  Functions return -1 with a one-line reason in
 * ERR (prefixed with the file's name); they never print.
 */
#ifndef EVAL_PARTIAL_H
#define EVAL_PARTIAL_H

#include "mirad_platform.h"

#include <stdio.h>

#include "eval_metrics.h"

#define EVAL_PARTIAL_VERSION 1

/* Flags of the trailer. */
#define EVAL_PARTIAL_GT_PROBLEMS 1u /* the ground truth had problems */

/* The job description: an ordered list of key/value strings. */
struct eval_job {
	char **keys, **values; /* owned */
	size_t n;
};
void eval_job_add(struct eval_job *j, const char *key, const char *value);
void eval_job_clear(struct eval_job *j);
/* Serialise J into a new buffer (caller frees), its length in *LEN. */
unsigned char *eval_job_encode(const struct eval_job *j, size_t *len);
/* Parse LEN bytes at BUF into J (an initialised job, cleared first).  -1
 * if malformed (J left empty). */
int eval_job_decode(const unsigned char *buf, size_t len, struct eval_job *j);
/* The index of the first field in which A and B differ (A->n or B->n
 * when one is a prefix of the other), or -1 when they are equal. */
long eval_job_first_difference(
    const struct eval_job *a, const struct eval_job *b);

/* One evaluated image of a section. */
struct eval_partial_image {
	uint64_t index; /* position among the category's test images */
	uint8_t label;  /* 1 = anomalous */
	double score;
};

/* ---- writing ---- */

struct eval_partial_writer;

/* Start a partial file on F (the caller opens, commits and closes it):
 * writes the header.  NULL with errno on a write error. */
struct eval_partial_writer *eval_partial_writer_new(
    FILE *f, unsigned shard, unsigned nshards, const struct eval_job *job);
/*
 * One section.  PX's negatives are sorted in place (its positives keep the
 * order in which they were added).  FIRST_RESIZED may be NULL.  Returns 0,
 * or -1 with errno (write error, out of memory).
 */
int eval_partial_write_section(struct eval_partial_writer *w, size_t method,
    size_t category, const struct eval_partial_image *images, size_t nimages,
    uint64_t resized, const char *first_resized, struct eval_pixels *px);
/* The trailer; frees W.  Returns 0, or -1 with errno. */
int eval_partial_writer_finish(
    struct eval_partial_writer *w, uint64_t bad, uint32_t flags);
/* Free W without finishing (the caller discards the file). */
void eval_partial_writer_free(struct eval_partial_writer *w);

/* ---- reading ---- */

struct eval_partial_reader;

/* Open PATH and read its header.  NULL with ERR set. */
struct eval_partial_reader *eval_partial_open(
    const char *path, char *err, size_t errlen);
/* The same over LEN bytes at BUF (borrowed until closed), named NAME. */
struct eval_partial_reader *eval_partial_open_mem(
    const void *buf, size_t len, const char *name, char *err, size_t errlen);
void eval_partial_close(struct eval_partial_reader *r);

const char *eval_partial_name(const struct eval_partial_reader *r);
unsigned eval_partial_shard(const struct eval_partial_reader *r);
unsigned eval_partial_nshards(const struct eval_partial_reader *r);
/* The job as stored (bytes) and decoded. */
const unsigned char *eval_partial_job_bytes(
    const struct eval_partial_reader *r, size_t *len);
const struct eval_job *eval_partial_job(const struct eval_partial_reader *r);

/* What a section holds besides the pixels; reuse one across calls and free
 * with eval_partial_section_clear(). */
struct eval_partial_section {
	struct eval_partial_image *images;
	size_t nimages;
	uint64_t resized;
	char *first_resized; /* NULL when none */
	uint64_t runs;       /* negative runs still to read */
};
void eval_partial_section_clear(struct eval_partial_section *s);

/*
 * Read the head of the next section, which must be (METHOD, CATEGORY): its
 * images, resize note, regions and positive pixels, which are appended to
 * PX (region ids offset by the regions PX already holds).  The negative
 * runs follow: read them with eval_partial_next_run() before the next
 * section.
 */
int eval_partial_read_section(struct eval_partial_reader *r, size_t method,
    size_t category, struct eval_partial_section *s, struct eval_pixels *px,
    char *err, size_t errlen);
/* The next negative run of the section (keys strictly descending): 1 with
 * *KEY and *COUNT set, 0 at the end of the section, -1 on error. */
int eval_partial_next_run(struct eval_partial_reader *r,
    struct eval_partial_section *s, uint32_t *key, uint64_t *count, char *err,
    size_t errlen);
/* Up to MAX next runs into KEYS and COUNTS: how many (0 at the end of
 * the section), or -1 on error. */
long eval_partial_read_runs(struct eval_partial_reader *r,
    struct eval_partial_section *s, uint32_t *keys, uint64_t *counts,
    size_t max, char *err, size_t errlen);
/* The trailer: checks the checksum and that nothing follows. */
int eval_partial_read_end(struct eval_partial_reader *r, uint64_t *bad,
    uint32_t *flags, char *err, size_t errlen);

#endif
