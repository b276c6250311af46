/* SPDX-License-Identifier: MIT */
/*
 * Filesystem helpers: paths, mkdir -p, sorted listings, copies and links, and
 * the write-to-a-temporary-name-then-rename rule every output follows.
 * Functions return 0 / a pointer on success and -1 / NULL with errno set.
 */
#ifndef MIRAD_FS_H
#define MIRAD_FS_H

#include "mirad_platform.h"

#include <stdio.h>
#include <sys/types.h>

#include "mirad_strlist.h"

/* A joined with B ("a/b"); B absolute or A empty/"." gives a copy of B.
 * Caller frees. */
char *mirad_path_join(const char *a, const char *b);
/* The directory part of P ("." when none), as g_path_get_dirname() gives
 * it.  Caller frees (free() or g_free(): GLib allocates with malloc). */
char *mirad_path_dirname(const char *p);
/* The last component of P; borrowed from P. */
const char *mirad_path_basename(const char *p);
/* The extension of P's last component including the dot, or "" (borrowed
 * from P).  A leading dot (".hidden") is not an extension. */
const char *mirad_path_ext(const char *p);
/* The last component of P without its extension.  Caller frees. */
char *mirad_path_stem(const char *p);
/* P made absolute against the current directory, with "." components and
 * duplicate slashes removed (".." kept).  Caller frees; NULL on error. */
char *mirad_path_absolute(const char *p);
/* Does any component of relative path P equal ".." or is P absolute? */
bool mirad_path_escapes(const char *p);
/*
 * The real path of P: absolute, with symbolic links, "." and ".." resolved,
 * also when P or its last components do not exist yet (the deepest existing
 * ancestor is resolved by realpath(), the rest appended).  Caller frees;
 * NULL with errno.
 */
char *mirad_path_real(const char *p);
/* Is absolute, normalised INNER equal to OUTER or below it?  Compares whole
 * components: "/a/bc" is not inside "/a/b". */
bool mirad_path_within(const char *inner, const char *outer);

bool mirad_is_dir(const char *path);
bool mirad_is_file(const char *path);
bool mirad_exists(const char *path);

/* mkdir -p with mode 0777 & ~umask (g_mkdir_with_parents()).  Existing
 * directories are fine; "" fails with ENOENT, a component that is not a
 * directory with ENOTDIR. */
int mirad_mkdir_p(const char *path);
/* rm -rf; a missing PATH is not an error. */
int mirad_rm_rf(const char *path);

/* The entries of directory PATH (without "." and ".."), sorted by strcmp,
 * into OUT (free with mirad_strlist_free()). */
int mirad_list_dir(const char *path, struct mirad_strlist *out);
/* What a listed entry is, symbolic links followed. */
enum mirad_entry_kind {
	MIRAD_ENTRY_OTHER, /* FIFO, device, socket, a dangling link ... */
	MIRAD_ENTRY_DIR,
	MIRAD_ENTRY_REGULAR /* a regular file */
};
/*
 * mirad_list_dir() with each entry's kind in *KINDS (malloc'ed, one per
 * name; the caller frees it): from the entry's type where the file system
 * gives it, which spares a stat() per entry, else by stat().  The kind is the
 * one the listing saw: the file may have been replaced since.  -1 with errno
 * (nothing to free).
 */
int mirad_list_dir_kinds(
    const char *path, struct mirad_strlist *out, enum mirad_entry_kind **kinds);

/* Copy the bytes of SRC to DST (created 0666 & ~umask, replaced if it
 * exists), written under a temporary name and renamed. */
int mirad_copy_file(const char *src, const char *dst);
/*
 * Create DST (which must not exist; 0666 & ~umask) with the bytes of SRC:
 * a reflink (FICLONE) where the filesystem shares blocks copy-on-write,
 * else an in-kernel copy (copy_file_range), else read and write.  Unlike a
 * hard link, writing to one file never changes the other.  On failure DST
 * is removed.
 */
int mirad_clone_file(const char *src, const char *dst);
/* The same from the file open on IN, whose offset must be 0 (pread()
 * leaves it there); the caller closes IN. */
int mirad_clone_fd(int in, const char *dst);

/*
 * An output file written under a temporary name in the target's directory
 * and renamed into place by mirad_outfile_commit().  PATH "-" writes to
 * stdout directly.  Nothing appears under PATH before the commit.
 */
