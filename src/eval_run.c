/* SPDX-License-Identifier: MIT */
/*
 * mirad-eval's engine; see eval_run.h.
 */
#include "mirad_platform.h"

#include "eval_run.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "eval_maps.h"
#include "eval_merge.h"
#include "eval_scores.h"
#include "mirad_err.h"
#include "mirad_formats.h"
#include "mirad_fs.h"
#include "mirad_image.h"
#include "mirad_manifest.h"
#include "mirad_outdir.h"
#include "mirad_progress.h"
#include "mirad_signal.h"

/* clang-format off */
const struct eval_metric_name eval_metric_names[NMETRICS] = {
	{"i-auroc", "I-AUROC"},
	{"i-ap", "I-AP"},
	{"i-f1max", "I-F1max"},
	{"p-auroc", "P-AUROC"},
	{"p-ap", "P-AP"},
	{"p-f1max", "P-F1max"},
	{"aupro", "AUPRO"},
};
/* clang-format on */

void
eval_clear(struct eval *e)
{
	for (size_t i = 0; i < e->nscores; i++)
		free(e->scores[i].image);
	free(e->scores);
	e->scores = NULL;
	e->nscores = e->scores_capacity = 0;
}

void
eval_runs_free(struct run *runs, size_t n)
{
	for (size_t r = 0; r < n; r++) {
		for (size_t i = 0; i < runs[r].ncats; i++)
			free(runs[r].cats[i].category);
		free(runs[r].cats);
		free(runs[r].name);
		free((char *)runs[r].maps);
	}
	free(runs);
}

/* ---- evaluation ---- */

/* Report a bad image: fatal with --strict, else counted and skipped. */
static void
bad_image(struct eval *e, const char *msg)
{
	mirad_progress_clear();
	if (e->strict)
		mirad_die(MIRAD_EXIT_FATAL, "%s", msg);
	mirad_warn("%s", msg);
	e->bad++;
}

/* The map path of R under MAPS: <maps>/<category>/test/<folder>/<stem>,
 * folder being the image's parent directory; or the record's "map"
 * field (relative to MAPS). */
static char *
map_path_for(
    const char *maps, const struct mirad_record *r, char *err, size_t errlen)
{
	const char *field = mirad_record_get_string(r, "map");
	char *dir, *parent, *stem, *sub, *path;

	if (field != NULL)
		return mirad_path_join(maps, field);
	dir = mirad_path_dirname(r->image);
	parent = mirad_xstrdup(mirad_path_basename(dir));
	stem = mirad_path_stem(r->image);
	sub = mirad_xasprintf("%s/%s/test/%s", maps, r->category, parent);
	path = eval_map_find(sub, stem, err, errlen);
	free(dir);
	free(parent);
	free(stem);
	free(sub);
	return path;
}

/* Make room for one more image in ST. */
void
eval_cat_grow(struct cat_state *st)
{
	if (st->n < st->cap)
		return;
	st->cap = st->cap ? 2 * st->cap : 64;
	st->iscore = mirad_xrealloc(st->iscore, st->cap * sizeof *st->iscore);
	st->ilabel = mirad_xrealloc(st->ilabel, st->cap * sizeof *st->ilabel);
	st->iindex = mirad_xrealloc(st->iindex, st->cap * sizeof *st->iindex);
}

/* Evaluate test image number INDEX of its category into ST.  Returns 0, or
 * -1 if it was skipped. */
