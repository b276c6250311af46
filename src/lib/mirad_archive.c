/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <glib.h>

#include "mirad_archive.h"
#include "mirad_strlist.h"
#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_testpoint.h"

const char *
mirad_archive_library_version(void)
{
	return archive_version_string();
}

static bool
ends_with(const char *s, const char *suffix)
{
	size_t ls = strlen(s), lf = strlen(suffix);

	return ls >= lf && strcmp(s + ls - lf, suffix) == 0;
}

int
mirad_archive_format_from_name(const char *name, enum mirad_archive_format *out)
{
	if (ends_with(name, ".tar.gz") || ends_with(name, ".tgz"))
		*out = MIRAD_ARCHIVE_TAR_GZ;
	else if (ends_with(name, ".tar.xz") || ends_with(name, ".txz"))
		*out = MIRAD_ARCHIVE_TAR_XZ;
	else if (ends_with(name, ".tar.zst"))
		*out = MIRAD_ARCHIVE_TAR_ZST;
	else if (ends_with(name, ".tar"))
		*out = MIRAD_ARCHIVE_TAR;
	else if (ends_with(name, ".zip"))
		*out = MIRAD_ARCHIVE_ZIP;
	else
		return -1;
	return 0;
}

struct packer {
	struct archive *a;
	char *err;
	size_t errlen;
};

static int
add_file(struct packer *p, const char *path, const char *name, bool is_dir)
{
	struct archive_entry *e = archive_entry_new();
	char buf[1 << 16];
	struct stat st;
	ssize_t n;
	int fd = -1, rc = -1;

	if (stat(path, &st) != 0) {
		snprintf(p->err, p->errlen, "%s: %s", path, strerror(errno));
		goto out;
	}
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, is_dir ? AE_IFDIR : AE_IFREG);
	archive_entry_set_perm(e, is_dir ? 0755 : 0644);
	archive_entry_set_size(e, is_dir ? 0 : st.st_size);
	archive_entry_set_mtime(e, 0, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	if (archive_write_header(p->a, e) != ARCHIVE_OK) {
		snprintf(p->err, p->errlen, "%s: %s", name,
		    archive_error_string(p->a));
		goto out;
	}
	if (!is_dir) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			snprintf(
			    p->err, p->errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
		while ((n = read(fd, buf, sizeof buf)) > 0) {
			if (archive_write_data(p->a, buf, (size_t)n) != n) {
				snprintf(p->err, p->errlen, "%s: %s", name,
				    archive_error_string(p->a));
				goto out;
			}
		}
		if (n < 0) {
			snprintf(
			    p->err, p->errlen, "%s: %s", path, strerror(errno));
			goto out;
		}
	}
	rc = 0;
out:
	if (fd >= 0)
		close(fd);
	archive_entry_free(e);
	return rc;
}

