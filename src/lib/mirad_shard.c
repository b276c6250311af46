/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mirad_err.h"
#include "mirad_fs.h"
#include "mirad_shard.h"

/* The largest sequence number or count a JSON number carries exactly. */
#define MAX_EXACT 9007199254740992.0

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    MIRAD_PRINTF(3, 4);

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

/* ---- the job fingerprint -------------------------------------------- */

struct mirad_shard_job {
	GChecksum *sum;
};

/* Length-prefixed, so no two sequences of fields hash alike. */
static void
job_field(struct mirad_shard_job *j, const char *s)
{
	char len[32];

	if (s == NULL) {
		g_checksum_update(j->sum, (const guchar *)"-;", 2);
		return;
	}
	snprintf(len, sizeof len, "%zu:", strlen(s));
	g_checksum_update(j->sum, (const guchar *)len, (gssize)strlen(len));
	g_checksum_update(j->sum, (const guchar *)s, (gssize)strlen(s));
}

struct mirad_shard_job *
mirad_shard_job_new(const char *tool)
{
	struct mirad_shard_job *j = mirad_xcalloc(1, sizeof *j);

	j->sum = g_checksum_new(G_CHECKSUM_SHA256);
	job_field(j, "mirad-shard-job/1");
	job_field(j, tool);
	job_field(j, PACKAGE_VERSION);
	return j;
}

void
mirad_shard_job_add(
    struct mirad_shard_job *j, const char *key, const char *value)
{
	job_field(j, "option");
	job_field(j, key);
	job_field(j, value);
}

void
mirad_shard_job_add_record(
    struct mirad_shard_job *j, const struct mirad_record *r)
{
	cJSON *obj = mirad_record_to_json(r);
	char *text = cJSON_PrintUnformatted(obj);

	cJSON_Delete(obj);
	if (text == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	job_field(j, "record");
	job_field(j, text);
	cJSON_free(text);
}

void
mirad_shard_job_finish(struct mirad_shard_job *j, char hex[65])
{
	memcpy(hex, g_checksum_get_string(j->sum), 64);
	hex[64] = '\0';
	g_checksum_free(j->sum);
	free(j);
}

/* ---- writing -------------------------------------------------------- */

struct mirad_shard_writer {
	struct mirad_outfile *f;
	char *path;
	uint64_t entries;
};

/* Print OBJ as one line; -1 with a message on failure. */
static int
put_line(
    struct mirad_shard_writer *w, const cJSON *obj, char *err, size_t errlen)
{
	char *text = cJSON_PrintUnformatted(obj);
	FILE *s = mirad_outfile_stream(w->f);
	int rc = 0;

	if (text == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	if (fputs(text, s) == EOF || putc('\n', s) == EOF) {
		seterr(err, errlen, "%s: %s", w->path, strerror(errno));
		rc = -1;
	}
	cJSON_free(text);
	return rc;
}

static cJSON *
xobject(void)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	return o;
}

struct mirad_shard_writer *
mirad_shard_writer_open(const char *dir, const char *final_dir,
    const char *tool, unsigned index, unsigned count, const char *job,
    uint64_t total, const cJSON *data, char *err, size_t errlen)
{
	struct mirad_shard_writer *w = mirad_xcalloc(1, sizeof *w);
	cJSON *head;
	int rc;

	w->path = mirad_path_join(dir, MIRAD_SHARD_META);
	w->f = mirad_outfile_open(w->path);
	if (w->f == NULL) {
		seterr(err, errlen, "%s: %s", w->path, strerror(errno));
		free(w->path);
		free(w);
		return NULL;
	}
	head = xobject();
	cJSON_AddNumberToObject(head, "mirad_shard", 1);
	cJSON_AddStringToObject(head, "tool", tool);
	cJSON_AddStringToObject(head, "version", PACKAGE_VERSION);
	cJSON_AddNumberToObject(head, "shard", index);
	cJSON_AddNumberToObject(head, "shards", count);
	cJSON_AddStringToObject(head, "job", job);
	cJSON_AddNumberToObject(head, "total", (double)total);
	cJSON_AddStringToObject(head, "dir", final_dir);
	if (data != NULL)
		cJSON_AddItemReferenceToObject(head, "data", (cJSON *)data);
	rc = put_line(w, head, err, errlen);
	cJSON_Delete(head);
	if (rc != 0) {
		mirad_shard_writer_abort(w);
		return NULL;
	}
	return w;
}

int
mirad_shard_writer_add(struct mirad_shard_writer *w, uint64_t seq,
    const char *const *files, size_t nfiles, const cJSON *record,
    const cJSON *data, char *err, size_t errlen)
{
	cJSON *line = xobject(), *arr = cJSON_CreateArray();
	int rc;

	cJSON_AddNumberToObject(line, "seq", (double)seq);
	cJSON_AddItemToObject(line, "files", arr);
	for (size_t i = 0; i < nfiles; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(files[i]));
	if (record != NULL)
		cJSON_AddItemReferenceToObject(line, "record", (cJSON *)record);
	if (data != NULL)
		cJSON_AddItemReferenceToObject(line, "data", (cJSON *)data);
	rc = put_line(w, line, err, errlen);
	cJSON_Delete(line);
	if (rc == 0)
		w->entries++;
	return rc;
}

int
mirad_shard_writer_close(
    struct mirad_shard_writer *w, int status, char *err, size_t errlen)
{
	cJSON *end = xobject();
	int rc;

