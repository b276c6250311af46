/* SPDX-License-Identifier: MIT */
/*
 * mirad-stats: the counts table.
 */
#include "mirad_platform.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "mirad_cli.h"
#include "mirad_err.h"
#include "mirad_formats.h"
#include "mirad_manifest.h"
#include "mirad_table.h"
#include "stats_table.h"

/* The cell of an unknown defect-type count, and its footnote. */
#define UNKNOWN_CELL "–"
#define UNKNOWN_NOTE                                                           \
	"the layout pools the anomalies of a category in one folder, so it "   \
	"holds no defect types; give an image,defect CSV with --defects "      \
	"FILE to count them"

bool
stats_defect_is_pooled(const char *defect)
{
	return defect == NULL || strcmp(defect, "anomaly") == 0 ||
	    strcmp(defect, "bad") == 0;
}

static struct stats_count_row *
row_for(struct stats_table *t, const char *name)
{
	/* Entries are sorted by path, so a group's rows come in runs:
	 * look back from the last row first. */
	for (size_t i = t->nrows; i-- > 0;)
		if (strcmp(t->rows[i].name, name) == 0)
			return &t->rows[i];
	t->rows = mirad_xrealloc(t->rows, (t->nrows + 1) * sizeof *t->rows);
	memset(&t->rows[t->nrows], 0, sizeof *t->rows);
	t->rows[t->nrows].name = mirad_xstrdup(name);
	return &t->rows[t->nrows++];
}

static int
cmp_rows(const void *a, const void *b)
{
	return strcmp(((const struct stats_count_row *)a)->name,
	    ((const struct stats_count_row *)b)->name);
}

/* Add the pair (CATEGORY, DEFECT) to SET; true when it is new. */
static bool
add_pair(GHashTable *set, const char *category, const char *defect)
{
	char *key = mirad_xasprintf("%s\x1f%s", category, defect);

	if (g_hash_table_contains(set, key)) {
		free(key);
		return false;
	}
	g_hash_table_add(set, key);
	return true;
}

void
stats_table_count(
    struct stats_table *t, const struct stats_entries *e, enum stats_by by)
{
	GHashTable *all =
	    g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	GHashTable **sets = NULL;

	memset(t, 0, sizeof *t);
	t->by = by;
	t->total.name = mirad_xstrdup("total");
	for (size_t i = 0; i < e->count; i++) {
		const struct stats_entry *x = &e->items[i];
		struct stats_count_row *row =
		    row_for(t, stats_entry_group(x, by));

		/* The rule mirad-fetch counts by too. */
		mirad_counts_add(&row->n, x->split, x->label);
	}
	if (t->nrows > 1)
		qsort(t->rows, t->nrows, sizeof *t->rows, cmp_rows);
	/* Defect types, now that the rows have their final places. */
	sets = mirad_xcalloc(t->nrows ? t->nrows : 1, sizeof *sets);
	for (size_t r = 0; r < t->nrows; r++)
		sets[r] =
		    g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	for (size_t i = 0; i < e->count; i++) {
		const struct stats_entry *x = &e->items[i];
		struct stats_count_row key = {0}, *row;

		if (strcmp(x->label, "anomaly") != 0)
			continue;
		key.name = (char *)stats_entry_group(x, by);
		row =
		    bsearch(&key, t->rows, t->nrows, sizeof *t->rows, cmp_rows);
		if (stats_defect_is_pooled(x->defect)) {
			row->defects_unknown = true;
			t->total.defects_unknown = true;
			continue;
		}
		if (add_pair(sets[row - t->rows], x->category, x->defect))
			row->defect_types++;
		if (add_pair(all, x->category, x->defect))
			t->total.defect_types++;
	}
	for (size_t r = 0; r < t->nrows; r++) {
		const struct stats_count_row *row = &t->rows[r];

		mirad_counts_sum(&t->total.n, &row->n);
		g_hash_table_destroy(sets[r]);
	}
	free(sets);
	g_hash_table_destroy(all);
}

