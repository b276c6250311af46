/* SPDX-License-Identifier: MIT */
/*
 * The engine of mirad-augment: planning the jobs, rendering them, and the
 * metadata of a --shard run.
 */
#include "mirad_platform.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "augment_effects.h"
#include "augment_run.h"
#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_image.h"
#include "mirad_parallel.h"
#include "mirad_progress.h"
#include "mirad_shard.h"
#include "mirad_signal.h"

static bool
is_jpeg_name(const char *path)
{
	const char *ext = mirad_path_ext(path);

	return g_ascii_strcasecmp(ext, ".jpg") == 0 ||
	    g_ascii_strcasecmp(ext, ".jpeg") == 0;
}

static char *
variant_dir(const struct augment_run *run, const struct augment_job *j)
{
	if (!run->subdirs)
		return mirad_xstrdup("");
	if (run->variants > 1)
		return mirad_xasprintf("s%d-v%u", j->severity, j->variant);
	return mirad_xasprintf("s%d", j->severity);
}

/*
 * Write image IM, or JPEG BYTES, to PATH in the private output folder:
 * straight to its name, unsynced (the folder is synced once before it is
 * published; an fsync per file was most of the wall time on small images).
 */
static int
save_output(VipsImage *im, const void *bytes, size_t len, const char *path,
    char *err, size_t errlen)
{
	char *dir = mirad_path_dirname(path);
	void *buf = NULL;
	int rc = mirad_mkdir_p(dir);

	free(dir);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (bytes == NULL) {
		if (mirad_image_encode(im, path, 0, &buf, &len, err, errlen) !=
		    0)
			return -1;
		bytes = buf;
	}
	rc = mirad_write_file_unsynced(path, bytes, len);
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	g_free(buf);
	return rc;
}

