/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include "test_util.h"

#include "mirad_cli_options.h"
#include "mirad_dataset.h"
#include "mirad_layout.h"

#include <getopt.h>

/* What the table of a made-up tool fills. */
struct settings {
	bool strict, verify, merge_given;
	const char *output;
	unsigned jobs;
	uint64_t size;
	int format;
	const char *by;
	int calls;
	struct mirad_dataset_options in;
	struct mirad_cli_merge merge;
};

static const char *const format_names[] = {"md", "csv", "json", NULL};
static const int format_values[] = {10, 20, 30};

static int
by_arg(void *target, const char *arg)
{
	struct settings *s = target;

	s->calls++;
	if (strchr(arg, '=') == NULL)
		return -1;
	s->by = arg;
	return 0;
}

/* Scan the options ARGS (NULL-terminated) of the made-up tool into S. */
static int
scan(struct settings *s, bool with_merge, char **msg, const char *const *args)
{
	const struct mirad_cli_opt opts[] = {
	    {MIRAD_CLI_TRUE("strict", 0, &s->strict)},
	    {MIRAD_CLI_FALSE("no-verify", 0, &s->verify)},
	    {MIRAD_CLI_STRING("output", 'o', &s->output),
	        .how = MIRAD_CLI_MERGE_TAKES},
	    {MIRAD_CLI_UINT(
	        "jobs", 'j', &s->jobs, 1, 256, "bad --jobs '%s' (1..256)")},
	    {MIRAD_CLI_UINT("size", 0, &s->size, 1, UINT64_MAX,
	         "--size: '%s' is not a positive number of bytes"),
	        .given = &s->merge_given},
	    {MIRAD_CLI_CHOICE("format", 'F', &s->format, format_names,
	         format_values, "unknown format '%s' (md, csv, json)"),
	        .how = MIRAD_CLI_MERGE_TAKES | MIRAD_CLI_PARTIAL_REFUSES},
	    {MIRAD_CLI_CALL("by", 0, by_arg, s, "bad --by '%s'")},
	    {.name = NULL},
	};
	const struct mirad_cli_parser p = {.opts = opts,
	    .dataset = &s->in,
	    .merge = with_merge ? &s->merge : NULL,
	    .partial = true};
	char *argv[32];
	int argc = 0;

	argv[argc++] = (char *)"tool";
	for (; *args != NULL; args++)
		argv[argc++] = (char *)*args;
	argv[argc] = NULL;
	return mirad_cli_options_scan(&p, argc, argv, msg);
}

#define ARGS(...) ((const char *const[]){__VA_ARGS__, NULL})

static void
test_options_store(void **state)
{
	struct settings s = {.verify = true};
	char *msg;

	(void)state;
	assert_int_equal(
	    scan(&s, false, &msg,
	        ARGS("--strict", "--no-verify", "-o", "out", "-j8",
	            "--size=5000000000", "-F", "csv", "--by", "node=1",
	            "--layout=mvtec", "--root", "/r", "input")),
	    MIRAD_CLI_DONE);
	assert_null(msg);
	assert_true(s.strict);
	assert_false(s.verify);
	assert_string_equal(s.output, "out");
	assert_int_equal(s.jobs, 8);
	assert_true(s.size == 5000000000ULL);
	assert_true(s.merge_given);
	assert_int_equal(s.format, 20);
	assert_string_equal(s.by, "node=1");
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.in.scan.layout, MIRAD_LAYOUT_MVTEC);
	assert_string_equal(s.in.root, "/r");
	/* The operand is left for the tool. */
	assert_int_equal(optind, 14);
}

static void
expect_error(bool with_merge, const char *const *args, const char *want)
{
	struct settings s = {0};
	char *msg;

	assert_int_equal(scan(&s, with_merge, &msg, args), MIRAD_CLI_ERROR);
	assert_non_null(msg);
	assert_string_equal(msg, want);
	free(msg);
}

static void
test_options_errors(void **state)
{
	(void)state;
	expect_error(false, ARGS("-j", "0"), "bad --jobs '0' (1..256)");
	expect_error(false, ARGS("--jobs=257"), "bad --jobs '257' (1..256)");
	expect_error(false, ARGS("-j", "-3"), "bad --jobs '-3' (1..256)");
	expect_error(false, ARGS("--size", "0"),
	    "--size: '0' is not a positive number of bytes");
	expect_error(
	    false, ARGS("-F", "tex"), "unknown format 'tex' (md, csv, json)");
	expect_error(false, ARGS("--by", "node"), "bad --by 'node'");
	expect_error(false, ARGS("--layout", "flat"),
	    "unknown layout 'flat' (mirad, mvtec, visa, visa-prepared)");
	expect_error(false, ARGS("-j"), "option '-j' needs an argument");
	expect_error(
	    false, ARGS("--output"), "option '--output' needs an argument");
	expect_error(false, ARGS("-x"), "unknown option '-x'");
	expect_error(false, ARGS("--nope"), "unknown option '--nope'");
	/* A long option given an argument it does not take. */
	expect_error(
	    false, ARGS("--strict=yes"), "unknown option '--strict=yes'");
	/* Without a merge rule, --shard is not an option. */
	expect_error(
	    false, ARGS("--shard=0/2"), "unknown option '--shard=0/2'");
	expect_error(true, ARGS("--shard=2/2"),
	    "invalid --shard '2/2' (I/N with 0 <= I < N, or slurm)");
}

/* The first error stops the scan: later options are not taken. */
static void
test_options_stop_at_first_error(void **state)
{
	struct settings s = {0};
	char *msg;

	(void)state;
	assert_int_equal(
	    scan(&s, false, &msg, ARGS("-j", "999", "--strict", "-h")),
	    MIRAD_CLI_ERROR);
	assert_false(s.strict);
	free(msg);
	assert_int_equal(scan(&s, false, &msg, ARGS("--strict", "-h", "-j0")),
	    MIRAD_CLI_HELP);
	assert_true(s.strict);
	assert_int_equal(
	    scan(&s, false, &msg, ARGS("--version")), MIRAD_CLI_VERSION);
}

/* --merge and --shard fill the merge rule, which notes the first option
 * --merge refuses and the first --partial refuses, as spelled. */
static void
test_options_merge_rule(void **state)
{
	struct settings s = {0};
	char *msg;

	(void)state;
	assert_int_equal(scan(&s, true, &msg,
	                     ARGS("--merge", "--shard", "1/3", "--partial",
	                         "-o", "x", "-q", "--no-progress")),
	    MIRAD_CLI_DONE);
	assert_true(s.merge.requested);
	assert_true(s.merge.partial);
	assert_int_equal(s.merge.shard_index, 1);
	assert_int_equal(s.merge.shard_count, 3);
	assert_string_equal(s.merge.job_option, "");
	assert_string_equal(s.merge.report_option, "");

	memset(&s, 0, sizeof s);
	assert_int_equal(
	    scan(&s, true, &msg, ARGS("--form=md", "-j2", "--strict")),
	    MIRAD_CLI_DONE);
	assert_string_equal(s.merge.job_option, "-j");
	assert_string_equal(s.merge.report_option, "--format");

	memset(&s, 0, sizeof s);
	assert_int_equal(scan(&s, true, &msg, ARGS("--layout=mirad", "-Fmd")),
	    MIRAD_CLI_DONE);
	assert_string_equal(s.merge.job_option, "--layout");
	assert_string_equal(s.merge.report_option, "-F");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_options_store),
	    cmocka_unit_test(test_options_errors),
	    cmocka_unit_test(test_options_stop_at_first_error),
	    cmocka_unit_test(test_options_merge_rule),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
