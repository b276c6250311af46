/* SPDX-License-Identifier: MIT */
/* --version text, one implementation for every tool. */
#ifndef MIRAD_VERSION_H
#define MIRAD_VERSION_H

#include "mirad_platform.h"

#include <stdio.h>

/*
 * Print "PROG (mirad-tools) X.Y.Z" and a line with the versions of the
 * libraries linked in (libvips, libarchive, cJSON, libcurl).
 */
void mirad_version_print(FILE *out);

#endif
