/* Counted arrays of owned strings. */
#include "util/strv.h"

#include "util/macro.h"

int dh_strv_push(char ***strv, size_t *n, char *s)
{
    if (!s)
        return -ENOMEM;
    /* grow in powers of two: pushes are amortized O(1) */
    if ((*n & (*n - 1)) == 0) {
        size_t cap = *n ? *n * 2 : 1;
        char **v = realloc(*strv, cap * sizeof(char *));
        if (!v) {
            free(s);
            return -ENOMEM;
        }
        *strv = v;
    }
    (*strv)[(*n)++] = s;
    return 0;
}

int dh_strv_push_dup(char ***strv, size_t *n, const char *s)
{
    return dh_strv_push(strv, n, strdup(s));
}

void dh_strv_free(char **strv, size_t n)
{
    if (!strv)
        return;
    for (size_t i = 0; i < n; i++)
        free(strv[i]);
    free(strv);
}

static int cmp_natural(const void *a, const void *b)
{
    return strverscmp(*(char *const *)a, *(char *const *)b);
}

void dh_strv_sort(char **strv, size_t n)
{
    if (n > 1)
        qsort(strv, n, sizeof(char *), cmp_natural);
}

long dh_strv_find(char *const *strv, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (streq(strv[i], s))
            return (long)i;
    return -1;
}
