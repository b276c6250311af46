/* SPDX-License-Identifier: MIT */
/*
 * The engine of mirad-fetch: download an archive (plain, resumable, or
 * through Google Drive's confirmation pages), check its size and SHA-256
 * before anything parses it, find the dataset in the unpacked folder,
 * validate it and write its marker.  The program parses the options and
 * holds the output's transaction; the functions here return the exit
 * status of a failure with its message, for the program to end with.
 */
#ifndef FETCH_RUN_H
#define FETCH_RUN_H

#include "mirad_platform.h"

#include "fetch_catalogue.h"
#include "mirad_archive.h"
#include "mirad_hash.h"
#include "mirad_layout.h"
#include "mirad_outdir.h"

/* Tool-specific status (documented in mirad-fetch.1): the download failed
 * in a way a later run may not (network, 5xx, 429, Drive quota); the
 * partial download is kept for resumption.  75 is sysexits' EX_TEMPFAIL. */
#define FETCH_EXIT_TEMPFAIL 75

struct fetch_run {
	/* options (the strings are borrowed from argv, except OUT) */
	const struct fetch_dataset *dataset; /* static catalogue entry */
	const char *url;
	const char *archive;
	const char *verify;
	char *out; /* trailing slashes removed; owned */
	char sha256[MIRAD_SHA256_HEX_LEN + 1];
	bool have_sha256;
	uint64_t size;
	bool force;
	bool read_sizes;
	enum mirad_layout layout;
	unsigned retries;
	struct mirad_extract_limits limits;

	/* state */
	struct mirad_outdir *dir; /* the transaction writing OUT */
	char *part;               /* download file (owned) */
	const char *tmp;          /* extraction folder (DIR's) */
	/* The tree being validated under tmp, while it is. */
	const char *scan_root;
	char digest[MIRAD_SHA256_HEX_LEN + 1];
	uint64_t archive_size;
	uint64_t progress_done, progress_total;
	size_t problems;
};

/* The option that raises the limit an extraction went over, as " (raise
 * ...)", or "" (static). */
const char *fetch_run_limit_advice(enum mirad_extract_limit over);

/*
 * Download F's archive (--url, or the catalogue's URL or Drive file) into
 * F->part, resuming it when it exists.  0, or the exit status with the
 * message in MSG (FETCH_EXIT_TEMPFAIL: the partial download is kept).
 */
int fetch_run_download(struct fetch_run *f, char *msg, size_t msglen);

/*
 * The checks before parsing: PATH is no HTML page and has F's pinned size
 * and SHA-256 (F->digest and F->archive_size are set).  0; -1 on a
 * mismatch (reported on stderr); or the exit status of a read error with
 * the message in MSG.
 */
int fetch_run_check_archive(
    struct fetch_run *f, const char *path, char *msg, size_t msglen);

/*
 * Scan ROOT and print the report on standard output.  Returns the number
 * of images, sets *MISMATCH when the counts differ from the catalogue,
 * *LAYOUT to the layout found, F->problems to the problems (each reported
 * on stderr, under F->out's name while F->scan_root is set).  -1 (reason
 * in ERR) when ROOT cannot be scanned.
 */
long fetch_run_validate(struct fetch_run *f, const char *root, bool *mismatch,
    enum mirad_layout *layout, char *err, size_t errlen);

/*
 * The dataset root inside the extraction folder TMP: TMP itself when a
 * layout is recognised there, else its only entry when that is a folder.
 * Caller frees.
 */
char *fetch_run_find_root(const char *tmp);

/*
 * Write ROOT/.mirad-fetch.json: where the tree came from (SOURCE), its
 * digest, layout and image count.  0, or the exit status with the message
 * in MSG.
 */
int fetch_run_write_marker(const struct fetch_run *f, const char *root,
    const char *source, enum mirad_layout layout, long images, char *msg,
    size_t msglen);

#endif
