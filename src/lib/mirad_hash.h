/* SPDX-License-Identifier: MIT */
/*
 * SHA-256 through GLib's GChecksum (no hand-written digest code): over a
 * whole file, and strict parsing of a pinned hex digest.  Digests are
 * handled as 64 lower-case hex characters plus a NUL.
 */
#ifndef MIRAD_HASH_H
#define MIRAD_HASH_H

#include "mirad_platform.h"

#define MIRAD_SHA256_HEX_LEN 64

/*
 * The SHA-256 of the bytes of PATH into HEX (65 bytes: 64 lower-case hex
 * digits and a NUL); *SIZE (may be NULL) receives the number of bytes read.
 * INTERRUPTED (may be NULL) is polled between blocks; a non-zero answer stops
 * the work with errno EINTR.  Returns 0, or -1 with errno.
 */
int mirad_hash_sha256_file(
    const char *path, char hex[65], uint64_t *size, int (*interrupted)(void));

/* The SHA-256 of LEN bytes at DATA into HEX, as above. */
void mirad_hash_sha256_data(const void *data, size_t len, char hex[65]);

/*
 * Parse TEXT as a SHA-256 digest: exactly 64 hex digits, either case, no
 * spaces or prefix.  On success writes the lower-case form into NORM (65
 * bytes) and returns 0; otherwise -1.
 */
int mirad_hash_parse_sha256(const char *text, char norm[65]);

#endif
