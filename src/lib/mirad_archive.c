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

#include "mirad_archive.h"
#include "mirad_cli.h"
#include "mirad_err.h"
#include "mirad_fs.h"

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
	char *tmp_dir = mirad_path_dirname(out_path);
	char *tmp = mirad_xasprintf("%s/.%s.tmp-%d", tmp_dir,
	    mirad_path_basename(out_path), (int)getpid());
	int rc = -1;

	free(tmp_dir);
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
	if (archive_write_open_filename(p.a, tmp) != ARCHIVE_OK) {
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
	if (rc == 0 && rename(tmp, out_path) != 0) {
		snprintf(err, errlen, "%s: %s", out_path, strerror(errno));
		rc = -1;
	}
out:
	archive_write_free(p.a);
	if (rc != 0)
		unlink(tmp);
	free(tmp);
	return rc;
}
