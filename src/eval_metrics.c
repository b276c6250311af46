/* SPDX-License-Identifier: MIT */
/*
 * mirad-eval's metrics core; see eval_metrics.h.
 */
#include "mirad_platform.h"

#include "eval_metrics.h"
#include "mirad_parallel.h"

#include <errno.h>
#include <math.h>
#include <sys/mman.h>
#include <stdlib.h>
#include <string.h>

uint32_t
eval_key_from_float(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof u);
	if (u == 0x80000000u) /* -0.0 ties with +0.0 */
		u = 0;
	return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

float
eval_float_from_key(uint32_t key)
{
	uint32_t u = (key & 0x80000000u) ? (key & 0x7fffffffu) : ~key;
	float f;

	memcpy(&f, &u, sizeof f);
	return f;
}

/* ---- the shared scan ---- */

void
eval_scan_init(struct eval_scan *s, uint64_t n_neg, uint64_t n_pos,
    double n_regions, double limit)
{
	memset(s, 0, sizeof *s);
	s->n_neg = n_neg;
	s->n_pos = n_pos;
	s->n_regions = n_regions;
	s->limit = limit;
	s->f1 = -1.0;
	s->f1_threshold = NAN;
	/* Without negatives or regions the PRO curve does not exist. */
	s->crossed = n_neg == 0 || n_regions <= 0;
}

void
eval_scan_group(
    struct eval_scan *s, uint64_t neg, uint64_t pos, double omega, double value)
{
	s->auroc2 +=
	    (unsigned __int128)neg * (2 * (unsigned __int128)s->tp + pos);
	s->fp += neg;
	s->tp += pos;
	s->omega += omega;
	if (pos > 0) {
		double tp = (double)s->tp, fp = (double)s->fp;
		double f1 = 2.0 * tp / (tp + fp + (double)s->n_pos);

		s->ap += ((double)pos / (double)s->n_pos) * (tp / (tp + fp));
		/* >=: among equal F1 values keep the lowest threshold, the
		 * first maximum in sklearn's increasing-threshold order. */
		if (f1 >= s->f1) {
			s->f1 = f1;
			s->f1_threshold = value;
		}
	}
	if (!s->crossed) {
		double fpr = (double)s->fp / (double)s->n_neg;
		double pro = s->omega / s->n_regions;

		if (fpr <= s->limit) {
			s->area +=
			    (fpr - s->prev_fpr) * (pro + s->prev_pro) / 2;
		} else {
			double y = s->prev_pro +
			    (pro - s->prev_pro) * (s->limit - s->prev_fpr) /
			        (fpr - s->prev_fpr);

			s->area +=
			    (s->prev_pro + y) / 2 * (s->limit - s->prev_fpr);
			s->crossed = true;
		}
		s->prev_fpr = fpr;
		s->prev_pro = pro;
	}
}

void
eval_scan_finish(const struct eval_scan *s, struct eval_result *out)
{
	memset(out, 0, sizeof *out);
	out->negatives = s->n_neg;
	out->positives = s->n_pos;
	out->regions = (uint64_t)s->n_regions;
	if (s->n_pos > 0 && s->n_neg > 0) {
		long double pn2 =
		    2.0L * (long double)s->n_pos * (long double)s->n_neg;

		out->auroc = (double)((long double)s->auroc2 / pn2);
	} else {
		out->auroc = NAN;
	}
	out->ap = s->n_pos > 0 ? s->ap : NAN;
	out->f1max = s->n_pos > 0 ? s->f1 : NAN;
	out->f1_threshold = s->n_pos > 0 ? s->f1_threshold : NAN;
	if (s->n_neg > 0 && s->n_regions > 0)
		out->aupro = s->area / s->limit;
	else
		out->aupro = NAN;
}

/* ---- image level ---- */

struct scored {
	double score;
	uint8_t label;
};

static int
cmp_scored_desc(const void *a, const void *b)
{
	double x = ((const struct scored *)a)->score;
	double y = ((const struct scored *)b)->score;

	return (x < y) - (x > y);
}

int
eval_binary(const double *scores, const uint8_t *labels, size_t n,
    struct eval_result *out)
{
	struct scored *v = malloc((n ? n : 1) * sizeof *v);
	struct eval_scan s;
	uint64_t n_pos = 0;

	if (v == NULL)
		return -1;
	for (size_t i = 0; i < n; i++) {
		v[i].score = scores[i];
		v[i].label = labels[i] != 0;
		n_pos += v[i].label;
	}
	qsort(v, n, sizeof *v, cmp_scored_desc);
	eval_scan_init(&s, n - n_pos, n_pos, 0, 1.0);
	for (size_t i = 0; i < n;) {
		uint64_t neg = 0, pos = 0;
		double value = v[i].score;

		for (; i < n && v[i].score == value; i++) {
			if (v[i].label)
				pos++;
			else
				neg++;
		}
		eval_scan_group(&s, neg, pos, 0.0, value);
	}
	eval_scan_finish(&s, out);
	free(v);
	return 0;
}

/* ---- connected regions ---- */

static uint32_t
uf_find(uint32_t *parent, uint32_t x)
{
	while (parent[x] != x) {
		parent[x] = parent[parent[x]]; /* path halving */
		x = parent[x];
	}
	return x;
}

