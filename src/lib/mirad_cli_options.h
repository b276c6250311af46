/* SPDX-License-Identifier: MIT */
/*
 * Command-line options from one table per tool: each entry says what the
 * option stores where and the usage error for a bad argument, and one
 * getopt_long loop reads them all, with the options the tools share (-h,
 * -V, -q, --progress, --no-progress; --layout, --split-csv, --root for the
 * tools that read a dataset; --shard, --merge, --partial).  What depends on
 * several options (--merge's rules, required options) the tool checks after
 * the loop.
 */
#ifndef MIRAD_CLI_OPTIONS_H
#define MIRAD_CLI_OPTIONS_H

#include "mirad_platform.h"

#include "mirad_cli.h"

enum mirad_cli_kind {
	MIRAD_CLI_KIND_TRUE,    /* no argument: *(bool *)target = true */
	MIRAD_CLI_KIND_FALSE,   /* no argument: *(bool *)target = false */
	MIRAD_CLI_KIND_STRING,  /* *(const char **)target = the argument,
	                           borrowed from argv */
	MIRAD_CLI_KIND_UINT,    /* a decimal whole number in [min, max] into
	                           the unsigned or int of SIZE bytes (4 or 8) */
	MIRAD_CLI_KIND_CHOICE,  /* the argument is keys[i]: the int-sized
	                           target gets values[i] (not negative), or i
	                           without values */
	MIRAD_CLI_KIND_CALL,    /* call(target, argument) returns 0, or -1 for
	                           a bad argument */
	MIRAD_CLI_KIND_ACTION,  /* no argument: call(target, NULL) */
	MIRAD_CLI_KIND_HELP,    /* -h: the scan stops with MIRAD_CLI_HELP */
	MIRAD_CLI_KIND_VERSION, /* -V: the scan stops with MIRAD_CLI_VERSION */
};

/* How the --merge rule (mirad_cli.h) sees an option. */
enum {
	/* --merge accepts it: it shapes what the merge writes, or not the
	 * job (-o, -f).  Every other option of a tool with --merge is
	 * refused with it. */
	MIRAD_CLI_MERGE_TAKES = 1,
	/* --partial refuses it: it only shapes a table or report. */
	MIRAD_CLI_PARTIAL_REFUSES = 2,
};

struct mirad_cli_opt {
	const char *name; /* the long name without "--"; NULL ends a table */
	int short_name;   /* the letter of -X, or 0 */
	enum mirad_cli_kind kind;
	void *target;
	size_t size;             /* of *target, for UINT and CHOICE */
	uint64_t min, max;       /* UINT */
	const char *const *keys; /* CHOICE: the names, NULL-terminated */
	const int *values;       /* CHOICE: the value of each name, or NULL */
	int (*call)(void *target, const char *arg); /* CALL, ACTION */
	/* The usage error for a bad argument; its one "%s" stands for the
	 * argument. */
	const char *error;
	bool *given;  /* set true once the option is taken, when not NULL */
	unsigned how; /* MIRAD_CLI_MERGE_TAKES, MIRAD_CLI_PARTIAL_REFUSES */
};

/* clang-format off */
/*
 * Entries of a table, to be completed with .given or .how when needed:
 * {MIRAD_CLI_UINT("jobs", 'j', &jobs, 1, 256, "bad --jobs '%s' (1..256)")}.
 * The unevaluated assignment in sizeof makes the compiler check the
 * target's type, which void *target would not.
 */
#define MIRAD_CLI_TARGET_(t, value) ((void)sizeof(*(t) = (value)), (t))
#define MIRAD_CLI_TRUE(n, s, t) \
	.name = (n), .short_name = (s), .kind = MIRAD_CLI_KIND_TRUE, \
	.target = MIRAD_CLI_TARGET_(t, true)
#define MIRAD_CLI_FALSE(n, s, t) \
	.name = (n), .short_name = (s), .kind = MIRAD_CLI_KIND_FALSE, \
	.target = MIRAD_CLI_TARGET_(t, false)
