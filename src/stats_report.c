/* SPDX-License-Identifier: MIT */
/*
 * mirad-stats: grouping, per-group summaries, flags and partial files.
 */
#include "mirad_platform.h"

#include <errno.h>
#include <glib.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "mirad_cli.h"
#include "mirad_csv.h"
#include "mirad_err.h"
#include "mirad_formats.h"
#include "mirad_table.h"
#include "stats_report.h"

const double stats_area_bin_edges[STATS_AREA_BINS] = {
    0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0};

static const char *const by_names[] = {
    "category", "node", "split", "defect", "variant"};

const char *
stats_by_name(enum stats_by by)
{
	return by_names[by];
}

int
stats_by_from_name(const char *name, enum stats_by *out)
{
	for (size_t i = 0; i < sizeof by_names / sizeof *by_names; i++)
		if (strcmp(name, by_names[i]) == 0) {
			*out = (enum stats_by)i;
			return 0;
		}
	return -1;
}

static char *
dup_or_null(const char *s)
{
	return s ? mirad_xstrdup(s) : NULL;
}

static void
entry_clear(struct stats_entry *x)
{
	free(x->category);
	free(x->split);
	free(x->label);
	free(x->defect);
	free(x->image);
	free(x->node);
	free(x->variant);
	free(x->path);
	free(x->mask_path);
	free(x->error);
	stats_mask_measure_clear(&x->mask_m);
}

static void
clear_entry(gpointer x)
{
	entry_clear(x);
}

/* ITEMS and COUNT again after the array changed. */
static void
sync_view(struct stats_entries *e)
{
	e->items =
	    e->array->len ? (struct stats_entry *)(void *)e->array->data : NULL;
	e->count = e->array->len;
}

struct stats_entry *
stats_entries_add(struct stats_entries *e, const char *category,
    const char *split, const char *label, const char *defect, const char *image,
    const char *node, const char *variant)
{
	struct stats_entry *x;

	if (e->array == NULL) {
		e->array = g_array_new(FALSE, TRUE, sizeof(struct stats_entry));
		g_array_set_clear_func(e->array, clear_entry);
	}
	/* The new entry is zeroed (the array clears what it adds). */
	g_array_set_size(e->array, e->array->len + 1);
	sync_view(e);
	x = &e->items[e->count - 1];
	x->category = mirad_xstrdup(category);
	x->split = mirad_xstrdup(split);
	x->label = mirad_xstrdup(label);
	x->defect = mirad_xstrdup(defect ? defect : "good");
	x->image = mirad_xstrdup(image);
	x->node = dup_or_null(node);
	x->variant = dup_or_null(variant);
	return x;
}

static int
cmp_entries(const void *a, const void *b)
{
	const struct stats_entry *x = a, *y = b;
	int c = strcmp(x->image, y->image);

	return c ? c : strcmp(x->category, y->category);
}

void
stats_entries_sort(struct stats_entries *e)
{
	if (e->count > 1)
		qsort(e->items, e->count, sizeof *e->items, cmp_entries);
}

void
stats_entries_free(struct stats_entries *e)
{
	if (e->array != NULL)
		g_array_free(e->array, TRUE);
	*e = (struct stats_entries){0};
}

const char *
stats_entry_group(const struct stats_entry *e, enum stats_by by)
{
	switch (by) {
	case STATS_BY_NODE:
		return e->node ? e->node : "unknown";
	case STATS_BY_SPLIT:
		return e->split;
	case STATS_BY_DEFECT:
		return e->defect;
	case STATS_BY_VARIANT:
		return e->variant ? e->variant : "none";
	case STATS_BY_CATEGORY:
	default:
		return e->category;
	}
}

/* ---- selection and labels --------------------------------------------- */

size_t
stats_entries_without_node(const struct stats_entries *e)
{
	size_t n = 0;

	for (size_t i = 0; i < e->count; i++)
		n += e->items[i].node == NULL;
	return n;
}

/* ERR: NAME is not among the categories of CATEGORY[0..N). */
static void
unknown_category(
    const char *name, char *const *category, size_t n, char *err, size_t errlen)
{
	struct mirad_strlist have = {0};
	GString *list = g_string_new(NULL);

	for (size_t i = 0; i < n; i++)
		if (!mirad_strlist_contains(&have, category[i]))
			mirad_strlist_add(&have, category[i]);
	for (size_t i = 0; i < have.count; i++)
		g_string_append_printf(
		    list, "%s%s", i ? ", " : "", have.items[i]);
	snprintf(err, errlen,
	    "--categories: unknown category '%s' (available: %s)", name,
	    list->str);
	g_string_free(list, TRUE);
	mirad_strlist_free(&have);
}

int
stats_records_keep_categories(struct mirad_recordset *set,
    const struct mirad_strlist *names, char *err, size_t errlen)
{
	bool *drop;

	for (size_t k = 0; k < names->count; k++) {
		bool found = false;

		for (size_t i = 0; i < set->count && !found; i++)
			found = strcmp(set->items[i]->category,
			            names->items[k]) == 0;
		if (!found) {
			char **cats = mirad_xcalloc(
			    set->count ? set->count : 1, sizeof *cats);

			for (size_t i = 0; i < set->count; i++)
				cats[i] = set->items[i]->category;
			unknown_category(
			    names->items[k], cats, set->count, err, errlen);
			free(cats);
			return -1;
		}
	}
	drop = mirad_xcalloc(set->count ? set->count : 1, sizeof *drop);
	for (size_t i = 0; i < set->count; i++)
		drop[i] =
		    !mirad_strlist_contains(names, set->items[i]->category);
	mirad_recordset_drop(set, drop);
	free(drop);
	return 0;
}

