/* SPDX-License-Identifier: MIT */
/*
 * A run's output written as one transaction, so that nothing appears under
 * the target before the run succeeds and a failed, dying or interrupted run
 * leaves the target as it was:
 *
 *   begin   take the lock ".NAME.lock" beside TARGET (a second run is
 *           refused, not interleaved), remove the ".NAME.tmp-*" that killed
 *           runs left beside it, refuse an existing TARGET that may not be
 *           replaced, and create the private temporary folder (or file)
 *           beside it, on the same filesystem;
 *   commit  make the temporary durable, rename it to TARGET (an old
 *           TARGET is replaced as a whole, never half) and unlock;
 *   abort   remove the temporary and unlock: TARGET stays as it was.
 *
 * A begun transaction that is neither committed nor aborted is aborted when
 * the process exits (mirad_die(), a usage error, a failed allocation) and
 * by mirad_signal_reraise() before an interrupting signal ends the process,
 * so a tool needs no cleanup of its own on those paths.  Only the process
 * that began a transaction aborts it (not a forked child).  Begin, commit
 * and abort are for one thread (the tool's main thread).
 *
 * Functions return 0 or a MIRAD_OUTDIR_* code and never print: the tool
 * words the message (mirad_cli_output_refusal() names --force as the tools
 * spell it).
 */
#ifndef MIRAD_OUTDIR_H
#define MIRAD_OUTDIR_H

#include "mirad_platform.h"

#include <stdio.h>

enum mirad_outdir_status {
	MIRAD_OUTDIR_OK = 0,
	MIRAD_OUTDIR_ERRNO,      /* a system call failed; errno says why */
	MIRAD_OUTDIR_BUSY,       /* another process holds the lock (errno
	                            EWOULDBLOCK) */
	MIRAD_OUTDIR_EXISTS,     /* TARGET exists and replacing it was not
	                            asked for */
	MIRAD_OUTDIR_NOT_FOLDER, /* replacing asked for, but TARGET is no
	                            folder */
	MIRAD_OUTDIR_NOT_OURS    /* replacing asked for, but TARGET is a
	                            folder no tool of the family wrote */
};

/* An existing TARGET may be replaced: an empty folder, or one that carries
 * the family's mark (MIRAD_OUTPUT_MARK, a shard's or mirad-fetch's). */
#define MIRAD_OUTDIR_FORCE 0x1u
/* The output is one file, written through a mirad_outfile and replacing
 * any old file (no existence check); TARGET "-" is standard output,
 * written directly, without lock or temporary. */
#define MIRAD_OUTDIR_FILE 0x2u

struct mirad_outdir;

/*
 * Lock, check and create the temporary (the three steps below).  On
 * success *OUT is the transaction, to end with commit or abort.  On failure
 * *OUT is NULL, nothing is held (errno kept) and the code says why.
 */
int mirad_outdir_begin(
    struct mirad_outdir **out, const char *target, unsigned flags);

/*
 * The steps of begin, for a tool with work to do between them (one that
 * reads its input under the lock before it looks at TARGET).  Lock: take
 * the lock and sweep the stale temporaries; on failure *OUT is NULL.
 * Check and make_temp leave a failed transaction begun: abort it, or die
 * (the exit aborts it).
 */
int mirad_outdir_lock(
    struct mirad_outdir **out, const char *target, unsigned flags);
/* May TARGET be written (mirad_outdir_replaceable())?  0 in FILE mode. */
int mirad_outdir_check(struct mirad_outdir *d);
/* Create the temporary folder (or, in FILE mode, the temporary file). */
int mirad_outdir_make_temp(struct mirad_outdir *d);

/* TARGET as given to lock or begin; borrowed, valid until commit or
 * abort. */
const char *mirad_outdir_target(const struct mirad_outdir *d);
/* How many stale ".NAME.tmp-*" the lock step removed. */
size_t mirad_outdir_swept(const struct mirad_outdir *d);
/* The temporary folder to write into; borrowed, valid until commit or
 * abort.  NULL before make_temp and in FILE mode. */
const char *mirad_outdir_temp(const struct mirad_outdir *d);
/* FILE mode: the stream to write to; borrowed, valid until commit or
 * abort.  NULL before make_temp. */
FILE *mirad_outdir_stream(struct mirad_outdir *d);

/*
 * Sync the temporary (syncfs of its filesystem; in FILE mode, fsync), rename
 * it to TARGET (replacing an old one only with FORCE; in FILE mode
 * always), sync TARGET's folder and unlock.  Frees D in every case; on
 * failure the temporary is removed, TARGET is as it was and errno says why
 * (MIRAD_OUTDIR_ERRNO).
 */
int mirad_outdir_commit(struct mirad_outdir *d);
/* The same with SUB, a folder inside the temporary folder, as TARGET; the
 * rest of the temporary folder is removed. */
int mirad_outdir_commit_sub(struct mirad_outdir *d, const char *sub);
/* Remove the temporary, unlock and free D.  Accepts NULL. */
void mirad_outdir_abort(struct mirad_outdir *d);

/*
 * May a new folder be published as TARGET?  0 when TARGET does not exist,
 * and with FORCE when it is an empty folder or a marked one; else
 * MIRAD_OUTDIR_EXISTS (without FORCE), _NOT_FOLDER, _NOT_OURS or _ERRNO
 * (the folder could not be read).
 */
int mirad_outdir_replaceable(const char *target, bool force);

#endif
