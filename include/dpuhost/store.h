/* Durable state in SQLite: what binding changed on the host (so that restore and restart recovery
 * can undo it), and later claims and VMs. Every write commits durably (WAL, synchronous=FULL)
 * before the call returns. The schema is versioned (PRAGMA user_version) and migrated forward on
 * open; a database from a newer dpuhost is refused rather than guessed at. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dpuhost/error.h>
#include <dpuhost/pci.h>

/* The schema version this build writes. */
#define DH_STORE_SCHEMA_VERSION 1

struct dh_store;

/* Opens (creating when missing, mode 0600) the database at path and migrates it. Safe to share
 * between threads (SQLite serialized mode). The caller closes it with dh_store_close(). */
int dh_store_open(const char *path, struct dh_store **ret, struct dh_error *err);
void dh_store_close(struct dh_store *store);
int dh_store_schema_version(struct dh_store *store);

/* A bind in progress or done. The record is written before the first change to the host and
 * deleted only after the host is back to the recorded state. */
enum dh_binding_state {
    DH_BINDING_BINDING,   /* intent recorded; the host may be partly changed */
    DH_BINDING_BOUND,     /* on vfio-pci */
    DH_BINDING_RESTORING, /* restore started; the host may be partly restored */
};
const char *dh_binding_state_to_string(enum dh_binding_state s);

/* VF admin settings as read from the PF before the bind (-1: unknown or not reported). */
struct dh_vf_snapshot {
    bool valid;      /* settings were read */
    char *pf_ifname; /* the PF netdev they were read through */
    int vf_index;
    bool has_mac;
    uint8_t mac[6];
    int vlan, qos;
    int spoofchk, trust;
};

struct dh_binding_record {
    char address[DH_PCI_ADDR_STRLEN];
    enum dh_binding_state state;
    char *original_driver;   /* NULL: the function had no driver */
    char *original_override; /* NULL: driver_override was "(null)" */
    int iommu_group;
    struct dh_vf_snapshot vf;
    int64_t created_usec; /* CLOCK_REALTIME */
    int64_t owner_pid;    /* the process that wrote it last */
};

void dh_binding_record_clear(struct dh_binding_record *rec);

/* Inserts or replaces the record for rec->address. */
int dh_store_binding_put(struct dh_store *store, const struct dh_binding_record *rec, struct dh_error *err);
/* -ENOENT when there is none. The caller clears *ret. */
int dh_store_binding_get(struct dh_store *store, const char *address, struct dh_binding_record *ret,
                         struct dh_error *err);
int dh_store_binding_delete(struct dh_store *store, const char *address, struct dh_error *err);
/* All records, ordered by address. The caller clears each and frees the array. */
int dh_store_binding_list(struct dh_store *store, struct dh_binding_record **ret, size_t *ret_n,
                          struct dh_error *err);
