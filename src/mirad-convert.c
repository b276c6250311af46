/* SPDX-License-Identifier: MIT */
/*
 * mirad-convert: rewrite a dataset (MIRAD, MVTec AD, VisA raw or prepared,
 * or a manifest) into another layout, and write the list files other
 * frameworks read.  The specification is layouts.md section 10.
 *
 * The run has three steps.  Every record is named in input order as if all
 * succeed, and the records are processed concurrently into those files in a
 * private folder; then the survivors are named again in the same order and,
 * where a failure left a gap, renamed (so neither failures nor thread timing
 * change the naming rule); finally the folder is published with one rename.
 */
#include "mirad_platform.h"

#include <errno.h>
#include <getopt.h>
#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "convert_pixels.h"
#include "convert_plan.h"
#include "mirad_cli.h"
#include "mirad_csv.h"
#include "mirad_dataset.h"
#include "mirad_err.h"
#include "mirad_formats.h"
#include "mirad_fs.h"
#include "mirad_image.h"
#include "mirad_manifest.h"
#include "mirad_progress.h"
#include "mirad_signal.h"
#include "mirad_version.h"

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

enum image_format {
	IMAGE_FORMAT_DEFAULT = 0, /* png for mvtec, else keep */
	IMAGE_FORMAT_KEEP,
	IMAGE_FORMAT_PNG,
	IMAGE_FORMAT_JPG
};

struct convert {
	struct mirad_dataset_options in;
	const char *input;
	const char *output;
	const char *split_type;
	const char *mapping;
	bool anomalib, force, strict;
	unsigned jobs;
	enum image_format image_format;
	struct mirad_strlist categories;
	bool emit[MIRAD_FORMAT_META_JSON + 1];
	bool any_emit;
	struct convert_plan_options plan;
	struct convert_pixel_options pixels;

	/* run state */
	char *abs_output;
	char *tmp; /* the private folder published as OUT */
	int lock_fd;
	struct convert_item *items;
	size_t nitems;
	atomic_size_t next;
	atomic_bool stop;
	size_t bad;
};

