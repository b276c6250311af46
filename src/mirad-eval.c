/* SPDX-License-Identifier: MIT */
/*
 * mirad-eval: exact anomaly-detection metrics (I-AUROC, I-AP, I-F1max,
 * P-AUROC, P-AP, P-F1max, AU-PRO) per category from anomaly maps on disk,
 * and the MIRAD paper's multi-method tables (mean and population std).
 * The definitions are metrics.md §7; the core is eval_metrics.c.
 */
#include "mirad_platform.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "eval_maps.h"
#include "eval_metrics.h"
#include "mirad_cli.h"
#include "mirad_csv.h"
#include "mirad_dataset.h"
#include "mirad_err.h"
#include "mirad_formats.h"
#include "mirad_fs.h"
#include "mirad_image.h"
#include "mirad_manifest.h"
#include "mirad_progress.h"
#include "mirad_signal.h"
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
	bool metric_on[NMETRICS];
	bool metrics_given;
	double limit;
	bool strict;
	struct score_entry *scores;
	size_t nscores;
	size_t bad; /* images skipped */
};

static void
usage(void)
{
	/* clang-format off */
	fputs(
"Usage: mirad-eval [OPTION]... --gt DATASET --maps DIR\n"
"  or:  mirad-eval [OPTION]... --gt DATASET --methods DIR1,DIR2,...\n"
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
"  -f, --format=FMT       md (default), csv, json or tex\n"
"      --metrics=LIST     i-auroc,i-ap,i-f1max,p-auroc,p-ap,p-f1max,aupro\n"
"                         (default: all; with --methods: i-auroc,aupro)\n"
"      --pro-limit=L      AU-PRO integration limit, 0 < L <= 1 (default 0.3)\n"
"      --compat=NAME      exact (default) or ader: ADer's numbers (ADEval\n"
"                         histograms, 16x16 pooled image scores)\n"
"      --adeval-strips=N  histogram bins for --compat=ader (default 50)\n"
"      --strict           reject maps whose size differs from the mask and\n"
"                         stop at the first bad image\n"
"  -o, --output=FILE      write the table to FILE (atomically)\n"
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
	    {"compat", required_argument, NULL, OPT_COMPAT},
	    {"format", required_argument, NULL, 'f'},
	    {"gt", required_argument, NULL, OPT_GT},
	    {"maps", required_argument, NULL, OPT_MAPS},
	    {"methods", required_argument, NULL, OPT_METHODS},
	    {"metrics", required_argument, NULL, OPT_METRICS},
	    {"output", required_argument, NULL, 'o'},
	    {"pro-limit", required_argument, NULL, OPT_PRO_LIMIT},
	    {"scores", required_argument, NULL, OPT_SCORES},
	    {"strict", no_argument, NULL, OPT_STRICT},
	    MIRAD_CLI_COMMON_LONGOPTS,
	    MIRAD_CLI_DATASET_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	int c;
	uint64_t u;

	opterr = 0;
	while (
	    (c = getopt_long(argc, argv, ":f:ho:qV", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
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
		case OPT_STRICT:
			e->strict = true;
			break;
		default:
			mirad_cli_common_option(c, argv, usage, &e->in);
		}
	}
	if (optind < argc)
		mirad_usage_error("unexpected argument '%s'", argv[optind]);
	if (e->gt == NULL)
		mirad_usage_error("--gt DATASET is required");
	if ((e->maps == NULL) == (e->methods == NULL))
		mirad_usage_error("give either --maps DIR or --methods LIST");
	if (e->methods != NULL && e->scores_path != NULL)
		mirad_usage_error("--scores applies to --maps only");
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
	e->scores =
	    mirad_xrealloc(e->scores, (e->nscores + 1) * sizeof *e->scores);
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
	size_t n, cap;
	size_t resized;
	char *first_resized;
};

/* Evaluate one test image into ST.  Returns 0, or -1 if it was skipped. */
static int
add_image(struct eval *e, const char *maps, const struct mirad_record *r,
    struct cat_state *st)
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
	if (map.rounded && st->n == 0)
		mirad_warn("%s: float64 map rounded to float32", mpath);
	if (r->mask != NULL) {
		path = mirad_record_path(r, r->mask);
		if (eval_mask_read(path, &mask, &mw, &mh, err, sizeof err) !=
		    0) {
			bad_image(e, err);
			goto out;
		}
	} else {
		mw = map.width;
		mh = map.height;
		mask = mirad_xcalloc((mw * mh) > 0 ? mw * mh : 1, 1);
	}
	pix = map.data;
	if (mw != map.width || mh != map.height) {
		if (e->strict) {
			snprintf(msg, sizeof msg,
			    "%s: map is %zux%zu, mask is %zux%zu", mpath,
			    map.width, map.height, mw, mh);
			bad_image(e, msg);
			goto out;
		}
		resized = mirad_xmalloc(mw * mh * sizeof *resized);
		eval_resize_bilinear(
		    map.data, map.width, map.height, resized, mw, mh);
		pix = resized;
		if (st->resized++ == 0)
			st->first_resized =
			    mirad_xasprintf("%s (%zux%zu, mask %zux%zu)", mpath,
			        map.width, map.height, mw, mh);
	}
	for (size_t i = 0; i < mw * mh; i++)
		any |= mask[i] != 0;
	if (mirad_record_is_anomaly(r) && !any)
		mirad_warn(
		    "%s: labelled anomalous but its mask is empty", r->image);
	if (e->scores != NULL) {
		if (!lookup_score(e, r, &score)) {
			snprintf(msg, sizeof msg, "%s: no score in %s",
			    r->image, e->scores_path);
			bad_image(e, msg);
			goto out;
		}
	} else if (e->compat == COMPAT_ADER) {
		/* ADer: the max of the 16x16 mean-pooled map */
		score = eval_avgpool_max(pix, mw, mh, 16);
		if (isnan(score))
			mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "%s", mpath);
	} else {
		for (size_t i = 0; i < map.width * map.height; i++)
			if (map.data[i] > score)
				score = map.data[i];
	}
	if (eval_pixels_add(st->px, pix, mask, mw, mh) != 0)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", r->image);
	if (st->n == st->cap) {
		st->cap = st->cap ? 2 * st->cap : 64;
		st->iscore =
		    mirad_xrealloc(st->iscore, st->cap * sizeof *st->iscore);
		st->ilabel =
		    mirad_xrealloc(st->ilabel, st->cap * sizeof *st->ilabel);
	}
	st->iscore[st->n] = score;
	st->ilabel[st->n] = any;
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

	if (st->resized > 0) {
		mirad_progress_clear();
		mirad_warn(
		    "%s: %zu maps resized (bilinear) to their mask size, "
		    "e.g. %s; results are not comparable with the "
		    "official evaluation",
		    c->category, st->resized, st->first_resized);
	}
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
			mirad_warn("%s: constant anomaly maps: ADEval's "
			           "histogram is undefined",
			    c->category);
			h.auroc = h.ap = h.aupro = NAN;
		}
		c->m[M_P_AUROC] = h.auroc;
		c->m[M_P_AP] = h.ap;
		c->m[M_AUPRO] = h.aupro;
		c->m[M_P_F1MAX] = eval_pixels_ader_f1max(st->px);
	}
	if (c->anomalous == 0 || c->anomalous == c->images)
		mirad_warn("%s: %s: image-level AUROC is undefined",
		    c->category,
		    c->anomalous == 0 ? "no anomalous test images"
		                      : "no normal test images");
	if (c->regions == 0)
		mirad_warn("%s: no anomalous pixels: pixel AUROC and AU-PRO "
		           "are undefined",
		    c->category);
}

