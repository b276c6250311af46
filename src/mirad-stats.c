/* SPDX-License-Identifier: MIT */
/*
 * mirad-stats: the statistical overview of a dataset, as in the MIRAD
 * paper's table: per category the training images, test normal, test
 * abnormal and defect types, and a total row.  With options, the imaging
 * heterogeneity (brightness, contrast, sharpness, noise, backgrounds, sizes
 * and the DR/DI/DB/DV flags) and the defect geometry measured from the
 * pixels, PNG charts, a sample mosaic, and mergeable partial statistics.
 */
#include "mirad_platform.h"

#include <errno.h>
#include <unistd.h> /* optind */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirad_cli.h"
#include "mirad_cli_options.h"
#include "mirad_dataset.h"
#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_image.h"
#include "mirad_manifest.h"
#include "mirad_progress.h"
#include "mirad_signal.h"
#include "mirad_version.h"
#include "stats_report.h"
#include "stats_run.h"
#include "stats_shards.h"

static void
usage(void)
{
	/* clang-format off */
	fputs(
"Usage: mirad-stats [OPTION]... [DATASET|MANIFEST|-]\n"
"  or:  mirad-stats --merge [OPTION]... PARTIAL...\n"
"Print the statistical overview of a dataset (MIRAD, MVTec AD, VisA or a\n"
"manifest): per category the training images, test normal, test abnormal\n"
"and defect types, and a total row; with --imaging and --geometry also the\n"
"imaging heterogeneity (with the DV, DI, DR, DB flags) and the defect\n"
"geometry measured from the pixels.\n"
"With no input, or when it is -, read a manifest from standard input.\n"
"\n"
"  -F, --format=FMT       md (default), csv, json or tex\n"
"  -o, --output=FILE      write the table (or --partial) to FILE, replaced\n"
"                         atomically, instead of standard output\n"
"      --imaging          measure brightness, contrast, sharpness, noise,\n"
"                         backgrounds and sizes; print the flags\n"
"      --geometry         measure the defect masks (area, regions)\n"
"  -a, --all              both --imaging and --geometry\n"
"      --by=KEY           group by category (default), node, split, defect\n"
"                         or variant\n"
"      --categories=LIST  only these categories (comma-separated)\n"
"      --defects=FILE     CSV of image,defect giving the defect type of\n"
"                         anomalies in pooled folders (test/anomaly)\n"
"      --nodes=FILE       CSV of image,node for records without a node\n"
"                         (default with --by=node: DATASET/nodes.csv)\n"
"      --html=FILE        write the dataset report, one self-contained HTML\n"
"                         page (tables, flags, charts, mosaic, problems)\n"
"      --plots=DIR        write PNG charts into DIR\n"
"      --plot-size=WxH    size of each chart (default 640x400)\n"
"      --mosaic=FILE      write a PNG grid of sample images per group\n"
"      --mosaic-per=N     images per group in the mosaic (default 4)\n"
"      --mosaic-tile=PX   cell size of the mosaic (default 128)\n"
"      --mosaic-masks     tint the defects of anomalies red in the mosaic\n"
"      --partial          print mergeable partial statistics (JSON)\n"
"      --merge            read partial files and print the merged result\n"
"      --shard=I/N        process only shard I of N (or 'slurm')\n"
"  -j, --jobs=N           measure N images at a time (default: CPUs)\n"
"      --layout=NAME      force the layout: mirad, mvtec, visa, visa-prepared\n"
"      --split-csv=FILE   VisA: take the split from FILE\n"
"      --root=DIR         resolve relative manifest paths against DIR\n"
"      --check-sizes      also read image and mask headers and report masks\n"
"                         whose size differs from their image (default:\n"
"                         counts from directory entries only)\n",
	    stdout);
	/* clang-format on */
	mirad_cli_print_shared_help(25);
	mirad_cli_print_exit_help();
}

static int
all_action(void *target, const char *arg)
{
	struct stats *s = target;

	(void)arg;
	s->imaging = s->geometry = true;
	return 0;
}

static int
by_arg(void *target, const char *arg)
{
	return stats_by_from_name(arg, target);
}

static int
plot_size_arg(void *target, const char *arg)
{
	struct stats *s = target;
	unsigned w, h;
	char extra;

	if (sscanf(arg, "%ux%u%c", &w, &h, &extra) != 2 || w < 64 || h < 64 ||
	    w > 10000 || h > 10000)
		return -1;
	s->plot_w = (int)w;
	s->plot_h = (int)h;
	return 0;
}

