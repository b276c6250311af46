/* SPDX-License-Identifier: MIT */
/*
 * mirad-convert --merge: join the OUT folders of the --shard runs of one
 * job into the OUT one run would have written.
 */
#include "mirad_platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convert_merge.h"
#include "mirad_err.h"
#include "mirad_progress.h"
#include "mirad_shard.h"
#include "mirad_signal.h"

static const char *
json_str(const cJSON *obj, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(it) ? it->valuestring : NULL;
}

/* The options of the job, from the first shard's header data. */
int
convert_merge_options(struct convert *c, const cJSON *d)
{
	const char *target = json_str(d, "target");
	const cJSON *emit = cJSON_GetObjectItemCaseSensitive(d, "emit");
	const cJSON *f;

	if (target == NULL || json_str(d, "split_type") == NULL ||
	    json_str(d, "input") == NULL || !cJSON_IsArray(emit))
		return -1;
	if (strcmp(target, "none") == 0)
		c->plan.target = CONVERT_TO_NONE;
	else if (convert_target_from_name(target, &c->plan.target) != 0)
		return -1;
	c->split_type = json_str(d, "split_type");
	c->input = json_str(d, "input");
	c->mapping = json_str(d, "mapping");
	cJSON_ArrayForEach(f, emit)
	{
		enum mirad_format fmt;

		if (!cJSON_IsString(f) ||
		    mirad_format_from_name(f->valuestring, &fmt) != 0)
			return -1;
		c->emit[fmt] = true;
		c->any_emit = true;
	}
	return 0;
}

/*
 * The items as one run has them after processing, from the shards' data,
 * and the dest names of their files: the survivors named in order.
 */
static int
merge_items(struct convert *c, struct mirad_shard_set *set)
{
	c->nitems = set->total;
	c->items = mirad_xcalloc(c->nitems ? c->nitems : 1, sizeof *c->items);
	for (size_t i = 0; i < c->nitems; i++) {
		struct mirad_shard_entry *e = &set->entries[i];
		struct convert_item *it = &c->items[i];
		struct mirad_record *src = mirad_record_new();
		const char *dir = json_str(e->data, "dir");
		const char *ext = json_str(e->data, "ext");
		const char *error = json_str(e->data, "error");

		mirad_record_set(&src->image, json_str(e->data, "src_image"));
		mirad_recordset_push(&c->merge_src, src);
		it->src = src;
		it->done = cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(e->data, "done"));
		it->wrote_mask = cJSON_IsTrue(
		    cJSON_GetObjectItemCaseSensitive(e->data, "mask"));
		if (dir != NULL && ext != NULL && src->image != NULL) {
			const char *mdir = json_str(e->data, "mask_dir");

			it->image_dir = mirad_xstrdup(dir);
			it->mask_dir = mdir ? mirad_xstrdup(mdir) : NULL;
			it->out_ext = mirad_xstrdup(ext);
		}
		if (error != NULL)
			it->error = mirad_xstrdup(error);
		/* A done item has its image (and mask) and a record. */
		if (it->done ? it->image_dir == NULL || e->record == NULL ||
		            e->nfiles != 1u + it->wrote_mask ||
		            (it->wrote_mask && it->mask_dir == NULL)
		             : e->nfiles != 0) {
			mirad_warn("%s: record %zu: inconsistent shard data",
			    set->names[e->shard], i);
			return -1;
		}
	}
	convert_plan_names(&c->plan, c->items, c->nitems, false);
	for (size_t i = 0; i < c->nitems; i++) {
		struct mirad_shard_entry *e = &set->entries[i];
		const char *names[2] = {
		    c->items[i].image_rel, c->items[i].mask_rel};

		for (size_t k = 0; k < e->nfiles; k++) {
			free(e->dest[k]);
			e->dest[k] = mirad_xstrdup(names[k]);
		}
	}
	return 0;
}

static void
merge_progress(uint64_t n)
{
	mirad_progress_add(n);
}

