/* SPDX-License-Identifier: MIT */
/* mirad_archive's safe extraction: the name policy, a round trip through
 * mirad_archive_pack_dir(), refused entry types, limits and truncation,
 * on tars written byte by byte here. */
#include "mirad_platform.h"

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mirad_archive.h"
#include "mirad_fs.h"
#include "mirad_outdir.h"

static const char *
check(const char *name, bool is_dir, char *norm)
{
	return mirad_archive_check_name(name, is_dir, 0, 0, norm, 256);
}

static void
test_archive_check_name(void **state)
{
	char norm[256], longname[1100];

	(void)state;
	assert_null(check("a/b.png", false, norm));
	assert_string_equal(norm, "a/b.png");
	assert_null(check("./a/./b.png", false, norm));
	assert_string_equal(norm, "a/b.png");
	assert_null(check("a/b/", true, norm));
	assert_string_equal(norm, "a/b");
	assert_null(check("./", true, norm));
	assert_string_equal(norm, "");
	assert_null(check("caf\xc3\xa9/x", false, norm));

	assert_string_equal(check("/etc/passwd", false, norm), "absolute path");
	assert_string_equal(
	    check("ok/../../x", false, norm), "'..' component in name");
	assert_string_equal(check("..", true, norm), "'..' component in name");
	assert_string_equal(
	    check("a/..", true, norm), "'..' component in name");
	assert_string_equal(
	    check("a//b", false, norm), "empty component in name");
	assert_string_equal(
	    check("a/b//", true, norm), "empty component in name");
	assert_string_equal(check("a\\b", false, norm), "backslash in name");
	assert_string_equal(
	    check("a\nb", false, norm), "control character in name");
	assert_string_equal(
	    check("a\x7f", false, norm), "control character in name");
	assert_string_equal(
	    check("\xff\xfe", false, norm), "name is not valid UTF-8");
	assert_string_equal(
	    check("a/", false, norm), "trailing '/' on a file name");
	assert_string_equal(check("", false, norm), "empty name");
	assert_string_equal(check(".", false, norm), "empty name");

	memset(longname, 'x', sizeof longname - 1);
	longname[sizeof longname - 1] = '\0';
	assert_string_equal(
	    mirad_archive_check_name(longname, false, 0, 0, norm, sizeof norm),
	    "name too long");
	assert_string_equal(
	    mirad_archive_check_name("a/b/c/d", false, 0, 3, norm, sizeof norm),
	    "name has too many components");
	assert_null(
	    mirad_archive_check_name("a/b/c", false, 5, 3, norm, sizeof norm));
	assert_string_equal(
	    mirad_archive_check_name("a/b/cd", false, 5, 3, norm, sizeof norm),
	    "name too long");
}

/* ---- tar files written by hand (ustar) -------------------------------- */

struct tarbuf {
	unsigned char *data;
	size_t len;
};

static void
tar_entry(struct tarbuf *t, const char *name, char type, const char *link,
    const char *body)
{
	size_t blen = body ? strlen(body) : 0;
	size_t padded = (blen + 511) / 512 * 512;
	unsigned char *h;
	unsigned sum = 0;

	t->data = realloc(t->data, t->len + 512 + padded);
	assert_non_null(t->data);
	h = t->data + t->len;
	memset(h, 0, 512 + padded);
	snprintf((char *)h, 100, "%s", name);
	snprintf((char *)h + 100, 8, "%07o", type == '5' ? 0755 : 0644);
	snprintf((char *)h + 108, 8, "%07o", 0);
	snprintf((char *)h + 116, 8, "%07o", 0);
	snprintf((char *)h + 124, 12, "%011o", (unsigned)blen);
	snprintf((char *)h + 136, 12, "%011o", 0);
	h[156] = (unsigned char)type;
	if (link)
		snprintf((char *)h + 157, 100, "%s", link);
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
	if (body)
		memcpy(h + 512, body, blen);
	t->len += 512 + padded;
}

static void
tar_end(struct tarbuf *t)
{
	t->data = realloc(t->data, t->len + 1024);
	assert_non_null(t->data);
	memset(t->data + t->len, 0, 1024);
	t->len += 1024;
}

static char *
write_tmp(const char *dir, const char *name, const struct tarbuf *t)
{
	char *path = mirad_path_join(dir, name);
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(t->data, 1, t->len, f), t->len);
	assert_int_equal(fclose(f), 0);
	return path;
}

