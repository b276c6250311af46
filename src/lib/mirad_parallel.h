/* SPDX-License-Identifier: MIT */
/*
 * The one parallel loop of the tools (GLib threads) and the one count of
 * the CPUs they default to.  Items are started in index order, so a loop
 * that stops at an error stops where a serial loop would, at any thread
 * count.
 */
#ifndef MIRAD_PARALLEL_H
#define MIRAD_PARALLEL_H

#include "mirad_platform.h"

#include <stddef.h>

/* Item INDEX of a loop: 0, or an error code that stops the loop (items not
 * started yet are not started; those running finish). */
typedef int (*mirad_parallel_item_fn)(size_t index, void *user);
/* Called once in each thread that ran items, after its last one (to free
 * what the thread kept, e.g. libvips' buffers). */
typedef void (*mirad_parallel_thread_end_fn)(void *user);

/*
 * Call ITEM(i, USER) for i = 0 .. N_ITEMS-1 on up to N_THREADS threads (0:
 * mirad_cpu_count(); never more threads than items).  With one thread the
 * items run in the calling thread.  THREAD_END (may be NULL) is called at
 * the end of every thread that ran items, the calling thread included.
 * Returns 0 when every item returned 0, otherwise the error of the failing
 * item with the smallest index (its index in *FAILED_INDEX when not NULL):
 * the item a serial loop would have stopped at, whatever the scheduling.
 */
int mirad_parallel_for(size_t n_items, unsigned n_threads,
    mirad_parallel_item_fn item, mirad_parallel_thread_end_fn thread_end,
    void *user, size_t *failed_index);

/* The processors this process may run on (its CPU affinity, as
 * g_get_num_processors() counts them); at least 1.  The default of every
 * tool's --jobs. */
unsigned mirad_cpu_count(void);

#endif