struct mirad_outfile;
/* NULL with errno on failure.  Free with commit or abort. */
struct mirad_outfile *mirad_outfile_open(const char *path);
/* The stream to write to; borrowed, valid until commit/abort. */
FILE *mirad_outfile_stream(struct mirad_outfile *f);
/* Flush, check for write errors, fsync and close, without renaming: the
 * first half of a commit, so that several files can all be written before
 * any of them replaces its old version.  After it, only commit or abort. */
int mirad_outfile_finish(struct mirad_outfile *f);
/* Finish (if not done yet) and rename into place; frees F in every case.
 * On failure the temporary file is removed. */
int mirad_outfile_commit(struct mirad_outfile *f);
/* Close and remove the temporary file; frees F.  Accepts NULL. */
void mirad_outfile_abort(struct mirad_outfile *f);

/* Write LEN bytes to PATH atomically (temporary name + rename). */
int mirad_write_file_atomic(const char *path, const void *data, size_t len);
/*
 * Write LEN bytes to a new file PATH (which must not exist) inside a
 * private folder that is published as a whole: no temporary name and no
 * fsync per file; mirad_sync_tree() makes them all durable at once before
 * the folder is published.  On failure PATH is removed (errno is set).
 */
int mirad_write_file_unsynced(const char *path, const void *data, size_t len);
/* Flush every file written on DIR's filesystem to disk (syncfs). */
int mirad_sync_tree(const char *dir);

/*
 * Create a private directory ".NAME.tmp-XXXXXX" next to TARGET (same
 * filesystem, so a rename can publish it).  Caller frees the returned path
 * and removes the directory (mirad_rm_rf) or publishes it.
 */
char *mirad_tmpdir_beside(const char *target);
/*
 * Move directory TMP to TARGET, first giving it the usual folder mode
 * (0777 & ~umask; mkdtemp() made it 0700).  If TARGET exists: with REPLACE
 * false fail
 * with EEXIST; with REPLACE true the old tree is moved aside, TMP renamed in
 * and the old tree removed, so TARGET is never half-replaced.
 */
int mirad_dir_publish(const char *tmp, const char *target, bool replace);

/*
 * Keeping a tool's output folder OUT apart from its inputs, so that -f (or
 * writing at all) cannot delete, overwrite or grow into them.  Paths are
 * compared by their real paths (mirad_path_real()), so symbolic links do
 * not hide an overlap.
 */
struct mirad_out_guard;
/* NULL with errno when OUT cannot be resolved.  Free with _free(). */
struct mirad_out_guard *mirad_out_guard_new(const char *out);
/* The same for an OUT that only gains files (charts, a mosaic) and is
 * never replaced: it may hold inputs, but not be one or lie inside one. */
struct mirad_out_guard *mirad_out_guard_new_adding(const char *out);
/*
 * May the run read input IN while writing OUT?  Refused when OUT is IN or
 * (unless made by _new_adding()) holds it, and, for a TREE (a folder whose
 * contents are read: a dataset, a manifest's root), when OUT lies inside IN. An
 * input that does not exist is accepted.  Returns 0, or -1 with "OUT: why" in
 * ERR.
 */
int mirad_out_guard_check(struct mirad_out_guard *g, const char *in, bool tree,
    char *err, size_t errlen);
void mirad_out_guard_free(struct mirad_out_guard *g);

/*
 * Every folder a tool of the family publishes carries a mark: this file
 * (mirad-convert, mirad-augment and their --merge), a shard's
 * ".mirad-shard.jsonl" or mirad-fetch's ".mirad-fetch.json".  -f replaces
 * only marked folders (mirad_outdir_replaceable()).
 */
#define MIRAD_OUTPUT_MARK ".mirad-output.json"
/* Write the mark of TOOL into DIR (the private folder about to be
 * published).  -1 with errno. */
int mirad_output_mark(const char *dir, const char *tool);
/*
 * Remove the ".NAME.tmp-*" files and folders next to TARGET that killed
 * runs left behind.  Call it only while holding mirad_lock_acquire(TARGET),
 * so none of them belongs to a live run.  Returns how many were removed.
 */
size_t mirad_remove_stale_temps(const char *target);

/*
 * Take an exclusive lock for work on TARGET: a lock file ".NAME.lock" next to
 * it, held with flock().  Returns the descriptor, or -1 with errno
 * EWOULDBLOCK when another process holds it.  Release with
 * mirad_lock_release(), which also removes the lock file.
 */
int mirad_lock_acquire(const char *target);
void mirad_lock_release(int fd, const char *target);

#endif
