/* SPDX-License-Identifier: MIT */
/*
 * mirad-stats: charts and mosaic drawn on in-memory libvips canvases.
 *
 * Every chart has a title, labelled axes with units, tick marks with
 * labels on both axes (steps of 1, 2 or 5 times a power of ten) and light
 * grid lines; text sizes follow the chart's height.
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

static const double white[3] = {255, 255, 255};
static const double black[3] = {0, 0, 0};
static const double grid[3] = {225, 225, 225};
static const double blue[3] = {66, 114, 196};
static const double green[3] = {84, 160, 84};
static const double red[3] = {214, 69, 65};
static const double dark[3] = {32, 32, 32};

/* Length of the tick marks outside the plot area, pixels. */
#define TICK 5

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

/* How a label sits on its anchor point. */
enum anchor {
	ANCHOR_TOP_LEFT,
	ANCHOR_TOP_CENTRE,   /* x-axis tick labels, axis titles */
	ANCHOR_MIDDLE_RIGHT, /* y-axis tick labels */
	ANCHOR_MIDDLE_LEFT,
};

/* TEXT rendered as a one-band mask of SIZE-pixel type, wrapped (and
 * centred) at WIDTH pixels when WIDTH > 0, turned a quarter left when
 * VERTICAL.  NULL when libvips has no text support or TEXT is empty. */
static VipsImage *
render_text(const char *text, int size, int width, bool vertical)
{
	VipsImage *t, *r;
	char font[32];
	gchar *shown, *escaped;
	int rc;

	if (!have_text() || text[0] == '\0')
		return NULL;
	snprintf(font, sizeof font, "sans %d", size);
	/* Underscores become spaces so that long group names can wrap; the
	 * text is Pango markup, so "<" and "&" are escaped. */
	shown = g_strdelimit(g_strdup(text), "_", ' ');
	escaped = g_markup_escape_text(shown, -1);
	g_free(shown);
	if (width > 0)
		rc = vips_text(&t, escaped, "font", font, "width", width, "dpi",
		    72, "align", VIPS_ALIGN_CENTRE, NULL);
	else
		rc = vips_text(&t, escaped, "font", font, "dpi", 72, NULL);
	g_free(escaped);
	if (rc) {
		vips_error_clear();
		return NULL;
	}
	if (!vertical)
		return t;
	rc = vips_rot(t, &r, VIPS_ANGLE_D270, NULL);
	g_object_unref(t);
	if (rc) {
		vips_error_clear();
		return NULL;
	}
	return r;
}

/* The largest size from SIZE down to 7 at which TEXT, on one line, is at
 * most MAX pixels long. */
static int
fit_size(const char *text, int size, int max)
{
	for (; size > 7; size--) {
		VipsImage *t = render_text(text, size, 0, false);
		int tw = t ? vips_image_get_width(t) : 0;

		if (t)
			g_object_unref(t);
		if (tw <= max)
			break;
	}
	return size;
}

/* Draw TEXT in INK anchored at X, Y.  Text failures are not errors: the
 * chart is still useful without a label.  Returns the text's width. */
