/* SPDX-License-Identifier: MIT */
/*
 * mirad-stats: charts and mosaic drawn on in-memory libvips canvases.
 */
#include "mirad_platform.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirad_cli.h"
#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_image.h"
#include "stats_plot.h"

#define MARGIN_LEFT   56
#define MARGIN_RIGHT  16
#define MARGIN_TOP    28
#define MARGIN_BOTTOM 36

static const double white[3] = {255, 255, 255};
static const double black[3] = {0, 0, 0};
static const double grey[3] = {200, 200, 200};
static const double blue[3] = {66, 114, 196};
static const double green[3] = {84, 160, 84};
static const double red[3] = {214, 69, 65};
static const double dark[3] = {32, 32, 32};

/* A W x H RGB canvas filled with INK; NULL with ERR set. */
static VipsImage *
canvas(int w, int h, const double *ink, char *err, size_t errlen)
{
	VipsImage *b, *filled, *mem = NULL;

	if (vips_black(&b, w, h, "bands", 3, NULL))
		goto fail;
	filled = vips_image_new_from_image(b, ink, 3);
	g_object_unref(b);
	if (filled == NULL)
		goto fail;
	mem = vips_image_copy_memory(filled);
	g_object_unref(filled);
	if (mem == NULL)
		goto fail;
	return mem;
fail:
	mirad_image_take_error(err, errlen);
	return NULL;
}

static bool
have_text(void)
{
	return vips_type_find("VipsOperation", "text") != 0;
}

/* Draw TEXT at X, Y (top left) in INK, at most WIDTH pixels wide (0 =
 * unlimited).  Without vips_text, nothing is drawn.  Text failures are
 * not errors: the chart is still useful without its labels. */
static void
draw_text(VipsImage *im, const char *text, int x, int y, int width, int size,
    const double *ink)
{
	VipsImage *t;
	char font[32];
	gchar *shown;
	int rc;

	if (!have_text() || text[0] == '\0')
		return;
	snprintf(font, sizeof font, "sans %d", size);
	/* Underscores become spaces so that long group names can wrap. */
	shown = g_strdelimit(g_strdup(text), "_", ' ');
	if (width > 0)
		rc = vips_text(
		    &t, shown, "font", font, "width", width, "dpi", 72, NULL);
	else
		rc = vips_text(&t, shown, "font", font, "dpi", 72, NULL);
	g_free(shown);
	if (rc) {
		vips_error_clear();
		return;
	}
	if (vips_draw_mask(im, (double *)ink, 3, t, x, y, NULL))
		vips_error_clear();
	g_object_unref(t);
}

static void
rect(VipsImage *im, const double *ink, int x, int y, int w, int h)
{
	if (w > 0 && h > 0)
		vips_draw_rect(
		    im, (double *)ink, 3, x, y, w, h, "fill", TRUE, NULL);
}

static void
line(VipsImage *im, const double *ink, int x1, int y1, int x2, int y2)
{
	vips_draw_line(im, (double *)ink, 3, x1, y1, x2, y2, NULL);
}

struct frame {
	int x0, y0, w, h; /* plot area */
};

/* Axes, a title and the Y range labels. */
static struct frame
axes(VipsImage *im, const char *title, const char *ymax_label)
{
	int w = vips_image_get_width(im), h = vips_image_get_height(im);
	struct frame f = {MARGIN_LEFT, MARGIN_TOP,
	    w - MARGIN_LEFT - MARGIN_RIGHT, h - MARGIN_TOP - MARGIN_BOTTOM};

	draw_text(im, title, 8, 6, w - 16, 11, black);
	line(im, black, f.x0, f.y0, f.x0, f.y0 + f.h);
	line(im, black, f.x0, f.y0 + f.h, f.x0 + f.w, f.y0 + f.h);
	line(im, grey, f.x0 + 1, f.y0, f.x0 + f.w, f.y0);
	draw_text(im, ymax_label, 4, f.y0 - 4, MARGIN_LEFT - 8, 8, black);
	draw_text(im, "0", 4, f.y0 + f.h - 8, MARGIN_LEFT - 8, 8, black);
	return f;
}

static int
save_chart(
    VipsImage *im, const char *dir, const char *name, char *err, size_t errlen)
{
	char *path = mirad_path_join(dir, name);
	char why[512];
	int rc = mirad_image_save(im, path, 0, why, sizeof why);

	/* A write error's message already starts with the path. */
	if (rc == MIRAD_IMAGE_WRITE_ERROR)
		snprintf(err, errlen, "%s", why);
	else if (rc != 0)
		snprintf(err, errlen, "%s: %s", path, why);
	free(path);
	return rc;
}

