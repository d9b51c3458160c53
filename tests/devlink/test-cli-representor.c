/* `dpuhost representors` and `dpuhost representor [plug]` (cli/cmd-representor.c) run in-process
 * against the fake devlink peer and fake trees: the table and the JSON, lookups and their exit
 * statuses, bad input refused (exit 2) before anything is read, the source chosen for a root that is
 * not "/" and for a kernel without devlink, the plug with a stand-in ovs-vsctl, and the host's
 * binding profile values used as they are. The commands open devlink through the context's
 * devlink_open, which run_in() sets to fake_open() (a connection to the fake, or the error a kernel
 * without devlink gives), so they never reach the kernel. */
#include "test.h"

#include <fcntl.h>
#include <jansson.h>
#include <sys/stat.h>

#include "claimhost.h"
#include "cli.h"
#include "dpu.h"
#include "run.h"
#include "util/macro.h"

static struct fake_dl *current_fake;
static int open_error; /* what fake_open() fails with, 0: connect to current_fake */
static unsigned n_opens;

static int fake_open(struct dh_devlink **ret, struct dh_error *err)
{
    n_opens++;
    if (open_error)
        return dh_error_set(err, open_error,
                            "netlink: the kernel has no generic netlink family 'devlink' (its "
                            "module is not loaded, or the kernel was built without it)");
    if (!current_fake)
        return dh_error_set(err, -EPROTONOSUPPORT, "devlink: no fake installed");
    *ret = fake_dl_devlink(current_fake);
    return 0;
}

struct fixture {
    struct fake_dl *f;
    struct fake_tree *tree;
    char ovs_dir[64];
    char *saved_path;
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    fx->f = fake_dl_new();
    dpu_bluefield(fx->f);
    fx->tree = dpu_bluefield_tree(NULL);
    current_fake = fx->f;
    open_error = 0;
    n_opens = 0;
    snprintf(fx->ovs_dir, sizeof(fx->ovs_dir), "/tmp/dh-cli-ovs-XXXXXX");
    if (!mkdtemp(fx->ovs_dir))
        fail_msg("mkdtemp");
    const char *p = getenv("PATH");
    fx->saved_path = p ? strdup(p) : NULL;
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    current_fake = NULL;
    /* PATH first: the plug test leaves it at the stand-in directory, where system() finds no rm */
    if (fx->saved_path)
        setenv("PATH", fx->saved_path, 1);
    free(fx->saved_path);
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", fx->ovs_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", fx->ovs_dir);
    fake_dl_free(fx->f);
    fake_tree_free(fx->tree);
    free(fx);
    return 0;
}

struct cli_call {
    struct cli_context ctx;
    int (*cmd)(struct cli_context *, int, char **);
    int argc;
    char **argv;
};

static int call_cli(void *userdata)
{
    struct cli_call *c = userdata;
    return c->cmd(&c->ctx, c->argc, c->argv);
}

/* Runs cmd(argv...) (NULL-terminated) with root as --root, capturing stdout and stderr. */
static struct run_output run_in(const char *root, bool json, int (*cmd)(struct cli_context *, int, char **),
                                ...)
{
    char *argv[24];
    int argc = 0;
    va_list ap;
    va_start(ap, cmd);
    for (const char *a; (a = va_arg(ap, const char *)) && argc < 23;)
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    struct cli_call c = {
            .ctx = {.root = root, .json = json, .prog = "dpuhost", .devlink_open = fake_open},
            .cmd = cmd,
            .argc = argc,
            .argv = argv,
    };
    struct run_output r;
    run_call_captured(call_cli, &c, &r);
    return r;
}

#define run(fx, json, cmd, ...) run_in(fake_tree_root((fx)->tree), json, cmd, __VA_ARGS__, NULL)

static json_t *parse(const struct run_output *r)
{
    json_error_t jerr;
    json_t *doc = json_loads(r->out, 0, &jerr);
    if (!doc)
        fail_msg("not JSON (%s): %s", jerr.text, r->out);
    return doc;
}

