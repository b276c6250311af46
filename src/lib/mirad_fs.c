/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#if defined(__linux__)
#include <linux/fs.h>
#endif

#include <cjson/cJSON.h>
#include <glib.h>

#include "mirad_err.h"
#include "mirad_fs.h"

char *
mirad_path_join(const char *a, const char *b)
{
	size_t la;

	if (b[0] == '/' || a == NULL || a[0] == '\0' || strcmp(a, ".") == 0)
		return mirad_xstrdup(b);
	if (b[0] == '\0')
		return mirad_xstrdup(a);
	la = strlen(a);
	if (a[la - 1] == '/')
		return mirad_xasprintf("%s%s", a, b);
	return mirad_xasprintf("%s/%s", a, b);
}

char *
mirad_path_dirname(const char *p)
{
	return g_path_get_dirname(p);
}

const char *
mirad_path_basename(const char *p)
{
	const char *slash = strrchr(p, '/');

	return slash ? slash + 1 : p;
}

const char *
mirad_path_ext(const char *p)
{
	const char *base = mirad_path_basename(p);
	const char *dot = strrchr(base, '.');

	if (dot == NULL || dot == base)
		return base + strlen(base);
	return dot;
}

char *
mirad_path_stem(const char *p)
{
	const char *base = mirad_path_basename(p);
	const char *ext = mirad_path_ext(p);
	char *s = strndup(base, (size_t)(ext - base));

	if (s == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	return s;
}

char *
mirad_path_absolute(const char *p)
{
	char cwd[PATH_MAX];
	char *joined, *out, *src, *dst;

	if (p[0] == '/') {
		joined = mirad_xstrdup(p);
	} else {
		if (getcwd(cwd, sizeof cwd) == NULL)
			return NULL;
		joined = mirad_path_join(cwd, p);
	}
	/* Drop "." components and repeated slashes, in place. */
	out = joined;
	src = dst = joined;
	while (*src) {
		if (src[0] == '/' && src[1] == '/') {
			src++;
			continue;
		}
		if (src[0] == '/' && src[1] == '.' &&
		    (src[2] == '/' || src[2] == '\0')) {
			src += 2;
			continue;
		}
		*dst++ = *src++;
	}
	*dst = '\0';
	if (dst > out + 1 && dst[-1] == '/')
		dst[-1] = '\0';
	if (*out == '\0')
		strcpy(out, "/");
	return out;
}

bool
mirad_path_escapes(const char *p)
{
	const char *s = p;

	if (p[0] == '/')
		return true;
	while (*s) {
		const char *e = strchr(s, '/');
		size_t len = e ? (size_t)(e - s) : strlen(s);

		if (len == 2 && s[0] == '.' && s[1] == '.')
			return true;
		if (e == NULL)
			break;
		s = e + 1;
	}
	return false;
}

/* Append relative path REST to the real directory HEAD (taking over HEAD),
 * resolving "." and ".." by name: none of REST exists, so none of it is a
 * link. */
static char *
append_missing(char *head, const char *rest)
{
	char *out = head;
	const char *s = rest;

	while (*s) {
		const char *e = strchr(s, '/');
		size_t len = e ? (size_t)(e - s) : strlen(s);

		if (len == 2 && s[0] == '.' && s[1] == '.') {
			char *up = mirad_path_dirname(out);

			free(out);
			out = up;
		} else if (len > 0 && !(len == 1 && s[0] == '.')) {
			char *comp = strndup(s, len);
			char *joined;

			if (comp == NULL)
				mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM,
				    "allocation failed");
			joined = mirad_path_join(out, comp);
			free(comp);
			free(out);
			out = joined;
		}
		if (e == NULL)
			break;
		s = e + 1;
	}
	return out;
}

