/* SPDX-License-Identifier: MIT */
/*
 * mirad-eval: exact anomaly-detection metrics (I-AUROC, I-AP, I-F1max,
 * P-AUROC, P-AP, P-F1max, AU-PRO) per category from anomaly maps on disk,
 * and the MIRAD paper's multi-method tables (mean and population std).
 * The core is eval_metrics.c; mirad-eval(1) gives the definitions.
 */
#include "mirad_platform.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "eval_maps.h"
#include "eval_metrics.h"
#include "eval_partial.h"
#include "mirad_cli.h"
#include "mirad_csv.h"
#include "mirad_dataset.h"
#include "mirad_err.h"
#include "mirad_formats.h"
#include "mirad_fs.h"
#include "mirad_hash.h"
#include "mirad_image.h"
#include "mirad_manifest.h"
#include "mirad_progress.h"
#include "mirad_signal.h"
#include "mirad_table.h"
#include "mirad_version.h"

enum {
	OPT_GT = 256,
	OPT_MAPS,
	OPT_METHODS,
	OPT_SCORES,
	OPT_METRICS,
	OPT_PRO_LIMIT,
	OPT_COMPAT,
	OPT_ADEVAL_STRIPS,
	OPT_ADER_POOLING,
	OPT_STRICT,
};

enum format {
	FORMAT_MD,
	FORMAT_CSV,
	FORMAT_JSON,
	FORMAT_TEX
};

enum compat {
	COMPAT_NONE,
	COMPAT_ADER
};

enum metric {
	M_I_AUROC,
	M_I_AP,
	M_I_F1MAX,
	M_P_AUROC,
	M_P_AP,
	M_P_F1MAX,
	M_AUPRO,
	NMETRICS
};

/* clang-format off */
static const struct {
	const char *key;   /* --metrics name, csv/json key */
	const char *title; /* md/tex heading */
} metric_names[NMETRICS] = {
	{"i-auroc", "I-AUROC"},
	{"i-ap", "I-AP"},
	{"i-f1max", "I-F1max"},
	{"p-auroc", "P-AUROC"},
	{"p-ap", "P-AP"},
	{"p-f1max", "P-F1max"},
	{"aupro", "AUPRO"},
};
/* clang-format on */

/* The results of one category for one method. */
struct cat_result {
	char *category;
	size_t images, anomalous;
	uint64_t pixels, regions;
	double m[NMETRICS];
};

struct run {
	char *name; /* method name */
	const char *maps;
	struct cat_result *cats;
	size_t ncats;
};

/* Per-image scores from --scores: image path -> score. */
struct score_entry {
	char *image;
	double score;
};

struct eval {
	struct mirad_dataset_options in;
	const char *gt, *maps, *methods, *scores_path, *output;
	enum format format;
	enum compat compat;
	unsigned adeval_strips;
	unsigned ader_pooling; /* --compat=ader image score kernel; 0: none */
	bool ader_pooling_given;
	bool metric_on[NMETRICS];
	bool metrics_given;
	double limit;
	bool strict;
	struct score_entry *scores;
	size_t nscores;
	size_t scores_capacity;
	size_t bad; /* images skipped */
	bool rounded_warned;
	/* sharding (--shard/--partial/--merge) */
	bool partial, merge;
	struct mirad_cli_merge merge_rule;
	unsigned shard_index, shard_count;
	char **inputs; /* --merge: the partial files */
	size_t ninputs;
};

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
"      --root=DIR         resolve relative manifest paths against DIR\n"
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
parse_metrics(struct eval *e, const char *arg)
{
	struct mirad_strlist l = {0};

	if (mirad_strlist_split(arg, &l) != 0)
		mirad_usage_error("empty item in --metrics '%s'", arg);
	memset(e->metric_on, 0, sizeof e->metric_on);
	for (size_t i = 0; i < l.count; i++) {
		int m = -1;

		for (int k = 0; k < NMETRICS; k++)
			if (strcasecmp(l.items[i], metric_names[k].key) == 0)
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
}

static void
parse_args(struct eval *e, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"adeval-strips", required_argument, NULL, OPT_ADEVAL_STRIPS},
	    {"ader-pooling", required_argument, NULL, OPT_ADER_POOLING},
	    {"compat", required_argument, NULL, OPT_COMPAT},
	    {"format", required_argument, NULL, 'F'},
	    {"gt", required_argument, NULL, OPT_GT},
	    {"maps", required_argument, NULL, OPT_MAPS},
	    {"methods", required_argument, NULL, OPT_METHODS},
	    {"metrics", required_argument, NULL, OPT_METRICS},
	    {"output", required_argument, NULL, 'o'},
	    {"pro-limit", required_argument, NULL, OPT_PRO_LIMIT},
	    {"scores", required_argument, NULL, OPT_SCORES},
	    {"strict", no_argument, NULL, OPT_STRICT},
	    MIRAD_CLI_SHARD_LONGOPTS,
	    MIRAD_CLI_PARTIAL_LONGOPTS,
	    MIRAD_CLI_COMMON_LONGOPTS,
	    MIRAD_CLI_DATASET_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	/* The table's format: --merge takes it, --partial prints none. */
	static const int table_options[] = {'F', 0};
	int c, idx;
	uint64_t u;

	opterr = 0;
	for (;;) {
		idx = -1;
		c = getopt_long(argc, argv, ":F:ho:qV", longopts, &idx);
		if (c == -1)
			break;
		if (mirad_cli_merge_option(&e->merge_rule, c, idx, longopts,
		        table_options, table_options))
			continue;
		switch (c) {
		case 'F':
			if (strcmp(optarg, "md") == 0)
				e->format = FORMAT_MD;
			else if (strcmp(optarg, "csv") == 0)
				e->format = FORMAT_CSV;
			else if (strcmp(optarg, "json") == 0)
				e->format = FORMAT_JSON;
			else if (strcmp(optarg, "tex") == 0)
				e->format = FORMAT_TEX;
			else
				mirad_usage_error("unknown format '%s' (md, "
				                  "csv, json, tex)",
				    optarg);
			break;
		case 'o':
			e->output = optarg;
			break;
		case OPT_GT:
			e->gt = optarg;
			break;
		case OPT_MAPS:
			e->maps = optarg;
			break;
		case OPT_METHODS:
			e->methods = optarg;
			break;
		case OPT_SCORES:
			e->scores_path = optarg;
			break;
		case OPT_METRICS:
			parse_metrics(e, optarg);
			break;
		case OPT_PRO_LIMIT:
			if (mirad_cli_parse_double(optarg, 0, 1, &e->limit) !=
			        0 ||
			    e->limit <= 0)
				mirad_usage_error("--pro-limit must be a "
				                  "number in (0, 1], not '%s'",
				    optarg);
			break;
		case OPT_COMPAT:
			if (strcmp(optarg, "exact") == 0 ||
			    strcmp(optarg, "none") == 0)
				e->compat = COMPAT_NONE;
			else if (strcmp(optarg, "ader") == 0)
				e->compat = COMPAT_ADER;
			else
				mirad_usage_error("unknown compat mode '%s' "
				                  "(exact, ader)",
				    optarg);
			break;
		case OPT_ADEVAL_STRIPS:
			if (mirad_cli_parse_uint(optarg, 1, 1000000, &u) != 0)
				mirad_usage_error("--adeval-strips must be an "
				                  "integer in 1..1000000, not "
				                  "'%s'",
				    optarg);
			e->adeval_strips = (unsigned)u;
			break;
		case OPT_ADER_POOLING:
			if (strcmp(optarg, "none") == 0)
				u = 0;
			else if (mirad_cli_parse_uint(optarg, 1, 4096, &u) != 0)
				mirad_usage_error(
				    "--ader-pooling must be an "
				    "integer in 1..4096 or 'none', "
				    "not '%s'",
				    optarg);
			e->ader_pooling = (unsigned)u;
			e->ader_pooling_given = true;
			break;
		case OPT_STRICT:
			e->strict = true;
			break;
		default:
			mirad_cli_common_option(c, argv, usage, &e->in);
		}
	}
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

/* ---- per-image scores ---- */

static int
cmp_score_entry(const void *a, const void *b)
{
	return strcmp(((const struct score_entry *)a)->image,
	    ((const struct score_entry *)b)->image);
}

static void
add_score(struct eval *e, const char *where, const char *image,
    const char *text, double value, bool from_text)
{
	char *end;

	if (from_text) {
		errno = 0;
		value = strtod(text, &end);
		if (errno != 0 || end == text || *end != '\0')
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: score '%s' is not a "
			    "number",
			    where, text);
	}
	if (!isfinite(value))
		mirad_die(MIRAD_EXIT_FATAL, "%s: score of %s is not finite",
		    where, image);
	e->scores = mirad_xgrow(
	    e->scores, e->nscores, &e->scores_capacity, sizeof *e->scores);
	e->scores[e->nscores].image = mirad_xstrdup(image);
	e->scores[e->nscores].score = value;
	e->nscores++;
}

