/* SPDX-License-Identifier: MIT */
/*
 * mirad-convert: rewrite a dataset (MIRAD, MVTec AD, VisA raw or prepared,
 * or a manifest) into another layout, and write the list files other
 * frameworks read.  This file parses the options and dispatches: the run
 * is in convert_run.c, the --merge of shards in convert_merge.c.
 */
#include "mirad_platform.h"

#include <getopt.h>
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_merge.h"
#include "convert_run.h"
#include "mirad_cli.h"
#include "mirad_err.h"
#include "mirad_formats.h"

enum {
	OPT_FROM = 256,
	OPT_TO,
	OPT_SPLIT_TYPE,
	OPT_ANOMALIB,
	OPT_EMIT,
	OPT_LINK,
	OPT_RESIZE,
	OPT_IMAGE_FORMAT,
	OPT_QUALITY,
	OPT_CATEGORIES,
	OPT_MAPPING,
	OPT_STRICT,
	OPT_NO_VERIFY,
};

static void
usage(void)
{
	/* clang-format off */
	fputs(
"Usage: mirad-convert [OPTION]... --to=LAYOUT -o OUT [DATASET|MANIFEST|-]\n"
"       mirad-convert [OPTION]... --emit=LIST -o OUT [DATASET|MANIFEST|-]\n"
"       mirad-convert --merge [-f] -o OUT PART...\n"
"Convert a dataset (a MIRAD, MVTec AD or VisA tree, or a manifest) to another\n"
"layout under OUT, built in a temporary folder and renamed into place.\n"
"Write the list files other frameworks read with --emit (alongside the tree,\n"
"or alone without --to), and a manifest of every written file on stdout.\n"
"With no input, or when it is -, read a manifest from standard input.\n"
"\n"
"  -o, --output=DIR        the folder to create\n"
"      --to=LAYOUT         mvtec, mirad, visa (raw, with split_csv/) or\n"
"                          visa-prepared (like VisA's prepare_data.py)\n"
"      --layout=NAME       force the input layout: mirad, mvtec, visa,\n"
"                          visa-prepared (default: detected)\n"
"      --from=NAME         deprecated spelling of --layout\n"
"      --split-csv=FILE    VisA input: take the split from FILE\n"
"      --split-type=NAME   visa-prepared: the folder above the classes and\n"
"                          visa: the split file name (default: the\n"
"                          --split-csv name, else 1cls); 2cls* names give\n"
"                          the two-class structure\n"
"      --anomalib          visa-prepared: write visa_pytorch/<class> as\n"
"                          anomalib's Visa datamodule expects\n"
"      --root=DIR          resolve relative manifest paths against DIR\n"
"      --emit=LIST         also write these lists into OUT (comma-separated):\n"
"                          jsonl, visa-csv, tabular-csv, uniad, meta-json\n"
"      --link=MODE         for unchanged files: auto (hard link on the same\n"
"                          filesystem, else copy), copy, hardlink, symlink\n"
"      --resize=N|WxH      resize images (antialiased) and masks (nearest)\n"
"                          to N x N or W x H pixels\n"
"      --image-format=FMT  keep, png or jpg (default: png for mvtec, else\n"
"                          keep)\n"
"      --quality=N         JPEG quality for written .jpg images (default 95)\n"
"      --categories=LIST   only these categories (comma-separated)\n"
"      --mapping=FILE      write the source,target name map (CSV) to FILE\n"
"      --strict            stop at the first bad image (status 3)\n"
"      --no-verify         do not decode images that are only linked/copied\n"
"      --shard=I/N         convert only the images of shard I of N (0 <= I\n"
"                          < N), or 'slurm'; each shard writes its own OUT\n"
"      --merge             join the OUT folders of all --shard runs of one\n"
"                          job into OUT, as one run would have written it\n"
"  -j, --jobs=N            process N files at a time (default: CPU count)\n"
"  -f, --force             replace OUT if it exists\n"
"      --progress          show progress on stderr even when not a terminal\n"
"      --no-progress       never show progress\n"
"  -q, --quiet             print errors only\n"
"  -h, --help              print this help and exit\n"
"  -V, --version           print version information and exit\n",
	    stdout);
	/* clang-format on */
	mirad_cli_print_exit_help();
}