struct fixture {
	char *dir;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);

	fx->dir = strdup("/tmp/mirad-unit-archive.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		return -1;
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	mirad_rm_rf(fx->dir);
	free(fx->dir);
	free(fx);
	return 0;
}

/* Extract BYTES into a fresh folder; returns the status and the message. */
static int
extract_tar(struct fixture *fx, struct tarbuf *t,
    const struct mirad_extract_limits *lim, char *err, size_t errlen,
    struct mirad_extract_stats *st)
{
	char *path = write_tmp(fx->dir, "t.tar", t);
	char *dest = mirad_path_join(fx->dir, "dest");
	int rc;

	mirad_rm_rf(dest);
	assert_int_equal(mkdir(dest, 0700), 0);
	rc = mirad_archive_extract(path, dest, lim, st, NULL, err, errlen);
	free(path);
	free(dest);
	free(t->data);
	t->data = NULL;
	t->len = 0;
	return rc;
}

static void
test_archive_refusals(void **state)
{
	struct fixture *fx = *state;
	struct mirad_extract_stats st;
	struct tarbuf t = {0};
	char err[512], cwd_before[4096], cwd_after[4096];

	assert_non_null(getcwd(cwd_before, sizeof cwd_before));

	tar_entry(&t, "a/", '5', NULL, NULL);
	tar_entry(&t, "a/ok.txt", '0', NULL, "hello\n");
	tar_end(&t);
	assert_int_equal(extract_tar(fx, &t, NULL, err, sizeof err, &st), 0);
	assert_int_equal(st.entries, 2);
	assert_int_equal(st.files, 1);
	assert_int_equal(st.dirs, 1);
	assert_int_equal(st.bytes, 6);

	tar_entry(&t, "lnk", '2', "/etc", NULL);
	tar_end(&t);
	assert_int_equal(extract_tar(fx, &t, NULL, err, sizeof err, &st), -1);
	assert_string_equal(err,
	    "lnk: symbolic link refused (only files and folders are allowed)");

	tar_entry(&t, "hl", '1', "/etc/passwd", NULL);
	tar_end(&t);
	assert_int_equal(extract_tar(fx, &t, NULL, err, sizeof err, &st), -1);
	assert_string_equal(
	    err, "hl: hard link refused (only files and folders are allowed)");

	tar_entry(&t, "p", '6', NULL, NULL);
	tar_end(&t);
	assert_int_equal(extract_tar(fx, &t, NULL, err, sizeof err, &st), -1);
	assert_string_equal(
	    err, "p: FIFO refused (only files and folders are allowed)");

	tar_entry(&t, "x/a", '0', NULL, "1");
	tar_entry(&t, "x//a", '0', NULL, "2");
	tar_end(&t);
	assert_int_equal(extract_tar(fx, &t, NULL, err, sizeof err, &st), -1);
	assert_string_equal(err, "x//a: empty component in name");

	tar_entry(&t, "x/a", '0', NULL, "1");
	tar_entry(&t, "./x/a", '0', NULL, "2");
	tar_end(&t);
	assert_int_equal(extract_tar(fx, &t, NULL, err, sizeof err, &st), -1);
	assert_string_equal(err, "./x/a: duplicate entry");

	/* Cut right after the first entry: a clean EOF to libarchive. */
	tar_entry(&t, "c/1", '0', NULL, "one");
	assert_int_equal(extract_tar(fx, &t, NULL, err, sizeof err, &st), -1);
	assert_non_null(strstr(err, "truncated tar archive"));

	assert_non_null(getcwd(cwd_after, sizeof cwd_after));
	assert_string_equal(cwd_before, cwd_after);
}