static void
load_scores_jsonl(struct eval *e, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;

	if (f == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", path);
	while ((len = getline(&line, &cap, f)) != -1) {
		const char *end = NULL;
		cJSON *o, *img, *sc;
		char where[64];

		lineno++;
		snprintf(where, sizeof where, "%lu", lineno);
		if (strspn(line, " \t\r\n") == (size_t)len)
			continue;
		o = cJSON_ParseWithLengthOpts(line, (size_t)len, &end, 0);
		img = cJSON_GetObjectItemCaseSensitive(o, "image");
		sc = cJSON_GetObjectItemCaseSensitive(o, "score");
		if (o == NULL || !cJSON_IsString(img) || !cJSON_IsNumber(sc) ||
		    strspn(end, " \t\r\n") != strlen(end))
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s:%lu: expected {\"image\": \"...\", \"score\": "
			    "number}",
			    path, lineno);
		add_score(
		    e, path, img->valuestring, NULL, sc->valuedouble, false);
		cJSON_Delete(o);
	}
	if (ferror(f))
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", path);
	free(line);
	if (f != stdin)
		fclose(f);
}

static void
load_scores_csv(struct eval *e, const char *path)
{
	struct mirad_csv *c = mirad_csv_open(path);
	struct mirad_strlist row = {0}, header = {0};
	int ci, cs, rc;

	if (c == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", path);
	if (mirad_csv_next(c, &header) != 1)
		mirad_die(MIRAD_EXIT_FATAL, "%s: no header line", path);
	ci = mirad_csv_column(&header, "image");
	cs = mirad_csv_column(&header, "score");
	if (ci < 0 || cs < 0)
		mirad_die(MIRAD_EXIT_FATAL,
		    "%s: header needs 'image' and "
		    "'score' columns",
		    path);
	while ((rc = mirad_csv_next(c, &row)) == 1) {
		char where[512];

		if (row.count <= (size_t)ci || row.count <= (size_t)cs)
			mirad_die(MIRAD_EXIT_FATAL, "%s:%lu: too few fields",
			    path, mirad_csv_line(c));
		snprintf(
		    where, sizeof where, "%s:%lu", path, mirad_csv_line(c));
		add_score(e, where, row.items[ci], row.items[cs], 0, true);
	}
	if (rc < 0)
		mirad_die(MIRAD_EXIT_FATAL, "%s", mirad_csv_error(c));
	mirad_strlist_free(&row);
	mirad_strlist_free(&header);
	mirad_csv_close(c);
}

static void
load_scores(struct eval *e)
{
	const char *ext = mirad_path_ext(e->scores_path);

	if (strcasecmp(ext, ".jsonl") == 0 || strcasecmp(ext, ".json") == 0)
		load_scores_jsonl(e, e->scores_path);
	else
		load_scores_csv(e, e->scores_path);
	qsort(e->scores, e->nscores, sizeof *e->scores, cmp_score_entry);
	for (size_t i = 1; i < e->nscores; i++)
		if (strcmp(e->scores[i - 1].image, e->scores[i].image) == 0)
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: image '%s' listed "
			    "twice",
			    e->scores_path, e->scores[i].image);
}

/* The score of record R: keyed by its image path as in the manifest,
 * with or without the extension. */
static bool
lookup_score(const struct eval *e, const struct mirad_record *r, double *out)
{
	char *noext = mirad_xstrdup(r->image);
	const char *keys[2] = {r->image, noext};
	char *dot = strrchr(noext, '.');

	if (dot != NULL && strchr(dot, '/') == NULL)
		*dot = '\0';
	for (int k = 0; k < 2; k++) {
		struct score_entry key = {(char *)keys[k], 0}, *hit;

		hit = bsearch(&key, e->scores, e->nscores, sizeof *e->scores,
		    cmp_score_entry);
		if (hit != NULL) {
			*out = hit->score;
			free(noext);
			return true;
		}
	}
	free(noext);
	return false;
}

/* ---- evaluation ---- */

/* Report a bad image: fatal with --strict, else counted and skipped. */
static void
bad_image(struct eval *e, const char *msg)
{
	mirad_progress_clear();
	if (e->strict)
		mirad_die(MIRAD_EXIT_FATAL, "%s", msg);
	mirad_warn("%s", msg);
	e->bad++;
}

/* The map path of R under MAPS: <maps>/<category>/test/<folder>/<stem>,
 * folder being the image's parent directory; or the record's "map"
 * field (relative to MAPS). */
static char *
map_path_for(
    const char *maps, const struct mirad_record *r, char *err, size_t errlen)
{
	const char *field = mirad_record_get_string(r, "map");
	char *dir, *parent, *stem, *sub, *path;

	if (field != NULL)
		return mirad_path_join(maps, field);
	dir = mirad_path_dirname(r->image);
	parent = mirad_xstrdup(mirad_path_basename(dir));
	stem = mirad_path_stem(r->image);
	sub = mirad_xasprintf("%s/%s/test/%s", maps, r->category, parent);
	path = eval_map_find(sub, stem, err, errlen);
	free(dir);
	free(parent);
	free(stem);
	free(sub);
	return path;
}

struct cat_state {
	struct eval_pixels *px;
	double *iscore;
	uint8_t *ilabel;
	uint64_t *iindex; /* position among the category's test images */
	size_t n, cap;
	size_t resized;
	char *first_resized;
	size_t unpooled; /* --compat=ader maps smaller than the kernel */
};

/* Make room for one more image in ST. */
static void
grow_images(struct cat_state *st)
{
	if (st->n < st->cap)
		return;
	st->cap = st->cap ? 2 * st->cap : 64;
	st->iscore = mirad_xrealloc(st->iscore, st->cap * sizeof *st->iscore);
	st->ilabel = mirad_xrealloc(st->ilabel, st->cap * sizeof *st->ilabel);
	st->iindex = mirad_xrealloc(st->iindex, st->cap * sizeof *st->iindex);
}

/* Evaluate test image number INDEX of its category into ST.  Returns 0, or
 * -1 if it was skipped. */
static int
add_image(struct eval *e, const char *maps, const struct mirad_record *r,
    uint64_t index, struct cat_state *st)
{
	char err[1024], msg[1200];
	struct eval_map map = {0};
	uint8_t *mask = NULL;
	size_t mw = 0, mh = 0;
	char *mpath, *path = NULL;
	const float *pix;
	float *resized = NULL;
	double score = -INFINITY;
	bool any = false;
	int rc = -1;

	mpath = map_path_for(maps, r, err, sizeof err);
	if (mpath == NULL) {
		bad_image(e, err);
		return -1;
	}
	if (eval_map_read(mpath, &map, err, sizeof err) != 0) {
		bad_image(e, err);
		goto out;
	}
	if (map.rounded && !e->rounded_warned) {
		mirad_note("%s: float64 map rounded to float32", mpath);
		e->rounded_warned = true;
	}
	/* Every map is evaluated at its image's size: the mask's, or for
	 * an image without a mask the image's own, from its header. */
	if (r->mask != NULL) {
		path = mirad_record_path(r, r->mask);
		if (eval_mask_read(path, &mask, &mw, &mh, err, sizeof err) !=
		    0) {
			bad_image(e, err);
			goto out;
		}
	} else {
		struct mirad_image_info info;
		char why[512];

		path = mirad_record_path(r, r->image);
		if (mirad_image_header(path, &info, why, sizeof why) != 0) {
			snprintf(msg, sizeof msg,
			    "%s: cannot read the image's size (%s)", path, why);
			bad_image(e, msg);
			goto out;
		}
		mw = (size_t)info.width;
		mh = (size_t)info.height;
		mask = mirad_xcalloc((mw * mh) > 0 ? mw * mh : 1, 1);
	}
	pix = map.data;
	if (mw != map.width || mh != map.height) {
		if (e->strict) {
			snprintf(msg, sizeof msg,
			    "%s: map is %zux%zu, %s is %zux%zu", mpath,
			    map.width, map.height,
			    r->mask != NULL ? "mask" : "image", mw, mh);
			bad_image(e, msg);
			goto out;
		}
		resized = mirad_xmalloc(mw * mh * sizeof *resized);
		eval_resize_bilinear(
		    map.data, map.width, map.height, resized, mw, mh);
		pix = resized;
		if (st->resized++ == 0)
			st->first_resized =
			    mirad_xasprintf("%s (%zux%zu, image %zux%zu)",
			        mpath, map.width, map.height, mw, mh);
	}
	for (size_t i = 0; i < mw * mh; i++)
		any |= mask[i] != 0;
	if (mirad_record_is_anomaly(r) && !any)
		mirad_note(
		    "%s: labelled anomalous but its mask is empty", r->image);
	if (e->scores != NULL) {
		if (!lookup_score(e, r, &score)) {
			snprintf(msg, sizeof msg, "%s: no score in %s",
			    r->image, e->scores_path);
			bad_image(e, msg);
			goto out;
		}
	} else if (e->compat == COMPAT_ADER && e->ader_pooling > 0) {
		/* ADer: the max of the KxK mean-pooled map, pooled at the
		 * map's own resolution (ADer pools its model-size maps). */
		unsigned k = e->ader_pooling;

		if ((map.width < k || map.height < k) && st->unpooled++ == 0)
			mirad_note("%s: map is %zux%zu, smaller than the "
			           "%ux%u pooling kernel: image scores of such "
			           "maps are their maximum",
			    mpath, map.width, map.height, k, k);
		score = eval_avgpool_max(map.data, map.width, map.height, k);
		if (isnan(score))
			mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "%s", mpath);
	} else {
		for (size_t i = 0; i < map.width * map.height; i++)
			if (map.data[i] > score)
				score = map.data[i];
	}
	if (eval_pixels_add(st->px, pix, mask, mw, mh) != 0)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", r->image);
	grow_images(st);
	st->iscore[st->n] = score;
	st->ilabel[st->n] = any;
	st->iindex[st->n] = index;
	st->n++;
	rc = 0;
out:
	free(resized);
	free(mask);
	free(path);
	free(mpath);
	eval_map_clear(&map);
	return rc;
}