long
eval_label_regions(const uint8_t *mask, size_t width, size_t height,
    uint32_t *labels, uint32_t **sizes)
{
	size_t cap = 64, next = 1, count = 0;
	uint32_t *parent = malloc(cap * sizeof *parent);
	uint32_t *remap = NULL, *sz = NULL;

	*sizes = NULL;
	if (parent == NULL)
		return -1;
	parent[0] = 0;
	/* Pass 1: provisional labels from the four neighbours already seen
	 * (W, NW, N, NE), merged with union-find. */
	for (size_t y = 0; y < height; y++) {
		for (size_t x = 0; x < width; x++) {
			size_t i = y * width + x;
			uint32_t nb[4], l = 0;
			int nn = 0;

			if (mask[i] == 0) {
				labels[i] = 0;
				continue;
			}
			if (x > 0 && labels[i - 1])
				nb[nn++] = labels[i - 1];
			if (y > 0) {
				size_t up = i - width;

				if (x > 0 && labels[up - 1])
					nb[nn++] = labels[up - 1];
				if (labels[up])
					nb[nn++] = labels[up];
				if (x + 1 < width && labels[up + 1])
					nb[nn++] = labels[up + 1];
			}
			for (int k = 0; k < nn; k++) {
				uint32_t r = uf_find(parent, nb[k]);

				if (l == 0)
					l = r;
				else if (r < l) {
					parent[l] = r;
					l = r;
				} else if (r > l) {
					parent[r] = l;
				}
			}
			if (l == 0) {
				if (next == cap) {
					uint32_t *np;

					if (cap > UINT32_MAX / 2)
						goto oom;
					np = realloc(
					    parent, 2 * cap * sizeof *parent);
					if (np == NULL)
						goto oom;
					parent = np;
					cap *= 2;
				}
				l = (uint32_t)next;
				parent[next++] = l;
			}
			labels[i] = l;
		}
	}
	/* Pass 2: final ids in raster order of each region's first pixel. */
	remap = calloc(next, sizeof *remap);
	sz = calloc(next, sizeof *sz);
	if (remap == NULL || sz == NULL)
		goto oom;
	for (size_t i = 0; i < width * height; i++) {
		uint32_t r;

		if (labels[i] == 0)
			continue;
		r = uf_find(parent, labels[i]);
		if (remap[r] == 0)
			remap[r] = (uint32_t)++count;
		labels[i] = remap[r];
		sz[labels[i]]++;
	}
	free(parent);
	free(remap);
	*sizes = sz;
	return (long)count;
oom:
	free(parent);
	free(remap);
	free(sz);
	errno = ENOMEM;
	return -1;
}

/* ---- the pixel store ---- */

struct eval_pixels {
	uint32_t *neg;         /* order keys of the negative pixels (or runs) */
	uint64_t *neg_count;   /* run lengths; NULL while each entry is one
	                          pixel (stores built from images) */
	size_t n_neg, cap_neg; /* entries of neg[] */
	uint64_t neg_pixels;   /* negative pixels */
	uint64_t *pos;         /* key << 32 | global region index (0-based) */
	size_t n_pos, cap_pos;
	uint32_t *region_size;
	size_t n_regions, cap_regions;
	uint32_t *labels; /* scratch for one image */
	size_t cap_labels;
	uint32_t min_key, max_key;
	bool neg_sorted, pos_sorted;
	uint64_t expect_images; /* eval_pixels_expect(), until the first add */
};

struct eval_pixels *
eval_pixels_new(void)
{
	struct eval_pixels *p = calloc(1, sizeof *p);

	if (p != NULL) {
		p->min_key = UINT32_MAX;
		p->neg_sorted = p->pos_sorted = true;
	}
	return p;
}

void
eval_pixels_free(struct eval_pixels *p)
{
	if (p == NULL)
		return;
	free(p->neg);
	free(p->neg_count);
	free(p->pos);
	free(p->region_size);
	free(p->labels);
	free(p);
}

uint64_t
eval_pixels_count(const struct eval_pixels *p)
{
	return p->neg_pixels + p->n_pos;
}

/*
 * Ask for transparent huge pages on the whole 2 MiB pages of a large
 * buffer: its first touch then costs one page fault per 2 MiB instead of
 * one per 4 KiB, which is most of the time spent adding a normal image's
 * pixels.  Advice only: ignored where not supported.
 */
