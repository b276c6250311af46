/* SPDX-License-Identifier: MIT */
/* Fuzz harness: the Google Drive page scanner and share-link parser of
 * mirad-fetch (arbitrary HTML and URLs from a server). */
#include "mirad_platform.h"

#include <stdlib.h>
#include <string.h>

#include "fetch_drive.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct fetch_drive_page page;
	char *text = malloc(size + 1);
	char id[256];

	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&page, 0, sizeof page);
	(void)fetch_drive_scan_page(text, size, &page);
	if (fetch_drive_file_id(text, id, sizeof id) == 0 &&
	    strlen(id) >= sizeof id)
		abort();
	free(text);
	return 0;
}
