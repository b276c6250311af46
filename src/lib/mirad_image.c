/* SPDX-License-Identifier: MIT */
/*
 * The part of mirad_image that needs no libvips: file checks, headers
 * through mirad_codec, and libvips' life cycle through the table of
 * mirad_image_vips.h (the program's own, or the module's, loaded on first
 * need).  Nothing here calls libvips directly, so a program that uses only
 * these functions does not link it.
 */
#include "mirad_platform.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gmodule.h>

#include "mirad_codec.h"
#include "mirad_fs.h"
#include "mirad_image.h"
#include "mirad_parallel.h"
#include "mirad_image_vips.h"

/* The module's file name, in MIRAD_MODULE_DIR, beside the program (a
 * build tree), or in the installed pkglibdir. */
#define VIPS_MODULE_FILE "mirad-vips." G_MODULE_SUFFIX

/* Atomic: worker threads ask whether libvips runs. */
static gint started;
/* Guards the start and the table; mirad_image_init_lazy()'s arguments,
 * for the first use. */
static GMutex start_lock;
static const struct mirad_image_vips_ops *vips_ops;
static const char *lazy_argv0;
static int lazy_jobs;

/*
 * libvips' words for the failures users meet, and what to say instead.
 * Its messages name the loader's internals ("vipspng: libpng read error")
 * and the absolute path; the caller already names the file as the user
 * gave it.
 */
static const struct {
	const char *libvips_says;
	const char *reason;
} known_errors[] = {
    {"is not a known file format", "not an image (unknown format)"},
    {"libpng read error", "truncated or damaged PNG"},
    {"Premature end of JPEG file", "truncated JPEG"},
    {"Premature end of input file", "truncated JPEG"},
    {"Not a JPEG file", "damaged JPEG"},
    {"Corrupt JPEG data", "damaged JPEG"},
    {"Not a TIFF", "damaged TIFF"},
    {"Read error on strip", "truncated TIFF"},
    {"Read error on tile", "truncated TIFF"},
    {"TIFFFillStrip", "truncated TIFF"},
    {"TIFFFillTile", "truncated TIFF"},
    {"TIFFReadDirectory: Failed to read directory", "damaged TIFF"},
    {"operation is blocked", "format not supported"},
};

void
mirad_image_reason(const char *libvips_message, char *err, size_t errlen)
{
	const char *msg = libvips_message ? libvips_message : "";
	const char *nl;

	for (size_t i = 0; i < sizeof known_errors / sizeof *known_errors;
	     i++) {
		if (strstr(msg, known_errors[i].libvips_says) != NULL) {
			snprintf(err, errlen, "%s", known_errors[i].reason);
			return;
		}
	}
	if (*msg == '\0') {
		snprintf(err, errlen, "image error");
		return;
	}
	/* Unknown: keep libvips' first line, the detail may help. */
	nl = strchr(msg, '\n');
	snprintf(
	    err, errlen, "%.*s", nl ? (int)(nl - msg) : (int)strlen(msg), msg);
}

int
mirad_image_start_with(const struct mirad_image_vips_ops *ops,
    const char *argv0, int jobs, char *err, size_t errlen)
{
	int rc = 0;

	g_mutex_lock(&start_lock);
	if (!g_atomic_int_get(&started)) {
		rc = ops->start(argv0, jobs, err, errlen);
		if (rc == 0) {
			vips_ops = ops;
			/* A full barrier: readers of STARTED see VIPS_OPS. */
			g_atomic_int_set(&started, true);
		}
	}
	g_mutex_unlock(&start_lock);
	return rc;
}

void
mirad_image_init_lazy(const char *argv0, int jobs)
{
	g_mutex_lock(&start_lock);
	lazy_argv0 = argv0;
	lazy_jobs = jobs;
	g_mutex_unlock(&start_lock);
}

/* Where the module FILE is: MIRAD_MODULE_DIR (tests), beside the
 * program (a build tree: tools and modules are all in src/), else the
 * installed one.  g_free() the result. */
static char *
module_path(const char *file)
{
	const char *dir = g_getenv("MIRAD_MODULE_DIR");
	char *exe, *path;

	if (dir != NULL && *dir != '\0')
		return g_build_filename(dir, file, NULL);
	exe = g_file_read_link("/proc/self/exe", NULL);
	if (exe != NULL) {
		char *bindir = g_path_get_dirname(exe);

		path = g_build_filename(bindir, file, NULL);
		g_free(bindir);
		g_free(exe);
		if (g_file_test(path, G_FILE_TEST_IS_REGULAR))
			return path;
		g_free(path);
	}
	return g_build_filename(MIRAD_PKGLIBDIR, file, NULL);
}

