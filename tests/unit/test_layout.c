/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include "test_util.h"

#include "mirad_image.h"
#include "mirad_layout.h"

/* Problems seen by the callback, one "where|why" line each. */
static char problems[8192];

static void
collect(void *ctx, const char *where, const char *why)
{
	const char *root = ctx;
	size_t n = strlen(root);

	/* Keep paths relative to the tree so assertions are stable. */
	if (strncmp(where, root, n) == 0 && where[n] == '/')
		where += n + 1;
	strncat(problems, where, sizeof problems - strlen(problems) - 1);
	strncat(problems, "|", sizeof problems - strlen(problems) - 1);
	strncat(problems, why, sizeof problems - strlen(problems) - 1);
	strncat(problems, "\n", sizeof problems - strlen(problems) - 1);
}

/* A W x H single-colour image at DIR/REL. */
static void
image_at(const char *dir, const char *rel, int w, int h)
{
	char *path = mirad_path_join(dir, rel);
	char *parent = mirad_path_dirname(path);
	VipsImage *im;
	char err[256];

	assert_int_equal(mirad_mkdir_p(parent), 0);
	assert_int_equal(vips_black(&im, w, h, NULL), 0);
	assert_int_equal(mirad_image_save(im, path, 0, err, sizeof err), 0);
	g_object_unref(im);
	free(parent);
	free(path);
}

static int
scan(const char *root, enum mirad_layout layout, struct mirad_recordset *out,
    struct mirad_scan_stats *st)
{
	struct mirad_scan_options o = {.layout = layout,
	    .read_sizes = true,
	    .problem = collect,
	    .problem_ctx = (void *)root};
	char err[512];

	problems[0] = '\0';
	return mirad_layout_scan(root, &o, out, st, err, sizeof err);
}

/* The same, leaving out the records whose image or mask was reported. */
static int
scan_dropping(
    const char *root, struct mirad_recordset *out, struct mirad_scan_stats *st)
{
	struct mirad_scan_options o = {.read_sizes = true,
	    .drop_reported = true,
	    .problem = collect,
	    .problem_ctx = (void *)root};
	char err[512];

	problems[0] = '\0';
	return mirad_layout_scan(root, &o, out, st, err, sizeof err);
}

static const struct mirad_record *
find(const struct mirad_recordset *s, const char *image)
{
	for (size_t i = 0; i < s->count; i++)
		if (strcmp(s->items[i]->image, image) == 0)
			return s->items[i];
	return NULL;
}

static void
test_layout_mirad_masks_matched_by_name(void **state)
{
	char *d = test_tmpdir();
	struct mirad_recordset s = {0};
	struct mirad_scan_stats st;
	const struct mirad_record *r;

	(void)state;
	image_at(d, "cat/train/good/000.png", 8, 8);
	image_at(d, "cat/train/good/001.PNG", 8, 8);
	image_at(d, "cat/test/good/000.png", 8, 8);
	/* Sorted names would pair a<->b wrongly: pairing must be by stem. */
	image_at(d, "cat/test/anomaly/a.png", 8, 8);
	image_at(d, "cat/test/anomaly/b.jpg", 8, 8);
	image_at(d, "cat/ground_truth/anomaly/b_mask.png", 8, 8);
	image_at(d, "cat/ground_truth/anomaly/a.png", 8, 8);
	test_write(d, "cat/test/good/.DS_Store", "x");
	test_write(d, "cat/train/good/Thumbs.db", "x");
	test_write(d, "cat/train/good/notes.txt", "x");
	test_write(d, "readme.txt", "x");

	assert_int_equal(mirad_layout_detect(d), MIRAD_LAYOUT_MIRAD);
	assert_int_equal(scan(d, MIRAD_LAYOUT_AUTO, &s, &st), 0);
	assert_int_equal(st.layout, MIRAD_LAYOUT_MIRAD);
	assert_int_equal(s.count, 5);
	assert_int_equal(st.ignored, 4);
	assert_int_equal(st.problems, 0);
	assert_string_equal(problems, "");
	r = find(&s, "cat/test/anomaly/a.png");
	assert_non_null(r);
	assert_string_equal(r->mask, "cat/ground_truth/anomaly/a.png");
	assert_string_equal(r->label, "anomaly");
	assert_string_equal(r->defect, "anomaly");
	r = find(&s, "cat/test/anomaly/b.jpg");
	assert_string_equal(r->mask, "cat/ground_truth/anomaly/b_mask.png");
	r = find(&s, "cat/train/good/001.PNG");
	assert_non_null(r);
	assert_int_equal(r->width, 8);
	assert_int_equal(r->channels, 1);
	assert_null(r->mask);
	/* Sorted: test before train, anomaly before good. */
	assert_string_equal(s.items[0]->image, "cat/test/anomaly/a.png");
	mirad_recordset_clear(&s);
	mirad_rm_rf(d);
	free(d);
}

