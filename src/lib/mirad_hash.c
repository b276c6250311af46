/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <string.h>
#include <unistd.h>

#include "mirad_hash.h"

static void
finish(GChecksum *c, char hex[65])
{
	/* g_checksum_get_string() gives lower-case hex owned by C. */
	memcpy(hex, g_checksum_get_string(c), MIRAD_SHA256_HEX_LEN);
	hex[MIRAD_SHA256_HEX_LEN] = '\0';
}

int
mirad_hash_sha256_file(
    const char *path, char hex[65], uint64_t *size, int (*interrupted)(void))
{
	GChecksum *c;
	unsigned char *buf;
	const size_t bufsize = 1 << 20;
	uint64_t total = 0;
	ssize_t n;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	c = g_checksum_new(G_CHECKSUM_SHA256);
	buf = g_malloc(bufsize);
	for (;;) {
		if (interrupted != NULL && interrupted()) {
			err = EINTR;
			break;
		}
		n = read(fd, buf, bufsize);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err = errno;
			break;
		}
		if (n == 0)
			break;
		g_checksum_update(c, buf, (gssize)n);
		total += (uint64_t)n;
	}
	close(fd);
	if (err == 0) {
		finish(c, hex);
		if (size != NULL)
			*size = total;
	}
	g_free(buf);
	g_checksum_free(c);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

void
mirad_hash_sha256_data(const void *data, size_t len, char hex[65])
{
	GChecksum *c = g_checksum_new(G_CHECKSUM_SHA256);

	g_checksum_update(c, data, (gssize)len);
	finish(c, hex);
	g_checksum_free(c);
}

int
mirad_hash_parse_sha256(const char *text, char norm[65])
{
	size_t i;

	for (i = 0; text[i] != '\0'; i++) {
		char ch = text[i];

		if (i >= MIRAD_SHA256_HEX_LEN)
			return -1;
		if (ch >= 'A' && ch <= 'F')
			ch = (char)(ch - 'A' + 'a');
		else if (!((ch >= '0' && ch <= '9') ||
		             (ch >= 'a' && ch <= 'f')))
			return -1;
		norm[i] = ch;
	}
	if (i != MIRAD_SHA256_HEX_LEN)
		return -1;
	norm[i] = '\0';
	return 0;
}
