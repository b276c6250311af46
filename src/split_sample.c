/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirad_csv.h"
#include "mirad_err.h"
#include "split_sample.h"

uint64_t
split_key(uint64_t seed, const char *purpose, const char *path)
{
	/* One checksum object, reset per key: creating one per image was a
	 * measurable part of a 100,000-record run.  (Single-threaded.) */
	static GChecksum *sum;
	guint8 digest[32];
	gsize len = sizeof digest;
	char prefix[64];
	uint64_t key = 0;

	if (sum == NULL)
		sum = g_checksum_new(G_CHECKSUM_SHA256);
	else
		g_checksum_reset(sum);
	if (sum == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	if (purpose != NULL)
		snprintf(prefix, sizeof prefix,
		    "%llu:%s:", (unsigned long long)seed, purpose);
	else
		snprintf(
		    prefix, sizeof prefix, "%llu:", (unsigned long long)seed);
	g_checksum_update(sum, (const guchar *)prefix, (gssize)strlen(prefix));
	g_checksum_update(sum, (const guchar *)path, (gssize)strlen(path));
	g_checksum_get_digest(sum, digest, &len);
	for (int i = 0; i < 8; i++)
		key = key << 8 | digest[i];
	return key;
}

int
split_parse_amount(const char *arg, struct split_amount *out)
{
	memset(out, 0, sizeof *out);
	if (strchr(arg, '.') != NULL) {
		double f;

		if (mirad_cli_parse_double(arg, 0, 1, &f) != 0 || f <= 0 ||
		    f >= 1)
			return -1;
		out->is_fraction = true;
		out->fraction = f;
	} else if (mirad_cli_parse_uint(arg, 0, SIZE_MAX, &out->count) != 0) {
		return -1;
	}
	out->given = true;
	return 0;
}

size_t
split_amount_of(const struct split_amount *amount, size_t n)
{
	size_t k;

	if (!amount->is_fraction)
		return (size_t)amount->count;
	if (n == 0)
		return 0;
	k = (size_t)floor(amount->fraction * (double)n + 0.5);
	return k < 1 ? 1 : k;
}

static bool
is_normal_train(const struct mirad_record *r)
{
	return !mirad_record_is_anomaly(r) && strcmp(r->split, "train") == 0;
}

/* Open CSV FILE and find the columns NAMES in its header; -1 with ERR. */
static struct mirad_csv *
open_csv_columns(const char *file, const char *const *names, size_t n,
    int *cols, struct mirad_strlist *row, char *err, size_t errlen)
{
	struct mirad_csv *c = mirad_csv_open(file);

	if (c == NULL) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return NULL;
	}
	if (mirad_csv_next(c, row) != 1) {
		snprintf(err, errlen, "%s: empty file", file);
		mirad_csv_close(c);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		cols[i] = mirad_csv_column(row, names[i]);
		if (cols[i] < 0) {
			snprintf(err, errlen, "%s: header has no \"%s\" column",
			    file, names[i]);
			mirad_csv_close(c);
			return NULL;
		}
	}
	return c;
}

int
split_attach_nodes(struct mirad_recordset *set, const char *file,
    size_t *unmatched, char *err, size_t errlen)
{
	GHashTable *nodes =
	    mirad_csv_read_map(file, "image", "node", err, errlen);

	if (nodes == NULL)
		return -1;
	*unmatched = 0;
	for (size_t i = 0; i < set->count; i++) {
		struct mirad_record *r = set->items[i];
		const char *node = g_hash_table_lookup(nodes, r->image);
		uint64_t v;

		if (node == NULL)
			(*unmatched)++;
		else if (mirad_cli_parse_uint(node, 0, 1ULL << 52, &v) == 0)
			mirad_record_put_number(r, "node", (double)v);
		else
			mirad_record_put_string(r, "node", node);
	}
	g_hash_table_destroy(nodes);
	return 0;
}

struct row_pos {
	size_t row, pos;
	struct mirad_record *r;
};

