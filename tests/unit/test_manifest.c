/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include "test_util.h"

#include "mirad_dataset.h"
#include "mirad_err.h"
#include "mirad_manifest.h"

static struct mirad_manifest *
manifest_of(const char *text, FILE **f, const char *base, const char *root)
{
	*f = fmemopen((void *)text, strlen(text), "r");
	assert_non_null(*f);
	return mirad_manifest_from_stream(*f, "m.jsonl", base, root);
}

static void
test_manifest_round_trip_keeps_extra_fields(void **state)
{
	const char *line =
	    "{\"category\":\"bottle\",\"split\":\"test\",\"label\":\"anomaly\","
	    "\"defect\":\"crack\",\"image\":\"bottle/test/crack/000.png\","
	    "\"mask\":\"bottle/ground_truth/crack/000_mask.png\",\"root\":"
	    "\"/data/mvtec\",\"width\":900,\"height\":900,\"channels\":3,"
	    "\"node\":\"3\",\"variant\":2}";
	struct mirad_record *r;
	FILE *f;
	struct mirad_manifest *m = manifest_of(line, &f, "/", NULL);
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	assert_int_equal(mirad_manifest_next(m, &r), MIRAD_MANIFEST_RECORD);
	assert_string_equal(r->defect, "crack");
	assert_int_equal(r->width, 900);
	assert_string_equal(mirad_record_get_string(r, "node"), "3");
	out = open_memstream(&buf, &len);
	assert_int_equal(mirad_record_write(out, r), 0);
	fclose(out);
	assert_int_equal(strncmp(buf, line, strlen(line)), 0);
	assert_string_equal(buf + strlen(line), "\n");
	free(buf);
	mirad_record_free(r);
	assert_int_equal(mirad_manifest_next(m, &r), MIRAD_MANIFEST_EOF);
	mirad_manifest_close(m);
	fclose(f);
}

/* Extra fields come back as written: cJSON alone would round the integer
 * to a double, cut the string at \u0000 and respell the numbers. */
static void
test_manifest_extra_fields_keep_their_text(void **state)
{
	const char *core =
	    "{\"category\":\"a\",\"split\":\"train\",\"label\":\"normal\","
	    "\"defect\":\"good\",\"image\":\"x.png\",\"mask\":null,"
	    "\"root\":\"/d\"";
	const char *extra =
	    ",\"node\":12345678901234567,\"note\":\"a\\u0000b\","
	    "\"f\":1.10,\"arr\":[1, 2.50e3 ,{\"k\" : -0}]}";
	char *line = mirad_xasprintf("%s  %s", core, extra);
	char *want = mirad_xasprintf("%s%s\n", core, extra);
	struct mirad_record *r, *c;
	FILE *f;
	struct mirad_manifest *m = manifest_of(line, &f, "/", NULL);
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	assert_int_equal(mirad_manifest_next(m, &r), MIRAD_MANIFEST_RECORD);
	/* The parsed values are still there for the tools. */
	assert_string_equal(mirad_record_get_string(r, "note"), "a");
	c = mirad_record_clone(r);
	out = open_memstream(&buf, &len);
	assert_int_equal(mirad_record_write(out, c), 0);
	fclose(out);
	assert_string_equal(buf, want);
	free(buf);
	/* A field a tool sets is written as set. */
	mirad_record_put_number(c, "node", 3);
	out = open_memstream(&buf, &len);
	assert_int_equal(mirad_record_write(out, c), 0);
	fclose(out);
	assert_non_null(strstr(buf,
	    ",\"node\":3,\"note\":\"a\\u0000b\","
	    "\"f\":1.10,"));
	free(buf);
	mirad_record_free(c);
	mirad_record_free(r);
	mirad_manifest_close(m);
	fclose(f);
	free(want);
	free(line);
}

