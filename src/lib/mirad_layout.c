/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "mirad_csv.h"
#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_image.h"
#include "mirad_layout.h"
#include "mirad_parallel.h"
#include "mirad_progress.h"

static const char *const layout_names[] = {
    "auto", "mirad", "mvtec", "visa", "visa-prepared"};

const char *
mirad_layout_name(enum mirad_layout layout)
{
	if ((unsigned)layout >= sizeof layout_names / sizeof *layout_names)
		return "unknown";
	return layout_names[layout];
}

int
mirad_layout_from_name(const char *name, enum mirad_layout *out)
{
	for (size_t i = 0; i < sizeof layout_names / sizeof *layout_names;
	     i++) {
		if (strcmp(name, layout_names[i]) == 0) {
			*out = (enum mirad_layout)i;
			return 0;
		}
	}
	return -1;
}

/* Files that are never data: hidden files, OS droppings. */
static bool
is_junk(const char *name)
{
	return name[0] == '.' || strcasecmp(name, "Thumbs.db") == 0 ||
	    strcasecmp(name, "desktop.ini") == 0;
}

struct scan {
	const struct mirad_scan_options *opts;
	struct mirad_scan_stats *stats;
	struct mirad_recordset *out;
	const char *root; /* as given, for messages */
	char *abs_root;   /* absolute, stored in records */
	enum mirad_layout layout;
	/* Records whose image (LISTED_IMAGE) or mask (LISTED_MASK) the
	 * listing saw as a regular file: their headers need no stat(). */
	GHashTable *listed_regular;
	struct header_pool *headers; /* NULL when sizes are not read */
};

enum {
	LISTED_IMAGE = 1,
	LISTED_MASK = 2
};

struct header_pool;

static void problem(struct scan *s, const char *rel, const char *fmt, ...)
    MIRAD_PRINTF(3, 4);

static void
problem(struct scan *s, const char *rel, const char *fmt, ...)
{
	char why[512];
	char *where;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof why, fmt, ap);
	va_end(ap);
	s->stats->problems++;
	if (s->opts->problem == NULL)
		return;
	where = mirad_path_join(s->root, rel);
	s->opts->problem(s->opts->problem_ctx, where, why);
	free(where);
}

/* Does DIR (relative to the root) exist as a directory? */
static bool
has_dir(struct scan *s, const char *rel)
{
	char *p = mirad_path_join(s->abs_root, rel);
	bool yes = mirad_is_dir(p);

	free(p);
	return yes;
}

/* list_rel() with what each entry is (mirad_list_dir_kinds()): no stat()
 * per file of a large folder. */
static int
list_rel_typed(struct scan *s, const char *rel, struct mirad_strlist *names,
    enum mirad_entry_kind **kinds)
{
	char *p = mirad_path_join(s->abs_root, rel);
	int rc = mirad_list_dir_kinds(p, names, kinds);

	free(p);
	return rc;
}

static int
list_rel(struct scan *s, const char *rel, struct mirad_strlist *names)
{
	char *p = mirad_path_join(s->abs_root, rel);
	int rc = mirad_list_dir(p, names);

	free(p);
	return rc;
}

/* ---- masks ------------------------------------------------------------ */

struct mask_entry {
	char *rel; /* path relative to the root */
	bool used;
	bool regular; /* listed as a regular file */
};

static void
mask_entry_free(gpointer p)
{
	struct mask_entry *m = p;

	free(m->rel);
	free(m);
}

/* A mask's stem with a trailing "_mask" removed. */
static char *
mask_stem(const char *name)
{
	char *stem = mirad_path_stem(name);
	size_t n = strlen(stem);

	if (n > 5 && strcmp(stem + n - 5, "_mask") == 0)
		stem[n - 5] = '\0';
	return stem;
}

static void
index_mask(struct scan *s, GHashTable *idx, const char *key, const char *rel,
    bool regular)
{
	struct mask_entry *m;

	if (g_hash_table_contains(idx, key)) {
		problem(s, rel, "second mask for the same image (ignored)");
		return;
	}
	m = mirad_xcalloc(1, sizeof *m);
	m->rel = mirad_xstrdup(rel);
	m->regular = regular;
	g_hash_table_insert(idx, mirad_xstrdup(key), m);
}

/*
 * Index ground_truth/ of category CAT.  Keys are "SPLIT/DEFECT/STEM" with
 * '*' for a level the tree does not name.
 */
