/* SPDX-License-Identifier: MIT */
/*
 * Diagnostics and exit statuses shared by every tool.
 *
 * Messages have the form "prog: [file[:line]: ]message[: strerror]" on one
 * line of stderr.  Formats never end in '\n'.  Any progress line on screen is
 * erased first.  This module and mirad_progress are the only library modules
 * that write to stderr; the others return errors to their caller.
 */
#ifndef MIRAD_ERR_H
#define MIRAD_ERR_H

#include "mirad_platform.h"

/* Never reorder: scripts and the man pages depend on these values. */
enum mirad_exit {
	MIRAD_EXIT_OK = 0,      /* everything was processed */
	MIRAD_EXIT_PARTIAL = 1, /* finished, but some inputs were bad */
	MIRAD_EXIT_USAGE = 2,   /* bad option or argument; nothing done */
	MIRAD_EXIT_FATAL = 3    /* could not go on */
};

/* Set the program name used as message prefix from argv[0] (basename). */
void mirad_set_progname(const char *argv0);
/* The program name; borrowed, valid for the life of the process. */
const char *mirad_progname(void);

/* -q: suppress mirad_note() output.  Warnings and errors still print. */
void mirad_set_quiet(bool quiet);

/*
 * Name files under the folder ABSOLUTE as under AS_GIVEN in every message:
 * a scanned dataset's records carry its absolute root, but the user typed
 * AS_GIVEN (a trailing '/' is ignored).  NULL, or equal strings, clear
 * it.  Both are copied.
 */
void mirad_set_shown_root(const char *absolute, const char *as_given);

/* "prog: message" */
void mirad_warn(const char *fmt, ...) MIRAD_PRINTF(1, 2);
/* "prog: message: strerror(errnum)" */
void mirad_warn_errno(int errnum, const char *fmt, ...) MIRAD_PRINTF(2, 3);
/* Informational line, silenced by -q. */
void mirad_note(const char *fmt, ...) MIRAD_PRINTF(1, 2);
/* Print like mirad_warn() and exit with STATUS. */
MIRAD_NORETURN void mirad_die(int status, const char *fmt, ...)
    MIRAD_PRINTF(2, 3);
MIRAD_NORETURN void mirad_die_errno(
    int status, int errnum, const char *fmt, ...) MIRAD_PRINTF(3, 4);
/* Print the message and "Try 'prog --help'...", then exit 2. */
MIRAD_NORETURN void mirad_usage_error(const char *fmt, ...) MIRAD_PRINTF(1, 2);

/*
 * Flush and close stdout, checking for write errors (a full disk, a closed
 * pipe).  On error prints "error writing standard output" and returns
 * MIRAD_EXIT_FATAL; otherwise returns STATUS unchanged.  Call it last.
 */
int mirad_close_stdout(int status);

/*
 * A mirad_problem_fn (see mirad_layout.h) that prints "prog: WHERE: WHY".
 * CTX is unused.
 */
void mirad_report_problem(void *ctx, const char *where, const char *why);

/*
 * S with every control character (bytes 0x01-0x1f and 0x7f: newline, tab,
 * ESC, ...) written as \xHH, so that a file name cannot break a message
 * line or drive the terminal.  Other bytes (UTF-8 included) are kept.
 * Every message of this module goes through it.  New string; caller
 * frees.
 */
char *mirad_escape_controls(const char *s);

/* Allocation helpers that exit with status 3 on out-of-memory. */
void *mirad_xmalloc(size_t size);
void *mirad_xcalloc(size_t n, size_t size);
void *mirad_xrealloc(void *p, size_t size);
/* Keep freed memory in the process for reuse.  The per-image jobs allocate
 * and free buffers of a few megabytes per image; glibc by default hands
 * those back to the kernel (mmap above its threshold, heap trimming with
 * madvise), and faulting the pages in again cost up to a fifth of the CPU
 * time (measured in mirad-augment, mirad-convert and mirad-eval).
 * MAX_ARENAS > 0 also caps glibc's malloc arenas: each libvips worker
 * thread got its own, holding tens of MiB more resident.  A no-op outside
 * glibc; GLIBC_TUNABLES' malloc settings are overridden. */
void mirad_keep_freed_memory(int max_arenas);
/* Room for element COUNT of ITEMS (an array of ELEM_SIZE elements with
 * *CAPACITY allocated): returns ITEMS, or ITEMS moved to an allocation of
 * twice the capacity.  Appending N elements this way copies O(N) bytes;
 * growing by one element per append copies O(N^2) (minutes for a few
 * thousand records under AddressSanitizer, whose realloc always copies).
 * Exits with status 3 on overflow or out-of-memory. */
void *mirad_xgrow(
    void *items, size_t count, size_t *capacity, size_t elem_size);
char *mirad_xstrdup(const char *s);
/* asprintf() that exits on failure; caller frees. */
char *mirad_xasprintf(const char *fmt, ...) MIRAD_PRINTF(1, 2);

#endif
