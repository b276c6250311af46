/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <getopt.h>

#include "mirad_cli_options.h"
#include "mirad_dataset.h"
#include "mirad_err.h"
#include "mirad_layout.h"
#include "mirad_progress.h"
#include "mirad_strlist.h"
#include "mirad_version.h"

/* More than any tool has, its own and the shared ones together. */
#define MAX_OPTIONS 64
/* getopt_long codes of options without a letter: above every letter. */
#define LONG_ONLY_CODE 256
#define NSHARED        11

int
mirad_cli_layout_arg(void *target, const char *arg)
{
	return mirad_layout_from_name(arg, target);
}

int
mirad_cli_categories_arg(void *target, const char *arg)
{
	struct mirad_strlist *list = target;

	mirad_strlist_free(list);
	if (mirad_strlist_split(arg, list) != 0 || list->count == 0)
		return -1;
	return 0;
}

/* The targets of --progress and --no-progress (never written). */
static enum mirad_progress_mode progress_on = MIRAD_PROGRESS_ON,
                                progress_off = MIRAD_PROGRESS_OFF;

static int
set_progress(void *target, const char *arg)
{
	(void)arg;
	mirad_progress_set_mode(*(enum mirad_progress_mode *)target);
	return 0;
}

static int
quiet_on(void *target, const char *arg)
{
	mirad_set_quiet(true);
	return set_progress(target, arg);
}

static int
shard_arg(void *target, const char *arg)
{
	struct mirad_cli_merge *m = target;

	return mirad_cli_parse_shard(arg, &m->shard_index, &m->shard_count);
}

/* The shared options P takes, into SHARED; returns how many. */
static size_t
shared_options(const struct mirad_cli_parser *p, struct mirad_cli_opt *shared)
{
	const unsigned taken = MIRAD_CLI_MERGE_TAKES;
	size_t n = 0;

	shared[n++] = (struct mirad_cli_opt){.name = "help",
	    .short_name = 'h',
	    .kind = MIRAD_CLI_KIND_HELP,
	    .how = taken};
	shared[n++] = (struct mirad_cli_opt){.name = "version",
	    .short_name = 'V',
	    .kind = MIRAD_CLI_KIND_VERSION,
	    .how = taken};
	shared[n++] = (struct mirad_cli_opt){
	    MIRAD_CLI_ACTION("quiet", 'q', quiet_on, &progress_off),
	    .how = taken};
	shared[n++] = (struct mirad_cli_opt){
	    MIRAD_CLI_ACTION("progress", 0, set_progress, &progress_on),
	    .how = taken};
	shared[n++] = (struct mirad_cli_opt){
	    MIRAD_CLI_ACTION("no-progress", 0, set_progress, &progress_off),
	    .how = taken};
	if (p->merge != NULL) {
		shared[n++] = (struct mirad_cli_opt){
		    MIRAD_CLI_CALL("shard", 0, shard_arg, p->merge,
		        "invalid --shard '%s' (I/N with 0 <= I < N, or "
		        "slurm)"),
		    .how = taken};
		shared[n++] = (struct mirad_cli_opt){
		    MIRAD_CLI_TRUE("merge", 0, &p->merge->requested),
		    .how = taken};
		if (p->partial)
			shared[n++] = (struct mirad_cli_opt){
			    MIRAD_CLI_TRUE("partial", 0, &p->merge->partial),
			    .how = taken};
	}
	if (p->dataset != NULL) {
		shared[n++] = (struct mirad_cli_opt){
		    MIRAD_CLI_CALL("layout", 0, mirad_cli_layout_arg,
		        &p->dataset->scan.layout, MIRAD_CLI_LAYOUT_ERROR)};
		shared[n++] = (struct mirad_cli_opt){MIRAD_CLI_STRING(
		    "split-csv", 0, &p->dataset->scan.split_csv)};
		shared[n++] = (struct mirad_cli_opt){
		    MIRAD_CLI_STRING("root", 0, &p->dataset->root)};
	}
	return n;
}

