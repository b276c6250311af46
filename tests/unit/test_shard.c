/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include "test_util.h"

#include <errno.h>
#include <sys/stat.h>

#include "mirad_cli.h"
#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_manifest.h"
#include "mirad_shard.h"

#define JOB_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define JOB_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

/* Read a whole file into a new string. */
static char *
slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = calloc(1, (size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return buf;
}

/*
 * Shard INDEX of COUNT under BASE/NAME: of TOTAL records, those with
 * seq % COUNT == INDEX, each with a file "cat/SEQ.png" and a record rooted
 * at the shard folder.  Returns the folder (caller frees).
 */
static char *
make_part(const char *base, const char *name, const char *tool, unsigned index,
    unsigned count, const char *job, unsigned total, int status)
{
	char *dir = mirad_path_join(base, name);
	char err[512];
	struct mirad_shard_writer *w;
	cJSON *hdata = cJSON_CreateObject();

	assert_int_equal(mirad_mkdir_p(dir), 0);
	cJSON_AddStringToObject(hdata, "target", "mvtec");
	w = mirad_shard_writer_open(
	    dir, dir, tool, index, count, job, total, hdata, err, sizeof err);
	assert_non_null(w);
	cJSON_Delete(hdata);
	for (unsigned s = index; s < total; s += count) {
		char *rel = mirad_xasprintf("cat/%03u.png", s);
		const char *files[] = {rel};
		cJSON *rec = cJSON_CreateObject(), *data = cJSON_CreateObject();
		char text[32];

		snprintf(text, sizeof text, "file %u", s);
		test_write(dir, rel, text);
		cJSON_AddStringToObject(rec, "category", "cat");
		cJSON_AddStringToObject(rec, "image", rel);
		cJSON_AddStringToObject(rec, "root", dir);
		cJSON_AddNumberToObject(rec, "n", s);
		cJSON_AddNumberToObject(data, "seq_again", s);
		assert_int_equal(mirad_shard_writer_add(w, s, files, 1, rec,
		                     data, err, sizeof err),
		    0);
		cJSON_Delete(rec);
		cJSON_Delete(data);
		free(rel);
	}
	assert_int_equal(
	    mirad_shard_writer_close(w, status, err, sizeof err), 0);
	return dir;
}

static void
test_shard_job_fingerprint(void **state)
{
	struct mirad_shard_job *j;
	char a[65], b[65], c[65], d[65];
	struct mirad_record *r = mirad_record_new();

	(void)state;
	mirad_record_set(&r->category, "cat");
	mirad_record_set(&r->image, "x.png");
	j = mirad_shard_job_new("t");
	mirad_shard_job_add(j, "to", "mvtec");
	mirad_shard_job_add_record(j, r);
	mirad_shard_job_finish(j, a);
	j = mirad_shard_job_new("t");
	mirad_shard_job_add(j, "to", "mvtec");
	mirad_shard_job_add_record(j, r);
	mirad_shard_job_finish(j, b);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), 64);
	/* Field boundaries count: "to"+"mvtec" is not "tom"+"vtec". */
	j = mirad_shard_job_new("t");
	mirad_shard_job_add(j, "tom", "vtec");
	mirad_shard_job_add_record(j, r);
	mirad_shard_job_finish(j, c);
	assert_string_not_equal(a, c);
	/* Unset is not empty; another record is another job. */
	j = mirad_shard_job_new("t");
	mirad_shard_job_add(j, "to", NULL);
	mirad_shard_job_finish(j, c);
	j = mirad_shard_job_new("t");
	mirad_shard_job_add(j, "to", "");
	mirad_shard_job_finish(j, d);
	assert_string_not_equal(c, d);
	mirad_record_set(&r->image, "y.png");
	j = mirad_shard_job_new("t");
	mirad_shard_job_add(j, "to", "mvtec");
	mirad_shard_job_add_record(j, r);
	mirad_shard_job_finish(j, c);
	assert_string_not_equal(a, c);
	mirad_record_free(r);
}

