/* SPDX-License-Identifier: MIT */
/* A list of owned strings.  It lives in the base layer because the file
 * system, CSV and archive modules return lists too; the tools' option
 * parsing (mirad_cli) builds on it. */
#ifndef MIRAD_STRLIST_H
#define MIRAD_STRLIST_H

#include "mirad_platform.h"

#include <stdbool.h>
#include <stddef.h>

/* Owned strings in order; {0} is an empty list. */
struct mirad_strlist {
	char **items; /* owned */
	size_t count;
	size_t capacity; /* allocated items */
};
/* Split ARG at commas into *OUT (free with mirad_strlist_free()). Returns -1
 * for an empty item. */
int mirad_strlist_split(const char *arg, struct mirad_strlist *out);
bool mirad_strlist_contains(const struct mirad_strlist *l, const char *s);
/* Append a copy of S. */
void mirad_strlist_add(struct mirad_strlist *l, const char *s);
void mirad_strlist_free(struct mirad_strlist *l);

#endif