static void
finish_category(struct eval *e, struct cat_state *st, struct cat_result *c)
{
	struct eval_result img, px;

	mirad_progress_clear();
	if (st->resized > 0)
		mirad_note("%s: %zu maps resized (bilinear) to their image "
		           "size, e.g. %s; results are not comparable with "
		           "the official evaluation",
		    c->category, st->resized, st->first_resized);
	c->images = st->n;
	for (size_t i = 0; i < st->n; i++)
		c->anomalous += st->ilabel[i];
	c->pixels = eval_pixels_count(st->px);
	if (eval_binary(st->iscore, st->ilabel, st->n, &img) != 0 ||
	    eval_pixels_compute(st->px, e->limit, &px) != 0)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "%s", c->category);
	c->regions = px.regions;
	c->m[M_I_AUROC] = img.auroc;
	c->m[M_I_AP] = img.ap;
	c->m[M_I_F1MAX] = img.f1max;
	c->m[M_P_AUROC] = px.auroc;
	c->m[M_P_AP] = px.ap;
	c->m[M_P_F1MAX] = px.f1max;
	c->m[M_AUPRO] = px.aupro;
	if (e->compat == COMPAT_ADER) {
		struct eval_result h;

		if (eval_pixels_adeval(
		        st->px, e->adeval_strips, e->limit, &h) != 0) {
			mirad_note("%s: constant anomaly maps: ADEval's "
			           "histogram is undefined",
			    c->category);
			h.auroc = h.ap = h.aupro = NAN;
		} else if (isnan(h.aupro) && c->regions > 0 &&
		    e->metric_on[M_AUPRO]) {
			mirad_note("%s: ADEval's AU-PRO is undefined (no "
			           "histogram point with a false-positive "
			           "rate on each side of %g)",
			    c->category, e->limit);
		}
		c->m[M_P_AUROC] = h.auroc;
		c->m[M_P_AP] = h.ap;
		c->m[M_AUPRO] = h.aupro;
		c->m[M_P_F1MAX] = eval_pixels_ader_f1max(st->px);
	}
	if (c->anomalous == 0)
		mirad_note("%s: no anomalous test images: I-AUROC, I-AP and "
		           "I-F1max are undefined",
		    c->category);
	else if (c->anomalous == c->images)
		mirad_note("%s: no normal test images: I-AUROC is undefined",
		    c->category);
	if (c->regions == 0)
		mirad_note("%s: no anomalous pixels: P-AUROC, P-AP, P-F1max "
		           "and AU-PRO are undefined",
		    c->category);
	else if (px.negatives == 0)
		mirad_note("%s: no normal pixels: P-AUROC and AU-PRO are "
		           "undefined",
		    c->category);
}

/* The test images [*LO, *HI) of a category of N that shard I of K takes:
 * a contiguous block, so that the shards' blocks in shard order are the
 * single run's image order. */
static void
shard_range(uint64_t n, unsigned i, unsigned k, uint64_t *lo, uint64_t *hi)
{
	*lo = (uint64_t)((unsigned __int128)n * i / k);
	*hi = (uint64_t)((unsigned __int128)n * (i + 1) / k);
}

static void
cat_state_free(struct cat_state *st)
{
	eval_pixels_free(st->px);
	free(st->iscore);
	free(st->ilabel);
	free(st->iindex);
	free(st->first_resized);
	memset(st, 0, sizeof *st);
}

/* The result of a category in ST (with images) appended to RUN. */
static void
add_category(
    struct eval *e, struct run *run, const char *category, struct cat_state *st)
{
	struct cat_result *c;

	run->cats =
	    mirad_xrealloc(run->cats, (run->ncats + 1) * sizeof *run->cats);
	c = &run->cats[run->ncats++];
	memset(c, 0, sizeof *c);
	c->category = mirad_xstrdup(category);
	finish_category(e, st, c);
}

/* The partial output being written, removed if the run dies, and the
 * lock on it. */
static struct mirad_outfile *pending_out;
static int pending_lock = -1;
static const char *pending_target;

static void
discard_pending(void)
{
	mirad_outfile_abort(pending_out);
	pending_out = NULL;
	if (pending_lock >= 0)
		mirad_lock_release(pending_lock, pending_target);
	pending_lock = -1;
}

