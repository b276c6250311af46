/* SPDX-License-Identifier: MIT */
/*
 * mirad-augment: render a dataset as if it had been captured at another
 * production node (illumination, optics, sensor, processing), at one or
 * more severities, reproducibly, with masks kept right.  Writes the
 * augmented dataset in the source's layout and a manifest on stdout.
 */
#include "mirad_platform.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "augment_effects.h"
#include "augment_profile.h"
#include "augment_run.h"
#include "mirad_cli.h"
#include "mirad_cli_options.h"
#include "mirad_dataset.h"
#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_image.h"
#include "mirad_manifest.h"
#include "mirad_parallel.h"
#include "mirad_outdir.h"
#include "mirad_progress.h"
#include "mirad_shard.h"
#include "mirad_signal.h"
#include "mirad_version.h"

/* Not included by <vips/vips.h>; for vips_vector_set_enabled(). */
#include <vips/vector.h>

struct options {
	struct mirad_dataset_options in;
	const char *profile;
	const char *output;
	const char *input;
	int severity; /* 0 = the profile's; -1 = all */
	unsigned variants;
	bool have_seed;
	uint64_t seed;
	unsigned shard_index, shard_count; /* --shard I/N: N > 0 */
	unsigned jobs;
	bool force;
	struct mirad_cli_merge merge; /* --merge PART... */
	char **parts;                 /* --merge: the shard folders */
	int nparts;
};

/* After a SIGINT, SIGTERM or SIGHUP: end by that signal (the output's
 * transaction is aborted first). */
static void
stop_if_interrupted(void)
{
	if (mirad_signal_pending() == 0)
		return;
	mirad_signal_reraise();
	exit(MIRAD_EXIT_FATAL);
}

static void
usage(void)
{
	/* clang-format off */
	fputs(
"Usage: mirad-augment --profile NAME|FILE [OPTION]... -o OUT DATASET|MANIFEST|-\n"
"       mirad-augment --merge [-f] -o OUT PART...\n"
"Render a dataset as if captured at another production node: viewpoint,\n"
"lens, background, illumination, glare, vignetting, blur, exposure, sensor\n"
"noise, colour temperature, tone curve, resolution and JPEG, in linear\n"
"light and in that physical order.  Every random draw is keyed on (seed,\n"
"profile, image path, variant): outputs are bit-identical at any thread\n"
"count and across shards.  Writes the augmented dataset in the source's\n"
"layout under OUT and its manifest (with the sampled parameters and pixel\n"
"hashes) on standard output.\n"
"\n"
"  -p, --profile=NAME|FILE  a built-in profile (node1..node6) or a JSON file\n"
"  -s, --severity=S       1..5, or 'all' for 1 to 5 (default: the profile's)\n"
"  -n, --variants=N       outputs per image and severity (default 1)\n"
"      --seed=S           run seed, decimal or 0x hex (default: the\n"
"                         profile's)\n"
"      --shard=I/N        only the (image, variant) pairs of shard I of N\n"
"                         (0 <= I < N), or 'slurm'\n"
"      --merge            join the OUT folders of all --shard runs of one\n"
"                         job into OUT, as one run would have written it\n"
"  -o, --output=DIR       the augmented dataset to create\n"
"  -f, --force            replace DIR if it exists\n"
"  -j, --jobs=N           images rendered in parallel (default: CPUs)\n"
"      --list-profiles    list the built-in profiles and exit\n"
"      --list-effects     list the effects and their parameters and exit\n"
"      --explain=PROFILE  say what each severity of PROFILE does and exit\n"
"      --print-profile=NAME  print a built-in profile's JSON and exit\n"
"      --layout=NAME      force the input layout: mirad, mvtec, visa,\n"
"                         visa-prepared\n"
"      --split-csv=FILE   VisA: take the split from FILE\n"
"      --root=DIR         resolve relative manifest paths against DIR\n",
	    stdout);
	mirad_cli_print_shared_help(25);
	fputs(
"\n"
"Pipe the manifest to mirad-convert for another layout (mirad-augment(1)).\n",
	    stdout);
	/* clang-format on */
	mirad_cli_print_exit_help();
}

static void
load_profile_or_die(const char *name, struct augment_profile *p)
{
	char err[1024];

	if (augment_profile_load(name, p, err, sizeof err) != 0)
		mirad_die(MIRAD_EXIT_USAGE, "%s", err);
}

static void
list_profiles(void)
{
	for (size_t i = 0; i < augment_builtin_count(); i++) {
		struct augment_profile p;

		load_profile_or_die(augment_builtin_name(i), &p);
		printf("%-8s %s\n", p.name, p.description);
		augment_profile_free(&p);
	}
}

