/* SPDX-License-Identifier: MIT */
/* Unit tests of mirad-augment's profiles: parsing, validation messages,
 * keyed draws and sampling. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "augment_profile.h"

#define HEAD "{\"format\": \"mirad-augment/profile@1\", \"name\": \"t\",\n"

static int
parse(const char *text, struct augment_profile *p, char *err, size_t len)
{
	return augment_profile_parse(text, strlen(text), "t.json", p, err, len);
}

static void
test_mix_and_hash_reference_values(void **state)
{
	(void)state;
	/* SplitMix64's first output for state 0, FNV-1a test vectors. */
	assert_true(augment_mix64(0) == UINT64_C(0xe220a8397b1dcdaf));
	assert_true(augment_fnv1a64("") == UINT64_C(0xcbf29ce484222325));
	assert_true(augment_fnv1a64("a") == UINT64_C(0xaf63dc4c8601ec8c));
	assert_true(augment_u01(0) == 0.0);
	assert_true(augment_u01(UINT64_MAX) < 1.0);
}

static void
test_parse_seed(void **state)
{
	uint64_t v;

	(void)state;
	assert_int_equal(augment_parse_seed("0x10", &v), 0);
	assert_true(v == 16);
	assert_int_equal(augment_parse_seed("18446744073709551615", &v), 0);
	assert_true(v == UINT64_MAX);
	assert_int_equal(augment_parse_seed("18446744073709551616", &v), -1);
	assert_int_equal(augment_parse_seed("-1", &v), -1);
	assert_int_equal(augment_parse_seed("12x", &v), -1);
	assert_int_equal(augment_parse_seed("0x", &v), -1);
	assert_int_equal(augment_parse_seed("", &v), -1);
}

static void
test_builtins_parse(void **state)
{
	char err[512];

	(void)state;
	assert_int_equal(augment_builtin_count(), 6);
	for (size_t i = 0; i < augment_builtin_count(); i++) {
		struct augment_profile p;
		char want[32];

		snprintf(want, sizeof want, "node%zu", i + 1);
		assert_string_equal(augment_builtin_name(i), want);
		assert_int_equal(
		    augment_profile_load(want, &p, err, sizeof err), 0);
		assert_string_equal(p.name, want);
		assert_true(p.neffects >= 4);
		assert_int_equal(strlen(p.digest), 64);
		augment_profile_free(&p);
	}
}

static void
test_digest_ignores_whitespace_only(void **state)
{
	const char *a =
	    HEAD "\"effects\": [{\"type\": \"exposure\", \"ev\": 1}]}";
	const char *b =
	    HEAD "  \"effects\" :\n[ { \"type\":\"exposure\",\"ev\":1 } ] }";
	const char *c =
	    HEAD "\"effects\": [{\"type\": \"exposure\", \"ev\": 2}]}";
	struct augment_profile pa, pb, pc;
	char err[512];

	(void)state;
	assert_int_equal(parse(a, &pa, err, sizeof err), 0);
	assert_int_equal(parse(b, &pb, err, sizeof err), 0);
	assert_int_equal(parse(c, &pc, err, sizeof err), 0);
	assert_string_equal(pa.digest, pb.digest);
	assert_string_not_equal(pa.digest, pc.digest);
	augment_profile_free(&pa);
	augment_profile_free(&pb);
	augment_profile_free(&pc);
}

struct bad_case {
	const char *text;
	const char *message;
};

static void
test_bad_profiles_name_file_and_line(void **state)
{
	static const struct bad_case cases[] = {
	    {HEAD "\"effects\": [\n{\"type\": \"exposure\",\n\"evv\": 1}]}",
	        "t.json:4: effect 1: exposure: unknown key 'evv' (see "
	        "--list-effects)"},
	    {HEAD "\"effects\": [{\"type\": \"exposure\", \"ev\": 1,\n"
	          "\"ev\": 2}]}",
	        "t.json:3: duplicate key 'ev'"},
	    {HEAD "\"effects\": [{\"type\": \"exposure\",\n\"ev\": 7}]}",
	        "t.json:3: effect 1: exposure: ev: value 7 out of range "
	        "[-6, 6]"},
	    {HEAD "\"effects\": [{\"type\": \"jpeg\", \"quality\": 9},\n"
	          "{\"type\": \"defocus\"}]}",
	        "t.json:3: effect 2: defocus comes after jpeg: effects must "
	        "follow the physical order (see --list-effects)"},
	    {HEAD "\"effects\": [{\"type\": \"exposure\"},\n"
	          "{\"type\": \"exposure\"}]}",
	        "t.json:3: effect 2: exposure repeats exposure: effects must "
	        "follow the physical order (see --list-effects)"},
	    {HEAD "\"effects\": [{\"type\": \"exposure\", \"ev\": "
	          "{\"normal\": [0, 1]}}]}",
	        "t.json:2: effect 1: exposure: ev: normal needs \"clip\": "
	        "[lo, hi]"},
	    {HEAD "\"effects\": [{\"type\": \"defocus\", \"radius\": "
	          "{\"by_severity\": [0, 0.001]}}]}",
	        "t.json:2: effect 1: defocus: radius: by_severity needs 5 "
	        "values"},
	    {HEAD "\"effects\": [{\"type\": \"exposure\", \"ev\": [2, 1]}]}",
	        "t.json:2: effect 1: exposure: ev: range [2, 1] has lo > hi"},
	    {HEAD "\"effects\": [{\"type\": \"fog\"}]}",
	        "t.json:2: effect 1: unknown effect type 'fog' (see "
	        "--list-effects)"},
	    {HEAD "\"effects\": [{\"type\": \"illumination\", \"model\": "
	          "\"sun\"}]}",
	        "t.json:2: effect 1: illumination: model must be one of "
	        "ramp, point_light, field"},
	    {HEAD "\"effects\": [{\"type\": \"jpeg\"}]}",
	        "t.json:2: effect 1: jpeg: needs \"quality\""},
	    {HEAD "\"seed\": 5, \"effects\": []}",
	        "t.json:2: seed must be a string: \"0x...\" (hex) or "
	        "decimal, below 2^64"},
	    {"{\"name\": \"t\", \"effects\": []}",
	        "t.json:1: missing \"format\": \"mirad-augment/profile@1\""},
	    {HEAD "\n\n\"effects\": [,]}", "t.json:4: not valid JSON"},
	};
	char err[512];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct augment_profile p;

		err[0] = '\0';
		assert_int_equal(parse(cases[i].text, &p, err, sizeof err), -1);
		assert_string_equal(err, cases[i].message);
	}
}

