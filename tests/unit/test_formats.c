/* SPDX-License-Identifier: MIT */
/* Unit tests of the list writers (mirad_formats). */
#include "mirad_platform.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include "test_records.h"

#include "mirad_formats.h"

static struct mirad_record *
rec(const char *category, const char *split, const char *label,
    const char *defect, const char *image, const char *mask)
{
	return test_record(
	    "/data/visa", category, split, label, defect, image, mask);
}

/* Three records: a train normal, a val normal and a test anomaly. */
static void
fill(struct mirad_recordset *s)
{
	mirad_recordset_push(s,
	    rec("candle", "train", "normal", "good",
	        "candle/Data/Images/Normal/0000.JPG", NULL));
	mirad_recordset_push(s,
	    rec("candle", "val", "normal", "good",
	        "candle/Data/Images/Normal/0001.JPG", NULL));
	mirad_recordset_push(s,
	    rec("candle", "test", "anomaly", "bad",
	        "candle/Data/Images/Anomaly/000.JPG",
	        "candle/Data/Masks/Anomaly/000.png"));
}

/* Write with FMT into a string; returns the text (caller frees) or NULL
 * when the writer failed (reason in ERR). */
static char *
render(enum mirad_format fmt, const struct mirad_recordset *s,
    const char *split, const char *base, char *err, size_t errlen)
{
	struct mirad_format_options opts = {.base = base};
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int rc;

	assert_non_null(f);
	rc = mirad_format_write_split(f, fmt, s, split, &opts, err, errlen);
	fclose(f);
	if (rc != 0) {
		free(buf);
		return NULL;
	}
	return buf;
}

static void
test_names(void **state)
{
	enum mirad_format fmt;
	static const char *const all[] = {
	    "jsonl", "visa-csv", "tabular-csv", "uniad", "meta-json"};

	(void)state;
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(mirad_format_from_name(all[i], &fmt), 0);
		assert_string_equal(mirad_format_name(fmt), all[i]);
	}
	assert_int_equal(mirad_format_from_name("csv", &fmt), -1);
	assert_int_equal(mirad_format_from_name("VISA-CSV", &fmt), -1);
	assert_string_equal(
	    mirad_format_extension(MIRAD_FORMAT_VISA_CSV), ".csv");
	assert_string_equal(
	    mirad_format_extension(MIRAD_FORMAT_UNIAD), ".json");
	assert_true(mirad_format_one_split_per_file(MIRAD_FORMAT_UNIAD));
	assert_false(mirad_format_one_split_per_file(MIRAD_FORMAT_META_JSON));
}

static void
test_visa_csv(void **state)
{
	struct mirad_recordset s = {0};
	char err[256], *text;

	(void)state;
	fill(&s);
	text = render(MIRAD_FORMAT_VISA_CSV, &s, NULL, NULL, err, sizeof err);
	assert_non_null(text);
	assert_string_equal(text,
	    "object,split,label,image,mask\r\n"
	    "candle,train,normal,candle/Data/Images/Normal/0000.JPG,\r\n"
	    "candle,val,normal,candle/Data/Images/Normal/0001.JPG,\r\n"
	    "candle,test,anomaly,candle/Data/Images/Anomaly/000.JPG,"
	    "candle/Data/Masks/Anomaly/000.png\r\n");
	free(text);
	/* One split only. */
	text = render(MIRAD_FORMAT_VISA_CSV, &s, "test", NULL, err, sizeof err);
	assert_non_null(text);
	assert_string_equal(text,
	    "object,split,label,image,mask\r\n"
	    "candle,test,anomaly,candle/Data/Images/Anomaly/000.JPG,"
	    "candle/Data/Masks/Anomaly/000.png\r\n");
	free(text);
	mirad_recordset_clear(&s);
}

