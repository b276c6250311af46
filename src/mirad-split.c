/* SPDX-License-Identifier: MIT */
/*
 * mirad-split: describe a dataset as a manifest (JSON Lines, one record per
 * image) on stdout, and turn it into the splits benchmark protocols use:
 * nested K-shot sets, val from train, anomalies in train, K-fold val
 * rotation, cross-node splits, merged categories, VisA split files; written
 * as a manifest or in the list formats of other frameworks.
 */
#include "mirad_platform.h"

#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mirad_cli.h"
#include "mirad_dataset.h"
#include "mirad_err.h"
#include "mirad_formats.h"
#include "mirad_fs.h"
#include "mirad_image.h"
#include "mirad_manifest.h"
#include "mirad_progress.h"
#include "mirad_signal.h"
#include "mirad_version.h"
#include "split_sample.h"

/* The seed used when --seed is not given (recorded in the header). */
#define SPLIT_DEFAULT_SEED 0

enum {
	OPT_NO_SIZES = 256,
	OPT_SHOTS,
	OPT_SEED,
	OPT_VAL,
	OPT_TRAIN_ANOMALIES,
	OPT_STRATIFY,
	OPT_FOLDS,
	OPT_FOLD,
	OPT_CATEGORIES,
	OPT_MERGE_CATEGORIES,
	OPT_MERGE_DEPRECATED,
	OPT_BY,
	OPT_NODES,
	OPT_SUMMARY,
};

struct split {
	struct mirad_dataset_options in;
	const char *output;
	const char *input;
	enum mirad_format format;
	uint64_t seed;
	bool seed_given;
	size_t *shots; /* owned; NULL without --shots */
	size_t nshots;
	const char *shots_arg;
	struct split_amount val, train_anomalies;
	const char *val_arg, *train_anomalies_arg;
	bool by_defect;
	unsigned folds, fold;
	bool fold_given;
	struct mirad_strlist categories;
	const char *merge;
	char *by_field; /* owned */
	struct mirad_strlist by_values;
	const char *by_arg;
	const char *nodes;
	bool summary;
};

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
"                         split on standard error\n"
"      --progress         show progress on stderr even when not a terminal\n"
"      --no-progress      never show progress\n"
"  -q, --quiet            print errors only\n"
"  -h, --help             print this help and exit\n"
"  -V, --version          print version information and exit\n",
	    stdout);
	/* clang-format on */
	mirad_cli_print_exit_help();
}

static int
cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

static void
parse_shots(struct split *s, const char *arg)
{
	struct mirad_strlist l = {0};

	if (mirad_strlist_split(arg, &l) != 0 || l.count == 0)
		mirad_usage_error("--shots takes K or K,K,... (e.g. 1,2,4,8), "
		                  "not '%s'",
		    arg);
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
}

static void
parse_by(struct split *s, const char *arg)
{
	const char *eq = strchr(arg, '=');

	if (eq == NULL || eq == arg || eq[1] == '\0' ||
	    mirad_strlist_split(eq + 1, &s->by_values) != 0)
		mirad_usage_error("--by takes FIELD=VALUE[,VALUE...] (e.g. "
		                  "node=1,2,3), not '%s'",
		    arg);
	free(s->by_field);
	s->by_field = mirad_xasprintf("%.*s", (int)(eq - arg), arg);
	s->by_arg = arg;
}