static int
add_tree(struct packer *p, const char *dir, const char *prefix)
{
	struct mirad_strlist names;
	int rc = 0;

	if (mirad_list_dir(dir, &names) != 0) {
		snprintf(p->err, p->errlen, "%s: %s", dir, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < names.count && rc == 0; i++) {
		char *path = mirad_path_join(dir, names.items[i]);
		char *name = prefix && *prefix
		    ? mirad_xasprintf("%s/%s", prefix, names.items[i])
		    : mirad_xstrdup(names.items[i]);

		if (mirad_is_dir(path)) {
			char *dname = mirad_xasprintf("%s/", name);

			rc = add_file(p, path, dname, true);
			free(dname);
			if (rc == 0)
				rc = add_tree(p, path, name);
		} else {
			rc = add_file(p, path, name, false);
		}
		free(path);
		free(name);
	}
	mirad_strlist_free(&names);
	return rc;
}

int
mirad_archive_pack_dir(const char *dir, const char *top, const char *out_path,
    enum mirad_archive_format format, char *err, size_t errlen)
{
	struct packer p = {archive_write_new(), err, errlen};
	/* Under a unique temporary name, flushed to disk, then renamed. */
	struct mirad_outfile *f = mirad_outfile_open(out_path);
	int rc = -1;

	if (f == NULL) {
		snprintf(err, errlen, "%s: %s", out_path, strerror(errno));
		archive_write_free(p.a);
		return -1;
	}
	if (format == MIRAD_ARCHIVE_ZIP) {
		archive_write_set_format_zip(p.a);
	} else {
		archive_write_set_format_pax_restricted(p.a);
		if (format == MIRAD_ARCHIVE_TAR_GZ)
			archive_write_add_filter_gzip(p.a);
		else if (format == MIRAD_ARCHIVE_TAR_XZ)
			archive_write_add_filter_xz(p.a);
		else if (format == MIRAD_ARCHIVE_TAR_ZST)
			archive_write_add_filter_zstd(p.a);
	}
	if (format == MIRAD_ARCHIVE_TAR_GZ)
		/* gzip stores a timestamp in its header: leave it out so the
		 * archive is reproducible. */
		archive_write_set_filter_option(p.a, "gzip", "timestamp", NULL);
	/* The descriptor, not the stream: a filter run as a child process
	 * must not inherit buffered bytes. */
	if (archive_write_open_fd(p.a, fileno(mirad_outfile_stream(f))) !=
	    ARCHIVE_OK) {
		snprintf(
		    err, errlen, "%s: %s", out_path, archive_error_string(p.a));
		goto out;
	}
	if (top != NULL && *top != '\0') {
		char *dname = mirad_xasprintf("%s/", top);

		rc = add_file(&p, dir, dname, true);
		free(dname);
		if (rc != 0)
			goto out;
	}
	rc = add_tree(&p, dir, top);
	if (archive_write_close(p.a) != ARCHIVE_OK && rc == 0) {
		snprintf(
		    err, errlen, "%s: %s", out_path, archive_error_string(p.a));
		rc = -1;
	}
out:
	archive_write_free(p.a);
	if (rc != 0) {
		mirad_outfile_abort(f);
		return rc;
	}
	if (mirad_outfile_commit(f) != 0) {
		snprintf(err, errlen, "%s: %s", out_path, strerror(errno));
		rc = -1;
	}
	return rc;
}

/* ---- Safe extraction ---------------------------------------------------- */

const char *
mirad_archive_check_name(const char *name, bool is_dir, size_t max_len,
    size_t max_depth, char *norm, size_t normlen)
{
	size_t len = strlen(name), out = 0, depth = 0;

	if (max_len == 0)
		max_len = MIRAD_EXTRACT_DEFAULT_MAX_PATH_LEN;
	if (max_depth == 0)
		max_depth = MIRAD_EXTRACT_DEFAULT_MAX_DEPTH;
	if (normlen == 0)
		return "name too long";
	norm[0] = '\0';
	if (len == 0)
		return "empty name";
	if (name[0] == '/')
		return "absolute path";
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];

		if (ch < 0x20 || ch == 0x7f)
			return "control character in name";
		if (ch == '\\')
			return "backslash in name";
	}
	if (!g_utf8_validate(name, (gssize)len, NULL))
		return "name is not valid UTF-8";
	if (name[len - 1] == '/') {
		if (!is_dir)
			return "trailing '/' on a file name";
		len--;
	}
	for (size_t i = 0; i <= len;) {
		size_t j = i, clen;

		while (j < len && name[j] != '/')
			j++;
		clen = j - i;
		if (clen == 0)
			return "empty component in name";
		if (clen == 2 && name[i] == '.' && name[i + 1] == '.')
			return "'..' component in name";
		if (!(clen == 1 && name[i] == '.')) {
			if (++depth > max_depth)
				return "name has too many components";
			if (out + (out > 0) + clen > max_len ||
			    out + (out > 0) + clen + 1 > normlen)
				return "name too long";
			if (out > 0)
				norm[out++] = '/';
			memcpy(norm + out, name + i, clen);
			out += clen;
			norm[out] = '\0';
		}
		i = j + 1;
	}
	if (out == 0 && !is_dir)
		return "empty name";
	return NULL;
}

struct extractor {
	struct archive *in, *out;
	struct mirad_extract_limits lim;
	struct mirad_extract_stats *st;
	int (*interrupted)(void);
	char *err;
	size_t errlen;
	bool is_tar;
	uint64_t tar_last_end; /* stream offset where the last entry ends */
};

static const char *
entry_kind(struct archive_entry *e)
{
	if (archive_entry_hardlink(e) != NULL)
		return "hard link";
	switch (archive_entry_filetype(e)) {
	case AE_IFREG:
	case AE_IFDIR:
		return NULL;
	case AE_IFLNK:
		return "symbolic link";
	case AE_IFCHR:
		return "character device";
	case AE_IFBLK:
		return "block device";
	case AE_IFIFO:
		return "FIFO";
	case AE_IFSOCK:
		return "socket";
	default:
		return "special file";
	}
}

