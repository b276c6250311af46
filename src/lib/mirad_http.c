/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "mirad_http.h"

/* An HTML page larger than this is not a confirmation page. */
#define PAGE_MAX (1u << 20)
/* Manual redirects per request. */
#define MAX_REDIRECTS 8
/* Times PART may be emptied and started again in one call. */
#define MAX_RESTARTS 3
/* Transfers in one call, whatever happens (a server that drips a few
 * bytes and drops forever). */
#define MAX_TRANSFERS 200
/* Backoff: 1 s doubling, capped (curl's RETRY_SLEEP_MAX is 10 min). */
#define BACKOFF_MAX_S 600

const char *
mirad_http_library_version(void)
{
	return curl_version_info(CURLVERSION_NOW)->version;
}

/* ---- pure parsers ------------------------------------------------------- */

static bool
is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

bool
mirad_http_header_value(
    const char *line, size_t len, const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name), start, end;

	if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
		return false;
	start = n + 1;
	end = len;
	while (start < end && is_blank(line[start]))
		start++;
	while (end > start && is_blank(line[end - 1]))
		end--;
	if (outlen == 0)
		return true;
	if (end - start >= outlen)
		end = start + outlen - 1;
	memcpy(out, line + start, end - start);
	out[end - start] = '\0';
	return true;
}

int
mirad_http_parse_status_line(const char *line, size_t len)
{
	size_t i = 5;
	int code = 0;

	if (len < 5 || strncmp(line, "HTTP/", 5) != 0)
		return -1;
	while (i < len && line[i] != ' ') {
		if (!((line[i] >= '0' && line[i] <= '9') || line[i] == '.'))
			return -1;
		i++;
	}
	if (i == 5 || i >= len)
		return -1;
	i++;
	for (int d = 0; d < 3; d++, i++) {
		if (i >= len || line[i] < '0' || line[i] > '9')
			return -1;
		code = code * 10 + (line[i] - '0');
	}
	if (i < len && !is_blank(line[i]))
		return -1;
	return code >= 100 && code <= 599 ? code : -1;
}

/* A decimal number of at most 19 digits at *P; advances *P. */
static int
parse_u64(const char **p, uint64_t *out)
{
	uint64_t v = 0;
	int digits = 0;

	while (**p >= '0' && **p <= '9') {
		if (++digits > 19)
			return -1;
		v = v * 10 + (uint64_t)(**p - '0');
		(*p)++;
	}
	if (digits == 0)
		return -1;
	*out = v;
	return 0;
}

int
mirad_http_parse_content_range(
    const char *value, uint64_t *first, uint64_t *last, uint64_t *total)
{
	const char *p = value;

	if (strncasecmp(p, "bytes", 5) != 0)
		return -1;
	p += 5;
	if (*p != ' ' && *p != '=')
		return -1;
	while (*p == ' ' || *p == '=')
		p++;
	if (*p == '*') {
		p++;
		*first = *last = UINT64_MAX;
	} else {
		if (parse_u64(&p, first) != 0 || *p++ != '-' ||
		    parse_u64(&p, last) != 0 || *last < *first)
			return -1;
	}
	if (*p++ != '/')
		return -1;
	if (*p == '*') {
		p++;
		if (*first == UINT64_MAX)
			return -1; /* "* / *" */
		*total = UINT64_MAX;
	} else {
		if (parse_u64(&p, total) != 0)
			return -1;
		if (*first != UINT64_MAX && *last >= *total)
			return -1;
	}
	while (is_blank(*p))
		p++;
	return *p == '\0' ? 0 : -1;
}

int
mirad_http_url_parts(const char *url, char *scheme, size_t scheme_len,
    char *host, size_t host_len)
{
	CURLU *u = curl_url();
	char *s = NULL, *h = NULL;
	int rc = -1;

	if (u == NULL)
		return -1;
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
	    curl_url_get(u, CURLUPART_SCHEME, &s, 0) != CURLUE_OK)
		goto out;
	/* file:// URLs have no host. */
	if (curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK)
		h = NULL;
	if (strlen(s) >= scheme_len || (h && strlen(h) >= host_len))
		goto out;
	for (size_t i = 0; s[i]; i++)
		scheme[i] =
		    (char)((s[i] >= 'A' && s[i] <= 'Z') ? s[i] + 32 : s[i]);
	scheme[strlen(s)] = '\0';
	host[0] = '\0';
	if (h != NULL) {
		for (size_t i = 0; h[i]; i++)
			host[i] =
			    (char)((h[i] >= 'A' && h[i] <= 'Z') ? h[i] + 32
			                                        : h[i]);
		host[strlen(h)] = '\0';
	}
	rc = 0;