/* Lines that carry records (the shard metadata) keep their text too. */
static void
test_manifest_json_text_helpers(void **state)
{
	const char *text =
	    "{\"seq\":3, \"record\" : {\"node\":1.10,\"v\":[1, 2]},"
	    "\"root\":\"/a\",\"n\":12345678901234567}";
	cJSON *obj = cJSON_Parse(text);
	static const char *const parsed[] = {"root", NULL};
	char *got;

	(void)state;
	got = mirad_json_member_text(text, strlen(text), "record");
	assert_string_equal(got, "{\"node\":1.10,\"v\":[1, 2]}");
	free(got);
	assert_null(mirad_json_member_text(text, strlen(text), "absent"));
	assert_null(mirad_json_member_text("[1]", 3, "record"));
	assert_non_null(obj);
	mirad_json_keep_text(obj, text, strlen(text), parsed);
	assert_true(cJSON_IsString(cJSON_GetObjectItem(obj, "root")));
	cJSON_ReplaceItemInObjectCaseSensitive(
	    obj, "root", cJSON_CreateString("/b"));
	got = cJSON_PrintUnformatted(obj);
	assert_string_equal(got,
	    "{\"seq\":3,\"record\":{\"node\":1.10,\"v\":[1, 2]},"
	    "\"root\":\"/b\",\"n\":12345678901234567}");
	cJSON_free(got);
	cJSON_Delete(obj);
}

static void
test_manifest_bad_lines_reported_and_skipped(void **state)
{
	const char *text =
	    "\n"
	    "{\"category\":\"a\",\"split\":\"train\",\"label\":\"normal\","
	    "\"image\":\"x.png\"}\r\n"
	    "{not json}\n"
	    "[1,2]\n"
	    "{\"category\":\"a\",\"split\":\"dev\",\"label\":\"normal\","
	    "\"image\":\"y.png\"}\n"
	    "{\"category\":\"a\",\"split\":\"test\",\"label\":\"normal\"}\n"
	    "{\"category\":\"a\",\"split\":\"test\",\"label\":\"normal\","
	    "\"image\":\"z.png\"} x\n"
	    "{\"category\":\"a\",\"split\":\"test\",\"label\":\"anomaly\","
	    "\"image\":\"w.png\",\"mask\":null}\n";
	struct mirad_record *r;
	FILE *f;
	struct mirad_manifest *m = manifest_of(text, &f, "/base", NULL);

	(void)state;
	assert_int_equal(mirad_manifest_next(m, &r), MIRAD_MANIFEST_RECORD);
	assert_string_equal(r->image, "x.png");
	assert_string_equal(r->defect, "good"); /* defaulted */
	assert_string_equal(r->root, "/base");
	mirad_record_free(r);
	assert_int_equal(mirad_manifest_next(m, &r), MIRAD_MANIFEST_BAD);
	assert_string_equal(
	    mirad_manifest_error(m), "m.jsonl:3: invalid JSON near column 3");
	assert_int_equal(mirad_manifest_next(m, &r), MIRAD_MANIFEST_BAD);
	assert_string_equal(
	    mirad_manifest_error(m), "m.jsonl:4: not a JSON object");
	assert_int_equal(mirad_manifest_next(m, &r), MIRAD_MANIFEST_BAD);
	assert_non_null(strstr(mirad_manifest_error(m),
	    "m.jsonl:5: field "
	    "\"split\" is \"dev\""));
	assert_int_equal(mirad_manifest_next(m, &r), MIRAD_MANIFEST_BAD);
	assert_non_null(
	    strstr(mirad_manifest_error(m), "m.jsonl:6: field \"image\""));
	assert_int_equal(mirad_manifest_next(m, &r), MIRAD_MANIFEST_BAD);
	assert_non_null(strstr(mirad_manifest_error(m), "m.jsonl:7: trailing"));
	assert_int_equal(mirad_manifest_next(m, &r), MIRAD_MANIFEST_RECORD);
	assert_string_equal(r->defect, "anomaly");
	assert_null(r->mask);
	assert_true(mirad_record_is_anomaly(r));
	mirad_record_free(r);
	assert_int_equal(mirad_manifest_next(m, &r), MIRAD_MANIFEST_EOF);
	mirad_manifest_close(m);
	fclose(f);
}

/* A line that starts with NUL is not blank: it is reported, not skipped. */
static void
test_manifest_leading_nul_line_reported(void **state)
{
	static const char text[] =
	    "\0{\"category\":\"a\",\"split\":\"train\",\"label\":\"normal\","
	    "\"image\":\"x.png\"}\n"
	    "{\"category\":\"a\",\"split\":\"train\",\"label\":\"normal\","
	    "\"image\":\"y.png\"}\n";
	FILE *f = fmemopen((void *)text, sizeof text - 1, "r");
	struct mirad_manifest *m;
	struct mirad_record *r;

	(void)state;
	assert_non_null(f);
	m = mirad_manifest_from_stream(f, "m.jsonl", "/", NULL);
	assert_int_equal(mirad_manifest_next(m, &r), MIRAD_MANIFEST_BAD);
	assert_string_equal(
	    mirad_manifest_error(m), "m.jsonl:1: NUL byte in line");
	assert_string_equal(mirad_manifest_error_where(m), "m.jsonl:1");
	assert_string_equal(mirad_manifest_error_reason(m), "NUL byte in line");
	assert_int_equal(mirad_manifest_next(m, &r), MIRAD_MANIFEST_RECORD);
	assert_string_equal(r->image, "y.png");
	mirad_record_free(r);
	assert_int_equal(mirad_manifest_next(m, &r), MIRAD_MANIFEST_EOF);
	mirad_manifest_close(m);
	fclose(f);
}

