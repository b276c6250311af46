/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fetch_drive.h"

static bool
id_char(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9') || c == '_' || c == '-';
}

/* Copy the id starting at P into ID if it is a valid one. */
static int
take_id(const char *p, char *id, size_t idlen)
{
	size_t n = 0;

	while (id_char(p[n]))
		n++;
	if (n < 10 || n > 200 || n >= idlen)
		return -1;
	if (p[n] != '\0' && p[n] != '/' && p[n] != '?' && p[n] != '&' &&
	    p[n] != '#')
		return -1;
	memcpy(id, p, n);
	id[n] = '\0';
	return 0;
}

int
fetch_drive_file_id(const char *url, char *id, size_t idlen)
{
	const char *p = strstr(url, "/file/d/");
	const char *q;

	if (p != NULL && take_id(p + 8, id, idlen) == 0)
		return 0;
	q = strchr(url, '?');
	while (q != NULL) {
		if (strncmp(q + 1, "id=", 3) == 0)
			return take_id(q + 4, id, idlen);
		q = strchr(q + 1, '&');
	}
	return -1;
}

/* Case-insensitive search for NEEDLE in [S, S+LEN). */
static const char *
find(const char *s, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; n <= len && i <= len - n; i++)
		if (strncasecmp(s + i, needle, n) == 0)
			return s + i;
	return NULL;
}

/*
 * The value of attribute NAME in the tag [TAG, TAG+LEN) into OUT, with
 * "&amp;" decoded.  Returns 0, or -1 if absent or too long.
 */
static int
attr(const char *tag, size_t len, const char *name, char *out, size_t outlen)
{
	size_t n = strlen(name);

	for (size_t i = 1; i + n < len; i++) {
		size_t j, o = 0;
		char quote = 0;

		if (!(tag[i - 1] == ' ' || tag[i - 1] == '\t' ||
		        tag[i - 1] == '\n' || tag[i - 1] == '\r') ||
		    strncasecmp(tag + i, name, n) != 0 || tag[i + n] != '=')
			continue;
		j = i + n + 1;
		if (j < len && (tag[j] == '"' || tag[j] == '\''))
			quote = tag[j++];
		for (; j < len; j++) {
			char c = tag[j];

			if (quote ? c == quote
			          : (c == ' ' || c == '>' || c == '\t' ||
			                c == '\n' || c == '/'))
				break;
			if (c == '&' && j + 4 < len &&
			    strncmp(tag + j, "&amp;", 5) == 0)
				j += 4;
			if (o + 1 >= outlen)
				return -1;
			out[o++] = c;
		}
		if (quote && j >= len)
			return -1;
		out[o] = '\0';
		return 0;
	}
	return -1;
}

static bool
value_ok(const char *name, const char *v)
{
	if (*v == '\0')
		return false;
	for (; *v; v++)
		if (!id_char(*v) && !(*v == ':' && strcmp(name, "at") == 0))
			return false;
	return true;
}

static void
squeeze_text(const char *s, size_t len, char *out, size_t outlen)
{
	size_t o = 0;
	bool in_tag = false, blank = false;

	for (size_t i = 0; i < len && o + 1 < outlen; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '<') {
			in_tag = true;
			continue;
		}
		if (in_tag) {
			in_tag = c != '>';
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
			blank = o > 0;
			continue;
		}
		if (c < 0x20 || c == 0x7f)
			continue;
		if (blank && o + 2 < outlen)
			out[o++] = ' ';
		blank = false;
		out[o++] = (char)c;
	}
	out[o] = '\0';
}