int
stats_entries_keep_categories(struct stats_entries *e,
    const struct mirad_strlist *names, char *err, size_t errlen)
{
	size_t kept = 0;

	for (size_t k = 0; k < names->count; k++) {
		bool found = false;

		for (size_t i = 0; i < e->count && !found; i++)
			found =
			    strcmp(e->items[i].category, names->items[k]) == 0;
		if (!found) {
			char **cats = mirad_xcalloc(
			    e->count ? e->count : 1, sizeof *cats);

			for (size_t i = 0; i < e->count; i++)
				cats[i] = e->items[i].category;
			unknown_category(
			    names->items[k], cats, e->count, err, errlen);
			free(cats);
			return -1;
		}
	}
	/* Kept entries move to the front in order (swapped with dropped
	 * ones); shrinking the array clears the dropped ones. */
	for (size_t i = 0; i < e->count; i++) {
		if (mirad_strlist_contains(names, e->items[i].category)) {
			struct stats_entry x = e->items[kept];

			e->items[kept++] = e->items[i];
			e->items[i] = x;
		}
	}
	if (e->array != NULL) {
		g_array_set_size(e->array, (guint)kept);
		sync_view(e);
	}
	return 0;
}

long
stats_entries_apply_defects(
    struct stats_entries *e, const char *file, char *err, size_t errlen)
{
	struct mirad_csv *csv = mirad_csv_open(file);
	struct mirad_strlist row = {0};
	GHashTable *map;
	int col_image, col_defect, rc;
	long unused = 0;

	if (csv == NULL) {
		snprintf(err, errlen, "%s: %s", file, strerror(errno));
		return -1;
	}
	rc = mirad_csv_next(csv, &row);
	if (rc != 1 || (col_image = mirad_csv_column(&row, "image")) < 0 ||
	    (col_defect = mirad_csv_column(&row, "defect")) < 0) {
		if (rc < 0)
			snprintf(err, errlen, "%s", mirad_csv_error(csv));
		else
			snprintf(err, errlen,
			    "%s: no header naming the columns image and defect",
			    file);
		mirad_strlist_free(&row);
		mirad_csv_close(csv);
		return -1;
	}
	map = g_hash_table_new_full(g_str_hash, g_str_equal, free, free);
	while ((rc = mirad_csv_next(csv, &row)) == 1) {
		if ((size_t)col_image >= row.count ||
		    (size_t)col_defect >= row.count ||
		    row.items[col_defect][0] == '\0')
			continue;
		g_hash_table_replace(map, mirad_xstrdup(row.items[col_image]),
		    mirad_xstrdup(row.items[col_defect]));
	}
	if (rc < 0) {
		snprintf(err, errlen, "%s", mirad_csv_error(csv));
		g_hash_table_destroy(map);
		mirad_strlist_free(&row);
		mirad_csv_close(csv);
		return -1;
	}
	mirad_strlist_free(&row);
	mirad_csv_close(csv);
	unused = (long)g_hash_table_size(map);
	for (size_t i = 0; i < e->count; i++) {
		struct stats_entry *x = &e->items[i];
		const char *defect = g_hash_table_lookup(map, x->image);

		if (defect == NULL)
			continue;
		if (strcmp(x->label, "anomaly") == 0) {
			free(x->defect);
			x->defect = mirad_xstrdup(defect);
		}
		unused--;
	}
	g_hash_table_destroy(map);
	return unused;
}

/* ---- helpers ---------------------------------------------------------- */

/* The distinct group names of E under BY, sorted (strcmp). */
static void
group_names(
    const struct stats_entries *e, enum stats_by by, struct mirad_strlist *out)
{
	GHashTable *seen = g_hash_table_new(g_str_hash, g_str_equal);

	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < e->count; i++) {
		const char *g = stats_entry_group(&e->items[i], by);

		if (g_hash_table_add(seen, (gpointer)g))
			mirad_strlist_add(out, g);
	}
	g_hash_table_destroy(seen);
	mirad_strlist_sort(out);
}