static void
test_layout_problems_reported_precisely(void **state)
{
	char *d = test_tmpdir();
	struct mirad_recordset s = {0};
	struct mirad_scan_stats st;

	(void)state;
	image_at(d, "cat/train/good/000.png", 8, 8);
	image_at(d, "cat/train/crack/000.png", 8, 8);
	image_at(d, "cat/test/crack/000.png", 8, 8);
	image_at(d, "cat/test/crack/001.png", 8, 8);
	image_at(d, "cat/ground_truth/crack/001_mask.png", 4, 8);
	image_at(d, "cat/ground_truth/crack/007_mask.png", 8, 8);
	image_at(d, "cat/extra/000.png", 8, 8);

	assert_int_equal(scan(d, MIRAD_LAYOUT_AUTO, &s, &st), 0);
	assert_int_equal(st.layout, MIRAD_LAYOUT_MVTEC);
	assert_int_equal(s.count, 3);
	assert_int_equal(st.problems, 5);
	assert_string_equal(problems,
	    "cat/extra|unknown folder (skipped)\n"
	    "cat/test/crack/000.png|anomaly without a mask\n"
	    "cat/train/crack|anomalous images under train/ (skipped)\n"
	    "cat/ground_truth/crack/007_mask.png|mask without an image\n"
	    "cat/ground_truth/crack/001_mask.png|mask is 4x8, image is 8x8\n");
	mirad_recordset_clear(&s);
	mirad_rm_rf(d);
	free(d);
}

static void
test_layout_drop_reported_records(void **state)
{
	char *d = test_tmpdir();
	struct mirad_recordset s = {0};
	struct mirad_scan_stats st;

	(void)state;
	image_at(d, "cat/train/good/000.png", 8, 8);
	test_write(d, "cat/train/good/001.png", "");
	image_at(d, "cat/test/good/000.png", 8, 8);
	image_at(d, "cat/test/anomaly/000.png", 8, 8);
	image_at(d, "cat/test/anomaly/001.png", 8, 8);
	image_at(d, "cat/test/anomaly/002.png", 8, 8);
	image_at(d, "cat/ground_truth/anomaly/000_mask.png", 8, 8);
	image_at(d, "cat/ground_truth/anomaly/001_mask.png", 4, 8);
	test_write(d, "cat/ground_truth/anomaly/002_mask.png", "");

	assert_int_equal(scan_dropping(d, &s, &st), 0);
	assert_int_equal(st.problems, 3);
	assert_int_equal(s.count, 3);
	assert_non_null(find(&s, "cat/train/good/000.png"));
	assert_non_null(find(&s, "cat/test/good/000.png"));
	assert_non_null(find(&s, "cat/test/anomaly/000.png"));
	assert_null(find(&s, "cat/train/good/001.png"));
	assert_null(find(&s, "cat/test/anomaly/001.png"));
	assert_null(find(&s, "cat/test/anomaly/002.png"));
	mirad_recordset_clear(&s);
	/* Without the option every record stays (and is still reported). */
	assert_int_equal(scan(d, MIRAD_LAYOUT_AUTO, &s, &st), 0);
	assert_int_equal(st.problems, 3);
	assert_int_equal(s.count, 6);
	mirad_recordset_clear(&s);
	mirad_rm_rf(d);
	free(d);
}

