/* SPDX-License-Identifier: MIT */
/*
 * mirad-eval: exact anomaly-detection metrics (I-AUROC, I-AP, I-F1max,
 * P-AUROC, P-AP, P-F1max, AU-PRO) per category from anomaly maps on disk,
 * and the MIRAD paper's multi-method tables (mean and population std).
 * This file parses the options and dispatches: the evaluation is
 * eval_run.c, sharding and --merge eval_merge.c, the tables eval_table.c,
 * the metrics eval_metrics.c; mirad-eval(1) gives the definitions.
 */
#include "mirad_platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "eval_merge.h"
#include "eval_run.h"
#include "eval_scores.h"
#include "eval_table.h"
#include "mirad_cli.h"
#include "mirad_cli_options.h"
#include "mirad_dataset.h"
#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_image.h"
#include "mirad_manifest.h"
#include "mirad_signal.h"

static void
usage(void)
{
	/* clang-format off */
	fputs(
"Usage: mirad-eval [OPTION]... --gt DATASET --maps DIR\n"
"  or:  mirad-eval [OPTION]... --gt DATASET --methods DIR1,DIR2,...\n"
"  or:  mirad-eval --merge [-F FMT] [-o FILE] PARTIAL...\n"
"Compute exact anomaly-detection metrics per category from anomaly maps\n"
"laid out as <DIR>/<category>/test/<folder>/<stem>.{tiff,tif,png,npy}\n"
"(float32 or 8/16-bit), with ground truth from DATASET (a MIRAD, MVTec AD or\n"
"VisA tree, or a manifest; - reads a manifest from standard input).\n"
"\n"
"      --gt=DATASET       ground truth: dataset directory or manifest\n"
"      --maps=DIR         anomaly maps of one method\n"
"      --methods=LIST     several result directories ([NAME=]DIR,...): one\n"
"                         column per method, mean and population std\n"
"      --scores=FILE      per-image scores (CSV with image,score columns,\n"
"                         or JSON Lines); default: the max of each map\n"
"  -F, --format=FMT       md (default), csv, json or tex\n"
"      --metrics=LIST     i-auroc,i-ap,i-f1max,p-auroc,p-ap,p-f1max,aupro\n"
"                         (default: all; with --methods: i-auroc,aupro)\n"
"      --pro-limit=L      AU-PRO integration limit, 0 < L <= 1 (default 0.3)\n"
"      --compat=NAME      exact (default) or ader: ADer's numbers (ADEval\n"
"                         histograms, pooled image scores)\n"
"      --adeval-strips=N  histogram bins for --compat=ader (default 50)\n"
"      --ader-pooling=K|none\n"
"                         --compat=ader image scores: the max of the KxK\n"
"                         mean-pooled map (default 16), or of the map\n"
"      --strict           reject maps whose size differs from the image and\n"
"                         stop at the first bad image\n"
"  -o, --output=FILE      write the table to FILE (atomically)\n"
"      --shard=I/N        evaluate only shard I (0-based) of N, or 'slurm'\n"
"                         (SLURM_ARRAY_TASK_ID/COUNT); needs --partial\n"
"      --partial          write a partial file (binary, to -o FILE or a\n"
"                         pipe) for --merge instead of the table\n"
"      --merge            merge the partial files of every shard and print\n"
"                         the table (identical to the single run)\n"
"      --layout=NAME      force the layout: mirad, mvtec, visa, visa-prepared\n"
"      --split-csv=FILE   VisA: take the split from FILE\n"
"      --root=DIR         resolve relative manifest paths against DIR\n",
	    stdout);
	/* clang-format on */
	mirad_cli_print_shared_help(25);
	mirad_cli_print_exit_help();
}

static int
metrics_arg(void *target, const char *arg)
{
	struct eval *e = target;
	struct mirad_strlist l = {0};

	if (mirad_strlist_split(arg, &l) != 0)
		return -1;
	memset(e->metric_on, 0, sizeof e->metric_on);
	for (size_t i = 0; i < l.count; i++) {
		int m = -1;

		for (int k = 0; k < NMETRICS; k++)
			if (strcasecmp(l.items[i], eval_metric_names[k].key) ==
			    0)
				m = k;
		if (m < 0)
			mirad_usage_error("unknown metric '%s' (i-auroc, i-ap, "
			                  "i-f1max, p-auroc, p-ap, p-f1max, "
			                  "aupro)",
			    l.items[i]);
		e->metric_on[m] = true;
	}
	e->metrics_given = true;
	mirad_strlist_free(&l);
	return 0;
}

static int
pro_limit_arg(void *target, const char *arg)
{
	double *limit = target;

	if (mirad_cli_parse_double(arg, 0, 1, limit) != 0 || *limit <= 0)
		return -1;
	return 0;
}

static int
ader_pooling_arg(void *target, const char *arg)
{
	uint64_t u = 0;

	if (strcmp(arg, "none") != 0 &&
	    mirad_cli_parse_uint(arg, 1, 4096, &u) != 0)
		return -1;
	*(unsigned *)target = (unsigned)u;
	return 0;
}