static void
advise_huge_pages(void *buf, size_t len)
{
#if defined(MADV_HUGEPAGE)
	const uintptr_t huge = (uintptr_t)2 << 20;
	uintptr_t lo = ((uintptr_t)buf + huge - 1) & ~(huge - 1);
	uintptr_t hi = ((uintptr_t)buf + len) & ~(huge - 1);

	if (hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
#else
	(void)buf;
	(void)len;
#endif
}

/* Make room for WANT elements of size ELEM in *BUF (capacity *CAP). */
static int
reserve(void **buf, size_t *cap, size_t want, size_t elem)
{
	size_t ncap = *cap ? *cap : 1024;
	void *nb;

	if (want <= *cap)
		return 0;
	while (ncap < want) {
		if (ncap > SIZE_MAX / 2 / elem) {
			errno = ENOMEM;
			return -1;
		}
		ncap *= 2;
	}
	nb = realloc(*buf, ncap * elem);
	if (nb == NULL)
		return -1;
	*buf = nb;
	*cap = ncap;
	return 0;
}

void
eval_pixels_expect(struct eval_pixels *p, uint64_t images)
{
	p->expect_images = images;
}

/*
 * Before the first image of a store told how many to expect: room for the
 * negatives of all of them at this image's N pixels, in huge pages.  Only
 * address space (pages are used as they are filled), so a bound too high
 * costs nothing, and one refused is no error: the array grows as needed.
 */
static void
reserve_expected(struct eval_pixels *p, size_t n)
{
	uint64_t want = p->expect_images;

	p->expect_images = 0;
	if (want < 2 || n == 0 || want > SIZE_MAX / sizeof *p->neg / n)
		return;
	if (reserve((void **)&p->neg, &p->cap_neg, (size_t)want * n,
	        sizeof *p->neg) == 0)
		advise_huge_pages(p->neg, p->cap_neg * sizeof *p->neg);
}

int
eval_pixels_add(struct eval_pixels *p, const float *scores, const uint8_t *mask,
    size_t width, size_t height)
{
	size_t n = width * height, npos = 0;
	uint32_t *sizes = NULL;
	long regions;

	if (p->neg_count != NULL) { /* a store of runs takes runs only */
		errno = EINVAL;
		return -1;
	}
	if (p->expect_images > 0 && p->cap_neg == 0)
		reserve_expected(p, n);
	if (n > 0 && mask[0] == 0 && memcmp(mask, mask + 1, n - 1) == 0) {
		/* A normal image: every pixel negative, no regions. */
		uint32_t lo = p->min_key, hi = p->max_key, *neg;

		if (reserve((void **)&p->neg, &p->cap_neg, p->n_neg + n,
		        sizeof *p->neg))
			return -1;
		neg = p->neg + p->n_neg;
		for (size_t i = 0; i < n; i++) {
			uint32_t key = eval_key_from_float(scores[i]);

			lo = key < lo ? key : lo;
			hi = key > hi ? key : hi;
			neg[i] = key;
		}
		p->min_key = lo;
		p->max_key = hi;
		p->n_neg += n;
		p->neg_pixels += n;
		p->neg_sorted = false;
		return 0;
	}
	if (reserve((void **)&p->labels, &p->cap_labels, n, sizeof *p->labels))
		return -1;
	regions = eval_label_regions(mask, width, height, p->labels, &sizes);
	if (regions < 0)
		return -1;
	if ((uint64_t)p->n_regions + (uint64_t)regions > UINT32_MAX) {
		free(sizes);
		errno = EOVERFLOW;
		return -1;
	}
	for (long r = 1; r <= regions; r++)
		npos += sizes[r];
	if (reserve((void **)&p->neg, &p->cap_neg, p->n_neg + (n - npos),
	        sizeof *p->neg) ||
	    reserve((void **)&p->pos, &p->cap_pos, p->n_pos + npos,
	        sizeof *p->pos) ||
	    reserve((void **)&p->region_size, &p->cap_regions,
	        p->n_regions + (size_t)regions, sizeof *p->region_size)) {
		free(sizes);
		return -1;
	}
	for (long r = 1; r <= regions; r++)
		p->region_size[p->n_regions + (size_t)r - 1] = sizes[r];
	free(sizes);
	for (size_t i = 0; i < n; i++) {
		uint32_t key = eval_key_from_float(scores[i]);

		if (key < p->min_key)
			p->min_key = key;
		if (key > p->max_key)
			p->max_key = key;
		if (p->labels[i] == 0)
			p->neg[p->n_neg++] = key;
		else
			p->pos[p->n_pos++] = (uint64_t)key << 32 |
			    (uint64_t)(p->n_regions + p->labels[i] - 1);
	}
	p->neg_pixels += n - npos;
	p->n_regions += (size_t)regions;
	if (n > npos)
		p->neg_sorted = false;
	if (npos > 0)
		p->pos_sorted = false;
	return 0;
}

/*
 * LSD radix sort in descending key order (ascending ~key): passes of 11, 11
 * and 10 bits; a pass where every element falls in one bucket is skipped
 * (8- and 16-bit maps need one or two passes).  TMP holds N elements.
 */
#define RADIX_BITS 11
#define RADIX_SIZE (1u << RADIX_BITS)

/*
 * Turn the bucket counts HIST of one radix pass over N keys into starting
 * offsets.  Returns true when every key falls in one bucket, so the pass
 * would not move anything.
 */
static bool
radix_offsets(size_t *hist, size_t n)
{
	size_t sum = 0;
	bool trivial = false;

	for (unsigned b = 0; b < RADIX_SIZE; b++) {
		size_t c = hist[b];

		if (c == n)
			trivial = true;
		hist[b] = sum;
		sum += c;
	}
	return trivial;
}

static void
radix_sort_keys(uint32_t *a, uint32_t *tmp, size_t n)
{
	static const unsigned shift[3] = {0, 11, 22};
	size_t hist[3][RADIX_SIZE] = {{0}}; /* 48 KiB */
	uint32_t *src = a, *dst = tmp;

	for (size_t i = 0; i < n; i++) {
		uint32_t k = ~a[i];

		hist[0][k & 0x7ff]++;
		hist[1][(k >> 11) & 0x7ff]++;
		hist[2][k >> 22]++;
	}
	for (int pass = 0; pass < 3; pass++) {
		if (radix_offsets(hist[pass], n))
			continue;
		for (size_t i = 0; i < n; i++) {
			uint32_t k = ~src[i];

			dst[hist[pass][(k >> shift[pass]) & 0x7ff]++] = src[i];
		}
		uint32_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof *a);
}

static void
radix_sort_records(uint64_t *a, uint64_t *tmp, size_t n)
{
	static const unsigned shift[3] = {0, 11, 22};
	size_t hist[3][RADIX_SIZE] = {{0}};
	uint64_t *src = a, *dst = tmp;

	for (size_t i = 0; i < n; i++) {
		uint32_t k = ~(uint32_t)(a[i] >> 32);

		hist[0][k & 0x7ff]++;
		hist[1][(k >> 11) & 0x7ff]++;
		hist[2][k >> 22]++;
	}
	for (int pass = 0; pass < 3; pass++) {
		if (radix_offsets(hist[pass], n))
			continue;
		for (size_t i = 0; i < n; i++) {
			uint32_t k = ~(uint32_t)(src[i] >> 32);

			dst[hist[pass][(k >> shift[pass]) & 0x7ff]++] = src[i];
		}
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != a)
		memcpy(a, src, n * sizeof *a);
}

static void
note_key(struct eval_pixels *p, uint32_t key)
{
	if (key < p->min_key)
		p->min_key = key;
	if (key > p->max_key)
		p->max_key = key;
}

int
eval_pixels_append_regions(
    struct eval_pixels *p, const uint32_t *sizes, size_t n, size_t *first)
{
	for (size_t r = 0; r < n; r++)
		if (sizes[r] == 0) {
			errno = EINVAL;
			return -1;
		}
	if ((uint64_t)p->n_regions + n > UINT32_MAX) {
		errno = EOVERFLOW;
		return -1;
	}
	if (reserve((void **)&p->region_size, &p->cap_regions, p->n_regions + n,
	        sizeof *p->region_size))
		return -1;
	if (n > 0)
		memcpy(p->region_size + p->n_regions, sizes, n * sizeof *sizes);
	*first = p->n_regions;
	p->n_regions += n;
	return 0;
}

int
eval_pixels_append_positive(struct eval_pixels *p, uint32_t key, size_t region)
{
	if (region >= p->n_regions) {
		errno = EINVAL;
		return -1;
	}
	if (reserve(
	        (void **)&p->pos, &p->cap_pos, p->n_pos + 1, sizeof *p->pos))
		return -1;
	p->pos[p->n_pos++] = (uint64_t)key << 32 | (uint64_t)region;
	p->pos_sorted = false;
	note_key(p, key);
	return 0;
}

int
eval_pixels_append_negatives(
    struct eval_pixels *p, uint32_t key, uint64_t count)
{
	return eval_pixels_append_runs(p, &key, &count, 1);
}

int
eval_pixels_append_runs(struct eval_pixels *p, const uint32_t *keys,
    const uint64_t *counts, size_t n)
{
	size_t cap = p->cap_neg;
	uint32_t hi = 0, lo = 0;
	bool any = false;
	int rc = 0;

	if (n == 0)
		return 0;
	if (p->n_neg > 0 && p->neg_count == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (reserve(
	        (void **)&p->neg, &p->cap_neg, p->n_neg + n, sizeof *p->neg))
		return -1;
	if (p->cap_neg != cap || p->neg_count == NULL) {
		uint64_t *nc =
		    realloc(p->neg_count, p->cap_neg * sizeof *p->neg_count);

		if (nc == NULL)
			return -1;
		p->neg_count = nc;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t key = keys[i];
		uint64_t count = counts[i];

		if (count == 0)
			continue;
		if (p->n_neg > 0 && key > p->neg[p->n_neg - 1]) {
			errno = EINVAL;
			rc = -1;
			break;
		}
		if (count > UINT64_MAX - p->neg_pixels) {
			errno = EOVERFLOW;
			rc = -1;
			break;
		}
		if (p->n_neg > 0 && p->neg[p->n_neg - 1] == key) {
			p->neg_count[p->n_neg - 1] += count;
		} else {
			p->neg[p->n_neg] = key;
			p->neg_count[p->n_neg++] = count;
		}
		p->neg_pixels += count;
		if (!any)
			hi = key;
		lo = key;
		any = true;
	}
	/* Keys come in descending order: the first and the last stored are
	 * the extremes. */
	if (any) {
		note_key(p, hi);
		note_key(p, lo);
	}
	return rc;
}

/* Sort the positives (only) in descending key order; stable, so equal
 * keys keep the order in which they were added. */
static int
sort_positives(struct eval_pixels *p)
{
	uint64_t *tmp;

	if (p->pos_sorted)
		return 0;
	tmp = malloc(p->n_pos * sizeof *tmp + 1);
	if (tmp == NULL)
		return -1;
	radix_sort_records(p->pos, tmp, p->n_pos);
	free(tmp);
	p->pos_sorted = true;
	return 0;
}

int
eval_pixels_sort_negatives(struct eval_pixels *p)
{
	uint32_t *tmp;

	if (p->neg_sorted)
		return 0;
	tmp = malloc(p->n_neg * sizeof *tmp + 1);
	if (tmp == NULL)
		return -1;
	radix_sort_keys(p->neg, tmp, p->n_neg);
	free(tmp);
	p->neg_sorted = true;
	return 0;
}

void
eval_pixels_view(const struct eval_pixels *p, struct eval_pixels_data *d)
{
	d->neg = p->neg;
	d->neg_count = p->neg_count;
	d->n_neg = p->n_neg;
	d->neg_sorted = p->neg_sorted;
	d->pos = p->pos;
	d->n_pos = p->n_pos;
	d->region_size = p->region_size;
	d->n_regions = p->n_regions;
}

/*
 * The metrics need the negatives only through how many of them lie at and
 * between the distinct positive keys D[0] > D[1] > ... > D[M-1]: "slots".
 * Slot 2g holds the negatives strictly between D[g-1] and D[g] (above D[0]
 * for g = 0, below D[M-1] for g = M), slot 2g+1 those equal to D[g].
 */

/* Negative pixels held by entries [FROM, TO) of neg[]. */
static uint64_t
neg_span(const struct eval_pixels *p, size_t from, size_t to)
{
	uint64_t n = 0;

	if (p->neg_count == NULL)
		return to - from;
	for (size_t i = from; i < to; i++)
		n += p->neg_count[i];
	return n;
}

/*
 * The first index >= FROM in the descending array A[0..N) whose key is <= V:
 * a galloping search, since long runs of negatives lie between two
 * positive values on typical maps.
 */
static size_t
skip_above(const uint32_t *a, size_t from, size_t n, uint32_t v)
{
	size_t lo = from, step = 1, hi;

	while (lo + step < n && a[lo + step] > v) {
		lo += step;
		step *= 2;
	}
	if (lo >= n || a[lo] <= v)
		return lo;
	/* a[lo] > v; the answer is in (lo, min(lo + step, n)] */
	hi = lo + step < n ? lo + step : n;
	while (lo + 1 < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (a[mid] > v)
			lo = mid;
		else
			hi = mid;
	}
	return hi;
}

/* The slot counts (2M+1 of them, zeroed) of negatives already in
 * descending order (a store of runs, or sorted): one merge-like pass. */
static void
slot_sorted_negatives(
    const struct eval_pixels *p, const uint32_t *d, size_t m, uint64_t *slot)
{
	size_t i = 0;

	for (size_t g = 0; g < m; g++) {
		size_t k = skip_above(p->neg, i, p->n_neg, d[g]);

		slot[2 * g] = neg_span(p, i, k);
		i = k;
		for (; i < p->n_neg && p->neg[i] == d[g]; i++)
			slot[2 * g + 1] += p->neg_count ? p->neg_count[i] : 1;
	}
	slot[2 * m] = neg_span(p, i, p->n_neg);
}

/*
 * The same for negatives in any order, without sorting them: each key is
 * located among D through a table over the range [D[M-1], D[0]] cut into
 * buckets of 2^SHIFT keys, which gives the few D inside the key's bucket,
 * then a short search among those.  One pass over the negatives in memory
 * order, instead of the four of a radix sort and its scratch copy.
 */
struct slot_finder {
	const uint32_t *d;
	size_t m;
	uint32_t hi, lo;
	unsigned shift;
	size_t buckets;
	uint32_t *first; /* first[b]: how many D are >= the lowest key of
	                    bucket b: bucket b holds D[first[b + 1] ..
	                    first[b]) */
};

static int
slot_finder_init(struct slot_finder *f, const uint32_t *d, size_t m)
{
	size_t buckets, target, c;

	f->d = d;
	f->m = m;
	f->first = NULL;
	if (m == 0)
		return 0;
	f->hi = d[0];
	f->lo = d[m - 1];
	/* About one bucket per distinct key, the table kept cache-sized. */
	target = m < 1024 ? 1024 : m > (1u << 19) ? (1u << 20) : 2 * m;
	f->shift = 0;
	while ((((uint64_t)f->hi - f->lo) >> f->shift) + 1 > target)
		f->shift++;
	buckets = (size_t)(((uint64_t)f->hi - f->lo) >> f->shift) + 1;
	f->buckets = buckets;
	f->first = malloc((buckets + 1) * sizeof *f->first);
	if (f->first == NULL)
		return -1;
	c = m;
	for (size_t b = 0; b <= buckets; b++) {
		uint64_t bmin = (uint64_t)f->lo + ((uint64_t)b << f->shift);

		while (c > 0 && d[c - 1] < bmin)
			c--;
		f->first[b] = (uint32_t)c;
	}
	return 0;
}

/*
 * How many D are > K, for K in [lo, hi].  Buckets hold about half a D
 * each, so up to two are compared without branches (D is read two past
 * the bucket: the caller pads it); more take a branch-free binary search.
 */
static inline size_t
above_in_range(const struct slot_finder *f, uint32_t k)
{
	const uint32_t *d = f->d;
	size_t b = (k - f->lo) >> f->shift;
	size_t g = f->first[b + 1]; /* every D before g is above K's bucket */
	size_t n = f->first[b] - g; /* D[g .. g + n) are in it */

	if (n <= 2)
		return g + ((n > 0) & (d[g] > k)) + ((n > 1) & (d[g + 1] > k));
	while (n > 1) {
		size_t half = n / 2;

		g = d[g + half] > k ? g + half : g;
		n -= half;
	}
	return g + (d[g] > k);
}

/* The slot of negative key K. */
static inline size_t
slot_of(const struct slot_finder *f, uint32_t k)
{
	size_t g;

	if (k > f->hi)
		return 0;
	if (k < f->lo)
		return 2 * f->m;
	g = above_in_range(f, k);
	/* K >= lo = D[M-1], so g < M */
	return 2 * g + (f->d[g] == k);
}

/* One thread's share of the negatives, counted per slot. */
struct slot_share {
	const struct slot_finder *f;
	const uint32_t *keys;
	size_t n;
	unsigned part_shift; /* bucket >> part_shift = partition */
	size_t nparts;       /* partitions of the key range; 0: none */
	uint32_t *count;     /* 2M+1 zeroed slot counts */
};

/* Count the slots of KEYS[0..N) into COUNT. */
static void
count_keys(const struct slot_finder *f, const uint32_t *keys, size_t n,
    uint32_t *count)
{
	for (size_t i = 0; i < n; i++)
		count[slot_of(f, keys[i])]++;
}

/* The same for keys all in [lo, hi]: no branch on the key (ties with a
 * positive score are common on maps of few distinct values). */
static void
count_keys_in_range(const struct slot_finder *f, const uint32_t *keys, size_t n,
    uint32_t *count)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t k = keys[i];
		size_t g = above_in_range(f, k);

		count[2 * g + (f->d[g] == k)]++;
	}
}