static bool
takes_argument(const struct mirad_cli_opt *o)
{
	switch (o->kind) {
	case MIRAD_CLI_KIND_STRING:
	case MIRAD_CLI_KIND_UINT:
	case MIRAD_CLI_KIND_CHOICE:
	case MIRAD_CLI_KIND_CALL:
		return true;
	default:
		return false;
	}
}

/* The message of O for the bad argument ARG: its "%s" replaced. */
static char *
bad_argument(const struct mirad_cli_opt *o, const char *arg)
{
	const char *text = o->error != NULL ? o->error : "bad argument '%s'";
	const char *hole = strstr(text, "%s");

	if (hole == NULL)
		return mirad_xstrdup(text);
	return mirad_xasprintf(
	    "%.*s%s%s", (int)(hole - text), text, arg, hole + 2);
}

static int
store_number(const struct mirad_cli_opt *o, uint64_t v)
{
	if (o->size == sizeof(uint64_t)) {
		memcpy(o->target, &v, sizeof v);
		return 0;
	}
	if (o->size == sizeof(uint32_t) && v <= UINT32_MAX) {
		uint32_t v32 = (uint32_t)v;

		memcpy(o->target, &v32, sizeof v32);
		return 0;
	}
	return -1;
}

static int
choose(const struct mirad_cli_opt *o, const char *arg)
{
	for (size_t i = 0; o->keys != NULL && o->keys[i] != NULL; i++)
		if (strcmp(o->keys[i], arg) == 0)
			return store_number(
			    o, o->values != NULL ? (uint64_t)o->values[i] : i);
	return -1;
}

/* Take option O with argument ARG (NULL for none): 0, or a scan result. */
static int
take(const struct mirad_cli_opt *o, const char *arg, char **msg)
{
	uint64_t v;
	int rc = 0;

	switch (o->kind) {
	case MIRAD_CLI_KIND_TRUE:
		*(bool *)o->target = true;
		break;
	case MIRAD_CLI_KIND_FALSE:
		*(bool *)o->target = false;
		break;
	case MIRAD_CLI_KIND_STRING:
		*(const char **)o->target = arg;
		break;
	case MIRAD_CLI_KIND_UINT:
		rc = mirad_cli_parse_uint(arg, o->min, o->max, &v);
		if (rc == 0)
			rc = store_number(o, v);
		break;
	case MIRAD_CLI_KIND_CHOICE:
		rc = choose(o, arg);
		break;
	case MIRAD_CLI_KIND_CALL:
	case MIRAD_CLI_KIND_ACTION:
		rc = o->call(o->target, arg);
		break;
	case MIRAD_CLI_KIND_HELP:
		return MIRAD_CLI_HELP;
	case MIRAD_CLI_KIND_VERSION:
		return MIRAD_CLI_VERSION;
	}
	if (rc != 0) {
		*msg = bad_argument(o, arg != NULL ? arg : "");
		return MIRAD_CLI_ERROR;
	}
	if (o->given != NULL)
		*o->given = true;
	return MIRAD_CLI_DONE;
}

/* Note the first option --merge and the first --partial refuses, as the
 * user spelled it: getopt_long sets LONGIDX for long options only. */
static void
note_refused(
    struct mirad_cli_merge *m, const struct mirad_cli_opt *o, int longidx)
{
	char name[64];

	if (longidx >= 0)
		snprintf(name, sizeof name, "--%s", o->name);
	else
		snprintf(name, sizeof name, "-%c", o->short_name);
	if (m->report_option[0] == '\0' && (o->how & MIRAD_CLI_PARTIAL_REFUSES))
		snprintf(m->report_option, sizeof m->report_option, "%s", name);
	if (m->job_option[0] == '\0' && !(o->how & MIRAD_CLI_MERGE_TAKES))
		snprintf(m->job_option, sizeof m->job_option, "%s", name);
}