static int
list_profiles_action(void *target, const char *arg)
{
	(void)target;
	(void)arg;
	list_profiles();
	exit(mirad_close_stdout(MIRAD_EXIT_OK));
}

static int
list_effects_action(void *target, const char *arg)
{
	(void)target;
	(void)arg;
	augment_list_effects(stdout);
	exit(mirad_close_stdout(MIRAD_EXIT_OK));
}

static int
explain_arg(void *target, const char *arg)
{
	struct augment_profile p;

	(void)target;
	load_profile_or_die(arg, &p);
	augment_profile_explain(&p, stdout);
	augment_profile_free(&p);
	exit(mirad_close_stdout(MIRAD_EXIT_OK));
}

static int
print_profile_arg(void *target, const char *arg)
{
	const char *text = augment_builtin_find(arg);

	(void)target;
	if (text == NULL)
		return -1;
	fputs(text, stdout);
	exit(mirad_close_stdout(MIRAD_EXIT_OK));
}

static int
severity_arg(void *target, const char *arg)
{
	int *severity = target;
	uint64_t u;

	if (strcmp(arg, "all") == 0)
		*severity = -1;
	else if (mirad_cli_parse_uint(arg, 1, 5, &u) == 0)
		*severity = (int)u;
	else
		return -1;
	return 0;
}

static int
seed_arg(void *target, const char *arg)
{
	return augment_parse_seed(arg, target);
}

static void
parse_args(struct options *o, int argc, char **argv)
{
	const struct mirad_cli_opt opts[] = {
	    {MIRAD_CLI_CALL("explain", 0, explain_arg, NULL, NULL)},
	    {MIRAD_CLI_TRUE("force", 'f', &o->force),
	        .how = MIRAD_CLI_MERGE_TAKES},
	    {MIRAD_CLI_UINT(
	        "jobs", 'j', &o->jobs, 1, 256, "bad job count '%s' (1..256)")},
	    {MIRAD_CLI_ACTION("list-effects", 0, list_effects_action, NULL)},
	    {MIRAD_CLI_ACTION("list-profiles", 0, list_profiles_action, NULL)},
	    {MIRAD_CLI_STRING("output", 'o', &o->output),
	        .how = MIRAD_CLI_MERGE_TAKES},
	    {MIRAD_CLI_CALL("print-profile", 0, print_profile_arg, NULL,
	        "no built-in profile '%s' (see --list-profiles)")},
	    {MIRAD_CLI_STRING("profile", 'p', &o->profile)},
	    {MIRAD_CLI_CALL("seed", 0, seed_arg, &o->seed,
	         "bad seed '%s' (decimal or 0x hex, below 2^64)"),
	        .given = &o->have_seed},
	    {MIRAD_CLI_CALL("severity", 's', severity_arg, &o->severity,
	        "bad severity '%s' (1..5 or all)")},
	    {MIRAD_CLI_UINT("variants", 'n', &o->variants, 1, 1000,
	        "bad variant count '%s' (1..1000)")},
	    {.name = NULL},
	};
	const struct mirad_cli_parser p = {.opts = opts,
	    .dataset = &o->in,
	    .merge = &o->merge,
	    .usage = usage};

	mirad_cli_options_parse(&p, argc, argv);
	if (o->merge.requested) {
		o->parts = mirad_cli_merge_parts(&o->merge, o->output, true,
		    "shard folders", argc, argv, &o->nparts);
		return;
	}
	o->shard_index = o->merge.shard_index;
	o->shard_count = o->merge.shard_count;
	if (o->profile == NULL)
		mirad_usage_error("--profile is required (a built-in name, "
		                  "see --list-profiles, or a JSON file)");
	if (o->output == NULL)
		mirad_usage_error("-o OUT is required (the folder to create)");
	if (argc - optind > 1)
		mirad_usage_error("one input expected, got %d", argc - optind);
	o->input = optind < argc ? argv[optind] : "-";
}

static void
merge_progress(uint64_t n)
{
	mirad_progress_add(n);
}