	cJSON_AddTrueToObject(end, "end");
	cJSON_AddNumberToObject(end, "entries", (double)w->entries);
	cJSON_AddNumberToObject(end, "status", status);
	rc = put_line(w, end, err, errlen);
	cJSON_Delete(end);
	if (rc != 0) {
		mirad_shard_writer_abort(w);
		return -1;
	}
	if (mirad_outfile_commit(w->f) != 0) {
		seterr(err, errlen, "%s: %s", w->path, strerror(errno));
		rc = -1;
	}
	free(w->path);
	free(w);
	return rc;
}

void
mirad_shard_writer_abort(struct mirad_shard_writer *w)
{
	if (w == NULL)
		return;
	mirad_outfile_abort(w->f);
	free(w->path);
	free(w);
}

/* ---- reading -------------------------------------------------------- */

/* A non-negative integer field; -1 when absent or not one. */
static int
get_count(const cJSON *obj, const char *key, uint64_t *out)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (!cJSON_IsNumber(it) || it->valuedouble < 0 ||
	    it->valuedouble > MAX_EXACT ||
	    it->valuedouble != (double)(uint64_t)it->valuedouble)
		return -1;
	*out = (uint64_t)it->valuedouble;
	return 0;
}

static const char *
get_str(const cJSON *obj, const char *key)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(it) && it->valuestring != NULL ? it->valuestring
	                                                     : NULL;
}

/* A path a shard may list: relative, inside the folder, not the
 * metadata. */
static bool
safe_rel(const char *p)
{
	size_t n = strlen(p);

	return n > 0 && p[n - 1] != '/' && !mirad_path_escapes(p) &&
	    strcmp(p, MIRAD_SHARD_META) != 0 && strcmp(p, ".") != 0;
}

/* What one part's reading needs besides the set. */
struct part_reader {
	struct mirad_shard_set *set;
	const char *name; /* as given */
	const char *meta; /* the metadata path, for messages */
	unsigned index;
	bool slot;          /* the header was read: names[index] is ours */
	GHashTable *listed; /* rel path -> found (GINT_TO_POINTER) */
	char *err;
	size_t errlen;
};

/* Parse entry line OBJ (line LINENO, LEN bytes of text LINE) into the
 * set. */
