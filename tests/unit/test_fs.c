/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include "test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "mirad_err.h"
#include "mirad_fs.h"

/* A path and its directory part. */
static const char *const dirnames[][2] = {
    {"a/b/c.png", "a/b"},
    {"c.png", "."},
    {"/c.png", "/"},
    {"a//b/", "a//b"},
    {"a//b", "a"},
    {"//c", "/"},
};

static void
test_fs_path_parts(void **state)
{
	char *s;

	(void)state;
	s = mirad_path_join("a/b", "c.png");
	assert_string_equal(s, "a/b/c.png");
	free(s);
	s = mirad_path_join("a/", "/abs");
	assert_string_equal(s, "/abs");
	free(s);
	s = mirad_path_join(".", "x");
	assert_string_equal(s, "x");
	free(s);
	for (size_t i = 0; i < sizeof dirnames / sizeof *dirnames; i++) {
		s = mirad_path_dirname(dirnames[i][0]);
		assert_string_equal(s, dirnames[i][1]);
		free(s);
	}
	assert_string_equal(mirad_path_basename("a/b/c.png"), "c.png");
	assert_string_equal(mirad_path_ext("a/b/c.tar.PNG"), ".PNG");
	assert_string_equal(mirad_path_ext("a/.hidden"), "");
	s = mirad_path_stem("x/000_mask.png");
	assert_string_equal(s, "000_mask");
	free(s);
	assert_true(mirad_path_escapes("../x"));
	assert_true(mirad_path_escapes("a/../../x"));
	assert_true(mirad_path_escapes("/etc/passwd"));
	assert_false(mirad_path_escapes("a/..b/c"));
	s = mirad_path_absolute("/a/./b//c/");
	assert_string_equal(s, "/a/b/c");
	free(s);
}

static void
test_fs_mkdir_p_and_list_sorted(void **state)
{
	char *d = test_tmpdir();
	char *deep = mirad_path_join(d, "x/y/z");
	struct mirad_strlist l;

	(void)state;
	assert_int_equal(mirad_mkdir_p(deep), 0);
	assert_int_equal(mirad_mkdir_p(deep), 0);
	assert_true(mirad_is_dir(deep));
	test_write(d, "b.txt", "b");
	test_write(d, "a.txt", "a");
	test_write(d, "B.txt", "B");
	assert_int_equal(mirad_list_dir(d, &l), 0);
	assert_int_equal(l.count, 4);
	assert_string_equal(l.items[0], "B.txt");
	assert_string_equal(l.items[1], "a.txt");
	assert_string_equal(l.items[3], "x");
	mirad_strlist_free(&l);
	assert_int_equal(mirad_rm_rf(d), 0);
	assert_false(mirad_exists(d));
	free(deep);
	free(d);
}

/* The empty path names no folder; it must fail without touching memory
 * past the string (run under valgrind or ASan to see the difference). */
static void
test_fs_mkdir_p_empty_path(void **state)
{
	(void)state;
	errno = 0;
	assert_int_equal(mirad_mkdir_p(""), -1);
	assert_int_equal(errno, ENOENT);
}

/* A file where a folder should be: no folder is made through or over it. */
static void
test_fs_mkdir_p_over_a_file(void **state)
{
	char *d = test_tmpdir();
	char *file = mirad_path_join(d, "f");
	char *below = mirad_path_join(d, "f/x/y");

	(void)state;
	test_write(d, "f", "not a folder");
	errno = 0;
	assert_int_equal(mirad_mkdir_p(file), -1);
	assert_int_equal(errno, ENOTDIR);
	errno = 0;
	assert_int_equal(mirad_mkdir_p(below), -1);
	assert_int_equal(errno, ENOTDIR);
	assert_true(mirad_is_file(file));
	assert_int_equal(mirad_rm_rf(d), 0);
	free(below);
	free(file);
	free(d);
}