static void
parse_args(struct stats *s, int argc, char **argv)
{
	static const char *const formats[] = {"md", "csv", "json", "tex", NULL};
	static const int format_values[] = {
	    MIRAD_TABLE_MD, MIRAD_TABLE_CSV, MIRAD_TABLE_JSON, MIRAD_TABLE_TEX};
	/* What the merge prints: the tables, with the measures the partials
	 * hold or add, and the charts and page made from them.  What only
	 * shapes a report, which a partial file is not, --partial refuses. */
	const unsigned merged = MIRAD_CLI_MERGE_TAKES;
	const unsigned report = MIRAD_CLI_PARTIAL_REFUSES;
	const struct mirad_cli_opt opts[] = {
	    {MIRAD_CLI_ACTION("all", 'a', all_action, s), .how = merged},
	    {MIRAD_CLI_CALL("by", 0, by_arg, &s->by,
	         "unknown grouping '%s' (category, node, split, defect, "
	         "variant)"),
	        .given = &s->by_given, .how = merged},
	    {MIRAD_CLI_CALL("categories", 0, mirad_cli_categories_arg,
	         &s->categories, MIRAD_CLI_CATEGORIES_ERROR),
	        .how = merged},
	    {MIRAD_CLI_STRING("defects", 0, &s->defects_file), .how = merged},
	    {MIRAD_CLI_TRUE("check-sizes", 0, &s->in.scan.read_sizes)},
	    {MIRAD_CLI_CHOICE("format", 'F', &s->format, formats, format_values,
	         "unknown format '%s' (md, csv, json, tex)"),
	        .how = merged | report},
	    {MIRAD_CLI_TRUE("geometry", 0, &s->geometry), .how = merged},
	    {MIRAD_CLI_STRING("html", 0, &s->html), .how = merged | report},
	    {MIRAD_CLI_TRUE("imaging", 0, &s->imaging), .how = merged},
	    {MIRAD_CLI_UINT("jobs", 'j', &s->jobs, 1, 256,
	        "invalid --jobs '%s' (1 to 256)")},
	    {MIRAD_CLI_STRING("mosaic", 0, &s->mosaic), .how = report},
	    {MIRAD_CLI_TRUE("mosaic-masks", 0, &s->mosaic_masks),
	        .how = report},
	    {MIRAD_CLI_UINT("mosaic-per", 0, &s->mosaic_per, 1, 100,
	         "invalid --mosaic-per '%s' (1 to 100)"),
	        .how = report},
	    {MIRAD_CLI_UINT("mosaic-tile", 0, &s->mosaic_tile, 16, 2048,
	         "invalid --mosaic-tile '%s' (16 to 2048)"),
	        .how = report},
	    {MIRAD_CLI_STRING("nodes", 0, &s->nodes_file)},
	    {MIRAD_CLI_STRING("output", 'o', &s->output), .how = merged},
	    {MIRAD_CLI_CALL("plot-size", 0, plot_size_arg, s,
	         "invalid plot size '%s' (WxH, 64 to 10000 each)"),
	        .how = merged | report},
	    {MIRAD_CLI_STRING("plots", 0, &s->plots_dir),
	        .how = merged | report},
	    {.name = NULL},
	};
	const struct mirad_cli_parser p = {.opts = opts,
	    .dataset = &s->in,
	    .merge = &s->merge_rule,
	    .partial = true,
	    .usage = usage};

	mirad_cli_options_parse(&p, argc, argv);
	s->merge = s->merge_rule.requested;
	if (s->merge) {
		s->inputs = mirad_cli_merge_parts(&s->merge_rule, s->output,
		    false, "partial files", argc, argv, &s->ninputs);
		return;
	}
	if (argc - optind > 1)
		mirad_usage_error("one input expected, got %d", argc - optind);
	mirad_cli_partial_check(&s->merge_rule);
	s->partial = s->merge_rule.partial;
	s->shard_index = s->merge_rule.shard_index;
	s->shard_count = s->merge_rule.shard_count;
	s->input = optind < argc ? argv[optind] : "-";
}