char *
mirad_path_real(const char *p)
{
	char *abs = mirad_path_absolute(p);
	char *head, *real, *out;
	size_t cut;

	if (abs == NULL)
		return NULL;
	/* Find the longest prefix that exists: cut at slashes from the
	 * right. */
	cut = strlen(abs);
	for (;;) {
		head = strndup(abs, cut > 0 ? cut : 1);
		if (head == NULL)
			mirad_die_errno(
			    MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
		real = realpath(head, NULL);
		free(head);
		if (real != NULL)
			break;
		if ((errno != ENOENT && errno != ENOTDIR) || cut <= 1) {
			int err = errno;

			free(abs);
			errno = err;
			return NULL;
		}
		while (cut > 1 && abs[cut - 1] != '/')
			cut--;
		if (cut > 1)
			cut--; /* the slash itself */
	}
	out = append_missing(real, abs[cut] == '/' ? abs + cut + 1 : abs + cut);
	free(abs);
	return out;
}

bool
mirad_path_within(const char *inner, const char *outer)
{
	size_t n = strlen(outer);

	if (n == 1 && outer[0] == '/')
		return inner[0] == '/';
	return strncmp(inner, outer, n) == 0 &&
	    (inner[n] == '\0' || inner[n] == '/');
}

bool
mirad_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

bool
mirad_is_file(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

bool
mirad_exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

int
mirad_mkdir_p(const char *path)
{
	if (*path == '\0') { /* like mkdir(""): there is no such folder */
		errno = ENOENT;
		return -1;
	}
	return g_mkdir_with_parents(path, 0777);
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)ftw;
	if (flag == FTW_DP)
		return rmdir(path);
	return unlink(path);
}

int
mirad_rm_rf(const char *path)
{
	if (!mirad_exists(path))
		return 0;
	return nftw(path, rm_entry, 32, FTW_DEPTH | FTW_PHYS);
}

int
mirad_list_dir(const char *path, struct mirad_strlist *out)
{
	DIR *d = opendir(path);
	struct dirent *e;

	*out = (struct mirad_strlist){0};
	if (d == NULL)
		return -1;
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		mirad_strlist_add(out, e->d_name);
	}
	if (errno != 0) {
		int err = errno;

		closedir(d);
		mirad_strlist_free(out);
		errno = err;
		return -1;
	}
	closedir(d);
	mirad_strlist_sort(out);
	return 0;
}

/* What the entry E of the open folder D is, links followed. */
static enum mirad_entry_kind
entry_kind(DIR *d, const struct dirent *e)
{
	struct stat st;

	if (e->d_type == DT_DIR)
		return MIRAD_ENTRY_DIR;
	if (e->d_type == DT_REG)
		return MIRAD_ENTRY_REGULAR;
	if (e->d_type != DT_UNKNOWN && e->d_type != DT_LNK)
		return MIRAD_ENTRY_OTHER;
	if (fstatat(dirfd(d), e->d_name, &st, 0) != 0)
		return MIRAD_ENTRY_OTHER;
	return S_ISDIR(st.st_mode) ? MIRAD_ENTRY_DIR
	    : S_ISREG(st.st_mode)  ? MIRAD_ENTRY_REGULAR
	                           : MIRAD_ENTRY_OTHER;
}

int
mirad_list_dir_kinds(
    const char *path, struct mirad_strlist *out, enum mirad_entry_kind **kinds)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int err;

	*out = (struct mirad_strlist){0};
	*kinds = NULL;
	if (d == NULL)
		return -1;
	errno = 0;
	while ((e = readdir(d)) != NULL) {
		size_t len = strlen(e->d_name);
		char *name;

		if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
			continue;
		/* The kind rides in the byte after the name's terminator:
		 * the list sorts as plain strings and the kinds follow. */
		name = mirad_xmalloc(len + 2);
		memcpy(name, e->d_name, len + 1);
		name[len + 1] = (char)entry_kind(d, e);
		mirad_strlist_take(out, name);
		errno = 0;
	}
	err = errno;
	closedir(d);
	if (err != 0) {
		mirad_strlist_free(out);
		errno = err;
		return -1;
	}
	mirad_strlist_sort(out);
	*kinds = mirad_xcalloc(out->count ? out->count : 1, sizeof **kinds);
	for (size_t i = 0; i < out->count; i++) {
		const char *name = out->items[i];

		(*kinds)[i] = (enum mirad_entry_kind)name[strlen(name) + 1];
	}
	return 0;
}

struct mirad_outfile {
	char *path;
	char *tmp;
	FILE *stream;
	bool is_stdout;
	bool finished; /* stream closed, bytes on disk under tmp */
};

struct mirad_outfile *
mirad_outfile_open(const char *path)
{
	struct mirad_outfile *f = mirad_xcalloc(1, sizeof *f);
	char *dir;
	int fd;

	f->path = mirad_xstrdup(path);
	if (strcmp(path, "-") == 0) {
		f->is_stdout = true;
		f->stream = stdout;
		return f;
	}
	dir = mirad_path_dirname(path);
	f->tmp = mirad_xasprintf(
	    "%s/.%s.tmp-XXXXXX", dir, mirad_path_basename(path));
	free(dir);
	fd = mkstemp(f->tmp);
	if (fd < 0)
		goto fail;
	/* mkstemp creates 0600; give the file the usual mode. */
	{
		mode_t mask = umask(0);

		umask(mask);
		(void)fchmod(fd, 0666 & ~mask);
	}
	f->stream = fdopen(fd, "w");
	if (f->stream == NULL) {
		int err = errno;

		close(fd);
		unlink(f->tmp);
		errno = err;
		goto fail;
	}
	return f;
fail : {
	int err = errno;

	free(f->tmp);
	free(f->path);
	free(f);
	errno = err;
	return NULL;
}
}

