/* SPDX-License-Identifier: MIT */
/* Helpers shared by the CMocka unit tests. */
#ifndef TEST_UTIL_H
#define TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mirad_fs.h"

/* A fresh temporary directory; caller removes it with mirad_rm_rf() and
 * frees the string. */
static inline char *
test_tmpdir(void)
{
	char *d = strdup("/tmp/mirad-unit.XXXXXX");

	assert_non_null(d);
	assert_non_null(mkdtemp(d));
	return d;
}

/* Write TEXT to DIR/REL, creating folders. */
static inline void
test_write(const char *dir, const char *rel, const char *text)
{
	char *path = mirad_path_join(dir, rel);
	char *parent = mirad_path_dirname(path);

	assert_int_equal(mirad_mkdir_p(parent), 0);
	assert_int_equal(mirad_write_file_atomic(path, text, strlen(text)), 0);
	free(parent);
	free(path);
}

#endif