#define MIRAD_CLI_STRING(n, s, t) \
	.name = (n), .short_name = (s), .kind = MIRAD_CLI_KIND_STRING, \
	.target = MIRAD_CLI_TARGET_(t, (const char *)NULL)
#define MIRAD_CLI_UINT(n, s, t, lo, hi, e) \
	.name = (n), .short_name = (s), .kind = MIRAD_CLI_KIND_UINT, \
	.target = MIRAD_CLI_TARGET_(t, 0u), .size = sizeof *(t), \
	.min = (lo), .max = (hi), .error = (e)
#define MIRAD_CLI_CHOICE(n, s, t, k, v, e) \
	.name = (n), .short_name = (s), .kind = MIRAD_CLI_KIND_CHOICE, \
	.target = MIRAD_CLI_TARGET_(t, 0), .size = sizeof *(t), \
	.keys = (k), .values = (v), .error = (e)
#define MIRAD_CLI_CALL(n, s, fn, t, e) \
	.name = (n), .short_name = (s), .kind = MIRAD_CLI_KIND_CALL, \
	.target = (t), .call = (fn), .error = (e)
#define MIRAD_CLI_ACTION(n, s, fn, t) \
	.name = (n), .short_name = (s), .kind = MIRAD_CLI_KIND_ACTION, \
	.target = (t), .call = (fn)
/* clang-format on */

/* What a tool has: its table and the shared options it takes. */
struct mirad_cli_parser {
	const struct mirad_cli_opt *opts; /* ends with a NULL name */
	/* --layout, --split-csv and --root fill it, when not NULL. */
	struct mirad_dataset_options *dataset;
	/* --shard and --merge fill it, when not NULL (and --partial with
	 * PARTIAL); the options --merge or --partial refuse are noted in it
	 * as the user spelled them. */
	struct mirad_cli_merge *merge;
	bool partial;
	void (*usage)(void); /* prints --help */
};

enum mirad_cli_scan_result {
	MIRAD_CLI_ERROR = -1, /* a usage error, described in *MSG */
	MIRAD_CLI_DONE = 0,   /* every option taken; operands from optind */
	MIRAD_CLI_HELP,       /* -h was given (and nothing wrong before it) */
	MIRAD_CLI_VERSION,    /* -V was given */
};

/*
 * Read the options of ARGV in order, storing each as its entry says, until
 * the operands (getopt_long permutes them to the end; optind is the first),
 * -h, -V or the first usage error: an unknown option, a missing or bad
 * argument.  -q and --progress/--no-progress set the quiet and progress
 * modes at once.  On MIRAD_CLI_ERROR, *MSG is the message, owned by the
 * caller (free()).  Starts getopt_long afresh (optind = 0).
 */
int mirad_cli_options_scan(
    const struct mirad_cli_parser *p, int argc, char **argv, char **msg);

/*
 * mirad_cli_options_scan() for a tool: -h prints the usage, -V the version
 * and both exit 0; a usage error exits 2 with the message.
 */
void mirad_cli_options_parse(
    const struct mirad_cli_parser *p, int argc, char **argv);

/* A CALL for --layout-like options: *(enum mirad_layout *)TARGET from the
 * layout's name; -1 for an unknown name. */
int mirad_cli_layout_arg(void *target, const char *arg);
#define MIRAD_CLI_LAYOUT_ERROR                                                 \
	"unknown layout '%s' (mirad, mvtec, visa, visa-prepared)"

/* A CALL for --categories: *(struct mirad_strlist *)TARGET becomes the
 * names ARG lists, comma separated; -1 for an empty or malformed list. */
int mirad_cli_categories_arg(void *target, const char *arg);
#define MIRAD_CLI_CATEGORIES_ERROR                                             \
	"--categories takes a comma-separated list of names, not '%s'"

#endif
