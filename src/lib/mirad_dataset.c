/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirad_dataset.h"
#include "mirad_err.h"
#include "mirad_fs.h"

static int
load_manifest(const char *input, const struct mirad_dataset_options *opts,
    struct mirad_recordset *out, struct mirad_dataset_info *info, char *err,
    size_t errlen)
{
	struct mirad_manifest *m = mirad_manifest_open(input, opts->root);
	struct mirad_record *r;
	enum mirad_manifest_status st;
	const cJSON *hdr;

	if (m == NULL) {
		snprintf(err, errlen, "%s: %s", input, strerror(errno));
		return -1;
	}
	while ((st = mirad_manifest_next(m, &r)) != MIRAD_MANIFEST_EOF) {
		if (st == MIRAD_MANIFEST_RECORD) {
			mirad_recordset_push(out, r);
		} else if (st == MIRAD_MANIFEST_BAD) {
			info->bad_lines++;
			if (opts->scan.problem != NULL)
				opts->scan.problem(opts->scan.problem_ctx,
				    mirad_manifest_error_where(m),
				    mirad_manifest_error_reason(m));
		} else {
			snprintf(err, errlen, "%s: %s",
			    strcmp(input, "-") == 0 ? "<stdin>" : input,
			    strerror(errno));
			mirad_manifest_close(m);
			return -1;
		}
	}
	hdr = mirad_manifest_header(m);
	if (hdr != NULL)
		info->header = cJSON_Duplicate(hdr, 1);
	mirad_manifest_close(m);
	return 0;
}

int
mirad_dataset_load(const char *input, const struct mirad_dataset_options *opts,
    struct mirad_recordset *out, struct mirad_dataset_info *info, char *err,
    size_t errlen)
{
	size_t first = out->count;
	int rc;

	memset(info, 0, sizeof *info);
	if (strcmp(input, "-") == 0 || !mirad_is_dir(input)) {
		if (strcmp(input, "-") != 0 && !mirad_exists(input)) {
			snprintf(
			    err, errlen, "%s: %s", input, strerror(ENOENT));
			return -1;
		}
		info->from_manifest = true;
		rc = load_manifest(input, opts, out, info, err, errlen);
	} else {
		rc = mirad_layout_scan(
		    input, &opts->scan, out, &info->scan, err, errlen);
	}
	if (rc == 0)
		info->nduplicates = mirad_recordset_find_duplicates(
		    out, first, &info->duplicates);
	return rc;
}

const char *
mirad_dataset_name(const char *input)
{
	return strcmp(input, "-") == 0 ? "<stdin>" : input;
}

/* The check of both public functions: with FILES_ONLY, folders (the
 * dataset, roots) are not checked and OUT is only refused on an input. */
static int
check_output(const char *input, const struct mirad_dataset_options *opts,
    const struct mirad_recordset *records, const char *out, bool replaces,
    bool files_only, char *err, size_t errlen)
{
	struct mirad_out_guard *g = replaces ? mirad_out_guard_new(out)
	                                     : mirad_out_guard_new_adding(out);
	const char *last_root = NULL;
	int rc = 0;

	if (g == NULL) {
		snprintf(err, errlen, "%s: %s", out, strerror(errno));
		return -1;
	}
	if (strcmp(input, "-") != 0 && !(files_only && mirad_is_dir(input)))
		rc = mirad_out_guard_check(
		    g, input, mirad_is_dir(input), err, errlen);
	if (rc == 0 && opts->root != NULL && !files_only)
		rc = mirad_out_guard_check(g, opts->root, true, err, errlen);
	for (size_t i = 0; i < records->count && rc == 0; i++) {
		const struct mirad_record *r = records->items[i];
		const char *rels[2] = {r->image, r->mask};

		for (int k = 0; k < 2 && rc == 0; k++) {
			char *path;

			if (rels[k] == NULL)
				continue;
			/* Records share a few roots: check each once in a
			 * row. */
			if (!files_only && rels[k][0] != '/' &&
			    r->root != NULL &&
			    (last_root == NULL ||
			        strcmp(r->root, last_root) != 0)) {
				rc = mirad_out_guard_check(
				    g, r->root, true, err, errlen);
				last_root = r->root;
				if (rc != 0)
					break;
			}
			path = mirad_record_path(r, rels[k]);
			rc = mirad_out_guard_check(g, path, false, err, errlen);
			free(path);
		}
	}
	mirad_out_guard_free(g);
	return rc;
}

int
mirad_dataset_check_output(const char *input,
    const struct mirad_dataset_options *opts,
    const struct mirad_recordset *records, const char *out, bool replaces,
    char *err, size_t errlen)
{
	return check_output(
	    input, opts, records, out, replaces, false, err, errlen);
}

int
mirad_dataset_check_output_file(const char *input,
    const struct mirad_dataset_options *opts,
    const struct mirad_recordset *records, const char *out, char *err,
    size_t errlen)
{
	return check_output(
	    input, opts, records, out, false, true, err, errlen);
}

void
mirad_dataset_show_as_given(const char *input)
{
	char *absolute;

	if (input == NULL || strcmp(input, "-") == 0 || !mirad_is_dir(input))
		return;
	absolute = mirad_path_absolute(input);
	if (absolute != NULL)
		mirad_set_shown_root(absolute, input);
	free(absolute);
}