static void
test_tabular_csv(void **state)
{
	struct mirad_recordset s = {0};
	char err[256], *text;

	(void)state;
	fill(&s);
	text = render(
	    MIRAD_FORMAT_TABULAR_CSV, &s, NULL, "/data", err, sizeof err);
	assert_non_null(text);
	assert_string_equal(text,
	    "image_path,label,label_index,split,mask_path\n"
	    "visa/candle/Data/Images/Normal/0000.JPG,normal,0,train,\n"
	    "visa/candle/Data/Images/Normal/0001.JPG,normal_test,0,val,\n"
	    "visa/candle/Data/Images/Anomaly/000.JPG,abnormal,1,test,"
	    "visa/candle/Data/Masks/Anomaly/000.png\n");
	free(text);
	/* An anomaly in train cannot be expressed. */
	mirad_record_set(&s.items[2]->split, "train");
	text =
	    render(MIRAD_FORMAT_TABULAR_CSV, &s, NULL, NULL, err, sizeof err);
	assert_null(text);
	assert_non_null(strstr(err, "rejects anomalies in train"));
	/* The library names no option: the tool words its own advice. */
	assert_null(strstr(err, "--"));
	mirad_recordset_clear(&s);
}

static void
test_uniad(void **state)
{
	struct mirad_recordset s = {0};
	char err[256], *text;

	(void)state;
	fill(&s);
	/* Paths relative to a base outside the root get "..". */
	text = render(
	    MIRAD_FORMAT_UNIAD, &s, NULL, "/data/other/x", err, sizeof err);
	assert_non_null(text);
	assert_string_equal(text,
	    "{\"filename\":\"../../visa/candle/Data/Images/Normal/0000.JPG\","
	    "\"label\":0,\"label_name\":\"good\",\"clsname\":\"candle\"}\n"
	    "{\"filename\":\"../../visa/candle/Data/Images/Normal/0001.JPG\","
	    "\"label\":0,\"label_name\":\"good\",\"clsname\":\"candle\"}\n"
	    "{\"filename\":\"../../visa/candle/Data/Images/Anomaly/000.JPG\","
	    "\"label\":1,\"label_name\":\"defective\","
	    "\"maskname\":\"../../visa/candle/Data/Masks/Anomaly/000.png\","
	    "\"clsname\":\"candle\"}\n");
	free(text);
	text = render(MIRAD_FORMAT_UNIAD, &s, "train", NULL, err, sizeof err);
	assert_non_null(text);
	assert_string_equal(text,
	    "{\"filename\":\"candle/Data/Images/Normal/0000.JPG\","
	    "\"label\":0,\"label_name\":\"good\",\"clsname\":\"candle\"}\n");
	free(text);
	/* An anomaly without a mask gets no maskname (UniAD would invent a
	 * full mask from an empty one). */
	mirad_record_set(&s.items[2]->mask, NULL);
	text = render(MIRAD_FORMAT_UNIAD, &s, "test", NULL, err, sizeof err);
	assert_non_null(text);
	assert_null(strstr(text, "maskname"));
	free(text);
	mirad_recordset_clear(&s);
}

/* UniAD names each result {clsname}_{folder}_{stem}: after merging two
 * categories, test/good/000.png of each would share one result file.  The
 * list is refused; the same names in different splits are fine. */
static void
test_uniad_result_names_must_differ(void **state)
{
	struct mirad_recordset s = {0};
	char err[512], *text;

	(void)state;
	mirad_recordset_push(&s,
	    rec("all", "test", "normal", "good", "bottle/test/good/000.png",
	        NULL));
	mirad_recordset_push(&s,
	    rec("all", "train", "normal", "good", "cable/test/good/000.png",
	        NULL));
	mirad_recordset_push(&s,
	    rec("all", "test", "normal", "good", "cable/test/good/000.jpg.png",
	        NULL));
	assert_int_equal(
	    mirad_format_check(MIRAD_FORMAT_UNIAD, &s, NULL, err, sizeof err),
	    0);
	mirad_recordset_push(&s,
	    rec("all", "test", "normal", "good", "cable/test/good/000.png",
	        NULL));
	assert_int_equal(
	    mirad_format_check(MIRAD_FORMAT_UNIAD, &s, NULL, err, sizeof err),
	    MIRAD_FORMAT_NAME_CLASH);
	assert_string_equal(err,
	    "bottle/test/good/000.png and cable/test/good/000.png would share "
	    "UniAD's result file all_good_000 "
	    "(named {clsname}_{folder}_{stem})");
	/* The library names no tool: the way out is the front end's. */
	assert_null(strstr(err, "mirad-convert"));
	/* Other formats have no such names. */
	assert_int_equal(
	    mirad_format_check(MIRAD_FORMAT_JSONL, &s, NULL, err, sizeof err),
	    0);
	/* The writer refuses the list too, before writing a line. */
	text = render(MIRAD_FORMAT_UNIAD, &s, "test", NULL, err, sizeof err);
	assert_null(text);
	assert_non_null(strstr(err, "all_good_000"));
	mirad_recordset_clear(&s);
}

