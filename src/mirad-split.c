/* SPDX-License-Identifier: MIT */
/*
 * mirad-split: describe a dataset as a manifest (JSON Lines, one record per
 * image) on stdout, and turn it into the splits benchmark protocols use:
 * nested K-shot sets, val from train, anomalies in train, K-fold val
 * rotation, cross-node splits, merged categories, VisA split files; written
 * as a manifest or in the list formats of other frameworks.
 */
#include "mirad_platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mirad_cli.h"
#include "mirad_cli_options.h"
#include "mirad_dataset.h"
#include "mirad_err.h"
#include "mirad_formats.h"
#include "mirad_image.h"
#include "mirad_manifest.h"
#include "mirad_progress.h"
#include "mirad_signal.h"
#include "mirad_version.h"
#include "split_output.h"
#include "split_run.h"
#include "split_sample.h"

static void
usage(void)
{
	/* clang-format off */
	fputs(
"Usage: mirad-split [OPTION]... [DATASET|MANIFEST|-]\n"
"Describe a dataset (a MIRAD, MVTec AD or VisA tree, or a manifest) as a\n"
"manifest: JSON Lines, one record per image, on standard output; with the\n"
"protocol options, turn it into a reproducible benchmark split.\n"
"With no input, or when it is -, read a manifest from standard input.\n"
"\n"
"Input:\n"
"      --layout=NAME      force the layout: mirad, mvtec, visa, visa-prepared\n"
"      --split-csv=FILE   take the split from a VisA split file\n"
"                         (object,split,label,image,mask) and keep its row\n"
"                         order (VisA default <root>/split_csv/1cls.csv)\n"
"      --root=DIR         resolve relative manifest paths against DIR\n"
"      --nodes=FILE       attach node ids from a CSV with columns image,node\n"
"      --no-sizes         do not read image headers (no sizes, no mask size\n"
"                         check)\n"
"\n"
"Protocols (each choice is a pure function of the seed and the image path):\n"
"      --categories=LIST  keep only these categories (comma-separated)\n"
"      --by=FIELD=VALUES  normal images whose FIELD is one of VALUES go to\n"
"                         train, everything else to test (--by node=1,2,3)\n"
"      --train-anomalies=N|FRACTION\n"
"                         move N (or FRACTION) of each category's test\n"
"                         anomalies, with their masks, to train\n"
"      --stratify=defect  keep defect-type proportions (--train-anomalies,\n"
"                         --folds)\n"
"      --folds=K          K-fold rotation of the test set: with --fold=I,\n"
"      --fold=I           fold I (0..K-1) of each category becomes val\n"
"      --val=N|FRACTION   move N (or FRACTION) of each category's normal\n"
"                         training images to val\n"
"      --shots=K[,K...]   keep K normal training images per category; the\n"
"                         sets are nested (K-shot within every larger one)\n"
"      --seed=N           seed of every choice (default 0; recorded in the\n"
"                         manifest header)\n"
"      --merge-categories=NAME\n"
"                         one category NAME over all selected ones (the old\n"
"                         one is kept in the field source_category)\n"
"      --merge=NAME       deprecated spelling of --merge-categories\n"
"\n"
"Output:\n"
"  -o, --output=FILE      write to FILE (atomically) instead of standard\n"
"                         output; with several K, or --format uniad, FILE\n"
"                         is a prefix: FILE-8shot.jsonl, FILE-train.json\n"
"  -F, --format=NAME      jsonl (default), visa-csv, tabular-csv, uniad,\n"
"                         meta-json\n"
"      --summary          print normal/anomalous counts per category and\n"
"                         split on standard error\n",
	    stdout);
	/* clang-format on */
	mirad_cli_print_shared_help(25);
	mirad_cli_print_exit_help();
}

static int
cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

static int
shots_arg(void *target, const char *arg)
{
	struct split *s = target;
	struct mirad_strlist l = {0};

	if (mirad_strlist_split(arg, &l) != 0 || l.count == 0) {
		mirad_strlist_free(&l);
		return -1;
	}
	free(s->shots);
	s->shots = mirad_xcalloc(l.count, sizeof *s->shots);
	s->nshots = l.count;
	for (size_t i = 0; i < l.count; i++) {
		uint64_t k;

		if (mirad_cli_parse_uint(l.items[i], 0, 1000000, &k) != 0)
			mirad_usage_error("--shots: '%s' is not a count "
			                  "(0 to 1000000)",
			    l.items[i]);
		s->shots[i] = (size_t)k;
	}
	mirad_strlist_free(&l);
	qsort(s->shots, s->nshots, sizeof *s->shots, cmp_size);
	for (size_t i = 1; i < s->nshots; i++)
		if (s->shots[i] == s->shots[i - 1])
			mirad_usage_error(
			    "--shots: %zu is given twice", s->shots[i]);
	s->shots_arg = arg;
	return 0;
}

