/* Replays a fuzz corpus as an ordinary test: calls LLVMFuzzerTestOneInput() on every file of the
 * directory given as argv[1], in name order, and prints TAP. It cannot catch a crash itself; built with
 * -Db_sanitize=address,undefined, ASan aborts the run on a memory bug and the target aborts on a broken
 * invariant, so a bad input fails the test without libFuzzer being installed. */
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/macro.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int entry_is_input(const struct dirent *de)
{
    return de->d_name[0] != '.';
}

/* Reads a whole file into an exact-size allocation, so that a read one byte past it is caught. */
static int read_input(const char *path, uint8_t **ret, size_t *ret_size)
{
    _cleanup_fclose_ FILE *f = fopen(path, "rbe");
    if (!f)
        return negative_errno();
    _cleanup_free_ uint8_t *buf = NULL;
    size_t size = 0;
    for (;;) {
        uint8_t chunk[4096];
        size_t n = fread(chunk, 1, sizeof(chunk), f);
        if (n > 0) {
            uint8_t *grown = realloc(buf, size + n);
            if (!grown)
                return -ENOMEM;
            buf = grown;
            memcpy(buf + size, chunk, n);
            size += n;
        }
        if (n < sizeof(chunk))
            break;
    }
    if (ferror(f))
        return -EIO;
    *ret = TAKE_PTR(buf);
    *ret_size = size;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s CORPUS-DIRECTORY\n", argv[0]);
        return 2;
    }

    struct dirent **names = NULL;
    int n = scandir(argv[1], &names, entry_is_input, alphasort);
    if (n < 0) {
        printf("1..0 # cannot read corpus %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    if (n == 0) {
        printf("1..0 # corpus %s is empty\n", argv[1]);
        free(names);
        return 1;
    }

    int failed = 0;
    printf("1..%d\n", n);
    for (int i = 0; i < n; i++) {
        _cleanup_free_ char *path = NULL;
        _cleanup_free_ uint8_t *buf = NULL;
        size_t size = 0;
        int r = -ENOMEM;
        if (asprintf(&path, "%s/%s", argv[1], names[i]->d_name) >= 0)
            r = read_input(path, &buf, &size);
        if (r < 0) {
            printf("not ok %d - %s # cannot read: %s\n", i + 1, names[i]->d_name, strerror(-r));
            failed = 1;
        } else {
            fflush(stdout);
            LLVMFuzzerTestOneInput(buf, size);
            printf("ok %d - %s (%zu bytes)\n", i + 1, names[i]->d_name, size);
        }
        free(names[i]);
    }
    free(names);
    return failed;
}