/* Keys gathered per partition before they are counted together. */
#define PART_BATCH 16384

static void
count_share(struct slot_share *sh)
{
	const struct slot_finder *f = sh->f;
	uint32_t span = f->hi - f->lo, *batch;
	size_t *fill, nq = sh->nparts + 1;

	if (sh->nparts == 0 ||
	    (batch = malloc(
	         nq * (PART_BATCH * sizeof *batch + sizeof *fill))) == NULL) {
		/* Tables small enough to stay in cache (or no memory for
		 * the batches): the same counts in one pass. */
		count_keys(f, sh->keys, sh->n, sh->count);
		return;
	}
	/*
	 * The keys of one partition, counted a batch at a time, find their
	 * slots within one cache-sized slice of the tables.  Keys outside
	 * [lo, hi] (an unsigned K - lo past the span) gather in one more
	 * batch, counted without tables.
	 */
	fill = (size_t *)(batch + nq * PART_BATCH);
	memset(fill, 0, nq * sizeof *fill);
	for (size_t i = 0; i < sh->n; i++) {
		uint32_t k = sh->keys[i], rel = k - f->lo;
		size_t q = rel <= span ? (rel >> f->shift) >> sh->part_shift
		                       : sh->nparts;
		uint32_t *b = batch + q * PART_BATCH;

		b[fill[q]++] = k;
		if (fill[q] == PART_BATCH) {
			if (q < sh->nparts)
				count_keys_in_range(
				    f, b, PART_BATCH, sh->count);
			else
				count_keys(f, b, PART_BATCH, sh->count);
			fill[q] = 0;
		}
	}
	for (size_t q = 0; q < sh->nparts; q++)
		count_keys_in_range(
		    f, batch + q * PART_BATCH, fill[q], sh->count);
	count_keys(
	    f, batch + sh->nparts * PART_BATCH, fill[sh->nparts], sh->count);
	free(batch);
}