static int
by_arg(void *target, const char *arg)
{
	struct split *s = target;
	const char *eq = strchr(arg, '=');

	mirad_strlist_free(&s->by_values);
	if (eq == NULL || eq == arg || eq[1] == '\0' ||
	    mirad_strlist_split(eq + 1, &s->by_values) != 0)
		return -1;
	free(s->by_field);
	s->by_field = mirad_xasprintf("%.*s", (int)(eq - arg), arg);
	s->by_arg = arg;
	return 0;
}

static int
val_arg(void *target, const char *arg)
{
	struct split *s = target;

	s->val_arg = arg;
	return split_parse_amount(arg, &s->val);
}

static int
train_anomalies_arg(void *target, const char *arg)
{
	struct split *s = target;

	s->train_anomalies_arg = arg;
	return split_parse_amount(arg, &s->train_anomalies);
}

static int
stratify_arg(void *target, const char *arg)
{
	*(bool *)target = true;
	return strcmp(arg, "defect") == 0 ? 0 : -1;
}

static int
merge_categories_arg(void *target, const char *arg)
{
	if (*arg == '\0' || strchr(arg, '/') != NULL)
		return -1;
	*(const char **)target = arg;
	return 0;
}

static int
merge_deprecated_arg(void *target, const char *arg)
{
	/* Kept working, as scripts that still spell it so would otherwise
	 * stop with nothing written. */
	mirad_warn("--merge is deprecated: use --merge-categories (--merge "
	           "joins the shards of a job in the other tools)");
	return merge_categories_arg(target, arg);
}

static int
format_arg(void *target, const char *arg)
{
	return mirad_format_from_name(arg, target);
}

static int
output_arg(void *target, const char *arg)
{
	/* "-o -" is standard output, as without -o. */
	*(const char **)target = strcmp(arg, "-") == 0 ? NULL : arg;
	return 0;
}

static void
parse_args(struct split *s, int argc, char **argv)
{
	const char *merge_error = "--merge-categories takes a category name "
	                          "(no '/'), not '%s'";
	const struct mirad_cli_opt opts[] = {
	    {MIRAD_CLI_CALL("by", 0, by_arg, s,
	        "--by takes FIELD=VALUE[,VALUE...] (e.g. node=1,2,3), not "
	        "'%s'")},
	    {MIRAD_CLI_CALL("categories", 0, mirad_cli_categories_arg,
	        &s->categories, MIRAD_CLI_CATEGORIES_ERROR)},
	    {MIRAD_CLI_UINT("fold", 0, &s->fold, 0, 999,
	         "--fold takes a fold number 0..K-1, not '%s'"),
	        .given = &s->fold_given},
	    {MIRAD_CLI_UINT("folds", 0, &s->folds, 2, 1000,
	        "--folds takes a number of folds 2..1000, not '%s'")},
	    {MIRAD_CLI_CALL("format", 'F', format_arg, &s->format,
	        "unknown format '%s' (jsonl, visa-csv, tabular-csv, uniad, "
	        "meta-json)")},
	    {MIRAD_CLI_CALL(
	        "merge", 0, merge_deprecated_arg, &s->merge, merge_error)},
	    {MIRAD_CLI_CALL("merge-categories", 0, merge_categories_arg,
	        &s->merge, merge_error)},
	    {MIRAD_CLI_FALSE("no-sizes", 0, &s->in.scan.read_sizes)},
	    {MIRAD_CLI_STRING("nodes", 0, &s->nodes)},
	    {MIRAD_CLI_CALL("output", 'o', output_arg, &s->output, NULL)},
	    /* 32 bits: the header keeps it exactly (JSON numbers are
	     * doubles). */
	    {MIRAD_CLI_UINT("seed", 0, &s->seed, 0, UINT32_MAX,
	         "--seed takes a whole number 0..4294967295, not '%s'"),
	        .given = &s->seed_given},
	    {MIRAD_CLI_CALL("shots", 0, shots_arg, s,
	        "--shots takes K or K,K,... (e.g. 1,2,4,8), not '%s'")},
	    {MIRAD_CLI_CALL("stratify", 0, stratify_arg, &s->by_defect,
	        "--stratify takes 'defect', not '%s'")},
	    {MIRAD_CLI_TRUE("summary", 0, &s->summary)},
	    {MIRAD_CLI_CALL("train-anomalies", 0, train_anomalies_arg, s,
	        "--train-anomalies takes a count or a fraction between 0 and "
	        "1 (e.g. 0.2), not '%s'")},
	    {MIRAD_CLI_CALL("val", 0, val_arg, s,
	        "--val takes a count or a fraction between 0 and 1 (e.g. "
	        "0.1), not '%s'")},
	    {.name = NULL},
	};
	const struct mirad_cli_parser p = {
	    .opts = opts, .dataset = &s->in, .usage = usage};

	mirad_cli_options_parse(&p, argc, argv);
	if (argc - optind > 1)
		mirad_usage_error("one input expected, got %d", argc - optind);
	s->input = optind < argc ? argv[optind] : "-";

	if ((s->folds != 0) != s->fold_given)
		mirad_usage_error("--folds K and --fold I go together");
	if (s->folds != 0 && s->fold >= s->folds)
		mirad_usage_error("--fold %u: folds are numbered 0..%u",
		    s->fold, s->folds - 1);
	if (s->folds != 0 && s->val.given)
		mirad_usage_error("--val and --folds both fill val; give one");
	if (s->by_defect && !s->train_anomalies.given && s->folds == 0)
		mirad_usage_error("--stratify defect applies to "
		                  "--train-anomalies and --folds");
	if (s->nshots > 1 && s->output == NULL &&
	    s->format != MIRAD_FORMAT_JSONL)
		mirad_usage_error("several --shots with --format %s need -o "
		                  "PREFIX (one file per K)",
		    mirad_format_name(s->format));
}