static int
read_entry(struct part_reader *p, cJSON *obj, const char *line, size_t len,
    size_t lineno)
{
	struct mirad_shard_set *set = p->set;
	const cJSON *files = cJSON_GetObjectItemCaseSensitive(obj, "files");
	const cJSON *record = cJSON_GetObjectItemCaseSensitive(obj, "record");
	cJSON *data = cJSON_DetachItemFromObjectCaseSensitive(obj, "data");
	struct mirad_shard_entry *e;
	uint64_t seq;
	size_t n, k = 0;
	const cJSON *f;

	if (get_count(obj, "seq", &seq) != 0 || !cJSON_IsArray(files) ||
	    (record != NULL && !cJSON_IsObject(record) &&
	        !cJSON_IsNull(record))) {
		seterr(p->err, p->errlen, "%s:%zu: not a shard entry", p->meta,
		    lineno);
		goto fail;
	}
	if (seq >= set->total) {
		seterr(p->err, p->errlen,
		    "%s:%zu: record %" PRIu64 " beyond the job's %" PRIu64,
		    p->meta, lineno, seq, set->total);
		goto fail;
	}
	e = &set->entries[seq];
	if (e->files != NULL) {
		seterr(p->err, p->errlen,
		    "%s:%zu: record %" PRIu64 " is also in %s", p->meta, lineno,
		    seq, set->names[e->shard]);
		goto fail;
	}
	n = (size_t)cJSON_GetArraySize(files);
	e->files = mirad_xcalloc(n + 1, sizeof *e->files);
	e->dest = mirad_xcalloc(n + 1, sizeof *e->dest);
	e->shard = p->index;
	cJSON_ArrayForEach(f, files)
	{
		if (!cJSON_IsString(f) || !safe_rel(f->valuestring)) {
			seterr(p->err, p->errlen, "%s:%zu: bad file name",
			    p->meta, lineno);
			goto fail;
		}
		if (g_hash_table_contains(p->listed, f->valuestring)) {
			seterr(p->err, p->errlen, "%s:%zu: %s listed twice",
			    p->meta, lineno, f->valuestring);
			goto fail;
		}
		g_hash_table_insert(p->listed, mirad_xstrdup(f->valuestring),
		    GINT_TO_POINTER(0));
		e->files[k] = mirad_xstrdup(f->valuestring);
		e->dest[k] = mirad_xstrdup(f->valuestring);
		e->nfiles = ++k;
	}
	set->nfiles += n;
	if (cJSON_IsObject(record)) {
		/* As written: printing the parse would round its numbers. */
		e->record = mirad_json_member_text(line, len, "record");
		if (e->record == NULL)
			e->record = cJSON_PrintUnformatted(record);
		if (e->record == NULL)
			mirad_die_errno(
			    MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	}
	e->data = data;
	return 0;
fail:
	cJSON_Delete(data);
	return -1;
}

/* Check the header of part P against the set (the first part sets it). */
static int
read_header(struct part_reader *p, const cJSON *h, const char *tool)
{
	struct mirad_shard_set *set = p->set;
	uint64_t version, index, count, total;
	const char *htool = get_str(h, "tool"), *job = get_str(h, "job");
	const char *dir = get_str(h, "dir");

	if (get_count(h, "mirad_shard", &version) != 0 || htool == NULL) {
		seterr(p->err, p->errlen, "%s: not shard metadata", p->meta);
		return -1;
	}
	if (version != 1) {
		seterr(p->err, p->errlen,
		    "%s: metadata version %" PRIu64
		    " (this mirad-tools reads 1)",
		    p->meta, version);
		return -1;
	}
	if (strcmp(htool, tool) != 0) {
		seterr(p->err, p->errlen, "%s: a shard of %s, not of %s",
		    p->name, htool, tool);
		return -1;
	}
	if (get_count(h, "shard", &index) != 0 ||
	    get_count(h, "shards", &count) != 0 ||
	    get_count(h, "total", &total) != 0 || job == NULL ||
	    strlen(job) != 64 || dir == NULL || dir[0] != '/' || count == 0 ||
	    count > 1000000 || index >= count) {
		seterr(p->err, p->errlen, "%s: bad shard header", p->meta);
		return -1;
	}
	if (set->count == 0) {
		set->count = (unsigned)count;
		set->total = total;
		memcpy(set->job, job, 65);
		set->tool = mirad_xstrdup(tool);
		set->names = mirad_xcalloc(count, sizeof *set->names);
		set->dirs = mirad_xcalloc(count, sizeof *set->dirs);
		set->made_as = mirad_xcalloc(count, sizeof *set->made_as);
		set->data = mirad_xcalloc(count, sizeof *set->data);
		set->locks = mirad_xcalloc(count, sizeof *set->locks);
		for (uint64_t i = 0; i < count; i++)
			set->locks[i] = -1;
		/* A damaged "total" must not end the process. */
		set->entries = total < SIZE_MAX / sizeof *set->entries
		    ? calloc(total > 0 ? total : 1, sizeof *set->entries)
		    : NULL;
		if (set->entries == NULL) {
			seterr(p->err, p->errlen, "%s: %" PRIu64 " records: %s",
			    p->meta, total, strerror(ENOMEM));
			return -1;
		}
	} else if (count != set->count) {
		seterr(p->err, p->errlen,
		    "%s: shard %" PRIu64 "/%" PRIu64
		    ", but the others are of %u shards (parts of different "
		    "runs)",
		    p->name, index, count, set->count);
		return -1;
	} else if (strcmp(job, set->job) != 0 || total != set->total) {
		seterr(p->err, p->errlen,
		    "%s: a shard of another job than the parts before it "
		    "(other options or input)",
		    p->name);
		return -1;
	}
	if (set->names[index] != NULL) {
		seterr(p->err, p->errlen,
		    "%s: shard %" PRIu64 "/%u again (%s is that shard too)",
		    p->name, index, set->count, set->names[index]);
		return -1;
	}
	p->index = (unsigned)index;
	p->slot = true;
	set->made_as[index] = mirad_xstrdup(dir);
	set->data[index] =
	    cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(h, "data"), 1);
	return 0;
}

