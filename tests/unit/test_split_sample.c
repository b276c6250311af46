/* SPDX-License-Identifier: MIT */
/* Unit tests of mirad-split's protocol module (src/split_sample.c). */
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

#include "split_sample.h"

static struct mirad_record *
rec(const char *category, const char *split, const char *label,
    const char *defect, const char *image)
{
	return test_record("/d", category, split, label, defect, image, NULL);
}

/* CATS categories with N normal train images each ("c0/train/007.png"). */
static void
fill_train(struct mirad_recordset *s, int cats, int n)
{
	for (int c = 0; c < cats; c++) {
		for (int i = 0; i < n; i++) {
			char cat[16], img[64];

			snprintf(cat, sizeof cat, "c%d", c);
			snprintf(img, sizeof img, "c%d/train/%03d.png", c, i);
			mirad_recordset_push(
			    s, rec(cat, "train", "normal", "good", img));
		}
	}
}

static size_t
count(const struct mirad_recordset *s, const char *split, const char *label)
{
	size_t n = 0;

	for (size_t i = 0; i < s->count; i++)
		n += strcmp(s->items[i]->split, split) == 0 &&
		    (label == NULL || strcmp(s->items[i]->label, label) == 0);
	return n;
}

static void
test_key(void **state)
{
	(void)state;
	/* SHA-256("0:cat/train/good/000.png"), first 8 bytes. */
	assert_true(split_key(0, NULL, "cat/train/good/000.png") ==
	    0xf0f8f1ebe25c6c22ULL);
	assert_true(split_key(5, "val", "x.png") == 0x45ad3ad3d3f932ddULL);
	assert_true(split_key(1, NULL, "x.png") != split_key(2, NULL, "x.png"));
}

static void
test_amount(void **state)
{
	struct split_amount a;

	(void)state;
	assert_int_equal(split_parse_amount("0.1", &a), 0);
	assert_true(a.is_fraction);
	assert_int_equal(split_amount_of(&a, 25), 3); /* 2.5 rounds up */
	assert_int_equal(split_amount_of(&a, 24), 2);
	assert_int_equal(split_amount_of(&a, 3), 1); /* at least one */
	assert_int_equal(split_amount_of(&a, 0), 0);
	assert_int_equal(split_parse_amount("7", &a), 0);
	assert_false(a.is_fraction);
	assert_int_equal(split_amount_of(&a, 100), 7);
	assert_int_equal(split_parse_amount("1.0", &a), -1);
	assert_int_equal(split_parse_amount("0.0", &a), -1);
	assert_int_equal(split_parse_amount("-3", &a), -1);
	assert_int_equal(split_parse_amount("abc", &a), -1);
	assert_int_equal(split_parse_amount("", &a), -1);
}

/* The image paths of the train records of VIEW (borrowed). */
static GPtrArray *
train_images(const struct mirad_recordset *view)
{
	GPtrArray *a = g_ptr_array_new();

	for (size_t i = 0; i < view->count; i++)
		if (strcmp(view->items[i]->split, "train") == 0)
			g_ptr_array_add(a, view->items[i]->image);
	return a;
}

static bool
contains(GPtrArray *a, const char *s)
{
	for (guint i = 0; i < a->len; i++)
		if (strcmp(g_ptr_array_index(a, i), s) == 0)
			return true;
	return false;
}

static void
test_shots_nested(void **state)
{
	struct mirad_recordset s = {0}, v[3];
	static const size_t ks[] = {1, 4, 16};
	char err[256];

	(void)state;
	fill_train(&s, 3, 20);
	mirad_recordset_push(
	    &s, rec("c0", "test", "anomaly", "bad", "c0/test/000.png"));
	for (int i = 0; i < 3; i++) {
		assert_int_equal(
		    split_shots(&s, 9, ks[i], &v[i], err, sizeof err), 0);
		assert_int_equal(count(&v[i], "train", NULL), 3 * ks[i]);
		assert_int_equal(count(&v[i], "test", NULL), 1);
	}
	for (int i = 0; i < 2; i++) {
		GPtrArray *small = train_images(&v[i]);
		GPtrArray *big = train_images(&v[i + 1]);

		for (guint j = 0; j < small->len; j++)
			assert_true(contains(big, g_ptr_array_index(small, j)));
		g_ptr_array_free(small, TRUE);
		g_ptr_array_free(big, TRUE);
	}
	for (int i = 0; i < 3; i++)
		mirad_recordset_clear(&v[i]);
	/* Too many. */
	assert_int_equal(split_shots(&s, 9, 21, &v[0], err, sizeof err), -1);
	assert_string_equal(
	    err, "--shots 21: category c0 has only 20 normal training images");
	mirad_recordset_clear(&s);
}

