/* SPDX-License-Identifier: MIT */
/*
 * mirad-fetch: get a dataset archive (download or a local file), check its
 * size and SHA-256 before anything parses it, unpack it through an entry
 * policy into a private folder next to the target, validate the tree with
 * the layout scanner and only then rename it into place.  The man page
 * says what users see.
 */
#include "mirad_platform.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch_catalogue.h"
#include "fetch_run.h"
#include "mirad_archive.h"
#include "mirad_cli.h"
#include "mirad_cli_options.h"
#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_hash.h"
#include "mirad_http.h"
#include "mirad_image.h"
#include "mirad_layout.h"
#include "mirad_manifest.h"
#include "mirad_outdir.h"
#include "mirad_progress.h"
#include "mirad_signal.h"
#include "mirad_version.h"

static void
usage(void)
{
	/* clang-format off */
	fputs(
"Usage: mirad-fetch [OPTION]... -o DIR\n"
"  or:  mirad-fetch --verify DIR [--dataset NAME]\n"
"Get a dataset archive (--dataset, --url or --archive), check its size and\n"
"SHA-256, unpack it safely into a private folder next to DIR, check the\n"
"tree's layout and image counts, and only then rename it to DIR.\n"
"\n"
"  -o, --output=DIR        the dataset folder to create\n"
"      --dataset=NAME      a catalogued dataset: mirad, visa, mvtec-ad\n"
"      --url=URL           download URL (http, https, file; Google Drive\n"
"                          share links are followed)\n"
"      --archive=FILE      unpack this archive instead of downloading\n"
"      --verify=DIR        only check an existing tree and print the report\n"
"      --sha256=HEX        the archive's expected SHA-256\n"
"      --size=BYTES        the archive's expected size\n"
"  -f, --force             replace DIR if it exists\n"
"      --layout=NAME       expect this layout: mirad, mvtec, visa\n"
"      --check-sizes       also read every image and mask header while\n"
"                          validating (masks of the wrong size)\n"
"      --retries=N         failed download attempts in a row (default 5)\n"
"      --max-entries=N     archive entry limit (default 1000000)\n"
"      --max-bytes=SIZE    limit on unpacked bytes (default 256G)\n"
"      --max-entry-bytes=SIZE  limit on one unpacked file (default 16G)\n"
"      --max-ratio=N       limit on unpacked/archive bytes (default 200)\n",
	    stdout);
	mirad_cli_print_shared_help(26);
	fputs(
"\n"
"SIZE takes a K, M, G or T suffix (powers of 1024).\n",
	    stdout);
	/* clang-format on */
	fputs(
	    "\nExit status: 0 success, 1 the tree was unpacked but its counts "
	    "or layout\nhave problems, 2 usage error, 3 fatal error, 75 the "
	    "download failed\nfor now (retry later; the partial file is "
	    "kept).\n",
	    stdout);
}

/* A byte count with an optional K/M/G/T suffix. */
static int
parse_size(const char *arg, uint64_t *out)
{
	char *copy = mirad_xstrdup(arg);
	size_t len = strlen(copy);
	unsigned shift = 0;
	uint64_t v;
	int rc;

	if (len > 0) {
		switch (toupper((unsigned char)copy[len - 1])) {
		case 'K':
			shift = 10;
			break;
		case 'M':
			shift = 20;
			break;
		case 'G':
			shift = 30;
			break;
		case 'T':
			shift = 40;
			break;
		default:
			break;
		}
		if (shift > 0)
			copy[len - 1] = '\0';
	}
	rc = mirad_cli_parse_uint(copy, 1, UINT64_MAX >> shift, &v);
	free(copy);
	if (rc == 0)
		*out = v << shift;
	return rc;
}

static int
size_arg(void *target, const char *arg)
{
	return parse_size(arg, target);
}

static int
dataset_arg(void *target, const char *arg)
{
	const struct fetch_dataset **dataset = target;

	*dataset = fetch_catalogue_find(arg);
	if (*dataset == NULL)
		mirad_usage_error(
		    "unknown dataset '%s' (%s)", arg, fetch_catalogue_names());
	return 0;
}

static int
sha256_arg(void *target, const char *arg)
{
	return mirad_hash_parse_sha256(arg, target);
}

#define SIZE_ERROR(opt)                                                        \
	opt ": '%s' is not a size (a positive number, optionally with K, M, "  \
	    "G or T)"

