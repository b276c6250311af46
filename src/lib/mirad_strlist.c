/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <stdlib.h>
#include <string.h>

#include "mirad_err.h"
#include "mirad_strlist.h"

/* ITEMS and COUNT again after the array changed. */
static void
sync_view(struct mirad_strlist *l)
{
	l->items = (char **)l->array->pdata;
	l->count = l->array->len;
}

void
mirad_strlist_take(struct mirad_strlist *l, char *s)
{
	if (l->array == NULL)
		l->array = g_ptr_array_new_with_free_func(free);
	g_ptr_array_add(l->array, s);
	sync_view(l);
}

void
mirad_strlist_add(struct mirad_strlist *l, const char *s)
{
	mirad_strlist_take(l, mirad_xstrdup(s));
}

int
mirad_strlist_split(const char *arg, struct mirad_strlist *out)
{
	char **parts;

	*out = (struct mirad_strlist){0};
	if (*arg == '\0') /* g_strsplit() would give no item at all */
		return -1;
	parts = g_strsplit(arg, ",", -1);
	for (size_t i = 0; parts[i] != NULL; i++) {
		if (parts[i][0] == '\0') {
			mirad_strlist_free(out);
			g_strfreev(parts);
			return -1;
		}
		mirad_strlist_add(out, parts[i]);
	}
	g_strfreev(parts);
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

static gint
compare_strings(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void
mirad_strlist_sort(struct mirad_strlist *l)
{
	if (l->array != NULL)
		g_ptr_array_sort(l->array, compare_strings);
}

void
mirad_strlist_free(struct mirad_strlist *l)
{
	if (l == NULL)
		return;
	if (l->array != NULL)
		g_ptr_array_free(l->array, TRUE);
	*l = (struct mirad_strlist){0};
}
