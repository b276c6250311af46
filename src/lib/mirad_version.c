/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <cjson/cJSON.h>

#include "mirad_archive.h"
#include "mirad_err.h"
#include "mirad_http.h"
#include "mirad_image.h"
#include "mirad_version.h"

void
mirad_version_print(FILE *out)
{
	fprintf(
	    out, "%s (mirad-tools) %s\n", mirad_progname(), PACKAGE_VERSION);
	fprintf(out, "libvips %s, %s, cJSON %s, libcurl %s\n",
	    mirad_image_library_version(), mirad_archive_library_version(),
	    cJSON_Version(), mirad_http_library_version());
}