static void
parse_resize(struct convert *c, const char *arg)
{
	const char *x = strchr(arg, 'x');
	uint64_t w, h;

	if (x == NULL) {
		if (mirad_cli_parse_uint(arg, 1, 65535, &w) != 0)
			goto bad;
		h = w;
	} else {
		char *ws = g_strndup(arg, (gsize)(x - arg));
		int rc = mirad_cli_parse_uint(ws, 1, 65535, &w);

		g_free(ws);
		if (rc != 0 || mirad_cli_parse_uint(x + 1, 1, 65535, &h) != 0)
			goto bad;
	}
	c->pixels.resize_width = (int)w;
	c->pixels.resize_height = (int)h;
	return;
bad:
	mirad_usage_error("bad --resize '%s' (N or WxH, 1..65535 pixels)", arg);
}

static void
parse_emit(struct convert *c, const char *arg)
{
	struct mirad_strlist l;

	if (mirad_strlist_split(arg, &l) != 0)
		mirad_usage_error("bad --emit '%s'", arg);
	for (size_t i = 0; i < l.count; i++) {
		enum mirad_format f;

		if (mirad_format_from_name(l.items[i], &f) != 0)
			mirad_usage_error("unknown --emit format '%s' (jsonl, "
			                  "visa-csv, tabular-csv, uniad, "
			                  "meta-json)",
			    l.items[i]);
		c->emit[f] = true;
		c->any_emit = true;
	}
	mirad_strlist_free(&l);
}

