/* SPDX-License-Identifier: MIT */
/* Unit tests of mirad-split's outputs (src/split_output.c): the header,
 * the output names, the files of a prefix, the summary. */
#include "mirad_platform.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include "test_records.h"
#include <glib.h>

#include "mirad_err.h"
#include "split_output.h"

static struct mirad_record *
rec(const char *split, const char *label, const char *image)
{
	return test_record("/d", "a", split, label,
	    strcmp(label, "normal") ? "crack" : "good", image, NULL);
}

static void
fill(struct mirad_recordset *set)
{
	mirad_recordset_push(set, rec("train", "normal", "a/train/0.png"));
	mirad_recordset_push(set, rec("train", "normal", "a/train/1.png"));
	mirad_recordset_push(set, rec("test", "normal", "a/test/good.png"));
	mirad_recordset_push(set, rec("test", "anomaly", "a/test/crack.png"));
}

static char *
slurp(const char *path)
{
	gchar *text = NULL;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return NULL;
	return text;
}

static void
test_header(void **state)
{
	struct split s = {0};
	size_t shots[] = {1, 4};
	cJSON *h;
	char *text;

	(void)state;
	s.seed = 7;
	s.shots = shots;
	s.nshots = 2;
	s.val_arg = "0.1";
	s.by_defect = true;
	s.folds = 0;
	s.nodes = "/some/dir/nodes.csv";
	h = split_make_header(&s, SIZE_MAX);
	text = cJSON_PrintUnformatted(h);
	/* Every K in the header of all of them; files keep only their
	 * basename. */
	assert_string_equal(text,
	    "{\"mirad_manifest\":1,\"tool\":\"mirad-split\",\"seed\":7,"
	    "\"shots\":[1,4],\"val\":\"0.1\",\"stratify\":\"defect\","
	    "\"nodes\":\"nodes.csv\"}");
	cJSON_free(text);
	cJSON_Delete(h);
	h = split_make_header(&s, 4);
	assert_int_equal(
	    cJSON_GetObjectItemCaseSensitive(h, "shots")->valueint, 4);
	cJSON_Delete(h);
}

static void
test_output_name(void **state)
{
	char *n;

	(void)state;
	n = split_output_name("out/run", "8shot", ".jsonl");
	assert_string_equal(n, "out/run-8shot.jsonl");
	free(n);
	/* A prefix that is a folder takes no dash. */
	n = split_output_name("out/", "train", ".csv");
	assert_string_equal(n, "out/train.csv");
	free(n);
}

static void
test_write_per_split_files(void **state)
{
	struct mirad_recordset set = {0};
	struct split s = {0};
	struct split_view *views;
	size_t n = 0;
	char *dir = g_dir_make_tmp("test_split_output_XXXXXX", NULL);
	char *prefix, *path, *text;

	(void)state;
	assert_non_null(dir);
	fill(&set);
	prefix = g_strdup_printf("%s/p", dir);
	s.output = prefix;
	assert_int_equal(mirad_format_from_name("uniad", &s.format), 0);
	views = split_make_views(&s, &set, &n);
	split_write_outputs(&s, views, n);
	/* train and test always, val only when present. */
	path = g_strdup_printf("%s/p-train.json", dir);
	text = slurp(path);
	assert_non_null(text);
	assert_non_null(strstr(text, "a/train/1.png"));
	assert_null(strstr(text, "a/test/good.png"));
	g_free(text);
	unlink(path);
	g_free(path);
	path = g_strdup_printf("%s/p-test.json", dir);
	text = slurp(path);
	assert_non_null(text);
	assert_non_null(strstr(text, "a/test/crack.png"));
	g_free(text);
	unlink(path);
	g_free(path);
	path = g_strdup_printf("%s/p-val.json", dir);
	assert_int_not_equal(access(path, F_OK), 0);
	g_free(path);
	split_views_free(views, n);
	/* A jsonl file with a protocol begins with its header. */
	s.format = MIRAD_FORMAT_JSONL;
	s.seed_given = true;
	s.seed = 3;
	path = g_strdup_printf("%s/m.jsonl", dir);
	s.output = path;
	views = split_make_views(&s, &set, &n);
	split_write_outputs(&s, views, n);
	text = slurp(path);
	assert_non_null(text);
	assert_true(g_str_has_prefix(text,
	    "{\"mirad_manifest\":1,\"tool\":\"mirad-split\",\"seed\":3}\n"));
	g_free(text);
	unlink(path);
	g_free(path);
	split_views_free(views, n);
	assert_int_equal(rmdir(dir), 0);
	g_free(prefix);
	g_free(dir);
	mirad_recordset_clear(&set);
}

static void
test_summary(void **state)
{
	struct mirad_recordset set = {0};
	struct split s = {0};
	struct split_view *views;
	size_t n = 0;
	char path[] = "/tmp/test_split_summary_XXXXXX";
	int fd = mkstemp(path), saved;
	char *text;

	(void)state;
	assert_true(fd >= 0);
	fill(&set);
	views = split_make_views(&s, &set, &n);
	fflush(stderr);
	saved = dup(STDERR_FILENO);
	assert_true(dup2(fd, STDERR_FILENO) >= 0);
	split_print_summary(&s, &views[0]);
	fflush(stderr);
	assert_true(dup2(saved, STDERR_FILENO) >= 0);
	close(saved);
	close(fd);
	text = slurp(path);
	unlink(path);
	assert_non_null(text);
	/* No val row where there is no val. */
	assert_string_equal(text,
	    "test_split_output: split (seed 0)\n"
	    "category                 split   normal  anomaly\n"
	    "a                        train        2        0\n"
	    "a                        test         1        1\n"
	    "total                    train        2        0\n"
	    "total                    test         1        1\n");
	g_free(text);
	split_views_free(views, n);
	mirad_recordset_clear(&set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_header),
	    cmocka_unit_test(test_output_name),
	    cmocka_unit_test(test_write_per_split_files),
	    cmocka_unit_test(test_summary),
	};

	mirad_set_progname("test_split_output");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
