/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <getopt.h>

#include "mirad_cli.h"
#include "mirad_dataset.h"
#include "mirad_err.h"
#include "mirad_formats.h"
#include "mirad_fs.h"
#include "mirad_layout.h"
#include "mirad_outdir.h"
#include "mirad_shard.h"

int
mirad_cli_parse_uint(const char *arg, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (arg == NULL || *arg < '0' || *arg > '9')
		return -1;
	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0')
		return -1;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
mirad_cli_parse_double(const char *arg, double min, double max, double *out)
{
	double v;
	char *end;

	if (arg == NULL || *arg == '\0')
		return -1;
	errno = 0;
	v = strtod(arg, &end);
	if (errno != 0 || end == arg || *end != '\0' || !isfinite(v))
		return -1;
	if (v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_env_uint(const char *name, uint64_t *out)
{
	const char *v = getenv(name);

	if (v == NULL)
		return -1;
	return mirad_cli_parse_uint(v, 0, UINT32_MAX, out);
}

int
mirad_cli_parse_shard(const char *arg, unsigned *index, unsigned *count)
{
	uint64_t i, n, min = 0;
	const char *slash;
	char buf[32];
	size_t len;

	if (strcmp(arg, "slurm") == 0) {
		if (parse_env_uint("SLURM_ARRAY_TASK_ID", &i) != 0 ||
		    parse_env_uint("SLURM_ARRAY_TASK_COUNT", &n) != 0)
			return -1;
		if (getenv("SLURM_ARRAY_TASK_MIN") != NULL &&
		    parse_env_uint("SLURM_ARRAY_TASK_MIN", &min) != 0)
			return -1;
		if (i < min)
			return -1;
		i -= min;
	} else {
		slash = strchr(arg, '/');
		if (slash == NULL)
			return -1;
		len = (size_t)(slash - arg);
		if (len == 0 || len >= sizeof buf)
			return -1;
		memcpy(buf, arg, len);
		buf[len] = '\0';
		if (mirad_cli_parse_uint(buf, 0, UINT32_MAX, &i) != 0 ||
		    mirad_cli_parse_uint(slash + 1, 1, UINT32_MAX, &n) != 0)
			return -1;
	}
	if (n == 0 || i >= n)
		return -1;
	*index = (unsigned)i;
	*count = (unsigned)n;
	return 0;
}

void
mirad_cli_print_shared_help(int column)
{
	static const char *const lines[][2] = {
	    {"      --progress",
	        "show progress on stderr even when not a "
	        "terminal"},
	    {"      --no-progress", "never show progress"},
	    {"  -q, --quiet", "print errors only"},
	    {"  -h, --help", "print this help and exit"},
	    {"  -V, --version", "print version information and exit"},
	};

	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
		printf("%-*s%s\n", column, lines[i][0], lines[i][1]);
}

void
mirad_cli_print_exit_help(void)
{
	fputs("\nExit status: 0 success, 1 some inputs were bad and skipped, "
	      "2 usage error,\n3 fatal error.\n",
	    stdout);
}

char **
mirad_cli_merge_parts(const struct mirad_cli_merge *m, const char *output,
    bool need_output, const char *what, int argc, char **argv, int *nparts)
{
	if (m->shard_count > 0)
		mirad_usage_error("--merge cannot be used with --shard");
	if (m->partial)
		mirad_usage_error("--merge cannot be used with --partial");
	if (m->job_option[0] != '\0')
		mirad_usage_error(
		    "--merge takes the options from the shards: %s not allowed",
		    m->job_option);
	if (need_output && output == NULL)
		mirad_usage_error("no output folder (-o OUT)");
	if (optind >= argc)
		mirad_usage_error("--merge needs the %s", what);
	*nparts = argc - optind;
	return argv + optind;
}

void
mirad_cli_partial_check(const struct mirad_cli_merge *m)
{
	if (m->shard_count > 0 && !m->partial)
		mirad_usage_error("--shard needs --partial (--merge joins the "
		                  "partial files)");
	if (m->partial && m->report_option[0] != '\0')
		mirad_usage_error("--partial prints no table or report: %s not "
		                  "allowed",
		    m->report_option);
}

size_t
mirad_cli_report_duplicates(const char *input, struct mirad_recordset *records,
    const struct mirad_dataset_info *info, const char *repeat_note)
{
	for (size_t i = 0; i < info->nduplicates; i++) {
		char msg[1024];

		mirad_duplicate_describe(records, &info->duplicates[i],
		    mirad_dataset_name(input), msg, sizeof msg);
		mirad_warn("%s%s", msg,
		    mirad_duplicate_is_repeat(records, &info->duplicates[i])
		        ? repeat_note
		        : "");
	}
	mirad_recordset_drop_repeats(
	    records, info->duplicates, info->nduplicates);
	return info->nduplicates;
}

const char *
mirad_cli_output_refusal(int code, const char *target, char *buf, size_t len)
{
	switch (code) {
	case MIRAD_OUTDIR_EXISTS:
		snprintf(
		    buf, len, "%s: exists (use --force to replace it)", target);
		break;
	case MIRAD_OUTDIR_NOT_FOLDER:
		snprintf(buf, len,
		    "%s: exists and is not a folder; --force replaces only "
		    "folders written by mirad-tools",
		    target);
		break;
	case MIRAD_OUTDIR_NOT_OURS:
		snprintf(buf, len,
		    "%s: not written by mirad-tools (no %s in it); --force "
		    "replaces only such folders: remove it yourself or choose "
		    "another name",
		    target, MIRAD_OUTPUT_MARK);
		break;
	default:
		snprintf(buf, len, "%s: %s", target, strerror(errno));
		break;
	}
	return buf;
}

int
mirad_cli_merge_begin(struct mirad_shard_merge *m, const char *out, bool force,
    const struct mirad_shard_set *set, char *err, size_t errlen)
{
	struct mirad_outdir *dir;
	int rc;

	memset(m, 0, sizeof *m);
	if (mirad_shard_check_output(set, out, err, errlen) != 0)
		return -1;
	/* The lock before looking at OUT: two merges cannot both see it
	 * missing. */
	rc = mirad_outdir_lock(&dir, out, force ? MIRAD_OUTDIR_FORCE : 0);
	if (rc != MIRAD_OUTDIR_OK) {
		snprintf(err, errlen, "%s: cannot lock (%s)", out,
		    rc == MIRAD_OUTDIR_BUSY ? "another run writing it?"
		                            : strerror(errno));
		return -1;
	}
	rc = mirad_outdir_check(dir);
	if (rc == MIRAD_OUTDIR_OK && mirad_outdir_make_temp(dir) != 0)
		rc = MIRAD_OUTDIR_ERRNO;
	if (rc != MIRAD_OUTDIR_OK) {
		mirad_cli_output_refusal(rc, out, err, errlen);
		mirad_outdir_abort(dir);
		return -1;
	}
	return mirad_shard_merge_start(m, out, dir, set, err, errlen);
}

/* Append ADVICE to the message in ERR, as far as it fits. */
static const char *
advise(char *err, size_t errlen, const char *advice)
{
	size_t n = strlen(err);

	if (n < errlen)
		snprintf(err + n, errlen - n, "%s", advice);
	return err;
}

const char *
mirad_cli_dataset_advice(int rc, char *err, size_t errlen)
{
	return rc == MIRAD_LAYOUT_UNKNOWN
	    ? advise(err, errlen, "; use --layout")
	    : err;
}

const char *
mirad_cli_format_advice(int rc, char *err, size_t errlen)
{
	return rc == MIRAD_FORMAT_NAME_CLASH
	    ? advise(err, errlen,
	          "; write a tree with unique names and its lists with "
	          "mirad-convert --to mvtec --emit uniad")
	    : err;
}

const char *
mirad_cli_shard_advice(int rc, char *err, size_t errlen)
{
	return rc == MIRAD_SHARD_NOT_A_SHARD
	    ? advise(err, errlen, "; write it with --shard I/N")
	    : err;
}
