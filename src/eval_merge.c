/* SPDX-License-Identifier: MIT */
/*
 * mirad-eval's sharding and merge; see eval_merge.h.
 */
#include "mirad_platform.h"

#include "eval_merge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirad_err.h"
#include "mirad_hash.h"
#include "mirad_progress.h"
#include "mirad_strlist.h"

/* ---- sharding: partial files and --merge ---- */

/* Append S and its NUL to the growing buffer B. */
struct buf {
	char *data;
	size_t len, cap;
};

static void
buf_add(struct buf *b, const char *s)
{
	size_t n = strlen(s) + 1;

	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->data = mirad_xrealloc(b->data, b->cap);
	}
	memcpy(b->data + b->len, s, n);
	b->len += n;
}

/* The SHA-256 of what defines the evaluation set: each test record's
 * category, image, mask, label and map field, in the single run's order. */
static void
hash_ground_truth(const struct mirad_recordset *records, char hex[65])
{
	struct buf b = {0};

	buf_add(&b, "mirad-eval ground truth 1");
	for (size_t i = 0; i < records->count; i++) {
		const struct mirad_record *r = records->items[i];
		const char *map = mirad_record_get_string(r, "map");

		if (strcmp(r->split, "test") != 0)
			continue;
		buf_add(&b, r->category);
		buf_add(&b, r->image);
		buf_add(&b, r->mask ? r->mask : "");
		buf_add(&b, mirad_record_is_anomaly(r) ? "1" : "0");
		buf_add(&b, map ? map : "");
	}
	mirad_hash_sha256_data(b.data, b.len, hex);
	free(b.data);
}

static void
hash_scores(const struct eval *e, char hex[65])
{
	struct buf b = {0};

	buf_add(&b, "mirad-eval scores 1");
	for (size_t i = 0; i < e->nscores; i++) {
		char v[64];

		snprintf(v, sizeof v, "%a", e->scores[i].score);
		buf_add(&b, e->scores[i].image);
		buf_add(&b, v);
	}
	mirad_hash_sha256_data(b.data, b.len, hex);
	free(b.data);
}

/* What every shard of one run must share (eval_partial.h). */
void
eval_build_job(const struct eval *e, const struct mirad_recordset *records,
    const struct run *runs, size_t nruns, struct eval_job *job)
{
	char v[128], hex[65];
	struct buf metrics = {0};
	size_t ntest = 0;

	eval_job_add(job, "tool", "mirad-eval");
	eval_job_add(job, "mode", e->methods ? "methods" : "maps");
	for (int m = 0; m < NMETRICS; m++)
		if (e->metric_on[m]) {
			if (metrics.len > 0)
				metrics.data[metrics.len - 1] = ',';
			buf_add(&metrics, eval_metric_names[m].key);
		}
	eval_job_add(job, "metrics", metrics.data);
	free(metrics.data);
	snprintf(v, sizeof v, "%a", e->limit);
	eval_job_add(job, "pro-limit", v);
	/* "ader" alone is the default 16x16 pooling (and what files
	 * written before --ader-pooling hold). */
	if (e->compat != COMPAT_ADER || e->ader_pooling == 16)
		snprintf(v, sizeof v, "%s",
		    e->compat == COMPAT_ADER ? "ader" : "exact");
	else if (e->ader_pooling == 0)
		snprintf(v, sizeof v, "ader,pooling=none");
	else
		snprintf(v, sizeof v, "ader,pooling=%u", e->ader_pooling);
	eval_job_add(job, "compat", v);
	snprintf(v, sizeof v, "%u", e->adeval_strips);
	eval_job_add(job, "adeval-strips", v);
	eval_job_add(job, "strict", e->strict ? "yes" : "no");
	if (e->scores_path != NULL)
		hash_scores(e, hex);
	eval_job_add(job, "scores", e->scores_path ? hex : "none");
	hash_ground_truth(records, hex);
	eval_job_add(job, "ground-truth", hex);
	for (size_t i = 0; i < records->count; i++)
		ntest += strcmp(records->items[i]->split, "test") == 0;
	snprintf(v, sizeof v, "%zu", ntest);
	eval_job_add(job, "test-images", v);
	for (size_t r = 0; r < nruns; r++) {
		eval_job_add(job, "method", runs[r].name);
		eval_job_add(job, "maps", runs[r].maps);
	}
	/* the categories with test images, in the order of eval_evaluate() */
	for (size_t i = 0; i < records->count;) {
		const char *name = records->items[i]->category;
		size_t n = 0;

		for (; i < records->count &&
		     strcmp(records->items[i]->category, name) == 0;
		     i++)
			n += strcmp(records->items[i]->split, "test") == 0;
		if (n == 0)
			continue;
		snprintf(v, sizeof v, "%zu", n);
		eval_job_add(job, "category", name);
		eval_job_add(job, "images", v);
	}
}

