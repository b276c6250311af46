/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_outdir.h"
#include "mirad_signal.h"

struct mirad_outdir {
	char *target;
	unsigned flags;
	int lock_fd; /* -1 for standard output */
	size_t swept;
	char *temp;                 /* folder mode */
	struct mirad_outfile *file; /* FILE mode */
	pid_t owner;
	struct mirad_outdir *next; /* in the list of begun transactions */
};

/* The transactions begun and not yet ended, newest first: what an exit or
 * an interrupting signal aborts. */
static struct mirad_outdir *live;

static void
abort_live(void)
{
	struct mirad_outdir **p = &live;

	while (*p != NULL) {
		if ((*p)->owner == getpid())
			mirad_outdir_abort(*p); /* unlinks it from the list */
		else
			p = &(*p)->next;
	}
}

static void
enlist(struct mirad_outdir *d)
{
	static bool registered;

	if (!registered) {
		/* atexit() covers mirad_die() and every other exit; a signal
		 * ends the process without it, so it is also a hook of
		 * mirad_signal_reraise(). */
		(void)atexit(abort_live);
		(void)mirad_signal_at_reraise(abort_live);
		registered = true;
	}
	d->next = live;
	live = d;
}

static void
delist(struct mirad_outdir *d)
{
	for (struct mirad_outdir **p = &live; *p != NULL; p = &(*p)->next)
		if (*p == d) {
			*p = d->next;
			break;
		}
}

static bool
is_stdout(const struct mirad_outdir *d)
{
	return (d->flags & MIRAD_OUTDIR_FILE) && strcmp(d->target, "-") == 0;
}

/* Unlock and free D (the temporary is gone or published). */
static void
release(struct mirad_outdir *d)
{
	int err = errno;

	delist(d);
	if (d->lock_fd >= 0)
		mirad_lock_release(d->lock_fd, d->target);
	free(d->temp);
	free(d->target);
	free(d);
	errno = err;
}

int
mirad_outdir_lock(struct mirad_outdir **out, const char *target, unsigned flags)
{
	struct mirad_outdir *d = mirad_xcalloc(1, sizeof *d);

	*out = NULL;
	d->target = mirad_xstrdup(target);
	d->flags = flags;
	d->lock_fd = -1;
	d->owner = getpid();
	if (!is_stdout(d)) {
		d->lock_fd = mirad_lock_acquire(target);
		if (d->lock_fd < 0) {
			int err = errno;

			free(d->target);
			free(d);
			errno = err;
			return err == EWOULDBLOCK ? MIRAD_OUTDIR_BUSY
			                          : MIRAD_OUTDIR_ERRNO;
		}
		/* The lock is ours: no live run owns what is beside TARGET. */
		d->swept = mirad_remove_stale_temps(target);
	}
	enlist(d);
	*out = d;
	return MIRAD_OUTDIR_OK;
}

int
mirad_outdir_check(struct mirad_outdir *d)
{
	if (d->flags & MIRAD_OUTDIR_FILE)
		return MIRAD_OUTDIR_OK;
	return mirad_outdir_replaceable(
	    d->target, (d->flags & MIRAD_OUTDIR_FORCE) != 0);
}

int
mirad_outdir_make_temp(struct mirad_outdir *d)
{
	if (d->flags & MIRAD_OUTDIR_FILE) {
		if (d->file == NULL)
			d->file = mirad_outfile_open(d->target);
		return d->file != NULL ? MIRAD_OUTDIR_OK : MIRAD_OUTDIR_ERRNO;
	}
	if (d->temp == NULL)
		d->temp = mirad_tmpdir_beside(d->target);
	return d->temp != NULL ? MIRAD_OUTDIR_OK : MIRAD_OUTDIR_ERRNO;
}

int
mirad_outdir_begin(
    struct mirad_outdir **out, const char *target, unsigned flags)
{
	int rc = mirad_outdir_lock(out, target, flags);

