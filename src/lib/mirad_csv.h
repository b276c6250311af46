/* SPDX-License-Identifier: MIT */
/*
 * CSV reading (RFC 4180: quoted fields, "" escapes, CRLF or LF line ends)
 * for VisA split files, image_anno.csv, node maps and score files.
 */
#ifndef MIRAD_CSV_H
#define MIRAD_CSV_H

#include "mirad_platform.h"

#include <glib.h>
#include <stdio.h>

#include "mirad_strlist.h"

struct mirad_csv;

/* Open PATH ("-" = stdin).  NULL with errno on failure. */
struct mirad_csv *mirad_csv_open(const char *path);
/* Read from STREAM (not closed by mirad_csv_close()); NAME for messages. */
struct mirad_csv *mirad_csv_from_stream(FILE *stream, const char *name);
/*
 * Read the next row into FIELDS (previous contents freed; the caller frees
 * the last with mirad_strlist_free()).  Returns 1 for a row, 0 at the end,
 * -1 on a malformed row or read error (see mirad_csv_error()).
 */
int mirad_csv_next(struct mirad_csv *c, struct mirad_strlist *fields);
/* The line number where the last row started. */
unsigned long mirad_csv_line(const struct mirad_csv *c);
/* "name:line: reason"; borrowed until the next call. */
const char *mirad_csv_error(const struct mirad_csv *c);
/* Were the row ends CRLF (as far as read)? */
bool mirad_csv_crlf(const struct mirad_csv *c);
void mirad_csv_close(struct mirad_csv *c);

/* Index of column NAME in HEADER, or -1. */
int mirad_csv_column(const struct mirad_strlist *header, const char *name);

/*
 * Read the two columns KEY and VALUE of CSV FILE, found by name in its
 * header row (in any order, among other columns), into a new table from
 * each row's KEY to its VALUE (owned strings; a later row replaces an
 * earlier one; blank rows are skipped).  NULL with a reason in ERR when
 * FILE cannot be read, has no header with both columns, or a row is too
 * short.  Free with g_hash_table_destroy().
 */
GHashTable *mirad_csv_read_map(const char *file, const char *key,
    const char *value, char *err, size_t errlen);

/* Append FIELD (NULL: empty) to OUT, quoted when it holds ',', '"', CR or
 * LF, its '"' doubled (RFC 4180). */
void mirad_csv_append_field(GString *out, const char *field);
/* Write one row with fields quoted when needed, ending in CRLF or LF. */
int mirad_csv_write_row(
    FILE *out, const char *const *fields, size_t n, bool crlf);

#endif
