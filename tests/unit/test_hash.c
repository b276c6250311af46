/* SPDX-License-Identifier: MIT */
/* mirad_hash: NIST SHA-256 vectors and strict digest parsing. */
#include "mirad_platform.h"

#include <stdarg.h>
#include <setjmp.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mirad_hash.h"

static int
stop_now(void)
{
	return 1;
}

static void
test_hash_vectors(void **state)
{
	char hex[65];

	(void)state;
	mirad_hash_sha256_data("", 0, hex);
	assert_string_equal(hex,
	    "e3b0c44298fc1c149afbf4c8996fb924"
	    "27ae41e4649b934ca495991b7852b855");
	mirad_hash_sha256_data("abc", 3, hex);
	assert_string_equal(hex,
	    "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
}

static void
test_hash_file(void **state)
{
	char path[] = "/tmp/mirad-unit-hash.XXXXXX";
	char hex[65], *buf;
	uint64_t size = 0;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	/* NIST: one million 'a' (written in one go, read in 1 MiB blocks). */
	buf = malloc(1000000);
	assert_non_null(buf);
	memset(buf, 'a', 1000000);
	assert_int_equal(write(fd, buf, 1000000), 1000000);
	close(fd);
	free(buf);
	assert_int_equal(mirad_hash_sha256_file(path, hex, &size, NULL), 0);
	assert_string_equal(hex,
	    "cdc76e5c9914fb9281a1c7e284d73e67"
	    "f1809a48a497200e046d39ccc7112cd0");
	assert_int_equal(size, 1000000);
	errno = 0;
	assert_int_equal(mirad_hash_sha256_file(path, hex, NULL, stop_now), -1);
	assert_int_equal(errno, EINTR);
	unlink(path);
	assert_int_equal(mirad_hash_sha256_file(path, hex, NULL, NULL), -1);
	assert_int_equal(errno, ENOENT);
}

static void
test_hash_parse(void **state)
{
	char norm[65];

	(void)state;
	assert_int_equal(
	    mirad_hash_parse_sha256("BA7816BF8F01CFEA414140DE5DAE2223"
	                            "B00361A396177A9CB410FF61F20015AD",
	        norm),
	    0);
	assert_string_equal(norm,
	    "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	/* 63 and 65 digits, a non-hex letter, a prefix, blanks. */
	assert_int_equal(
	    mirad_hash_parse_sha256("ba7816bf8f01cfea414140de5dae2223"
	                            "b00361a396177a9cb410ff61f20015a",
	        norm),
	    -1);
	assert_int_equal(
	    mirad_hash_parse_sha256("ba7816bf8f01cfea414140de5dae2223"
	                            "b00361a396177a9cb410ff61f20015ad0",
	        norm),
	    -1);
	assert_int_equal(
	    mirad_hash_parse_sha256("ga7816bf8f01cfea414140de5dae2223"
	                            "b00361a396177a9cb410ff61f20015ad",
	        norm),
	    -1);
	assert_int_equal(
	    mirad_hash_parse_sha256("sha256:ba7816bf8f01cfea414140de5d"
	                            "ae2223b00361a396177a9cb410ff61f2",
	        norm),
	    -1);
	assert_int_equal(
	    mirad_hash_parse_sha256(" ba7816bf8f01cfea414140de5dae2223"
	                            "b00361a396177a9cb410ff61f20015a",
	        norm),
	    -1);
	assert_int_equal(mirad_hash_parse_sha256("", norm), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_hash_vectors),
	    cmocka_unit_test(test_hash_file),
	    cmocka_unit_test(test_hash_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