out:
	curl_free(s);
	curl_free(h);
	curl_url_cleanup(u);
	return rc;
}

/* ---- the session -------------------------------------------------------- */

struct mirad_http {
	struct mirad_http_options o;
	CURL *curl;
	GString *page; /* the HTML page of the last answer, NULL when none */
};

/* What one transfer (one request, no redirects) saw. */
enum body_mode {
	BODY_UNDECIDED,
	BODY_FILE,
	BODY_PAGE,
	BODY_DISCARD
};

struct transfer {
	struct mirad_http *h;
	int fd;
	bool is_file_scheme;
	uint64_t have;    /* bytes in the file when the request started */
	uint64_t written; /* bytes appended by this request */
	int status;       /* from the last status line, 0 if none */
	char content_type[128];
	char content_range[128];
	char content_length[32];
	char location[8]; /* only whether one was sent */
	bool attachment;
	enum body_mode mode;
	bool wrong_range;   /* a 206 at another offset */
	uint64_t announced; /* whole-file size the answer announced, or 0 */
	bool size_mismatch; /* ... and it is not the expected size */
	bool too_big;       /* an HTML page over PAGE_MAX */
	int write_errno;
};

static size_t
on_header(char *data, size_t size, size_t n, void *ud)
{
	struct transfer *t = ud;
	size_t len = size * n;
	char value[8];
	int code = mirad_http_parse_status_line(data, len);

	if (code >= 0) {
		/* A new response (after a 100 Continue, say): start over. */
		t->status = code;
		t->content_type[0] = t->content_range[0] = '\0';
		t->content_length[0] = '\0';
		t->attachment = false;
		return len;
	}
	mirad_http_header_value(
	    data, len, "Content-Type", t->content_type, sizeof t->content_type);
	mirad_http_header_value(data, len, "Content-Range", t->content_range,
	    sizeof t->content_range);
	mirad_http_header_value(data, len, "Content-Length", t->content_length,
	    sizeof t->content_length);
	if (mirad_http_header_value(
	        data, len, "Content-Disposition", value, sizeof value))
		t->attachment = true;
	return len;
}

static bool
is_html(const char *content_type)
{
	return strncasecmp(content_type, "text/html", 9) == 0 ||
	    strncasecmp(content_type, "application/xhtml", 17) == 0;
}

static void
decide(struct transfer *t)
{
	uint64_t first, last, total;

	if (t->is_file_scheme) {
		t->mode = BODY_FILE;
		return;
	}
	if (t->status != 200 && t->status != 206) {
		t->mode = BODY_DISCARD;
		return;
	}
	if (is_html(t->content_type)) {
		t->mode = BODY_PAGE;
		return;
	}
	if (t->status == 206) {
		if (mirad_http_parse_content_range(
		        t->content_range, &first, &last, &total) != 0 ||
		    first != t->have) {
			t->wrong_range = true;
			t->mode = BODY_DISCARD;
			return;
		}
		if (total != UINT64_MAX)
			t->announced = total;
	} else if (t->have > 0) {
		/* 200 to a Range request: the whole file follows.  (libcurl
		 * normally stops this with CURLE_RANGE_ERROR first.) */
		t->wrong_range = true;
		t->mode = BODY_DISCARD;
		return;
	} else {
		const char *p = t->content_length;

		if (*p != '\0' && parse_u64(&p, &total) == 0 && *p == '\0')
			t->announced = total;
	}
	if (t->h->o.expected_size > 0 && t->announced > 0 &&
	    t->announced != t->h->o.expected_size) {
		t->size_mismatch = true;
		t->mode = BODY_DISCARD;
		return;
	}
	t->mode = BODY_FILE;
}