static void
index_masks(struct scan *s, const char *cat, GHashTable *idx)
{
	char *gt = mirad_xasprintf("%s/ground_truth", cat);
	struct mirad_strlist l1;
	enum mirad_entry_kind *l1_kind;

	if (list_rel_typed(s, gt, &l1, &l1_kind) != 0) {
		free(gt);
		return;
	}
	for (size_t i = 0; i < l1.count; i++) {
		char *rel1 = mirad_path_join(gt, l1.items[i]);
		struct mirad_strlist l2;
		enum mirad_entry_kind *l2_kind;

		if (is_junk(l1.items[i])) {
			s->stats->ignored++;
		} else if (l1_kind[i] != MIRAD_ENTRY_DIR) {
			if (mirad_image_has_image_ext(l1.items[i])) {
				char *stem = mask_stem(l1.items[i]);
				char *key = mirad_xasprintf("*/*/%s", stem);

				index_mask(s, idx, key, rel1,
				    l1_kind[i] == MIRAD_ENTRY_REGULAR);
				free(key);
				free(stem);
			} else {
				s->stats->ignored++;
			}
		} else if (list_rel_typed(s, rel1, &l2, &l2_kind) == 0) {
			bool split_level =
			    s->layout == MIRAD_LAYOUT_VISA_PREPARED &&
			    (strcmp(l1.items[i], "train") == 0 ||
			        strcmp(l1.items[i], "test") == 0);

			for (size_t j = 0; j < l2.count; j++) {
				char *rel2 = mirad_path_join(rel1, l2.items[j]);
				struct mirad_strlist l3;

				if (is_junk(l2.items[j])) {
					s->stats->ignored++;
				} else if (l2_kind[j] != MIRAD_ENTRY_DIR) {
					if (mirad_image_has_image_ext(
					        l2.items[j])) {
						char *stem =
						    mask_stem(l2.items[j]);
						char *key =
						    mirad_xasprintf("*/%s/%s",
						        l1.items[i], stem);

						index_mask(s, idx, key, rel2,
						    l2_kind[j] ==
						        MIRAD_ENTRY_REGULAR);
						free(key);
						free(stem);
					} else {
						s->stats->ignored++;
					}
				} else if (split_level &&
				    list_rel(s, rel2, &l3) == 0) {
					/* VisA 2cls: ground_truth/SPLIT/bad */
					for (size_t k = 0; k < l3.count; k++) {
						char *rel3 = mirad_path_join(
						    rel2, l3.items[k]);

						if (is_junk(l3.items[k]) ||
						    !mirad_image_has_image_ext(
						        l3.items[k])) {
							s->stats->ignored++;
						} else {
							char *stem = mask_stem(
							    l3.items[k]);
							char *key =
							    mirad_xasprintf(
							        "%s/%s/%s",
							        l1.items[i],
							        l2.items[j],
							        stem);

							index_mask(s, idx, key,
							    rel3, false);
							free(key);
							free(stem);
						}
						free(rel3);
					}
					mirad_strlist_free(&l3);
				} else {
					/* MVTec LOCO: a folder of masks per
					 * image, named after the image. */
					char *key = mirad_xasprintf("*/%s/%s",
					    l1.items[i], l2.items[j]);

					index_mask(s, idx, key, rel2, false);
					free(key);
				}
				free(rel2);
			}
			mirad_strlist_free(&l2);
			free(l2_kind);
		}
		free(rel1);
	}
	mirad_strlist_free(&l1);
	free(l1_kind);
	free(gt);
}

static struct mask_entry *
find_mask(
    GHashTable *idx, const char *split, const char *defect, const char *stem)
{
	char *keys[3];
	struct mask_entry *m = NULL;

	keys[0] = mirad_xasprintf("%s/%s/%s", split, defect, stem);
	keys[1] = mirad_xasprintf("*/%s/%s", defect, stem);
	keys[2] = mirad_xasprintf("*/*/%s", stem);
	for (int i = 0; i < 3 && m == NULL; i++) {
		m = g_hash_table_lookup(idx, keys[i]);
		if (m != NULL && m->used)
			m = NULL;
	}
	for (int i = 0; i < 3; i++)
		free(keys[i]);
	return m;
}

/* ---- records ---------------------------------------------------------- */

/*
 * Image and mask headers, read after the listing so that both cores can
 * work on them.
 * Problems are then reported in record order, the same on every run.
 */
struct header_job {
	struct mirad_record *record;
	struct mirad_image_info image, mask;
	int image_rc, mask_rc; /* 0 ok, -1 error, 1 not read */
	bool reported;         /* a problem was reported for the record */
	/* Where each file is: its folder (an index into the pool's folder
	 * descriptors, -1 for none) and its name there. */
	int image_dir, mask_dir;
	const char *image_name, *mask_name;
	guint listed; /* LISTED_IMAGE, LISTED_MASK */
	/* Why the image, or else the mask, could not be read: the mask is
	 * read only after its image (one buffer keeps the jobs small). */
	char err[160];
};

/* Jobs go to the threads in batches, as the listing finds them. */
#define HEADER_BATCH 64

struct header_batch {
	struct header_pool *pool;
	size_t count;
	struct header_job jobs[HEADER_BATCH];
};

struct header_pool {
	const char *root;
	size_t first;         /* the scan's first record */
	size_t queued;        /* records from FIRST handed to a batch */
	GPtrArray *batches;   /* in record order; owned */
	GThreadPool *threads; /* NULL: batches run when queued */
	GHashTable *dirs;     /* folder (relative) -> index + 1 */
	int *dir_fds;         /* the folders the files are in, open */
	size_t ndirs;
};

