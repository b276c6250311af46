/* SPDX-License-Identifier: MIT */
/*
 * mirad-stats: per-image measures.  libvips decodes and converts to 8 bits;
 * the measures are plain loops with integer sums (see stats_measure.h for
 * why).
 */
#include "mirad_platform.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirad_err.h"
#include "stats_measure.h"

/* Rec. 709 luminance weights, in 1/10000. */
#define W_R   2126
#define W_G   7152
#define W_B   722
#define W_SUM 10000
/* Linear light in 1/65535. */
#define LIN_ONE 65535

static uint32_t lin16[256];

static void
init_lin16(void)
{
	/* The sRGB decoding curve (IEC 61966-2-1); idempotent, so a race
	 * between two first callers writes the same values. */
	if (lin16[255] == LIN_ONE)
		return;
	for (int v = 0; v < 256; v++) {
		double c = v / 255.0;
		double l =
		    c <= 0.04045 ? c / 12.92 : pow((c + 0.055) / 1.055, 2.4);

		lin16[v] = (uint32_t)lround(l * LIN_ONE);
	}
}

/* The lower median of a 256-bin histogram holding N values. */
static int
hist_median(const uint64_t *hist, uint64_t n)
{
	uint64_t seen = 0;

	for (int v = 0; v < 256; v++) {
		seen += hist[v];
		if (2 * seen >= n)
			return v;
	}
	return 255;
}

static void
border_colour(const uint8_t *px, int w, int h, int bands, int out[3])
{
	int strip = (w < h ? w : h) / 32;
	uint64_t hist[3][256];
	uint64_t n = 0;

	if (strip < 1)
		strip = 1;
	memset(hist, 0, sizeof hist);
	for (int y = 0; y < h; y++) {
		bool edge_row = y < strip || y >= h - strip;

		for (int x = 0; x < w; x++) {
			const uint8_t *p;

			if (!edge_row && x == strip)
				x = w - strip; /* skip the interior */
			p = px +
			    ((size_t)y * (size_t)w + (size_t)x) * (size_t)bands;
			for (int b = 0; b < bands; b++)
				hist[b][p[b]]++;
			n++;
		}
	}
	for (int b = 0; b < 3; b++)
		out[b] = hist_median(hist[b < bands ? b : 0], n);
}

void
stats_measure_pixels(
    const uint8_t *px, int w, int h, int bands, struct stats_image_measure *out)
{
	size_t n = (size_t)w * (size_t)h;
	uint8_t *luma = mirad_xmalloc(n ? n : 1);
	uint64_t sum_w = 0, sum_lin = 0, sum_y = 0, sum_y2 = 0;
	uint64_t fg_n = 0, fg_lin = 0, fg_sx = 0, fg_sy = 0;
	int bg[3];

	init_lin16();
	out->width = w;
	out->height = h;
	border_colour(px, w, h, bands, bg);
	memcpy(out->background, bg, sizeof bg);
	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++) {
			size_t i = (size_t)y * (size_t)w + (size_t)x;
			const uint8_t *p = px + i * (size_t)bands;
			unsigned r = p[0], g = bands >= 3 ? p[1] : r,
			         b = bands >= 3 ? p[2] : r;
			uint64_t lin = (uint64_t)W_R * lin16[r] +
			    (uint64_t)W_G * lin16[g] + (uint64_t)W_B * lin16[b];
			unsigned y8 = (54 * r + 183 * g + 19 * b + 128) >> 8;
			int d = abs((int)r - bg[0]);

			if (abs((int)g - bg[1]) > d)
				d = abs((int)g - bg[1]);
			if (abs((int)b - bg[2]) > d)
				d = abs((int)b - bg[2]);
			luma[i] = (uint8_t)y8;
			sum_w += W_R * r + W_G * g + W_B * b;
			sum_lin += lin;
			sum_y += y8;
			sum_y2 += (uint64_t)y8 * y8;
			if (d > STATS_FOREGROUND_DELTA) {
				fg_n++;
				fg_lin += lin;
				fg_sx += (uint64_t)x;
				fg_sy += (uint64_t)y;
			}
		}
	}
	if (n == 0) {
		free(luma);
		return;
	}
	out->luma_srgb = (double)sum_w / ((double)n * W_SUM * 255.0);
	out->luma_linear = (double)sum_lin / ((double)n * W_SUM * LIN_ONE);
	{
		double mean = (double)sum_y / (double)n;
		double var = (double)sum_y2 / (double)n - mean * mean;

		out->contrast = var > 0 ? sqrt(var) / 255.0 : 0.0;
	}
	out->fg_share = (double)fg_n / (double)n;
	if (fg_n > 0) {
		out->fg_luma_linear =
		    (double)fg_lin / ((double)fg_n * W_SUM * LIN_ONE);
		out->fg_x = ((double)fg_sx / (double)fg_n + 0.5) / w;
		out->fg_y = ((double)fg_sy / (double)fg_n + 0.5) / h;
	} else {
		out->fg_luma_linear = out->luma_linear;
		out->fg_x = out->fg_y = 0.5;
	}

	/* Laplacian variance and Immerkaer's noise estimate on the luma. */
	out->sharpness = 0.0;
	out->noise = 0.0;
	if (w >= 3 && h >= 3) {
		int64_t sum_l = 0, sum_l2 = 0, sum_abs = 0;
		uint64_t m = (uint64_t)(w - 2) * (uint64_t)(h - 2);

		for (int y = 1; y < h - 1; y++) {
			const uint8_t *up = luma + (size_t)(y - 1) * (size_t)w;
			const uint8_t *row = up + w;
			const uint8_t *down = row + w;

			for (int x = 1; x < w - 1; x++) {
				int edges =
				    up[x] + down[x] + row[x - 1] + row[x + 1];
				int corners = up[x - 1] + up[x + 1] +
				    down[x - 1] + down[x + 1];
				int lap = edges - 4 * row[x];
				int imm = corners - 2 * edges + 4 * row[x];

				sum_l += lap;
				sum_l2 += (int64_t)lap * lap;
				sum_abs += imm < 0 ? -imm : imm;
			}
		}
		{
			double mean = (double)sum_l / (double)m;
			double var = (double)sum_l2 / (double)m - mean * mean;

			out->sharpness = var > 0 ? var : 0.0;
		}
		out->noise =
		    sqrt(M_PI / 2.0) * (double)sum_abs / (6.0 * (double)m);
	}
	free(luma);
}

