/* The QEMU command line, as a pure function of the spec and the placement (REFERENCE §6, QEMU
 * docs/pcie.txt): q35, one pcie-root-port per device with a unique (chassis, slot), spare root ports
 * for hot-plug (pcie.0 itself is not hot-pluggable), vfio-pci devices with bootindex for the boot
 * device, QMP on a Unix socket, the serial console to a file, the seccomp sandbox, no default
 * devices and no user-mode networking. QEMU starts paused (-S): dpuhost checks that every device
 * is realized, then lets the guest run. Tested against golden files in tests/vm/golden. */
#include <dpuhost/vm.h>

#include "util/macro.h"
#include "util/strv.h"

struct args {
    char **v;
    size_t n;
    int err;
};

static void add(struct args *a, const char *s)
{
    if (!a->err && dh_strv_push_dup(&a->v, &a->n, s) < 0)
        a->err = -ENOMEM;
}

static void addf(struct args *a, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(struct args *a, const char *fmt, ...)
{
    char *s = NULL;
    va_list ap;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = NULL;
    va_end(ap);
    if (!s)
        a->err = -ENOMEM;
    else if (!a->err && dh_strv_push(&a->v, &a->n, s) < 0)
        a->err = -ENOMEM;
    else if (a->err)
        free(s);
}

void dh_vm_argv_free(char **argv)
{
    for (size_t i = 0; argv && argv[i]; i++)
        free(argv[i]);
    free(argv);
}

static bool comma_free(const char *s)
{
    return s && !strchr(s, ',');
}

int dh_vm_render_argv(const struct dh_vm_launch *l, char ***ret, struct dh_error *err)
{
    assert_return(l && l->spec && ret && l->qemu_binary && l->qmp_path && l->console_path, -EINVAL);
    const struct dh_vm_spec *s = l->spec;
    if (!comma_free(l->qmp_path) || !comma_free(l->console_path))
        return dh_error_set(err, -EINVAL, "VM %s: the QMP socket and console paths must not contain commas",
                            s->name);
    struct args a = {0};
    add(&a, l->qemu_binary);
    add(&a, "-name");
    addf(&a, "guest=%s,debug-threads=on", s->name);
    add(&a, "-machine");
    addf(&a, "q35,accel=%s", l->kvm ? "kvm" : "tcg");
    add(&a, "-cpu");
    add(&a, l->kvm ? "host" : "max");
    add(&a, "-smp");
    addf(&a, "%d", s->vcpus);
    add(&a, "-m");
    addf(&a, "%d", s->memory_mib);
    add(&a, "-nodefaults");
    add(&a, "-no-user-config");
    add(&a, "-display");
    add(&a, "none");
    add(&a, "-sandbox");
    add(&a, "on,obsolete=deny,elevateprivileges=deny,spawn=deny,resourcecontrol=deny");
    add(&a, "-msg");
    add(&a, "timestamp=on");
    add(&a, "-qmp");
    addf(&a, "unix:%s,server=on,wait=off", l->qmp_path);
    add(&a, "-serial");
    addf(&a, "file:%s", l->console_path);
    add(&a, "-S");
    if (s->kernel) {
        add(&a, "-kernel");
        add(&a, s->kernel);
        if (s->initrd) {
            add(&a, "-initrd");
            add(&a, s->initrd);
        }
        /* env also travels on the kernel command line: an initramfs can read it without fw_cfg */
        char *cmdline = strdup(s->cmdline ? s->cmdline : "");
        for (size_t i = 0; cmdline && i < s->n_env; i++) {
            char *next = NULL;
            if (asprintf(&next, "%s%sdpuhost.%s=%s", cmdline, *cmdline ? " " : "", s->env_keys[i],
                         s->env_values[i]) < 0)
                next = NULL;
            free(cmdline);
            cmdline = next;
        }
        if (!cmdline)
            a.err = -ENOMEM;
        else if (*cmdline) {
            add(&a, "-append");
            add(&a, cmdline);
        }
        free(cmdline);
    }
    if (s->n_env) {
        /* KEY=value lines, readable in the guest at
         * /sys/firmware/qemu_fw_cfg/by_name/opt/dpuhost/env/raw (values cannot hold commas) */
        size_t len = 0;
        for (size_t i = 0; i < s->n_env; i++)
            len += strlen(s->env_keys[i]) + strlen(s->env_values[i]) + 2;
        char *env = calloc(1, len + 1);
        for (size_t i = 0; env && i < s->n_env; i++)
            sprintf(env + strlen(env), "%s=%s\n", s->env_keys[i], s->env_values[i]);
        if (!env)
            a.err = -ENOMEM;
        else {
            add(&a, "-fw_cfg");
            addf(&a, "name=opt/dpuhost/env,string=%s", env);
        }
        free(env);
    }
    for (int i = 1; i <= l->n_ports; i++) {
        add(&a, "-device");
        addf(&a, "pcie-root-port,id=rp%d,chassis=%d,slot=%d", i, i, i);
    }
    int next_port = 1;
    for (size_t i = 0; i < l->n_devices; i++)
        if (strncmp(l->devices[i].port, "rp", 2) == 0 && atoi(l->devices[i].port + 2) >= next_port)
            next_port = atoi(l->devices[i].port + 2) + 1;
    if (s->disk) {
        if (next_port > l->n_ports) {
            dh_vm_argv_free(a.v);
            return dh_error_set(err, -EINVAL, "VM %s: no root port left for the boot disk", s->name);
        }
        add(&a, "-drive");
        addf(&a, "file=%s,if=none,id=disk0,format=%s", s->disk, s->disk_format);
        add(&a, "-device");
        addf(&a, "virtio-blk-pci,drive=disk0,bus=rp%d,id=disk0dev,bootindex=1", next_port);
    }
    for (size_t i = 0; i < l->n_devices; i++) {
        const struct dh_vm_launch_device *d = &l->devices[i];
        if (!dh_pci_addr_is_valid(d->address) || !comma_free(d->dev_id) || !comma_free(d->port)) {
            dh_vm_argv_free(a.v);
            return dh_error_set(err, -EINVAL, "VM %s: bad device %s", s->name, d->address);
        }
        add(&a, "-device");
        addf(&a, "vfio-pci,host=%s,bus=%s,id=%s%s", d->address, d->port, d->dev_id,
             d->boot ? ",bootindex=1" : "");
    }
    char **v = realloc(a.v, (a.n + 1) * sizeof(char *));
    if (a.err || !v) {
        for (size_t i = 0; i < a.n; i++)
            free(a.v[i]);
        free(v ? v : a.v);
        return dh_error_set(err, -ENOMEM, "out of memory");
    }
    v[a.n] = NULL;
    *ret = v;
    return 0;
}
