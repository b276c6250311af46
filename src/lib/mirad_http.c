/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
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
	char *page;
	size_t page_len;
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
		if (h->page_len + len > PAGE_MAX) {
			t->too_big = true;
			return 0;
		}
		h->page = realloc(h->page, h->page_len + len + 1);
		if (h->page == NULL) {
			t->write_errno = ENOMEM;
			h->page_len = 0;
			return 0;
		}
		memcpy(h->page + h->page_len, data, len);
		h->page_len += len;
		h->page[h->page_len] = '\0';
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
	free(h->page);
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
	int fd;

	memset(res, 0, sizeof *res);
	free(h->page);
	h->page = NULL;
	h->page_len = 0;
	if (url == NULL) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return MIRAD_HTTP_FAILED;
	}
	if (!url_allowed(h, url, false, err, errlen)) {
		free(url);
		return MIRAD_HTTP_FAILED;
	}
	fd = open(part_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd < 0 || fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s: %s", part_path, strerror(errno));
		goto out;
	}
	res->resumed = (uint64_t)st.st_size;
	if (h->o.expected_size > 0 &&
	    (uint64_t)st.st_size > h->o.expected_size) {
		notice(
		    h, "%s: larger than expected, starting again", part_path);
		if (empty_file(fd, res, err, errlen) != 0)
			goto out;
	}

	for (unsigned n = 0; n < MAX_TRANSFERS; n++) {
		struct transfer t = {0};
		CURLcode cc;
		long code = 0, retry_after = 0;
		char *next = NULL;

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
		cc = curl_easy_perform(h->curl);
		curl_easy_getinfo(h->curl, CURLINFO_RESPONSE_CODE, &code);
		res->code = code;
		res->attachment = t.attachment;
		res->size = t.have + t.written;
		if (t.written > 0)
			failures = 0,
			backoff = 1; /* progress resets the count */

		if (h->o.interrupted != NULL && h->o.interrupted()) {
			snprintf(err, errlen, "interrupted");
			rc = MIRAD_HTTP_INTERRUPTED;
			goto out;
		}
		if (t.write_errno != 0) {
			snprintf(err, errlen, "%s: %s", part_path,
			    strerror(t.write_errno));
			goto out;
		}
		if (t.too_big) {
			snprintf(err, errlen,
			    "%s: an HTML page larger than %u bytes "
			    "came instead of the file",
			    url, PAGE_MAX);
			goto out;
		}
		if (t.size_mismatch) {
			snprintf(err, errlen,
			    "%s: the server announces %llu bytes, expected %llu",
			    url, (unsigned long long)t.announced,
			    (unsigned long long)h->o.expected_size);
			goto out;
		}
		if (cc == CURLE_RANGE_ERROR || t.wrong_range) {
			if (res->restarts >= MAX_RESTARTS) {
				snprintf(err, errlen,
				    "%s: the server keeps answering resumes "
				    "with the wrong range",
				    url);
				goto out;
			}
			notice(h,
			    "%s: the server did not resume at byte %llu; "
			    "starting again from zero",
			    url, (unsigned long long)t.have);
			if (empty_file(fd, res, err, errlen) != 0)
				goto out;
			continue;
		}
		if (cc == CURLE_OK &&
		    (code == 200 || code == 206 ||
		        (t.is_file_scheme && code == 0))) {
			if (t.mode == BODY_PAGE) {
				res->page = h->page ? h->page : "";
				res->page_len = h->page_len;
				rc = MIRAD_HTTP_PAGE;
				goto out;
			}
			rc = MIRAD_HTTP_OK;
			goto out;
		}
		if (cc == CURLE_OK && code >= 300 && code < 400) {
			curl_easy_getinfo(
			    h->curl, CURLINFO_REDIRECT_URL, &next);
			if (next == NULL) {
				snprintf(err, errlen,
				    "%s: HTTP %ld without a Location", url,
				    code);
				goto out;
			}
			if (++redirects > MAX_REDIRECTS) {
				snprintf(err, errlen, "%s: too many redirects",
				    url_in);
				goto out;
			}
			if (!url_allowed(h, next, true, err, errlen))
				goto out;
			free(url);
			url = strdup(next);
			if (url == NULL) {
				snprintf(err, errlen, "%s", strerror(ENOMEM));
				goto out;
			}
			continue;
		}
		if (cc == CURLE_OK && code == 416 && t.have > 0) {
			uint64_t first, last, total;

			if (mirad_http_parse_content_range(
			        t.content_range, &first, &last, &total) == 0 &&
			    total == t.have) {
				rc = MIRAD_HTTP_OK; /* it was complete */
				goto out;
			}
			if (res->restarts >= MAX_RESTARTS) {
				snprintf(err, errlen, "%s: HTTP 416", url);
				goto out;
			}
			notice(h,
			    "%s: the server cannot resume at byte %llu (416); "
			    "starting again from zero",
			    url, (unsigned long long)t.have);
			if (empty_file(fd, res, err, errlen) != 0)
				goto out;
			continue;
		}
		/* What is left is a failure: transient or not. */
		if (cc == CURLE_OK && !transient_code(code)) {
			snprintf(err, errlen, "%s: HTTP %ld", url, code);
			goto out;
		}
		if (cc != CURLE_OK && !transient_curl(cc)) {
			snprintf(
			    err, errlen, "%s: %s", url, curl_easy_strerror(cc));
			goto out;
		}
		if (cc == CURLE_OK)
			snprintf(err, errlen, "%s: HTTP %ld", url, code);
		else
			snprintf(
			    err, errlen, "%s: %s", url, curl_easy_strerror(cc));
		if (++failures >= h->o.max_attempts) {
			rc = MIRAD_HTTP_TEMPORARY;
			goto out;
		}
		curl_easy_getinfo(h->curl, CURLINFO_RETRY_AFTER, &retry_after);
		{
			unsigned long wait = backoff;

			if (retry_after > 0)
				wait = (unsigned long)retry_after;
			if (wait > BACKOFF_MAX_S)
				wait = BACKOFF_MAX_S;
			if (t.written > 0)
				wait = 0; /* data flowed: resume at once */
			notice(h, "%s; retrying in %lu s (attempt %u of %u)",
			    err, wait, failures + 1, h->o.max_attempts);
			if (!wait_seconds(h, wait)) {
				snprintf(err, errlen, "interrupted");
				rc = MIRAD_HTTP_INTERRUPTED;
				goto out;
			}
			if (backoff < BACKOFF_MAX_S)
				backoff *= 2;
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
