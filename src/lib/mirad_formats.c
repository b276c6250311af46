/* SPDX-License-Identifier: MIT */
/*
 * The list writers.  Each format's fields, and how a record the format has
 * no place for is handled, are documented in mirad_formats.h and in
 * mirad-split(1).
 */
#include "mirad_platform.h"

#include <errno.h>
#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "mirad_csv.h"
#include "mirad_err.h"
#include "mirad_formats.h"
#include "mirad_fs.h"

static const char *const names[] = {
    "jsonl", "visa-csv", "tabular-csv", "uniad", "meta-json"};

static const char *const extensions[] = {
    ".jsonl", ".csv", ".csv", ".json", ".json"};

int
mirad_format_from_name(const char *name, enum mirad_format *out)
{
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum mirad_format)i;
			return 0;
		}
	}
	return -1;
}

const char *
mirad_format_name(enum mirad_format fmt)
{
	if ((unsigned)fmt >= sizeof names / sizeof *names)
		return "unknown";
	return names[fmt];
}

/*
 * PATH relative to directory BASE; both are made absolute first.  Caller
 * frees.  Components of BASE not shared with PATH become "..".
 */
static char *
relative_to(const char *base, const char *path)
{
	char *abs_base = mirad_path_absolute(base);
	char *abs_path = mirad_path_absolute(path);
	gchar **b, **p;
	size_t common = 0;
	GString *rel;
	char *out;

	if (abs_base == NULL || abs_path == NULL) {
		free(abs_base);
		free(abs_path);
		return mirad_xstrdup(path);
	}
	/* Both start with '/', so element 0 is "" in each. */
	b = g_strsplit(abs_base, "/", -1);
	p = g_strsplit(abs_path, "/", -1);
	while (b[common] && p[common] && strcmp(b[common], p[common]) == 0)
		common++;
	rel = g_string_new(NULL);
	for (size_t i = common; b[i]; i++)
		if (*b[i])
			g_string_append(rel, rel->len ? "/.." : "..");
	for (size_t i = common; p[i]; i++) {
		if (*p[i] == '\0')
			continue;
		if (rel->len)
			g_string_append_c(rel, '/');
		g_string_append(rel, p[i]);
	}
	out = mirad_xstrdup(rel->len ? rel->str : ".");
	g_string_free(rel, TRUE);
	g_strfreev(b);
	g_strfreev(p);
	free(abs_base);
	free(abs_path);
	return out;
}

/* The path a list shows for REL (an image or mask path of R).  Caller
 * frees; NULL when REL is NULL. */
static char *
shown_path(const struct mirad_record *r, const char *rel,
    const struct mirad_format_options *opts)
{
	char *abs, *out;

	if (rel == NULL)
		return NULL;
	if (opts == NULL || opts->base == NULL)
		return mirad_xstrdup(rel);
	abs = mirad_record_path(r, rel);
	out = relative_to(opts->base, abs);
	free(abs);
	return out;
}

static bool
wanted(const struct mirad_record *r, const char *split)
{
	return split == NULL || (r->split && strcmp(r->split, split) == 0);
}

static int
write_failed(char *err, size_t errlen)
{
	snprintf(err, errlen, "%s", strerror(errno ? errno : EIO));
	return -1;
}

static int
write_jsonl(FILE *out, const struct mirad_recordset *records, const char *split,
    char *err, size_t errlen)
{
	for (size_t i = 0; i < records->count; i++) {
		if (!wanted(records->items[i], split))
			continue;
		if (mirad_record_write(out, records->items[i]) != 0)
			return write_failed(err, errlen);
	}
	return 0;
}

