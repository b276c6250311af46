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
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fetch_catalogue.h"
#include "fetch_drive.h"
#include "mirad_archive.h"
#include "mirad_cli.h"
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

/* Tool-specific status (documented in mirad-fetch.1): the download failed
 * in a way a later run may not (network, 5xx, 429, Drive quota); the
 * partial download is kept for resumption.  75 is sysexits' EX_TEMPFAIL. */
#define FETCH_EXIT_TEMPFAIL 75

/* Drive hops: a confirmation page, then the file. */
#define DRIVE_MAX_PAGES 4

enum {
	OPT_DATASET = 256,
	OPT_URL,
	OPT_ARCHIVE,
	OPT_VERIFY,
	OPT_SHA256,
	OPT_SIZE,
	OPT_LAYOUT,
	OPT_CHECK_SIZES,
	OPT_RETRIES,
	OPT_MAX_ENTRIES,
	OPT_MAX_BYTES,
	OPT_MAX_ENTRY_BYTES,
	OPT_MAX_RATIO,
};

struct fetch {
	/* options */
	const struct fetch_dataset *dataset;
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
"      --max-ratio=N       limit on unpacked/archive bytes (default 200)\n"
"      --progress          show progress on stderr even when not a terminal\n"
"      --no-progress       never show progress\n"
"  -q, --quiet             print errors only\n"
"  -h, --help              print this help and exit\n"
"  -V, --version           print version information and exit\n"
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

static uint64_t
size_arg(const char *opt, const char *arg)
{
	uint64_t v;

	if (parse_size(arg, &v) != 0)
		mirad_usage_error("%s: '%s' is not a size (a positive number, "
		                  "optionally with K, M, G or T)",
		    opt, arg);
	return v;
}

static void
parse_args(struct fetch *f, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"archive", required_argument, NULL, OPT_ARCHIVE},
	    {"check-sizes", no_argument, NULL, OPT_CHECK_SIZES},
	    {"dataset", required_argument, NULL, OPT_DATASET},
	    {"force", no_argument, NULL, 'f'},
	    {"layout", required_argument, NULL, OPT_LAYOUT},
	    {"max-bytes", required_argument, NULL, OPT_MAX_BYTES},
	    {"max-entries", required_argument, NULL, OPT_MAX_ENTRIES},
	    {"max-entry-bytes", required_argument, NULL, OPT_MAX_ENTRY_BYTES},
	    {"max-ratio", required_argument, NULL, OPT_MAX_RATIO},
	    {"output", required_argument, NULL, 'o'},
	    {"retries", required_argument, NULL, OPT_RETRIES},
	    {"sha256", required_argument, NULL, OPT_SHA256},
	    {"size", required_argument, NULL, OPT_SIZE},
	    {"url", required_argument, NULL, OPT_URL},
	    {"verify", required_argument, NULL, OPT_VERIFY},
	    MIRAD_CLI_COMMON_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	const char *out = NULL;
	uint64_t v;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":fho:qV", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			f->force = true;
			break;
		case 'o':
			out = optarg;
			break;
		case OPT_DATASET:
			f->dataset = fetch_catalogue_find(optarg);
			if (f->dataset == NULL)
				mirad_usage_error("unknown dataset '%s' (%s)",
				    optarg, fetch_catalogue_names());
			break;
		case OPT_URL:
			f->url = optarg;
			break;
		case OPT_ARCHIVE:
			f->archive = optarg;
			break;
		case OPT_VERIFY:
			f->verify = optarg;
			break;
		case OPT_SHA256:
			if (mirad_hash_parse_sha256(optarg, f->sha256) != 0)
				mirad_usage_error("--sha256: '%s' is not 64 "
				                  "hexadecimal digits",
				    optarg);
			f->have_sha256 = true;
			break;
		case OPT_SIZE:
			if (mirad_cli_parse_uint(
			        optarg, 1, UINT64_MAX, &f->size) != 0)
				mirad_usage_error("--size: '%s' is not a "
				                  "positive number of bytes",
				    optarg);
			break;
		case OPT_LAYOUT:
			if (mirad_layout_from_name(optarg, &f->layout) != 0)
				mirad_usage_error("unknown layout '%s' (mirad, "
				                  "mvtec, visa, visa-prepared)",
				    optarg);
			break;
		case OPT_CHECK_SIZES:
			f->read_sizes = true;
			break;
		case OPT_RETRIES:
			if (mirad_cli_parse_uint(optarg, 1, 100, &v) != 0)
				mirad_usage_error(
				    "--retries: '%s' is not in 1..100", optarg);
			f->retries = (unsigned)v;
			break;
		case OPT_MAX_ENTRIES:
			if (mirad_cli_parse_uint(optarg, 1, UINT64_MAX,
			        &f->limits.max_entries) != 0)
				mirad_usage_error(
				    "--max-entries: '%s' is not a "
				    "positive number",
				    optarg);
			break;
		case OPT_MAX_BYTES:
			f->limits.max_total_bytes =
			    size_arg("--max-bytes", optarg);
			break;
		case OPT_MAX_ENTRY_BYTES:
			f->limits.max_entry_bytes =
			    size_arg("--max-entry-bytes", optarg);
			break;
		case OPT_MAX_RATIO:
			if (mirad_cli_parse_uint(optarg, 1, UINT64_MAX,
			        &f->limits.max_ratio) != 0)
				mirad_usage_error("--max-ratio: '%s' is not a "
				                  "positive number",
				    optarg);
			break;
		default:
			mirad_cli_common_option(c, argv, usage, NULL);
		}
	}
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
cleanup(struct fetch *f)
{
	mirad_progress_end();
	mirad_outdir_abort(f->dir);
	f->dir = NULL;
	f->tmp = NULL;
}