/* Write the section of category number CAT of method METHOD. */
static void
write_section(struct eval_partial_writer *w, size_t method, size_t cat,
    struct cat_state *st)
{
	struct eval_partial_image *im =
	    mirad_xcalloc(st->n ? st->n : 1, sizeof *im);
	int rc, err;

	for (size_t i = 0; i < st->n; i++) {
		im[i].index = st->iindex[i];
		im[i].label = st->ilabel[i];
		im[i].score = st->iscore[i];
	}
	rc = eval_partial_write_section(
	    w, method, cat, im, st->n, st->resized, st->first_resized, st->px);
	err = errno;
	free(im);
	if (rc != 0)
		mirad_die_errno(
		    MIRAD_EXIT_FATAL, err, "writing the partial file");
}

/*
 * Evaluate every category of RECORDS (sorted) with the maps in RUN, method
 * number METHOD.  With W (--partial), only this shard's images, written as
 * sections of W; else into RUN's results.
 */
static void
evaluate(struct eval *e, const struct mirad_recordset *records, struct run *run,
    size_t method, struct eval_partial_writer *w)
{
	size_t i = 0, ntest = 0, cat = 0;

	mirad_keep_freed_memory(0);
	for (size_t k = 0; k < records->count;) {
		const char *name = records->items[k]->category;
		uint64_t n = 0, lo, hi;

		for (; k < records->count &&
		     strcmp(records->items[k]->category, name) == 0;
		     k++)
			n += strcmp(records->items[k]->split, "test") == 0;
		shard_range(n, e->shard_index, e->shard_count, &lo, &hi);
		ntest += hi - lo;
	}
	mirad_progress_start(run->name, ntest);
	while (i < records->count) {
		const char *name = records->items[i]->category;
		struct cat_state st = {0};
		size_t j = i;
		uint64_t n = 0, t = 0, lo, hi;

		while (j < records->count &&
		    strcmp(records->items[j]->category, name) == 0)
			n += strcmp(records->items[j++]->split, "test") == 0;
		if (n == 0) { /* no test images: not in the table */
			i = j;
			continue;
		}
		shard_range(n, e->shard_index, e->shard_count, &lo, &hi);
		st.px = eval_pixels_new();
		if (st.px == NULL)
			mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "%s", name);
		eval_pixels_expect(st.px, hi - lo);
		for (size_t k = i; k < j; k++) {
			if (strcmp(records->items[k]->split, "test") != 0)
				continue;
			if (t >= lo && t < hi) {
				add_image(
				    e, run->maps, records->items[k], t, &st);
				mirad_progress_add(1);
			}
			t++;
			if (w != NULL && mirad_signal_pending() != 0) {
				discard_pending();
				mirad_signal_reraise();
			}
		}
		if (w != NULL)
			write_section(w, method, cat, &st);
		else if (st.n > 0)
			add_category(e, run, name, &st);
		cat_state_free(&st);
		cat++;
		i = j;
	}
	mirad_progress_end();
}

/* ---- output ---- */

/* The table format of -f. */
static enum mirad_table_format
table_format(enum format f)
{
	switch (f) {
	case FORMAT_CSV:
		return MIRAD_TABLE_CSV;
	case FORMAT_JSON:
		return MIRAD_TABLE_JSON;
	case FORMAT_TEX:
		return MIRAD_TABLE_TEX;
	case FORMAT_MD:
		break;
	}
	return MIRAD_TABLE_MD;
}

/* Write T to F in FMT and free it.  A write error is reported when F is
 * closed; a malformed table is a bug. */
static void
write_table(struct mirad_table *t, enum mirad_table_format fmt, FILE *f)
{
	char err[256];

	if (mirad_table_write(t, fmt, f, err, sizeof err) != 0 && !ferror(f))
		mirad_die(MIRAD_EXIT_FATAL, "%s", err);
	mirad_table_free(t);
}

/* V as a percentage with DECIMALS ("n/a" when undefined), or with
 * DECIMALS < 0 exact ("nan"), in BUF. */
static const char *
value_text(char *buf, size_t len, double v, int decimals)
{
	if (isnan(v))
		snprintf(buf, len, "%s", decimals < 0 ? "nan" : "n/a");
	else if (decimals < 0)
		snprintf(buf, len, "%.17g", v);
	else
		snprintf(buf, len, "%.*f", decimals, 100 * v);
	return buf;
}

/* A value cell of V: exact for programs, a percentage for people. */
static void
add_value(
    struct mirad_table *t, enum mirad_table_format fmt, double v, int decimals)
{
	char buf[64];

	if (fmt == MIRAD_TABLE_CSV || fmt == MIRAD_TABLE_JSON)
		mirad_table_add_number(
		    t, v, value_text(buf, sizeof buf, v, -1));
	else
		mirad_table_add_text(
		    t, value_text(buf, sizeof buf, v, decimals));
}

/* NAME in a cell: as given, a display name in LaTeX. */
static void
add_name(struct mirad_table *t, enum mirad_table_format fmt, const char *name)
{
	char *display;

	if (fmt != MIRAD_TABLE_TEX) {
		mirad_table_add_text(t, name);
		return;
	}
	display = mirad_table_display_name(name);
	mirad_table_add_text(t, display);
	g_free(display);
}

/* Mean over the categories where the metric is defined. */
static double
mean_over(const struct run *run, int m)
{
	double sum = 0;
	size_t n = 0;

	for (size_t i = 0; i < run->ncats; i++)
		if (!isnan(run->cats[i].m[m])) {
			sum += run->cats[i].m[m];
			n++;
		}
	return n ? sum / (double)n : NAN;
}

/* Number of categories of RUN where metric M is defined. */
static size_t
defined_count(const struct run *run, int m)
{
	size_t n = 0;

	for (size_t i = 0; i < run->ncats; i++)
		n += !isnan(run->cats[i].m[m]);
	return n;
}

/*
 * The footnote of a md or tex table whose means leave out undefined
 * values: which metric (of which method, when there are several) is a
 * mean over how many categories.  NULL when every value is defined; else
 * markup for FMT that the caller g_free()s.
 */
static char *
undefined_note(const struct eval *e, const struct run *runs, size_t nruns,
    enum mirad_table_format fmt)
{
	bool tex = fmt == MIRAD_TABLE_TEX;
	GString *note = NULL;

	for (size_t r = 0; r < nruns; r++)
		for (int m = 0; m < NMETRICS; m++) {
			size_t n = defined_count(&runs[r], m);

			if (!e->metric_on[m] || n == runs[r].ncats)
				continue;
			if (note == NULL)
				note = g_string_new(tex
				        ? "n/a: undefined, left out of the "
				          "means: "
				        : "n/a: undefined (no anomalous or no "
				          "normal images or pixels), left out "
				          "of the means: ");
			else
				g_string_append(note, ", ");
			if (nruns > 1) {
				char *name = tex
				    ? mirad_table_display_name(runs[r].name)
				    : g_strdup(runs[r].name);

				mirad_table_escape(note, fmt, name);
				g_string_append_c(note, ' ');
				g_free(name);
			}
			g_string_append_printf(note,
			    "%s over %zu of %zu categories",
			    metric_names[m].title, n, runs[r].ncats);
		}
	if (note && !tex)
		g_string_append_c(note, '.');
	return note ? g_string_free(note, FALSE) : NULL;
}