/* A category of a merged job. */
struct merge_cat {
	const char *name; /* borrowed from the job */
	uint64_t images;
};

static MIRAD_NORETURN void
bad_job(const char *file)
{
	mirad_die(MIRAD_EXIT_FATAL,
	    "%s: corrupt partial file (job description)", file);
}

/* Set E, the runs and categories from JOB (of FILE). */
static void
decode_job(struct eval *e, const struct eval_job *job, const char *file,
    struct run **runs, size_t *nruns, struct merge_cat **cats, size_t *ncats)
{
	static const char *const scalars[] = {"tool", "mode", "metrics",
	    "pro-limit", "compat", "adeval-strips", "strict", "scores",
	    "ground-truth", "test-images"};
	const size_t nsc = sizeof scalars / sizeof *scalars;
	uint64_t u;
	size_t k;
	char *end;

	if (job->n < nsc)
		bad_job(file);
	for (k = 0; k < nsc; k++)
		if (strcmp(job->keys[k], scalars[k]) != 0)
			bad_job(file);
	if (strcmp(job->values[0], "mirad-eval") != 0)
		bad_job(file);
	if (strcmp(job->values[1], "methods") == 0)
		e->methods = "";
	else if (strcmp(job->values[1], "maps") != 0)
		bad_job(file);
	{
		struct mirad_strlist l = {0};

		if (mirad_strlist_split(job->values[2], &l) != 0 ||
		    l.count == 0)
			bad_job(file);
		memset(e->metric_on, 0, sizeof e->metric_on);
		for (size_t i = 0; i < l.count; i++) {
			int m = -1;

			for (int x = 0; x < NMETRICS; x++)
				if (strcmp(l.items[i],
				        eval_metric_names[x].key) == 0)
					m = x;
			if (m < 0)
				bad_job(file);
			e->metric_on[m] = true;
		}
		mirad_strlist_free(&l);
	}
	errno = 0;
	e->limit = strtod(job->values[3], &end);
	if (errno != 0 || *end != '\0' || !(e->limit > 0 && e->limit <= 1))
		bad_job(file);
	if (strcmp(job->values[4], "ader") == 0) {
		e->compat = COMPAT_ADER;
	} else if (strcmp(job->values[4], "ader,pooling=none") == 0) {
		e->compat = COMPAT_ADER;
		e->ader_pooling = 0;
	} else if (strncmp(job->values[4], "ader,pooling=", 13) == 0) {
		if (mirad_cli_parse_uint(job->values[4] + 13, 1, 4096, &u) != 0)
			bad_job(file);
		e->compat = COMPAT_ADER;
		e->ader_pooling = (unsigned)u;
	} else if (strcmp(job->values[4], "exact") != 0) {
		bad_job(file);
	}
	if (mirad_cli_parse_uint(job->values[5], 1, 1000000, &u) != 0)
		bad_job(file);
	e->adeval_strips = (unsigned)u;
	e->strict = strcmp(job->values[6], "yes") == 0;
	/* The methods, then the categories, each as a pair of fields. */
	*runs = NULL;
	*nruns = 0;
	for (; k + 1 < job->n && strcmp(job->keys[k], "method") == 0; k += 2) {
		struct run *r;

		if (strcmp(job->keys[k + 1], "maps") != 0)
			bad_job(file);
		*runs = mirad_xrealloc(*runs, (*nruns + 1) * sizeof **runs);
		r = &(*runs)[(*nruns)++];
		memset(r, 0, sizeof *r);
		r->name = mirad_xstrdup(job->values[k]);
		r->maps = mirad_xstrdup(job->values[k + 1]);
	}
	if (*nruns == 0 || (e->methods == NULL && *nruns != 1))
		bad_job(file);
	*cats = NULL;
	*ncats = 0;
	for (; k + 1 < job->n && strcmp(job->keys[k], "category") == 0;
	     k += 2) {
		if (strcmp(job->keys[k + 1], "images") != 0 ||
		    mirad_cli_parse_uint(
		        job->values[k + 1], 1, UINT64_MAX, &u) != 0)
			bad_job(file);
		*cats = mirad_xrealloc(*cats, (*ncats + 1) * sizeof **cats);
		(*cats)[*ncats].name = job->values[k];
		(*cats)[(*ncats)++].images = u;
	}
	if (k != job->n || *ncats == 0)
		bad_job(file);
}