static const char *s(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static void lists_the_ports_as_a_table(void **state)
{
    struct fixture *fx = *state;
    struct run_output r = run(fx, false, cmd_representors, "representors", "--source", "devlink");
    assert_int_equal(r.status, 0);
    assert_string_equal(r.err, "");
    dpu_assert_contains(r.out, "PORT");
    dpu_assert_contains(r.out, "HW_ADDR");
    /* a row each: the host PF's port with its hw_addr, a VF representor, the uplink */
    dpu_assert_contains(r.out,
                        "pci/0000:03:00.0/2  pcipf     1     yes  0   -    pf0hpf        " DPU_PF0_MAC);
    dpu_assert_contains(r.out, "pci/0000:03:00.0/5  pcivf     1     yes  0   2    pf0vf2        -");
    dpu_assert_contains(r.out, "pci/0000:03:00.0/1  physical  -     -    -   0    p0            -");
    assert_int_equal(fake_dl_count(fx->f, DEVLINK_CMD_PORT_GET), 1);
}

static void lists_the_ports_and_pfs_as_json(void **state)
{
    struct fixture *fx = *state;
    struct run_output r = run(fx, true, cmd_representors, "representors", "--source", "devlink");
    assert_int_equal(r.status, 0);
    json_t *doc = parse(&r);
    assert_string_equal(s(doc, "source"), "devlink");
    assert_true(json_is_null(json_object_get(doc, "fallback_reason")));
    json_t *ports = json_object_get(doc, "ports");
    assert_int_equal(json_array_size(ports), 11);
    json_t *sf = json_array_get(ports, 6);
    assert_string_equal(s(sf, "port"), "pci/0000:03:00.0/7");
    assert_string_equal(s(sf, "flavour"), "pcisf");
    assert_int_equal(json_integer_value(json_object_get(sf, "sfnum")), 88);
    assert_false(json_is_true(json_object_get(sf, "external")));
    assert_string_equal(s(sf, "switch_id"), DPU_SWITCH_ID);
    json_t *fn = json_object_get(sf, "function");
    assert_true(json_is_null(json_object_get(fn, "hw_addr")));
    assert_string_equal(s(fn, "state"), "active");
    assert_string_equal(s(fn, "opstate"), "attached");
    json_t *pfs = json_object_get(doc, "pfs");
    assert_int_equal(json_array_size(pfs), 3);
    json_t *pf0 = json_array_get(pfs, 1);
    assert_string_equal(s(pf0, "device"), "pci/0000:03:00.0");
    assert_int_equal(json_integer_value(json_object_get(pf0, "controller")), 1);
    assert_string_equal(s(pf0, "port"), "pci/0000:03:00.0/2");
    assert_string_equal(s(pf0, "mac"), DPU_PF0_MAC);
    assert_string_equal(s(pf0, "mac_source"), "hw_addr");
    assert_int_equal(json_array_size(json_object_get(pf0, "vfs")), 4);
    assert_int_equal(json_array_size(json_object_get(pf0, "sfs")), 0);
    json_t *own = json_array_get(pfs, 0);
    assert_string_equal(s(own, "mac_source"), "uplink");
    assert_int_equal(json_integer_value(json_array_get(json_object_get(own, "sfs"), 0)), 88);
    json_decref(doc);
}

static void a_tree_root_is_read_from_sysfs(void **state)
{
    struct fixture *fx = *state;
    struct run_output r = run(fx, true, cmd_representors, "representors");
    assert_int_equal(r.status, 0);
    json_t *doc = parse(&r);
    assert_string_equal(s(doc, "source"), "sysfs");
    dpu_assert_contains(s(doc, "fallback_reason"), "not /");
    assert_int_equal(json_array_size(json_object_get(doc, "ports")), 11);
    assert_int_equal(n_opens, 0); /* devlink was not even opened */
    json_decref(doc);
}

static void a_kernel_without_devlink_falls_back_to_sysfs(void **state)
{
    (void)state;
    open_error = -ENOENT;
    struct run_output r = run_in("/", true, cmd_representors, "representors", NULL);
    assert_int_equal(r.status, 0);
    json_t *doc = parse(&r);
    assert_string_equal(s(doc, "source"), "sysfs");
    dpu_assert_contains(s(doc, "fallback_reason"), "no generic netlink family 'devlink'");
    json_decref(doc);
    /* asked for devlink only, the same kernel is an error */
    r = run_in("/", true, cmd_representors, "representors", "--source", "devlink", NULL);
    assert_int_equal(r.status, EXIT_FAIL);
    dpu_assert_contains(r.err, "dpuhost: netlink: the kernel has no generic netlink family 'devlink'");
    assert_string_equal(r.out, "");
}

static void a_lookup_prints_the_representor(void **state)
{
    struct fixture *fx = *state;
    struct run_output r = run(fx, true, cmd_representor, "representor", "--source", "devlink", "--pf-mac",
                              DPU_PF0_MAC, "--vf-num", "2");
    assert_int_equal(r.status, 0);
    json_t *doc = parse(&r);
    assert_string_equal(s(doc, "netdev"), "pf0vf2");
    assert_int_equal(json_integer_value(json_object_get(doc, "ifindex")), 14);
    assert_string_equal(s(doc, "port"), "pci/0000:03:00.0/5");
    assert_string_equal(s(doc, "flavour"), "pcivf");
    assert_int_equal(json_integer_value(json_object_get(doc, "vfnum")), 2);
    assert_string_equal(s(doc, "source"), "devlink");
    json_t *pf = json_object_get(doc, "pf");
    assert_string_equal(s(pf, "mac"), DPU_PF0_MAC);
    assert_string_equal(s(pf, "mac_source"), "hw_addr");
    assert_string_equal(s(pf, "netdev"), "pf0hpf");
    assert_null(json_object_get(doc, "bridge"));
    json_decref(doc);
    r = run(fx, false, cmd_representor, "representor", "--source", "devlink", "--pf-mac", DPU_PF1_MAC,
            "--vf-num", "0", "--controller", "1");
    assert_int_equal(r.status, 0);
    dpu_assert_contains(r.out, "netdev: pf1vf0\n");
    dpu_assert_contains(r.out, "  mac_source: hw_addr\n");
    r = run(fx, false, cmd_representor, "representor", "--source", "devlink", "--pf-mac", DPU_P0_MAC,
            "--sf-num", "88");
    assert_int_equal(r.status, 0);
    dpu_assert_contains(r.out, "netdev: en3f0pf0sf88\n");
}

static void failed_lookups_exit_1_with_the_reason(void **state)
{
    struct fixture *fx = *state;
    struct run_output r = run(fx, false, cmd_representor, "representor", "--source", "devlink", "--pf-mac",
                              "02:00:00:00:00:99", "--vf-num", "0");
    assert_int_equal(r.status, EXIT_FAIL);
    assert_string_equal(r.out, "");
    dpu_assert_contains(r.err,
                        "dpuhost: representor: no PF with MAC 02:00:00:00:00:99 on this eswitch. PFs here:");
    r = run(fx, false, cmd_representor, "representor", "--source", "devlink", "--pf-mac", DPU_PF0_MAC,
            "--vf-num", "4");
    assert_int_equal(r.status, EXIT_FAIL);
    dpu_assert_contains(r.err, "VF 4 is out of range");
    fake_write_str(fx->tree, "run/udev/control", "");
    r = run(fx, false, cmd_representor, "representor", "--source", "devlink", "--pf-mac", DPU_PF0_MAC,
            "--vf-num", "0");
    assert_int_equal(r.status, EXIT_FAIL);
    dpu_assert_contains(r.err, "has not been processed by udev yet");
}

static void bad_input_exits_2_before_anything_is_read(void **state)
{
    struct fixture *fx = *state;
    static const char *const cases[][8] = {
            {"representor", "--pf-mac", "02:00:00:00:00", "--vf-num", "0", NULL},
            {"representor", "--pf-mac", "00:00:00:00:00:00", "--vf-num", "0", NULL},
            {"representor", "--pf-mac", "01:00:5e:00:00:01", "--vf-num", "0", NULL},
            {"representor", "--pf-mac", DPU_PF0_MAC, NULL},
            {"representor", "--vf-num", "0", NULL},
            {"representor", "--pf-mac", DPU_PF0_MAC, "--vf-num", "65536", NULL},
            {"representor", "--pf-mac", DPU_PF0_MAC, "--vf-num", "-1", NULL},
            {"representor", "--pf-mac", DPU_PF0_MAC, "--vf-num", "1", "--sf-num", "1", NULL},
            {"representor", "--pf-mac", DPU_PF0_MAC, "--vf-num", "1", "--bridge", "br-int", NULL},
            {"representor", "plug", "--pf-mac", DPU_PF0_MAC, "--vf-num", "1", NULL},
            {"representor", "--pf-mac", DPU_PF0_MAC, "--vf-num", "1", "--source", "netlink", NULL},
            {"representor", "--pf-mac", DPU_PF0_MAC, "--vf-num", "1", "--controller", "x", NULL},
            {"representor", "--pf-mac", DPU_PF0_MAC, "--vf-num", "1", "extra", NULL},
            {"representor", "--pf-mac", DPU_PF0_MAC, "--vf-num", "1", "--timeout", "0", NULL},
            {"representor", "--nonsense", NULL},
    };
    for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
        const char *const *c = cases[i];
        struct run_output r = run(fx, false, cmd_representor, c[0], c[1], c[2], c[3], c[4], c[5], c[6]);
        if (r.status != EXIT_USAGE)
            fail_msg("case %zu (%s %s %s ...): exit %d, stderr %s", i, c[1], c[2], c[3] ? c[3] : "", r.status,
                     r.err);
        assert_string_equal(r.out, "");
        /* ours say "dpuhost: representor: ..."; getopt's "representor: unrecognized option" */
        assert_non_null(strstr(r.err, "representor"));
    }
    struct run_output r = run(fx, false, cmd_representors, "representors", "--source", "nope");
    assert_int_equal(r.status, EXIT_USAGE);
    r = run(fx, false, cmd_representors, "representors", "extra");
    assert_int_equal(r.status, EXIT_USAGE);
    assert_int_equal(fake_dl_n_requests(fx->f), 0);
    assert_int_equal(n_opens, 0);
    r = run(fx, false, cmd_representor, "representor", "--help");
    assert_int_equal(r.status, 0);
    dpu_assert_contains(r.out, "Usage: dpuhost representor [plug] --pf-mac MAC");
}

