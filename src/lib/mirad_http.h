/* SPDX-License-Identifier: MIT */
/*
 * HTTP transfers; the only module that includes <curl/curl.h>.
 *
 * A session (struct mirad_http) downloads a URL into a ".part" file,
 * resuming what an earlier run or a dropped connection left: the status,
 * Content-Range and Content-Type of every answer are checked by this module,
 * transient failures are retried with backoff (honouring Retry-After), there
 * are connect and low-speed timeouts but no total timeout, and redirects are
 * followed by hand so that every hop is checked against the allowed schemes and
 * hosts.  An HTML answer is never written to the file; it is kept in memory for
 * the caller to read (the Google Drive confirmation flow).  The session keeps
 * cookies in memory only.
 *
 * The header parsers are pure functions so they can be unit tested and
 * fuzzed.
 */
#ifndef MIRAD_HTTP_H
#define MIRAD_HTTP_H

#include "mirad_platform.h"

/* libcurl's version string; borrowed, static. */
const char *mirad_http_library_version(void);

struct mirad_http_options {
	/* Schemes: https always; http and file only when allowed.  Redirects
	 * never go to file. */
	bool allow_http;
	bool allow_file;
	/* NULL-terminated list of host names every hop must match
	 * (case-insensitive), or NULL for any host; borrowed. */
	const char *const *allowed_hosts;
	uint64_t expected_size; /* whole-file size when known, else 0 */
	unsigned max_attempts;  /* failed attempts in a row (default 5) */
	long connect_timeout;   /* seconds (default 30) */
	long low_speed_limit;   /* bytes/s ... (default 1024) */
	long low_speed_time;    /* ... for this many seconds (default 60) */
	/* Polled during transfers and waits; non-zero stops the download
	 * (MIRAD_HTTP_INTERRUPTED).  May be NULL. */
	int (*interrupted)(void);
	/* Bytes in the file so far and the expected total (0 if unknown).
	 * May be NULL. */
	void (*progress)(void *ctx, uint64_t done, uint64_t total);
	/* A one-line note about a retry or restart, for the user.  May be
	 * NULL. */
	void (*notice)(void *ctx, const char *msg);
	void *ctx;
};

enum mirad_http_status {
	MIRAD_HTTP_OK = 0,     /* the file in PART is complete */
	MIRAD_HTTP_PAGE,       /* an HTML page came instead (see result) */
	MIRAD_HTTP_FAILED,     /* permanent: bad URL, refused redirect,
	                          4xx, local I/O error */
	MIRAD_HTTP_TEMPORARY,  /* transient failures until the attempts ran
	                          out; a later run may succeed */
	MIRAD_HTTP_INTERRUPTED /* the interrupted callback said stop */
};

struct mirad_http_result {
	long code;         /* last HTTP status (0 for file://) */
	uint64_t size;     /* bytes in PART at the end */
	uint64_t resumed;  /* bytes that were already in PART and kept */
	unsigned restarts; /* times PART was emptied (Range ignored, wrong
	                      Content-Range, stale file) */
	bool attachment;   /* the answer had Content-Disposition */
	const char *page;  /* MIRAD_HTTP_PAGE: the body, NUL-terminated;
	                      borrowed until the next call or free */
	size_t page_len;
};

struct mirad_http;

/* A new session with a copy of OPTS; NULL with a reason in ERR.  Free with
 * mirad_http_free() (accepts NULL). */
struct mirad_http *mirad_http_new(
    const struct mirad_http_options *opts, char *err, size_t errlen);
void mirad_http_free(struct mirad_http *h);

/*
 * Download URL into PART_PATH.  Bytes already in PART_PATH are resumed with
 * a Range request; the answer must be 206 with a Content-Range starting at
 * that offset, otherwise the file is emptied and the download starts again
 * from zero.  A 416 is accepted as "complete" only when its Content-Range
 * total equals the file's size.  RES is filled in every case.  Returns a
 * status as above; for FAILED and TEMPORARY a one-line reason is in ERR.
 */
enum mirad_http_status mirad_http_download(struct mirad_http *h,
    const char *url, const char *part_path, struct mirad_http_result *res,
    char *err, size_t errlen);

/*
 * Split URL with libcurl's URL parser: the scheme and host (lower case)
 * into SCHEME and HOST.  Returns 0, or -1 if URL is not absolute or a part
 * does not fit.
 */
int mirad_http_url_parts(const char *url, char *scheme, size_t scheme_len,
    char *host, size_t host_len);

/* ---- pure parsers ------------------------------------------------------- */

/*
 * If the raw header line LINE (LEN bytes, with or without CR LF) is the
 * header NAME (case-insensitive), copy its value without surrounding
 * blanks into OUT (truncated to OUTLEN - 1 bytes) and return true.
 */
bool mirad_http_header_value(
    const char *line, size_t len, const char *name, char *out, size_t outlen);

/*
 * Parse an HTTP status line ("HTTP/1.1 206 Partial Content", "HTTP/2 200")
 * of LEN bytes.  Returns the status code (100..599) or -1 if LINE is not a
 * status line.
 */
int mirad_http_parse_status_line(const char *line, size_t len);

/*
 * Parse a Content-Range value: "bytes FIRST-LAST/TOTAL", "bytes
 * FIRST-LAST/ *" (TOTAL unknown: *TOTAL = UINT64_MAX) or "bytes * /TOTAL"
 * (the form of a 416; *FIRST = *LAST = UINT64_MAX).  Returns 0, or -1 for
 * anything else, including LAST < FIRST or LAST >= TOTAL.
 */
int mirad_http_parse_content_range(
    const char *value, uint64_t *first, uint64_t *last, uint64_t *total);

#endif