/* Share INDEX of the array USER, as one item of the parallel loop. */
static int
count_share_item(size_t index, void *user)
{
	count_share((struct slot_share *)user + index);
	return 0;
}

/* Threads worth starting for N negatives: the cores, up to 4 (each holds
 * a count array of its own), with a million keys each at least. */
#define MAX_COUNT_THREADS 4u

static unsigned
count_threads(size_t n)
{
	unsigned cores = mirad_cpu_count();
	unsigned t = cores > MAX_COUNT_THREADS ? MAX_COUNT_THREADS : cores;

	while (t > 1 && n / t < ((size_t)1 << 20))
		t--;
	return t;
}

/*
 * How the key range is cut for counting: the bucket table, D and the
 * counts of one partition (its share of about 16 bytes per bucket) should
 * stay in a core's cache, here 256 KiB.  Sets *NPARTS (0: not worth
 * cutting) and *PART_SHIFT.
 */
static void
choose_partitions(
    const struct slot_finder *f, size_t *nparts, unsigned *part_shift)
{
	size_t bytes = 16 * f->buckets, want = bytes / (256u << 10) + 1;

	*part_shift = 0;
	*nparts = 0;
	if (want < 2)
		return;
	while (((f->buckets - 1) >> *part_shift) + 1 > want)
		(*part_shift)++;
	*nparts = ((f->buckets - 1) >> *part_shift) + 1;
}

