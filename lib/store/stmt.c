/* The writer connection's statements, prepared once. Only the group commit leader uses s->db, one
 * operation at a time, so one copy of each statement is enough; re-parsing the SQL of every write
 * was most of the cost of a batch (bench/README.md). Readers share s->rdb across threads and
 * prepare their own statements. */
#include "store-internal.h"

#include <time.h>

#include "util/macro.h"

int store_stmt(struct dh_store *s, const char *sql, sqlite3_stmt **ret, struct dh_error *err)
{
    for (size_t i = 0; i < s->n_stmts; i++)
        if (s->stmts[i].sql == sql || streq(s->stmts[i].sql, sql)) {
            *ret = s->stmts[i].st;
            return 0;
        }
    struct store_stmt *v = realloc(s->stmts, (s->n_stmts + 1) * sizeof(*v));
    if (!v)
        return -ENOMEM;
    s->stmts = v;
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL);
    if (rc != SQLITE_OK) {
        char what[160];
        snprintf(what, sizeof(what), "cannot prepare \"%.100s\"", sql);
        return store_error(s, rc, err, what);
    }
    s->stmts[s->n_stmts++] = (struct store_stmt){.sql = sql, .st = st};
    *ret = st;
    return 0;
}

void store_stmts_free(struct dh_store *s)
{
    for (size_t i = 0; i < s->n_stmts; i++)
        sqlite3_finalize(s->stmts[i].st);
    free(s->stmts);
    s->stmts = NULL;
    s->n_stmts = 0;
}

int store_step_done(struct dh_store *s, sqlite3_stmt *st, struct dh_error *err, const char *what)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (rc == SQLITE_DONE)
        return 0;
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        return -EEXIST;
    return store_error(s, rc, err, what);
}

int store_run(struct dh_store *s, const char *sql, struct dh_error *err)
{
    sqlite3_stmt *st = NULL;
    int r = store_stmt(s, sql, &st, err);
    return r < 0 ? r : store_step_done(s, st, err, sql);
}

void store_bind_text(sqlite3_stmt *st, int i, const char *s)
{
    if (s)
        sqlite3_bind_text(st, i, s, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(st, i);
}

char *store_column_text(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}