/* NAMES (borrowed) to their index: the row of each group. */
static GHashTable *
group_rows(const struct mirad_strlist *names)
{
	GHashTable *rows = g_hash_table_new(g_str_hash, g_str_equal);

	for (size_t g = 0; g < names->count; g++)
		g_hash_table_insert(rows, names->items[g], GSIZE_TO_POINTER(g));
	return rows;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Order statistic at PERCENT (0..100) of sorted V[N]: the value at rank
 * round((N - 1) * PERCENT / 100); the median is the lower median. */
static double
pct(const double *v, size_t n, unsigned percent)
{
	if (n == 0)
		return 0.0;
	if (percent == 50)
		return v[(n - 1) / 2];
	return v[((n - 1) * percent + 50) / 100];
}

void
stats_format_exact(char *buf, size_t len, double v)
{
	if (!isfinite(v)) {
		snprintf(buf, len, "null");
		return;
	}
	/* Whole numbers as integers (10, not 1e+01). */
	if (v == floor(v) && fabs(v) < 1e15) {
		snprintf(buf, len, "%.0f", v);
		return;
	}
	/* The fewest significant digits that read back as the same double. */
	for (int digits = 1; digits <= 17; digits++) {
		snprintf(buf, len, "%.*g", digits, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

void
stats_format_readable(char *buf, size_t len, double v)
{
	int mag, decimals;
	char *dot, *end;

	if (!isfinite(v) || v == 0) {
		snprintf(buf, len, isfinite(v) ? "0" : "–");
		return;
	}
	mag = (int)floor(log10(fabs(v)));
	decimals = STATS_READABLE_DIGITS - 1 - mag;
	if (decimals < 0)
		decimals = 0;
	snprintf(buf, len, "%.*f", decimals, v);
	/* 0.2500 reads as 0.25, 3.000 as 3. */
	dot = strchr(buf, '.');
	if (dot) {
		end = buf + strlen(buf);
		while (end > dot + 1 && end[-1] == '0')
			*--end = '\0';
		if (end == dot + 1)
			*dot = '\0';
	}
}

/* Replace every number under ITEM by raw text of its exact value. */
static void
exact_numbers(cJSON *item)
{
	cJSON *child = item->child;

	while (child) {
		cJSON *next = child->next;

		if (cJSON_IsNumber(child)) {
			char buf[40];
			cJSON *raw;

			stats_format_exact(buf, sizeof buf, child->valuedouble);
			raw = cJSON_CreateRaw(buf);
			if (raw != NULL) {
				/* The key moves to the replacement. */
				raw->string = child->string;
				raw->type |= child->type & cJSON_StringIsConst;
				child->string = NULL;
			}
			if (raw == NULL ||
			    !cJSON_ReplaceItemViaPointer(item, child, raw))
				mirad_die(MIRAD_EXIT_FATAL, "out of memory");
		} else {
			exact_numbers(child);
		}
		child = next;
	}
}

char *
stats_json_print(const cJSON *doc, bool formatted)
{
	cJSON *copy = cJSON_Duplicate(doc, true);
	char *text, *out;

	if (copy == NULL)
		mirad_die(MIRAD_EXIT_FATAL, "out of memory");
	exact_numbers(copy);
	text = formatted ? cJSON_Print(copy) : cJSON_PrintUnformatted(copy);
	cJSON_Delete(copy);
	if (text == NULL)
		mirad_die(MIRAD_EXIT_FATAL, "out of memory");
	out = mirad_xstrdup(text);
	cJSON_free(text);
	return out;
}

static void
add_num(cJSON *o, const char *key, double v)
{
	if (cJSON_AddNumberToObject(o, key, v) == NULL)
		mirad_die(MIRAD_EXIT_FATAL, "out of memory");
}

/* The mean of the two middle values of sorted V[N] (the middle one when N
 * is odd): numpy.median's definition. */
static double
median_numpy(const double *v, size_t n)
{
	if (n == 0)
		return 0.0;
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* min/p10/median/p90/max and numpy's median of V (sorted in place) as an
 * object. */
static cJSON *
summary(double *v, size_t n)
{
	cJSON *o = cJSON_CreateObject();

	if (n > 1) /* V may be NULL when N is 0 */
		qsort(v, n, sizeof *v, cmp_double);
	add_num(o, "min", n ? v[0] : 0);
	add_num(o, "p10", pct(v, n, 10));
	add_num(o, "median", pct(v, n, 50));
	add_num(o, "median_numpy", median_numpy(v, n));
	add_num(o, "p90", pct(v, n, 90));
	add_num(o, "max", n ? v[n - 1] : 0);
	return o;
}

static double
mean_std(const double *v, size_t n, double *std)
{
	double sum = 0, sq = 0, mean;

	for (size_t i = 0; i < n; i++)
		sum += v[i];
	mean = n ? sum / (double)n : 0;
	for (size_t i = 0; i < n; i++)
		sq += (v[i] - mean) * (v[i] - mean);
	*std = n > 1 ? sqrt(sq / (double)(n - 1)) : 0;
	return mean;
}

/* ---- imaging ---------------------------------------------------------- */

struct size_count {
	int w, h;
	size_t n;
};

static int
cmp_size(const void *a, const void *b)
{
	const struct size_count *x = a, *y = b;
	long long px = (long long)x->w * x->h, py = (long long)y->w * y->h;

	if (px != py)
		return (px > py) - (px < py);
	if (x->w != y->w)
		return (x->w > y->w) - (x->w < y->w);
	return (x->h > y->h) - (x->h < y->h);
}

struct colour_cluster {
	int seed[3];
	size_t n;
};

static int
cmp_rgb(const void *a, const void *b)
{
	const int *x = a, *y = b;

	for (int i = 0; i < 3; i++)
		if (x[i] != y[i])
			return (x[i] > y[i]) - (x[i] < y[i]);
	return 0;
}

static int
cmp_cluster(const void *a, const void *b)
{
	const struct colour_cluster *x = a, *y = b;

	if (x->n != y->n)
		return (x->n < y->n) - (x->n > y->n); /* most frequent first */
	return cmp_rgb(x->seed, y->seed);
}

/* What the measured images of one group add up to, gathered in one pass
 * over the entries (in entry order, so sums are those of a pass per
 * group). */
struct imaging_group {
	GArray *lin, *srgb, *contrast, *sharp, *noise, *fg, *cx,
	    *cy;               /* double */
	GArray *bg;            /* int[3]: background colours */
	GArray *sizes;         /* struct size_count, in order of first sight */
	GHashTable *size_rows; /* (w, h) packed in a gint64 -> row of SIZES */
	size_t modes[5];       /* images by band count 1..4; 0: other */
	int qmin, qmax;        /* JPEG quality range */
	size_t njpeg;
};

static void
imaging_group_init(struct imaging_group *g)
{
	GArray **doubles[] = {&g->lin, &g->srgb, &g->contrast, &g->sharp,
	    &g->noise, &g->fg, &g->cx, &g->cy};

	memset(g, 0, sizeof *g);
	for (size_t i = 0; i < G_N_ELEMENTS(doubles); i++)
		*doubles[i] = g_array_new(FALSE, FALSE, sizeof(double));
	g->bg = g_array_new(FALSE, FALSE, sizeof(int[3]));
	g->sizes = g_array_new(FALSE, FALSE, sizeof(struct size_count));
	g->size_rows =
	    g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
}

static void
imaging_group_clear(struct imaging_group *g)
{
	GArray *arrays[] = {g->lin, g->srgb, g->contrast, g->sharp, g->noise,
	    g->fg, g->cx, g->cy, g->bg, g->sizes};

	for (size_t i = 0; i < G_N_ELEMENTS(arrays); i++)
		g_array_free(arrays[i], TRUE);
	g_hash_table_destroy(g->size_rows);
}

static void
append_double(GArray *a, double v)
{
	g_array_append_val(a, v);
}

static void
imaging_group_add(struct imaging_group *g, const struct stats_image_measure *m)
{
	gint64 key = ((gint64)m->width << 32) | (guint32)m->height;
	gpointer row;
	struct size_count *size;

	append_double(g->lin, m->luma_linear);
	append_double(g->srgb, m->luma_srgb);
	append_double(g->contrast, m->contrast);
	append_double(g->sharp, m->sharpness);
	append_double(g->noise, m->noise);
	if (m->fg_share >= STATS_DI_MIN_FOREGROUND)
		append_double(g->fg, m->fg_luma_linear);
	append_double(g->cx, m->fg_x);
	append_double(g->cy, m->fg_y);
	g_array_append_val(g->bg, m->background);
	if (!g_hash_table_lookup_extended(g->size_rows, &key, NULL, &row)) {
		struct size_count fresh = {m->width, m->height, 0};
		gint64 *stored = g_new(gint64, 1);

		row = GSIZE_TO_POINTER(g->sizes->len);
		g_array_append_val(g->sizes, fresh);
		*stored = key;
		g_hash_table_insert(g->size_rows, stored, row);
	}
	size =
	    &g_array_index(g->sizes, struct size_count, GPOINTER_TO_SIZE(row));
	size->n++;
	g->modes[m->bands >= 1 && m->bands <= 4 ? m->bands : 0]++;
	if (m->jpeg_quality > 0) {
		if (g->njpeg == 0 || m->jpeg_quality < g->qmin)
			g->qmin = m->jpeg_quality;
		if (g->njpeg == 0 || m->jpeg_quality > g->qmax)
			g->qmax = m->jpeg_quality;
		g->njpeg++;
	}
}

static void
add_size_text(cJSON *o, const char *key, const struct size_count *s)
{
	char buf[64];

	snprintf(buf, sizeof buf, "%dx%d", s ? s->w : 0, s ? s->h : 0);
	cJSON_AddStringToObject(o, key, buf);
}

/* The resolution fields of O from SIZES (sorted here by pixel count) of N
 * images; returns the relative spread of widths or heights (DR). */
static double
add_resolution(cJSON *o, GArray *sizes_array, size_t n)
{
	struct size_count *sizes = (struct size_count *)sizes_array->data;
	size_t nsizes = sizes_array->len, half = n ? (n - 1) / 2 : 0, seen = 0;
	size_t k;
	int minw = 0, maxw = 0, minh = 0, maxh = 0;
	cJSON *a;

	if (nsizes > 1)
		qsort(sizes, nsizes, sizeof *sizes, cmp_size);
	add_num(o, "distinct_sizes", (double)nsizes);
	/* The median image by pixel count. */
	for (k = 0; k < nsizes; k++) {
		seen += sizes[k].n;
		if (seen > half)
			break;
	}
	add_size_text(o, "size_min", nsizes ? &sizes[0] : NULL);
	add_size_text(o, "size_median", k < nsizes ? &sizes[k] : NULL);
	add_size_text(o, "size_max", nsizes ? &sizes[nsizes - 1] : NULL);
	a = cJSON_AddArrayToObject(o, "sizes");
	for (size_t s = 0; s < nsizes; s++) {
		cJSON *so = cJSON_CreateObject();

		add_size_text(so, "size", &sizes[s]);
		add_num(so, "images", (double)sizes[s].n);
		cJSON_AddItemToArray(a, so);
		if (s == 0 || sizes[s].w < minw)
			minw = sizes[s].w;
		if (s == 0 || sizes[s].w > maxw)
			maxw = sizes[s].w;
		if (s == 0 || sizes[s].h < minh)
			minh = sizes[s].h;
		if (s == 0 || sizes[s].h > maxh)
			maxh = sizes[s].h;
	}
	return minw > 0 && minh > 0
	    ? fmax((double)maxw / minw, (double)maxh / minh) - 1
	    : 0;
}

static void
add_colour_modes(cJSON *o, const size_t modes[5])
{
	static const char *const mode_names[] = {
	    "other", "grey", "greya", "rgb", "rgba"};
	cJSON *mo = cJSON_AddObjectToObject(o, "colour_modes");

	for (int m = 1; m <= 4; m++)
		if (modes[m])
			add_num(mo, mode_names[m], (double)modes[m]);
	if (modes[0])
		add_num(mo, mode_names[0], (double)modes[0]);
}

/* Backgrounds: greedy clusters over the sorted colours BG (sorted here),
 * most frequent first, as the array "backgrounds" of O.  Returns how many
 * clusters (DB when more than one). */
static size_t
add_backgrounds(cJSON *o, GArray *bg_array)
{
	int(*bg)[3] = (int(*)[3])bg_array->data;
	size_t n = bg_array->len, nclusters = 0;
	struct colour_cluster *clusters =
	    mirad_xmalloc((n + 1) * sizeof *clusters);
	cJSON *a;

	qsort(bg, n, sizeof *bg, cmp_rgb);
	for (size_t i = 0; i < n; i++) {
		size_t c;

		for (c = 0; c < nclusters; c++) {
			double d2 = 0;

			for (int k = 0; k < 3; k++)
				d2 += (double)(bg[i][k] - clusters[c].seed[k]) *
				    (bg[i][k] - clusters[c].seed[k]);
			if (d2 <= STATS_DB_DISTANCE * STATS_DB_DISTANCE)
				break;
		}
		if (c == nclusters) {
			memcpy(clusters[c].seed, bg[i], sizeof bg[i]);
			clusters[c].n = 0;
			nclusters++;
		}
		clusters[c].n++;
	}
	qsort(clusters, nclusters, sizeof *clusters, cmp_cluster);
	a = cJSON_AddArrayToObject(o, "backgrounds");
	for (size_t c = 0; c < nclusters; c++) {
		cJSON *co = cJSON_CreateObject();
		char buf[16];

		snprintf(buf, sizeof buf, "#%02x%02x%02x", clusters[c].seed[0],
		    clusters[c].seed[1], clusters[c].seed[2]);
		cJSON_AddStringToObject(co, "colour", buf);
		add_num(co, "images", (double)clusters[c].n);
		cJSON_AddItemToArray(a, co);
	}
	free(clusters);
	return nclusters;
}

static double *
doubles(GArray *a)
{
	return (double *)a->data;
}

/* The imaging object of group NAME from its accumulated measures G. */
static cJSON *
imaging_group_json(struct imaging_group *g, enum stats_by by, const char *name)
{
	size_t n = g->lin->len, nfg = g->fg->len, nclusters;
	double *fg = doubles(g->fg), *sharp = doubles(g->sharp);
	cJSON *o = cJSON_CreateObject(), *flags;
	double lin_mean, lin_std, srgb_mean, srgb_std, cx_std, cy_std;
	double di_ratio, dv_ratio, size_spread;

	cJSON_AddStringToObject(o, stats_by_name(by), name);
	add_num(o, "images", (double)n);
	size_spread = add_resolution(o, g->sizes, n);
	add_colour_modes(o, g->modes);

	/* Brightness, contrast, sharpness, noise. */
	lin_mean = mean_std(doubles(g->lin), n, &lin_std);
	srgb_mean = mean_std(doubles(g->srgb), n, &srgb_std);
	add_num(o, "luma_linear_mean", lin_mean);
	add_num(o, "luma_linear_std", lin_std);
	add_num(o, "luma_srgb_mean", srgb_mean);
	add_num(o, "luma_srgb_std", srgb_std);
	cJSON_AddItemToObject(o, "contrast", summary(doubles(g->contrast), n));
	cJSON_AddItemToObject(o, "sharpness", summary(sharp, n));
	cJSON_AddItemToObject(o, "noise", summary(doubles(g->noise), n));
	cJSON_AddItemToObject(o, "foreground_luma_linear", summary(fg, nfg));
	add_num(o, "foreground_images", (double)nfg);
	mean_std(doubles(g->cx), n, &cx_std);
	mean_std(doubles(g->cy), n, &cy_std);
	add_num(o, "centroid_std", cx_std > cy_std ? cx_std : cy_std);
	if (g->njpeg) {
		add_num(o, "jpeg_quality_min", g->qmin);
		add_num(o, "jpeg_quality_max", g->qmax);
	}
	nclusters = add_backgrounds(o, g->bg);

	/* Flags (fg and sharp are sorted by summary()). */
	di_ratio = nfg > 1 && pct(fg, nfg, 10) > 0
	    ? pct(fg, nfg, 90) / pct(fg, nfg, 10)
	    : 1.0;
	dv_ratio = n && pct(sharp, n, 10) > 0
	    ? pct(sharp, n, 90) / pct(sharp, n, 10)
	    : (n && pct(sharp, n, 90) > 0 ? INFINITY : 1.0);
	add_num(o, "size_spread", size_spread);
	add_num(o, "illumination_ratio", di_ratio);
	add_num(o, "sharpness_ratio", isinf(dv_ratio) ? 1e9 : dv_ratio);
	flags = cJSON_AddObjectToObject(o, "flags");
	cJSON_AddBoolToObject(flags, "DV",
	    dv_ratio > STATS_DV_SHARPNESS_RATIO ||
	        (cx_std > STATS_DV_CENTROID_STD ||
	            cy_std > STATS_DV_CENTROID_STD));
	cJSON_AddBoolToObject(flags, "DI", di_ratio > STATS_DI_RATIO);
	cJSON_AddBoolToObject(flags, "DR", size_spread > STATS_DR_RELATIVE);
	cJSON_AddBoolToObject(flags, "DB", nclusters > 1);
	return o;
}

cJSON *
stats_report_imaging(const struct stats_entries *e, enum stats_by by)
{
	struct mirad_strlist names;
	GHashTable *rows;
	struct imaging_group *groups;
	cJSON *arr = cJSON_CreateArray();

	group_names(e, by, &names);
	rows = group_rows(&names);
	groups = mirad_xcalloc(names.count + 1, sizeof *groups);
	for (size_t g = 0; g < names.count; g++)
		imaging_group_init(&groups[g]);
	for (size_t i = 0; i < e->count; i++) {
		const struct stats_entry *x = &e->items[i];

		if (x->measured)
			imaging_group_add(
			    &groups[GPOINTER_TO_SIZE(g_hash_table_lookup(
			        rows, stats_entry_group(x, by)))],
			    &x->image_m);
	}
	for (size_t g = 0; g < names.count; g++) {
		cJSON_AddItemToArray(
		    arr, imaging_group_json(&groups[g], by, names.items[g]));
		imaging_group_clear(&groups[g]);
	}
	free(groups);
	g_hash_table_destroy(rows);
	mirad_strlist_free(&names);
	return arr;
}

/* ---- geometry --------------------------------------------------------- */

static cJSON *
geometry_group(
    const struct stats_entries *e, enum stats_by by, const char *name)
{
	size_t n = 0, nregions = 0, empty = 0, full = 0, tiny = 0, k = 0;
	size_t bins[STATS_AREA_BINS] = {0};
	double *area, *per_mask, *region_px;
	cJSON *o = cJSON_CreateObject(), *a;
	double mean, std;

	for (size_t i = 0; i < e->count; i++) {
		const struct stats_entry *x = &e->items[i];

		if (x->has_mask && !strcmp(stats_entry_group(x, by), name)) {
			n++;
			nregions += x->mask_m.regions;
		}
	}
	area = mirad_xmalloc((n + 1) * sizeof *area);
	per_mask = mirad_xmalloc((n + 1) * sizeof *per_mask);
	region_px = mirad_xmalloc((nregions + 1) * sizeof *region_px);
	n = 0;
	for (size_t i = 0; i < e->count; i++) {
		const struct stats_entry *x = &e->items[i];
		const struct stats_mask_measure *m = &x->mask_m;
		uint64_t total;
		int b;

		if (!x->has_mask || strcmp(stats_entry_group(x, by), name))
			continue;
		total = (uint64_t)m->width * (uint64_t)m->height;
		area[n] = total ? (double)m->defect_pixels / (double)total : 0;
		per_mask[n] = (double)m->regions;
		for (b = 0; b < STATS_AREA_BINS - 1; b++)
			if (area[n] < stats_area_bin_edges[b])
				break;
		bins[b]++;
		if (m->defect_pixels == 0)
			empty++;
		if (total && m->defect_pixels == total)
			full++;
		tiny += m->tiny_regions;
		for (size_t r = 0; r < m->regions; r++)
			region_px[k++] = (double)m->region_sizes[r];
		n++;
	}
	cJSON_AddStringToObject(o, stats_by_name(by), name);
	add_num(o, "masks", (double)n);
	add_num(o, "empty_masks", (double)empty);
	add_num(o, "full_masks", (double)full);
	cJSON_AddItemToObject(o, "area_fraction", summary(area, n));
	a = cJSON_AddArrayToObject(o, "area_histogram");
	for (int b = 0; b < STATS_AREA_BINS; b++)
		cJSON_AddItemToArray(a, cJSON_CreateNumber((double)bins[b]));
	mean = mean_std(per_mask, n, &std);
	cJSON_AddItemToObject(o, "regions_per_mask", summary(per_mask, n));
	add_num(o, "regions_per_mask_mean", mean);
	add_num(o, "regions", (double)nregions);
	cJSON_AddItemToObject(o, "region_pixels", summary(region_px, k));
	add_num(o, "tiny_regions", (double)tiny);
	add_num(
	    o, "tiny_share", nregions ? (double)tiny / (double)nregions : 0);
	free(area);
	free(per_mask);
	free(region_px);
	return o;
}

cJSON *
stats_report_geometry(const struct stats_entries *e, enum stats_by by)
{
	struct mirad_strlist names;
	cJSON *arr = cJSON_CreateArray();

	group_names(e, by, &names);
	for (size_t g = 0; g < names.count; g++) {
		cJSON *o = geometry_group(e, by, names.items[g]);
		const cJSON *masks =
		    cJSON_GetObjectItemCaseSensitive(o, "masks");

		if (masks->valuedouble > 0)
			cJSON_AddItemToArray(arr, o);
		else
			cJSON_Delete(o);
	}
	mirad_strlist_free(&names);
	return arr;
}

cJSON *
stats_report_thresholds(void)
{
	cJSON *o = cJSON_CreateObject();

	add_num(o, "foreground_delta", STATS_FOREGROUND_DELTA);
	add_num(o, "DI_illumination_ratio", STATS_DI_RATIO);
	add_num(o, "DI_min_foreground", STATS_DI_MIN_FOREGROUND);
	add_num(o, "DB_colour_distance", STATS_DB_DISTANCE);
	add_num(o, "DV_sharpness_ratio", STATS_DV_SHARPNESS_RATIO);
	add_num(o, "DV_centroid_std", STATS_DV_CENTROID_STD);
	add_num(o, "DR_size_spread", STATS_DR_RELATIVE);
	add_num(o, "tiny_region_side", STATS_TINY_SIDE);
	return o;
}

cJSON *
stats_report_definitions(void)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "median",
	    "lower median: the value at rank floor((n - 1) / 2) of the "
	    "sorted values, counted from 0 (an observed value)");
	cJSON_AddStringToObject(o, "median_numpy",
	    "numpy.median: the mean of the two middle values (the middle "
	    "one when n is odd)");
	cJSON_AddStringToObject(o, "p10, p90",
	    "the value at rank floor((n - 1) * p / 100 + 1/2) of the sorted "
	    "values, counted from 0");
	cJSON_AddStringToObject(
	    o, "std", "sample standard deviation (divides by n - 1)");
	cJSON_AddStringToObject(o, "size_spread",
	    "max(largest width / smallest width, largest height / smallest "
	    "height) - 1");
	return o;
}

/* ---- printing --------------------------------------------------------- */

static double
num(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsNumber(v) ? v->valuedouble : 0.0;
}

static double
sub(const cJSON *o, const char *key, const char *field)
{
	return num(cJSON_GetObjectItemCaseSensitive(o, key), field);
}

static const char *
str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static bool
flag(const cJSON *o, const char *name)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(o, "flags");

	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, name));
}