static void
parse_args(struct split *s, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"by", required_argument, NULL, OPT_BY},
	    {"categories", required_argument, NULL, OPT_CATEGORIES},
	    {"fold", required_argument, NULL, OPT_FOLD},
	    {"folds", required_argument, NULL, OPT_FOLDS},
	    {"format", required_argument, NULL, 'F'},
	    {"merge", required_argument, NULL, OPT_MERGE_DEPRECATED},
	    {"merge-categories", required_argument, NULL, OPT_MERGE_CATEGORIES},
	    {"no-sizes", no_argument, NULL, OPT_NO_SIZES},
	    {"nodes", required_argument, NULL, OPT_NODES},
	    {"output", required_argument, NULL, 'o'},
	    {"seed", required_argument, NULL, OPT_SEED},
	    {"shots", required_argument, NULL, OPT_SHOTS},
	    {"stratify", required_argument, NULL, OPT_STRATIFY},
	    {"summary", no_argument, NULL, OPT_SUMMARY},
	    {"train-anomalies", required_argument, NULL, OPT_TRAIN_ANOMALIES},
	    {"val", required_argument, NULL, OPT_VAL},
	    MIRAD_CLI_COMMON_LONGOPTS,
	    MIRAD_CLI_DATASET_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	uint64_t v;
	int c;

	opterr = 0;
	while (
	    (c = getopt_long(argc, argv, ":F:ho:qV", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			/* "-o -" is standard output, as without -o. */
			s->output = strcmp(optarg, "-") == 0 ? NULL : optarg;
			break;
		case OPT_NO_SIZES:
			s->in.scan.read_sizes = false;
			break;
		case OPT_SHOTS:
			parse_shots(s, optarg);
			break;
		case OPT_SEED:
			/* 32 bits: the header keeps it exactly (JSON
			 * numbers are doubles). */
			if (mirad_cli_parse_uint(optarg, 0, UINT32_MAX, &v) !=
			    0)
				mirad_usage_error("--seed takes a whole number "
				                  "0..4294967295, not '%s'",
				    optarg);
			s->seed = v;
			s->seed_given = true;
			break;
		case OPT_VAL:
			if (split_parse_amount(optarg, &s->val) != 0)
				mirad_usage_error("--val takes a count or a "
				                  "fraction between 0 and 1 "
				                  "(e.g. 0.1), not '%s'",
				    optarg);
			s->val_arg = optarg;
			break;
		case OPT_TRAIN_ANOMALIES:
			if (split_parse_amount(optarg, &s->train_anomalies) !=
			    0)
				mirad_usage_error(
				    "--train-anomalies takes a "
				    "count or a fraction between "
				    "0 and 1 (e.g. 0.2), not '%s'",
				    optarg);
			s->train_anomalies_arg = optarg;
			break;
		case OPT_STRATIFY:
			if (strcmp(optarg, "defect") != 0)
				mirad_usage_error("--stratify takes 'defect', "
				                  "not '%s'",
				    optarg);
			s->by_defect = true;
			break;
		case OPT_FOLDS:
			if (mirad_cli_parse_uint(optarg, 2, 1000, &v) != 0)
				mirad_usage_error("--folds takes a number of "
				                  "folds 2..1000, not '%s'",
				    optarg);
			s->folds = (unsigned)v;
			break;
		case OPT_FOLD:
			if (mirad_cli_parse_uint(optarg, 0, 999, &v) != 0)
				mirad_usage_error("--fold takes a fold number "
				                  "0..K-1, not '%s'",
				    optarg);
			s->fold = (unsigned)v;
			s->fold_given = true;
			break;
		case OPT_CATEGORIES:
			mirad_cli_categories(optarg, &s->categories);
			break;
		case OPT_MERGE_DEPRECATED:
			/* Kept working, as scripts that still spell it so
			 * would otherwise stop with nothing written. */
			mirad_warn("--merge is deprecated: use "
			           "--merge-categories (--merge joins the "
			           "shards of a job in the other tools)");
			/* fall through */
		case OPT_MERGE_CATEGORIES:
			if (*optarg == '\0' || strchr(optarg, '/') != NULL)
				mirad_usage_error("--merge-categories takes a "
				                  "category name (no '/'), not "
				                  "'%s'",
				    optarg);
			s->merge = optarg;
			break;
		case OPT_BY:
			mirad_strlist_free(&s->by_values);
			parse_by(s, optarg);
			break;
		case OPT_NODES:
			s->nodes = optarg;
			break;
		case 'F':
			if (mirad_format_from_name(optarg, &s->format) != 0)
				mirad_usage_error(
				    "unknown format '%s' (jsonl, "
				    "visa-csv, tabular-csv, uniad, "
				    "meta-json)",
				    optarg);
			break;
		case OPT_SUMMARY:
			s->summary = true;
			break;
		default:
			mirad_cli_common_option(c, argv, usage, &s->in);
		}
	}
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

/* Does the output describe a protocol (and so get a header)? */
static bool
has_protocol(const struct split *s)
{
	return s->seed_given || s->shots != NULL || s->val.given ||
	    s->train_anomalies.given || s->folds != 0 ||
	    s->categories.count > 0 || s->merge != NULL || s->by_field ||
	    s->nodes != NULL || s->in.scan.split_csv != NULL;
}

static void
put(cJSON *obj, const char *key, cJSON *item)
{
	if (item == NULL || !cJSON_AddItemToObject(obj, key, item))
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
}

/* The manifest header: seed and options, so a split can be remade.  K is
 * the shot count of this file, or SIZE_MAX for all of them. */
static cJSON *
make_header(const struct split *s, size_t k)
{
	cJSON *h = cJSON_CreateObject();

	if (h == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	put(h, "mirad_manifest", cJSON_CreateNumber(1));
	put(h, "tool", cJSON_CreateString("mirad-split"));
	put(h, "seed", cJSON_CreateNumber((double)s->seed));
	if (s->shots != NULL && k != SIZE_MAX) {
		put(h, "shots", cJSON_CreateNumber((double)k));
	} else if (s->shots != NULL) {
		cJSON *a = cJSON_CreateArray();

		if (a == NULL)
			mirad_die_errno(
			    MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
		for (size_t i = 0; i < s->nshots; i++)
			cJSON_AddItemToArray(
			    a, cJSON_CreateNumber((double)s->shots[i]));
		put(h, "shots", a);
	}
	if (s->val_arg)
		put(h, "val", cJSON_CreateString(s->val_arg));
	if (s->train_anomalies_arg)
		put(h, "train_anomalies",
		    cJSON_CreateString(s->train_anomalies_arg));
	if (s->by_defect)
		put(h, "stratify", cJSON_CreateString("defect"));
	if (s->folds) {
		put(h, "folds", cJSON_CreateNumber(s->folds));
		put(h, "fold", cJSON_CreateNumber(s->fold));
	}
	if (s->categories.count > 0) {
		cJSON *a = cJSON_CreateStringArray(
		    (const char *const *)s->categories.items,
		    (int)s->categories.count);

		put(h, "categories", a);
	}
	if (s->by_arg)
		put(h, "by", cJSON_CreateString(s->by_arg));
	if (s->merge)
		put(h, "merge", cJSON_CreateString(s->merge));
	if (s->in.scan.split_csv)
		put(h, "split_csv",
		    cJSON_CreateString(
		        mirad_path_basename(s->in.scan.split_csv)));
	if (s->nodes)
		put(h, "nodes",
		    cJSON_CreateString(mirad_path_basename(s->nodes)));
	return h;
}

static int
write_header(FILE *f, const struct split *s, size_t k)
{
	cJSON *h = make_header(s, k);
	char *text = cJSON_PrintUnformatted(h);
	int rc = 0;

	cJSON_Delete(h);
	if (text == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	if (fputs(text, f) == EOF || putc('\n', f) == EOF)
		rc = -1;
	cJSON_free(text);
	return rc;
}

/* One output: the records of one K (or all), optionally one split. */
struct view {
	size_t k;                   /* SIZE_MAX without --shots */
	struct mirad_recordset set; /* borrowed records */
};

static const char *const split_order[] = {"train", "val", "test"};

static void
print_summary(const struct split *s, const struct view *v)
{
	struct mirad_strlist cats;

	split_categories(&v->set, &cats);
	if (v->k != SIZE_MAX)
		fprintf(stderr, "%s: %zu-shot split (seed %llu)\n",
		    mirad_progname(), v->k, (unsigned long long)s->seed);
	else
		fprintf(stderr, "%s: split (seed %llu)\n", mirad_progname(),
		    (unsigned long long)s->seed);
	fprintf(stderr, "%-24s %-5s %8s %8s\n", "category", "split", "normal",
	    "anomaly");
	for (size_t c = 0; c <= cats.count; c++) {
		for (size_t sp = 0; sp < 3; sp++) {
			size_t normal = 0, anomaly = 0;

			for (size_t i = 0; i < v->set.count; i++) {
				const struct mirad_record *r = v->set.items[i];

				if (strcmp(r->split, split_order[sp]) != 0 ||
				    (c < cats.count &&
				        strcmp(r->category, cats.items[c]) !=
				            0))
					continue;
				if (mirad_record_is_anomaly(r))
					anomaly++;
				else
					normal++;
			}
			if (normal + anomaly == 0 &&
			    strcmp(split_order[sp], "val") == 0)
				continue;
			fprintf(stderr, "%-24s %-5s %8zu %8zu\n",
			    c < cats.count ? cats.items[c] : "total",
			    split_order[sp], normal, anomaly);
		}
	}
	mirad_strlist_free(&cats);
}

/* PREFIX joined with PART ("-" between them unless PREFIX ends in '/').
 * Caller frees. */
static char *
prefixed(const char *prefix, const char *part, const char *ext)
{
	size_t n = strlen(prefix);
	bool dir = n > 0 && prefix[n - 1] == '/';

	return mirad_xasprintf("%s%s%s%s", prefix, dir ? "" : "-", part, ext);
}

struct pending {
	struct mirad_outfile *out;
	char *name;
};

/* "-" is standard output; name it as the rest of the family does. */
static const char *
output_name(const struct pending *p)
{
	return strcmp(p->name, "-") == 0 ? "error writing standard output"
	                                 : p->name;
}

/* Remove the temporary files of the NP outputs in P, then die: a failed
 * run leaves every earlier output as it was. */
MIRAD_NORETURN static void die_pending(
    struct pending *p, size_t np, const char *fmt, ...) MIRAD_PRINTF(3, 4);

MIRAD_NORETURN static void
die_pending(struct pending *p, size_t np, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < np; i++)
		mirad_outfile_abort(p[i].out);
	mirad_die(MIRAD_EXIT_FATAL, "%s", msg);
}

/* Open output P[NP] (the earlier ones are removed if that fails). */
static void
open_output(struct pending *p, size_t np, const char *name)
{
	p[np].name = mirad_xstrdup(name);
	p[np].out = mirad_outfile_open(name);
	if (p[np].out == NULL)
		die_pending(p, np, "%s: %s", name, strerror(errno));
}

/* Write view V (SPLIT only, unless NULL) to output P[I] of NP. */
static void
write_or_die(struct pending *p, size_t i, size_t np, const struct split *s,
    const struct view *v, const char *split, bool header)
{
	FILE *f = mirad_outfile_stream(p[i].out);
	char err[1024];

	if (header && write_header(f, s, v->k) != 0)
		die_pending(
		    p, np, "%s: %s", output_name(&p[i]), strerror(errno));
	if (mirad_format_write_split(
	        f, s->format, &v->set, split, NULL, err, sizeof err) != 0)
		die_pending(p, np, "%s: %s", output_name(&p[i]), err);
}

/* Which splits a one-split-per-file format writes: train and test always
 * (their readers open both), val when present. */
static bool
split_present(const struct view *v, const char *split)
{
	if (strcmp(split, "val") != 0)
		return true;
	for (size_t i = 0; i < v->set.count; i++)
		if (strcmp(v->set.items[i]->split, split) == 0)
			return true;
	return false;
}

static void
write_outputs(const struct split *s, struct view *views, size_t nviews)
{
	bool header = s->format == MIRAD_FORMAT_JSONL && has_protocol(s);
	bool per_split = mirad_format_one_split_per_file(s->format);
	const char *ext = mirad_format_extension(s->format);
	struct pending *p = mirad_xcalloc(nviews * 3 + 1, sizeof *p);
	size_t np = 0;

	if (s->output == NULL) {
		/* Standard output: one stream. */
		if (per_split) {
			for (size_t i = 0; i < views[0].set.count; i++)
				if (strcmp(views[0].set.items[i]->split,
				        views[0].set.items[0]->split) != 0)
					mirad_usage_error(
					    "--format %s keeps each split in "
					    "its own file: give -o PREFIX "
					    "(writes PREFIX-train%s, ...)",
					    mirad_format_name(s->format), ext);
		}
		open_output(p, np++, "-");
		if (header && nviews > 1) {
			if (write_header(
			        mirad_outfile_stream(p[0].out), s, SIZE_MAX))
				mirad_die_errno(MIRAD_EXIT_FATAL, errno,
				    "error writing standard output");
			header = false;
		}
		for (size_t v = 0; v < nviews; v++) {
			if (nviews > 1)
				for (size_t i = 0; i < views[v].set.count; i++)
					mirad_record_put_number(
					    views[v].set.items[i], "shots",
					    (double)views[v].k);
			write_or_die(p, 0, np, s, &views[v], NULL, header);
		}
	} else {
		for (size_t v = 0; v < nviews; v++) {
			char kpart[64] = "";

			if (nviews > 1)
				snprintf(
				    kpart, sizeof kpart, "%zushot", views[v].k);
			if (!per_split) {
				char *name = nviews > 1
				    ? prefixed(s->output, kpart, ext)
				    : mirad_xstrdup(s->output);

				open_output(p, np++, name);
				free(name);
				write_or_die(
				    p, np - 1, np, s, &views[v], NULL, header);
				continue;
			}
			for (size_t sp = 0; sp < 3; sp++) {
				char part[128];
				char *name;

				if (!split_present(&views[v], split_order[sp]))
					continue;
				snprintf(part, sizeof part, "%s%s%s", kpart,
				    *kpart ? "-" : "", split_order[sp]);
				name = prefixed(s->output, part, ext);
				open_output(p, np++, name);
				free(name);
				write_or_die(p, np - 1, np, s, &views[v],
				    split_order[sp], false);
			}
		}
	}
	/* Every file is complete on disk before the first one replaces its
	 * old version: a full disk leaves the old set, not a mix. */
	for (size_t i = 0; i < np; i++)
		if (mirad_outfile_finish(p[i].out) != 0)
			die_pending(p, np, "%s: %s", output_name(&p[i]),
			    strerror(errno));
	for (size_t i = 0; i < np; i++) {
		if (mirad_outfile_commit(p[i].out) != 0) {
			int e = errno;

			for (size_t j = i + 1; j < np; j++)
				mirad_outfile_abort(p[j].out);
			mirad_die_errno(
			    MIRAD_EXIT_FATAL, e, "%s", output_name(&p[i]));
		}
		free(p[i].name);
	}
	free(p);
}

/* Apply the protocol options in their fixed order (see mirad-split(1)). */
static void
apply_protocols(struct split *s, struct mirad_recordset *records)
{
	char err[1024];
	size_t n;

	if (s->nodes != NULL) {
		if (split_attach_nodes(
		        records, s->nodes, &n, err, sizeof err) != 0)
			mirad_die(MIRAD_EXIT_FATAL, "%s", err);
		if (n > 0)
			mirad_note("%s: %zu images have no node", s->nodes, n);
	}
	if (s->in.scan.split_csv != NULL) {
		if (split_apply_split_csv(records, s->in.scan.split_csv, &n,
		        err, sizeof err) != 0)
			mirad_die(MIRAD_EXIT_FATAL, "%s", err);
		if (n > 0)
			mirad_note("%s: %zu images are not listed (left out)",
			    s->in.scan.split_csv, n);
	}
	if (s->categories.count > 0 &&
	    split_keep_categories(records, &s->categories, err, sizeof err))
		mirad_usage_error("%s", err);
	if (records->count == 0)
		mirad_die(MIRAD_EXIT_FATAL, "%s: no images", s->input);
	if (s->by_field != NULL) {
		if (split_by_field(records, s->by_field, &s->by_values, &n, err,
		        sizeof err) != 0)
			mirad_usage_error("--by %s: %s", s->by_arg, err);
		if (n > 0)
			mirad_note("--by %s: %zu anomalies on train %ss left "
			           "out",
			    s->by_arg, n, s->by_field);
	}
	if (s->train_anomalies.given &&
	    split_train_anomalies(records, s->seed, &s->train_anomalies,
	        s->by_defect, err, sizeof err) != 0)
		mirad_usage_error("%s", err);
	if (s->folds != 0 &&
	    split_folds(records, s->seed, s->folds, s->fold, s->by_defect, err,
	        sizeof err) != 0)
		mirad_usage_error("%s", err);
	if (s->val.given &&
	    split_val(records, s->seed, &s->val, err, sizeof err) != 0)
		mirad_usage_error("%s", err);
}

int
main(int argc, char **argv)
{
	struct split s = {0};
	struct mirad_recordset records = {0};
	struct mirad_dataset_info info;
	struct view *views;
	size_t nviews;
	char err[1024];
	int status = MIRAD_EXIT_OK;

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
	if (mirad_dataset_load(
	        s.input, &s.in, &records, &info, err, sizeof err) != 0) {
		mirad_progress_end();
		mirad_die(MIRAD_EXIT_FATAL, "%s", err);
	}
	mirad_progress_end();
	if (info.scan.problems > 0 || info.bad_lines > 0)
		status = MIRAD_EXIT_PARTIAL;
	if (mirad_cli_report_duplicates(
	        s.input, &records, &info, " (kept once)") > 0)
		status = MIRAD_EXIT_PARTIAL;

	apply_protocols(&s, &records);
	/* A scanned tree comes sorted; keep it sorted after the moves
	 * between splits.  A manifest or a split file keeps its order. */
	if (!info.from_manifest && s.in.scan.split_csv == NULL)
		mirad_recordset_sort(&records);

	/* The K-shot views (borrowed records); the merge comes last so that
	 * K counts per original category. */
	nviews = s.shots ? s.nshots : 1;
	views = mirad_xcalloc(nviews, sizeof *views);
	for (size_t v = 0; v < nviews; v++) {
		views[v].k = s.shots ? s.shots[v] : SIZE_MAX;
		if (s.shots == NULL) {
			mirad_recordset_view(&views[v].set, &records);
		} else if (split_shots(&records, s.seed, s.shots[v],
		               &views[v].set, err, sizeof err) != 0) {
			mirad_usage_error("%s", err);
		}
	}
	if (s.merge != NULL &&
	    split_merge(&records, s.merge, err, sizeof err) != 0)
		mirad_usage_error("%s", err);

	/* A format that cannot hold the result is a bad request, found
	 * before anything is written. */
	if (s.format == MIRAD_FORMAT_TABULAR_CSV) {
		for (size_t i = 0; i < records.count; i++)
			if (mirad_record_is_anomaly(records.items[i]) &&
			    strcmp(records.items[i]->split, "train") == 0)
				mirad_usage_error(
				    "--format tabular-csv: anomalib's Tabular "
				    "rejects anomalies in train (%s); use "
				    "another format",
				    records.items[i]->image);
	}
	for (size_t v = 0; v < nviews; v++)
		if (mirad_format_check(
		        s.format, &views[v].set, NULL, err, sizeof err) != 0)
			mirad_usage_error("--format %s: %s",
			    mirad_format_name(s.format), err);
	write_outputs(&s, views, nviews);
	if (s.summary)
		for (size_t v = 0; v < nviews; v++)
			print_summary(&s, &views[v]);
	if (!info.from_manifest && isatty(STDERR_FILENO))
		mirad_note("%s: %zu images (%s layout), %zu files ignored, "
		           "%zu problems",
		    s.input, records.count, mirad_layout_name(info.scan.layout),
		    info.scan.ignored, info.scan.problems);

	for (size_t v = 0; v < nviews; v++)
		mirad_recordset_clear(&views[v].set);
	free(views);
	free(s.shots);
	free(s.by_field);
	mirad_strlist_free(&s.by_values);
	mirad_strlist_free(&s.categories);
	cJSON_Delete(info.header);
	free(info.duplicates);
	mirad_recordset_clear(&records);
	mirad_image_shutdown();
	return mirad_close_stdout(status);
}
