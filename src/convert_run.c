/* SPDX-License-Identifier: MIT */
/*
 * mirad-convert's engine: plan, process, name, publish.
 *
 * Every record is named in input order as if all succeed, and the records
 * are processed concurrently into those files in a private folder; then the
 * survivors are named again in the same order and, where a failure left a
 * gap, renamed (so neither failures nor thread timing change the naming
 * rule); finally the folder is published with one rename.
 */
#include "mirad_platform.h"

#include <errno.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convert_run.h"
#include "mirad_cli.h"
#include "mirad_csv.h"
#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_image.h"
#include "mirad_outdir.h"
#include "mirad_parallel.h"
#include "mirad_progress.h"
#include "mirad_signal.h"

/* ---- planning --------------------------------------------------------- */

/* The split name: --split-type, else the --split-csv file's stem. */
static void
choose_split_type(struct convert *c)
{
	static char from_csv[256];

	if (c->split_type == NULL && c->in.scan.split_csv != NULL) {
		char *stem = mirad_path_stem(c->in.scan.split_csv);

		if (convert_plan_safe_name(stem)) {
			snprintf(from_csv, sizeof from_csv, "%s", stem);
			c->split_type = from_csv;
		}
		free(stem);
	}
	if (c->split_type == NULL)
		c->split_type = "1cls";
}

/*
 * Refuse the visa-prepared requests that would write a tree other than the
 * one asked for: a 2cls tree built from the 1cls rows (a raw VisA folder
 * read without the 2cls split file), or a 2cls tree under visa_pytorch/,
 * where anomalib's Visa takes ground_truth/{train,test}/bad for images and
 * does not accept anomalous training images at all.
 */
static void
check_split_type(const struct convert *c)
{
	enum mirad_layout from = c->in.scan.layout;

	if (c->plan.target != CONVERT_TO_VISA_PREPARED ||
	    strncmp(c->split_type, "2cls", 4) != 0)
		return;
	if (c->anomalib)
		mirad_die(MIRAD_EXIT_USAGE,
		    "--anomalib writes the 1cls layout anomalib's Visa reads; "
		    "drop it for the %s split",
		    c->split_type);
	if (c->in.scan.split_csv != NULL || strcmp(c->input, "-") == 0 ||
	    !mirad_is_dir(c->input))
		return;
	if (from == MIRAD_LAYOUT_AUTO)
		from = mirad_layout_detect(c->input);
	if (from == MIRAD_LAYOUT_VISA)
		mirad_die(MIRAD_EXIT_USAGE,
		    "--split-type %s needs --split-csv FILE with its rows "
		    "(such as %s/split_csv/%s.csv), else the 1cls rows are "
		    "read",
		    c->split_type, c->input, c->split_type);
}

void
convert_plan_items(struct convert *c, struct mirad_recordset *records)
{
	const char *ext_png = ".png", *ext_jpg = ".jpg";
	bool train_anomaly = false;

	for (size_t i = 0; i < records->count; i++) {
		const struct mirad_record *r = records->items[i];

		if (mirad_record_is_anomaly(r) && r->split &&
		    strcmp(r->split, "train") == 0)
			train_anomaly = true;
	}
	if (c->anomalib && train_anomaly)
		mirad_die(MIRAD_EXIT_USAGE,
		    "%s: anomalous training images: anomalib's Visa reads "
		    "only a 1cls split; drop --anomalib",
		    c->input);
	c->plan.two_class =
	    strncmp(c->split_type, "2cls", 4) == 0 || train_anomaly;
	c->plan.prefix = c->anomalib ? "visa_pytorch" : c->split_type;
	if (c->image_format == IMAGE_FORMAT_DEFAULT)
		c->image_format = c->plan.target == CONVERT_TO_MVTEC
		    ? IMAGE_FORMAT_PNG
		    : IMAGE_FORMAT_KEEP;

	c->items = mirad_xcalloc(
	    records->count ? records->count : 1, sizeof *c->items);
	c->nitems = records->count;
	for (size_t i = 0; i < records->count; i++) {
		struct convert_item *it = &c->items[i];
		const struct mirad_record *r = records->items[i];
		const char *src_ext = mirad_path_ext(r->image);
		const char *want;
		char why[512];

		it->src = r;
		if (c->plan.target == CONVERT_TO_NONE)
			continue;
		if (convert_plan_folders(&c->plan, it, why, sizeof why) != 0) {
			char *p = mirad_record_path(r, r->image);

			it->error = mirad_xasprintf("%s: %s", p, why);
			free(p);
			continue;
		}
		switch (c->image_format) {
		case IMAGE_FORMAT_PNG:
			want = ext_png;
			break;
		case IMAGE_FORMAT_JPG:
			want = ext_jpg;
			break;
		default:
			want = src_ext;
		}
		it->transcode = c->pixels.resize_width > 0 ||
		    !convert_pixels_same_format(src_ext, want);
		/* Renamed outputs get a lower-case extension; visa-prepared
		 * keeps the original name (and its ".JPG") when the bytes
		 * do not change. */
		if (c->plan.target == CONVERT_TO_VISA_PREPARED &&
		    convert_pixels_same_format(src_ext, want))
			it->out_ext = mirad_xstrdup(src_ext);
		else if (convert_pixels_same_format(want, ext_jpg))
			it->out_ext = mirad_xstrdup(ext_jpg);
		else
			it->out_ext = g_ascii_strdown(want, -1);
	}
}

