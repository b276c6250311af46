/* SPDX-License-Identifier: MIT */
/*
 * mirad-augment: render a dataset as if it had been captured at another
 * production node (illumination, optics, sensor, processing), at one or
 * more severities, reproducibly, with masks kept right.  Writes the
 * augmented dataset in the source's layout and a manifest on stdout.
 */
#include "mirad_platform.h"

#include <errno.h>
#include <getopt.h>
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
#include "mirad_cli.h"
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

enum {
	OPT_SEED = 256,
	OPT_LIST_PROFILES,
	OPT_LIST_EFFECTS,
	OPT_EXPLAIN,
	OPT_PRINT_PROFILE,
};

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

struct job {
	size_t seq; /* its place in the single run's output */
	const struct mirad_record *record;
	/* Where its image and mask go, relative to the output (borrowed). */
	const char *image_rel, *mask_rel;
	int severity;
	unsigned variant;
	/* results */
	char *line;    /* manifest line (no newline) or NULL */
	char *problem; /* "file: reason" for a skipped input */
	bool fatal;
};

struct run {
	const struct options *opt;
	const struct augment_profile *profile;
	uint64_t run_seed;
	const char *tmpdir; /* where outputs are built */
	const char *target; /* absolute OUT */
	bool subdirs;       /* one folder per severity/variant */
	struct job *jobs;
	size_t njobs;
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
"      --root=DIR         resolve relative manifest paths against DIR\n"
"      --progress         show progress on stderr even when not a terminal\n"
"      --no-progress      never show progress\n"
"  -q, --quiet            print errors only\n"
"  -h, --help             print this help and exit\n"
"  -V, --version          print version information and exit\n"
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

static void
parse_args(struct options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"explain", required_argument, NULL, OPT_EXPLAIN},
	    {"force", no_argument, NULL, 'f'},
	    {"jobs", required_argument, NULL, 'j'},
	    {"list-effects", no_argument, NULL, OPT_LIST_EFFECTS},
	    {"list-profiles", no_argument, NULL, OPT_LIST_PROFILES},
	    {"output", required_argument, NULL, 'o'},
	    {"print-profile", required_argument, NULL, OPT_PRINT_PROFILE},
	    {"profile", required_argument, NULL, 'p'},
	    {"seed", required_argument, NULL, OPT_SEED},
	    {"severity", required_argument, NULL, 's'},
	    {"variants", required_argument, NULL, 'n'},
	    MIRAD_CLI_SHARD_LONGOPTS,
	    MIRAD_CLI_COMMON_LONGOPTS,
	    MIRAD_CLI_DATASET_LONGOPTS,
	    {NULL, 0, NULL, 0},
	};
	uint64_t u;
	int c, longidx;

	opterr = 0;
	for (;;) {
		longidx = -1;
		c = getopt_long(
		    argc, argv, ":fhj:n:o:p:qs:V", longopts, &longidx);
		if (c == -1)
			break;
		if (mirad_cli_merge_option(
		        &o->merge, c, longidx, longopts, NULL, NULL))
			continue;
		switch (c) {
		case OPT_LIST_PROFILES:
			list_profiles();
			exit(mirad_close_stdout(MIRAD_EXIT_OK));
		case OPT_LIST_EFFECTS:
			augment_list_effects(stdout);
			exit(mirad_close_stdout(MIRAD_EXIT_OK));
		case OPT_EXPLAIN: {
			struct augment_profile p;

			load_profile_or_die(optarg, &p);
			augment_profile_explain(&p, stdout);
			augment_profile_free(&p);
			exit(mirad_close_stdout(MIRAD_EXIT_OK));
		}
		case OPT_PRINT_PROFILE: {
			const char *text = augment_builtin_find(optarg);

			if (text == NULL)
				mirad_usage_error("no built-in profile '%s' "
				                  "(see --list-profiles)",
				    optarg);
			fputs(text, stdout);
			exit(mirad_close_stdout(MIRAD_EXIT_OK));
		}
		case 'p':
			o->profile = optarg;
			break;
		case 's':
			if (strcmp(optarg, "all") == 0)
				o->severity = -1;
			else if (mirad_cli_parse_uint(optarg, 1, 5, &u) == 0)
				o->severity = (int)u;
			else
				mirad_usage_error("bad severity '%s' (1..5 or "
				                  "all)",
				    optarg);
			break;
		case 'n':
			if (mirad_cli_parse_uint(optarg, 1, 1000, &u) != 0)
				mirad_usage_error("bad variant count '%s' "
				                  "(1..1000)",
				    optarg);
			o->variants = (unsigned)u;
			break;
		case 'j':
			if (mirad_cli_parse_uint(optarg, 1, 256, &u) != 0)
				mirad_usage_error(
				    "bad job count '%s' (1..256)", optarg);
			o->jobs = (unsigned)u;
			break;
		case OPT_SEED:
			if (augment_parse_seed(optarg, &o->seed) != 0)
				mirad_usage_error("bad seed '%s' (decimal or "
				                  "0x hex, below 2^64)",
				    optarg);
			o->have_seed = true;
			break;
		case 'o':
			o->output = optarg;
			break;
		case 'f':
			o->force = true;
			break;
		default:
			mirad_cli_common_option(c, argv, usage, &o->in);
		}
	}
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

