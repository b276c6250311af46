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
#include "mirad_parallel.h"
#include "mirad_progress.h"
#include "mirad_shard.h"
#include "mirad_signal.h"
#include "mirad_version.h"
#include "stats_pixels.h"
#include "stats_report.h"
#include "stats_table.h"

enum {
	OPT_CHECK_SIZES = 256,
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
	struct mirad_cli_merge merge_rule;
	enum stats_by by;
	bool by_given;
	const char *nodes_file;
	const char *plots_dir;
	int plot_w, plot_h;
	const char *mosaic;
	int mosaic_per, mosaic_tile;
	unsigned shard_index, shard_count;
	char job[65]; /* --partial: the fingerprint every shard shares */
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
	    {"format", required_argument, NULL, 'F'},
	    {"geometry", no_argument, NULL, OPT_GEOMETRY},
	    {"html", required_argument, NULL, OPT_HTML},
	    {"imaging", no_argument, NULL, OPT_IMAGING},
	    {"jobs", required_argument, NULL, 'j'},
	    {"mosaic", required_argument, NULL, OPT_MOSAIC},
	    {"mosaic-masks", no_argument, NULL, OPT_MOSAIC_MASKS},
	    {"mosaic-per", required_argument, NULL, OPT_MOSAIC_PER},
	    {"mosaic-tile", required_argument, NULL, OPT_MOSAIC_TILE},
	    {"nodes", required_argument, NULL, OPT_NODES},
	    {"output", required_argument, NULL, 'o'},
	    {"plot-size", required_argument, NULL, OPT_PLOT_SIZE},
	    {"plots", required_argument, NULL, OPT_PLOTS},
	    MIRAD_CLI_SHARD_LONGOPTS,
	    MIRAD_CLI_PARTIAL_LONGOPTS,
	    MIRAD_CLI_COMMON_LONGOPTS,
	    MIRAD_CLI_DATASET_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	/* What the merge prints: the tables, with the measures the partials
	 * hold or add, and the charts and page made from them. */
	static const int merge_takes[] = {'a', OPT_IMAGING, OPT_GEOMETRY, 'F',
	    OPT_BY, OPT_CATEGORIES, OPT_DEFECTS, OPT_HTML, OPT_PLOTS,
	    OPT_PLOT_SIZE, 0};
	/* What only shapes a report, which a partial file is not. */
	static const int partial_refuses[] = {'F', OPT_HTML, OPT_PLOTS,
	    OPT_PLOT_SIZE, OPT_MOSAIC, OPT_MOSAIC_PER, OPT_MOSAIC_TILE,
	    OPT_MOSAIC_MASKS, 0};
	int c, idx;
	uint64_t v;