/* ---- processing ------------------------------------------------------- */

/* Is item I this run's (all are, unless --shard)? */
bool
convert_mine(const struct convert *c, size_t i)
{
	return c->shard_count == 0 || i % c->shard_count == c->shard_index;
}

/* Item I of the loop: process it (unless it is not planned, reported
 * later, or another shard's).  A failure under --strict, a fatal one, or
 * a signal stops the loop. */
static int
process_item(size_t i, void *user)
{
	struct convert *c = user;
	struct convert_item *it = &c->items[i];
	char *img, *msk;
	int stop = 0;

	if (mirad_signal_pending())
		return 1;
	if (it->image_dir == NULL || !convert_mine(c, i))
		return 0;
	img = mirad_path_join(c->tmp, it->planned_image_rel);
	msk = it->planned_mask_rel
	    ? mirad_path_join(c->tmp, it->planned_mask_rel)
	    : NULL;
	if (convert_pixels_record(&c->pixels, it, img, msk) != 0 &&
	    (c->strict || it->fatal))
		stop = 1;
	free(img);
	free(msk);
	mirad_progress_add(1);
	return stop;
}

/* Threads that used libvips release its per-thread state. */
static void
process_thread_end(void *user)
{
	(void)user;
	vips_thread_shutdown();
}

void
convert_process(struct convert *c)
{
	unsigned n = c->jobs ? c->jobs : mirad_cpu_count();

	if (n > c->nmine && c->nmine > 0)
		n = (unsigned)c->nmine;
	mirad_progress_start("converting", c->nmine);
	/* The outcome is in the items: the loop's status adds nothing. */
	(void)mirad_parallel_for(
	    c->nitems, n, process_item, process_thread_end, c, NULL);
	mirad_progress_end();
}

/* ---- cleanup on failure ----------------------------------------------- */

/* The last step, after OUT was published: a failing standard output (full,
 * closed) is status 3, but the tree is there and complete. */
int
convert_close_stdout_published(const struct convert *c, int status)
{
	int out_status = mirad_close_stdout(status);

	if (out_status != status)
		mirad_warn("%s: the dataset was published; only its manifest "
		           "on standard output is incomplete",
		    c->output);
	return out_status;
}

void
convert_abandon(struct convert *c)
{
	if (c->assembly != NULL) { /* --merge: its folder, its lock */
		mirad_shard_merge_abort(c->assembly);
		c->assembly = NULL;
		c->tmp = NULL;
	}
	if (c->set != NULL) {
		mirad_shard_set_free(c->set);
		c->set = NULL;
	}
	mirad_outdir_abort(c->out);
	c->out = NULL;
	c->tmp = NULL;
}

MIRAD_NORETURN void
convert_die_cleanly(struct convert *c, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	convert_abandon(c);
	mirad_die(MIRAD_EXIT_FATAL, "%s", msg);
}

void
convert_check_signal(struct convert *c)
{
	if (mirad_signal_pending()) {
		convert_abandon(c);
		mirad_signal_reraise();
	}
}

/* ---- naming and placing ----------------------------------------------- */