static void
free_fetch(struct fetch *f)
{
	free(f->part);
	free(f->out);
}

MIRAD_NORETURN static void fail(
    struct fetch *f, int status, const char *fmt, ...) MIRAD_PRINTF(3, 4);

MIRAD_NORETURN static void
fail(struct fetch *f, int status, const char *fmt, ...)
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
report_stale(const struct fetch *f)
{
	size_t n = mirad_outdir_swept(f->dir);

	if (n > 0)
		mirad_note("%s: removed %zu temporary folder(s) left by an "
		           "interrupted run",
		    f->out, n);
}

/* The option that raises the limit an extraction went over. */
static const char *
limit_advice(enum mirad_extract_limit over)
{
	switch (over) {
	case MIRAD_EXTRACT_OVER_ENTRIES:
		return " (raise the limit with --max-entries)";
	case MIRAD_EXTRACT_OVER_ENTRY_BYTES:
		return " (raise it with --max-entry-bytes)";
	case MIRAD_EXTRACT_OVER_TOTAL_BYTES:
		return " (raise the limit with --max-bytes)";
	case MIRAD_EXTRACT_OVER_RATIO:
		return " (raise the limit with --max-ratio)";
	case MIRAD_EXTRACT_WITHIN:
		break;
	}
	return "";
}

/* ---- download ------------------------------------------------------------ */

static void
on_progress(void *ctx, uint64_t done, uint64_t total)
{
	struct fetch *f = ctx;

	if (total != f->progress_total) {
		mirad_progress_set_total(total);
		f->progress_total = total;
	}
	if (done < f->progress_done) {
		/* The file was emptied: start the meter again. */
		mirad_progress_end();
		mirad_progress_start("downloading", total);
		f->progress_done = 0;
	}
	mirad_progress_add(done - f->progress_done);
	f->progress_done = done;
}

static void
on_notice(void *ctx, const char *msg)
{
	(void)ctx;
	mirad_note("%s", msg);
}

