/* Opening the state database, durability settings and schema migrations. */
#include "store-internal.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "util/macro.h"

/* Migration i takes the schema from version i to i+1. Never edit a released migration: add one. */
static const char *const migrations[] = {
        /* 0 -> 1: records of what binding changed on the host */
        "CREATE TABLE bindings ("
        "  address TEXT PRIMARY KEY NOT NULL,"
        "  state TEXT NOT NULL CHECK (state IN ('binding', 'bound', 'restoring')),"
        "  original_driver TEXT,"
        "  original_override TEXT,"
        "  iommu_group INTEGER NOT NULL,"
        "  vf_valid INTEGER NOT NULL DEFAULT 0,"
        "  vf_pf_ifname TEXT,"
        "  vf_index INTEGER,"
        "  vf_mac TEXT,"
        "  vf_vlan INTEGER,"
        "  vf_qos INTEGER,"
        "  vf_spoofchk INTEGER,"
        "  vf_trust INTEGER,"
        "  created_usec INTEGER NOT NULL,"
        "  owner_pid INTEGER NOT NULL"
        ");",
        /* 1 -> 2: claims. One claim per function is enforced by the primary key of claim_functions,
         * idempotency by the unique (owner, key) index. */
        "CREATE TABLE claims ("
        "  id TEXT PRIMARY KEY NOT NULL,"
        "  owner TEXT NOT NULL,"
        "  pool TEXT,"
        "  key TEXT NOT NULL,"
        "  request TEXT NOT NULL,"
        "  labels TEXT NOT NULL DEFAULT '{}',"
        "  state TEXT NOT NULL CHECK (state IN ('claiming', 'claimed', 'releasing')),"
        "  created_usec INTEGER NOT NULL"
        ");"
        "CREATE UNIQUE INDEX claims_owner_key ON claims(owner, key);"
        "CREATE TABLE claim_functions ("
        "  address TEXT PRIMARY KEY NOT NULL,"
        "  claim_id TEXT NOT NULL REFERENCES claims(id) ON DELETE CASCADE,"
        "  position INTEGER NOT NULL,"
        "  bind INTEGER NOT NULL,"
        "  vanished INTEGER NOT NULL DEFAULT 0"
        ");"
        "CREATE INDEX claim_functions_claim ON claim_functions(claim_id);",
        /* 2 -> 3: VMs and the functions passed through to them */
        "CREATE TABLE vms ("
        "  id TEXT PRIMARY KEY NOT NULL,"
        "  name TEXT NOT NULL UNIQUE,"
        "  spec TEXT NOT NULL,"
        "  state TEXT NOT NULL,"
        "  reason TEXT,"
        "  accel TEXT,"
        "  pid INTEGER NOT NULL DEFAULT 0,"
        "  pid_start INTEGER NOT NULL DEFAULT 0,"
        "  created_usec INTEGER NOT NULL"
        ");"
        "CREATE TABLE vm_devices ("
        "  vm_id TEXT NOT NULL REFERENCES vms(id) ON DELETE CASCADE,"
        "  dev_id TEXT NOT NULL,"
        "  address TEXT NOT NULL,"
        "  claim_id TEXT NOT NULL DEFAULT '',"
        "  port TEXT NOT NULL,"
        "  boot INTEGER NOT NULL DEFAULT 0,"
        "  hotplugged INTEGER NOT NULL DEFAULT 0,"
        "  state TEXT NOT NULL,"
        "  position INTEGER NOT NULL,"
        "  PRIMARY KEY (vm_id, dev_id)"
        ");",
};

int store_errno(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return 0;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return -EBUSY;
    case SQLITE_NOMEM:
        return -ENOMEM;
    case SQLITE_READONLY:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return -EACCES;
    case SQLITE_CANTOPEN:
        return -ENOENT;
    case SQLITE_FULL:
        return -ENOSPC;
    case SQLITE_CONSTRAINT:
        return -EEXIST;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return -EBADMSG;
    default:
        return -EIO;
    }
}

int store_error(struct dh_store *s, int rc, struct dh_error *err, const char *what)
{
    return dh_error_set(err, store_errno(rc) ? store_errno(rc) : -EIO, "state store %s: %s: %s", s->path,
                        what, sqlite3_errstr(rc));
}

static int exec(struct dh_store *s, const char *sql, struct dh_error *err, const char *what)
{
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? 0 : store_error(s, rc, err, what);
}

