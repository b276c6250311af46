/* SPDX-License-Identifier: MIT */
/*
 * The datasets mirad-fetch knows: where to get them, their pins (SHA-256
 * and size, where a public value exists) and the image counts a complete
 * tree has, per category.
 */
#ifndef FETCH_CATALOGUE_H
#define FETCH_CATALOGUE_H

#include "mirad_platform.h"

#include "mirad_layout.h"

struct fetch_count {
	const char *category;
	unsigned train, test_normal, test_abnormal;
};

struct fetch_dataset {
	const char *name;     /* --dataset value */
	const char *title;    /* for messages */
	const char *url;      /* plain download URL, or NULL */
	const char *drive_id; /* Google Drive file id, or NULL */
	const char *file;     /* archive name, for messages */
	const char *sha256;   /* pinned digest (lower-case hex) or NULL */
	uint64_t size;        /* pinned size in bytes, or 0 */
	enum mirad_layout layout;
	const struct fetch_count *counts; /* per category, sorted */
	size_t ncounts;
};

/* The entry called NAME (borrowed, static), or NULL. */
const struct fetch_dataset *fetch_catalogue_find(const char *name);
/* "mirad, visa, mvtec-ad": the names, for usage messages (static). */
const char *fetch_catalogue_names(void);
/* The expected counts of CATEGORY in D, or NULL. */
const struct fetch_count *fetch_catalogue_count(
    const struct fetch_dataset *d, const char *category);
/*
 * The archive entries a complete D may hold: images, masks and folders,
 * with room for extra files; far below the generic extraction limit.
 */
uint64_t fetch_catalogue_max_entries(const struct fetch_dataset *d);

#endif