void *
mirad_image_module_symbol(
    const char *file, const char *symbol, char *err, size_t errlen)
{
	char *path = module_path(file);
	gpointer found = NULL;
	GModule *module;

	/* Immediate binding: a symbol missing from the program fails here,
	 * not in the middle of the work. */
	module = g_module_open(path, G_MODULE_BIND_LOCAL);
	if (module == NULL) {
		snprintf(err, errlen, "%s", g_module_error());
		g_free(path);
		return NULL;
	}
	if (!g_module_symbol(module, symbol, &found) || found == NULL) {
		snprintf(err, errlen, "%s: no %s", path, symbol);
		g_module_close(module);
		g_free(path);
		return NULL;
	}
	g_module_make_resident(module);
	g_free(path);
	return found;
}

/* The module's table, loading it once; NULL with ERR.  Called with
 * START_LOCK held. */
static const struct mirad_image_vips_ops *
vips_module_ops(char *err, size_t errlen)
{
	static const struct mirad_image_vips_ops *module_ops;
	mirad_image_vips_entry entry;
	char why[512];

	if (module_ops != NULL)
		return module_ops;
	entry = (mirad_image_vips_entry)mirad_image_module_symbol(
	    VIPS_MODULE_FILE, MIRAD_IMAGE_VIPS_MODULE_ENTRY, why, sizeof why);
	if (entry == NULL || entry()->abi != MIRAD_IMAGE_VIPS_ABI) {
		snprintf(err, errlen, "cannot load libvips: %s",
		    entry == NULL ? why : "the module is not this build's");
		return NULL;
	}
	module_ops = entry();
	return module_ops;
}

int
mirad_image_start_deferred(
    const struct mirad_image_vips_ops *linked, char *err, size_t errlen)
{
	const struct mirad_image_vips_ops *ops;
	int rc = 0;

	if (g_atomic_int_get(&started))
		return 0;
	g_mutex_lock(&start_lock);
	if (!g_atomic_int_get(&started)) {
		ops = linked != NULL ? linked : vips_module_ops(err, errlen);
		rc = -1;
		if (ops != NULL) {
			rc = ops->start(lazy_argv0, lazy_jobs, err, errlen);
			if (rc != 0)
				snprintf(err, errlen, "cannot start libvips");
		}
		if (rc == 0) {
			vips_ops = ops;
			g_atomic_int_set(&started, true);
		}
	}
	g_mutex_unlock(&start_lock);
	return rc;
}

int
mirad_image_threads(void)
{
	const char *env;
	int n;

	if (g_atomic_int_get(&started))
		return vips_ops->concurrency();
	if (lazy_jobs > 0)
		return lazy_jobs;
	/* What libvips would choose. */
	env = g_getenv("VIPS_CONCURRENCY");
	n = env != NULL ? atoi(env) : 0;
	return n > 0 ? n : (int)mirad_cpu_count();
}

void
mirad_image_thread_done(void)
{
	if (g_atomic_int_get(&started))
		vips_ops->thread_done();
}

void
mirad_image_shutdown(void)
{
	if (g_atomic_int_get(&started)) {
		vips_ops->shutdown();
		g_atomic_int_set(&started, false);
	}
}

const char *
mirad_image_library_version(void)
{
	/* Not started: the version built against, which is what would be
	 * loaded (the soname pins the major version). */
	if (g_atomic_int_get(&started))
		return vips_ops->version();
	return VIPS_VERSION;
}

bool
mirad_image_has_image_ext(const char *name)
{
	static const char *const exts[] = {
	    ".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"};
	const char *ext = mirad_path_ext(name);

	for (size_t i = 0; i < sizeof exts / sizeof *exts; i++)
		if (strcasecmp(ext, exts[i]) == 0)
			return true;
	return false;
}

/*
 * Open NAME (relative to the folder open on DIRFD, or AT_FDCWD) for
 * reading, after checking that it is a file the decoders may read: a
 * regular file (a FIFO or a terminal would block open() or read()
 * forever, a device such as /dev/zero never ends, and a libvips worker
 * blocked there cannot be interrupted; opening a device may have side
 * effects), and not empty.  The file is opened without blocking, so that a
 * FIFO put in its place after stat() is not waited on either (its reads
 * fail or end at once; no fstat() is spent on that race, which is one
 * system call per header).  Returns the descriptor (the caller closes it)
 * and its SIZE, or -1 with ERR (and errno EISDIR for a folder).
 */
