/* SPDX-License-Identifier: MIT */
/*
 * Writers for the list formats other frameworks read, from a record set:
 * our JSON Lines manifest, VisA split CSV, anomalib Tabular CSV, UniAD JSON
 * Lines and ADer/AnomalyCLIP meta.json (layouts.md sections 4.2, 5.3, 5.6,
 * 5.7).  Shared by mirad-split (--format) and mirad-convert (--emit).
 */
#ifndef MIRAD_FORMATS_H
#define MIRAD_FORMATS_H

#include "mirad_platform.h"

#include <stdio.h>

#include "mirad_manifest.h"

enum mirad_format {
	MIRAD_FORMAT_JSONL = 0,	  /* "jsonl": mirad(5) manifest */
	MIRAD_FORMAT_VISA_CSV,	  /* "visa-csv": object,split,label,image,mask
				     CRLF */
	MIRAD_FORMAT_TABULAR_CSV, /* "tabular-csv": anomalib Tabular */
	MIRAD_FORMAT_UNIAD,	  /* "uniad": UniAD JSON Lines */
	MIRAD_FORMAT_META_JSON	  /* "meta-json": ADer / AnomalyCLIP */
};

/* Parse a format name as listed above; -1 if unknown. */
int mirad_format_from_name(const char *name, enum mirad_format *out);
/* The name of FMT; borrowed, static. */
const char *mirad_format_name(enum mirad_format fmt);

struct mirad_format_options {
	/*
	 * Directory the written paths are relative to.  NULL: paths as the
	 * records hold them (relative to each record's root).
	 */
	const char *base;
};

/*
 * Write RECORDS (in their order) to OUT in format FMT.  Returns 0, or -1
 * with a reason in ERR (a write error, or a record the format cannot
 * express).
 */
int mirad_format_write(FILE *out, enum mirad_format fmt,
    const struct mirad_recordset *records,
    const struct mirad_format_options *opts, char *err, size_t errlen);

#endif