static char seen_where[1024], seen_why[256];

static void
remember_problem(void *ctx, const char *where, const char *why)
{
	(void)ctx;
	snprintf(seen_where, sizeof seen_where, "%s", where);
	snprintf(seen_why, sizeof seen_why, "%s", why);
}

/* A manifest whose name contains ": " keeps its whole name in the place
 * of a bad line; the reason is only the reason. */
static void
test_manifest_bad_line_place_with_colon_space(void **state)
{
	char *d = test_tmpdir();
	char *path = mirad_path_join(d, "run: 2.jsonl");
	char *want = mirad_xasprintf("%s:2", path);
	struct mirad_dataset_options o = {.scan.problem = remember_problem};
	struct mirad_recordset s = {0};
	struct mirad_dataset_info info;
	char err[256];

	(void)state;
	test_write(d, "run: 2.jsonl",
	    "{\"category\":\"a\",\"split\":\"train\",\"label\":\"normal\","
	    "\"image\":\"x.png\"}\n[1]\n");
	assert_int_equal(
	    mirad_dataset_load(path, &o, &s, &info, err, sizeof err), 0);
	assert_int_equal(s.count, 1);
	assert_int_equal(info.bad_lines, 1);
	assert_string_equal(seen_where, want);
	assert_string_equal(seen_why, "not a JSON object");
	cJSON_Delete(info.header);
	mirad_recordset_clear(&s);
	mirad_rm_rf(d);
	free(want);
	free(path);
	free(d);
}

static void
test_manifest_root_resolution(void **state)
{
	const char *text =
	    "{\"mirad_manifest\":1,\"seed\":7}\n"
	    "{\"category\":\"a\",\"split\":\"train\",\"label\":\"normal\","
	    "\"image\":\"x.png\",\"root\":\"data\"}\n"
	    "{\"category\":\"a\",\"split\":\"train\",\"label\":\"normal\","
	    "\"image\":\"/abs/y.png\"}\n";
	struct mirad_record *r;
	FILE *f;
	struct mirad_manifest *m = manifest_of(text, &f, "/srv/m", NULL);
	char *p;

	(void)state;
	assert_int_equal(mirad_manifest_next(m, &r), MIRAD_MANIFEST_RECORD);
	assert_string_equal(r->root, "/srv/m/data");
	p = mirad_record_path(r, r->image);
	assert_string_equal(p, "/srv/m/data/x.png");
	free(p);
	mirad_record_free(r);
	assert_int_equal(mirad_manifest_next(m, &r), MIRAD_MANIFEST_RECORD);
	p = mirad_record_path(r, r->image);
	assert_string_equal(p, "/abs/y.png");
	free(p);
	mirad_record_free(r);
	{
		const cJSON *h = mirad_manifest_header(m);
		const cJSON *seed = cJSON_GetObjectItemCaseSensitive(h, "seed");

		assert_non_null(seed);
		assert_int_equal((int)seed->valuedouble, 7);
	}
	mirad_manifest_close(m);
	fclose(f);

	/* --root wins over the record's own root. */
	m = manifest_of(text, &f, "/srv/m", "/elsewhere");
	assert_int_equal(mirad_manifest_next(m, &r), MIRAD_MANIFEST_RECORD);
	assert_string_equal(r->root, "/elsewhere");
	mirad_record_free(r);
	mirad_manifest_close(m);
	fclose(f);
}

static void
test_manifest_recordset_sort(void **state)
{
	struct mirad_recordset s = {0};
	const char *cats[] = {"b", "a", "a"};
	const char *imgs[] = {"2.png", "9.png", "1.png"};

	(void)state;
	for (int i = 0; i < 3; i++) {
		struct mirad_record *r = mirad_record_new();

		mirad_record_set(&r->category, cats[i]);
		mirad_record_set(&r->split, "train");
		mirad_record_set(&r->defect, "good");
		mirad_record_set(&r->image, imgs[i]);
		mirad_recordset_push(&s, r);
	}
	mirad_recordset_sort(&s);
	assert_string_equal(s.items[0]->image, "1.png");
	assert_string_equal(s.items[1]->image, "9.png");
	assert_string_equal(s.items[2]->category, "b");
	mirad_recordset_clear(&s);
	assert_int_equal(s.count, 0);
}

