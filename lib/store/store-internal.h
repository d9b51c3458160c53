/* Shared by the store's files; not exported. */
#pragma once

#include <pthread.h>
#include <sqlite3.h>

#include <dpuhost/store.h>

struct write_op;

struct store_stmt {
    const char *sql;
    sqlite3_stmt *st;
};

struct dh_store {
    sqlite3 *db;  /* the writer connection: used only by the group commit leader */
    sqlite3 *rdb; /* the reader connection: sees committed data only (WAL) */
    char *path;
    pthread_mutex_t lock;
    struct write_op *queue, **queue_tail;
    bool committing;
    uint64_t commits, ops;    /* statistics: transactions and operations committed */
    struct store_stmt *stmts; /* the writer's prepared statements (stmt.c) */
    size_t n_stmts;
};

/* A write operation: runs inside a transaction on s->db (and its own savepoint), returns 0 or a
 * negative errno (the savepoint is then rolled back, the batch's other operations still commit). */
typedef int (*store_op_fn)(struct dh_store *s, void *userdata, struct dh_error *err);

/* Runs fn durably: queued, batched with concurrent writers into one transaction (group commit), and
 * returns once that transaction is committed (synchronous=FULL). */
int store_write(struct dh_store *s, store_op_fn fn, void *userdata, struct dh_error *err);

/* Fills err from the connection's last error: "state store <path>: <what>: <sqlite message>". */
int store_error(struct dh_store *s, int rc, struct dh_error *err, const char *what);
/* Maps an SQLite result code to a negative errno. */
int store_errno(int rc);

/* stmt.c: statements of the writer connection (s->db), for write operations only. */
/* The statement for sql, prepared on first use and kept until the store closes. Bind, then
 * store_step_done(), which also resets it. */
int store_stmt(struct dh_store *s, const char *sql, sqlite3_stmt **ret, struct dh_error *err);
/* Steps st to completion and resets it: 0, -EEXIST on a constraint violation, else the error. */
int store_step_done(struct dh_store *s, sqlite3_stmt *st, struct dh_error *err, const char *what);
/* store_stmt() + store_step_done() for a statement without parameters. */
int store_run(struct dh_store *s, const char *sql, struct dh_error *err);
void store_stmts_free(struct dh_store *s);

void store_bind_text(sqlite3_stmt *st, int i, const char *s); /* NULL binds NULL */
char *store_column_text(sqlite3_stmt *st, int i);             /* strdup'ed; NULL for NULL */