static void
test_shard_merge_round_trip(void **state)
{
	char *d = test_tmpdir();
	char *p[3], *out = mirad_path_join(d, "out");
	const char *names[3];
	struct mirad_shard_set set;
	struct mirad_shard_merge m;
	char err[512], *text, *path, *want;
	struct stat st;
	FILE *f;

	(void)state;
	p[0] = make_part(d, "p0", "t", 0, 3, JOB_A, 7, 0);
	p[1] = make_part(d, "p1", "t", 1, 3, JOB_A, 7, 1);
	p[2] = make_part(d, "p2", "t", 2, 3, JOB_A, 7, 0);
	/* Any order on the command line. */
	names[0] = p[2];
	names[1] = p[0];
	names[2] = p[1];
	assert_int_equal(
	    mirad_shard_load(names, 3, "t", &set, err, sizeof err), 0);
	assert_int_equal(set.count, 3);
	assert_int_equal(set.total, 7);
	assert_int_equal(set.status, 1);
	assert_int_equal(set.nfiles, 7);
	assert_string_equal(set.names[0], p[0]);
	assert_string_equal(set.job, JOB_A);
	assert_string_equal(
	    cJSON_GetObjectItem(set.data[1], "target")->valuestring, "mvtec");
	for (unsigned s = 0; s < 7; s++) {
		assert_int_equal(set.entries[s].shard, s % 3);
		assert_int_equal(
		    cJSON_GetObjectItem(set.entries[s].data, "seq_again")
		        ->valueint,
		    s);
	}
	/* The tool renames one file. */
	free(set.entries[4].dest[0]);
	set.entries[4].dest[0] = mirad_xstrdup("cat/renamed.png");

	assert_int_equal(
	    mirad_cli_merge_begin(&m, out, false, &set, err, sizeof err), 0);
	assert_non_null(m.tmp);
	assert_int_equal(
	    mirad_shard_merge_place(&m, &set, NULL, err, sizeof err), 0);
	assert_false(mirad_exists(out));
	assert_int_equal(mirad_shard_merge_publish(&m, err, sizeof err), 0);
	path = mirad_path_join(out, "cat/renamed.png");
	text = slurp(path);
	assert_string_equal(text, "file 4");
	free(text);
	free(path);
	path = mirad_path_join(out, "cat/006.png");
	text = slurp(path);
	assert_string_equal(text, "file 6");
	free(text);
	free(path);
	path = mirad_path_join(out, MIRAD_SHARD_META);
	assert_false(mirad_exists(path));
	free(path);

	/* The records, in order, pointing at OUT. */
	path = mirad_path_join(d, "records");
	f = fopen(path, "w");
	assert_int_equal(mirad_shard_write_records(&set, f), 0);
	fclose(f);
	text = slurp(path);
	free(path);
	want = mirad_xstrdup("");
	for (unsigned s = 0; s < 7; s++) {
		char *line = s == 4
		    ? mirad_xasprintf(
		          "{\"category\":\"cat\",\"image\":\"cat/"
		          "renamed.png\",\"root\":\"%s\",\"n\":4}\n",
		          out)
		    : mirad_xasprintf("{\"category\":\"cat\",\"image\":\"cat/"
		                      "%03u.png\",\"root\":\"%s\",\"n\":%u}\n",
		          s, out, s);
		char *both = mirad_xasprintf("%s%s", want, line);

		free(want);
		free(line);
		want = both;
	}
	assert_string_equal(text, want);
	free(text);
	free(want);

	/* The parts are consumed; nothing is left beside OUT. */
	assert_int_equal(mirad_shard_remove_parts(&set), 0);
	mirad_shard_set_free(&set);
	for (int i = 0; i < 3; i++) {
		assert_false(mirad_exists(p[i]));
		free(p[i]);
	}
	{
		struct mirad_strlist l;

		assert_int_equal(mirad_list_dir(d, &l), 0);
		assert_int_equal(l.count, 2);
		assert_string_equal(l.items[0], "out");
		assert_string_equal(l.items[1], "records");
		mirad_strlist_free(&l);
	}
	assert_int_equal(stat(out, &st), 0);
	mirad_rm_rf(d);
	free(out);
	free(d);
}