static void
parse_args(struct eval *e, int argc, char **argv)
{
	static const char *const formats[] = {"md", "csv", "json", "tex", NULL};
	static const int format_values[] = {
	    FORMAT_MD, FORMAT_CSV, FORMAT_JSON, FORMAT_TEX};
	static const char *const compats[] = {"exact", "none", "ader", NULL};
	static const int compat_values[] = {
	    COMPAT_NONE, COMPAT_NONE, COMPAT_ADER};
	const struct mirad_cli_opt opts[] = {
	    {MIRAD_CLI_UINT("adeval-strips", 0, &e->adeval_strips, 1, 1000000,
	        "--adeval-strips must be an integer in 1..1000000, not "
	        "'%s'")},
	    {MIRAD_CLI_CALL("ader-pooling", 0, ader_pooling_arg,
	         &e->ader_pooling,
	         "--ader-pooling must be an integer in 1..4096 or 'none', "
	         "not '%s'"),
	        .given = &e->ader_pooling_given},
	    {MIRAD_CLI_CHOICE("compat", 0, &e->compat, compats, compat_values,
	        "unknown compat mode '%s' (exact, ader)")},
	    /* The table's format: --merge takes it, --partial prints none. */
	    {MIRAD_CLI_CHOICE("format", 'F', &e->format, formats, format_values,
	         "unknown format '%s' (md, csv, json, tex)"),
	        .how = MIRAD_CLI_MERGE_TAKES | MIRAD_CLI_PARTIAL_REFUSES},
	    {MIRAD_CLI_STRING("gt", 0, &e->gt)},
	    {MIRAD_CLI_STRING("maps", 0, &e->maps)},
	    {MIRAD_CLI_STRING("methods", 0, &e->methods)},
	    {MIRAD_CLI_CALL(
	        "metrics", 0, metrics_arg, e, "empty item in --metrics '%s'")},
	    {MIRAD_CLI_STRING("output", 'o', &e->output),
	        .how = MIRAD_CLI_MERGE_TAKES},
	    {MIRAD_CLI_CALL("pro-limit", 0, pro_limit_arg, &e->limit,
	        "--pro-limit must be a number in (0, 1], not '%s'")},
	    {MIRAD_CLI_STRING("scores", 0, &e->scores_path)},
	    {MIRAD_CLI_TRUE("strict", 0, &e->strict)},
	    {.name = NULL},
	};
	const struct mirad_cli_parser p = {.opts = opts,
	    .dataset = &e->in,
	    .merge = &e->merge_rule,
	    .partial = true,
	    .usage = usage};

	mirad_cli_options_parse(&p, argc, argv);
	e->merge = e->merge_rule.requested;
	if (e->merge) {
		int n;

		e->inputs = mirad_cli_merge_parts(&e->merge_rule, e->output,
		    false, "partial files", argc, argv, &n);
		e->ninputs = (size_t)n;
		return;
	}
	if (optind < argc)
		mirad_usage_error("unexpected argument '%s'", argv[optind]);
	mirad_cli_partial_check(&e->merge_rule);
	e->partial = e->merge_rule.partial;
	e->shard_index = e->merge_rule.shard_index;
	e->shard_count = e->merge_rule.shard_count;
	if (e->partial) {
		if (e->output != NULL && strcmp(e->output, "-") == 0)
			e->output = NULL;
		if (e->output == NULL && isatty(STDOUT_FILENO))
			mirad_usage_error(
			    "--partial writes binary data: give "
			    "-o FILE or redirect standard output");
		if (e->shard_count == 0) /* the whole run as one shard */
			e->shard_count = 1;
	}
	if (e->gt == NULL)
		mirad_usage_error("--gt DATASET is required");
	if ((e->maps == NULL) == (e->methods == NULL))
		mirad_usage_error("give either --maps DIR or --methods LIST");
	if (e->methods != NULL && e->scores_path != NULL)
		mirad_usage_error("--scores applies to --maps only");
	if (e->ader_pooling_given && e->compat != COMPAT_ADER)
		mirad_usage_error("--ader-pooling needs --compat=ader");
	if (!e->metrics_given) {
		for (int k = 0; k < NMETRICS; k++)
			e->metric_on[k] = e->methods == NULL;
		if (e->methods != NULL)
			e->metric_on[M_I_AUROC] = e->metric_on[M_AUPRO] = true;
	}
}

/* ---- main ---- */