static int
slot_unsorted_negatives(
    const struct eval_pixels *p, const uint32_t *d, size_t m, uint64_t *slot)
{
	/* Counted in 32 bits (half the cache footprint of the random
	 * increments), over blocks short enough not to overflow, split
	 * between threads with a count array each: integer sums, so the
	 * result does not depend on the split. */
	const size_t block = (size_t)UINT32_MAX;
	unsigned nt = count_threads(p->n_neg);
	struct slot_share sh[MAX_COUNT_THREADS];
	struct slot_finder f;
	uint32_t *count;
	size_t ns = 2 * m + 1, nparts;
	unsigned part_shift;

	if (m == 0) {
		slot[0] = p->n_neg;
		return 0;
	}
	count = calloc(nt * ns, sizeof *count);
	if (count == NULL || slot_finder_init(&f, d, m) != 0) {
		free(count);
		return -1;
	}
	choose_partitions(&f, &nparts, &part_shift);
	for (size_t from = 0; from < p->n_neg; from += block) {
		size_t n = p->n_neg - from > block ? block : p->n_neg - from;

		for (unsigned t = 0; t < nt; t++) {
			size_t lo = n * t / nt, hi = n * (t + 1) / nt;

			sh[t].f = &f;
			sh[t].keys = p->neg + from + lo;
			sh[t].n = hi - lo;
			sh[t].count = count + t * ns;
			sh[t].nparts = nparts;
			sh[t].part_shift = part_shift;
		}
		/* The items never fail: every share is counted. */
		mirad_parallel_for(nt, nt, count_share_item, NULL, sh, NULL);
		for (unsigned t = 0; t < nt; t++) {
			for (size_t k = 0; k < ns; k++)
				slot[k] += sh[t].count[k];
			memset(sh[t].count, 0, ns * sizeof *sh[t].count);
		}
	}
	free(f.first);
	free(count);
	return 0;
}