/* mirad-convert --merge -o OUT PART... */
int
convert_merge(struct convert *c)
{
	struct mirad_shard_set set;
	struct mirad_shard_merge m;
	struct mirad_shard_place_options po = {
	    mirad_signal_pending, merge_progress};
	struct mirad_recordset out = {0};
	char err[1024] = "";
	size_t written = 0;
	int status;

	mirad_signal_install();
	status = mirad_shard_load((const char *const *)c->parts,
	    (size_t)c->nparts, "mirad-convert", &set, err, sizeof err);
	if (status != 0)
		mirad_die(MIRAD_EXIT_FATAL, "%s",
		    mirad_cli_shard_advice(status, err, sizeof err));
	c->set = &set;
	if (mirad_shard_check_output(&set, c->output, err, sizeof err) != 0) {
		convert_abandon(c);
		mirad_die(MIRAD_EXIT_USAGE, "%s", err);
	}
	if (convert_merge_options(c, set.data[0]) != 0)
		convert_die_cleanly(
		    c, "%s: bad mirad-convert shard data", set.names[0]);
	status = set.status;
	if (c->plan.target != CONVERT_TO_NONE) {
		if (merge_items(c, &set) != 0)
			convert_die_cleanly(c, "cannot merge");
		/* The single run's warnings, in its order. */
		for (size_t i = 0; i < c->nitems; i++) {
			if (c->items[i].done)
				written++;
			else if (c->items[i].error != NULL) {
				c->bad++;
				mirad_warn("%s", c->items[i].error);
			}
		}
		if (c->bad > 0)
			status = MIRAD_EXIT_PARTIAL;
		if (written == 0)
			convert_die_cleanly(
			    c, "%s: no image could be converted", c->input);
	}

	if (mirad_cli_merge_begin(
	        &m, c->output, c->force, &set, err, sizeof err) != 0)
		convert_die_cleanly(c, "%s", err);
	c->assembly = &m;
	c->tmp = m.tmp;
	c->abs_output = mirad_xstrdup(m.abs_out);
	if (c->plan.target != CONVERT_TO_NONE)
		convert_make_dirs(c);
	mirad_progress_start("merging", set.nfiles);
	if (mirad_shard_merge_place(&m, &set, &po, err, sizeof err) != 0) {
		mirad_progress_end();
		convert_check_signal(c);
		convert_die_cleanly(c, "%s", err);
	}
	mirad_progress_end();
	convert_check_signal(c);
	if (c->plan.target != CONVERT_TO_NONE)
		convert_remove_empty_dirs(c);
	for (size_t i = 0; i < set.total; i++) {
		const struct mirad_shard_entry *e = &set.entries[i];
		struct mirad_record *r;
		cJSON *obj;

		if (e->record == NULL)
			continue;
		obj = cJSON_Parse(e->record);
		r = mirad_record_from_json(obj, c->abs_output, err, sizeof err);
		cJSON_Delete(obj);
		if (r != NULL)
			mirad_record_keep_raw(r, e->record, strlen(e->record));
		if (r == NULL)
			convert_die_cleanly(c, "%s: record %zu: %s",
			    set.names[e->shard], i, err);
		mirad_recordset_push(&out, r);
	}
	convert_write_lists(c, &out);
	if (c->plan.target == CONVERT_TO_VISA)
		convert_write_visa_anno(c, &out);
	convert_check_signal(c);
	if (mirad_shard_merge_publish(&m, err, sizeof err) != 0) {
		c->assembly = NULL; /* aborted by the failed publish */
		c->tmp = NULL;
		convert_die_cleanly(c, "%s", err);
	}
	c->assembly = NULL;
	c->tmp = NULL;
	if (mirad_shard_remove_parts(&set) > 0)
		mirad_warn("some files of the shard folders could not be "
		           "removed");
	if (c->mapping != NULL)
		convert_write_mapping(c, &out);
	(void)mirad_shard_write_records(&set, stdout);
	if (isatty(STDERR_FILENO))
		mirad_note("%s: %zu images written, %zu skipped (from %u "
		           "shards)",
		    c->output, written, c->bad, set.count);

	mirad_shard_set_free(&set);
	c->set = NULL;
	for (size_t i = 0; i < c->nitems; i++)
		convert_item_clear(&c->items[i]);
	free(c->items);
	free(c->abs_output);
	mirad_recordset_clear(&c->merge_src);
	mirad_recordset_clear(&out);
	return convert_close_stdout_published(c, status);
}