/* Create the planned folders (serially, before the threads start). */
void
convert_make_dirs(struct convert *c)
{
	GHashTable *made =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, NULL);

	for (size_t i = 0; i < c->nitems; i++) {
		const char *dirs[2] = {
		    c->items[i].image_dir, c->items[i].mask_dir};

		for (int k = 0; k < 2 && convert_mine(c, i); k++) {
			char *p;

			if (dirs[k] == NULL ||
			    g_hash_table_contains(made, dirs[k]))
				continue;
			p = mirad_path_join(c->tmp, dirs[k]);
			if (mirad_mkdir_p(p) != 0)
				convert_die_cleanly(
				    c, "%s: %s", p, strerror(errno));
			free(p);
			g_hash_table_add(made, (gpointer)dirs[k]);
		}
	}
	g_hash_table_destroy(made);
}

static void
rename_in_tmp(struct convert *c, const char *from_rel, const char *from_suffix,
    const char *to_rel, const char *to_suffix)
{
	char *from = mirad_xasprintf("%s/%s%s", c->tmp, from_rel, from_suffix);
	char *to = mirad_xasprintf("%s/%s%s", c->tmp, to_rel, to_suffix);

	if (rename(from, to) != 0)
		convert_die_cleanly(c, "%s: %s", from, strerror(errno));
	free(from);
	free(to);
}

/* Folders whose every file failed would look like empty defect types. */
void
convert_remove_empty_dirs(struct convert *c)
{
	for (size_t i = 0; i < c->nitems; i++) {
		const char *dirs[2] = {
		    c->items[i].image_dir, c->items[i].mask_dir};

		if (c->items[i].done || !convert_mine(c, i))
			continue;
		for (int k = 0; k < 2; k++) {
			char *p;

			if (dirs[k] == NULL)
				continue;
			p = mirad_path_join(c->tmp, dirs[k]);
			(void)rmdir(p); /* fails unless empty: fine */
			free(p);
		}
	}
}

/*
 * Final names for the survivors.  Where a failure shifted them, move the
 * files in two passes (planned -> planned~ -> final), so no move can land
 * on a file that has not moved yet.
 */
static void
rename_survivors(struct convert *c)
{
	convert_plan_names(&c->plan, c->items, c->nitems, false);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < c->nitems; i++) {
			struct convert_item *it = &c->items[i];
			const char *from[2] = {
			    it->planned_image_rel, it->planned_mask_rel};
			const char *to[2] = {it->image_rel, it->mask_rel};

			if (!it->done)
				continue;
			for (int k = 0; k < 2; k++) {
				if (to[k] == NULL ||
				    strcmp(from[k], to[k]) == 0)
					continue;
				if (pass == 0)
					rename_in_tmp(
					    c, from[k], "", from[k], "~");
				else
					rename_in_tmp(
					    c, from[k], "~", to[k], "");
			}
		}
	}
}

/* ---- outputs ---------------------------------------------------------- */

/* The output record of the done item IT: its files are IMAGE_REL and
 * MASK_REL (may be NULL) under ROOT. */
static struct mirad_record *
output_record(const struct convert *c, const struct convert_item *it,
    const char *root, const char *image_rel, const char *mask_rel)
{
	const struct mirad_record *s = it->src;
	struct mirad_record *r = mirad_record_clone(s);
	char *src = mirad_record_path(s, s->image);

	mirad_record_put_string(r, "source", src);
	free(src);
	if (s->mask != NULL && mask_rel != NULL) {
		src = mirad_record_path(s, s->mask);
		mirad_record_put_string(r, "source_mask", src);
		free(src);
	}
	mirad_record_set(&r->root, root);
	mirad_record_set(&r->image, image_rel);
	mirad_record_set(&r->mask, mask_rel);
	{
		/* The defect is the folder the image went to. */
		char *dir = mirad_path_dirname(image_rel);
		const char *leaf = mirad_path_basename(dir);

		if (c->plan.target == CONVERT_TO_MIRAD ||
		    c->plan.target == CONVERT_TO_MVTEC)
			mirad_record_set(&r->defect, leaf);
		free(dir);
	}
	r->width = it->width;
	r->height = it->height;
	r->channels = it->channels;
	return r;
}

/* The output records (in input order), rooted at the final OUT. */
static void
output_records(struct convert *c, struct mirad_recordset *out)
{
	for (size_t i = 0; i < c->nitems; i++) {
		struct convert_item *it = &c->items[i];

		if (c->plan.target == CONVERT_TO_NONE)
			mirad_recordset_push(out, mirad_record_clone(it->src));
		else if (it->done)
			mirad_recordset_push(out,
			    output_record(c, it, c->abs_output, it->image_rel,
			        it->mask_rel));
	}
}

