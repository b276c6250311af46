/* SPDX-License-Identifier: MIT */
/* mirad-stats' engine: entries, measures, reports (stats_run.h). */
#include "mirad_platform.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirad_csv.h"
#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_image.h"
#include "mirad_parallel.h"
#include "mirad_progress.h"
#include "mirad_shard.h"
#include "stats_run.h"

void
stats_run_free(struct stats *s)
{
	stats_table_free(&s->table);
	mirad_strlist_free(&s->categories);
	stats_entries_free(&s->entries);
}

/* --nodes: image (relative path) -> node, by the columns named in the
 * header (the reader mirad-split uses). */
static GHashTable *
load_nodes(const char *file)
{
	char err[1024];
	GHashTable *map =
	    mirad_csv_read_map(file, "image", "node", err, sizeof err);

	if (map == NULL)
		mirad_die(MIRAD_EXIT_FATAL, "%s", err);
	return map;
}

/* The node of R: its "node" field (text or number), else NODES. */
static const char *
record_node(
    const struct mirad_record *r, GHashTable *nodes, char *buf, size_t len)
{
	const char *node = mirad_record_get_string(r, "node");
	double num;

	if (node)
		return node;
	if (mirad_record_get_number(r, "node", &num)) {
		snprintf(buf, len, "%g", num);
		return buf;
	}
	return nodes ? g_hash_table_lookup(nodes, r->image) : NULL;
}

bool
stats_measuring(const struct stats *s)
{
	return s->imaging || s->geometry || s->partial || s->plots_dir ||
	    s->html;
}

void
stats_build_entries(struct stats *s, const struct mirad_recordset *records)
{
	GHashTable *nodes = NULL;
	char *auto_nodes = NULL;
	struct mirad_shard_job *job = NULL;

	if (s->nodes_file) {
		nodes = load_nodes(s->nodes_file);
	} else if ((s->by == STATS_BY_NODE || s->partial) &&
	    mirad_is_dir(s->input)) {
		auto_nodes = mirad_path_join(s->input, "nodes.csv");
		if (mirad_is_file(auto_nodes))
			nodes = load_nodes(auto_nodes);
	}
	if (s->partial) {
		/* What the merge takes from the partials is part of the job,
		 * so that shards made with other options do not merge. */
		job = mirad_shard_job_new("mirad-stats");
		mirad_shard_job_add(job, "imaging", s->imaging ? "yes" : "no");
		mirad_shard_job_add(
		    job, "geometry", s->geometry ? "yes" : "no");
		mirad_shard_job_add(job, "by", stats_by_name(s->by));
	}
	for (size_t i = 0; i < records->count; i++) {
		const struct mirad_record *r = records->items[i];
		struct stats_entry *x;
		char buf[64];
		const char *node = record_node(r, nodes, buf, sizeof buf);

		if (job != NULL) {
			mirad_shard_job_add_record(job, r);
			mirad_shard_job_add(job, "node", node);
		}
		if (s->shard_count > 0 && i % s->shard_count != s->shard_index)
			continue;
		x = stats_entries_add(&s->entries, r->category, r->split,
		    r->label ? r->label : "normal", r->defect, r->image, node,
		    mirad_record_get_string(r, "variant"));
		x->path = mirad_record_path(r, r->image);
		if (r->mask && mirad_record_is_anomaly(r))
			x->mask_path = mirad_record_path(r, r->mask);
	}
	if (job != NULL)
		mirad_shard_job_finish(job, s->job);
	if (nodes)
		g_hash_table_destroy(nodes);
	free(auto_nodes);
}

const struct stats_pixels_ops *
stats_pixels_load(void)
{
	static const struct stats_pixels_ops *loaded;
	stats_pixels_entry entry;
	char err[1024];

	if (loaded != NULL)
		return loaded;
	entry = (stats_pixels_entry)mirad_image_module_symbol(
	    STATS_PIXELS_MODULE_FILE, STATS_PIXELS_MODULE_ENTRY, err,
	    sizeof err);
	if (entry == NULL || entry()->abi != STATS_PIXELS_ABI)
		mirad_die(MIRAD_EXIT_FATAL, "cannot load libvips: %s",
		    entry == NULL ? err
		                  : "the pixel module is not this build's");
	loaded = entry();
	return loaded;
}

static int
measure_item(size_t i, void *user)
{
	struct stats *s = user;

	stats_pixels_load()->measure_entry(&s->entries.items[i]);
	return 0;
}

static void
measure_thread_end(void *user)
{
	(void)user;
	mirad_image_thread_done();
}

void
stats_measure_all(struct stats *s)
{
	mirad_progress_start("measuring", s->entries.count);
	/* Loaded here, before the threads ask for it. */
	(void)stats_pixels_load();
	(void)mirad_parallel_for(s->entries.count,
	    s->jobs > 0 ? (unsigned)s->jobs : 0, measure_item,
	    measure_thread_end, s, NULL);
	mirad_progress_end();
}

/* --html FILE: written under a temporary name, renamed when complete. */
static int
write_html(const struct stats *s, const cJSON *imaging, const cJSON *geometry)
{
	struct mirad_outfile *out = mirad_outfile_open(s->html);
	char err[1024];

	if (out == NULL) {
		mirad_warn("%s: %s", s->html, strerror(errno));
		return -1;
	}
	if (stats_pixels_load()->html_write(mirad_outfile_stream(out),
	        s->merge ? "merged partial statistics" : s->input, &s->table,
	        &s->entries, imaging, geometry, err, sizeof err) != 0) {
		mirad_warn("%s", err);
		mirad_outfile_abort(out);
		return -1;
	}
	if (mirad_outfile_commit(out) != 0) {
		mirad_warn("%s: %s", s->html, strerror(errno));
		return -1;
	}
	return 0;
}

int
stats_write_reports(struct stats *s, FILE *out)
{
	cJSON *imaging = NULL, *geometry = NULL;
	char err[1024];
	int rc = 0;

	stats_table_count(&s->table, &s->entries, s->by);
	if (s->imaging || s->plots_dir || s->html)
		imaging = stats_report_imaging(&s->entries, s->by);
	if (s->geometry || s->plots_dir || s->html)
		geometry = stats_report_geometry(&s->entries, s->by);
	/* A write error is reported when the output is closed. */
	if (stats_tables_write(out, s->format, &s->table,
	        s->imaging ? imaging : NULL, s->geometry ? geometry : NULL, err,
	        sizeof err) != 0 &&
	    !ferror(out)) {
		mirad_warn("%s", err);
		rc = -1;
	}
	if (s->plots_dir &&
	    stats_pixels_load()->plot_write_all(s->plots_dir, &s->entries,
	        imaging, geometry, s->by, s->plot_w, s->plot_h, err,
	        sizeof err) != 0) {
		mirad_warn("%s", err);
		rc = -1;
	}
	if (s->html && write_html(s, imaging, geometry) != 0)
		rc = -1;
	if (s->mosaic &&
	    stats_pixels_load()->mosaic_write(s->mosaic, &s->entries, s->by,
	        s->mosaic_per, s->mosaic_tile, 160, s->mosaic_masks, err,
	        sizeof err) != 0) {
		mirad_warn("%s", err);
		rc = -1;
	}
	cJSON_Delete(imaging);
	cJSON_Delete(geometry);
	return rc;
}
