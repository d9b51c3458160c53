/* Preflight: can this host hand PCI functions to VMs? Each check passes, warns or fails with a
 * one-line remedy. Everything is read through the host root (sys, proc, dev, lib/modules); only the
 * QEMU version comes from running the binary. */
#include "vfio-internal.h"

#include <fcntl.h>
#include <linux/kvm.h>
#include <poll.h>
#include <spawn.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/wait.h>

#include "util/fileio.h"
#include "util/macro.h"

extern char **environ;

const char *dh_check_status_to_string(enum dh_check_status s)
{
    switch (s) {
    case DH_CHECK_PASS:
        return "pass";
    case DH_CHECK_WARN:
        return "warn";
    case DH_CHECK_FAIL:
        return "fail";
    }
    return NULL;
}

static struct dh_check *add(struct dh_preflight *p, const char *name, enum dh_check_status status,
                            const char *remedy, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static struct dh_check *add(struct dh_preflight *p, const char *name, enum dh_check_status status,
                            const char *remedy, const char *fmt, ...)
{
    if (p->n_checks >= ELEMENTSOF(p->checks))
        return NULL;
    struct dh_check *c = &p->checks[p->n_checks++];
    snprintf(c->name, sizeof(c->name), "%s", name);
    c->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
    va_end(ap);
    snprintf(c->remedy, sizeof(c->remedy), "%s", remedy ? remedy : "");
    if (status == DH_CHECK_FAIL)
        p->passthrough_ok = false;
    return c;
}

static int count_entries(int rootfd, const char *path, char *first, size_t size)
{
    _cleanup_closedir_ DIR *d = dh_opendir_at(rootfd, path);
    if (!d)
        return 0;
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.') {
            if (n == 0 && first && size > 0) {
                size_t l = strnlen(de->d_name, size - 1);
                memcpy(first, de->d_name, l);
                first[l] = '\0';
            }
            n++;
        }
    return n;
}

static bool file_contains(int rootfd, const char *path, const char *needle)
{
    _cleanup_free_ char *buf = NULL;
    if (dh_read_full_at(rootfd, path, 64 << 20, &buf, NULL) < 0)
        return false;
    return strstr(buf, needle) != NULL;
}

static const char *iommu_remedy(int rootfd)
{
    if (file_contains(rootfd, "proc/cpuinfo", "AuthenticAMD"))
        return "enable the IOMMU (AMD-Vi) in the firmware and add amd_iommu=on iommu=pt to the kernel "
               "command "
               "line, then reboot";
    return "enable VT-d in the firmware and add intel_iommu=on iommu=pt to the kernel command line, then "
           "reboot";
}

static void check_iommu(struct dh_preflight *p, int rootfd, bool *ret_on)
{
    char unit[64] = "";
    int units = count_entries(rootfd, "sys/class/iommu", unit, sizeof(unit));
    int groups = count_entries(rootfd, "sys/kernel/iommu_groups", NULL, 0);
    *ret_on = groups > 0;
    if (units > 0 && groups > 0)
        add(p, "iommu", DH_CHECK_PASS, NULL, "%d IOMMU unit(s) (%s), %d IOMMU groups", units, unit, groups);
    else if (groups > 0)
        add(p, "iommu", DH_CHECK_WARN, "check that the IOMMU is a real one, not a no-IOMMU mode",
            "%d IOMMU groups but no IOMMU unit in /sys/class/iommu", groups);
    else
        add(p, "iommu", DH_CHECK_FAIL, iommu_remedy(rootfd),
            "no IOMMU groups in /sys/kernel/iommu_groups: the IOMMU is off");
}

static void check_interrupt_remapping(struct dh_preflight *p, int rootfd, bool iommu_on)
{
    /* With interrupt remapping active, MSI and IO-APIC interrupts are delivered through IR irq domains,
     * which /proc/interrupts names IR-PCI-MSI, IR-IO-APIC, ... */
    if (file_contains(rootfd, "proc/interrupts", "IR-")) {
        add(p, "interrupt-remapping", DH_CHECK_PASS, NULL,
            "interrupt remapping is active (IR- in /proc/interrupts)");
        return;
    }
    char v[8] = "";
    dh_read_attr_at(rootfd, "sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts", v, sizeof(v));
    if (streq(v, "Y") || streq(v, "1"))
        add(p, "interrupt-remapping", DH_CHECK_WARN,
            "a device can inject interrupts into the host; use hardware with interrupt remapping when you "
            "can",
            "no interrupt remapping, but vfio_iommu_type1.allow_unsafe_interrupts=1");
    else
        add(p, "interrupt-remapping", DH_CHECK_FAIL,
            iommu_on ? "enable interrupt remapping in the firmware (x2APIC/VT-d IR); as a last resort load "
                       "vfio_iommu_type1 with allow_unsafe_interrupts=1"
                     : iommu_remedy(rootfd),
            "no interrupt remapping: vfio_iommu_type1 will refuse to assign devices");
}

