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

/* What a function run in this process printed: fixed buffers (truncated), so that tests can keep
 * results by value without freeing them. */
struct run_output {
    int status; /* the function's return value */
    char out[16384];
    char err[8192];
};

/* Calls fn(userdata) with stdout and stderr redirected to temporary files, for CLI commands tested
 * in-process (with fakes behind the context they get). */
void run_call_captured(int (*fn)(void *userdata), void *userdata, struct run_output *ret);