static int
cmp_row_pos(const void *pa, const void *pb)
{
	const struct row_pos *a = pa, *b = pb;

	if (a->row != b->row)
		return a->row < b->row ? -1 : 1;
	return (a->pos > b->pos) - (a->pos < b->pos);
}

int
split_apply_split_csv(struct mirad_recordset *set, const char *file,
    size_t *unlisted, char *err, size_t errlen)
{
	static const char *const names[] = {"split", "image"};
	struct mirad_strlist row = {0};
	GHashTable *rows =
	    g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	GPtrArray *splits = g_ptr_array_new_with_free_func(free);
	struct mirad_csv *c;
	int cols[2], rc;
	size_t *order;
	bool *drop;

	err[0] = '\0';
	c = open_csv_columns(file, names, 2, cols, &row, err, errlen);
	if (c == NULL)
		goto fail;
	while ((rc = mirad_csv_next(c, &row)) == 1) {
		const char *split;

		if (row.count == 1 && row.items[0][0] == '\0')
			continue;
		if ((size_t)cols[0] >= row.count ||
		    (size_t)cols[1] >= row.count) {
			snprintf(err, errlen, "%s:%lu: too few fields", file,
			    mirad_csv_line(c));
			rc = -1;
			break;
		}
		split = row.items[cols[0]];
		if (strcmp(split, "train") != 0 && strcmp(split, "test") != 0 &&
		    strcmp(split, "val") != 0) {
			snprintf(err, errlen,
			    "%s:%lu: split is \"%s\", expected train, test or val",
			    file, mirad_csv_line(c), split);
			rc = -1;
			break;
		}
		if (!g_hash_table_contains(rows, row.items[cols[1]])) {
			g_hash_table_insert(rows,
			    mirad_xstrdup(row.items[cols[1]]),
			    GSIZE_TO_POINTER(splits->len + 1));
			g_ptr_array_add(splits, mirad_xstrdup(split));
		}
	}
	if (rc < 0 && err[0] == '\0')
		snprintf(err, errlen, "%s", mirad_csv_error(c));
	mirad_csv_close(c);
	if (rc < 0)
		goto fail;

	order = mirad_xcalloc(set->count ? set->count : 1, sizeof *order);
	drop = mirad_xcalloc(set->count ? set->count : 1, sizeof *drop);
	*unlisted = 0;
	for (size_t i = 0; i < set->count; i++) {
		struct mirad_record *r = set->items[i];
		size_t at =
		    GPOINTER_TO_SIZE(g_hash_table_lookup(rows, r->image));

		if (at == 0) {
			drop[i] = true;
			(*unlisted)++;
			continue;
		}
		mirad_record_set(&r->split, g_ptr_array_index(splits, at - 1));
		order[i] = at;
	}
	{
		/* Order by row number (ties, the same image twice, keep
		 * their order): sort (row, position) pairs. */
		struct row_pos *rp =
		    mirad_xcalloc(set->count ? set->count : 1, sizeof *rp);
		size_t m = 0;

		for (size_t i = 0; i < set->count; i++) {
			if (drop[i])
				continue;
			rp[m].row = order[i];
			rp[m].pos = i;
			rp[m].r = set->items[i];
			m++;
		}
		qsort(rp, m, sizeof *rp, cmp_row_pos);
		mirad_recordset_drop(set, drop);
		for (size_t i = 0; i < m; i++)
			set->items[i] = rp[i].r;
		free(rp);
	}
	free(order);
	free(drop);
	mirad_strlist_free(&row);
	g_hash_table_destroy(rows);
	g_ptr_array_free(splits, TRUE);
	return 0;
fail:
	mirad_strlist_free(&row);
	g_hash_table_destroy(rows);
	g_ptr_array_free(splits, TRUE);
	return -1;
}

