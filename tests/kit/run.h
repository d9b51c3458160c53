/* Runs a program with arguments and captures its exit status, stdout and stderr (tests only). */
#pragma once

struct run_result {
    int status; /* exit status, or 128+signal */
    char *out;  /* NUL-terminated, owned */
    char *err;
};

/* argv[0] is the program path. env: extra "K=V" entries (NULL-terminated) or NULL. */
int run_capture(char *const argv[], char *const env[], struct run_result *ret);
void run_result_free(struct run_result *r);
