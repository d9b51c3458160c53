/* The reference for the claims benchmark: how many durable single-row transactions SQLite commits per
 * second on this filesystem, configured as dpuhost's store is (WAL, synchronous=FULL): one INSERT and
 * one COMMIT per transaction, one writer, nothing batched.
 * Usage: sqlite-commit DIR SECONDS   (prints "commits_per_second N" and "p99_ms X") */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s DIR SECONDS\n", argv[0]);
        return 2;
    }
    char path[4096];
    snprintf(path, sizeof(path), "%s/raw-commit.db", argv[1]);
    unlink(path);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        return fprintf(stderr, "cannot open %s\n", path), 1;
    sqlite3_exec(db,
                 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                 "CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);",
                 NULL, NULL, NULL);
    sqlite3_stmt *ins;
    sqlite3_prepare_v2(db, "INSERT INTO t (v) VALUES (?)", -1, &ins, NULL);
    double seconds = atof(argv[2]), t0 = now_ms(), end = t0 + seconds * 1000;
    size_t n = 0, cap = 1 << 16;
    double *lat = malloc(cap * sizeof(*lat));
    while (now_ms() < end) {
        double a = now_ms();
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL);
        sqlite3_bind_text(ins, 1, "c-0123456789abcdef0123456789abcdef", -1, SQLITE_STATIC);
        if (sqlite3_step(ins) != SQLITE_DONE)
            return fprintf(stderr, "insert: %s\n", sqlite3_errmsg(db)), 1;
        sqlite3_reset(ins);
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            return fprintf(stderr, "commit: %s\n", sqlite3_errmsg(db)), 1;
        if (n == cap)
            lat = realloc(lat, (cap *= 2) * sizeof(*lat));
        lat[n++] = now_ms() - a;
    }
    double elapsed = (now_ms() - t0) / 1000;
    qsort(lat, n, sizeof(*lat), cmp);
    printf("commits_per_second %.0f\np50_ms %.3f\np99_ms %.3f\n", (double)n / elapsed, lat[n / 2],
           lat[(size_t)((double)n * 0.99)]);
    free(lat);
    sqlite3_finalize(ins);
    sqlite3_close(db);
    unlink(path);
    return 0;
}
