/* SPDX-License-Identifier: MIT */
/*
 * mirad-convert's plan: where each record goes in the target layout and
 * the final file names.  Pure path logic, no
 * I/O, so it is unit-tested on its own (tests/unit/test_convert_plan.c).
 */
#ifndef CONVERT_PLAN_H
#define CONVERT_PLAN_H

#include "mirad_platform.h"

#include "mirad_manifest.h"

enum convert_target {
	CONVERT_TO_NONE = 0, /* --emit only: no tree */
	CONVERT_TO_MIRAD,
	CONVERT_TO_MVTEC,
	CONVERT_TO_VISA,
	CONVERT_TO_VISA_PREPARED
};

/* Parse "mirad", "mvtec", "visa", "visa-prepared"; -1 if unknown. */
int convert_target_from_name(const char *name, enum convert_target *out);
/* The name of T ("none" for CONVERT_TO_NONE). */
const char *convert_target_name(enum convert_target t);

struct convert_plan_options {
	enum convert_target target;
	/* visa-prepared: the folder above the classes ("1cls",
	 * "2cls_fewshot", or "visa_pytorch" for --anomalib). */
	const char *prefix;
	/* visa-prepared: the 2cls structure (ground_truth/{train,test}/bad,
	 * anomalies under train/). */
	bool two_class;
};

/* One record on its way through the converter. */
struct convert_item {
	const struct mirad_record *src; /* borrowed from the input set */
	char *image_dir;                /* planned folder, relative to OUT */
	char *mask_dir;                 /* folder for its mask, or NULL */
	char *out_ext;                  /* extension of the written image */
	bool transcode;                 /* decode and encode (else link) */

	/* Filled in by the processing step. */
	bool done;                   /* processed successfully */
	char *error;                 /* "path: reason" when not done */
	int width, height, channels; /* of the written image */
	bool wrote_mask;
	/* The output could not be written (a full disk): the run stops. */
	bool fatal;

	/* Where the processing step writes (convert_plan_names() with
	 * PLANNED true: as if every planned item succeeds). */
	char *planned_image_rel, *planned_mask_rel;
	/* Final names (convert_plan_names() with PLANNED false: done items
	 * only).  They differ from the planned ones only after failures. */
	char *image_rel, *mask_rel; /* relative to OUT */
};

/*
 * Plan the folders of ITEM (image_dir, mask_dir) for its record.  Returns
 * 0, or -1 with a reason in WHY when the target cannot hold the record (an
 * anomalous training image in the MVTec layout, a validation image in VisA,
 * an unsafe category name, ...).
 */
int convert_plan_folders(const struct convert_plan_options *o,
    struct convert_item *item, char *why, size_t whylen);

/*
 * Is NAME safe as one path component of the output (non-empty, no '/',
 * not starting with '.', printable ASCII)?
 */
bool convert_plan_safe_name(const char *name);

/*
 * Name the items of ITEMS[0..N) in their order, so the result does not
 * depend on thread timing.  With PLANNED, every item with an image_dir is
 * named (planned_image_rel, and planned_mask_rel when its record has a
 * mask); without, only the done items (image_rel, mask_rel when
 * wrote_mask).
 * Renumbering targets (mirad, mvtec, visa) name files 000, 001, ... per
 * folder with one width per folder (at least 3 digits), so sorted order
 * equals pairing order; visa-prepared keeps the original names and
 * disambiguates stems that collide within a folder.
 */
void convert_plan_names(const struct convert_plan_options *o,
    struct convert_item *items, size_t n, bool planned);

/* Free what the item owns (not the item itself). */
void convert_item_clear(struct convert_item *item);

#endif