/* The header of the file REL, in folder DIR (-1: none) under NAME. */
static int
header_of(const struct header_pool *pool, int dir, const char *name,
    bool listed_regular, const char *rel, struct mirad_image_info *info,
    char *err, size_t errlen)
{
	char *path;
	int rc = 1;

	if (dir >= 0)
		rc = mirad_image_header_at(pool->dir_fds[dir], name,
		    listed_regular, info, err, errlen);
	if (rc != 1)
		return rc;
	/* No folder, or a format only libvips describes: by path. */
	path = mirad_path_join(pool->root, rel);
	rc = mirad_image_header(path, info, err, errlen);
	free(path);
	return rc;
}

static void
read_one_header(struct header_job *job, const struct header_pool *pool)
{
	struct mirad_record *r = job->record;

	job->image_rc = header_of(pool, job->image_dir, job->image_name,
	    (job->listed & LISTED_IMAGE) != 0, r->image, &job->image, job->err,
	    sizeof job->err);
	job->mask_rc = 1;
	if (job->image_rc != 0 || r->mask == NULL)
		return;
	job->mask_rc = header_of(pool, job->mask_dir, job->mask_name,
	    (job->listed & LISTED_MASK) != 0, r->mask, &job->mask, job->err,
	    sizeof job->err);
	/* A folder of masks (MVTec LOCO) has no header to read. */
	if (job->mask_rc != 0 && errno == EISDIR)
		job->mask_rc = 1;
}

static void
run_batch(gpointer data, gpointer unused)
{
	struct header_batch *b = data;

	(void)unused;
	for (size_t i = 0; i < b->count; i++)
		read_one_header(&b->jobs[i], b->pool);
	mirad_progress_add(b->count);
	/* libvips' buffers of this thread, if a header needed it. */
	mirad_image_thread_done();
}

/* At most this many folders are held open; files in others are read by
 * path. */
#define HEADER_MAX_DIRS 256

/*
 * The folder of REL (relative to the pool's root) as an index into
 * POOL->dir_fds, opening it on first sight (DIRS maps the folder's
 * relative path to its index + 1); *NAME is REL's last component.  -1
 * when it cannot be held open.
 */
static int
header_dir(struct header_pool *pool, GHashTable *dirs, const char *rel,
    const char **name)
{
	const char *slash = strrchr(rel, '/');
	/* "a/b.png" is in "a", "b.png" in the root, "/b.png" in "/". */
	char *dir = slash == rel
	    ? g_strdup("/")
	    : g_strndup(rel, slash ? (size_t)(slash - rel) : 0);
	gpointer known = g_hash_table_lookup(dirs, dir);
	char *path;
	int fd;

	*name = slash ? slash + 1 : rel;
	if (known != NULL) {
		g_free(dir);
		return GPOINTER_TO_INT(known) - 1;
	}
	if (pool->ndirs == HEADER_MAX_DIRS || **name == '\0') {
		g_free(dir);
		return -1;
	}
	path = mirad_path_join(pool->root, dir);
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(path);
	if (fd < 0) {
		g_free(dir);
		return -1;
	}
	pool->dir_fds[pool->ndirs++] = fd;
	g_hash_table_insert(dirs, dir, GINT_TO_POINTER((int)pool->ndirs));
	return (int)pool->ndirs - 1;
}

/* Record JOB's header in its record, or report its problem. */
static void
report_header(struct scan *s, struct header_job *job)
{
	struct mirad_record *r = job->record;

	if (job->image_rc != 0) {
		problem(s, r->image, "unreadable image: %s", job->err);
		job->reported = true;
		return;
	}
	r->width = job->image.width;
	r->height = job->image.height;
	r->channels = job->image.bands;
	if (job->mask_rc < 0) {
		problem(s, r->mask, "unreadable mask: %s", job->err);
		job->reported = true;
	} else if (job->mask_rc == 0 &&
	    (job->mask.width != job->image.width ||
	        job->mask.height != job->image.height)) {
		problem(s, r->mask, "mask is %dx%d, image is %dx%d",
		    job->mask.width, job->mask.height, job->image.width,
		    job->image.height);
		job->reported = true;
	}
}

/* JOB's folders (each opened once for all the files in it: a header then
 * costs the kernel one name's lookup, not a whole path's) and what the
 * listing saw. */
static void
prepare_job(struct scan *s, struct header_job *job)
{
	struct header_pool *pool = s->headers;
	const struct mirad_record *r = job->record;

	job->listed =
	    GPOINTER_TO_UINT(g_hash_table_lookup(s->listed_regular, r));
	job->image_dir =
	    header_dir(pool, pool->dirs, r->image, &job->image_name);
	job->mask_dir = r->mask == NULL
	    ? -1
	    : header_dir(pool, pool->dirs, r->mask, &job->mask_name);
}

