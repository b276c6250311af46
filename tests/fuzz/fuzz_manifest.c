/* SPDX-License-Identifier: MIT */
/* Fuzz harness: the manifest reader (mirad(5)) on arbitrary bytes. */
#include "mirad_platform.h"

#include <stdio.h>
#include <stdlib.h>

#include "mirad_manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	FILE *in, *out;
	struct mirad_manifest *m;
	struct mirad_record *r;
	enum mirad_manifest_status st;
	char *buf = NULL;
	size_t len = 0;

	if (size == 0)
		return 0;
	in = fmemopen((void *)data, size, "r");
	out = open_memstream(&buf, &len);
	if (in == NULL || out == NULL)
		abort();
	m = mirad_manifest_from_stream(in, "fuzz", "/", NULL);
	while ((st = mirad_manifest_next(m, &r)) != MIRAD_MANIFEST_EOF &&
	    st != MIRAD_MANIFEST_READ_ERROR) {
		if (st == MIRAD_MANIFEST_RECORD) {
			/* What was read must be writable and re-readable. */
			struct mirad_record *copy = mirad_record_clone(r);

			if (mirad_record_write(out, copy) != 0)
				abort();
			mirad_record_free(copy);
			mirad_record_free(r);
		} else if (mirad_manifest_error(m)[0] == '\0') {
			abort(); /* a bad line must say why */
		}
	}
	mirad_manifest_close(m);
	fclose(in);
	fclose(out);
	free(buf);
	return 0;
}