/* IM as 8 bits, without alpha: 1 or 3 bands.  New reference. */
static VipsImage *
to_uchar(VipsImage *im, int *bands_out, char *err, size_t errlen)
{
	VipsImage *base = vips_image_new();
	VipsImage **t =
	    (VipsImage **)vips_object_local_array(VIPS_OBJECT(base), 4);
	VipsImage *src = im, *out = NULL;
	int bands = vips_image_get_bands(im);
	int keep = bands >= 3 ? 3 : 1;

	if (keep != bands) {
		if (vips_extract_band(src, &t[0], 0, "n", keep, NULL))
			goto fail;
		src = t[0];
	}
	if (vips_image_get_format(src) == VIPS_FORMAT_USHORT) {
		if (vips_rshift_const1(src, &t[1], 8, NULL))
			goto fail;
		src = t[1];
	}
	if (vips_image_get_format(src) != VIPS_FORMAT_UCHAR) {
		if (vips_cast_uchar(src, &t[2], NULL))
			goto fail;
		src = t[2];
	}
	if (vips_copy(src, &out, NULL))
		goto fail;
	g_object_unref(base);
	*bands_out = keep;
	return out;
fail:
	mirad_image_take_error(err, errlen);
	g_object_unref(base);
	return NULL;
}

int
stats_measure_image(
    VipsImage *im, struct stats_image_measure *out, char *err, size_t errlen)
{
	static const char *const modes[] = {"", "grey", "greya", "rgb", "rgba"};
	int file_bands = vips_image_get_bands(im);
	int bands;
	size_t len;
	VipsImage *u = to_uchar(im, &bands, err, errlen);
	uint8_t *px;

	if (u == NULL)
		return -1;
	px = vips_image_write_to_memory(u, &len);
	if (px == NULL) {
		mirad_image_take_error(err, errlen);
		g_object_unref(u);
		return -1;
	}
	memset(out, 0, sizeof *out);
	out->bands = file_bands;
	snprintf(out->colour, sizeof out->colour, "%s",
	    file_bands >= 1 && file_bands <= 4 ? modes[file_bands] : "other");
	stats_measure_pixels(
	    px, vips_image_get_width(u), vips_image_get_height(u), bands, out);
	g_free(px);
	g_object_unref(u);
	return 0;
}

/* The IJG (libjpeg) standard luminance table in natural order. */
static const uint8_t std_luminance[64] = {16, 11, 10, 16, 24, 40, 51, 61, 12,
    12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56, 14, 17, 22, 29,
    51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104,
    113, 92, 49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103,
    99};
/* Position in natural order of the K-th coefficient in zigzag order. */
static const uint8_t natural_order[64] = {0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32,
    25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
    28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59,
    52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};