/*
 * Hand the records the scan added since the last call to the header
 * threads, so that they read while the listing goes on.  Call only when
 * those records are final (a category's, once its folders are listed).
 */
static void
queue_headers(struct scan *s)
{
	struct header_pool *pool = s->headers;

	if (pool == NULL)
		return;
	while (pool->first + pool->queued < s->out->count) {
		struct header_batch *b = mirad_xcalloc(1, sizeof *b);

		b->pool = pool;
		while (b->count < HEADER_BATCH &&
		    pool->first + pool->queued < s->out->count) {
			struct header_job *job = &b->jobs[b->count++];

			job->record = s->out->items[pool->first + pool->queued];
			pool->queued++;
			prepare_job(s, job);
		}
		g_ptr_array_add(pool->batches, b);
		if (pool->threads == NULL ||
		    !g_thread_pool_push(pool->threads, b, NULL))
			run_batch(b, NULL);
	}
}

static void
start_headers(struct scan *s, size_t first)
{
	struct header_pool *pool;
	int nthreads = mirad_image_threads();

	if (!s->opts->read_sizes)
		return;
	pool = s->headers = mirad_xcalloc(1, sizeof *pool);
	pool->root = s->abs_root;
	pool->first = first;
	pool->batches = g_ptr_array_new_with_free_func(free);
	pool->dirs =
	    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	pool->dir_fds = mirad_xcalloc(HEADER_MAX_DIRS, sizeof *pool->dir_fds);
	/* Without threads the batches run as they are queued. */
	if (nthreads > 1)
		pool->threads =
		    g_thread_pool_new(run_batch, NULL, nthreads, FALSE, NULL);
	mirad_progress_start("reading headers", 0);
}

/* Wait for the header threads, then (SCANNED: the scan succeeded) record
 * each header or report its problem, in record order, the same on every
 * run. */
static void
finish_headers(struct scan *s, bool scanned)
{
	struct header_pool *pool = s->headers;
	size_t count = 0;
	bool *drop = NULL;

	if (pool == NULL)
		return;
	if (scanned) {
		queue_headers(s);
		mirad_progress_set_total(pool->queued);
	}
	if (pool->threads != NULL)
		g_thread_pool_free(pool->threads, FALSE, TRUE);
	mirad_progress_end();
	for (size_t i = 0; i < pool->ndirs; i++)
		close(pool->dir_fds[i]);
	if (scanned && s->opts->drop_reported)
		drop = mirad_xcalloc(s->out->count, sizeof *drop);
	for (guint k = 0; scanned && k < pool->batches->len; k++) {
		struct header_batch *b = pool->batches->pdata[k];

		for (size_t i = 0; i < b->count; i++, count++) {
			report_header(s, &b->jobs[i]);
			if (drop != NULL)
				drop[pool->first + count] = b->jobs[i].reported;
		}
	}
	if (drop != NULL) {
		mirad_recordset_drop(s->out, drop);
		free(drop);
	}
	g_ptr_array_free(pool->batches, TRUE);
	g_hash_table_destroy(pool->dirs);
	free(pool->dir_fds);
	free(pool);
	s->headers = NULL;
}

static struct mirad_record *
new_record(struct scan *s, const char *cat, const char *split,
    const char *label, const char *defect, const char *image_rel)
{
	struct mirad_record *r = mirad_record_new();

	r->category = mirad_xstrdup(cat);
	r->split = mirad_xstrdup(split);
	r->label = mirad_xstrdup(label);
	r->defect = mirad_xstrdup(defect);
	r->image = mirad_xstrdup(image_rel);
	r->root = mirad_xstrdup(s->abs_root);
	return r;
}

/* Scan CAT/DIRNAME/LABEL/ (e.g. bottle/test/crack). */
static void
scan_label_dir(struct scan *s, const char *cat, const char *dirname,
    const char *split, const char *label_dir, GHashTable *masks)
{
	char *rel = mirad_xasprintf("%s/%s/%s", cat, dirname, label_dir);
	bool normal = strcmp(label_dir, "good") == 0;
	struct mirad_strlist files;
	enum mirad_entry_kind *kind;

	if (list_rel_typed(s, rel, &files, &kind) != 0) {
		problem(s, rel, "cannot read folder: %s", strerror(errno));
		free(rel);
		return;
	}
	if (!normal && strcmp(split, "test") != 0 &&
	    s->layout != MIRAD_LAYOUT_VISA_PREPARED) {
		problem(
		    s, rel, "anomalous images under %s/ (skipped)", dirname);
		mirad_strlist_free(&files);
		free(kind);
		free(rel);
		return;
	}
	for (size_t i = 0; i < files.count; i++) {
		const char *name = files.items[i];
		char *frel = mirad_path_join(rel, name);
		struct mirad_record *r;

		if (is_junk(name)) {
			s->stats->ignored++;
		} else if (kind[i] == MIRAD_ENTRY_DIR) {
			problem(s, frel, "unexpected folder (skipped)");
		} else if (!mirad_image_has_image_ext(name)) {
			s->stats->ignored++;
		} else {
			guint listed =
			    kind[i] == MIRAD_ENTRY_REGULAR ? LISTED_IMAGE : 0;

			r = new_record(s, cat, split,
			    normal ? "normal" : "anomaly", label_dir, frel);
			if (!normal) {
				char *stem = mirad_path_stem(name);
				struct mask_entry *m =
				    find_mask(masks, split, label_dir, stem);

				if (m != NULL) {
					m->used = true;
					r->mask = mirad_xstrdup(m->rel);
					if (m->regular)
						listed |= LISTED_MASK;
				} else {
					problem(
					    s, frel, "anomaly without a mask");
				}
				free(stem);
			}
			mirad_recordset_push(s->out, r);
			if (listed != 0)
				g_hash_table_insert(s->listed_regular, r,
				    GUINT_TO_POINTER(listed));
		}
		free(frel);
	}
	mirad_strlist_free(&files);
	free(kind);
	free(rel);
}

