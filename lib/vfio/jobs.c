/* A small fixed pool of threads for independent per-function work (binds and restores take 30-60 ms
 * each, mostly waiting on the kernel, so doing several at once is what makes a VM with many
 * functions start fast). */
#include "vfio-internal.h"

#include <pthread.h>
#include <stdatomic.h>

#define MAX_THREADS 32

struct pool {
    size_t n;
    atomic_size_t next;
    void (*fn)(size_t i, void *userdata);
    void *userdata;
};

static void *worker(void *arg)
{
    struct pool *p = arg;
    for (size_t i; (i = atomic_fetch_add(&p->next, 1)) < p->n;)
        p->fn(i, p->userdata);
    return NULL;
}

void vfio_run_parallel(size_t n, int parallel, void (*fn)(size_t i, void *userdata), void *userdata)
{
    struct pool p = {.n = n, .fn = fn, .userdata = userdata};
    atomic_init(&p.next, 0);
    size_t threads = parallel > 0 ? (size_t)parallel : 1;
    if (threads > n)
        threads = n;
    if (threads > MAX_THREADS)
        threads = MAX_THREADS;
    pthread_t tids[MAX_THREADS];
    size_t started = 0;
    for (; started < threads; started++)
        if (pthread_create(&tids[started], NULL, worker, &p) != 0)
            break;
    if (started == 0)
        worker(&p); /* no threads available: do the work here */
    for (size_t i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
}
