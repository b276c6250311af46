/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <errno.h>
#include <stdio.h>
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
			const char *msg = mirad_manifest_error(m);
			const char *sep = strstr(msg, ": ");
			char where[512];

			info->bad_lines++;
			if (opts->scan.problem != NULL && sep != NULL) {
				snprintf(where, sizeof where, "%.*s",
				    (int)(sep - msg), msg);
				opts->scan.problem(
				    opts->scan.problem_ctx, where, sep + 2);
			}
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