static void
test_fs_outfile_appears_only_on_commit(void **state)
{
	char *d = test_tmpdir();
	char *p = mirad_path_join(d, "out.txt");
	struct mirad_outfile *f;
	struct mirad_strlist l;

	(void)state;
	test_write(d, "out.txt", "old");
	f = mirad_outfile_open(p);
	assert_non_null(f);
	fputs("new", mirad_outfile_stream(f));
	fflush(mirad_outfile_stream(f));
	/* Before the commit the old content is intact. */
	{
		char buf[8] = {0};
		FILE *in = fopen(p, "r");

		assert_non_null(fgets(buf, sizeof buf, in));
		fclose(in);
		assert_string_equal(buf, "old");
	}
	mirad_outfile_abort(f);
	assert_int_equal(mirad_list_dir(d, &l), 0);
	assert_int_equal(l.count, 1); /* no temporary left */
	mirad_strlist_free(&l);
	f = mirad_outfile_open(p);
	fputs("new", mirad_outfile_stream(f));
	assert_int_equal(mirad_outfile_commit(f), 0);
	{
		char buf[8] = {0};
		FILE *in = fopen(p, "r");

		assert_non_null(fgets(buf, sizeof buf, in));
		fclose(in);
		assert_string_equal(buf, "new");
	}
	mirad_rm_rf(d);
	free(p);
	free(d);
}

static void
test_fs_dir_publish_replaces_whole_tree(void **state)
{
	char *d = test_tmpdir();
	char *target = mirad_path_join(d, "ds");
	char *tmp;
	struct mirad_strlist l;

	(void)state;
	test_write(target, "old.txt", "old");
	tmp = mirad_tmpdir_beside(target);
	assert_non_null(tmp);
	test_write(tmp, "new.txt", "new");
	assert_int_equal(mirad_dir_publish(tmp, target, false), -1);
	assert_int_equal(errno, EEXIST);
	assert_int_equal(mirad_dir_publish(tmp, target, true), 0);
	assert_int_equal(mirad_list_dir(target, &l), 0);
	assert_int_equal(l.count, 1);
	assert_string_equal(l.items[0], "new.txt");
	mirad_strlist_free(&l);
	assert_int_equal(mirad_list_dir(d, &l), 0);
	assert_int_equal(l.count, 1); /* nothing left beside it */
	mirad_strlist_free(&l);
	mirad_rm_rf(d);
	free(tmp);
	free(target);
	free(d);
}

static void
test_fs_lock_excludes_second_holder(void **state)
{
	char *d = test_tmpdir();
	char *target = mirad_path_join(d, "ds");
	int fd = mirad_lock_acquire(target);
	pid_t pid;
	int status;

	(void)state;
	assert_true(fd >= 0);
	/* flock() locks are per open file description: a child process
	 * opening the file again must be refused. */
	pid = fork();
	if (pid == 0) {
		int fd2 = mirad_lock_acquire(target);

		_exit(fd2 < 0 && errno == EWOULDBLOCK ? 0 : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	mirad_lock_release(fd, target);
	fd = mirad_lock_acquire(target);
	assert_true(fd >= 0);
	mirad_lock_release(fd, target);
	mirad_rm_rf(d);
	free(target);
	free(d);
}

/*
 * Several processes taking and releasing the lock in a tight loop; each
 * holder creates a marker with O_EXCL, so two holders at once show as
 * EEXIST.  mirad_lock_release() unlinks the lock file before closing it:
 * without the inode check in mirad_lock_acquire(), a process that opened
 * the old file just before the unlink got a lock on it while another one
 * locked the new file.
 */
static void
test_fs_lock_one_holder_under_contention(void **state)
{
	char *d = test_tmpdir();
	char *target = mirad_path_join(d, "ds");
	char *marker = mirad_path_join(d, "held");
	pid_t pids[4];
	int status, held = 0;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		pids[i] = fork();
		assert_true(pids[i] >= 0);
		if (pids[i] != 0)
			continue;
		int code = 0;
		for (int n = 0, got = 0; n < 20000 && got < 300; n++) {
			int fd = mirad_lock_acquire(target), m;

			if (fd < 0)
				continue;
			got++;
			m = open(marker, O_WRONLY | O_CREAT | O_EXCL, 0600);
			if (m < 0) {
				code = 2; /* another holder */
				break;
			}
			close(m);
			unlink(marker);
			mirad_lock_release(fd, target);
		}
		/* The child's copies too, so valgrind (which follows the
		 * fork) sees no leak. */
		free(marker);
		free(target);
		free(d);
		_exit(code);
	}
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		held |= WEXITSTATUS(status);
	}
	assert_int_equal(held, 0);
	mirad_rm_rf(d);
	free(marker);
	free(target);
	free(d);
}

