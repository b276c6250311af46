/* SPDX-License-Identifier: MIT */
/* A list of owned strings.  It lives in the base layer because the file
 * system, CSV and archive modules return lists too; the tools' option
 * parsing (mirad_cli) builds on it. */
#ifndef MIRAD_STRLIST_H
#define MIRAD_STRLIST_H

#include "mirad_platform.h"

#include <glib.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Owned strings in order, held by a GPtrArray; {0} is an empty list.
 * ITEMS and COUNT are a view of the array for reading (and for reordering
 * items in place); only the functions below add or remove.
 */
struct mirad_strlist {
	char **items; /* the array's items; NULL while empty */
	size_t count;
	GPtrArray *array; /* owns the strings (freed with free()) */
};
/* Split ARG at commas into *OUT (free with mirad_strlist_free()). Returns -1
 * for an empty item. */
int mirad_strlist_split(const char *arg, struct mirad_strlist *out);
bool mirad_strlist_contains(const struct mirad_strlist *l, const char *s);
/* Append a copy of S. */
void mirad_strlist_add(struct mirad_strlist *l, const char *s);
/* Append S itself (a malloc'ed string): the list takes it. */
void mirad_strlist_take(struct mirad_strlist *l, char *s);
/* Sort by strcmp (locale-independent). */
void mirad_strlist_sort(struct mirad_strlist *l);
void mirad_strlist_free(struct mirad_strlist *l);

#endif
