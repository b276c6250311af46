/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_plan.h"
#include "mirad_err.h"
#include "mirad_fs.h"

static const char *const target_names[] = {
    "none", "mirad", "mvtec", "visa", "visa-prepared"};

int
convert_target_from_name(const char *name, enum convert_target *out)
{
	/* "none" is internal: no --to. */
	for (size_t i = 1; i < sizeof target_names / sizeof *target_names;
	     i++) {
		if (strcmp(name, target_names[i]) == 0) {
			*out = (enum convert_target)i;
			return 0;
		}
	}
	return -1;
}

const char *
convert_target_name(enum convert_target t)
{
	return (size_t)t < sizeof target_names / sizeof *target_names
	    ? target_names[t]
	    : "none";
}

bool
convert_plan_safe_name(const char *name)
{
	if (name == NULL || *name == '\0' || *name == '.')
		return false;
	for (const char *p = name; *p; p++)
		if (*p == '/' || *p == '\\' || *p < 0x20 || *p > 0x7e)
			return false;
	return true;
}

/* The folder of the split: MVTec LOCO calls its extra split
 * "validation". */
static const char *
split_folder(const char *split)
{
	return strcmp(split, "val") == 0 ? "validation" : split;
}

int
convert_plan_folders(const struct convert_plan_options *o,
    struct convert_item *item, char *why, size_t whylen)
{
	const struct mirad_record *r = item->src;
	bool anomaly = mirad_record_is_anomaly(r);
	const char *split = r->split ? r->split : "test";
	const char *cat = r->category;
	const char *defect;

	if (!convert_plan_safe_name(cat)) {
		snprintf(why, whylen,
		    "category '%s' is not a safe folder name (skipped)",
		    cat ? cat : "");
		return -1;
	}
	if (strcmp(split, "train") != 0 && strcmp(split, "test") != 0 &&
	    strcmp(split, "val") != 0) {
		snprintf(why, whylen, "unknown split '%s' (skipped)", split);
		return -1;
	}
	switch (o->target) {
	case CONVERT_TO_MIRAD:
	case CONVERT_TO_MVTEC:
		if (anomaly && strcmp(split, "test") != 0) {
			snprintf(why, whylen,
			    "anomalous %s image: the %s layout holds anomalies "
			    "only under test/ (skipped)",
			    split,
			    o->target == CONVERT_TO_MIRAD ? "mirad" : "mvtec");
			return -1;
		}
		if (!anomaly)
			defect = "good";
		else if (o->target == CONVERT_TO_MIRAD)
			defect = "anomaly";
		else if (convert_plan_safe_name(r->defect) &&
		    strcmp(r->defect, "good") != 0)
			defect = r->defect;
		else
			defect = "anomaly";
		item->image_dir = mirad_xasprintf(
		    "%s/%s/%s", cat, split_folder(split), defect);
		if (anomaly)
			item->mask_dir =
			    mirad_xasprintf("%s/ground_truth/%s", cat, defect);
		return 0;
	case CONVERT_TO_VISA:
		if (strcmp(split, "val") == 0) {
			snprintf(why, whylen,
			    "validation image: VisA split files know only "
			    "train and test (skipped)");
			return -1;
		}
		item->image_dir = mirad_xasprintf(
		    "%s/Data/Images/%s", cat, anomaly ? "Anomaly" : "Normal");
		if (anomaly)
			item->mask_dir =
			    mirad_xasprintf("%s/Data/Masks/Anomaly", cat);
		return 0;
	case CONVERT_TO_VISA_PREPARED:
		if (strcmp(split, "val") == 0) {
			snprintf(why, whylen,
			    "validation image: prepared VisA has only train "
			    "and test (skipped)");
			return -1;
		}
		if (anomaly && strcmp(split, "train") == 0 && !o->two_class) {
			snprintf(why, whylen,
			    "anomalous training image in a 1cls split "
			    "(skipped)");
			return -1;
		}
		item->image_dir = mirad_xasprintf("%s/%s/%s/%s", o->prefix, cat,
		    split, anomaly ? "bad" : "good");
		if (anomaly && o->two_class)
			item->mask_dir = mirad_xasprintf(
			    "%s/%s/ground_truth/%s/bad", o->prefix, cat, split);
		else if (anomaly)
			item->mask_dir = mirad_xasprintf(
			    "%s/%s/ground_truth/bad", o->prefix, cat);
		return 0;
	case CONVERT_TO_NONE:
		break;
	}
	snprintf(why, whylen, "no target layout");
	return -1;
}

/* Is IT named in this pass, and does it get a mask name? */
static bool
named(const struct convert_item *it, bool planned)
{
	return planned ? it->image_dir != NULL : it->done;
}

static bool
gets_mask(const struct convert_item *it, bool planned)
{
	return planned ? it->mask_dir != NULL && it->src->mask != NULL
	               : it->wrote_mask;
}

