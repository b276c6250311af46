/* SPDX-License-Identifier: MIT */
/*
 * mirad-convert: rewrite a dataset (MIRAD, MVTec AD, VisA raw or prepared,
 * or a manifest) into another layout, and write the list files other
 * frameworks read.  This file parses the options and dispatches: the run
 * is in convert_run.c, the --merge of shards in convert_merge.c.
 */
#include "mirad_platform.h"

#include <unistd.h> /* optind */
#include <glib.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "convert_merge.h"
#include "convert_run.h"
#include "mirad_cli.h"
#include "mirad_cli_options.h"
#include "mirad_err.h"
#include "mirad_formats.h"

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
"  -f, --force             replace OUT if it exists\n",
	    stdout);
	/* clang-format on */
	mirad_cli_print_shared_help(26);
	mirad_cli_print_exit_help();
}

static int
resize_arg(void *target, const char *arg)
{
	struct convert *c = target;
	const char *x = strchr(arg, 'x');
	uint64_t w, h;

	if (x == NULL) {
		if (mirad_cli_parse_uint(arg, 1, 65535, &w) != 0)
			return -1;
		h = w;
	} else {
		char *ws = g_strndup(arg, (gsize)(x - arg));
		int rc = mirad_cli_parse_uint(ws, 1, 65535, &w);

		g_free(ws);
		if (rc != 0 || mirad_cli_parse_uint(x + 1, 1, 65535, &h) != 0)
			return -1;
	}
	c->pixels.resize_width = (int)w;
	c->pixels.resize_height = (int)h;
	return 0;
}

static int
emit_arg(void *target, const char *arg)
{
	struct convert *c = target;
	struct mirad_strlist l;

	if (mirad_strlist_split(arg, &l) != 0)
		return -1;
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
	return 0;
}

/* --from, the deprecated spelling of --layout, names a layout. */
static int
from_arg(void *target, const char *arg)
{
	enum mirad_layout *layout = target;

	if (mirad_layout_from_name(arg, layout) != 0 ||
	    *layout == MIRAD_LAYOUT_AUTO)
		return -1;
	return 0;
}

static int
to_arg(void *target, const char *arg)
{
	return convert_target_from_name(arg, target);
}

static int
link_arg(void *target, const char *arg)
{
	return convert_link_from_name(arg, target);
}

static int
split_type_arg(void *target, const char *arg)
{
	if (!convert_plan_safe_name(arg))
		return -1;
	*(const char **)target = arg;
	return 0;
}

static int
categories_arg(void *target, const char *arg)
{
	mirad_strlist_free(target);
	return mirad_strlist_split(arg, target);
}

static void
parse_args(struct convert *c, int argc, char **argv)
{
	static const char *const image_formats[] = {"keep", "png", "jpg", NULL};
	static const int image_format_values[] = {
	    IMAGE_FORMAT_KEEP, IMAGE_FORMAT_PNG, IMAGE_FORMAT_JPG};
	const struct mirad_cli_opt opts[] = {
	    {MIRAD_CLI_TRUE("anomalib", 0, &c->anomalib)},
	    {MIRAD_CLI_CALL("categories", 0, categories_arg, &c->categories,
	        "bad --categories '%s'")},
	    {MIRAD_CLI_CALL("emit", 0, emit_arg, c, "bad --emit '%s'")},
	    {MIRAD_CLI_TRUE("force", 'f', &c->force),
	        .how = MIRAD_CLI_MERGE_TAKES},
	    {MIRAD_CLI_CALL("from", 0, from_arg, &c->in.scan.layout,
	        MIRAD_CLI_LAYOUT_ERROR)},
	    {MIRAD_CLI_CHOICE("image-format", 0, &c->image_format,
	        image_formats, image_format_values,
	        "unknown --image-format '%s' (keep, png, jpg)")},
	    {MIRAD_CLI_UINT(
	        "jobs", 'j', &c->jobs, 1, 256, "bad --jobs '%s' (1..256)")},
	    {MIRAD_CLI_CALL("link", 0, link_arg, &c->pixels.link,
	        "unknown --link '%s' (auto, copy, hardlink, symlink)")},
	    {MIRAD_CLI_STRING("mapping", 0, &c->mapping)},
	    {MIRAD_CLI_FALSE("no-verify", 0, &c->pixels.verify)},
	    {MIRAD_CLI_STRING("output", 'o', &c->output),
	        .how = MIRAD_CLI_MERGE_TAKES},
	    {MIRAD_CLI_UINT("quality", 0, &c->pixels.jpeg_quality, 1, 100,
	        "bad --quality '%s' (1..100)")},
	    {MIRAD_CLI_CALL("resize", 0, resize_arg, c,
	        "bad --resize '%s' (N or WxH, 1..65535 pixels)")},
	    {MIRAD_CLI_CALL("split-type", 0, split_type_arg, &c->split_type,
	        "bad --split-type '%s' (a folder name)")},
	    {MIRAD_CLI_TRUE("strict", 0, &c->strict)},
	    {MIRAD_CLI_CALL("to", 0, to_arg, &c->plan.target,
	        "unknown target '%s' (mvtec, mirad, visa, visa-prepared)")},
	    {.name = NULL},
	};
	const struct mirad_cli_parser p = {.opts = opts,
	    .dataset = &c->in,
	    .merge = &c->merge,
	    .usage = usage};

	mirad_cli_options_parse(&p, argc, argv);
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