/* Evaluate every category of RECORDS (sorted) with the maps in RUN. */
static void
evaluate(struct eval *e, const struct mirad_recordset *records, struct run *run)
{
	size_t i = 0, ntest = 0;

	for (size_t k = 0; k < records->count; k++)
		ntest += strcmp(records->items[k]->split, "test") == 0;
	mirad_progress_start(run->name, ntest);
	while (i < records->count) {
		const char *cat = records->items[i]->category;
		struct cat_state st = {0};
		struct cat_result *c;
		size_t j = i;

		while (j < records->count &&
		    strcmp(records->items[j]->category, cat) == 0)
			j++;
		st.px = eval_pixels_new();
		if (st.px == NULL)
			mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "%s", cat);
		for (size_t k = i; k < j; k++) {
			if (strcmp(records->items[k]->split, "test") != 0)
				continue;
			add_image(e, run->maps, records->items[k], &st);
			mirad_progress_add(1);
		}
		if (st.n > 0) {
			run->cats = mirad_xrealloc(
			    run->cats, (run->ncats + 1) * sizeof *run->cats);
			c = &run->cats[run->ncats++];
			memset(c, 0, sizeof *c);
			c->category = mirad_xstrdup(cat);
			finish_category(e, &st, c);
		}
		eval_pixels_free(st.px);
		free(st.iscore);
		free(st.ilabel);
		free(st.first_resized);
		i = j;
	}
	mirad_progress_end();
}

