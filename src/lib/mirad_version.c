/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <cjson/cJSON.h>

#include "mirad_archive.h"
#include "mirad_err.h"
#include "mirad_http.h"
#include "mirad_image.h"
#include "mirad_version.h"

/*
 * Weak: naming libarchive's and libcurl's versions must not link them into
 * a tool that does not use them (each costs start-up time: libcurl alone
 * brings some thirty shared libraries).  A tool that uses them links their
 * module, and the reference then finds it.
 */
#pragma weak mirad_archive_library_version
#pragma weak mirad_http_library_version

void
mirad_version_print(FILE *out)
{
	fprintf(
	    out, "%s (mirad-tools) %s\n", mirad_progname(), PACKAGE_VERSION);
	fprintf(out, "libvips %s, %s, cJSON %s, libcurl %s\n",
	    mirad_image_library_version(),
	    mirad_archive_library_version != NULL
	        ? mirad_archive_library_version()
	        : "libarchive " MIRAD_BUILT_LIBARCHIVE,
	    cJSON_Version(),
	    mirad_http_library_version != NULL ? mirad_http_library_version()
	                                       : MIRAD_BUILT_LIBCURL);
}