static void
usage(void)
{
	/* clang-format off */
	fputs(
"Usage: mirad-convert [OPTION]... --to=LAYOUT -o OUT [DATASET|MANIFEST|-]\n"
"       mirad-convert [OPTION]... --emit=LIST -o OUT [DATASET|MANIFEST|-]\n"
"Convert a dataset (a MIRAD, MVTec AD or VisA tree, or a manifest) to another\n"
"layout under OUT, built in a temporary folder and renamed into place.\n"
"Write the list files other frameworks read with --emit (alongside the tree,\n"
"or alone without --to), and a manifest of every written file on stdout.\n"
"With no input, or when it is -, read a manifest from standard input.\n"
"\n"
"  -o, --output=DIR        the folder to create\n"
"      --to=LAYOUT         mvtec, mirad, visa (raw, with split_csv/) or\n"
"                          visa-prepared (like VisA's prepare_data.py)\n"
"      --from=LAYOUT       force the input layout: mirad, mvtec, visa,\n"
"                          visa-prepared (default: detected)\n"
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
	    {"root", required_argument, NULL, MIRAD_OPT_ROOT},
	    {"split-csv", required_argument, NULL, MIRAD_OPT_SPLIT_CSV},
	    {"split-type", required_argument, NULL, OPT_SPLIT_TYPE},
	    {"strict", no_argument, NULL, OPT_STRICT},
	    {"to", required_argument, NULL, OPT_TO},
	    MIRAD_CLI_COMMON_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	uint64_t v;
	int ch;

	opterr = 0;
	while (
	    (ch = getopt_long(argc, argv, ":fhj:o:qV", longopts, NULL)) != -1) {
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
		case OPT_FROM:
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

/* ---- planning --------------------------------------------------------- */

/* The split name: --split-type, else the --split-csv file's stem. */
static void
choose_split_type(struct convert *c)
{
	static char from_csv[256];

	if (c->split_type == NULL && c->in.scan.split_csv != NULL) {
		char *stem = mirad_path_stem(c->in.scan.split_csv);

		if (convert_plan_safe_name(stem)) {
			snprintf(from_csv, sizeof from_csv, "%s", stem);
			c->split_type = from_csv;
		}
		free(stem);
	}
	if (c->split_type == NULL)
		c->split_type = "1cls";
}

static void
plan_items(struct convert *c, struct mirad_recordset *records)
{
	const char *ext_png = ".png", *ext_jpg = ".jpg";
	bool train_anomaly = false;

	for (size_t i = 0; i < records->count; i++) {
		const struct mirad_record *r = records->items[i];

		if (mirad_record_is_anomaly(r) && r->split &&
		    strcmp(r->split, "train") == 0)
			train_anomaly = true;
	}
	c->plan.two_class =
	    strncmp(c->split_type, "2cls", 4) == 0 || train_anomaly;
	c->plan.prefix = c->anomalib ? "visa_pytorch" : c->split_type;
	if (c->image_format == IMAGE_FORMAT_DEFAULT)
		c->image_format = c->plan.target == CONVERT_TO_MVTEC
		    ? IMAGE_FORMAT_PNG
		    : IMAGE_FORMAT_KEEP;

	c->items = mirad_xcalloc(
	    records->count ? records->count : 1, sizeof *c->items);
	c->nitems = records->count;
	for (size_t i = 0; i < records->count; i++) {
		struct convert_item *it = &c->items[i];
		const struct mirad_record *r = records->items[i];
		const char *src_ext = mirad_path_ext(r->image);
		const char *want;
		char why[512];

		it->src = r;
		if (c->plan.target == CONVERT_TO_NONE)
			continue;
		if (convert_plan_folders(&c->plan, it, why, sizeof why) != 0) {
			char *p = mirad_record_path(r, r->image);

			it->error = mirad_xasprintf("%s: %s", p, why);
			free(p);
			continue;
		}
		switch (c->image_format) {
		case IMAGE_FORMAT_PNG:
			want = ext_png;
			break;
		case IMAGE_FORMAT_JPG:
			want = ext_jpg;
			break;
		default:
			want = src_ext;
		}
		it->transcode = c->pixels.resize_width > 0 ||
		    !convert_pixels_same_format(src_ext, want);
		/* Renamed outputs get a lower-case extension; visa-prepared
		 * keeps the original name (and its ".JPG") when the bytes
		 * do not change. */
		if (c->plan.target == CONVERT_TO_VISA_PREPARED &&
		    convert_pixels_same_format(src_ext, want))
			it->out_ext = mirad_xstrdup(src_ext);
		else if (convert_pixels_same_format(want, ext_jpg))
			it->out_ext = mirad_xstrdup(ext_jpg);
		else
			it->out_ext = g_ascii_strdown(want, -1);
	}
}

/* ---- processing ------------------------------------------------------- */

static void *
worker(void *arg)
{
	struct convert *c = arg;

	for (;;) {
		size_t i = atomic_fetch_add(&c->next, 1);
		struct convert_item *it;
		char *img, *msk;

		if (i >= c->nitems || atomic_load(&c->stop) ||
		    mirad_signal_pending())
			break;
		it = &c->items[i];
		if (it->image_dir == NULL) /* not planned: reported later */
			continue;
		img = mirad_path_join(c->tmp, it->planned_image_rel);
		msk = it->planned_mask_rel
		    ? mirad_path_join(c->tmp, it->planned_mask_rel)
		    : NULL;
		if (convert_pixels_record(&c->pixels, it, img, msk) != 0 &&
		    (c->strict || it->fatal))
			atomic_store(&c->stop, true);
		free(img);
		free(msk);
		mirad_progress_add(1);
	}
	/* Threads of our own that used libvips release its per-thread
	 * state. */
	vips_thread_shutdown();
	return NULL;
}

static void
run_workers(struct convert *c)
{
	unsigned n = c->jobs;
	pthread_t *threads;
	unsigned started = 0;

	if (n == 0) {
		long cpus = sysconf(_SC_NPROCESSORS_ONLN);

		n = cpus > 0 ? (unsigned)cpus : 1;
	}
	if (n > c->nitems && c->nitems > 0)
		n = (unsigned)c->nitems;
	threads = mirad_xcalloc(n ? n : 1, sizeof *threads);
	mirad_progress_start("converting", c->nitems);
	for (unsigned t = 0; t < n; t++) {
		if (pthread_create(&threads[t], NULL, worker, c) != 0)
			break;
		started++;
	}
	if (started == 0) /* no threads: do the work here */
		worker(c);
	for (unsigned t = 0; t < started; t++)
		pthread_join(threads[t], NULL);
	mirad_progress_end();
	free(threads);
}

/* ---- cleanup on failure ----------------------------------------------- */

static void
abandon(struct convert *c)
{
	if (c->tmp != NULL) {
		mirad_rm_rf(c->tmp);
		free(c->tmp);
		c->tmp = NULL;
	}
	if (c->lock_fd >= 0) {
		mirad_lock_release(c->lock_fd, c->output);
		c->lock_fd = -1;
	}
}

MIRAD_NORETURN static void die_cleanly(struct convert *c, const char *fmt, ...)
    MIRAD_PRINTF(2, 3);

MIRAD_NORETURN static void
die_cleanly(struct convert *c, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	abandon(c);
	mirad_die(MIRAD_EXIT_FATAL, "%s", msg);
}

static void
check_signal(struct convert *c)
{
	if (mirad_signal_pending()) {
		abandon(c);
		mirad_signal_reraise();
	}
}

/* ---- naming and placing ----------------------------------------------- */

/* Create the planned folders (serially, before the threads start). */
static void
make_dirs(struct convert *c)
{
	GHashTable *made =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, NULL);

	for (size_t i = 0; i < c->nitems; i++) {
		const char *dirs[2] = {
		    c->items[i].image_dir, c->items[i].mask_dir};

		for (int k = 0; k < 2; k++) {
			char *p;

			if (dirs[k] == NULL ||
			    g_hash_table_contains(made, dirs[k]))
				continue;
			p = mirad_path_join(c->tmp, dirs[k]);
			if (mirad_mkdir_p(p) != 0)
				die_cleanly(c, "%s: %s", p, strerror(errno));
			free(p);
			g_hash_table_add(made, (gpointer)dirs[k]);
		}
	}
	g_hash_table_destroy(made);
}

static void
rename_in_tmp(struct convert *c, const char *from_rel, const char *from_suffix,
    const char *to_rel, const char *to_suffix)
{
	char *from = mirad_xasprintf("%s/%s%s", c->tmp, from_rel, from_suffix);
	char *to = mirad_xasprintf("%s/%s%s", c->tmp, to_rel, to_suffix);

	if (rename(from, to) != 0)
		die_cleanly(c, "%s: %s", from, strerror(errno));
	free(from);
	free(to);
}

/* Folders whose every file failed would look like empty defect types. */
static void
remove_empty_dirs(struct convert *c)
{
	for (size_t i = 0; i < c->nitems; i++) {
		const char *dirs[2] = {
		    c->items[i].image_dir, c->items[i].mask_dir};

		if (c->items[i].done)
			continue;
		for (int k = 0; k < 2; k++) {
			char *p;

			if (dirs[k] == NULL)
				continue;
			p = mirad_path_join(c->tmp, dirs[k]);
			(void)rmdir(p); /* fails unless empty: fine */
			free(p);
		}
	}
}

/*
 * Final names for the survivors.  Where a failure shifted them, move the
 * files in two passes (planned -> planned~ -> final), so no move can land
 * on a file that has not moved yet.
 */
static void
rename_survivors(struct convert *c)
{
	convert_plan_names(&c->plan, c->items, c->nitems, false);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < c->nitems; i++) {
			struct convert_item *it = &c->items[i];
			const char *from[2] = {
			    it->planned_image_rel, it->planned_mask_rel};
			const char *to[2] = {it->image_rel, it->mask_rel};

			if (!it->done)
				continue;
			for (int k = 0; k < 2; k++) {
				if (to[k] == NULL ||
				    strcmp(from[k], to[k]) == 0)
					continue;
				if (pass == 0)
					rename_in_tmp(
					    c, from[k], "", from[k], "~");
				else
					rename_in_tmp(
					    c, from[k], "~", to[k], "");
			}
		}
	}
}