int
stats_jpeg_quality(const char *path)
{
	/* Walk the marker segments up to the start of scan looking for the
	 * quantisation table 0 (DQT); the coefficient data is never read. */
	FILE *f = fopen(path, "rb");
	int c1, c2, quality = 0;

	if (f == NULL)
		return 0;
	if (fgetc(f) != 0xFF || fgetc(f) != 0xD8)
		goto out;
	for (;;) {
		int marker, hi, lo;
		long len;

		do
			c1 = fgetc(f);
		while (c1 != EOF && c1 != 0xFF);
		do
			c2 = fgetc(f);
		while (c2 == 0xFF);
		if (c1 == EOF || c2 == EOF)
			goto out;
		marker = c2;
		if (marker == 0xD9 || marker == 0xDA)
			goto out; /* end of image, start of scan */
		if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7))
			continue; /* no length */
		hi = fgetc(f);
		lo = fgetc(f);
		if (hi == EOF || lo == EOF)
			goto out;
		len = (long)(hi << 8 | lo) - 2;
		if (len < 0)
			goto out;
		if (marker != 0xDB) {
			if (fseek(f, len, SEEK_CUR) != 0)
				goto out;
			continue;
		}
		while (len > 0) {
			int pq_tq = fgetc(f);
			int precision = pq_tq >> 4, id = pq_tq & 15;
			double scale_sum = 0.0;

			if (pq_tq == EOF)
				goto out;
			len -= 1 + 64 * (precision ? 2 : 1);
			for (int k = 0; k < 64; k++) {
				int q = fgetc(f);

				if (precision)
					q = q << 8 | fgetc(f);
				if (q < 0)
					goto out;
				scale_sum +=
				    q * 100.0 / std_luminance[natural_order[k]];
			}
			if (id == 0) {
				/* IJG: table = std * S / 100 with S = 5000/q
				 * below 50 and 200 - 2q above. */
				double s = scale_sum / 64.0;
				double q =
				    s <= 100.0 ? (200.0 - s) / 2.0 : 5000.0 / s;

				quality = (int)lround(q);
				if (quality < 1)
					quality = 1;
				if (quality > 100)
					quality = 100;
				goto out;
			}
		}
	}
out:
	fclose(f);
	return quality;
}

/* Union-find over provisional labels. */
static uint32_t
find_root(uint32_t *parent, uint32_t a)
{
	while (parent[a] != a) {
		parent[a] = parent[parent[a]];
		a = parent[a];
	}
	return a;
}

static void
unite(uint32_t *parent, uint32_t a, uint32_t b)
{
	a = find_root(parent, a);
	b = find_root(parent, b);
	if (a < b)
		parent[b] = a;
	else if (b < a)
		parent[a] = b;
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

void
stats_measure_mask_pixels(
    const uint8_t *px, int w, int h, struct stats_mask_measure *out)
{
	size_t n = (size_t)w * (size_t)h;
	uint32_t *label = mirad_xcalloc(n ? n : 1, sizeof *label);
	uint32_t *parent = mirad_xmalloc(sizeof *parent);
	uint64_t *area;
	uint32_t next = 1;
	size_t cap = 1;

	memset(out, 0, sizeof *out);
	out->width = w;
	out->height = h;
	parent[0] = 0;
	/* First pass: provisional labels from the W, NW, N and NE
	 * neighbours (8-connectivity), equivalences in PARENT. */
	for (int y = 0; y < h; y++) {
		for (int x = 0; x < w; x++) {
			size_t i = (size_t)y * (size_t)w + (size_t)x;
			uint32_t best = 0;
			uint32_t nb[4] = {0, 0, 0, 0};

			if (px[i] == 0)
				continue;
			out->defect_pixels++;
			if (x > 0)
				nb[0] = label[i - 1];
			if (y > 0) {
				size_t up = i - (size_t)w;

				if (x > 0)
					nb[1] = label[up - 1];
				nb[2] = label[up];
				if (x < w - 1)
					nb[3] = label[up + 1];
			}
			for (int k = 0; k < 4; k++)
				if (nb[k] && (best == 0 || nb[k] < best))
					best = nb[k];
			if (best == 0) {
				if (next >= cap) {
					cap *= 2;
					parent = mirad_xrealloc(
					    parent, cap * sizeof *parent);
				}
				parent[next] = next;
				best = next++;
			} else {
				for (int k = 0; k < 4; k++)
					if (nb[k])
						unite(parent, best, nb[k]);
			}
			label[i] = best;
		}
	}
	/* Second pass: count pixels per root. */
	area = mirad_xcalloc(next, sizeof *area);
	for (size_t i = 0; i < n; i++)
		if (label[i])
			area[find_root(parent, label[i])]++;
	for (uint32_t l = 1; l < next; l++)
		if (area[l])
			out->regions++;
	out->region_sizes =
	    mirad_xmalloc((out->regions ? out->regions : 1) * sizeof(uint64_t));
	{
		size_t k = 0;

		for (uint32_t l = 1; l < next; l++)
			if (area[l]) {
				out->region_sizes[k++] = area[l];
				if (stats_region_is_tiny(area[l], w, h))
					out->tiny_regions++;
			}
	}
	qsort(out->region_sizes, out->regions, sizeof(uint64_t), cmp_u64);
	free(area);
	free(parent);
	free(label);
}

int
stats_measure_mask(
    VipsImage *mask, struct stats_mask_measure *out, char *err, size_t errlen)
{
	VipsImage *bin = mirad_image_binarise(mask, err, errlen);
	uint8_t *px;
	size_t len;

	if (bin == NULL)
		return -1;
	px = vips_image_write_to_memory(bin, &len);
	if (px == NULL) {
		mirad_image_take_error(err, errlen);
		g_object_unref(bin);
		return -1;
	}
	stats_measure_mask_pixels(
	    px, vips_image_get_width(bin), vips_image_get_height(bin), out);
	g_free(px);
	g_object_unref(bin);
	return 0;
}