static void
test_fs_copy_file(void **state)
{
	char *d = test_tmpdir();
	char *a = mirad_path_join(d, "a"), *b = mirad_path_join(d, "b");
	char buf[16] = {0};
	FILE *in;

	(void)state;
	test_write(d, "a", "payload");
	assert_int_equal(mirad_copy_file(a, b), 0);
	in = fopen(b, "r");
	assert_non_null(fgets(buf, sizeof buf, in));
	fclose(in);
	assert_string_equal(buf, "payload");
	assert_int_equal(mirad_copy_file("/nonexistent/x", b), -1);
	mirad_rm_rf(d);
	free(a);
	free(b);
	free(d);
}

static void
test_fs_write_unsynced_and_sync_tree(void **state)
{
	char *d = test_tmpdir();
	char *a = mirad_path_join(d, "a"), *none = mirad_path_join(d, "x/y");
	char buf[16] = {0};
	FILE *in;

	(void)state;
	assert_int_equal(mirad_write_file_unsynced(a, "payload", 7), 0);
	in = fopen(a, "r");
	assert_non_null(fgets(buf, sizeof buf, in));
	fclose(in);
	assert_string_equal(buf, "payload");
	/* A new file only: an existing one is refused and left alone. */
	assert_int_equal(mirad_write_file_unsynced(a, "other", 5), -1);
	assert_int_equal(errno, EEXIST);
	in = fopen(a, "r");
	assert_non_null(fgets(buf, sizeof buf, in));
	fclose(in);
	assert_string_equal(buf, "payload");
	assert_int_equal(mirad_write_file_unsynced(none, "x", 1), -1);
	assert_int_equal(errno, ENOENT);
	assert_int_equal(mirad_sync_tree(d), 0);
	assert_int_equal(mirad_sync_tree(none), -1);
	mirad_rm_rf(d);
	free(a);
	free(none);
	free(d);
}

static void
test_fs_remove_stale_temps(void **state)
{
	char *d = test_tmpdir();
	char *target = mirad_path_join(d, "out");
	struct mirad_strlist l;

	(void)state;
	test_write(d, ".out.tmp-AAAA/x/y.png", "x");
	test_write(d, ".out.tmp-BBBB", "file");
	test_write(d, ".other.tmp-CCCC/z", "keep");
	test_write(d, "out/kept.png", "keep");
	assert_int_equal(mirad_remove_stale_temps(target), 2);
	assert_int_equal(mirad_list_dir(d, &l), 0);
	assert_int_equal(l.count, 2);
	assert_string_equal(l.items[0], ".other.tmp-CCCC");
	assert_string_equal(l.items[1], "out");
	mirad_strlist_free(&l);
	assert_int_equal(mirad_remove_stale_temps(target), 0);
	mirad_rm_rf(d);
	free(target);
	free(d);
}

