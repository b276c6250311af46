/* SPDX-License-Identifier: MIT */
/*
 * Strict parsing of option arguments, shared by every tool.  Functions return
 * 0 on success and -1 when the text is not a valid value in range; the caller
 * reports the usage error (library code never prints).
 */
#ifndef MIRAD_CLI_H
#define MIRAD_CLI_H

#include "mirad_platform.h"

#include "mirad_shard.h"
#include "mirad_strlist.h"

/* A decimal unsigned integer in [MIN, MAX]; a leading '-' is rejected. */
int mirad_cli_parse_uint(
    const char *arg, uint64_t min, uint64_t max, uint64_t *out);
/* A finite decimal number in [MIN, MAX]. */
int mirad_cli_parse_double(
    const char *arg, double min, double max, double *out);
/*
 * A shard spec "I/N" with 0 <= I < N, or "slurm", which reads
 * SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT (and SLURM_ARRAY_TASK_MIN,
 * subtracted from the id when set).
 */
int mirad_cli_parse_shard(const char *arg, unsigned *index, unsigned *count);

/*
 * The one --shard/--merge/--partial rule of every tool.  --merge takes its
 * job from the shards (their folders or partial files), so besides -o,
 * -f (--force), -q, -h, -V, --progress and --no-progress it accepts only
 * the options that shape what the merge prints.  --partial prints no table
 * or report, so it refuses those that only shape one.  The option loop
 * (mirad_cli_options.h) fills this: --shard, --merge, --partial, and the
 * first refused option of each kind as the user spelled it.  After the
 * loop, with --merge, mirad_cli_merge_parts() makes a usage error of
 * --shard, --partial, a refused option, no OUTPUT when NEED_OUTPUT, or no
 * operands (WHAT names them: "shard folders", "partial files"), and
 * returns the operands (argv + optind, borrowed) and their count in
 * *NPARTS.  Without --merge, tools with --partial call
 * mirad_cli_partial_check(): --shard needs --partial, and --partial
 * refuses what it refuses.
 */
struct mirad_cli_merge {
	bool requested;         /* --merge was given */
	bool partial;           /* --partial was given */
	unsigned shard_index;   /* --shard I/N: I */
	unsigned shard_count;   /* --shard I/N: N; 0 without --shard */
	char job_option[64];    /* the first option --merge refuses */
	char report_option[64]; /* the first option --partial refuses */
};
char **mirad_cli_merge_parts(const struct mirad_cli_merge *m,
    const char *output, bool need_output, const char *what, int argc,
    char **argv, int *nparts);
void mirad_cli_partial_check(const struct mirad_cli_merge *m);

/*
 * Warn "FILE:LINE: IMAGE also at line N ..." for every duplicate record
 * the load found (INFO), appending REPEAT_NOTE (e.g. " (counted once)")
 * where the same image is listed twice in one split, then drop those
 * repeats from RECORDS; an image in two splits (a leak) stays as given.
 * Returns how many duplicates there were.
 */
struct mirad_recordset;
struct mirad_dataset_info;
size_t mirad_cli_report_duplicates(const char *input,
    struct mirad_recordset *records, const struct mirad_dataset_info *info,
    const char *repeat_note);

/*
 * Print the --help lines of the options every tool has (--progress,
 * --no-progress, -q, -h, -V), their descriptions starting at COLUMN.
 */
void mirad_cli_print_shared_help(int column);

/* Print the shared exit-status paragraph for --help. */
void mirad_cli_print_exit_help(void);

/*
 * Add to ERR, the reason mirad_dataset_load() or mirad_layout_scan() gave
 * for code RC, what the user can do about it with the tools' options (for
 * MIRAD_LAYOUT_UNKNOWN: "; use --layout").  Returns ERR.
 */
const char *mirad_cli_dataset_advice(int rc, char *err, size_t errlen);

/*
 * Add to ERR, the reason mirad_shard_load() gave for code RC, what the user
 * can do (for MIRAD_SHARD_NOT_A_SHARD: "; write it with --shard I/N").
 * Returns ERR.
 */
const char *mirad_cli_shard_advice(int rc, char *err, size_t errlen);

/*
 * Add to ERR, the reason a mirad_format_check() or
 * mirad_format_write_split() gave for code RC, the way out (for
 * MIRAD_FORMAT_NAME_CLASH: a tree with unique names, written by
 * mirad-convert).  Returns ERR.
 */
const char *mirad_cli_format_advice(int rc, char *err, size_t errlen);

/*
 * The message for output TARGET refused with CODE (a MIRAD_OUTDIR_* code of
 * mirad_outdir_check() or mirad_outdir_replaceable()), in BUF, which is
 * returned: "TARGET: exists (use --force to replace it)" and the like; for
 * MIRAD_OUTDIR_ERRNO "TARGET: " and strerror(errno).
 */
const char *mirad_cli_output_refusal(
    int code, const char *target, char *buf, size_t len);

/*
 * --merge -o OUT: check that OUT is apart from the parts of SET, begin the
 * transaction on OUT (with FORCE, replacing a folder the family wrote) and
 * start assembling it in M (mirad_shard_merge_start()).  -1 with the
 * reason in ERR.
 */
int mirad_cli_merge_begin(struct mirad_shard_merge *m, const char *out,
    bool force, const struct mirad_shard_set *set, char *err, size_t errlen);

#endif