/* ---- outputs ---------------------------------------------------------- */

/* The output records (in input order), rooted at the final OUT. */
static void
output_records(struct convert *c, struct mirad_recordset *out)
{
	for (size_t i = 0; i < c->nitems; i++) {
		struct convert_item *it = &c->items[i];
		const struct mirad_record *s = it->src;
		struct mirad_record *r;
		char *src;

		if (c->plan.target == CONVERT_TO_NONE) {
			mirad_recordset_push(out, mirad_record_clone(s));
			continue;
		}
		if (!it->done)
			continue;
		r = mirad_record_clone(s);
		src = mirad_record_path(s, s->image);
		mirad_record_put_string(r, "source", src);
		free(src);
		if (s->mask != NULL && it->mask_rel != NULL) {
			src = mirad_record_path(s, s->mask);
			mirad_record_put_string(r, "source_mask", src);
			free(src);
		}
		mirad_record_set(&r->root, c->abs_output);
		mirad_record_set(&r->image, it->image_rel);
		mirad_record_set(&r->mask, it->mask_rel);
		{
			/* The defect is the folder the image went to. */
			char *dir = mirad_path_dirname(it->image_rel);
			const char *leaf = mirad_path_basename(dir);

			if (c->plan.target == CONVERT_TO_MIRAD ||
			    c->plan.target == CONVERT_TO_MVTEC)
				mirad_record_set(&r->defect, leaf);
			free(dir);
		}
		r->width = it->width;
		r->height = it->height;
		r->channels = it->channels;
		mirad_recordset_push(out, r);
	}
}

