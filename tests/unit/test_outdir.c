/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include "test_util.h"

#include <errno.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_outdir.h"
#include "mirad_signal.h"

/* A folder for one test, with TARGET "out" in it (not created). */
struct fixture {
	char *dir;
	char *target;
};

static int
setup(void **state)
{
	struct fixture *fx = calloc(1, sizeof *fx);

	if (fx == NULL)
		return -1;
	fx->dir = test_tmpdir();
	fx->target = mirad_path_join(fx->dir, "out");
	*state = fx;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *fx = *state;

	mirad_rm_rf(fx->dir);
	free(fx->target);
	free(fx->dir);
	free(fx);
	return 0;
}

/* The names in FX's folder, space separated, with every
 * ".out.tmp-XXXXXX" written as ".out.tmp-*". */
static char *
listing(const struct fixture *fx)
{
	struct mirad_strlist names;
	char *out = mirad_xstrdup("");

	assert_int_equal(mirad_list_dir(fx->dir, &names), 0);
	for (size_t i = 0; i < names.count; i++) {
		const char *n = names.items[i];
		char *next = mirad_xasprintf("%s%s%s", out, *out ? " " : "",
		    strncmp(n, ".out.tmp-", 9) == 0 ? ".out.tmp-*" : n);

		free(out);
		out = next;
	}
	mirad_strlist_free(&names);
	return out;
}

static void
assert_listing(const struct fixture *fx, const char *want)
{
	char *got = listing(fx);

	assert_string_equal(got, want);
	free(got);
}