static const char *sweep =
    HEAD "\"effects\": ["
         "{\"type\": \"illumination\", \"scope\": \"node\", "
         "\"gain\": [0.1, 0.9], \"position\": [[0, 1], 0.5]},"
         "{\"type\": \"exposure\", "
         "\"ev\": {\"lerp_severity\": [[-0.25, 0.25], [-1.5, 1.5]]}},"
         "{\"type\": \"sensor_noise\", \"p\": 0, "
         "\"shot_a\": {\"log_uniform\": [0.001, 0.01]}},"
         "{\"type\": \"jpeg\", \"p\": 1, "
         "\"quality\": {\"choice\": [40, 60, 80]}}]}";

static void
test_sampling_is_keyed_not_sequential(void **state)
{
	struct augment_profile p;
	struct augment_sample a, b, c, d;
	char err[512];
	struct augment_draw_ctx ctx = {42, "cat/test/good/000.png", 0, 3};

	(void)state;
	assert_int_equal(parse(sweep, &p, err, sizeof err), 0);
	assert_int_equal(augment_profile_sample(&p, &ctx, &a), 0);
	/* Another image in between changes nothing. */
	ctx.image_id = "cat/test/good/001.png";
	assert_int_equal(augment_profile_sample(&p, &ctx, &c), 0);
	ctx.image_id = "cat/test/good/000.png";
	assert_int_equal(augment_profile_sample(&p, &ctx, &b), 0);
	assert_memory_equal(&a, &b, sizeof a);
	/* Image scope differs between images, node scope does not. */
	assert_true(a.value[1][0][0] != c.value[1][0][0]);
	assert_true(a.value[0][0][0] == c.value[0][0][0]);
	assert_true(a.value[0][2][0] == c.value[0][2][0]);
	assert_true(a.value[0][2][1] == 0.5);
	assert_true(a.value[0][0][0] >= 0.1 && a.value[0][0][0] <= 0.9);
	/* Another variant or run seed draws afresh. */
	ctx.variant = 1;
	assert_int_equal(augment_profile_sample(&p, &ctx, &d), 0);
	assert_true(a.value[1][0][0] != d.value[1][0][0]);
	/* p = 0 never applies, p = 1 always; choice and log-uniform stay in
	 * their sets. */
	assert_false(a.applied[2]);
	assert_true(a.applied[3]);
	assert_true(a.value[2][0][0] >= 0.001 && a.value[2][0][0] <= 0.01);
	assert_true(a.value[3][0][0] == 40 || a.value[3][0][0] == 60 ||
	    a.value[3][0][0] == 80);
	augment_profile_free(&p);
}

static void
test_common_random_numbers_across_severities(void **state)
{
	struct augment_profile p;
	char err[512];
	unsigned monotone = 0;

	(void)state;
	assert_int_equal(parse(sweep, &p, err, sizeof err), 0);
	for (unsigned img = 0; img < 50; img++) {
		char id[32];
		double prev = -1;
		bool ok = true;

		snprintf(id, sizeof id, "x/%u.png", img);
		for (int s = 1; s <= 5; s++) {
			struct augment_draw_ctx ctx = {7, id, 0, s};
			struct augment_sample smp;
			double ev;

			assert_int_equal(
			    augment_profile_sample(&p, &ctx, &smp), 0);
			ev = smp.value[1][0][0];
			/* Range grows symmetrically: |ev| grows with s. */
			ok = ok && fabs(ev) >= prev;
			prev = fabs(ev);
		}
		monotone += ok;
	}
	assert_int_equal(monotone, 50);
	augment_profile_free(&p);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_mix_and_hash_reference_values),
	    cmocka_unit_test(test_parse_seed),
	    cmocka_unit_test(test_builtins_parse),
	    cmocka_unit_test(test_digest_ignores_whitespace_only),
	    cmocka_unit_test(test_bad_profiles_name_file_and_line),
	    cmocka_unit_test(test_sampling_is_keyed_not_sequential),
	    cmocka_unit_test(test_common_random_numbers_across_severities),
	};

	return cmocka_run_group_tests_name(
	    "augment_profile", tests, NULL, NULL);
}
