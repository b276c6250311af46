/* SPDX-License-Identifier: MIT */
/*
 * Fuzz harness: mirad-eval's partial-file reader (eval_partial.h) on
 * arbitrary bytes, driven the way --merge drives it: the sections the job
 * announces, each store rebuilt and its metrics computed, then the trailer.
 */
#include "mirad_platform.h"

#include <stdlib.h>
#include <string.h>

#include "eval_metrics.h"
#include "eval_partial.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Abort when a refusal does not say why. */
static void
refused(const char *err)
{
	if (err[0] == '\0')
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eval_partial_reader *r;
	struct eval_partial_section s = {0};
	const struct eval_job *job;
	size_t methods = 0, cats = 0;
	char err[512];
	uint64_t bad;
	uint32_t flags;

	err[0] = '\0';
	r = eval_partial_open_mem(data, size, "fuzz", err, sizeof err);
	if (r == NULL) {
		refused(err);
		return 0;
	}
	job = eval_partial_job(r);
	for (size_t i = 0; i < job->n; i++) {
		methods += strcmp(job->keys[i], "method") == 0;
		cats += strcmp(job->keys[i], "category") == 0;
	}
	if (methods == 0)
		methods = 1;
	if (cats == 0)
		cats = 1;
	for (size_t m = 0; m < methods; m++)
		for (size_t c = 0; c < cats; c++) {
			struct eval_pixels *px = eval_pixels_new();
			struct eval_result res;
			uint32_t key;
			uint64_t count;
			int more;

			if (px == NULL)
				abort();
			err[0] = '\0';
			if (eval_partial_read_section(
			        r, m, c, &s, px, err, sizeof err) != 0) {
				refused(err);
				eval_pixels_free(px);
				goto out;
			}
			while ((more = eval_partial_next_run(
			            r, &s, &key, &count, err, sizeof err)) > 0)
				if (eval_pixels_append_negatives(
				        px, key, count) != 0)
					break;
			if (more < 0) {
				refused(err);
				eval_pixels_free(px);
				goto out;
			}
			if (more == 0) { /* run stores cost per entry */
				(void)eval_pixels_compute(px, 0.3, &res);
				(void)eval_pixels_adeval(px, 50, 0.3, &res);
				(void)eval_pixels_ader_f1max(px);
			}
			eval_pixels_free(px);
			if (more > 0) /* runs out of order for the store */
				goto out;
		}
	err[0] = '\0';
	if (eval_partial_read_end(r, &bad, &flags, err, sizeof err) != 0)
		refused(err);
out:
	eval_partial_section_clear(&s);
	eval_partial_close(r);
	return 0;
}
