/* SPDX-License-Identifier: MIT */
/*
 * The table writers.  Each format's escaping is described in
 * mirad_table.h.
 */
#include "mirad_platform.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "mirad_csv.h"
#include "mirad_table.h"

enum cell_kind {
	CELL_TEXT,
	CELL_MARKUP,
	CELL_NUMBER,
	CELL_NULL,
	CELL_ABSENT
};

struct cell {
	enum cell_kind kind;
	char *text; /* owned; NULL: empty */
	double value;
};

struct column {
	char *name;  /* owned */
	char *group; /* owned; NULL: none */
	enum mirad_table_align align;
	unsigned flags;
};

struct row {
	GArray *cells; /* of struct cell */
	bool rule;
};

struct mirad_table {
	GArray *columns; /* of struct column */
	GArray *rows;    /* of struct row */
	char *note;      /* owned; NULL: none */
	bool wide;
};

static void
clear_cell(gpointer p)
{
	g_free(((struct cell *)p)->text);
}

static void
clear_column(gpointer p)
{
	struct column *c = p;

	g_free(c->name);
	g_free(c->group);
}

static void
clear_row(gpointer p)
{
	g_array_free(((struct row *)p)->cells, TRUE);
}

struct mirad_table *
mirad_table_new(void)
{
	struct mirad_table *t = g_new0(struct mirad_table, 1);

	t->columns = g_array_new(FALSE, TRUE, sizeof(struct column));
	g_array_set_clear_func(t->columns, clear_column);
	t->rows = g_array_new(FALSE, TRUE, sizeof(struct row));
	g_array_set_clear_func(t->rows, clear_row);
	return t;
}

void
mirad_table_free(struct mirad_table *t)
{
	if (t == NULL)
		return;
	g_array_free(t->columns, TRUE);
	g_array_free(t->rows, TRUE);
	g_free(t->note);
	g_free(t);
}

static const struct column *
column_at(const struct mirad_table *t, size_t i)
{
	return &g_array_index(t->columns, struct column, i);
}

static const struct row *
row_at(const struct mirad_table *t, size_t i)
{
	return &g_array_index(t->rows, struct row, i);
}

static const struct cell *
cell_at(const struct row *r, size_t i)
{
	return &g_array_index(r->cells, struct cell, i);
}

size_t
mirad_table_add_column(struct mirad_table *t, const char *name,
    enum mirad_table_align align, unsigned flags)
{
	struct column c = {g_strdup(name), NULL, align, flags};

	g_array_append_val(t->columns, c);
	return t->columns->len - 1;
}

void
mirad_table_set_group(struct mirad_table *t, size_t col, const char *group)
{
	struct column *c;

	if (col >= t->columns->len)
		return;
	c = &g_array_index(t->columns, struct column, col);
	g_free(c->group);
	c->group = g_strdup(group);
}

void
mirad_table_set_wide(struct mirad_table *t, bool wide)
{
	t->wide = wide;
}

void
mirad_table_set_note(struct mirad_table *t, const char *markup)
{
	g_free(t->note);
	t->note = g_strdup(markup);
}

void
mirad_table_add_row(struct mirad_table *t, bool rule)
{
	struct row r = {g_array_new(FALSE, TRUE, sizeof(struct cell)), rule};

	g_array_set_clear_func(r.cells, clear_cell);
	g_array_append_val(t->rows, r);
}

/* A cell before any row starts one, so that the count check reports it. */
static void
add_cell(struct mirad_table *t, enum cell_kind kind, char *text, double value)
{
	struct cell c = {kind, text, value};

	if (t->rows->len == 0)
		mirad_table_add_row(t, false);
	g_array_append_val(
	    g_array_index(t->rows, struct row, t->rows->len - 1).cells, c);
}

void
mirad_table_add_text(struct mirad_table *t, const char *text)
{
	add_cell(t, CELL_TEXT, g_strdup(text), 0);
}

void
mirad_table_add_textf(struct mirad_table *t, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	add_cell(t, CELL_TEXT, g_strdup_vprintf(fmt, ap), 0);
	va_end(ap);
}

void
mirad_table_add_markup(struct mirad_table *t, const char *markup)
{
	add_cell(t, CELL_MARKUP, g_strdup(markup), 0);
}

void
mirad_table_add_number(struct mirad_table *t, double value, const char *text)
{
	add_cell(t, CELL_NUMBER, g_strdup(text), value);
}

void
mirad_table_add_null(struct mirad_table *t, const char *text)
{
	add_cell(t, CELL_NULL, g_strdup(text), 0);
}

