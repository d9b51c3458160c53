/* Small language helpers used everywhere: scope-bound cleanup (systemd style), ownership hand-off,
 * array sizes and argument checks at public entry points. Nothing here allocates or prints. */
#pragma once

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define _cleanup_(f) __attribute__((cleanup(f)))
#define _unused_ __attribute__((unused))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _pure_ __attribute__((pure))
#define _warn_unused_result_ __attribute__((warn_unused_result))

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))

/* Hand ownership on: returns the value and leaves the variable empty so cleanup does nothing. */
#define TAKE_PTR(p)                \
    ({                             \
        __typeof__(p) _took = (p); \
        (p) = NULL;                \
        _took;                     \
    })
#define TAKE_FD(fd)       \
    ({                    \
        int _took = (fd); \
        (fd) = -1;        \
        _took;            \
    })

/* Public entry points check their arguments and return an error instead of crashing. */
#define assert_return(expr, r) \
    do {                       \
        if (!(expr))           \
            return (r);        \
    } while (0)

static inline void freep(void *p)
{
    free(*(void **)p);
}
#define _cleanup_free_ _cleanup_(freep)

static inline void closep(int *fd)
{
    if (*fd >= 0) {
        int saved = errno;
        close(*fd);
        errno = saved;
    }
}
#define _cleanup_close_ _cleanup_(closep)

static inline void fclosep(FILE **f)
{
    if (*f)
        fclose(*f);
}
#define _cleanup_fclose_ _cleanup_(fclosep)

static inline void closedirp(DIR **d)
{
    if (*d)
        closedir(*d);
}
#define _cleanup_closedir_ _cleanup_(closedirp)

/* Defines func##p(type *) for use with _cleanup_(). The destructor must accept NULL. */
#define DEFINE_TRIVIAL_CLEANUP_FUNC(type, func) \
    static inline void func##p(type *p)         \
    {                                           \
        if (*p)                                 \
            func(*p);                           \
    }

static inline bool streq(const char *a, const char *b)
{
    return strcmp(a, b) == 0;
}

static inline bool streq_ptr(const char *a, const char *b)
{
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* Returns the rest of s after prefix, or NULL when s does not start with prefix. */
static inline const char *startswith(const char *s, const char *prefix)
{
    size_t n = strlen(prefix);
    return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* errno as a negative value, never 0 (some libc paths forget to set it). */
static inline int negative_errno(void)
{
    return errno > 0 ? -errno : -EIO;
}
