/* The plug step with stand-in ovs-vsctl scripts on PATH: the exact arguments, no shell (names with
 * shell syntax arrive verbatim), a failure quoting ovs-vsctl's last line, a crash, a hang killed
 * after the timeout, ovs-vsctl not installed, and names ovs-vsctl would take for options. */
#include "test.h"

#include <sys/stat.h>

#include "dpu.h"

struct fixture {
    char dir[256];
    char *saved_path;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    snprintf(fx->dir, sizeof(fx->dir), "/tmp/dh-ovs-XXXXXX");
    if (!mkdtemp(fx->dir))
        fail_msg("mkdtemp");
    const char *p = getenv("PATH");
    fx->saved_path = p ? strdup(p) : NULL;
    setenv("PATH", fx->dir, 1);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    /* PATH back first: rm must be the real one, not a stand-in from fx->dir */
    if (fx->saved_path)
        setenv("PATH", fx->saved_path, 1);
    else
        unsetenv("PATH");
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", fx->dir);
    free(fx->saved_path);
    free(fx);
    return 0;
}

/* Writes <dir>/ovs-vsctl with body after a shebang. */
static void stand_in(struct fixture *fx, const char *body)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/ovs-vsctl", fx->dir);
    FILE *f = fopen(path, "w");
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    chmod(path, 0755);
}

static char *slurp(struct fixture *fx, const char *name)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", fx->dir, name);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = calloc(1, 4096);
    size_t n = fread(buf, 1, 4095, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static void the_representor_is_added_with_exact_arguments(void **state)
{
    struct fixture *fx = *state;
    char body[1024];
    /* one argument per line, so that word splitting would show */
    snprintf(body, sizeof(body), "for a in \"$@\"; do echo \"$a\"; done >'%s/args'\nexit 0", fx->dir);
    stand_in(fx, body);
    struct dh_error err = {0};
    assert_int_equal(dh_devlink_ovs_add_port("br-int", "pf0vf3", 7, &err), 0);
    char *args = slurp(fx, "args");
    assert_string_equal(args, "--timeout=7\n--may-exist\nadd-port\nbr-int\npf0vf3\n");
    free(args);
    /* no shell: a bridge name with shell syntax arrives as it is */
    assert_int_equal(dh_devlink_ovs_add_port("br$(id)", "pf0vf3", 7, &err), 0);
    args = slurp(fx, "args");
    dpu_assert_contains(args, "\nbr$(id)\n");
    free(args);
}

static void a_failure_quotes_ovs_vsctl(void **state)
{
    struct fixture *fx = *state;
    stand_in(fx, "echo 'ovs-vsctl: warming up'\necho 'ovs-vsctl: no bridge named br-int' >&2\nexit 1");
    struct dh_error err = {0};
    assert_int_equal(dh_devlink_ovs_add_port("br-int", "pf0vf3", 10, &err), -EIO);
    assert_string_equal(err.message, "representor: ovs-vsctl add-port br-int pf0vf3 failed (exit status 1): "
                                     "ovs-vsctl: no bridge named br-int");
    dh_error_clear(&err);
    /* a lot of output: the last line still comes through */
    stand_in(
            fx,
            "i=0; while [ $i -lt 2000 ]; do echo \"noise line $i\"; i=$((i+1)); done\necho 'the reason' >&2\n"
            "exit 3");
    assert_int_equal(dh_devlink_ovs_add_port("br-int", "pf0vf3", 10, &err), -EIO);
    dpu_assert_contains(err.message, "(exit status 3): the reason");
    dh_error_clear(&err);
    stand_in(fx, "kill -KILL $$");
    assert_int_equal(dh_devlink_ovs_add_port("br-int", "pf0vf3", 10, &err), -EIO);
    dpu_assert_contains(err.message, "was killed by signal 9");
}

static void a_hanging_ovs_vsctl_is_killed(void **state)
{
    struct fixture *fx = *state;
    /* ignores its own --timeout, as one stuck in uninterruptible I/O would */
    stand_in(fx, "exec /bin/sleep 60");
    struct dh_error err = {0};
    assert_int_equal(dh_devlink_ovs_add_port("br-int", "pf0vf3", 1, &err), -ETIMEDOUT);
    dpu_assert_contains(err.message, "did not finish within 6 s and was killed");
}

static void without_ovs_vsctl(void **state)
{
    struct fixture *fx = *state;
    struct dh_error err = {0};
    assert_int_equal(dh_devlink_ovs_add_port("br-int", "pf0vf3", 10, &err), -ENOENT);
    dpu_assert_contains(err.message, "ovs-vsctl is not installed (not found on PATH ");
    dpu_assert_contains(err.message, fx->dir);
    dpu_assert_contains(err.message, "add pf0vf3 to your switch yourself");
    /* a directory or a file without x is not ovs-vsctl */
    char path[512];
    snprintf(path, sizeof(path), "%s/ovs-vsctl", fx->dir);
    mkdir(path, 0755);
    assert_int_equal(dh_devlink_ovs_add_port("br-int", "pf0vf3", 10, &err), -ENOENT);
}

static void names_ovs_vsctl_would_misread(void **state)
{
    struct fixture *fx = *state;
    stand_in(fx, "exit 0");
    static const char *const bad_bridges[] = {"", "--all", "br int", "br\tint", "a/b"};
    for (size_t i = 0; i < sizeof(bad_bridges) / sizeof(bad_bridges[0]); i++) {
        struct dh_error err = {0};
        assert_int_equal(dh_devlink_ovs_add_port(bad_bridges[i], "pf0vf3", 10, &err), -EINVAL);
        dpu_assert_contains(err.message, "is not a bridge name");
    }
    struct dh_error err = {0};
    assert_int_equal(dh_devlink_ovs_add_port(NULL, "pf0vf3", 10, &err), -EINVAL);
    assert_int_equal(dh_devlink_ovs_add_port("br-int", "-x", 10, &err), -EINVAL);
    assert_int_equal(dh_devlink_ovs_add_port("br-int", "a-name-of-sixteen", 10, &err), -EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(the_representor_is_added_with_exact_arguments, setup, teardown),
            DH_TEST_SETUP(a_failure_quotes_ovs_vsctl, setup, teardown),
            DH_TEST_SETUP(a_hanging_ovs_vsctl_is_killed, setup, teardown),
            DH_TEST_SETUP(without_ovs_vsctl, setup, teardown),
            DH_TEST_SETUP(names_ovs_vsctl_would_misread, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
