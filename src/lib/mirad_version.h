/* SPDX-License-Identifier: MIT */
/* --version text, one implementation for every tool. */
#ifndef MIRAD_VERSION_H
#define MIRAD_VERSION_H

#include "mirad_platform.h"

#include <stdio.h>

/*
 * Print "PROG (mirad-tools) X.Y.Z" and a line with the versions of the
 * libraries (libvips, libarchive, cJSON, libcurl): the loaded one's, or,
 * for a library the tool has not loaded (libvips before its first use,
 * libarchive and libcurl in the tools that do not use them), the version
 * the tools were built against.
 */
void mirad_version_print(FILE *out);

#endif
