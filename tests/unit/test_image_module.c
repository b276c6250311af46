/* SPDX-License-Identifier: MIT */
/*
 * mirad_image without libvips linked: this program calls no function of
 * mirad_image_vips.c, so it does not link libvips (--as-needed), and a
 * header mirad_codec does not describe goes through the module
 * mirad-vips.so.  Also mirad_list_dir_kinds(),
 * the header walk's listing, and mirad_image_header_at(), its reads.
 */
#include "mirad_platform.h"

#include "test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdint.h>
#include <sys/stat.h>
#include <tiffio.h>
#include <unistd.h>

#include "mirad_codec.h"
#include "mirad_fs.h"
#include "mirad_image.h"
#include "mirad_image_vips.h"

/* Is a file named like NAME mapped into this process? */
static bool
mapped(const char *name)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096];
	bool found = false;

	assert_non_null(f);
	while (fgets(line, sizeof line, f) != NULL)
		if (strstr(line, name) != NULL)
			found = true;
	fclose(f);
	return found;
}

/* A W x H one-band 32-bit float TIFF, which mirad_codec leaves to
 * libvips. */
static void
write_float_tiff(const char *path, uint32_t w, uint32_t h)
{
	TIFF *tif = TIFFOpen(path, "w");
	float *row = calloc(w, sizeof *row);

	assert_non_null(tif);
	assert_non_null(row);
	TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, w);
	TIFFSetField(tif, TIFFTAG_IMAGELENGTH, h);
	TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
	TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, 32);
	TIFFSetField(tif, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_IEEEFP);
	TIFFSetField(tif, TIFFTAG_PHOTOMETRIC, PHOTOMETRIC_MINISBLACK);
	TIFFSetField(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG);
	TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, h);
	for (uint32_t y = 0; y < h; y++)
		assert_int_equal(TIFFWriteScanline(tif, row, y, 0), 1);
	TIFFClose(tif);
	free(row);
}

/* The modules of the build tree (make check exports MIRAD_BUILDDIR). */
static void
use_build_tree_modules(void)
{
	const char *b = getenv("MIRAD_BUILDDIR");
	char *dir;

	if (b == NULL)
		skip();
	dir = mirad_path_join(b, "src");
	setenv("MIRAD_MODULE_DIR", dir, 1);
	free(dir);
}

static void
test_image_header_fallback_loads_the_module(void **state)
{
	char *d, *tif, *png;
	struct mirad_image_info info;
	char err[256];

	(void)state;
	use_build_tree_modules(); /* may skip: nothing allocated yet */
	d = test_tmpdir();
	tif = mirad_path_join(d, "float.tif");
	png = mirad_path_join(d, "empty.png");
	write_float_tiff(tif, 37, 23);
	mirad_image_init_lazy("test_image_module", 1);
	/* Nothing has needed libvips yet. */
	assert_false(mapped("libvips"));
	assert_string_equal(mirad_image_library_version(), VIPS_VERSION);
	/* A file refused before any reader: still no libvips. */
	test_write(d, "empty.png", "");
	assert_int_equal(mirad_image_header(png, &info, err, sizeof err), -1);
	assert_string_equal(err, "empty file");
	assert_false(mapped("libvips"));

	assert_int_equal(mirad_image_header(tif, &info, err, sizeof err), 0);
	assert_int_equal(info.width, 37);
	assert_int_equal(info.height, 23);
	assert_int_equal(info.bands, 1);
	assert_int_equal(info.bits, 32);
	assert_string_equal(info.format, "tiff");
	assert_true(mapped("mirad-vips.so"));
	assert_true(mapped("libvips"));
	/* The version of the library now loaded. */
	assert_non_null(mirad_image_library_version());
	assert_true(mirad_image_threads() >= 1);
	mirad_image_shutdown();

	mirad_rm_rf(d);
	free(png);
	free(tif);
	free(d);
}

