/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the table writers: the layout of each format, and names
 * with every format's specials (comma, quote, pipe, backslash, LaTeX
 * specials, line breaks, empty, UTF-8) escaped.
 */
#include "mirad_platform.h"

#include <errno.h>
#include <math.h>

#include "test_util.h"

#include "mirad_table.h"

/* The hostile names, one per row. */
static const char *const hostile[] = {"x,y\"z", "a|b", "\\", "&%$#_{}~^",
    "two\nlines", "", "Größe €", "c\\|d", "cr\r\nlf"};
#define NHOSTILE (sizeof hostile / sizeof *hostile)

/* A table: name (text), count (numeric), one row per hostile name. */
static struct mirad_table *
hostile_table(void)
{
	struct mirad_table *t = mirad_table_new();

	mirad_table_add_column(t, "name", MIRAD_TABLE_LEFT, 0);
	mirad_table_add_column(
	    t, "n|count", MIRAD_TABLE_RIGHT, MIRAD_TABLE_NUMERIC);
	for (size_t i = 0; i < NHOSTILE; i++) {
		mirad_table_add_row(t, false);
		mirad_table_add_text(t, hostile[i]);
		mirad_table_add_textf(t, "%zu", i);
	}
	return t;
}

static char *
format(const struct mirad_table *t, enum mirad_table_format fmt)
{
	GString *out = g_string_new(NULL);
	char err[256];

	assert_int_equal(mirad_table_append(t, fmt, out, err, sizeof err), 0);
	return g_string_free(out, FALSE);
}

static void
test_markdown_escapes_pipes_and_breaks(void **state)
{
	struct mirad_table *t = hostile_table();
	char *text = format(t, MIRAD_TABLE_MD);

	(void)state;
	assert_string_equal(text,
	    "| name | n\\|count |\n"
	    "|---|---:|\n"
	    "| x,y\"z | 0 |\n"
	    "| a\\|b | 1 |\n"
	    "| \\ | 2 |\n"
	    "| &%$#_{}~^ | 3 |\n"
	    "| two<br>lines | 4 |\n"
	    "|  | 5 |\n"
	    "| Größe € | 6 |\n"
	    "| c\\\\\\|d | 7 |\n"
	    "| cr<br>lf | 8 |\n");
	g_free(text);
	mirad_table_free(t);
}

static void
test_csv_quotes_rfc4180(void **state)
{
	struct mirad_table *t = hostile_table();
	char *text = format(t, MIRAD_TABLE_CSV);

	(void)state;
	assert_string_equal(text,
	    "name,n|count\n"
	    "\"x,y\"\"z\",0\n"
	    "a|b,1\n"
	    "\\,2\n"
	    "&%$#_{}~^,3\n"
	    "\"two\nlines\",4\n"
	    ",5\n"
	    "Größe €,6\n"
	    "c\\|d,7\n"
	    "\"cr\r\nlf\",8\n");
	g_free(text);
	mirad_table_free(t);
}

static void
test_tex_escapes_specials(void **state)
{
	struct mirad_table *t = hostile_table();
	char *text = format(t, MIRAD_TABLE_TEX);

	(void)state;
	assert_string_equal(text,
	    "\\begin{tabular}{lr}\n"
	    "\\hline\n"
	    "name & n\\textbar{}count \\\\\n"
	    "\\hline\n"
	    "x,y\"z & 0 \\\\\n"
	    "a\\textbar{}b & 1 \\\\\n"
	    "\\textbackslash{} & 2 \\\\\n"
	    "\\&\\%\\$\\#\\_\\{\\}\\textasciitilde{}\\textasciicircum{} & 3 "
	    "\\\\\n"
	    "two lines & 4 \\\\\n"
	    " & 5 \\\\\n"
	    "Größe € & 6 \\\\\n"
	    "c\\textbackslash{}\\textbar{}d & 7 \\\\\n"
	    "cr lf & 8 \\\\\n"
	    "\\hline\n"
	    "\\end{tabular}\n");
	g_free(text);
	mirad_table_free(t);
}

