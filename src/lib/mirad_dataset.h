/* SPDX-License-Identifier: MIT */
/*
 * The input every tool accepts: a dataset directory (scanned with
 * mirad_layout), a manifest file, or "-" (a manifest on stdin).
 */
#ifndef MIRAD_DATASET_H
#define MIRAD_DATASET_H

#include "mirad_platform.h"

#include "mirad_layout.h"
#include "mirad_manifest.h"

struct mirad_dataset_options {
	struct mirad_scan_options scan; /* for directories */
	const char *root;               /* --root: where manifest paths
	                                   resolve (may be NULL) */
};

struct mirad_dataset_info {
	bool from_manifest;           /* else a scanned directory */
	struct mirad_scan_stats scan; /* layout, ignored, problems */
	size_t bad_lines;             /* malformed manifest lines */
	cJSON *header;                /* manifest header or NULL; owned,
	                                 free with cJSON_Delete() */
	/* The records naming an image loaded before them, as indexes into
	 * OUT as loaded; owned, free().  See mirad_duplicate_describe(). */
	struct mirad_duplicate *duplicates;
	size_t nduplicates;
};

/*
 * Load INPUT into OUT (appending).  Problems and malformed manifest lines
 * go to the scan options' callback and are counted in INFO; records naming
 * the same image file are listed in INFO's duplicates (the tool decides
 * what to say and do).  Returns 0, or -1 when INPUT cannot be read at all
 * (reason in ERR), or mirad_layout_scan()'s MIRAD_LAYOUT_UNKNOWN (reason in
 * ERR; mirad_cli_dataset_advice() words what the user can do).
 */
int mirad_dataset_load(const char *input,
    const struct mirad_dataset_options *opts, struct mirad_recordset *out,
    struct mirad_dataset_info *info, char *err, size_t errlen);

/*
 * Is the output OUT apart from the input: not the dataset folder, the
 * manifest, a record's root (when a relative path uses it), image or mask,
 * not inside a root, and, when it REPLACES what is there (a folder
 * published with -f), not holding one of them?  Compared by real paths
 * (mirad_out_guard).  0, or -1 with "OUT: why" in ERR.
 */
int mirad_dataset_check_output(const char *input,
    const struct mirad_dataset_options *opts,
    const struct mirad_recordset *records, const char *out, bool replaces,
    char *err, size_t errlen);

/*
 * When INPUT is a dataset folder, make messages name the files of its
 * records (which carry the absolute root) under INPUT as the user typed
 * it (mirad_set_shown_root).
 */
void mirad_dataset_show_as_given(const char *input);

/*
 * The same for a single output FILE (-o of stats, eval): refused only when
 * it is the manifest or a record's image or mask, which writing it would
 * destroy.  0, or -1 with "FILE: why" in ERR.
 */
int mirad_dataset_check_output_file(const char *input,
    const struct mirad_dataset_options *opts,
    const struct mirad_recordset *records, const char *out, char *err,
    size_t errlen);

/* INPUT as messages name it: "<stdin>" for "-"; borrowed. */
const char *mirad_dataset_name(const char *input);

#endif
