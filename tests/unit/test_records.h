/* SPDX-License-Identifier: MIT */
/*
 * Records built by hand for the unit tests of the modules that take a
 * record set.  Include after <cmocka.h>; the test links the library.
 */
#ifndef TEST_RECORDS_H
#define TEST_RECORDS_H

#include "mirad_manifest.h"

/* A new record with these fields (NULL leaves one unset); caller frees
 * it, usually by pushing it to a record set. */
static inline struct mirad_record *
test_record(const char *root, const char *category, const char *split,
    const char *label, const char *defect, const char *image, const char *mask)
{
	struct mirad_record *r = mirad_record_new();

	mirad_record_set(&r->root, root);
	mirad_record_set(&r->category, category);
	mirad_record_set(&r->split, split);
	mirad_record_set(&r->label, label);
	mirad_record_set(&r->defect, defect);
	mirad_record_set(&r->image, image);
	mirad_record_set(&r->mask, mask);
	return r;
}

#endif