static void
test_fs_path_real_and_within(void **state)
{
	char *d = test_tmpdir();
	char *real_d = realpath(d, NULL);
	char *link = mirad_path_join(d, "link");
	char *p, *want;

	(void)state;
	test_write(d, "ds/cat/a.png", "x");
	p = mirad_path_join(d, "ds");
	assert_int_equal(symlink(p, link), 0);
	free(p);
	/* A path through a symbolic link, and a missing tail with "..". */
	p = mirad_xasprintf("%s/link/new/../out", d);
	{
		char *r = mirad_path_real(p);

		want = mirad_xasprintf("%s/ds/out", real_d);
		assert_string_equal(r, want);
		free(r);
		free(want);
	}
	free(p);
	assert_true(mirad_path_within("/a/b", "/a/b"));
	assert_true(mirad_path_within("/a/b/c", "/a/b"));
	assert_false(mirad_path_within("/a/bc", "/a/b"));
	assert_false(mirad_path_within("/a", "/a/b"));
	assert_true(mirad_path_within("/a", "/"));
	mirad_rm_rf(d);
	free(link);
	free(real_d);
	free(d);
}

static void
test_fs_out_guard(void **state)
{
	char *d = test_tmpdir();
	char *ds = mirad_path_join(d, "ds");
	char *img = mirad_path_join(d, "ds/cat/a.png");
	char *link = mirad_path_join(d, "link");
	char *out, err[512];
	struct mirad_out_guard *g;

	(void)state;
	test_write(d, "ds/cat/a.png", "x");
	test_write(d, "dsx/b.png", "x");
	assert_int_equal(symlink(ds, link), 0);
	/* OUT is the dataset (through a link), holds it, lies inside it. */
	g = mirad_out_guard_new(link);
	assert_int_equal(
	    mirad_out_guard_check(g, ds, true, err, sizeof err), -1);
	assert_non_null(strstr(err, "is the input"));
	mirad_out_guard_free(g);
	g = mirad_out_guard_new(d);
	assert_int_equal(
	    mirad_out_guard_check(g, img, false, err, sizeof err), -1);
	assert_non_null(strstr(err, "would hold the input"));
	mirad_out_guard_free(g);
	out = mirad_path_join(d, "link/new");
	g = mirad_out_guard_new(out);
	assert_int_equal(
	    mirad_out_guard_check(g, ds, true, err, sizeof err), -1);
	assert_non_null(strstr(err, "lies inside the input"));
	/* A file is no tree: OUT beside it is fine. */
	assert_int_equal(
	    mirad_out_guard_check(g, img, false, err, sizeof err), 0);
	mirad_out_guard_free(g);
	free(out);
	/* An OUT that only gains files may hold inputs, not be one. */
	g = mirad_out_guard_new_adding(d);
	assert_int_equal(
	    mirad_out_guard_check(g, img, false, err, sizeof err), 0);
	assert_int_equal(
	    mirad_out_guard_check(g, ds, true, err, sizeof err), 0);
	mirad_out_guard_free(g);
	g = mirad_out_guard_new_adding(img);
	assert_int_equal(
	    mirad_out_guard_check(g, img, false, err, sizeof err), -1);
	assert_non_null(strstr(err, "is the input"));
	assert_int_equal(
	    mirad_out_guard_check(g, ds, true, err, sizeof err), -1);
	assert_non_null(strstr(err, "lies inside the input"));
	mirad_out_guard_free(g);
	/* Files of two folders in turn (images and masks), one of them
	 * reached through a link: each is judged by its own folder. */
	test_write(d, "ds/gt/m.png", "x");
	{
		char *gt = mirad_path_join(d, "ds/gt");
		char *mask = mirad_path_join(d, "ds/gt/m.png");
		char *via = mirad_path_join(d, "gtlink");
		char *mask_via = mirad_path_join(d, "gtlink/m.png");

		assert_int_equal(symlink(gt, via), 0);
		g = mirad_out_guard_new(gt);
		for (int round = 0; round < 2; round++) {
			assert_int_equal(mirad_out_guard_check(
			                     g, img, false, err, sizeof err),
			    0);
			assert_int_equal(mirad_out_guard_check(
			                     g, mask, false, err, sizeof err),
			    -1);
			assert_int_equal(mirad_out_guard_check(g, mask_via,
			                     false, err, sizeof err),
			    -1);
		}
		mirad_out_guard_free(g);
		free(gt);
		free(mask);
		free(via);
		free(mask_via);
	}
	/* Component-wise: .../ds is not inside .../dsx, nor the reverse. */
	out = mirad_path_join(d, "dsx");
	g = mirad_out_guard_new(out);
	assert_int_equal(
	    mirad_out_guard_check(g, ds, true, err, sizeof err), 0);
	assert_int_equal(
	    mirad_out_guard_check(g, img, false, err, sizeof err), 0);
	mirad_out_guard_free(g);
	free(out);
	mirad_rm_rf(d);
	free(ds);
	free(img);
	free(link);
	free(d);
}