static void
write_list(struct convert *c, const char *rel, enum mirad_format fmt,
    const struct mirad_recordset *records, const char *split, const char *base)
{
	struct mirad_format_options fo = {base};
	char *path = mirad_path_join(c->tmp, rel);
	char *dir = mirad_path_dirname(path);
	struct mirad_outfile *f;
	char err[512];
	int rc;

	if (mirad_mkdir_p(dir) != 0)
		convert_die_cleanly(c, "%s: %s", dir, strerror(errno));
	f = mirad_outfile_open(path);
	if (f == NULL)
		convert_die_cleanly(c, "%s: %s", path, strerror(errno));
	rc = mirad_format_write_split(
	    mirad_outfile_stream(f), fmt, records, split, &fo, err, sizeof err);
	if (rc != 0) {
		mirad_outfile_abort(f);
		convert_die_cleanly(c, "%s: %s", rel,
		    mirad_cli_format_advice(rc, err, sizeof err));
	}
	if (mirad_outfile_commit(f) != 0)
		convert_die_cleanly(c, "%s: %s", path, strerror(errno));
	free(dir);
	free(path);
}

/*
 * The list files inside the tree.  Paths in them are relative to OUT, or,
 * without a tree (--emit alone), to the dataset's root.
 */
void
convert_write_lists(struct convert *c, const struct mirad_recordset *records)
{
	const char *base = c->abs_output;
	char *split_file;

	if (c->plan.target == CONVERT_TO_NONE) {
		base = records->count ? records->items[0]->root : NULL;
		for (size_t i = 0; i < records->count; i++) {
			const char *root = records->items[i]->root;

			if (root == NULL || base == NULL ||
			    strcmp(root, base) != 0)
				convert_die_cleanly(c,
				    "--emit without --to needs records under "
				    "one root folder");
		}
	}
	split_file = mirad_xasprintf("split_csv/%s.csv", c->split_type);
	/* VisA tooling reads the raw tree through its split file. */
	if (c->emit[MIRAD_FORMAT_VISA_CSV] || c->plan.target == CONVERT_TO_VISA)
		write_list(
		    c, split_file, MIRAD_FORMAT_VISA_CSV, records, NULL, base);
	if (c->emit[MIRAD_FORMAT_JSONL])
		write_list(c, "manifest.jsonl", MIRAD_FORMAT_JSONL, records,
		    NULL, base);
	if (c->emit[MIRAD_FORMAT_TABULAR_CSV])
		write_list(c, "tabular.csv", MIRAD_FORMAT_TABULAR_CSV, records,
		    NULL, base);
	if (c->emit[MIRAD_FORMAT_META_JSON])
		write_list(c, "meta.json", MIRAD_FORMAT_META_JSON, records,
		    NULL, base);
	/* UniAD reads train.json and test.json; the val records go to a
	 * val.json of their own rather than nowhere. */
	if (c->emit[MIRAD_FORMAT_UNIAD]) {
		write_list(c, "train.json", MIRAD_FORMAT_UNIAD, records,
		    "train", base);
		write_list(
		    c, "test.json", MIRAD_FORMAT_UNIAD, records, "test", base);
		for (size_t i = 0; i < records->count; i++) {
			if (strcmp(records->items[i]->split, "val") == 0) {
				write_list(c, "val.json", MIRAD_FORMAT_UNIAD,
				    records, "val", base);
				break;
			}
		}
	}
	free(split_file);
}

/* image_anno.csv per VisA class: image,label,mask with defect names, so a
 * round trip keeps them. */
void
convert_write_visa_anno(
    struct convert *c, const struct mirad_recordset *records)
{
	struct mirad_outfile *f = NULL;
	const char *cls = NULL;
	char *path = NULL;