static void
test_json_keeps_names_and_exact_numbers(void **state)
{
	struct mirad_table *t = hostile_table();
	char *text;
	cJSON *doc;

	(void)state;
	mirad_table_add_row(t, false);
	mirad_table_add_text(t, "exact");
	mirad_table_add_text(t, "0.009114583333333334");
	mirad_table_add_row(t, false);
	mirad_table_add_text(t, "not a number");
	mirad_table_add_text(t, "n/a");
	text = format(t, MIRAD_TABLE_JSON);
	/* The number's own text, not cJSON's %.15g or %.17g rendering. */
	assert_non_null(strstr(text, "\"n|count\":\t0.009114583333333334\n"));
	doc = cJSON_Parse(text);
	assert_non_null(doc);
	assert_int_equal(cJSON_GetArraySize(doc), NHOSTILE + 2);
	for (size_t i = 0; i < NHOSTILE; i++) {
		const cJSON *row = cJSON_GetArrayItem(doc, (int)i);
		const cJSON *name = cJSON_GetObjectItem(row, "name");
		const cJSON *n = cJSON_GetObjectItem(row, "n|count");

		assert_true(cJSON_IsString(name));
		assert_string_equal(name->valuestring, hostile[i]);
		assert_true(cJSON_IsNumber(n));
		assert_int_equal(n->valueint, (int)i);
	}
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(
	    cJSON_GetArrayItem(doc, NHOSTILE + 1), "n|count")));
	cJSON_Delete(doc);
	g_free(text);
	mirad_table_free(t);
}

static void
test_json_numbers_nulls_groups(void **state)
{
	struct mirad_table *t = mirad_table_new();
	cJSON *row;
	char *text;

	(void)state;
	mirad_table_add_column(t, "metric", MIRAD_TABLE_LEFT, 0);
	mirad_table_set_group(t,
	    mirad_table_add_column(
	        t, "a", MIRAD_TABLE_RIGHT, MIRAD_TABLE_NUMERIC),
	    "values");
	mirad_table_set_group(t,
	    mirad_table_add_column(
	        t, "b", MIRAD_TABLE_RIGHT, MIRAD_TABLE_NUMERIC),
	    "values");
	mirad_table_add_column(
	    t, "mean", MIRAD_TABLE_RIGHT, MIRAD_TABLE_NUMERIC);
	mirad_table_set_group(t,
	    mirad_table_add_column(
	        t, "a", MIRAD_TABLE_RIGHT, MIRAD_TABLE_NUMERIC),
	    "n");
	mirad_table_add_row(t, false);
	mirad_table_add_text(t, "auroc");
	mirad_table_add_number(t, 0.25, "0.25");
	mirad_table_add_number(t, NAN, "nan");
	mirad_table_add_null(t, "–");
	mirad_table_add_absent(t);
	mirad_table_add_row(t, true);
	mirad_table_add_absent(t);
	mirad_table_add_number(t, 1, "1");
	mirad_table_add_number(t, 2, "2");
	mirad_table_add_number(t, 1.5, "1.5");
	mirad_table_add_number(t, 3, "3");

	row = mirad_table_json_row(t, 0);
	text = cJSON_PrintUnformatted(row);
	assert_string_equal(text,
	    "{\"metric\":\"auroc\",\"values\":{\"a\":0.25,\"b\":null},"
	    "\"mean\":null}");
	cJSON_free(text);
	cJSON_Delete(row);
	row = mirad_table_json_row(t, 1);
	text = cJSON_PrintUnformatted(row);
	assert_string_equal(text,
	    "{\"values\":{\"a\":1,\"b\":2},\"mean\":1.5,\"n\":{\"a\":3}}");
	cJSON_free(text);
	cJSON_Delete(row);
	assert_null(mirad_table_json_row(t, 2));
	/* Text formats show the cells' text; a rule only in LaTeX. */
	text = format(t, MIRAD_TABLE_CSV);
	assert_string_equal(
	    text, "metric,a,b,mean,a\nauroc,0.25,nan,–,\n,1,2,1.5,3\n");
	g_free(text);
	mirad_table_free(t);
}