static void
scan_split_dir(struct scan *s, const char *cat, const char *dirname,
    const char *split, GHashTable *masks)
{
	char *rel = mirad_path_join(cat, dirname);
	struct mirad_strlist labels;
	enum mirad_entry_kind *label_kind;

	if (list_rel_typed(s, rel, &labels, &label_kind) != 0) {
		problem(s, rel, "cannot read folder: %s", strerror(errno));
		free(rel);
		return;
	}
	for (size_t i = 0; i < labels.count; i++) {
		char *lrel = mirad_path_join(rel, labels.items[i]);

		if (is_junk(labels.items[i])) {
			s->stats->ignored++;
		} else if (label_kind[i] != MIRAD_ENTRY_DIR) {
			if (mirad_image_has_image_ext(labels.items[i]))
				problem(s, lrel,
				    "image outside a label folder (skipped)");
			else
				s->stats->ignored++;
		} else {
			scan_label_dir(
			    s, cat, dirname, split, labels.items[i], masks);
		}
		free(lrel);
	}
	mirad_strlist_free(&labels);
	free(label_kind);
	free(rel);
}

static void
report_unused_mask(gpointer key, gpointer value, gpointer data)
{
	struct mask_entry *m = value;
	struct scan *s = data;

	(void)key;
	if (!m->used)
		problem(s, m->rel, "mask without an image");
}

static int
cmp_mask_rel(const void *a, const void *b)
{
	const struct mask_entry *ma = *(struct mask_entry *const *)a;
	const struct mask_entry *mb = *(struct mask_entry *const *)b;

	return strcmp(ma->rel, mb->rel);
}

static void
scan_category(struct scan *s, const char *cat)
{
	GHashTable *masks = g_hash_table_new_full(
	    g_str_hash, g_str_equal, free, mask_entry_free);
	struct mirad_strlist entries;

	index_masks(s, cat, masks);
	if (list_rel(s, cat, &entries) != 0) {
		problem(s, cat, "cannot read folder: %s", strerror(errno));
		g_hash_table_destroy(masks);
		return;
	}
	for (size_t i = 0; i < entries.count; i++) {
		const char *name = entries.items[i];
		char *rel = mirad_path_join(cat, name);

		if (is_junk(name)) {
			s->stats->ignored++;
		} else if (!has_dir(s, rel)) {
			s->stats->ignored++; /* licence, readme, csv ... */
		} else if (strcmp(name, "train") == 0) {
			scan_split_dir(s, cat, name, "train", masks);
		} else if (strcmp(name, "test") == 0) {
			scan_split_dir(s, cat, name, "test", masks);
		} else if (strcmp(name, "validation") == 0 ||
		    strcmp(name, "val") == 0) {
			scan_split_dir(s, cat, name, "val", masks);
		} else if (strcmp(name, "ground_truth") != 0) {
			problem(s, rel, "unknown folder (skipped)");
		}
		free(rel);
	}
	mirad_strlist_free(&entries);

	/* Report unmatched masks in path order, not hash order. */
	{
		GList *vals = g_hash_table_get_values(masks);
		guint n = g_list_length(vals), k = 0;
		struct mask_entry **arr = mirad_xcalloc(n, sizeof *arr);

		for (GList *it = vals; it; it = it->next)
			arr[k++] = it->data;
		qsort(arr, n, sizeof *arr, cmp_mask_rel);
		for (guint i = 0; i < n; i++)
			report_unused_mask(NULL, arr[i], s);
		free(arr);
		g_list_free(vals);
	}
	g_hash_table_destroy(masks);
}