static void
print_single(const struct eval *e, const struct run *run, FILE *f)
{
	static const char *const count_keys[] = {
	    "category", "images", "anomalous", "pixels", "regions"};
	enum mirad_table_format fmt = table_format(e->format);
	bool people = fmt == MIRAD_TABLE_MD || fmt == MIRAD_TABLE_TEX;
	struct mirad_table *t = mirad_table_new();
	char *note;

	/* People read percentages with two decimals; programs read exact
	 * values and every count. */
	for (size_t k = 0; k < (people ? 2 : 5); k++)
		mirad_table_add_column(t,
		    people ? (k ? "Images" : "Category") : count_keys[k],
		    k ? MIRAD_TABLE_RIGHT : MIRAD_TABLE_LEFT,
		    k ? MIRAD_TABLE_NUMERIC : 0);
	for (int m = 0; m < NMETRICS; m++)
		if (e->metric_on[m])
			mirad_table_add_column(t,
			    people ? metric_names[m].title
			           : metric_names[m].key,
			    MIRAD_TABLE_RIGHT, MIRAD_TABLE_NUMERIC);
	for (size_t i = 0; i < run->ncats; i++) {
		const struct cat_result *c = &run->cats[i];
		const uint64_t counts[] = {
		    c->images, c->anomalous, c->pixels, c->regions};

		mirad_table_add_row(t, false);
		add_name(t, fmt, c->category);
		for (size_t k = 0; k < (people ? 1 : 4); k++) {
			char buf[32];

			snprintf(buf, sizeof buf, "%llu",
			    (unsigned long long)counts[k]);
			mirad_table_add_number(t, (double)counts[k], buf);
		}
		for (int m = 0; m < NMETRICS; m++)
			if (e->metric_on[m])
				add_value(t, fmt, c->m[m], 2);
	}
	/* The mean row: JSON's "mean" object holds the metrics only. */
	mirad_table_add_row(t, true);
	if (people) {
		size_t n = 0;

		for (size_t k = 0; k < run->ncats; k++)
			n += run->cats[k].images;
		mirad_table_add_markup(
		    t, fmt == MIRAD_TABLE_TEX ? "\\textbf{Mean}" : "**Mean**");
		mirad_table_add_textf(t, "%zu", n);
	} else {
		if (fmt == MIRAD_TABLE_CSV)
			mirad_table_add_text(t, "mean");
		else
			mirad_table_add_absent(t);
		for (size_t k = 0; k < 4; k++)
			mirad_table_add_absent(t);
	}
	for (int m = 0; m < NMETRICS; m++)
		if (e->metric_on[m])
			add_value(t, fmt, mean_over(run, m), 2);

	if (fmt == MIRAD_TABLE_JSON) {
		cJSON *root = cJSON_CreateObject(), *mean;
		char *text;

		cJSON_AddStringToObject(root, "compat",
		    e->compat == COMPAT_ADER ? "ader" : "exact");
		cJSON_AddNumberToObject(root, "pro_limit", e->limit);
		cJSON_AddItemToObject(root, "categories",
		    mirad_table_json_rows(t, 0, run->ncats));
		cJSON_AddItemToObject(
		    root, "mean", mirad_table_json_row(t, run->ncats));
		mirad_table_free(t);
		/* how many categories each mean is over */
		mean = cJSON_AddObjectToObject(root, "mean_categories");
		for (int m = 0; m < NMETRICS; m++)
			if (e->metric_on[m])
				cJSON_AddNumberToObject(mean,
				    metric_names[m].key,
				    (double)defined_count(run, m));
		text = cJSON_Print(root);
		if (text == NULL)
			mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "json");
		fputs(text, f);
		fputc('\n', f);
		cJSON_free(text);
		cJSON_Delete(root);
		return;
	}
	if (people) {
		note = undefined_note(e, run, 1, fmt);
		mirad_table_set_note(t, note);
		g_free(note);
	}
	write_table(t, fmt, f);
}

/* Mean and population std of method values V[0..N) (NaN skipped). */
static void
mean_std(const double *v, size_t n, double *mean, double *sd)
{
	double s = 0, q = 0;
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i])) {
			s += v[i];
			k++;
		}
	if (k == 0) {
		*mean = *sd = NAN;
		return;
	}
	*mean = s / (double)k;
	for (size_t i = 0; i < n; i++)
		if (!isnan(v[i]))
			q += (v[i] - *mean) * (v[i] - *mean);
	*sd = sqrt(q / (double)k);
}

static const struct cat_result *
find_cat(const struct run *run, const char *category)
{
	for (size_t i = 0; i < run->ncats; i++)
		if (strcmp(run->cats[i].category, category) == 0)
			return &run->cats[i];
	return NULL;
}

/*
 * The paper's table: per category and metric one value per
 * method plus mean and population std over the methods; the dataset row
 * holds each method's mean over categories, their mean, and as "std" the
 * mean of the per-category stds (as the MIRAD table prints it).
 */
static void
print_methods(
    const struct eval *e, const struct run *runs, size_t nruns, FILE *f)
{
	const struct run *first = &runs[0];
	enum mirad_table_format fmt = table_format(e->format);
	bool md = fmt == MIRAD_TABLE_MD, tex = fmt == MIRAD_TABLE_TEX;
	bool json = fmt == MIRAD_TABLE_JSON;
	double *v = mirad_xcalloc(nruns, sizeof *v);
	double *sdsum = mirad_xcalloc(NMETRICS, sizeof *sdsum);
	size_t *sdn = mirad_xcalloc(NMETRICS, sizeof *sdn);
	struct mirad_table *t = mirad_table_new();

	mirad_table_add_column(
	    t, md || tex ? "Category" : "category", MIRAD_TABLE_LEFT, 0);
	mirad_table_add_column(
	    t, md || tex ? "Metric" : "metric", MIRAD_TABLE_LEFT, 0);
	for (size_t r = 0; r < nruns; r++) {
		char *name = tex ? mirad_table_display_name(runs[r].name)
		                 : g_strdup(runs[r].name);
		size_t col = mirad_table_add_column(
		    t, name, MIRAD_TABLE_RIGHT, MIRAD_TABLE_NUMERIC);

		if (json)
			mirad_table_set_group(t, col, "values");
		g_free(name);
	}
	if (md || tex) {
		mirad_table_add_column(t, tex ? "Mean$\\pm$Std" : "Mean±Std",
		    MIRAD_TABLE_RIGHT,
		    MIRAD_TABLE_NUMERIC | MIRAD_TABLE_TITLE_MARKUP);
	} else {
		mirad_table_add_column(
		    t, "mean", MIRAD_TABLE_RIGHT, MIRAD_TABLE_NUMERIC);
		mirad_table_add_column(
		    t, "std", MIRAD_TABLE_RIGHT, MIRAD_TABLE_NUMERIC);
	}
	/* JSON: over how many categories each method's mean is. */
	for (size_t r = 0; json && r < nruns; r++)
		mirad_table_set_group(t,
		    mirad_table_add_column(t, runs[r].name, MIRAD_TABLE_RIGHT,
		        MIRAD_TABLE_NUMERIC),
		    "categories");
	/* Categories of the first method; the others must match. */
	for (size_t i = 0; i <= first->ncats; i++) {
		const char *cat =
		    i < first->ncats ? first->cats[i].category : NULL;
		bool first_row = true;

		for (int m = 0; m < NMETRICS; m++) {
			double mean, sd;
			char buf[64];

			if (!e->metric_on[m])
				continue;
			for (size_t r = 0; r < nruns; r++) {
				const struct cat_result *c =
				    cat ? find_cat(&runs[r], cat) : NULL;

				v[r] = cat ? (c ? c->m[m] : NAN)
				           : mean_over(&runs[r], m);
			}
			mean_std(v, nruns, &mean, &sd);
			if (cat && !isnan(sd)) {
				sdsum[m] += sd;
				sdn[m]++;
			}
			if (!cat)
				sd = sdn[m] ? sdsum[m] / (double)sdn[m] : NAN;
			mirad_table_add_row(t, !cat && first_row);
			if (!md && !tex) {
				mirad_table_add_text(t, cat ? cat : "mean");
				mirad_table_add_text(t, metric_names[m].key);
				for (size_t r = 0; r < nruns; r++)
					add_value(t, fmt, v[r], -1);
				add_value(t, fmt, mean, -1);
				add_value(t, fmt, sd, -1);
				for (size_t r = 0; json && r < nruns; r++)
					if (cat)
						mirad_table_add_absent(t);
					else
						mirad_table_add_number(t,
						    (double)defined_count(
						        &runs[r], m),
						    NULL);
				continue;
			}
			if (!first_row)
				mirad_table_add_text(t, "");
			else if (cat)
				add_name(t, fmt, cat);
			else
				mirad_table_add_markup(
				    t, tex ? "\\textbf{Mean}" : "**Mean**");
			mirad_table_add_text(t, metric_names[m].title);
			for (size_t r = 0; r < nruns; r++)
				add_value(t, fmt, v[r], 1);
			if (isnan(mean))
				mirad_table_add_text(t, "n/a");
			else {
				snprintf(buf, sizeof buf,
				    tex ? "%.1f$\\pm$%.1f" : "%.1f±%.1f",
				    100 * mean, 100 * sd);
				mirad_table_add_markup(t, buf);
			}
			first_row = false;
		}
	}
	if (json) {
		cJSON *root = cJSON_CreateObject(), *names;
		char *text;

		names = cJSON_AddArrayToObject(root, "methods");
		for (size_t r = 0; r < nruns; r++)
			cJSON_AddItemToArray(
			    names, cJSON_CreateString(runs[r].name));
		cJSON_AddStringToObject(root, "std", "population");
		cJSON_AddStringToObject(
		    root, "dataset_std", "mean of the per-category stds");
		cJSON_AddItemToObject(root, "rows",
		    mirad_table_json_rows(t, 0, mirad_table_rows(t)));
		mirad_table_free(t);
		text = cJSON_Print(root);
		if (text == NULL)
			mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "json");
		fputs(text, f);
		fputc('\n', f);
		cJSON_free(text);
		cJSON_Delete(root);
	} else {
		if (md || tex) {
			char *note = undefined_note(e, runs, nruns, fmt);

			mirad_table_set_note(t, note);
			g_free(note);
		}
		write_table(t, fmt, f);
	}
	free(v);
	free(sdsum);
	free(sdn);
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

