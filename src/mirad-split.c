/* SPDX-License-Identifier: MIT */
/*
 * mirad-split: describe a dataset as a manifest (JSON Lines, one record per
 * image) on stdout.  Reads a dataset directory, a manifest file or "-".
 */
#include "mirad_platform.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mirad_cli.h"
#include "mirad_dataset.h"
#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_image.h"
#include "mirad_manifest.h"
#include "mirad_progress.h"
#include "mirad_version.h"

enum {
	OPT_LAYOUT = 256,
	OPT_SPLIT_CSV,
	OPT_ROOT,
	OPT_NO_SIZES,
	OPT_PROGRESS,
	OPT_NO_PROGRESS,
};

struct split {
	struct mirad_dataset_options in;
	const char *output;
	const char *input;
};

static void
usage(void)
{
	/* clang-format off */
	fputs(
"Usage: mirad-split [OPTION]... [DATASET|MANIFEST|-]\n"
"Describe a dataset (a MIRAD, MVTec AD or VisA tree, or a manifest) as a\n"
"manifest: JSON Lines, one record per image, on standard output.\n"
"With no input, or when it is -, read a manifest from standard input.\n"
"\n"
"  -o, --output=FILE      write the manifest to FILE (atomically) instead\n"
"                         of standard output\n"
"      --layout=NAME      force the layout: mirad, mvtec, visa, visa-prepared\n"
"      --split-csv=FILE   VisA: take the split from FILE\n"
"                         (default <root>/split_csv/1cls.csv)\n"
"      --root=DIR         resolve relative manifest paths against DIR\n"
"      --no-sizes         do not read image headers (no sizes, no mask size\n"
"                         check)\n"
"      --progress         show progress on stderr even when not a terminal\n"
"      --no-progress      never show progress\n"
"  -q, --quiet            print errors only\n"
"  -h, --help             print this help and exit\n"
"  -V, --version          print version information and exit\n",
	    stdout);
	/* clang-format on */
	mirad_cli_print_exit_help();
}

static void
parse_args(struct split *s, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"help", no_argument, NULL, 'h'},
	    {"layout", required_argument, NULL, OPT_LAYOUT},
	    {"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
	    {"no-sizes", no_argument, NULL, OPT_NO_SIZES},
	    {"output", required_argument, NULL, 'o'},
	    {"progress", no_argument, NULL, OPT_PROGRESS},
	    {"quiet", no_argument, NULL, 'q'},
	    {"root", required_argument, NULL, OPT_ROOT},
	    {"split-csv", required_argument, NULL, OPT_SPLIT_CSV},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":ho:qV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			usage();
			exit(mirad_close_stdout(MIRAD_EXIT_OK));
		case 'V':
			mirad_version_print(stdout);
			exit(mirad_close_stdout(MIRAD_EXIT_OK));
		case 'o':
			s->output = optarg;
			break;
		case 'q':
			mirad_set_quiet(true);
			mirad_progress_set_mode(MIRAD_PROGRESS_OFF);
			break;
		case OPT_LAYOUT:
			if (mirad_layout_from_name(
			        optarg, &s->in.scan.layout) != 0)
				mirad_usage_error("unknown layout '%s' (mirad, "
				                  "mvtec, visa, visa-prepared)",
				    optarg);
			break;
		case OPT_SPLIT_CSV:
			s->in.scan.split_csv = optarg;
			break;
		case OPT_ROOT:
			s->in.root = optarg;
			break;
		case OPT_NO_SIZES:
			s->in.scan.read_sizes = false;
			break;
		case OPT_PROGRESS:
			mirad_progress_set_mode(MIRAD_PROGRESS_ON);
			break;
		case OPT_NO_PROGRESS:
			mirad_progress_set_mode(MIRAD_PROGRESS_OFF);
			break;
		case ':':
			mirad_usage_error(
			    "option '%s' needs an argument", argv[optind - 1]);
		default:
			if (optopt != 0)
				mirad_usage_error(
				    "unknown option '-%c'", optopt);
			mirad_usage_error(
			    "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind > 1)
		mirad_usage_error("one input expected, got %d", argc - optind);
	s->input = optind < argc ? argv[optind] : "-";
}

int
main(int argc, char **argv)
{
	struct split s = {0};
	struct mirad_recordset records = {0};
	struct mirad_dataset_info info;
	struct mirad_outfile *out;
	char err[1024];
	int status = MIRAD_EXIT_OK;
	FILE *f;

	mirad_set_progname(argv[0]);
	s.in.scan.read_sizes = true;
	s.in.scan.problem = mirad_report_problem;
	parse_args(&s, argc, argv);

	if (mirad_image_init(argv[0], 0, err, sizeof err) != 0)
		mirad_die(MIRAD_EXIT_FATAL, "cannot start libvips: %s", err);
	mirad_progress_start("scanning", 0);
	if (mirad_dataset_load(
	        s.input, &s.in, &records, &info, err, sizeof err) != 0) {
		mirad_progress_end();
		mirad_die(MIRAD_EXIT_FATAL, "%s", err);
	}
	mirad_progress_end();
	if (info.scan.problems > 0 || info.bad_lines > 0)
		status = MIRAD_EXIT_PARTIAL;

	out = mirad_outfile_open(s.output ? s.output : "-");
	if (out == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", s.output);
	f = mirad_outfile_stream(out);
	for (size_t i = 0; i < records.count; i++) {
		if (mirad_record_write(f, records.items[i]) != 0)
			break;
	}
	if (mirad_outfile_commit(out) != 0)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s",
		    s.output ? s.output : "error writing standard output");
	if (!info.from_manifest && isatty(STDERR_FILENO))
		mirad_note("%s: %zu images (%s layout), %zu files ignored, "
		           "%zu problems",
		    s.input, records.count, mirad_layout_name(info.scan.layout),
		    info.scan.ignored, info.scan.problems);
	cJSON_Delete(info.header);
	mirad_recordset_clear(&records);
	mirad_image_shutdown();
	return mirad_close_stdout(status);
}