/* The text of DIR/REL ("" when missing). */
static char *
read_text(const char *dir, const char *rel)
{
	char *path = mirad_path_join(dir, rel);
	FILE *f = fopen(path, "r");
	char buf[256] = "";
	size_t n = 0;

	if (f != NULL) {
		n = fread(buf, 1, sizeof buf - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	free(path);
	return mirad_xstrdup(buf);
}

static void
assert_text(const char *dir, const char *rel, const char *want)
{
	char *got = read_text(dir, rel);

	assert_string_equal(got, want);
	free(got);
}

/* An old output the family wrote: "old.txt" and the mark. */
static void
make_old_output(const struct fixture *fx)
{
	test_write(fx->target, "old.txt", "old");
	assert_int_equal(mirad_output_mark(fx->target, "mirad-test"), 0);
}

static void
test_outdir_begin_commit(void **state)
{
	struct fixture *fx = *state;
	struct mirad_outdir *d;
	mode_t old = umask(022);
	struct stat st;

	assert_int_equal(mirad_outdir_begin(&d, fx->target, 0), 0);
	/* Locked, and the private folder is beside the target. */
	assert_listing(fx, ".out.lock .out.tmp-*");
	assert_int_equal(
	    strncmp(mirad_outdir_temp(d), fx->dir, strlen(fx->dir)), 0);
	/* The transaction's own copy of the target, for the caller to
	 * borrow. */
	assert_string_equal(mirad_outdir_target(d), fx->target);
	assert_ptr_not_equal(mirad_outdir_target(d), fx->target);
	assert_null(mirad_outdir_stream(d));
	test_write(mirad_outdir_temp(d), "a/b.txt", "new");
	assert_int_equal(mirad_outdir_commit(d), 0);
	assert_listing(fx, "out");
	assert_text(fx->target, "a/b.txt", "new");
	/* Published with the usual folder mode, not mkdtemp's 0700. */
	assert_int_equal(stat(fx->target, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	umask(old);
}

static void
test_outdir_abort(void **state)
{
	struct fixture *fx = *state;
	struct mirad_outdir *d;

	assert_int_equal(mirad_outdir_begin(&d, fx->target, 0), 0);
	test_write(mirad_outdir_temp(d), "b.txt", "new");
	mirad_outdir_abort(d);
	assert_listing(fx, "");
	mirad_outdir_abort(NULL);
}

static void
test_outdir_existing_target(void **state)
{
	struct fixture *fx = *state;
	char *file = mirad_path_join(fx->dir, "file");
	char *empty = mirad_path_join(fx->dir, "empty");
	struct mirad_outdir *d = (struct mirad_outdir *)fx;

	/* A folder no tool wrote: refused, with or without force, and
	 * nothing is held afterwards. */
	test_write(fx->target, "precious.txt", "mine");
	assert_int_equal(
	    mirad_outdir_begin(&d, fx->target, 0), MIRAD_OUTDIR_EXISTS);
	assert_null(d);
	assert_int_equal(mirad_outdir_begin(&d, fx->target, MIRAD_OUTDIR_FORCE),
	    MIRAD_OUTDIR_NOT_OURS);
	assert_listing(fx, "out");
	assert_text(fx->target, "precious.txt", "mine");
	/* A file is never replaced by a folder. */
	test_write(fx->dir, "file", "x");
	assert_int_equal(
	    mirad_outdir_replaceable(file, true), MIRAD_OUTDIR_NOT_FOLDER);
	assert_int_equal(
	    mirad_outdir_replaceable(file, false), MIRAD_OUTDIR_EXISTS);
	/* An empty folder may be replaced, and a missing one written. */
	assert_int_equal(mirad_mkdir_p(empty), 0);
	assert_int_equal(mirad_outdir_replaceable(empty, true), 0);
	assert_int_equal(
	    mirad_outdir_replaceable(empty, false), MIRAD_OUTDIR_EXISTS);
	assert_int_equal(mirad_rm_rf(fx->target), 0);
	assert_int_equal(mirad_outdir_replaceable(fx->target, false), 0);
	free(file);
	free(empty);
}

static void
test_outdir_force_replaces_whole(void **state)
{
	struct fixture *fx = *state;
	struct mirad_outdir *d;

	make_old_output(fx);
	assert_int_equal(
	    mirad_outdir_begin(&d, fx->target, MIRAD_OUTDIR_FORCE), 0);
	test_write(mirad_outdir_temp(d), "new.txt", "new");
	/* Until the commit, the old output is there as it was. */
	assert_text(fx->target, "old.txt", "old");
	assert_int_equal(mirad_outdir_commit(d), 0);
	assert_listing(fx, "out");
	assert_text(fx->target, "new.txt", "new");
	assert_text(fx->target, "old.txt", "");
}

static void
test_outdir_abort_keeps_previous(void **state)
{
	struct fixture *fx = *state;
	struct mirad_outdir *d;

	make_old_output(fx);
	assert_int_equal(
	    mirad_outdir_begin(&d, fx->target, MIRAD_OUTDIR_FORCE), 0);
	test_write(mirad_outdir_temp(d), "new.txt", "new");
	mirad_outdir_abort(d);
	assert_listing(fx, "out");
	assert_text(fx->target, "old.txt", "old");
	assert_text(fx->target, "new.txt", "");
}

/* The commit fails (the target appeared meanwhile and replacing it was not
 * asked for): the temporary is removed, the target is left as it is. */
static void
test_outdir_failed_commit_keeps_previous(void **state)
{
	struct fixture *fx = *state;
	struct mirad_outdir *d;

	assert_int_equal(mirad_outdir_begin(&d, fx->target, 0), 0);
	test_write(mirad_outdir_temp(d), "new.txt", "new");
	test_write(fx->target, "other.txt", "other");
	errno = 0;
	assert_int_equal(mirad_outdir_commit(d), MIRAD_OUTDIR_ERRNO);
	assert_int_equal(errno, EEXIST);
	assert_listing(fx, "out");
	assert_text(fx->target, "other.txt", "other");
	assert_text(fx->target, "new.txt", "");
}

static void
test_outdir_sweeps_stale_temps(void **state)
{
	struct fixture *fx = *state;
	struct mirad_outdir *d;

	test_write(fx->dir, ".out.tmp-AbC123/junk", "x");
	test_write(fx->dir, ".out.tmp-file", "x");
	test_write(fx->dir, ".other.tmp-AbC123", "not ours");
	assert_int_equal(mirad_outdir_lock(&d, fx->target, 0), 0);
	assert_int_equal(mirad_outdir_swept(d), 2);
	assert_listing(fx, ".other.tmp-AbC123 .out.lock");
	assert_null(mirad_outdir_temp(d));
	mirad_outdir_abort(d);
	assert_listing(fx, ".other.tmp-AbC123");
}

/* The steps of begin one by one: a failed check leaves the transaction
 * begun (locked) until the caller aborts it. */
static void
test_outdir_steps(void **state)
{
	struct fixture *fx = *state;
	struct mirad_outdir *d;

	make_old_output(fx);
	assert_int_equal(mirad_outdir_lock(&d, fx->target, 0), 0);
	assert_int_equal(mirad_outdir_check(d), MIRAD_OUTDIR_EXISTS);
	assert_listing(fx, ".out.lock out");
	mirad_outdir_abort(d);
	assert_int_equal(
	    mirad_outdir_lock(&d, fx->target, MIRAD_OUTDIR_FORCE), 0);
	assert_int_equal(mirad_outdir_check(d), 0);
	assert_int_equal(mirad_outdir_make_temp(d), 0);
	assert_listing(fx, ".out.lock .out.tmp-* out");
	assert_int_equal(mirad_outdir_commit(d), 0);
	assert_listing(fx, "out");
}

/* A tree found inside the temporary folder is published as the target;
 * the rest of the temporary folder goes. */
static void
test_outdir_commit_sub(void **state)
{
	struct fixture *fx = *state;
	struct mirad_outdir *d;
	char *sub;

	assert_int_equal(mirad_outdir_begin(&d, fx->target, 0), 0);
	sub = mirad_path_join(mirad_outdir_temp(d), "top");
	test_write(sub, "cat/a.txt", "a");
	test_write(mirad_outdir_temp(d), "__MACOSX/junk", "x");
	assert_int_equal(mirad_outdir_commit_sub(d, sub), 0);
	assert_listing(fx, "out");
	assert_text(fx->target, "cat/a.txt", "a");
	free(sub);
}

static void
test_outdir_file(void **state)
{
	struct fixture *fx = *state;
	struct mirad_outdir *d;

	test_write(fx->dir, "out", "old");
	/* A file is replaced without force; the old one stays until the
	 * commit, and an abort keeps it. */
	assert_int_equal(
	    mirad_outdir_begin(&d, fx->target, MIRAD_OUTDIR_FILE), 0);
	assert_null(mirad_outdir_temp(d));
	assert_listing(fx, ".out.lock .out.tmp-* out");
	fputs("new", mirad_outdir_stream(d));
	mirad_outdir_abort(d);
	assert_listing(fx, "out");
	assert_text(fx->dir, "out", "old");
	assert_int_equal(
	    mirad_outdir_begin(&d, fx->target, MIRAD_OUTDIR_FILE), 0);
	fputs("new", mirad_outdir_stream(d));
	assert_text(fx->dir, "out", "old");
	assert_int_equal(mirad_outdir_commit(d), 0);
	assert_listing(fx, "out");
	assert_text(fx->dir, "out", "new");
	/* Standard output: no lock, no temporary. */
	assert_int_equal(mirad_outdir_begin(&d, "-", MIRAD_OUTDIR_FILE), 0);
	assert_true(mirad_outdir_stream(d) == stdout);
	assert_listing(fx, "out");
	assert_int_equal(mirad_outdir_commit(d), 0);
}

/* A child process tries the lock the parent holds, then the parent tries
 * the one a child holds; pipes order the steps (no sleeping). */
static void
test_outdir_lock_held_elsewhere(void **state)
{
	struct fixture *fx = *state;
	struct mirad_outdir *d;
	int ready[2], done[2], status;
	pid_t pid;
	char c;

	assert_int_equal(mirad_outdir_begin(&d, fx->target, 0), 0);
	fflush(NULL); /* or the child's exit writes the buffers again */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct mirad_outdir *mine = NULL;
		int rc = mirad_outdir_begin(&mine, fx->target, 0);

		_exit(rc == MIRAD_OUTDIR_BUSY && errno == EWOULDBLOCK &&
		            mine == NULL
		        ? 0
		        : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The refused child left the parent's run alone. */
	assert_listing(fx, ".out.lock .out.tmp-*");
	mirad_outdir_abort(d);

	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(done), 0);
	fflush(NULL); /* or the child's exit writes the buffers again */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct mirad_outdir *mine;
		int rc = mirad_outdir_begin(&mine, fx->target, 0);

		(void)!write(ready[1], rc == 0 ? "y" : "n", 1);
		(void)!read(done[0], &c, 1); /* until the parent has tried */
		mirad_outdir_abort(mine);
		_exit(0);
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	assert_int_equal(
	    mirad_outdir_begin(&d, fx->target, 0), MIRAD_OUTDIR_BUSY);
	assert_null(d);
	assert_int_equal(write(done[1], "x", 1), 1);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_listing(fx, "");
	close(ready[0]);
	close(ready[1]);
	close(done[0]);
	close(done[1]);
}

/* A run that dies (exit, as mirad_die() does) or is interrupted leaves the
 * old output, and neither its temporary nor its lock. */
static void
test_outdir_exit_and_signal_abort(void **state)
{
	struct fixture *fx = *state;
	int status;
	pid_t pid;

	make_old_output(fx);
	fflush(NULL); /* or the child's exit writes the buffers again */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct mirad_outdir *d;

		if (mirad_outdir_begin(&d, fx->target, MIRAD_OUTDIR_FORCE) != 0)
			_exit(1);
		test_write(mirad_outdir_temp(d), "new.txt", "new");
		exit(3);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 3);
	assert_listing(fx, "out");
	assert_text(fx->target, "old.txt", "old");

	fflush(NULL); /* or the child's exit writes the buffers again */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct mirad_outdir *d;

		mirad_signal_install();
		if (mirad_outdir_begin(&d, fx->target, MIRAD_OUTDIR_FORCE) != 0)
			_exit(1);
		test_write(mirad_outdir_temp(d), "new.txt", "new");
		raise(SIGTERM); /* only sets the flag */
		if (mirad_signal_pending() != SIGTERM)
			_exit(2);
		mirad_signal_reraise();
		_exit(4);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGTERM);
	assert_listing(fx, "out");
	assert_text(fx->target, "old.txt", "old");
}

/* A forked child that exits does not abort the parent's transaction. */
static void
test_outdir_child_exit_keeps_parents(void **state)
{
	struct fixture *fx = *state;
	struct mirad_outdir *d;
	int status;
	pid_t pid;

	assert_int_equal(mirad_outdir_begin(&d, fx->target, 0), 0);
	fflush(NULL); /* or the child's exit writes the buffers again */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		exit(0);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_listing(fx, ".out.lock .out.tmp-*");
	assert_int_equal(mirad_outdir_commit(d), 0);
	assert_listing(fx, "out");
}

int
main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
	    T(test_outdir_begin_commit),
	    T(test_outdir_abort),
	    T(test_outdir_existing_target),
	    T(test_outdir_force_replaces_whole),
	    T(test_outdir_abort_keeps_previous),
	    T(test_outdir_failed_commit_keeps_previous),
	    T(test_outdir_sweeps_stale_temps),
	    T(test_outdir_steps),
	    T(test_outdir_commit_sub),
	    T(test_outdir_file),
	    T(test_outdir_lock_held_elsewhere),
	    T(test_outdir_exit_and_signal_abort),
	    T(test_outdir_child_exit_keeps_parents),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
