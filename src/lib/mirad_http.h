/* SPDX-License-Identifier: MIT */
/* HTTP transfers; the only module that includes <curl/curl.h>. */
#ifndef MIRAD_HTTP_H
#define MIRAD_HTTP_H

#include "mirad_platform.h"

/* libcurl's version string; borrowed, static. */
const char *mirad_http_library_version(void);

#endif