static void
test_markup_rules_notes_and_wide(void **state)
{
	struct mirad_table *t = mirad_table_new();
	char *text;

	(void)state;
	mirad_table_add_column(t, "Category", MIRAD_TABLE_LEFT, 0);
	mirad_table_add_column(t, "Mean$\\pm$Std", MIRAD_TABLE_RIGHT,
	    MIRAD_TABLE_NUMERIC | MIRAD_TABLE_TITLE_MARKUP);
	mirad_table_add_column(t, "DV", MIRAD_TABLE_CENTER, 0);
	mirad_table_add_row(t, false);
	mirad_table_add_text(t, "a_b");
	mirad_table_add_markup(t, "1.0$\\pm$0.5");
	mirad_table_add_markup(t, "\\checkmark");
	mirad_table_add_row(t, true);
	mirad_table_add_markup(t, "\\textbf{Mean}");
	mirad_table_add_text(t, "n/a");
	mirad_table_add_markup(t, "");
	mirad_table_set_note(t, "n/a: undefined");
	text = format(t, MIRAD_TABLE_TEX);
	assert_string_equal(text,
	    "\\begin{tabular}{lrc}\n"
	    "\\hline\n"
	    "Category & Mean$\\pm$Std & DV \\\\\n"
	    "\\hline\n"
	    "a\\_b & 1.0$\\pm$0.5 & \\checkmark \\\\\n"
	    "\\hline\n"
	    "\\textbf{Mean} & n/a &  \\\\\n"
	    "\\hline\n"
	    "\\multicolumn{3}{l}{\\footnotesize n/a: undefined} \\\\\n"
	    "\\end{tabular}\n");
	g_free(text);
	text = format(t, MIRAD_TABLE_MD);
	assert_string_equal(text,
	    "| Category | Mean$\\pm$Std | DV |\n"
	    "|---|---:|:-:|\n"
	    "| a_b | 1.0$\\pm$0.5 | \\checkmark |\n"
	    "| \\textbf{Mean} | n/a |  |\n"
	    "\n"
	    "n/a: undefined\n");
	g_free(text);
	mirad_table_set_wide(t, true);
	mirad_table_set_note(t, NULL);
	text = format(t, MIRAD_TABLE_TEX);
	assert_true(g_str_has_prefix(text,
	    "\\begin{tabular*}{\\textwidth}{@{\\extracolsep{\\fill}}lrc}\n"));
	assert_true(g_str_has_suffix(text, "\\hline\n\\end{tabular*}\n"));
	g_free(text);
	mirad_table_free(t);
}

static void
test_wrong_cell_count_is_an_error(void **state)
{
	struct mirad_table *t = hostile_table();
	GString *out = g_string_new("kept");
	char err[256] = "";

	(void)state;
	mirad_table_add_row(t, false);
	mirad_table_add_text(t, "short");
	for (int fmt = MIRAD_TABLE_MD; fmt <= MIRAD_TABLE_TEX; fmt++) {
		assert_int_equal(
		    mirad_table_append(
		        t, (enum mirad_table_format)fmt, out, err, sizeof err),
		    -1);
		assert_string_equal(out->str, "kept");
	}
	assert_string_equal(err, "table row 10 has 1 cells for 2 columns");
	assert_null(mirad_table_json_row(t, NHOSTILE));
	g_string_free(out, TRUE);
	mirad_table_free(t);
}

