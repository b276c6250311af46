/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "mirad_csv.h"
#include "mirad_err.h"

struct mirad_csv {
	FILE *stream;
	bool owns;
	char *name;
	unsigned long line, row_line;
	bool crlf;
	char error[512];
	GString *field; /* the field being read */
};

struct mirad_csv *
mirad_csv_from_stream(FILE *stream, const char *name)
{
	struct mirad_csv *c = mirad_xcalloc(1, sizeof *c);

	c->stream = stream;
	c->name = mirad_xstrdup(name);
	c->line = 1;
	c->field = g_string_new(NULL);
	return c;
}

struct mirad_csv *
mirad_csv_open(const char *path)
{
	struct mirad_csv *c;
	FILE *f;

	if (strcmp(path, "-") == 0)
		return mirad_csv_from_stream(stdin, "<stdin>");
	f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	c = mirad_csv_from_stream(f, path);
	c->owns = true;
	return c;
}

static void
end_field(struct mirad_csv *c, struct mirad_strlist *fields)
{
	mirad_strlist_add(fields, c->field->str);
	g_string_truncate(c->field, 0);
}

int
mirad_csv_next(struct mirad_csv *c, struct mirad_strlist *fields)
{
	bool quoted = false, was_quoted = false, any = false;
	int ch;

	mirad_strlist_free(fields);
	g_string_truncate(c->field, 0);
	c->row_line = c->line;
	for (;;) {
		ch = getc(c->stream);
		if (ch == EOF) {
			if (ferror(c->stream)) {
				snprintf(c->error, sizeof c->error,
				    "%s:%lu: %s", c->name, c->line,
				    strerror(errno));
				return -1;
			}
			if (quoted) {
				snprintf(c->error, sizeof c->error,
				    "%s:%lu: unterminated quoted field",
				    c->name, c->row_line);
				return -1;
			}
			if (!any)
				return 0;
			end_field(c, fields);
			return 1;
		}
		any = true;
		if (quoted) {
			if (ch == '"') {
				int next = getc(c->stream);

				if (next == '"') {
					g_string_append_c(c->field, '"');
					continue;
				}
				quoted = false;
				if (next != EOF)
					ungetc(next, c->stream);
				continue;
			}
			if (ch == '\n')
				c->line++;
			g_string_append_c(c->field, (char)ch);
			continue;
		}
		if (ch == '"' && c->field->len == 0 && !was_quoted) {
			quoted = was_quoted = true;
			continue;
		}
		if (ch == ',') {
			end_field(c, fields);
			was_quoted = false;
			continue;
		}
		if (ch == '\r') {
			int next = getc(c->stream);

			if (next == '\n') {
				c->crlf = true;
				ch = '\n';
			} else {
				if (next != EOF)
					ungetc(next, c->stream);
				g_string_append_c(c->field, '\r');
				continue;
			}
		}
		if (ch == '\n') {
			c->line++;
			end_field(c, fields);
			return 1;
		}
		g_string_append_c(c->field, (char)ch);
	}
}

unsigned long
mirad_csv_line(const struct mirad_csv *c)
{
	return c->row_line;
}

const char *
mirad_csv_error(const struct mirad_csv *c)
{
	return c->error;
}

bool
mirad_csv_crlf(const struct mirad_csv *c)
{
	return c->crlf;
}

void
mirad_csv_close(struct mirad_csv *c)
{
	if (c == NULL)
		return;
	if (c->owns)
		fclose(c->stream);
	free(c->name);
	g_string_free(c->field, TRUE);
	free(c);
}

int
mirad_csv_column(const struct mirad_strlist *header, const char *name)
{
	for (size_t i = 0; i < header->count; i++)
		if (strcmp(header->items[i], name) == 0)
			return (int)i;
	return -1;
}

void
mirad_csv_append_field(GString *out, const char *field)
{
	const char *f = field ? field : "";

	if (strpbrk(f, ",\"\r\n") == NULL) {
		g_string_append(out, f);
		return;
	}
	g_string_append_c(out, '"');
	for (const char *p = f; *p; p++) {
		if (*p == '"')
			g_string_append_c(out, '"');
		g_string_append_c(out, *p);
	}
	g_string_append_c(out, '"');
}

int
mirad_csv_write_row(FILE *out, const char *const *fields, size_t n, bool crlf)
{
	GString *row = g_string_sized_new(128);
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			g_string_append_c(row, ',');
		mirad_csv_append_field(row, fields[i]);
	}
	g_string_append(row, crlf ? "\r\n" : "\n");
	if (fwrite(row->str, 1, row->len, out) != row->len)
		rc = -1;
	g_string_free(row, TRUE);
	return rc;
}

GHashTable *
mirad_csv_read_map(const char *file, const char *key, const char *value,
    char *err, size_t errlen)
{
	struct mirad_strlist row = {0};
	struct mirad_csv *c = mirad_csv_open(file);
	GHashTable *map;
	int kcol, vcol, rc;

	if (c == NULL) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return NULL;
	}
	rc = mirad_csv_next(c, &row);
	if (rc != 1) {
		if (rc < 0)
			snprintf(err, errlen, "%s", mirad_csv_error(c));
		else
			snprintf(err, errlen, "%s: empty file", file);
		mirad_strlist_free(&row);
		mirad_csv_close(c);
		return NULL;
	}
	kcol = mirad_csv_column(&row, key);
	vcol = mirad_csv_column(&row, value);
	if (kcol < 0 || vcol < 0) {
		snprintf(err, errlen, "%s: header has no \"%s\" column", file,
		    kcol < 0 ? key : value);
		mirad_strlist_free(&row);
		mirad_csv_close(c);
		return NULL;
	}
	map = g_hash_table_new_full(g_str_hash, g_str_equal, free, free);
	while ((rc = mirad_csv_next(c, &row)) == 1) {
		if (row.count == 1 && row.items[0][0] == '\0')
			continue;
		if ((size_t)kcol >= row.count || (size_t)vcol >= row.count) {
			snprintf(err, errlen, "%s:%lu: expected %s,%s", file,
			    mirad_csv_line(c), key, value);
			rc = -2;
			break;
		}
		g_hash_table_replace(map, mirad_xstrdup(row.items[kcol]),
		    mirad_xstrdup(row.items[vcol]));
	}
	if (rc == -1)
		snprintf(err, errlen, "%s", mirad_csv_error(c));
	mirad_strlist_free(&row);
	mirad_csv_close(c);
	if (rc < 0) {
		g_hash_table_destroy(map);
		return NULL;
	}
	return map;
}