int
augment_run_render(const struct augment_run *run, struct augment_job *j)
{
	const struct mirad_record *r = j->record;
	const struct augment_profile *p = run->profile;
	struct augment_draw_ctx ctx = {
	    run->run_seed, r->image, j->variant, j->severity};
	struct augment_sample sample;
	char err[1024], hash[65], mhash[65] = "";
	char *src_path = mirad_record_path(r, r->image);
	char *mask_path = r->mask ? mirad_record_path(r, r->mask) : NULL;
	char *sub = variant_dir(run, j), *outdir, *outpath, *root;
	char *variant_id, seedhex[24];
	VipsImage *src = NULL, *mask_raw = NULL, *mask = NULL;
	VipsImage *out = NULL, *wmask = NULL;
	void *jpeg = NULL;
	size_t jpeg_len = 0;
	struct mirad_record *rec;
	cJSON *effects, *json;
	bool need_mask = false;
	int status = 1;

	outdir = mirad_path_join(run->tmpdir, sub);
	outpath = mirad_path_join(outdir, j->image_rel);
	if (augment_profile_sample(p, &ctx, &sample) != 0) {
		j->problem = mirad_xasprintf(
		    "%s: cannot evaluate the profile", src_path);
		goto done;
	}
	for (size_t i = 0; i < p->neffects; i++)
		if (sample.applied[i] &&
		    (augment_effect_def(p->effects[i].type)->geometric ||
		        p->effects[i].type == AUGMENT_BACKGROUND))
			need_mask = true;
	/* Read once, top to bottom: augment_render() decodes it to memory
	 * first thing. */
	src = mirad_image_load(src_path, true, err, sizeof err);
	if (src == NULL) {
		j->problem = mirad_xasprintf("%s: %s", src_path, err);
		goto done;
	}
	if (mask_path != NULL && need_mask) {
		mask_raw = mirad_image_load(mask_path, false, err, sizeof err);
		if (mask_raw == NULL ||
		    (mask = mirad_image_binarise(mask_raw, err, sizeof err)) ==
		        NULL) {
			j->problem = mirad_xasprintf("%s: %s", mask_path, err);
			goto done;
		}
		if (mask->Xsize != src->Xsize || mask->Ysize != src->Ysize) {
			j->problem = mirad_xasprintf("%s: mask is %dx%d, image "
			                             "%dx%d",
			    mask_path, mask->Xsize, mask->Ysize, src->Xsize,
			    src->Ysize);
			goto done;
		}
	}
	if (augment_render(src, mask, p, &sample,
	        is_jpeg_name(r->image) ? 95 : 0, &out, &wmask, &jpeg, &jpeg_len,
	        err, sizeof err) != 0) {
		j->problem = mirad_xasprintf("%s: %s", src_path, err);
		goto done;
	}
	status = 3;
	if (mirad_image_pixel_sha256(out, hash, err, sizeof err) != 0 ||
	    save_output(out, jpeg, jpeg_len, outpath, err, sizeof err) != 0) {
		j->problem = mirad_xstrdup(err);
		goto done;
	}
	if (mask_path != NULL) {
		char *mout = mirad_path_join(outdir, j->mask_rel);

		if (wmask != NULL) {
			if (mirad_image_pixel_sha256(
			        wmask, mhash, err, sizeof err) != 0 ||
			    save_output(
			        wmask, NULL, 0, mout, err, sizeof err) != 0) {
				j->problem = mirad_xstrdup(err);
				free(mout);
				goto done;
			}
		} else {
			/* Photometric only: the mask file, byte for byte.  It
			 * is loaded first: a FIFO or a device is refused
			 * there, where copying it would block forever. */
			char *dir = mirad_path_dirname(mout);
			VipsImage *m = mask_raw;

			if (m == NULL)
				m = mirad_image_load(
				    mask_path, true, err, sizeof err);
			else
				g_object_ref(m);
			if (m == NULL ||
			    mirad_image_pixel_sha256(
			        m, mhash, err, sizeof err) != 0) {
				status = 1;
				j->problem =
				    mirad_xasprintf("%s: %s", mask_path, err);
				if (m != NULL)
					g_object_unref(m);
				free(dir);
				free(mout);
				goto done;
			}
			g_object_unref(m);
			if (mirad_mkdir_p(dir) != 0 ||
			    mirad_copy_file(mask_path, mout) != 0) {
				j->problem = mirad_xasprintf(
				    "%s: %s", mout, strerror(errno));
				free(dir);
				free(mout);
				goto done;
			}
			free(dir);
		}
		free(mout);
	}

	/* The manifest line. */
	rec = mirad_record_clone(r);
	root = mirad_path_join(run->target, sub);
	mirad_record_set(&rec->root, root);
	mirad_record_set(&rec->image, j->image_rel);
	if (j->mask_rel != NULL)
		mirad_record_set(&rec->mask, j->mask_rel);
	free(root);
	rec->width = out->Xsize;
	rec->height = out->Ysize;
	rec->channels = out->Bands;
	variant_id =
	    mirad_xasprintf("%s@s%d#%u", p->name, j->severity, j->variant);
	snprintf(seedhex, sizeof seedhex, "0x%016" PRIx64, run->run_seed);
	mirad_record_put_string(rec, "variant", variant_id);
	mirad_record_put_number(rec, "severity", j->severity);
	mirad_record_put_string(rec, "profile", p->name);
	mirad_record_put_string(rec, "profile_digest", p->digest);
	mirad_record_put_string(rec, "run_seed", seedhex);
	mirad_record_put_string(rec, "source_image", src_path);
	mirad_record_put_string(rec, "pixel_sha256", hash);
	if (mhash[0] != '\0')
		mirad_record_put_string(rec, "mask_sha256", mhash);
	effects = cJSON_CreateArray();
	for (size_t i = 0; i < p->neffects; i++)
		cJSON_AddItemToArray(
		    effects, augment_sample_to_json(p, &sample, i));
	mirad_record_put(rec, "augment", effects);
	mirad_record_put_string(rec, "libvips", mirad_image_library_version());
	json = mirad_record_to_json(rec);
	j->line = cJSON_PrintUnformatted(json);
	cJSON_Delete(json);
	mirad_record_free(rec);
	free(variant_id);
	status = 0;
done:
	if (status == 3)
		j->fatal = true;
	if (src != NULL)
		g_object_unref(src);
	if (mask_raw != NULL)
		g_object_unref(mask_raw);
	if (mask != NULL)
		g_object_unref(mask);
	if (out != NULL)
		g_object_unref(out);
	if (wmask != NULL)
		g_object_unref(wmask);
	g_free(jpeg);
	free(src_path);
	free(mask_path);
	free(sub);
	free(outdir);
	free(outpath);
	return status;
}