/* A cell of V: exact (CSV) or rounded for reading (Markdown, LaTeX). */
static void
add_measure(struct mirad_table *t, double v, bool exact)
{
	char buf[64];

	if (exact)
		stats_format_exact(buf, sizeof buf, v);
	else
		stats_format_readable(buf, sizeof buf, v);
	mirad_table_add_text(t, buf);
}

/* The background colours of group G, SEP-separated.  Caller g_free()s. */
static char *
backgrounds_text(const cJSON *g, const char *sep)
{
	GString *text = g_string_new(NULL);
	const cJSON *b;

	cJSON_ArrayForEach(
	    b, cJSON_GetObjectItemCaseSensitive(g, "backgrounds"))
	{
		if (text->len)
			g_string_append(text, sep);
		g_string_append(text, str(b, "colour"));
	}
	return g_string_free(text, FALSE);
}

static const char *const flag_names[] = {"DV", "DI", "DR", "DB"};

/* The measures of one imaging row. */
static void
imaging_measures(struct mirad_table *t, const cJSON *g, bool exact)
{
	add_measure(t, num(g, "images"), true);
	add_measure(t, num(g, "distinct_sizes"), true);
	mirad_table_add_text(t, str(g, "size_min"));
	mirad_table_add_text(t, str(g, "size_max"));
	add_measure(t, num(g, "luma_linear_mean"), exact);
	add_measure(t, num(g, "luma_srgb_mean"), exact);
	add_measure(t, sub(g, "contrast", "median"), exact);
	add_measure(t, sub(g, "sharpness", "median"), exact);
	add_measure(t, sub(g, "noise", "median"), exact);
}