/* Load NAMES and expect failure with a message containing WANT. */
static void
expect_load_code(const char *const *names, size_t n, const char *tool, int code,
    const char *want)
{
	struct mirad_shard_set set;
	char err[512] = "";

	assert_int_equal(
	    mirad_shard_load(names, n, tool, &set, err, sizeof err), code);
	if (strstr(err, want) == NULL)
		fail_msg("error \"%s\" lacks \"%s\"", err, want);
	/* Failure leaves no lock behind. */
	for (size_t i = 0; i < n; i++) {
		int fd = mirad_lock_acquire(names[i]);

		assert_true(fd >= 0);
		mirad_lock_release(fd, names[i]);
	}
}

static void
expect_load_error(
    const char *const *names, size_t n, const char *tool, const char *want)
{
	expect_load_code(names, n, tool, -1, want);
}

static void
test_shard_load_errors(void **state)
{
	char *d = test_tmpdir();
	char *p0 = make_part(d, "p0", "t", 0, 3, JOB_A, 7, 0);
	char *p1 = make_part(d, "p1", "t", 1, 3, JOB_A, 7, 0);
	char *p2 = make_part(d, "p2", "t", 2, 3, JOB_A, 7, 0);
	char *q1 = make_part(d, "q1", "t", 1, 3, JOB_A, 7, 0);
	char *n4 = make_part(d, "n4", "t", 1, 4, JOB_A, 7, 0);
	char *jb = make_part(d, "jb", "t", 1, 3, JOB_B, 7, 0);
	char *other = make_part(d, "other", "u", 1, 3, JOB_A, 7, 0);
	char *plain = mirad_path_join(d, "plain");
	char *nothere = mirad_path_join(d, "nothere");
	char *meta, *text, *cut;

	(void)state;
	assert_int_equal(mirad_mkdir_p(plain), 0);
	{
		const char *v[] = {p0, p2};
		expect_load_error(v, 2, "t", "shard 1/3 missing");
	}
	{
		const char *v[] = {p0};
		expect_load_error(v, 1, "t", "shards 1/3, 2/3 missing");
	}
	{
		const char *v[] = {p0, p1, q1, p2};
		expect_load_error(v, 4, "t", "shard 1/3 again");
	}
	{
		const char *v[] = {p0, p1, p1, p2};
		expect_load_error(v, 4, "t", "given twice");
	}
	{
		const char *v[] = {p0, n4, p2};
		expect_load_error(v, 3, "t", "of 3 shards");
	}
	{
		const char *v[] = {p0, jb, p2};
		expect_load_error(v, 3, "t", "another job");
	}
	{
		const char *v[] = {p0, other, p2};
		expect_load_error(v, 3, "t", "a shard of u, not of t");
	}
	{
		const char *v[] = {p0, plain, p2};
		char err[512] = "";
		struct mirad_shard_set set;

		/* Its own code, and no option named: the tool words how a
		 * shard is written. */
		expect_load_code(
		    v, 3, "t", MIRAD_SHARD_NOT_A_SHARD, "not a shard folder");
		assert_int_equal(
		    mirad_shard_load(v, 3, "t", &set, err, sizeof err),
		    MIRAD_SHARD_NOT_A_SHARD);
		assert_null(strstr(err, "--"));
	}
	{
		const char *v[] = {p0, nothere, p2};
		expect_load_error(v, 3, "t", "No such file");
	}
	{
		const char *v[] = {p0, p1, p2};
		struct mirad_shard_set set;
		char err[256];

		/* Consistent, then each corruption in turn. */
		assert_int_equal(
		    mirad_shard_load(v, 3, "t", &set, err, sizeof err), 0);
		mirad_shard_set_free(&set);
		test_write(p1, "cat/extra.png", "x");
		expect_load_error(v, 3, "t", "cat/extra.png: not in the shard");
		meta = mirad_path_join(p1, "cat/extra.png");
		unlink(meta);
		free(meta);
		meta = mirad_path_join(p1, "cat/004.png");
		unlink(meta);
		free(meta);
		expect_load_error(v, 3, "t",
		    "cat/004.png: in the shard's metadata but missing");
		test_write(p1, "cat/004.png", "file 4");

		/* A truncated metadata file (no end line). */
		meta = mirad_path_join(p1, MIRAD_SHARD_META);
		text = slurp(meta);
		cut = strstr(text, "{\"end\"");
		assert_non_null(cut);
		assert_int_equal(
		    mirad_write_file_atomic(meta, text, (size_t)(cut - text)),
		    0);
		expect_load_error(v, 3, "t", "incomplete (no end line)");
		/* A path escaping the folder. */
		{
			char *bad =
			    mirad_xasprintf("%.*s{\"seq\":99,\"files\":"
			                    "[\"../p0/cat/000.png\"]}\n%s",
			        (int)(cut - text), text, cut);

			assert_int_equal(
			    mirad_write_file_atomic(meta, bad, strlen(bad)), 0);
			free(bad);
			expect_load_error(v, 3, "t", "beyond the job's 7");
			bad = mirad_xasprintf("%.*s{\"seq\":5,\"files\":"
			                      "[\"../p0/cat/000.png\"]}\n%s",
			    (int)(cut - text), text, cut);
			assert_int_equal(
			    mirad_write_file_atomic(meta, bad, strlen(bad)), 0);
			free(bad);
			expect_load_error(v, 3, "t", "bad file name");
			/* Record 0 is shard 0's. */
			bad = mirad_xasprintf("%.*s{\"seq\":0,\"files\":[]}\n"
			                      "{\"end\":true,\"entries\":3,"
			                      "\"status\":0}\n",
			    (int)(cut - text), text);
			assert_int_equal(
			    mirad_write_file_atomic(meta, bad, strlen(bad)), 0);
			free(bad);
			expect_load_error(v, 3, "t", "record 0 is also in");
		}
		assert_int_equal(
		    mirad_write_file_atomic(meta, text, strlen(text)), 0);
		free(text);
		free(meta);
		assert_int_equal(
		    mirad_shard_load(v, 3, "t", &set, err, sizeof err), 0);
		mirad_shard_set_free(&set);
	}
	mirad_rm_rf(d);
	free(p0);
	free(p1);
	free(p2);
	free(q1);
	free(n4);
	free(jb);
	free(other);
	free(plain);
	free(nothere);
	free(d);
}