/* A loopback base URL from the environment (tests), or NULL. */
static const char *
test_base(const char *var)
{
	const char *v = getenv(var);

	if (v == NULL || *v == '\0')
		return NULL;
	/* Only a local test server may stand in for Drive or a mirror. */
	if (strncmp(v, "http://127.0.0.1:", 17) != 0 &&
	    strncmp(v, "http://localhost:", 17) != 0)
		return NULL;
	return v;
}

static bool
is_drive_url(const char *url)
{
	const char *base = test_base("MIRAD_FETCH_TEST_DRIVE_URL");
	char scheme[16], host[256];

	if (base != NULL && strncmp(url, base, strlen(base)) == 0)
		return true;
	if (mirad_http_url_parts(
	        url, scheme, sizeof scheme, host, sizeof host) != 0)
		return false;
	return strcmp(host, "drive.google.com") == 0 ||
	    strcmp(host, "docs.google.com") == 0 ||
	    strcmp(host, "drive.usercontent.google.com") == 0;
}

static enum mirad_http_status
download_drive(struct fetch *f, struct mirad_http *h, const char *id,
    struct mirad_http_result *res, char *err, size_t errlen)
{
	const char *base = test_base("MIRAD_FETCH_TEST_DRIVE_URL");
	char *url = mirad_xasprintf("%s/uc?export=download&id=%s",
	    base ? base : "https://drive.google.com", id);
	enum mirad_http_status st = MIRAD_HTTP_FAILED;

	for (int page = 0; page <= DRIVE_MAX_PAGES; page++) {
		struct fetch_drive_page p;

		st = mirad_http_download(h, url, f->part, res, err, errlen);
		if (st != MIRAD_HTTP_PAGE)
			goto out;
		switch (fetch_drive_scan_page(res->page, res->page_len, &p)) {
		case FETCH_DRIVE_QUOTA:
			free(url);
			fail(f, FETCH_EXIT_TEMPFAIL,
			    "Google Drive refuses the download for now (%s); "
			    "retry later, or download the file in a browser "
			    "and use --archive",
			    p.message);
		case FETCH_DRIVE_ERROR:
			free(url);
			fail(
			    f, MIRAD_EXIT_FATAL, "Google Drive: %s", p.message);
		case FETCH_DRIVE_UNKNOWN:
			free(url);
			fail(f, MIRAD_EXIT_FATAL,
			    "Google Drive sent an HTML page that is neither "
			    "the file nor its download form (is the file "
			    "shared with 'Anyone with the link'?)");
		case FETCH_DRIVE_FORM:
			break;
		}
		if (strcmp(p.url, url) == 0)
			break;
		mirad_note("following Google Drive's download form");
		free(url);
		url = mirad_xstrdup(p.url);
	}
	snprintf(err, errlen,
	    "Google Drive: the confirmation pages lead nowhere (no progress "
	    "after %d pages)",
	    DRIVE_MAX_PAGES);
	st = MIRAD_HTTP_FAILED;
out:
	free(url);
	return st;
}

