/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include "test_util.h"

#include "mirad_cli.h"
#include "mirad_err.h"
#include "mirad_formats.h"
#include "mirad_layout.h"

#include <errno.h>
#include <getopt.h>

static void
test_cli_parse_uint_strict(void **state)
{
	uint64_t v = 0;

	(void)state;
	assert_int_equal(mirad_cli_parse_uint("42", 0, 100, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(mirad_cli_parse_uint("-1", 0, 100, &v), -1);
	assert_int_equal(mirad_cli_parse_uint("101", 0, 100, &v), -1);
	assert_int_equal(mirad_cli_parse_uint("4x", 0, 100, &v), -1);
	assert_int_equal(mirad_cli_parse_uint("", 0, 100, &v), -1);
	assert_int_equal(mirad_cli_parse_uint(" 4", 0, 100, &v), -1);
	assert_int_equal(
	    mirad_cli_parse_uint("99999999999999999999", 0, UINT64_MAX, &v),
	    -1);
}

static void
test_cli_parse_double_range(void **state)
{
	double d = 0;

	(void)state;
	assert_int_equal(mirad_cli_parse_double("0.25", 0, 1, &d), 0);
	assert_true(d == 0.25);
	assert_int_equal(mirad_cli_parse_double("1.5", 0, 1, &d), -1);
	assert_int_equal(mirad_cli_parse_double("nan", 0, 1, &d), -1);
	assert_int_equal(mirad_cli_parse_double("inf", 0, 1e300, &d), -1);
	assert_int_equal(mirad_cli_parse_double("0.5x", 0, 1, &d), -1);
}

static void
test_cli_parse_shard(void **state)
{
	unsigned i = 9, n = 9;

	(void)state;
	assert_int_equal(mirad_cli_parse_shard("0/3", &i, &n), 0);
	assert_int_equal(i, 0);
	assert_int_equal(n, 3);
	assert_int_equal(mirad_cli_parse_shard("2/3", &i, &n), 0);
	assert_int_equal(mirad_cli_parse_shard("3/3", &i, &n), -1);
	assert_int_equal(mirad_cli_parse_shard("1/0", &i, &n), -1);
	assert_int_equal(mirad_cli_parse_shard("/3", &i, &n), -1);
	assert_int_equal(mirad_cli_parse_shard("13", &i, &n), -1);
	setenv("SLURM_ARRAY_TASK_ID", "5", 1);
	setenv("SLURM_ARRAY_TASK_COUNT", "4", 1);
	setenv("SLURM_ARRAY_TASK_MIN", "3", 1);
	assert_int_equal(mirad_cli_parse_shard("slurm", &i, &n), 0);
	assert_int_equal(i, 2);
	assert_int_equal(n, 4);
	unsetenv("SLURM_ARRAY_TASK_ID");
	assert_int_equal(mirad_cli_parse_shard("slurm", &i, &n), -1);
}

/* File names reach messages raw from manifests and archives: control
 * characters are written as \xHH, other bytes (UTF-8) kept. */
static void
test_cli_escape_controls(void **state)
{
	char *e;

	(void)state;
	e = mirad_escape_controls("a\nb\x1b[31m\tc\x7f d\xc3\xa9");
	assert_string_equal(e, "a\\x0ab\\x1b[31m\\x09c\\x7f d\xc3\xa9");
	free(e);
	e = mirad_escape_controls("");
	assert_string_equal(e, "");
	free(e);
}

/* The tools' wording of a refused output names --force (the library's
 * mirad_outdir only returns the code). */
static void
test_cli_dataset_advice(void **state)
{
	char err[256] = "t: cannot tell the layout";
	char small[8] = "1234567";

	(void)state;
	assert_string_equal(mirad_cli_dataset_advice(-1, err, sizeof err),
	    "t: cannot tell the layout");
	assert_string_equal(
	    mirad_cli_dataset_advice(MIRAD_LAYOUT_UNKNOWN, err, sizeof err),
	    "t: cannot tell the layout; use --layout");
	assert_string_equal(
	    mirad_cli_shard_advice(MIRAD_SHARD_NOT_A_SHARD, err, sizeof err),
	    "t: cannot tell the layout; use --layout; write it with --shard "
	    "I/N");
	assert_string_equal(mirad_cli_shard_advice(-1, err, sizeof err), err);
	strcpy(err, "a and b would share UniAD's result file c");
	assert_string_equal(
	    mirad_cli_format_advice(MIRAD_FORMAT_NAME_CLASH, err, sizeof err),
	    "a and b would share UniAD's result file c; write a tree with "
	    "unique names and its lists with mirad-convert --to mvtec --emit "
	    "uniad");
	assert_string_equal(mirad_cli_format_advice(-1, err, sizeof err), err);
	/* A full buffer stays terminated. */
	assert_string_equal(
	    mirad_cli_dataset_advice(MIRAD_LAYOUT_UNKNOWN, small, sizeof small),
	    "1234567");
}

static void
test_cli_output_refusal(void **state)
{
	char buf[512];

	(void)state;
	assert_string_equal(
	    mirad_cli_output_refusal(MIRAD_OUTDIR_EXISTS, "o", buf, sizeof buf),
	    "o: exists (use --force to replace it)");
	assert_string_equal(mirad_cli_output_refusal(
	                        MIRAD_OUTDIR_NOT_FOLDER, "o", buf, sizeof buf),
	    "o: exists and is not a folder; --force replaces only folders "
	    "written by mirad-tools");
	assert_string_equal(mirad_cli_output_refusal(
	                        MIRAD_OUTDIR_NOT_OURS, "o", buf, sizeof buf),
	    "o: not written by mirad-tools (no .mirad-output.json in it); "
	    "--force replaces only such folders: remove it yourself or "
	    "choose another name");
	errno = ENOSPC;
	assert_string_equal(
	    mirad_cli_output_refusal(MIRAD_OUTDIR_ERRNO, "o", buf, sizeof buf),
	    "o: No space left on device");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_cli_parse_uint_strict),
	    cmocka_unit_test(test_cli_dataset_advice),
	    cmocka_unit_test(test_cli_parse_double_range),
	    cmocka_unit_test(test_cli_parse_shard),
	    cmocka_unit_test(test_cli_escape_controls),
	    cmocka_unit_test(test_cli_output_refusal),
	};
	return cmocka_run_group_tests_name("cli", tests, NULL, NULL);
}