/* Category folders under the root: directories with train/ or test/. */
static int
scan_mvtec_family(struct scan *s, char *err, size_t errlen)
{
	struct mirad_strlist entries;
	size_t categories = 0;

	if (mirad_list_dir(s->abs_root, &entries) != 0) {
		snprintf(err, errlen, "%s: %s", s->root, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < entries.count; i++) {
		const char *name = entries.items[i];
		char *train = mirad_path_join(name, "train");
		char *test = mirad_path_join(name, "test");

		if (is_junk(name) || !has_dir(s, name)) {
			s->stats->ignored++;
		} else if (has_dir(s, train) || has_dir(s, test)) {
			scan_category(s, name);
			queue_headers(s);
			categories++;
		} else {
			problem(s, name,
			    "unknown folder: no train/ or test/ (skipped)");
		}
		free(train);
		free(test);
	}
	mirad_strlist_free(&entries);
	if (categories == 0) {
		snprintf(err, errlen, "%s: no category folders found", s->root);
		return -1;
	}
	return 0;
}

/* ---- VisA raw --------------------------------------------------------- */

/* A defect label from image_anno.csv as a folder-safe name. */
static char *
defect_name(const char *label)
{
	char *out, *p;

	if (strchr(label, ',') != NULL)
		return mirad_xstrdup("combined");
	while (*label == ' ')
		label++;
	out = mirad_xstrdup(label);
	for (p = out; *p; p++) {
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p + 32);
		else if (!((*p >= 'a' && *p <= 'z') ||
		             (*p >= '0' && *p <= '9')))
			*p = '_';
	}
	return *out ? out : (free(out), mirad_xstrdup("bad"));
}

/* Read <cls>/image_anno.csv into image path -> defect name, if present. */
static void
read_image_anno(struct scan *s, const char *cls, GHashTable *anno)
{
	char *rel = mirad_xasprintf("%s/image_anno.csv", cls);
	char *path = mirad_path_join(s->abs_root, rel);
	struct mirad_csv *c = mirad_csv_open(path);
	struct mirad_strlist row = {0};
	int ci, cl, rc;

	free(path);
	if (c == NULL) {
		free(rel);
		return;
	}
	if (mirad_csv_next(c, &row) != 1 ||
	    (ci = mirad_csv_column(&row, "image")) < 0 ||
	    (cl = mirad_csv_column(&row, "label")) < 0) {
		problem(s, rel, "no image,label header (ignored)");
		goto out;
	}
	while ((rc = mirad_csv_next(c, &row)) == 1) {
		if ((size_t)ci >= row.count || (size_t)cl >= row.count)
			continue;
		if (strcmp(row.items[cl], "normal") == 0)
			continue;
		g_hash_table_replace(anno, mirad_xstrdup(row.items[ci]),
		    defect_name(row.items[cl]));
	}
	if (rc < 0)
		problem(s, rel, "%s", mirad_csv_error(c));
out:
	mirad_strlist_free(&row);
	mirad_csv_close(c);
	free(rel);
}

static void
visa_listed_mark(GHashTable *listed, const char *image)
{
	g_hash_table_add(listed, mirad_xstrdup(image));
}

/* Images under <cls>/Data/Images/{Normal,Anomaly} that the CSV omits. */
static void
visa_report_unlisted(struct scan *s, GHashTable *listed, GHashTable *classes)
{
	GList *keys = g_hash_table_get_keys(classes);

	keys = g_list_sort(keys, (GCompareFunc)strcmp);
	for (GList *it = keys; it; it = it->next) {
		static const char *const sub[] = {"Normal", "Anomaly"};

		for (int k = 0; k < 2; k++) {
			char *dir = mirad_xasprintf(
			    "%s/Data/Images/%s", (char *)it->data, sub[k]);
			struct mirad_strlist files;

			if (list_rel(s, dir, &files) == 0) {
				for (size_t i = 0; i < files.count; i++) {
					char *f = mirad_path_join(
					    dir, files.items[i]);

					if (is_junk(files.items[i]) ||
					    !mirad_image_has_image_ext(
					        files.items[i]))
						s->stats->ignored++;
					else if (!g_hash_table_contains(
					             listed, f))
						problem(s, f,
						    "image not listed in the "
						    "split file (skipped)");
					free(f);
				}
				mirad_strlist_free(&files);
			}
			free(dir);
		}
	}
	g_list_free(keys);
}