/* Every file under DIR/REL must be listed; mark those found. */
static int
walk_part(struct part_reader *p, const char *dir, const char *rel)
{
	char *path = rel[0] ? mirad_path_join(dir, rel) : mirad_xstrdup(dir);
	struct mirad_strlist names;
	int rc = 0;

	if (mirad_list_dir(path, &names) != 0) {
		seterr(p->err, p->errlen, "%s: %s", path, strerror(errno));
		free(path);
		return -1;
	}
	for (size_t i = 0; i < names.count && rc == 0; i++) {
		char *sub = rel[0] ? mirad_path_join(rel, names.items[i])
		                   : mirad_xstrdup(names.items[i]);
		char *full = mirad_path_join(path, names.items[i]);
		struct stat st;

		if (lstat(full, &st) != 0) {
			seterr(
			    p->err, p->errlen, "%s: %s", full, strerror(errno));
			rc = -1;
		} else if (S_ISDIR(st.st_mode)) {
			rc = walk_part(p, dir, sub);
		} else if (rel[0] == '\0' &&
		    strcmp(names.items[i], MIRAD_SHARD_META) == 0) {
			/* the metadata */
		} else if (!g_hash_table_contains(p->listed, sub)) {
			seterr(p->err, p->errlen,
			    "%s/%s: not in the shard's metadata (changed after "
			    "the shard ran?)",
			    p->name, sub);
			rc = -1;
		} else {
			g_hash_table_insert(
			    p->listed, mirad_xstrdup(sub), GINT_TO_POINTER(1));
		}
		free(full);
		free(sub);
	}
	mirad_strlist_free(&names);
	free(path);
	return rc;
}

static int
check_listed_found(struct part_reader *p)
{
	GHashTableIter it;
	gpointer key, found;
	const char *missing = NULL;

	g_hash_table_iter_init(&it, p->listed);
	while (g_hash_table_iter_next(&it, &key, &found)) {
		/* Report the first in strcmp order, whatever the hashing. */
		if (!GPOINTER_TO_INT(found) &&
		    (missing == NULL || strcmp(key, missing) < 0))
			missing = key;
	}
	if (missing != NULL) {
		seterr(p->err, p->errlen,
		    "%s/%s: in the shard's metadata but missing", p->name,
		    missing);
		return -1;
	}
	return 0;
}