static void
test_write_to_file_and_write_errors(void **state)
{
	struct mirad_table *t = hostile_table();
	char err[256] = "";
	char *want = format(t, MIRAD_TABLE_CSV), got[512];
	FILE *f = tmpfile();
	size_t n;
	FILE *full;

	(void)state;
	assert_non_null(f);
	assert_int_equal(
	    mirad_table_write(t, MIRAD_TABLE_CSV, f, err, sizeof err), 0);
	rewind(f);
	n = fread(got, 1, sizeof got - 1, f);
	got[n] = '\0';
	assert_string_equal(got, want);
	fclose(f);
	full = fopen("/dev/full", "w");
	if (full != NULL) {
		setvbuf(full, NULL, _IONBF, 0);
		assert_int_equal(
		    mirad_table_write(t, MIRAD_TABLE_MD, full, err, sizeof err),
		    -1);
		assert_string_equal(err, strerror(ENOSPC));
		fclose(full);
	}
	g_free(want);
	mirad_table_free(t);
}

static void
test_stack_is_one_rectangular_table(void **state)
{
	struct mirad_table *a = mirad_table_new(), *b = mirad_table_new();
	const struct mirad_table *parts[2] = {a, b};
	const char *labels[2] = {"counts", "imaging"};
	struct mirad_table *s;
	char *text;

	(void)state;
	mirad_table_add_column(a, "category", MIRAD_TABLE_LEFT, 0);
	mirad_table_add_column(a, "train", MIRAD_TABLE_RIGHT, 0);
	mirad_table_add_row(a, false);
	mirad_table_add_text(a, "x,y\"z");
	mirad_table_add_text(a, "3");
	mirad_table_add_row(a, true);
	mirad_table_add_text(a, "total");
	mirad_table_add_text(a, "3");
	mirad_table_add_column(b, "category", MIRAD_TABLE_LEFT, 0);
	mirad_table_add_column(b, "table", MIRAD_TABLE_LEFT, 0);
	mirad_table_add_column(b, "DV", MIRAD_TABLE_CENTER, 0);
	mirad_table_add_row(b, false);
	mirad_table_add_text(b, "x,y\"z");
	mirad_table_add_text(b, "t");
	mirad_table_add_text(b, "1");
	s = mirad_table_stack("table", parts, labels, 2);
	assert_int_equal(mirad_table_columns(s), 5);
	assert_int_equal(mirad_table_rows(s), 3);
	text = format(s, MIRAD_TABLE_CSV);
	assert_string_equal(text,
	    "table,category,train,table,DV\n"
	    "counts,\"x,y\"\"z\",3,,\n"
	    "counts,total,3,,\n"
	    "imaging,\"x,y\"\"z\",,t,1\n");
	g_free(text);
	mirad_table_free(s);
	mirad_table_free(a);
	mirad_table_free(b);
}

static void
test_display_names(void **state)
{
	char *s;

	(void)state;
	s = mirad_table_display_name("building_block");
	assert_string_equal(s, "Building block");
	g_free(s);
	s = mirad_table_display_name("chain-buckle");
	assert_string_equal(s, "Chain buckle");
	g_free(s);
	s = mirad_table_display_name("");
	assert_string_equal(s, "");
	g_free(s);
	s = mirad_table_display_name("über");
	assert_string_equal(s, "über");
	g_free(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_markdown_escapes_pipes_and_breaks),
	    cmocka_unit_test(test_csv_quotes_rfc4180),
	    cmocka_unit_test(test_tex_escapes_specials),
	    cmocka_unit_test(test_json_keeps_names_and_exact_numbers),
	    cmocka_unit_test(test_json_numbers_nulls_groups),
	    cmocka_unit_test(test_markup_rules_notes_and_wide),
	    cmocka_unit_test(test_wrong_cell_count_is_an_error),
	    cmocka_unit_test(test_write_to_file_and_write_errors),
	    cmocka_unit_test(test_stack_is_one_rectangular_table),
	    cmocka_unit_test(test_display_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