static int
scan_visa_csv(struct scan *s, const char *csv_path, char *err, size_t errlen)
{
	struct mirad_csv *c = mirad_csv_open(csv_path);
	struct mirad_strlist row = {0};
	GHashTable *listed, *classes, *anno;
	int col[5], rc;
	size_t needed = 0; /* fields a row needs to reach every column */
	static const char *const names[] = {
	    "object", "split", "label", "image", "mask"};

	if (c == NULL) {
		snprintf(err, errlen, "%s: %s", csv_path, strerror(errno));
		return -1;
	}
	if (mirad_csv_next(c, &row) != 1) {
		snprintf(err, errlen, "%s: empty split file", csv_path);
		mirad_csv_close(c);
		return -1;
	}
	for (int i = 0; i < 5; i++) {
		col[i] = mirad_csv_column(&row, names[i]);
		if (col[i] < 0) {
			snprintf(err, errlen,
			    "%s: header has no \"%s\" column (expected "
			    "object,split,label,image,mask)",
			    csv_path, names[i]);
			mirad_strlist_free(&row);
			mirad_csv_close(c);
			return -1;
		}
		if ((size_t)col[i] + 1 > needed)
			needed = (size_t)col[i] + 1;
	}
	listed = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	classes = g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	anno = g_hash_table_new_full(g_str_hash, g_str_equal, free, free);
	while ((rc = mirad_csv_next(c, &row)) == 1) {
		char where[600];
		const char *object, *split, *label, *image, *mask;
		struct mirad_record *r;
		char *abs;

		snprintf(
		    where, sizeof where, "%s:%lu", csv_path, mirad_csv_line(c));
		if (row.count == 1 && row.items[0][0] == '\0')
			continue;
		if (row.count < needed) {
			char why[64];

			snprintf(why, sizeof why,
			    "expected %zu fields, got %zu", needed, row.count);
			s->stats->problems++;
			if (s->opts->problem)
				s->opts->problem(
				    s->opts->problem_ctx, where, why);
			continue;
		}
		object = row.items[col[0]];
		split = row.items[col[1]];
		label = row.items[col[2]];
		image = row.items[col[3]];
		mask = row.items[col[4]];
		if ((strcmp(split, "train") != 0 &&
		        strcmp(split, "test") != 0) ||
		    (strcmp(label, "normal") != 0 &&
		        strcmp(label, "anomaly") != 0) ||
		    *object == '\0' || mirad_path_escapes(image) ||
		    (*mask && mirad_path_escapes(mask))) {
			s->stats->problems++;
			if (s->opts->problem)
				s->opts->problem(s->opts->problem_ctx, where,
				    "bad row (split must be train/test, label "
				    "normal/anomaly, paths relative)");
			continue;
		}
		if (!g_hash_table_contains(classes, object)) {
			g_hash_table_add(classes, mirad_xstrdup(object));
			read_image_anno(s, object, anno);
		}
		abs = mirad_path_join(s->abs_root, image);
		if (!mirad_is_file(abs)) {
			problem(s, image, "listed in %s but missing",
			    mirad_path_basename(csv_path));
			free(abs);
			continue;
		}
		free(abs);
		visa_listed_mark(listed, image);
		if (strcmp(label, "normal") == 0) {
			r = new_record(
			    s, object, split, "normal", "good", image);
		} else {
			const char *d = g_hash_table_lookup(anno, image);

			r = new_record(
			    s, object, split, "anomaly", d ? d : "bad", image);
			if (*mask) {
				abs = mirad_path_join(s->abs_root, mask);
				if (mirad_is_file(abs))
					r->mask = mirad_xstrdup(mask);
				else
					problem(
					    s, mask, "mask listed but missing");
				free(abs);
			} else {
				problem(s, image, "anomaly without a mask");
			}
		}
		mirad_recordset_push(s->out, r);
	}
	if (rc < 0) {
		s->stats->problems++;
		if (s->opts->problem)
			s->opts->problem(
			    s->opts->problem_ctx, csv_path, mirad_csv_error(c));
	}
	visa_report_unlisted(s, listed, classes);
	mirad_strlist_free(&row);
	mirad_csv_close(c);
	g_hash_table_destroy(listed);
	g_hash_table_destroy(classes);
	g_hash_table_destroy(anno);
	return 0;
}