static const char *
gname(const cJSON *g, enum stats_by by)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(g, stats_by_name(by));

	return cJSON_IsString(v) ? v->valuestring : "";
}

static double
gnum(const cJSON *g, const char *key, const char *field)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(g, key);

	if (field)
		v = cJSON_GetObjectItemCaseSensitive(v, field);
	return cJSON_IsNumber(v) ? v->valuedouble : 0.0;
}

static int
plot_counts(VipsImage *im, const struct stats_entries *e, const cJSON *imaging,
    enum stats_by by)
{
	size_t ng = (size_t)cJSON_GetArraySize(imaging), i = 0;
	size_t(*c)[3] = mirad_xcalloc(ng ? ng : 1, sizeof *c);
	size_t max = 1;
	const cJSON *g;
	struct frame f;
	char buf[32];

	cJSON_ArrayForEach(g, imaging)
	{
		const char *name = gname(g, by);

		for (size_t k = 0; k < e->count; k++) {
			const struct stats_entry *x = &e->items[k];

			if (strcmp(stats_entry_group(x, by), name))
				continue;
			if (strcmp(x->split, "train") == 0)
				c[i][0]++;
			else if (strcmp(x->label, "anomaly") == 0)
				c[i][2]++;
			else
				c[i][1]++;
		}
		if (c[i][0] + c[i][1] + c[i][2] > max)
			max = c[i][0] + c[i][1] + c[i][2];
		i++;
	}
	snprintf(buf, sizeof buf, "%zu", max);
	f = axes(im,
	    "Images per group: train (blue), test normal (green), "
	    "test abnormal (red)",
	    buf);
	i = 0;
	cJSON_ArrayForEach(g, imaging)
	{
		int slot = f.w / (int)(ng ? ng : 1);
		int x = f.x0 + (int)i * slot + slot / 6;
		int bw = slot * 2 / 3 > 1 ? slot * 2 / 3 : 1;
		int base = f.y0 + f.h;
		const double *ink[3] = {blue, green, red};

		for (int k = 0; k < 3; k++) {
			int bh =
			    (int)lround((double)c[i][k] * f.h / (double)max);

			rect(im, ink[k], x, base - bh, bw, bh);
			base -= bh;
		}
		draw_text(im, gname(g, by), x - slot / 6, f.y0 + f.h + 4, slot,
		    7, black);
		i++;
	}
	free(c);
	return 0;
}

static void
plot_area(VipsImage *im, const cJSON *geometry)
{
	static const char *const labels[STATS_AREA_BINS] = {
	    "<0.1%", "<0.3%", "<1%", "<3%", "<10%", "<30%", "<=100%"};
	double bins[STATS_AREA_BINS] = {0}, max = 1;
	const cJSON *g;
	struct frame f;
	char buf[32];

	cJSON_ArrayForEach(g, geometry)
	{
		const cJSON *h =
		    cJSON_GetObjectItemCaseSensitive(g, "area_histogram");

		for (int b = 0; b < STATS_AREA_BINS; b++) {
			const cJSON *v = cJSON_GetArrayItem(h, b);

			bins[b] += cJSON_IsNumber(v) ? v->valuedouble : 0;
		}
	}
	for (int b = 0; b < STATS_AREA_BINS; b++)
		if (bins[b] > max)
			max = bins[b];
	snprintf(buf, sizeof buf, "%g", max);
	f = axes(im, "Defect area (share of the image) per mask", buf);
	for (int b = 0; b < STATS_AREA_BINS; b++) {
		int slot = f.w / STATS_AREA_BINS;
		int bh = (int)lround(bins[b] * f.h / max);

		rect(im, red, f.x0 + b * slot + slot / 8, f.y0 + f.h - bh,
		    slot * 3 / 4, bh);
		draw_text(im, labels[b], f.x0 + b * slot + slot / 8,
		    f.y0 + f.h + 4, slot, 8, black);
	}
}

