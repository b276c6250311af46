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

static void
test_csv_read_map_by_header(void **state)
{
	char *dir = test_tmpdir();
	char *path = mirad_path_join(dir, "nodes.csv");
	char err[256];
	GHashTable *map;

	(void)state;
	/* Columns in any order, among others, found by their names. */
	test_write(dir, "nodes.csv",
	    "node,extra,image\n3,x,a/0.png\n\n4,y,a/1.png\n5,z,a/0.png\n");
	map = mirad_csv_read_map(path, "image", "node", err, sizeof err);
	assert_non_null(map);
	assert_int_equal(g_hash_table_size(map), 2);
	assert_string_equal(g_hash_table_lookup(map, "a/0.png"), "5");
	assert_string_equal(g_hash_table_lookup(map, "a/1.png"), "4");
	g_hash_table_destroy(map);

	test_write(dir, "nodes.csv", "a/0.png,3\n");
	assert_null(mirad_csv_read_map(path, "image", "node", err, sizeof err));
	assert_non_null(strstr(err, "header has no \"image\" column"));
	test_write(dir, "nodes.csv", "image,node\na/0.png\n");
	assert_null(mirad_csv_read_map(path, "image", "node", err, sizeof err));
	assert_non_null(strstr(err, "nodes.csv:2: expected image,node"));
	test_write(dir, "nodes.csv", "");
	assert_null(mirad_csv_read_map(path, "image", "node", err, sizeof err));
	assert_non_null(strstr(err, "empty file"));
	mirad_rm_rf(dir);
	free(path);
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_csv_crlf_and_empty_fields),
	    cmocka_unit_test(test_csv_quotes),
	    cmocka_unit_test(test_csv_unterminated_quote_is_an_error),
	    cmocka_unit_test(test_csv_write_round_trip),
	    cmocka_unit_test(test_csv_read_map_by_header),
	};
	return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