void
stats_table_free(struct stats_table *t)
{
	for (size_t i = 0; i < t->nrows; i++)
		free(t->rows[i].name);
	free(t->rows);
	free(t->total.name);
	memset(t, 0, sizeof *t);
}

/* Columns beyond the paper's appear only when the data has them. */
struct column {
	const char *key;   /* csv/json name */
	const char *title; /* md/tex heading */
	size_t offset;
	bool optional;
};

static const struct column columns[] = {
    {"train", "Train", offsetof(struct stats_count_row, n.train), false},
    {"train_abnormal", "Train abnormal",
        offsetof(struct stats_count_row, n.train_abnormal), true},
    {"val", "Val", offsetof(struct stats_count_row, n.val), true},
    {"test_normal", "Test normal",
        offsetof(struct stats_count_row, n.test_normal), false},
    {"test_abnormal", "Test abnormal",
        offsetof(struct stats_count_row, n.test_abnormal), false},
    {"defect_types", "Defect types",
        offsetof(struct stats_count_row, defect_types), false},
};
#define NCOLUMNS      (sizeof columns / sizeof *columns)
#define DEFECT_COLUMN (NCOLUMNS - 1)

static size_t
value(const struct stats_count_row *r, size_t col)
{
	return *(const size_t *)((const char *)r + columns[col].offset);
}

static bool
shown(const struct stats_table *t, size_t col)
{
	return !columns[col].optional || value(&t->total, col) > 0;
}

static bool
unknown(const struct stats_count_row *r, size_t col)
{
	return col == DEFECT_COLUMN && r->defects_unknown;
}

static const struct stats_count_row *
row_at(const struct stats_table *t, size_t i)
{
	return i < t->nrows ? &t->rows[i] : &t->total;
}

static void
print_by_title(FILE *f, enum stats_by by)
{
	const char *name = stats_by_name(by);

	fputc(name[0] - 32, f);
	fputs(name + 1, f);
}

static const cJSON *
imaging_group_named(const cJSON *imaging, enum stats_by by, const char *name)
{
	const cJSON *g;

	cJSON_ArrayForEach(g, imaging)
	{
		const cJSON *v =
		    cJSON_GetObjectItemCaseSensitive(g, stats_by_name(by));

		if (cJSON_IsString(v) && strcmp(v->valuestring, name) == 0)
			return g;
	}
	return NULL;
}

