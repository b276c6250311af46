/* SPDX-License-Identifier: MIT */
/*
 * mirad-gen-sample: write a synthetic, MIRAD-shaped dataset for tests, the
 * quickstart and the benchmarks.  Deterministic for a given seed.
 *
 * The ten MIRAD categories keep the paper's proportions (train, test
 * normal, test abnormal, defect types) scaled by --scale.  Products are
 * coloured shapes on six node-specific backgrounds, sizes and brightness
 * levels; defects are drawn shapes with exact 0/255 masks.  Categories
 * whose paper row has no DB (DI) flag keep one background (brightness).
 */
#include "mirad_platform.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirad_archive.h"
#include "mirad_cli.h"
#include "mirad_csv.h"
#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_image.h"

struct category {
	const char *name;
	int train, test_normal, test_abnormal, defect_types;
	bool di, db;
};

/* The paper's statistical overview (mirad_overview.json). */
static const struct category paper[] = {
    {"building_block", 262, 57, 158, 7, false, true},
    {"chain_buckle", 197, 81, 141, 6, true, true},
    {"geometric_block", 238, 55, 159, 6, true, false},
    {"geometric_button", 290, 94, 188, 7, true, true},
    {"geometric_snowflake", 215, 62, 163, 7, true, true},
    {"magnetic_block", 268, 57, 204, 6, false, false},
    {"magnetic_bookmark", 216, 48, 133, 1, true, true},
    {"number_block", 254, 69, 151, 8, true, true},
    {"number_snowflake", 230, 60, 236, 8, true, true},
    {"rabbit_pendant", 228, 71, 204, 7, true, true},
};
#define NCATEGORIES (sizeof paper / sizeof *paper)

static const char *const defect_names[] = {"scratch", "crack", "stain",
    "missing_part", "extra_part", "misprint", "chip", "hole"};

/* Six simulated production nodes. */
struct node {
	int width, height;
	double background[3];
	double gain; /* illumination */
};
static const struct node nodes[6] = {
    {96, 96, {12, 12, 12}, 1.00},
    {128, 96, {128, 128, 128}, 0.80},
    {112, 112, {200, 70, 30}, 1.15},
    {80, 80, {40, 150, 60}, 0.90},
    {120, 90, {220, 200, 40}, 1.05},
    {100, 100, {30, 40, 110}, 0.70},
};

enum out_layout {
	OUT_MIRAD,
	OUT_MVTEC,
	OUT_VISA
};

struct gen {
	const char *out;
	double scale;
	double image_scale;
	uint64_t seed;
	enum out_layout layout;
	const char *ext; /* ".png" or ".jpg" */
	const char *archive;
	const char *visa_csv;
	struct mirad_strlist only;
	bool force;
	FILE *nodes_csv;
	size_t written;
};

/* splitmix64: a small, portable, seedable generator. */
static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t
hash_str(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = mix(h ^ (unsigned char)*s);
	return h;
}

struct rng {
	uint64_t state;
};

static uint64_t
rng_next(struct rng *r)
{
	r->state = mix(r->state);
	return r->state;
}