static void
test_image_module_symbol(void **state)
{
	char *d;
	char err[512];
	mirad_image_vips_entry entry;

	(void)state;
	use_build_tree_modules(); /* may skip: nothing allocated yet */
	d = test_tmpdir();
	entry = (mirad_image_vips_entry)mirad_image_module_symbol(
	    "mirad-vips.so", MIRAD_IMAGE_VIPS_MODULE_ENTRY, err, sizeof err);
	assert_non_null(entry);
	assert_int_equal(entry()->abi, MIRAD_IMAGE_VIPS_ABI);
	/* A symbol the module does not have. */
	assert_null(mirad_image_module_symbol(
	    "mirad-vips.so", "no_such_symbol", err, sizeof err));
	assert_non_null(strstr(err, "no_such_symbol"));
	/* No module there. */
	setenv("MIRAD_MODULE_DIR", d, 1);
	assert_null(mirad_image_module_symbol(
	    "mirad-vips.so", MIRAD_IMAGE_VIPS_MODULE_ENTRY, err, sizeof err));
	assert_true(err[0] != '\0');
	unsetenv("MIRAD_MODULE_DIR");
	mirad_rm_rf(d);
	free(d);
}

static void
test_fs_list_dir_kinds(void **state)
{
	char *d = test_tmpdir();
	char *p;
	struct mirad_strlist names;
	enum mirad_entry_kind *kinds;

	(void)state;
	test_write(d, "b.png", "x");
	test_write(d, "a/inner.png", "x");
	test_write(d, "c/inner.png", "x");
	p = mirad_path_join(d, "d-link");
	assert_int_equal(symlink("c", p), 0); /* a link to a folder */
	free(p);
	p = mirad_path_join(d, "e-link");
	assert_int_equal(symlink("b.png", p), 0); /* a link to a file */
	free(p);
	p = mirad_path_join(d, "f-dangling");
	assert_int_equal(symlink("nowhere", p), 0);
	free(p);

	/* Sorted by name, each name with its own kind. */
	assert_int_equal(mirad_list_dir_kinds(d, &names, &kinds), 0);
	assert_int_equal(names.count, 6);
	assert_string_equal(names.items[0], "a");
	assert_int_equal(kinds[0], MIRAD_ENTRY_DIR);
	assert_string_equal(names.items[1], "b.png");
	assert_int_equal(kinds[1], MIRAD_ENTRY_REGULAR);
	assert_string_equal(names.items[2], "c");
	assert_int_equal(kinds[2], MIRAD_ENTRY_DIR);
	assert_string_equal(names.items[3], "d-link");
	assert_int_equal(kinds[3], MIRAD_ENTRY_DIR);
	assert_string_equal(names.items[4], "e-link");
	assert_int_equal(kinds[4], MIRAD_ENTRY_REGULAR);
	assert_string_equal(names.items[5], "f-dangling");
	assert_int_equal(kinds[5], MIRAD_ENTRY_OTHER);
	mirad_strlist_free(&names);
	free(kinds);

	/* The kinds: what is neither a folder nor a regular file (a FIFO, a
	 * dangling link) is "other"; links are followed. */
	p = mirad_path_join(d, "g-fifo");
	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);
	assert_int_equal(mirad_list_dir_kinds(d, &names, &kinds), 0);
	assert_int_equal(names.count, 7);
	assert_int_equal(kinds[0], MIRAD_ENTRY_DIR);     /* a */
	assert_int_equal(kinds[1], MIRAD_ENTRY_REGULAR); /* b.png */
	assert_int_equal(kinds[3], MIRAD_ENTRY_DIR);     /* d-link */
	assert_int_equal(kinds[4], MIRAD_ENTRY_REGULAR); /* e-link */
	assert_int_equal(kinds[5], MIRAD_ENTRY_OTHER);   /* f-dangling */
	assert_string_equal(names.items[6], "g-fifo");
	assert_int_equal(kinds[6], MIRAD_ENTRY_OTHER);
	mirad_strlist_free(&names);
	free(kinds);

	p = mirad_path_join(d, "missing");
	errno = 0;
	assert_int_equal(mirad_list_dir_kinds(p, &names, &kinds), -1);
	assert_int_equal(errno, ENOENT);
	assert_null(kinds);
	free(p);
	mirad_rm_rf(d);
	free(d);
}

