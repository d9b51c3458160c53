/* File helpers on a fake tree: attribute reads, links, atomic writes. */
#include "test.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_sysfs.h"
#include "util/fileio.h"

static int setup(void **state)
{
    *state = fake_tree_new();
    return 0;
}

static int teardown(void **state)
{
    fake_tree_free(*state);
    return 0;
}

static int root_fd(struct fake_tree *t)
{
    int fd = open(fake_tree_root(t), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fd >= 0);
    return fd;
}

static void attr_read_strips_newline_and_blanks(void **state)
{
    struct fake_tree *t = *state;
    fake_write_str(t, "a", "0x15b3 \n\n");
    int fd = root_fd(t);
    char buf[32];
    assert_int_equal(dh_read_attr_at(fd, "a", buf, sizeof(buf)), 6);
    assert_string_equal(buf, "0x15b3");
    close(fd);
}

static void attr_read_refuses_truncation(void **state)
{
    struct fake_tree *t = *state;
    fake_write_str(t, "long", "0123456789abcdef");
    int fd = root_fd(t);
    char buf[8];
    assert_int_equal(dh_read_attr_at(fd, "long", buf, sizeof(buf)), -EFBIG);
    char exact[17];
    assert_int_equal(dh_read_attr_at(fd, "long", exact, sizeof(exact)), 16);
    close(fd);
}

static void attr_read_missing_is_enoent(void **state)
{
    struct fake_tree *t = *state;
    int fd = root_fd(t);
    char buf[8];
    assert_int_equal(dh_read_attr_at(fd, "nope", buf, sizeof(buf)), -ENOENT);
    close(fd);
}

static void full_read_returns_binary_and_size(void **state)
{
    struct fake_tree *t = *state;
    const uint8_t data[] = {0x82, 0x00, 0x01, 0x78};
    fake_write(t, "bin", data, sizeof(data));
    int fd = root_fd(t);
    char *buf = NULL;
    size_t n = 0;
    assert_int_equal(dh_read_full_at(fd, "bin", 100, &buf, &n), 0);
    assert_int_equal(n, 4);
    assert_memory_equal(buf, data, 4);
    free(buf);
    assert_int_equal(dh_read_full_at(fd, "bin", 2, &buf, &n), -EFBIG);
    close(fd);
}

static void readlink_basename_works_on_dangling_links(void **state)
{
    struct fake_tree *t = *state;
    fake_symlink(t, "sys/devices/x/driver", "sys/bus/pci/drivers/mlx5_core");
    int fd = root_fd(t);
    char *s = NULL;
    assert_int_equal(dh_readlink_basename_at(fd, "sys/devices/x/driver", &s), 0);
    assert_string_equal(s, "mlx5_core");
    free(s);
    assert_int_equal(dh_readlink_at(fd, "sys/devices/x/driver", &s), 0);
    assert_string_equal(s, "../../bus/pci/drivers/mlx5_core");
    free(s);
    close(fd);
}

static void atomic_write_replaces_content(void **state)
{
    struct fake_tree *t = *state;
    fake_mkdir(t, "run/state");
    int fd = root_fd(t);
    assert_int_equal(dh_write_atomic_at(fd, "run/state/f", "one", 3, 0600), 0);
    assert_int_equal(dh_write_atomic_at(fd, "run/state/f", "second", 6, 0600), 0);
    char buf[16];
    assert_int_equal(dh_read_attr_at(fd, "run/state/f", buf, sizeof(buf)), 6);
    assert_string_equal(buf, "second");
    struct stat st;
    assert_int_equal(fstatat(fd, "run/state/f", &st, 0), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    close(fd);
}

static void write_attr_needs_existing_file(void **state)
{
    struct fake_tree *t = *state;
    int fd = root_fd(t);
    assert_int_equal(dh_write_attr_at(fd, "sys/nothing", "1"), -ENOENT);
    fake_write_str(t, "sys/some", "");
    assert_int_equal(dh_write_attr_at(fd, "sys/some", "vfio-pci"), 0);
    char buf[16];
    assert_int_equal(dh_read_attr_at(fd, "sys/some", buf, sizeof(buf)), 8);
    close(fd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(attr_read_strips_newline_and_blanks, setup, teardown),
            DH_TEST_SETUP(attr_read_refuses_truncation, setup, teardown),
            DH_TEST_SETUP(attr_read_missing_is_enoent, setup, teardown),
            DH_TEST_SETUP(full_read_returns_binary_and_size, setup, teardown),
            DH_TEST_SETUP(readlink_basename_works_on_dangling_links, setup, teardown),
            DH_TEST_SETUP(atomic_write_replaces_content, setup, teardown),
            DH_TEST_SETUP(write_attr_needs_existing_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