static const char *const imaging_titles[] = {"Images", "Sizes", "Min size",
    "Max size", "Luma (linear)", "Luma (sRGB)", "Contrast", "Sharpness",
    "Noise", "Backgrounds", "DV", "DI", "DR", "DB"};
static const char *const imaging_keys[] = {"images", "distinct_sizes",
    "size_min", "size_max", "luma_linear_mean", "luma_srgb_mean",
    "contrast_median", "sharpness_median", "noise_median", "backgrounds", "DV",
    "DI", "DR", "DB"};
#define IMAGING_COLS (sizeof imaging_titles / sizeof *imaging_titles)
/* The LaTeX measures table stops before the colours and the flags. */
#define IMAGING_TEX_COLS 9

/* A new table whose first column is the group, for FMT. */
static struct mirad_table *
group_table(enum stats_by by, enum mirad_table_format fmt)
{
	struct mirad_table *t = mirad_table_new();
	char *title = mirad_table_display_name(stats_by_name(by));

	mirad_table_add_column(t,
	    fmt == MIRAD_TABLE_MD || fmt == MIRAD_TABLE_TEX ? title
	                                                    : stats_by_name(by),
	    MIRAD_TABLE_LEFT, 0);
	g_free(title);
	return t;
}

/* The name cell of group G: a display name in LaTeX. */
static void
add_group_name(struct mirad_table *t, const cJSON *g, enum stats_by by,
    enum mirad_table_format fmt)
{
	char *name;