/* Download into f->part.  Exits on failure. */
static void
download(struct fetch *f)
{
	static const char *const drive_hosts[] = {"drive.google.com",
	    "drive.usercontent.google.com", "docs.google.com", NULL};
	static const char *const test_hosts[] = {
	    "127.0.0.1", "localhost", NULL};
	struct mirad_http_options o = {0};
	struct mirad_http_result res;
	enum mirad_http_status st;
	struct mirad_http *h;
	char id[256], err[2048];
	const char *url = f->url;
	char *mirror = NULL;
	bool drive;

	if (url == NULL && f->dataset->url != NULL) {
		const char *base = test_base("MIRAD_FETCH_TEST_MIRROR");

		url = f->dataset->url;
		if (base != NULL)
			url = mirror = mirad_xasprintf(
			    "%s/%s", base, mirad_path_basename(url));
	}
	drive = url == NULL || is_drive_url(url);
	if (url == NULL)
		snprintf(id, sizeof id, "%s", f->dataset->drive_id);
	else if (drive && fetch_drive_file_id(url, id, sizeof id) != 0)
		fail(f, MIRAD_EXIT_USAGE,
		    "%s: no Google Drive file id in this link", url);

	o.allow_http = true;
	o.allow_file = !drive;
	if (drive)
		o.allowed_hosts = test_base("MIRAD_FETCH_TEST_DRIVE_URL")
		    ? test_hosts
		    : drive_hosts;
	o.expected_size = f->size;
	o.max_attempts = f->retries;
	o.interrupted = interrupted;
	o.progress = on_progress;
	o.notice = on_notice;
	o.ctx = f;
	h = mirad_http_new(&o, err, sizeof err);
	if (h == NULL)
		fail(f, MIRAD_EXIT_FATAL, "%s", err);
	mirad_progress_start("downloading", f->size);
	f->progress_done = 0;
	f->progress_total = f->size;
	if (drive)
		st = download_drive(f, h, id, &res, err, sizeof err);
	else
		st =
		    mirad_http_download(h, url, f->part, &res, err, sizeof err);
	mirad_progress_end();
	mirad_http_free(h);
	free(mirror);
	switch (st) {
	case MIRAD_HTTP_OK:
		if (res.resumed > 0)
			mirad_note("resumed %s at byte %llu", f->part,
			    (unsigned long long)res.resumed);
		return;
	case MIRAD_HTTP_PAGE:
		(void)unlink(f->part);
		fail(f, MIRAD_EXIT_FATAL,
		    "%s: the server sent an HTML page instead of an archive",
		    f->url ? f->url : f->dataset->title);
	case MIRAD_HTTP_TEMPORARY:
		fail(f, FETCH_EXIT_TEMPFAIL,
		    "%s (the partial download %s is kept; run again to resume)",
		    err, f->part);
	case MIRAD_HTTP_INTERRUPTED:
		fail(f, FETCH_EXIT_TEMPFAIL,
		    "interrupted (the partial download %s is kept)", f->part);
	case MIRAD_HTTP_FAILED:
	default:
		fail(f, MIRAD_EXIT_FATAL, "%s", err);
	}
}

/* ---- checks before parsing ---------------------------------------------- */