static void
test_shard_out_rules(void **state)
{
	char *d = test_tmpdir();
	char *p0 = make_part(d, "p0", "t", 0, 1, JOB_A, 2, 0);
	char *out = mirad_path_join(d, "out");
	char *inside = mirad_path_join(p0, "merged");
	const char *v[] = {p0};
	struct mirad_shard_set set;
	struct mirad_shard_merge m;
	struct mirad_strlist l;
	char err[512];
	char *keep;

	(void)state;
	assert_int_equal(mirad_shard_load(v, 1, "t", &set, err, sizeof err), 0);
	/* OUT exists: refused without force, and left as it was. */
	test_write(out, "keep.txt", "old");
	assert_int_equal(
	    mirad_cli_merge_begin(&m, out, false, &set, err, sizeof err), -1);
	assert_non_null(strstr(err, "exists (use --force"));
	keep = mirad_path_join(out, "keep.txt");
	assert_true(mirad_is_file(keep));
	/* OUT inside a part, or a part itself. */
	assert_int_equal(
	    mirad_cli_merge_begin(&m, inside, true, &set, err, sizeof err), -1);
	assert_non_null(strstr(err, "lies inside the input"));
	assert_int_equal(
	    mirad_cli_merge_begin(&m, p0, true, &set, err, sizeof err), -1);
	assert_non_null(strstr(err, "is the input"));
	/* --force replaces only a folder the family wrote. */
	assert_int_equal(
	    mirad_cli_merge_begin(&m, out, true, &set, err, sizeof err), -1);
	assert_non_null(strstr(err, "not written by mirad-tools"));
	assert_true(mirad_is_file(keep));
	assert_int_equal(mirad_output_mark(out, "t"), 0);
	/* Abandoning a begun merge leaves OUT and no temporary. */
	assert_int_equal(
	    mirad_cli_merge_begin(&m, out, true, &set, err, sizeof err), 0);
	assert_int_equal(
	    mirad_shard_merge_place(&m, &set, NULL, err, sizeof err), 0);
	mirad_shard_merge_abort(&m);
	assert_true(mirad_is_file(keep));
	assert_int_equal(mirad_list_dir(d, &l), 0);
	assert_int_equal(l.count, 3);
	assert_string_equal(l.items[0], ".p0.lock"); /* held while loaded */
	/* (OUT's own lock is gone with the abandoned merge.) */
	assert_string_equal(l.items[1], "out");
	assert_string_equal(l.items[2], "p0");
	mirad_strlist_free(&l);
	/* With force, OUT is replaced as a whole. */
	assert_int_equal(
	    mirad_cli_merge_begin(&m, out, true, &set, err, sizeof err), 0);
	assert_int_equal(
	    mirad_shard_merge_place(&m, &set, NULL, err, sizeof err), 0);
	assert_int_equal(mirad_shard_merge_publish(&m, err, sizeof err), 0);
	assert_false(mirad_exists(keep));
	free(keep);
	keep = mirad_path_join(out, "cat/001.png");
	assert_true(mirad_is_file(keep));
	/* Until the parts are removed, they are intact (hard links). */
	free(keep);
	keep = mirad_path_join(p0, "cat/001.png");
	assert_true(mirad_is_file(keep));
	mirad_shard_set_free(&set);
	mirad_rm_rf(d);
	free(keep);
	free(p0);
	free(out);
	free(inside);
	free(d);
}