int
main(int argc, char **argv)
{
	struct split s = {0};
	struct mirad_recordset records = {0};
	struct mirad_dataset_info info;
	struct split_view *views;
	size_t nviews;
	char err[1024];
	int status = MIRAD_EXIT_OK, rc;

	mirad_set_progname(argv[0]);
	mirad_signal_ignore_file_limits();
	s.in.scan.read_sizes = true;
	/* A reported image or mask never enters train, val or a K-shot
	 * set: it is left out of every output (the exit status says so). */
	s.in.scan.drop_reported = true;
	s.in.scan.problem = mirad_report_problem;
	s.seed = SPLIT_DEFAULT_SEED;
	s.format = MIRAD_FORMAT_JSONL;
	parse_args(&s, argc, argv);

	/* Headers are read by libpng, libjpeg and libtiff; libvips starts
	 * only for a header of another format (its start-up costs more than
	 * all the headers of a dataset). */
	mirad_image_init_lazy(argv[0], 0);
	mirad_progress_start("scanning", 0);
	rc = mirad_dataset_load(
	    s.input, &s.in, &records, &info, err, sizeof err);
	if (rc != 0) {
		mirad_progress_end();
		mirad_die(MIRAD_EXIT_FATAL, "%s",
		    mirad_cli_dataset_advice(rc, err, sizeof err));
	}
	mirad_progress_end();
	if (info.scan.problems > 0 || info.bad_lines > 0)
		status = MIRAD_EXIT_PARTIAL;
	if (mirad_cli_report_duplicates(
	        s.input, &records, &info, " (kept once)") > 0)
		status = MIRAD_EXIT_PARTIAL;

	split_apply_protocols(&s, &records);
	/* A scanned tree comes sorted; keep it sorted after the moves
	 * between splits.  A manifest or a split file keeps its order. */
	if (!info.from_manifest && s.in.scan.split_csv == NULL)
		mirad_recordset_sort(&records);

	views = split_make_views(&s, &records, &nviews);
	if (s.merge != NULL &&
	    split_merge(&records, s.merge, err, sizeof err) != 0)
		mirad_usage_error("%s", err);

	split_check_format(&s, &records, views, nviews);
	split_write_outputs(&s, views, nviews);
	if (s.summary)
		for (size_t v = 0; v < nviews; v++)
			split_print_summary(&s, &views[v]);
	if (!info.from_manifest && isatty(STDERR_FILENO))
		mirad_note("%s: %zu images (%s layout), %zu files ignored, "
		           "%zu problems",
		    s.input, records.count, mirad_layout_name(info.scan.layout),
		    info.scan.ignored, info.scan.problems);

	split_views_free(views, nviews);
	split_settings_free(&s);
	cJSON_Delete(info.header);
	free(info.duplicates);
	mirad_recordset_clear(&records);
	mirad_image_shutdown();
	return mirad_close_stdout(status);
}