static void
test_archive_limits(void **state)
{
	struct fixture *fx = *state;
	struct mirad_extract_limits lim = {0};
	struct mirad_extract_stats st;
	struct tarbuf t = {0};
	char err[512];

	lim.max_entries = 2;
	tar_entry(&t, "1", '0', NULL, "a");
	tar_entry(&t, "2", '0', NULL, "b");
	tar_entry(&t, "3", '0', NULL, "c");
	tar_end(&t);
	assert_int_equal(extract_tar(fx, &t, &lim, err, sizeof err, &st), -1);
	/* The library names the limit, the tool the option that raises it. */
	assert_string_equal(err, "more than 2 entries");
	assert_int_equal(st.over, MIRAD_EXTRACT_OVER_ENTRIES);

	memset(&lim, 0, sizeof lim);
	lim.max_total_bytes = 10;
	tar_entry(&t, "1", '0', NULL, "123456");
	tar_entry(&t, "2", '0', NULL, "123456");
	tar_end(&t);
	assert_int_equal(extract_tar(fx, &t, &lim, err, sizeof err, &st), -1);
	assert_string_equal(
	    err, "2: the archive expands to more than 10 bytes");
	assert_int_equal(st.over, MIRAD_EXTRACT_OVER_TOTAL_BYTES);
	assert_int_equal(st.bytes, 6);

	memset(&lim, 0, sizeof lim);
	lim.max_entry_bytes = 3;
	tar_entry(&t, "big", '0', NULL, "123456");
	tar_end(&t);
	assert_int_equal(extract_tar(fx, &t, &lim, err, sizeof err, &st), -1);
	assert_string_equal(
	    err, "big: declares 6 bytes, over the per-file limit of 3");
	assert_int_equal(st.over, MIRAD_EXTRACT_OVER_ENTRY_BYTES);
}

static void
write_text(const char *dir, const char *rel, const char *text)
{
	char *path = mirad_path_join(dir, rel);
	char *parent = mirad_path_dirname(path);

	assert_int_equal(mirad_mkdir_p(parent), 0);
	assert_int_equal(mirad_write_file_atomic(path, text, strlen(text)), 0);
	free(parent);
	free(path);
}

static void
test_archive_round_trip(void **state)
{
	static const enum mirad_archive_format formats[] = {MIRAD_ARCHIVE_TAR,
	    MIRAD_ARCHIVE_TAR_GZ, MIRAD_ARCHIVE_TAR_XZ, MIRAD_ARCHIVE_TAR_ZST,
	    MIRAD_ARCHIVE_ZIP};
	struct fixture *fx = *state;
	char *src = mirad_path_join(fx->dir, "src");
	char *target = mirad_path_join(fx->dir, "target");
	char err[512];

	write_text(src, "cat/train/good/000.png", "png bytes");
	write_text(src, "cat/test/anomaly/000.png", "more bytes");
	for (size_t i = 0; i < sizeof formats / sizeof *formats; i++) {
		char *archive = mirad_path_join(fx->dir, "a.bin");
		struct mirad_extract_stats st;
		struct mirad_outdir *out;
		const char *tmp;
		char *got;
		struct stat sb;

		assert_int_equal(mirad_archive_pack_dir(src, "top", archive,
		                     formats[i], err, sizeof err),
		    0);
		/* Unpacked where mirad-fetch unpacks: a private folder next
		 * to the target. */
		assert_int_equal(mirad_outdir_begin(&out, target, 0), 0);
		tmp = mirad_outdir_temp(out);
		assert_int_equal(mirad_archive_extract(archive, tmp, NULL, &st,
		                     NULL, err, sizeof err),
		    0);
		assert_int_equal(st.over, MIRAD_EXTRACT_WITHIN);
		/* Private and next to the target. */
		assert_int_equal(stat(tmp, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0700);
		assert_int_equal(strncmp(tmp, fx->dir, strlen(fx->dir)), 0);
		assert_non_null(strstr(tmp, "/.target.tmp-"));
		assert_int_equal(st.files, 2);
		assert_int_equal(st.bytes, 19);
		got = mirad_path_join(tmp, "top/cat/test/anomaly/000.png");
		assert_true(mirad_is_file(got));
		assert_int_equal(stat(got, &sb), 0);
		assert_int_equal(sb.st_size, 10);
		free(got);
		mirad_outdir_abort(out);
		unlink(archive);
		free(archive);
	}
	free(src);
	free(target);
}

static void
test_archive_bad_input(void **state)
{
	struct fixture *fx = *state;
	char err[512];
	char *dest = mirad_path_join(fx->dir, "dest");
	char *missing = mirad_path_join(fx->dir, "missing.tar");
	struct mirad_extract_stats st;

	assert_int_equal(mirad_mkdir_p(dest), 0);
	assert_int_equal(mirad_archive_extract(
	                     missing, dest, NULL, &st, NULL, err, sizeof err),
	    -1);
	assert_non_null(strstr(err, "No such file"));
	assert_int_equal(st.over, MIRAD_EXTRACT_WITHIN);
	free(dest);
	free(missing);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_archive_check_name),
	    cmocka_unit_test_setup_teardown(
	        test_archive_refusals, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_archive_limits, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_archive_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_archive_bad_input, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