static int
write_csv(FILE *out, const struct mirad_recordset *records, const char *split,
    const struct mirad_format_options *opts, bool visa, char *err,
    size_t errlen)
{
	static const char *const visa_header[] = {
	    "object", "split", "label", "image", "mask"};
	static const char *const tabular_header[] = {
	    "image_path", "label", "label_index", "split", "mask_path"};
	int rc = 0;

	if (mirad_csv_write_row(
	        out, visa ? visa_header : tabular_header, 5, visa) != 0)
		return write_failed(err, errlen);
	for (size_t i = 0; i < records->count && rc == 0; i++) {
		const struct mirad_record *r = records->items[i];
		bool anomaly = mirad_record_is_anomaly(r);
		char *image, *mask;
		const char *row[5];

		if (!wanted(r, split))
			continue;
		if (!visa && anomaly && strcmp(r->split, "train") == 0) {
			snprintf(err, errlen,
			    "%s: anomalib's Tabular rejects anomalies in train "
			    "(choose another format)",
			    r->image);
			return -1;
		}
		image = shown_path(r, r->image, opts);
		mask = anomaly ? shown_path(r, r->mask, opts) : NULL;
		if (visa) {
			row[0] = r->category;
			row[1] = r->split;
			row[2] = r->label;
			row[3] = image;
			row[4] = mask ? mask : "";
		} else {
			row[0] = image;
			/* anomalib's DirType names. */
			row[1] = anomaly
			    ? "abnormal"
			    : (strcmp(r->split, "train") == 0 ? "normal"
			                                      : "normal_test");
			row[2] = anomaly ? "1" : "0";
			row[3] = r->split;
			row[4] = mask ? mask : "";
		}
		if (mirad_csv_write_row(out, row, 5, visa) != 0)
			rc = write_failed(err, errlen);
		free(image);
		free(mask);
	}
	return rc;
}

/* Add a string to OBJ; dies on allocation failure like the manifest
 * module does. */
