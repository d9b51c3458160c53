/* File access relative to a directory descriptor. Every sysfs/procfs read in dpuhost goes through
 * these, relative to the host root (see dpuhost/host.h), so that tests run on fake trees.
 * All functions return 0 (or a byte count) or a negative errno; none of them prints. */
#pragma once

#include <dirent.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Reads the whole file (until read() returns 0) into a NUL-terminated buffer owned by the caller.
 * Files larger than max_bytes fail with -EFBIG. *ret_size excludes the terminating NUL. */
int dh_read_full_at(int dirfd, const char *path, size_t max_bytes, char **ret, size_t *ret_size);

/* Reads a small attribute into buf (NUL-terminated) and strips trailing whitespace and newlines.
 * Returns the string length or a negative errno. A value that does not fit fails with -EFBIG
 * rather than being truncated, so that callers never act on half a value. */
int dh_read_attr_at(int dirfd, const char *path, char *buf, size_t size);

/* Like dh_read_attr_at, into a newly allocated string. */
int dh_read_attr_alloc_at(int dirfd, const char *path, char **ret);

/* Reads a symlink into a newly allocated string. Works on dangling links. */
int dh_readlink_at(int dirfd, const char *path, char **ret);

/* The last path component of a symlink's target (e.g. the driver name of <dev>/driver). */
int dh_readlink_basename_at(int dirfd, const char *path, char **ret);

/* Writes s to an existing file with a single write(2), as sysfs expects. No O_CREAT. */
int dh_write_attr_at(int dirfd, const char *path, const char *s);

/* Durably replaces path with data: temp file in the same directory, fsync, rename, fsync dir. */
int dh_write_atomic_at(int dirfd, const char *path, const void *data, size_t size, mode_t mode);

/* Opens the directory path relative to dirfd for reading; NULL with errno set when it cannot. */
DIR *dh_opendir_at(int dirfd, const char *path);

/* True when path exists (following symlinks). */
bool dh_exists_at(int dirfd, const char *path);

/* Removes trailing whitespace in place; returns s. */
char *dh_strip_trailing(char *s);