static void
parse_args(struct fetch_run *f, int argc, char **argv)
{
	const char *out = NULL;
	const struct mirad_cli_opt opts[] = {
	    {MIRAD_CLI_STRING("archive", 0, &f->archive)},
	    {MIRAD_CLI_TRUE("check-sizes", 0, &f->read_sizes)},
	    {MIRAD_CLI_CALL("dataset", 0, dataset_arg, &f->dataset, NULL)},
	    {MIRAD_CLI_TRUE("force", 'f', &f->force)},
	    {MIRAD_CLI_CALL("layout", 0, mirad_cli_layout_arg, &f->layout,
	        MIRAD_CLI_LAYOUT_ERROR)},
	    {MIRAD_CLI_CALL("max-bytes", 0, size_arg,
	        &f->limits.max_total_bytes, SIZE_ERROR("--max-bytes"))},
	    {MIRAD_CLI_UINT("max-entries", 0, &f->limits.max_entries, 1,
	        UINT64_MAX, "--max-entries: '%s' is not a positive number")},
	    {MIRAD_CLI_CALL("max-entry-bytes", 0, size_arg,
	        &f->limits.max_entry_bytes, SIZE_ERROR("--max-entry-bytes"))},
	    {MIRAD_CLI_UINT("max-ratio", 0, &f->limits.max_ratio, 1, UINT64_MAX,
	        "--max-ratio: '%s' is not a positive number")},
	    {MIRAD_CLI_STRING("output", 'o', &out)},
	    {MIRAD_CLI_UINT("retries", 0, &f->retries, 1, 100,
	        "--retries: '%s' is not in 1..100")},
	    {MIRAD_CLI_CALL("sha256", 0, sha256_arg, f->sha256,
	         "--sha256: '%s' is not 64 hexadecimal digits"),
	        .given = &f->have_sha256},
	    {MIRAD_CLI_UINT("size", 0, &f->size, 1, UINT64_MAX,
	        "--size: '%s' is not a positive number of bytes")},
	    {MIRAD_CLI_STRING("url", 0, &f->url)},
	    {MIRAD_CLI_STRING("verify", 0, &f->verify)},
	    {.name = NULL},
	};
	const struct mirad_cli_parser p = {.opts = opts, .usage = usage};

	mirad_cli_options_parse(&p, argc, argv);
	if (optind < argc)
		mirad_usage_error("unexpected argument '%s'", argv[optind]);
	if (f->verify != NULL) {
		if (out != NULL || f->url != NULL || f->archive != NULL)
			mirad_usage_error("--verify takes no -o, --url or "
			                  "--archive");
		return;
	}
	if (out == NULL)
		mirad_usage_error("no output folder (-o DIR) and no --verify");
	if (f->url != NULL && f->archive != NULL)
		mirad_usage_error("--url and --archive exclude each other");
	if (f->url == NULL && f->archive == NULL && f->dataset == NULL)
		mirad_usage_error("nothing to fetch: give --dataset, --url or "
		                  "--archive");
	f->out = mirad_xstrdup(out);
	for (size_t n = strlen(f->out); n > 1 && f->out[n - 1] == '/'; n--)
		f->out[n - 1] = '\0';
	if (*f->out == '\0' || strcmp(f->out, ".") == 0 ||
	    strcmp(f->out, "..") == 0 || strcmp(f->out, "/") == 0)
		mirad_usage_error("-o '%s': give a new folder name", out);
	if (f->dataset != NULL) {
		if (!f->have_sha256 && f->dataset->sha256 != NULL) {
			memcpy(f->sha256, f->dataset->sha256,
			    sizeof f->sha256 - 1);
			f->have_sha256 = true;
		}
		if (f->size == 0)
			f->size = f->dataset->size;
	}
}

/* ---- interruption and cleanup ------------------------------------------ */

static int
interrupted(void)
{
	return mirad_signal_pending();
}

/* Remove the extraction folder, release the lock; keep any download. */
static void
cleanup(struct fetch_run *f)
{
	mirad_progress_end();
	mirad_outdir_abort(f->dir);
	f->dir = NULL;
	f->tmp = NULL;
}

static void
free_fetch(struct fetch_run *f)
{
	free(f->part);
	free(f->out);
}

MIRAD_NORETURN static void fail(
    struct fetch_run *f, int status, const char *fmt, ...) MIRAD_PRINTF(3, 4);