struct mirad_table *
stats_table_counts(const struct stats_table *t, enum mirad_table_format fmt,
    const cJSON *imaging)
{
	static const char *const flags[] = {"DV", "DI", "DR", "DB"};
	bool people = fmt == MIRAD_TABLE_MD || fmt == MIRAD_TABLE_TEX;
	bool tex = fmt == MIRAD_TABLE_TEX;
	struct mirad_table *out = mirad_table_new();
	char *by_title = mirad_table_display_name(stats_by_name(t->by));

	if (!tex)
		imaging = NULL;
	mirad_table_add_column(
	    out, people ? by_title : stats_by_name(t->by), MIRAD_TABLE_LEFT, 0);
	g_free(by_title);
	for (size_t c = 0; c < NCOLUMNS; c++) {
		if (!shown(t, c))
			continue;
		if (tex && c == DEFECT_COLUMN && t->total.defects_unknown) {
			char *title = g_strdup_printf(
			    "%s\\textsuperscript{a}", columns[c].title);

			mirad_table_add_column(out, title, MIRAD_TABLE_RIGHT,
			    MIRAD_TABLE_NUMERIC | MIRAD_TABLE_TITLE_MARKUP);
			g_free(title);
		} else {
			mirad_table_add_column(out,
			    people ? columns[c].title : columns[c].key,
			    MIRAD_TABLE_RIGHT, MIRAD_TABLE_NUMERIC);
		}
	}
	if (imaging)
		for (int k = 0; k < 4; k++)
			mirad_table_add_column(
			    out, flags[k], MIRAD_TABLE_CENTER, 0);
	for (size_t i = 0; i <= t->nrows; i++) {
		const struct stats_count_row *row = row_at(t, i);
		const cJSON *fl = NULL;

		mirad_table_add_row(out, i == t->nrows);
		if (i < t->nrows && tex) {
			char *name = mirad_table_display_name(row->name);

			mirad_table_add_text(out, name);
			g_free(name);
		} else if (i < t->nrows || fmt == MIRAD_TABLE_CSV) {
			mirad_table_add_text(out, row->name);
		} else if (fmt == MIRAD_TABLE_JSON) {
			mirad_table_add_absent(out); /* "totals" has no name */
		} else {
			mirad_table_add_markup(
			    out, tex ? "\\textbf{Total}" : "**Total**");
		}
		for (size_t c = 0; c < NCOLUMNS; c++) {
			if (!shown(t, c))
				continue;
			if (unknown(row, c))
				mirad_table_add_null(out,
				    fmt == MIRAD_TABLE_MD ? UNKNOWN_CELL
				        : tex             ? "--"
				                          : "");
			else
				mirad_table_add_textf(
				    out, "%zu", value(row, c));
		}
		if (imaging == NULL)
			continue;
		if (i < t->nrows)
			fl = cJSON_GetObjectItemCaseSensitive(
			    imaging_group_named(imaging, t->by, row->name),
			    "flags");
		for (int k = 0; k < 4; k++)
			mirad_table_add_markup(out,
			    cJSON_IsTrue(
			        cJSON_GetObjectItemCaseSensitive(fl, flags[k]))
			        ? "\\checkmark"
			        : "");
	}
	if (t->total.defects_unknown && fmt == MIRAD_TABLE_MD)
		mirad_table_set_note(
		    out, UNKNOWN_CELL " Defect types: " UNKNOWN_NOTE ".");
	else if (t->total.defects_unknown && tex)
		mirad_table_set_note(out,
		    "\\textsuperscript{a}--: the layout pools the anomalies "
		    "of a category in one folder, so it holds no defect "
		    "types.");
	return out;
}

void
stats_table_print_json(FILE *f, const struct stats_table *t,
    const cJSON *imaging, const cJSON *geometry)
{
	struct mirad_table *counts =
	    stats_table_counts(t, MIRAD_TABLE_JSON, NULL);
	cJSON *root = cJSON_CreateObject();
	char *text;

	cJSON_AddItemToObject(root,
	    t->by == STATS_BY_CATEGORY ? "categories" : "groups",
	    mirad_table_json_rows(counts, 0, t->nrows));
	cJSON_AddItemToObject(
	    root, "totals", mirad_table_json_row(counts, t->nrows));
	mirad_table_free(counts);
	if (t->total.defects_unknown)
		cJSON_AddStringToObject(
		    root, "defect_types_null", UNKNOWN_NOTE);
	if (imaging) {
		cJSON *o = cJSON_AddObjectToObject(root, "imaging");

		cJSON_AddStringToObject(o, "by", stats_by_name(t->by));
		cJSON_AddItemToObject(
		    o, "thresholds", stats_report_thresholds());
		cJSON_AddItemToObject(
		    o, "definitions", stats_report_definitions());
		cJSON_AddItemReferenceToObject(o, "groups", (cJSON *)imaging);
	}
	if (geometry) {
		cJSON *o = cJSON_AddObjectToObject(root, "geometry");

		cJSON_AddStringToObject(o, "by", stats_by_name(t->by));
		cJSON_AddItemReferenceToObject(o, "groups", (cJSON *)geometry);
	}
	text = stats_json_print(root, true);
	fputs(text, f);
	fputc('\n', f);
	free(text);
	cJSON_Delete(root);
}