void
mirad_table_add_absent(struct mirad_table *t)
{
	add_cell(t, CELL_ABSENT, NULL, 0);
}

size_t
mirad_table_columns(const struct mirad_table *t)
{
	return t->columns->len;
}

size_t
mirad_table_rows(const struct mirad_table *t)
{
	return t->rows->len;
}

/* The column of COLUMNS named NAME, after the first; -1 if none. */
static int
column_named(const GArray *columns, const char *name)
{
	for (guint i = 1; i < columns->len; i++)
		if (strcmp(g_array_index(columns, struct column, i).name,
		        name) == 0)
			return (int)i;
	return -1;
}

static void
copy_cell(struct mirad_table *t, const struct cell *c)
{
	add_cell(t, c->kind, g_strdup(c->text), c->value);
}

struct mirad_table *
mirad_table_stack(const char *key, const struct mirad_table *const *parts,
    const char *const *labels, size_t n)
{
	struct mirad_table *s = mirad_table_new();
	int **where = g_new0(int *, n ? n : 1);

	mirad_table_add_column(s, key, MIRAD_TABLE_LEFT, 0);
	/* WHERE[p][c]: the column of S that column C of part P goes to. */
	for (size_t p = 0; p < n; p++) {
		where[p] = g_new0(int, parts[p]->columns->len + 1);
		for (guint c = 0; c < parts[p]->columns->len; c++) {
			const struct column *col = column_at(parts[p], c);
			int at = column_named(s->columns, col->name);

			if (at < 0) {
				at = (int)mirad_table_add_column(
				    s, col->name, col->align, col->flags);
				mirad_table_set_group(
				    s, (size_t)at, col->group);
			}
			where[p][c] = at;
		}
	}
	for (size_t p = 0; p < n; p++)
		for (guint r = 0; r < parts[p]->rows->len; r++) {
			const struct row *row = row_at(parts[p], r);

			mirad_table_add_row(s, false);
			mirad_table_add_text(s, labels[p]);
			for (guint c = 1; c < s->columns->len; c++) {
				const struct cell *found = NULL;

				for (guint k = 0; k < parts[p]->columns->len &&
				     k < row->cells->len;
				     k++)
					if (where[p][k] == (int)c)
						found = cell_at(row, k);
				if (found)
					copy_cell(s, found);
				else
					mirad_table_add_absent(s);
			}
		}
	for (size_t p = 0; p < n; p++)
		g_free(where[p]);
	g_free(where);
	return s;
}

/* ---- escaping ---------------------------------------------------------- */

/* The length of the line break at P (CRLF, LF or CR), 0 if none. */
static size_t
line_break(const char *p)
{
	if (p[0] == '\r')
		return p[1] == '\n' ? 2 : 1;
	return p[0] == '\n';
}

static void
escape_md(GString *out, const char *text)
{
	for (const char *p = text; *p;) {
		size_t br = line_break(p);

		if (br) {
			g_string_append(out, "<br>");
			p += br;
			continue;
		}
		if (*p == '|' || (*p == '\\' && p[1] == '|'))
			g_string_append_c(out, '\\');
		g_string_append_c(out, *p++);
	}
}

static void
escape_tex(GString *out, const char *text)
{
	for (const char *p = text; *p;) {
		size_t br = line_break(p);

		if (br) {
			g_string_append_c(out, ' ');
			p += br;
			continue;
		}
		switch (*p) {
		case '\\':
			g_string_append(out, "\\textbackslash{}");
			break;
		case '~':
			g_string_append(out, "\\textasciitilde{}");
			break;
		case '^':
			g_string_append(out, "\\textasciicircum{}");
			break;
		case '<':
			g_string_append(out, "\\textless{}");
			break;
		case '>':
			g_string_append(out, "\\textgreater{}");
			break;
		case '|':
			g_string_append(out, "\\textbar{}");
			break;
		case '&':
		case '%':
		case '$':
		case '#':
		case '_':
		case '{':
		case '}':
			g_string_append_c(out, '\\');
			g_string_append_c(out, *p);
			break;
		default:
			g_string_append_c(out, *p);
		}
		p++;
	}
}

void
mirad_table_escape(GString *out, enum mirad_table_format fmt, const char *text)
{
	if (text == NULL)
		return;
	switch (fmt) {
	case MIRAD_TABLE_MD:
		escape_md(out, text);
		break;
	case MIRAD_TABLE_CSV:
		mirad_csv_append_field(out, text);
		break;
	case MIRAD_TABLE_TEX:
		escape_tex(out, text);
		break;
	case MIRAD_TABLE_JSON:
		g_string_append(out, text);
		break;
	}
}