int
eval_pixels_compute(
    struct eval_pixels *p, double limit, struct eval_result *out)
{
	struct eval_scan s;
	double *weight = NULL;
	uint32_t *d = NULL;
	uint64_t *slot = NULL;
	size_t m = 0, j = 0;
	int rc = -1;

	if (sort_positives(p) != 0)
		return -1;
	weight = malloc((p->n_regions + 1) * sizeof *weight);
	d = malloc((p->n_pos + 2) * sizeof *d); /* 2 past the last: padding */
	if (weight == NULL || d == NULL)
		goto out;
	for (size_t r = 0; r < p->n_regions; r++)
		weight[r] = 1.0 / p->region_size[r];
	for (size_t i = 0; i < p->n_pos; i++) {
		uint32_t v = (uint32_t)(p->pos[i] >> 32);

		if (m == 0 || d[m - 1] != v)
			d[m++] = v;
	}
	d[m] = d[m + 1] = 0;
	slot = calloc(2 * m + 1, sizeof *slot);
	if (slot == NULL)
		goto out;
	/* The slot finder holds 32-bit indices: past that (16 GiB of
	 * positives), sort. */
	if (!p->neg_sorted && m > UINT32_MAX / 2 &&
	    eval_pixels_sort_negatives(p) != 0)
		goto out;
	if (p->neg_sorted)
		slot_sorted_negatives(p, d, m, slot);
	else if (slot_unsorted_negatives(p, d, m, slot) != 0)
		goto out;
	eval_scan_init(
	    &s, p->neg_pixels, p->n_pos, (double)p->n_regions, limit);
	for (size_t g = 0; g < m; g++) {
		uint64_t pos = 0;
		double omega = 0;

		/* Negatives above the next positive value share its TP and
		 * PRO: merging them into one step is exact. */
		if (slot[2 * g] > 0)
			eval_scan_group(&s, slot[2 * g], 0, 0, 0);
		/* The region weights of equal keys are summed in the order
		 * the positives were added (the sort is stable). */
		for (; j < p->n_pos && (uint32_t)(p->pos[j] >> 32) == d[g];
		     j++) {
			omega += weight[(uint32_t)p->pos[j]];
			pos++;
		}
		eval_scan_group(
		    &s, slot[2 * g + 1], pos, omega, eval_float_from_key(d[g]));
	}
	/* Only negatives left: one horizontal step. */
	if (slot[2 * m] > 0)
		eval_scan_group(&s, slot[2 * m], 0, 0, 0);
	eval_scan_finish(&s, out);
	rc = 0;
out:
	free(weight);
	free(d);
	free(slot);
	return rc;
}

/* ---- compatibility estimators ---- */

/* torch.histc's bin on CUDA, in float32: (x - min) * n / (max - min). */
static size_t
histc_bin(float x, float mn, float mx, unsigned n)
{
	float d = x - mn;
	float b = d * (float)n / (mx - mn);
	size_t bin;

	/* Guard the conversion: a range past FLT_MAX gives inf or NaN. */
	if (!(b >= 0))
		bin = 0;
	else if (b >= (float)n)
		bin = n - 1;
	else
		bin = (size_t)(int)b;
	return bin + 1; /* slot 0 is the underflow bin */
}

static double
trapz_rev(const double *x, const double *y, size_t lo, size_t hi)
{
	/* np.trapz(y[::-1], x[::-1]) over indices lo..hi (inclusive). */
	double sum = 0;

	for (size_t i = hi; i > lo; i--)
		sum += (x[i - 1] - x[i]) * (y[i - 1] + y[i]) / 2.0;
	return sum;
}

int
eval_pixels_adeval(const struct eval_pixels *p, unsigned nstrips, double limit,
    struct eval_result *out)
{
	size_t nb = (size_t)nstrips + 2, npts = (size_t)nstrips + 1;
	double *pos, *neg, *wpos, *fpr, *tpr, *prec, *pro;
	float mn = eval_float_from_key(p->min_key);
	float mx = eval_float_from_key(p->max_key);
	double cp = 0, cn = 0, cw = 0, P, N, W;
	int rc = 0;

