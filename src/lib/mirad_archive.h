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

/* ---- Safe extraction (mirad-fetch) ----------------------------------- */

/*
 * Limits on what an archive may produce.  Bytes are counted from the data
 * libarchive actually decodes, never from the sizes headers declare.  A
 * zero field takes the default shown.
 */
struct mirad_extract_limits {
	uint64_t max_entries;     /* entries of any type (default 1,000,000) */
	uint64_t max_entry_bytes; /* bytes of one file (default 16 GiB) */
	uint64_t max_total_bytes; /* bytes of all files (default 256 GiB) */
	uint64_t max_ratio;       /* output bytes per archive byte read, checked
	                             once 16 MiB are out (default 200) */
	size_t max_path_len; /* bytes of a normalised name (default 1024) */
	size_t max_depth;    /* components of a name (default 32) */
};

#define MIRAD_EXTRACT_DEFAULT_MAX_ENTRIES     1000000u
#define MIRAD_EXTRACT_DEFAULT_MAX_ENTRY_BYTES (16ull << 30)
#define MIRAD_EXTRACT_DEFAULT_MAX_TOTAL_BYTES (256ull << 30)
#define MIRAD_EXTRACT_DEFAULT_MAX_RATIO       200u
#define MIRAD_EXTRACT_DEFAULT_MAX_PATH_LEN    1024u
#define MIRAD_EXTRACT_DEFAULT_MAX_DEPTH       32u

/* The limit an extraction went over: the caller names the option that
 * raises it. */
enum mirad_extract_limit {
	MIRAD_EXTRACT_WITHIN = 0,       /* none */
	MIRAD_EXTRACT_OVER_ENTRIES,     /* max_entries */
	MIRAD_EXTRACT_OVER_ENTRY_BYTES, /* max_entry_bytes */
	MIRAD_EXTRACT_OVER_TOTAL_BYTES, /* max_total_bytes */
	MIRAD_EXTRACT_OVER_RATIO        /* max_ratio */
};

struct mirad_extract_stats {
	uint64_t entries;              /* headers read */
	uint64_t files, dirs;          /* entries written */
	uint64_t bytes;                /* file bytes written */
	uint64_t archive_bytes;        /* bytes of the archive file read */
	enum mirad_extract_limit over; /* why it stopped, if by a limit */
};

/*
 * The entry-name policy, a pure function (no I/O; fuzzed).
 * NAME is an entry's path as stored; IS_DIR whether the entry is a
 * directory (a trailing '/' is allowed only then).  Accepts relative names
 * of printable UTF-8 without backslashes or control characters, without
 * ".." or empty components, within MAX_LEN bytes and MAX_DEPTH components
 * (0 = defaults).  "." components are dropped ("./a/b" is "a/b").  On
 * success writes the normalised name (no leading "./", no trailing '/'; ""
 * for the root itself) into NORM and returns NULL; otherwise returns a
 * static reason ("absolute path", "'..' component", ...).
 */
const char *mirad_archive_check_name(const char *name, bool is_dir,
    size_t max_len, size_t max_depth, char *norm, size_t normlen);

/*
 * Unpack ARCHIVE_PATH (tar or zip; gzip, bzip2, xz, zstd or no
 * compression) into DEST_DIR, a fresh private directory (a
 * mirad_outdir's temporary folder).  Every entry passes a policy first:
 * regular files and directories only (symlinks, hardlinks, devices, FIFOs
 * and sparse files are refused), names as in mirad_archive_check_name(), no
 * duplicates after normalisation; files are created 0644 and directories
 * 0755.  LIMITS (NULL = defaults) are counted while writing.  Any libarchive
 * result other than OK stops, as does a tar whose end-of-archive blocks are
 * missing (libarchive reports a tar cut at an entry boundary as a clean
 * end) and a zip without its central directory.  INTERRUPTED (may be NULL)
 * is polled between blocks.  STATS (may be NULL) is filled in either case.
 * Returns 0, or -1 with a reason naming the entry in ERR (and, when a
 * limit stopped it, STATS->over set); DEST_DIR then holds a partial tree
 * the caller removes.
 *
 * The process's working directory is changed during the call (libarchive
 * resolves names against it) and restored before returning, so do not call
 * it from several threads.
 */
int mirad_archive_extract(const char *archive_path, const char *dest_dir,
    const struct mirad_extract_limits *limits,
    struct mirad_extract_stats *stats, int (*interrupted)(void), char *err,
    size_t errlen);

#endif