static int
label(VipsImage *im, const char *text, int x, int y, enum anchor anchor,
    int size, int width, bool vertical, const double *ink)
{
	VipsImage *t = NULL;
	int tw, th;

	/* On one line if it fits at up to a quarter smaller, ... */
	for (int s = size;
	     width > 0 && !vertical && s >= 7 && s >= size * 3 / 4; s--) {
		t = render_text(text, s, 0, false);
		if (t == NULL || vips_image_get_width(t) <= width)
			break;
		g_object_unref(t);
		t = NULL;
	}
	/* ... else wrapped at WIDTH. */
	if (t == NULL)
		t = render_text(text, size, width, vertical);
	if (t == NULL)
		return 0;
	tw = vips_image_get_width(t);
	/* A word longer than WIDTH cannot wrap: shrink the text to fit. */
	while (width > 0 && tw > width && size > 7) {
		VipsImage *smaller = render_text(text, --size, width, vertical);

		if (smaller == NULL)
			break;
		g_object_unref(t);
		t = smaller;
		tw = vips_image_get_width(t);
	}
	th = vips_image_get_height(t);
	switch (anchor) {
	case ANCHOR_TOP_CENTRE:
		x -= tw / 2;
		break;
	case ANCHOR_MIDDLE_RIGHT:
		x -= tw;
		y -= th / 2;
		break;
	case ANCHOR_MIDDLE_LEFT:
		y -= th / 2;
		break;
	case ANCHOR_TOP_LEFT:
	default:
		break;
	}
	if (vips_draw_mask(im, (double *)ink, 3, t, x, y, NULL))
		vips_error_clear();
	g_object_unref(t);
	return tw;
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

/* A chart: its canvas, text sizes and plot area. */
struct chart {
	VipsImage *im;
	int w, h;
	int font;           /* tick labels and legend, pixels */
	int title_font;     /* the title */
	int x0, y0, pw, ph; /* plot area */
	bool turned;        /* x tick labels turned a quarter */
	int band;           /* height of the x tick labels */
	int turned_font;    /* their size when turned */
};

/* The tick-label size of a chart H pixels high. */
static int
chart_font(int h)
{
	return h / 36 < 9 ? 9 : h / 36 > 18 ? 18 : h / 36;
}

/* A "nice" tick step for an axis from 0 to MAX with about 5 ticks: 1, 2
 * or 5 times a power of ten. */
static double
nice_step(double max)
{
	double raw = max > 0 ? max / 5 : 1;
	double mag = pow(10, floor(log10(raw)));
	double norm = raw / mag;

	return (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
}

/* The top of an axis for data up to MAX: a whole number of steps. */
static double
nice_max(double max, double *step)
{
	*step = nice_step(max);
	return max > 0 ? ceil(max / *step - 1e-9) * *step : *step;
}

/* V with as many decimals as STEP needs: 0, 0.2, 0.4 ... 1.0. */
static void
tick_text(char *buf, size_t len, double v, double step)
{
	int decimals = step >= 1 ? 0 : (int)ceil(-log10(step) - 1e-9);

	snprintf(buf, len, "%.*f", decimals, v);
}

/* Set up the chart: title, the plot area, the axis titles (with units).
 * X_BAND is the height of the x tick labels in pixels; TURNED turns them
 * a quarter (names too long for their slot). */
static void
chart_begin(struct chart *c, VipsImage *im, const char *title,
    const char *x_title, const char *y_title, int x_band, bool turned)
{
	int left, bottom, top;

	c->im = im;
	c->w = vips_image_get_width(im);
	c->h = vips_image_get_height(im);
	c->font = chart_font(c->h);
	c->title_font = c->font + c->font / 3 + 1;
	c->turned = turned;
	c->band = x_band;
	top = c->title_font + c->font + 16;
	left = c->font * 5 + c->font + 14;
	bottom = TICK + 4 + x_band + c->font + 10;
	c->x0 = left;
	c->y0 = top;
	c->pw = c->w - left - 16;
	c->ph = c->h - top - bottom;
	/* Every text on one line, smaller when it does not fit. */
	label(im, title, 8, 6, ANCHOR_TOP_LEFT,
	    fit_size(title, c->title_font, c->w - 16), 0, false, black);
	/* Axis titles: x under the tick labels, y turned along the axis. */
	label(im, x_title, c->x0 + c->pw / 2, c->h - c->font - 8,
	    ANCHOR_TOP_CENTRE, fit_size(x_title, c->font, c->pw), 0, false,
	    black);
	label(im, y_title, 4, c->y0 + c->ph / 2, ANCHOR_MIDDLE_LEFT,
	    fit_size(y_title, c->font, c->ph + c->y0 / 2), 0, true, black);
}

/* The axes' lines, drawn last so that bars do not cover them. */
static void
chart_axes(struct chart *c)
{
	line(c->im, black, c->x0, c->y0, c->x0, c->y0 + c->ph);
	line(c->im, black, c->x0, c->y0 + c->ph, c->x0 + c->pw, c->y0 + c->ph);
}

/* Y ticks from 0 to TOP by STEP, with grid lines; returns nothing. */
static void
y_ticks(struct chart *c, double top, double step)
{
	int n = (int)lround(top / step);

	for (int k = 0; k <= n; k++) {
		double v = k * step;
		int y = c->y0 + c->ph - (int)lround(v * c->ph / top);
		char buf[32];

		if (k > 0)
			line(c->im, grid, c->x0 + 1, y, c->x0 + c->pw, y);
		line(c->im, black, c->x0 - TICK, y, c->x0 - 1, y);
		tick_text(buf, sizeof buf, v, step);
		label(c->im, buf, c->x0 - TICK - 3, y, ANCHOR_MIDDLE_RIGHT,
		    c->font, 0, false, black);
	}
}

/* An x tick at X with TEXT under it, wrapped at WIDTH (0: no wrap). */
static void
x_tick(struct chart *c, int x, const char *text, int width)
{
	int base = c->y0 + c->ph;

	line(c->im, black, x, base + 1, x, base + TICK);
	if (c->turned)
		label(c->im, text, x, base + TICK + 3, ANCHOR_TOP_CENTRE,
		    c->turned_font, 0, true, black);
	else
		label(c->im, text, x, base + TICK + 3, ANCHOR_TOP_CENTRE,
		    c->font, width, false, black);
}

/* The x tick-label band of the groups of IMAGING on a W x H chart: two
 * lines under each bar, or when a slot is too narrow for a word, the names
 * turned a quarter (as high as the longest, at most a third of H). */
static int
group_band(const cJSON *imaging, enum stats_by by, int w, int h, bool *turned)
{
	int font = chart_font(h), ng = cJSON_GetArraySize(imaging);
	int slot = (w - font * 6 - 30) / (ng ? ng : 1), band = 0;
	const cJSON *g;

	*turned = slot < font * 4;
	if (!*turned)
		return 2 * (font + 3);
	cJSON_ArrayForEach(g, imaging)
	{
		const cJSON *v =
		    cJSON_GetObjectItemCaseSensitive(g, stats_by_name(by));
		VipsImage *t = render_text(
		    cJSON_IsString(v) ? v->valuestring : "", font, 0, false);

		if (t) {
			if (vips_image_get_width(t) > band)
				band = vips_image_get_width(t);
			g_object_unref(t);
		}
	}
	return band > h / 3 ? h / 3 : band;
}

/* The one size of the turned x labels: the largest at which every group
 * name fits C's band. */
static void
turned_font(struct chart *c, const cJSON *imaging, enum stats_by by)
{
	const cJSON *g;

	c->turned_font = c->font;
	cJSON_ArrayForEach(g, imaging)
	{
		const cJSON *v =
		    cJSON_GetObjectItemCaseSensitive(g, stats_by_name(by));
		int s = fit_size(
		    cJSON_IsString(v) ? v->valuestring : "", c->font, c->band);

		if (s < c->turned_font)
			c->turned_font = s;
	}
}

/* X ticks from 0 to TOP by STEP (a numeric x axis). */
static void
x_ticks(struct chart *c, double top, double step)
{
	int n = (int)lround(top / step);

	for (int k = 0; k <= n; k++) {
		double v = k * step;
		int x = c->x0 + (int)lround(v * c->pw / top);
		char buf[32];

		if (k > 0)
			line(c->im, grid, x, c->y0, x, c->y0 + c->ph - 1);
		tick_text(buf, sizeof buf, v, step);
		x_tick(c, x, buf, 0);
	}
}

/* A legend entry (swatch and text) under the title; returns the next x. */
static int
legend(struct chart *c, int x, const double *ink, const char *text)
{
	int y = c->title_font + 12;

	rect(c->im, ink, x, y, c->font, c->font);
	return x + c->font + 4 +
	    label(c->im, text, x + c->font + 4, y + c->font / 2,
	        ANCHOR_MIDDLE_LEFT, c->font, 0, false, black) +
	    c->font;
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

/* "Category", "Node", ...: the x-axis title of per-group charts. */
static const char *
by_title(enum stats_by by)
{
	static const char *const titles[] = {
	    "Category", "Node", "Split", "Defect", "Variant"};

	return titles[by];
}

static void
plot_counts(VipsImage *im, const struct stats_entries *e, const cJSON *imaging,
    enum stats_by by)
{
	size_t ng = (size_t)cJSON_GetArraySize(imaging), i = 0;
	size_t(*n)[3] = mirad_xcalloc(ng ? ng : 1, sizeof *n);
	size_t max = 1;
	double step, top;
	const cJSON *g;
	struct chart c;
	char title[64];
	int lx, band;
	bool turned;

	cJSON_ArrayForEach(g, imaging)
	{
		const char *name = gname(g, by);

		for (size_t k = 0; k < e->count; k++) {
			const struct stats_entry *x = &e->items[k];

			if (strcmp(stats_entry_group(x, by), name))
				continue;
			if (strcmp(x->split, "train") == 0)
				n[i][0]++;
			else if (strcmp(x->label, "anomaly") == 0)
				n[i][2]++;
			else
				n[i][1]++;
		}
		if (n[i][0] + n[i][1] + n[i][2] > max)
			max = n[i][0] + n[i][1] + n[i][2];
		i++;
	}
	snprintf(title, sizeof title, "Images per %s", stats_by_name(by));
	band = group_band(imaging, by, vips_image_get_width(im),
	    vips_image_get_height(im), &turned);
	chart_begin(
	    &c, im, title, by_title(by), "Images (count)", band, turned);
	turned_font(&c, imaging, by);
	lx = legend(&c, c.x0, blue, "train");
	lx = legend(&c, lx, green, "test normal");
	legend(&c, lx, red, "test abnormal");
	top = nice_max((double)max, &step);
	y_ticks(&c, top, step);
	i = 0;
	cJSON_ArrayForEach(g, imaging)
	{
		int slot = c.pw / (int)(ng ? ng : 1);
		int bx = c.x0 + (int)i * slot + slot / 6;
		int bw = slot * 2 / 3 > 1 ? slot * 2 / 3 : 1;
		int base = c.y0 + c.ph;
		const double *ink[3] = {blue, green, red};
		size_t below = 0;

		for (int k = 0; k < 3; k++) {
			/* Stack by cumulative counts, so rounding never
			 * leaves a gap or an overlap. */
			int y1 = base - (int)lround((double)below * c.ph / top);
			int y2;

			below += n[i][k];
			y2 = base - (int)lround((double)below * c.ph / top);
			rect(im, ink[k], bx, y2, bw, y1 - y2);
		}
		x_tick(&c, bx + bw / 2, gname(g, by), slot - 2);
		i++;
	}
	chart_axes(&c);
	free(n);
}

static void
plot_area(VipsImage *im, const cJSON *geometry)
{
	static const char *const labels[STATS_AREA_BINS] = {
	    "<0.1", "0.1-0.3", "0.3-1", "1-3", "3-10", "10-30", "30-100"};
	double bins[STATS_AREA_BINS] = {0}, max = 1, step, top;
	const cJSON *g;
	struct chart c;

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
	chart_begin(&c, im, "Defect area per mask",
	    "Defect area (% of the image)", "Masks (count)",
	    chart_font(vips_image_get_height(im)) + 3, false);
	top = nice_max(max, &step);
	y_ticks(&c, top, step);
	for (int b = 0; b < STATS_AREA_BINS; b++) {
		int slot = c.pw / STATS_AREA_BINS;
		int bh = (int)lround(bins[b] * c.ph / top);
		int bx = c.x0 + b * slot + slot / 8;

		rect(im, red, bx, c.y0 + c.ph - bh, slot * 3 / 4, bh);
		x_tick(&c, bx + slot * 3 / 8, labels[b], 0);
	}
	chart_axes(&c);
}

static void
plot_brightness(VipsImage *im, const cJSON *imaging, enum stats_by by)
{
	int ng = cJSON_GetArraySize(imaging), i = 0;
	const cJSON *g;
	struct chart c;
	char title[96];
	int band;
	bool turned;

	/* One quantity for bar and whisker, so the whisker spans the bar's
	 * top: the median and the p10-p90 range of the same values. */
	snprintf(title, sizeof title,
	    "Foreground brightness per %s: median (bar), p10-p90 (whisker)",
	    stats_by_name(by));
	band = group_band(imaging, by, vips_image_get_width(im),
	    vips_image_get_height(im), &turned);
	chart_begin(&c, im, title, by_title(by),
	    "Linear luminance (0 = black, 1 = white)", band, turned);
	turned_font(&c, imaging, by);
	y_ticks(&c, 1.0, 0.2);
	cJSON_ArrayForEach(g, imaging)
	{
		int slot = c.pw / (ng ? ng : 1);
		int bx = c.x0 + i * slot + slot / 6;
		int bw = slot * 2 / 3 > 1 ? slot * 2 / 3 : 1;
		int base = c.y0 + c.ph;
		int bh = (int)lround(
		    gnum(g, "foreground_luma_linear", "median") * c.ph);
		int lo = base -
		    (int)lround(
		        gnum(g, "foreground_luma_linear", "p10") * c.ph);
		int hi = base -
		    (int)lround(
		        gnum(g, "foreground_luma_linear", "p90") * c.ph);
		int mid = bx + bw / 2;

		rect(im, blue, bx, base - bh, bw, bh);
		line(im, black, mid, lo, mid, hi);
		line(im, black, mid - bw / 4, lo, mid + bw / 4, lo);
		line(im, black, mid - bw / 4, hi, mid + bw / 4, hi);
		x_tick(&c, mid, gname(g, by), slot - 2);
		i++;
	}
	chart_axes(&c);
}

struct size_dot {
	int w, h;
	size_t n;
};

static void
plot_resolution(VipsImage *im, const struct stats_entries *e)
{
	struct size_dot *dots = mirad_xcalloc(e->count + 1, sizeof *dots);
	size_t ndots = 0, images = 0;
	int maxw = 1, maxh = 1;
	double xstep, ystep, xtop, ytop;
	struct chart c;
	char title[96];

	for (size_t k = 0; k < e->count; k++) {
		const struct stats_entry *x = &e->items[k];
		size_t d;

		if (!x->measured)
			continue;
		images++;
		if (x->image_m.width > maxw)
			maxw = x->image_m.width;
		if (x->image_m.height > maxh)
			maxh = x->image_m.height;
		for (d = 0; d < ndots; d++)
			if (dots[d].w == x->image_m.width &&
			    dots[d].h == x->image_m.height)
				break;
		if (d == ndots)
			dots[ndots++] = (struct size_dot){
			    x->image_m.width, x->image_m.height, 0};
		dots[d].n++;
	}
	snprintf(title, sizeof title,
	    "Image sizes: %zu sizes over %zu images (dot: one size, with its "
	    "count)",
	    ndots, images);
	chart_begin(&c, im, title, "Width (px)", "Height (px)",
	    chart_font(vips_image_get_height(im)) + 3, false);
	xtop = nice_max(maxw, &xstep);
	ytop = nice_max(maxh, &ystep);
	y_ticks(&c, ytop, ystep);
	x_ticks(&c, xtop, xstep);
	for (size_t d = 0; d < ndots; d++) {
		int px = c.x0 + (int)lround((double)dots[d].w * c.pw / xtop);
		int py =
		    c.y0 + c.ph - (int)lround((double)dots[d].h * c.ph / ytop);
		char buf[32];

		vips_draw_circle(
		    im, (double *)blue, 3, px, py, 4, "fill", TRUE, NULL);
		if (ndots <= 24) {
			snprintf(buf, sizeof buf, "%zu", dots[d].n);
			label(im, buf, px + 6, py - c.font, ANCHOR_TOP_LEFT,
			    c.font - 1, 0, false, dark);
		}
	}
	chart_axes(&c);
	free(dots);
}

const char *const stats_plot_names[STATS_PLOT_COUNT] = {STATS_PLOT_COUNTS,
    STATS_PLOT_AREA, STATS_PLOT_BRIGHTNESS, STATS_PLOT_RESOLUTION};

VipsImage *
stats_plot_render(int chart, const struct stats_entries *e,
    const cJSON *imaging, const cJSON *geometry, enum stats_by by, int w, int h,
    char *err, size_t errlen)
{
	VipsImage *im = canvas(w, h, white, err, errlen);

	if (im == NULL)
		return NULL;
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
	return im;
}

int
stats_plot_write_all(const char *dir, const struct stats_entries *e,
    const cJSON *imaging, const cJSON *geometry, enum stats_by by, int w, int h,
    char *err, size_t errlen)
{
	int rc = 0;

	if (mirad_mkdir_p(dir) != 0) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	for (int chart = 0; chart < STATS_PLOT_COUNT && rc == 0; chart++) {
		VipsImage *im = stats_plot_render(
		    chart, e, imaging, geometry, by, w, h, err, errlen);

		if (im == NULL)
			return -1;
		rc = save_chart(im, dir, stats_plot_names[chart], err, errlen);
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

VipsImage *
stats_mosaic_render(const struct stats_entries *e, enum stats_by by, int per,
    int tile, int label_width, bool masks, char *err, size_t errlen)
{
	struct mirad_strlist groups = {0};
	GHashTable *distinct = g_hash_table_new(g_str_hash, g_str_equal);
	size_t *pick = mirad_xmalloc((size_t)per * sizeof *pick);
	VipsImage *im = NULL;
	int rc = -1;

	for (size_t k = 0; k < e->count; k++) {
		const char *g = stats_entry_group(&e->items[k], by);

		if (e->items[k].path && g_hash_table_add(distinct, (gpointer)g))
			mirad_strlist_add(&groups, g);
	}
	g_hash_table_destroy(distinct);
	/* Entries are sorted by path, so groups appear in that order; sort
	 * the names for rows in the same order as the tables. */
	mirad_strlist_sort(&groups);
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
		if (label_width > 12)
			label(im, groups.items[g], 6, y + tile / 2,
			    ANCHOR_MIDDLE_LEFT, 10, label_width - 12, false,
			    white);
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
	rc = 0;
out:
	if (rc != 0 && im) {
		g_object_unref(im);
		im = NULL;
	}
out_nocanvas:
	mirad_strlist_free(&groups);
	free(pick);
	return im;
}

int
stats_mosaic_write(const char *path, const struct stats_entries *e,
    enum stats_by by, int per, int tile, int label_width, bool masks, char *err,
    size_t errlen)
{
	VipsImage *im = stats_mosaic_render(
	    e, by, per, tile, label_width, masks, err, errlen);
	char why[512];
	int rc = -1;

	if (im == NULL)
		return -1;
	switch (mirad_image_save(im, path, 0, why, sizeof why)) {
	case 0:
		rc = 0;
		break;
	case MIRAD_IMAGE_WRITE_ERROR: /* the message names the path */
		snprintf(err, errlen, "%s", why);
		break;
	default:
		snprintf(err, errlen, "%s: %s", path, why);
		break;
	}
	g_object_unref(im);
	return rc;
}