static size_t
on_body(char *data, size_t size, size_t n, void *ud)
{
	struct transfer *t = ud;
	struct mirad_http *h = t->h;
	size_t len = size * n, done = 0;

	if (t->mode == BODY_UNDECIDED)
		decide(t);
	switch (t->mode) {
	case BODY_DISCARD:
		/* Abort at once on a wrong range or size: nothing of it is
		 * kept. */
		return t->wrong_range || t->size_mismatch ? 0 : len;
	case BODY_PAGE:
		if (h->page == NULL)
			h->page = g_string_new(NULL);
		if (h->page->len + len > PAGE_MAX) {
			t->too_big = true;
			return 0;
		}
		g_string_append_len(h->page, data, (gssize)len);
		return len;
	default:
		break;
	}
	while (done < len) {
		ssize_t w = write(t->fd, data + done, len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0) {
			t->write_errno = errno;
			return 0;
		}
		done += (size_t)w;
	}
	t->written += len;
	return len;
}

static int
on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
    curl_off_t ulnow)
{
	struct transfer *t = ud;
	struct mirad_http *h = t->h;
	uint64_t total = h->o.expected_size;

	(void)dlnow;
	(void)ultotal;
	(void)ulnow;
	if (h->o.interrupted != NULL && h->o.interrupted())
		return 1;
	if (total == 0 && dltotal > 0 && t->mode == BODY_FILE)
		total = t->have + (uint64_t)dltotal;
	if (h->o.progress != NULL && t->mode == BODY_FILE)
		h->o.progress(h->o.ctx, t->have + t->written, total);
	return 0;
}

struct mirad_http *
mirad_http_new(const struct mirad_http_options *opts, char *err, size_t errlen)
{
	struct mirad_http *h;
	static bool global_done;

	if (!global_done) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			snprintf(err, errlen, "cannot initialise libcurl");
			return NULL;
		}
		global_done = true;
	}
	h = calloc(1, sizeof *h);
	if (h == NULL) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return NULL;
	}
	h->o = *opts;
	if (h->o.max_attempts == 0)
		h->o.max_attempts = 5;
	if (h->o.connect_timeout == 0)
		h->o.connect_timeout = 30;
	if (h->o.low_speed_limit == 0)
		h->o.low_speed_limit = 1024;
	if (h->o.low_speed_time == 0)
		h->o.low_speed_time = 60;
	h->curl = curl_easy_init();
	if (h->curl == NULL) {
		free(h);
		snprintf(err, errlen, "cannot initialise libcurl");
		return NULL;
	}
	/* In-memory cookie engine (the Drive flow); nothing on disk. */
	curl_easy_setopt(h->curl, CURLOPT_COOKIEFILE, "");
	return h;
}

void
mirad_http_free(struct mirad_http *h)
{
	if (h == NULL)
		return;
	curl_easy_cleanup(h->curl);
	if (h->page != NULL)
		g_string_free(h->page, TRUE);
	free(h);
}

/* Is URL allowed by the scheme and host rules?  Reason in ERR if not. */
static bool
url_allowed(struct mirad_http *h, const char *url, bool redirect, char *err,
    size_t errlen)
{
	char scheme[16], host[256];

	if (mirad_http_url_parts(
	        url, scheme, sizeof scheme, host, sizeof host) != 0) {
		snprintf(err, errlen, "%s: not a valid URL", url);
		return false;
	}
	if (!(strcmp(scheme, "https") == 0 ||
	        (strcmp(scheme, "http") == 0 && h->o.allow_http) ||
	        (strcmp(scheme, "file") == 0 && h->o.allow_file &&
	            !redirect))) {
		snprintf(err, errlen, "%s%s: the %s scheme is not allowed",
		    redirect ? "redirect to " : "", url, scheme);
		return false;
	}
	if (h->o.allowed_hosts != NULL && strcmp(scheme, "file") != 0) {
		for (const char *const *a = h->o.allowed_hosts; *a; a++)
			if (strcasecmp(*a, host) == 0)
				return true;
		snprintf(err, errlen, "%s%s: host %s is not allowed",
		    redirect ? "redirect to " : "", url, host);
		return false;
	}
	return true;
}

