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

int store_write(struct dh_store *s, store_op_fn fn, void *userdata, struct dh_error *err)
{
    struct write_op op = {.fn = fn, .userdata = userdata};
    pthread_mutex_lock(&s->lock);
    *s->queue_tail = &op;
    s->queue_tail = &op.next;
    while (!op.done) {
        if (s->committing) {
            pthread_cond_wait(&s->done, &s->lock);
            continue;
        }
        s->committing = true;
        struct write_op *batch = s->queue;
        s->queue = NULL;
        s->queue_tail = &s->queue;
        pthread_mutex_unlock(&s->lock);
        run_batch(s, batch);
        pthread_mutex_lock(&s->lock);
        for (struct write_op *o = batch; o; o = o->next)
            o->done = true;
        s->committing = false;
        pthread_cond_broadcast(&s->done);
    }
    pthread_mutex_unlock(&s->lock);
    if (op.result < 0 && err && !err->code && op.err.code)
        *err = op.err;
    return op.result;
}
