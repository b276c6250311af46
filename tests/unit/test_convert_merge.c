/* SPDX-License-Identifier: MIT */
/* Unit tests of mirad-convert --merge: the job's options read back from a
 * shard's header data. */
#include "mirad_platform.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "convert_merge.h"

static int
options_of(const char *json, struct convert *c)
{
	cJSON *d = cJSON_Parse(json);
	int rc;

	assert_non_null(d);
	memset(c, 0, sizeof *c);
	rc = convert_merge_options(c, d);
	/* The strings are D's: compare them before freeing it. */
	if (rc == 0 && c->mapping != NULL)
		assert_string_equal(c->mapping, "/m.csv");
	if (rc == 0) {
		assert_string_equal(c->split_type, "1cls");
		assert_string_equal(c->input, "/in");
	}
	cJSON_Delete(d);
	return rc;
}

static void
test_options_read_back(void **state)
{
	struct convert c;

	(void)state;
	assert_int_equal(options_of("{\"target\":\"mvtec\",\"split_type\":"
	                            "\"1cls\",\"input\":\"/in\",\"emit\":"
	                            "[\"jsonl\",\"uniad\"],\"mapping\":"
	                            "\"/m.csv\"}",
	                     &c),
	    0);
	assert_int_equal(c.plan.target, CONVERT_TO_MVTEC);
	assert_true(c.any_emit);
	assert_true(c.emit[MIRAD_FORMAT_JSONL]);
	assert_true(c.emit[MIRAD_FORMAT_UNIAD]);
	assert_false(c.emit[MIRAD_FORMAT_VISA_CSV]);

	/* --emit alone: no tree. */
	assert_int_equal(options_of("{\"target\":\"none\",\"split_type\":"
	                            "\"1cls\",\"input\":\"/in\",\"emit\":"
	                            "[\"meta-json\"]}",
	                     &c),
	    0);
	assert_int_equal(c.plan.target, CONVERT_TO_NONE);
	assert_null(c.mapping);
	assert_true(c.emit[MIRAD_FORMAT_META_JSON]);
}

static void
test_options_malformed(void **state)
{
	struct convert c;

	(void)state;
	/* No emit array, an unknown target, an unknown format, a missing
	 * input. */
	assert_int_equal(options_of("{\"target\":\"mvtec\",\"split_type\":"
	                            "\"1cls\",\"input\":\"/in\"}",
	                     &c),
	    -1);
	assert_int_equal(options_of("{\"target\":\"coco\",\"split_type\":"
	                            "\"1cls\",\"input\":\"/in\",\"emit\":[]}",
	                     &c),
	    -1);
	assert_int_equal(options_of("{\"target\":\"mvtec\",\"split_type\":"
	                            "\"1cls\",\"input\":\"/in\",\"emit\":"
	                            "[\"coco\"]}",
	                     &c),
	    -1);
	assert_int_equal(options_of("{\"target\":\"mvtec\",\"split_type\":"
	                            "\"1cls\",\"emit\":[]}",
	                     &c),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_options_read_back),
	    cmocka_unit_test(test_options_malformed),
	};

	return cmocka_run_group_tests_name("convert_merge", tests, NULL, NULL);
}