static void
plot_brightness(VipsImage *im, const cJSON *imaging, enum stats_by by)
{
	int ng = cJSON_GetArraySize(imaging), i = 0;
	const cJSON *g;
	struct frame f = axes(im,
	    "Linear luminance per group: mean (bar), foreground p10-p90 "
	    "(line)",
	    "1.0");

	cJSON_ArrayForEach(g, imaging)
	{
		int slot = f.w / (ng ? ng : 1);
		int x = f.x0 + i * slot + slot / 6;
		int bw = slot * 2 / 3 > 1 ? slot * 2 / 3 : 1;
		int base = f.y0 + f.h;
		int bh = (int)lround(gnum(g, "luma_linear_mean", NULL) * f.h);
		int lo = base -
		    (int)lround(gnum(g, "foreground_luma_linear", "p10") * f.h);
		int hi = base -
		    (int)lround(gnum(g, "foreground_luma_linear", "p90") * f.h);

		rect(im, blue, x, base - bh, bw, bh);
		line(im, black, x + bw / 2, lo, x + bw / 2, hi);
		line(im, black, x + bw / 4, lo, x + 3 * bw / 4, lo);
		line(im, black, x + bw / 4, hi, x + 3 * bw / 4, hi);
		draw_text(
		    im, gname(g, by), x - slot / 6, base + 4, slot, 7, black);
		i++;
	}
}

static void
plot_resolution(VipsImage *im, const struct stats_entries *e)
{
	int maxw = 1, maxh = 1;
	struct frame f;
	char buf[64];

	for (size_t k = 0; k < e->count; k++) {
		const struct stats_entry *x = &e->items[k];

		if (!x->measured)
			continue;
		if (x->image_m.width > maxw)
			maxw = x->image_m.width;
		if (x->image_m.height > maxh)
			maxh = x->image_m.height;
	}
	snprintf(buf, sizeof buf, "%d", maxh);
	f = axes(im, "Image sizes: width (x) against height (y)", buf);
	snprintf(buf, sizeof buf, "%d", maxw);
	draw_text(im, buf, f.x0 + f.w - 40, f.y0 + f.h + 4, 40, 8, black);
	for (size_t k = 0; k < e->count; k++) {
		const struct stats_entry *x = &e->items[k];
		int px, py;

		if (!x->measured)
			continue;
		px = f.x0 + (int)lround((double)x->image_m.width * f.w / maxw);
		py = f.y0 + f.h -
		    (int)lround((double)x->image_m.height * f.h / maxh);
		vips_draw_circle(
		    im, (double *)blue, 3, px, py, 4, "fill", TRUE, NULL);
	}
}

