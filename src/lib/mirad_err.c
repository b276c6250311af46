/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <errno.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "mirad_err.h"
#include "mirad_progress.h"

static const char *progname = "mirad";
static bool quiet;
static char *shown_from; /* "ABSOLUTE/" */
static char *shown_to;   /* "AS_GIVEN/" */

void
mirad_set_progname(const char *argv0)
{
	const char *slash;

	if (argv0 == NULL || *argv0 == '\0')
		return;
	slash = strrchr(argv0, '/');
	progname = slash ? slash + 1 : argv0;
}

const char *
mirad_progname(void)
{
	return progname;
}

void
mirad_set_quiet(bool q)
{
	quiet = q;
}

/* The va_list helper needs its own format attribute for clang -Wformat=2. */
static void vwarn_errno(int errnum, const char *fmt, va_list ap)
    MIRAD_PRINTF(2, 0);

char *
mirad_escape_controls(const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;
	char *out, *p;

	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		n += *c < 0x20 || *c == 0x7f ? 4 : 1;
	out = mirad_xmalloc(n + 1);
	p = out;
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		if (*c >= 0x20 && *c != 0x7f) {
			*p++ = (char)*c;
			continue;
		}
		*p++ = '\\';
		*p++ = 'x';
		*p++ = hex[*c >> 4];
		*p++ = hex[*c & 0xf];
	}
	*p = '\0';
	return out;
}

void
mirad_set_shown_root(const char *absolute, const char *as_given)
{
	size_t n;

	free(shown_from);
	free(shown_to);
	shown_from = shown_to = NULL;
	if (absolute == NULL || as_given == NULL)
		return;
	n = strlen(as_given);
	while (n > 1 && as_given[n - 1] == '/')
		n--;
	if (strlen(absolute) == n && strncmp(absolute, as_given, n) == 0)
		return;
	shown_from = mirad_xasprintf("%s/", absolute);
	shown_to = mirad_xasprintf("%.*s/", (int)n, as_given);
}

/* MSG with every "ABSOLUTE/" written as "AS_GIVEN/"; new string. */
static char *
shown_paths(const char *msg)
{
	size_t from = shown_from ? strlen(shown_from) : 0;
	GString *out;
	const char *p = msg, *hit;

	if (from == 0 || strstr(msg, shown_from) == NULL)
		return mirad_xstrdup(msg);
	out = g_string_new(NULL);
	while ((hit = strstr(p, shown_from)) != NULL) {
		g_string_append_len(out, p, hit - p);
		g_string_append(out, shown_to);
		p = hit + from;
	}
	g_string_append(out, p);
	return g_string_free(out, FALSE);
}

static void
vwarn_errno(int errnum, const char *fmt, va_list ap)
{
	char *msg, *paths, *shown;

	/* File names come from manifests, archives and folders: a newline
	 * would forge a second message and an escape sequence would drive
	 * the terminal, so the whole line is escaped here, once. */
	if (vasprintf(&msg, fmt, ap) < 0)
		msg = NULL;
	paths = shown_paths(msg != NULL ? msg : fmt);
	shown = mirad_escape_controls(paths);
	free(paths);
	mirad_progress_clear();
	fprintf(stderr, "%s: %s", progname, shown);
	if (errnum != 0)
		fprintf(stderr, ": %s", strerror(errnum));
	fputc('\n', stderr);
	fflush(stderr);
	free(shown);
	free(msg);
}

void
mirad_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_errno(0, fmt, ap);
	va_end(ap);
}

void
mirad_warn_errno(int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_errno(errnum, fmt, ap);
	va_end(ap);
}

void
mirad_note(const char *fmt, ...)
{
	va_list ap;

	if (quiet)
		return;
	va_start(ap, fmt);
	vwarn_errno(0, fmt, ap);
	va_end(ap);
}

void
mirad_die(int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_errno(0, fmt, ap);
	va_end(ap);
	exit(status);
}

void
mirad_die_errno(int status, int errnum, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_errno(errnum, fmt, ap);
	va_end(ap);
	exit(status);
}

void
mirad_usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn_errno(0, fmt, ap);
	va_end(ap);
	fprintf(stderr, "Try '%s --help' for more information.\n", progname);
	exit(MIRAD_EXIT_USAGE);
}

void
mirad_report_problem(void *ctx, const char *where, const char *why)
{
	(void)ctx;
	mirad_warn("%s: %s", where, why);
}

int
mirad_close_stdout(int status)
{
	int failed = ferror(stdout);
	int err = 0;

	if (fflush(stdout) != 0) {
		failed = 1;
		err = errno;
	}
	if (fclose(stdout) != 0 && !failed) {
		failed = 1;
		err = errno;
	}
	if (failed) {
		mirad_warn_errno(err, "error writing standard output");
		return MIRAD_EXIT_FATAL;
	}
	return status;
}

void *
mirad_xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (p == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	return p;
}

void *
mirad_xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (p == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	return p;
}

void *
mirad_xrealloc(void *old, size_t size)
{
	void *p = realloc(old, size ? size : 1);

	if (p == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	return p;
}

void
mirad_keep_freed_memory(int max_arenas)
{
#if defined(__GLIBC__) && defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
	if (max_arenas > 0)
		(void)mallopt(M_ARENA_MAX, max_arenas);
	(void)mallopt(M_MMAP_THRESHOLD, 32 << 20);
	(void)mallopt(M_TRIM_THRESHOLD, 256 << 20);
#else
	(void)max_arenas;
#endif
}

void *
mirad_xgrow(void *items, size_t count, size_t *capacity, size_t elem_size)
{
	size_t want;

	if (count < *capacity)
		return items;
	want = *capacity ? *capacity * 2 : 16;
	if (want <= count || want > SIZE_MAX / (elem_size ? elem_size : 1))
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	items = mirad_xrealloc(items, want * elem_size);
	*capacity = want;
	return items;
}

char *
mirad_xstrdup(const char *s)
{
	char *p = strdup(s);

	if (p == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	return p;
}

char *
mirad_xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	return p;
}