static void
write_list(struct convert *c, const char *rel, enum mirad_format fmt,
    const struct mirad_recordset *records, const char *split, const char *base)
{
	struct mirad_format_options fo = {base};
	char *path = mirad_path_join(c->tmp, rel);
	char *dir = mirad_path_dirname(path);
	struct mirad_outfile *f;
	char err[512];

	if (mirad_mkdir_p(dir) != 0)
		die_cleanly(c, "%s: %s", dir, strerror(errno));
	f = mirad_outfile_open(path);
	if (f == NULL)
		die_cleanly(c, "%s: %s", path, strerror(errno));
	if (mirad_format_write_split(mirad_outfile_stream(f), fmt, records,
	        split, &fo, err, sizeof err) != 0) {
		mirad_outfile_abort(f);
		die_cleanly(c, "%s: %s", rel, err);
	}
	if (mirad_outfile_commit(f) != 0)
		die_cleanly(c, "%s: %s", path, strerror(errno));
	free(dir);
	free(path);
}

/*
 * The list files inside the tree.  Paths in them are relative to OUT, or,
 * without a tree (--emit alone), to the dataset's root.
 */
static void
write_lists(struct convert *c, const struct mirad_recordset *records)
{
	const char *base = c->abs_output;
	char *split_file;

	if (c->plan.target == CONVERT_TO_NONE) {
		base = records->count ? records->items[0]->root : NULL;
		for (size_t i = 0; i < records->count; i++) {
			const char *root = records->items[i]->root;

			if (root == NULL || base == NULL ||
			    strcmp(root, base) != 0)
				die_cleanly(c,
				    "--emit without --to needs records under "
				    "one root folder");
		}
	}
	split_file = mirad_xasprintf("split_csv/%s.csv", c->split_type);
	/* VisA tooling reads the raw tree through its split file. */
	if (c->emit[MIRAD_FORMAT_VISA_CSV] || c->plan.target == CONVERT_TO_VISA)
		write_list(
		    c, split_file, MIRAD_FORMAT_VISA_CSV, records, NULL, base);
	if (c->emit[MIRAD_FORMAT_JSONL])
		write_list(c, "manifest.jsonl", MIRAD_FORMAT_JSONL, records,
		    NULL, base);
	if (c->emit[MIRAD_FORMAT_TABULAR_CSV])
		write_list(c, "tabular.csv", MIRAD_FORMAT_TABULAR_CSV, records,
		    NULL, base);
	if (c->emit[MIRAD_FORMAT_META_JSON])
		write_list(c, "meta.json", MIRAD_FORMAT_META_JSON, records,
		    NULL, base);
	/* UniAD reads train.json and test.json. */
	if (c->emit[MIRAD_FORMAT_UNIAD]) {
		write_list(c, "train.json", MIRAD_FORMAT_UNIAD, records,
		    "train", base);
		write_list(
		    c, "test.json", MIRAD_FORMAT_UNIAD, records, "test", base);
	}
	free(split_file);
}

