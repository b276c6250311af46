/* SPDX-License-Identifier: MIT */
/* mirad_http's pure parsers: header lines, status lines, Content-Range,
 * URL parts. */
#include "mirad_platform.h"

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "mirad_http.h"

static bool
header(const char *line, const char *name, char *out, size_t outlen)
{
	return mirad_http_header_value(line, strlen(line), name, out, outlen);
}

static void
test_http_header_value(void **state)
{
	char v[32];

	(void)state;
	assert_true(header("Content-Type: text/html; charset=utf-8\r\n",
	    "content-type", v, sizeof v));
	assert_string_equal(v, "text/html; charset=utf-8");
	assert_true(
	    header("content-range:bytes 0-9/10", "Content-Range", v, sizeof v));
	assert_string_equal(v, "bytes 0-9/10");
	assert_true(header("X-Empty:   \r\n", "X-Empty", v, sizeof v));
	assert_string_equal(v, "");
	/* A longer name with the same prefix is another header. */
	assert_false(
	    header("Content-Type-Options: x\r\n", "Content-Type", v, sizeof v));
	assert_false(header("Content-Type\r\n", "Content-Type", v, sizeof v));
	assert_false(header("", "Content-Type", v, sizeof v));
	/* Truncated to the buffer. */
	assert_true(header("Location: 0123456789", "Location", v, 5));
	assert_string_equal(v, "0123");
}

static int
status(const char *line)
{
	return mirad_http_parse_status_line(line, strlen(line));
}

static void
test_http_status_line(void **state)
{
	(void)state;
	assert_int_equal(status("HTTP/1.1 206 Partial Content\r\n"), 206);
	assert_int_equal(status("HTTP/2 200\r\n"), 200);
	assert_int_equal(status("HTTP/1.0 416"), 416);
	assert_int_equal(status("HTTP/1.1 20 OK\r\n"), -1);
	assert_int_equal(status("HTTP/1.1 2000 OK\r\n"), -1);
	assert_int_equal(status("HTTP/1.1 099 X\r\n"), -1);
	assert_int_equal(status("HTTP/ 200 OK\r\n"), -1);
	assert_int_equal(status("Content-Length: 5\r\n"), -1);
	assert_int_equal(status("HTTP/1.1"), -1);
	assert_int_equal(status(""), -1);
}

static void
test_http_content_range(void **state)
{
	uint64_t a, b, t;

	(void)state;
	assert_int_equal(
	    mirad_http_parse_content_range("bytes 100-199/200", &a, &b, &t), 0);
	assert_int_equal(a, 100);
	assert_int_equal(b, 199);
	assert_int_equal(t, 200);
	assert_int_equal(
	    mirad_http_parse_content_range("bytes 0-9/*", &a, &b, &t), 0);
	assert_true(t == UINT64_MAX);
	assert_int_equal(
	    mirad_http_parse_content_range("bytes */12345", &a, &b, &t), 0);
	assert_true(a == UINT64_MAX && b == UINT64_MAX);
	assert_int_equal(t, 12345);
	assert_int_equal(mirad_http_parse_content_range(
	                     "bytes 0-9999999999999999999/10", &a, &b, &t),
	    -1);
	assert_int_equal(
	    mirad_http_parse_content_range("bytes 9-1/10", &a, &b, &t), -1);
	assert_int_equal(
	    mirad_http_parse_content_range("bytes 0-10/10", &a, &b, &t), -1);
	assert_int_equal(
	    mirad_http_parse_content_range("bytes */*", &a, &b, &t), -1);
	assert_int_equal(
	    mirad_http_parse_content_range("items 0-1/2", &a, &b, &t), -1);
	assert_int_equal(
	    mirad_http_parse_content_range("bytes 0-1/2 junk", &a, &b, &t), -1);
	assert_int_equal(
	    mirad_http_parse_content_range("bytes -1-2/3", &a, &b, &t), -1);
	assert_int_equal(mirad_http_parse_content_range("", &a, &b, &t), -1);
}

static void
test_http_url_parts(void **state)
{
	char scheme[16], host[64];

	(void)state;
	assert_int_equal(
	    mirad_http_url_parts("HTTPS://Drive.Google.com/uc?id=1", scheme,
	        sizeof scheme, host, sizeof host),
	    0);
	assert_string_equal(scheme, "https");
	assert_string_equal(host, "drive.google.com");
	assert_int_equal(mirad_http_url_parts("file:///tmp/x.tar", scheme,
	                     sizeof scheme, host, sizeof host),
	    0);
	assert_string_equal(scheme, "file");
	assert_int_equal(mirad_http_url_parts("not a url", scheme,
	                     sizeof scheme, host, sizeof host),
	    -1);
	assert_int_equal(mirad_http_url_parts("https://a-very-long-host-name-"
	                                      "that-does-not-fit.example/",
	                     scheme, sizeof scheme, host, 8),
	    -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_http_header_value),
	    cmocka_unit_test(test_http_status_line),
	    cmocka_unit_test(test_http_content_range),
	    cmocka_unit_test(test_http_url_parts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