	if (rc == MIRAD_OUTDIR_OK)
		rc = mirad_outdir_check(*out);
	if (rc == MIRAD_OUTDIR_OK)
		rc = mirad_outdir_make_temp(*out);
	if (rc != MIRAD_OUTDIR_OK) {
		mirad_outdir_abort(*out);
		*out = NULL;
	}
	return rc;
}

size_t
mirad_outdir_swept(const struct mirad_outdir *d)
{
	return d->swept;
}

const char *
mirad_outdir_target(const struct mirad_outdir *d)
{
	return d->target;
}

const char *
mirad_outdir_temp(const struct mirad_outdir *d)
{
	return d->temp;
}

FILE *
mirad_outdir_stream(struct mirad_outdir *d)
{
	return d->file != NULL ? mirad_outfile_stream(d->file) : NULL;
}

/* After the rename: make the new name itself durable.  Best effort, as
 * TARGET is published whatever it returns. */
static void
sync_parent(const char *target)
{
	char *abs = mirad_path_absolute(target);
	char *dir;
	int fd;

	if (abs == NULL)
		return;
	dir = mirad_path_dirname(abs);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
	free(dir);
	free(abs);
}

int
mirad_outdir_commit_sub(struct mirad_outdir *d, const char *sub)
{
	int rc = 0;

	if (d->flags & MIRAD_OUTDIR_FILE) {
		struct mirad_outfile *f = d->file;

		d->file = NULL;
		if (f == NULL) {
			errno = EINVAL;
			rc = -1;
		} else {
			/* On failure it removes the temporary file. */
			rc = mirad_outfile_commit(f);
		}
	} else if (d->temp == NULL) {
		errno = EINVAL;
		rc = -1;
	} else {
		rc = mirad_sync_tree(d->temp);
		if (rc == 0)
			rc = mirad_dir_publish(sub, d->target,
			    (d->flags & MIRAD_OUTDIR_FORCE) != 0);
		if (rc == 0 && strcmp(sub, d->temp) == 0) {
			free(d->temp); /* it is TARGET now */
			d->temp = NULL;
		}
	}
	if (rc != 0) {
		int err = errno;

		mirad_outdir_abort(d);
		errno = err;
		return MIRAD_OUTDIR_ERRNO;
	}
	if (!is_stdout(d))
		sync_parent(d->target);
	if (d->temp != NULL) /* what was around SUB */
		(void)mirad_rm_rf(d->temp);
	release(d);
	return MIRAD_OUTDIR_OK;
}

int
mirad_outdir_commit(struct mirad_outdir *d)
{
	return mirad_outdir_commit_sub(d, d->temp);
}

void
mirad_outdir_abort(struct mirad_outdir *d)
{
	int err = errno;

	if (d == NULL)
		return;
	mirad_outfile_abort(d->file);
	d->file = NULL;
	if (d->temp != NULL)
		(void)mirad_rm_rf(d->temp);
	release(d);
	errno = err;
}

int
mirad_outdir_replaceable(const char *target, bool force)
{
	/* The marks of the family's outputs (mirad_fs.h). */
	static const char *const marks[] = {
	    MIRAD_OUTPUT_MARK, ".mirad-shard.jsonl", ".mirad-fetch.json"};
	struct mirad_strlist names;
	struct stat st;
	bool ok;

	if (lstat(target, &st) != 0)
		return MIRAD_OUTDIR_OK;
	if (!force)
		return MIRAD_OUTDIR_EXISTS;
	if (!S_ISDIR(st.st_mode))
		return MIRAD_OUTDIR_NOT_FOLDER;
	if (mirad_list_dir(target, &names) != 0)
		return MIRAD_OUTDIR_ERRNO;
	ok = names.count == 0;
	for (size_t i = 0; i < sizeof marks / sizeof *marks && !ok; i++)
		ok = mirad_strlist_contains(&names, marks[i]);
	mirad_strlist_free(&names);
	return ok ? MIRAD_OUTDIR_OK : MIRAD_OUTDIR_NOT_OURS;
}
