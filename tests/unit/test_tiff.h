/* SPDX-License-Identifier: MIT */
/*
 * Float64 TIFF maps for the readers' tests (libvips cannot write them).
 * Include after <cmocka.h> and <tiffio.h>.
 */
#ifndef TEST_TIFF_H
#define TEST_TIFF_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

/*
 * A W x H float64 TIFF at PATH with SPP samples per pixel, sample I of
 * the image (in file order) I + 1/3, which no float32 holds exactly:
 * TILED in 16x16 tiles (SPP 1 only), else in strips of 2 rows; deflated
 * with the floating-point predictor.
 */
static inline void
test_write_float64_tiff(
    const char *path, uint32_t w, uint32_t h, uint16_t spp, bool tiled)
{
	TIFF *tif = TIFFOpen(path, "w");

	assert_non_null(tif);
	TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, w);
	TIFFSetField(tif, TIFFTAG_IMAGELENGTH, h);
	TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 64);
	TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_IEEEFP);
	TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, spp);
	TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
	TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
	TIFFSetField(tif, TIFFTAG_COMPRESSION, COMPRESSION_ADOBE_DEFLATE);
	TIFFSetField(tif, TIFFTAG_PREDICTOR, PREDICTOR_FLOATINGPOINT);
	if (tiled) {
		double tile[16 * 16];

		assert_int_equal(spp, 1);
		TIFFSetField(tif, TIFFTAG_TILEWIDTH, 16);
		TIFFSetField(tif, TIFFTAG_TILELENGTH, 16);
		for (uint32_t y0 = 0; y0 < h; y0 += 16)
			for (uint32_t x0 = 0; x0 < w; x0 += 16) {
				for (uint32_t i = 0; i < 16 * 16; i++)
					tile[i] = (y0 + i / 16) * w + x0 +
					    i % 16 + 1.0 / 3;
				assert_true(
				    TIFFWriteTile(tif, tile, x0, y0, 0, 0) > 0);
			}
	} else {
		double *row = calloc((size_t)w * spp, sizeof *row);

		assert_non_null(row);
		TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, 2);
		for (uint32_t y = 0; y < h; y++) {
			for (uint32_t x = 0; x < w * spp; x++)
				row[x] = (double)y * w * spp + x + 1.0 / 3;
			assert_int_equal(TIFFWriteScanline(tif, row, y, 0), 1);
		}
		free(row);
	}
	TIFFClose(tif);
}

#endif