static void
test_shots_stable(void **state)
{
	struct mirad_recordset a = {0}, b = {0}, va, vb;
	char err[256];

	(void)state;
	fill_train(&a, 2, 30);
	fill_train(&b, 2, 30);
	/* One more image in category c1 of B. */
	mirad_recordset_push(
	    &b, rec("c1", "train", "normal", "good", "c1/train/zzz.png"));
	assert_int_equal(split_shots(&a, 4, 5, &va, err, sizeof err), 0);
	assert_int_equal(split_shots(&b, 4, 5, &vb, err, sizeof err), 0);
	for (size_t i = 0, j = 0; i < va.count; i++) {
		if (strcmp(va.items[i]->category, "c0") != 0)
			continue;
		while (strcmp(vb.items[j]->category, "c0") != 0)
			j++;
		assert_string_equal(va.items[i]->image, vb.items[j]->image);
		j++;
	}
	mirad_recordset_clear(&va);
	mirad_recordset_clear(&vb);
	mirad_recordset_clear(&a);
	mirad_recordset_clear(&b);
}

static void
test_val_and_anomalies(void **state)
{
	struct mirad_recordset s = {0};
	struct split_amount a;
	char err[256];

	(void)state;
	fill_train(&s, 2, 10);
	/* c0: 7 scratches and 3 cracks in test. */
	for (int i = 0; i < 10; i++) {
		char img[32];

		snprintf(img, sizeof img, "c0/test/%02d.png", i);
		mirad_recordset_push(&s,
		    rec("c0", "test", "anomaly", i < 7 ? "scratch" : "crack",
		        img));
	}
	split_parse_amount("0.25", &a);
	assert_int_equal(split_val(&s, 1, &a, err, sizeof err), 0);
	assert_int_equal(count(&s, "val", "normal"), 6); /* 2.5 -> 3 each */
	/* 4 of 10 anomalies, stratified: 2.8 and 1.2 -> 3 and 1. */
	split_parse_amount("4", &a);
	assert_int_equal(
	    split_train_anomalies(&s, 1, &a, true, err, sizeof err), 0);
	{
		size_t scratch = 0, crack = 0;

		for (size_t i = 0; i < s.count; i++) {
			const struct mirad_record *r = s.items[i];

			if (strcmp(r->split, "train") != 0 ||
			    !mirad_record_is_anomaly(r))
				continue;
			scratch += strcmp(r->defect, "scratch") == 0;
			crack += strcmp(r->defect, "crack") == 0;
		}
		assert_int_equal(scratch, 3);
		assert_int_equal(crack, 1);
	}
	/* c1 has no anomalies: nothing to do there; c0 has 6 left. */
	split_parse_amount("6", &a);
	assert_int_equal(
	    split_train_anomalies(&s, 1, &a, false, err, sizeof err), -1);
	assert_non_null(strstr(err, "category c0 has 6 anomalies in test"));
	/* Val taking every training image is refused. */
	split_parse_amount("7", &a);
	assert_int_equal(split_val(&s, 1, &a, err, sizeof err), -1);
	assert_non_null(strstr(err, "category c0 has 7 normal training"));
	mirad_recordset_clear(&s);
}

static void
test_folds(void **state)
{
	struct mirad_recordset s = {0};
	char err[256];
	int seen[13] = {0};

	(void)state;
	for (int i = 0; i < 13; i++) {
		char img[32];

		snprintf(img, sizeof img, "c0/test/%02d.png", i);
		mirad_recordset_push(&s,
		    rec("c0", "test", i < 5 ? "anomaly" : "normal",
		        i < 5 ? "bad" : "good", img));
	}
	for (unsigned f = 0; f < 3; f++) {
		size_t nval = 0;

		assert_int_equal(
		    split_folds(&s, 2, 3, f, false, err, sizeof err), 0);
		for (int i = 0; i < 13; i++) {
			if (strcmp(s.items[i]->split, "val") == 0) {
				seen[i]++;
				nval++;
				mirad_record_set(&s.items[i]->split, "test");
			}
		}
		assert_true(nval == 4 || nval == 5);
	}
	for (int i = 0; i < 13; i++)
		assert_int_equal(seen[i], 1);
	assert_int_equal(split_folds(&s, 2, 14, 0, false, err, sizeof err), -1);
	mirad_recordset_clear(&s);
}