static int
add_image(struct eval *e, const char *maps, const struct mirad_record *r,
    uint64_t index, struct cat_state *st)
{
	char err[1024], msg[1200];
	struct eval_map map = {0};
	uint8_t *mask = NULL;
	size_t mw = 0, mh = 0;
	char *mpath, *path = NULL;
	const float *pix;
	float *resized = NULL;
	double score = -INFINITY;
	bool any = false;
	int rc = -1;

	mpath = map_path_for(maps, r, err, sizeof err);
	if (mpath == NULL) {
		bad_image(e, err);
		return -1;
	}
	if (eval_map_read(mpath, &map, err, sizeof err) != 0) {
		bad_image(e, err);
		goto out;
	}
	if (map.rounded && !e->rounded_warned) {
		mirad_note("%s: float64 map rounded to float32", mpath);
		e->rounded_warned = true;
	}
	/* Every map is evaluated at its image's size: the mask's, or for
	 * an image without a mask the image's own, from its header. */
	if (r->mask != NULL) {
		path = mirad_record_path(r, r->mask);
		if (eval_mask_read(path, &mask, &mw, &mh, err, sizeof err) !=
		    0) {
			bad_image(e, err);
			goto out;
		}
	} else {
		struct mirad_image_info info;
		char why[512];

		path = mirad_record_path(r, r->image);
		if (mirad_image_header(path, &info, why, sizeof why) != 0) {
			snprintf(msg, sizeof msg,
			    "%s: cannot read the image's size (%s)", path, why);
			bad_image(e, msg);
			goto out;
		}
		mw = (size_t)info.width;
		mh = (size_t)info.height;
		mask = mirad_xcalloc((mw * mh) > 0 ? mw * mh : 1, 1);
	}
	pix = map.data;
	if (mw != map.width || mh != map.height) {
		if (e->strict) {
			snprintf(msg, sizeof msg,
			    "%s: map is %zux%zu, %s is %zux%zu", mpath,
			    map.width, map.height,
			    r->mask != NULL ? "mask" : "image", mw, mh);
			bad_image(e, msg);
			goto out;
		}
		resized = mirad_xmalloc(mw * mh * sizeof *resized);
		eval_resize_bilinear(
		    map.data, map.width, map.height, resized, mw, mh);
		pix = resized;
		if (st->resized++ == 0)
			st->first_resized =
			    mirad_xasprintf("%s (%zux%zu, image %zux%zu)",
			        mpath, map.width, map.height, mw, mh);
	}
	for (size_t i = 0; i < mw * mh; i++)
		any |= mask[i] != 0;
	if (mirad_record_is_anomaly(r) && !any)
		mirad_note(
		    "%s: labelled anomalous but its mask is empty", r->image);
	if (e->scores != NULL) {
		if (!eval_lookup_score(e, r->image, &score)) {
			snprintf(msg, sizeof msg, "%s: no score in %s",
			    r->image, e->scores_path);
			bad_image(e, msg);
			goto out;
		}
	} else if (e->compat == COMPAT_ADER && e->ader_pooling > 0) {
		/* ADer: the max of the KxK mean-pooled map, pooled at the
		 * map's own resolution (ADer pools its model-size maps). */
		unsigned k = e->ader_pooling;

		if ((map.width < k || map.height < k) && st->unpooled++ == 0)
			mirad_note("%s: map is %zux%zu, smaller than the "
			           "%ux%u pooling kernel: image scores of such "
			           "maps are their maximum",
			    mpath, map.width, map.height, k, k);
		score = eval_avgpool_max(map.data, map.width, map.height, k);
		if (isnan(score))
			mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "%s", mpath);
	} else {
		for (size_t i = 0; i < map.width * map.height; i++)
			if (map.data[i] > score)
				score = map.data[i];
	}
	if (eval_pixels_add(st->px, pix, mask, mw, mh) != 0)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", r->image);
	eval_cat_grow(st);
	st->iscore[st->n] = score;
	st->ilabel[st->n] = any;
	st->iindex[st->n] = index;
	st->n++;
	rc = 0;
out:
	free(resized);
	free(mask);
	free(path);
	free(mpath);
	eval_map_clear(&map);
	return rc;
}

