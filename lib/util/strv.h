/* Growable arrays of owned strings (NULL-free, counted). */
#pragma once

#include <stddef.h>

/* Appends s (taking ownership; freed on failure). Returns 0 or -ENOMEM. */
int dh_strv_push(char ***strv, size_t *n, char *s);
/* Appends a copy of s. */
int dh_strv_push_dup(char ***strv, size_t *n, const char *s);
/* Frees every string and the array. Accepts NULL. */
void dh_strv_free(char **strv, size_t n);
/* Sorts in natural order (strverscmp: "nvme0n2" before "nvme0n10"). */
void dh_strv_sort(char **strv, size_t n);
/* Index of s, or -1. */
long dh_strv_find(char *const *strv, size_t n, const char *s);
