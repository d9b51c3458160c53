/* The curl examples of docs/api.md, run as written (only the socket path changed) against dpuhostd
 * on a fake host (the kernel simulator, QEMU faked), in the order the document gives them, so that
 * the documentation cannot drift from the API: a route, a field or a body that changed fails here.
 *
 * The test host has pools with the names the document uses: "nvme-vfs" (8 VFs, bound to vfio-pci
 * when claimed), "sandbox-sfs" (never bound) and "bf2-vfs" (empty here), so that its claim, pool
 * and VM examples succeed. Examples
 * about functions the document's BlueField host has and the test host has not (0000:10:00.2,
 * mlx5_core.sf.1) are held to less: they must reach their route and be well-formed, so their
 * answer is 404 for the function or claim, never "no route", 400, 405, 422 or 5xx. */
#include "test.h"

#include <curl/curl.h>
#include <jansson.h>

#include "dkit.h"
#include "run.h"
#include "util/macro.h"

static struct dkit *k;

struct example {
    char *cmd; /* the command, continuation lines joined */
    int line;  /* where it starts in the document */
};

static void examples_free(struct example *e, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(e[i].cmd);
    free(e);
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The curl commands over the default socket inside ```sh blocks of a Markdown text. */
static size_t extract(const char *text, struct example **ret)
{
    struct example *e = NULL;
    size_t n = 0;
    bool in_sh = false;
    int line = 0;
    char *cur = NULL;
    int cur_line = 0;
    for (const char *p = text; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        _cleanup_free_ char *l = strndup(p, len);
        p += len + (nl ? 1 : 0);
        line++;
        if (!in_sh) {
            in_sh = streq(l, "```sh");
            continue;
        }
        if (starts_with(l, "```")) {
            in_sh = false;
            continue;
        }
        bool more = len > 0 && l[len - 1] == '\\';
        if (more)
            l[len - 1] = ' ';
        if (!cur) {
            if (!starts_with(l, "curl "))
                continue;
            cur = strdup(l);
            cur_line = line;
        } else {
            char *joined = NULL;
            assert_true(asprintf(&joined, "%s%s", cur, l) > 0);
            free(cur);
            cur = joined;
        }
        if (more)
            continue;
        if (strstr(cur, "--unix-socket /run/dpuhost/dpuhost.sock ")) {
            e = realloc(e, (n + 1) * sizeof(*e));
            e[n++] = (struct example){cur, cur_line};
        } else {
            free(cur);
        }
        cur = NULL;
    }
    free(cur);
    *ret = e;
    return n;
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "re");
    if (!f)
        fail_msg("cannot read %s: %m", path);
    char *buf = NULL;
    size_t size = 0;
    if (getdelim(&buf, &size, '\0', f) < 0)
        fail_msg("cannot read %s", path);
    fclose(f);
    return buf;
}

/* Runs one example; returns the HTTP status and the body in *body. */
static int run_example(const struct example *ex, char **body)
{
    const char *sock = "/run/dpuhost/dpuhost.sock";
    const char *at = strstr(ex->cmd, sock);
    char bodyfile[600];
    snprintf(bodyfile, sizeof(bodyfile), "%s/example-body", k->work);
    _cleanup_free_ char *cmd = NULL;
    /* -N examples stream events: --max-time ends them (curl exit 28) */
    bool stream = strstr(ex->cmd, "/v1/events") != NULL;
    assert_true(asprintf(&cmd, "%.*s%s%s -s -S -o '%s' -w '%%{http_code}' --max-time %d", (int)(at - ex->cmd),
                         ex->cmd, k->socket, at + strlen(sock), bodyfile, stream ? 1 : 20) > 0);
    char *argv[] = {"/bin/sh", "-c", cmd, NULL};
    struct run_result r;
    assert_int_equal(run_capture(argv, NULL, &r), 0);
    if (r.status != 0 && !(stream && r.status == 28))
        fail_msg("docs/api.md line %d: curl exited %d: %s\n  %s", ex->line, r.status, r.err, cmd);
    int status = atoi(r.out);
    run_result_free(&r);
    *body = read_text(bodyfile);
    unlink(bodyfile);
    return status;
}

/* What the document's examples name that the test host does not have: its BlueField functions, the
 * lab's NVMe functions at bus 01 (the test host's are at 03 and 82) and the claim id of its
 * example answer. */
