/* SPDX-License-Identifier: MIT */
/*
 * mirad-stats' module for the pixel modes (stats_pixels.h): the table, and
 * the measuring of one entry.
 */
#include "mirad_platform.h"

#include <gmodule.h>

#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_image.h"
#include "mirad_progress.h"
#include "stats_pixels.h"

static void
measure_entry(struct stats_entry *x)
{
	char err[1024];
	VipsImage *im = mirad_image_load(x->path, true, err, sizeof err);

	if (im == NULL ||
	    stats_measure_image(im, &x->image_m, err, sizeof err) != 0) {
		x->error = mirad_xasprintf("%s: %s", x->path, err);
		if (im)
			g_object_unref(im);
		mirad_progress_add(1);
		return;
	}
	g_object_unref(im);
	x->measured = true;
	{
		const char *ext = mirad_path_ext(x->path);

		if (g_ascii_strcasecmp(ext, ".jpg") == 0 ||
		    g_ascii_strcasecmp(ext, ".jpeg") == 0)
			x->image_m.jpeg_quality = stats_jpeg_quality(x->path);
	}
	if (x->mask_path) {
		im = mirad_image_load(x->mask_path, true, err, sizeof err);
		if (im == NULL ||
		    stats_measure_mask(im, &x->mask_m, err, sizeof err) != 0) {
			x->error = mirad_xasprintf("%s: %s", x->mask_path, err);
		} else if (x->mask_m.width != x->image_m.width ||
		    x->mask_m.height != x->image_m.height) {
			/* Its geometry would be measured against the wrong
			 * image size: reported and left out, as split and
			 * convert do. */
			x->error =
			    mirad_xasprintf("%s: mask is %dx%d, image is %dx%d",
			        x->mask_path, x->mask_m.width, x->mask_m.height,
			        x->image_m.width, x->image_m.height);
			stats_mask_measure_clear(&x->mask_m);
		} else {
			x->has_mask = true;
		}
		if (im)
			g_object_unref(im);
	}
	mirad_progress_add(1);
}

static const struct stats_pixels_ops ops = {
    .abi = STATS_PIXELS_ABI,
    .init = mirad_image_init,
    .measure_entry = measure_entry,
    .plot_write_all = stats_plot_write_all,
    .mosaic_write = stats_mosaic_write,
    .html_write = stats_html_write,
};

G_MODULE_EXPORT const struct stats_pixels_ops *
stats_pixels_module_ops(void)
{
	return &ops;
}
