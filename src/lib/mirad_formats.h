/* SPDX-License-Identifier: MIT */
/*
 * Writers for the list formats other frameworks read, from a record set:
 * our JSON Lines manifest, VisA split CSV, anomalib Tabular CSV, UniAD JSON
 * Lines and ADer/AnomalyCLIP meta.json.  Shared by mirad-split (--format) and
 * mirad-convert (--emit).
 */
#ifndef MIRAD_FORMATS_H
#define MIRAD_FORMATS_H

#include "mirad_platform.h"

#include <stdio.h>

#include "mirad_manifest.h"

enum mirad_format {
	MIRAD_FORMAT_JSONL = 0,   /* "jsonl": mirad(5) manifest */
	MIRAD_FORMAT_VISA_CSV,    /* "visa-csv": object,split,label,image,mask
	                             CRLF */
	MIRAD_FORMAT_TABULAR_CSV, /* "tabular-csv": anomalib Tabular */
	MIRAD_FORMAT_UNIAD,       /* "uniad": UniAD JSON Lines */
	MIRAD_FORMAT_META_JSON    /* "meta-json": ADer / AnomalyCLIP */
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
 * Two records whose outputs the format's reader would write to one file
 * (mirad_format_check(), mirad_format_write_split()).  The reason names
 * them; the tool says how to avoid it.
 */
#define MIRAD_FORMAT_NAME_CLASH (-2)

/*
 * Write RECORDS (in their order) to OUT in format FMT.  Returns 0, or -1
 * with a reason in ERR (a write error, or a record the format cannot
 * express), or MIRAD_FORMAT_NAME_CLASH.
 */
int mirad_format_write(FILE *out, enum mirad_format fmt,
    const struct mirad_recordset *records,
    const struct mirad_format_options *opts, char *err, size_t errlen);

/*
 * How each format shows a record (see also mirad-split(1)):
 * - jsonl: the record as mirad(5) has it.
 * - visa-csv: header object,split,label,image,mask; CRLF line ends (the
 *   last line too); label normal/anomaly; mask empty for normal images.
 *   A val record is written with split "val" (VisA's own files know only
 *   train and test).
 * - tabular-csv: header image_path,label,label_index,split,mask_path, LF;
 *   label is anomalib's DirType (normal for normal train images,
 *   normal_test for normal test and val images, abnormal), label_index
 *   0/1, split train/test/val (anomalib's Split values), mask_path empty
 *   for normal images.  An anomaly in train is an error: anomalib's
 *   Tabular rejects it.
 * - uniad: one line per record with filename, label (0/1), label_name
 *   (good/defective), maskname (anomalies with a mask only) and clsname.
 *   UniAD keeps each split in its own file, so the lines carry no split;
 *   write one split per file with mirad_format_write_split().  UniAD
 *   names each result file {clsname}_{folder}_{stem}: two records of one
 *   list that would share it are an error (see mirad_format_check()).
 * - meta-json: one object {"train": {cls: [...]}, "test": {...}} with
 *   img_path, mask_path ("" for normal), cls_name, specie_name (the
 *   defect; "good" for normal images) and anomaly (0/1); val records go
 *   under a third key "val", which ADer and AnomalyCLIP do not read.
 */

/*
 * Like mirad_format_write(), but only the records whose split equals SPLIT
 * (all records when SPLIT is NULL).
 */
int mirad_format_write_split(FILE *out, enum mirad_format fmt,
    const struct mirad_recordset *records, const char *split,
    const struct mirad_format_options *opts, char *err, size_t errlen);

/*
 * Can FMT hold RECORDS as OPTS would write them?  0, or
 * MIRAD_FORMAT_NAME_CLASH with the reason in ERR.  So far one case: two
 * records of one UniAD list whose results UniAD would write to the same
 * file ({clsname}_{folder}_{stem}, as after merging categories whose
 * folders share names), which mirad_format_write_split() refuses too.
 */
int mirad_format_check(enum mirad_format fmt,
    const struct mirad_recordset *records,
    const struct mirad_format_options *opts, char *err, size_t errlen);

/* The usual file extension of FMT with its dot (".jsonl", ".csv",
 * ".json"); borrowed, static. */
const char *mirad_format_extension(enum mirad_format fmt);

/* Does FMT keep one split per file (UniAD)? */
bool mirad_format_one_split_per_file(enum mirad_format fmt);

#endif
