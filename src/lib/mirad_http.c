/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <curl/curl.h>

#include "mirad_http.h"

const char *
mirad_http_library_version(void)
{
	return curl_version_info(CURLVERSION_NOW)->version;
}
