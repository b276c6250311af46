/* SPDX-License-Identifier: MIT */
/*
 * Google Drive pieces of mirad-fetch, as pure functions (no I/O) so they can
 * be unit tested and fuzzed: finding the file id in a share link, and
 * reading the HTML pages Drive answers with instead of the file (the
 * large-file "virus scan warning" form and the quota / error pages).
 */
#ifndef FETCH_DRIVE_H
#define FETCH_DRIVE_H

#include "mirad_platform.h"

/*
 * The file id of a Drive link: ".../file/d/ID/...", "...?id=ID" or
 * "...&id=ID" (uc, open, download).  IDs are 10 to 200 characters of
 * [A-Za-z0-9_-].  Copies it into ID and returns 0; -1 if none is found.
 * Does not look at the host (the caller checks it).
 */
int fetch_drive_file_id(const char *url, char *id, size_t idlen);

enum fetch_drive_page_kind {
	FETCH_DRIVE_UNKNOWN = 0, /* HTML with nothing we recognise */
	FETCH_DRIVE_FORM,        /* form#download-form: follow it */
	FETCH_DRIVE_QUOTA,       /* "Too many users ..." / quota exceeded */
	FETCH_DRIVE_ERROR        /* another uc-error-subcaption message */
};

struct fetch_drive_page {
	enum fetch_drive_page_kind kind;
	/* FORM: the action URL with the allowed hidden inputs appended as
	 * a query ("ACTION?id=..&export=..&confirm=..&uuid=.."). */
	char url[2048];
	/* QUOTA/ERROR: the page's message, tags and blanks squeezed. */
	char message[256];
};

/*
 * Read the HTML page HTML (LEN bytes; need not be NUL-terminated) into
 * OUT.  Only hidden inputs named id, export, confirm, uuid, at and
 * resourcekey whose values are [A-Za-z0-9_-] (":" also for "at") are kept;
 * the action must be an absolute http(s) URL (its host is the caller's to
 * check).  Returns OUT->kind.
 */
enum fetch_drive_page_kind fetch_drive_scan_page(
    const char *html, size_t len, struct fetch_drive_page *out);

#endif