static void
test_layout_masks_directly_in_ground_truth(void **state)
{
	char *d = test_tmpdir();
	struct mirad_recordset s = {0};
	struct mirad_scan_stats st;

	(void)state;
	image_at(d, "cat/train/good/000.png", 8, 8);
	image_at(d, "cat/test/anomaly/005.png", 8, 8);
	image_at(d, "cat/ground_truth/005_mask.png", 8, 8);
	assert_int_equal(scan(d, MIRAD_LAYOUT_AUTO, &s, &st), 0);
	assert_int_equal(st.problems, 0);
	assert_string_equal(find(&s, "cat/test/anomaly/005.png")->mask,
	    "cat/ground_truth/005_mask.png");
	mirad_recordset_clear(&s);
	mirad_rm_rf(d);
	free(d);
}

static void
test_layout_visa_raw_with_split_csv(void **state)
{
	char *d = test_tmpdir();
	struct mirad_recordset s = {0};
	struct mirad_scan_stats st;
	const struct mirad_record *r;

	(void)state;
	image_at(d, "candle/Data/Images/Normal/0000.JPG", 8, 8);
	image_at(d, "candle/Data/Images/Normal/0001.JPG", 8, 8);
	image_at(d, "candle/Data/Images/Anomaly/000.JPG", 8, 8);
	image_at(d, "candle/Data/Masks/Anomaly/000.png", 8, 8);
	image_at(d, "candle/Data/Images/Normal/0099.JPG", 8, 8);
	test_write(d, "candle/image_anno.csv",
	    "image,label,mask\n"
	    "candle/Data/Images/Anomaly/000.JPG,\"melt, scratch\","
	    "candle/Data/Masks/Anomaly/000.png\n");
	test_write(d, "split_csv/1cls.csv",
	    "object,split,label,image,mask\r\n"
	    "candle,train,normal,candle/Data/Images/Normal/0000.JPG,\r\n"
	    "candle,test,normal,candle/Data/Images/Normal/0001.JPG,\r\n"
	    "candle,test,anomaly,candle/Data/Images/Anomaly/000.JPG,"
	    "candle/Data/Masks/Anomaly/000.png\r\n");
	assert_int_equal(mirad_layout_detect(d), MIRAD_LAYOUT_VISA);
	assert_int_equal(scan(d, MIRAD_LAYOUT_AUTO, &s, &st), 0);
	assert_int_equal(s.count, 3);
	r = find(&s, "candle/Data/Images/Anomaly/000.JPG");
	assert_non_null(r);
	assert_string_equal(r->split, "test");
	assert_string_equal(r->defect, "combined");
	assert_string_equal(r->mask, "candle/Data/Masks/Anomaly/000.png");
	assert_string_equal(
	    find(&s, "candle/Data/Images/Normal/0000.JPG")->split, "train");
	/* The unlisted image is reported, not silently dropped. */
	assert_int_equal(st.problems, 1);
	assert_string_equal(problems,
	    "candle/Data/Images/Normal/0099.JPG|image not listed in the split "
	    "file (skipped)\n");
	mirad_recordset_clear(&s);
	mirad_rm_rf(d);
	free(d);
}

/* A split file with an extra leading column: a row with only five fields
 * cannot reach the "mask" column and is reported, not read past its end. */
static void
test_layout_visa_split_csv_short_row(void **state)
{
	char *d = test_tmpdir();
	struct mirad_recordset s = {0};
	struct mirad_scan_stats st;

	(void)state;
	image_at(d, "candle/Data/Images/Normal/0000.JPG", 8, 8);
	image_at(d, "candle/Data/Images/Normal/0001.JPG", 8, 8);
	test_write(d, "split_csv/1cls.csv",
	    "id,object,split,label,image,mask\n"
	    "1,candle,train,normal,candle/Data/Images/Normal/0000.JPG,\n"
	    "2,candle,test,normal,candle/Data/Images/Normal/0001.JPG\n");
	assert_int_equal(scan(d, MIRAD_LAYOUT_VISA, &s, &st), 0);
	assert_int_equal(s.count, 1);
	assert_non_null(find(&s, "candle/Data/Images/Normal/0000.JPG"));
	assert_non_null(strstr(
	    problems, "split_csv/1cls.csv:3|expected 6 fields, got 5\n"));
	mirad_recordset_clear(&s);
	mirad_rm_rf(d);
	free(d);
}