FILE *
mirad_outfile_stream(struct mirad_outfile *f)
{
	return f->stream;
}

int
mirad_outfile_finish(struct mirad_outfile *f)
{
	int rc = 0, err = 0;

	if (f->finished)
		return 0;
	if (f->is_stdout) {
		if (fflush(stdout) != 0 || ferror(stdout)) {
			errno = errno ? errno : EIO;
			return -1;
		}
		return 0;
	}
	errno = 0;
	if (fflush(f->stream) != 0 || ferror(f->stream)) {
		err = errno ? errno : EIO;
		rc = -1;
	}
	if (rc == 0 && fsync(fileno(f->stream)) != 0 && errno != EINVAL) {
		err = errno;
		rc = -1;
	}
	if (fclose(f->stream) != 0 && rc == 0) {
		err = errno;
		rc = -1;
	}
	f->stream = NULL;
	f->finished = true;
	errno = err;
	return rc;
}

int
mirad_outfile_commit(struct mirad_outfile *f)
{
	int rc = 0, err = 0;

	if (mirad_outfile_finish(f) != 0) {
		err = errno;
		rc = -1;
	}
	if (rc == 0 && !f->is_stdout && rename(f->tmp, f->path) != 0) {
		err = errno;
		rc = -1;
	}
	if (rc != 0 && !f->is_stdout)
		unlink(f->tmp);
	free(f->tmp);
	free(f->path);
	free(f);
	errno = err;
	return rc;
}

void
mirad_outfile_abort(struct mirad_outfile *f)
{
	if (f == NULL)
		return;
	if (!f->is_stdout) {
		if (f->stream != NULL)
			fclose(f->stream);
		unlink(f->tmp);
	}
	free(f->tmp);
	free(f->path);
	free(f);
}

int
mirad_write_file_atomic(const char *path, const void *data, size_t len)
{
	struct mirad_outfile *f = mirad_outfile_open(path);

	if (f == NULL)
		return -1;
	if (len > 0 && fwrite(data, 1, len, mirad_outfile_stream(f)) != len) {
		int err = errno;

		mirad_outfile_abort(f);
		errno = err ? err : EIO;
		return -1;
	}
	return mirad_outfile_commit(f);
}

int
mirad_write_file_unsynced(const char *path, const void *data, size_t len)
{
	const char *p = data;
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	int err = 0;

	if (fd < 0)
		return -1;
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err = n < 0 ? errno : EIO;
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (close(fd) != 0 && err == 0)
		err = errno;
	if (err != 0) {
		unlink(path);
		errno = err;
		return -1;
	}
	return 0;
}

int
mirad_sync_tree(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc, err;

	if (fd < 0)
		return -1;
	rc = syncfs(fd);
	err = errno;
	close(fd);
	errno = err;
	return rc;
}

int
mirad_copy_file(const char *src, const char *dst)
{
	char buf[1 << 16];
	struct mirad_outfile *f;
	int in, err;
	ssize_t n;

	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	f = mirad_outfile_open(dst);
	if (f == NULL) {
		err = errno;
		close(in);
		errno = err;
		return -1;
	}
	while ((n = read(in, buf, sizeof buf)) > 0) {
		if (fwrite(buf, 1, (size_t)n, mirad_outfile_stream(f)) !=
		    (size_t)n) {
			n = -1;
			break;
		}
	}
	err = errno;
	close(in);
	if (n < 0) {
		mirad_outfile_abort(f);
		errno = err ? err : EIO;
		return -1;
	}
	return mirad_outfile_commit(f);
}

int
mirad_clone_file(const char *src, const char *dst)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), rc, err;

	if (in < 0)
		return -1;
	rc = mirad_clone_fd(in, dst);
	err = errno;
	close(in);
	errno = err;
	return rc;
}