static bool
stop_requested(struct extractor *x)
{
	if (x->interrupted != NULL && x->interrupted()) {
		snprintf(x->err, x->errlen, "interrupted");
		return true;
	}
	return false;
}

/* The disk writer's message for entry NAME, with the system's reason
 * ("Write failed" alone does not say that the disk is full). */
static void
write_error(struct extractor *x, const char *name)
{
	const char *msg = archive_error_string(x->out);
	int e = archive_errno(x->out);

	if (msg == NULL)
		msg = "cannot write";
	if (e > 0 && strstr(msg, strerror(e)) == NULL)
		snprintf(
		    x->err, x->errlen, "%s: %s: %s", name, msg, strerror(e));
	else
		snprintf(x->err, x->errlen, "%s: %s", name, msg);
}

static int
copy_data(struct extractor *x, const char *name)
{
	const uint64_t ratio_floor = 16u << 20;
	uint64_t written = 0;

	for (;;) {
		const void *buf;
		size_t size;
		la_int64_t offset;
		int r = archive_read_data_block(x->in, &buf, &size, &offset);

		if (r == ARCHIVE_EOF)
			return 0;
		if (r != ARCHIVE_OK) {
			snprintf(x->err, x->errlen, "%s: %s", name,
			    archive_error_string(x->in)
			        ? archive_error_string(x->in)
			        : "damaged data");
			return -1;
		}
		if (offset < 0 || (uint64_t)offset != written) {
			snprintf(x->err, x->errlen,
			    "%s: data with holes (sparse files are not allowed)",
			    name);
			return -1;
		}
		if (written + size > x->lim.max_entry_bytes) {
			snprintf(x->err, x->errlen,
			    "%s: more than %llu bytes, the per-file limit",
			    name, (unsigned long long)x->lim.max_entry_bytes);
			x->st->over = MIRAD_EXTRACT_OVER_ENTRY_BYTES;
			return -1;
		}
		if (x->st->bytes + size > x->lim.max_total_bytes) {
			snprintf(x->err, x->errlen,
			    "%s: the archive expands to more than %llu bytes",
			    name, (unsigned long long)x->lim.max_total_bytes);
			x->st->over = MIRAD_EXTRACT_OVER_TOTAL_BYTES;
			return -1;
		}
		written += size;
		x->st->bytes += size;
		if (x->st->bytes > ratio_floor) {
			la_int64_t in = archive_filter_bytes(x->in, -1);

			if (in <= 0 ||
			    x->st->bytes / (uint64_t)in > x->lim.max_ratio) {
				snprintf(x->err, x->errlen,
				    "%s: expands more than %llu times, a "
				    "possible archive bomb",
				    name, (unsigned long long)x->lim.max_ratio);
				x->st->over = MIRAD_EXTRACT_OVER_RATIO;
				return -1;
			}
		}
		if (archive_write_data_block(x->out, buf, size, offset) !=
		    ARCHIVE_OK) {
			write_error(x, name);
			return -1;
		}
		mirad_test_point("unpacking", x->st->bytes);
		if (stop_requested(x))
			return -1;
	}
}