MIRAD_NORETURN static void
fail(struct fetch_run *f, int status, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	cleanup(f);
	if (mirad_signal_pending()) {
		mirad_warn("%s", msg);
		free_fetch(f);
		mirad_image_shutdown();
		mirad_signal_reraise();
	}
	free_fetch(f);
	mirad_image_shutdown();
	mirad_die(status, "%s", msg);
}

/* What the lock step removed: ".NAME.tmp-*" folders next to OUT left by
 * killed runs. */
static void
report_stale(const struct fetch_run *f)
{
	size_t n = mirad_outdir_swept(f->dir);

	if (n > 0)
		mirad_note("%s: removed %zu temporary folder(s) left by an "
		           "interrupted run",
		    f->out, n);
}

/* ---- the run ----------------------------------------------------------------
 */

static int
run_verify(struct fetch_run *f)
{
	enum mirad_layout layout;
	bool mismatch;
	char err[1024];

	if (!mirad_is_dir(f->verify))
		mirad_die(MIRAD_EXIT_FATAL, "%s: not a folder", f->verify);
	if (fetch_run_validate(
	        f, f->verify, &mismatch, &layout, err, sizeof err) < 0)
		mirad_die(MIRAD_EXIT_FATAL, "%s: %s", f->verify, err);
	return (mismatch || f->problems > 0) ? MIRAD_EXIT_PARTIAL
	                                     : MIRAD_EXIT_OK;
}

