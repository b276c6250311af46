/* SPDX-License-Identifier: MIT */
/*
 * mirad-stats: the HTML dataset report.
 */
#include "mirad_platform.h"

#include <stdlib.h>
#include <string.h>

#include "mirad_cli.h"
#include "mirad_err.h"
#include "mirad_image.h"
#include "stats_html.h"
#include "stats_plot.h"

/* Chart size in the report, and the mosaic's layout. */
#define CHART_W      720
#define CHART_H      420
#define MOSAIC_PER   4
#define MOSAIC_TILE  128
#define MOSAIC_LABEL 160
/* Paths listed per problem and group before "and N more". */
#define PROBLEM_PATHS 10

static const char style[] =
    "body{font-family:sans-serif;margin:2em auto;max-width:1100px;"
    "color:#222;line-height:1.4}"
    "h1{font-size:1.6em}h2{margin-top:2em;border-bottom:1px solid #ccc}"
    "table{border-collapse:collapse;margin:1em 0}"
    "th,td{border:1px solid #ccc;padding:.25em .6em;text-align:right}"
    "thead th{background:#f0f0f0}tbody th{text-align:left;"
    "font-weight:normal}tr.total th,tr.total td{font-weight:bold;"
    "border-top:2px solid #888}td.flag{text-align:center}"
    "td.on{background:#fde8c8}.swatch{display:inline-block;width:.9em;"
    "height:.9em;border:1px solid #888;vertical-align:middle;"
    "margin-right:.2em}.note{font-size:.9em;color:#555}"
    "figure{display:inline-block;margin:.5em}img{max-width:100%}"
    "li code{font-size:.9em}";

static void
text(FILE *f, const char *s)
{
	gchar *e = g_markup_escape_text(s, -1);

	fputs(e, f);
	g_free(e);
}

static double
num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0.0;
}

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static bool
flag(const cJSON *g, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(g, "flags"), name));
}

/* Open the table cell of flag NAME: highlighted and ticked when set. */
static void
flag_cell(FILE *f, const cJSON *g, const char *name)
{
	bool on = flag(g, name);

	fprintf(f, "<td%s>%s", on ? " class=\"on\"" : "", on ? "✓ " : "");
}

static void
readable(FILE *f, double v)
{
	char buf[64];

	stats_format_readable(buf, sizeof buf, v);
	fputs(buf, f);
}

/* IM as an <img> with a data: URL; -1 with ERR when it cannot be coded. */
static int
inline_png(FILE *f, VipsImage *im, const char *alt, char *err, size_t errlen)
{
	void *buf = NULL;
	size_t len = 0;
	gchar *b64;

	if (vips_pngsave_buffer(im, &buf, &len, NULL)) {
		mirad_image_take_error(err, errlen);
		return -1;
	}
	b64 = g_base64_encode(buf, len);
	g_free(buf);
	fputs("<img alt=\"", f);
	text(f, alt);
	fprintf(f, "\" width=\"%d\" height=\"%d\" src=\"data:image/png;base64,",
	    vips_image_get_width(im), vips_image_get_height(im));
	fputs(b64, f);
	fputs("\">", f);
	g_free(b64);
	return 0;
}