static void
finish_category(struct eval *e, struct cat_state *st, struct cat_result *c)
{
	struct eval_result img, px;

	mirad_progress_clear();
	if (st->resized > 0)
		mirad_note("%s: %zu maps resized (bilinear) to their image "
		           "size, e.g. %s; results are not comparable with "
		           "the official evaluation",
		    c->category, st->resized, st->first_resized);
	c->images = st->n;
	for (size_t i = 0; i < st->n; i++)
		c->anomalous += st->ilabel[i];
	c->pixels = eval_pixels_count(st->px);
	if (eval_binary(st->iscore, st->ilabel, st->n, &img) != 0 ||
	    eval_pixels_compute(st->px, e->limit, &px) != 0)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "%s", c->category);
	c->regions = px.regions;
	c->m[M_I_AUROC] = img.auroc;
	c->m[M_I_AP] = img.ap;
	c->m[M_I_F1MAX] = img.f1max;
	c->m[M_P_AUROC] = px.auroc;
	c->m[M_P_AP] = px.ap;
	c->m[M_P_F1MAX] = px.f1max;
	c->m[M_AUPRO] = px.aupro;
	if (e->compat == COMPAT_ADER) {
		struct eval_result h;

		if (eval_pixels_adeval(
		        st->px, e->adeval_strips, e->limit, &h) != 0) {
			mirad_note("%s: constant anomaly maps: ADEval's "
			           "histogram is undefined",
			    c->category);
			h.auroc = h.ap = h.aupro = NAN;
		} else if (isnan(h.aupro) && c->regions > 0 &&
		    e->metric_on[M_AUPRO]) {
			mirad_note("%s: ADEval's AU-PRO is undefined (no "
			           "histogram point with a false-positive "
			           "rate on each side of %g)",
			    c->category, e->limit);
		}
		c->m[M_P_AUROC] = h.auroc;
		c->m[M_P_AP] = h.ap;
		c->m[M_AUPRO] = h.aupro;
		c->m[M_P_F1MAX] = eval_pixels_ader_f1max(st->px);
	}
	if (c->anomalous == 0)
		mirad_note("%s: no anomalous test images: I-AUROC, I-AP and "
		           "I-F1max are undefined",
		    c->category);
	else if (c->anomalous == c->images)
		mirad_note("%s: no normal test images: I-AUROC is undefined",
		    c->category);
	if (c->regions == 0)
		mirad_note("%s: no anomalous pixels: P-AUROC, P-AP, P-F1max "
		           "and AU-PRO are undefined",
		    c->category);
	else if (px.negatives == 0)
		mirad_note("%s: no normal pixels: P-AUROC and AU-PRO are "
		           "undefined",
		    c->category);
}

/* The test images [*LO, *HI) of a category of N that shard I of K takes:
 * a contiguous block, so that the shards' blocks in shard order are the
 * single run's image order. */
void
eval_shard_range(uint64_t n, unsigned i, unsigned k, uint64_t *lo, uint64_t *hi)
{
	*lo = (uint64_t)((unsigned __int128)n * i / k);
	*hi = (uint64_t)((unsigned __int128)n * (i + 1) / k);
}

void
eval_cat_free(struct cat_state *st)
{
	eval_pixels_free(st->px);
	free(st->iscore);
	free(st->ilabel);
	free(st->iindex);
	free(st->first_resized);
	memset(st, 0, sizeof *st);
}

/* The result of a category in ST (with images) appended to RUN. */
void
eval_run_add_category(
    struct eval *e, struct run *run, const char *category, struct cat_state *st)
{
	struct cat_result *c;

	run->cats =
	    mirad_xrealloc(run->cats, (run->ncats + 1) * sizeof *run->cats);
	c = &run->cats[run->ncats++];
	memset(c, 0, sizeof *c);
	c->category = mirad_xstrdup(category);
	finish_category(e, st, c);
}

/* Write the section of category number CAT of method METHOD. */
static void
write_section(struct eval_partial_writer *w, size_t method, size_t cat,
    struct cat_state *st)
{
	struct eval_partial_image *im =
	    mirad_xcalloc(st->n ? st->n : 1, sizeof *im);
	int rc, err;

	for (size_t i = 0; i < st->n; i++) {
		im[i].index = st->iindex[i];
		im[i].label = st->ilabel[i];
		im[i].score = st->iscore[i];
	}
	rc = eval_partial_write_section(
	    w, method, cat, im, st->n, st->resized, st->first_resized, st->px);
	err = errno;
	free(im);
	if (rc != 0)
		mirad_die_errno(
		    MIRAD_EXIT_FATAL, err, "writing the partial file");
}

/*
 * Evaluate every category of RECORDS (sorted) with the maps in RUN, method
 * number METHOD.  With W (--partial), only this shard's images, written as
 * sections of W; else into RUN's results.
 */
