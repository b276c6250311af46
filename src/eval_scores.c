/* SPDX-License-Identifier: MIT */
/*
 * mirad-eval's per-image scores (--scores); see eval_scores.h.
 */
#include "mirad_platform.h"

#include "eval_scores.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "mirad_csv.h"
#include "mirad_err.h"
#include "mirad_fs.h"

static int
cmp_score_entry(const void *a, const void *b)
{
	return strcmp(((const struct score_entry *)a)->image,
	    ((const struct score_entry *)b)->image);
}

static void
add_score(struct eval *e, const char *where, const char *image,
    const char *text, double value, bool from_text)
{
	char *end;

	if (from_text) {
		errno = 0;
		value = strtod(text, &end);
		if (errno != 0 || end == text || *end != '\0')
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: score '%s' is not a "
			    "number",
			    where, text);
	}
	if (!isfinite(value))
		mirad_die(MIRAD_EXIT_FATAL, "%s: score of %s is not finite",
		    where, image);
	e->scores = mirad_xgrow(
	    e->scores, e->nscores, &e->scores_capacity, sizeof *e->scores);
	e->scores[e->nscores].image = mirad_xstrdup(image);
	e->scores[e->nscores].score = value;
	e->nscores++;
}

static void
load_scores_jsonl(struct eval *e, const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	unsigned long lineno = 0;

	if (f == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", path);
	while ((len = getline(&line, &cap, f)) != -1) {
		const char *end = NULL;
		cJSON *o, *img, *sc;
		char where[64];

		lineno++;
		snprintf(where, sizeof where, "%lu", lineno);
		if (strspn(line, " \t\r\n") == (size_t)len)
			continue;
		o = cJSON_ParseWithLengthOpts(line, (size_t)len, &end, 0);
		img = cJSON_GetObjectItemCaseSensitive(o, "image");
		sc = cJSON_GetObjectItemCaseSensitive(o, "score");
		if (o == NULL || !cJSON_IsString(img) || !cJSON_IsNumber(sc) ||
		    strspn(end, " \t\r\n") != strlen(end))
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s:%lu: expected {\"image\": \"...\", \"score\": "
			    "number}",
			    path, lineno);
		add_score(
		    e, path, img->valuestring, NULL, sc->valuedouble, false);
		cJSON_Delete(o);
	}
	if (ferror(f))
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", path);
	free(line);
	if (f != stdin)
		fclose(f);
}

static void
load_scores_csv(struct eval *e, const char *path)
{
	struct mirad_csv *c = mirad_csv_open(path);
	struct mirad_strlist row = {0}, header = {0};
	int ci, cs, rc;

	if (c == NULL)
		mirad_die_errno(MIRAD_EXIT_FATAL, errno, "%s", path);
	if (mirad_csv_next(c, &header) != 1)
		mirad_die(MIRAD_EXIT_FATAL, "%s: no header line", path);
	ci = mirad_csv_column(&header, "image");
	cs = mirad_csv_column(&header, "score");
	if (ci < 0 || cs < 0)
		mirad_die(MIRAD_EXIT_FATAL,
		    "%s: header needs 'image' and "
		    "'score' columns",
		    path);
	while ((rc = mirad_csv_next(c, &row)) == 1) {
		char where[512];

		if (row.count <= (size_t)ci || row.count <= (size_t)cs)
			mirad_die(MIRAD_EXIT_FATAL, "%s:%lu: too few fields",
			    path, mirad_csv_line(c));
		snprintf(
		    where, sizeof where, "%s:%lu", path, mirad_csv_line(c));
		add_score(e, where, row.items[ci], row.items[cs], 0, true);
	}
	if (rc < 0)
		mirad_die(MIRAD_EXIT_FATAL, "%s", mirad_csv_error(c));
	mirad_strlist_free(&row);
	mirad_strlist_free(&header);
	mirad_csv_close(c);
}

void
eval_load_scores(struct eval *e)
{
	const char *ext = mirad_path_ext(e->scores_path);

	if (strcasecmp(ext, ".jsonl") == 0 || strcasecmp(ext, ".json") == 0)
		load_scores_jsonl(e, e->scores_path);
	else
		load_scores_csv(e, e->scores_path);
	qsort(e->scores, e->nscores, sizeof *e->scores, cmp_score_entry);
	for (size_t i = 1; i < e->nscores; i++)
		if (strcmp(e->scores[i - 1].image, e->scores[i].image) == 0)
			mirad_die(MIRAD_EXIT_FATAL,
			    "%s: image '%s' listed "
			    "twice",
			    e->scores_path, e->scores[i].image);
}

bool
eval_lookup_score(const struct eval *e, const char *image, double *out)
{
	char *noext = mirad_xstrdup(image);
	const char *keys[2] = {image, noext};
	char *dot = strrchr(noext, '.');

	if (dot != NULL && strchr(dot, '/') == NULL)
		*dot = '\0';
	for (int k = 0; k < 2; k++) {
		struct score_entry key = {(char *)keys[k], 0}, *hit;

		hit = bsearch(&key, e->scores, e->nscores, sizeof *e->scores,
		    cmp_score_entry);
		if (hit != NULL) {
			*out = hit->score;
			free(noext);
			return true;
		}
	}
	free(noext);
	return false;
}