/* image_anno.csv per VisA class: image,label,mask with defect names, so a
 * round trip keeps them. */
static void
write_visa_anno(struct convert *c, const struct mirad_recordset *records)
{
	struct mirad_outfile *f = NULL;
	const char *cls = NULL;
	char *path = NULL;

	for (size_t i = 0; i <= records->count; i++) {
		const struct mirad_record *r =
		    i < records->count ? records->items[i] : NULL;

		if (f != NULL && (r == NULL || strcmp(r->category, cls) != 0)) {
			if (mirad_outfile_commit(f) != 0)
				die_cleanly(c, "%s: %s", path, strerror(errno));
			f = NULL;
			free(path);
			path = NULL;
		}
		if (r == NULL)
			break;
		if (f == NULL) {
			static const char *const head[] = {
			    "image", "label", "mask"};
			char *rel =
			    mirad_xasprintf("%s/image_anno.csv", r->category);

			path = mirad_path_join(c->tmp, rel);
			free(rel);
			cls = r->category;
			f = mirad_outfile_open(path);
			if (f == NULL)
				die_cleanly(c, "%s: %s", path, strerror(errno));
			mirad_csv_write_row(
			    mirad_outfile_stream(f), head, 3, false);
		}
		{
			const char *row[3] = {r->image,
			    mirad_record_is_anomaly(r)
			        ? (r->defect ? r->defect : "anomaly")
			        : "normal",
			    r->mask ? r->mask : ""};

			mirad_csv_write_row(
			    mirad_outfile_stream(f), row, 3, false);
		}
	}
}