static int
run_fetch(struct fetch_run *f)
{
	struct mirad_extract_stats xs;
	enum mirad_layout layout;
	bool mismatch, downloaded = f->archive == NULL, retried = false;
	const char *path;
	char err[2048], *root;
	long images;
	int refusal, rc;
	int status = MIRAD_EXIT_OK;

	{
		char *parent = mirad_path_dirname(f->out);

		if (mirad_mkdir_p(parent) != 0)
			mirad_die(MIRAD_EXIT_FATAL, "%s: %s", parent,
			    strerror(errno));
		free(parent);
	}
	refusal = mirad_outdir_lock(
	    &f->dir, f->out, f->force ? MIRAD_OUTDIR_FORCE : 0);
	if (refusal == MIRAD_OUTDIR_BUSY)
		mirad_die(MIRAD_EXIT_FATAL,
		    "%s: another mirad-fetch is working on it", f->out);
	if (refusal != MIRAD_OUTDIR_OK)
		mirad_die(MIRAD_EXIT_FATAL, "%s: cannot take the lock: %s",
		    f->out, strerror(errno));
	if (f->archive != NULL) {
		/* Unpacking over the folder that holds the archive would
		 * remove the archive with the old tree. */
		struct mirad_out_guard *g = mirad_out_guard_new(f->out);

		if (g == NULL)
			fail(f, MIRAD_EXIT_FATAL, "%s: %s", f->out,
			    strerror(errno));
		if (mirad_out_guard_check(
		        g, f->archive, false, err, sizeof err) != 0) {
			mirad_out_guard_free(g);
			fail(f, MIRAD_EXIT_USAGE, "%s", err);
		}
		mirad_out_guard_free(g);
	}
	refusal = mirad_outdir_check(f->dir);
	if (refusal == MIRAD_OUTDIR_EXISTS)
		fail(f, MIRAD_EXIT_FATAL,
		    "%s: already exists (use --force to replace it)", f->out);
	if (refusal != MIRAD_OUTDIR_OK)
		fail(f, MIRAD_EXIT_FATAL, "%s",
		    mirad_cli_output_refusal(refusal, f->out, err, sizeof err));
	report_stale(f);

	if (downloaded) {
		f->part = mirad_xasprintf("%s.part", f->out);
		for (;;) {
			bool had_part = mirad_exists(f->part);

			rc = fetch_run_download(f, err, sizeof err);
			if (rc != 0)
				fail(f, rc, "%s", err);
			rc = fetch_run_check_archive(
			    f, f->part, err, sizeof err);
			if (rc > 0)
				fail(f, rc, "%s", err);
			if (rc == 0)
				break;
			(void)unlink(f->part);
			if (!had_part || retried)
				fail(f, MIRAD_EXIT_FATAL,
				    "%s: the download does not match; it was "
				    "removed",
				    f->part);
			/* Resumed bytes may be stale: once more from
			 * zero. */
			mirad_note("downloading again from the start");
			retried = true;
		}
		path = f->part;
	} else {
		path = f->archive;
		if (!mirad_is_file(path))
			fail(f, MIRAD_EXIT_FATAL, "%s: %s", path,
			    mirad_exists(path) ? "not a regular file"
			                       : strerror(ENOENT));
		rc = fetch_run_check_archive(f, path, err, sizeof err);
		if (rc > 0)
			fail(f, rc, "%s", err);
		if (rc != 0)
			fail(f, MIRAD_EXIT_FATAL,
			    "%s: the archive does not match; nothing was "
			    "unpacked",
			    path);
	}
	if (interrupted())
		fail(f, MIRAD_EXIT_FATAL, "interrupted");

	if (f->dataset != NULL && f->limits.max_entries == 0)
		f->limits.max_entries = fetch_catalogue_max_entries(f->dataset);
	if (mirad_outdir_make_temp(f->dir) != MIRAD_OUTDIR_OK)
		fail(f, MIRAD_EXIT_FATAL,
		    "%s: %s: cannot create a temporary folder beside it: %s",
		    path, f->out, strerror(errno));
	f->tmp = mirad_outdir_temp(f->dir);
	if (mirad_archive_extract(path, f->tmp, &f->limits, &xs, interrupted,
	        err, sizeof err) != 0)
		fail(f, MIRAD_EXIT_FATAL, "%s: %s%s", path, err,
		    fetch_run_limit_advice(xs.over));
	mirad_note("unpacked %llu files, %llu bytes",
	    (unsigned long long)xs.files, (unsigned long long)xs.bytes);

	root = fetch_run_find_root(f->tmp);
	f->scan_root = root;
	images =
	    fetch_run_validate(f, root, &mismatch, &layout, err, sizeof err);
	f->scan_root = NULL;
	if (images < 0 ||
	    (images == 0 && f->layout == MIRAD_LAYOUT_AUTO &&
	        f->dataset == NULL)) {
		free(root);
		fail(f, MIRAD_EXIT_FATAL,
		    "%s: no dataset found in the archive%s%s; nothing was "
		    "published",
		    path, images < 0 ? ": " : "", images < 0 ? err : "");
	}
	if (images == 0) {
		free(root);
		fail(f, MIRAD_EXIT_FATAL,
		    "%s: no images in the expected layout; nothing was "
		    "published",
		    path);
	}
	rc = fetch_run_write_marker(f, root,
	    f->archive ? f->archive : (f->url ? f->url : f->dataset->name),
	    layout, images, err, sizeof err);
	if (rc != 0) {
		free(root);
		fail(f, rc, "%s", err);
	}
	if (interrupted()) {
		free(root);
		fail(f, MIRAD_EXIT_FATAL, "interrupted");
	}
	/* The tree found inside the temporary folder becomes OUT (given the
	 * usual folder mode; mkdtemp made it 0700). */
	if (mirad_outdir_commit_sub(f->dir, root) != MIRAD_OUTDIR_OK) {
		int e = errno;

		f->dir = NULL; /* aborted by the failed commit */
		f->tmp = NULL;
		free(root);
		fail(f, MIRAD_EXIT_FATAL,
		    "%s: cannot rename the new tree into "
		    "place: %s",
		    f->out, strerror(e));
	}
	f->dir = NULL;
	f->tmp = NULL;
	free(root);
	if (downloaded)
		(void)unlink(f->part);
	if (mismatch || f->problems > 0) {
		mirad_warn("%s: unpacked, but %s", f->out,
		    mismatch ? "its counts differ from the catalogue"
		             : "the layout scan reported problems");
		status = MIRAD_EXIT_PARTIAL;
	}
	cleanup(f);
	return status;
}

int
main(int argc, char **argv)
{
	struct fetch_run f = {0};
	int status, out_status;

	mirad_set_progname(argv[0]);
	parse_args(&f, argc, argv);
	/* A networked tool: a closed pipe is an error return, not a kill. */
	signal(SIGPIPE, SIG_IGN);
	mirad_signal_install();
	/* --check-sizes reads headers, which start libvips only for a
	 * format libpng, libjpeg and libtiff do not cover. */
	if (f.read_sizes)
		mirad_image_init_lazy(argv[0], 0);

	status = f.verify != NULL ? run_verify(&f) : run_fetch(&f);
	out_status = mirad_close_stdout(status);
	/* run_fetch() returns only once the tree is published. */
	if (out_status != status && f.verify == NULL)
		mirad_warn("%s: the dataset was published; only the report on "
		           "standard output is incomplete",
		    f.out);
	free_fetch(&f);
	mirad_image_shutdown();
	return out_status;
}