int
stats_plot_write_all(const char *dir, const struct stats_entries *e,
    const cJSON *imaging, const cJSON *geometry, enum stats_by by, int w, int h,
    char *err, size_t errlen)
{
	VipsImage *im;
	int rc = 0;

	if (mirad_mkdir_p(dir) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	for (int chart = 0; chart < 4 && rc == 0; chart++) {
		static const char *const names[] = {STATS_PLOT_COUNTS,
		    STATS_PLOT_AREA, STATS_PLOT_BRIGHTNESS,
		    STATS_PLOT_RESOLUTION};

		im = canvas(w, h, white, err, errlen);
		if (im == NULL)
			return -1;
		switch (chart) {
		case 0:
			plot_counts(im, e, imaging, by);
			break;
		case 1:
			plot_area(im, geometry);
			break;
		case 2:
			plot_brightness(im, imaging, by);
			break;
		default:
			plot_resolution(im, e);
			break;
		}
		rc = save_chart(im, dir, names[chart], err, errlen);
		g_object_unref(im);
	}
	return rc;
}

/* ---- mosaic ----------------------------------------------------------- */

/* ENTRY's image as an sRGB tile of at most SIDE x SIDE, with its defects
 * tinted red when MASKS.  New reference, or NULL with ERR set. */
static VipsImage *
make_tile(
    const struct stats_entry *x, int side, bool masks, char *err, size_t errlen)
{
	VipsImage *base = vips_image_new();
	VipsImage **t =
	    (VipsImage **)vips_object_local_array(VIPS_OBJECT(base), 12);
	VipsImage *im, *out = NULL;
	char why[512];

	im = mirad_image_load(x->path, false, why, sizeof why);
	if (im == NULL) {
		snprintf(err, errlen, "%s: %s", x->path, why);
		g_object_unref(base);
		return NULL;
	}
	t[0] = im;
	if (vips_colourspace(im, &t[1], VIPS_INTERPRETATION_sRGB, NULL))
		goto fail;
	im = t[1];
	if (vips_image_get_bands(im) > 3) {
		if (vips_extract_band(im, &t[2], 0, "n", 3, NULL))
			goto fail;
		im = t[2];
	}
	if (vips_cast_uchar(im, &t[3], NULL))
		goto fail;
	im = t[3];
	if (masks && x->mask_path) {
		static double a[3] = {0.5, 0.5, 0.5}, b[3] = {127.5, 0, 0};
		VipsImage *m =
		    mirad_image_load(x->mask_path, false, why, sizeof why);

		if (m == NULL) {
			snprintf(err, errlen, "%s: %s", x->mask_path, why);
			g_object_unref(base);
			return NULL;
		}
		t[4] = m;
		t[5] = mirad_image_binarise(m, why, sizeof why);
		if (t[5] == NULL) {
			snprintf(err, errlen, "%s: %s", x->mask_path, why);
			g_object_unref(base);
			return NULL;
		}
		if (vips_linear(im, &t[6], a, b, 3, "uchar", TRUE, NULL) ||
		    vips_ifthenelse(t[5], t[6], im, &t[7], NULL))
			goto fail;
		im = t[7];
	}
	if (vips_thumbnail_image(im, &out, side, "height", side, NULL))
		goto fail;
	g_object_unref(base);
	return out;
fail:
	mirad_image_take_error(why, sizeof why);
	snprintf(err, errlen, "%s: %s", x->path, why);
	g_object_unref(base);
	return NULL;
}

int
stats_mosaic_write(const char *path, const struct stats_entries *e,
    enum stats_by by, int per, int tile, int label_width, bool masks, char *err,
    size_t errlen)
{
	struct mirad_strlist groups = {0};
	size_t *pick = mirad_xmalloc((size_t)per * sizeof *pick);
	VipsImage *im;
	int rc = -1;
	char why[512];

	for (size_t k = 0; k < e->count; k++) {
		const char *g = stats_entry_group(&e->items[k], by);

		if (e->items[k].path && !mirad_strlist_contains(&groups, g))
			mirad_strlist_add(&groups, g);
	}
	/* Entries are sorted by path, so groups appear in that order; sort
	 * the names for rows in the same order as the tables. */
	for (size_t i = 1; i < groups.count; i++)
		for (size_t j = i;
		     j > 0 && strcmp(groups.items[j - 1], groups.items[j]) > 0;
		     j--) {
			char *s = groups.items[j];

			groups.items[j] = groups.items[j - 1];
			groups.items[j - 1] = s;
		}
	if (groups.count == 0) {
		snprintf(err, errlen, "no images to show");
		goto out_nocanvas;
	}
	im = canvas(label_width + per * tile, (int)groups.count * tile, dark,
	    err, errlen);
	if (im == NULL)
		goto out_nocanvas;
	for (size_t g = 0; g < groups.count; g++) {
		size_t n = 0, seen = 0;
		int y = (int)g * tile;

		for (size_t k = 0; k < e->count; k++)
			if (e->items[k].path &&
			    !strcmp(stats_entry_group(&e->items[k], by),
			        groups.items[g]))
				n++;
		/* Evenly spaced picks over the group's N entries. */
		for (int c = 0; c < per; c++)
			pick[c] = (size_t)c * n / (size_t)per;
		draw_text(im, groups.items[g], 6, y + tile / 2 - 8,
		    label_width - 12, 10, white);
		for (size_t k = 0, c = 0, col = 0;
		     k < e->count && c < (size_t)per; k++) {
			const struct stats_entry *x = &e->items[k];
			VipsImage *t;
			size_t j;

			if (!x->path ||
			    strcmp(stats_entry_group(x, by), groups.items[g]))
				continue;
			j = seen++;
			if (pick[c] != j)
				continue;
			while (c < (size_t)per && pick[c] == j)
				c++; /* fewer images than columns */
			t = make_tile(x, tile - 4, masks, err, errlen);
			if (t == NULL)
				goto out;
			if (vips_draw_image(im, t,
			        label_width + (int)col * tile +
			            (tile - vips_image_get_width(t)) / 2,
			        y + (tile - vips_image_get_height(t)) / 2,
			        NULL)) {
				g_object_unref(t);
				mirad_image_take_error(err, errlen);
				goto out;
			}
			g_object_unref(t);
			col++;
		}
	}
	switch (mirad_image_save(im, path, 0, why, sizeof why)) {
	case 0:
		break;
	case MIRAD_IMAGE_WRITE_ERROR: /* the message names the path */
		snprintf(err, errlen, "%s", why);
		goto out;
	default:
		snprintf(err, errlen, "%s: %s", path, why);
		goto out;
	}
	rc = 0;
out:
	g_object_unref(im);
out_nocanvas:
	mirad_strlist_free(&groups);
	free(pick);
	return rc;
}
