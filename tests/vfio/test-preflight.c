/* Preflight checks on fake trees: each check's pass, warn and fail, and its remedy. */
#include "test.h"

#include <sys/stat.h>

#include "fake_sysfs.h"
#include <jansson.h>

#include <dpuhost/vfio.h>

struct fixture {
    struct fake_tree *t;
    struct dh_host *host;
    char qemu[512];
};

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    fx->t = fake_tree_new();
    /* a host where everything is ready */
    fake_mkdir(fx->t, "sys/class/iommu/dmar0");
    fake_mkdir(fx->t, "sys/kernel/iommu_groups/0/devices");
    fake_mkdir(fx->t, "sys/kernel/iommu_groups/1/devices");
    fake_write_str(fx->t, "proc/interrupts", "           CPU0\n 24:  0  IR-PCI-MSI 512000-edge  ahci\n");
    fake_write_str(fx->t, "proc/cpuinfo", "vendor_id\t: GenuineIntel\n");
    fake_write_str(fx->t, "proc/sys/kernel/osrelease", "6.1.0-56-amd64\n");
    fake_mkdir(fx->t, "sys/module/vfio");
    fake_mkdir(fx->t, "sys/module/vfio_pci");
    fake_mkdir(fx->t, "sys/module/vfio_iommu_type1");
    fake_write_str(fx->t, "dev/vfio/vfio", "");
    /* a stand-in QEMU that prints what 7.2 prints */
    snprintf(fx->qemu, sizeof(fx->qemu), "%s/qemu-system-x86_64", fake_tree_root(fx->t));
    FILE *f = fopen(fx->qemu, "w");
    fprintf(f, "#!/bin/sh\necho 'QEMU emulator version 7.2.22 (Debian 1:7.2+dfsg-7+deb12u18)'\n");
    fclose(f);
    chmod(fx->qemu, 0755);
    if (dh_host_new(fake_tree_root(fx->t), &fx->host, NULL) < 0)
        fail_msg("host");
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    dh_host_free(fx->host);
    fake_tree_free(fx->t);
    free(fx);
    return 0;
}

static const struct dh_check *run(struct fixture *fx, struct dh_preflight *p, const char *name)
{
    struct dh_preflight_options o = {.qemu_binary = fx->qemu};
    assert_int_equal(dh_preflight_run(fx->host, &o, p), 0);
    for (size_t i = 0; i < p->n_checks; i++)
        if (strcmp(p->checks[i].name, name) == 0)
            return &p->checks[i];
    fail_msg("no check %s", name);
    return NULL;
}

static void a_ready_host_passes(void **state)
{
    struct fixture *fx = *state;
    struct dh_preflight p;
    assert_int_equal(run(fx, &p, "iommu")->status, DH_CHECK_PASS);
    assert_non_null(strstr(run(fx, &p, "iommu")->detail, "dmar0"));
    assert_int_equal(run(fx, &p, "interrupt-remapping")->status, DH_CHECK_PASS);
    assert_int_equal(run(fx, &p, "vfio-modules")->status, DH_CHECK_PASS);
    assert_int_equal(run(fx, &p, "vfio-device")->status, DH_CHECK_PASS);
    const struct dh_check *q = run(fx, &p, "qemu");
    assert_int_equal(q->status, DH_CHECK_PASS);
    assert_non_null(strstr(q->detail, "7.2.22"));
    /* a regular file is not a KVM device: warn (VMs would run under TCG), never fail */
    assert_int_equal(run(fx, &p, "kvm")->status, DH_CHECK_WARN);
    assert_true(p.passthrough_ok);
}

static void no_iommu_fails_with_the_kernel_parameter_to_add(void **state)
{
    struct fixture *fx = *state;
    fake_remove(fx->t, "sys/kernel/iommu_groups/0");
    fake_remove(fx->t, "sys/kernel/iommu_groups/1");
    fake_remove(fx->t, "sys/class/iommu/dmar0");
    fake_write_str(fx->t, "proc/interrupts", "           CPU0\n 24:  0  PCI-MSI 512000-edge  ahci\n");
    struct dh_preflight p;
    const struct dh_check *c = run(fx, &p, "iommu");
    assert_int_equal(c->status, DH_CHECK_FAIL);
    assert_non_null(strstr(c->remedy, "add intel_iommu=on"));
    assert_false(p.passthrough_ok);
    fake_write_str(fx->t, "proc/cpuinfo", "vendor_id\t: AuthenticAMD\n");
    assert_non_null(strstr(run(fx, &p, "iommu")->remedy, "amd_iommu=on"));
    assert_int_equal(run(fx, &p, "interrupt-remapping")->status, DH_CHECK_FAIL);
}