/* Render job I; a fatal error or an interrupt stops the loop (the jobs
 * already running finish). */
static int
render_item(size_t i, void *user)
{
	const struct augment_run *run = user;
	int rc;

	if (mirad_signal_pending() != 0)
		return 1;
	rc = augment_run_render(run, &run->jobs[i]);
	mirad_progress_add(1);
	return rc == 3 ? 3 : 0;
}

static void
render_thread_end(void *user)
{
	(void)user;
	augment_thread_cleanup();
	vips_thread_shutdown();
}

void
augment_run_render_all(const struct augment_run *run, unsigned jobs)
{
	(void)mirad_parallel_for(run->njobs, jobs, render_item,
	    render_thread_end, (void *)run, NULL);
}

static bool
in_shard(
    const struct augment_run *run, const char *image_id, const char *variant_id)
{
	const char *parts[] = {image_id, variant_id, NULL};

	if (run->shard_count <= 1)
		return true;
	return augment_mix64(augment_key(0, parts)) % run->shard_count ==
	    run->shard_index;
}

/* ---- where the files go ------------------------------------------------ */

static bool
safe_folder_name(const char *name)
{
	return name != NULL && name[0] != '\0' && name[0] != '.' &&
	    strchr(name, '/') == NULL;
}

/* NAME made unique in TAKEN (which keeps it): "x.png", "x_1.png", ... */
static char *
unique_name(
    GHashTable *taken, const char *dir, const char *stem, const char *ext)
{
	char *name = mirad_xasprintf("%s/%s%s", dir, stem, ext);

	for (unsigned k = 1; g_hash_table_contains(taken, name); k++) {
		free(name);
		name = mirad_xasprintf("%s/%s_%u%s", dir, stem, k, ext);
	}
	g_hash_table_add(taken, mirad_xstrdup(name));
	return name;
}

/*
 * Where the image and mask of R go under the output, for a record whose
 * paths are absolute or climb with "..": relative to the record's root
 * when they lie inside it, else where mirad-convert --to mirad puts them,
 * CATEGORY/SPLIT/good|anomaly/ and CATEGORY/ground_truth/anomaly/, under
 * their own file names (made unique).  -1 when the category cannot be a
 * folder name.
 */