static char *
unknown_option(char **argv)
{
	/* getopt_long leaves optopt 0 for an unknown long option, and sets
	 * it to the code of a long option given an argument it does not
	 * take. */
	if (optopt > 0 && optopt < LONG_ONLY_CODE)
		return mirad_xasprintf("unknown option '-%c'", optopt);
	return mirad_xasprintf("unknown option '%s'", argv[optind - 1]);
}

int
mirad_cli_options_scan(
    const struct mirad_cli_parser *p, int argc, char **argv, char **msg)
{
	struct mirad_cli_opt shared[NSHARED];
	const struct mirad_cli_opt *all[MAX_OPTIONS];
	struct option longopts[MAX_OPTIONS + 1];
	char shortopts[2 * MAX_OPTIONS + 2];
	size_t n = 0, nshort = 0, nshared = shared_options(p, shared);

	*msg = NULL;
	for (const struct mirad_cli_opt *o = p->opts; o->name != NULL; o++) {
		if (n == MAX_OPTIONS - NSHARED) {
			*msg = mirad_xstrdup("too many options in the table");
			return MIRAD_CLI_ERROR;
		}
		all[n++] = o;
	}
	for (size_t i = 0; i < nshared; i++)
		all[n++] = &shared[i];
	shortopts[nshort++] = ':'; /* ':' for a missing argument */
	for (size_t i = 0; i < n; i++) {
		const struct mirad_cli_opt *o = all[i];
		int has_arg =
		    takes_argument(o) ? required_argument : no_argument;

		longopts[i] = (struct option){o->name, has_arg, NULL,
		    o->short_name != 0 ? o->short_name
		                       : LONG_ONLY_CODE + (int)i};
		if (o->short_name != 0) {
			shortopts[nshort++] = (char)o->short_name;
			if (has_arg == required_argument)
				shortopts[nshort++] = ':';
		}
	}
	longopts[n] = (struct option){NULL, 0, NULL, 0};
	shortopts[nshort] = '\0';

	opterr = 0;
	optind = 0;
	for (;;) {
		const struct mirad_cli_opt *o = NULL;
		int longidx = -1, c, rc;

		c = getopt_long(argc, argv, shortopts, longopts, &longidx);
		if (c == -1)
			return MIRAD_CLI_DONE;
		if (c == ':') {
			*msg = mirad_xasprintf(
			    "option '%s' needs an argument", argv[optind - 1]);
			return MIRAD_CLI_ERROR;
		}
		if (c >= LONG_ONLY_CODE && (size_t)(c - LONG_ONLY_CODE) < n)
			o = all[c - LONG_ONLY_CODE];
		for (size_t i = 0; o == NULL && c != '?' && i < n; i++)
			if (all[i]->short_name == c)
				o = all[i];
		if (o == NULL) {
			*msg = unknown_option(argv);
			return MIRAD_CLI_ERROR;
		}
		if (p->merge != NULL)
			note_refused(p->merge, o, longidx);
		rc = take(o, optarg, msg);
		if (rc != MIRAD_CLI_DONE)
			return rc;
	}
}

void
mirad_cli_options_parse(const struct mirad_cli_parser *p, int argc, char **argv)
{
	/* Static: the message stays reachable (leak checkers) while
	 * mirad_usage_error() exits. */
	static char *msg;

	switch (mirad_cli_options_scan(p, argc, argv, &msg)) {
	case MIRAD_CLI_HELP:
		p->usage();
		exit(mirad_close_stdout(MIRAD_EXIT_OK));
	case MIRAD_CLI_VERSION:
		mirad_version_print(stdout);
		exit(mirad_close_stdout(MIRAD_EXIT_OK));
	case MIRAD_CLI_ERROR:
		mirad_usage_error("%s", msg);
	default:
		break;
	}
}
