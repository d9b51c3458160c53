/* Group commit. With synchronous=FULL every commit waits for the disk, so concurrent writers (claims
 * from many clients, binds in parallel) are batched: the first writer to find no commit in progress
 * becomes the leader, takes every queued operation, runs each in its own savepoint inside one
 * transaction, commits once, and wakes the others. A failing operation rolls back alone; a failed
 * commit fails the whole batch. */
#include "store-internal.h"

#include "util/macro.h"

struct write_op {
    store_op_fn fn;
    void *userdata;
    struct dh_error err;
    int result;
    bool done;
    pthread_cond_t wake; /* its writer waits here: for its batch to commit, or to lead the next one */
    struct write_op *next;
};

static void run_batch(struct dh_store *s, struct write_op *batch)
{
    struct dh_error err = {0};
    int r = store_run(s, "BEGIN IMMEDIATE", &err);
    if (r < 0) {
        for (struct write_op *op = batch; op; op = op->next) {
            op->result = r;
            op->err = err;
        }
        return;
    }
    size_t n = 0;
    for (struct write_op *op = batch; op; op = op->next, n++) {
        store_run(s, "SAVEPOINT op", NULL);
        op->result = op->fn(s, op->userdata, &op->err);
        if (op->result < 0)
            store_run(s, "ROLLBACK TO op", NULL);
        store_run(s, "RELEASE op", NULL);
    }
    r = store_run(s, "COMMIT", &err);
    if (r < 0) {
        for (struct write_op *op = batch; op; op = op->next)
            if (op->result >= 0) {
                op->result = r;
                op->err = err;
            }
        store_run(s, "ROLLBACK", NULL);
        return;
    }
    s->commits++;
    s->ops += n;
}

/* Each writer waits on its own condition variable and is woken only when its operation is committed
 * or when it is to lead the next batch: a broadcast to every writer after every commit cost more in
 * context switches than the commits themselves (bench/README.md). */
int store_write(struct dh_store *s, store_op_fn fn, void *userdata, struct dh_error *err)
{
    struct write_op op = {.fn = fn, .userdata = userdata};
    pthread_cond_init(&op.wake, NULL);
    pthread_mutex_lock(&s->lock);
    *s->queue_tail = &op;
    s->queue_tail = &op.next;
    while (!op.done) {
        if (s->committing) {
            pthread_cond_wait(&op.wake, &s->lock);
            continue;
        }
        s->committing = true;
        struct write_op *batch = s->queue;
        s->queue = NULL;
        s->queue_tail = &s->queue;
        pthread_mutex_unlock(&s->lock);
        run_batch(s, batch);
        pthread_mutex_lock(&s->lock);
        /* the others' ops live on their stacks: valid until they get the lock back */
        for (struct write_op *o = batch, *next; o; o = next) {
            next = o->next;
            o->done = true;
            if (o != &op)
                pthread_cond_signal(&o->wake);
        }
        s->committing = false;
        if (s->queue)
            pthread_cond_signal(&s->queue->wake); /* the next leader */
    }
    pthread_mutex_unlock(&s->lock);
    pthread_cond_destroy(&op.wake);
    if (op.result < 0 && err && !err->code && op.err.code)
        *err = op.err;
    return op.result;
}
