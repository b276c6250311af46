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
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
#include "stats_html.h"
#include "stats_plot.h"
#include "stats_report.h"
#include "stats_table.h"

enum {
	OPT_CHECK_SIZES = 256,
	OPT_FORMAT,
	OPT_IMAGING,
	OPT_GEOMETRY,
	OPT_BY,
	OPT_NODES,
	OPT_PLOTS,
	OPT_PLOT_SIZE,
	OPT_MOSAIC,
	OPT_MOSAIC_PER,
	OPT_MOSAIC_TILE,
	OPT_MOSAIC_MASKS,
	OPT_PARTIAL,
	OPT_MERGE,
	OPT_SHARD,
	OPT_CATEGORIES,
	OPT_DEFECTS,
	OPT_HTML,
};

enum format {
	FORMAT_MD,
	FORMAT_CSV,
	FORMAT_JSON,
	FORMAT_TEX
};

struct stats {
	struct mirad_dataset_options in;
	enum format format;
	const char *input;
	const char *output; /* -o FILE, else NULL: standard output */
	char **inputs;      /* --merge: the partial files */
	int ninputs;
	bool imaging, geometry, partial, merge, mosaic_masks;
	enum stats_by by;
	const char *nodes_file;
	const char *plots_dir;
	int plot_w, plot_h;
	const char *mosaic;
	int mosaic_per, mosaic_tile;
	unsigned shard_index, shard_count;
	int jobs;
	struct stats_entries entries;
	struct mirad_strlist categories; /* --categories; empty: all */
	const char *defects_file;        /* --defects FILE or NULL */
	const char *html;                /* --html FILE or NULL */
	struct stats_table table;
};

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
"  -f, --format=FMT       md (default), csv, json or tex\n"
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
"                         counts from directory entries only)\n"
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
parse_args(struct stats *s, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"all", no_argument, NULL, 'a'},
	    {"by", required_argument, NULL, OPT_BY},
	    {"categories", required_argument, NULL, OPT_CATEGORIES},
	    {"defects", required_argument, NULL, OPT_DEFECTS},
	    {"check-sizes", no_argument, NULL, OPT_CHECK_SIZES},
	    {"format", required_argument, NULL, 'f'},
	    {"geometry", no_argument, NULL, OPT_GEOMETRY},
	    {"html", required_argument, NULL, OPT_HTML},
	    {"imaging", no_argument, NULL, OPT_IMAGING},
	    {"jobs", required_argument, NULL, 'j'},
	    {"merge", no_argument, NULL, OPT_MERGE},
	    {"mosaic", required_argument, NULL, OPT_MOSAIC},
	    {"mosaic-masks", no_argument, NULL, OPT_MOSAIC_MASKS},
	    {"mosaic-per", required_argument, NULL, OPT_MOSAIC_PER},
	    {"mosaic-tile", required_argument, NULL, OPT_MOSAIC_TILE},
	    {"nodes", required_argument, NULL, OPT_NODES},
	    {"output", required_argument, NULL, 'o'},
	    {"partial", no_argument, NULL, OPT_PARTIAL},
	    {"plot-size", required_argument, NULL, OPT_PLOT_SIZE},
	    {"plots", required_argument, NULL, OPT_PLOTS},
	    {"shard", required_argument, NULL, OPT_SHARD},
	    MIRAD_CLI_COMMON_LONGOPTS,
	    MIRAD_CLI_DATASET_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	int c;
	uint64_t v;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":af:hj:o:qV", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'a':
			s->imaging = s->geometry = true;
			break;
		case OPT_IMAGING:
			s->imaging = true;
			break;
		case OPT_GEOMETRY:
			s->geometry = true;
			break;
		case OPT_BY:
			if (stats_by_from_name(optarg, &s->by) != 0)
				mirad_usage_error("unknown grouping '%s' "
				                  "(category, node, split, "
				                  "defect, variant)",
				    optarg);
			break;
		case OPT_NODES:
			s->nodes_file = optarg;
			break;
		case OPT_CATEGORIES:
			mirad_strlist_free(&s->categories);
			if (mirad_strlist_split(optarg, &s->categories) != 0 ||
			    s->categories.count == 0)
				mirad_usage_error("--categories takes a "
				                  "comma-separated list of "
				                  "categories, got '%s'",
				    optarg);
			break;
		case OPT_DEFECTS:
			s->defects_file = optarg;
			break;
		case OPT_HTML:
			s->html = optarg;
			break;
		case 'o':
			s->output = optarg;
			break;
		case OPT_PLOTS:
			s->plots_dir = optarg;
			break;
		case OPT_PLOT_SIZE: {
			unsigned w, h;
			char extra;

			if (sscanf(optarg, "%ux%u%c", &w, &h, &extra) != 2 ||
			    w < 64 || h < 64 || w > 10000 || h > 10000)
				mirad_usage_error("invalid plot size '%s' "
				                  "(WxH, 64 to 10000 each)",
				    optarg);
			s->plot_w = (int)w;
			s->plot_h = (int)h;
			break;
		}
		case OPT_MOSAIC:
			s->mosaic = optarg;
			break;
		case OPT_MOSAIC_PER:
			if (mirad_cli_parse_uint(optarg, 1, 100, &v) != 0)
				mirad_usage_error("invalid --mosaic-per '%s' "
				                  "(1 to 100)",
				    optarg);
			s->mosaic_per = (int)v;
			break;
		case OPT_MOSAIC_TILE:
			if (mirad_cli_parse_uint(optarg, 16, 2048, &v) != 0)
				mirad_usage_error("invalid --mosaic-tile '%s' "
				                  "(16 to 2048)",
				    optarg);
			s->mosaic_tile = (int)v;
			break;
		case OPT_MOSAIC_MASKS:
			s->mosaic_masks = true;
			break;
		case OPT_PARTIAL:
			s->partial = true;
			break;
		case OPT_MERGE:
			s->merge = true;
			break;
		case OPT_SHARD:
			if (mirad_cli_parse_shard(
			        optarg, &s->shard_index, &s->shard_count) != 0)
				mirad_usage_error("invalid shard '%s' (I/N "
				                  "with 0 <= I < N, or slurm)",
				    optarg);
			break;
		case 'j':
			if (mirad_cli_parse_uint(optarg, 1, 256, &v) != 0)
				mirad_usage_error(
				    "invalid --jobs '%s' (1 to 256)", optarg);
			s->jobs = (int)v;
			break;
		case 'f':
			if (strcmp(optarg, "md") == 0)
				s->format = FORMAT_MD;
			else if (strcmp(optarg, "csv") == 0)
				s->format = FORMAT_CSV;
			else if (strcmp(optarg, "json") == 0)
				s->format = FORMAT_JSON;
			else if (strcmp(optarg, "tex") == 0)
				s->format = FORMAT_TEX;
			else
				mirad_usage_error("unknown format '%s' (md, "
				                  "csv, json, tex)",
				    optarg);
			break;
		case OPT_CHECK_SIZES:
			s->in.scan.read_sizes = true;
			break;
		default:
			mirad_cli_common_option(c, argv, usage, &s->in);
		}
	}
	if (s->merge) {
		if (optind >= argc)
			mirad_usage_error("--merge needs partial files");
		if (s->partial || s->shard_count > 0 || s->mosaic)
			mirad_usage_error("--merge cannot be used with "
			                  "--partial, --shard or --mosaic");
		s->inputs = argv + optind;
		s->ninputs = argc - optind;
		return;
	}
	if (argc - optind > 1)
		mirad_usage_error("one input expected, got %d", argc - optind);
	if (s->partial && (s->plots_dir || s->mosaic || s->html))
		mirad_usage_error("--partial cannot be used with --plots, "
		                  "--mosaic or --html");
	s->input = optind < argc ? argv[optind] : "-";
}