static void
test_meta_json(void **state)
{
	struct mirad_recordset s = {0};
	char err[256], *text;

	(void)state;
	fill(&s);
	mirad_recordset_push(&s,
	    rec("pcb1", "test", "normal", "good",
	        "pcb1/Data/Images/Normal/0000.JPG", NULL));
	text = render(
	    MIRAD_FORMAT_META_JSON, &s, NULL, "/data/visa", err, sizeof err);
	assert_non_null(text);
	assert_string_equal(text,
	    "{\"train\":{\"candle\":[{\"img_path\":"
	    "\"candle/Data/Images/Normal/0000.JPG\",\"mask_path\":\"\","
	    "\"cls_name\":\"candle\",\"specie_name\":\"good\","
	    "\"anomaly\":0}]},"
	    "\"test\":{\"candle\":[{\"img_path\":"
	    "\"candle/Data/Images/Anomaly/000.JPG\",\"mask_path\":"
	    "\"candle/Data/Masks/Anomaly/000.png\",\"cls_name\":\"candle\","
	    "\"specie_name\":\"bad\",\"anomaly\":1}],"
	    "\"pcb1\":[{\"img_path\":\"pcb1/Data/Images/Normal/0000.JPG\","
	    "\"mask_path\":\"\",\"cls_name\":\"pcb1\",\"specie_name\":"
	    "\"good\",\"anomaly\":0}]},"
	    "\"val\":{\"candle\":[{\"img_path\":"
	    "\"candle/Data/Images/Normal/0001.JPG\",\"mask_path\":\"\","
	    "\"cls_name\":\"candle\",\"specie_name\":\"good\","
	    "\"anomaly\":0}]}}\n");
	free(text);
	/* Empty input still has both keys the readers index. */
	mirad_recordset_clear(&s);
	text = render(MIRAD_FORMAT_META_JSON, &s, NULL, NULL, err, sizeof err);
	assert_non_null(text);
	assert_string_equal(text, "{\"train\":{},\"test\":{}}\n");
	free(text);
}

static void
test_jsonl(void **state)
{
	struct mirad_recordset s = {0};
	char err[256], *text;

	(void)state;
	fill(&s);
	text = render(MIRAD_FORMAT_JSONL, &s, "val", NULL, err, sizeof err);
	assert_non_null(text);
	assert_string_equal(text,
	    "{\"category\":\"candle\",\"split\":\"val\",\"label\":\"normal\","
	    "\"defect\":\"good\",\"image\":"
	    "\"candle/Data/Images/Normal/0001.JPG\",\"mask\":null,"
	    "\"root\":\"/data/visa\"}\n");
	free(text);
	/* The three-argument API writes everything. */
	{
		char *buf = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&buf, &len);

		assert_int_equal(mirad_format_write(f, MIRAD_FORMAT_JSONL, &s,
		                     NULL, err, sizeof err),
		    0);
		fclose(f);
		assert_int_equal(
		    (int)(strchr(buf, '\n') - buf) > 0 && len > 0, 1);
		{
			int lines = 0;

			for (char *p = buf; *p; p++)
				lines += *p == '\n';
			assert_int_equal(lines, 3);
		}
		free(buf);
	}
	mirad_recordset_clear(&s);
}

static void
test_write_error(void **state)
{
	struct mirad_recordset s = {0};
	char err[256] = "";
	FILE *f = fopen("/dev/full", "w");

	(void)state;
	if (f == NULL)
		skip();
	fill(&s);
	setvbuf(f, NULL, _IONBF, 0);
	assert_int_equal(mirad_format_write(f, MIRAD_FORMAT_VISA_CSV, &s, NULL,
	                     err, sizeof err),
	    -1);
	assert_true(err[0] != '\0');
	fclose(f);
	mirad_recordset_clear(&s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_names),
	    cmocka_unit_test(test_visa_csv),
	    cmocka_unit_test(test_tabular_csv),
	    cmocka_unit_test(test_uniad),
	    cmocka_unit_test(test_uniad_result_names_must_differ),
	    cmocka_unit_test(test_meta_json),
	    cmocka_unit_test(test_jsonl),
	    cmocka_unit_test(test_write_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