/* The partial files of --merge, one per shard, in shard order. */
static struct eval_partial_reader **
open_partials(const struct eval *e)
{
	struct eval_partial_reader **in = mirad_xcalloc(e->ninputs, sizeof *in);
	struct eval_partial_reader **slot;
	unsigned n;
	char err[1024];

	for (size_t i = 0; i < e->ninputs; i++) {
		in[i] = eval_partial_open(e->inputs[i], err, sizeof err);
		if (in[i] == NULL)
			mirad_die(MIRAD_EXIT_FATAL, "%s", err);
	}
	n = eval_partial_nshards(in[0]);
	slot = mirad_xcalloc(n, sizeof *slot);
	for (size_t i = 0; i < e->ninputs; i++) {
		const char *name = e->inputs[i];
		unsigned k = eval_partial_shard(in[i]);
		size_t la, lb;
		const unsigned char *ja = eval_partial_job_bytes(in[0], &la);
		const unsigned char *jb = eval_partial_job_bytes(in[i], &lb);

		if (eval_partial_nshards(in[i]) != n)
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: not from the same run as %s (a shard of %u, "
			    "not of %u)",
			    name, e->inputs[0], eval_partial_nshards(in[i]), n);
		if (la != lb || memcmp(ja, jb, la) != 0) {
			const struct eval_job *a = eval_partial_job(in[0]);
			const struct eval_job *b = eval_partial_job(in[i]);
			long d = eval_job_first_difference(a, b);
			const char *key = d < 0 ? "?"
			    : (size_t)d < b->n  ? b->keys[d]
			                        : a->keys[d];

			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: not from the same run as %s ('%s' differs)",
			    name, e->inputs[0], key);
		}
		if (slot[k] != NULL)
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: shard %u/%u given twice (also %s)", name, k, n,
			    eval_partial_name(slot[k]));
		slot[k] = in[i];
	}
	for (unsigned k = 0; k < n; k++)
		if (slot[k] == NULL)
			mirad_die(MIRAD_EXIT_FATAL,
			    "missing shard %u/%u (%zu of %u partial files "
			    "given)",
			    k, n, e->ninputs, n);
	free(in);
	return slot;
}

/* A source of negative runs in the k-way merge: one shard's section,
 * decoded a chunk at a time. */
#define RUN_CHUNK 1024
struct run_src {
	struct eval_partial_reader *in;
	struct eval_partial_section *sec;
	size_t n, i;
	uint32_t key[RUN_CHUNK];
	uint64_t count[RUN_CHUNK];
};

/* Decode the next chunk of S; false when S is exhausted. */
static bool
src_fill(struct run_src *s)
{
	char err[1024];
	long got = eval_partial_read_runs(
	    s->in, s->sec, s->key, s->count, RUN_CHUNK, err, sizeof err);

	if (got < 0)
		mirad_die(MIRAD_EXIT_FATAL, "%s", err);
	s->n = (size_t)got;
	s->i = 0;
	return got > 0;
}

static void
heap_down(struct run_src **h, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		struct run_src *t;

		if (l < n && h[l]->key[h[l]->i] > h[m]->key[h[m]->i])
			m = l;
		if (r < n && h[r]->key[h[r]->i] > h[m]->key[h[m]->i])
			m = r;
		if (m == i)
			return;
		t = h[i];
		h[i] = h[m];
		h[m] = t;
		i = m;
	}
}

static void
append_runs(struct eval_pixels *px, const uint32_t *key, const uint64_t *count,
    size_t n, const char *name)
{
	if (eval_pixels_append_runs(px, key, count, n) != 0)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", name);
}

/* Merge the negative runs of the current sections of the N readers into
 * PX, in descending key order (equal keys of several shards become one
 * run: counts are integers, so this is exactly the single run's
 * multiset). */