	memset(out, 0, sizeof *out);
	out->negatives = p->neg_pixels;
	out->positives = p->n_pos;
	out->regions = p->n_regions;
	out->f1max = out->f1_threshold = NAN;
	if (eval_pixels_count(p) == 0 || !(mn < mx))
		return -1;
	pos = calloc(7 * nb, sizeof *pos);
	if (pos == NULL)
		return -1;
	neg = pos + nb;
	wpos = neg + nb;
	fpr = wpos + nb;
	tpr = fpr + nb;
	prec = tpr + nb;
	pro = prec + nb;
	/* Counts are whole numbers below 2^53, so adding a run's length at
	 * once gives the same double as adding 1 per pixel. */
	for (size_t i = 0; i < p->n_neg; i++) {
		float x = eval_float_from_key(p->neg[i]);
		double c = p->neg_count ? (double)p->neg_count[i] : 1.0;

		neg[histc_bin(x, mn, mx, nstrips)] += c;
		if (x >= mx) /* ADEval's overflow bin counts the max again */
			neg[nb - 1] += c;
	}
	for (size_t i = 0; i < p->n_pos; i++) {
		float x = eval_float_from_key((uint32_t)(p->pos[i] >> 32));
		/* _pro_weight stores 1/area in a float32 array */
		double w = (float)(1.0 / p->region_size[(uint32_t)p->pos[i]]);
		size_t b = histc_bin(x, mn, mx, nstrips);

		pos[b] += 1;
		wpos[b] += w;
		if (x >= mx) {
			pos[nb - 1] += 1;
			wpos[nb - 1] += w;
		}
	}
	P = N = W = 0;
	for (size_t b = 0; b < nb; b++) {
		P += pos[b];
		N += neg[b];
		W += wpos[b];
	}
	/* Point i: threshold at the lower edge of slot i+1; "fn" and "tn"
	 * are the cumulative counts of slots 0..i. */
	for (size_t i = 0; i < npts; i++) {
		double tp, fp, tw;

		cp += pos[i];
		cn += neg[i];
		cw += wpos[i];
		tp = P - cp;
		fp = N - cn;
		tw = W - cw;
		tpr[i] = tp / (tp + cp);
		fpr[i] = fp / (fp + cn);
		prec[i] = tp + fp > 0 ? tp / (tp + fp) : 1.0;
		pro[i] = tw / (tw + cw);
	}
	out->auroc = trapz_rev(fpr, tpr, 0, npts - 1);
	out->ap = trapz_rev(tpr, prec, 0, npts - 1);
	/* AU-PRO: trapezoids up to the last point with fpr <= limit, then
	 * ADEval's interpolation (_trapezoid_intep) into the next segment. */
	{
		size_t i0 = npts; /* first index (from the start) <= limit */

		for (size_t i = 0; i < npts; i++)
			if (fpr[i] <= limit) {
				i0 = i;
				break;
			}
		if (i0 == 0 || i0 == npts || p->n_regions == 0) {
			out->aupro = NAN;
		} else {
			double lo = trapz_rev(fpr, pro, i0, npts - 1);
			double seg = (fpr[i0 - 1] - fpr[i0]) *
			    (pro[i0 - 1] + pro[i0]) / 2.0;
			double t = (limit - fpr[i0]) / (fpr[i0 - 1] - fpr[i0]);
			double y1 = pro[i0], y2 = pro[i0 - 1];
			double ratio = y1 / (y1 + 0.5 * (y2 - y1));

			out->aupro =
			    (lo + seg * ratio * t + seg * (1 - ratio) * t * t) /
			    limit;
		}
	}
	free(pos);
	return rc;
}

static size_t
count_below(const float *th, size_t n, float v)
{
	/* number of thresholds strictly below V (th ascending) */
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (th[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

double
eval_pixels_ader_f1max(const struct eval_pixels *p)
{
	enum {
		NTH = 21
	};
	float th[NTH];
	uint64_t cpos[NTH + 1] = {0}, cneg[NTH + 1] = {0};
	float mn = eval_float_from_key(p->min_key);
	float mx = eval_float_from_key(p->max_key);
	double best = 0, I = 0, pred = 0, label = (double)p->n_pos;

	if (eval_pixels_count(p) == 0)
		return NAN;
	if (!(mn < mx))
		return 0.0; /* every normalised value is NaN: nothing > t */
	for (int k = 0; k < NTH; k++) /* np.arange(0, 1.001, 0.05) */
		th[k] = (float)(0.0 + k * 0.05);
	for (size_t i = 0; i < p->n_neg; i++) {
		float x = eval_float_from_key(p->neg[i]);

		cneg[count_below(th, NTH, (x - mn) / (mx - mn))] +=
		    p->neg_count ? p->neg_count[i] : 1;
	}
	for (size_t i = 0; i < p->n_pos; i++) {
		float x = eval_float_from_key((uint32_t)(p->pos[i] >> 32));

		cpos[count_below(th, NTH, (x - mn) / (mx - mn))]++;
	}
	/* Pixels above threshold k are those with more than k thresholds
	 * below them: walk k downwards, accumulating. */
	for (int k = NTH - 1; k >= 0; k--) {
		double prec, rec, f1;

		I += (double)cpos[k + 1];
		pred += (double)cpos[k + 1] + (double)cneg[k + 1];
		prec = I / (pred + 1e-8);
		rec = I / (label + 1e-8);
		f1 = 2.0 * prec * rec / (prec + rec + 1e-8);
		if (f1 > best)
			best = f1;
	}
	return best;
}

double
eval_avgpool_max(const float *scores, size_t width, size_t height, unsigned k)
{
	double best = -INFINITY, *col;

	if (k == 0 || width < k || height < k) {
		for (size_t i = 0; i < width * height; i++)
			if (scores[i] > best)
				best = scores[i];
		return best;
	}
	col = calloc(width, sizeof *col);
	if (col == NULL)
		return NAN;
	for (size_t y = 0; y < height; y++) {
		for (size_t x = 0; x < width; x++) {
			col[x] += scores[y * width + x];
			if (y >= k)
				col[x] -= scores[(y - k) * width + x];
		}
		if (y + 1 < k)
			continue;
		/* Recompute each window from the column sums: running
		 * differences would accumulate rounding across the row. */
		for (size_t x = 0; x + k <= width; x++) {
			double sum = 0;
			float mean;

			for (size_t d = 0; d < k; d++)
				sum += col[x + d];
			mean = (float)(sum / ((double)k * k));
			if (mean > best)
				best = mean;
		}
	}
	free(col);
	return best;
}