static int
place_record(
    const struct mirad_record *r, GHashTable *taken, char **image, char **mask)
{
	const char *rels[2] = {r->image, r->mask};
	char *placed[2] = {NULL, NULL};
	char *root = mirad_path_absolute(r->root != NULL ? r->root : ".");
	const char *split;
	char *stem;

	for (int k = 0; k < 2 && root != NULL; k++) {
		char *full, *abs;

		if (rels[k] == NULL)
			continue;
		full = mirad_record_path(r, rels[k]);
		abs = mirad_path_absolute(full);
		free(full);
		if (abs != NULL && strcmp(abs, root) != 0 &&
		    mirad_path_within(abs, root)) {
			const char *rel =
			    abs + strlen(root) + (root[1] != '\0');

			if (!mirad_path_escapes(rel))
				placed[k] = mirad_xstrdup(rel);
		}
		free(abs);
	}
	free(root);
	if (placed[0] != NULL && (r->mask == NULL || placed[1] != NULL) &&
	    !g_hash_table_contains(taken, placed[0])) {
		g_hash_table_add(taken, mirad_xstrdup(placed[0]));
		*image = placed[0];
		*mask = placed[1];
		return 0;
	}
	free(placed[0]);
	free(placed[1]);
	if (!safe_folder_name(r->category))
		return -1;
	split = r->split == NULL           ? "test"
	    : strcmp(r->split, "val") == 0 ? "validation"
	                                   : r->split;
	if (!safe_folder_name(split))
		return -1;
	{
		bool anomaly = mirad_record_is_anomaly(r);
		char *dir = mirad_xasprintf("%s/%s/%s", r->category, split,
		    anomaly ? "anomaly" : "good");

		stem = mirad_path_stem(r->image);
		*image =
		    unique_name(taken, dir, stem, mirad_path_ext(r->image));
		free(dir);
	}
	*mask = NULL;
	if (r->mask != NULL) {
		char *placed_stem = mirad_path_stem(*image);
		char *mdir =
		    mirad_xasprintf("%s/ground_truth/anomaly", r->category);

		*mask = mirad_xasprintf("%s/%s_mask.png", mdir, placed_stem);
		free(mdir);
		free(placed_stem);
	}
	free(stem);
	return 0;
}

/* ---- --shard and --merge --------------------------------------------- */

void
augment_run_fingerprint(const struct augment_run *run,
    const struct mirad_recordset *records, char hex[65])
{
	struct mirad_shard_job *j = mirad_shard_job_new("mirad-augment");
	char buf[64];

	mirad_shard_job_add(j, "profile", run->profile->name);
	mirad_shard_job_add(j, "profile-digest", run->profile->digest);
	snprintf(buf, sizeof buf, "0x%016" PRIx64, run->run_seed);
	mirad_shard_job_add(j, "seed", buf);
	snprintf(buf, sizeof buf, "%d-%d", run->sev_lo, run->sev_hi);
	mirad_shard_job_add(j, "severities", buf);
	snprintf(buf, sizeof buf, "%u", run->variants);
	mirad_shard_job_add(j, "variants", buf);
	for (size_t i = 0; i < records->count; i++)
		mirad_shard_job_add_record(j, records->items[i]);
	mirad_shard_job_finish(j, hex);
}

/* Does FULL (a file in the shard's private folder) exist? */
static bool
written(const char *full)
{
	struct stat st;

	return lstat(full, &st) == 0 && !S_ISDIR(st.st_mode);
}

/* The files a job left are listed also for a pair skipped after writing
 * them, as one run leaves them. */
int
augment_run_write_shard(const struct augment_run *run, const char *job,
    int status, char *err, size_t errlen)
{
	struct mirad_shard_writer *w;
	GHashTable *listed =
	    g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	int rc = 0;

	w = mirad_shard_writer_open(run->tmpdir, run->target, "mirad-augment",
	    run->shard_index, run->shard_count, job, run->total, NULL, err,
	    errlen);
	if (w == NULL) {
		g_hash_table_destroy(listed);
		return -1;
	}
	for (size_t i = 0; i < run->njobs && rc == 0; i++) {
		const struct augment_job *j = &run->jobs[i];
		const char *rels[2] = {j->image_rel, j->mask_rel};
		char *files[2] = {NULL, NULL};
		char *sub = variant_dir(run, j);
		size_t nfiles = 0;
		cJSON *rec = NULL, *data = NULL;

		for (int k = 0; k < 2; k++) {
			char *rel, *full;

			if (rels[k] == NULL)
				continue;
			rel = mirad_path_join(sub, rels[k]);
			full = mirad_path_join(run->tmpdir, rel);
			if (written(full) &&
			    !g_hash_table_contains(listed, rel)) {
				g_hash_table_add(listed, mirad_xstrdup(rel));
				files[nfiles++] = rel;
			} else {
				free(rel);
			}
			free(full);
		}
		if (j->line != NULL) {
			rec = cJSON_Parse(j->line);
			if (rec != NULL) /* the extra fields' text as read */
				mirad_json_keep_text(
				    rec, j->line, strlen(j->line), NULL);
		}
		if (j->problem != NULL) {
			data = cJSON_CreateObject();
			cJSON_AddStringToObject(data, "problem", j->problem);
		}
		rc = mirad_shard_writer_add(w, j->seq,
		    (const char *const *)files, nfiles, rec, data, err, errlen);
		cJSON_Delete(rec);
		cJSON_Delete(data);
		free(files[0]);
		free(files[1]);
		free(sub);
	}
	g_hash_table_destroy(listed);
	if (rc != 0) {
		mirad_shard_writer_abort(w);
		return -1;
	}
	return mirad_shard_writer_close(w, status, err, errlen);
}

