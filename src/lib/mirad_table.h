/* SPDX-License-Identifier: MIT */
/*
 * Result tables of mirad-stats and mirad-eval: columns (a name, an
 * alignment, numeric or text) and rows of cells, written as Markdown, CSV,
 * JSON or LaTeX with each format's specials escaped:
 *
 * - md: a pipe table.  In a cell, '|' becomes "\|" (and a backslash just
 *   before a '|' becomes "\\", so that it stays a backslash); a line break
 *   (LF, CR or CRLF) becomes "<br>", which GitHub, GitLab and pandoc show as
 *   a break inside the cell.  Other Markdown punctuation is left as is, so
 *   that names such as building_block read as written.  The note, when
 *   set, follows the table after a blank line.
 * - csv: RFC 4180: a field holding ',', '"', CR or LF is quoted, its '"'
 *   doubled; LF row ends.  The note is not written.
 * - json: an array of one object per row (see mirad_table_json_row()),
 *   through cJSON.
 * - tex: a tabular (or, when wide, a tabular* over \textwidth) with \hline
 *   rules; '\' becomes \textbackslash{}, '~' \textasciitilde{}, '^'
 *   \textasciicircum{}, '<' \textless{}, '>' \textgreater{}, '|'
 *   \textbar{}, & % $ # _ { } are preceded by '\', and a line break becomes
 *   a space.  The note is a \multicolumn row under the last rule.
 *
 * Markup cells, titles and the note are written as given in md and tex (the
 * caller escapes what it puts in them with mirad_table_escape()).  UTF-8
 * passes through unchanged.
 *
 * The writers return errors and never print or exit.
 */
#ifndef MIRAD_TABLE_H
#define MIRAD_TABLE_H

#include "mirad_platform.h"

#include <cjson/cJSON.h>
#include <glib.h>
#include <stdio.h>

enum mirad_table_format {
	MIRAD_TABLE_MD,
	MIRAD_TABLE_CSV,
	MIRAD_TABLE_JSON,
	MIRAD_TABLE_TEX
};

enum mirad_table_align {
	MIRAD_TABLE_LEFT,
	MIRAD_TABLE_RIGHT,
	MIRAD_TABLE_CENTER
};

/* Column flags. */
/* The cells are numbers: in JSON a text cell is written as the number it
 * spells (its exact text), or null when it is not a JSON number. */
#define MIRAD_TABLE_NUMERIC 1u
/* The title is markup: written as given in md and tex. */
#define MIRAD_TABLE_TITLE_MARKUP 2u

struct mirad_table;

/* A new empty table; free with mirad_table_free(). */
struct mirad_table *mirad_table_new(void);
void mirad_table_free(struct mirad_table *t);

/* Append a column (before the first row); returns its index.  NAME is
 * copied. */
size_t mirad_table_add_column(struct mirad_table *t, const char *name,
    enum mirad_table_align align, unsigned flags);
/* In JSON, the cells of column COL go into the object GROUP (copied) of
 * their row, made where the first column of the group stands; a row whose
 * cells of the group are all absent has no such object. */
void mirad_table_set_group(
    struct mirad_table *t, size_t col, const char *group);
/* tex: a tabular* as wide as the text, the columns spread out. */
void mirad_table_set_wide(struct mirad_table *t, bool wide);
/* The note under the table (md, tex), markup; NULL for none.  Copied. */
void mirad_table_set_note(struct mirad_table *t, const char *markup);

/* Start a new row; the cells below fill it from the left.  With RULE, tex
 * draws a rule above it. */
void mirad_table_add_row(struct mirad_table *t, bool rule);
/* A text cell (JSON: a string; in a numeric column, see above). */
void mirad_table_add_text(struct mirad_table *t, const char *text);
void mirad_table_add_textf(struct mirad_table *t, const char *fmt, ...)
    MIRAD_PRINTF(2, 3);
/* A cell written as given in md and tex (already escaped for the format
 * the table is made for); a string in CSV and JSON. */
void mirad_table_add_markup(struct mirad_table *t, const char *markup);
/* A number: TEXT (may be NULL: empty) in md, csv and tex; in JSON the
 * value as cJSON prints it, null when not finite. */
void mirad_table_add_number(
    struct mirad_table *t, double value, const char *text);
/* No value: TEXT (may be NULL: empty) in md, csv and tex, null in JSON. */
void mirad_table_add_null(struct mirad_table *t, const char *text);
/* Nothing: an empty cell in md, csv and tex, left out of the JSON object. */
void mirad_table_add_absent(struct mirad_table *t);

size_t mirad_table_columns(const struct mirad_table *t);
size_t mirad_table_rows(const struct mirad_table *t);

/*
 * The tables PARTS[0..N) as one: a first column KEY holding each row's
 * LABELS[i], then every column of the parts, those of one name merged (the
 * first of them gives the alignment and flags), in the order they first
 * appear.  A row has absent cells under the columns of the other parts.
 * Rules and notes are dropped.  Returns a new table (mirad_table_free()).
 */
struct mirad_table *mirad_table_stack(const char *key,
    const struct mirad_table *const *parts, const char *const *labels,
    size_t n);

/* Append TEXT to OUT escaped for a cell of FMT (csv: quoted when needed;
 * json: as is). */
void mirad_table_escape(
    GString *out, enum mirad_table_format fmt, const char *text);

/*
 * Append T in FMT to OUT.  Returns 0, or -1 with a reason in ERR when a row
 * has more or fewer cells than the table has columns (nothing appended).
 */
int mirad_table_append(const struct mirad_table *t, enum mirad_table_format fmt,
    GString *out, char *err, size_t errlen);
/* The same, written to OUT; -1 with a reason in ERR also on a write
 * error. */
int mirad_table_write(const struct mirad_table *t, enum mirad_table_format fmt,
    FILE *out, char *err, size_t errlen);

/*
 * Row ROW as a JSON object: each column's name and cell, in column order
 * (grouped columns in their group's object); NULL when ROW has the wrong
 * number of cells.  mirad_table_json_rows(): rows FIRST to FIRST+COUNT-1
 * as an array (NULL as above).  Caller cJSON_Delete()s.
 */
cJSON *mirad_table_json_row(const struct mirad_table *t, size_t row);
cJSON *mirad_table_json_rows(
    const struct mirad_table *t, size_t first, size_t count);

/* NAME as a heading for people: "building_block" -> "Building block" ('_'
 * and '-' become spaces, a first ASCII letter upper case).  Caller
 * g_free()s. */
char *mirad_table_display_name(const char *name);

#endif