static void
add_str(cJSON *obj, const char *key, const char *value)
{
	if (cJSON_AddStringToObject(obj, key, value) == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
}

static void
add_num(cJSON *obj, const char *key, double value)
{
	if (cJSON_AddNumberToObject(obj, key, value) == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
}

static int
print_json(FILE *out, cJSON *obj, char *err, size_t errlen)
{
	char *text = cJSON_PrintUnformatted(obj);
	int rc = 0;

	if (text == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	if (fputs(text, out) == EOF || putc('\n', out) == EOF)
		rc = write_failed(err, errlen);
	cJSON_free(text);
	return rc;
}

/*
 * The name UniAD gives the result file of the image at PATH (as written in
 * the list) of class CLSNAME: "{clsname}_{folder}_{file}" with the last
 * extension taken off by os.path.splitext (UniAD's utils/eval_helper.py
 * dump()).  Caller frees.
 */
static char *
uniad_result_name(const char *clsname, const char *path)
{
	char *dir = mirad_path_dirname(path);
	const char *folder =
	    strcmp(dir, ".") == 0 ? "" : mirad_path_basename(dir);
	char *name = mirad_xasprintf(
	    "%s_%s_%s", clsname, folder, mirad_path_basename(path));
	char *dot = strrchr(name, '.');

	/* splitext ignores the dots a name starts with. */
	if (dot != NULL && strspn(name, ".") < (size_t)(dot - name))
		*dot = '\0';
	free(dir);
	return name;
}

/* Two records of one UniAD list whose results would overwrite each other:
 * refuse the list, naming them. */
static int
check_uniad(const struct mirad_recordset *records, const char *split,
    const struct mirad_format_options *opts, char *err, size_t errlen)
{
	GHashTable *seen =
	    g_hash_table_new_full(g_str_hash, g_str_equal, free, free);
	int rc = 0;

	for (size_t i = 0; i < records->count && rc == 0; i++) {
		const struct mirad_record *r = records->items[i];
		char *path, *name, *key;
		const char *other;

		if (!wanted(r, split))
			continue;
		path = shown_path(r, r->image, opts);
		name = uniad_result_name(r->category, path);
		/* One list per split: names may repeat across splits. */
		key = mirad_xasprintf("%s/%s", r->split ? r->split : "", name);
		other = g_hash_table_lookup(seen, key);
		if (other != NULL) {
			snprintf(err, errlen,
			    "%s and %s would share UniAD's result file %s "
			    "(named {clsname}_{folder}_{stem})",
			    other, path, name);
			rc = MIRAD_FORMAT_NAME_CLASH;
			free(key);
			free(path);
		} else {
			g_hash_table_insert(seen, key, path);
		}
		free(name);
	}
	g_hash_table_destroy(seen);
	return rc;
}

static int
write_uniad(FILE *out, const struct mirad_recordset *records, const char *split,
    const struct mirad_format_options *opts, char *err, size_t errlen)
{
	int clash = check_uniad(records, split, opts, err, errlen);

	if (clash != 0)
		return clash;
	for (size_t i = 0; i < records->count; i++) {
		const struct mirad_record *r = records->items[i];
		bool anomaly = mirad_record_is_anomaly(r);
		cJSON *obj;
		char *path;
		int rc;

		if (!wanted(r, split))
			continue;
		obj = cJSON_CreateObject();
		if (obj == NULL)
			mirad_die_errno(
			    MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
		path = shown_path(r, r->image, opts);
		add_str(obj, "filename", path);
		free(path);
		add_num(obj, "label", anomaly ? 1 : 0);
		add_str(obj, "label_name", anomaly ? "defective" : "good");
		/* UniAD turns an anomaly without maskname into an all-255
		 * mask, so the key is written only when a mask exists. */
		if (anomaly && r->mask != NULL) {
			path = shown_path(r, r->mask, opts);
			add_str(obj, "maskname", path);
			free(path);
		}
		add_str(obj, "clsname", r->category);
		rc = print_json(out, obj, err, errlen);
		cJSON_Delete(obj);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static cJSON *
child_object(cJSON *parent, const char *key)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(parent, key);

	if (c == NULL) {
		c = cJSON_AddObjectToObject(parent, key);
		if (c == NULL)
			mirad_die_errno(
			    MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	}
	return c;
}

static cJSON *
child_array(cJSON *parent, const char *key)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(parent, key);

	if (c == NULL) {
		c = cJSON_AddArrayToObject(parent, key);
		if (c == NULL)
			mirad_die_errno(
			    MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	}
	return c;
}

static int
write_meta(FILE *out, const struct mirad_recordset *records, const char *split,
    const struct mirad_format_options *opts, char *err, size_t errlen)
{
	static const char *const splits[] = {"train", "test", "val"};
	cJSON *root = cJSON_CreateObject();
	int rc;

	if (root == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	/* "train" and "test" always exist: the readers index them. */
	child_object(root, "train");
	child_object(root, "test");
	for (size_t s = 0; s < 3; s++) {
		for (size_t i = 0; i < records->count; i++) {
			const struct mirad_record *r = records->items[i];
			bool anomaly = mirad_record_is_anomaly(r);
			cJSON *list, *item;
			char *path;

			if (!wanted(r, split) ||
			    strcmp(r->split, splits[s]) != 0)
				continue;
			list = child_array(
			    child_object(root, splits[s]), r->category);
			item = cJSON_CreateObject();
			if (item == NULL || !cJSON_AddItemToArray(list, item))
				mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM,
				    "allocation failed");
			path = shown_path(r, r->image, opts);
			add_str(item, "img_path", path);
			free(path);
			path = anomaly ? shown_path(r, r->mask, opts) : NULL;
			add_str(item, "mask_path", path ? path : "");
			free(path);
			add_str(item, "cls_name", r->category);
			add_str(item, "specie_name",
			    r->defect ? r->defect : (anomaly ? "" : "good"));
			add_num(item, "anomaly", anomaly ? 1 : 0);
		}
	}
	rc = print_json(out, root, err, errlen);
	cJSON_Delete(root);
	return rc;
}

int
mirad_format_write_split(FILE *out, enum mirad_format fmt,
    const struct mirad_recordset *records, const char *split,
    const struct mirad_format_options *opts, char *err, size_t errlen)
{
	errno = 0;
	switch (fmt) {
	case MIRAD_FORMAT_JSONL:
		return write_jsonl(out, records, split, err, errlen);
	case MIRAD_FORMAT_VISA_CSV:
		return write_csv(out, records, split, opts, true, err, errlen);
	case MIRAD_FORMAT_TABULAR_CSV:
		return write_csv(out, records, split, opts, false, err, errlen);
	case MIRAD_FORMAT_UNIAD:
		return write_uniad(out, records, split, opts, err, errlen);
	case MIRAD_FORMAT_META_JSON:
		return write_meta(out, records, split, opts, err, errlen);
	}
	snprintf(err, errlen, "unknown format %d", (int)fmt);
	return -1;
}

int
mirad_format_check(enum mirad_format fmt, const struct mirad_recordset *records,
    const struct mirad_format_options *opts, char *err, size_t errlen)
{
	if (fmt == MIRAD_FORMAT_UNIAD)
		return check_uniad(records, NULL, opts, err, errlen);
	return 0;
}

int
mirad_format_write(FILE *out, enum mirad_format fmt,
    const struct mirad_recordset *records,
    const struct mirad_format_options *opts, char *err, size_t errlen)
{
	return mirad_format_write_split(
	    out, fmt, records, NULL, opts, err, errlen);
}

const char *
mirad_format_extension(enum mirad_format fmt)
{
	if ((unsigned)fmt >= sizeof extensions / sizeof *extensions)
		return "";
	return extensions[fmt];
}

bool
mirad_format_one_split_per_file(enum mirad_format fmt)
{
	return fmt == MIRAD_FORMAT_UNIAD;
}
