/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_manifest.h"

/* Core fields, in the order they are written. */
static const char *const core_keys[] = {"category", "split", "label", "defect",
    "image", "mask", "root", "width", "height", "channels"};

static bool
is_core_key(const char *key)
{
	for (size_t i = 0; i < sizeof core_keys / sizeof *core_keys; i++)
		if (strcmp(key, core_keys[i]) == 0)
			return true;
	return false;
}

struct mirad_record *
mirad_record_new(void)
{
	return mirad_xcalloc(1, sizeof(struct mirad_record));
}

void
mirad_record_free(struct mirad_record *r)
{
	if (r == NULL)
		return;
	free(r->category);
	free(r->split);
	free(r->label);
	free(r->defect);
	free(r->image);
	free(r->mask);
	free(r->root);
	cJSON_Delete(r->extra);
	cJSON_Delete(r->extra_raw);
	free(r);
}

static char *
dup_or_null(const char *s)
{
	return s ? mirad_xstrdup(s) : NULL;
}

void
mirad_record_set(char **field, const char *value)
{
	char *copy = dup_or_null(value);

	free(*field);
	*field = copy;
}

struct mirad_record *
mirad_record_clone(const struct mirad_record *r)
{
	struct mirad_record *c = mirad_record_new();

	c->category = dup_or_null(r->category);
	c->split = dup_or_null(r->split);
	c->label = dup_or_null(r->label);
	c->defect = dup_or_null(r->defect);
	c->image = dup_or_null(r->image);
	c->mask = dup_or_null(r->mask);
	c->root = dup_or_null(r->root);
	c->width = r->width;
	c->height = r->height;
	c->channels = r->channels;
	c->line = r->line;
	if (r->extra != NULL) {
		c->extra = cJSON_Duplicate(r->extra, 1);
		if (c->extra == NULL)
			mirad_die_errno(
			    MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	}
	if (r->extra_raw != NULL) {
		c->extra_raw = cJSON_Duplicate(r->extra_raw, 1);
		if (c->extra_raw == NULL)
			mirad_die_errno(
			    MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	}
	return c;
}

bool
mirad_record_is_anomaly(const struct mirad_record *r)
{
	return r->label != NULL && strcmp(r->label, "anomaly") == 0;
}

const char *
mirad_record_get_string(const struct mirad_record *r, const char *key)
{
	const cJSON *item;

	if (r->extra == NULL)
		return NULL;
	item = cJSON_GetObjectItemCaseSensitive(r->extra, key);
	return cJSON_IsString(item) ? item->valuestring : NULL;
}

bool
mirad_record_get_number(
    const struct mirad_record *r, const char *key, double *out)
{
	const cJSON *item;

	if (r->extra == NULL)
		return false;
	item = cJSON_GetObjectItemCaseSensitive(r->extra, key);
	if (!cJSON_IsNumber(item))
		return false;
	*out = item->valuedouble;
	return true;
}

void
mirad_record_put(struct mirad_record *r, const char *key, cJSON *item)
{
	if (item == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	if (r->extra == NULL) {
		r->extra = cJSON_CreateObject();
		if (r->extra == NULL)
			mirad_die_errno(
			    MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	}
	if (cJSON_GetObjectItemCaseSensitive(r->extra, key) != NULL)
		cJSON_ReplaceItemInObjectCaseSensitive(r->extra, key, item);
	else
		cJSON_AddItemToObject(r->extra, key, item);
	if (r->extra_raw != NULL)
		cJSON_DeleteItemFromObjectCaseSensitive(r->extra_raw, key);
}

void
mirad_record_put_string(
    struct mirad_record *r, const char *key, const char *value)
{
	mirad_record_put(r, key, cJSON_CreateString(value));
}

void
mirad_record_put_number(struct mirad_record *r, const char *key, double value)
{
	mirad_record_put(r, key, cJSON_CreateNumber(value));
}

char *
mirad_record_path(const struct mirad_record *r, const char *rel)
{
	if (rel == NULL)
		return NULL;
	return mirad_path_join(r->root, rel);
}

static void
add_string(cJSON *obj, const char *key, const char *value)
{
	cJSON *item = value ? cJSON_CreateString(value) : cJSON_CreateNull();

	if (item == NULL || !cJSON_AddItemToObject(obj, key, item))
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
}

cJSON *
mirad_record_to_json(const struct mirad_record *r)
{
	cJSON *obj = cJSON_CreateObject();

	if (obj == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	add_string(obj, "category", r->category);
	add_string(obj, "split", r->split);
	add_string(obj, "label", r->label);
	add_string(obj, "defect", r->defect);
	add_string(obj, "image", r->image);
	add_string(obj, "mask", r->mask);
	if (r->root != NULL)
		add_string(obj, "root", r->root);
	if (r->width > 0 && r->height > 0) {
		cJSON_AddNumberToObject(obj, "width", r->width);
		cJSON_AddNumberToObject(obj, "height", r->height);
	}
	if (r->channels > 0)
		cJSON_AddNumberToObject(obj, "channels", r->channels);
	if (r->extra != NULL) {
		for (const cJSON *it = r->extra->child; it; it = it->next) {
			const cJSON *raw = r->extra_raw
			    ? cJSON_GetObjectItemCaseSensitive(
			          r->extra_raw, it->string)
			    : NULL;
			cJSON *copy;

			if (is_core_key(it->string))
				continue;
			copy = raw ? cJSON_CreateRaw(raw->valuestring)
			           : cJSON_Duplicate(it, 1);
			if (copy == NULL ||
			    !cJSON_AddItemToObject(obj, it->string, copy))
				mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM,
				    "allocation failed");
		}
	}
	return obj;
}

int
mirad_record_write(FILE *out, const struct mirad_record *r)
{
	cJSON *obj = mirad_record_to_json(r);
	char *text = cJSON_PrintUnformatted(obj);
	int rc = 0;

	cJSON_Delete(obj);
	if (text == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	if (fputs(text, out) == EOF || putc('\n', out) == EOF)
		rc = -1;
	cJSON_free(text);
	return rc;
}

/* Read string field KEY: 1 found, 0 absent or null, -1 wrong type. */
static int
get_string(const cJSON *obj, const char *key, const char **out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = NULL;
	if (item == NULL || cJSON_IsNull(item))
		return 0;
	if (!cJSON_IsString(item) || item->valuestring == NULL)
		return -1;
	*out = item->valuestring;
	return 1;
}

static int
get_int(const cJSON *obj, const char *key, int *out)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, key);

	*out = 0;
	if (item == NULL || cJSON_IsNull(item))
		return 0;
	if (!cJSON_IsNumber(item) || item->valuedouble < 0 ||
	    item->valuedouble > 1e9 ||
	    item->valuedouble != (double)(int)item->valuedouble)
		return -1;
	*out = (int)item->valuedouble;
	return 1;
}

struct mirad_record *
mirad_record_from_json(
    const cJSON *obj, const char *base, char *err, size_t errlen)
{
	const char *category, *split, *label, *defect, *image, *mask, *root;
	struct mirad_record *r;
	int w, h, c;

	if (!cJSON_IsObject(obj)) {
		snprintf(err, errlen, "not a JSON object");
		return NULL;
	}
#define REQUIRE_STRING(key, var)                                               \
	if (get_string(obj, key, &var) != 1 || *var == '\0') {                 \
		snprintf(err, errlen,                                          \
		    "field \"%s\" must be a non-empty string", key);           \
		return NULL;                                                   \
	}
	REQUIRE_STRING("category", category);
	REQUIRE_STRING("split", split);
	REQUIRE_STRING("label", label);
	REQUIRE_STRING("image", image);
#undef REQUIRE_STRING
	if (strcmp(split, "train") != 0 && strcmp(split, "test") != 0 &&
	    strcmp(split, "val") != 0) {
		snprintf(err, errlen,
		    "field \"split\" is \"%s\", expected train, test or val",
		    split);
		return NULL;
	}
	if (strcmp(label, "normal") != 0 && strcmp(label, "anomaly") != 0) {
		snprintf(err, errlen,
		    "field \"label\" is \"%s\", expected normal or anomaly",
		    label);
		return NULL;
	}
	if (get_string(obj, "defect", &defect) < 0 ||
	    (defect != NULL && *defect == '\0')) {
		snprintf(err, errlen, "field \"defect\" must be a string");
		return NULL;
	}
	if (get_string(obj, "mask", &mask) < 0) {
		snprintf(
		    err, errlen, "field \"mask\" must be a string or null");
		return NULL;
	}
	if (get_string(obj, "root", &root) < 0) {
		snprintf(err, errlen, "field \"root\" must be a string");
		return NULL;
	}
	if (get_int(obj, "width", &w) < 0 || get_int(obj, "height", &h) < 0 ||
	    get_int(obj, "channels", &c) < 0) {
		snprintf(err, errlen,
		    "fields \"width\", \"height\" and \"channels\" must be "
		    "whole numbers");
		return NULL;
	}

	r = mirad_record_new();
	r->category = mirad_xstrdup(category);
	r->split = mirad_xstrdup(split);
	r->label = mirad_xstrdup(label);
	r->defect = mirad_xstrdup(defect
	        ? defect
	        : (strcmp(label, "normal") == 0 ? "good" : "anomaly"));
	r->image = mirad_xstrdup(image);
	r->mask = mask && *mask ? mirad_xstrdup(mask) : NULL;
	r->root = mirad_path_join(base, root ? root : "");
	r->width = w;
	r->height = h;
	r->channels = c;
	for (const cJSON *it = obj->child; it; it = it->next) {
		if (it->string == NULL || is_core_key(it->string))
			continue;
		mirad_record_put(r, it->string, cJSON_Duplicate(it, 1));
	}
	return r;
}

/* Past the bytes cJSON takes for whitespace, up to END. */
static const char *
skip_space(const char *p, const char *end)
{
	while (p < end && (unsigned char)*p <= ' ')
		p++;
	return p;
}

/* The extent [*START, *STOP) of the JSON value at P, as cJSON reads it; its
 * parse (caller deletes) or NULL. */
static cJSON *
value_extent(
    const char *p, const char *end, const char **start, const char **stop)
{
	cJSON *v;

	*start = skip_space(p, end);
	v = cJSON_ParseWithLengthOpts(*start, (size_t)(end - *start), stop, 0);
	return v;
}

/*
 * The text of each member of the JSON object TEXT (LEN bytes, already
 * parsed by cJSON), as an object of cJSON_Raw items under the same keys
 * (the last of repeated keys wins, as in mirad_record_from_json()), or
 * NULL when TEXT is not an object.  Caller deletes.
 */
static cJSON *
member_texts(const char *text, size_t len)
{
	const char *end = text + len, *p = skip_space(text, end);
	cJSON *raw;

	if (p == end || *p != '{')
		return NULL;
	raw = cJSON_CreateObject();
	if (raw == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	p = skip_space(p + 1, end);
	/* Walk the members with cJSON reading each key and value: cJSON
	 * validated the whole text already, so only the punctuation between
	 * them is left to step over. */
	while (p < end && *p != '}') {
		const char *ks, *ke, *vs, *ve;
		cJSON *key = value_extent(p, end, &ks, &ke), *value = NULL;
		char *copy;

		if (!cJSON_IsString(key))
			goto unreadable;
		p = skip_space(ke, end);
		if (p == end || *p != ':')
			goto unreadable;
		value = value_extent(p + 1, end, &vs, &ve);
		if (value == NULL)
			goto unreadable;
		copy = mirad_xmalloc((size_t)(ve - vs) + 1);
		memcpy(copy, vs, (size_t)(ve - vs));
		copy[ve - vs] = '\0';
		cJSON_DeleteItemFromObjectCaseSensitive(raw, key->valuestring);
		if (!cJSON_AddRawToObject(raw, key->valuestring, copy))
			mirad_die_errno(
			    MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
		free(copy);
		cJSON_Delete(key);
		cJSON_Delete(value);
		p = skip_space(ve, end);
		if (p < end && *p == ',')
			p = skip_space(p + 1, end);
		continue;
	unreadable: /* not what cJSON accepted */
		cJSON_Delete(key);
		cJSON_Delete(value);
		cJSON_Delete(raw);
		return NULL;
	}
	return raw;
}

void
mirad_record_keep_raw(struct mirad_record *r, const char *text, size_t len)
{
	cJSON_Delete(r->extra_raw);
	r->extra_raw = member_texts(text, len);
	if (r->extra_raw == NULL)
		return; /* keep the parsed values */
	for (size_t i = 0; i < sizeof core_keys / sizeof *core_keys; i++)
		cJSON_DeleteItemFromObjectCaseSensitive(
		    r->extra_raw, core_keys[i]);
}

char *
mirad_json_member_text(const char *text, size_t len, const char *key)
{
	cJSON *raw = member_texts(text, len);
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(raw, key);
	char *out = it ? mirad_xstrdup(it->valuestring) : NULL;

	cJSON_Delete(raw);
	return out;
}

static bool
key_listed(const char *key, const char *const *keys)
{
	for (size_t i = 0; keys != NULL && keys[i] != NULL; i++)
		if (strcmp(key, keys[i]) == 0)
			return true;
	return false;
}

void
mirad_json_keep_text(
    cJSON *obj, const char *text, size_t len, const char *const *parsed)
{
	cJSON *raw = member_texts(text, len);
	cJSON *it, *next;

	if (raw == NULL)
		return;
	for (it = obj->child; it != NULL; it = next) {
		const cJSON *t =
		    cJSON_GetObjectItemCaseSensitive(raw, it->string);
		cJSON *copy;

		next = it->next;
		if (t == NULL || key_listed(it->string, parsed))
			continue;
		copy = cJSON_CreateRaw(t->valuestring);
		if (copy == NULL)
			mirad_die_errno(
			    MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
		copy->string = mirad_xstrdup(it->string);
		cJSON_ReplaceItemViaPointer(obj, it, copy);
	}
	cJSON_Delete(raw);
}

struct mirad_manifest {
	FILE *stream;
	bool owns_stream;
	char *name;
	char *base;
	char *root_override;
	char *line;
	size_t cap;
	unsigned long lineno;
	char error[512];
	char *error_where;      /* "name:line" of error */
	char error_reason[256]; /* the rest of error */
	cJSON *header;
};

static struct mirad_manifest *
manifest_new(FILE *stream, bool owns, const char *name, const char *base_dir,
    const char *root_override)
{
	struct mirad_manifest *m = mirad_xcalloc(1, sizeof *m);
	char *abs_base = mirad_path_absolute(base_dir ? base_dir : ".");

	if (abs_base == NULL) {
		free(m);
		return NULL;
	}
	m->stream = stream;
	m->owns_stream = owns;
	m->name = mirad_xstrdup(name);
	m->base = abs_base;
	if (root_override != NULL) {
		m->root_override = mirad_path_absolute(root_override);
		if (m->root_override == NULL) {
			mirad_manifest_close(m);
			return NULL;
		}
	}
	return m;
}

struct mirad_manifest *
mirad_manifest_from_stream(FILE *stream, const char *name, const char *base_dir,
    const char *root_override)
{
	return manifest_new(stream, false, name, base_dir, root_override);
}

struct mirad_manifest *
mirad_manifest_open(const char *path, const char *root_override)
{
	struct mirad_manifest *m;
	char *dir;
	FILE *f;

	if (strcmp(path, "-") == 0)
		return manifest_new(
		    stdin, false, "<stdin>", ".", root_override);
	f = fopen(path, "r");
	if (f == NULL)
		return NULL;
	dir = mirad_path_dirname(path);
	m = manifest_new(f, true, path, dir, root_override);
	free(dir);
	if (m == NULL) {
		int err = errno;

		fclose(f);
		errno = err;
	}
	return m;
}

static enum mirad_manifest_status
bad_line(struct mirad_manifest *m, const char *reason)
{
	snprintf(m->error, sizeof m->error, "%s:%lu: %s", m->name, m->lineno,
	    reason);
	free(m->error_where);
	m->error_where = mirad_xasprintf("%s:%lu", m->name, m->lineno);
	snprintf(m->error_reason, sizeof m->error_reason, "%s", reason);
	return MIRAD_MANIFEST_BAD;
}

static void
merge_header(struct mirad_manifest *m, cJSON *obj)
{
	if (m->header == NULL) {
		m->header = obj;
		return;
	}
	for (cJSON *it = obj->child; it; it = it->next) {
		cJSON *copy = cJSON_Duplicate(it, 1);

		if (cJSON_GetObjectItemCaseSensitive(m->header, it->string))
			cJSON_ReplaceItemInObjectCaseSensitive(
			    m->header, it->string, copy);
		else
			cJSON_AddItemToObject(m->header, it->string, copy);
	}
	cJSON_Delete(obj);
}

enum mirad_manifest_status
mirad_manifest_next(struct mirad_manifest *m, struct mirad_record **out)
{
	ssize_t len;

	*out = NULL;
	for (;;) {
		const char *end = NULL, *p;
		char reason[256];
		cJSON *obj;
		struct mirad_record *r;

		errno = 0;
		len = getline(&m->line, &m->cap, m->stream);
		if (len < 0) {
			if (ferror(m->stream))
				return MIRAD_MANIFEST_READ_ERROR;
			return MIRAD_MANIFEST_EOF;
		}
		m->lineno++;
		while (len > 0 &&
		    (m->line[len - 1] == '\n' || m->line[len - 1] == '\r'))
			m->line[--len] = '\0';
		/* Before the blank test, which would take a leading NUL for
		 * the end of a blank line. */
		if (memchr(m->line, '\0', (size_t)len) != NULL)
			return bad_line(m, "NUL byte in line");
		p = m->line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0')
			continue; /* blank lines are allowed */
		obj = cJSON_ParseWithLengthOpts(m->line, (size_t)len, &end, 0);
		if (obj == NULL) {
			char why[64];

			snprintf(why, sizeof why,
			    "invalid JSON near column %ld",
			    end ? (long)(end - m->line) + 1 : 1L);
			return bad_line(m, why);
		}
		while (end != NULL && (*end == ' ' || *end == '\t'))
			end++;
		if (end != NULL && *end != '\0') {
			cJSON_Delete(obj);
			return bad_line(
			    m, "trailing characters after the JSON value");
		}
		if (!cJSON_IsObject(obj)) {
			cJSON_Delete(obj);
			return bad_line(m, "not a JSON object");
		}
		if (cJSON_GetObjectItemCaseSensitive(obj, "mirad_manifest")) {
			merge_header(m, obj);
			continue;
		}
		r = mirad_record_from_json(obj,
		    m->root_override ? m->root_override : m->base, reason,
		    sizeof reason);
		if (r != NULL && r->extra != NULL)
			mirad_record_keep_raw(r, m->line, (size_t)len);
		if (r != NULL && m->root_override != NULL)
			mirad_record_set(&r->root, m->root_override);
		cJSON_Delete(obj);
		if (r == NULL)
			return bad_line(m, reason);
		r->line = m->lineno;
		*out = r;
		return MIRAD_MANIFEST_RECORD;
	}
}

const char *
mirad_manifest_error(const struct mirad_manifest *m)
{
	return m->error;
}

const char *
mirad_manifest_error_where(const struct mirad_manifest *m)
{
	return m->error_where ? m->error_where : "";
}

const char *
mirad_manifest_error_reason(const struct mirad_manifest *m)
{
	return m->error_reason;
}

const cJSON *
mirad_manifest_header(const struct mirad_manifest *m)
{
	return m->header;
}

void
mirad_manifest_close(struct mirad_manifest *m)
{
	if (m == NULL)
		return;
	if (m->owns_stream)
		fclose(m->stream);
	free(m->name);
	free(m->base);
	free(m->root_override);
	free(m->line);
	free(m->error_where);
	cJSON_Delete(m->header);
	free(m);
}

/* ITEMS and COUNT again after the array changed. */
static void
sync_view(struct mirad_recordset *s)
{
	s->items =
	    s->array->len ? (struct mirad_record **)s->array->pdata : NULL;
	s->count = s->array->len;
}

static void
free_record(gpointer r)
{
	mirad_record_free(r);
}

void
mirad_recordset_init_view(struct mirad_recordset *s)
{
	*s = (struct mirad_recordset){0};
	s->array = g_ptr_array_new();
}

void
mirad_recordset_view(
    struct mirad_recordset *view, const struct mirad_recordset *s)
{
	mirad_recordset_init_view(view);
	for (size_t i = 0; i < s->count; i++)
		g_ptr_array_add(view->array, s->items[i]);
	sync_view(view);
}

void
mirad_recordset_push(struct mirad_recordset *s, struct mirad_record *r)
{
	if (s->array == NULL)
		s->array = g_ptr_array_new_with_free_func(free_record);
	g_ptr_array_add(s->array, r);
	sync_view(s);
}

void
mirad_recordset_steal_tail(struct mirad_recordset *s, size_t n)
{
	if (s->array == NULL || n >= s->array->len)
		return;
	/* The free function (if any) sees NULLs: nothing is freed. */
	for (size_t i = n; i < s->array->len; i++)
		s->array->pdata[i] = NULL;
	g_ptr_array_set_size(s->array, (gint)n);
	sync_view(s);
}

size_t
mirad_recordset_drop(struct mirad_recordset *s, const bool *drop)
{
	size_t kept = 0, n = s->count;

	if (n == 0)
		return 0;
	/* Kept records move to the front in order (swapped with dropped
	 * ones); shrinking the array frees the dropped ones if it owns
	 * them. */
	for (size_t i = 0; i < n; i++) {
		if (!drop[i]) {
			struct mirad_record *r = s->items[kept];

			s->items[kept++] = s->items[i];
			s->items[i] = r;
		}
	}
	g_ptr_array_set_size(s->array, (gint)kept);
	sync_view(s);
	return n - kept;
}

static int
cmp_opt(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

static int
cmp_record(const void *pa, const void *pb)
{
	const struct mirad_record *a = *(struct mirad_record *const *)pa;
	const struct mirad_record *b = *(struct mirad_record *const *)pb;
	int c;

	if ((c = cmp_opt(a->category, b->category)) != 0)
		return c;
	if ((c = cmp_opt(a->split, b->split)) != 0)
		return c;
	if ((c = cmp_opt(a->defect, b->defect)) != 0)
		return c;
	return cmp_opt(a->image, b->image);
}

void
mirad_recordset_sort_from(struct mirad_recordset *s, size_t from)
{
	if (s->count > from + 1)
		qsort(s->items + from, s->count - from, sizeof *s->items,
		    cmp_record);
}

void
mirad_recordset_sort(struct mirad_recordset *s)
{
	mirad_recordset_sort_from(s, 0);
}

void
mirad_recordset_clear(struct mirad_recordset *s)
{
	if (s->array != NULL)
		g_ptr_array_free(s->array, TRUE);
	*s = (struct mirad_recordset){0};
}

/* ---- duplicates ---------------------------------------------------------- */

/* Is P a path that g_canonicalize_filename() leaves as it is: no empty,
 * "." or ".." component (one leading slash allowed), no trailing slash? */
static bool
is_canonical(const char *p)
{
	const char *c = p[0] == '/' ? p + 1 : p;

	for (;;) {
		const char *end = strchr(c, '/');
		size_t n;

		if (end == NULL)
			end = c + strlen(c);
		n = (size_t)(end - c);
		if (n == 0 || (n == 1 && c[0] == '.') ||
		    (n == 2 && c[0] == '.' && c[1] == '.'))
			return false;
		if (*end == '\0')
			return true;
		c = end + 1;
	}
}

/* The file R names, with "." and ".." resolved (no file system access: a
 * link to the same file is not found).  Caller g_free()s.  A scanned
 * tree's paths are already canonical: they are joined as they are, which
 * costs a fraction of g_canonicalize_filename(). */
static char *
record_file_key(const struct mirad_record *r)
{
	const char *root = r->root ? r->root : "/";

	if (r->image[0] == '/' && is_canonical(r->image))
		return g_strdup(r->image);
	if (r->image[0] != '/' && root[0] == '/' && is_canonical(root) &&
	    is_canonical(r->image))
		return g_strconcat(root, "/", r->image, NULL);
	return g_canonicalize_filename(r->image, root);
}

size_t
mirad_recordset_find_duplicates(
    const struct mirad_recordset *s, size_t from, struct mirad_duplicate **out)
{
	GHashTable *seen =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	size_t n = 0, cap = 0;

	*out = NULL;
	for (size_t i = from; i < s->count; i++) {
		char *key = record_file_key(s->items[i]);
		gpointer first;

		if (g_hash_table_lookup_extended(seen, key, NULL, &first)) {
			if (n == cap) {
				cap = cap ? 2 * cap : 16;
				*out = mirad_xrealloc(*out, cap * sizeof **out);
			}
			(*out)[n].first = GPOINTER_TO_SIZE(first);
			(*out)[n].later = i;
			n++;
			g_free(key);
		} else {
			g_hash_table_insert(seen, key, GSIZE_TO_POINTER(i));
		}
	}
	g_hash_table_destroy(seen);
	return n;
}

static bool
same_label(const struct mirad_record *a, const struct mirad_record *b)
{
	return mirad_record_is_anomaly(a) == mirad_record_is_anomaly(b);
}

bool
mirad_duplicate_is_repeat(
    const struct mirad_recordset *s, const struct mirad_duplicate *d)
{
	return cmp_opt(s->items[d->first]->split, s->items[d->later]->split) ==
	    0;
}

void
mirad_duplicate_describe(const struct mirad_recordset *s,
    const struct mirad_duplicate *d, const char *name, char *buf, size_t len)
{
	const struct mirad_record *a = s->items[d->first];
	const struct mirad_record *b = s->items[d->later];
	char where[64], why[128] = "";
	int n;

	if (!mirad_duplicate_is_repeat(s, d))
		snprintf(why, sizeof why, " (%s and %s: leakage)",
		    a->split ? a->split : "?", b->split ? b->split : "?");
	else if (!same_label(a, b))
		snprintf(why, sizeof why, " (%s and %s)",
		    mirad_record_is_anomaly(a) ? "anomaly" : "normal",
		    mirad_record_is_anomaly(b) ? "anomaly" : "normal");
	if (a->line > 0)
		snprintf(where, sizeof where, "line %lu", a->line);
	else
		snprintf(where, sizeof where, "record %zu", d->first + 1);
	if (b->line > 0)
		n = snprintf(buf, len, "%s:%lu: ", name, b->line);
	else
		n = snprintf(buf, len, "%s: ", name);
	if (n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "%s also at %s%s", b->image,
		    where, why);
}

size_t
mirad_recordset_drop_repeats(
    struct mirad_recordset *s, const struct mirad_duplicate *d, size_t n)
{
	bool *drop;
	size_t dropped;

	if (n == 0)
		return 0;
	drop = mirad_xcalloc(s->count, sizeof *drop);
	for (size_t i = 0; i < n; i++)
		if (mirad_duplicate_is_repeat(s, &d[i]))
			drop[d[i].later] = true;
	dropped = mirad_recordset_drop(s, drop);
	free(drop);
	return dropped;
}

void
mirad_counts_add(struct mirad_counts *c, const char *split, const char *label)
{
	bool anomaly = label != NULL && strcmp(label, "anomaly") == 0;

	if (split != NULL && strcmp(split, "train") == 0)
		(*(anomaly ? &c->train_abnormal : &c->train))++;
	else if (split != NULL && strcmp(split, "val") == 0)
		c->val++;
	else
		(*(anomaly ? &c->test_abnormal : &c->test_normal))++;
}

void
mirad_counts_sum(struct mirad_counts *total, const struct mirad_counts *part)
{
	total->train += part->train;
	total->train_abnormal += part->train_abnormal;
	total->val += part->val;
	total->test_normal += part->test_normal;
	total->test_abnormal += part->test_abnormal;
}