/* mirad-augment --merge -o OUT PART... */
static int
merge_main(const struct options *o)
{
	struct mirad_shard_set set;
	struct mirad_shard_merge m;
	struct mirad_shard_place_options po = {
	    mirad_signal_pending, merge_progress};
	char err[1024] = "";
	int status, out_status;
	size_t written_n = 0, skipped = 0;

	mirad_signal_install();
	status = mirad_shard_load((const char *const *)o->parts,
	    (size_t)o->nparts, "mirad-augment", &set, err, sizeof err);
	if (status != 0)
		mirad_die(MIRAD_EXIT_FATAL, "%s",
		    mirad_cli_shard_advice(status, err, sizeof err));
	if (mirad_shard_check_output(&set, o->output, err, sizeof err) != 0) {
		mirad_shard_set_free(&set);
		mirad_die(MIRAD_EXIT_USAGE, "%s", err);
	}
	status = set.status;
	/* The single run's warnings, in its order. */
	for (size_t i = 0; i < set.total; i++) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(
		    set.entries[i].data, "problem");

		if (set.entries[i].record != NULL)
			written_n++;
		if (cJSON_IsString(p)) {
			mirad_warn("%s; skipped", p->valuestring);
			status = MIRAD_EXIT_PARTIAL;
			skipped++;
		}
	}
	if (mirad_cli_merge_begin(
	        &m, o->output, o->force, &set, err, sizeof err) != 0) {
		mirad_shard_set_free(&set);
		mirad_die(MIRAD_EXIT_FATAL, "%s", err);
	}
	mirad_progress_start("merging", set.nfiles);
	if (mirad_shard_merge_place(&m, &set, &po, err, sizeof err) != 0 ||
	    mirad_signal_pending()) {
		mirad_progress_end();
		mirad_shard_merge_abort(&m);
		mirad_shard_set_free(&set);
		if (mirad_signal_pending())
			mirad_signal_reraise();
		mirad_die(MIRAD_EXIT_FATAL, "%s", err);
	}
	mirad_progress_end();
	if (mirad_shard_merge_publish(&m, err, sizeof err) != 0) {
		mirad_shard_set_free(&set);
		mirad_die(MIRAD_EXIT_FATAL, "%s", err);
	}
	if (mirad_shard_remove_parts(&set) > 0)
		mirad_warn("some files of the shard folders could not be "
		           "removed");
	(void)mirad_shard_write_records(&set, stdout);
	if (isatty(STDERR_FILENO))
		mirad_note("%s: %zu images written, %zu skipped (from %u "
		           "shards)",
		    o->output, written_n, skipped, set.count);
	mirad_shard_set_free(&set);
	out_status = mirad_close_stdout(status);
	if (out_status != status)
		mirad_warn("%s: the dataset was published; only its manifest "
		           "on standard output is incomplete",
		    o->output);
	return out_status;
}

