/* SPDX-License-Identifier: MIT */
/* Archives through libarchive; the only module that includes <archive.h>. */
#ifndef MIRAD_ARCHIVE_H
#define MIRAD_ARCHIVE_H

#include "mirad_platform.h"

/* libarchive's version string ("libarchive 3.6.2"); borrowed, static. */
const char *mirad_archive_library_version(void);

enum mirad_archive_format {
	MIRAD_ARCHIVE_TAR,
	MIRAD_ARCHIVE_TAR_GZ,
	MIRAD_ARCHIVE_TAR_XZ,
	MIRAD_ARCHIVE_TAR_ZST,
	MIRAD_ARCHIVE_ZIP
};

/* Format from a file name (.tar, .tar.gz/.tgz, .tar.xz, .tar.zst, .zip);
 * -1 if unknown. */
int mirad_archive_format_from_name(
    const char *name, enum mirad_archive_format *out);

/*
 * Pack the tree DIR into the archive OUT_PATH (written under a temporary
 * name and renamed), entries named "TOP/<relative path>" (TOP may be NULL
 * or "" for no prefix).  The archive is reproducible: entries sorted by
 * name, mtime 0, owner 0:0, modes 0755 for directories and 0644 for files.
 * Returns 0, or -1 with a reason in ERR.
 */
int mirad_archive_pack_dir(const char *dir, const char *top,
    const char *out_path, enum mirad_archive_format format, char *err,
    size_t errlen);

#endif