static bool names_what_the_test_host_lacks(const char *cmd)
{
    static const char *const absent[] = {"0000:10:00.", "mlx5_core.sf.", "0000:01:00.",
                                         "c-fa56aa2ae733164e894e43bae0addaa2"};
    for (size_t i = 0; i < ELEMENTSOF(absent); i++)
        if (strstr(cmd, absent[i]))
            return true;
    return false;
}

/* A bulk answer (bind, restore) whose every result is "no such function". */
static bool only_unknown_functions(json_t *doc)
{
    json_t *results = json_object_get(doc, "results"), *r;
    size_t i;
    if (json_array_size(results) == 0)
        return false;
    json_array_foreach (results, i, r)
        if (!json_is_string(json_object_get(r, "error")) ||
            !streq(json_string_value(json_object_get(r, "error")), "ENODEV"))
            return false;
    return true;
}

static void every_example_works(void **state)
{
    (void)state;
    _cleanup_free_ char *text = read_text(DOCS_API_MD);
    struct example *ex = NULL;
    size_t n = extract(text, &ex);
    assert_true(n >= 20); /* the document's examples were found */
    size_t ok = 0, routed = 0;
    for (size_t i = 0; i < n; i++) {
        _cleanup_free_ char *body = NULL;
        int status = run_example(&ex[i], &body);
        json_t *doc = json_loads(body, 0, NULL);
        const char *msg = json_string_value(json_object_get(json_object_get(doc, "error"), "message"));
        if (status >= 200 && status < 300) {
            ok++;
        } else if (((status == 404 && msg && !starts_with(msg, "no route")) ||
                    (status == 409 && only_unknown_functions(doc))) &&
                   names_what_the_test_host_lacks(ex[i].cmd)) {
            routed++;
            printf("# line %d: %d on the test host (%s)\n", ex[i].line, status, msg ? msg : body);
        } else {
            fail_msg("docs/api.md line %d: HTTP %d: %s\n  %s", ex[i].line, status, body, ex[i].cmd);
        }
        json_decref(doc);
    }
    printf("# %zu examples: %zu succeeded, %zu reached their route on a host without the function\n", n, ok,
           routed);
    assert_true(ok >= 20);
    examples_free(ex, n);
}

/* The extractor itself: continuation lines, other blocks and other sockets. */
static void extract_finds_curl_commands_only(void **state)
{
    (void)state;
    const char *md = "text\n"
                     "```sh\n"
                     "curl --unix-socket /run/dpuhost/dpuhost.sock -X POST \\\n"
                     "  -d '{}' http://localhost/v1/claims\n"
                     "# a comment\n"
                     "curl -H 'Authorization: Bearer x' http://127.0.0.1:7411/v1/host\n"
                     "```\n"
                     "```json\n"
                     "curl --unix-socket /run/dpuhost/dpuhost.sock http://localhost/not-sh\n"
                     "```\n"
                     "```sh\n"
                     "curl --unix-socket /run/dpuhost/dpuhost.sock http://localhost/v1/pools\n"
                     "```\n";
    struct example *e = NULL;
    size_t n = extract(md, &e);
    assert_int_equal(n, 2);
    assert_string_equal(e[0].cmd, "curl --unix-socket /run/dpuhost/dpuhost.sock -X POST    -d '{}' "
                                  "http://localhost/v1/claims");
    assert_int_equal(e[0].line, 3);
    assert_string_equal(e[1].cmd, "curl --unix-socket /run/dpuhost/dpuhost.sock http://localhost/v1/pools");
    assert_int_equal(e[1].line, 12);
    examples_free(e, n);
}

int main(void)
{
    unsetenv("FAKE_QEMU_UNPLUG"); /* the fake guest acknowledges unplugs */
    struct dkit_options o = {.vfs_pool = "nvme-vfs",
                             .raw_pool = "sandbox-sfs",
                             /* the BlueField VFs' pool: nothing on this host is one */
                             .pools_extra = "{\"name\": \"bf2-vfs\", \"device_spec\": "
                                            "{\"vendor_id\": \"15b3\", \"product_id\": \"101e\"}}",
                             .config_extra = "\"vms\": {\"qemu\": \"" FAKE_QEMU_PATH
                                             "\", \"stop_timeout_ms\": 2000}"};
    const struct CMUnitTest tests[] = {
            DH_TEST(extract_finds_curl_commands_only),
            DH_TEST(every_example_works),
    };
    return DKIT_RUN_GROUP(tests, &o, &k);
}
