/* SPDX-License-Identifier: MIT */
/*
 * Sharded runs: assemble the output folders of `TOOL --shard I/N` (one per
 * shard of the same job) into the output of the single run.
 *
 * A shard writes its share of the files into its own folder, exactly where
 * the single run would put them (or under names the tool maps later), plus
 * one metadata file, MIRAD_SHARD_META, in JSON Lines:
 *
 *   {"mirad_shard":1,"tool":T,"version":V,"shard":I,"shards":N,
 *    "job":SHA256,"total":K,"dir":ABS_FOLDER,"data":{...}}
 *   {"seq":S,"files":[REL,...],"record":{...},"data":{...}}   (per entry)
 *   {"end":true,"entries":E,"status":X}
 *
 * Every sequence number S in [0, K) (the position of a record in the single
 * run's output) belongs to exactly one shard.  "files" are the files the
 * entry wrote, relative to the folder; "record" (optional) is its manifest
 * line; "data" (optional) is the tool's own.  JOB fingerprints the options
 * and the input, so parts of different jobs are not mixed.
 *
 * The merge (mirad_shard_load(), then mirad_shard_merge_*()) checks that
 * the parts form one complete job, links (or, across filesystems, copies)
 * every file into a private folder beside OUT under the name the tool
 * chooses, points the records at OUT and publishes the folder with one
 * rename while holding OUT's lock.  Only then are the parts removed.  On
 * any failure OUT and the parts are left as they were.
 *
 * Functions return 0 (or a pointer) on success and -1 (NULL) with a
 * message in ERR; they never print.
 */
#ifndef MIRAD_SHARD_H
#define MIRAD_SHARD_H

#include "mirad_platform.h"

#include <cjson/cJSON.h>
#include <stdio.h>

#include "mirad_manifest.h"
#include "mirad_outdir.h"

/* The metadata file inside a shard's folder (not copied into OUT). */
#define MIRAD_SHARD_META ".mirad-shard.jsonl"

/* ---- the job fingerprint -------------------------------------------- */

/* A SHA-256 over what decides a job's output.  Free with _finish(). */
struct mirad_shard_job;
struct mirad_shard_job *mirad_shard_job_new(const char *tool);
/* Add option KEY with VALUE (NULL allowed: "unset"). */
void mirad_shard_job_add(
    struct mirad_shard_job *j, const char *key, const char *value);
/* Add an input record (all its fields, in order). */
void mirad_shard_job_add_record(
    struct mirad_shard_job *j, const struct mirad_record *r);
/* The digest as 64 hex digits into HEX; frees J. */
void mirad_shard_job_finish(struct mirad_shard_job *j, char hex[65]);

/* ---- writing a shard ------------------------------------------------- */

struct mirad_shard_writer;

/*
 * Start MIRAD_SHARD_META in DIR (the shard's private folder, published
 * later as FINAL_DIR, an absolute path recorded for the merge).  DATA (may
 * be NULL; borrowed) is the tool's header data.  NULL with a message on
 * failure.
 */
struct mirad_shard_writer *mirad_shard_writer_open(const char *dir,
    const char *final_dir, const char *tool, unsigned index, unsigned count,
    const char *job, uint64_t total, const cJSON *data, char *err,
    size_t errlen);
/* One entry: sequence number SEQ, its files (relative to the folder), its
 * manifest record (may be NULL) and tool data (may be NULL), borrowed. */
int mirad_shard_writer_add(struct mirad_shard_writer *w, uint64_t seq,
    const char *const *files, size_t nfiles, const cJSON *record,
    const cJSON *data, char *err, size_t errlen);
/* Write the end line with the shard's exit STATUS and commit; frees W. */
int mirad_shard_writer_close(
    struct mirad_shard_writer *w, int status, char *err, size_t errlen);
/* Drop the file; frees W.  Accepts NULL. */
void mirad_shard_writer_abort(struct mirad_shard_writer *w);

/* ---- reading the parts ----------------------------------------------- */

struct mirad_shard_entry {
	unsigned shard; /* the part it comes from */
	char *record;   /* manifest line (JSON, no newline) or NULL */
	cJSON *data;    /* tool data or NULL */
	char **files;   /* relative to the part */
	char **dest;    /* relative to OUT: copies of FILES, the tool may
	                   replace them (free the old string) */
	size_t nfiles;
};