static int
rng_int(struct rng *r, int lo, int hi)
{
	return lo + (int)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

MIRAD_NORETURN static void die_vips(const char *what);

static void
die_vips(const char *what)
{
	char err[512];

	mirad_image_take_error(err, sizeof err);
	mirad_die(MIRAD_EXIT_FATAL, "%s: %s", what, err);
}

static int
scaled(int n, double scale)
{
	long v = lround(n * scale);

	return v < 1 ? 1 : (int)v;
}

/* A drawable in-memory image of W x H with BANDS bands filled with INK. */
static VipsImage *
canvas(int w, int h, int bands, const double *ink)
{
	VipsImage *black, *filled, *mem;

	if (vips_black(&black, w, h, "bands", bands, NULL))
		die_vips("vips_black");
	filled = vips_image_new_from_image(black, ink, bands);
	g_object_unref(black);
	if (filled == NULL)
		die_vips("vips_image_new_from_image");
	mem = vips_image_copy_memory(filled);
	g_object_unref(filled);
	if (mem == NULL)
		die_vips("vips_image_copy_memory");
	return mem;
}

/* Draw shape KIND (0 circle, 1 rectangle, 2 thick line) on IM. */
static void
draw_shape(VipsImage *im, int kind, const double *ink, int n, int cx, int cy,
    int r, int angle)
{
	int rc;

	if (kind == 0) {
		rc = vips_draw_circle(
		    im, (double *)ink, n, cx, cy, r, "fill", TRUE, NULL);
	} else if (kind == 1) {
		rc = vips_draw_rect(im, (double *)ink, n, cx - r, cy - r / 2,
		    2 * r, r, "fill", TRUE, NULL);
	} else {
		int dx = (int)(r * cos(angle * M_PI / 180.0));
		int dy = (int)(r * sin(angle * M_PI / 180.0));

		rc = 0;
		for (int t = -1; t <= 1 && rc == 0; t++)
			rc = vips_draw_line(im, (double *)ink, n, cx - dx,
			    cy - dy + t, cx + dx, cy + dy + t, NULL);
	}
	if (rc != 0)
		die_vips("draw");
}

static void
save(struct gen *g, VipsImage *im, const char *path)
{
	char err[512];
	char *dir = mirad_path_dirname(path);

	if (mirad_mkdir_p(dir) != 0)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", dir);
	free(dir);
	if (mirad_image_save(im, path, 90, err, sizeof err) != 0)
		mirad_die(MIRAD_EXIT_FATAL, "%s: %s", path, err);
	g->written++;
}

/*
 * Render image INDEX of category C.  DEFECT < 0 for a normal image.  Writes
 * the image to IMAGE_PATH and, for a defect, its mask (values MASK_VALUE on
 * 0) to MASK_PATH.  Returns the node used.
 */
static int
render(struct gen *g, const struct category *c, const char *key, int defect,
    const char *image_path, const char *mask_path, double mask_value)
{
	struct rng r = {hash_str(g->seed, key)};
	int node_id = rng_int(&r, 0, 5);
	const struct node *nd = &nodes[node_id];
	const struct node *bg_node = c->db ? nd : &nodes[0];
	double gain = c->di ? nd->gain : 1.0;
	int w = (int)lround(nd->width * g->image_scale);
	int h = (int)lround(nd->height * g->image_scale);
	uint64_t cat_hash = hash_str(0, c->name);
	double product[3], bg[3];
	VipsImage *im, *lit;
	int cx, cy, rad, shape;

	for (int i = 0; i < 3; i++) {
		bg[i] = bg_node->background[i];
		product[i] = (double)((cat_hash >> (8 * i)) & 0xff) / 2 + 100;
	}
	im = canvas(w, h, 3, bg);
	/* DV: the product moves a little from shot to shot. */
	cx = w / 2 + rng_int(&r, -w / 10, w / 10);
	cy = h / 2 + rng_int(&r, -h / 10, h / 10);
	rad = (w < h ? w : h) / 4;
	shape = (int)(cat_hash % 2);
	draw_shape(im, shape, product, 3, cx, cy, rad, 0);
	/* A second, smaller feature so products are not flat. */
	{
		double detail[3] = {product[2], product[0], product[1]};

		draw_shape(im, 0, detail, 3, cx, cy, rad / 3, 0);
	}
	if (defect >= 0) {
		static const double dark[3] = {20, 20, 20};
		double one = 255.0;
		int kind = defect % 3;
		int dx = cx + rng_int(&r, -rad / 2, rad / 2);
		int dy = cy + rng_int(&r, -rad / 2, rad / 2);
		int dr = 2 + rng_int(&r, 0, rad / 3 > 0 ? rad / 3 : 1);
		int angle = rng_int(&r, 0, 179);
		VipsImage *mask = canvas(w, h, 1, (double[]){0});

		(void)one;
		draw_shape(im, kind, dark, 3, dx, dy, dr, angle);
		draw_shape(mask, kind, &mask_value, 1, dx, dy, dr, angle);
		save(g, mask, mask_path);
		g_object_unref(mask);
	}
	/* DI: node illumination as a gain. */
	if (gain != 1.0) {
		VipsImage *tmp;

		if (vips_linear1(im, &tmp, gain, 0.0, NULL) ||
		    vips_cast_uchar(tmp, &lit, NULL))
			die_vips("vips_linear");
		g_object_unref(tmp);
	} else {
		lit = im;
		g_object_ref(lit);
	}
	save(g, lit, image_path);
	g_object_unref(lit);
	g_object_unref(im);
	return node_id;
}

static void
note_node(struct gen *g, const char *rel, int node)
{
	fprintf(g->nodes_csv, "%s,%d\n", rel, node + 1);
}

static void
gen_category(struct gen *g, const struct category *c)
{
	int ntrain = scaled(c->train, g->scale);
	int nnormal = scaled(c->test_normal, g->scale);
	int nabn = scaled(c->test_abnormal, g->scale);
	int ntypes = c->defect_types;
	int *per_type = mirad_xcalloc((size_t)ntypes, sizeof *per_type);
	char rel[512], mrel[512], key[600];

	for (int i = 0; i < ntrain + nnormal + nabn; i++) {
		bool train = i < ntrain;
		bool normal = i < ntrain + nnormal;
		int idx = train ? i
		    : normal    ? i - ntrain
		                : i - ntrain - nnormal;
		int defect = normal ? -1 : idx % ntypes;
		char *img, *msk = NULL;
		int node;

		if (normal) {
			snprintf(rel, sizeof rel, "%s/%s/good/%03d%s", c->name,
			    train ? "train" : "test", idx, g->ext);
		} else if (g->layout == OUT_MIRAD) {
			snprintf(rel, sizeof rel, "%s/test/anomaly/%03d%s",
			    c->name, idx, g->ext);
			snprintf(mrel, sizeof mrel,
			    "%s/ground_truth/anomaly/%03d_mask.png", c->name,
			    idx);
		} else {
			int n = per_type[defect]++;

			snprintf(rel, sizeof rel, "%s/test/%s/%03d%s", c->name,
			    defect_names[defect], n, g->ext);
			snprintf(mrel, sizeof mrel,
			    "%s/ground_truth/%s/%03d_mask.png", c->name,
			    defect_names[defect], n);
		}
		snprintf(key, sizeof key, "%s#%d", c->name, i);
		img = mirad_path_join(g->out, rel);
		if (!normal)
			msk = mirad_path_join(g->out, mrel);
		node = render(g, c, key, defect, img, msk, 255.0);
		note_node(g, rel, node);
		free(img);
		free(msk);
	}
	free(per_type);
}

/* ---- VisA ------------------------------------------------------------- */

static void
visa_row(struct gen *g, const struct category *c, const char *cls,
    const char *image, const char *mask, bool anomaly, int index)
{
	char key[600];
	char *img = mirad_path_join(g->out, image);
	char *msk = anomaly && *mask ? mirad_path_join(g->out, mask) : NULL;

	snprintf(key, sizeof key, "%s#%s#%d", cls, image, index);
	/* Raw VisA masks hold small class ids, not 255. */
	render(g, c, key, anomaly && msk ? index % c->defect_types : -1, img,
	    msk, (double)(1 + index % 3));
	free(img);
	free(msk);
}

/* Images for every row of a real VisA split file; the file itself and its
 * siblings are copied to split_csv/. */
static void
gen_visa_from_csv(struct gen *g)
{
	struct mirad_csv *csv = mirad_csv_open(g->visa_csv);
	struct mirad_strlist row = {0}, files;
	char *dir, *splitdir;
	int n = 0, rc;

	if (csv == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", g->visa_csv);
	if (mirad_csv_next(csv, &row) != 1 || row.count < 5)
		mirad_die(
		    MIRAD_EXIT_FATAL, "%s: not a VisA split file", g->visa_csv);
	while ((rc = mirad_csv_next(csv, &row)) == 1) {
		const struct category *c;

		if (row.count < 5)
			continue;
		if (g->only.count > 0 &&
		    !mirad_strlist_contains(&g->only, row.items[0]))
			continue;
		c = &paper[hash_str(0, row.items[0]) % NCATEGORIES];
		visa_row(g, c, row.items[0], row.items[3], row.items[4],
		    strcmp(row.items[2], "anomaly") == 0, n++);
	}
	if (rc < 0)
		mirad_die(MIRAD_EXIT_FATAL, "%s", mirad_csv_error(csv));
	mirad_strlist_free(&row);
	mirad_csv_close(csv);

	splitdir = mirad_path_join(g->out, "split_csv");
	if (mirad_mkdir_p(splitdir) != 0)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", splitdir);
	dir = mirad_path_dirname(g->visa_csv);
	if (mirad_list_dir(dir, &files) == 0) {
		for (size_t i = 0; i < files.count; i++) {
			const char *ext = mirad_path_ext(files.items[i]);
			char *src, *dst;

			if (strcmp(ext, ".csv") != 0)
				continue;
			src = mirad_path_join(dir, files.items[i]);
			dst = mirad_path_join(splitdir, files.items[i]);
			if (mirad_copy_file(src, dst) != 0)
				mirad_die_errno(
				    MIRAD_EXIT_FATAL, errno, "%s", dst);
			free(src);
			free(dst);
		}
		mirad_strlist_free(&files);
	}
	free(dir);
	free(splitdir);
}

/* A small VisA raw tree in the scaled MIRAD proportions, with its own
 * split_csv/1cls.csv (CRLF) and image_anno.csv per class. */
static void
gen_visa(struct gen *g, const struct category *c, FILE *split)
{
	int ntrain = scaled(c->train, g->scale);
	int nnormal = scaled(c->test_normal, g->scale);
	int nabn = scaled(c->test_abnormal, g->scale);
	char image[512], mask[512];
	char *anno_path, *anno_rel;
	FILE *anno;

	anno_rel = mirad_xasprintf("%s/image_anno.csv", c->name);
	anno_path = mirad_path_join(g->out, anno_rel);
	{
		char *d = mirad_path_dirname(anno_path);

		mirad_mkdir_p(d);
		free(d);
	}
	anno = fopen(anno_path, "w");
	if (anno == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", anno_path);
	fputs("image,label,mask\n", anno);
	for (int i = 0; i < ntrain + nnormal + nabn; i++) {
		bool normal = i < ntrain + nnormal;
		int idx = normal ? i : i - ntrain - nnormal;
		const char *fields[5];

		if (normal)
			snprintf(image, sizeof image,
			    "%s/Data/Images/Normal/%04d.JPG", c->name, idx);
		else
			snprintf(image, sizeof image,
			    "%s/Data/Images/Anomaly/%03d.JPG", c->name, idx);
		snprintf(mask, sizeof mask, "%s/Data/Masks/Anomaly/%03d.png",
		    c->name, idx);
		visa_row(
		    g, c, c->name, image, normal ? "" : mask, !normal, idx);
		fields[0] = c->name;
		fields[1] = i < ntrain ? "train" : "test";
		fields[2] = normal ? "normal" : "anomaly";
		fields[3] = image;
		fields[4] = normal ? "" : mask;
		mirad_csv_write_row(split, fields, 5, true);
		fields[0] = image;
		fields[1] =
		    normal ? "normal" : defect_names[idx % c->defect_types];
		fields[2] = normal ? "" : mask;
		mirad_csv_write_row(anno, fields, 3, false);
	}
	if (fclose(anno) != 0)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", anno_path);
	free(anno_path);
	free(anno_rel);
}

static void
usage(void)
{
	/* clang-format off */
	fputs(
"Usage: mirad-gen-sample [OPTION]... -o DIR\n"
"Write a synthetic MIRAD-shaped dataset (deterministic for a seed).\n"
"\n"
"  -o, --output=DIR         the dataset folder to create\n"
"  -s, --scale=F            counts = paper counts x F (default 0.05; 1 = full)\n"
"      --image-scale=F      image sizes x F (default 1: about 100x100 px)\n"
"      --seed=N             random seed (default 1)\n"
"      --layout=NAME        mirad (pooled test/anomaly, default), mvtec\n"
"                           (one folder per defect type) or visa (raw)\n"
"      --format=png|jpg     image format (default png; visa is always JPG)\n"
"      --visa-csv=FILE      visa: one image per row of this VisA split file;\n"
"                           the .csv files beside it go to split_csv/\n"
"      --categories=A,B     only these categories (or VisA objects)\n"
"      --archive=FILE       also pack the tree (.tar.gz, .tar.xz, .zip, ...)\n"
"  -f, --force              replace DIR if it exists\n"
"  -h, --help               print this help and exit\n",
	    stdout);
	/* clang-format on */
}

enum {
	OPT_IMAGE_SCALE = 256,
	OPT_SEED,
	OPT_LAYOUT,
	OPT_FORMAT,
	OPT_VISA_CSV,
	OPT_CATEGORIES,
	OPT_ARCHIVE
};

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"archive", required_argument, NULL, OPT_ARCHIVE},
	    {"categories", required_argument, NULL, OPT_CATEGORIES},
	    {"force", no_argument, NULL, 'f'},
	    {"format", required_argument, NULL, OPT_FORMAT},
	    {"help", no_argument, NULL, 'h'},
	    {"image-scale", required_argument, NULL, OPT_IMAGE_SCALE},
	    {"layout", required_argument, NULL, OPT_LAYOUT},
	    {"output", required_argument, NULL, 'o'},
	    {"scale", required_argument, NULL, 's'},
	    {"seed", required_argument, NULL, OPT_SEED},
	    {"visa-csv", required_argument, NULL, OPT_VISA_CSV},
	    {NULL, 0, NULL, 0},
	};
	struct gen g = {
	    .scale = 0.05, .image_scale = 1.0, .seed = 1, .ext = ".png"};
	char err[512];
	char *tmp, *nodes_path;
	FILE *split = NULL;
	int c;

	mirad_set_progname(argv[0]);
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":fho:s:", longopts, NULL)) != -1) {
		switch (c) {
		case 'o':
			g.out = optarg;
			break;
		case 's':
			if (mirad_cli_parse_double(
			        optarg, 0.0001, 100, &g.scale) != 0)
				mirad_usage_error("bad --scale '%s'", optarg);
			break;
		case OPT_IMAGE_SCALE:
			if (mirad_cli_parse_double(
			        optarg, 0.1, 100, &g.image_scale) != 0)
				mirad_usage_error(
				    "bad --image-scale '%s'", optarg);
			break;
		case OPT_SEED:
			if (mirad_cli_parse_uint(
			        optarg, 0, UINT64_MAX, &g.seed) != 0)
				mirad_usage_error("bad --seed '%s'", optarg);
			break;
		case OPT_LAYOUT:
			if (strcmp(optarg, "mirad") == 0)
				g.layout = OUT_MIRAD;
			else if (strcmp(optarg, "mvtec") == 0)
				g.layout = OUT_MVTEC;
			else if (strcmp(optarg, "visa") == 0)
				g.layout = OUT_VISA;
			else
				mirad_usage_error(
				    "unknown layout '%s'", optarg);
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "png") == 0)
				g.ext = ".png";
			else if (strcmp(optarg, "jpg") == 0)
				g.ext = ".jpg";
			else
				mirad_usage_error(
				    "unknown format '%s'", optarg);
			break;
		case OPT_VISA_CSV:
			g.visa_csv = optarg;
			g.layout = OUT_VISA;
			break;
		case OPT_CATEGORIES:
			if (mirad_strlist_split(optarg, &g.only) != 0)
				mirad_usage_error(
				    "bad --categories '%s'", optarg);
			break;
		case OPT_ARCHIVE:
			g.archive = optarg;
			break;
		case 'f':
			g.force = true;
			break;
		case 'h':
			usage();
			return mirad_close_stdout(0);
		case ':':
			mirad_usage_error(
			    "option '%s' needs an argument", argv[optind - 1]);
		default:
			mirad_usage_error(
			    "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (g.out == NULL || optind != argc)
		mirad_usage_error("need -o DIR and no other arguments");
	if (mirad_exists(g.out) && !g.force)
		mirad_die(MIRAD_EXIT_FATAL, "%s: exists (use --force)", g.out);
	if (mirad_image_init(argv[0], 0, err, sizeof err) != 0)
		mirad_die(MIRAD_EXIT_FATAL, "libvips: %s", err);

	/* Build in a temporary folder; publish it whole. */
	tmp = mirad_tmpdir_beside(g.out);
	if (tmp == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", g.out);
	{
		const char *final_out = g.out;

		g.out = tmp;
		nodes_path = mirad_path_join(tmp, "nodes.csv");
		g.nodes_csv = fopen(nodes_path, "w");
		if (g.nodes_csv == NULL)
			mirad_die_errno(
			    MIRAD_EXIT_FATAL, errno, "%s", nodes_path);
		fputs("image,node\n", g.nodes_csv);
		if (g.layout == OUT_VISA && g.visa_csv != NULL) {
			gen_visa_from_csv(&g);
		} else {
			if (g.layout == OUT_VISA) {
				char *sp = mirad_path_join(tmp, "split_csv");
				char *sf = mirad_path_join(sp, "1cls.csv");

				mirad_mkdir_p(sp);
				split = fopen(sf, "wb");
				if (split == NULL)
					mirad_die_errno(
					    MIRAD_EXIT_FATAL, errno, "%s", sf);
				fputs(
				    "object,split,label,image,mask\r\n", split);
				free(sp);
				free(sf);
			}
			for (size_t i = 0; i < NCATEGORIES; i++) {
				if (g.only.count > 0 &&
				    !mirad_strlist_contains(
				        &g.only, paper[i].name))
					continue;
				if (g.layout == OUT_VISA)
					gen_visa(&g, &paper[i], split);
				else
					gen_category(&g, &paper[i]);
			}
			if (split != NULL && fclose(split) != 0)
				mirad_die_errno(MIRAD_EXIT_FATAL, errno,
				    "split_csv/1cls.csv");
		}
		if (fclose(g.nodes_csv) != 0)
			mirad_die_errno(
			    MIRAD_EXIT_FATAL, errno, "%s", nodes_path);
		free(nodes_path);
		g.out = final_out;
	}
	if (mirad_dir_publish(tmp, g.out, g.force) != 0) {
		int e = errno;

		mirad_rm_rf(tmp);
		mirad_die_errno(MIRAD_EXIT_FATAL, e, "%s", g.out);
	}
	free(tmp);
	if (g.archive != NULL) {
		enum mirad_archive_format fmt;
		char *top = mirad_xstrdup(mirad_path_basename(g.out));

		if (mirad_archive_format_from_name(g.archive, &fmt) != 0)
			mirad_die(MIRAD_EXIT_USAGE,
			    "%s: unknown archive type (.tar, .tar.gz, .tar.xz, "
			    ".tar.zst, .zip)",
			    g.archive);
		if (mirad_archive_pack_dir(
		        g.out, top, g.archive, fmt, err, sizeof err) != 0)
			mirad_die(MIRAD_EXIT_FATAL, "%s", err);
		free(top);
	}
	mirad_strlist_free(&g.only);
	mirad_image_shutdown();
	return mirad_close_stdout(0);
}