size_t
augment_run_plan(struct augment_run *run, const struct mirad_recordset *records)
{
	GHashTable *taken =
	    g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	size_t unplaced = 0;

	run->subdirs = run->sev_hi > run->sev_lo || run->variants > 1;
	run->jobs = mirad_xcalloc(records->count *
	            (size_t)(run->sev_hi - run->sev_lo + 1) * run->variants +
	        1,
	    sizeof *run->jobs);
	run->njobs = 0;
	run->total = 0;
	run->nrecords = records->count;
	run->image_rels = mirad_xcalloc(records->count + 1, sizeof(char *));
	run->mask_rels = mirad_xcalloc(records->count + 1, sizeof(char *));
	/* The relative paths first, so the placed ones keep clear of
	 * them. */
	for (size_t i = 0; i < records->count; i++) {
		const struct mirad_record *r = records->items[i];

		if (!mirad_path_escapes(r->image) &&
		    (r->mask == NULL || !mirad_path_escapes(r->mask))) {
			run->image_rels[i] = mirad_xstrdup(r->image);
			run->mask_rels[i] =
			    r->mask ? mirad_xstrdup(r->mask) : NULL;
			g_hash_table_add(taken, mirad_xstrdup(r->image));
		}
	}
	for (size_t i = 0; i < records->count; i++) {
		const struct mirad_record *r = records->items[i];

		if (run->image_rels[i] == NULL &&
		    place_record(r, taken, &run->image_rels[i],
		        &run->mask_rels[i]) != 0) {
			run->image_rels[i] = NULL;
			run->mask_rels[i] = NULL;
			unplaced++;
			continue;
		}
		for (int s = run->sev_lo; s <= run->sev_hi; s++)
			for (unsigned v = 0; v < run->variants; v++) {
				char *vid = mirad_xasprintf(
				    "%s@s%d#%u", run->profile->name, s, v);

				if (in_shard(run, r->image, vid)) {
					struct augment_job *j =
					    &run->jobs[run->njobs++];

					j->seq = run->total;
					j->record = r;
					j->image_rel = run->image_rels[i];
					j->mask_rel = run->mask_rels[i];
					j->severity = s;
					j->variant = v;
				}
				free(vid);
				run->total++;
			}
	}
	g_hash_table_destroy(taken);
	return unplaced;
}

void
augment_run_free(struct augment_run *run)
{
	for (size_t i = 0; i < run->njobs; i++) {
		cJSON_free(run->jobs[i].line);
		free(run->jobs[i].problem);
	}
	for (size_t i = 0; i < run->nrecords; i++) {
		free(run->image_rels[i]);
		free(run->mask_rels[i]);
	}
	free(run->image_rels);
	free(run->mask_rels);
	free(run->jobs);
	run->jobs = NULL;
	run->image_rels = run->mask_rels = NULL;
	run->njobs = run->nrecords = 0;
}
