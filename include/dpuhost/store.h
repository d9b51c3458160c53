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
#define DH_STORE_SCHEMA_VERSION 3

struct dh_store;

/* Opens (creating when missing, mode 0600) the database at path and migrates it. Safe to share
 * between threads (SQLite serialized mode). The caller closes it with dh_store_close(). */
int dh_store_open(const char *path, struct dh_store **ret, struct dh_error *err);
void dh_store_close(struct dh_store *store);
int dh_store_schema_version(struct dh_store *store);
/* Group commit statistics: transactions committed and write operations in them. */
void dh_store_stats(struct dh_store *store, unsigned long long *ret_commits, unsigned long long *ret_writes);

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

/* ---- claims (schema 2) ---- */

enum dh_claim_state {
    DH_CLAIM_CLAIMING,  /* recorded; functions may be partly bound */
    DH_CLAIM_CLAIMED,   /* done: the functions are the owner's */
    DH_CLAIM_RELEASING, /* release started; functions may be partly restored */
};
const char *dh_claim_state_to_string(enum dh_claim_state s);

struct dh_claim_function {
    char address[64];
    bool bind;     /* bound to vfio-pci for this claim */
    bool vanished; /* the function disappeared from the host while claimed */
};

struct dh_claim_record {
    char id[40]; /* "c-" + 32 hex digits */
    char *owner;
    char *pool;    /* NULL for a claim by address outside... never: always the function's pool */
    char *key;     /* idempotency key: the client's request_id, or the canonical request */
    char *request; /* the canonical request (JSON text), to detect a reused request_id */
    char *labels;  /* JSON object text */
    enum dh_claim_state state;
    /* dh_realtime_usec(). 0 on insert: the store uses now without telling the caller, so a caller
     * that keeps the record in memory sets it. */
    int64_t created_usec;
    struct dh_claim_function *functions;
    size_t n_functions;
};

void dh_claim_record_clear(struct dh_claim_record *c);

/* Inserts a claim and its functions in one transaction. -EEXIST when one of the functions is claimed
 * already or the (owner, key) pair exists: the database itself refuses double allocation. */
int dh_store_claim_insert(struct dh_store *store, const struct dh_claim_record *c, struct dh_error *err);
int dh_store_claim_set_state(struct dh_store *store, const char *id, enum dh_claim_state state,
                             struct dh_error *err);
/* Deletes the claim and its functions. -ENOENT when there is none. */
int dh_store_claim_delete(struct dh_store *store, const char *id, struct dh_error *err);
int dh_store_claim_get(struct dh_store *store, const char *id, struct dh_claim_record *ret,
                       struct dh_error *err);
/* The claim with this owner and key, or -ENOENT. */
int dh_store_claim_find(struct dh_store *store, const char *owner, const char *key,
                        struct dh_claim_record *ret, struct dh_error *err);
/* Every claim (of owner, when not NULL), oldest first. The caller clears each and frees the array. */
int dh_store_claim_list(struct dh_store *store, const char *owner, struct dh_claim_record **ret,
                        size_t *ret_n, struct dh_error *err);
int dh_store_claim_function_set_vanished(struct dh_store *store, const char *address, bool vanished,
                                         struct dh_error *err);

/* ---- VMs (schema 3) ---- */

struct dh_vm_device_record {
    char dev_id[32];   /* QEMU device id: "dev0", "hp1", ... */
    char address[64];  /* the PCI function */
    char claim_id[40]; /* its claim ("" before the claim exists) */
    char port[16];     /* the pcie-root-port it sits on: "rp1" */
    bool boot;
    bool hotplugged;
    char state[16]; /* "attached", "unplug_pending" */
};

struct dh_vm_record {
    char id[32];
    char *name;
    char *spec;        /* the VM spec as given (JSON text) */
    char *state;       /* creating, running, stopping, stopped, crashed, deleting */
    char *reason;      /* why it is in that state, or NULL */
    char *accel;       /* "kvm" or "tcg" while running, else NULL */
    int64_t pid;       /* QEMU's pid while running, 0 otherwise */
    int64_t pid_start; /* its start time (/proc/PID/stat field 22): guards against pid reuse */
    /* dh_realtime_usec(). 0 on insert: the store uses now without telling the caller, so a caller
     * that keeps the record in memory sets it. */
    int64_t created_usec;
    struct dh_vm_device_record *devices;
    size_t n_devices;
};

void dh_vm_record_clear(struct dh_vm_record *v);
/* Inserts a VM (without devices); -EEXIST when the id or the name exists. */
int dh_store_vm_insert(struct dh_store *store, const struct dh_vm_record *v, struct dh_error *err);
/* Updates state, reason, accel, pid and pid_start. */
int dh_store_vm_update(struct dh_store *store, const struct dh_vm_record *v, struct dh_error *err);
/* Replaces the VM's devices with v->devices, in one transaction. */
int dh_store_vm_set_devices(struct dh_store *store, const struct dh_vm_record *v, struct dh_error *err);
int dh_store_vm_delete(struct dh_store *store, const char *id, struct dh_error *err);
int dh_store_vm_get(struct dh_store *store, const char *id, struct dh_vm_record *ret, struct dh_error *err);
int dh_store_vm_list(struct dh_store *store, struct dh_vm_record **ret, size_t *ret_n, struct dh_error *err);
