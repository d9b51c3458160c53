/* Who may talk to dpuhostd, without HTTP: the allow rules over peer credentials, the credentials a
 * Unix socket reports, the bearer token's file checks and its comparison. */
#include "test.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"

static void root_listed_uids_and_gids_are_allowed(void **state)
{
    (void)state;
    uid_t uids[] = {1000};
    gid_t gids[] = {2000, 2001};
    struct dh_config cfg = {
            .allowed_uids = uids, .n_allowed_uids = 1, .allowed_gids = gids, .n_allowed_gids = 2};
    struct dhd_peer p = {.uid = 0, .gid = 0};
    assert_true(dhd_peer_is_allowed(&cfg, &p)); /* root, always */
    p = (struct dhd_peer){.uid = 1000, .gid = 1000};
    assert_true(dhd_peer_is_allowed(&cfg, &p));
    p = (struct dhd_peer){.uid = 1001, .gid = 2001};
    assert_true(dhd_peer_is_allowed(&cfg, &p)); /* primary group */
    p = (struct dhd_peer){.uid = 1001, .gid = 1001, .groups = {5, 2000}, .n_groups = 2};
    assert_true(dhd_peer_is_allowed(&cfg, &p)); /* supplementary group */
    p = (struct dhd_peer){.uid = 1001, .gid = 1001, .groups = {5, 6}, .n_groups = 2};
    assert_false(dhd_peer_is_allowed(&cfg, &p));
    p = (struct dhd_peer){.uid = 65534, .gid = 65534};
    assert_false(dhd_peer_is_allowed(&cfg, &p));
    struct dh_config none = {0};
    assert_false(dhd_peer_is_allowed(&none, &p));
    p = (struct dhd_peer){.uid = 0, .gid = 65534};
    assert_true(dhd_peer_is_allowed(&none, &p));
}

static void peer_credentials_of_a_socketpair_are_ours(void **state)
{
    (void)state;
    int sv[2];
    assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    struct dhd_peer p;
    assert_int_equal(dhd_peer_get(sv[0], &p), 0);
    assert_int_equal(p.pid, getpid());
    assert_int_equal(p.uid, getuid());
    assert_int_equal(p.gid, getgid());
    gid_t groups[DHD_PEER_GROUPS_MAX];
    int n = getgroups(DHD_PEER_GROUPS_MAX, groups);
    assert_int_equal(p.n_groups, n); /* SO_PEERGROUPS: the supplementary groups too */
    close(sv[0]);
    close(sv[1]);
    assert_int_equal(dhd_peer_get(-1, &p), -EBADF);
}

static void token_comparison(void **state)
{
    (void)state;
    const char *t = "0123456789abcdef0123456789abcdef";
    assert_true(dhd_token_matches("Bearer 0123456789abcdef0123456789abcdef", t));
    assert_true(dhd_token_matches("bearer 0123456789abcdef0123456789abcdef", t)); /* RFC 7235: any case */
    assert_false(dhd_token_matches("Bearer 0123456789abcdef0123456789abcdeF", t));
    assert_false(dhd_token_matches("Bearer 0123456789abcdef0123456789abcde", t)); /* a prefix */
    assert_false(dhd_token_matches("Bearer 0123456789abcdef0123456789abcdef0", t));
    assert_false(dhd_token_matches("Bearer ", t));
    assert_false(dhd_token_matches("Basic 0123456789abcdef0123456789abcdef", t));
    assert_false(dhd_token_matches("0123456789abcdef0123456789abcdef", t));
    assert_false(dhd_token_matches(NULL, t));
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void token_file_is_checked(void **state)
{
    (void)state;
    char dir[] = "/tmp/dpuhost-token.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof(path), "%s/token", dir);
    struct dh_error err = {0};
    char *tok = NULL;

    write_file(path, "0123456789abcdef0123456789abcdef\n", 0600);
    assert_int_equal(dhd_token_load(path, &tok, &err), 0);
    assert_string_equal(tok, "0123456789abcdef0123456789abcdef"); /* the newline is not part of it */
    free(tok);

    write_file(path, "0123456789abcdef0123456789abcdef\n", 0640);
    assert_int_equal(dhd_token_load(path, &tok, &err), -EPERM);
    assert_non_null(strstr(err.message, "chmod 600"));

    dh_error_clear(&err);
    write_file(path, "short\n", 0600);
    assert_int_equal(dhd_token_load(path, &tok, &err), -EINVAL);
    assert_non_null(strstr(err.message, "16 to 4096"));

    dh_error_clear(&err);
    write_file(path, "0123456789abcdef 0123456789abcdef\n", 0600);
    assert_int_equal(dhd_token_load(path, &tok, &err), -EINVAL);
    assert_non_null(strstr(err.message, "character 17"));

    dh_error_clear(&err);
    unlink(path);
    assert_int_equal(dhd_token_load(path, &tok, &err), -ENOENT);
    assert_non_null(strstr(err.message, path));

    dh_error_clear(&err);
    assert_int_equal(dhd_token_load(dir, &tok, &err), -EINVAL);
    assert_non_null(strstr(err.message, "not a regular file"));
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(root_listed_uids_and_gids_are_allowed),
            DH_TEST(peer_credentials_of_a_socketpair_are_ours),
            DH_TEST(token_comparison),
            DH_TEST(token_file_is_checked),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