	for (size_t i = 0; i <= records->count; i++) {
		const struct mirad_record *r =
		    i < records->count ? records->items[i] : NULL;

		if (f != NULL && (r == NULL || strcmp(r->category, cls) != 0)) {
			if (mirad_outfile_commit(f) != 0)
				convert_die_cleanly(
				    c, "%s: %s", path, strerror(errno));
			f = NULL;
			free(path);
			path = NULL;
		}
		if (r == NULL)
			break;
		if (f == NULL) {
			static const char *const head[] = {
			    "image", "label", "mask"};
			char *rel =
			    mirad_xasprintf("%s/image_anno.csv", r->category);

			path = mirad_path_join(c->tmp, rel);
			free(rel);
			cls = r->category;
			f = mirad_outfile_open(path);
			if (f == NULL)
				convert_die_cleanly(
				    c, "%s: %s", path, strerror(errno));
			mirad_csv_write_row(
			    mirad_outfile_stream(f), head, 3, false);
		}
		{
			const char *row[3] = {r->image,
			    mirad_record_is_anomaly(r)
			        ? (r->defect ? r->defect : "anomaly")
			        : "normal",
			    r->mask ? r->mask : ""};

			mirad_csv_write_row(
			    mirad_outfile_stream(f), row, 3, false);
		}
	}
}

/* The source,target name map: from the output records' "source" and
 * "source_mask" to their image and mask. */
void
convert_write_mapping(struct convert *c, const struct mirad_recordset *out)
{
	struct mirad_outfile *f = mirad_outfile_open(c->mapping);
	static const char *const head[] = {"source", "target"};
	FILE *s;

	/* Written after OUT was published: say so when it fails. */
	if (f == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno,
		    "%s (%s was published without it)", c->mapping, c->output);
	s = mirad_outfile_stream(f);
	mirad_csv_write_row(s, head, 2, false);
	for (size_t i = 0; i < out->count; i++) {
		const struct mirad_record *r = out->items[i];
		const char *src = mirad_record_get_string(r, "source");
		const char *msrc = mirad_record_get_string(r, "source_mask");

		mirad_csv_write_row(s,
		    (const char *const[]){src ? src : "", r->image}, 2, false);
		if (r->mask != NULL)
			mirad_csv_write_row(s,
			    (const char *const[]){msrc ? msrc : "", r->mask}, 2,
			    false);
	}
	if (mirad_outfile_commit(f) != 0)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno,
		    "%s (%s was published without it)", c->mapping, c->output);
}

/* ---- --shard and --merge --------------------------------------------- */

/* What decides the output, so parts of different jobs are not mixed. */
static void
job_fingerprint(const struct convert *c, const struct mirad_recordset *records,
    char hex[65])
{
	struct mirad_shard_job *j = mirad_shard_job_new("mirad-convert");
	GString *emit = g_string_new(NULL);
	char buf[64];

	mirad_shard_job_add(j, "to", convert_target_name(c->plan.target));
	mirad_shard_job_add(j, "split-type", c->split_type);
	mirad_shard_job_add(j, "anomalib", c->anomalib ? "yes" : "no");
	for (int f = 0; f <= MIRAD_FORMAT_META_JSON; f++)
		if (c->emit[f])
			g_string_append_printf(emit, "%s,",
			    mirad_format_name((enum mirad_format)f));
	mirad_shard_job_add(j, "emit", emit->str);
	g_string_free(emit, TRUE);
	snprintf(buf, sizeof buf, "%d", (int)c->pixels.link);
	mirad_shard_job_add(j, "link", buf);
	snprintf(buf, sizeof buf, "%dx%d", c->pixels.resize_width,
	    c->pixels.resize_height);
	mirad_shard_job_add(j, "resize", buf);
	snprintf(buf, sizeof buf, "%d", (int)c->image_format);
	mirad_shard_job_add(j, "image-format", buf);
	snprintf(buf, sizeof buf, "%d", c->pixels.jpeg_quality);
	mirad_shard_job_add(j, "quality", buf);
	mirad_shard_job_add(j, "verify", c->pixels.verify ? "yes" : "no");
	mirad_shard_job_add(j, "strict", c->strict ? "yes" : "no");
	mirad_shard_job_add(j, "mapping", c->mapping);
	for (size_t i = 0; i < records->count; i++)
		mirad_shard_job_add_record(j, records->items[i]);
	mirad_shard_job_finish(j, hex);
}