static void unsafe_interrupts_warn(void **state)
{
    struct fixture *fx = *state;
    fake_write_str(fx->t, "proc/interrupts", "           CPU0\n 24:  0  PCI-MSI 512000-edge  ahci\n");
    struct dh_preflight p;
    assert_int_equal(run(fx, &p, "interrupt-remapping")->status, DH_CHECK_FAIL);
    fake_write_str(fx->t, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", "Y\n");
    const struct dh_check *c = run(fx, &p, "interrupt-remapping");
    assert_int_equal(c->status, DH_CHECK_WARN);
    assert_non_null(strstr(c->detail, "allow_unsafe_interrupts"));
    assert_true(p.passthrough_ok);
}

static void modules_loadable_warn_and_missing_fail(void **state)
{
    struct fixture *fx = *state;
    fake_remove(fx->t, "sys/module/vfio_pci");
    fake_remove(fx->t, "sys/module/vfio_iommu_type1");
    fake_write_str(fx->t, "lib/modules/6.1.0-56-amd64/modules.dep",
                   "kernel/drivers/vfio/pci/vfio-pci.ko: kernel/drivers/vfio/vfio.ko\n"
                   "kernel/drivers/vfio/vfio_iommu_type1.ko: kernel/drivers/vfio/vfio.ko\n");
    struct dh_preflight p;
    const struct dh_check *c = run(fx, &p, "vfio-modules");
    assert_int_equal(c->status, DH_CHECK_WARN);
    assert_non_null(strstr(c->detail, "vfio_pci, vfio_iommu_type1"));
    fake_write_str(fx->t, "lib/modules/6.1.0-56-amd64/modules.dep", "kernel/drivers/net/e1000e.ko:\n");
    c = run(fx, &p, "vfio-modules");
    assert_int_equal(c->status, DH_CHECK_FAIL);
    assert_non_null(strstr(c->remedy, "CONFIG_VFIO_PCI"));
}

static void missing_qemu_fails(void **state)
{
    struct fixture *fx = *state;
    struct dh_preflight p;
    struct dh_preflight_options o = {.qemu_binary = "/nonexistent/qemu-system-x86_64"};
    assert_int_equal(dh_preflight_run(fx->host, &o, &p), 0);
    bool found = false;
    for (size_t i = 0; i < p.n_checks; i++)
        if (strcmp(p.checks[i].name, "qemu") == 0) {
            found = true;
            assert_int_equal(p.checks[i].status, DH_CHECK_FAIL);
            assert_non_null(strstr(p.checks[i].remedy, "apt-get install qemu-system-x86"));
        }
    assert_true(found);
    assert_false(p.passthrough_ok);
}

static void json_form(void **state)
{
    struct fixture *fx = *state;
    struct dh_preflight p;
    run(fx, &p, "iommu");
    struct dh_jsonw *w = dh_jsonw_new(false);
    dh_preflight_write_json(w, &p);
    char *text = NULL;
    assert_int_equal(dh_jsonw_finish(w, &text, NULL), 0);
    dh_jsonw_free(w);
    json_t *doc = json_loads(text, 0, NULL);
    assert_true(json_is_true(json_object_get(doc, "passthrough_ok")));
    json_t *first = json_array_get(json_object_get(doc, "checks"), 0);
    assert_string_equal(json_string_value(json_object_get(first, "name")), "iommu");
    assert_string_equal(json_string_value(json_object_get(first, "status")), "pass");
    assert_true(json_is_null(json_object_get(first, "remedy")));
    json_decref(doc);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(a_ready_host_passes, setup, teardown),
            DH_TEST_SETUP(no_iommu_fails_with_the_kernel_parameter_to_add, setup, teardown),
            DH_TEST_SETUP(unsafe_interrupts_warn, setup, teardown),
            DH_TEST_SETUP(modules_loadable_warn_and_missing_fail, setup, teardown),
            DH_TEST_SETUP(missing_qemu_fails, setup, teardown),
            DH_TEST_SETUP(json_form, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