/* Without a split file: normal images train, anomalies test. */
static int
scan_visa_nocsv(struct scan *s, char *err, size_t errlen)
{
	struct mirad_strlist classes;
	size_t found = 0;

	if (mirad_list_dir(s->abs_root, &classes) != 0) {
		snprintf(err, errlen, "%s: %s", s->root, strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < classes.count; i++) {
		const char *cls = classes.items[i];
		char *images = mirad_xasprintf("%s/Data/Images", cls);

		if (!is_junk(cls) && has_dir(s, images)) {
			GHashTable *anno = g_hash_table_new_full(
			    g_str_hash, g_str_equal, free, free);

			read_image_anno(s, cls, anno);
			for (int k = 0; k < 2; k++) {
				char *dir = mirad_xasprintf(
				    "%s/%s", images, k ? "Anomaly" : "Normal");
				struct mirad_strlist files;

				if (list_rel(s, dir, &files) != 0) {
					free(dir);
					continue;
				}
				for (size_t j = 0; j < files.count; j++) {
					const char *f = files.items[j];
					char *rel = mirad_path_join(dir, f);
					struct mirad_record *r;

					if (is_junk(f) ||
					    !mirad_image_has_image_ext(f)) {
						s->stats->ignored++;
						free(rel);
						continue;
					}
					if (k == 0) {
						r = new_record(s, cls, "train",
						    "normal", "good", rel);
					} else {
						const char *d =
						    g_hash_table_lookup(
						        anno, rel);
						char *stem = mirad_path_stem(f);
						char *m = mirad_xasprintf(
						    "%s/Data/Masks/Anomaly/"
						    "%s.png",
						    cls, stem);
						char *mabs = mirad_path_join(
						    s->abs_root, m);

						r = new_record(s, cls, "test",
						    "anomaly", d ? d : "bad",
						    rel);
						if (mirad_is_file(mabs))
							r->mask = m;
						else {
							problem(s, rel,
							    "anomaly without a "
							    "mask");
							free(m);
						}
						free(mabs);
						free(stem);
					}
					mirad_recordset_push(s->out, r);
					free(rel);
					found++;
				}
				mirad_strlist_free(&files);
				free(dir);
			}
			g_hash_table_destroy(anno);
		} else {
			s->stats->ignored++;
		}
		free(images);
	}
	mirad_strlist_free(&classes);
	if (found == 0) {
		snprintf(err, errlen, "%s: no VisA images found", s->root);
		return -1;
	}
	return 0;
}

static int
scan_visa(struct scan *s, char *err, size_t errlen)
{
	char *csv;
	int rc;

	if (s->opts->split_csv != NULL)
		return scan_visa_csv(s, s->opts->split_csv, err, errlen);
	csv = mirad_path_join(s->abs_root, "split_csv/1cls.csv");
	if (mirad_is_file(csv))
		rc = scan_visa_csv(s, csv, err, errlen);
	else
		rc = scan_visa_nocsv(s, err, errlen);
	free(csv);
	return rc;
}

/* ---- detection -------------------------------------------------------- */

static bool
has_sub(const char *dir, const char *sub)
{
	char *p = mirad_path_join(dir, sub);
	bool yes = mirad_is_dir(p);

	free(p);
	return yes;
}

enum mirad_layout
mirad_layout_detect(const char *root)
{
	struct mirad_strlist entries;
	enum mirad_layout found = MIRAD_LAYOUT_AUTO;
	bool mvtec = false;
	char *p;

	p = mirad_path_join(root, "split_csv");
	if (mirad_is_dir(p)) {
		free(p);
		return MIRAD_LAYOUT_VISA;
	}
	free(p);
	if (mirad_list_dir(root, &entries) != 0)
		return MIRAD_LAYOUT_AUTO;
	for (size_t i = 0; i < entries.count && found == MIRAD_LAYOUT_AUTO;
	     i++) {
		const char *cat = entries.items[i];
		char *cdir;

		if (is_junk(cat))
			continue;
		cdir = mirad_path_join(root, cat);
		if (has_sub(cdir, "Data/Images"))
			found = MIRAD_LAYOUT_VISA;
		else if (has_sub(cdir, "test/bad") ||
		    has_sub(cdir, "train/bad") ||
		    has_sub(cdir, "ground_truth/test/bad"))
			found = MIRAD_LAYOUT_VISA_PREPARED;
		else if (has_sub(cdir, "test/anomaly"))
			found = MIRAD_LAYOUT_MIRAD;
		else if (has_sub(cdir, "train") || has_sub(cdir, "test"))
			mvtec = true;
		free(cdir);
	}
	mirad_strlist_free(&entries);
	if (found == MIRAD_LAYOUT_AUTO && mvtec)
		found = MIRAD_LAYOUT_MVTEC;
	return found;
}

int
mirad_layout_scan(const char *root, const struct mirad_scan_options *opts,
    struct mirad_recordset *out, struct mirad_scan_stats *stats, char *err,
    size_t errlen)
{
	struct scan s = {
	    opts, stats, out, root, NULL, opts->layout, NULL, NULL};
	size_t first = out->count;
	int rc;

	memset(stats, 0, sizeof *stats);
	if (!mirad_is_dir(root)) {
		snprintf(err, errlen, "%s: %s", root,
		    mirad_exists(root) ? "not a directory" : strerror(ENOENT));
		return -1;
	}
	s.abs_root = mirad_path_absolute(root);
	if (s.abs_root == NULL) {
		snprintf(err, errlen, "%s: %s", root, strerror(errno));
		return -1;
	}
	if (s.layout == MIRAD_LAYOUT_AUTO)
		s.layout = mirad_layout_detect(root);
	s.listed_regular = g_hash_table_new(g_direct_hash, g_direct_equal);
	start_headers(&s, first);
	stats->layout = s.layout;
	switch (s.layout) {
	case MIRAD_LAYOUT_VISA:
		rc = scan_visa(&s, err, errlen);
		break;
	case MIRAD_LAYOUT_MIRAD:
	case MIRAD_LAYOUT_MVTEC:
	case MIRAD_LAYOUT_VISA_PREPARED:
		rc = scan_mvtec_family(&s, err, errlen);
		break;
	default:
		snprintf(err, errlen,
		    "%s: cannot tell the layout (no <category>/train, "
		    "<category>/test or VisA Data/Images folders)",
		    root);
		rc = MIRAD_LAYOUT_UNKNOWN;
	}
	finish_headers(&s, rc == 0);
	g_hash_table_destroy(s.listed_regular);
	free(s.abs_root);
	if (rc == 0) {
		/* Sort only what this scan added. */
		mirad_recordset_sort_from(out, first);
	}
	return rc;
}