	opterr = 0;
	for (;;) {
		idx = -1;
		c = getopt_long(argc, argv, ":aF:hj:o:qV", longopts, &idx);
		if (c == -1)
			break;
		if (mirad_cli_merge_option(&s->merge_rule, c, idx, longopts,
		        merge_takes, partial_refuses))
			continue;
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
			s->by_given = true;
			break;
		case OPT_NODES:
			s->nodes_file = optarg;
			break;
		case OPT_CATEGORIES:
			mirad_cli_categories(optarg, &s->categories);
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
		case 'j':
			if (mirad_cli_parse_uint(optarg, 1, 256, &v) != 0)
				mirad_usage_error(
				    "invalid --jobs '%s' (1 to 256)", optarg);
			s->jobs = (int)v;
			break;
		case 'F':
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

/* --nodes: image (relative path) -> node, by the columns named in the
 * header (the reader mirad-split uses). */
static GHashTable *
load_nodes(const char *file)
{
	char err[1024];
	GHashTable *map =
	    mirad_csv_read_map(file, "image", "node", err, sizeof err);

	if (map == NULL)
		mirad_die(MIRAD_EXIT_FATAL, "%s", err);
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
	struct mirad_shard_job *job = NULL;

	if (s->nodes_file) {
		nodes = load_nodes(s->nodes_file);
	} else if ((s->by == STATS_BY_NODE || s->partial) &&
	    mirad_is_dir(s->input)) {
		auto_nodes = mirad_path_join(s->input, "nodes.csv");
		if (mirad_is_file(auto_nodes))
			nodes = load_nodes(auto_nodes);
	}
	if (s->partial) {
		/* What the merge takes from the partials is part of the job,
		 * so that shards made with other options do not merge. */
		job = mirad_shard_job_new("mirad-stats");
		mirad_shard_job_add(job, "imaging", s->imaging ? "yes" : "no");
		mirad_shard_job_add(
		    job, "geometry", s->geometry ? "yes" : "no");
		mirad_shard_job_add(job, "by", stats_by_name(s->by));
	}
	for (size_t i = 0; i < records->count; i++) {
		const struct mirad_record *r = records->items[i];
		struct stats_entry *x;
		char buf[64];
		const char *node = record_node(r, nodes, buf, sizeof buf);

		if (job != NULL) {
			mirad_shard_job_add_record(job, r);
			mirad_shard_job_add(job, "node", node);
		}
		if (s->shard_count > 0 && i % s->shard_count != s->shard_index)
			continue;
		x = stats_entries_add(&s->entries, r->category, r->split,
		    r->label ? r->label : "normal", r->defect, r->image, node,
		    mirad_record_get_string(r, "variant"));
		x->path = mirad_record_path(r, r->image);
		if (r->mask && mirad_record_is_anomaly(r))
			x->mask_path = mirad_record_path(r, r->mask);
	}
	if (job != NULL)
		mirad_shard_job_finish(job, s->job);
	if (nodes)
		g_hash_table_destroy(nodes);
	free(auto_nodes);
}

/* The pixel modes' module (stats_pixels.h), loaded on first use; a
 * missing or broken module is fatal. */
static const struct stats_pixels_ops *
pixels(void)
{
	static const struct stats_pixels_ops *loaded;
	stats_pixels_entry entry;
	char err[1024];

	if (loaded != NULL)
		return loaded;
	entry = (stats_pixels_entry)mirad_image_module_symbol(
	    STATS_PIXELS_MODULE_FILE, STATS_PIXELS_MODULE_ENTRY, err,
	    sizeof err);
	if (entry == NULL || entry()->abi != STATS_PIXELS_ABI)
		mirad_die(MIRAD_EXIT_FATAL, "cannot load libvips: %s",
		    entry == NULL ? err
		                  : "the pixel module is not this build's");
	loaded = entry();
	return loaded;
}

static int
measure_item(size_t i, void *user)
{
	struct stats *s = user;

	pixels()->measure_entry(&s->entries.items[i]);
	return 0;
}

static void
measure_thread_end(void *user)
{
	(void)user;
	mirad_image_thread_done();
}

/* Measure every entry, JOBS at a time; each worker writes only its own
 * entry, so the result does not depend on scheduling. */
static void
measure_all(struct stats *s)
{
	mirad_progress_start("measuring", s->entries.count);
	/* Loaded here, before the threads ask for it. */
	(void)pixels();
	(void)mirad_parallel_for(s->entries.count,
	    s->jobs > 0 ? (unsigned)s->jobs : 0, measure_item,
	    measure_thread_end, s, NULL);
	mirad_progress_end();
}

/* The parts of one --partial run's shards, as --merge checks them. */
struct merge_part {
	const char *file;
	const char *job;
	unsigned shard, shards;
};

/* The job fields of DOC (a partial of FILE) into P; dies when absent. */
static void
read_part(const cJSON *doc, const char *file, struct merge_part *p)
{
	const cJSON *job = cJSON_GetObjectItemCaseSensitive(doc, "job");
	const cJSON *shard = cJSON_GetObjectItemCaseSensitive(doc, "shard");
	const cJSON *shards = cJSON_GetObjectItemCaseSensitive(doc, "shards");

	if (!cJSON_IsString(job) || !cJSON_IsNumber(shard) ||
	    !cJSON_IsNumber(shards) || shards->valuedouble < 1 ||
	    shards->valuedouble > 1e6 || shard->valuedouble < 0 ||
	    shard->valuedouble >= shards->valuedouble)
		mirad_die(MIRAD_EXIT_FATAL,
		    "%s: no job fingerprint or shard number (made by an "
		    "older mirad-stats? make it again)",
		    file);
	p->file = file;
	p->job = job->valuestring;
	p->shard = (unsigned)shard->valuedouble;
	p->shards = (unsigned)shards->valuedouble;
}

/* The report options the partials were made with: --merge applies them
 * without their being repeated (--by given to --merge wins). */
static void
take_options(struct stats *s, const cJSON *doc)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(doc, "options");
	const cJSON *by = cJSON_GetObjectItemCaseSensitive(o, "by");

	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "imaging")))
		s->imaging = true;
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "geometry")))
		s->geometry = true;
	if (!s->by_given && cJSON_IsString(by))
		stats_by_from_name(by->valuestring, &s->by);
}

/* --merge: check that the partial files are every shard of one job, each
 * once, then read them into the entries. */