void
split_categories(const struct mirad_recordset *set, struct mirad_strlist *out)
{
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);
	GList *keys;

	for (size_t i = 0; i < set->count; i++)
		g_hash_table_add(seen, set->items[i]->category);
	keys = g_list_sort(g_hash_table_get_keys(seen), (GCompareFunc)strcmp);
	memset(out, 0, sizeof *out);
	for (GList *it = keys; it; it = it->next)
		mirad_strlist_add(out, it->data);
	g_list_free(keys);
	g_hash_table_destroy(seen);
}

/* "a, b, c" from L; caller frees. */
static char *
join_list(const struct mirad_strlist *l)
{
	GString *s = g_string_new(NULL);
	char *out;

	for (size_t i = 0; i < l->count; i++) {
		if (i > 0)
			g_string_append(s, ", ");
		g_string_append(s, l->items[i]);
	}
	out = mirad_xstrdup(s->len ? s->str : "none");
	g_string_free(s, TRUE);
	return out;
}

int
split_keep_categories(struct mirad_recordset *set,
    const struct mirad_strlist *names, char *err, size_t errlen)
{
	struct mirad_strlist have;
	bool *drop;

	split_categories(set, &have);
	for (size_t i = 0; i < names->count; i++) {
		if (!mirad_strlist_contains(&have, names->items[i])) {
			char *list = join_list(&have);

			snprintf(err, errlen,
			    "unknown category '%s' (available: %s)",
			    names->items[i], list);
			free(list);
			mirad_strlist_free(&have);
			return -1;
		}
	}
	mirad_strlist_free(&have);
	drop = mirad_xcalloc(set->count ? set->count : 1, sizeof *drop);
	for (size_t i = 0; i < set->count; i++)
		drop[i] =
		    !mirad_strlist_contains(names, set->items[i]->category);
	mirad_recordset_drop(set, drop);
	free(drop);
	return 0;
}

char *
split_field_text(const struct mirad_record *r, const char *field)
{
	const cJSON *item;

	if (strcmp(field, "category") == 0)
		return r->category ? mirad_xstrdup(r->category) : NULL;
	if (strcmp(field, "split") == 0)
		return r->split ? mirad_xstrdup(r->split) : NULL;
	if (strcmp(field, "label") == 0)
		return r->label ? mirad_xstrdup(r->label) : NULL;
	if (strcmp(field, "defect") == 0)
		return r->defect ? mirad_xstrdup(r->defect) : NULL;
	if (strcmp(field, "image") == 0)
		return r->image ? mirad_xstrdup(r->image) : NULL;
	if (r->extra == NULL)
		return NULL;
	item = cJSON_GetObjectItemCaseSensitive(r->extra, field);
	if (cJSON_IsString(item))
		return mirad_xstrdup(item->valuestring);
	if (cJSON_IsBool(item))
		return mirad_xstrdup(cJSON_IsTrue(item) ? "true" : "false");
	if (cJSON_IsNumber(item)) {
		double v = item->valuedouble;

		if (v == floor(v) && fabs(v) < 1e15)
			return mirad_xasprintf("%.0f", v);
		return mirad_xasprintf("%.17g", v);
	}
	return NULL;
}