/* --nodes: image (relative path) -> node.  Returns NULL and warns when
 * FILE cannot be read. */
static GHashTable *
load_nodes(const char *file)
{
	struct mirad_csv *csv = mirad_csv_open(file);
	struct mirad_strlist row = {0};
	GHashTable *map;
	int rc;

	if (csv == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", file);
	map = g_hash_table_new_full(g_str_hash, g_str_equal, free, free);
	while ((rc = mirad_csv_next(csv, &row)) == 1) {
		if (row.count < 2 || strcmp(row.items[1], "node") == 0)
			continue; /* header or short row */
		g_hash_table_replace(map, mirad_xstrdup(row.items[0]),
		    mirad_xstrdup(row.items[1]));
	}
	if (rc < 0)
		mirad_die(MIRAD_EXIT_FATAL, "%s", mirad_csv_error(csv));
	mirad_strlist_free(&row);
	mirad_csv_close(csv);
	return map;
}

/* The node of R: its "node" field (text or number), else NODES. */
static const char *
record_node(
    const struct mirad_record *r, GHashTable *nodes, char *buf, size_t len)
{
	const char *node = mirad_record_get_string(r, "node");
	double num;

	if (node)
		return node;
	if (mirad_record_get_number(r, "node", &num)) {
		snprintf(buf, len, "%g", num);
		return buf;
	}
	return nodes ? g_hash_table_lookup(nodes, r->image) : NULL;
}

static bool
measuring(const struct stats *s)
{
	return s->imaging || s->geometry || s->partial || s->plots_dir ||
	    s->html;
}

static void
build_entries(struct stats *s, const struct mirad_recordset *records)
{
	GHashTable *nodes = NULL;
	char *auto_nodes = NULL;

	if (s->nodes_file) {
		nodes = load_nodes(s->nodes_file);
	} else if ((s->by == STATS_BY_NODE || s->partial) &&
	    mirad_is_dir(s->input)) {
		auto_nodes = mirad_path_join(s->input, "nodes.csv");
		if (mirad_is_file(auto_nodes))
			nodes = load_nodes(auto_nodes);
	}
	for (size_t i = 0; i < records->count; i++) {
		const struct mirad_record *r = records->items[i];
		struct stats_entry *x;
		char buf[64];

		if (s->shard_count > 0 && i % s->shard_count != s->shard_index)
			continue;
		x = stats_entries_add(&s->entries, r->category, r->split,
		    r->label ? r->label : "normal", r->defect, r->image,
		    record_node(r, nodes, buf, sizeof buf),
		    mirad_record_get_string(r, "variant"));
		x->path = mirad_record_path(r, r->image);
		if (r->mask && mirad_record_is_anomaly(r))
			x->mask_path = mirad_record_path(r, r->mask);
	}
	if (nodes)
		g_hash_table_destroy(nodes);
	free(auto_nodes);
}

static void
measure_entry(struct stats *s, size_t i)
{
	struct stats_entry *x = &s->entries.items[i];
	char err[1024];
	VipsImage *im = mirad_image_load(x->path, true, err, sizeof err);

	if (im == NULL ||
	    stats_measure_image(im, &x->image_m, err, sizeof err) != 0) {
		x->error = mirad_xasprintf("%s: %s", x->path, err);
		if (im)
			g_object_unref(im);
		mirad_progress_add(1);
		return;
	}
	g_object_unref(im);
	x->measured = true;
	{
		const char *ext = mirad_path_ext(x->path);

		if (g_ascii_strcasecmp(ext, ".jpg") == 0 ||
		    g_ascii_strcasecmp(ext, ".jpeg") == 0)
			x->image_m.jpeg_quality = stats_jpeg_quality(x->path);
	}
	if (x->mask_path) {
		im = mirad_image_load(x->mask_path, true, err, sizeof err);
		if (im == NULL ||
		    stats_measure_mask(im, &x->mask_m, err, sizeof err) != 0)
			x->error = mirad_xasprintf("%s: %s", x->mask_path, err);
		else
			x->has_mask = true;
		if (im)
			g_object_unref(im);
	}
	mirad_progress_add(1);
}

static void
measure_task(gpointer data, gpointer user)
{
	measure_entry(user, (size_t)GPOINTER_TO_SIZE(data) - 1);
	vips_thread_shutdown();
}

/* Measure every entry, JOBS at a time; each worker writes only its own
 * entry, so the result does not depend on scheduling. */
static void
measure_all(struct stats *s)
{
	size_t n = s->entries.count;
	int jobs = s->jobs > 0 ? s->jobs : (int)g_get_num_processors();

	mirad_progress_start("measuring", n);
	if (jobs <= 1 || n <= 1) {
		for (size_t i = 0; i < n; i++)
			measure_entry(s, i);
	} else {
		GThreadPool *pool =
		    g_thread_pool_new(measure_task, s, jobs, TRUE, NULL);

		for (size_t i = 0; i < n; i++)
			g_thread_pool_push(pool, GSIZE_TO_POINTER(i + 1), NULL);
		g_thread_pool_free(pool, FALSE, TRUE);
	}
	mirad_progress_end();
}

/* --merge: read every partial file into the entries. */
static void
merge_inputs(struct stats *s)
{
	for (int i = 0; i < s->ninputs; i++) {
		gchar *text = NULL;
		gsize len = 0;
		GError *gerr = NULL;
		cJSON *doc;
		char err[512];

		if (!g_file_get_contents(s->inputs[i], &text, &len, &gerr)) {
			mirad_warn("%s", gerr->message);
			g_error_free(gerr);
			mirad_image_shutdown();
			exit(MIRAD_EXIT_FATAL);
		}
		doc = cJSON_ParseWithLength(text, len);
		g_free(text);
		if (doc == NULL ||
		    stats_partial_read(doc, &s->entries, err, sizeof err) !=
		        0) {
			cJSON_Delete(doc);
			mirad_die(MIRAD_EXIT_FATAL, "%s: %s", s->inputs[i],
			    doc ? err : "not valid JSON");
		}
		cJSON_Delete(doc);
	}
}

/* --html FILE: written under a temporary name, renamed when complete. */
static int
write_html(const struct stats *s, const cJSON *imaging, const cJSON *geometry)
{
	struct mirad_outfile *out = mirad_outfile_open(s->html);
	char err[1024];

	if (out == NULL) {
		mirad_warn("%s: %s", s->html, strerror(errno));
		return -1;
	}
	if (stats_html_write(mirad_outfile_stream(out),
	        s->merge ? "merged partial statistics" : s->input, &s->table,
	        &s->entries, imaging, geometry, err, sizeof err) != 0) {
		mirad_warn("%s", err);
		mirad_outfile_abort(out);
		return -1;
	}
	if (mirad_outfile_commit(out) != 0) {
		mirad_warn("%s: %s", s->html, strerror(errno));
		return -1;
	}
	return 0;
}

static void
print_partial(const struct stats *s, FILE *f)
{
	cJSON *doc = stats_partial_to_json(&s->entries);
	char *text = stats_json_print(doc, false);

	fputs(text, f);
	fputc('\n', f);
	free(text);
	cJSON_Delete(doc);
}

int
main(int argc, char **argv)
{
	struct stats s = {0};
	struct mirad_recordset records = {0};
	struct mirad_dataset_info info = {0};
	cJSON *imaging = NULL, *geometry = NULL;
	struct mirad_outfile *outfile;
	FILE *out;
	char err[1024];
	int status = MIRAD_EXIT_OK;

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
	parse_args(&s, argc, argv);

	if (mirad_image_init(argv[0], 0, err, sizeof err) != 0)
		mirad_die(MIRAD_EXIT_FATAL, "cannot start libvips: %s", err);
	if (s.merge) {
		merge_inputs(&s);
		if (s.categories.count > 0 &&
		    stats_entries_keep_categories(
		        &s.entries, &s.categories, err, sizeof err) != 0)
			mirad_die(MIRAD_EXIT_USAGE, "%s", err);
	} else {
		mirad_progress_start("scanning", 0);
		if (mirad_dataset_load(s.input, &s.in, &records, &info, err,
		        sizeof err) != 0) {
			mirad_progress_end();
			mirad_die(MIRAD_EXIT_FATAL, "%s", err);
		}
		mirad_progress_end();
		if (info.scan.problems > 0 || info.bad_lines > 0)
			status = MIRAD_EXIT_PARTIAL;
		if (s.categories.count > 0 &&
		    stats_records_keep_categories(
		        &records, &s.categories, err, sizeof err) != 0)
			mirad_die(MIRAD_EXIT_USAGE, "%s", err);
		build_entries(&s, &records);
		if (measuring(&s))
			measure_all(&s);
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
	if (s.partial) {
		print_partial(&s, out);
		goto done;
	}
	stats_table_count(&s.table, &s.entries, s.by);
	if (s.imaging || s.plots_dir || s.html)
		imaging = stats_report_imaging(&s.entries, s.by);
	if (s.geometry || s.plots_dir || s.html)
		geometry = stats_report_geometry(&s.entries, s.by);
	switch (s.format) {
	case FORMAT_MD:
		stats_table_print_md(out, &s.table);
		if (s.imaging) {
			fputs("\nImaging heterogeneity:\n\n", out);
			stats_print_imaging_md(out, imaging, s.by);
		}
		if (s.geometry) {
			fputs("\nDefect geometry:\n\n", out);
			stats_print_geometry_md(out, geometry, s.by);
		}
		break;
	case FORMAT_CSV:
		stats_table_print_csv(out, &s.table);
		if (s.imaging) {
			fputc('\n', out);
			stats_print_imaging_csv(out, imaging, s.by);
		}
		if (s.geometry) {
			fputc('\n', out);
			stats_print_geometry_csv(out, geometry, s.by);
		}
		break;
	case FORMAT_JSON:
		stats_table_print_json(out, &s.table,
		    s.imaging ? imaging : NULL, s.geometry ? geometry : NULL);
		break;
	case FORMAT_TEX:
		stats_table_print_tex(
		    out, &s.table, s.imaging ? imaging : NULL);
		if (s.imaging) {
			fputc('\n', out);
			stats_print_imaging_tex(out, imaging, s.by);
		}
		if (s.geometry) {
			fputc('\n', out);
			stats_print_geometry_tex(out, geometry, s.by);
		}
		break;
	}
	if (s.plots_dir &&
	    stats_plot_write_all(s.plots_dir, &s.entries, imaging, geometry,
	        s.by, s.plot_w, s.plot_h, err, sizeof err) != 0) {
		mirad_warn("%s", err);
		status = MIRAD_EXIT_FATAL;
	}
	if (s.html && write_html(&s, imaging, geometry) != 0)
		status = MIRAD_EXIT_FATAL;
	if (s.mosaic &&
	    stats_mosaic_write(s.mosaic, &s.entries, s.by, s.mosaic_per,
	        s.mosaic_tile, 160, s.mosaic_masks, err, sizeof err) != 0) {
		mirad_warn("%s", err);
		status = MIRAD_EXIT_FATAL;
	}

done:
	if (s.output == NULL || status == MIRAD_EXIT_FATAL) {
		/* Standard output is checked by mirad_close_stdout(); FILE is
		 * kept as it was when the charts or the mosaic failed. */
		mirad_outfile_abort(outfile);
	} else if (mirad_outfile_commit(outfile) != 0) {
		mirad_warn("%s: %s", s.output, strerror(errno));
		status = MIRAD_EXIT_FATAL;
	}
	cJSON_Delete(imaging);
	cJSON_Delete(geometry);
	stats_table_free(&s.table);
	mirad_strlist_free(&s.categories);
	stats_entries_free(&s.entries);
	cJSON_Delete(info.header);
	mirad_recordset_clear(&records);
	mirad_image_shutdown();
	return mirad_close_stdout(status);
}