/* N records "0.png", "1.png", ... pushed into S. */
static void
push_numbered(struct mirad_recordset *s, int n)
{
	for (int i = 0; i < n; i++) {
		struct mirad_record *r = mirad_record_new();
		char name[16];

		snprintf(name, sizeof name, "%d.png", i);
		mirad_record_set(&r->category, i % 2 ? "odd" : "even");
		mirad_record_set(&r->split, "train");
		mirad_record_set(&r->image, name);
		mirad_recordset_push(s, r);
	}
}

/* Dropping keeps the order of the rest and frees what goes (a leak or a
 * double free would show under the sanitizers); the view stays readable. */
static void
test_manifest_recordset_drop_keeps_order(void **state)
{
	struct mirad_recordset s = {0}, view;
	bool drop[6] = {true, false, true, false, false, true};

	(void)state;
	push_numbered(&s, 6);
	mirad_recordset_view(&view, &s);
	assert_int_equal(mirad_recordset_drop(&view, drop), 3);
	assert_int_equal(view.count, 3);
	assert_int_equal(s.count, 6); /* the owner is untouched */
	mirad_recordset_clear(&view);
	assert_null(view.array);
	assert_int_equal(mirad_recordset_drop(&s, drop), 3);
	assert_int_equal(s.count, 3);
	assert_string_equal(s.items[0]->image, "1.png");
	assert_string_equal(s.items[1]->image, "3.png");
	assert_string_equal(s.items[2]->image, "4.png");
	/* The set grows again after a drop. */
	push_numbered(&s, 1);
	assert_int_equal(s.count, 4);
	assert_string_equal(s.items[3]->image, "0.png");
	memset(drop, 1, sizeof drop);
	assert_int_equal(mirad_recordset_drop(&s, drop), 4);
	assert_int_equal(s.count, 0);
	assert_null(s.items);
	mirad_recordset_clear(&s);
	assert_int_equal(mirad_recordset_drop(&s, drop), 0);
}

/* A view borrows: clearing it frees no record of the owner, and records
 * pushed into an empty view are not freed either. */
static void
test_manifest_recordset_view_borrows(void **state)
{
	struct mirad_recordset s = {0}, view, empty;

	(void)state;
	push_numbered(&s, 3);
	mirad_recordset_view(&view, &s);
	assert_int_equal(view.count, 3);
	assert_ptr_equal(view.items[2], s.items[2]);
	assert_ptr_not_equal(view.items, s.items);
	mirad_recordset_init_view(&empty);
	assert_int_equal(empty.count, 0);
	mirad_recordset_push(&empty, s.items[1]);
	mirad_recordset_clear(&view);
	mirad_recordset_clear(&empty);
	assert_string_equal(s.items[1]->image, "1.png");
	mirad_recordset_clear(&s);
}

/* Stealing the tail forgets records the caller already freed or moved. */
static void
test_manifest_recordset_steal_tail(void **state)
{
	struct mirad_recordset s = {0};
	struct mirad_record *last;

	(void)state;
	push_numbered(&s, 4);
	/* Keep 0 and 3 in front, free 1, hand 2 on. */
	mirad_record_free(s.items[1]);
	last = s.items[2];
	s.items[1] = s.items[3];
	mirad_recordset_steal_tail(&s, 2);
	assert_int_equal(s.count, 2);
	assert_string_equal(s.items[1]->image, "3.png");
	mirad_recordset_steal_tail(&s, 5); /* past the end: nothing */
	assert_int_equal(s.count, 2);
	mirad_record_free(last);
	mirad_recordset_clear(&s);
}

/* Sorting from an index leaves the records before it where they are. */
static void
test_manifest_recordset_sort_from(void **state)
{
	struct mirad_recordset s = {0};

	(void)state;
	push_numbered(&s, 5);
	mirad_recordset_sort_from(&s, 2);
	assert_string_equal(s.items[0]->image, "0.png");
	assert_string_equal(s.items[1]->image, "1.png");
	/* even (2, 4) before odd (3) */
	assert_string_equal(s.items[2]->image, "2.png");
	assert_string_equal(s.items[3]->image, "4.png");
	assert_string_equal(s.items[4]->image, "3.png");
	mirad_recordset_sort_from(&s, 5);
	mirad_recordset_clear(&s);
}