static void
test_fs_publish_mode(void **state)
{
	char *d = test_tmpdir();
	char *target = mirad_path_join(d, "out");
	char *tmp = mirad_tmpdir_beside(target);
	mode_t old = umask(022);
	struct stat st;

	(void)state;
	assert_non_null(tmp);
	assert_int_equal(mirad_dir_publish(tmp, target, false), 0);
	assert_int_equal(stat(target, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	umask(old);
	mirad_rm_rf(d);
	free(tmp);
	free(target);
	free(d);
}

static void
test_fs_clone_file(void **state)
{
	char *d = test_tmpdir();
	char *a = mirad_path_join(d, "a"), *b = mirad_path_join(d, "b");
	struct stat sa, sb;
	char buf[16] = {0};
	FILE *f;

	(void)state;
	test_write(d, "a", "payload");
	assert_int_equal(mirad_clone_file(a, b), 0);
	assert_int_equal(stat(a, &sa), 0);
	assert_int_equal(stat(b, &sb), 0);
	assert_true(sa.st_ino != sb.st_ino);
	/* Writing to the clone leaves the source alone. */
	f = fopen(b, "r+");
	assert_non_null(f);
	fputs("CHANGED", f);
	fclose(f);
	f = fopen(a, "r");
	assert_non_null(fgets(buf, sizeof buf, f));
	fclose(f);
	assert_string_equal(buf, "payload");
	/* DST must be new. */
	assert_int_equal(mirad_clone_file(a, b), -1);
	assert_int_equal(errno, EEXIST);
	/* From an open descriptor, which stays the caller's. */
	{
		char *c = mirad_path_join(d, "c");
		int fd = open(a, O_RDONLY);

		assert_true(fd >= 0);
		assert_int_equal(mirad_clone_fd(fd, c), 0);
		f = fopen(c, "r");
		assert_non_null(fgets(buf, sizeof buf, f));
		fclose(f);
		assert_string_equal(buf, "payload");
		assert_int_equal(mirad_clone_fd(fd, c), -1);
		assert_int_equal(errno, EEXIST);
		assert_int_equal(close(fd), 0);
		free(c);
	}
	mirad_rm_rf(d);
	free(a);
	free(b);
	free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fs_path_parts),
	    cmocka_unit_test(test_fs_mkdir_p_and_list_sorted),
	    cmocka_unit_test(test_fs_mkdir_p_empty_path),
	    cmocka_unit_test(test_fs_mkdir_p_over_a_file),
	    cmocka_unit_test(test_fs_outfile_appears_only_on_commit),
	    cmocka_unit_test(test_fs_dir_publish_replaces_whole_tree),
	    cmocka_unit_test(test_fs_lock_excludes_second_holder),
	    cmocka_unit_test(test_fs_lock_one_holder_under_contention),
	    cmocka_unit_test(test_fs_copy_file),
	    cmocka_unit_test(test_fs_write_unsynced_and_sync_tree),
	    cmocka_unit_test(test_fs_remove_stale_temps),
	    cmocka_unit_test(test_fs_path_real_and_within),
	    cmocka_unit_test(test_fs_out_guard),
	    cmocka_unit_test(test_fs_publish_mode),
	    cmocka_unit_test(test_fs_clone_file),
	};
	return cmocka_run_group_tests_name("fs", tests, NULL, NULL);
}