	if (fmt != MIRAD_TABLE_TEX) {
		mirad_table_add_text(t, str(g, stats_by_name(by)));
		return;
	}
	name = mirad_table_display_name(str(g, stats_by_name(by)));
	mirad_table_add_text(t, name);
	g_free(name);
}

struct mirad_table *
stats_report_imaging_table(
    const cJSON *groups, enum stats_by by, enum mirad_table_format fmt)
{
	struct mirad_table *t = group_table(by, fmt);
	bool md = fmt == MIRAD_TABLE_MD, tex = fmt == MIRAD_TABLE_TEX;
	const cJSON *g;

	/* LaTeX: the flags stand in the counts table, as in the paper; here
	 * the measures behind them, and the number of background colours. */
	for (size_t c = 0; c < (tex ? IMAGING_TEX_COLS : IMAGING_COLS); c++)
		mirad_table_add_column(t,
		    md || tex ? imaging_titles[c] : imaging_keys[c],
		    c == 2 || c == 3 || c == 9 ? MIRAD_TABLE_LEFT
		        : c >= 10              ? MIRAD_TABLE_CENTER
		                               : MIRAD_TABLE_RIGHT,
		    c == 2 || c == 3 || c == 9 ? 0 : MIRAD_TABLE_NUMERIC);
	if (tex) {
		mirad_table_add_column(
		    t, "Backgrounds", MIRAD_TABLE_RIGHT, MIRAD_TABLE_NUMERIC);
		mirad_table_set_wide(t, true);
	}
	cJSON_ArrayForEach(g, groups)
	{
		char *bgs;

		mirad_table_add_row(t, false);
		add_group_name(t, g, by, fmt);
		imaging_measures(t, g, !md && !tex);
		if (tex) {
			mirad_table_add_textf(t, "%d",
			    cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(
			        g, "backgrounds")));
			continue;
		}
		bgs = backgrounds_text(g, " ");
		mirad_table_add_text(t, bgs);
		g_free(bgs);
		for (int i = 0; i < 4; i++)
			mirad_table_add_text(t,
			    flag(g, flag_names[i]) ? (md ? "✓" : "1")
			                           : (md ? " " : "0"));
	}
	return t;
}