/* One entry: policy, header, data, finish.  0 ok, -1 stop. */
static int
extract_entry(struct extractor *x, struct archive_entry *e, GHashTable *seen)
{
	const char *name = archive_entry_pathname(e);
	const char *kind, *why;
	bool is_dir = archive_entry_filetype(e) == AE_IFDIR;
	char norm[4096];

	if (name == NULL)
		name = archive_entry_pathname_utf8(e);
	if (name == NULL) {
		snprintf(x->err, x->errlen, "entry %llu: no usable name",
		    (unsigned long long)x->st->entries);
		return -1;
	}
	kind = entry_kind(e);
	if (kind != NULL) {
		snprintf(x->err, x->errlen,
		    "%s: %s refused (only files and folders are allowed)", name,
		    kind);
		return -1;
	}
	if (archive_entry_sparse_count(e) > 0) {
		snprintf(x->err, x->errlen, "%s: sparse file refused", name);
		return -1;
	}
	why = mirad_archive_check_name(name, is_dir, x->lim.max_path_len,
	    x->lim.max_depth, norm, sizeof norm);
	if (why != NULL) {
		snprintf(x->err, x->errlen, "%s: %s", name, why);
		return -1;
	}
	if (x->is_tar) {
		/* Where this entry's data (padded to 512) ends, for the
		 * end-of-archive check after the last header. */
		uint64_t size = archive_entry_size_is_set(e)
		    ? (uint64_t)archive_entry_size(e)
		    : 0;

		x->tar_last_end = (uint64_t)archive_filter_bytes(x->in, 0) +
		    ((size + 511) & ~(uint64_t)511);
	}
	if (norm[0] == '\0')
		return 0; /* "./": the destination itself */
	if (g_hash_table_contains(seen, norm)) {
		snprintf(x->err, x->errlen, "%s: duplicate entry", name);
		return -1;
	}
	g_hash_table_add(seen, g_strdup(norm));
	if (!is_dir && archive_entry_size_is_set(e) &&
	    (uint64_t)archive_entry_size(e) > x->lim.max_entry_bytes) {
		snprintf(x->err, x->errlen,
		    "%s: declares %lld bytes, over the per-file limit of %llu",
		    name, (long long)archive_entry_size(e),
		    (unsigned long long)x->lim.max_entry_bytes);
		x->st->over = MIRAD_EXTRACT_OVER_ENTRY_BYTES;
		return -1;
	}
	archive_entry_set_pathname(e, norm);
	archive_entry_set_perm(e, is_dir ? 0755 : 0644);
	if (archive_write_header(x->out, e) != ARCHIVE_OK) {
		write_error(x, name);
		return -1;
	}
	if (!is_dir && copy_data(x, name) != 0)
		return -1;
	if (archive_write_finish_entry(x->out) != ARCHIVE_OK) {
		write_error(x, name);
		return -1;
	}
	if (is_dir)
		x->st->dirs++;
	else
		x->st->files++;
	return 0;
}

static int
extract_loop(struct extractor *x)
{
	GHashTable *seen =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	struct archive_entry *e;
	int rc = -1;

	for (;;) {
		int r;

		if (stop_requested(x))
			goto out;
		r = archive_read_next_header(x->in, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r != ARCHIVE_OK) {
			const char *msg = archive_error_string(x->in);

			snprintf(x->err, x->errlen, "after entry %llu: %s",
			    (unsigned long long)x->st->entries,
			    msg ? msg : "damaged archive");
			goto out;
		}
		if (++x->st->entries > x->lim.max_entries) {
			snprintf(x->err, x->errlen, "more than %llu entries",
			    (unsigned long long)x->lim.max_entries);
			x->st->over = MIRAD_EXTRACT_OVER_ENTRIES;
			goto out;
		}
		if (x->st->entries == 1)
			x->is_tar =
			    (archive_format(x->in) &
			        ARCHIVE_FORMAT_BASE_MASK) == ARCHIVE_FORMAT_TAR;
		if (extract_entry(x, e, seen) != 0)
			goto out;
	}
	if (x->st->entries == 0) {
		snprintf(x->err, x->errlen, "empty archive");
		goto out;
	}
	/* A complete tar ends with zero blocks that libarchive consumes; a
	 * tar cut exactly after an entry reads as a clean end otherwise. */
	if (x->is_tar &&
	    (uint64_t)archive_filter_bytes(x->in, 0) < x->tar_last_end + 512) {
		snprintf(x->err, x->errlen,
		    "truncated tar archive: it ends after entry %llu without "
		    "the end-of-archive blocks",
		    (unsigned long long)x->st->entries);
		goto out;
	}
	rc = 0;
out:
	g_hash_table_destroy(seen);
	return rc;
}

/* The seekable zip reader needs the central directory: when a file that
 * starts like a zip fails before its first entry, say so instead of
 * libarchive's "unrecognized archive format". */
static void
explain_zip_without_directory(
    int fd, const struct mirad_extract_stats *stats, char *err, size_t errlen)
{
	unsigned char magic[4];

	if (stats->entries == 0 &&
	    pread(fd, magic, sizeof magic, 0) == (ssize_t)sizeof magic &&
	    memcmp(magic, "PK\003\004", 4) == 0)
		snprintf(err, errlen,
		    "zip archive without its central directory (truncated or "
		    "damaged)");
}

/* Entry names come from the archive: never send their control
 * characters to a terminal. */
static void
sanitize_message(char *err)
{
	for (; *err; err++)
		if ((unsigned char)*err < 0x20 || *err == 0x7f)
			*err = '?';
}