static void
test_by_field_and_merge(void **state)
{
	struct mirad_recordset s = {0};
	struct mirad_strlist values = {0};
	size_t dropped;
	char err[256], *text;

	(void)state;
	fill_train(&s, 1, 4);
	mirad_recordset_push(
	    &s, rec("c0", "test", "anomaly", "bad", "c0/test/a.png"));
	mirad_recordset_push(
	    &s, rec("c0", "test", "anomaly", "bad", "c0/test/b.png"));
	for (size_t i = 0; i < s.count; i++)
		mirad_record_put_number(
		    s.items[i], "node", (double)(i % 2 + 1));
	text = split_field_text(s.items[0], "node");
	assert_string_equal(text, "1");
	free(text);
	assert_null(split_field_text(s.items[0], "nothing"));
	mirad_strlist_split("1", &values);
	assert_int_equal(
	    split_by_field(&s, "node", &values, &dropped, err, sizeof err), 0);
	/* Normal node 1 -> train (2), normal node 2 -> test (2), anomaly on
	 * node 1 dropped, anomaly on node 2 -> test. */
	assert_int_equal(dropped, 1);
	assert_int_equal(s.count, 5);
	assert_int_equal(count(&s, "train", NULL), 2);
	assert_int_equal(count(&s, "test", "anomaly"), 1);
	mirad_strlist_free(&values);
	mirad_strlist_split("7", &values);
	assert_int_equal(
	    split_by_field(&s, "node", &values, &dropped, err, sizeof err), -1);
	assert_string_equal(err, "no record has node=7 (values: 1, 2)");
	mirad_strlist_free(&values);

	assert_int_equal(split_merge(&s, "all", err, sizeof err), 0);
	assert_string_equal(s.items[0]->category, "all");
	assert_string_equal(
	    mirad_record_get_string(s.items[0], "source_category"), "c0");
	mirad_recordset_push(
	    &s, rec("c9", "test", "anomaly", "bad", "c0/test/b.png"));
	assert_int_equal(split_merge(&s, "all", err, sizeof err), -1);
	mirad_recordset_clear(&s);
}

static void
test_categories(void **state)
{
	struct mirad_recordset s = {0};
	struct mirad_strlist names = {0};
	char err[256];

	(void)state;
	fill_train(&s, 3, 2);
	mirad_strlist_split("c2,c0", &names);
	assert_int_equal(split_keep_categories(&s, &names, err, sizeof err), 0);
	assert_int_equal(s.count, 4);
	mirad_strlist_free(&names);
	mirad_strlist_split("c1", &names);
	assert_int_equal(
	    split_keep_categories(&s, &names, err, sizeof err), -1);
	assert_string_equal(err, "unknown category 'c1' (available: c0, c2)");
	mirad_strlist_free(&names);
	mirad_recordset_clear(&s);
}

static void
test_split_csv_and_nodes(void **state)
{
	struct mirad_recordset s = {0};
	char path[] = "/tmp/test_split_sample.XXXXXX";
	char err[256];
	size_t n;
	int fd = mkstemp(path);
	FILE *f;

	(void)state;
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	fputs("object,split,label,image,mask\r\n"
	      "c0,test,normal,c0/train/001.png,\r\n"
	      "c0,train,normal,c0/train/002.png,\r\n"
	      "c0,train,normal,c0/train/000.png,\r\n",
	    f);
	fclose(f);
	fill_train(&s, 1, 4);
	assert_int_equal(
	    split_apply_split_csv(&s, path, &n, err, sizeof err), 0);
	assert_int_equal(n, 1); /* 003.png is not listed */
	assert_int_equal(s.count, 3);
	assert_string_equal(s.items[0]->image, "c0/train/001.png");
	assert_string_equal(s.items[0]->split, "test");
	assert_string_equal(s.items[1]->image, "c0/train/002.png");
	assert_string_equal(s.items[2]->image, "c0/train/000.png");

	f = fopen(path, "w");
	fputs("image,node\nc0/train/001.png,3\nc0/train/002.png,east\n", f);
	fclose(f);
	assert_int_equal(split_attach_nodes(&s, path, &n, err, sizeof err), 0);
	assert_int_equal(n, 1);
	{
		double v;

		assert_true(mirad_record_get_number(s.items[0], "node", &v));
		assert_true(v == 3);
		assert_string_equal(
		    mirad_record_get_string(s.items[1], "node"), "east");
	}
	f = fopen(path, "w");
	fputs("picture,node\n", f);
	fclose(f);
	assert_int_equal(split_attach_nodes(&s, path, &n, err, sizeof err), -1);
	assert_non_null(strstr(err, "header has no \"image\" column"));
	unlink(path);
	mirad_recordset_clear(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_key),
	    cmocka_unit_test(test_amount),
	    cmocka_unit_test(test_shots_nested),
	    cmocka_unit_test(test_shots_stable),
	    cmocka_unit_test(test_val_and_anomalies),
	    cmocka_unit_test(test_folds),
	    cmocka_unit_test(test_by_field_and_merge),
	    cmocka_unit_test(test_categories),
	    cmocka_unit_test(test_split_csv_and_nodes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
