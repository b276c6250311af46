/* SPDX-License-Identifier: MIT */
/* Fuzz harness: the mirad-augment profile parser (mirad-profile(5)). */
#include "mirad_platform.h"

#include <stdlib.h>

#include "augment_profile.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct augment_profile p;
	char err[512];

	err[0] = '\0';
	if (augment_profile_parse(
	        (const char *)data, size, "fuzz", &p, err, sizeof err) == 0)
		augment_profile_free(&p);
	else if (err[0] == '\0')
		abort(); /* a rejected profile must say why */
	return 0;
}