/* ---- sharding: partial files and --merge ---- */

/* Append S and its NUL to the growing buffer B. */
struct buf {
	char *data;
	size_t len, cap;
};

static void
buf_add(struct buf *b, const char *s)
{
	size_t n = strlen(s) + 1;

	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->data = mirad_xrealloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

/* The SHA-256 of what defines the evaluation set: each test record's
 * category, image, mask, label and map field, in the single run's order. */
static void
hash_ground_truth(const struct mirad_recordset *records, char hex[65])
{
	struct buf b = {0};

	buf_add(&b, "mirad-eval ground truth 1");
	for (size_t i = 0; i < records->count; i++) {
		const struct mirad_record *r = records->items[i];
		const char *map = mirad_record_get_string(r, "map");

		if (strcmp(r->split, "test") != 0)
			continue;
		buf_add(&b, r->category);
		buf_add(&b, r->image);
		buf_add(&b, r->mask ? r->mask : "");
		buf_add(&b, mirad_record_is_anomaly(r) ? "1" : "0");
		buf_add(&b, map ? map : "");
	}
	mirad_hash_sha256_data(b.data, b.len, hex);
	free(b.data);
}

static void
hash_scores(const struct eval *e, char hex[65])
{
	struct buf b = {0};

	buf_add(&b, "mirad-eval scores 1");
	for (size_t i = 0; i < e->nscores; i++) {
		char v[64];

		snprintf(v, sizeof v, "%a", e->scores[i].score);
		buf_add(&b, e->scores[i].image);
		buf_add(&b, v);
	}
	mirad_hash_sha256_data(b.data, b.len, hex);
	free(b.data);
}

/* What every shard of one run must share (eval_partial.h). */
static void
build_job(const struct eval *e, const struct mirad_recordset *records,
    const struct run *runs, size_t nruns, struct eval_job *job)
{
	char v[128], hex[65];
	struct buf metrics = {0};
	size_t ntest = 0;

	eval_job_add(job, "tool", "mirad-eval");
	eval_job_add(job, "mode", e->methods ? "methods" : "maps");
	for (int m = 0; m < NMETRICS; m++)
		if (e->metric_on[m]) {
			if (metrics.len > 0)
				metrics.data[metrics.len - 1] = ',';
			buf_add(&metrics, metric_names[m].key);
		}
	eval_job_add(job, "metrics", metrics.data);
	free(metrics.data);
	snprintf(v, sizeof v, "%a", e->limit);
	eval_job_add(job, "pro-limit", v);
	/* "ader" alone is the default 16x16 pooling (and what files
	 * written before --ader-pooling hold). */
	if (e->compat != COMPAT_ADER || e->ader_pooling == 16)
		snprintf(v, sizeof v, "%s",
		    e->compat == COMPAT_ADER ? "ader" : "exact");
	else if (e->ader_pooling == 0)
		snprintf(v, sizeof v, "ader,pooling=none");
	else
		snprintf(v, sizeof v, "ader,pooling=%u", e->ader_pooling);
	eval_job_add(job, "compat", v);
	snprintf(v, sizeof v, "%u", e->adeval_strips);
	eval_job_add(job, "adeval-strips", v);
	eval_job_add(job, "strict", e->strict ? "yes" : "no");
	if (e->scores_path != NULL)
		hash_scores(e, hex);
	eval_job_add(job, "scores", e->scores_path ? hex : "none");
	hash_ground_truth(records, hex);
	eval_job_add(job, "ground-truth", hex);
	for (size_t i = 0; i < records->count; i++)
		ntest += strcmp(records->items[i]->split, "test") == 0;
	snprintf(v, sizeof v, "%zu", ntest);
	eval_job_add(job, "test-images", v);
	for (size_t r = 0; r < nruns; r++) {
		eval_job_add(job, "method", runs[r].name);
		eval_job_add(job, "maps", runs[r].maps);
	}
	/* the categories with test images, in the order of evaluate() */
	for (size_t i = 0; i < records->count;) {
		const char *name = records->items[i]->category;
		size_t n = 0;

		for (; i < records->count &&
		     strcmp(records->items[i]->category, name) == 0;
		     i++)
			n += strcmp(records->items[i]->split, "test") == 0;
		if (n == 0)
			continue;
		snprintf(v, sizeof v, "%zu", n);
		eval_job_add(job, "category", name);
		eval_job_add(job, "images", v);
	}
}

/* A category of a merged job. */
struct merge_cat {
	const char *name; /* borrowed from the job */
	uint64_t images;
};

static MIRAD_NORETURN void
bad_job(const char *file)
{
	mirad_die(MIRAD_EXIT_FATAL,
	    "%s: corrupt partial file (job description)", file);
}

/* Set E, the runs and categories from JOB (of FILE). */
static void
decode_job(struct eval *e, const struct eval_job *job, const char *file,
    struct run **runs, size_t *nruns, struct merge_cat **cats, size_t *ncats)
{
	static const char *const scalars[] = {"tool", "mode", "metrics",
	    "pro-limit", "compat", "adeval-strips", "strict", "scores",
	    "ground-truth", "test-images"};
	const size_t nsc = sizeof scalars / sizeof *scalars;
	uint64_t u;
	size_t k;
	char *end;

	if (job->n < nsc)
		bad_job(file);
	for (k = 0; k < nsc; k++)
		if (strcmp(job->keys[k], scalars[k]) != 0)
			bad_job(file);
	if (strcmp(job->values[0], "mirad-eval") != 0)
		bad_job(file);
	if (strcmp(job->values[1], "methods") == 0)
		e->methods = "";
	else if (strcmp(job->values[1], "maps") != 0)
		bad_job(file);
	{
		struct mirad_strlist l = {0};

		if (mirad_strlist_split(job->values[2], &l) != 0 ||
		    l.count == 0)
			bad_job(file);
		memset(e->metric_on, 0, sizeof e->metric_on);
		for (size_t i = 0; i < l.count; i++) {
			int m = -1;

			for (int x = 0; x < NMETRICS; x++)
				if (strcmp(l.items[i], metric_names[x].key) ==
				    0)
					m = x;
			if (m < 0)
				bad_job(file);
			e->metric_on[m] = true;
		}
		mirad_strlist_free(&l);
	}
	errno = 0;
	e->limit = strtod(job->values[3], &end);
	if (errno != 0 || *end != '\0' || !(e->limit > 0 && e->limit <= 1))
		bad_job(file);
	if (strcmp(job->values[4], "ader") == 0) {
		e->compat = COMPAT_ADER;
	} else if (strcmp(job->values[4], "ader,pooling=none") == 0) {
		e->compat = COMPAT_ADER;
		e->ader_pooling = 0;
	} else if (strncmp(job->values[4], "ader,pooling=", 13) == 0) {
		if (mirad_cli_parse_uint(job->values[4] + 13, 1, 4096, &u) != 0)
			bad_job(file);
		e->compat = COMPAT_ADER;
		e->ader_pooling = (unsigned)u;
	} else if (strcmp(job->values[4], "exact") != 0) {
		bad_job(file);
	}
	if (mirad_cli_parse_uint(job->values[5], 1, 1000000, &u) != 0)
		bad_job(file);
	e->adeval_strips = (unsigned)u;
	e->strict = strcmp(job->values[6], "yes") == 0;
	/* The methods, then the categories, each as a pair of fields. */
	*runs = NULL;
	*nruns = 0;
	for (; k + 1 < job->n && strcmp(job->keys[k], "method") == 0; k += 2) {
		struct run *r;

		if (strcmp(job->keys[k + 1], "maps") != 0)
			bad_job(file);
		*runs = mirad_xrealloc(*runs, (*nruns + 1) * sizeof **runs);
		r = &(*runs)[(*nruns)++];
		memset(r, 0, sizeof *r);
		r->name = mirad_xstrdup(job->values[k]);
		r->maps = mirad_xstrdup(job->values[k + 1]);
	}
	if (*nruns == 0 || (e->methods == NULL && *nruns != 1))
		bad_job(file);
	*cats = NULL;
	*ncats = 0;
	for (; k + 1 < job->n && strcmp(job->keys[k], "category") == 0;
	     k += 2) {
		if (strcmp(job->keys[k + 1], "images") != 0 ||
		    mirad_cli_parse_uint(
		        job->values[k + 1], 1, UINT64_MAX, &u) != 0)
			bad_job(file);
		*cats = mirad_xrealloc(*cats, (*ncats + 1) * sizeof **cats);
		(*cats)[*ncats].name = job->values[k];
		(*cats)[(*ncats)++].images = u;
	}
	if (k != job->n || *ncats == 0)
		bad_job(file);
}

/* The partial files of --merge, one per shard, in shard order. */
static struct eval_partial_reader **
open_partials(const struct eval *e)
{
	struct eval_partial_reader **in = mirad_xcalloc(e->ninputs, sizeof *in);
	struct eval_partial_reader **slot;
	unsigned n;
	char err[1024];

	for (size_t i = 0; i < e->ninputs; i++) {
		in[i] = eval_partial_open(e->inputs[i], err, sizeof err);
		if (in[i] == NULL)
			mirad_die(MIRAD_EXIT_FATAL, "%s", err);
	}
	n = eval_partial_nshards(in[0]);
	slot = mirad_xcalloc(n, sizeof *slot);
	for (size_t i = 0; i < e->ninputs; i++) {
		const char *name = e->inputs[i];
		unsigned k = eval_partial_shard(in[i]);
		size_t la, lb;
		const unsigned char *ja = eval_partial_job_bytes(in[0], &la);
		const unsigned char *jb = eval_partial_job_bytes(in[i], &lb);

		if (eval_partial_nshards(in[i]) != n)
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: not from the same run as %s (a shard of %u, "
			    "not of %u)",
			    name, e->inputs[0], eval_partial_nshards(in[i]), n);
		if (la != lb || memcmp(ja, jb, la) != 0) {
			const struct eval_job *a = eval_partial_job(in[0]);
			const struct eval_job *b = eval_partial_job(in[i]);
			long d = eval_job_first_difference(a, b);
			const char *key = d < 0 ? "?"
			    : (size_t)d < b->n  ? b->keys[d]
			                        : a->keys[d];

			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: not from the same run as %s ('%s' differs)",
			    name, e->inputs[0], key);
		}
		if (slot[k] != NULL)
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: shard %u/%u given twice (also %s)", name, k, n,
			    eval_partial_name(slot[k]));
		slot[k] = in[i];
	}
	for (unsigned k = 0; k < n; k++)
		if (slot[k] == NULL)
			mirad_die(MIRAD_EXIT_FATAL,
			    "missing shard %u/%u (%zu of %u partial files "
			    "given)",
			    k, n, e->ninputs, n);
	free(in);
	return slot;
}