static void
parse_methods(const char *arg, struct run **runs, size_t *nruns)
{
	struct mirad_strlist l = {0};

	if (mirad_strlist_split(arg, &l) != 0)
		mirad_usage_error("empty item in --methods '%s'", arg);
	*runs = mirad_xcalloc(l.count, sizeof **runs);
	for (size_t i = 0; i < l.count; i++) {
		char *item = l.items[i], *eq = strchr(item, '=');
		struct run *r = &(*runs)[i];

		if (eq != NULL) {
			*eq = '\0';
			if (item[0] == '\0' || eq[1] == '\0')
				mirad_usage_error("--methods item needs "
				                  "NAME=DIR or DIR");
			r->name = mirad_xstrdup(item);
			r->maps = mirad_xstrdup(eq + 1);
		} else {
			char *trim = mirad_xstrdup(item);
			size_t n = strlen(trim);

			while (n > 1 && trim[n - 1] == '/')
				trim[--n] = '\0';
			r->name = mirad_xstrdup(mirad_path_basename(trim));
			r->maps = trim;
		}
		if (!mirad_is_dir(r->maps))
			mirad_die(
			    MIRAD_EXIT_FATAL, "%s: not a directory", r->maps);
		for (size_t k = 0; k < i; k++)
			if (strcmp((*runs)[k].name, r->name) == 0)
				mirad_usage_error("method name '%s' given "
				                  "twice (use NAME=DIR)",
				    r->name);
	}
	*nruns = l.count;
	mirad_strlist_free(&l);
}

int
main(int argc, char **argv)
{
	struct eval e = {0};
	struct mirad_recordset records = {0};
	struct mirad_dataset_info info = {0};
	struct run *runs = NULL;
	size_t nruns = 0;
	struct mirad_outfile *out;
	char err[1024];
	int status = MIRAD_EXIT_OK, rc;
	size_t ntest = 0;

	mirad_set_progname(argv[0]);
	/* Over a file-size limit, a write error to report, not a kill. */
	mirad_signal_ignore_file_limits();
	e.in.scan.problem = mirad_report_problem;
	e.limit = 0.3;
	e.adeval_strips = 50;
	e.ader_pooling = 16;
	parse_args(&e, argc, argv);
	if (e.merge) {
		status = eval_merge(&e, &runs, &nruns);
		goto table;
	}
	if (e.shard_count == 0)
		e.shard_count = 1;
	if (e.methods != NULL) {
		parse_methods(e.methods, &runs, &nruns);
	} else {
		if (!mirad_is_dir(e.maps))
			mirad_die(
			    MIRAD_EXIT_FATAL, "%s: not a directory", e.maps);
		runs = mirad_xcalloc(1, sizeof *runs);
		runs[0].name = mirad_xstrdup(mirad_path_basename(e.maps));
		runs[0].maps = mirad_xstrdup(e.maps);
		nruns = 1;
	}
	if (e.scores_path != NULL)
		eval_load_scores(&e);

	if (mirad_image_init(argv[0], 0, err, sizeof err) != 0)
		mirad_die(MIRAD_EXIT_FATAL, "cannot start libvips: %s", err);
	mirad_dataset_show_as_given(e.gt);
	rc = mirad_dataset_load(e.gt, &e.in, &records, &info, err, sizeof err);
	if (rc != 0)
		mirad_die(MIRAD_EXIT_FATAL, "%s",
		    mirad_cli_dataset_advice(rc, err, sizeof err));
	if (info.scan.problems > 0 || info.bad_lines > 0)
		status = MIRAD_EXIT_PARTIAL;
	if (mirad_cli_report_duplicates(
	        e.gt, &records, &info, " (evaluated once)") > 0)
		status = MIRAD_EXIT_PARTIAL;
	if (e.output != NULL &&
	    mirad_dataset_check_output_file(
	        e.gt, &e.in, &records, e.output, err, sizeof err) != 0)
		mirad_die(MIRAD_EXIT_USAGE, "%s", err);
	mirad_recordset_sort(&records);
	for (size_t i = 0; i < records.count; i++)
		ntest += strcmp(records.items[i]->split, "test") == 0;
	if (ntest == 0)
		mirad_die(MIRAD_EXIT_FATAL, "%s: no test images", e.gt);

	if (e.partial) {
		status = eval_write_partial(&e, &records, runs, nruns, status);
		goto done;
	}
	for (size_t r = 0; r < nruns; r++) {
		eval_evaluate(&e, &records, &runs[r], r, NULL);
		if (runs[r].ncats == 0)
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: no test image could "
			    "be evaluated",
			    runs[r].maps);
	}
table:
	if (e.bad > 0)
		status = MIRAD_EXIT_PARTIAL;

	out = mirad_outfile_open(e.output ? e.output : "-");
	if (out == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", e.output);
	if (e.methods != NULL)
		eval_print_methods(&e, runs, nruns, mirad_outfile_stream(out));
	else
		eval_print_single(&e, &runs[0], mirad_outfile_stream(out));
	if (mirad_outfile_commit(out) != 0)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s",
		    e.output ? e.output : "error writing standard output");
	if (e.bad > 0)
		mirad_warn("%zu test images skipped", e.bad);

done:
	eval_runs_free(runs, nruns);
	eval_clear(&e);
	cJSON_Delete(info.header);
	free(info.duplicates);
	mirad_recordset_clear(&records);
	if (!e.merge)
		mirad_image_shutdown();
	return mirad_close_stdout(status);
}
