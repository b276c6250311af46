/* SPDX-License-Identifier: MIT */
/*
 * mirad-eval's result tables; see eval_table.h.
 */
#include "mirad_platform.h"

#include "eval_table.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mirad_err.h"
#include "mirad_table.h"

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
			    eval_metric_names[m].title, n, runs[r].ncats);
		}
	if (note && !tex)
		g_string_append_c(note, '.');
	return note ? g_string_free(note, FALSE) : NULL;
}

void
eval_print_single(const struct eval *e, const struct run *run, FILE *f)
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
			    people ? eval_metric_names[m].title
			           : eval_metric_names[m].key,
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
				    eval_metric_names[m].key,
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
void
eval_print_methods(
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
				mirad_table_add_text(
				    t, eval_metric_names[m].key);
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
			mirad_table_add_text(t, eval_metric_names[m].title);
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
