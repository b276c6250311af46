/* SPDX-License-Identifier: MIT */
#include "mirad_platform.h"

#include <glib.h>

#include "mirad_parallel.h"

/* What the threads of one loop share.  NEXT hands out indexes in order;
 * FAILED is the smallest failing index so far (N_ITEMS when none). */
struct loop {
	size_t n_items;
	mirad_parallel_item_fn item;
	mirad_parallel_thread_end_fn thread_end;
	void *user;
	GMutex lock;
	size_t next;
	size_t failed;
	int error;
};

/* The next index to run, or N_ITEMS when the loop is done or stopped.
 * An index is handed out only while no error is known, so every index
 * below a failing one is run. */
static size_t
claim(struct loop *l)
{
	size_t i = l->n_items;

	g_mutex_lock(&l->lock);
	if (l->failed == l->n_items && l->next < l->n_items)
		i = l->next++;
	g_mutex_unlock(&l->lock);
	return i;
}

static void
record_failure(struct loop *l, size_t i, int error)
{
	g_mutex_lock(&l->lock);
	if (i < l->failed) {
		l->failed = i;
		l->error = error;
	}
	g_mutex_unlock(&l->lock);
}

static gpointer
run_items(gpointer data)
{
	struct loop *l = data;
	size_t i;

	while ((i = claim(l)) < l->n_items) {
		int rc = l->item(i, l->user);

		if (rc != 0)
			record_failure(l, i, rc);
	}
	if (l->thread_end != NULL)
		l->thread_end(l->user);
	return NULL;
}

int
mirad_parallel_for(size_t n_items, unsigned n_threads,
    mirad_parallel_item_fn item, mirad_parallel_thread_end_fn thread_end,
    void *user, size_t *failed_index)
{
	struct loop l = {n_items, item, thread_end, user, {0}, 0, n_items, 0};
	GThread **threads;
	unsigned started = 0;

	if (n_items == 0)
		return 0;
	if (n_threads == 0)
		n_threads = mirad_cpu_count();
	if (n_threads > n_items)
		n_threads = (unsigned)n_items;
	g_mutex_init(&l.lock);
	threads = g_new(GThread *, n_threads);
	/* A thread that cannot be started leaves its items to the others;
	 * with none, the calling thread runs them all. */
	while (n_threads > 1 && started < n_threads &&
	    (threads[started] = g_thread_try_new(
	         "mirad-worker", run_items, &l, NULL)) != NULL)
		started++;
	if (started == 0)
		run_items(&l);
	for (unsigned t = 0; t < started; t++)
		g_thread_join(threads[t]);
	g_free(threads);
	g_mutex_clear(&l.lock);
	if (l.error != 0 && failed_index != NULL)
		*failed_index = l.failed;
	return l.error;
}

unsigned
mirad_cpu_count(void)
{
	unsigned n = g_get_num_processors();

	return n > 0 ? n : 1;
}