/* Sleep SECONDS in small steps; false if interrupted. */
static bool
wait_seconds(struct mirad_http *h, unsigned long seconds)
{
	for (unsigned long i = 0; i < seconds * 10; i++) {
		struct timespec ts = {0, 100 * 1000 * 1000};

		if (h->o.interrupted != NULL && h->o.interrupted())
			return false;
		nanosleep(&ts, NULL);
	}
	return !(h->o.interrupted != NULL && h->o.interrupted());
}

static void notice(struct mirad_http *h, const char *fmt, ...)
    MIRAD_PRINTF(2, 3);

static void
notice(struct mirad_http *h, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (h->o.notice == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	h->o.notice(h->o.ctx, msg);
}

static bool
transient_code(long code)
{
	return code == 408 || code == 429 || code == 500 || code == 502 ||
	    code == 503 || code == 504;
}

static bool
transient_curl(CURLcode c)
{
	switch (c) {
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_GOT_NOTHING:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		return true;
	default:
		return false;
	}
}

static void
setup_request(struct mirad_http *h, struct transfer *t, const char *url)
{
	CURL *c = h->curl;

	/* No curl_easy_reset(): it would drop the cookies, and setting
	 * CURLOPT_COOKIEFILE again after a reset leaks in libcurl 7.88.
	 * Every option used is set on every request instead. */
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR,
	    h->o.allow_file ? "http,https,file" : "http,https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, h->o.connect_timeout);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, h->o.low_speed_limit);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, h->o.low_speed_time);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "mirad-fetch/" PACKAGE_VERSION);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, t);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, t);
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)t->have);
}

static int
empty_file(int fd, struct mirad_http_result *res, char *err, size_t errlen)
{
	if (ftruncate(fd, 0) != 0) {
		snprintf(err, errlen, "cannot empty the partial file: %s",
		    strerror(errno));
		return -1;
	}
	res->restarts++;
	res->resumed = 0;
	return 0;
}

/* What one transfer's outcome calls for next, as curl's retry check decides
 * it: each outcome is decided in one place, in this order. */
enum next_step {
	STEP_OK,          /* the file is complete */
	STEP_PAGE,        /* an HTML page came instead */
	STEP_INTERRUPTED, /* the interrupted callback said stop */
	STEP_FAIL,        /* permanent; the reason is in ERR */
	STEP_RESTART,  /* empty the file and start from zero (NOTE says why) */
	STEP_REDIRECT, /* follow *NEXT */
	STEP_RETRY     /* transient; the reason is in ERR */
};

/* One finished transfer: libcurl's result and HTTP code, what the body
 * callbacks saw, and where it was going. */
struct outcome {
	const struct transfer *t;
	CURLcode cc;
	long code;
	const char *url;
	const char *part_path;
	unsigned restarts; /* restarts so far */
};

/* A restart, unless the server has made us restart too often: then a
 * failure with GIVE_UP as the reason. */
struct restart_words {
	const char *give_up; /* the failure */
	const char *verb;    /* "the server VERB at byte N" */
	const char *code;    /* after the byte: "" or " (416)" */
};

static enum next_step
restart_or_give_up(const struct outcome *o, const struct restart_words *w,
    char *err, size_t errlen, char *note, size_t notelen)
{
	if (o->restarts >= MAX_RESTARTS) {
		snprintf(err, errlen, "%s: %s", o->url, w->give_up);
		return STEP_FAIL;
	}
	snprintf(note, notelen,
	    "%s: the server %s at byte %llu%s; starting again from zero",
	    o->url, w->verb, (unsigned long long)o->t->have, w->code);
	return STEP_RESTART;
}

static const struct restart_words wrong_range = {
    "the server keeps answering resumes with the wrong range", "did not resume",
    ""};
static const struct restart_words cannot_resume = {
    "HTTP 416", "cannot resume", " (416)"};

