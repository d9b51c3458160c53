/* The host root: validation with clear messages, path building, pluggable kernel operations. */
#include "test.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <dpuhost/host.h>

#include "fake_sysfs.h"

static void missing_root_is_enoent_with_message(void **state)
{
    (void)state;
    struct dh_host *h = NULL;
    struct dh_error err = {0};
    assert_int_equal(dh_host_new("/nonexistent/dpuhost", &h, &err), -ENOENT);
    assert_null(h);
    assert_non_null(strstr(err.message, "/nonexistent/dpuhost"));
    assert_non_null(strstr(err.message, "--root"));
}

static void root_without_sys_is_refused(void **state)
{
    (void)state;
    struct fake_tree *t = fake_tree_new();
    fake_remove(t, "sys");
    struct dh_host *h = NULL;
    struct dh_error err = {0};
    assert_int_equal(dh_host_new(fake_tree_root(t), &h, &err), -ENOENT);
    assert_non_null(strstr(err.message, "no sys/"));
    fake_tree_free(t);
}

static void file_as_root_is_enotdir(void **state)
{
    (void)state;
    struct fake_tree *t = fake_tree_new();
    fake_write_str(t, "file", "x");
    char *p = NULL;
    assert_true(asprintf(&p, "%s/file", fake_tree_root(t)) > 0);
    struct dh_host *h = NULL;
    struct dh_error err = {0};
    assert_int_equal(dh_host_new(p, &h, &err), -ENOTDIR);
    free(p);
    fake_tree_free(t);
}

static void paths_are_relative_to_root(void **state)
{
    (void)state;
    struct fake_tree *t = fake_tree_new();
    char *withslash = NULL;
    assert_true(asprintf(&withslash, "%s///", fake_tree_root(t)) > 0);
    struct dh_host *h = NULL;
    assert_int_equal(dh_host_new(withslash, &h, NULL), 0);
    assert_string_equal(dh_host_root(h), fake_tree_root(t));
    assert_false(dh_host_is_real_root(h));
    char *p = dh_host_path(h, "/sys/bus/pci");
    char *want = NULL;
    assert_true(asprintf(&want, "%s/sys/bus/pci", fake_tree_root(t)) > 0);
    assert_string_equal(p, want);
    free(want);
    free(p);
    free(withslash);
    dh_host_free(h);
    fake_tree_free(t);
}

static void real_root_paths(void **state)
{
    (void)state;
    struct dh_host *h = NULL;
    assert_int_equal(dh_host_new(NULL, &h, NULL), 0);
    assert_true(dh_host_is_real_root(h));
    char *p = dh_host_path(h, "sys/bus/pci");
    assert_string_equal(p, "/sys/bus/pci");
    free(p);
    dh_host_free(h);
}

struct recorder {
    char path[256];
    char value[256];
    int calls;
};

static int record_write(void *userdata, struct dh_host *host, const char *path, const char *value)
{
    (void)host;
    struct recorder *r = userdata;
    snprintf(r->path, sizeof(r->path), "%s", path);
    snprintf(r->value, sizeof(r->value), "%s", value);
    r->calls++;
    return -EBUSY;
}

static void writes_go_through_installed_ops(void **state)
{
    (void)state;
    struct fake_tree *t = fake_tree_new();
    struct dh_host *h = NULL;
    assert_int_equal(dh_host_new(fake_tree_root(t), &h, NULL), 0);
    /* real ops write the file */
    assert_int_equal(dh_host_write_attr(h, "/sys/bus/pci/drivers_probe", "0000:03:00.0"), 0);
    struct recorder rec = {0};
    static const struct dh_host_ops ops = {.write_attr = record_write};
    dh_host_set_ops(h, &ops, &rec);
    assert_int_equal(dh_host_write_attr(h, "/sys/bus/pci/drivers_probe", "0000:03:00.1"), -EBUSY);
    assert_int_equal(rec.calls, 1);
    assert_string_equal(rec.path, "sys/bus/pci/drivers_probe");
    assert_string_equal(rec.value, "0000:03:00.1");
    struct dh_error err = {0};
    assert_int_equal(dh_host_load_module(h, "vfio-pci", &err), -EOPNOTSUPP);
    dh_host_set_ops(h, NULL, NULL);
    /* modprobe is refused on a fake root instead of touching the real machine */
    assert_int_equal(dh_host_load_module(h, "vfio-pci", &err), -EOPNOTSUPP);
    dh_host_free(h);
    fake_tree_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(missing_root_is_enoent_with_message),
            DH_TEST(root_without_sys_is_refused),
            DH_TEST(file_as_root_is_enotdir),
            DH_TEST(paths_are_relative_to_root),
            DH_TEST(real_root_paths),
            DH_TEST(writes_go_through_installed_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