static int user_version(sqlite3 *db, int *ret)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        *ret = sqlite3_column_int(st, 0);
        rc = SQLITE_OK;
    }
    sqlite3_finalize(st);
    return rc;
}

static int migrate(struct dh_store *s, struct dh_error *err)
{
    int v;
    int rc = user_version(s->db, &v);
    if (rc != SQLITE_OK)
        return store_error(s, rc, err, "cannot read the schema version");
    if (v > (int)ELEMENTSOF(migrations))
        return dh_error_set(err, -EPROTONOSUPPORT,
                            "state store %s has schema version %d, newer than this dpuhost knows (%zu): "
                            "run a newer dpuhost or move the file away",
                            s->path, v, ELEMENTSOF(migrations));
    for (; v < (int)ELEMENTSOF(migrations); v++) {
        char set_version[64];
        snprintf(set_version, sizeof(set_version), "PRAGMA user_version = %d", v + 1);
        /* each step is one transaction: a crash leaves the schema at a whole version */
        int r = exec(s, "BEGIN IMMEDIATE", err, "cannot start a migration");
        if (r < 0)
            return r;
        if ((r = exec(s, migrations[v], err, "migration failed")) < 0 ||
            (r = exec(s, set_version, err, "cannot set the schema version")) < 0 ||
            (r = exec(s, "COMMIT", err, "cannot commit a migration")) < 0) {
            sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
            return r;
        }
    }
    return 0;
}

int dh_store_open(const char *path, struct dh_store **ret, struct dh_error *err)
{
    assert_return(path && ret, -EINVAL);
    struct dh_store *s = calloc(1, sizeof(*s));
    if (!s || !(s->path = strdup(path))) {
        free(s);
        return -ENOMEM;
    }
    /* create the file 0600 ourselves: SQLite would use the umask */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) {
        int r = negative_errno();
        dh_store_close(s);
        return dh_error_set(err, r,
                            "cannot open state store %s: %s (does the state directory exist and is it "
                            "writable?)",
                            path, strerror(-r));
    }
    close(fd);
    pthread_mutex_init(&s->lock, NULL);
    s->queue_tail = &s->queue;
    int rc = sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX, NULL);
    int r = 0;
    if (rc != SQLITE_OK)
        r = store_error(s, rc, err, "cannot open");
    /* WAL with synchronous=FULL: a commit is on disk when it returns, and readers never block the
     * writer. busy_timeout covers a second process (the CLI while the daemon runs). */
    if (r == 0)
        r = exec(s, "PRAGMA journal_mode = WAL", err, "cannot enable WAL");
    if (r == 0)
        r = exec(s, "PRAGMA synchronous = FULL", err, "cannot set synchronous=FULL");
    if (r == 0)
        r = exec(s, "PRAGMA foreign_keys = ON", err, "cannot enable foreign keys");
    if (r == 0 && (rc = sqlite3_busy_timeout(s->db, 10000)) != SQLITE_OK)
        r = store_error(s, rc, err, "cannot set the busy timeout");
    if (r == 0)
        r = migrate(s, err);
    /* readers get their own connection: they never see a batch that is not committed yet */
    if (r == 0 && (rc = sqlite3_open_v2(path, &s->rdb, SQLITE_OPEN_READONLY | SQLITE_OPEN_FULLMUTEX, NULL)) !=
                          SQLITE_OK)
        r = store_error(s, rc, err, "cannot open a reader");
    if (r == 0 && (rc = sqlite3_busy_timeout(s->rdb, 10000)) != SQLITE_OK)
        r = store_error(s, rc, err, "cannot set the busy timeout");
    if (r < 0) {
        dh_store_close(s);
        return r;
    }
    *ret = s;
    return 0;
}

void dh_store_close(struct dh_store *s)
{
    if (!s)
        return;
    store_stmts_free(s);
    if (s->rdb)
        sqlite3_close_v2(s->rdb);
    if (s->db)
        sqlite3_close_v2(s->db);
    if (s->queue_tail) {
        pthread_mutex_destroy(&s->lock);
    }
    free(s->path);
    free(s);
}

int dh_store_schema_version(struct dh_store *s)
{
    int v = -1;
    if (s && user_version(s->rdb ? s->rdb : s->db, &v) != SQLITE_OK)
        return -EIO;
    return v;
}

void dh_store_stats(struct dh_store *s, unsigned long long *ret_commits, unsigned long long *ret_writes)
{
    pthread_mutex_lock(&s->lock);
    *ret_commits = s->commits;
    *ret_writes = s->ops;
    pthread_mutex_unlock(&s->lock);
}
