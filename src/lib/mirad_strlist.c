/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "mirad_err.h"
#include "mirad_strlist.h"

void
mirad_strlist_add(struct mirad_strlist *l, const char *s)
{
	l->items =
	    mirad_xgrow(l->items, l->count, &l->capacity, sizeof *l->items);
	l->items[l->count++] = mirad_xstrdup(s);
}

int
mirad_strlist_split(const char *arg, struct mirad_strlist *out)
{
	const char *p = arg, *comma;
	char *item;

	out->items = NULL;
	out->count = 0;
	out->capacity = 0;
	for (;;) {
		comma = strchr(p, ',');
		item = comma ? strndup(p, (size_t)(comma - p)) : strdup(p);
		if (item == NULL)
			mirad_die_errno(
			    MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
		if (*item == '\0') {
			free(item);
			mirad_strlist_free(out);
			return -1;
		}
		mirad_strlist_add(out, item);
		free(item);
		if (comma == NULL)
			break;
		p = comma + 1;
	}
	return 0;
}

bool
mirad_strlist_contains(const struct mirad_strlist *l, const char *s)
{
	for (size_t i = 0; i < l->count; i++)
		if (strcmp(l->items[i], s) == 0)
			return true;
	return false;
}

void
mirad_strlist_free(struct mirad_strlist *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->count; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->count = 0;
	l->capacity = 0;
}