static void
merge_runs(struct eval_partial_reader **in, struct eval_partial_section *sec,
    unsigned n, struct eval_pixels *px)
{
	struct run_src *src = mirad_xcalloc(n, sizeof *src);
	struct run_src **h = mirad_xcalloc(n, sizeof *h);
	uint32_t okey[RUN_CHUNK];
	uint64_t ocount[RUN_CHUNK];
	size_t nh = 0, on = 0;
	const char *name = "merging the partial files";

	for (unsigned k = 0; k < n; k++) {
		src[k].in = in[k];
		src[k].sec = &sec[k];
		if (src_fill(&src[k]))
			h[nh++] = &src[k];
	}
	for (size_t i = nh / 2; i-- > 0;)
		heap_down(h, nh, i);
	while (nh > 0) {
		struct run_src *t = h[0];
		uint32_t next = 0; /* the best key of the other sources */
		bool more = true;

		if (nh > 1)
			next = nh > 2 && h[2]->key[h[2]->i] > h[1]->key[h[1]->i]
			    ? h[2]->key[h[2]->i]
			    : h[1]->key[h[1]->i];
		/* Take this source's runs while they stay above the others'. */
		do {
			okey[on] = t->key[t->i];
			ocount[on++] = t->count[t->i++];
			if (on == RUN_CHUNK) {
				append_runs(px, okey, ocount, on, name);
				on = 0;
			}
			if (t->i == t->n && !src_fill(t)) {
				more = false;
				break;
			}
		} while (nh == 1 || t->key[t->i] > next);
		if (!more)
			h[0] = h[--nh];
		heap_down(h, nh, 0);
	}
	append_runs(px, okey, ocount, on, name);
	free(h);
	free(src);
}

/*
 * --merge: rebuild every category's store from the shards' sections in
 * shard order (the single run's image order) and compute its metrics.
 * Returns the exit status the single run would have had.
 */
int
eval_merge(struct eval *e, struct run **runs, size_t *nruns)
{
	struct eval_partial_reader **in = open_partials(e);
	unsigned n = eval_partial_nshards(in[0]);
	struct eval_partial_section *sec = mirad_xcalloc(n, sizeof *sec);
	struct merge_cat *cats;
	size_t ncats;
	uint32_t flags_any = 0;
	char err[1024];
	int status = MIRAD_EXIT_OK;

	decode_job(e, eval_partial_job(in[0]), eval_partial_name(in[0]), runs,
	    nruns, &cats, &ncats);
	mirad_progress_start("merging", *nruns * ncats);
	for (size_t r = 0; r < *nruns; r++) {
		struct run *run = &(*runs)[r];

		for (size_t c = 0; c < ncats; c++) {
			struct cat_state st = {0};

			st.px = eval_pixels_new();
			if (st.px == NULL)
				mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "%s",
				    cats[c].name);
			for (unsigned k = 0; k < n; k++) {
				struct eval_partial_section *s = &sec[k];
				uint64_t lo, hi, next;

				if (eval_partial_read_section(in[k], r, c, s,
				        st.px, err, sizeof err) != 0)
					mirad_die(MIRAD_EXIT_FATAL, "%s", err);
				eval_shard_range(
				    cats[c].images, k, n, &lo, &hi);
				next = lo;
				for (size_t i = 0; i < s->nimages; i++) {
					const struct eval_partial_image *im =
					    &s->images[i];

					if (im->index < next || im->index >= hi)
						mirad_die(MIRAD_EXIT_FATAL,
						    "%s: corrupt partial file "
						    "(image index)",
						    eval_partial_name(in[k]));
					next = im->index + 1;
					eval_cat_grow(&st);
					st.iscore[st.n] = im->score;
					st.ilabel[st.n] = im->label;
					st.iindex[st.n++] = im->index;
				}
				st.resized += s->resized;
				if (st.first_resized == NULL &&
				    s->first_resized != NULL)
					st.first_resized =
					    mirad_xstrdup(s->first_resized);
			}
			merge_runs(in, sec, n, st.px);
			if (st.n > 0)
				eval_run_add_category(
				    e, run, cats[c].name, &st);
			eval_cat_free(&st);
			mirad_progress_add(1);
		}
		if (run->ncats == 0)
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: no test image could "
			    "be evaluated",
			    run->maps);
	}
	mirad_progress_end();
	for (unsigned k = 0; k < n; k++) {
		uint64_t bad;
		uint32_t flags;

		if (eval_partial_read_end(
		        in[k], &bad, &flags, err, sizeof err) != 0)
			mirad_die(MIRAD_EXIT_FATAL, "%s", err);
		e->bad += (size_t)bad;
		flags_any |= flags;
		eval_partial_section_clear(&sec[k]);
	}
	if (flags_any & EVAL_PARTIAL_GT_PROBLEMS) {
		mirad_warn("the shard runs reported problems in the ground "
		           "truth");
		status = MIRAD_EXIT_PARTIAL;
	}
	free(sec);
	free(cats);
	for (unsigned k = 0; k < n; k++)
		eval_partial_close(in[k]);
	free(in);
	return status;
}