/* Read TEXT (base "/data") into SET. */
static void
load_text(const char *text, struct mirad_recordset *set)
{
	FILE *f;
	struct mirad_manifest *m = manifest_of(text, &f, "/data", NULL);
	struct mirad_record *r;

	while (mirad_manifest_next(m, &r) == MIRAD_MANIFEST_RECORD)
		mirad_recordset_push(set, r);
	mirad_manifest_close(m);
	fclose(f);
}

static void
test_manifest_duplicates_found_described_and_dropped(void **state)
{
	const char *text =
	    "{\"category\":\"a\",\"split\":\"train\",\"label\":\"normal\","
	    "\"image\":\"x.png\"}\n"
	    "{\"category\":\"a\",\"split\":\"test\",\"label\":\"anomaly\","
	    "\"image\":\"y.png\"}\n"
	    "\n"
	    "{\"category\":\"a\",\"split\":\"test\",\"label\":\"normal\","
	    "\"image\":\"./x.png\"}\n"
	    "{\"category\":\"a\",\"split\":\"test\",\"label\":\"anomaly\","
	    "\"image\":\"sub/../y.png\"}\n"
	    "{\"category\":\"a\",\"split\":\"test\",\"label\":\"normal\","
	    "\"image\":\"y.png\",\"root\":\"/other\"}\n";
	struct mirad_recordset set = {0};
	struct mirad_duplicate *d;
	char msg[256];
	size_t n;

	(void)state;
	load_text(text, &set);
	assert_int_equal(set.count, 5);
	assert_int_equal(set.items[2]->line, 4);
	n = mirad_recordset_find_duplicates(&set, 0, &d);
	/* The last record is another file (another root). */
	assert_int_equal(n, 2);
	assert_int_equal(d[0].first, 0);
	assert_int_equal(d[0].later, 2);
	assert_int_equal(d[1].first, 1);
	assert_int_equal(d[1].later, 3);
	assert_false(mirad_duplicate_is_repeat(&set, &d[0]));
	assert_true(mirad_duplicate_is_repeat(&set, &d[1]));
	mirad_duplicate_describe(&set, &d[0], "m.jsonl", msg, sizeof msg);
	assert_string_equal(
	    msg, "m.jsonl:4: ./x.png also at line 1 (train and test: leakage)");
	mirad_duplicate_describe(&set, &d[1], "m.jsonl", msg, sizeof msg);
	assert_string_equal(msg, "m.jsonl:5: sub/../y.png also at line 2");
	/* Searching from a later index sees only the records after it. */
	free(d);
	assert_int_equal(mirad_recordset_find_duplicates(&set, 2, &d), 0);
	assert_null(d);
	n = mirad_recordset_find_duplicates(&set, 0, &d);
	/* Only the repeat goes; the leak between splits stays. */
	assert_int_equal(mirad_recordset_drop_repeats(&set, d, n), 1);
	assert_int_equal(set.count, 4);
	assert_string_equal(set.items[2]->image, "./x.png");
	assert_string_equal(set.items[3]->root, "/other");
	free(d);
	mirad_recordset_clear(&set);
}

/* The same file named every way a key can be built: joined as given
 * (canonical paths) or through g_canonicalize_filename(). */
static void
test_manifest_duplicates_canonical_and_not(void **state)
{
	const char *text =
	    "{\"category\":\"a\",\"split\":\"test\",\"label\":\"normal\","
	    "\"image\":\"d/x.png\",\"root\":\"/r\"}\n"
	    "{\"category\":\"a\",\"split\":\"test\",\"label\":\"normal\","
	    "\"image\":\"/r/d/x.png\"}\n"
	    "{\"category\":\"a\",\"split\":\"test\",\"label\":\"normal\","
	    "\"image\":\"x.png\",\"root\":\"/r/d/\"}\n"
	    "{\"category\":\"a\",\"split\":\"test\",\"label\":\"normal\","
	    "\"image\":\"d//x.png\",\"root\":\"/r\"}\n"
	    "{\"category\":\"a\",\"split\":\"test\",\"label\":\"normal\","
	    "\"image\":\"/r/e/../d/x.png\"}\n"
	    "{\"category\":\"a\",\"split\":\"test\",\"label\":\"normal\","
	    "\"image\":\"d/x.png.\",\"root\":\"/r\"}\n"
	    "{\"category\":\"a\",\"split\":\"test\",\"label\":\"normal\","
	    "\"image\":\"x.png\",\"root\":\"/r/d/.\"}\n";
	struct mirad_recordset set = {0};
	struct mirad_duplicate *d;
	size_t n;

	(void)state;
	load_text(text, &set);
	assert_int_equal(set.count, 7);
	n = mirad_recordset_find_duplicates(&set, 0, &d);
	/* All but "d/x.png." (another name) are the first file. */
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(d[i].first, 0);
	assert_int_equal(d[0].later, 1);
	assert_int_equal(d[3].later, 4);
	assert_int_equal(d[4].later, 6);
	free(d);
	mirad_recordset_clear(&set);
}