/* A 6x4 grey PNG at DIR/NAME, cut to its first KEEP bytes (0: whole). */
static void
write_grey_png(const char *dir, const char *name, size_t keep)
{
	unsigned char px[6 * 4] = {0};
	void *buf;
	size_t len;
	char err[128];
	char *p = mirad_path_join(dir, name);

	assert_int_equal(
	    mirad_codec_write_grey_png(px, 6, 4, &buf, &len, err, sizeof err),
	    0);
	assert_true(g_file_set_contents(
	    p, buf, (gssize)(keep > 0 && keep < len ? keep : len), NULL));
	g_free(buf);
	free(p);
}

/* mirad_image_header_at() refuses the same files whether or not the
 * listing saw a regular file, even when the file changed since. */
static void
test_image_header_at(void **state)
{
	char *d = test_tmpdir();
	struct mirad_image_info info;
	char err[160];
	char *p;
	int dir;

	(void)state;
	write_grey_png(d, "ok.png", 0);
	write_grey_png(d, "cut.png", 40);
	test_write(d, "empty.png", "");
	test_write(d, "sub/x.png", "x");
	p = mirad_path_join(d, "fifo.png");
	assert_int_equal(mkfifo(p, 0600), 0);
	free(p);
	p = mirad_path_join(d, "map.tif");
	write_float_tiff(p, 3, 2);
	free(p);
	dir = open(d, O_RDONLY | O_DIRECTORY);
	assert_true(dir >= 0);

	for (int listed = 0; listed < 2; listed++) {
		memset(&info, 0, sizeof info);
		assert_int_equal(mirad_image_header_at(dir, "ok.png", listed,
		                     &info, err, sizeof err),
		    0);
		assert_int_equal(info.width, 6);
		assert_int_equal(info.height, 4);
		assert_int_equal(info.bands, 1);
		assert_string_equal(info.format, "png");
		assert_int_equal(mirad_image_header_at(dir, "cut.png", listed,
		                     &info, err, sizeof err),
		    -1);
		assert_string_equal(err, "truncated PNG");
		/* An empty file, or a FIFO put where the listing saw a file:
		 * refused, and the FIFO's open does not wait for a writer. */
		assert_int_equal(mirad_image_header_at(dir, "empty.png", listed,
		                     &info, err, sizeof err),
		    -1);
		assert_string_equal(err, "empty file");
		assert_int_equal(mirad_image_header_at(dir, "fifo.png", listed,
		                     &info, err, sizeof err),
		    -1);
		assert_string_equal(err, "not a regular file");
		assert_int_equal(mirad_image_header_at(dir, "missing.png",
		                     listed, &info, err, sizeof err),
		    -1);
		assert_string_equal(err, strerror(ENOENT));
		/* A format only libvips describes: the caller asks it. */
		assert_int_equal(mirad_image_header_at(dir, "map.tif", listed,
		                     &info, err, sizeof err),
		    1);
	}
	/* A folder (a folder of masks) says so by errno. */
	errno = 0;
	assert_int_equal(
	    mirad_image_header_at(dir, "sub", false, &info, err, sizeof err),
	    -1);
	assert_int_equal(errno, EISDIR);
	/* AT_FDCWD and a path work as mirad_image_header() does. */
	p = mirad_path_join(d, "ok.png");
	assert_int_equal(
	    mirad_image_header_at(AT_FDCWD, p, true, &info, err, sizeof err),
	    0);
	assert_int_equal(info.width, 6);
	free(p);
	close(dir);
	mirad_rm_rf(d);
	free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fs_list_dir_kinds),
	    /* First: it checks that libvips is not loaded until needed. */
	    cmocka_unit_test(test_image_header_fallback_loads_the_module),
	    cmocka_unit_test(test_image_module_symbol),
	    cmocka_unit_test(test_image_header_at),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