static void
parse_args(struct convert *c, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"anomalib", no_argument, NULL, OPT_ANOMALIB},
	    {"categories", required_argument, NULL, OPT_CATEGORIES},
	    {"emit", required_argument, NULL, OPT_EMIT},
	    {"force", no_argument, NULL, 'f'},
	    {"from", required_argument, NULL, OPT_FROM},
	    {"image-format", required_argument, NULL, OPT_IMAGE_FORMAT},
	    {"jobs", required_argument, NULL, 'j'},
	    {"link", required_argument, NULL, OPT_LINK},
	    {"mapping", required_argument, NULL, OPT_MAPPING},
	    {"no-verify", no_argument, NULL, OPT_NO_VERIFY},
	    {"output", required_argument, NULL, 'o'},
	    {"quality", required_argument, NULL, OPT_QUALITY},
	    {"resize", required_argument, NULL, OPT_RESIZE},
	    {"split-type", required_argument, NULL, OPT_SPLIT_TYPE},
	    {"strict", no_argument, NULL, OPT_STRICT},
	    {"to", required_argument, NULL, OPT_TO},
	    MIRAD_CLI_SHARD_LONGOPTS,
	    MIRAD_CLI_COMMON_LONGOPTS,
	    MIRAD_CLI_DATASET_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	uint64_t v;
	int ch;

	int longidx;

	opterr = 0;
	for (;;) {
		longidx = -1;
		ch = getopt_long(argc, argv, ":fhj:o:qV", longopts, &longidx);
		if (ch == -1)
			break;
		if (mirad_cli_merge_option(
		        &c->merge, ch, longidx, longopts, NULL, NULL))
			continue;
		switch (ch) {
		case 'o':
			c->output = optarg;
			break;
		case 'f':
			c->force = true;
			break;
		case 'j':
			if (mirad_cli_parse_uint(optarg, 1, 256, &v) != 0)
				mirad_usage_error(
				    "bad --jobs '%s' (1..256)", optarg);
			c->jobs = (unsigned)v;
			break;
		case OPT_FROM: /* the deprecated spelling of --layout */
			if (mirad_layout_from_name(
			        optarg, &c->in.scan.layout) != 0 ||
			    c->in.scan.layout == MIRAD_LAYOUT_AUTO)
				mirad_usage_error("unknown layout '%s' (mirad, "
				                  "mvtec, visa, visa-prepared)",
				    optarg);
			break;
		case OPT_TO:
			if (convert_target_from_name(optarg, &c->plan.target) !=
			    0)
				mirad_usage_error("unknown target '%s' (mvtec, "
				                  "mirad, visa, visa-prepared)",
				    optarg);
			break;
		case OPT_SPLIT_TYPE:
			if (!convert_plan_safe_name(optarg))
				mirad_usage_error(
				    "bad --split-type '%s' (a folder name)",
				    optarg);
			c->split_type = optarg;
			break;
		case OPT_ANOMALIB:
			c->anomalib = true;
			break;
		case OPT_EMIT:
			parse_emit(c, optarg);
			break;
		case OPT_LINK:
			if (convert_link_from_name(optarg, &c->pixels.link) !=
			    0)
				mirad_usage_error("unknown --link '%s' (auto, "
				                  "copy, hardlink, symlink)",
				    optarg);
			break;
		case OPT_RESIZE:
			parse_resize(c, optarg);
			break;
		case OPT_IMAGE_FORMAT:
			if (strcmp(optarg, "keep") == 0)
				c->image_format = IMAGE_FORMAT_KEEP;
			else if (strcmp(optarg, "png") == 0)
				c->image_format = IMAGE_FORMAT_PNG;
			else if (strcmp(optarg, "jpg") == 0)
				c->image_format = IMAGE_FORMAT_JPG;
			else
				mirad_usage_error("unknown --image-format '%s' "
				                  "(keep, png, jpg)",
				    optarg);
			break;
		case OPT_QUALITY:
			if (mirad_cli_parse_uint(optarg, 1, 100, &v) != 0)
				mirad_usage_error(
				    "bad --quality '%s' (1..100)", optarg);
			c->pixels.jpeg_quality = (int)v;
			break;
		case OPT_CATEGORIES:
			mirad_strlist_free(&c->categories);
			if (mirad_strlist_split(optarg, &c->categories) != 0)
				mirad_usage_error(
				    "bad --categories '%s'", optarg);
			break;
		case OPT_MAPPING:
			c->mapping = optarg;
			break;
		case OPT_STRICT:
			c->strict = true;
			break;
		case OPT_NO_VERIFY:
			c->pixels.verify = false;
			break;
		default:
			mirad_cli_common_option(ch, argv, usage, &c->in);
		}
	}
	if (c->merge.requested) {
		c->parts = mirad_cli_merge_parts(&c->merge, c->output, true,
		    "shard folders", argc, argv, &c->nparts);
		return;
	}
	c->shard_index = c->merge.shard_index;
	c->shard_count = c->merge.shard_count;
	if (argc - optind > 1)
		mirad_usage_error("one input expected, got %d", argc - optind);
	c->input = optind < argc ? argv[optind] : "-";
	if (c->output == NULL)
		mirad_usage_error("no output folder (-o OUT)");
	if (c->plan.target == CONVERT_TO_NONE && !c->any_emit)
		mirad_usage_error("nothing to do: give --to=LAYOUT (mvtec, "
		                  "mirad, visa, visa-prepared) or --emit=LIST");
	if (c->anomalib && c->plan.target != CONVERT_TO_VISA_PREPARED)
		mirad_usage_error("--anomalib needs --to=visa-prepared");
	if (c->plan.target == CONVERT_TO_NONE &&
	    (c->pixels.resize_width > 0 || c->image_format != 0 ||
	        c->mapping != NULL))
		mirad_usage_error(
		    "--resize, --image-format and --mapping need --to");
}

int
main(int argc, char **argv)
{
	struct convert c = {0};

	mirad_set_progname(argv[0]);
	mirad_keep_freed_memory(0);
	c.in.scan.read_sizes = false;
	c.in.scan.problem = mirad_report_problem;
	c.pixels.jpeg_quality = 95;
	c.pixels.verify = true;
	parse_args(&c, argc, argv);
	/* A closed standard output is a write error to report, not a kill
	 * that leaves the lock behind. */
	signal(SIGPIPE, SIG_IGN);
	if (c.merge.requested)
		return convert_merge(&c);
	return convert_run(&c, argv[0]);
}