int
split_by_field(struct mirad_recordset *set, const char *field,
    const struct mirad_strlist *values, size_t *dropped, char *err,
    size_t errlen)
{
	GHashTable *seen =
	    g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	char **text = mirad_xcalloc(set->count ? set->count : 1, sizeof *text);
	bool *drop = mirad_xcalloc(set->count ? set->count : 1, sizeof *drop);
	int rc = 0;

	for (size_t i = 0; i < set->count; i++) {
		text[i] = split_field_text(set->items[i], field);
		if (text[i] != NULL)
			g_hash_table_add(seen, mirad_xstrdup(text[i]));
	}
	for (size_t v = 0; v < values->count && rc == 0; v++) {
		if (!g_hash_table_contains(seen, values->items[v])) {
			GList *keys = g_list_sort(
			    g_hash_table_get_keys(seen), (GCompareFunc)strcmp);
			struct mirad_strlist l = {0};
			char *list;

			for (GList *it = keys; it; it = it->next)
				mirad_strlist_add(&l, it->data);
			list = join_list(&l);
			if (l.count == 0)
				snprintf(err, errlen,
				    "no record has a field '%s' (give node "
				    "ids with --nodes FILE)",
				    field);
			else
				snprintf(err, errlen,
				    "no record has %s=%s (values: %s)", field,
				    values->items[v], list);
			free(list);
			mirad_strlist_free(&l);
			g_list_free(keys);
			rc = -1;
		}
	}
	*dropped = 0;
	for (size_t i = 0; i < set->count && rc == 0; i++) {
		struct mirad_record *r = set->items[i];
		bool match =
		    text[i] != NULL && mirad_strlist_contains(values, text[i]);

		if (match && mirad_record_is_anomaly(r)) {
			drop[i] = true;
			(*dropped)++;
		} else {
			mirad_record_set(&r->split, match ? "train" : "test");
		}
	}
	for (size_t i = 0; i < set->count; i++)
		free(text[i]);
	if (rc == 0)
		mirad_recordset_drop(set, drop);
	free(text);
	free(drop);
	g_hash_table_destroy(seen);
	return rc;
}

/* A candidate record for a per-category choice. */
struct cand {
	struct mirad_record *r;
	const char *group; /* sub-group inside the category ("" for none) */
	uint64_t key;
	/* Ranks of the category and group names in strcmp order: the sort
	 * compares these instead of the strings (a 100,000-record run spent
	 * a sixth of its time in strcmp here). */
	unsigned cat, grp;
};

static int
cmp_cand(const void *pa, const void *pb)
{
	const struct cand *a = pa, *b = pb;

	if (a->cat != b->cat)
		return a->cat < b->cat ? -1 : 1;
	if (a->grp != b->grp)
		return a->grp < b->grp ? -1 : 1;
	if (a->key != b->key)
		return a->key < b->key ? -1 : 1;
	return strcmp(a->r->image, b->r->image);
}

typedef bool (*cand_pred)(const struct mirad_record *r);

/* Set the cat (or, with GROUPS, grp) rank of every candidate. */
static void
rank_names(struct cand *c, size_t n, bool groups)
{
	GHashTable *rank = g_hash_table_new(g_str_hash, g_str_equal);
	GList *names;
	unsigned i = 0;

	for (size_t j = 0; j < n; j++)
		g_hash_table_insert(rank,
		    (gpointer)(groups ? c[j].group : c[j].r->category), NULL);
	names = g_list_sort(g_hash_table_get_keys(rank), (GCompareFunc)strcmp);
	for (GList *it = names; it; it = it->next)
		g_hash_table_insert(rank, it->data, GUINT_TO_POINTER(i++));
	for (size_t j = 0; j < n; j++) {
		unsigned v = GPOINTER_TO_UINT(g_hash_table_lookup(
		    rank, groups ? c[j].group : c[j].r->category));

		if (groups)
			c[j].grp = v;
		else
			c[j].cat = v;
	}
	g_list_free(names);
	g_hash_table_destroy(rank);
}

/* The records matching PRED, keyed for PURPOSE and sorted by category,
 * group, key.  *N receives the count; caller frees. */
static struct cand *
collect(const struct mirad_recordset *set, cand_pred pred, uint64_t seed,
    const char *purpose, const char *(*group)(const struct mirad_record *),
    size_t *n)
{
	struct cand *c = mirad_xcalloc(set->count ? set->count : 1, sizeof *c);

	*n = 0;
	for (size_t i = 0; i < set->count; i++) {
		struct mirad_record *r = set->items[i];

		if (!pred(r))
			continue;
		c[*n].r = r;
		c[*n].group = group ? group(r) : "";
		c[*n].key = split_key(seed, purpose, r->image);
		(*n)++;
	}
	rank_names(c, *n, false);
	rank_names(c, *n, true);
	qsort(c, *n, sizeof *c, cmp_cand);
	return c;
}