static bool
is_jpeg_name(const char *path)
{
	const char *ext = mirad_path_ext(path);

	return g_ascii_strcasecmp(ext, ".jpg") == 0 ||
	    g_ascii_strcasecmp(ext, ".jpeg") == 0;
}

static char *
variant_dir(const struct run *run, const struct job *j)
{
	if (!run->subdirs)
		return mirad_xstrdup("");
	if (run->opt->variants > 1)
		return mirad_xasprintf("s%d-v%u", j->severity, j->variant);
	return mirad_xasprintf("s%d", j->severity);
}

/*
 * Write image IM, or JPEG BYTES, to PATH in the private output folder:
 * straight to its name, unsynced (the folder is synced once before it is
 * published; an fsync per file was most of the wall time on small images).
 */
static int
save_output(VipsImage *im, const void *bytes, size_t len, const char *path,
    char *err, size_t errlen)
{
	char *dir = mirad_path_dirname(path);
	void *buf = NULL;
	int rc = mirad_mkdir_p(dir);

	free(dir);
	if (rc != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	if (bytes == NULL) {
		if (mirad_image_encode(im, path, 0, &buf, &len, err, errlen) !=
		    0)
			return -1;
		bytes = buf;
	}
	rc = mirad_write_file_unsynced(path, bytes, len);
	if (rc != 0)
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
	g_free(buf);
	return rc;
}

/* Render job J.  Returns 0, 1 (input skipped: J->problem) or 3 (fatal:
 * J->problem). */
static int
render_job(struct run *run, struct job *j)
{
	const struct mirad_record *r = j->record;
	const struct augment_profile *p = run->profile;
	struct augment_draw_ctx ctx = {
	    run->run_seed, r->image, j->variant, j->severity};
	struct augment_sample sample;
	char err[1024], hash[65], mhash[65] = "";
	char *src_path = mirad_record_path(r, r->image);
	char *mask_path = r->mask ? mirad_record_path(r, r->mask) : NULL;
	char *sub = variant_dir(run, j), *outdir, *outpath, *root;
	char *variant_id, seedhex[24];
	VipsImage *src = NULL, *mask_raw = NULL, *mask = NULL;
	VipsImage *out = NULL, *wmask = NULL;
	void *jpeg = NULL;
	size_t jpeg_len = 0;
	struct mirad_record *rec;
	cJSON *effects, *json;
	bool need_mask = false;
	int status = 1;

	outdir = mirad_path_join(run->tmpdir, sub);
	outpath = mirad_path_join(outdir, j->image_rel);
	if (augment_profile_sample(p, &ctx, &sample) != 0) {
		j->problem = mirad_xasprintf(
		    "%s: cannot evaluate the profile", src_path);
		goto done;
	}
	for (size_t i = 0; i < p->neffects; i++)
		if (sample.applied[i] &&
		    (augment_effect_def(p->effects[i].type)->geometric ||
		        p->effects[i].type == AUGMENT_BACKGROUND))
			need_mask = true;
	/* Read once, top to bottom: augment_render() decodes it to memory
	 * first thing. */
	src = mirad_image_load(src_path, true, err, sizeof err);
	if (src == NULL) {
		j->problem = mirad_xasprintf("%s: %s", src_path, err);
		goto done;
	}
	if (mask_path != NULL && need_mask) {
		mask_raw = mirad_image_load(mask_path, false, err, sizeof err);
		if (mask_raw == NULL ||
		    (mask = mirad_image_binarise(mask_raw, err, sizeof err)) ==
		        NULL) {
			j->problem = mirad_xasprintf("%s: %s", mask_path, err);
			goto done;
		}
		if (mask->Xsize != src->Xsize || mask->Ysize != src->Ysize) {
			j->problem = mirad_xasprintf("%s: mask is %dx%d, image "
			                             "%dx%d",
			    mask_path, mask->Xsize, mask->Ysize, src->Xsize,
			    src->Ysize);
			goto done;
		}
	}
	if (augment_render(src, mask, p, &sample,
	        is_jpeg_name(r->image) ? 95 : 0, &out, &wmask, &jpeg, &jpeg_len,
	        err, sizeof err) != 0) {
		j->problem = mirad_xasprintf("%s: %s", src_path, err);
		goto done;
	}
	status = 3;
	if (mirad_image_pixel_sha256(out, hash, err, sizeof err) != 0 ||
	    save_output(out, jpeg, jpeg_len, outpath, err, sizeof err) != 0) {
		j->problem = mirad_xstrdup(err);
		goto done;
	}
	if (mask_path != NULL) {
		char *mout = mirad_path_join(outdir, j->mask_rel);

		if (wmask != NULL) {
			if (mirad_image_pixel_sha256(
			        wmask, mhash, err, sizeof err) != 0 ||
			    save_output(
			        wmask, NULL, 0, mout, err, sizeof err) != 0) {
				j->problem = mirad_xstrdup(err);
				free(mout);
				goto done;
			}
		} else {
			/* Photometric only: the mask file, byte for byte.  It
			 * is loaded first: a FIFO or a device is refused
			 * there, where copying it would block forever. */
			char *dir = mirad_path_dirname(mout);
			VipsImage *m = mask_raw;

			if (m == NULL)
				m = mirad_image_load(
				    mask_path, true, err, sizeof err);
			else
				g_object_ref(m);
			if (m == NULL ||
			    mirad_image_pixel_sha256(
			        m, mhash, err, sizeof err) != 0) {
				status = 1;
				j->problem =
				    mirad_xasprintf("%s: %s", mask_path, err);
				if (m != NULL)
					g_object_unref(m);
				free(dir);
				free(mout);
				goto done;
			}
			g_object_unref(m);
			if (mirad_mkdir_p(dir) != 0 ||
			    mirad_copy_file(mask_path, mout) != 0) {
				j->problem = mirad_xasprintf(
				    "%s: %s", mout, strerror(errno));
				free(dir);
				free(mout);
				goto done;
			}
			free(dir);
		}
		free(mout);
	}

	/* The manifest line. */
	rec = mirad_record_clone(r);
	root = mirad_path_join(run->target, sub);
	mirad_record_set(&rec->root, root);
	mirad_record_set(&rec->image, j->image_rel);
	if (j->mask_rel != NULL)
		mirad_record_set(&rec->mask, j->mask_rel);
	free(root);
	rec->width = out->Xsize;
	rec->height = out->Ysize;
	rec->channels = out->Bands;
	variant_id =
	    mirad_xasprintf("%s@s%d#%u", p->name, j->severity, j->variant);
	snprintf(seedhex, sizeof seedhex, "0x%016" PRIx64, run->run_seed);
	mirad_record_put_string(rec, "variant", variant_id);
	mirad_record_put_number(rec, "severity", j->severity);
	mirad_record_put_string(rec, "profile", p->name);
	mirad_record_put_string(rec, "profile_digest", p->digest);
	mirad_record_put_string(rec, "run_seed", seedhex);
	mirad_record_put_string(rec, "source_image", src_path);
	mirad_record_put_string(rec, "pixel_sha256", hash);
	if (mhash[0] != '\0')
		mirad_record_put_string(rec, "mask_sha256", mhash);
	effects = cJSON_CreateArray();
	for (size_t i = 0; i < p->neffects; i++)
		cJSON_AddItemToArray(
		    effects, augment_sample_to_json(p, &sample, i));
	mirad_record_put(rec, "augment", effects);
	mirad_record_put_string(rec, "libvips", mirad_image_library_version());
	json = mirad_record_to_json(rec);
	j->line = cJSON_PrintUnformatted(json);
	cJSON_Delete(json);
	mirad_record_free(rec);
	free(variant_id);
	status = 0;
done:
	if (status == 3)
		j->fatal = true;
	if (src != NULL)
		g_object_unref(src);
	if (mask_raw != NULL)
		g_object_unref(mask_raw);
	if (mask != NULL)
		g_object_unref(mask);
	if (out != NULL)
		g_object_unref(out);
	if (wmask != NULL)
		g_object_unref(wmask);
	g_free(jpeg);
	free(src_path);
	free(mask_path);
	free(sub);
	free(outdir);
	free(outpath);
	return status;
}

/* Render job I; a fatal error or an interrupt stops the loop (the jobs
 * already running finish). */
static int
render_item(size_t i, void *user)
{
	struct run *run = user;
	int rc;

	if (mirad_signal_pending() != 0)
		return 1;
	rc = render_job(run, &run->jobs[i]);
	mirad_progress_add(1);
	return rc == 3 ? 3 : 0;
}

static void
render_thread_end(void *user)
{
	(void)user;
	augment_thread_cleanup();
	vips_thread_shutdown();
}

static bool
in_shard(const struct options *o, const char *image_id, const char *variant_id)
{
	const char *parts[] = {image_id, variant_id, NULL};

	if (o->shard_count <= 1)
		return true;
	return augment_mix64(augment_key(0, parts)) % o->shard_count ==
	    o->shard_index;
}

/* ---- where the files go ------------------------------------------------ */

static bool
safe_folder_name(const char *name)
{
	return name != NULL && name[0] != '\0' && name[0] != '.' &&
	    strchr(name, '/') == NULL;
}

/* NAME made unique in TAKEN (which keeps it): "x.png", "x_1.png", ... */
static char *
unique_name(
    GHashTable *taken, const char *dir, const char *stem, const char *ext)
{
	char *name = mirad_xasprintf("%s/%s%s", dir, stem, ext);

	for (unsigned k = 1; g_hash_table_contains(taken, name); k++) {
		free(name);
		name = mirad_xasprintf("%s/%s_%u%s", dir, stem, k, ext);
	}
	g_hash_table_add(taken, mirad_xstrdup(name));
	return name;
}

/*
 * Where the image and mask of R go under the output, for a record whose
 * paths are absolute or climb with "..": relative to the record's root
 * when they lie inside it, else where mirad-convert --to mirad puts them,
 * CATEGORY/SPLIT/good|anomaly/ and CATEGORY/ground_truth/anomaly/, under
 * their own file names (made unique).  -1 when the category cannot be a
 * folder name.
 */
static int
place_record(
    const struct mirad_record *r, GHashTable *taken, char **image, char **mask)
{
	const char *rels[2] = {r->image, r->mask};
	char *placed[2] = {NULL, NULL};
	char *root = mirad_path_absolute(r->root != NULL ? r->root : ".");
	const char *split;
	char *stem;

	for (int k = 0; k < 2 && root != NULL; k++) {
		char *full, *abs;

		if (rels[k] == NULL)
			continue;
		full = mirad_record_path(r, rels[k]);
		abs = mirad_path_absolute(full);
		free(full);
		if (abs != NULL && strcmp(abs, root) != 0 &&
		    mirad_path_within(abs, root)) {
			const char *rel =
			    abs + strlen(root) + (root[1] != '\0');

			if (!mirad_path_escapes(rel))
				placed[k] = mirad_xstrdup(rel);
		}
		free(abs);
	}
	free(root);
	if (placed[0] != NULL && (r->mask == NULL || placed[1] != NULL) &&
	    !g_hash_table_contains(taken, placed[0])) {
		g_hash_table_add(taken, mirad_xstrdup(placed[0]));
		*image = placed[0];
		*mask = placed[1];
		return 0;
	}
	free(placed[0]);
	free(placed[1]);
	if (!safe_folder_name(r->category))
		return -1;
	split = r->split == NULL           ? "test"
	    : strcmp(r->split, "val") == 0 ? "validation"
	                                   : r->split;
	if (!safe_folder_name(split))
		return -1;
	{
		bool anomaly = mirad_record_is_anomaly(r);
		char *dir = mirad_xasprintf("%s/%s/%s", r->category, split,
		    anomaly ? "anomaly" : "good");

		stem = mirad_path_stem(r->image);
		*image =
		    unique_name(taken, dir, stem, mirad_path_ext(r->image));
		free(dir);
	}
	*mask = NULL;
	if (r->mask != NULL) {
		char *placed_stem = mirad_path_stem(*image);
		char *mdir =
		    mirad_xasprintf("%s/ground_truth/anomaly", r->category);

		*mask = mirad_xasprintf("%s/%s_mask.png", mdir, placed_stem);
		free(mdir);
		free(placed_stem);
	}
	free(stem);
	return 0;
}

/* ---- --shard and --merge --------------------------------------------- */

/* What decides the output, so parts of different jobs are not mixed. */
static void
job_fingerprint(const struct run *run, int sev_lo, int sev_hi,
    const struct mirad_recordset *records, char hex[65])
{
	struct mirad_shard_job *j = mirad_shard_job_new("mirad-augment");
	char buf[64];

	mirad_shard_job_add(j, "profile", run->profile->name);
	mirad_shard_job_add(j, "profile-digest", run->profile->digest);
	snprintf(buf, sizeof buf, "0x%016" PRIx64, run->run_seed);
	mirad_shard_job_add(j, "seed", buf);
	snprintf(buf, sizeof buf, "%d-%d", sev_lo, sev_hi);
	mirad_shard_job_add(j, "severities", buf);
	snprintf(buf, sizeof buf, "%u", run->opt->variants);
	mirad_shard_job_add(j, "variants", buf);
	for (size_t i = 0; i < records->count; i++)
		mirad_shard_job_add_record(j, records->items[i]);
	mirad_shard_job_finish(j, hex);
}

/* Does FULL (a file in the shard's private folder) exist? */
static bool
written(const char *full)
{
	struct stat st;

	return lstat(full, &st) == 0 && !S_ISDIR(st.st_mode);
}

/*
 * The shard's metadata: per (image, variant) pair of the shard, its place
 * in the single run, the files it left (image and mask, also of a pair
 * skipped after writing them, as one run leaves them), its manifest line
 * or why it was skipped.
 */
static int
write_shard(const struct run *run, size_t total, const char *job, int status,
    char *err, size_t errlen)
{
	struct mirad_shard_writer *w;
	GHashTable *listed =
	    g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	int rc = 0;

	w = mirad_shard_writer_open(run->tmpdir, run->target, "mirad-augment",
	    run->opt->shard_index, run->opt->shard_count, job, total, NULL, err,
	    errlen);
	if (w == NULL) {
		g_hash_table_destroy(listed);
		return -1;
	}
	for (size_t i = 0; i < run->njobs && rc == 0; i++) {
		const struct job *j = &run->jobs[i];
		const char *rels[2] = {j->image_rel, j->mask_rel};
		char *files[2] = {NULL, NULL};
		char *sub = variant_dir(run, j);
		size_t nfiles = 0;
		cJSON *rec = NULL, *data = NULL;

		for (int k = 0; k < 2; k++) {
			char *rel, *full;

			if (rels[k] == NULL)
				continue;
			rel = mirad_path_join(sub, rels[k]);
			full = mirad_path_join(run->tmpdir, rel);
			if (written(full) &&
			    !g_hash_table_contains(listed, rel)) {
				g_hash_table_add(listed, mirad_xstrdup(rel));
				files[nfiles++] = rel;
			} else {
				free(rel);
			}
			free(full);
		}
		if (j->line != NULL) {
			rec = cJSON_Parse(j->line);
			if (rec != NULL) /* the extra fields' text as read */
				mirad_json_keep_text(
				    rec, j->line, strlen(j->line), NULL);
		}
		if (j->problem != NULL) {
			data = cJSON_CreateObject();
			cJSON_AddStringToObject(data, "problem", j->problem);
		}
		rc = mirad_shard_writer_add(w, j->seq,
		    (const char *const *)files, nfiles, rec, data, err, errlen);
		cJSON_Delete(rec);
		cJSON_Delete(data);
		free(files[0]);
		free(files[1]);
		free(sub);
	}
	g_hash_table_destroy(listed);
	if (rc != 0) {
		mirad_shard_writer_abort(w);
		return -1;
	}
	return mirad_shard_writer_close(w, status, err, errlen);
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
	if (mirad_shard_load((const char *const *)o->parts, (size_t)o->nparts,
	        "mirad-augment", &set, err, sizeof err) != 0)
		mirad_die(MIRAD_EXIT_FATAL, "%s", err);
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
	struct run run = {0};
	char err[1024], job[65];
	size_t total = 0; /* pairs of the single run */
	size_t rendered = 0;
	char *target, **image_rels, **mask_rels;
	GHashTable *taken;
	int status = MIRAD_EXIT_OK, sev_lo, sev_hi, out_status, refusal;
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
	if (mirad_outdir_lock(&out, target, o.force ? MIRAD_OUTDIR_FORCE : 0) !=
	    MIRAD_OUTDIR_OK)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno,
		    "%s: cannot lock (another mirad-augment writing it?)",
		    o.output);

	mirad_dataset_show_as_given(o.input);
	if (mirad_dataset_load(
	        o.input, &o.in, &records, &info, err, sizeof err) != 0) {
		stop_if_interrupted();
		mirad_die(MIRAD_EXIT_FATAL, "%s", err);
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

	sev_lo = sev_hi = o.severity > 0 ? o.severity : profile.severity;
	if (o.severity < 0)
		sev_lo = 1, sev_hi = 5;
	run.opt = &o;
	run.profile = &profile;
	run.run_seed = o.have_seed ? o.seed : profile.seed;
	run.target = target;
	run.subdirs = sev_hi > sev_lo || o.variants > 1;
	run.jobs = mirad_xcalloc(
	    records.count * (size_t)(sev_hi - sev_lo + 1) * o.variants + 1,
	    sizeof *run.jobs);
	/* Where each record's files go: relative paths as they are, the
	 * others placed by place_record(), clear of the relative ones. */
	image_rels = mirad_xcalloc(records.count + 1, sizeof *image_rels);
	mask_rels = mirad_xcalloc(records.count + 1, sizeof *mask_rels);
	taken = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	for (size_t i = 0; i < records.count; i++) {
		const struct mirad_record *r = records.items[i];

		if (!mirad_path_escapes(r->image) &&
		    (r->mask == NULL || !mirad_path_escapes(r->mask))) {
			image_rels[i] = mirad_xstrdup(r->image);
			mask_rels[i] = r->mask ? mirad_xstrdup(r->mask) : NULL;
			g_hash_table_add(taken, mirad_xstrdup(r->image));
		}
	}
	for (size_t i = 0; i < records.count; i++) {
		const struct mirad_record *r = records.items[i];

		if (image_rels[i] == NULL &&
		    place_record(r, taken, &image_rels[i], &mask_rels[i]) !=
		        0) {
			mirad_warn("%s: absolute or '..' path and category "
			           "'%s' is no folder name: cannot place it "
			           "under the output; skipped",
			    r->image, r->category ? r->category : "");
			status = MIRAD_EXIT_PARTIAL;
			continue;
		}
		for (int s = sev_lo; s <= sev_hi; s++)
			for (unsigned v = 0; v < o.variants; v++) {
				char *vid = mirad_xasprintf(
				    "%s@s%d#%u", profile.name, s, v);

				if (in_shard(&o, r->image, vid)) {
					struct job *j = &run.jobs[run.njobs++];

					j->seq = total;
					j->record = r;
					j->image_rel = image_rels[i];
					j->mask_rel = mask_rels[i];
					j->severity = s;
					j->variant = v;
				}
				free(vid);
				total++;
			}
	}
	g_hash_table_destroy(taken);
	if (o.shard_count > 0)
		job_fingerprint(&run, sev_lo, sev_hi, &records, job);

	if (mirad_outdir_make_temp(out) != MIRAD_OUTDIR_OK)
		mirad_die(
		    MIRAD_EXIT_FATAL, "%s: %s", o.output, strerror(errno));
	run.tmpdir = mirad_outdir_temp(out);
	mirad_progress_start("augmenting", run.njobs);
	(void)mirad_parallel_for(
	    run.njobs, o.jobs, render_item, render_thread_end, &run, NULL);
	mirad_progress_end();
	/* Interrupted: leave no partial output and no lock behind. */
	stop_if_interrupted();

	for (size_t i = 0; i < run.njobs; i++) {
		struct job *j = &run.jobs[i];

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
		if (write_shard(&run, total, job, status, err, sizeof err) != 0)
			mirad_die(MIRAD_EXIT_FATAL, "%s", err);
	} else if (mirad_output_mark(run.tmpdir, "mirad-augment") != 0) {
		mirad_die(
		    MIRAD_EXIT_FATAL, "%s: %s", o.output, strerror(errno));
	}
	stop_if_interrupted();
	if (mirad_outdir_commit(out) != MIRAD_OUTDIR_OK)
		mirad_die(MIRAD_EXIT_FATAL, "%s: %s (nothing was published)",
		    o.output, strerror(errno));
	for (size_t i = 0; i < run.njobs; i++) {
		struct job *j = &run.jobs[i];

		if (j->line != NULL)
			printf("%s\n", j->line);
		cJSON_free(j->line);
		free(j->problem);
	}
	out_status = mirad_close_stdout(status);
	if (out_status != status)
		mirad_warn("%s: the dataset was published; only its manifest "
		           "on standard output is incomplete",
		    o.output);
	for (size_t i = 0; i < records.count; i++) {
		free(image_rels[i]);
		free(mask_rels[i]);
	}
	free(image_rels);
	free(mask_rels);
	free(run.jobs);
	free(target);
	cJSON_Delete(info.header);
	free(info.duplicates);
	mirad_recordset_clear(&records);
	augment_profile_free(&profile);
	mirad_image_shutdown();
	return out_status;
}