static void
test_layout_visa_prepared_2cls(void **state)
{
	char *d = test_tmpdir();
	struct mirad_recordset s = {0};
	struct mirad_scan_stats st;

	(void)state;
	image_at(d, "pcb1/train/good/0001.JPG", 8, 8);
	image_at(d, "pcb1/train/bad/003.JPG", 8, 8);
	image_at(d, "pcb1/test/bad/003.JPG", 8, 8);
	image_at(d, "pcb1/test/good/0002.JPG", 8, 8);
	image_at(d, "pcb1/ground_truth/train/bad/003.png", 8, 8);
	image_at(d, "pcb1/ground_truth/test/bad/003.png", 8, 8);
	assert_int_equal(mirad_layout_detect(d), MIRAD_LAYOUT_VISA_PREPARED);
	assert_int_equal(scan(d, MIRAD_LAYOUT_AUTO, &s, &st), 0);
	assert_int_equal(st.problems, 0);
	assert_int_equal(s.count, 4);
	assert_string_equal(find(&s, "pcb1/train/bad/003.JPG")->mask,
	    "pcb1/ground_truth/train/bad/003.png");
	assert_string_equal(find(&s, "pcb1/test/bad/003.JPG")->mask,
	    "pcb1/ground_truth/test/bad/003.png");
	mirad_recordset_clear(&s);
	mirad_rm_rf(d);
	free(d);
}

static void
test_layout_unusable_roots(void **state)
{
	char *d = test_tmpdir();
	struct mirad_recordset s = {0};
	struct mirad_scan_stats st;
	struct mirad_scan_options o = {0};
	char err[512];

	(void)state;
	assert_int_equal(mirad_layout_scan(
	                     "/nonexistent/tree", &o, &s, &st, err, sizeof err),
	    -1);
	assert_string_equal(
	    err, "/nonexistent/tree: No such file or directory");
	test_write(d, "just/a/file.txt", "x");
	assert_int_equal(mirad_layout_detect(d), MIRAD_LAYOUT_AUTO);
	assert_int_equal(mirad_layout_scan(d, &o, &s, &st, err, sizeof err),
	    MIRAD_LAYOUT_UNKNOWN);
	assert_non_null(strstr(err, "cannot tell the layout"));
	/* The library names no option: the tool words the advice. */
	assert_null(strstr(err, "--"));
	assert_int_equal(s.count, 0);
	mirad_rm_rf(d);
	free(d);
}

static void
test_layout_names(void **state)
{
	enum mirad_layout l;

	(void)state;
	assert_int_equal(mirad_layout_from_name("visa-prepared", &l), 0);
	assert_int_equal(l, MIRAD_LAYOUT_VISA_PREPARED);
	assert_string_equal(mirad_layout_name(MIRAD_LAYOUT_MVTEC), "mvtec");
	assert_int_equal(mirad_layout_from_name("MVTec", &l), -1);
}

static int
setup(void **state)
{
	char err[256];

	(void)state;
	return mirad_image_init("test_layout", 1, err, sizeof err);
}

static int
teardown(void **state)
{
	(void)state;
	mirad_image_shutdown();
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_layout_mirad_masks_matched_by_name),
	    cmocka_unit_test(test_layout_problems_reported_precisely),
	    cmocka_unit_test(test_layout_drop_reported_records),
	    cmocka_unit_test(test_layout_masks_directly_in_ground_truth),
	    cmocka_unit_test(test_layout_visa_raw_with_split_csv),
	    cmocka_unit_test(test_layout_visa_split_csv_short_row),
	    cmocka_unit_test(test_layout_visa_prepared_2cls),
	    cmocka_unit_test(test_layout_unusable_roots),
	    cmocka_unit_test(test_layout_names),
	};
	return cmocka_run_group_tests_name("layout", tests, setup, teardown);
}