int
mirad_clone_fd(int in, const char *dst)
{
	int out, err = 0;
	bool use_range = true;
	char buf[1 << 16];

	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	if (out < 0)
		return -1;
#if defined(FICLONE)
	/* Shared blocks, copied on the first write to either file. */
	if (ioctl(out, FICLONE, in) == 0)
		goto done;
#endif
	for (;;) {
		ssize_t n;

		if (use_range) {
			/* In-kernel copy; falls back to read/write. */
			n = copy_file_range(in, NULL, out, NULL, 1 << 30, 0);
			if (n < 0 &&
			    (errno == EXDEV || errno == ENOSYS ||
			        errno == EINVAL || errno == EOPNOTSUPP)) {
				use_range = false;
				continue;
			}
		} else {
			n = read(in, buf, sizeof buf);
			if (n > 0) {
				ssize_t off = 0;

				while (off < n) {
					ssize_t w = write(
					    out, buf + off, (size_t)(n - off));

					if (w < 0) {
						n = -1;
						break;
					}
					off += w;
				}
			}
		}
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		if (n == 0)
			break;
	}
#if defined(FICLONE)
done:
#endif
	if (close(out) != 0 && err == 0)
		err = errno;
	if (err != 0) {
		unlink(dst);
		errno = err;
		return -1;
	}
	return 0;
}

struct mirad_out_guard {
	char *out;        /* as given, for messages */
	char *out_real;   /* mirad_path_real(out) */
	GHashTable *dirs; /* input folder (absolute) -> its real path */
	bool adding;      /* OUT is never replaced: it may hold inputs */
};

struct mirad_out_guard *
mirad_out_guard_new(const char *out)
{
	struct mirad_out_guard *g = mirad_xcalloc(1, sizeof *g);

	g->out_real = mirad_path_real(out);
	if (g->out_real == NULL) {
		int err = errno;

		free(g);
		errno = err;
		return NULL;
	}
	g->out = mirad_xstrdup(out);
	g->dirs = g_hash_table_new_full(g_str_hash, g_str_equal, free, free);
	return g;
}

struct mirad_out_guard *
mirad_out_guard_new_adding(const char *out)
{
	struct mirad_out_guard *g = mirad_out_guard_new(out);

	if (g != NULL)
		g->adding = true;
	return g;
}

void
mirad_out_guard_free(struct mirad_out_guard *g)
{
	if (g == NULL)
		return;
	free(g->out);
	free(g->out_real);
	g_hash_table_destroy(g->dirs);
	free(g);
}

/* The real path of file IN, resolving its folder once for all the files of
 * that folder (a dataset lists thousands of files in a few folders, and
 * its images and masks alternate between two of them). */
static char *
real_file(struct mirad_out_guard *g, const char *in)
{
	char *abs = mirad_path_absolute(in);
	char *dir, *dir_real, *real;

	if (abs == NULL)
		return NULL;
	dir = mirad_path_dirname(abs);
	dir_real = g_hash_table_lookup(g->dirs, dir);
	if (dir_real == NULL) {
		dir_real = realpath(dir, NULL);
		if (dir_real == NULL) {
			int err = errno;

			free(dir);
			free(abs);
			errno = err;
			return NULL;
		}
		g_hash_table_insert(g->dirs, dir, dir_real);
	} else {
		free(dir);
	}
	real = mirad_path_join(dir_real, mirad_path_basename(abs));
	free(abs);
	return real;
}

int
mirad_out_guard_check(struct mirad_out_guard *g, const char *in, bool tree,
    char *err, size_t errlen)
{
	struct stat st;
	char *real;
	int rc = 0;

	if (lstat(in, &st) != 0)
		return 0; /* nothing there to lose */
	if (tree || S_ISDIR(st.st_mode) || S_ISLNK(st.st_mode))
		real = realpath(in, NULL);
	else
		real = real_file(g, in);
	if (real == NULL)
		return 0; /* a dangling link or an unreadable folder */
	if (g->adding ? strcmp(real, g->out_real) == 0
	              : mirad_path_within(real, g->out_real)) {
		snprintf(err, errlen,
		    "%s: %s the input %s; choose another output", g->out,
		    strcmp(real, g->out_real) == 0 ? "is" : "would hold", in);
		rc = -1;
	} else if (tree && mirad_path_within(g->out_real, real)) {
		snprintf(err, errlen,
		    "%s: lies inside the input %s; choose a folder outside "
		    "it",
		    g->out, in);
		rc = -1;
	}
	free(real);
	return rc;
}