static void
write_mapping(struct convert *c)
{
	struct mirad_outfile *f = mirad_outfile_open(c->mapping);
	static const char *const head[] = {"source", "target"};
	FILE *s;

	if (f == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", c->mapping);
	s = mirad_outfile_stream(f);
	mirad_csv_write_row(s, head, 2, false);
	for (size_t i = 0; i < c->nitems; i++) {
		struct convert_item *it = &c->items[i];
		const struct mirad_record *r = it->src;
		char *src;

		if (!it->done)
			continue;
		src = mirad_record_path(r, r->image);
		mirad_csv_write_row(
		    s, (const char *const[]){src, it->image_rel}, 2, false);
		free(src);
		if (it->mask_rel != NULL) {
			src = mirad_record_path(r, r->mask);
			mirad_csv_write_row(s,
			    (const char *const[]){src, it->mask_rel}, 2, false);
			free(src);
		}
	}
	if (mirad_outfile_commit(f) != 0)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", c->mapping);
}

/* libvips' warnings ("not enough data", "error in tile") repeat the
 * failure each record reports anyway, in thread order: drop them. */
static void
drop_vips_warning(const gchar *domain, GLogLevelFlags level,
    const gchar *message, gpointer data)
{
	(void)domain;
	(void)level;
	(void)message;
	(void)data;
}

/* ---- main ------------------------------------------------------------- */

static void
select_categories(struct convert *c, struct mirad_recordset *records)
{
	size_t kept = 0;

	if (c->categories.count == 0)
		return;
	for (size_t k = 0; k < c->categories.count; k++) {
		bool found = false;

		for (size_t i = 0; i < records->count && !found; i++)
			found = strcmp(records->items[i]->category,
			            c->categories.items[k]) == 0;
		if (!found)
			mirad_die(MIRAD_EXIT_USAGE,
			    "--categories: no category '%s' in %s",
			    c->categories.items[k], c->input);
	}
	for (size_t i = 0; i < records->count; i++) {
		if (mirad_strlist_contains(
		        &c->categories, records->items[i]->category))
			records->items[kept++] = records->items[i];
		else
			mirad_record_free(records->items[i]);
	}
	records->count = kept;
}

/* Refuse to write into the input: with --force the input would go. */
static void
check_not_input(struct convert *c)
{
	bool inside;
	char *in;
	size_t n;

	if (strcmp(c->input, "-") == 0 || !mirad_is_dir(c->input))
		return;
	in = mirad_path_absolute(c->input);
	if (in == NULL)
		return;
	n = strlen(c->abs_output);
	inside = strcmp(in, c->abs_output) == 0 ||
	    (strncmp(in, c->abs_output, n) == 0 && in[n] == '/');
	free(in);
	if (inside)
		mirad_die(MIRAD_EXIT_USAGE,
		    "%s: the output folder would replace the input", c->output);
}

int
main(int argc, char **argv)
{
	struct convert c = {0};
	struct mirad_recordset records = {0}, out = {0};
	struct mirad_dataset_info info;
	char err[1024];
	int status = MIRAD_EXIT_OK;
	size_t written = 0;

	mirad_set_progname(argv[0]);
	c.lock_fd = -1;
	c.in.scan.read_sizes = false;
	c.in.scan.problem = mirad_report_problem;
	c.pixels.jpeg_quality = 95;
	c.pixels.verify = true;
	parse_args(&c, argc, argv);
	choose_split_type(&c);
	c.abs_output = mirad_path_absolute(c.output);
	if (c.abs_output == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", c.output);
	check_not_input(&c);

	/* Our threads each run one image pipeline: libvips' own worker
	 * threads would only compete with them for the cores. */
	if (mirad_image_init(argv[0], 1, err, sizeof err) != 0)
		mirad_die(MIRAD_EXIT_FATAL, "cannot start libvips: %s", err);
	convert_pixels_init();
	g_log_set_handler("VIPS", G_LOG_LEVEL_WARNING | G_LOG_LEVEL_MESSAGE,
	    drop_vips_warning, NULL);
	mirad_signal_install();

	if (mirad_dataset_load(
	        c.input, &c.in, &records, &info, err, sizeof err) != 0)
		mirad_die(MIRAD_EXIT_FATAL, "%s", err);
	if (info.scan.problems > 0 || info.bad_lines > 0)
		status = MIRAD_EXIT_PARTIAL;
	if (c.strict && status != MIRAD_EXIT_OK)
		mirad_die(MIRAD_EXIT_FATAL,
		    "%s: problems in the input (--strict)", c.input);
	select_categories(&c, &records);
	if (records.count == 0)
		mirad_die(MIRAD_EXIT_FATAL, "%s: no images", c.input);
	plan_items(&c, &records);

	/* Take the lock before looking at OUT, so two runs cannot both see
	 * it missing. */
	c.lock_fd = mirad_lock_acquire(c.output);
	if (c.lock_fd < 0)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno,
		    "%s: cannot lock (another mirad-convert writing it?)",
		    c.output);
	/* The lock is ours: what killed runs left beside OUT is stale. */
	(void)mirad_remove_stale_temps(c.output);
	if (mirad_exists(c.output) && !c.force) {
		abandon(&c);
		mirad_die(MIRAD_EXIT_FATAL,
		    "%s: exists (use --force to replace)", c.output);
	}
	c.tmp = mirad_tmpdir_beside(c.output);
	if (c.tmp == NULL) {
		int e = errno;

		abandon(&c);
		mirad_die_errno(MIRAD_EXIT_FATAL, e, "%s", c.output);
	}
	if (c.plan.target != CONVERT_TO_NONE) {
		convert_plan_names(&c.plan, c.items, c.nitems, true);
		make_dirs(&c);
		run_workers(&c);
	}
	check_signal(&c);
	/* A write error (a full disk) is the output's fault, not the input's:
	 * stop without publishing, the previous OUT stays. */
	for (size_t i = 0; i < c.nitems; i++) {
		const char *e = c.items[i].error;
		size_t n = strlen(c.tmp);

		if (!c.items[i].fatal)
			continue;
		if (strncmp(e, c.tmp, n) == 0 && e[n] == '/')
			die_cleanly(&c, "%s%s (nothing was published)",
			    c.output, e + n);
		die_cleanly(&c, "%s (nothing was published)", e);
	}

	/* Report in record order, whatever the threads did first. */
	for (size_t i = 0; i < c.nitems; i++) {
		struct convert_item *it = &c.items[i];

		if (c.plan.target == CONVERT_TO_NONE)
			break;
		if (it->done) {
			written++;
			continue;
		}
		if (it->error == NULL) /* not reached after --strict stop */
			continue;
		c.bad++;
		if (c.strict)
			die_cleanly(&c, "%s (--strict)", it->error);
		mirad_warn("%s", it->error);
	}
	for (size_t i = 0; i < c.nitems && c.plan.target != CONVERT_TO_NONE;
	     i++) {
		const struct mirad_record *r = c.items[i].src;

		/* A manifest does not go through the scanner's check. */
		if (info.from_manifest && c.items[i].done &&
		    mirad_record_is_anomaly(r) && r->mask == NULL)
			mirad_warn("%s: anomaly without a mask (written "
			           "without ground truth)",
			    r->image);
	}
	if (c.bad > 0)
		status = MIRAD_EXIT_PARTIAL;
	if (c.plan.target != CONVERT_TO_NONE && written == 0)
		die_cleanly(&c, "%s: no image could be converted", c.input);

	rename_survivors(&c);
	remove_empty_dirs(&c);
	output_records(&c, &out);
	write_lists(&c, &out);
	if (c.plan.target == CONVERT_TO_VISA)
		write_visa_anno(&c, &out);
	check_signal(&c);

	if (mirad_dir_publish(c.tmp, c.output, c.force) != 0) {
		int e = errno;

		die_cleanly(&c, "%s: %s", c.output, strerror(e));
	}
	free(c.tmp);
	c.tmp = NULL;
	mirad_lock_release(c.lock_fd, c.output);
	c.lock_fd = -1;
	if (c.mapping != NULL)
		write_mapping(&c);

	for (size_t i = 0; i < out.count; i++) {
		if (mirad_record_write(stdout, out.items[i]) != 0)
			break;
	}
	if (isatty(STDERR_FILENO))
		mirad_note("%s: %zu images written, %zu skipped", c.output,
		    written, c.bad);

	for (size_t i = 0; i < c.nitems; i++)
		convert_item_clear(&c.items[i]);
	free(c.items);
	free(c.abs_output);
	mirad_strlist_free(&c.categories);
	cJSON_Delete(info.header);
	mirad_recordset_clear(&out);
	mirad_recordset_clear(&records);
	mirad_image_shutdown();
	return mirad_close_stdout(status);
}
