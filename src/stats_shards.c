/* SPDX-License-Identifier: MIT */
/* mirad-stats' partial files: --partial and --merge (stats_shards.h). */
#include "mirad_platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirad_err.h"
#include "mirad_image.h"
#include "stats_shards.h"

/* The parts of one --partial run's shards, as --merge checks them. */
struct merge_part {
	const char *file;
	const char *job;
	unsigned shard, shards;
};

/* The job fields of DOC (a partial of FILE) into P; dies when absent. */
static void
read_part(const cJSON *doc, const char *file, struct merge_part *p)
{
	const cJSON *job = cJSON_GetObjectItemCaseSensitive(doc, "job");
	const cJSON *shard = cJSON_GetObjectItemCaseSensitive(doc, "shard");
	const cJSON *shards = cJSON_GetObjectItemCaseSensitive(doc, "shards");

	if (!cJSON_IsString(job) || !cJSON_IsNumber(shard) ||
	    !cJSON_IsNumber(shards) || shards->valuedouble < 1 ||
	    shards->valuedouble > 1e6 || shard->valuedouble < 0 ||
	    shard->valuedouble >= shards->valuedouble)
		mirad_die(MIRAD_EXIT_FATAL,
		    "%s: no job fingerprint or shard number (made by an "
		    "older mirad-stats? make it again)",
		    file);
	p->file = file;
	p->job = job->valuestring;
	p->shard = (unsigned)shard->valuedouble;
	p->shards = (unsigned)shards->valuedouble;
}

/* The report options the partials were made with: --merge applies them
 * without their being repeated (--by given to --merge wins). */
static void
take_options(struct stats *s, const cJSON *doc)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(doc, "options");
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(o, "by");

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "imaging")))
		s->imaging = true;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "geometry")))
		s->geometry = true;
	if (!s->by_given && cJSON_IsString(by))
		stats_by_from_name(by->valuestring, &s->by);
}

void
stats_merge_inputs(struct stats *s)
{
	cJSON **docs = mirad_xcalloc((size_t)s->ninputs, sizeof *docs);
	struct merge_part *parts =
	    mirad_xcalloc((size_t)s->ninputs, sizeof *parts);
	const char **slot = NULL;
	unsigned n = 0, k;

	for (int i = 0; i < s->ninputs; i++) {
		gchar *text = NULL;
		gsize len = 0;
		GError *gerr = NULL;

		if (!g_file_get_contents(s->inputs[i], &text, &len, &gerr)) {
			mirad_warn("%s", gerr->message);
			g_error_free(gerr);
			mirad_image_shutdown();
			exit(MIRAD_EXIT_FATAL);
		}
		docs[i] = cJSON_ParseWithLength(text, len);
		g_free(text);
		if (docs[i] == NULL)
			mirad_die(MIRAD_EXIT_FATAL, "%s: not valid JSON",
			    s->inputs[i]);
		if (!cJSON_IsObject(docs[i]) ||
		    !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(
		        docs[i], "mirad_stats_partial")))
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: not a mirad-stats partial file", s->inputs[i]);
		read_part(docs[i], s->inputs[i], &parts[i]);
		if (i == 0) {
			n = parts[0].shards;
			slot = mirad_xcalloc(n, sizeof *slot);
		} else if (parts[i].shards != n) {
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: not from the same run as %s (a shard of %u, "
			    "not of %u)",
			    s->inputs[i], s->inputs[0], parts[i].shards, n);
		} else if (strcmp(parts[i].job, parts[0].job) != 0) {
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: not from the same run as %s (another dataset "
			    "or other options)",
			    s->inputs[i], s->inputs[0]);
		}
		if (slot[parts[i].shard] != NULL)
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: shard %u/%u given twice (also %s)",
			    s->inputs[i], parts[i].shard, n,
			    slot[parts[i].shard]);
		slot[parts[i].shard] = s->inputs[i];
	}
	for (k = 0; k < n && slot[k] != NULL; k++)
		continue;
	free(slot);
	if (k < n)
		mirad_die(MIRAD_EXIT_FATAL,
		    "missing shard %u/%u (%d of %u partial files given)", k, n,
		    s->ninputs, n);
	take_options(s, docs[0]);
	for (int i = 0; i < s->ninputs; i++) {
		char err[512];

		if (stats_partial_read(docs[i], &s->entries, err, sizeof err) !=
		    0)
			mirad_die(
			    MIRAD_EXIT_FATAL, "%s: %s", s->inputs[i], err);
		cJSON_Delete(docs[i]);
	}
	free(parts);
	free(docs);
}

void
stats_print_partial(const struct stats *s, FILE *f)
{
	cJSON *doc = stats_partial_to_json(&s->entries);
	cJSON *options = cJSON_CreateObject();
	char *text;

	/* Which shard of which job: --merge refuses incomplete or mixed
	 * sets.  A run without --shard is shard 0 of 1. */
	cJSON_AddStringToObject(doc, "job", s->job);
	cJSON_AddNumberToObject(doc, "shard", s->shard_index);
	cJSON_AddNumberToObject(
	    doc, "shards", s->shard_count > 0 ? s->shard_count : 1);
	cJSON_AddBoolToObject(options, "imaging", s->imaging);
	cJSON_AddBoolToObject(options, "geometry", s->geometry);
	cJSON_AddStringToObject(options, "by", stats_by_name(s->by));
	cJSON_AddItemToObject(doc, "options", options);
	text = stats_json_print(doc, false);

	fputs(text, f);
	fputc('\n', f);
	free(text);
	cJSON_Delete(doc);
}
