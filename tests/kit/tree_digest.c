/* FNV-1a over a sorted walk of a directory tree: see tree_digest.h. */
#include "tree_digest.h"

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint64_t mix(uint64_t h, const void *data, size_t n)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static int cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static uint64_t walk(const char *path, const char *rel, uint64_t h)
{
    struct stat st;
    if (lstat(path, &st) < 0)
        return mix(h, "?", 1);
    h = mix(h, rel, strlen(rel) + 1);
    h = mix(h, &st.st_mode, sizeof(st.st_mode));
    if (S_ISLNK(st.st_mode)) {
        char target[4096];
        ssize_t n = readlink(path, target, sizeof(target));
        if (n > 0)
            h = mix(h, target, (size_t)n);
        return h;
    }
    if (S_ISREG(st.st_mode)) {
        h = mix(h, &st.st_size, sizeof(st.st_size));
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            char buf[4096];
            ssize_t n;
            while ((n = read(fd, buf, sizeof(buf))) > 0)
                h = mix(h, buf, (size_t)n);
            close(fd);
        }
        return h;
    }
    if (!S_ISDIR(st.st_mode))
        return h;
    DIR *d = opendir(path);
    if (!d)
        return h;
    char **names = NULL;
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        names = realloc(names, (n + 1) * sizeof(char *));
        names[n++] = strdup(de->d_name);
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof(char *), cmp);
    for (size_t i = 0; i < n; i++) {
        char *child, *crel;
        if (asprintf(&child, "%s/%s", path, names[i]) > 0 && asprintf(&crel, "%s/%s", rel, names[i]) > 0) {
            h = walk(child, crel, h);
            free(crel);
        }
        free(child);
        free(names[i]);
    }
    free(names);
    return h;
}

uint64_t tree_digest(const char *root)
{
    return walk(root, "", 14695981039346656037ULL);
}