static int
open_input_at(int dir, const char *name, off_t *size, char *err, size_t errlen)
{
	struct stat st;
	int fd;

	if (fstatat(dir, name, &st, 0) != 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	if (st.st_size == 0) {
		snprintf(err, errlen, "empty file");
		errno = EINVAL;
		return -1;
	}
	fd = openat(dir, name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	*size = st.st_size;
	return fd;
}

static int
open_input_file(const char *path, off_t *size, char *err, size_t errlen)
{
	return open_input_at(AT_FDCWD, path, size, err, errlen);
}

/* libvips 8.14 reads BMP only through ImageMagick, a large decoder for
 * hostile input, which stays blocked (mirad_image_init). */
static bool
refuse_bmp(const unsigned char *head, ssize_t n, char *err, size_t errlen)
{
	if (n >= 2 && head[0] == 'B' && head[1] == 'M') {
		snprintf(err, errlen,
		    "BMP is not supported: convert it to PNG first");
		return true;
	}
	return false;
}

/* A PNG cut short is "truncated PNG" here, where libvips' loader would
 * only say "read error". */
int
mirad_image_check_input(
    const char *path, char format[8], char *err, size_t errlen)
{
	struct mirad_codec_info c;
	unsigned char head[2];
	off_t size;
	int fd = open_input_file(path, &size, err, errlen);
	int rc;

	format[0] = '\0';
	if (fd < 0)
		return -1;
	rc = mirad_codec_header(fd, &c, err, errlen);
	if (rc == 0)
		memcpy(format, c.format, sizeof c.format);
	if (rc == MIRAD_CODEC_UNKNOWN)
		rc = refuse_bmp(
		         head, pread(fd, head, sizeof head, 0), err, errlen)
		    ? -1
		    : 0;
	close(fd);
	return rc;
}

/* The header through libvips, for the formats mirad_codec does not
 * describe. */
static int
header_through_vips(
    const char *path, struct mirad_image_info *info, char *err, size_t errlen)
{
	if (mirad_image_start_deferred(NULL, err, errlen) != 0)
		return -1;
	return vips_ops->header(path, info, err, errlen);
}

/* The codec's answer as a mirad_image_info. */
static void
info_from_codec(const struct mirad_codec_info *c, struct mirad_image_info *info)
{
	info->width = c->width;
	info->height = c->height;
	info->bands = c->bands;
	info->bits = c->bits;
	info->from_cmyk = c->cmyk;
	if (c->cmyk) { /* what mirad_image_load() gives: 8-bit sRGB */
		info->bands -= 1;
		info->bits = 8;
	}
	snprintf(info->format, sizeof info->format, "%s", c->format);
}

int
mirad_image_header(
    const char *path, struct mirad_image_info *info, char *err, size_t errlen)
{
	struct mirad_codec_info c;
	unsigned char head[2];
	off_t size;
	int fd = open_input_file(path, &size, err, errlen);
	int rc;

	if (fd < 0)
		return -1;
	/* PNG, JPEG and plain TIFF straight from their libraries: one open
	 * and a read, no libvips object. */
	rc = mirad_codec_header(fd, &c, err, errlen);
	if (rc == MIRAD_CODEC_UNKNOWN &&
	    refuse_bmp(head, pread(fd, head, sizeof head, 0), err, errlen))
		rc = -1;
	close(fd);
	if (rc == MIRAD_CODEC_UNKNOWN)
		return header_through_vips(path, info, err, errlen);
	if (rc != 0)
		return -1;
	info_from_codec(&c, info);
	return 0;
}

/*
 * What open_input_at() refuses, asked of an open file that the codec could
 * not read: a listing's regular file may since have been emptied or
 * replaced.  Returns true with ERR when FD is not a readable image file.
 */
static bool
refuse_opened(int fd, char *err, size_t errlen)
{
	struct stat st;

	if (fstat(fd, &st) != 0) {
		snprintf(err, errlen, "%s", strerror(errno));
		return true;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return true;
	}
	if (st.st_size == 0) {
		snprintf(err, errlen, "empty file");
		errno = EINVAL;
		return true;
	}
	return false;
}

int
mirad_image_header_at(int dir, const char *name, bool listed_regular,
    struct mirad_image_info *info, char *err, size_t errlen)
{
	struct mirad_codec_info c;
	unsigned char head[2];
	off_t size;
	int fd, rc;

	/* A listing that saw a regular file spares the stat(): an empty
	 * file, or anything put in its place since, is found below when the
	 * codec cannot read it (the open does not block: see
	 * open_input_at()). */
	if (listed_regular)
		fd = openat(
		    dir, name, O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
	else
		fd = open_input_at(dir, name, &size, err, errlen);
	if (fd < 0) {
		if (listed_regular)
			snprintf(err, errlen, "%s", strerror(errno));
		return -1;
	}
	rc = mirad_codec_header(fd, &c, err, errlen);
	if (rc == MIRAD_CODEC_UNKNOWN &&
	    ((listed_regular && refuse_opened(fd, err, errlen)) ||
	        refuse_bmp(head, pread(fd, head, sizeof head, 0), err, errlen)))
		rc = -1;
	close(fd);
	if (rc == 0)
		info_from_codec(&c, info);
	return rc == MIRAD_CODEC_UNKNOWN ? 1 : rc;
}

int
mirad_image_check(const char *path, char *err, size_t errlen)
{
	off_t size;
	int fd = open_input_file(path, &size, err, errlen);
	int rc;

	if (fd < 0)
		return -1;
	rc = mirad_codec_check(fd, err, errlen);
	close(fd);
	return rc == MIRAD_CODEC_UNKNOWN ? 1 : rc;
}

int
mirad_image_open_input(const char *path, char *err, size_t errlen)
{
	off_t size;

	return open_input_file(path, &size, err, errlen);
}