int
mirad_output_mark(const char *dir, const char *tool)
{
	cJSON *o = cJSON_CreateObject();
	char *text, *path;
	int rc, err;

	if (o == NULL ||
	    cJSON_AddNumberToObject(o, "mirad_output", 1) == NULL ||
	    cJSON_AddStringToObject(o, "tool", tool) == NULL ||
	    cJSON_AddStringToObject(o, "version", PACKAGE_VERSION) == NULL ||
	    (text = cJSON_PrintUnformatted(o)) == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	cJSON_Delete(o);
	path = mirad_path_join(dir, MIRAD_OUTPUT_MARK);
	{
		char *line = mirad_xasprintf("%s\n", text);

		rc = mirad_write_file_atomic(path, line, strlen(line));
		err = errno;
		free(line);
	}
	cJSON_free(text);
	free(path);
	errno = err;
	return rc;
}

char *
mirad_tmpdir_beside(const char *target)
{
	char *abs = mirad_path_absolute(target);
	char *dir, *tmp;

	if (abs == NULL)
		return NULL;
	dir = mirad_path_dirname(abs);
	tmp =
	    mirad_xasprintf("%s/.%s.tmp-XXXXXX", dir, mirad_path_basename(abs));
	free(dir);
	free(abs);
	if (mkdtemp(tmp) == NULL) {
		int err = errno;

		free(tmp);
		errno = err;
		return NULL;
	}
	return tmp;
}

int
mirad_dir_publish(const char *tmp, const char *target, bool replace)
{
	char *old = NULL;
	int err;

	/* mkdtemp() made TMP private; publish it like any new folder. */
	{
		mode_t mask = umask(0);

		umask(mask);
		if (chmod(tmp, 0777 & ~mask) != 0)
			return -1;
	}
	if (mirad_exists(target)) {
		if (!replace) {
			errno = EEXIST;
			return -1;
		}
		old = mirad_tmpdir_beside(target);
		if (old == NULL)
			return -1;
		/* Move the old tree aside first; rename() cannot replace a
		 * non-empty directory. */
		rmdir(old);
		if (rename(target, old) != 0)
			goto fail;
	}
	if (rename(tmp, target) != 0) {
		err = errno;
		if (old != NULL)
			(void)rename(old, target);
		errno = err;
		goto fail;
	}
	if (old != NULL) {
		(void)mirad_rm_rf(old);
		free(old);
	}
	return 0;
fail:
	err = errno;
	free(old);
	errno = err;
	return -1;
}

size_t
mirad_remove_stale_temps(const char *target)
{
	char *abs = mirad_path_absolute(target);
	char *dir, *prefix;
	struct mirad_strlist names;
	size_t removed = 0;

	if (abs == NULL)
		return 0;
	dir = mirad_path_dirname(abs);
	prefix = mirad_xasprintf(".%s.tmp-", mirad_path_basename(abs));
	if (mirad_list_dir(dir, &names) == 0) {
		for (size_t i = 0; i < names.count; i++) {
			char *path;

			if (strncmp(names.items[i], prefix, strlen(prefix)) !=
			    0)
				continue;
			path = mirad_path_join(dir, names.items[i]);
			if (mirad_rm_rf(path) == 0)
				removed++;
			free(path);
		}
		mirad_strlist_free(&names);
	}
	free(prefix);
	free(dir);
	free(abs);
	return removed;
}

static char *
lock_path(const char *target)
{
	char *abs = mirad_path_absolute(target);
	char *dir, *path;

	if (abs == NULL)
		return NULL;
	dir = mirad_path_dirname(abs);
	path = mirad_xasprintf("%s/.%s.lock", dir, mirad_path_basename(abs));
	free(dir);
	free(abs);
	return path;
}

int
mirad_lock_acquire(const char *target)
{
	char *path = lock_path(target);
	int fd = -1, err;

	if (path == NULL)
		return -1;
	/*
	 * mirad_lock_release() removes the file before closing it, so a run
	 * that opened the old file just before may get its lock once it is
	 * released, while a third run creates and locks a new file: two
	 * holders.  Hence, with the lock taken, check that the file is still
	 * the one at PATH, and start again if not.
	 */
	for (int attempt = 0; attempt < 100; attempt++) {
		struct stat held, named;

		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
		if (fd < 0)
			goto out;
		if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
			err = errno;
			close(fd);
			fd = -1;
			errno = err;
			goto out;
		}
		if (fstat(fd, &held) == 0 && stat(path, &named) == 0 &&
		    held.st_dev == named.st_dev && held.st_ino == named.st_ino)
			goto out;
		close(fd);
		fd = -1;
	}
	errno = EWOULDBLOCK;
out:
	err = errno;
	free(path);
	errno = err;
	return fd;
}

void
mirad_lock_release(int fd, const char *target)
{
	char *path;

	if (fd < 0)
		return;
	path = lock_path(target);
	if (path != NULL)
		unlink(path);
	free(path);
	close(fd);
}