/* Parts on another filesystem are copied, symbolic links kept. */
static void
test_shard_copy_across_filesystems(void **state)
{
	char *d = test_tmpdir(), *shm, *p0, *out, *link, *path, *text;
	struct stat a, b;
	const char *v[1];
	struct mirad_shard_set set;
	struct mirad_shard_merge m;
	struct mirad_shard_writer *w;
	const char *files[] = {"a.txt", "l.txt"};
	char err[512], buf[64];
	ssize_t n;

	(void)state;
	if (stat("/dev/shm", &a) != 0 || stat(d, &b) != 0 ||
	    a.st_dev == b.st_dev || access("/dev/shm", W_OK) != 0) {
		mirad_rm_rf(d);
		free(d);
		skip();
	}
	shm = strdup("/dev/shm/mirad-unit.XXXXXX");
	assert_non_null(mkdtemp(shm));
	p0 = mirad_path_join(shm, "p0");
	out = mirad_path_join(d, "out");
	test_write(p0, "a.txt", "bytes");
	link = mirad_path_join(p0, "l.txt");
	assert_int_equal(symlink("/some/target", link), 0);
	w = mirad_shard_writer_open(
	    p0, p0, "t", 0, 1, JOB_A, 1, NULL, err, sizeof err);
	assert_non_null(w);
	assert_int_equal(
	    mirad_shard_writer_add(w, 0, files, 2, NULL, NULL, err, sizeof err),
	    0);
	assert_int_equal(mirad_shard_writer_close(w, 0, err, sizeof err), 0);
	v[0] = p0;
	assert_int_equal(mirad_shard_load(v, 1, "t", &set, err, sizeof err), 0);
	assert_int_equal(
	    mirad_cli_merge_begin(&m, out, false, &set, err, sizeof err), 0);
	assert_int_equal(
	    mirad_shard_merge_place(&m, &set, NULL, err, sizeof err), 0);
	assert_int_equal(mirad_shard_merge_publish(&m, err, sizeof err), 0);
	path = mirad_path_join(out, "a.txt");
	text = slurp(path);
	assert_string_equal(text, "bytes");
	free(text);
	free(path);
	path = mirad_path_join(out, "l.txt");
	n = readlink(path, buf, sizeof buf - 1);
	assert_int_equal(n, 12);
	buf[n] = '\0';
	assert_string_equal(buf, "/some/target");
	free(path);
	assert_int_equal(mirad_shard_remove_parts(&set), 0);
	mirad_shard_set_free(&set);
	assert_false(mirad_exists(p0));
	mirad_rm_rf(shm);
	mirad_rm_rf(d);
	free(link);
	free(shm);
	free(p0);
	free(out);
	free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_shard_job_fingerprint),
	    cmocka_unit_test(test_shard_merge_round_trip),
	    cmocka_unit_test(test_shard_load_errors),
	    cmocka_unit_test(test_shard_out_rules),
	    cmocka_unit_test(test_shard_copy_across_filesystems),
	};
	return cmocka_run_group_tests_name("shard", tests, NULL, NULL);
}
