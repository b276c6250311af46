/* SPDX-License-Identifier: MIT */
/*
 * The engine of mirad-fetch: the download (plain or through Google
 * Drive's pages), the checks before anything parses the archive, and the
 * validation of the unpacked tree with its report.
 */
#include "mirad_platform.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch_drive.h"
#include "fetch_run.h"
#include "mirad_cli.h"
#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_hash.h"
#include "mirad_http.h"
#include "mirad_manifest.h"
#include "mirad_progress.h"
#include "mirad_signal.h"
#include "mirad_version.h"

/* Drive hops: a confirmation page, then the file. */
#define DRIVE_MAX_PAGES 4

static int failed(char *msg, size_t msglen, int status, const char *fmt, ...)
    MIRAD_PRINTF(4, 5);

/* MSG becomes the message; returns STATUS. */
static int
failed(char *msg, size_t msglen, int status, const char *fmt, ...)
{
	char text[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	snprintf(msg, msglen, "%s", text);
	return status;
}

static int
interrupted(void)
{
	return mirad_signal_pending();
}

const char *
fetch_run_limit_advice(enum mirad_extract_limit over)
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
	struct fetch_run *f = ctx;

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

/* Download Drive file ID through its confirmation pages: 0 with the
 * transfer's status in *ST (and its error in ERR), or the exit status of a
 * page that refuses the file, with the message in ERR. */
static int
download_drive(struct fetch_run *f, struct mirad_http *h, const char *id,
    struct mirad_http_result *res, enum mirad_http_status *st, char *err,
    size_t errlen)
{
	const char *base = test_base("MIRAD_FETCH_TEST_DRIVE_URL");
	char *url = mirad_xasprintf("%s/uc?export=download&id=%s",
	    base ? base : "https://drive.google.com", id);
	*st = MIRAD_HTTP_FAILED;
	for (int page = 0; page <= DRIVE_MAX_PAGES; page++) {
		struct fetch_drive_page p;

		*st = mirad_http_download(h, url, f->part, res, err, errlen);
		if (*st != MIRAD_HTTP_PAGE)
			goto out;
		switch (fetch_drive_scan_page(res->page, res->page_len, &p)) {
		case FETCH_DRIVE_QUOTA:
			free(url);
			return failed(err, errlen, FETCH_EXIT_TEMPFAIL,
			    "Google Drive refuses the download for now (%s); "
			    "retry later, or download the file in a browser "
			    "and use --archive",
			    p.message);
		case FETCH_DRIVE_ERROR:
			free(url);
			return failed(err, errlen, MIRAD_EXIT_FATAL,
			    "Google Drive: %s", p.message);
		case FETCH_DRIVE_UNKNOWN:
			free(url);
			return failed(err, errlen, MIRAD_EXIT_FATAL,
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
	*st = MIRAD_HTTP_FAILED;
out:
	free(url);
	return 0;
}

int
fetch_run_download(struct fetch_run *f, char *msg, size_t msglen)
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
	int rc = 0;

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
		rc = failed(msg, msglen, MIRAD_EXIT_USAGE,
		    "%s: no Google Drive file id in this link", url);
	if (rc != 0) {
		free(mirror);
		return rc;
	}

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
	if (h == NULL) {
		free(mirror);
		return failed(msg, msglen, MIRAD_EXIT_FATAL, "%s", err);
	}
	mirad_progress_start("downloading", f->size);
	f->progress_done = 0;
	f->progress_total = f->size;
	if (drive)
		rc = download_drive(f, h, id, &res, &st, err, sizeof err);
	else
		st =
		    mirad_http_download(h, url, f->part, &res, err, sizeof err);
	mirad_progress_end();
	mirad_http_free(h);
	free(mirror);
	if (rc != 0)
		return failed(msg, msglen, rc, "%s", err);
	switch (st) {
	case MIRAD_HTTP_OK:
		if (res.resumed > 0)
			mirad_note("resumed %s at byte %llu", f->part,
			    (unsigned long long)res.resumed);
		return 0;
	case MIRAD_HTTP_PAGE:
		(void)unlink(f->part);
		return failed(msg, msglen, MIRAD_EXIT_FATAL,
		    "%s: the server sent an HTML page instead of an archive",
		    f->url ? f->url : f->dataset->title);
	case MIRAD_HTTP_TEMPORARY:
		return failed(msg, msglen, FETCH_EXIT_TEMPFAIL,
		    "%s (the partial download %s is kept; run again to resume)",
		    err, f->part);
	case MIRAD_HTTP_INTERRUPTED:
		return failed(msg, msglen, FETCH_EXIT_TEMPFAIL,
		    "interrupted (the partial download %s is kept)", f->part);
	case MIRAD_HTTP_FAILED:
	default:
		return failed(msg, msglen, MIRAD_EXIT_FATAL, "%s", err);
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

int
fetch_run_check_archive(
    struct fetch_run *f, const char *path, char *msg, size_t msglen)
{
	if (looks_like_html(path)) {
		mirad_warn("%s: an HTML page, not an archive (a quota or error "
		           "page saved by a browser or a server?)",
		    path);
		return -1;
	}
	if (mirad_hash_sha256_file(
	        path, f->digest, &f->archive_size, interrupted) != 0)
		return failed(msg, msglen, MIRAD_EXIT_FATAL, "%s: %s", path,
		    strerror(errno));
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
	struct mirad_counts n;
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
	struct fetch_run *f = ctx;

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

long
fetch_run_validate(struct fetch_run *f, const char *root, bool *mismatch,
    enum mirad_layout *layout, char *err, size_t errlen)
{
	struct mirad_scan_options so = {0};
	struct mirad_scan_stats ss = {0};
	struct mirad_recordset recs = {0};
	struct row *rows = NULL;
	size_t nrows = 0;
	struct mirad_counts total = {0};
	const struct fetch_dataset *d = f->dataset;
	long images;
	int rc;

	*mismatch = false;
	so.layout = f->layout;
	if (so.layout == MIRAD_LAYOUT_AUTO && d != NULL)
		so.layout = d->layout;
	so.read_sizes = f->read_sizes;
	so.problem = count_problem;
	so.problem_ctx = f;
	f->problems = 0;
	rc = mirad_layout_scan(root, &so, &recs, &ss, err, errlen);
	if (rc != 0) {
		mirad_cli_dataset_advice(rc, err, errlen);
		return -1;
	}
	*layout = ss.layout;
	if (d != NULL)
		for (size_t i = 0; i < d->ncounts; i++)
			row_for(&rows, &nrows, d->counts[i].category);
	for (size_t i = 0; i < recs.count; i++) {
		const struct mirad_record *r = recs.items[i];
		struct row *row = row_for(&rows, &nrows, r->category);

		/* The rule of mirad-stats: Train counts normal images. */
		mirad_counts_add(&row->n, r->split, r->label);
	}
	for (size_t i = 0; i < nrows; i++)
		mirad_counts_sum(&total, &rows[i].n);
	if (nrows > 1)
		qsort(rows, nrows, sizeof *rows, cmp_rows);

	printf("| Category | Train |%s Test normal | Test abnormal |%s\n",
	    total.train_abnormal > 0 ? " Train abnormal |" : "",
	    d ? " Expected | Status |" : "");
	printf("|---|---:|%s---:|---:|%s\n",
	    total.train_abnormal > 0 ? "---:|" : "", d ? "---|---|" : "");
	for (size_t i = 0; i < nrows; i++) {
		const struct row *row = &rows[i];

		printf("| %s | %zu |", row->category, row->n.train);
		if (total.train_abnormal > 0)
			printf(" %zu |", row->n.train_abnormal);
		printf(
		    " %zu | %zu |", row->n.test_normal, row->n.test_abnormal);
		if (d != NULL) {
			const struct fetch_count *c =
			    fetch_catalogue_count(d, row->category);

			if (c == NULL) {
				printf(" - | not in the catalogue |");
				*mismatch = true;
			} else {
				bool same = c->train == row->n.train &&
				    row->n.train_abnormal == 0 &&
				    c->test_normal == row->n.test_normal &&
				    c->test_abnormal == row->n.test_abnormal;

				printf(" %u/%u/%u | %s |", c->train,
				    c->test_normal, c->test_abnormal,
				    same ? "ok"
				        : row->n.train + row->n.train_abnormal +
				                row->n.test_normal +
				                row->n.test_abnormal ==
				            0
				        ? "missing"
				        : "differs");
				if (!same)
					*mismatch = true;
			}
		}
		putchar('\n');
		free(row->category);
	}
	free(rows);
	printf("\nlayout: %s\n", mirad_layout_name(ss.layout));
	printf("images: %zu (train %zu", recs.count, total.train);
	if (total.train_abnormal > 0)
		printf(", train abnormal %zu", total.train_abnormal);
	printf(", test normal %zu, test abnormal %zu", total.test_normal,
	    total.test_abnormal);
	if (total.val > 0)
		printf(", val %zu", total.val);
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

/* Archives usually wrap the tree in one top folder; hidden entries and
 * __MACOSX beside it are left behind. */
char *
fetch_run_find_root(const char *tmp)
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

int
fetch_run_write_marker(const struct fetch_run *f, const char *root,
    const char *source, enum mirad_layout layout, long images, char *msg,
    size_t msglen)
{
	cJSON *o = cJSON_CreateObject();
	char *text, *path;
	int rc;

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
		return failed(msg, msglen, MIRAD_EXIT_FATAL, "out of memory");
	path = mirad_path_join(root, ".mirad-fetch.json");
	if (mirad_write_file_atomic(path, text, strlen(text)) != 0) {
		int e = errno;

		cJSON_free(text);
		rc = failed(
		    msg, msglen, MIRAD_EXIT_FATAL, "%s: %s", path, strerror(e));
		free(path);
		return rc;
	}
	free(path);
	cJSON_free(text);
	return 0;
}
