/* SPDX-License-Identifier: MIT */
/* fetch_drive: Drive link ids and the HTML page scanner, on pages modelled
 * on real ones (gdown #43's form, torchvision #8338's warning page, the
 * quota page of gdown #325). */
#include "mirad_platform.h"

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>
#include <string.h>

#include "fetch_drive.h"

static void
test_drive_file_id(void **state)
{
	char id[64];

	(void)state;
	assert_int_equal(
	    fetch_drive_file_id("https://drive.google.com/file/d/"
	                        "1-4aMEtiTvk77Oo-oNW6WdPPuxpfHRKwq/"
	                        "view?usp=sharing",
	        id, sizeof id),
	    0);
	assert_string_equal(id, "1-4aMEtiTvk77Oo-oNW6WdPPuxpfHRKwq");
	assert_int_equal(
	    fetch_drive_file_id(
	        "https://drive.google.com/uc?id=abcdefghijKLMN_-09", id,
	        sizeof id),
	    0);
	assert_string_equal(id, "abcdefghijKLMN_-09");
	assert_int_equal(fetch_drive_file_id("https://drive.google.com/"
	                                     "open?usp=x&id=0123456789abc",
	                     id, sizeof id),
	    0);
	assert_string_equal(id, "0123456789abc");
	assert_int_equal(fetch_drive_file_id("https://drive.google.com/uc?"
	                                     "export=download&id=0123456789",
	                     id, sizeof id),
	    0);
	/* Too short, bad characters, nothing, no room. */
	assert_int_equal(
	    fetch_drive_file_id(
	        "https://drive.google.com/uc?id=abc", id, sizeof id),
	    -1);
	assert_int_equal(fetch_drive_file_id("https://drive.google.com/uc?id="
	                                     "0123456789%2e%2e",
	                     id, sizeof id),
	    -1);
	assert_int_equal(fetch_drive_file_id("https://drive.google.com/"
	                                     "drive/folders",
	                     id, sizeof id),
	    -1);
	assert_int_equal(fetch_drive_file_id("https://drive.google.com/uc?"
	                                     "uuid=0123456789abc",
	                     id, sizeof id),
	    -1);
	assert_int_equal(
	    fetch_drive_file_id(
	        "https://drive.google.com/uc?id=0123456789abc", id, 8),
	    -1);
}

static const char warning_page[] =
    "<!DOCTYPE html><html><head><title>Google Drive - Virus scan warning"
    "</title><style>.uc-error-subcaption{color:#777}</style></head><body>"
    "<div class=\"uc-main\"><div id=\"uc-text\"><p class=\"uc-warning-caption"
    "\">Google Drive can't scan this file for viruses.</p>"
    "<form id=\"download-form\" action=\"https://drive.usercontent.google.com/"
    "download\" method=\"get\"><input type=\"submit\" "
    "id=\"uc-download-link\" class=\"goog-inline-block jfk-button "
    "jfk-button-action\" value=\"Download anyway\"/>"
    "<input type=\"hidden\" name=\"id\" value=\"1-4aMEtiTvk77Oo-oNW6WdPP\">"
    "<input type=\"hidden\" name=\"export\" value=\"download\">"
    "<input type=\"hidden\" name=\"confirm\" value=\"t\">"
    "<input type=\"hidden\" name=\"uuid\" "
    "value=\"0f9c8a46-6b3e-4c59-9d35-1d2a3c4b5e6f\">"
    "<input type=\"hidden\" name=\"next\" value=\"https://evil.example/\">"
    "<input type=\"hidden\" name=\"at\" value=\"a&amp;b\">"
    "</form></div></div></body></html>";

static void
test_drive_form(void **state)
{
	struct fetch_drive_page p;

	(void)state;
	assert_int_equal(
	    fetch_drive_scan_page(warning_page, strlen(warning_page), &p),
	    FETCH_DRIVE_FORM);
	/* Only allowed names with plain values; "next" and the "at" value
	 * with '&' are dropped; the style sheet is not an error page. */
	assert_string_equal(p.url,
	    "https://drive.usercontent.google.com/download?id="
	    "1-4aMEtiTvk77Oo-oNW6WdPP&export=download&confirm=t&uuid="
	    "0f9c8a46-6b3e-4c59-9d35-1d2a3c4b5e6f");
	/* Not NUL-terminated input: a prefix without "</form>" still works
	 * up to what it holds. */
	assert_int_equal(fetch_drive_scan_page(warning_page,
	                     (size_t)(strstr(warning_page, "name=\"export\"") -
	                         warning_page),
	                     &p),
	    FETCH_DRIVE_FORM);
	assert_string_equal(p.url,
	    "https://drive.usercontent.google.com/"
	    "download?id=1-4aMEtiTvk77Oo-oNW6WdPP");
}

static void
test_drive_bad_forms(void **state)
{
	static const char *const pages[] = {
	    /* relative action */
	    "<form id=\"download-form\" action=\"/download\"><input "
	    "type=\"hidden\" name=\"id\" value=\"0123456789\"></form>",
	    /* javascript action */
	    "<form id=\"download-form\" action=\"javascript:alert(1)\"><input "
	    "type=\"hidden\" name=\"id\" value=\"0123456789\"></form>",
	    /* action with its own query */
	    "<form id=\"download-form\" action=\"https://x.example/d?id=1\">"
	    "<input type=\"hidden\" name=\"confirm\" value=\"t\"></form>",
	    /* no id input */
	    "<form id=\"download-form\" action=\"https://x.example/d\"><input "
	    "type=\"hidden\" name=\"confirm\" value=\"t\"></form>",
	    /* unterminated attribute */
	    "<form id=\"download-form\" action=\"https://x.example/d",
	    /* no form at all */
	    "<html><body>Sign in to continue</body></html>",
	    "",
	};
	struct fetch_drive_page p;

	(void)state;
	for (size_t i = 0; i < sizeof pages / sizeof *pages; i++)
		assert_int_equal(
		    fetch_drive_scan_page(pages[i], strlen(pages[i]), &p),
		    FETCH_DRIVE_UNKNOWN);
}

static void
test_drive_error_pages(void **state)
{
	static const char quota[] =
	    "<html><head><style>.uc-error-subcaption{}</style></head><body>"
	    "<p class=\"uc-error-caption\">Sorry, you can't view or download "
	    "this file at this time.</p><p class=\"uc-error-subcaption\">Too "
	    "many users have viewed or downloaded this file recently.\n  "
	    "Please try <b>again</b> later.</p></body></html>";
	static const char denied[] =
	    "<p class=\"uc-error-subcaption\">You need access</p>";
	static const char quota_plain[] =
	    "<div>Too many users have viewed or downloaded this file "
	    "recently</div>";
	struct fetch_drive_page p;

	(void)state;
	assert_int_equal(
	    fetch_drive_scan_page(quota, strlen(quota), &p), FETCH_DRIVE_QUOTA);
	assert_string_equal(p.message,
	    "Too many users have viewed or "
	    "downloaded this file recently. Please "
	    "try again later.");
	assert_int_equal(fetch_drive_scan_page(denied, strlen(denied), &p),
	    FETCH_DRIVE_ERROR);
	assert_string_equal(p.message, "You need access");
	assert_int_equal(
	    fetch_drive_scan_page(quota_plain, strlen(quota_plain), &p),
	    FETCH_DRIVE_QUOTA);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_drive_file_id),
	    cmocka_unit_test(test_drive_form),
	    cmocka_unit_test(test_drive_bad_forms),
	    cmocka_unit_test(test_drive_error_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