/* A source of negative runs in the k-way merge: one shard's section,
 * decoded a chunk at a time. */
#define RUN_CHUNK 1024
struct run_src {
	struct eval_partial_reader *in;
	struct eval_partial_section *sec;
	size_t n, i;
	uint32_t key[RUN_CHUNK];
	uint64_t count[RUN_CHUNK];
};

/* Decode the next chunk of S; false when S is exhausted. */
static bool
src_fill(struct run_src *s)
{
	char err[1024];
	long got = eval_partial_read_runs(
	    s->in, s->sec, s->key, s->count, RUN_CHUNK, err, sizeof err);

	if (got < 0)
		mirad_die(MIRAD_EXIT_FATAL, "%s", err);
	s->n = (size_t)got;
	s->i = 0;
	return got > 0;
}

static void
heap_down(struct run_src **h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct run_src *t;

		if (l < n && h[l]->key[h[l]->i] > h[m]->key[h[m]->i])
			m = l;
		if (r < n && h[r]->key[h[r]->i] > h[m]->key[h[m]->i])
			m = r;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void
append_runs(struct eval_pixels *px, const uint32_t *key, const uint64_t *count,
    size_t n, const char *name)
{
	if (eval_pixels_append_runs(px, key, count, n) != 0)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", name);
}

/* Merge the negative runs of the current sections of the N readers into
 * PX, in descending key order (equal keys of several shards become one
 * run: counts are integers, so this is exactly the single run's
 * multiset). */
static void
merge_runs(struct eval_partial_reader **in, struct eval_partial_section *sec,
    unsigned n, struct eval_pixels *px)
{
	struct run_src *src = mirad_xcalloc(n, sizeof *src);
	struct run_src **h = mirad_xcalloc(n, sizeof *h);
	uint32_t okey[RUN_CHUNK];
	uint64_t ocount[RUN_CHUNK];
	size_t nh = 0, on = 0;
	const char *name = "merging the partial files";

	for (unsigned k = 0; k < n; k++) {
		src[k].in = in[k];
		src[k].sec = &sec[k];
		if (src_fill(&src[k]))
			h[nh++] = &src[k];
	}
	for (size_t i = nh / 2; i-- > 0;)
		heap_down(h, nh, i);
	while (nh > 0) {
		struct run_src *t = h[0];
		uint32_t next = 0; /* the best key of the other sources */
		bool more = true;

		if (nh > 1)
			next = nh > 2 && h[2]->key[h[2]->i] > h[1]->key[h[1]->i]
			    ? h[2]->key[h[2]->i]
			    : h[1]->key[h[1]->i];
		/* Take this source's runs while they stay above the others'. */
		do {
			okey[on] = t->key[t->i];
			ocount[on++] = t->count[t->i++];
			if (on == RUN_CHUNK) {
				append_runs(px, okey, ocount, on, name);
				on = 0;
			}
			if (t->i == t->n && !src_fill(t)) {
				more = false;
				break;
			}
		} while (nh == 1 || t->key[t->i] > next);
		if (!more)
			h[0] = h[--nh];
		heap_down(h, nh, 0);
	}
	append_runs(px, okey, ocount, on, name);
	free(h);
	free(src);
}

/*
 * --merge: rebuild every category's store from the shards' sections in
 * shard order (the single run's image order) and compute its metrics.
 * Returns the exit status the single run would have had.
 */
static int
merge(struct eval *e, struct run **runs, size_t *nruns)
{
	struct eval_partial_reader **in = open_partials(e);
	unsigned n = eval_partial_nshards(in[0]);
	struct eval_partial_section *sec = mirad_xcalloc(n, sizeof *sec);
	struct merge_cat *cats;
	size_t ncats;
	uint32_t flags_any = 0;
	char err[1024];
	int status = MIRAD_EXIT_OK;

	decode_job(e, eval_partial_job(in[0]), eval_partial_name(in[0]), runs,
	    nruns, &cats, &ncats);
	mirad_progress_start("merging", *nruns * ncats);
	for (size_t r = 0; r < *nruns; r++) {
		struct run *run = &(*runs)[r];

		for (size_t c = 0; c < ncats; c++) {
			struct cat_state st = {0};

			st.px = eval_pixels_new();
			if (st.px == NULL)
				mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "%s",
				    cats[c].name);
			for (unsigned k = 0; k < n; k++) {
				struct eval_partial_section *s = &sec[k];
				uint64_t lo, hi, next;

				if (eval_partial_read_section(in[k], r, c, s,
				        st.px, err, sizeof err) != 0)
					mirad_die(MIRAD_EXIT_FATAL, "%s", err);
				shard_range(cats[c].images, k, n, &lo, &hi);
				next = lo;
				for (size_t i = 0; i < s->nimages; i++) {
					const struct eval_partial_image *im =
					    &s->images[i];

					if (im->index < next || im->index >= hi)
						mirad_die(MIRAD_EXIT_FATAL,
						    "%s: corrupt partial file "
						    "(image index)",
						    eval_partial_name(in[k]));
					next = im->index + 1;
					grow_images(&st);
					st.iscore[st.n] = im->score;
					st.ilabel[st.n] = im->label;
					st.iindex[st.n++] = im->index;
				}
				st.resized += s->resized;
				if (st.first_resized == NULL &&
				    s->first_resized != NULL)
					st.first_resized =
					    mirad_xstrdup(s->first_resized);
			}
			merge_runs(in, sec, n, st.px);
			if (st.n > 0)
				add_category(e, run, cats[c].name, &st);
			cat_state_free(&st);
			mirad_progress_add(1);
		}
		if (run->ncats == 0)
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: no test image could "
			    "be evaluated",
			    run->maps);
	}
	mirad_progress_end();
	for (unsigned k = 0; k < n; k++) {
		uint64_t bad;
		uint32_t flags;

		if (eval_partial_read_end(
		        in[k], &bad, &flags, err, sizeof err) != 0)
			mirad_die(MIRAD_EXIT_FATAL, "%s", err);
		e->bad += (size_t)bad;
		flags_any |= flags;
		eval_partial_section_clear(&sec[k]);
	}
	if (flags_any & EVAL_PARTIAL_GT_PROBLEMS) {
		mirad_warn("the shard runs reported problems in the ground "
		           "truth");
		status = MIRAD_EXIT_PARTIAL;
	}
	free(sec);
	free(cats);
	for (unsigned k = 0; k < n; k++)
		eval_partial_close(in[k]);
	free(in);
	return status;
}

