/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <errno.h>
#include <string.h>

#include "mirad_formats.h"

static const char *const names[] = {"jsonl", "visa-csv", "tabular-csv",
    "uniad", "meta-json"};

int
mirad_format_from_name(const char *name, enum mirad_format *out)
{
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum mirad_format)i;
			return 0;
		}
	}
	return -1;
}

const char *
mirad_format_name(enum mirad_format fmt)
{
	if ((unsigned)fmt >= sizeof names / sizeof *names)
		return "unknown";
	return names[fmt];
}

int
mirad_format_write(FILE *out, enum mirad_format fmt,
    const struct mirad_recordset *records,
    const struct mirad_format_options *opts, char *err, size_t errlen)
{
	(void)opts;
	if (fmt != MIRAD_FORMAT_JSONL) {
		/* The other writers arrive with the mirad-split issue. */
		snprintf(err, errlen, "format %s is not available",
		    mirad_format_name(fmt));
		return -1;
	}
	for (size_t i = 0; i < records->count; i++) {
		if (mirad_record_write(out, records->items[i]) != 0) {
			snprintf(err, errlen, "%s", strerror(errno));
			return -1;
		}
	}
	return 0;
}
