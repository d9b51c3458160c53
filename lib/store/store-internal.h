/* Shared by the store's files; not exported. */
#pragma once

#include <sqlite3.h>

#include <dpuhost/store.h>

struct dh_store {
    sqlite3 *db;
    char *path;
};

/* Fills err from the connection's last error: "state store <path>: <what>: <sqlite message>". */
int store_error(struct dh_store *s, int rc, struct dh_error *err, const char *what);
/* Maps an SQLite result code to a negative errno. */
int store_errno(int rc);