static const char *const geometry_titles[] = {"Masks", "Empty", "Full",
    "Area min", "Area median", "Area max", "Regions/mask", "Region px median",
    "Tiny share"};
static const char *const geometry_keys[] = {"masks", "empty_masks",
    "full_masks", "area_min", "area_median", "area_max",
    "regions_per_mask_mean", "region_pixels_median", "tiny_share"};
#define GEOMETRY_COLS (sizeof geometry_titles / sizeof *geometry_titles)

struct mirad_table *
stats_report_geometry_table(
    const cJSON *groups, enum stats_by by, enum mirad_table_format fmt)
{
	struct mirad_table *t = group_table(by, fmt);
	bool exact = fmt == MIRAD_TABLE_CSV || fmt == MIRAD_TABLE_JSON;
	const cJSON *g;

	for (size_t c = 0; c < GEOMETRY_COLS; c++)
		mirad_table_add_column(t,
		    exact ? geometry_keys[c] : geometry_titles[c],
		    MIRAD_TABLE_RIGHT, MIRAD_TABLE_NUMERIC);
	mirad_table_set_wide(t, true);
	cJSON_ArrayForEach(g, groups)
	{
		mirad_table_add_row(t, false);
		add_group_name(t, g, by, fmt);
		add_measure(t, num(g, "masks"), true);
		add_measure(t, num(g, "empty_masks"), true);
		add_measure(t, num(g, "full_masks"), true);
		add_measure(t, sub(g, "area_fraction", "min"), exact);
		add_measure(t, sub(g, "area_fraction", "median"), exact);
		add_measure(t, sub(g, "area_fraction", "max"), exact);
		add_measure(t, num(g, "regions_per_mask_mean"), exact);
		add_measure(t, sub(g, "region_pixels", "median"), exact);
		add_measure(t, num(g, "tiny_share"), exact);
	}
	return t;
}

/* ---- partial files ---------------------------------------------------- */

static void
put_str(cJSON *o, const char *key, const char *v)
{
	if (v && cJSON_AddStringToObject(o, key, v) == NULL)
		mirad_die(MIRAD_EXIT_FATAL, "out of memory");
}