static void
test_manifest_duplicate_labels_described(void **state)
{
	const char *text =
	    "{\"category\":\"a\",\"split\":\"test\",\"label\":\"normal\","
	    "\"image\":\"x.png\"}\n"
	    "{\"category\":\"a\",\"split\":\"test\",\"label\":\"anomaly\","
	    "\"image\":\"x.png\"}\n";
	struct mirad_recordset set = {0};
	struct mirad_duplicate *d;
	char msg[256];

	(void)state;
	load_text(text, &set);
	assert_int_equal(mirad_recordset_find_duplicates(&set, 0, &d), 1);
	mirad_duplicate_describe(&set, &d[0], "m.jsonl", msg, sizeof msg);
	assert_string_equal(
	    msg, "m.jsonl:2: x.png also at line 1 (normal and anomaly)");
	/* A record that was not read from a manifest has no line. */
	set.items[0]->line = set.items[1]->line = 0;
	mirad_duplicate_describe(&set, &d[0], "DIR", msg, sizeof msg);
	assert_string_equal(
	    msg, "DIR: x.png also at record 1 (normal and anomaly)");
	free(d);
	mirad_recordset_clear(&set);
}

static void
test_manifest_count_column_rule(void **state)
{
	struct mirad_counts c = {0}, total = {1, 2, 3, 4, 5};

	(void)state;
	mirad_counts_add(&c, "train", "normal");
	mirad_counts_add(&c, "train", NULL);
	mirad_counts_add(&c, "train", "anomaly");
	mirad_counts_add(&c, "val", "anomaly");
	mirad_counts_add(&c, "val", NULL);
	mirad_counts_add(&c, "test", "normal");
	mirad_counts_add(&c, "test", "anomaly");
	mirad_counts_add(&c, "test", "anomaly");
	mirad_counts_add(&c, "test", "anomaly");
	/* Train counts normal images only; val takes both labels. */
	assert_int_equal(c.train, 2);
	assert_int_equal(c.train_abnormal, 1);
	assert_int_equal(c.val, 2);
	assert_int_equal(c.test_normal, 1);
	assert_int_equal(c.test_abnormal, 3);
	mirad_counts_sum(&total, &c);
	assert_int_equal(total.train, 3);
	assert_int_equal(total.train_abnormal, 3);
	assert_int_equal(total.val, 5);
	assert_int_equal(total.test_normal, 5);
	assert_int_equal(total.test_abnormal, 8);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_manifest_round_trip_keeps_extra_fields),
	    cmocka_unit_test(test_manifest_extra_fields_keep_their_text),
	    cmocka_unit_test(test_manifest_json_text_helpers),
	    cmocka_unit_test(test_manifest_bad_lines_reported_and_skipped),
	    cmocka_unit_test(test_manifest_leading_nul_line_reported),
	    cmocka_unit_test(test_manifest_bad_line_place_with_colon_space),
	    cmocka_unit_test(test_manifest_root_resolution),
	    cmocka_unit_test(test_manifest_recordset_sort),
	    cmocka_unit_test(test_manifest_recordset_drop_keeps_order),
	    cmocka_unit_test(test_manifest_recordset_view_borrows),
	    cmocka_unit_test(test_manifest_recordset_steal_tail),
	    cmocka_unit_test(test_manifest_recordset_sort_from),
	    cmocka_unit_test(
	        test_manifest_duplicates_found_described_and_dropped),
	    cmocka_unit_test(test_manifest_duplicates_canonical_and_not),
	    cmocka_unit_test(test_manifest_duplicate_labels_described),
	    cmocka_unit_test(test_manifest_count_column_rule),
	};
	return cmocka_run_group_tests_name("manifest", tests, NULL, NULL);
}
