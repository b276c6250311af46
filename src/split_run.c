/* SPDX-License-Identifier: MIT */
/* mirad-split's engine: settings, protocols, views (split_run.h). */
#include "mirad_platform.h"

#include <stdlib.h>
#include <string.h>

#include "mirad_cli.h"
#include "mirad_err.h"
#include "split_run.h"

void
split_settings_free(struct split *s)
{
	free(s->shots);
	free(s->by_field);
	mirad_strlist_free(&s->by_values);
	mirad_strlist_free(&s->categories);
}

bool
split_has_protocol(const struct split *s)
{
	return s->seed_given || s->shots != NULL || s->val.given ||
	    s->train_anomalies.given || s->folds != 0 ||
	    s->categories.count > 0 || s->merge != NULL || s->by_field ||
	    s->nodes != NULL || s->in.scan.split_csv != NULL;
}

void
split_apply_protocols(struct split *s, struct mirad_recordset *records)
{
	char err[1024];
	size_t n;

	if (s->nodes != NULL) {
		if (split_attach_nodes(
		        records, s->nodes, &n, err, sizeof err) != 0)
			mirad_die(MIRAD_EXIT_FATAL, "%s", err);
		if (n > 0)
			mirad_note("%s: %zu images have no node", s->nodes, n);
	}
	if (s->in.scan.split_csv != NULL) {
		if (split_apply_split_csv(records, s->in.scan.split_csv, &n,
		        err, sizeof err) != 0)
			mirad_die(MIRAD_EXIT_FATAL, "%s", err);
		if (n > 0)
			mirad_note("%s: %zu images are not listed (left out)",
			    s->in.scan.split_csv, n);
	}
	if (s->categories.count > 0 &&
	    split_keep_categories(records, &s->categories, err, sizeof err))
		mirad_usage_error("%s", err);
	if (records->count == 0)
		mirad_die(MIRAD_EXIT_FATAL, "%s: no images", s->input);
	if (s->by_field != NULL) {
		if (split_by_field(records, s->by_field, &s->by_values, &n, err,
		        sizeof err) != 0)
			mirad_usage_error("--by %s: %s", s->by_arg, err);
		if (n > 0)
			mirad_note("--by %s: %zu anomalies on train %ss left "
			           "out",
			    s->by_arg, n, s->by_field);
	}
	if (s->train_anomalies.given &&
	    split_train_anomalies(records, s->seed, &s->train_anomalies,
	        s->by_defect, err, sizeof err) != 0)
		mirad_usage_error("%s", err);
	if (s->folds != 0 &&
	    split_folds(records, s->seed, s->folds, s->fold, s->by_defect, err,
	        sizeof err) != 0)
		mirad_usage_error("%s", err);
	if (s->val.given &&
	    split_val(records, s->seed, &s->val, err, sizeof err) != 0)
		mirad_usage_error("%s", err);
}

struct split_view *
split_make_views(const struct split *s, const struct mirad_recordset *records,
    size_t *nviews_out)
{
	struct split_view *views;
	size_t nviews;
	char err[1024];

	/* The K-shot views (borrowed records); the merge comes last so that
	 * K counts per original category. */
	nviews = s->shots ? s->nshots : 1;
	views = mirad_xcalloc(nviews, sizeof *views);
	for (size_t v = 0; v < nviews; v++) {
		views[v].k = s->shots ? s->shots[v] : SIZE_MAX;
		if (s->shots == NULL) {
			mirad_recordset_view(&views[v].set, records);
		} else if (split_shots(records, s->seed, s->shots[v],
		               &views[v].set, err, sizeof err) != 0) {
			mirad_usage_error("%s", err);
		}
	}
	*nviews_out = nviews;
	return views;
}

void
split_views_free(struct split_view *views, size_t nviews)
{
	for (size_t v = 0; v < nviews; v++)
		mirad_recordset_clear(&views[v].set);
	free(views);
}

void
split_check_format(const struct split *s, const struct mirad_recordset *records,
    const struct split_view *views, size_t nviews)
{
	char err[1024];

	/* A format that cannot hold the result is a bad request, found
	 * before anything is written. */
	if (s->format == MIRAD_FORMAT_TABULAR_CSV) {
		for (size_t i = 0; i < records->count; i++)
			if (mirad_record_is_anomaly(records->items[i]) &&
			    strcmp(records->items[i]->split, "train") == 0)
				mirad_usage_error(
				    "--format tabular-csv: anomalib's Tabular "
				    "rejects anomalies in train (%s); use "
				    "another format",
				    records->items[i]->image);
	}
	for (size_t v = 0; v < nviews; v++) {
		int rc = mirad_format_check(
		    s->format, &views[v].set, NULL, err, sizeof err);

		if (rc != 0)
			mirad_usage_error("--format %s: %s",
			    mirad_format_name(s->format),
			    mirad_cli_format_advice(rc, err, sizeof err));
	}
}