cJSON *
stats_partial_to_json(const struct stats_entries *e)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *arr;

	add_num(root, "mirad_stats_partial", 1);
	arr = cJSON_AddArrayToObject(root, "images");
	for (size_t i = 0; i < e->count; i++) {
		const struct stats_entry *x = &e->items[i];
		cJSON *o = cJSON_CreateObject();

		put_str(o, "category", x->category);
		put_str(o, "split", x->split);
		put_str(o, "label", x->label);
		put_str(o, "defect", x->defect);
		put_str(o, "image", x->image);
		put_str(o, "node", x->node);
		put_str(o, "variant", x->variant);
		put_str(o, "error", x->error);
		if (x->measured) {
			const struct stats_image_measure *m = &x->image_m;
			cJSON *mo = cJSON_AddObjectToObject(o, "measure");
			cJSON *bg;

			add_num(mo, "width", m->width);
			add_num(mo, "height", m->height);
			add_num(mo, "bands", m->bands);
			put_str(mo, "colour", m->colour);
			add_num(mo, "luma_srgb", m->luma_srgb);
			add_num(mo, "luma_linear", m->luma_linear);
			add_num(mo, "contrast", m->contrast);
			add_num(mo, "sharpness", m->sharpness);
			add_num(mo, "noise", m->noise);
			bg = cJSON_CreateIntArray(m->background, 3);
			cJSON_AddItemToObject(mo, "background", bg);
			add_num(mo, "fg_share", m->fg_share);
			add_num(mo, "fg_luma_linear", m->fg_luma_linear);
			add_num(mo, "fg_x", m->fg_x);
			add_num(mo, "fg_y", m->fg_y);
			add_num(mo, "jpeg_quality", m->jpeg_quality);
		}
		if (x->has_mask) {
			const struct stats_mask_measure *m = &x->mask_m;
			cJSON *mo = cJSON_AddObjectToObject(o, "mask");
			cJSON *sizes = cJSON_AddArrayToObject(mo, "regions");

			add_num(mo, "width", m->width);
			add_num(mo, "height", m->height);
			add_num(mo, "defect_pixels", (double)m->defect_pixels);
			for (size_t r = 0; r < m->regions; r++)
				cJSON_AddItemToArray(sizes,
				    cJSON_CreateNumber(
				        (double)m->region_sizes[r]));
		}
		cJSON_AddItemToArray(arr, o);
	}
	return root;
}

static const char *
get_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int
stats_partial_read(
    const cJSON *doc, struct stats_entries *e, char *err, size_t errlen)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(doc, "images");
	const cJSON *o;

	if (!cJSON_IsObject(doc) ||
	    !cJSON_IsNumber(
	        cJSON_GetObjectItemCaseSensitive(doc, "mirad_stats_partial")) ||
	    !cJSON_IsArray(arr)) {
		snprintf(err, errlen, "not a mirad-stats partial file");
		return -1;
	}
	cJSON_ArrayForEach(o, arr)
	{
		const char *cat = get_str(o, "category"),
		           *split = get_str(o, "split"),
		           *label = get_str(o, "label"),
		           *image = get_str(o, "image");
		const cJSON *mo =
		    cJSON_GetObjectItemCaseSensitive(o, "measure");
		const cJSON *ko = cJSON_GetObjectItemCaseSensitive(o, "mask");
		struct stats_entry *x;

		if (!cat || !split || !label || !image) {
			snprintf(err, errlen,
			    "an image entry lacks category, split, label or "
			    "image");
			return -1;
		}
		x = stats_entries_add(e, cat, split, label,
		    get_str(o, "defect"), image, get_str(o, "node"),
		    get_str(o, "variant"));
		if (get_str(o, "error"))
			x->error = mirad_xstrdup(get_str(o, "error"));
		if (cJSON_IsObject(mo)) {
			struct stats_image_measure *m = &x->image_m;
			const cJSON *bg =
			    cJSON_GetObjectItemCaseSensitive(mo, "background");
			const char *colour = get_str(mo, "colour");

			x->measured = true;
			m->width = (int)num(mo, "width");
			m->height = (int)num(mo, "height");
			m->bands = (int)num(mo, "bands");
			snprintf(m->colour, sizeof m->colour, "%s",
			    colour ? colour : "");
			m->luma_srgb = num(mo, "luma_srgb");
			m->luma_linear = num(mo, "luma_linear");
			m->contrast = num(mo, "contrast");
			m->sharpness = num(mo, "sharpness");
			m->noise = num(mo, "noise");
			for (int k = 0; k < 3; k++) {
				const cJSON *v = cJSON_GetArrayItem(bg, k);

				m->background[k] =
				    cJSON_IsNumber(v) ? v->valueint : 0;
			}
			m->fg_share = num(mo, "fg_share");
			m->fg_luma_linear = num(mo, "fg_luma_linear");
			m->fg_x = num(mo, "fg_x");
			m->fg_y = num(mo, "fg_y");
			m->jpeg_quality = (int)num(mo, "jpeg_quality");
		}
		if (cJSON_IsObject(ko)) {
			struct stats_mask_measure *m = &x->mask_m;
			const cJSON *regions =
			    cJSON_GetObjectItemCaseSensitive(ko, "regions");
			size_t r = 0;
			const cJSON *v;

			x->has_mask = true;
			m->width = (int)num(ko, "width");
			m->height = (int)num(ko, "height");
			m->defect_pixels = (uint64_t)num(ko, "defect_pixels");
			m->regions = (size_t)cJSON_GetArraySize(regions);
			m->region_sizes = mirad_xmalloc(
			    (m->regions ? m->regions : 1) * sizeof(uint64_t));
			cJSON_ArrayForEach(v, regions)
			{
				m->region_sizes[r] = (uint64_t)v->valuedouble;
				if (stats_region_is_tiny(m->region_sizes[r],
				        m->width, m->height))
					m->tiny_regions++;
				r++;
			}
		}
	}
	return 0;
}

/* Two measures' helpers the report needs, here rather than in
 * stats_measure.c, which calls libvips and is loaded with the pixel modes
 * only (stats_pixels.h). */
bool
stats_region_is_tiny(uint64_t area, int w, int h)
{
	/* area * (256 / w) * (256 / h) < 1, in integers. */
	return area * STATS_TINY_SIDE * STATS_TINY_SIDE <
	    (uint64_t)w * (uint64_t)h;
}

void
stats_mask_measure_clear(struct stats_mask_measure *m)
{
	free(m->region_sizes);
	m->region_sizes = NULL;
	m->regions = 0;
}