/* The flags with the measures and thresholds behind them. */
static void
flags_table(FILE *f, const cJSON *imaging, enum stats_by by)
{
	const cJSON *g;

	fprintf(f, "<table id=\"flags\">\n<thead><tr><th>%c%s",
	    stats_by_name(by)[0] - 32, stats_by_name(by) + 1);
	fprintf(f,
	    "</th><th>DV: sharpness p90/p10 (&gt; %g) or centroid std "
	    "(&gt; %g)</th><th>DI: foreground luminance p90/p10 (&gt; "
	    "%g)</th><th>DR: size spread (&gt; %g)</th><th>DB: background "
	    "colours (&gt; %g apart)</th></tr></thead>\n<tbody>\n",
	    STATS_DV_SHARPNESS_RATIO, STATS_DV_CENTROID_STD, STATS_DI_RATIO,
	    STATS_DR_RELATIVE, STATS_DB_DISTANCE);
	cJSON_ArrayForEach(g, imaging)
	{
		const cJSON *b;

		fputs("<tr><th>", f);
		text(f, str(g, stats_by_name(by)));
		fputs("</th>", f);
		flag_cell(f, g, "DV");
		if (num(g, "sharpness_ratio") >= 1e9)
			fputs("∞", f);
		else
			readable(f, num(g, "sharpness_ratio"));
		fputs(" / ", f);
		readable(f, num(g, "centroid_std"));
		fputs("</td>", f);
		flag_cell(f, g, "DI");
		readable(f, num(g, "illumination_ratio"));
		fputs("</td>", f);
		flag_cell(f, g, "DR");
		readable(f, num(g, "size_spread"));
		fputs(" (", f);
		readable(f, num(g, "distinct_sizes"));
		fputs(" sizes, ", f);
		text(f, str(g, "size_min"));
		fputs(" to ", f);
		text(f, str(g, "size_max"));
		fputs(")</td>", f);
		flag_cell(f, g, "DB");
		cJSON_ArrayForEach(
		    b, cJSON_GetObjectItemCaseSensitive(g, "backgrounds"))
		{
			const char *c = str(b, "colour");

			/* The colour is "#rrggbb" from the report itself. */
			fprintf(f,
			    "<span class=\"swatch\" style=\"background:%s\" "
			    "title=\"%s\"></span>",
			    c, c);
		}
		fputs("</td></tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
}

/* One kind of problem of a group: its name and the paths. */
struct problem {
	const char *what;
	struct mirad_strlist paths;
};

static void
problem_add(struct problem *p, const char *path)
{
	mirad_strlist_add(&p->paths, path);
}

/* The problems found per group: images that could not be measured,
 * anomalies without a mask, empty or full masks, masks of another size
 * than their image, regions a 256 x 256 resize erases, unknown defect
 * types. */
static void
problems(FILE *f, const struct stats_table *t, const struct stats_entries *e)
{
	bool any = false;

	for (size_t r = 0; r < t->nrows; r++) {
		struct problem p[] = {
		    {"could not be measured", {0}},
		    {"anomaly without a mask", {0}},
		    {"empty mask (no defect pixel)", {0}},
		    {"mask covers the whole image", {0}},
		    {"mask size differs from its image", {0}},
		    {"regions smaller than a pixel at 256x256", {0}},
		};
		size_t np = sizeof p / sizeof *p, found = 0;
		const char *name = t->rows[r].name;

		for (size_t i = 0; i < e->count; i++) {
			const struct stats_entry *x = &e->items[i];
			const struct stats_mask_measure *m = &x->mask_m;

			if (strcmp(stats_entry_group(x, t->by), name) != 0)
				continue;
			if (x->error)
				problem_add(&p[0], x->error);
			if (strcmp(x->label, "anomaly") == 0 && x->measured &&
			    !x->has_mask && !x->error)
				problem_add(&p[1], x->image);
			if (!x->has_mask)
				continue;
			if (m->defect_pixels == 0)
				problem_add(&p[2], x->image);
			else if (m->defect_pixels ==
			    (uint64_t)m->width * (uint64_t)m->height)
				problem_add(&p[3], x->image);
			if (x->measured &&
			    (m->width != x->image_m.width ||
			        m->height != x->image_m.height))
				problem_add(&p[4], x->image);
			if (m->tiny_regions > 0)
				problem_add(&p[5], x->image);
		}
		for (size_t k = 0; k < np; k++)
			found += p[k].paths.count;
		if (found > 0 || t->rows[r].defects_unknown) {
			fputs("<h3>", f);
			text(f, name);
			fputs("</h3>\n<ul>\n", f);
			any = true;
		}
		if (t->rows[r].defects_unknown)
			fputs("<li>defect types unknown: the anomalies are "
			      "pooled in one folder (give them with "
			      "<code>--defects FILE</code>)</li>\n",
			    f);
		for (size_t k = 0; k < np; k++) {
			if (p[k].paths.count == 0) {
				mirad_strlist_free(&p[k].paths);
				continue;
			}
			fprintf(f, "<li>%s: %zu<ul>\n", p[k].what,
			    p[k].paths.count);
			for (size_t j = 0;
			     j < p[k].paths.count && j < PROBLEM_PATHS; j++) {
				fputs("<li><code>", f);
				text(f, p[k].paths.items[j]);
				fputs("</code></li>\n", f);
			}
			if (p[k].paths.count > PROBLEM_PATHS)
				fprintf(f, "<li>and %zu more</li>\n",
				    p[k].paths.count - PROBLEM_PATHS);
			fputs("</ul></li>\n", f);
			mirad_strlist_free(&p[k].paths);
		}
		if (found > 0 || t->rows[r].defects_unknown)
			fputs("</ul>\n", f);
	}
	if (!any)
		fputs("<p id=\"no-problems\">None found.</p>\n", f);
}

int
stats_html_write(FILE *f, const char *input, const struct stats_table *t,
    const struct stats_entries *e, const cJSON *imaging, const cJSON *geometry,
    char *err, size_t errlen)
{
	static const char *const captions[STATS_PLOT_COUNT] = {
	    "Images per group", "Defect area per mask",
	    "Foreground brightness per group", "Image sizes"};
	bool have_paths = false;
	VipsImage *im;

	for (size_t i = 0; i < e->count && !have_paths; i++)
		have_paths = e->items[i].path != NULL;
	fputs("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	      "<meta charset=\"utf-8\">\n<title>Dataset report: ",
	    f);
	text(f, input);
	fprintf(f, "</title>\n<style>%s</style>\n</head>\n<body>\n", style);
	fputs("<h1>Dataset report: ", f);
	text(f, input);
	fprintf(f,
	    "</h1>\n<p class=\"note\">%zu images in %zu groups (by %s), "
	    "written by mirad-stats %s.</p>\n",
	    e->count, t->nrows, stats_by_name(t->by), PACKAGE_VERSION);

	fputs("<h2>Overview</h2>\n", f);
	stats_table_print_html(f, t, imaging);

	fputs("<h2>Imaging heterogeneity</h2>\n<p>Each flag with the measure "
	      "behind it and its threshold (see mirad-stats(1), "
	      "MEASURES).</p>\n",
	    f);
	flags_table(f, imaging, t->by);

	fputs("<h2>Charts</h2>\n", f);
	for (int c = 0; c < STATS_PLOT_COUNT; c++) {
		im = stats_plot_render(c, e, imaging, geometry, t->by, CHART_W,
		    CHART_H, err, errlen);
		if (im == NULL)
			return -1;
		fputs("<figure>", f);
		if (inline_png(f, im, captions[c], err, errlen) != 0) {
			g_object_unref(im);
			return -1;
		}
		g_object_unref(im);
		fprintf(
		    f, "<figcaption>%s</figcaption></figure>\n", captions[c]);
	}

	fputs("<h2>Sample images</h2>\n", f);
	if (have_paths) {
		im = stats_mosaic_render(e, t->by, MOSAIC_PER, MOSAIC_TILE,
		    MOSAIC_LABEL, true, err, errlen);
		if (im == NULL)
			return -1;
		fputs("<p>Images picked evenly per group; defects tinted "
		      "red.</p>\n<figure>",
		    f);
		if (inline_png(f, im, "Sample images per group", err, errlen)) {
			g_object_unref(im);
			return -1;
		}
		g_object_unref(im);
		fputs("</figure>\n", f);
	} else {
		fputs("<p class=\"note\">No mosaic: the image files are not "
		      "known here (partial statistics hold measures, not "
		      "paths).</p>\n",
		    f);
	}

	fputs("<h2>Problems found</h2>\n", f);
	problems(f, t, e);
	fputs("</body>\n</html>\n", f);
	return 0;
}
