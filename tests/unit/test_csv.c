/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include "test_util.h"

#include "mirad_csv.h"

static struct mirad_csv *
csv_of(const char *text, FILE **f)
{
	*f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(*f);
	return mirad_csv_from_stream(*f, "mem.csv");
}

static void
test_csv_crlf_and_empty_fields(void **state)
{
	struct mirad_strlist row = {0};
	FILE *f;
	struct mirad_csv *c = csv_of("object,split,label,image,mask\r\n"
	                             "candle,train,normal,a/0.JPG,\r\n",
	    &f);

	(void)state;
	assert_int_equal(mirad_csv_next(c, &row), 1);
	assert_int_equal(row.count, 5);
	assert_int_equal(mirad_csv_column(&row, "image"), 3);
	assert_int_equal(mirad_csv_next(c, &row), 1);
	assert_int_equal(row.count, 5);
	assert_string_equal(row.items[0], "candle");
	assert_string_equal(row.items[4], "");
	assert_int_equal(mirad_csv_line(c), 2);
	assert_true(mirad_csv_crlf(c));
	assert_int_equal(mirad_csv_next(c, &row), 0);
	mirad_strlist_free(&row);
	mirad_csv_close(c);
	fclose(f);
}

static void
test_csv_quotes(void **state)
{
	struct mirad_strlist row = {0};
	FILE *f;
	struct mirad_csv *c = csv_of("x,\"melt, scratch\",\"say \"\"hi\"\"\"\n"
	                             "\"two\nlines\",b\n",
	    &f);

	(void)state;
	assert_int_equal(mirad_csv_next(c, &row), 1);
	assert_int_equal(row.count, 3);
	assert_string_equal(row.items[1], "melt, scratch");
	assert_string_equal(row.items[2], "say \"hi\"");
	assert_int_equal(mirad_csv_next(c, &row), 1);
	assert_string_equal(row.items[0], "two\nlines");
	assert_false(mirad_csv_crlf(c));
	mirad_strlist_free(&row);
	mirad_csv_close(c);
	fclose(f);
}

static void
test_csv_unterminated_quote_is_an_error(void **state)
{
	struct mirad_strlist row = {0};
	FILE *f;
	struct mirad_csv *c = csv_of("a,\"open\n", &f);

	(void)state;
	assert_int_equal(mirad_csv_next(c, &row), -1);
	assert_non_null(strstr(mirad_csv_error(c), "mem.csv:1: unterminated"));
	mirad_strlist_free(&row);
	mirad_csv_close(c);
	fclose(f);
}

static void
test_csv_write_round_trip(void **state)
{
	const char *fields[] = {"a", "b,c", "d\"e", ""};
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);

	(void)state;
	assert_int_equal(mirad_csv_write_row(out, fields, 4, true), 0);
	fclose(out);
	assert_string_equal(buf, "a,\"b,c\",\"d\"\"e\",\r\n");
	free(buf);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csv_crlf_and_empty_fields),
	    cmocka_unit_test(test_csv_quotes),
	    cmocka_unit_test(test_csv_unterminated_quote_is_an_error),
	    cmocka_unit_test(test_csv_write_round_trip),
	};
	return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
