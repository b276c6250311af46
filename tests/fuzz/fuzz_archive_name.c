/* SPDX-License-Identifier: MIT */
/* Fuzz harness: the archive entry-name policy of mirad-fetch.  Whatever it
 * accepts must be safe to create under the extraction folder. */
#include "mirad_platform.h"

#include <stdlib.h>
#include <string.h>

#include "mirad_archive.h"
#include "mirad_fs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name;
	char norm[4096];
	bool is_dir;

	if (size == 0)
		return 0;
	is_dir = data[0] & 1;
	name = malloc(size);
	if (name == NULL)
		abort();
	memcpy(name, data + 1, size - 1);
	name[size - 1] = '\0';
	if (mirad_archive_check_name(name, is_dir, 0, 0, norm, sizeof norm) ==
	    NULL) {
		if (mirad_path_escapes(norm) || strstr(norm, "//") != NULL ||
		    strchr(norm, '\\') != NULL ||
		    (norm[0] != '\0' && norm[strlen(norm) - 1] == '/'))
			abort();
		for (const char *p = norm; *p; p++)
			if ((unsigned char)*p < 0x20)
				abort();
	}
	free(name);
	return 0;
}