/* ---- output ---- */

static void
print_value(FILE *f, double v, bool percent)
{
	if (isnan(v))
		fputs(percent ? "n/a" : "nan", f);
	else if (percent)
		fprintf(f, "%.2f", 100 * v);
	else
		fprintf(f, "%.17g", v);
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

static void
print_single(const struct eval *e, const struct run *run, FILE *f)
{
	bool md = e->format == FORMAT_MD, tex = e->format == FORMAT_TEX;

	if (e->format == FORMAT_JSON) {
		cJSON *root = cJSON_CreateObject(), *cats, *mean;
		char *text;

		cJSON_AddStringToObject(root, "compat",
		    e->compat == COMPAT_ADER ? "ader" : "exact");
		cJSON_AddNumberToObject(root, "pro_limit", e->limit);
		cats = cJSON_AddArrayToObject(root, "categories");
		for (size_t i = 0; i < run->ncats; i++) {
			const struct cat_result *c = &run->cats[i];
			cJSON *o = cJSON_CreateObject();

			cJSON_AddStringToObject(o, "category", c->category);
			cJSON_AddNumberToObject(o, "images", (double)c->images);
			cJSON_AddNumberToObject(
			    o, "anomalous", (double)c->anomalous);
			cJSON_AddNumberToObject(o, "pixels", (double)c->pixels);
			cJSON_AddNumberToObject(
			    o, "regions", (double)c->regions);
			for (int m = 0; m < NMETRICS; m++)
				if (e->metric_on[m])
					cJSON_AddItemToObject(o,
					    metric_names[m].key,
					    isnan(c->m[m])
					        ? cJSON_CreateNull()
					        : cJSON_CreateNumber(c->m[m]));
			cJSON_AddItemToArray(cats, o);
		}
		mean = cJSON_AddObjectToObject(root, "mean");
		for (int m = 0; m < NMETRICS; m++)
			if (e->metric_on[m]) {
				double v = mean_over(run, m);

				cJSON_AddItemToObject(mean, metric_names[m].key,
				    isnan(v) ? cJSON_CreateNull()
				             : cJSON_CreateNumber(v));
			}
		text = cJSON_Print(root);
		if (text == NULL)
			mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "json");
		fputs(text, f);
		fputc('\n', f);
		cJSON_free(text);
		cJSON_Delete(root);
		return;
	}
	if (e->format == FORMAT_CSV) {
		fputs("category,images,anomalous,pixels,regions", f);
		for (int m = 0; m < NMETRICS; m++)
			if (e->metric_on[m])
				fprintf(f, ",%s", metric_names[m].key);
		fputc('\n', f);
		for (size_t i = 0; i <= run->ncats; i++) {
			const struct cat_result *c = &run->cats[i];

			if (i < run->ncats)
				fprintf(f, "%s,%zu,%zu,%llu,%llu", c->category,
				    c->images, c->anomalous,
				    (unsigned long long)c->pixels,
				    (unsigned long long)c->regions);
			else
				fputs("mean,,,,", f);
			for (int m = 0; m < NMETRICS; m++)
				if (e->metric_on[m]) {
					fputc(',', f);
					print_value(f,
					    i < run->ncats ? c->m[m]
					                   : mean_over(run, m),
					    false);
				}
			fputc('\n', f);
		}
		return;
	}
	/* md and tex: percentages, two decimals */
	if (tex) {
		fputs("\\begin{tabular}{lr", f);
		for (int m = 0; m < NMETRICS; m++)
			if (e->metric_on[m])
				fputc('r', f);
		fputs("}\n\\hline\nCategory & Images", f);
	} else {
		fputs("| Category | Images |", f);
	}
	for (int m = 0; m < NMETRICS; m++)
		if (e->metric_on[m])
			fprintf(
			    f, md ? " %s |" : " & %s", metric_names[m].title);
	if (md) {
		fputs("\n|---|---:|", f);
		for (int m = 0; m < NMETRICS; m++)
			if (e->metric_on[m])
				fputs("---:|", f);
		fputc('\n', f);
	} else {
		fputs(" \\\\\n\\hline\n", f);
	}
	for (size_t i = 0; i <= run->ncats; i++) {
		const struct cat_result *c = &run->cats[i];

		if (i < run->ncats) {
			if (md)
				fprintf(
				    f, "| %s | %zu |", c->category, c->images);
			else {
				mirad_print_category_name(f, c->category, true);
				fprintf(f, " & %zu", c->images);
			}
		} else {
			size_t n = 0;

			for (size_t k = 0; k < run->ncats; k++)
				n += run->cats[k].images;
			fprintf(f,
			    md ? "| **Mean** | %zu |"
			       : "\\hline\n\\textbf{Mean} & %zu",
			    n);
		}
		for (int m = 0; m < NMETRICS; m++) {
			if (!e->metric_on[m])
				continue;
			fputs(md ? " " : " & ", f);
			print_value(f,
			    i < run->ncats ? c->m[m] : mean_over(run, m), true);
			if (md)
				fputs(" |", f);
		}
		fputs(md ? "\n" : " \\\\\n", f);
	}
	if (tex)
		fputs("\\hline\n\\end{tabular}\n", f);
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
 * The paper's table (mirad.md §8.3): per category and metric one value per
 * method plus mean and population std over the methods; the dataset row
 * holds each method's mean over categories, their mean, and as "std" the
 * mean of the per-category stds (as the MIRAD table prints it).
 */
static void
print_methods(
    const struct eval *e, const struct run *runs, size_t nruns, FILE *f)
{
	const struct run *first = &runs[0];
	bool md = e->format == FORMAT_MD, tex = e->format == FORMAT_TEX;
	bool csv = e->format == FORMAT_CSV, json = e->format == FORMAT_JSON;
	double *v = mirad_xcalloc(nruns, sizeof *v);
	double *sdsum = mirad_xcalloc(NMETRICS, sizeof *sdsum);
	size_t *sdn = mirad_xcalloc(NMETRICS, sizeof *sdn);
	cJSON *root = NULL, *rows = NULL;

	if (json) {
		cJSON *names;

		root = cJSON_CreateObject();
		names = cJSON_AddArrayToObject(root, "methods");
		for (size_t r = 0; r < nruns; r++)
			cJSON_AddItemToArray(
			    names, cJSON_CreateString(runs[r].name));
		cJSON_AddStringToObject(root, "std", "population");
		cJSON_AddStringToObject(
		    root, "dataset_std", "mean of the per-category stds");
		rows = cJSON_AddArrayToObject(root, "rows");
	} else if (csv) {
		fputs("category,metric", f);
		for (size_t r = 0; r < nruns; r++)
			fprintf(f, ",%s", runs[r].name);
		fputs(",mean,std\n", f);
	} else if (tex) {
		fputs("\\begin{tabular}{ll", f);
		for (size_t r = 0; r <= nruns; r++)
			fputc('r', f);
		fputs("}\n\\hline\nCategory & Metric", f);
		for (size_t r = 0; r < nruns; r++) {
			fputs(" & ", f);
			mirad_print_category_name(f, runs[r].name, true);
		}
		fputs(" & Mean$\\pm$Std \\\\\n\\hline\n", f);
	} else {
		fputs("| Category | Metric |", f);
		for (size_t r = 0; r < nruns; r++)
			fprintf(f, " %s |", runs[r].name);
		fputs(" Mean±Std |\n|---|---|", f);
		for (size_t r = 0; r <= nruns; r++)
			fputs("---:|", f);
		fputc('\n', f);
	}
	/* Categories of the first method; the others must match. */
	for (size_t i = 0; i <= first->ncats; i++) {
		const char *cat =
		    i < first->ncats ? first->cats[i].category : NULL;
		bool first_row = true;

		for (int m = 0; m < NMETRICS; m++) {
			double mean, sd;

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
			if (json) {
				cJSON *o = cJSON_CreateObject(), *vals;

				cJSON_AddStringToObject(
				    o, "category", cat ? cat : "mean");
				cJSON_AddStringToObject(
				    o, "metric", metric_names[m].key);
				vals = cJSON_AddObjectToObject(o, "values");
				for (size_t r = 0; r < nruns; r++)
					cJSON_AddItemToObject(vals,
					    runs[r].name,
					    isnan(v[r])
					        ? cJSON_CreateNull()
					        : cJSON_CreateNumber(v[r]));
				cJSON_AddItemToObject(o, "mean",
				    isnan(mean) ? cJSON_CreateNull()
				                : cJSON_CreateNumber(mean));
				cJSON_AddItemToObject(o, "std",
				    isnan(sd) ? cJSON_CreateNull()
				              : cJSON_CreateNumber(sd));
				cJSON_AddItemToArray(rows, o);
				continue;
			}
			if (csv) {
				fprintf(f, "%s,%s", cat ? cat : "mean",
				    metric_names[m].key);
				for (size_t r = 0; r < nruns; r++) {
					fputc(',', f);
					print_value(f, v[r], false);
				}
				fputc(',', f);
				print_value(f, mean, false);
				fputc(',', f);
				print_value(f, sd, false);
				fputc('\n', f);
				continue;
			}
			if (md) {
				fprintf(f, "| %s | %s |",
				    !first_row ? ""
				        : cat  ? cat
				               : "**Mean**",
				    metric_names[m].title);
			} else {
				if (!cat && first_row)
					fputs("\\hline\n\\textbf{Mean}", f);
				else if (first_row)
					mirad_print_category_name(f, cat, true);
				fprintf(f, " & %s", metric_names[m].title);
			}
			for (size_t r = 0; r < nruns; r++) {
				fputs(md ? " " : " & ", f);
				if (isnan(v[r]))
					fputs("n/a", f);
				else
					fprintf(f, "%.1f", 100 * v[r]);
				if (md)
					fputs(" |", f);
			}
			if (isnan(mean))
				fputs(md ? " n/a |\n" : " & n/a \\\\\n", f);
			else
				fprintf(f,
				    md ? " %.1f±%.1f |\n"
				       : " & %.1f$\\pm$%.1f \\\\\n",
				    100 * mean, 100 * sd);
			first_row = false;
		}
	}
	if (json) {
		char *text = cJSON_Print(root);

		if (text == NULL)
			mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "json");
		fputs(text, f);
		fputc('\n', f);
		cJSON_free(text);
		cJSON_Delete(root);
	} else if (tex) {
		fputs("\\hline\n\\end{tabular}\n", f);
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

int
main(int argc, char **argv)
{
	struct eval e = {0};
	struct mirad_recordset records = {0};
	struct mirad_dataset_info info;
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
	parse_args(&e, argc, argv);
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
	if (mirad_dataset_load(e.gt, &e.in, &records, &info, err, sizeof err) !=
	    0)
		mirad_die(MIRAD_EXIT_FATAL, "%s", err);
	if (info.scan.problems > 0 || info.bad_lines > 0)
		status = MIRAD_EXIT_PARTIAL;
	mirad_recordset_sort(&records);
	for (size_t i = 0; i < records.count; i++)
		ntest += strcmp(records.items[i]->split, "test") == 0;
	if (ntest == 0)
		mirad_die(MIRAD_EXIT_FATAL, "%s: no test images", e.gt);

	for (size_t r = 0; r < nruns; r++) {
		evaluate(&e, &records, &runs[r]);
		if (runs[r].ncats == 0)
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: no test image could "
			    "be evaluated",
			    runs[r].maps);
	}
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
	mirad_recordset_clear(&records);
	mirad_image_shutdown();
	return mirad_close_stdout(status);
}