int
stats_tables_write(FILE *f, enum mirad_table_format fmt,
    const struct stats_table *t, const cJSON *imaging, const cJSON *geometry,
    char *err, size_t errlen)
{
	struct mirad_table *parts[3];
	const char *labels[3], *headings[3];
	GString *text;
	size_t n = 0;
	int rc = 0;

	if (fmt == MIRAD_TABLE_JSON) {
		stats_table_print_json(f, t, imaging, geometry);
		return 0;
	}
	labels[n] = "counts";
	headings[n] = "";
	parts[n++] = stats_table_counts(t, fmt, imaging);
	if (imaging) {
		labels[n] = "imaging";
		headings[n] = "\nImaging heterogeneity:\n\n";
		parts[n++] = stats_report_imaging_table(imaging, t->by, fmt);
	}
	if (geometry) {
		labels[n] = "geometry";
		headings[n] = "\nDefect geometry:\n\n";
		parts[n++] = stats_report_geometry_table(geometry, t->by, fmt);
	}
	text = g_string_sized_new(8192);
	if (fmt == MIRAD_TABLE_CSV && n > 1) {
		/* One rectangular table that csv readers take in one call. */
		struct mirad_table *all = mirad_table_stack("table",
		    (const struct mirad_table *const *)parts, labels, n);

		rc = mirad_table_append(all, fmt, text, err, errlen);
		mirad_table_free(all);
	} else {
		for (size_t i = 0; i < n && rc == 0; i++) {
			if (i > 0)
				g_string_append(text,
				    fmt == MIRAD_TABLE_MD ? headings[i] : "\n");
			rc = mirad_table_append(
			    parts[i], fmt, text, err, errlen);
		}
	}
	if (rc == 0 && fwrite(text->str, 1, text->len, f) != text->len) {
		snprintf(err, errlen, "%s", strerror(errno));
		rc = -1;
	}
	g_string_free(text, TRUE);
	for (size_t i = 0; i < n; i++)
		mirad_table_free(parts[i]);
	return rc;
}

/* TEXT with the HTML specials escaped. */
static void
html_text(FILE *f, const char *text)
{
	gchar *escaped = g_markup_escape_text(text, -1);

	fputs(escaped, f);
	g_free(escaped);
}

void
stats_table_print_html(
    FILE *f, const struct stats_table *t, const cJSON *imaging)
{
	static const char *const flags[] = {"DV", "DI", "DR", "DB"};

	fputs("<table id=\"counts\">\n<thead><tr><th>", f);
	print_by_title(f, t->by);
	fputs("</th>", f);
	for (size_t c = 0; c < NCOLUMNS; c++)
		if (shown(t, c))
			fprintf(f, "<th>%s%s</th>", columns[c].title,
			    c == DEFECT_COLUMN && t->total.defects_unknown
			        ? "<sup>a</sup>"
			        : "");
	if (imaging)
		for (int k = 0; k < 4; k++)
			fprintf(f, "<th>%s</th>", flags[k]);
	fputs("</tr></thead>\n<tbody>\n", f);
	for (size_t i = 0; i <= t->nrows; i++) {
		const struct stats_count_row *row = row_at(t, i);
		const cJSON *g = NULL, *fl;

		fputs(i == t->nrows ? "<tr class=\"total\"><th>Total</th>"
		                    : "<tr><th>",
		    f);
		if (i < t->nrows) {
			html_text(f, row->name);
			fputs("</th>", f);
		}
		for (size_t c = 0; c < NCOLUMNS; c++) {
			if (!shown(t, c))
				continue;
			if (unknown(row, c))
				fputs("<td>" UNKNOWN_CELL "</td>", f);
			else
				fprintf(f, "<td>%zu</td>", value(row, c));
		}
		if (imaging && i < t->nrows)
			g = imaging_group_named(imaging, t->by, row->name);
		fl = cJSON_GetObjectItemCaseSensitive(g, "flags");
		if (imaging)
			for (int k = 0; k < 4; k++)
				fputs(cJSON_IsTrue(
				          cJSON_GetObjectItemCaseSensitive(
				              fl, flags[k]))
				        ? "<td class=\"flag\">✓</td>"
				        : "<td class=\"flag\"></td>",
				    f);
		fputs("</tr>\n", f);
	}
	fputs("</tbody>\n</table>\n", f);
	if (t->total.defects_unknown)
		fputs("<p class=\"note\"><sup>a</sup> " UNKNOWN_CELL
		      ": " UNKNOWN_NOTE ".</p>\n",
		    f);
}