static enum fetch_drive_page_kind
scan_error(const char *html, size_t len, struct fetch_drive_page *out)
{
	/* The class attribute, not the style sheet that also names it. */
	const char *p = find(html, len, "class=\"uc-error-subcaption\"");
	const char *end = html + len, *start, *stop;

	if (p == NULL) {
		if (find(html, len,
		        "Too many users have viewed or downloaded")) {
			snprintf(out->message, sizeof out->message,
			    "Too many users have viewed or downloaded this "
			    "file recently");
			return out->kind = FETCH_DRIVE_QUOTA;
		}
		return FETCH_DRIVE_UNKNOWN;
	}
	start = memchr(p, '>', (size_t)(end - p));
	if (start == NULL)
		return FETCH_DRIVE_UNKNOWN;
	start++;
	stop = find(start, (size_t)(end - start), "</p>");
	if (stop == NULL)
		stop = find(start, (size_t)(end - start), "</div>");
	if (stop == NULL)
		stop = end;
	squeeze_text(
	    start, (size_t)(stop - start), out->message, sizeof out->message);
	if (find(out->message, strlen(out->message), "too many users") ||
	    find(out->message, strlen(out->message), "quota"))
		return out->kind = FETCH_DRIVE_QUOTA;
	return out->kind = FETCH_DRIVE_ERROR;
}

enum fetch_drive_page_kind
fetch_drive_scan_page(
    const char *html, size_t len, struct fetch_drive_page *out)
{
	static const char *const allowed[] = {
	    "id", "export", "confirm", "uuid", "at", "resourcekey"};
	const char *end = html + len, *form, *p, *tag_end, *form_end;
	char action[1024];
	size_t o;

	memset(out, 0, sizeof *out);
	if (scan_error(html, len, out) != FETCH_DRIVE_UNKNOWN)
		return out->kind;

	p = find(html, len, "id=\"download-form\"");
	if (p == NULL)
		p = find(html, len, "id='download-form'");
	if (p == NULL)
		return FETCH_DRIVE_UNKNOWN;
	/* The <form tag that holds the id. */
	for (form = p; form > html; form--)
		if (strncasecmp(form, "<form", 5) == 0)
			break;
	if (strncasecmp(form, "<form", 5) != 0 || p - form > 4096)
		return FETCH_DRIVE_UNKNOWN;
	tag_end = memchr(p, '>', (size_t)(end - p));
	if (tag_end == NULL)
		return FETCH_DRIVE_UNKNOWN;
	if (attr(form, (size_t)(tag_end - form), "action", action,
	        sizeof action) != 0)
		return FETCH_DRIVE_UNKNOWN;
	if (strncasecmp(action, "https://", 8) != 0 &&
	    strncasecmp(action, "http://", 7) != 0)
		return FETCH_DRIVE_UNKNOWN;
	for (const char *c = action; *c; c++)
		if (*c == '?' || *c == '#' || *c == '"' || *c == '\'' ||
		    *c == ' ' || (unsigned char)*c < 0x21 ||
		    (unsigned char)*c > 0x7e)
			return FETCH_DRIVE_UNKNOWN;
	form_end = find(tag_end, (size_t)(end - tag_end), "</form");
	if (form_end == NULL)
		form_end = end;

	o = (size_t)snprintf(out->url, sizeof out->url, "%s", action);
	for (p = tag_end; p < form_end;) {
		const char *in = find(p, (size_t)(form_end - p), "<input");
		const char *in_end;
		char type[16], name[32], value[256];

		if (in == NULL)
			break;
		in_end = memchr(in, '>', (size_t)(form_end - in));
		if (in_end == NULL)
			break;
		p = in_end + 1;
		if (attr(in, (size_t)(in_end - in), "type", type,
		        sizeof type) != 0 ||
		    strcasecmp(type, "hidden") != 0 ||
		    attr(in, (size_t)(in_end - in), "name", name,
		        sizeof name) != 0 ||
		    attr(in, (size_t)(in_end - in), "value", value,
		        sizeof value) != 0)
			continue;
		for (size_t k = 0; k < sizeof allowed / sizeof *allowed; k++) {
			int n;

			if (strcmp(name, allowed[k]) != 0 ||
			    !value_ok(name, value))
				continue;
			n = snprintf(out->url + o, sizeof out->url - o,
			    "%c%s=%s", strchr(out->url, '?') ? '&' : '?', name,
			    value);
			if (n < 0 || (size_t)n >= sizeof out->url - o)
				return out->kind = FETCH_DRIVE_UNKNOWN;
			o += (size_t)n;
		}
	}
	if (strstr(out->url, "?id=") == NULL &&
	    strstr(out->url, "&id=") == NULL)
		return out->kind = FETCH_DRIVE_UNKNOWN;
	return out->kind = FETCH_DRIVE_FORM;
}