static void plug_adds_the_representor_with_ovs_vsctl(void **state)
{
    struct fixture *fx = *state;
    char path[128], body[256];
    snprintf(path, sizeof(path), "%s/ovs-vsctl", fx->ovs_dir);
    FILE *f = fopen(path, "w");
    snprintf(body, sizeof(body), "#!/bin/sh\necho \"$@\" >'%s/args'\n", fx->ovs_dir);
    fputs(body, f);
    fclose(f);
    chmod(path, 0755);
    setenv("PATH", fx->ovs_dir, 1);
    struct run_output r =
            run(fx, true, cmd_representor, "representor", "plug", "--source", "devlink", "--pf-mac",
                DPU_PF0_MAC, "--vf-num", "3", "--bridge", "br-int", "--timeout", "4");
    assert_int_equal(r.status, 0);
    json_t *doc = parse(&r);
    assert_string_equal(s(doc, "netdev"), "pf0vf3");
    assert_string_equal(s(doc, "bridge"), "br-int");
    json_decref(doc);
    snprintf(path, sizeof(path), "%s/args", fx->ovs_dir);
    f = fopen(path, "r");
    assert_non_null(f);
    char line[256] = "";
    assert_non_null(fgets(line, sizeof(line), f));
    fclose(f);
    assert_string_equal(line, "--timeout=4 --may-exist add-port br-int pf0vf3\n");

    /* ovs-vsctl refuses: exit 1, its reason, nothing on stdout */
    snprintf(path, sizeof(path), "%s/ovs-vsctl", fx->ovs_dir);
    f = fopen(path, "w");
    fputs("#!/bin/sh\necho 'ovs-vsctl: no bridge named br-nope' >&2\nexit 1\n", f);
    fclose(f);
    r = run(fx, true, cmd_representor, "representor", "plug", "--source", "devlink", "--pf-mac", DPU_PF0_MAC,
            "--vf-num", "3", "--bridge", "br-nope");
    assert_int_equal(r.status, EXIT_FAIL);
    assert_string_equal(r.out, "");
    dpu_assert_contains(r.err, "failed (exit status 1): ovs-vsctl: no bridge named br-nope");
    /* a lookup that fails runs nothing */
    unlink(path);
    r = run(fx, true, cmd_representor, "representor", "plug", "--source", "devlink", "--pf-mac", DPU_PF0_MAC,
            "--vf-num", "9", "--bridge", "br-int");
    assert_int_equal(r.status, EXIT_FAIL);
    dpu_assert_contains(r.err, "VF 9 is out of range");
    r = run(fx, true, cmd_representor, "representor", "plug", "--source", "devlink", "--pf-mac", DPU_PF0_MAC,
            "--vf-num", "1", "--bridge", "br-int");
    assert_int_equal(r.status, EXIT_FAIL);
    dpu_assert_contains(r.err, "ovs-vsctl is not installed");
}

