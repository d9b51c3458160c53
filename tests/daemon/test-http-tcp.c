/* The TCP listener exists only with --tcp and a token file, and admits only "Authorization: Bearer"
 * with the right token (401 otherwise, with WWW-Authenticate); the Unix socket keeps working with
 * peer credentials. A token file others can read is refused at start. */
#include "test.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dkit.h"

#define TOKEN "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof(sa);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
    close(fd);
    return ntohs(sa.sin_port);
}

static void write_token(const char *path, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, TOKEN "\n", strlen(TOKEN) + 1), (ssize_t)strlen(TOKEN) + 1);
    fchmod(fd, mode);
    close(fd);
}

static long tcp_get(int port, const char *authorization, char *www_auth, size_t size)
{
    CURL *c = curl_easy_init();
    char url[128];
    snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/pools", port);
    curl_easy_setopt(c, CURLOPT_URL, url);
    struct curl_slist *h = authorization ? curl_slist_append(NULL, authorization) : NULL;
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    FILE *sink = fopen("/dev/null", "we");
    curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
    assert_int_equal(curl_easy_perform(c), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (www_auth) {
        struct curl_header *hd = NULL;
        www_auth[0] = '\0';
        if (curl_easy_header(c, "WWW-Authenticate", 0, CURLH_HEADER, -1, &hd) == CURLHE_OK)
            snprintf(www_auth, size, "%s", hd->value);
    }
    fclose(sink);
    curl_slist_free_all(h);
    curl_easy_cleanup(c);
    return status;
}

static void only_the_right_bearer_token_gets_in(void **state)
{
    (void)state;
    struct dkit *k = dkit_new(NULL);
    char token[600], spec[64];
    snprintf(token, sizeof(token), "%s/token", k->work);
    write_token(token, 0600);
    int port = free_port();
    snprintf(spec, sizeof(spec), "127.0.0.1:%d", port);
    const char *args[] = {"--tcp", spec, "--token-file", token, NULL};
    assert_int_equal(dkit_start(k, DKIT_REAL, args), 0);

    char www[128];
    assert_int_equal(tcp_get(port, NULL, www, sizeof(www)), 401);
    assert_non_null(strstr(www, "Bearer"));
    assert_int_equal(tcp_get(port, "Authorization: Bearer wrong-token-wrong-token", NULL, 0), 401);
    assert_int_equal(tcp_get(port, "Authorization: Bearer " TOKEN "0", NULL, 0), 401);
    assert_int_equal(tcp_get(port, "Authorization: Basic " TOKEN, NULL, 0), 401);
    assert_int_equal(tcp_get(port, "Authorization: Bearer " TOKEN, NULL, 0), 200);
    assert_int_equal(tcp_get(port, "Authorization: bearer " TOKEN, NULL, 0), 200);
    /* the Unix socket is unaffected: no token there, credentials instead */
    json_decref(dkit_expect(k, "GET", "/v1/pools", NULL, 200));
    char *log = dkit_log(k);
    char needle[64];
    snprintf(needle, sizeof(needle), "tcp 127.0.0.1:%d", port);
    assert_non_null(strstr(log, needle));
    free(log);
    assert_int_equal(dkit_stop(k), 0);
    dkit_free(k);
}

static void a_token_file_others_can_read_is_refused(void **state)
{
    (void)state;
    struct dkit *k = dkit_new(NULL);
    char token[600], spec[64];
    snprintf(token, sizeof(token), "%s/token", k->work);
    write_token(token, 0644);
    snprintf(spec, sizeof(spec), "127.0.0.1:%d", free_port());
    const char *args[] = {"--tcp", spec, "--token-file", token, NULL};
    assert_int_equal(dkit_start(k, DKIT_REAL, args), 1);
    char *log = dkit_log(k);
    assert_non_null(strstr(log, "accessible by group or others (mode 0644): chmod 600"));
    free(log);
    const char *no_file[] = {"--tcp", spec, NULL};
    assert_int_equal(dkit_start(k, DKIT_REAL, no_file), 2);
    const char *bad_spec[] = {"--tcp", "localhost:80", "--token-file", token, NULL};
    chmod(token, 0600);
    assert_int_equal(dkit_start(k, DKIT_REAL, bad_spec), 1);
    log = dkit_log(k);
    assert_non_null(strstr(log, "--tcp localhost:80"));
    free(log);
    dkit_free(k);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
    const struct CMUnitTest tests[] = {
            DH_TEST(only_the_right_bearer_token_gets_in),
            DH_TEST(a_token_file_others_can_read_is_refused),
    };
    int r = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return r;
}