/* The shard's header data: what the merge needs besides the entries. */
static cJSON *
shard_header_data(const struct convert *c)
{
	cJSON *d = cJSON_CreateObject(), *emit = cJSON_CreateArray();

	cJSON_AddStringToObject(
	    d, "target", convert_target_name(c->plan.target));
	cJSON_AddStringToObject(d, "split_type", c->split_type);
	for (int f = 0; f <= MIRAD_FORMAT_META_JSON; f++)
		if (c->emit[f])
			cJSON_AddItemToArray(emit,
			    cJSON_CreateString(
			        mirad_format_name((enum mirad_format)f)));
	cJSON_AddItemToObject(d, "emit", emit);
	if (c->mapping != NULL)
		cJSON_AddStringToObject(d, "mapping", c->mapping);
	cJSON_AddStringToObject(d, "input", c->input);
	return d;
}

/*
 * A shard writes its items under their planned names (as if every item
 * succeeds), and records per item what the merge needs to name the
 * survivors like one run: the folders, the extension, the source name,
 * whether it was written (with a mask) or why not.  Its records go to OUT
 * (the shard's stdout).
 */
static void
write_shard(
    struct convert *c, const char *job, int status, struct mirad_recordset *out)
{
	struct mirad_shard_writer *w;
	cJSON *head = shard_header_data(c);
	char err[1024];

	w = mirad_shard_writer_open(c->tmp, c->abs_output, "mirad-convert",
	    c->shard_index, c->shard_count, job, c->nitems, head, err,
	    sizeof err);
	cJSON_Delete(head);
	if (w == NULL)
		convert_die_cleanly(c, "%s", err);
	for (size_t i = 0; i < c->nitems; i++) {
		struct convert_item *it = &c->items[i];
		struct mirad_record *r = NULL;
		cJSON *data = NULL, *rec = NULL;
		const char *files[2];
		size_t nfiles = 0;
		int rc;

		if (!convert_mine(c, i))
			continue;
		if (c->plan.target == CONVERT_TO_NONE) {
			r = mirad_record_clone(it->src);
		} else {
			data = cJSON_CreateObject();
			if (it->image_dir != NULL) {
				cJSON_AddStringToObject(
				    data, "dir", it->image_dir);
				if (it->mask_dir != NULL)
					cJSON_AddStringToObject(
					    data, "mask_dir", it->mask_dir);
				cJSON_AddStringToObject(
				    data, "ext", it->out_ext);
				cJSON_AddStringToObject(
				    data, "src_image", it->src->image);
			}
			if (it->done) {
				const char *mask = it->wrote_mask
				    ? it->planned_mask_rel
				    : NULL;

				cJSON_AddTrueToObject(data, "done");
				if (mask != NULL)
					cJSON_AddTrueToObject(data, "mask");
				r = output_record(c, it, c->abs_output,
				    it->planned_image_rel, mask);
				files[nfiles++] = it->planned_image_rel;
				if (mask != NULL)
					files[nfiles++] = mask;
			} else if (it->error != NULL) {
				cJSON_AddStringToObject(
				    data, "error", it->error);
			}
		}
		if (r != NULL)
			rec = mirad_record_to_json(r);
		rc = mirad_shard_writer_add(
		    w, i, files, nfiles, rec, data, err, sizeof err);
		cJSON_Delete(rec);
		cJSON_Delete(data);
		if (r != NULL)
			mirad_recordset_push(out, r);
		if (rc != 0) {
			mirad_shard_writer_abort(w);
			convert_die_cleanly(c, "%s", err);
		}
	}
	if (mirad_shard_writer_close(w, status, err, sizeof err) != 0)
		convert_die_cleanly(c, "%s", err);
}
/* ---- main ------------------------------------------------------------- */

void
convert_select_categories(struct convert *c, struct mirad_recordset *records)
{
	size_t kept = 0;

	if (c->categories.count == 0)
		return;
	for (size_t k = 0; k < c->categories.count; k++) {
		bool found = false;

		for (size_t i = 0; i < records->count && !found; i++)
			found = strcmp(records->items[i]->category,
			            c->categories.items[k]) == 0;
		if (!found)
			mirad_die(MIRAD_EXIT_USAGE,
			    "--categories: no category '%s' in %s",
			    c->categories.items[k], c->input);
	}
	for (size_t i = 0; i < records->count; i++) {
		if (mirad_strlist_contains(
		        &c->categories, records->items[i]->category))
			records->items[kept++] = records->items[i];
		else
			mirad_record_free(records->items[i]);
	}
	mirad_recordset_steal_tail(records, kept);
}

/* libvips' warnings ("not enough data", "error in tile") repeat the
 * failure each record reports anyway, in thread order: drop them. */
