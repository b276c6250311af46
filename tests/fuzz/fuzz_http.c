/* SPDX-License-Identifier: MIT */
/* Fuzz harness: the HTTP response parsers of mirad-fetch (status line,
 * header lines, Content-Range). */
#include "mirad_platform.h"

#include <stdlib.h>
#include <string.h>

#include "mirad_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	char value[64];
	uint64_t first, last, total;
	int code;

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	code = mirad_http_parse_status_line(text, size);
	if (code != -1 && (code < 100 || code > 599))
		abort();
	if (mirad_http_header_value(
	        text, size, "content-range", value, sizeof value) &&
	    strlen(value) >= sizeof value)
		abort();
	(void)mirad_http_header_value(text, size, "retry-after", value, 1);
	if (mirad_http_parse_content_range(text, &first, &last, &total) == 0 &&
	    first != UINT64_MAX &&
	    (last < first || (total != UINT64_MAX && last >= total)))
		abort(); /* the documented invariants */
	free(text);
	return 0;
}