/* ---- writers ----------------------------------------------------------- */

static int
check_rows(const struct mirad_table *t, char *err, size_t errlen)
{
	for (guint r = 0; r < t->rows->len; r++) {
		guint n = row_at(t, r)->cells->len;

		if (n != t->columns->len) {
			snprintf(err, errlen,
			    "table row %u has %u cells for %u columns", r + 1,
			    n, t->columns->len);
			return -1;
		}
	}
	return 0;
}

/* Cell C in FMT: markup as is in md and tex, the rest escaped. */
static void
append_cell(GString *out, enum mirad_table_format fmt, const struct cell *c)
{
	if (c->kind == CELL_MARKUP && fmt != MIRAD_TABLE_CSV)
		g_string_append(out, c->text ? c->text : "");
	else
		mirad_table_escape(out, fmt, c->text ? c->text : "");
}

static void
append_title(GString *out, enum mirad_table_format fmt, const struct column *c)
{
	if ((c->flags & MIRAD_TABLE_TITLE_MARKUP) && fmt != MIRAD_TABLE_CSV)
		g_string_append(out, c->name);
	else
		mirad_table_escape(out, fmt, c->name);
}

static void
append_md(const struct mirad_table *t, GString *out)
{
	g_string_append_c(out, '|');
	for (guint c = 0; c < t->columns->len; c++) {
		g_string_append_c(out, ' ');
		append_title(out, MIRAD_TABLE_MD, column_at(t, c));
		g_string_append(out, " |");
	}
	g_string_append(out, "\n|");
	for (guint c = 0; c < t->columns->len; c++)
		switch (column_at(t, c)->align) {
		case MIRAD_TABLE_LEFT:
			g_string_append(out, "---|");
			break;
		case MIRAD_TABLE_RIGHT:
			g_string_append(out, "---:|");
			break;
		case MIRAD_TABLE_CENTER:
			g_string_append(out, ":-:|");
			break;
		}
	g_string_append_c(out, '\n');
	for (guint r = 0; r < t->rows->len; r++) {
		const struct row *row = row_at(t, r);

		g_string_append_c(out, '|');
		for (guint c = 0; c < row->cells->len; c++) {
			g_string_append_c(out, ' ');
			append_cell(out, MIRAD_TABLE_MD, cell_at(row, c));
			g_string_append(out, " |");
		}
		g_string_append_c(out, '\n');
	}
	if (t->note)
		g_string_append_printf(out, "\n%s\n", t->note);
}

static void
append_csv(const struct mirad_table *t, GString *out)
{
	for (guint c = 0; c < t->columns->len; c++) {
		if (c > 0)
			g_string_append_c(out, ',');
		append_title(out, MIRAD_TABLE_CSV, column_at(t, c));
	}
	g_string_append_c(out, '\n');
	for (guint r = 0; r < t->rows->len; r++) {
		const struct row *row = row_at(t, r);

		for (guint c = 0; c < row->cells->len; c++) {
			if (c > 0)
				g_string_append_c(out, ',');
			append_cell(out, MIRAD_TABLE_CSV, cell_at(row, c));
		}
		g_string_append_c(out, '\n');
	}
}

static void
append_tex(const struct mirad_table *t, GString *out)
{
	g_string_append(out,
	    t->wide ? "\\begin{tabular*}{\\textwidth}{@{"
	              "\\extracolsep{\\fill}}"
	            : "\\begin{tabular}{");
	for (guint c = 0; c < t->columns->len; c++)
		g_string_append_c(out,
		    "lrc"[column_at(t, c)->align == MIRAD_TABLE_LEFT      ? 0
		            : column_at(t, c)->align == MIRAD_TABLE_RIGHT ? 1
		                                                          : 2]);
	g_string_append(out, "}\n\\hline\n");
	for (guint c = 0; c < t->columns->len; c++) {
		if (c > 0)
			g_string_append(out, " & ");
		append_title(out, MIRAD_TABLE_TEX, column_at(t, c));
	}
	g_string_append(out, " \\\\\n\\hline\n");
	for (guint r = 0; r < t->rows->len; r++) {
		const struct row *row = row_at(t, r);

		if (row->rule)
			g_string_append(out, "\\hline\n");
		for (guint c = 0; c < row->cells->len; c++) {
			if (c > 0)
				g_string_append(out, " & ");
			append_cell(out, MIRAD_TABLE_TEX, cell_at(row, c));
		}
		g_string_append(out, " \\\\\n");
	}
	g_string_append(out, "\\hline\n");
	if (t->note)
		g_string_append_printf(out,
		    "\\multicolumn{%u}{l}{\\footnotesize %s} \\\\\n",
		    t->columns->len, t->note);
	g_string_append(
	    out, t->wide ? "\\end{tabular*}\n" : "\\end{tabular}\n");
}