static void check_modules(struct dh_preflight *p, int rootfd)
{
    static const struct {
        const char *sys, *file;
    } mods[] = {
            {"vfio", "vfio.ko"}, {"vfio_pci", "vfio-pci.ko"}, {"vfio_iommu_type1", "vfio_iommu_type1.ko"}};
    char release[128] = "", missing[128] = "", absent[128] = "";
    dh_read_attr_at(rootfd, "proc/sys/kernel/osrelease", release, sizeof(release));
    char dep[256], builtin[256];
    snprintf(dep, sizeof(dep), "lib/modules/%s/modules.dep", release);
    snprintf(builtin, sizeof(builtin), "lib/modules/%s/modules.builtin", release);
    _cleanup_free_ char *depbuf = NULL, *builtinbuf = NULL;
    dh_read_full_at(rootfd, dep, 64 << 20, &depbuf, NULL);
    dh_read_full_at(rootfd, builtin, 16 << 20, &builtinbuf, NULL);
    for (size_t i = 0; i < ELEMENTSOF(mods); i++) {
        char path[64];
        snprintf(path, sizeof(path), "sys/module/%s", mods[i].sys);
        if (dh_exists_at(rootfd, path))
            continue;
        size_t l = strlen(missing);
        snprintf(missing + l, sizeof(missing) - l, "%s%s", l ? ", " : "", mods[i].sys);
        bool available =
                (depbuf && strstr(depbuf, mods[i].file)) || (builtinbuf && strstr(builtinbuf, mods[i].file));
        if (!available) {
            l = strlen(absent);
            snprintf(absent + l, sizeof(absent) - l, "%s%s", l ? ", " : "", mods[i].sys);
        }
    }
    if (!missing[0])
        add(p, "vfio-modules", DH_CHECK_PASS, NULL, "vfio, vfio_pci and vfio_iommu_type1 are loaded");
    else if (!absent[0])
        add(p, "vfio-modules", DH_CHECK_WARN, "nothing to do: dpuhost loads them on the first bind",
            "not loaded yet: %s (available for kernel %s)", missing, release);
    else
        add(p, "vfio-modules", DH_CHECK_FAIL, "install a kernel with VFIO (CONFIG_VFIO_PCI) and its modules",
            "not loaded and not found for kernel %s: %s", release[0] ? release : "?", absent);
}

static void check_vfio_device(struct dh_preflight *p, int rootfd)
{
    if (dh_exists_at(rootfd, "dev/vfio/vfio"))
        add(p, "vfio-device", DH_CHECK_PASS, NULL, "/dev/vfio/vfio exists");
    else
        add(p, "vfio-device", DH_CHECK_WARN, "nothing to do: it appears when vfio is loaded",
            "/dev/vfio/vfio does not exist yet");
}

static void check_kvm(struct dh_preflight *p, int rootfd)
{
    int fd = openat(rootfd, "dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        add(p, "kvm", DH_CHECK_WARN,
            "enable virtualization in the firmware and load kvm_intel or kvm_amd; until then VMs run under "
            "TCG "
            "emulation, many times slower",
            "/dev/kvm cannot be opened: %s", strerror(e));
        return;
    }
    int v = ioctl(fd, KVM_GET_API_VERSION, 0);
    close(fd);
    if (v == KVM_API_VERSION)
        add(p, "kvm", DH_CHECK_PASS, NULL, "/dev/kvm answers with API version %d", v);
    else
        add(p, "kvm", DH_CHECK_WARN, "VMs will run under TCG emulation, many times slower",
            "/dev/kvm does not answer KVM_GET_API_VERSION as KVM does");
}