/* Read the metadata of the part at ABS (given as NAME). */
static int
read_part(struct part_reader *p, const char *abs, const char *tool)
{
	char *meta = mirad_path_join(abs, MIRAD_SHARD_META);
	char *line = NULL, *shown;
	size_t cap = 0, lineno = 0;
	uint64_t entries = 0, want, status;
	bool ended = false;
	ssize_t len;
	FILE *f;
	int rc = -1;

	shown = mirad_path_join(p->name, MIRAD_SHARD_META);
	p->meta = shown;
	f = fopen(meta, "re");
	if (f == NULL) {
		if (errno == ENOENT) {
			seterr(p->err, p->errlen,
			    "%s: not a shard folder (no %s)", p->name,
			    MIRAD_SHARD_META);
			rc = MIRAD_SHARD_NOT_A_SHARD;
		} else
			seterr(p->err, p->errlen, "%s: %s", shown,
			    strerror(errno));
		goto out;
	}
	while ((len = getline(&line, &cap, f)) >= 0) {
		cJSON *obj;

		lineno++;
		if (ended) {
			seterr(p->err, p->errlen, "%s:%zu: text after the end",
			    shown, lineno);
			goto out;
		}
		obj = cJSON_ParseWithLength(line, (size_t)len);
		if (!cJSON_IsObject(obj)) {
			cJSON_Delete(obj);
			seterr(p->err, p->errlen, "%s:%zu: not a JSON object",
			    shown, lineno);
			goto out;
		}
		if (lineno == 1) {
			if (read_header(p, obj, tool) != 0) {
				cJSON_Delete(obj);
				goto out;
			}
		} else if (cJSON_IsTrue(
		               cJSON_GetObjectItemCaseSensitive(obj, "end"))) {
			if (get_count(obj, "entries", &want) != 0 ||
			    want != entries ||
			    get_count(obj, "status", &status) != 0 ||
			    status > MIRAD_EXIT_PARTIAL) {
				cJSON_Delete(obj);
				seterr(p->err, p->errlen,
				    "%s:%zu: bad end line", shown, lineno);
				goto out;
			}
			if ((int)status > p->set->status)
				p->set->status = (int)status;
			ended = true;
		} else {
			if (read_entry(p, obj, line, (size_t)len, lineno) !=
			    0) {
				cJSON_Delete(obj);
				goto out;
			}
			entries++;
		}
		cJSON_Delete(obj);
	}
	if (ferror(f)) {
		seterr(p->err, p->errlen, "%s: %s", shown, strerror(errno));
		goto out;
	}
	if (lineno == 0) {
		seterr(p->err, p->errlen, "%s: empty", shown);
		goto out;
	}
	if (!ended) {
		seterr(
		    p->err, p->errlen, "%s: incomplete (no end line)", shown);
		goto out;
	}
	rc = walk_part(p, abs, "");
	if (rc == 0)
		rc = check_listed_found(p);
out:
	if (f != NULL)
		fclose(f);
	free(line);
	free(meta);
	free(shown);
	p->meta = NULL;
	return rc;
}

int
mirad_shard_load(const char *const *names, size_t n, const char *tool,
    struct mirad_shard_set *set, char *err, size_t errlen)
{
	char **abs = mirad_xcalloc(n + 1, sizeof *abs);
	GString *missing = NULL;
	unsigned nmissing = 0;
	int rc = -1;

	memset(set, 0, sizeof *set);
	if (n == 0) {
		seterr(err, errlen, "no shard folders");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		abs[i] = mirad_path_absolute(names[i]);
		if (abs[i] == NULL) {
			seterr(
			    err, errlen, "%s: %s", names[i], strerror(errno));
			goto out;
		}
		if (!mirad_is_dir(abs[i])) {
			seterr(err, errlen, "%s: %s", names[i],
			    mirad_exists(abs[i]) ? "not a folder"
			                         : strerror(ENOENT));
			goto out;
		}
		for (size_t k = 0; k < i; k++)
			if (strcmp(abs[k], abs[i]) == 0) {
				seterr(
				    err, errlen, "%s: given twice", names[i]);
				goto out;
			}
	}
	for (size_t i = 0; i < n; i++) {
		struct part_reader p = {
		    set, names[i], NULL, 0, false, NULL, err, errlen};
		int fd, r;

		/* A shard still writing (or rewriting) its folder holds
		 * this lock. */
		fd = mirad_lock_acquire(abs[i]);
		if (fd < 0) {
			seterr(err, errlen, "%s: cannot lock (%s)", names[i],
			    errno == EWOULDBLOCK
			        ? "is a shard still writing it?"
			        : strerror(errno));
			goto out;
		}
		p.listed =
		    g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
		r = read_part(&p, abs[i], tool);
		g_hash_table_destroy(p.listed);
		if (p.slot) {
			/* The header was read: the slot is this part's. */
			set->names[p.index] = mirad_xstrdup(names[i]);
			set->dirs[p.index] = mirad_xstrdup(abs[i]);
			set->locks[p.index] = fd;
		} else {
			mirad_lock_release(fd, abs[i]);
		}
		if (r != 0) {
			rc = r;
			goto out;
		}
	}
	for (unsigned i = 0; i < set->count; i++) {
		if (set->names[i] != NULL)
			continue;
		if (missing == NULL)
			missing = g_string_new(NULL);
		g_string_append_printf(
		    missing, "%s%u/%u", nmissing ? ", " : "", i, set->count);
		nmissing++;
	}
	if (missing != NULL) {
		seterr(err, errlen,
		    "shard%s %s missing (give the folders of all %u shards)",
		    nmissing > 1 ? "s" : "", missing->str, set->count);
		goto out;
	}
	for (uint64_t s = 0; s < set->total; s++)
		if (set->entries[s].files == NULL) {
			seterr(err, errlen,
			    "record %" PRIu64 " is in no shard's metadata", s);
			goto out;
		}
	rc = 0;
out:
	if (missing != NULL)
		g_string_free(missing, TRUE);
	for (size_t i = 0; i < n; i++)
		free(abs[i]);
	free(abs);
	if (rc != 0)
		mirad_shard_set_free(set);
	return rc;
}