static void the_host_binding_profile_is_the_input(void **state)
{
    struct fixture *fx = *state;
    /* the host half: a remote-managed VF claimed from a pool, with its binding profile */
    struct claimhost *c = claimhost_new();
    json_t *cl = claimhost_claim(c, "port-1", "offpath", NULL, 2, 0);
    json_t *bp = json_object_get(json_array_get(json_object_get(cl, "functions"), 1), "binding_profile");
    const char *mac = s(bp, "pf_mac_address");
    char vf[16];
    snprintf(vf, sizeof(vf), "%lld", (long long)json_integer_value(json_object_get(bp, "vf_num")));
    /* the DPU half reports that MAC on its host PF port */
    fake_dl_free(fx->f);
    fx->f = current_fake = fake_dl_new();
    fake_dl_add_pf(fx->f, "pci/0000:03:00.0", 2, 1, true, 0, "pf0hpf", 11, mac);
    fake_dl_add_vf(fx->f, "pci/0000:03:00.0", 3, 1, true, 0, 0, "pf0vf0", 12);
    fake_dl_add_vf(fx->f, "pci/0000:03:00.0", 4, 1, true, 0, 1, "pf0vf1", 13);
    struct run_output r = run(fx, true, cmd_representor, "representor", "--source", "devlink", "--pf-mac",
                              mac, "--vf-num", vf);
    assert_int_equal(r.status, 0);
    json_t *doc = parse(&r);
    assert_string_equal(vf, "1");
    assert_string_equal(s(doc, "netdev"), "pf0vf1");
    json_decref(doc);
    json_decref(cl);
    claimhost_free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(lists_the_ports_as_a_table, setup, teardown),
            DH_TEST_SETUP(lists_the_ports_and_pfs_as_json, setup, teardown),
            DH_TEST_SETUP(a_tree_root_is_read_from_sysfs, setup, teardown),
            DH_TEST_SETUP(a_kernel_without_devlink_falls_back_to_sysfs, setup, teardown),
            DH_TEST_SETUP(a_lookup_prints_the_representor, setup, teardown),
            DH_TEST_SETUP(failed_lookups_exit_1_with_the_reason, setup, teardown),
            DH_TEST_SETUP(bad_input_exits_2_before_anything_is_read, setup, teardown),
            DH_TEST_SETUP(plug_adds_the_representor_with_ovs_vsctl, setup, teardown),
            DH_TEST_SETUP(the_host_binding_profile_is_the_input, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