/* End of the run of candidates of C[from]'s category. */
static size_t
category_end(const struct cand *c, size_t n, size_t from)
{
	size_t to = from;

	while (to < n && c[to].cat == c[from].cat)
		to++;
	return to;
}

static bool
is_test_anomaly(const struct mirad_record *r)
{
	return mirad_record_is_anomaly(r) && strcmp(r->split, "test") == 0;
}

static const char *
defect_of(const struct mirad_record *r)
{
	return r->defect ? r->defect : "";
}

static const char *
label_defect_of(const struct mirad_record *r)
{
	/* Normal records have defect "good", so the defect alone already
	 * separates the labels. */
	return r->defect ? r->defect : r->label;
}

static const char *
label_of(const struct mirad_record *r)
{
	return r->label;
}

int
split_train_anomalies(struct mirad_recordset *set, uint64_t seed,
    const struct split_amount *amount, bool by_defect, char *err, size_t errlen)
{
	size_t n;
	struct cand *c = collect(set, is_test_anomaly, seed, "anomaly",
	    by_defect ? defect_of : NULL, &n);

	for (size_t a = 0; a < n;) {
		size_t b = category_end(c, n, a), total = b - a;
		size_t want = split_amount_of(amount, total);

		if (want >= total) {
			snprintf(err, errlen,
			    "--train-anomalies: category %s has %zu anomalies "
			    "in test, %zu asked (at least one must stay in "
			    "test)",
			    c[a].r->category, total, want);
			free(c);
			return -1;
		}
		if (!by_defect) {
			for (size_t i = a; i < a + want; i++)
				mirad_record_set(&c[i].r->split, "train");
			a = b;
			continue;
		}
		{
			/* Largest-remainder shares per defect type. */
			size_t ngroups = 0, given = 0;
			size_t *start = mirad_xcalloc(total, sizeof *start);
			size_t *size = mirad_xcalloc(total, sizeof *size);
			size_t *quota = mirad_xcalloc(total, sizeof *quota);
			size_t *rem = mirad_xcalloc(total, sizeof *rem);

			for (size_t i = a; i < b; i++) {
				if (i == a || c[i].grp != c[i - 1].grp)
					start[ngroups++] = i;
				size[ngroups - 1]++;
			}
			for (size_t g = 0; g < ngroups; g++) {
				quota[g] = want * size[g] / total;
				rem[g] = want * size[g] % total;
				given += quota[g];
			}
			while (given < want) {
				size_t best = 0;

				/* Ties go to the first defect by name. */
				for (size_t g = 1; g < ngroups; g++)
					if (rem[g] > rem[best])
						best = g;
				quota[best]++;
				rem[best] = 0;
				given++;
			}
			for (size_t g = 0; g < ngroups; g++)
				for (size_t i = 0; i < quota[g]; i++)
					mirad_record_set(
					    &c[start[g] + i].r->split, "train");
			free(start);
			free(size);
			free(quota);
			free(rem);
		}
		a = b;
	}
	free(c);
	return 0;
}

static bool
is_test(const struct mirad_record *r)
{
	return strcmp(r->split, "test") == 0;
}

int
split_folds(struct mirad_recordset *set, uint64_t seed, unsigned folds,
    unsigned fold, bool by_defect, char *err, size_t errlen)
{
	size_t n;
	struct cand *c = collect(set, is_test, seed, "fold",
	    by_defect ? label_defect_of : label_of, &n);

	for (size_t a = 0; a < n;) {
		size_t b = category_end(c, n, a);

		if (b - a < folds) {
			snprintf(err, errlen,
			    "--folds %u: category %s has only %zu test images",
			    folds, c[a].r->category, b - a);
			free(c);
			return -1;
		}
		/* Deal round-robin; the counter runs on across the groups
		 * so that the folds differ in size by one at most. */
		for (size_t i = a; i < b; i++)
			if ((i - a) % folds == fold)
				mirad_record_set(&c[i].r->split, "val");
		a = b;
	}
	free(c);
	return 0;
}

