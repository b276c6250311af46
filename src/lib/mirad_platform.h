/* SPDX-License-Identifier: MIT */
/*
 * First include of every mirad-tools source file: the configure results and
 * the compiler attributes the rest of the code relies on.
 */
#ifndef MIRAD_PLATFORM_H
#define MIRAD_PLATFORM_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MIRAD_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#define MIRAD_NORETURN          __attribute__((noreturn))
#define MIRAD_UNUSED            __attribute__((unused))

/* Release-and-NULL helper for plain malloc'ed pointers. */
#define MIRAD_FREE(p)                                                          \
	do {                                                                   \
		free(p);                                                       \
		(p) = NULL;                                                    \
	} while (0)

#endif
