/* SPDX-License-Identifier: MIT */
/* Unit tests of mirad-stats' partial files (src/stats_shards.c): the
 * shards of one job written and merged back into every entry. */
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
#include "stats_shards.h"

static struct mirad_record *
rec(const char *category, const char *split, const char *label,
    const char *image)
{
	return test_record("/d", category, split, label,
	    strcmp(label, "normal") ? "crack" : "good", image, NULL);
}

/* Shard I of N of the records of SET, as --partial --shard I/N writes it
 * (with --geometry and --by split), into PATH. */
static void
write_shard(
    const struct mirad_recordset *set, unsigned i, unsigned n, const char *path)
{
	struct stats s = {0};
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	s.input = "-";
	s.partial = true;
	s.geometry = true;
	s.by = STATS_BY_SPLIT;
	s.shard_index = i;
	s.shard_count = n;
	stats_build_entries(&s, set);
	stats_print_partial(&s, f);
	assert_int_equal(fclose(f), 0);
	stats_run_free(&s);
}

static void
test_partial_document(void **state)
{
	struct mirad_recordset set = {0};
	char path[] = "/tmp/test_stats_partial_XXXXXX";
	int fd = mkstemp(path);
	gchar *text = NULL;
	cJSON *doc;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	mirad_recordset_push(&set, rec("a", "train", "normal", "a/0.png"));
	mirad_recordset_push(&set, rec("a", "test", "anomaly", "a/1.png"));
	write_shard(&set, 1, 2, path);
	assert_true(g_file_get_contents(path, &text, NULL, NULL));
	unlink(path);
	/* One line: the shard, the job and the options the merge takes. */
	assert_non_null(strchr(text, '\n'));
	assert_int_equal(strchr(text, '\n')[1], '\0');
	doc = cJSON_Parse(text);
	assert_non_null(doc);
	assert_int_equal(
	    cJSON_GetObjectItemCaseSensitive(doc, "shard")->valueint, 1);
	assert_int_equal(
	    cJSON_GetObjectItemCaseSensitive(doc, "shards")->valueint, 2);
	assert_int_equal(
	    strlen(cJSON_GetObjectItemCaseSensitive(doc, "job")->valuestring),
	    64);
	assert_string_equal(
	    cJSON_GetObjectItemCaseSensitive(
	        cJSON_GetObjectItemCaseSensitive(doc, "options"), "by")
	        ->valuestring,
	    "split");
	cJSON_Delete(doc);
	g_free(text);
	mirad_recordset_clear(&set);
}

static void
test_merge_every_shard(void **state)
{
	struct mirad_recordset set = {0};
	char p0[] = "/tmp/test_stats_p0_XXXXXX",
	     p1[] = "/tmp/test_stats_p1_XXXXXX",
	     p2[] = "/tmp/test_stats_p2_XXXXXX";
	char *inputs[3] = {p2, p0, p1};
	struct stats m = {0};

	(void)state;
	close(mkstemp(p0));
	close(mkstemp(p1));
	close(mkstemp(p2));
	for (int i = 0; i < 7; i++) {
		char img[32];

		snprintf(img, sizeof img, "c/%d.png", i);
		mirad_recordset_push(&set,
		    rec(i < 4 ? "c" : "d", i % 2 ? "test" : "train",
		        i == 5 ? "anomaly" : "normal", img));
	}
	write_shard(&set, 0, 3, p0);
	write_shard(&set, 1, 3, p1);
	write_shard(&set, 2, 3, p2);
	/* In any order; the options come from the partials. */
	m.merge = true;
	m.inputs = inputs;
	m.ninputs = 3;
	stats_merge_inputs(&m);
	unlink(p0);
	unlink(p1);
	unlink(p2);
	assert_int_equal(m.entries.count, 7);
	assert_true(m.geometry);
	assert_false(m.imaging);
	assert_int_equal(m.by, STATS_BY_SPLIT);
	stats_entries_sort(&m.entries);
	for (int i = 0; i < 7; i++) {
		char img[32];

		snprintf(img, sizeof img, "c/%d.png", i);
		assert_string_equal(m.entries.items[i].image, img);
	}
	assert_string_equal(m.entries.items[5].label, "anomaly");
	stats_run_free(&m);
	mirad_recordset_clear(&set);
}

static void
test_merge_keeps_given_by(void **state)
{
	struct mirad_recordset set = {0};
	char p0[] = "/tmp/test_stats_p0_XXXXXX";
	char *inputs[1] = {p0};
	struct stats m = {0};

	(void)state;
	close(mkstemp(p0));
	mirad_recordset_push(&set, rec("a", "train", "normal", "a/0.png"));
	write_shard(&set, 0, 1, p0);
	/* --by given to --merge wins over the partials' grouping. */
	m.merge = true;
	m.by = STATS_BY_DEFECT;
	m.by_given = true;
	m.inputs = inputs;
	m.ninputs = 1;
	stats_merge_inputs(&m);
	unlink(p0);
	assert_int_equal(m.by, STATS_BY_DEFECT);
	assert_int_equal(m.entries.count, 1);
	stats_run_free(&m);
	mirad_recordset_clear(&set);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_partial_document),
	    cmocka_unit_test(test_merge_every_shard),
	    cmocka_unit_test(test_merge_keeps_given_by),
	};

	mirad_set_progname("test_stats_shards");
	return cmocka_run_group_tests(tests, NULL, NULL);
}
