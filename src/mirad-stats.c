/* SPDX-License-Identifier: MIT */
/*
 * mirad-stats: the statistical overview of a dataset, as in the MIRAD
 * paper's table: per category the training images, test normal, test
 * abnormal and defect types, and a total row.
 */
#include "mirad_platform.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirad_cli.h"
#include "mirad_dataset.h"
#include "mirad_err.h"
#include "mirad_image.h"
#include "mirad_manifest.h"
#include "mirad_progress.h"
#include "mirad_version.h"

enum {
	OPT_LAYOUT = 256,
	OPT_SPLIT_CSV,
	OPT_ROOT,
	OPT_CHECK_SIZES,
	OPT_FORMAT,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
};

enum format {
	FORMAT_MD,
	FORMAT_CSV,
	FORMAT_JSON,
	FORMAT_TEX
};

struct counts {
	char *category;
	size_t train, test_normal, test_abnormal, val, train_abnormal;
	size_t defect_types;
	struct mirad_strlist defects; /* distinct anomaly defect labels */
};

struct stats {
	struct mirad_dataset_options in;
	enum format format;
	const char *input;
	struct counts *rows;
	size_t nrows;
	struct counts total;
};

static void
usage(void)
{
	/* clang-format off */
	fputs(
"Usage: mirad-stats [OPTION]... [DATASET|MANIFEST|-]\n"
"Print the statistical overview of a dataset (MIRAD, MVTec AD, VisA or a\n"
"manifest): per category the training images, test normal, test abnormal\n"
"and defect types, and a total row.\n"
"With no input, or when it is -, read a manifest from standard input.\n"
"\n"
"  -f, --format=FMT       md (default), csv, json or tex\n"
"      --layout=NAME      force the layout: mirad, mvtec, visa, visa-prepared\n"
"      --split-csv=FILE   VisA: take the split from FILE\n"
"      --root=DIR         resolve relative manifest paths against DIR\n"
"      --check-sizes      also read image and mask headers and report masks\n"
"                         whose size differs from their image (default:\n"
"                         counts from directory entries only)\n"
"      --progress         show progress on stderr even when not a terminal\n"
"      --no-progress      never show progress\n"
"  -q, --quiet            print errors only\n"
"  -h, --help             print this help and exit\n"
"  -V, --version          print version information and exit\n",
	    stdout);
	/* clang-format on */
	mirad_cli_print_exit_help();
}