int
mirad_archive_extract(const char *archive_path, const char *dest_dir,
    const struct mirad_extract_limits *limits,
    struct mirad_extract_stats *stats, int (*interrupted)(void), char *err,
    size_t errlen)
{
	struct mirad_extract_stats local_stats;
	struct extractor x = {0};
	struct stat st;
	int fd = -1, cwd = -1, dfd = -1, rc = -1;
	bool moved = false;

	if (stats == NULL)
		stats = &local_stats;
	memset(stats, 0, sizeof *stats);
	if (limits != NULL)
		x.lim = *limits;
	if (x.lim.max_entries == 0)
		x.lim.max_entries = MIRAD_EXTRACT_DEFAULT_MAX_ENTRIES;
	if (x.lim.max_entry_bytes == 0)
		x.lim.max_entry_bytes = MIRAD_EXTRACT_DEFAULT_MAX_ENTRY_BYTES;
	if (x.lim.max_total_bytes == 0)
		x.lim.max_total_bytes = MIRAD_EXTRACT_DEFAULT_MAX_TOTAL_BYTES;
	if (x.lim.max_ratio == 0)
		x.lim.max_ratio = MIRAD_EXTRACT_DEFAULT_MAX_RATIO;
	x.st = stats;
	x.interrupted = interrupted;
	x.err = err;
	x.errlen = errlen;
	x.in = archive_read_new();
	x.out = archive_write_disk_new();
	if (x.in == NULL || x.out == NULL) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		goto out;
	}

	/* Only what dataset archives need: no *_all, so no mtree, RAR, ISO or
	 * WARC readers (less parser code exposed to downloaded files).  The zip
	 * reader is the seekable one: it needs the central directory, so a zip
	 * cut before it fails instead of streaming whatever local headers
	 * remain. */
	if (archive_read_support_format_tar(x.in) != ARCHIVE_OK ||
	    archive_read_support_format_zip_seekable(x.in) != ARCHIVE_OK ||
	    archive_read_support_filter_none(x.in) != ARCHIVE_OK ||
	    archive_read_support_filter_gzip(x.in) != ARCHIVE_OK ||
	    archive_read_support_filter_bzip2(x.in) != ARCHIVE_OK ||
	    archive_read_support_filter_xz(x.in) != ARCHIVE_OK ||
	    archive_read_support_filter_zstd(x.in) != ARCHIVE_OK) {
		snprintf(err, errlen, "libarchive lacks a needed format: %s",
		    archive_error_string(x.in));
		goto out;
	}
	if (archive_write_disk_set_options(x.out,
	        ARCHIVE_EXTRACT_SECURE_NODOTDOT |
	            ARCHIVE_EXTRACT_SECURE_SYMLINKS |
	            ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS) != ARCHIVE_OK) {
		snprintf(err, errlen, "%s", archive_error_string(x.out));
		goto out;
	}

	fd = open(archive_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", archive_path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", archive_path);
		goto out;
	}
	if (archive_read_open_fd(x.in, fd, 1 << 20) != ARCHIVE_OK) {
		snprintf(err, errlen, "%s", archive_error_string(x.in));
		explain_zip_without_directory(fd, stats, err, errlen);
		goto out;
	}

	/* libarchive resolves entry names against the working directory;
	 * the SECURE flags need relative names, so work from inside. */
	cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (cwd < 0) {
		snprintf(err, errlen, "cannot open the current folder: %s",
		    strerror(errno));
		goto out;
	}
	dfd = open(dest_dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0 || fchdir(dfd) != 0) {
		snprintf(err, errlen, "%s: %s", dest_dir, strerror(errno));
		goto out;
	}
	moved = true;
	if (extract_loop(&x) != 0) {
		explain_zip_without_directory(fd, stats, err, errlen);
		goto out;
	}
	if (archive_write_close(x.out) != ARCHIVE_OK) {
		snprintf(err, errlen, "%s", archive_error_string(x.out));
		goto out;
	}
	if (archive_read_close(x.in) != ARCHIVE_OK) {
		snprintf(err, errlen, "%s", archive_error_string(x.in));
		goto out;
	}
	rc = 0;
out:
	if (x.in != NULL)
		stats->archive_bytes =
		    (uint64_t)(archive_filter_bytes(x.in, -1) > 0
		            ? archive_filter_bytes(x.in, -1)
		            : 0);
	if (rc != 0)
		sanitize_message(err);
	if (moved && fchdir(cwd) != 0 && rc == 0) {
		snprintf(err, errlen,
		    "cannot return to the previous folder: %s",
		    strerror(errno));
		rc = -1;
	}
	if (cwd >= 0)
		close(cwd);
	if (dfd >= 0)
		close(dfd);
	archive_read_free(x.in);
	archive_write_free(x.out);
	if (fd >= 0)
		close(fd);
	return rc;
}