int
split_val(struct mirad_recordset *set, uint64_t seed,
    const struct split_amount *amount, char *err, size_t errlen)
{
	size_t n;
	struct cand *c = collect(set, is_normal_train, seed, "val", NULL, &n);

	for (size_t a = 0; a < n;) {
		size_t b = category_end(c, n, a), total = b - a;
		size_t want = split_amount_of(amount, total);

		if (want >= total) {
			snprintf(err, errlen,
			    "--val: category %s has %zu normal training "
			    "images, %zu asked for val (at least one must stay "
			    "in train)",
			    c[a].r->category, total, want);
			free(c);
			return -1;
		}
		for (size_t i = a; i < a + want; i++)
			mirad_record_set(&c[i].r->split, "val");
		a = b;
	}
	free(c);
	return 0;
}

int
split_shots(const struct mirad_recordset *set, uint64_t seed, size_t k,
    struct mirad_recordset *out, char *err, size_t errlen)
{
	GHashTable *keep = g_hash_table_new(g_direct_hash, g_direct_equal);
	size_t n;
	struct cand *c = collect(set, is_normal_train, seed, NULL, NULL, &n);
	struct mirad_strlist cats;

	/* A category with no normal training image at all has no K-shot
	 * set either. */
	split_categories(set, &cats);
	{
		GHashTable *has = g_hash_table_new(g_str_hash, g_str_equal);
		const char *missing = NULL;

		for (size_t j = 0; j < n; j++)
			g_hash_table_add(has, c[j].r->category);
		for (size_t i = 0; i < cats.count && missing == NULL; i++)
			if (!g_hash_table_contains(has, cats.items[i]))
				missing = cats.items[i];
		if (missing != NULL && k > 0)
			snprintf(err, errlen,
			    "--shots %zu: category %s has no normal training "
			    "images",
			    k, missing);
		g_hash_table_destroy(has);
		if (missing != NULL && k > 0)
			goto fail;
	}
	for (size_t a = 0; a < n;) {
		size_t b = category_end(c, n, a);

		if (b - a < k) {
			snprintf(err, errlen,
			    "--shots %zu: category %s has only %zu normal "
			    "training images",
			    k, c[a].r->category, b - a);
			goto fail;
		}
		for (size_t i = a; i < a + k; i++)
			g_hash_table_add(keep, c[i].r);
		a = b;
	}
	mirad_recordset_init_view(out);
	for (size_t i = 0; i < set->count; i++) {
		struct mirad_record *r = set->items[i];

		if (!is_normal_train(r) || g_hash_table_contains(keep, r))
			mirad_recordset_push(out, r);
	}
	mirad_strlist_free(&cats);
	g_hash_table_destroy(keep);
	free(c);
	return 0;
fail:
	mirad_strlist_free(&cats);
	g_hash_table_destroy(keep);
	free(c);
	return -1;
}

int
split_merge(
    struct mirad_recordset *set, const char *name, char *err, size_t errlen)
{
	GHashTable *seen =
	    g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	int rc = 0;

	for (size_t i = 0; i < set->count && rc == 0; i++) {
		struct mirad_record *r = set->items[i];
		char *id =
		    mirad_xasprintf("%s/%s", r->root ? r->root : "", r->image);

		if (!g_hash_table_add(seen, id)) {
			snprintf(err, errlen,
			    "--merge: image %s is listed twice", r->image);
			rc = -1;
		}
	}
	g_hash_table_destroy(seen);
	if (rc != 0)
		return rc;
	for (size_t i = 0; i < set->count; i++) {
		struct mirad_record *r = set->items[i];

		mirad_record_put_string(r, "source_category", r->category);
		mirad_record_set(&r->category, name);
	}
	return 0;
}