/* --partial: evaluate this shard's images into a partial file. */
static int
write_partial(struct eval *e, const struct mirad_recordset *records,
    struct run *runs, size_t nruns, int status)
{
	struct eval_job job = {0};
	struct eval_partial_writer *w;

	mirad_signal_install();
	atexit(discard_pending);
	if (e->output != NULL) {
		/* One run per output; what a killed run left is swept. */
		pending_lock = mirad_lock_acquire(e->output);
		if (pending_lock < 0 && errno == EWOULDBLOCK)
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: another mirad-eval is writing it", e->output);
		if (pending_lock < 0)
			mirad_die_errno(
			    MIRAD_EXIT_FATAL, errno, "%s", e->output);
		pending_target = e->output;
		(void)mirad_remove_stale_temps(e->output);
	}
	pending_out = mirad_outfile_open(e->output ? e->output : "-");
	if (pending_out == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", e->output);
	build_job(e, records, runs, nruns, &job);
	w = eval_partial_writer_new(mirad_outfile_stream(pending_out),
	    e->shard_index, e->shard_count, &job);
	eval_job_clear(&job);
	if (w == NULL)
		mirad_die_errno(
		    MIRAD_EXIT_FATAL, errno, "writing the partial file");
	for (size_t r = 0; r < nruns; r++)
		evaluate(e, records, &runs[r], r, w);
	if (eval_partial_writer_finish(w, e->bad,
	        status != MIRAD_EXIT_OK ? EVAL_PARTIAL_GT_PROBLEMS : 0) != 0)
		mirad_die_errno(
		    MIRAD_EXIT_FATAL, errno, "writing the partial file");
	if (mirad_outfile_commit(pending_out) != 0) {
		pending_out = NULL;
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s",
		    e->output ? e->output : "error writing standard output");
	}
	pending_out = NULL;
	discard_pending(); /* releases the lock */
	if (e->bad > 0) {
		mirad_warn("%zu test images of shard %u/%u skipped", e->bad,
		    e->shard_index, e->shard_count);
		status = MIRAD_EXIT_PARTIAL;
	}
	return status;
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
	int status = MIRAD_EXIT_OK;
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
		status = merge(&e, &runs, &nruns);
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
		load_scores(&e);

	if (mirad_image_init(argv[0], 0, err, sizeof err) != 0)
		mirad_die(MIRAD_EXIT_FATAL, "cannot start libvips: %s", err);
	mirad_dataset_show_as_given(e.gt);
	if (mirad_dataset_load(e.gt, &e.in, &records, &info, err, sizeof err) !=
	    0)
		mirad_die(MIRAD_EXIT_FATAL, "%s", err);
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
		status = write_partial(&e, &records, runs, nruns, status);
		goto done;
	}
	for (size_t r = 0; r < nruns; r++) {
		evaluate(&e, &records, &runs[r], r, NULL);
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
		print_methods(&e, runs, nruns, mirad_outfile_stream(out));
	else
		print_single(&e, &runs[0], mirad_outfile_stream(out));
	if (mirad_outfile_commit(out) != 0)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s",
		    e.output ? e.output : "error writing standard output");
	if (e.bad > 0)
		mirad_warn("%zu test images skipped", e.bad);

done:
	for (size_t r = 0; r < nruns; r++) {
		for (size_t i = 0; i < runs[r].ncats; i++)
			free(runs[r].cats[i].category);
		free(runs[r].cats);
		free(runs[r].name);
		free((char *)runs[r].maps);
	}
	free(runs);
	for (size_t i = 0; i < e.nscores; i++)
		free(e.scores[i].image);
	free(e.scores);
	cJSON_Delete(info.header);
	free(info.duplicates);
	mirad_recordset_clear(&records);
	if (!e.merge)
		mirad_image_shutdown();
	return mirad_close_stdout(status);
}
