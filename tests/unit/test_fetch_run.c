/* SPDX-License-Identifier: MIT */
/* Unit tests of mirad-fetch's engine: a file:// download, the checks
 * before parsing, finding the dataset root, the marker. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch_catalogue.h"
#include "fetch_run.h"
#include "mirad_err.h"
#include "mirad_fs.h"

/* SHA-256 of "hello\n". */
#define HELLO_SHA256                                                           \
	"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03"

static char dir[] = "/tmp/test_fetch_run.XXXXXX";

static char *
put(const char *name, const char *text)
{
	char *path = mirad_path_join(dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	return path;
}

static void
test_check_archive(void **state)
{
	struct fetch_run f = {0};
	char msg[256] = "";
	char *hello = put("hello.zip", "hello\n");
	char *page = put("page.zip", "\xef\xbb\xbf  <!DOCTYPE html><p>quota");
	char *missing = mirad_path_join(dir, "missing.zip");

	(void)state;
	assert_int_equal(
	    fetch_run_check_archive(&f, hello, msg, sizeof msg), 0);
	assert_string_equal(f.digest, HELLO_SHA256);
	assert_int_equal(f.archive_size, 6);
	f.size = 7;
	assert_int_equal(
	    fetch_run_check_archive(&f, hello, msg, sizeof msg), -1);
	f.size = 6;
	memcpy(f.sha256, HELLO_SHA256, sizeof f.sha256);
	f.sha256[0] = '6';
	f.have_sha256 = true;
	assert_int_equal(
	    fetch_run_check_archive(&f, hello, msg, sizeof msg), -1);
	f.sha256[0] = '5';
	assert_int_equal(
	    fetch_run_check_archive(&f, hello, msg, sizeof msg), 0);
	assert_int_equal(
	    fetch_run_check_archive(&f, page, msg, sizeof msg), -1);
	assert_int_equal(fetch_run_check_archive(&f, missing, msg, sizeof msg),
	    MIRAD_EXIT_FATAL);
	assert_non_null(strstr(msg, "missing.zip: "));
	free(hello);
	free(page);
	free(missing);
}

/* A file:// URL is copied to the .part file. */
static void
test_download_file_url(void **state)
{
	struct fetch_run f = {0};
	char msg[256] = "", *text;
	char *src = put("src.tar", "hello\n");
	char *url = mirad_xasprintf("file://%s", src);
	size_t len;

	(void)state;
	f.url = url;
	f.part = mirad_path_join(dir, "out.part");
	f.retries = 1;
	assert_int_equal(fetch_run_download(&f, msg, sizeof msg), 0);
	assert_true(g_file_get_contents(f.part, &text, &len, NULL));
	assert_int_equal(len, 6);
	assert_memory_equal(text, "hello\n", 6);
	g_free(text);
	/* A Drive link without a file id is a usage error. */
	f.url = "https://drive.google.com/nothing";
	assert_int_equal(
	    fetch_run_download(&f, msg, sizeof msg), MIRAD_EXIT_USAGE);
	assert_non_null(strstr(msg, "no Google Drive file id"));
	free(f.part);
	free(url);
	free(src);
}

/* One wrapping folder (beside hidden entries and __MACOSX) is the root;
 * two are not. */
static void
test_find_root(void **state)
{
	char *a = mirad_path_join(dir, "x/top/inner");
	char *b = mirad_path_join(dir, "x/__MACOSX");
	char *c = mirad_path_join(dir, "x/.hidden");
	char *x = mirad_path_join(dir, "x");
	char *want = mirad_path_join(dir, "x/top/inner");
	char *root;

	(void)state;
	assert_int_equal(mirad_mkdir_p(a), 0);
	assert_int_equal(mirad_mkdir_p(b), 0);
	assert_int_equal(mirad_mkdir_p(c), 0);
	root = fetch_run_find_root(x);
	assert_string_equal(root, want);
	free(root);
	free(b);
	b = mirad_path_join(dir, "x/second");
	assert_int_equal(mirad_mkdir_p(b), 0);
	root = fetch_run_find_root(x);
	assert_string_equal(root, x);
	free(root);
	free(a);
	free(b);
	free(c);
	free(x);
	free(want);
}

static void
test_write_marker_and_advice(void **state)
{
	struct fetch_run f = {0};
	char msg[256] = "", *text, *path;
	size_t len;

	(void)state;
	memcpy(f.digest, HELLO_SHA256, sizeof f.digest);
	f.archive_size = 6;
	assert_int_equal(fetch_run_write_marker(&f, dir, "a.zip",
	                     MIRAD_LAYOUT_MIRAD, 12, msg, sizeof msg),
	    0);
	path = mirad_path_join(dir, ".mirad-fetch.json");
	assert_true(g_file_get_contents(path, &text, &len, NULL));
	assert_non_null(strstr(text, "\"source\":\t\"a.zip\""));
	assert_non_null(strstr(text, "\"images\":\t12"));
	assert_non_null(strstr(text, "\"sha256_pinned\":\tfalse"));
	g_free(text);
	free(path);
	assert_int_equal(fetch_run_write_marker(&f, "/nonexistent/dir", "a.zip",
	                     MIRAD_LAYOUT_MIRAD, 12, msg, sizeof msg),
	    MIRAD_EXIT_FATAL);
	assert_non_null(strstr(msg, "/nonexistent/dir/.mirad-fetch.json: "));
	assert_string_equal(fetch_run_limit_advice(MIRAD_EXTRACT_WITHIN), "");
	assert_non_null(strstr(
	    fetch_run_limit_advice(MIRAD_EXTRACT_OVER_RATIO), "--max-ratio"));
}

/* A known dataset's entry limit: four entries per image or mask file
 * (a mask per anomaly) and 1000 to spare. */
static void
test_catalogue_max_entries(void **state)
{
	const struct fetch_count counts[] = {{"a", 10, 5, 3}, {"b", 1, 0, 0}};
	const struct fetch_dataset d = {
	    .name = "t", .counts = counts, .ncounts = 2};
	const struct fetch_dataset none = {.name = "empty"};

	(void)state;
	assert_int_equal(
	    fetch_catalogue_max_entries(&d), 4 * (10 + 5 + 2 * 3 + 1) + 1000);
	assert_int_equal(fetch_catalogue_max_entries(&none), 1000);
	assert_true(
	    fetch_catalogue_max_entries(fetch_catalogue_find("mirad")) > 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_check_archive),
	    cmocka_unit_test(test_catalogue_max_entries),
	    cmocka_unit_test(test_download_file_url),
	    cmocka_unit_test(test_find_root),
	    cmocka_unit_test(test_write_marker_and_advice),
	};
	int rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	if (mirad_rm_rf(dir) != 0)
		rc = 1;
	return rc;
}