static enum next_step
classify(struct mirad_http *h, const struct outcome *o, char **next, char *err,
    size_t errlen, char *note, size_t notelen)
{
	const struct transfer *t = o->t;
	uint64_t first, last, total;

	if (h->o.interrupted != NULL && h->o.interrupted())
		return STEP_INTERRUPTED;
	if (t->write_errno != 0) {
		snprintf(err, errlen, "%s: %s", o->part_path,
		    strerror(t->write_errno));
		return STEP_FAIL;
	}
	if (t->too_big) {
		snprintf(err, errlen,
		    "%s: an HTML page larger than %u bytes came instead of "
		    "the file",
		    o->url, PAGE_MAX);
		return STEP_FAIL;
	}
	if (t->size_mismatch) {
		snprintf(err, errlen,
		    "%s: the server announces %llu bytes, expected %llu",
		    o->url, (unsigned long long)t->announced,
		    (unsigned long long)h->o.expected_size);
		return STEP_FAIL;
	}
	if (o->cc == CURLE_RANGE_ERROR || t->wrong_range)
		return restart_or_give_up(
		    o, &wrong_range, err, errlen, note, notelen);
	if (o->cc == CURLE_OK &&
	    (o->code == 200 || o->code == 206 ||
	        (t->is_file_scheme && o->code == 0)))
		return t->mode == BODY_PAGE ? STEP_PAGE : STEP_OK;
	if (o->cc == CURLE_OK && o->code >= 300 && o->code < 400) {
		curl_easy_getinfo(h->curl, CURLINFO_REDIRECT_URL, next);
		if (*next != NULL)
			return STEP_REDIRECT;
		snprintf(err, errlen, "%s: HTTP %ld without a Location", o->url,
		    o->code);
		return STEP_FAIL;
	}
	if (o->cc == CURLE_OK && o->code == 416 && t->have > 0) {
		if (mirad_http_parse_content_range(
		        t->content_range, &first, &last, &total) == 0 &&
		    total == t->have)
			return STEP_OK; /* it was complete */
		return restart_or_give_up(
		    o, &cannot_resume, err, errlen, note, notelen);
	}
	/* What is left is a failure: transient or not. */
	if (o->cc == CURLE_OK)
		snprintf(err, errlen, "%s: HTTP %ld", o->url, o->code);
	else
		snprintf(
		    err, errlen, "%s: %s", o->url, curl_easy_strerror(o->cc));
	if (o->cc == CURLE_OK ? transient_code(o->code) : transient_curl(o->cc))
		return STEP_RETRY;
	return STEP_FAIL;
}

/* Replace *URL by the redirect target NEXT when the redirect limit and the
 * scheme and host rules allow it.  0, or -1 with ERR. */
static int
follow_redirect(struct mirad_http *h, char **url, const char *next,
    const char *url_in, unsigned *redirects, char *err, size_t errlen)
{
	char *copy;

	if (++*redirects > MAX_REDIRECTS) {
		snprintf(err, errlen, "%s: too many redirects", url_in);
		return -1;
	}
	if (!url_allowed(h, next, true, err, errlen))
		return -1;
	copy = strdup(next);
	if (copy == NULL) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return -1;
	}
	free(*url);
	*url = copy;
	return 0;
}

/* Wait before retrying after the FAILURES-th transient failure ERR: the
 * server's Retry-After or the doubling *BACKOFF, at most BACKOFF_MAX_S;
 * at once when data flowed.  False if interrupted meanwhile. */
static bool
wait_to_retry(struct mirad_http *h, const struct transfer *t,
    unsigned long *backoff, unsigned failures, const char *err)
{
	long retry_after = 0;
	unsigned long wait = *backoff;

	curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &retry_after);
	if (retry_after > 0)
		wait = (unsigned long)retry_after;
	if (wait > BACKOFF_MAX_S)
		wait = BACKOFF_MAX_S;
	if (t->written > 0)
		wait = 0; /* data flowed: resume at once */
	notice(h, "%s; retrying in %lu s (attempt %u of %u)", err, wait,
	    failures + 1, h->o.max_attempts);
	if (!wait_seconds(h, wait))
		return false;
	if (*backoff < BACKOFF_MAX_S)
		*backoff *= 2;
	return true;
}

/* Open PART_PATH for appending; a file larger than the expected size is
 * emptied.  The descriptor, or -1 with ERR. */