int
main(int argc, char **argv)
{
	struct stats s = {0};
	struct mirad_recordset records = {0};
	struct mirad_dataset_info info = {0};
	struct mirad_outfile *outfile;
	FILE *out;
	char err[1024];
	int status = MIRAD_EXIT_OK, rc;

	mirad_set_progname(argv[0]);
	/* Over a file-size limit, a write error to report, not a kill. */
	mirad_signal_ignore_file_limits();
	/* Counting needs directory entries only. */
	s.in.scan.read_sizes = false;
	s.in.scan.problem = mirad_report_problem;
	s.plot_w = 640;
	s.plot_h = 400;
	s.mosaic_per = 4;
	s.mosaic_tile = 128;
	s.format = MIRAD_TABLE_MD;
	parse_args(&s, argc, argv);

	/* Counts and --check-sizes read headers at most, which need no
	 * libvips (a header of an unusual format starts it). */
	if (!stats_measuring(&s) && s.mosaic == NULL)
		mirad_image_init_lazy(argv[0], 0);
	else if (stats_pixels_load()->init(argv[0], 0, err, sizeof err) != 0)
		mirad_die(MIRAD_EXIT_FATAL, "cannot start libvips: %s", err);
	if (s.merge) {
		stats_merge_inputs(&s);
		if (s.categories.count > 0 &&
		    stats_entries_keep_categories(
		        &s.entries, &s.categories, err, sizeof err) != 0)
			mirad_die(MIRAD_EXIT_USAGE, "%s", err);
	} else {
		mirad_progress_start("scanning", 0);
		mirad_dataset_show_as_given(s.input);
		rc = mirad_dataset_load(
		    s.input, &s.in, &records, &info, err, sizeof err);
		if (rc != 0) {
			mirad_progress_end();
			mirad_die(MIRAD_EXIT_FATAL, "%s",
			    mirad_cli_dataset_advice(rc, err, sizeof err));
		}
		mirad_progress_end();
		/* Charts and the mosaic must not land in, or on, the
		 * dataset. */
		if ((s.plots_dir != NULL &&
		        mirad_dataset_check_output(s.input, &s.in, &records,
		            s.plots_dir, false, err, sizeof err) != 0) ||
		    (s.mosaic != NULL &&
		        mirad_dataset_check_output(s.input, &s.in, &records,
		            s.mosaic, false, err, sizeof err) != 0) ||
		    (s.output != NULL &&
		        mirad_dataset_check_output_file(s.input, &s.in,
		            &records, s.output, err, sizeof err) != 0))
			mirad_die(MIRAD_EXIT_USAGE, "%s", err);
		if (info.scan.problems > 0 || info.bad_lines > 0)
			status = MIRAD_EXIT_PARTIAL;
		if (mirad_cli_report_duplicates(
		        s.input, &records, &info, " (counted once)") > 0)
			status = MIRAD_EXIT_PARTIAL;
		if (s.categories.count > 0 &&
		    stats_records_keep_categories(
		        &records, &s.categories, err, sizeof err) != 0)
			mirad_die(MIRAD_EXIT_USAGE, "%s", err);
		stats_build_entries(&s, &records);
		if (stats_measuring(&s))
			stats_measure_all(&s);
	}
	stats_entries_sort(&s.entries);
	if (s.defects_file) {
		long unused = stats_entries_apply_defects(
		    &s.entries, s.defects_file, err, sizeof err);

		if (unused < 0)
			mirad_die(MIRAD_EXIT_FATAL, "%s", err);
		if (unused > 0)
			mirad_warn("%s: %ld listed images are not in the input "
			           "(ignored)",
			    s.defects_file, unused);
	}
	if (s.by == STATS_BY_NODE && !s.partial) {
		size_t lost = stats_entries_without_node(&s.entries);

		if (lost > 0)
			mirad_warn("%zu of %zu images have no node (no node "
			           "field in the records and none in --nodes "
			           "FILE): grouped as 'unknown'",
			    lost, s.entries.count);
	}
	/* Failed measures, also those recorded in partial files, so that a
	 * merge reports and exits like the single run. */
	for (size_t i = 0; i < s.entries.count; i++)
		if (s.entries.items[i].error) {
			mirad_warn("%s", s.entries.items[i].error);
			status = MIRAD_EXIT_PARTIAL;
		}

	/* -o FILE: written under a temporary name, renamed at the end, so a
	 * failed run keeps the old FILE and concurrent runs each write a
	 * whole file (the last rename wins). */
	outfile = mirad_outfile_open(s.output ? s.output : "-");
	if (outfile == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", s.output);
	out = mirad_outfile_stream(outfile);
	if (s.partial)
		stats_print_partial(&s, out);
	else if (stats_write_reports(&s, out) != 0)
		status = MIRAD_EXIT_FATAL;

	if (s.output == NULL || status == MIRAD_EXIT_FATAL) {
		/* Standard output is checked by mirad_close_stdout(); FILE is
		 * kept as it was when the charts or the mosaic failed. */
		mirad_outfile_abort(outfile);
	} else if (mirad_outfile_commit(outfile) != 0) {
		mirad_warn("%s: %s", s.output, strerror(errno));
		status = MIRAD_EXIT_FATAL;
	}
	stats_run_free(&s);
	cJSON_Delete(info.header);
	free(info.duplicates);
	mirad_recordset_clear(&records);
	mirad_image_shutdown();
	return mirad_close_stdout(status);
}
