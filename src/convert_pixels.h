/* SPDX-License-Identifier: MIT */
/*
 * mirad-convert's per-record work: check the image decodes, link/copy it or
 * re-encode it (optionally resized), and write its mask as a single-band
 * 0/255 PNG of the image's size.  Thread-safe: each call touches only its
 * own files; several threads call convert_pixels_record() at once.
 */
#ifndef CONVERT_PIXELS_H
#define CONVERT_PIXELS_H

#include "mirad_platform.h"

#include "convert_plan.h"

enum convert_link {
	CONVERT_LINK_AUTO = 0, /* as COPY: never shares an inode */
	CONVERT_LINK_COPY,     /* reflink where offered, else the bytes */
	CONVERT_LINK_HARDLINK,
	CONVERT_LINK_SYMLINK
};

/*
 * Once, after mirad_image_init(): block libvips' loaders marked untrusted
 * (ImageMagick, ...).  Datasets hold PNG, JPEG, TIFF and BMP, and
 * downloaded files should not reach parsers that were never fuzzed.
 */
void convert_pixels_init(void);

/* Parse "auto", "copy", "hardlink", "symlink"; -1 if unknown. */
int convert_link_from_name(const char *name, enum convert_link *out);

struct convert_pixel_options {
	enum convert_link link;
	int resize_width, resize_height; /* 0: keep the size */
	int jpeg_quality;                /* for .jpg output */
	bool verify;                     /* decode linked images too */
};

/*
 * Is the image format of extension A the same as of B (".JPG" and ".jpeg"
 * are both JPEG)?
 */
bool convert_pixels_same_format(const char *ext_a, const char *ext_b);

/*
 * Process ITEM: write its image to IMAGE_OUT (linked or copied when
 * ITEM->transcode is false, else decoded, resized and encoded by
 * IMAGE_OUT's extension) and, when the record has a mask, the binarised
 * mask to MASK_OUT.  A mask that is a directory (MVTec LOCO) is the OR of
 * the masks in it.  Sets item->done, width/height/channels and wrote_mask;
 * on failure item->error ("path: reason", owned by the item) and nothing is
 * left at IMAGE_OUT or MASK_OUT.  Returns 0 or -1.
 */
int convert_pixels_record(const struct convert_pixel_options *o,
    struct convert_item *item, const char *image_out, const char *mask_out);

/*
 * Copy the bytes of SRC to the new file DST (no temporary name: the caller
 * writes into a private folder that is published as a whole).
 */
int convert_pixels_copy_file(const char *src, const char *dst);

#endif