static void
merge_inputs(struct stats *s)
{
	cJSON **docs = mirad_xcalloc((size_t)s->ninputs, sizeof *docs);
	struct merge_part *parts =
	    mirad_xcalloc((size_t)s->ninputs, sizeof *parts);
	const char **slot = NULL;
	unsigned n = 0, k;

	for (int i = 0; i < s->ninputs; i++) {
		gchar *text = NULL;
		gsize len = 0;
		GError *gerr = NULL;

		if (!g_file_get_contents(s->inputs[i], &text, &len, &gerr)) {
			mirad_warn("%s", gerr->message);
			g_error_free(gerr);
			mirad_image_shutdown();
			exit(MIRAD_EXIT_FATAL);
		}
		docs[i] = cJSON_ParseWithLength(text, len);
		g_free(text);
		if (docs[i] == NULL)
			mirad_die(MIRAD_EXIT_FATAL, "%s: not valid JSON",
			    s->inputs[i]);
		if (!cJSON_IsObject(docs[i]) ||
		    !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(
		        docs[i], "mirad_stats_partial")))
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: not a mirad-stats partial file", s->inputs[i]);
		read_part(docs[i], s->inputs[i], &parts[i]);
		if (i == 0) {
			n = parts[0].shards;
			slot = mirad_xcalloc(n, sizeof *slot);
		} else if (parts[i].shards != n) {
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: not from the same run as %s (a shard of %u, "
			    "not of %u)",
			    s->inputs[i], s->inputs[0], parts[i].shards, n);
		} else if (strcmp(parts[i].job, parts[0].job) != 0) {
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: not from the same run as %s (another dataset "
			    "or other options)",
			    s->inputs[i], s->inputs[0]);
		}
		if (slot[parts[i].shard] != NULL)
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: shard %u/%u given twice (also %s)",
			    s->inputs[i], parts[i].shard, n,
			    slot[parts[i].shard]);
		slot[parts[i].shard] = s->inputs[i];
	}
	for (k = 0; k < n && slot[k] != NULL; k++)
		continue;
	free(slot);
	if (k < n)
		mirad_die(MIRAD_EXIT_FATAL,
		    "missing shard %u/%u (%d of %u partial files given)", k, n,
		    s->ninputs, n);
	take_options(s, docs[0]);
	for (int i = 0; i < s->ninputs; i++) {
		char err[512];

		if (stats_partial_read(docs[i], &s->entries, err, sizeof err) !=
		    0)
			mirad_die(
			    MIRAD_EXIT_FATAL, "%s: %s", s->inputs[i], err);
		cJSON_Delete(docs[i]);
	}
	free(parts);
	free(docs);
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
	if (pixels()->html_write(mirad_outfile_stream(out),
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
	cJSON *options = cJSON_CreateObject();
	char *text;

	/* Which shard of which job: --merge refuses incomplete or mixed
	 * sets.  A run without --shard is shard 0 of 1. */
	cJSON_AddStringToObject(doc, "job", s->job);
	cJSON_AddNumberToObject(doc, "shard", s->shard_index);
	cJSON_AddNumberToObject(
	    doc, "shards", s->shard_count > 0 ? s->shard_count : 1);
	cJSON_AddBoolToObject(options, "imaging", s->imaging);
	cJSON_AddBoolToObject(options, "geometry", s->geometry);
	cJSON_AddStringToObject(options, "by", stats_by_name(s->by));
	cJSON_AddItemToObject(doc, "options", options);
	text = stats_json_print(doc, false);

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

	/* Counts and --check-sizes read headers at most, which need no
	 * libvips (a header of an unusual format starts it). */
	if (!measuring(&s) && s.mosaic == NULL)
		mirad_image_init_lazy(argv[0], 0);
	else if (pixels()->init(argv[0], 0, err, sizeof err) != 0)
		mirad_die(MIRAD_EXIT_FATAL, "cannot start libvips: %s", err);
	if (s.merge) {
		merge_inputs(&s);
		if (s.categories.count > 0 &&
		    stats_entries_keep_categories(
		        &s.entries, &s.categories, err, sizeof err) != 0)
			mirad_die(MIRAD_EXIT_USAGE, "%s", err);
	} else {
		mirad_progress_start("scanning", 0);
		mirad_dataset_show_as_given(s.input);
		if (mirad_dataset_load(s.input, &s.in, &records, &info, err,
		        sizeof err) != 0) {
			mirad_progress_end();
			mirad_die(MIRAD_EXIT_FATAL, "%s", err);
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
	{
		static const enum mirad_table_format table_formats[] = {
		    [FORMAT_MD] = MIRAD_TABLE_MD,
		    [FORMAT_CSV] = MIRAD_TABLE_CSV,
		    [FORMAT_JSON] = MIRAD_TABLE_JSON,
		    [FORMAT_TEX] = MIRAD_TABLE_TEX,
		};

		/* A write error is reported when the output is closed. */
		if (stats_tables_write(out, table_formats[s.format], &s.table,
		        s.imaging ? imaging : NULL,
		        s.geometry ? geometry : NULL, err, sizeof err) != 0 &&
		    !ferror(out)) {
			mirad_warn("%s", err);
			status = MIRAD_EXIT_FATAL;
		}
	}
	if (s.plots_dir &&
	    pixels()->plot_write_all(s.plots_dir, &s.entries, imaging, geometry,
	        s.by, s.plot_w, s.plot_h, err, sizeof err) != 0) {
		mirad_warn("%s", err);
		status = MIRAD_EXIT_FATAL;
	}
	if (s.html && write_html(&s, imaging, geometry) != 0)
		status = MIRAD_EXIT_FATAL;
	if (s.mosaic &&
	    pixels()->mosaic_write(s.mosaic, &s.entries, s.by, s.mosaic_per,
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
	free(info.duplicates);
	mirad_recordset_clear(&records);
	mirad_image_shutdown();
	return mirad_close_stdout(status);
}