/* Does the file start like an HTML page (after blanks and a BOM)? */
static bool
looks_like_html(const char *path)
{
	char buf[512];
	ssize_t n;
	size_t i = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	if (n >= 3 && memcmp(buf, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < (size_t)n && isspace((unsigned char)buf[i]))
		i++;
	return strncasecmp(buf + i, "<!doctype html", 14) == 0 ||
	    strncasecmp(buf + i, "<html", 5) == 0 ||
	    strncasecmp(buf + i, "<head", 5) == 0;
}

/* Hash and size check of PATH.  Returns 0, or -1 on a hash or size
 * mismatch (reported).  Exits on a read error. */
static int
check_archive(struct fetch *f, const char *path)
{
	if (looks_like_html(path)) {
		mirad_warn("%s: an HTML page, not an archive (a quota or error "
		           "page saved by a browser or a server?)",
		    path);
		return -1;
	}
	if (mirad_hash_sha256_file(
	        path, f->digest, &f->archive_size, interrupted) != 0)
		fail(f, MIRAD_EXIT_FATAL, "%s: %s", path, strerror(errno));
	if (f->size > 0 && f->archive_size != f->size) {
		mirad_warn("%s: %llu bytes, expected %llu", path,
		    (unsigned long long)f->archive_size,
		    (unsigned long long)f->size);
		return -1;
	}
	if (f->have_sha256 && strcmp(f->digest, f->sha256) != 0) {
		mirad_warn("%s: SHA-256 mismatch: expected %s, got %s", path,
		    f->sha256, f->digest);
		return -1;
	}
	if (f->have_sha256)
		mirad_note("sha256 %s verified", f->digest);
	else
		mirad_note("sha256 %s (not pinned: compare it with a trusted "
		           "source, then pass it with --sha256)",
		    f->digest);
	return 0;
}

/* ---- validation and report ----------------------------------------------- */

struct row {
	char *category;
	size_t train, test_normal, test_abnormal, val, train_abnormal;
};

/* TEXT with every FROM replaced by TO.  Caller frees. */
static char *
replace_all(const char *text, const char *from, const char *to)
{
	size_t nfrom = strlen(from);
	GString *out = g_string_new(NULL);
	const char *hit;

	while (nfrom > 0 && (hit = strstr(text, from)) != NULL) {
		g_string_append_len(out, text, hit - text);
		g_string_append(out, to);
		text = hit + nfrom;
	}
	g_string_append(out, text);
	return g_string_free(out, FALSE);
}

static void
count_problem(void *ctx, const char *where, const char *why)
{
	struct fetch *f = ctx;

	f->problems++;
	if (f->scan_root != NULL) {
		/* Name the files where they will be once published, not in
		 * the temporary folder that is gone by then. */
		char *w = replace_all(where, f->scan_root, f->out);
		char *y = replace_all(why, f->scan_root, f->out);

		mirad_warn("%s: %s", w, y);
		g_free(w);
		g_free(y);
		return;
	}
	mirad_warn("%s: %s", where, why);
}

static struct row *
row_for(struct row **rows, size_t *n, const char *category)
{
	for (size_t i = 0; i < *n; i++)
		if (strcmp((*rows)[i].category, category) == 0)
			return &(*rows)[i];
	*rows = mirad_xrealloc(*rows, (*n + 1) * sizeof **rows);
	memset(&(*rows)[*n], 0, sizeof **rows);
	(*rows)[*n].category = mirad_xstrdup(category);
	return &(*rows)[(*n)++];
}

static int
cmp_rows(const void *a, const void *b)
{
	return strcmp(((const struct row *)a)->category,
	    ((const struct row *)b)->category);
}

/*
 * Scan ROOT and print the report on stdout.  Returns the number of images,
 * sets *MISMATCH when the counts differ from the catalogue, *LAYOUT to the
 * layout found.  -1 (reason in ERR) when ROOT cannot be scanned.
 */
static long
validate(struct fetch *f, const char *root, bool *mismatch,
    enum mirad_layout *layout, char *err, size_t errlen)
{
	struct mirad_scan_options so = {0};
	struct mirad_scan_stats ss = {0};
	struct mirad_recordset recs = {0};
	struct row *rows = NULL;
	size_t nrows = 0, total[5] = {0};
	bool train_abnormal = false;
	const struct fetch_dataset *d = f->dataset;
	long images;

	*mismatch = false;
	so.layout = f->layout;
	if (so.layout == MIRAD_LAYOUT_AUTO && d != NULL)
		so.layout = d->layout;
	so.read_sizes = f->read_sizes;
	so.problem = count_problem;
	so.problem_ctx = f;
	f->problems = 0;
	if (mirad_layout_scan(root, &so, &recs, &ss, err, errlen) != 0)
		return -1;
	*layout = ss.layout;
	if (d != NULL)
		for (size_t i = 0; i < d->ncounts; i++)
			row_for(&rows, &nrows, d->counts[i].category);
	for (size_t i = 0; i < recs.count; i++) {
		const struct mirad_record *r = recs.items[i];
		struct row *row = row_for(&rows, &nrows, r->category);

		/* The rule of mirad-stats: Train counts normal images. */
		switch (mirad_count_column(r->split, r->label)) {
		case MIRAD_COUNT_TRAIN:
			row->train++;
			break;
		case MIRAD_COUNT_TRAIN_ABNORMAL:
			row->train_abnormal++;
			train_abnormal = true;
			break;
		case MIRAD_COUNT_VAL:
			row->val++;
			break;
		case MIRAD_COUNT_TEST_NORMAL:
			row->test_normal++;
			break;
		case MIRAD_COUNT_TEST_ABNORMAL:
			row->test_abnormal++;
			break;
		}
	}
	if (nrows > 1)
		qsort(rows, nrows, sizeof *rows, cmp_rows);

	printf("| Category | Train |%s Test normal | Test abnormal |%s\n",
	    train_abnormal ? " Train abnormal |" : "",
	    d ? " Expected | Status |" : "");
	printf("|---|---:|%s---:|---:|%s\n", train_abnormal ? "---:|" : "",
	    d ? "---|---|" : "");
	for (size_t i = 0; i < nrows; i++) {
		const struct row *row = &rows[i];

		printf("| %s | %zu |", row->category, row->train);
		if (train_abnormal)
			printf(" %zu |", row->train_abnormal);
		printf(" %zu | %zu |", row->test_normal, row->test_abnormal);
		if (d != NULL) {
			const struct fetch_count *c =
			    fetch_catalogue_count(d, row->category);

			if (c == NULL) {
				printf(" - | not in the catalogue |");
				*mismatch = true;
			} else {
				bool same = c->train == row->train &&
				    row->train_abnormal == 0 &&
				    c->test_normal == row->test_normal &&
				    c->test_abnormal == row->test_abnormal;

				printf(" %u/%u/%u | %s |", c->train,
				    c->test_normal, c->test_abnormal,
				    same ? "ok"
				        : row->train + row->train_abnormal +
				                row->test_normal +
				                row->test_abnormal ==
				            0
				        ? "missing"
				        : "differs");
				if (!same)
					*mismatch = true;
			}
		}
		putchar('\n');
		total[0] += row->train;
		total[1] += row->test_normal;
		total[2] += row->test_abnormal;
		total[3] += row->val;
		total[4] += row->train_abnormal;
		free(row->category);
	}
	free(rows);
	printf("\nlayout: %s\n", mirad_layout_name(ss.layout));
	printf("images: %zu (train %zu", recs.count, total[0]);
	if (total[4] > 0)
		printf(", train abnormal %zu", total[4]);
	printf(", test normal %zu, test abnormal %zu", total[1], total[2]);
	if (total[3] > 0)
		printf(", val %zu", total[3]);
	printf(")\nproblems: %zu\n", ss.problems);
	if (d != NULL)
		printf("catalogue: %s\n",
		    *mismatch ? "counts differ from the catalogue"
		              : "counts match the catalogue");
	images = (long)recs.count;
	mirad_recordset_clear(&recs);
	f->problems = ss.problems;
	return images;
}

/* The dataset root inside the extraction folder TMP: TMP itself when a
 * layout is recognised there, else its only entry when that is a folder
 * (archives usually wrap the tree in one top folder; hidden entries and
 * __MACOSX beside it are left behind).  Caller frees. */
static char *
find_root(const char *tmp)
{
	char *root = mirad_xstrdup(tmp);

	for (int depth = 0; depth < 2; depth++) {
		struct mirad_strlist names;
		char *sub;

		if (mirad_layout_detect(root) != MIRAD_LAYOUT_AUTO)
			break;
		if (mirad_list_dir(root, &names) != 0)
			break;
		sub = NULL;
		for (size_t i = 0; i < names.count; i++) {
			/* Hidden entries and the resource forks of zips made
			 * on macOS do not count as a second top folder. */
			if (names.items[i][0] == '.' ||
			    strcmp(names.items[i], "__MACOSX") == 0)
				continue;
			if (sub != NULL) {
				MIRAD_FREE(sub);
				break;
			}
			sub = mirad_path_join(root, names.items[i]);
		}
		mirad_strlist_free(&names);
		if (sub == NULL)
			break;
		if (!mirad_is_dir(sub)) {
			free(sub);
			break;
		}
		free(root);
		root = sub;
	}
	return root;
}

static void
write_marker(struct fetch *f, const char *root, const char *source,
    enum mirad_layout layout, long images)
{
	cJSON *o = cJSON_CreateObject();
	char *text, *path;

	cJSON_AddStringToObject(o, "tool", "mirad-fetch");
	cJSON_AddStringToObject(o, "version", PACKAGE_VERSION);
	if (f->dataset != NULL)
		cJSON_AddStringToObject(o, "dataset", f->dataset->name);
	cJSON_AddStringToObject(o, "source", source);
	cJSON_AddStringToObject(o, "sha256", f->digest);
	cJSON_AddBoolToObject(o, "sha256_pinned", f->have_sha256);
	cJSON_AddNumberToObject(o, "size", (double)f->archive_size);
	cJSON_AddStringToObject(o, "layout", mirad_layout_name(layout));
	cJSON_AddNumberToObject(o, "images", (double)images);
	text = cJSON_Print(o);
	cJSON_Delete(o);
	if (text == NULL)
		fail(f, MIRAD_EXIT_FATAL, "out of memory");
	path = mirad_path_join(root, ".mirad-fetch.json");
	if (mirad_write_file_atomic(path, text, strlen(text)) != 0) {
		int e = errno;

		cJSON_free(text);
		fail(f, MIRAD_EXIT_FATAL, "%s: %s", path, strerror(e));
	}
	free(path);
	cJSON_free(text);
}

/* ---- the run ----------------------------------------------------------------
 */

static int
run_verify(struct fetch *f)
{
	enum mirad_layout layout;
	bool mismatch;
	char err[1024];

	if (!mirad_is_dir(f->verify))
		mirad_die(MIRAD_EXIT_FATAL, "%s: not a folder", f->verify);
	if (validate(f, f->verify, &mismatch, &layout, err, sizeof err) < 0)
		mirad_die(MIRAD_EXIT_FATAL, "%s: %s", f->verify, err);
	return (mismatch || f->problems > 0) ? MIRAD_EXIT_PARTIAL
	                                     : MIRAD_EXIT_OK;
}

static int
run_fetch(struct fetch *f)
{
	struct mirad_extract_stats xs;
	enum mirad_layout layout;
	bool mismatch, downloaded = f->archive == NULL, retried = false;
	const char *path;
	char err[2048], *root;
	long images;
	int refusal;
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

			download(f);
			if (check_archive(f, f->part) == 0)
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
		if (check_archive(f, path) != 0)
			fail(f, MIRAD_EXIT_FATAL,
			    "%s: the archive does not match; nothing was "
			    "unpacked",
			    path);
	}
	if (interrupted())
		fail(f, MIRAD_EXIT_FATAL, "interrupted");

	if (f->dataset != NULL && f->limits.max_entries == 0) {
		/* A known dataset: images, masks and folders, with room for
		 * extra files; far below the generic limit. */
		uint64_t files = 0;

		for (size_t i = 0; i < f->dataset->ncounts; i++) {
			const struct fetch_count *c = &f->dataset->counts[i];

			files += c->train + c->test_normal +
			    2 * (uint64_t)c->test_abnormal;
		}
		f->limits.max_entries = 4 * files + 1000;
	}
	if (mirad_outdir_make_temp(f->dir) != MIRAD_OUTDIR_OK)
		fail(f, MIRAD_EXIT_FATAL,
		    "%s: %s: cannot create a temporary folder beside it: %s",
		    path, f->out, strerror(errno));
	f->tmp = mirad_outdir_temp(f->dir);
	if (mirad_archive_extract(path, f->tmp, &f->limits, &xs, interrupted,
	        err, sizeof err) != 0)
		fail(f, MIRAD_EXIT_FATAL, "%s: %s%s", path, err,
		    limit_advice(xs.over));
	mirad_note("unpacked %llu files, %llu bytes",
	    (unsigned long long)xs.files, (unsigned long long)xs.bytes);

	root = find_root(f->tmp);
	f->scan_root = root;
	images = validate(f, root, &mismatch, &layout, err, sizeof err);
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
	write_marker(f, root,
	    f->archive ? f->archive : (f->url ? f->url : f->dataset->name),
	    layout, images);
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
	struct fetch f = {0};
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