/* Is S a JSON number (RFC 8259: -?int frac? exp?)? */
static bool
json_number_text(const char *s)
{
	const char *p = s;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		while (*p >= '0' && *p <= '9')
			p++;
	else
		return false;
	if (*p == '.') {
		if (*++p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (*p < '0' || *p > '9')
			return false;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	return *p == '\0';
}

static cJSON *
cell_json(const struct column *col, const struct cell *c)
{
	const char *text = c->text ? c->text : "";

	switch (c->kind) {
	case CELL_NUMBER:
		return isfinite(c->value) ? cJSON_CreateNumber(c->value)
		                          : cJSON_CreateNull();
	case CELL_NULL:
		return cJSON_CreateNull();
	case CELL_TEXT:
		if (col->flags & MIRAD_TABLE_NUMERIC)
			return json_number_text(text) ? cJSON_CreateRaw(text)
			                              : cJSON_CreateNull();
		return cJSON_CreateString(text);
	case CELL_MARKUP:
		return cJSON_CreateString(text);
	case CELL_ABSENT:
		break;
	}
	return NULL;
}

cJSON *
mirad_table_json_row(const struct mirad_table *t, size_t r)
{
	const struct row *row;
	cJSON *o;

	if (r >= t->rows->len)
		return NULL;
	row = row_at(t, (guint)r);
	if (row->cells->len != t->columns->len)
		return NULL;
	o = cJSON_CreateObject();
	if (o == NULL)
		return NULL;
	for (guint c = 0; c < t->columns->len; c++) {
		const struct column *col = column_at(t, c);
		const struct cell *cell = cell_at(row, c);
		cJSON *into = o, *v;

		if (cell->kind == CELL_ABSENT)
			continue;
		if (col->group) {
			into = cJSON_GetObjectItemCaseSensitive(o, col->group);
			if (into == NULL)
				into = cJSON_AddObjectToObject(o, col->group);
		}
		v = cell_json(col, cell);
		if (into == NULL || v == NULL ||
		    !cJSON_AddItemToObject(into, col->name, v)) {
			cJSON_Delete(v);
			cJSON_Delete(o);
			return NULL;
		}
	}
	return o;
}

cJSON *
mirad_table_json_rows(const struct mirad_table *t, size_t first, size_t count)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t r = first; a != NULL && r < first + count; r++) {
		cJSON *o = mirad_table_json_row(t, r);

		if (o == NULL || !cJSON_AddItemToArray(a, o)) {
			cJSON_Delete(o);
			cJSON_Delete(a);
			return NULL;
		}
	}
	return a;
}

static int
append_json(const struct mirad_table *t, GString *out, char *err, size_t errlen)
{
	cJSON *rows = mirad_table_json_rows(t, 0, t->rows->len);
	char *text = rows ? cJSON_Print(rows) : NULL;

	cJSON_Delete(rows);
	if (text == NULL) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	g_string_append(out, text);
	g_string_append_c(out, '\n');
	cJSON_free(text);
	return 0;
}

int
mirad_table_append(const struct mirad_table *t, enum mirad_table_format fmt,
    GString *out, char *err, size_t errlen)
{
	if (check_rows(t, err, errlen) != 0)
		return -1;
	switch (fmt) {
	case MIRAD_TABLE_MD:
		append_md(t, out);
		break;
	case MIRAD_TABLE_CSV:
		append_csv(t, out);
		break;
	case MIRAD_TABLE_JSON:
		return append_json(t, out, err, errlen);
	case MIRAD_TABLE_TEX:
		append_tex(t, out);
		break;
	}
	return 0;
}

int
mirad_table_write(const struct mirad_table *t, enum mirad_table_format fmt,
    FILE *out, char *err, size_t errlen)
{
	GString *text = g_string_sized_new(4096);
	int rc = mirad_table_append(t, fmt, text, err, errlen);

	if (rc == 0 && fwrite(text->str, 1, text->len, out) != text->len) {
		snprintf(err, errlen, "%s", strerror(errno));
		rc = -1;
	}
	g_string_free(text, TRUE);
	return rc;
}

char *
mirad_table_display_name(const char *name)
{
	char *s = g_strdup(name);

	for (char *p = s; *p; p++)
		if (*p == '_' || *p == '-')
			*p = ' ';
	if (s[0] >= 'a' && s[0] <= 'z')
		s[0] = (char)(s[0] - 32);
	return s;
}
