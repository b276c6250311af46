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
		switch (mirad_count_column(x->split, x->label)) {
		case MIRAD_COUNT_TRAIN:
			row->train++;
			break;
		case MIRAD_COUNT_TRAIN_ABNORMAL:
			row->train_abnormal++;
			break;
		case MIRAD_COUNT_VAL:
			row->val++;
			break;
		case MIRAD_COUNT_TEST_NORMAL:
			row->test_normal++;
			break;
		case MIRAD_COUNT_TEST_ABNORMAL:
			row->test_abnormal++;
			break;
		}
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

		t->total.train += row->train;
		t->total.train_abnormal += row->train_abnormal;
		t->total.val += row->val;
		t->total.test_normal += row->test_normal;
		t->total.test_abnormal += row->test_abnormal;
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
    {"train", "Train", offsetof(struct stats_count_row, train), false},
    {"train_abnormal", "Train abnormal",
        offsetof(struct stats_count_row, train_abnormal), true},
    {"val", "Val", offsetof(struct stats_count_row, val), true},
    {"test_normal", "Test normal",
        offsetof(struct stats_count_row, test_normal), false},
    {"test_abnormal", "Test abnormal",
        offsetof(struct stats_count_row, test_abnormal), false},
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

void
stats_table_print_md(FILE *f, const struct stats_table *t)
{
	fputs("| ", f);
	print_by_title(f, t->by);
	fputs(" |", f);
	for (size_t c = 0; c < NCOLUMNS; c++)
		if (shown(t, c))
			fprintf(f, " %s |", columns[c].title);
	fputs("\n|---|", f);
	for (size_t c = 0; c < NCOLUMNS; c++)
		if (shown(t, c))
			fputs("---:|", f);
	fputc('\n', f);
	for (size_t i = 0; i <= t->nrows; i++) {
		const struct stats_count_row *row = row_at(t, i);

		fprintf(f, "| %s |", i < t->nrows ? row->name : "**Total**");
		for (size_t c = 0; c < NCOLUMNS; c++) {
			if (!shown(t, c))
				continue;
			if (unknown(row, c))
				fputs(" " UNKNOWN_CELL " |", f);
			else
				fprintf(f, " %zu |", value(row, c));
		}
		fputc('\n', f);
	}
	if (t->total.defects_unknown)
		fputs(
		    "\n" UNKNOWN_CELL " Defect types: " UNKNOWN_NOTE ".\n", f);
}

void
stats_table_print_csv(FILE *f, const struct stats_table *t)
{
	fputs(stats_by_name(t->by), f);
	for (size_t c = 0; c < NCOLUMNS; c++)
		if (shown(t, c))
			fprintf(f, ",%s", columns[c].key);
	fputc('\n', f);
	for (size_t i = 0; i <= t->nrows; i++) {
		const struct stats_count_row *row = row_at(t, i);

		fputs(row->name, f);
		for (size_t c = 0; c < NCOLUMNS; c++) {
			if (!shown(t, c))
				continue;
			if (unknown(row, c))
				fputc(',', f);
			else
				fprintf(f, ",%zu", value(row, c));
		}
		fputc('\n', f);
	}
}

static cJSON *
row_json(const struct stats_table *t, const struct stats_count_row *row,
    bool with_name)
{
	cJSON *o = cJSON_CreateObject();

	if (with_name)
		cJSON_AddStringToObject(o, stats_by_name(t->by), row->name);
	for (size_t c = 0; c < NCOLUMNS; c++) {
		if (!shown(t, c))
			continue;
		if (unknown(row, c))
			cJSON_AddNullToObject(o, columns[c].key);
		else
			cJSON_AddNumberToObject(
			    o, columns[c].key, (double)value(row, c));
	}
	return o;
}

void
stats_table_print_json(FILE *f, const struct stats_table *t,
    const cJSON *imaging, const cJSON *geometry)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *groups = cJSON_AddArrayToObject(
	    root, t->by == STATS_BY_CATEGORY ? "categories" : "groups");
	char *text;

	for (size_t i = 0; i < t->nrows; i++)
		cJSON_AddItemToArray(groups, row_json(t, &t->rows[i], true));
	cJSON_AddItemToObject(root, "totals", row_json(t, &t->total, false));
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

void
stats_table_print_tex(
    FILE *f, const struct stats_table *t, const cJSON *imaging)
{
	static const char *const flags[] = {"DV", "DI", "DR", "DB"};

	fputs("\\begin{tabular}{l", f);
	for (size_t c = 0; c < NCOLUMNS; c++)
		if (shown(t, c))
			fputc('r', f);
	if (imaging)
		fputs("cccc", f);
	fputs("}\n\\hline\n", f);
	print_by_title(f, t->by);
	for (size_t c = 0; c < NCOLUMNS; c++)
		if (shown(t, c))
			fprintf(f, " & %s%s", columns[c].title,
			    c == DEFECT_COLUMN && t->total.defects_unknown
			        ? "\\textsuperscript{a}"
			        : "");
	if (imaging)
		for (int k = 0; k < 4; k++)
			fprintf(f, " & %s", flags[k]);
	fputs(" \\\\\n\\hline\n", f);
	for (size_t i = 0; i <= t->nrows; i++) {
		const struct stats_count_row *row = row_at(t, i);
		const cJSON *g = NULL, *fl;

		if (i == t->nrows)
			fputs("\\hline\n\\textbf{Total}", f);
		else
			mirad_print_category_name(f, row->name, true);
		for (size_t c = 0; c < NCOLUMNS; c++) {
			if (!shown(t, c))
				continue;
			if (unknown(row, c))
				fputs(" & --", f);
			else
				fprintf(f, " & %zu", value(row, c));
		}
		if (imaging && i < t->nrows)
			g = imaging_group_named(imaging, t->by, row->name);
		fl = cJSON_GetObjectItemCaseSensitive(g, "flags");
		if (imaging)
			for (int k = 0; k < 4; k++)
				fputs(cJSON_IsTrue(
				          cJSON_GetObjectItemCaseSensitive(
				              fl, flags[k]))
				        ? " & \\checkmark"
				        : " & ",
				    f);
		fputs(" \\\\\n", f);
	}
	fputs("\\hline\n", f);
	if (t->total.defects_unknown) {
		size_t ncols = 1 + (imaging ? 4 : 0);

		for (size_t c = 0; c < NCOLUMNS; c++)
			ncols += shown(t, c);
		fprintf(f,
		    "\\multicolumn{%zu}{l}{\\footnotesize "
		    "\\textsuperscript{a}--: %s.} \\\\\n",
		    ncols,
		    "the layout pools the anomalies of a category in one "
		    "folder, so it holds no defect types");
	}
	fputs("\\end{tabular}\n", f);
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
