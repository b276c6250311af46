/* SPDX-License-Identifier: MIT */
/* mirad-split's outputs: header, files, summary (split_output.h). */
#include "mirad_platform.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mirad_cli.h"
#include "mirad_err.h"
#include "mirad_formats.h"
#include "mirad_fs.h"
#include "split_output.h"

static void
put(cJSON *obj, const char *key, cJSON *item)
{
	if (item == NULL || !cJSON_AddItemToObject(obj, key, item))
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
}

cJSON *
split_make_header(const struct split *s, size_t k)
{
	cJSON *h = cJSON_CreateObject();

	if (h == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	put(h, "mirad_manifest", cJSON_CreateNumber(1));
	put(h, "tool", cJSON_CreateString("mirad-split"));
	put(h, "seed", cJSON_CreateNumber((double)s->seed));
	if (s->shots != NULL && k != SIZE_MAX) {
		put(h, "shots", cJSON_CreateNumber((double)k));
	} else if (s->shots != NULL) {
		cJSON *a = cJSON_CreateArray();

		if (a == NULL)
			mirad_die_errno(
			    MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
		for (size_t i = 0; i < s->nshots; i++)
			cJSON_AddItemToArray(
			    a, cJSON_CreateNumber((double)s->shots[i]));
		put(h, "shots", a);
	}
	if (s->val_arg)
		put(h, "val", cJSON_CreateString(s->val_arg));
	if (s->train_anomalies_arg)
		put(h, "train_anomalies",
		    cJSON_CreateString(s->train_anomalies_arg));
	if (s->by_defect)
		put(h, "stratify", cJSON_CreateString("defect"));
	if (s->folds) {
		put(h, "folds", cJSON_CreateNumber(s->folds));
		put(h, "fold", cJSON_CreateNumber(s->fold));
	}
	if (s->categories.count > 0) {
		cJSON *a = cJSON_CreateStringArray(
		    (const char *const *)s->categories.items,
		    (int)s->categories.count);

		put(h, "categories", a);
	}
	if (s->by_arg)
		put(h, "by", cJSON_CreateString(s->by_arg));
	if (s->merge)
		put(h, "merge", cJSON_CreateString(s->merge));
	if (s->in.scan.split_csv)
		put(h, "split_csv",
		    cJSON_CreateString(
		        mirad_path_basename(s->in.scan.split_csv)));
	if (s->nodes)
		put(h, "nodes",
		    cJSON_CreateString(mirad_path_basename(s->nodes)));
	return h;
}

int
split_write_header(FILE *f, const struct split *s, size_t k)
{
	cJSON *h = split_make_header(s, k);
	char *text = cJSON_PrintUnformatted(h);
	int rc = 0;

	cJSON_Delete(h);
	if (text == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, ENOMEM, "allocation failed");
	if (fputs(text, f) == EOF || putc('\n', f) == EOF)
		rc = -1;
	cJSON_free(text);
	return rc;
}

static const char *const split_order[] = {"train", "val", "test"};

void
split_print_summary(const struct split *s, const struct split_view *v)
{
	struct mirad_strlist cats;

	split_categories(&v->set, &cats);
	if (v->k != SIZE_MAX)
		fprintf(stderr, "%s: %zu-shot split (seed %llu)\n",
		    mirad_progname(), v->k, (unsigned long long)s->seed);
	else
		fprintf(stderr, "%s: split (seed %llu)\n", mirad_progname(),
		    (unsigned long long)s->seed);
	fprintf(stderr, "%-24s %-5s %8s %8s\n", "category", "split", "normal",
	    "anomaly");
	for (size_t c = 0; c <= cats.count; c++) {
		for (size_t sp = 0; sp < 3; sp++) {
			size_t normal = 0, anomaly = 0;

			for (size_t i = 0; i < v->set.count; i++) {
				const struct mirad_record *r = v->set.items[i];

				if (strcmp(r->split, split_order[sp]) != 0 ||
				    (c < cats.count &&
				        strcmp(r->category, cats.items[c]) !=
				            0))
					continue;
				if (mirad_record_is_anomaly(r))
					anomaly++;
				else
					normal++;
			}
			if (normal + anomaly == 0 &&
			    strcmp(split_order[sp], "val") == 0)
				continue;
			fprintf(stderr, "%-24s %-5s %8zu %8zu\n",
			    c < cats.count ? cats.items[c] : "total",
			    split_order[sp], normal, anomaly);
		}
	}
	mirad_strlist_free(&cats);
}

char *
split_output_name(const char *prefix, const char *part, const char *ext)
{
	size_t n = strlen(prefix);
	bool dir = n > 0 && prefix[n - 1] == '/';

	return mirad_xasprintf("%s%s%s%s", prefix, dir ? "" : "-", part, ext);
}

struct pending {
	struct mirad_outfile *out;
	char *name;
};

/* "-" is standard output; name it as the rest of the family does. */
static const char *
output_name(const struct pending *p)
{
	return strcmp(p->name, "-") == 0 ? "error writing standard output"
	                                 : p->name;
}

/* Remove the temporary files of the NP outputs in P, then die: a failed
 * run leaves every earlier output as it was. */
MIRAD_NORETURN static void die_pending(
    struct pending *p, size_t np, const char *fmt, ...) MIRAD_PRINTF(3, 4);

MIRAD_NORETURN static void
die_pending(struct pending *p, size_t np, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < np; i++)
		mirad_outfile_abort(p[i].out);
	mirad_die(MIRAD_EXIT_FATAL, "%s", msg);
}

/* Open output P[NP] (the earlier ones are removed if that fails). */
static void
open_output(struct pending *p, size_t np, const char *name)
{
	p[np].name = mirad_xstrdup(name);
	p[np].out = mirad_outfile_open(name);
	if (p[np].out == NULL)
		die_pending(p, np, "%s: %s", name, strerror(errno));
}

/* Write view V (SPLIT only, unless NULL) to output P[I] of NP. */
static void
write_or_die(struct pending *p, size_t i, size_t np, const struct split *s,
    const struct split_view *v, const char *split, bool header)
{
	FILE *f = mirad_outfile_stream(p[i].out);
	char err[1024];
	int rc;

	if (header && split_write_header(f, s, v->k) != 0)
		die_pending(
		    p, np, "%s: %s", output_name(&p[i]), strerror(errno));
	rc = mirad_format_write_split(
	    f, s->format, &v->set, split, NULL, err, sizeof err);
	if (rc != 0)
		die_pending(p, np, "%s: %s", output_name(&p[i]),
		    mirad_cli_format_advice(rc, err, sizeof err));
}

/* Which splits a one-split-per-file format writes: train and test always
 * (their readers open both), val when present. */
static bool
split_present(const struct split_view *v, const char *split)
{
	if (strcmp(split, "val") != 0)
		return true;
	for (size_t i = 0; i < v->set.count; i++)
		if (strcmp(v->set.items[i]->split, split) == 0)
			return true;
	return false;
}

void
split_write_outputs(
    const struct split *s, struct split_view *views, size_t nviews)
{
	bool header = s->format == MIRAD_FORMAT_JSONL && split_has_protocol(s);
	bool per_split = mirad_format_one_split_per_file(s->format);
	const char *ext = mirad_format_extension(s->format);
	struct pending *p = mirad_xcalloc(nviews * 3 + 1, sizeof *p);
	size_t np = 0;

	if (s->output == NULL) {
		/* Standard output: one stream. */
		if (per_split) {
			for (size_t i = 0; i < views[0].set.count; i++)
				if (strcmp(views[0].set.items[i]->split,
				        views[0].set.items[0]->split) != 0)
					mirad_usage_error(
					    "--format %s keeps each split in "
					    "its own file: give -o PREFIX "
					    "(writes PREFIX-train%s, ...)",
					    mirad_format_name(s->format), ext);
		}
		open_output(p, np++, "-");
		if (header && nviews > 1) {
			if (split_write_header(
			        mirad_outfile_stream(p[0].out), s, SIZE_MAX))
				mirad_die_errno(MIRAD_EXIT_FATAL, errno,
				    "error writing standard output");
			header = false;
		}
		for (size_t v = 0; v < nviews; v++) {
			if (nviews > 1)
				for (size_t i = 0; i < views[v].set.count; i++)
					mirad_record_put_number(
					    views[v].set.items[i], "shots",
					    (double)views[v].k);
			write_or_die(p, 0, np, s, &views[v], NULL, header);
		}
	} else {
		for (size_t v = 0; v < nviews; v++) {
			char kpart[64] = "";

			if (nviews > 1)
				snprintf(
				    kpart, sizeof kpart, "%zushot", views[v].k);
			if (!per_split) {
				char *name = nviews > 1
				    ? split_output_name(s->output, kpart, ext)
				    : mirad_xstrdup(s->output);

				open_output(p, np++, name);
				free(name);
				write_or_die(
				    p, np - 1, np, s, &views[v], NULL, header);
				continue;
			}
			for (size_t sp = 0; sp < 3; sp++) {
				char part[128];
				char *name;

				if (!split_present(&views[v], split_order[sp]))
					continue;
				snprintf(part, sizeof part, "%s%s%s", kpart,
				    *kpart ? "-" : "", split_order[sp]);
				name = split_output_name(s->output, part, ext);
				open_output(p, np++, name);
				free(name);
				write_or_die(p, np - 1, np, s, &views[v],
				    split_order[sp], false);
			}
		}
	}
	/* Every file is complete on disk before the first one replaces its
	 * old version: a full disk leaves the old set, not a mix. */
	for (size_t i = 0; i < np; i++)
		if (mirad_outfile_finish(p[i].out) != 0)
			die_pending(p, np, "%s: %s", output_name(&p[i]),
			    strerror(errno));
	for (size_t i = 0; i < np; i++) {
		if (mirad_outfile_commit(p[i].out) != 0) {
			int e = errno;

			for (size_t j = i + 1; j < np; j++)
				mirad_outfile_abort(p[j].out);
			mirad_die_errno(
			    MIRAD_EXIT_FATAL, e, "%s", output_name(&p[i]));
		}
		free(p[i].name);
	}
	free(p);
}