static void
drop_vips_warning(const gchar *domain, GLogLevelFlags level,
    const gchar *message, gpointer data)
{
	(void)domain;
	(void)level;
	(void)message;
	(void)data;
}

int
convert_run(struct convert *c, const char *argv0)
{
	struct mirad_recordset records = {0}, out = {0};
	struct mirad_dataset_info info;
	char err[1024], job[65] = "";
	int status = MIRAD_EXIT_OK, refusal, rc;
	size_t written = 0;

	choose_split_type(c);
	check_split_type(c);
	c->abs_output = mirad_path_absolute(c->output);
	if (c->abs_output == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", c->output);

	/* Our threads each run one image pipeline: libvips' own worker
	 * threads would only compete with them for the cores. */
	if (mirad_image_init(argv0, 1, err, sizeof err) != 0)
		mirad_die(MIRAD_EXIT_FATAL, "cannot start libvips: %s", err);
	convert_pixels_init();
	g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE,
	    drop_vips_warning, NULL);
	mirad_signal_install();

	mirad_dataset_show_as_given(c->input);
	rc = mirad_dataset_load(
	    c->input, &c->in, &records, &info, err, sizeof err);
	if (rc != 0) {
		/* A signal stopped the read (EINTR): end by it, not by
		 * "Interrupted system call". */
		mirad_signal_reraise();
		mirad_die(MIRAD_EXIT_FATAL, "%s",
		    mirad_cli_dataset_advice(rc, err, sizeof err));
	}
	/* Writing into the input, or replacing it with --force, is a
	 * mistake. */
	if (mirad_dataset_check_output(c->input, &c->in, &records, c->output,
	        true, err, sizeof err) != 0)
		mirad_die(MIRAD_EXIT_USAGE, "%s", err);
	if (info.scan.problems > 0 || info.bad_lines > 0)
		status = MIRAD_EXIT_PARTIAL;
	/* The same image twice in one split is converted once; both
	 * records of an image in two splits (a leak) stay as given. */
	if (mirad_cli_report_duplicates(
	        c->input, &records, &info, " (converted once)") > 0)
		status = MIRAD_EXIT_PARTIAL;
	if (c->strict && status != MIRAD_EXIT_OK)
		mirad_die(MIRAD_EXIT_FATAL,
		    "%s: problems in the input (--strict)", c->input);
	convert_select_categories(c, &records);
	if (records.count == 0)
		mirad_die(MIRAD_EXIT_FATAL, "%s: no images", c->input);
	/* Lists alone keep the input's names: refuse, before anything is
	 * written, a UniAD list they would make ambiguous. */
	if (c->plan.target == CONVERT_TO_NONE && c->emit[MIRAD_FORMAT_UNIAD]) {
		int clash = mirad_format_check(
		    MIRAD_FORMAT_UNIAD, &records, NULL, err, sizeof err);

		if (clash != 0)
			mirad_die(MIRAD_EXIT_USAGE, "--emit uniad: %s",
			    mirad_cli_format_advice(clash, err, sizeof err));
	}
	convert_plan_items(c, &records);
	for (size_t i = 0; i < c->nitems; i++)
		c->nmine += convert_mine(c, i);
	if (c->shard_count > 0) {
		/* The merge writes the map; all shards must name one file. */
		if (c->mapping != NULL) {
			c->abs_mapping = mirad_path_absolute(c->mapping);
			if (c->abs_mapping == NULL)
				mirad_die_errno(
				    MIRAD_EXIT_FATAL, errno, "%s", c->mapping);
			c->mapping = c->abs_mapping;
		}
		job_fingerprint(c, &records, job);
	}

	/* Take the lock before looking at OUT, so two runs cannot both see
	 * it missing. */
	if (mirad_outdir_lock(&c->out, c->output,
	        c->force ? MIRAD_OUTDIR_FORCE : 0) != MIRAD_OUTDIR_OK)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno,
		    "%s: cannot lock (another mirad-convert writing it?)",
		    c->output);
	refusal = mirad_outdir_check(c->out);
	if (refusal != MIRAD_OUTDIR_OK)
		convert_die_cleanly(c, "%s",
		    mirad_cli_output_refusal(
		        refusal, c->output, err, sizeof err));
	if (mirad_outdir_make_temp(c->out) != MIRAD_OUTDIR_OK) {
		int e = errno;

		convert_abandon(c);
		mirad_die_errno(MIRAD_EXIT_FATAL, e, "%s", c->output);
	}
	c->tmp = mirad_outdir_temp(c->out);
	if (c->plan.target != CONVERT_TO_NONE) {
		convert_plan_names(&c->plan, c->items, c->nitems, true);
		convert_make_dirs(c);
		convert_process(c);
	}
	convert_check_signal(c);
	/* A write error (a full disk) is the output's fault, not the input's:
	 * stop without publishing, the previous OUT stays. */
	for (size_t i = 0; i < c->nitems; i++) {
		const char *e = c->items[i].error;
		size_t n = strlen(c->tmp);

		if (!c->items[i].fatal)
			continue;
		if (strncmp(e, c->tmp, n) == 0 && e[n] == '/')
			convert_die_cleanly(c, "%s%s (nothing was published)",
			    c->output, e + n);
		convert_die_cleanly(c, "%s (nothing was published)", e);
	}

	/* Report in record order, whatever the threads did first. */
	for (size_t i = 0; i < c->nitems; i++) {
		struct convert_item *it = &c->items[i];

		if (c->plan.target == CONVERT_TO_NONE)
			break;
		if (!convert_mine(c, i))
			continue;
		if (it->done) {
			written++;
			continue;
		}
		if (it->error == NULL) /* not reached after --strict stop */
			continue;
		c->bad++;
		if (c->strict)
			convert_die_cleanly(c, "%s (--strict)", it->error);
		mirad_warn("%s", it->error);
	}
	for (size_t i = 0; i < c->nitems && c->plan.target != CONVERT_TO_NONE;
	     i++) {
		const struct mirad_record *r = c->items[i].src;

		/* A manifest does not go through the scanner's check. */
		if (info.from_manifest && c->items[i].done &&
		    mirad_record_is_anomaly(r) && r->mask == NULL)
			mirad_warn("%s: anomaly without a mask (written "
			           "without ground truth)",
			    r->image);
	}
	if (c->bad > 0)
		status = MIRAD_EXIT_PARTIAL;
	/* (A shard's images may all fail: the merge decides.) */
	if (c->plan.target != CONVERT_TO_NONE && written == 0 &&
	    c->shard_count == 0)
		convert_die_cleanly(
		    c, "%s: no image could be converted", c->input);

	if (c->shard_count > 0) {
		/* Names, lists and the map come with the merge. */
		convert_remove_empty_dirs(c);
		write_shard(c, job, status, &out);
	} else {
		rename_survivors(c);
		convert_remove_empty_dirs(c);
		output_records(c, &out);
		convert_write_lists(c, &out);
		if (c->plan.target == CONVERT_TO_VISA)
			convert_write_visa_anno(c, &out);
	}
	/* A shard's folder is marked by its metadata. */
	if (c->shard_count == 0 &&
	    mirad_output_mark(c->tmp, "mirad-convert") != 0)
		convert_die_cleanly(c, "%s: %s (nothing was published)",
		    c->output, strerror(errno));
	convert_check_signal(c);

	/* The files were written unsynced: the commit's one syncfs makes all
	 * of them durable before the folder is published. */
	if (mirad_outdir_commit(c->out) != MIRAD_OUTDIR_OK) {
		int e = errno;

		c->out = NULL; /* aborted by the failed commit */
		convert_die_cleanly(c, "%s: %s (nothing was published)",
		    c->output, strerror(e));
	}
	c->out = NULL;
	c->tmp = NULL;
	if (c->mapping != NULL && c->shard_count == 0)
		convert_write_mapping(c, &out);

	for (size_t i = 0; i < out.count; i++) {
		if (mirad_record_write(stdout, out.items[i]) != 0)
			break;
	}
	if (isatty(STDERR_FILENO))
		mirad_note("%s: %zu images written, %zu skipped", c->output,
		    written, c->bad);

	for (size_t i = 0; i < c->nitems; i++)
		convert_item_clear(&c->items[i]);
	free(c->items);
	free(c->abs_output);
	free(c->abs_mapping);
	mirad_strlist_free(&c->categories);
	cJSON_Delete(info.header);
	free(info.duplicates);
	mirad_recordset_clear(&out);
	mirad_recordset_clear(&records);
	mirad_image_shutdown();
	return convert_close_stdout_published(c, status);
}