struct mirad_shard_set {
	char *tool;
	char job[65];
	unsigned count; /* N */
	uint64_t total; /* K: entries[0..K) */
	char **names;   /* the folders as given, by shard index */
	char **dirs;    /* the same, absolute */
	char **made_as; /* the absolute folder each shard wrote (header) */
	cJSON **data;   /* each shard's header data (or NULL) */
	int *locks;     /* each part's lock while loaded */
	int status;     /* the worst exit status of the shards */
	size_t nfiles;  /* files in all entries */
	struct mirad_shard_entry *entries; /* by sequence number */
};

/*
 * Lock and read the N folders NAMES (in any order), made by TOOL.  Fails,
 * naming the folder, when one is not a shard folder of TOOL, is
 * incomplete, holds files its metadata does not list or misses listed
 * ones, or when the set is not exactly shards 0..N-1 of one job: -1, or
 * MIRAD_SHARD_NOT_A_SHARD for a folder without shard metadata (the tool
 * says how one is written), with the reason in ERR.
 */
#define MIRAD_SHARD_NOT_A_SHARD (-2)
int mirad_shard_load(const char *const *names, size_t n, const char *tool,
    struct mirad_shard_set *set, char *err, size_t errlen);
/* Unlock the parts and free everything.  Accepts a zeroed set. */
void mirad_shard_set_free(struct mirad_shard_set *set);

/* ---- assembling OUT --------------------------------------------------- */

struct mirad_shard_merge {
	char *out;     /* OUT as given */
	char *abs_out; /* absolute */
	char *tmp;     /* the private folder to publish as OUT (DIR's) */
	char *tool;    /* the parts' tool, for OUT's mark */
	struct mirad_outdir *dir; /* the transaction writing OUT */
};

/*
 * Is OUT apart from every part (not one of them, not holding one, not
 * inside one)?  0, or -1 with the reason in ERR: a usage mistake.
 */
int mirad_shard_check_output(const struct mirad_shard_set *set, const char *out,
    char *err, size_t errlen);

/*
 * Assemble OUT in DIR, a transaction the tool began on OUT (after
 * mirad_shard_check_output(); see mirad_cli_merge_begin()), whose
 * temporary folder becomes M->tmp.  M takes DIR over: publish commits it,
 * abort aborts it.  -1 with the reason in ERR (DIR aborted then).
 */
int mirad_shard_merge_start(struct mirad_shard_merge *m, const char *out,
    struct mirad_outdir *dir, const struct mirad_shard_set *set, char *err,
    size_t errlen);

struct mirad_shard_place_options {
	int (*interrupted)(void);   /* polled per file; may be NULL */
	void (*progress)(uint64_t); /* called with 1 per file; may be NULL */
};

/*
 * Put every entry's files into M->tmp under their dest names (hard link,
 * or copy across filesystems; symbolic links stay links) and rewrite the
 * records: a root inside the folder the shard wrote becomes the same place
 * under OUT, and an image or mask path naming a file of the entry takes
 * the file's dest name.
 */
int mirad_shard_merge_place(struct mirad_shard_merge *m,
    struct mirad_shard_set *set, const struct mirad_shard_place_options *o,
    char *err, size_t errlen);

/* Mark M->tmp as the tool's output and commit the transaction: OUT is
 * published (an old one replaced with the force it was begun with) and
 * unlocked.  On failure OUT is as it was. */
int mirad_shard_merge_publish(
    struct mirad_shard_merge *m, char *err, size_t errlen);

/* Remove M->tmp and unlock OUT; OUT stays as it was.  Accepts a zeroed M. */
void mirad_shard_merge_abort(struct mirad_shard_merge *m);

/*
 * After publishing: remove the parts' listed files and metadata and the
 * folders left empty.  Returns how many could not be removed (anything the
 * metadata does not list is kept).
 */
size_t mirad_shard_remove_parts(const struct mirad_shard_set *set);

/* The records, in sequence order, one per line.  -1 with errno. */
int mirad_shard_write_records(const struct mirad_shard_set *set, FILE *out);

#endif