static void
free_strv(char **v, size_t n)
{
	if (v == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void
mirad_shard_set_free(struct mirad_shard_set *set)
{
	for (unsigned i = 0; i < set->count; i++) {
		if (set->locks != NULL && set->locks[i] >= 0)
			mirad_lock_release(set->locks[i], set->dirs[i]);
		free(set->names[i]);
		free(set->dirs[i]);
		free(set->made_as[i]);
		cJSON_Delete(set->data[i]);
	}
	for (uint64_t s = 0; set->entries != NULL && s < set->total; s++) {
		struct mirad_shard_entry *e = &set->entries[s];

		free(e->record);
		cJSON_Delete(e->data);
		free_strv(e->files, e->nfiles);
		free_strv(e->dest, e->nfiles);
	}
	free(set->entries);
	free(set->names);
	free(set->dirs);
	free(set->made_as);
	free(set->data);
	free(set->locks);
	free(set->tool);
	memset(set, 0, sizeof *set);
}

/* ---- assembling ------------------------------------------------------- */

/* Is A the folder B or inside it? */
static bool
within(const char *a, const char *b)
{
	size_t n = strlen(b);

	return strncmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '/');
}

int
mirad_shard_check_output(const struct mirad_shard_set *set, const char *out,
    char *err, size_t errlen)
{
	struct mirad_out_guard *g = mirad_out_guard_new(out);
	int rc = 0;

	if (g == NULL) {
		seterr(err, errlen, "%s: %s", out, strerror(errno));
		return -1;
	}
	for (unsigned i = 0; i < set->count && rc == 0; i++)
		rc = mirad_out_guard_check(g, set->names[i], true, err, errlen);
	mirad_out_guard_free(g);
	return rc;
}

int
mirad_shard_merge_start(struct mirad_shard_merge *m, const char *out,
    struct mirad_outdir *dir, const struct mirad_shard_set *set, char *err,
    size_t errlen)
{
	memset(m, 0, sizeof *m);
	m->abs_out = mirad_path_absolute(out);
	if (m->abs_out == NULL) {
		seterr(err, errlen, "%s: %s", out, strerror(errno));
		mirad_outdir_abort(dir);
		return -1;
	}
	m->out = mirad_xstrdup(out);
	m->tool = mirad_xstrdup(set->tool);
	m->dir = dir;
	m->tmp = (char *)mirad_outdir_temp(dir);
	return 0;
}

/* Copy SRC to the new DST: a symbolic link as a link, else the bytes. */
static int
copy_one(const char *src, const char *dst)
{
	struct stat st, dt;

	if (lstat(src, &st) != 0)
		return -1;
	if (lstat(dst, &dt) == 0) {
		errno = EEXIST;
		return -1;
	}
	if (errno != ENOENT)
		return -1;
	if (S_ISLNK(st.st_mode)) {
		char buf[4096];
		ssize_t n = readlink(src, buf, sizeof buf - 1);

		if (n < 0)
			return -1;
		if ((size_t)n >= sizeof buf - 1) {
			errno = ENAMETOOLONG;
			return -1;
		}
		buf[n] = '\0';
		return symlink(buf, dst);
	}
	if (mirad_copy_file(src, dst) != 0)
		return -1;
	/* Keep the mode bits the shard gave the file. */
	return chmod(dst, st.st_mode & 07777);
}

static int
place_one(const char *src, const char *dst)
{
	/* linkat without AT_SYMLINK_FOLLOW links a symbolic link itself. */
	if (linkat(AT_FDCWD, src, AT_FDCWD, dst, 0) == 0)
		return 0;
	if (errno == EXDEV || errno == EPERM || errno == EMLINK ||
	    errno == ENOTSUP || errno == EOPNOTSUPP)
		return copy_one(src, dst);
	return -1;
}

/* Replace field KEY of OBJ by string VALUE, keeping its place. */
static void
replace_string(cJSON *obj, const char *key, const char *value)
{
	cJSON *s = cJSON_CreateString(value);

	if (s == NULL || !cJSON_ReplaceItemInObjectCaseSensitive(obj, key, s))
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
}

/* Point entry E's record (of shard MADE_AS) at OUT. */
static int
rewrite_record(struct mirad_shard_entry *e, const char *made_as,
    const char *abs_out, char *err, size_t errlen)
{
	static const char *const keys[] = {"image", "mask"};
	static const char *const rewritten[] = {"root", "image", "mask", NULL};
	cJSON *obj = cJSON_Parse(e->record), *root;
	const char *reldir;
	char *text;
	size_t n = strlen(made_as);

	if (obj == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	/* The other fields are written back as they were. */
	mirad_json_keep_text(obj, e->record, strlen(e->record), rewritten);
	root = cJSON_GetObjectItemCaseSensitive(obj, "root");
	if (!cJSON_IsString(root) || !within(root->valuestring, made_as)) {
		cJSON_Delete(obj); /* not inside the shard's folder */
		return 0;
	}
	reldir = root->valuestring[n] == '/' ? root->valuestring + n + 1 : "";
	for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) {
		cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, keys[k]);
		char *full;
		size_t d = strlen(reldir);

		if (!cJSON_IsString(it))
			continue;
		full = d ? mirad_path_join(reldir, it->valuestring)
		         : mirad_xstrdup(it->valuestring);
		for (size_t f = 0; f < e->nfiles; f++) {
			const char *dest = e->dest[f];

			if (strcmp(full, e->files[f]) != 0 ||
			    strcmp(dest, full) == 0)
				continue;
			if (d > 0 &&
			    (strncmp(dest, reldir, d) != 0 || dest[d] != '/')) {
				seterr(err, errlen,
				    "%s: renamed out of its record's folder %s",
				    dest, reldir);
				free(full);
				cJSON_Delete(obj);
				return -1;
			}
			replace_string(obj, keys[k], d ? dest + d + 1 : dest);
			break;
		}
		free(full);
	}
	{
		char *new_root = reldir[0] ? mirad_path_join(abs_out, reldir)
		                           : mirad_xstrdup(abs_out);

		replace_string(obj, "root", new_root);
		free(new_root);
	}
	text = cJSON_PrintUnformatted(obj);
	cJSON_Delete(obj);
	if (text == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	free(e->record);
	e->record = mirad_xstrdup(text);
	cJSON_free(text);
	return 0;
}

int
mirad_shard_merge_place(struct mirad_shard_merge *m,
    struct mirad_shard_set *set, const struct mirad_shard_place_options *o,
    char *err, size_t errlen)
{
	GHashTable *made =
	    g_hash_table_new_full(g_str_hash, g_str_equal, free, NULL);
	int rc = -1;

	for (uint64_t s = 0; s < set->total; s++) {
		struct mirad_shard_entry *e = &set->entries[s];

		for (size_t f = 0; f < e->nfiles; f++) {
			char *src, *dst, *dir;
			int r;

			if (o != NULL && o->interrupted != NULL &&
			    o->interrupted()) {
				seterr(err, errlen, "interrupted");
				errno = EINTR;
				goto out;
			}
			if (!safe_rel(e->dest[f])) {
				seterr(err, errlen, "%s: not a name inside %s",
				    e->dest[f], m->out);
				goto out;
			}
			src = mirad_path_join(set->dirs[e->shard], e->files[f]);
			dst = mirad_path_join(m->tmp, e->dest[f]);
			dir = mirad_path_dirname(dst);
			r = 0;
			if (g_hash_table_contains(made, dir)) {
				free(dir);
			} else if (mirad_mkdir_p(dir) == 0) {
				g_hash_table_add(made, dir); /* owns it */
			} else {
				seterr(err, errlen, "%s: %s", dir,
				    strerror(errno));
				free(dir);
				r = -1;
			}
			if (r == 0 && place_one(src, dst) != 0) {
				if (errno == EEXIST)
					seterr(err, errlen,
					    "%s/%s: %s/%s is taken by another "
					    "file",
					    set->names[e->shard], e->files[f],
					    m->out, e->dest[f]);
				else
					seterr(err, errlen, "%s/%s: %s",
					    set->names[e->shard], e->files[f],
					    strerror(errno));
				r = -1;
			}
			free(src);
			free(dst);
			if (r != 0)
				goto out;
			if (o != NULL && o->progress != NULL)
				o->progress(1);
		}
		if (e->record != NULL &&
		    rewrite_record(e, set->made_as[e->shard], m->abs_out, err,
		        errlen) != 0)
			goto out;
	}
	rc = 0;
out:
	g_hash_table_destroy(made);
	return rc;
}

static void
release_out(struct mirad_shard_merge *m)
{
	free(m->out);
	free(m->abs_out);
	free(m->tool);
	memset(m, 0, sizeof *m);
}

int
mirad_shard_merge_publish(struct mirad_shard_merge *m, char *err, size_t errlen)
{
	int rc = mirad_output_mark(m->tmp, m->tool);

	if (rc != 0) {
		mirad_outdir_abort(m->dir);
	} else {
		rc = mirad_outdir_commit(m->dir); /* aborts on failure */
	}
	if (rc != 0)
		seterr(err, errlen, "%s: %s", m->out, strerror(errno));
	release_out(m);
	return rc != 0 ? -1 : 0;
}

void
mirad_shard_merge_abort(struct mirad_shard_merge *m)
{
	mirad_outdir_abort(m->dir);
	release_out(m);
}

/* Remove the folders under DIR left empty, deepest first, and DIR. */
static void
prune_empty(const char *dir)
{
	struct mirad_strlist names;

	if (mirad_list_dir(dir, &names) == 0) {
		for (size_t i = 0; i < names.count; i++) {
			char *sub = mirad_path_join(dir, names.items[i]);
			struct stat st;

			if (lstat(sub, &st) == 0 && S_ISDIR(st.st_mode))
				prune_empty(sub);
			free(sub);
		}
		mirad_strlist_free(&names);
	}
	(void)rmdir(dir); /* fails unless empty: kept then */
}

size_t
mirad_shard_remove_parts(const struct mirad_shard_set *set)
{
	size_t failed = 0;

	for (uint64_t s = 0; s < set->total; s++) {
		const struct mirad_shard_entry *e = &set->entries[s];

		for (size_t f = 0; f < e->nfiles; f++) {
			char *p =
			    mirad_path_join(set->dirs[e->shard], e->files[f]);

			if (unlink(p) != 0 && errno != ENOENT)
				failed++;
			free(p);
		}
	}
	for (unsigned i = 0; i < set->count; i++) {
		char *meta = mirad_path_join(set->dirs[i], MIRAD_SHARD_META);

		if (unlink(meta) != 0 && errno != ENOENT)
			failed++;
		free(meta);
		prune_empty(set->dirs[i]);
	}
	return failed;
}

int
mirad_shard_write_records(const struct mirad_shard_set *set, FILE *out)
{
	for (uint64_t s = 0; s < set->total; s++) {
		const char *r = set->entries[s].record;

		if (r != NULL &&
		    (fputs(r, out) == EOF || putc('\n', out) == EOF))
			return -1;
	}
	return 0;
}