void
eval_evaluate(struct eval *e, const struct mirad_recordset *records,
    struct run *run, size_t method, struct eval_partial_writer *w)
{
	size_t i = 0, ntest = 0, cat = 0;

	mirad_keep_freed_memory(0);
	for (size_t k = 0; k < records->count;) {
		const char *name = records->items[k]->category;
		uint64_t n = 0, lo, hi;

		for (; k < records->count &&
		     strcmp(records->items[k]->category, name) == 0;
		     k++)
			n += strcmp(records->items[k]->split, "test") == 0;
		eval_shard_range(n, e->shard_index, e->shard_count, &lo, &hi);
		ntest += hi - lo;
	}
	mirad_progress_start(run->name, ntest);
	while (i < records->count) {
		const char *name = records->items[i]->category;
		struct cat_state st = {0};
		size_t j = i;
		uint64_t n = 0, t = 0, lo, hi;

		while (j < records->count &&
		    strcmp(records->items[j]->category, name) == 0)
			n += strcmp(records->items[j++]->split, "test") == 0;
		if (n == 0) { /* no test images: not in the table */
			i = j;
			continue;
		}
		eval_shard_range(n, e->shard_index, e->shard_count, &lo, &hi);
		st.px = eval_pixels_new();
		if (st.px == NULL)
			mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "%s", name);
		eval_pixels_expect(st.px, hi - lo);
		for (size_t k = i; k < j; k++) {
			if (strcmp(records->items[k]->split, "test") != 0)
				continue;
			if (t >= lo && t < hi) {
				add_image(
				    e, run->maps, records->items[k], t, &st);
				mirad_progress_add(1);
			}
			t++;
			/* Interrupted: the partial file's transaction is
			 * aborted on the way out. */
			if (w != NULL && mirad_signal_pending() != 0)
				mirad_signal_reraise();
		}
		if (w != NULL)
			write_section(w, method, cat, &st);
		else if (st.n > 0)
			eval_run_add_category(e, run, name, &st);
		eval_cat_free(&st);
		cat++;
		i = j;
	}
	mirad_progress_end();
}

/* --partial: eval_evaluate this shard's images into a partial file. */
int
eval_write_partial(struct eval *e, const struct mirad_recordset *records,
    struct run *runs, size_t nruns, int status)
{
	struct eval_job job = {0};
	struct eval_partial_writer *w;
	struct mirad_outdir *out;
	int rc;

	mirad_signal_install();
	/* One run per output; what a killed run left is swept; a run that
	 * dies or is interrupted leaves the old file. */
	rc = mirad_outdir_begin(
	    &out, e->output ? e->output : "-", MIRAD_OUTDIR_FILE);
	if (rc == MIRAD_OUTDIR_BUSY)
		mirad_die(MIRAD_EXIT_FATAL,
		    "%s: another mirad-eval is writing it", e->output);
	if (rc != MIRAD_OUTDIR_OK)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", e->output);
	eval_build_job(e, records, runs, nruns, &job);
	w = eval_partial_writer_new(
	    mirad_outdir_stream(out), e->shard_index, e->shard_count, &job);
	eval_job_clear(&job);
	if (w == NULL)
		mirad_die_errno(
		    MIRAD_EXIT_FATAL, errno, "writing the partial file");
	for (size_t r = 0; r < nruns; r++)
		eval_evaluate(e, records, &runs[r], r, w);
	if (eval_partial_writer_finish(w, e->bad,
	        status != MIRAD_EXIT_OK ? EVAL_PARTIAL_GT_PROBLEMS : 0) != 0)
		mirad_die_errno(
		    MIRAD_EXIT_FATAL, errno, "writing the partial file");
	if (mirad_outdir_commit(out) != MIRAD_OUTDIR_OK)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s",
		    e->output ? e->output : "error writing standard output");
	if (e->bad > 0) {
		mirad_warn("%zu test images of shard %u/%u skipped", e->bad,
		    e->shard_index, e->shard_count);
		status = MIRAD_EXIT_PARTIAL;
	}
	return status;
}