static void
set_names(struct convert_item *it, bool planned, char *image, char *mask)
{
	char **pi = planned ? &it->planned_image_rel : &it->image_rel;
	char **pm = planned ? &it->planned_mask_rel : &it->mask_rel;

	free(*pi);
	free(*pm);
	*pi = image;
	*pm = mask;
}

static int
digits(size_t n)
{
	int d = 1;

	while (n >= 10) {
		n /= 10;
		d++;
	}
	return d;
}

/* Numbered names: 000.png ... per folder, one width per folder. */
static void
names_numbered(const struct convert_plan_options *o, struct convert_item *items,
    size_t n, bool planned)
{
	GHashTable *count =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, NULL);
	GHashTable *next =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, NULL);
	const char *mask_suffix =
	    o->target == CONVERT_TO_VISA ? ".png" : "_mask.png";

	for (size_t i = 0; i < n; i++) {
		if (!named(&items[i], planned))
			continue;
		g_hash_table_insert(count, items[i].image_dir,
		    GSIZE_TO_POINTER(GPOINTER_TO_SIZE(g_hash_table_lookup(
		                         count, items[i].image_dir)) +
		        1));
	}
	for (size_t i = 0; i < n; i++) {
		struct convert_item *it = &items[i];
		size_t total, k;
		int width;

		if (!named(it, planned))
			continue;
		total =
		    GPOINTER_TO_SIZE(g_hash_table_lookup(count, it->image_dir));
		width = digits(total > 0 ? total - 1 : 0);
		if (width < 3)
			width = 3;
		k = GPOINTER_TO_SIZE(g_hash_table_lookup(next, it->image_dir));
		g_hash_table_insert(
		    next, it->image_dir, GSIZE_TO_POINTER(k + 1));
		set_names(it, planned,
		    mirad_xasprintf(
		        "%s/%0*zu%s", it->image_dir, width, k, it->out_ext),
		    gets_mask(it, planned)
		        ? mirad_xasprintf(
		              "%s/%0*zu%s", it->mask_dir, width, k, mask_suffix)
		        : NULL);
	}
	g_hash_table_destroy(count);
	g_hash_table_destroy(next);
}

/* The name of the folder holding REL ("Anomaly" for x/Anomaly/000.JPG). */
static char *
parent_name(const char *rel)
{
	char *dir = mirad_path_dirname(rel);
	char *name = mirad_xstrdup(mirad_path_basename(dir));

	free(dir);
	return name;
}

/*
 * Original names (prepare_data.py keeps them).  Stems must be unique per
 * folder, because the mask takes the image's stem: a colliding stem gets
 * the source folder as prefix ("Anomaly_000"), then a counter.
 */
static void
names_original(struct convert_item *items, size_t n, bool planned)
{
	GHashTable *taken =
	    g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);

	for (size_t i = 0; i < n; i++) {
		struct convert_item *it = &items[i];
		char *stem, *key, *candidate;
		unsigned k = 1;

		if (!named(it, planned))
			continue;
		stem = mirad_path_stem(it->src->image);
		candidate = mirad_xstrdup(stem);
		key = mirad_xasprintf("%s/%s", it->image_dir, candidate);
		if (g_hash_table_contains(taken, key)) {
			char *parent = parent_name(it->src->image);

			free(candidate);
			free(key);
			candidate = mirad_xasprintf("%s_%s", parent, stem);
			key =
			    mirad_xasprintf("%s/%s", it->image_dir, candidate);
			free(parent);
		}
		while (g_hash_table_contains(taken, key)) {
			free(candidate);
			free(key);
			candidate = mirad_xasprintf("%s_%u", stem, k++);
			key =
			    mirad_xasprintf("%s/%s", it->image_dir, candidate);
		}
		g_hash_table_add(taken, key);
		set_names(it, planned,
		    mirad_xasprintf(
		        "%s/%s%s", it->image_dir, candidate, it->out_ext),
		    gets_mask(it, planned)
		        ? mirad_xasprintf("%s/%s.png", it->mask_dir, candidate)
		        : NULL);
		free(candidate);
		free(stem);
	}
	g_hash_table_destroy(taken);
}

void
convert_plan_names(const struct convert_plan_options *o,
    struct convert_item *items, size_t n, bool planned)
{
	if (o->target == CONVERT_TO_VISA_PREPARED)
		names_original(items, n, planned);
	else if (o->target != CONVERT_TO_NONE)
		names_numbered(o, items, n, planned);
}

void
convert_item_clear(struct convert_item *item)
{
	free(item->image_dir);
	free(item->mask_dir);
	free(item->out_ext);
	free(item->error);
	free(item->planned_image_rel);
	free(item->planned_mask_rel);
	free(item->image_rel);
	free(item->mask_rel);
	memset(item, 0, sizeof *item);
}