static int
open_part(struct mirad_http *h, const char *part_path,
    struct mirad_http_result *res, char *err, size_t errlen)
{
	struct stat st;
	int fd =
	    open(part_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", part_path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	res->resumed = (uint64_t)st.st_size;
	if (h->o.expected_size > 0 &&
	    (uint64_t)st.st_size > h->o.expected_size) {
		notice(
		    h, "%s: larger than expected, starting again", part_path);
		if (empty_file(fd, res, err, errlen) != 0) {
			res->size = (uint64_t)st.st_size;
			close(fd);
			return -1;
		}
	}
	return fd;
}

enum mirad_http_status
mirad_http_download(struct mirad_http *h, const char *url_in,
    const char *part_path, struct mirad_http_result *res, char *err,
    size_t errlen)
{
	enum mirad_http_status rc = MIRAD_HTTP_FAILED;
	char *url = strdup(url_in);
	unsigned failures = 0, redirects = 0;
	unsigned long backoff = 1;
	struct stat st;
	int fd = -1;

	memset(res, 0, sizeof *res);
	if (h->page != NULL)
		g_string_truncate(h->page, 0);
	if (url == NULL) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return MIRAD_HTTP_FAILED;
	}
	if (!url_allowed(h, url, false, err, errlen) ||
	    (fd = open_part(h, part_path, res, err, errlen)) < 0)
		goto out;

	for (unsigned n = 0; n < MAX_TRANSFERS; n++) {
		struct transfer t = {0};
		struct outcome o = {&t, CURLE_OK, 0, NULL, part_path, 0};
		char *next = NULL, note[1024];

		if (fstat(fd, &st) != 0) {
			snprintf(
			    err, errlen, "%s: %s", part_path, strerror(errno));
			goto out;
		}
		t.h = h;
		t.fd = fd;
		t.have = (uint64_t)st.st_size;
		t.is_file_scheme = strncasecmp(url, "file:", 5) == 0;
		res->size = t.have;
		if (h->o.expected_size > 0 && t.have == h->o.expected_size &&
		    redirects == 0) {
			rc = MIRAD_HTTP_OK; /* complete from an earlier run */
			goto out;
		}
		setup_request(h, &t, url);
		o.cc = curl_easy_perform(h->curl);
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &o.code);
		o.url = url;
		o.restarts = res->restarts;
		res->code = o.code;
		res->attachment = t.attachment;
		res->size = t.have + t.written;
		if (t.written > 0)
			failures = 0,
			backoff = 1; /* progress resets the count */

		switch (
		    classify(h, &o, &next, err, errlen, note, sizeof note)) {
		case STEP_OK:
			rc = MIRAD_HTTP_OK;
			goto out;
		case STEP_PAGE:
			res->page = h->page ? h->page->str : "";
			res->page_len = h->page ? h->page->len : 0;
			rc = MIRAD_HTTP_PAGE;
			goto out;
		case STEP_INTERRUPTED:
			snprintf(err, errlen, "interrupted");
			rc = MIRAD_HTTP_INTERRUPTED;
			goto out;
		case STEP_FAIL:
			goto out;
		case STEP_RESTART:
			notice(h, "%s", note);
			if (empty_file(fd, res, err, errlen) != 0)
				goto out;
			continue;
		case STEP_REDIRECT:
			if (follow_redirect(h, &url, next, url_in, &redirects,
			        err, errlen) != 0)
				goto out;
			continue;
		case STEP_RETRY:
			if (++failures >= h->o.max_attempts) {
				rc = MIRAD_HTTP_TEMPORARY;
				goto out;
			}
			if (!wait_to_retry(h, &t, &backoff, failures, err)) {
				snprintf(err, errlen, "interrupted");
				rc = MIRAD_HTTP_INTERRUPTED;
				goto out;
			}
			continue;
		}
	}
	snprintf(err, errlen, "%s: gave up after %d transfers", url_in,
	    MAX_TRANSFERS);
	rc = MIRAD_HTTP_TEMPORARY;
out:
	if (fd >= 0) {
		if (fstat(fd, &st) == 0)
			res->size = (uint64_t)st.st_size;
		if (close(fd) != 0 && rc == MIRAD_HTTP_OK) {
			snprintf(
			    err, errlen, "%s: %s", part_path, strerror(errno));
			rc = MIRAD_HTTP_FAILED;
		}
	}
	free(url);
	return rc;
}