int
main(int argc, char **argv)
{
	struct options o = {0};
	struct augment_profile profile;
	struct mirad_recordset records = {0};
	struct mirad_dataset_info info;
	struct augment_run run = {0};
	char err[1024], job[65];
	size_t rendered = 0;
	char *target;
	int status = MIRAD_EXIT_OK, out_status, refusal, rc, lock_errno;
	struct mirad_outdir *out;

	mirad_set_progname(argv[0]);
	/* Two malloc arenas: with one per libvips worker thread and
	 * full-size float buffers ~70 MiB more stayed resident (measured:
	 * 224 vs 159 MiB peak). */
	mirad_keep_freed_memory(2);
	o.variants = 1;
	o.in.scan.read_sizes = false;
	o.in.scan.problem = mirad_report_problem;
	parse_args(&o, argc, argv);
	/* A closed standard output is a write error to report (after the
	 * cleanup), not a kill that leaves the lock behind. */
	signal(SIGPIPE, SIG_IGN);
	if (o.merge.requested)
		return merge_main(&o);
	load_profile_or_die(o.profile, &profile);

	target = mirad_path_absolute(o.output);
	if (target == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", o.output);
	if (mirad_image_init(argv[0], 0, err, sizeof err) != 0)
		mirad_die(MIRAD_EXIT_FATAL, "cannot start libvips: %s", err);
	/* Belt and braces: the chain is all-float, but keep libvips off its
	 * vector path so no operation depends on orc. */
	vips_vector_set_enabled(FALSE);

	mirad_signal_install();
	/* One run per output: a second one is told, not interleaved.  The
	 * lock comes before looking at OUT, so two runs cannot both find it
	 * missing; what a killed run left beside OUT is swept once it is
	 * ours. */
	rc = mirad_outdir_lock(&out, target, o.force ? MIRAD_OUTDIR_FORCE : 0);
	lock_errno = errno;
	/* The transaction keeps its own copy, which the run borrows. */
	free(target);
	if (rc != MIRAD_OUTDIR_OK)
		mirad_die_errno(MIRAD_EXIT_FATAL, lock_errno,
		    "%s: cannot lock (another mirad-augment writing it?)",
		    o.output);

	mirad_dataset_show_as_given(o.input);
	rc = mirad_dataset_load(
	    o.input, &o.in, &records, &info, err, sizeof err);
	if (rc != 0) {
		stop_if_interrupted();
		mirad_die(MIRAD_EXIT_FATAL, "%s",
		    mirad_cli_dataset_advice(rc, err, sizeof err));
	}
	stop_if_interrupted();
	if (info.scan.problems > 0 || info.bad_lines > 0)
		status = MIRAD_EXIT_PARTIAL;
	if (mirad_dataset_check_output(
	        o.input, &o.in, &records, o.output, true, err, sizeof err) != 0)
		mirad_die(MIRAD_EXIT_USAGE, "%s", err);
	refusal = mirad_outdir_check(out);
	if (refusal != MIRAD_OUTDIR_OK)
		mirad_die(MIRAD_EXIT_FATAL, "%s",
		    mirad_cli_output_refusal(
		        refusal, o.output, err, sizeof err));
	/* The same image twice in one split is augmented once; both
	 * records of an image in two splits (a leak) stay as given. */
	if (mirad_cli_report_duplicates(
	        o.input, &records, &info, " (augmented once)") > 0)
		status = MIRAD_EXIT_PARTIAL;

	run.profile = &profile;
	run.run_seed = o.have_seed ? o.seed : profile.seed;
	run.sev_lo = run.sev_hi =
	    o.severity > 0 ? o.severity : profile.severity;
	if (o.severity < 0)
		run.sev_lo = 1, run.sev_hi = 5;
	run.variants = o.variants;
	run.shard_index = o.shard_index;
	run.shard_count = o.shard_count;
	run.target = mirad_outdir_target(out);
	if (augment_run_plan(&run, &records) > 0) {
		for (size_t i = 0; i < records.count; i++) {
			const struct mirad_record *r = records.items[i];

			if (run.image_rels[i] != NULL)
				continue;
			mirad_warn("%s: absolute or '..' path and category "
			           "'%s' is no folder name: cannot place it "
			           "under the output; skipped",
			    r->image, r->category ? r->category : "");
		}
		status = MIRAD_EXIT_PARTIAL;
	}
	if (o.shard_count > 0)
		augment_run_fingerprint(&run, &records, job);

	if (mirad_outdir_make_temp(out) != MIRAD_OUTDIR_OK)
		mirad_die(
		    MIRAD_EXIT_FATAL, "%s: %s", o.output, strerror(errno));
	run.tmpdir = mirad_outdir_temp(out);
	mirad_progress_start("augmenting", run.njobs);
	augment_run_render_all(&run, o.jobs);
	mirad_progress_end();
	/* Interrupted: leave no partial output and no lock behind. */
	stop_if_interrupted();

	for (size_t i = 0; i < run.njobs; i++) {
		const struct augment_job *j = &run.jobs[i];

		if (j->fatal)
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s (nothing was published)", j->problem);
		if (j->line != NULL)
			rendered++;
	}
	for (size_t i = 0; i < run.njobs; i++)
		if (run.jobs[i].problem != NULL) {
			mirad_warn("%s; skipped", run.jobs[i].problem);
			status = MIRAD_EXIT_PARTIAL;
		}
	/* (A shard's images may all fail, or it may have none: the merge
	 * decides.) */
	if (rendered == 0 && o.shard_count == 0)
		mirad_die(MIRAD_EXIT_FATAL,
		    "%s: no image could be augmented; nothing was published",
		    o.input);
	if (o.shard_count > 0) {
		if (augment_run_write_shard(
		        &run, job, status, err, sizeof err) != 0)
			mirad_die(MIRAD_EXIT_FATAL, "%s", err);
	} else if (mirad_output_mark(run.tmpdir, "mirad-augment") != 0) {
		mirad_die(
		    MIRAD_EXIT_FATAL, "%s: %s", o.output, strerror(errno));
	}
	stop_if_interrupted();
	if (mirad_outdir_commit(out) != MIRAD_OUTDIR_OK)
		mirad_die(MIRAD_EXIT_FATAL, "%s: %s (nothing was published)",
		    o.output, strerror(errno));
	for (size_t i = 0; i < run.njobs; i++)
		if (run.jobs[i].line != NULL)
			printf("%s\n", run.jobs[i].line);
	out_status = mirad_close_stdout(status);
	if (out_status != status)
		mirad_warn("%s: the dataset was published; only its manifest "
		           "on standard output is incomplete",
		    o.output);
	augment_run_free(&run);
	cJSON_Delete(info.header);
	free(info.duplicates);
	mirad_recordset_clear(&records);
	augment_profile_free(&profile);
	mirad_image_shutdown();
	return out_status;
}