/* Runs "<qemu> --version" and returns its first line, or NULL. */
static char *qemu_version(const char *qemu)
{
    int out[2];
    if (pipe2(out, O_CLOEXEC) < 0)
        return NULL;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    char *argv[] = {(char *)qemu, "--version", NULL};
    int r = posix_spawnp(&pid, qemu, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(out[1]);
    if (r != 0) {
        close(out[0]);
        return NULL;
    }
    char buf[512];
    size_t len = 0;
    struct pollfd pfd = {out[0], POLLIN, 0};
    while (len < sizeof(buf) - 1 && poll(&pfd, 1, 5000) > 0) {
        ssize_t n = read(out[0], buf + len, sizeof(buf) - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    close(out[0]);
    buf[len] = '\0';
    /* EOF on stdout comes a moment before the exit: wait for it, boundedly, before killing */
    int status = 0;
    pid_t w;
    for (int waited_ms = 0; (w = waitpid(pid, &status, WNOHANG)) == 0 && waited_ms < 5000; waited_ms += 10)
        usleep(10 * 1000);
    if (w == 0) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return NULL;
    buf[strcspn(buf, "\n")] = '\0';
    return len ? strdup(buf) : NULL;
}

static void check_qemu(struct dh_preflight *p, const char *qemu)
{
    _cleanup_free_ char *v = qemu_version(qemu);
    const char *num = v ? strstr(v, "version ") : NULL;
    if (num)
        add(p, "qemu", DH_CHECK_PASS, NULL, "%s: %s", qemu, num + 8);
    else
        add(p, "qemu", DH_CHECK_FAIL, "install QEMU: apt-get install qemu-system-x86",
            "%s --version did not run", qemu);
}

static void check_memlock(struct dh_preflight *p)
{
    /* vfio_iommu_type1 pins all guest RAM: QEMU needs CAP_IPC_LOCK (root) or RLIMIT_MEMLOCK >= RAM */
    struct rlimit rl;
    if (geteuid() == 0) {
        add(p, "memlock", DH_CHECK_PASS, NULL, "running as root: QEMU can pin guest memory");
        return;
    }
    if (getrlimit(RLIMIT_MEMLOCK, &rl) == 0 && rl.rlim_cur == RLIM_INFINITY) {
        add(p, "memlock", DH_CHECK_PASS, NULL, "RLIMIT_MEMLOCK is unlimited");
        return;
    }
    add(p, "memlock", DH_CHECK_WARN, "run dpuhostd as root, or raise RLIMIT_MEMLOCK above the VMs' memory",
        "RLIMIT_MEMLOCK is %llu KiB: a VM with a passed-through device pins all its RAM",
        (unsigned long long)(rl.rlim_cur / 1024));
}

int dh_preflight_run(struct dh_host *host, const struct dh_preflight_options *opts, struct dh_preflight *ret)
{
    assert_return(host && ret, -EINVAL);
    *ret = (struct dh_preflight){.passthrough_ok = true};
    int rootfd = dh_host_fd(host);
    bool iommu_on = false;
    check_iommu(ret, rootfd, &iommu_on);
    check_interrupt_remapping(ret, rootfd, iommu_on);
    check_modules(ret, rootfd);
    check_vfio_device(ret, rootfd);
    check_kvm(ret, rootfd);
    check_qemu(ret, opts && opts->qemu_binary ? opts->qemu_binary : "qemu-system-x86_64");
    check_memlock(ret);
    return 0;
}

void dh_preflight_write_json(struct dh_jsonw *w, const struct dh_preflight *p)
{
    dh_jsonw_begin_object(w);
    dh_jsonw_kv_bool(w, "passthrough_ok", p->passthrough_ok);
    dh_jsonw_key(w, "checks");
    dh_jsonw_begin_array(w);
    for (size_t i = 0; i < p->n_checks; i++) {
        const struct dh_check *c = &p->checks[i];
        dh_jsonw_begin_object(w);
        dh_jsonw_kv_string(w, "name", c->name);
        dh_jsonw_kv_string(w, "status", dh_check_status_to_string(c->status));
        dh_jsonw_kv_string(w, "detail", c->detail);
        dh_jsonw_kv_string(w, "remedy", c->remedy[0] ? c->remedy : NULL);
        dh_jsonw_end_object(w);
    }
    dh_jsonw_end_array(w);
    dh_jsonw_end_object(w);
}
