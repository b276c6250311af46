/* SPDX-License-Identifier: MIT */
/* Fuzz harness: the CSV reader behind VisA split files and node maps. */
#include "mirad_platform.h"

#include <stdio.h>
#include <stdlib.h>

#include "mirad_csv.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mirad_strlist row = {0};
	struct mirad_csv *c;
	FILE *in;
	int rc;

	if (size == 0)
		return 0;
	in = fmemopen((void *)data, size, "r");
	if (in == NULL)
		abort();
	c = mirad_csv_from_stream(in, "fuzz");
	while ((rc = mirad_csv_next(c, &row)) == 1) {
		if (row.count == 0)
			abort(); /* a row has at least one field */
		(void)mirad_csv_column(&row, "image");
	}
	if (rc < 0 && mirad_csv_error(c)[0] == '\0')
		abort();
	mirad_strlist_free(&row);
	mirad_csv_close(c);
	fclose(in);
	return 0;
}