static void
parse_args(struct stats *s, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"check-sizes", no_argument, NULL, OPT_CHECK_SIZES},
	    {"format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {"layout", required_argument, NULL, OPT_LAYOUT},
	    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
	    {"progress", no_argument, NULL, OPT_PROGRESS},
	    {"quiet", no_argument, NULL, 'q'},
	    {"root", required_argument, NULL, OPT_ROOT},
	    {"split-csv", required_argument, NULL, OPT_SPLIT_CSV},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:hqV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage();
			exit(mirad_close_stdout(MIRAD_EXIT_OK));
		case 'V':
			mirad_version_print(stdout);
			exit(mirad_close_stdout(MIRAD_EXIT_OK));
		case 'f':
			if (strcmp(optarg, "md") == 0)
				s->format = FORMAT_MD;
			else if (strcmp(optarg, "csv") == 0)
				s->format = FORMAT_CSV;
			else if (strcmp(optarg, "json") == 0)
				s->format = FORMAT_JSON;
			else if (strcmp(optarg, "tex") == 0)
				s->format = FORMAT_TEX;
			else
				mirad_usage_error("unknown format '%s' (md, "
				                  "csv, json, tex)",
				    optarg);
			break;
		case 'q':
			mirad_set_quiet(true);
			mirad_progress_set_mode(MIRAD_PROGRESS_OFF);
			break;
		case OPT_LAYOUT:
			if (mirad_layout_from_name(
			        optarg, &s->in.scan.layout) != 0)
				mirad_usage_error("unknown layout '%s' (mirad, "
				                  "mvtec, visa, visa-prepared)",
				    optarg);
			break;
		case OPT_SPLIT_CSV:
			s->in.scan.split_csv = optarg;
			break;
		case OPT_ROOT:
			s->in.root = optarg;
			break;
		case OPT_CHECK_SIZES:
			s->in.scan.read_sizes = true;
			break;
		case OPT_PROGRESS:
			mirad_progress_set_mode(MIRAD_PROGRESS_ON);
			break;
		case OPT_NO_PROGRESS:
			mirad_progress_set_mode(MIRAD_PROGRESS_OFF);
			break;
		case ':':
			mirad_usage_error(
			    "option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt != 0)
				mirad_usage_error(
				    "unknown option '-%c'", optopt);
			mirad_usage_error(
			    "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind > 1)
		mirad_usage_error("one input expected, got %d", argc - optind);
	s->input = optind < argc ? argv[optind] : "-";
}

static struct counts *
row_for(struct stats *s, const char *category)
{
	/* Records arrive sorted by category from a scan, but not
	 * necessarily from a manifest: look up, then append. */
	for (size_t i = s->nrows; i-- > 0;)
		if (strcmp(s->rows[i].category, category) == 0)
			return &s->rows[i];
	s->rows = mirad_xrealloc(s->rows, (s->nrows + 1) * sizeof *s->rows);
	memset(&s->rows[s->nrows], 0, sizeof *s->rows);
	s->rows[s->nrows].category = mirad_xstrdup(category);
	return &s->rows[s->nrows++];
}

static int
cmp_rows(const void *a, const void *b)
{
	return strcmp(((const struct counts *)a)->category,
	    ((const struct counts *)b)->category);
}

static void
count(struct stats *s, const struct mirad_recordset *records)
{
	for (size_t i = 0; i < records->count; i++) {
		const struct mirad_record *r = records->items[i];
		struct counts *row = row_for(s, r->category);
		bool anomaly = mirad_record_is_anomaly(r);

		if (strcmp(r->split, "train") == 0) {
			if (anomaly)
				row->train_abnormal++;
			else
				row->train++;
		} else if (strcmp(r->split, "val") == 0) {
			row->val++;
		} else if (anomaly) {
			row->test_abnormal++;
		} else {
			row->test_normal++;
		}
		if (anomaly &&
		    !mirad_strlist_contains(&row->defects, r->defect))
			mirad_strlist_add(&row->defects, r->defect);
	}
	if (s->nrows > 1)
		qsort(s->rows, s->nrows, sizeof *s->rows, cmp_rows);
	for (size_t i = 0; i < s->nrows; i++) {
		struct counts *row = &s->rows[i];

		row->defect_types = row->defects.count;
		s->total.train += row->train;
		s->total.test_normal += row->test_normal;
		s->total.test_abnormal += row->test_abnormal;
		s->total.val += row->val;
		s->total.train_abnormal += row->train_abnormal;
		s->total.defect_types += row->defect_types;
	}
}

/* Columns beyond the paper's appear only when the data has them. */
struct column {
	const char *key;   /* csv/json name */
	const char *title; /* md/tex heading */
	size_t offset;
	bool optional;
};

static const struct column columns[] = {
    {"train", "Train", offsetof(struct counts, train), false},
    {"train_abnormal", "Train abnormal",
        offsetof(struct counts, train_abnormal), true},
    {"val", "Val", offsetof(struct counts, val), true},
    {"test_normal", "Test normal", offsetof(struct counts, test_normal), false},
    {"test_abnormal", "Test abnormal", offsetof(struct counts, test_abnormal),
        false},
    {"defect_types", "Defect types", offsetof(struct counts, defect_types),
        false},
};
#define NCOLUMNS (sizeof columns / sizeof *columns)

static size_t
value(const struct counts *c, size_t col)
{
	return *(const size_t *)((const char *)c + columns[col].offset);
}

static bool
shown(const struct stats *s, size_t col)
{
	return !columns[col].optional || value(&s->total, col) > 0;
}

/* "building_block" -> "Building block" */
static void
print_display_name(FILE *f, const char *name, bool tex)
{
	for (const char *p = name; *p; p++) {
		char c = *p;

		if (c == '_' || c == '-')
			c = ' ';
		else if (p == name && c >= 'a' && c <= 'z')
			c = (char)(c - 32);
		if (tex && strchr("&%$#{}~^\\", c))
			fputc('\\', f);
		fputc(c, f);
	}
}

static void
print_md(const struct stats *s, FILE *f)
{
	fputs("| Category |", f);
	for (size_t c = 0; c < NCOLUMNS; c++)
		if (shown(s, c))
			fprintf(f, " %s |", columns[c].title);
	fputs("\n|---|", f);
	for (size_t c = 0; c < NCOLUMNS; c++)
		if (shown(s, c))
			fputs("---:|", f);
	fputc('\n', f);
	for (size_t i = 0; i <= s->nrows; i++) {
		const struct counts *row =
		    i < s->nrows ? &s->rows[i] : &s->total;

		fprintf(
		    f, "| %s |", i < s->nrows ? row->category : "**Total**");
		for (size_t c = 0; c < NCOLUMNS; c++)
			if (shown(s, c))
				fprintf(f, " %zu |", value(row, c));
		fputc('\n', f);
	}
}

static void
print_csv(const struct stats *s, FILE *f)
{
	fputs("category", f);
	for (size_t c = 0; c < NCOLUMNS; c++)
		if (shown(s, c))
			fprintf(f, ",%s", columns[c].key);
	fputc('\n', f);
	for (size_t i = 0; i <= s->nrows; i++) {
		const struct counts *row =
		    i < s->nrows ? &s->rows[i] : &s->total;

		fputs(i < s->nrows ? row->category : "total", f);
		for (size_t c = 0; c < NCOLUMNS; c++)
			if (shown(s, c))
				fprintf(f, ",%zu", value(row, c));
		fputc('\n', f);
	}
}

static cJSON *
row_json(const struct stats *s, const struct counts *row, bool with_name)
{
	cJSON *o = cJSON_CreateObject();

	if (with_name)
		cJSON_AddStringToObject(o, "category", row->category);
	for (size_t c = 0; c < NCOLUMNS; c++)
		if (shown(s, c))
			cJSON_AddNumberToObject(
			    o, columns[c].key, (double)value(row, c));
	return o;
}

static void
print_json(const struct stats *s, FILE *f)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *cats = cJSON_AddArrayToObject(root, "categories");
	char *text;

	for (size_t i = 0; i < s->nrows; i++)
		cJSON_AddItemToArray(cats, row_json(s, &s->rows[i], true));
	cJSON_AddItemToObject(root, "totals", row_json(s, &s->total, false));
	text = cJSON_Print(root);
	if (text == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	fputs(text, f);
	fputc('\n', f);
	cJSON_free(text);
	cJSON_Delete(root);
}

static void
print_tex(const struct stats *s, FILE *f)
{
	fputs("\\begin{tabular}{l", f);
	for (size_t c = 0; c < NCOLUMNS; c++)
		if (shown(s, c))
			fputc('r', f);
	fputs("}\n\\hline\nCategory", f);
	for (size_t c = 0; c < NCOLUMNS; c++)
		if (shown(s, c))
			fprintf(f, " & %s", columns[c].title);
	fputs(" \\\\\n\\hline\n", f);
	for (size_t i = 0; i <= s->nrows; i++) {
		const struct counts *row =
		    i < s->nrows ? &s->rows[i] : &s->total;

		if (i == s->nrows)
			fputs("\\hline\n\\textbf{Total}", f);
		else
			print_display_name(f, row->category, true);
		for (size_t c = 0; c < NCOLUMNS; c++)
			if (shown(s, c))
				fprintf(f, " & %zu", value(row, c));
		fputs(" \\\\\n", f);
	}
	fputs("\\hline\n\\end{tabular}\n", f);
}

int
main(int argc, char **argv)
{
	struct stats s = {0};
	struct mirad_recordset records = {0};
	struct mirad_dataset_info info;
	char err[1024];
	int status = MIRAD_EXIT_OK;

	mirad_set_progname(argv[0]);
	/* Counting needs directory entries only. */
	s.in.scan.read_sizes = false;
	s.in.scan.problem = mirad_report_problem;
	parse_args(&s, argc, argv);

	if (mirad_image_init(argv[0], 0, err, sizeof err) != 0)
		mirad_die(MIRAD_EXIT_FATAL, "cannot start libvips: %s", err);
	mirad_progress_start("scanning", 0);
	if (mirad_dataset_load(
	        s.input, &s.in, &records, &info, err, sizeof err) != 0) {
		mirad_progress_end();
		mirad_die(MIRAD_EXIT_FATAL, "%s", err);
	}
	mirad_progress_end();
	if (info.scan.problems > 0 || info.bad_lines > 0)
		status = MIRAD_EXIT_PARTIAL;

	count(&s, &records);
	switch (s.format) {
	case FORMAT_MD:
		print_md(&s, stdout);
		break;
	case FORMAT_CSV:
		print_csv(&s, stdout);
		break;
	case FORMAT_JSON:
		print_json(&s, stdout);
		break;
	case FORMAT_TEX:
		print_tex(&s, stdout);
		break;
	}

	for (size_t i = 0; i < s.nrows; i++) {
		free(s.rows[i].category);
		mirad_strlist_free(&s.rows[i].defects);
	}
	free(s.rows);
	cJSON_Delete(info.header);
	mirad_recordset_clear(&records);
	mirad_image_shutdown();
	return mirad_close_stdout(status);
}
