/* VM spec parsing: strict, every field checked, messages naming the field and the value. Paths must
 * be absolute and free of commas (QEMU's option syntax uses them as separators); env values are
 * limited to what can travel both through fw_cfg and on a kernel command line. */
#include <dpuhost/vm.h>

#include <ctype.h>

#include "util/macro.h"

static int bad(struct dh_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int bad(struct dh_error *err, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    return dh_error_set(err, -EINVAL, "VM spec: %s", msg);
}

static int check_keys(json_t *o, const char *where, const char *const *allowed, struct dh_error *err)
{
    const char *k;
    json_t *v;
    json_object_foreach (o, k, v) {
        bool ok = false;
        for (size_t i = 0; allowed[i] && !ok; i++)
            ok = streq(k, allowed[i]);
        if (!ok)
            return bad(err, "%s%sunknown field '%s'", where, *where ? ": " : "", k);
    }
    return 0;
}

static bool valid_name(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 48)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
            return false;
    return true;
}

static bool valid_path(const char *s)
{
    if (s[0] != '/' || strlen(s) > 1024 || strchr(s, ','))
        return false;
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return false;
    return true;
}

/* MACs, IPs with prefixes, gateways, host names: what a guest's egress needs, nothing that could
 * break a kernel command line or a fw_cfg string. */
static bool valid_env_value(const char *s)
{
    if (strlen(s) > 256)
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && !strchr("._:/@+-", *s))
            return false;
    return true;
}

static bool valid_env_key(const char *s)
{
    if (!*s || strlen(s) > 64 || isdigit((unsigned char)*s))
        return false;
    for (; *s; s++)
        if (!isalnum((unsigned char)*s) && *s != '_')
            return false;
    return true;
}

static int get_str(json_t *o, const char *key, const char *where, char **ret, struct dh_error *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_string(v))
        return bad(err, "%s%s must be a string", where, key);
    *ret = strdup(json_string_value(v));
    return *ret ? 0 : -ENOMEM;
}

static int get_int(json_t *o, const char *key, int min, int max, int *ret, struct dh_error *err)
{
    json_t *v = json_object_get(o, key);
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < min || json_integer_value(v) > max)
        return bad(err, "%s must be an integer from %d to %d", key, min, max);
    *ret = (int)json_integer_value(v);
    return 0;
}

static int parse_boot(json_t *b, struct dh_vm_spec *s, struct dh_error *err)
{
    static const char *const keys[] = {"kernel", "initrd", "cmdline", "disk", "format", NULL};
    if (!json_is_object(b))
        return bad(err,
                   "boot must be an object: {\"kernel\", \"initrd\", \"cmdline\"} or {\"disk\", \"format\"}");
    int r = check_keys(b, "boot", keys, err);
    if (r == 0)
        r = get_str(b, "kernel", "boot.", &s->kernel, err);
    if (r == 0)
        r = get_str(b, "initrd", "boot.", &s->initrd, err);
    if (r == 0)
        r = get_str(b, "cmdline", "boot.", &s->cmdline, err);
    if (r == 0)
        r = get_str(b, "disk", "boot.", &s->disk, err);
    if (r == 0)
        r = get_str(b, "format", "boot.", &s->disk_format, err);
    if (r < 0)
        return r;
    if (!s->kernel == !s->disk)
        return bad(err, "boot needs exactly one of kernel or disk");
    if (s->kernel && !valid_path(s->kernel))
        return bad(err, "boot.kernel '%s' must be an absolute path without commas", s->kernel);
    if (s->initrd && (!s->kernel || !valid_path(s->initrd)))
        return bad(err, "boot.initrd '%s' needs a kernel and must be an absolute path without commas",
                   s->initrd);
    if (s->cmdline && (!s->kernel || strlen(s->cmdline) > 2048))
        return bad(err, "boot.cmdline needs a kernel and at most 2048 characters");
    if (s->disk && !valid_path(s->disk))
        return bad(err, "boot.disk '%s' must be an absolute path without commas", s->disk);
    if (s->disk_format && (!s->disk || (!streq(s->disk_format, "raw") && !streq(s->disk_format, "qcow2"))))
        return bad(err, "boot.format '%s': use raw or qcow2, with a disk", s->disk_format);
    if (s->disk && !s->disk_format && !(s->disk_format = strdup("raw")))
        return -ENOMEM;
    return 0;
}

static int parse_devices(json_t *a, struct dh_vm_spec *s, struct dh_error *err)
{
    static const char *const keys[] = {"address", "pool", "boot", NULL};
    if (!json_is_array(a) || json_array_size(a) > DH_VM_MAX_DEVICES)
        return bad(err, "pci_devices must be a list of at most %d devices", DH_VM_MAX_DEVICES);
    size_t i;
    json_t *d;
    int boots = 0;
    json_array_foreach (a, i, d) {
        char where[48];
        snprintf(where, sizeof(where), "pci_devices[%zu]", i);
        if (!json_is_object(d))
            return bad(err, "%s must be an object {\"address\"} or {\"pool\"}", where);
        int r = check_keys(d, where, keys, err);
        struct dh_vm_device_spec *ds = &s->devices[s->n_devices++];
        if (r == 0)
            r = get_str(d, "address", "pci_devices[].", &ds->address, err);
        if (r == 0)
            r = get_str(d, "pool", "pci_devices[].", &ds->pool, err);
        if (r < 0)
            return r;
        if (!ds->address == !ds->pool)
            return bad(err, "%s needs exactly one of address or pool", where);
        if (ds->address && !dh_pci_addr_is_valid(ds->address))
            return bad(err, "%s.address '%s' is malformed: expected DDDD:BB:DD.F", where, ds->address);
        json_t *b = json_object_get(d, "boot");
        if (b && !json_is_boolean(b))
            return bad(err, "%s.boot must be true or false", where);
        ds->boot = json_is_true(b);
        boots += ds->boot;
        for (size_t k = 0; ds->address && k + 1 < s->n_devices; k++)
            if (s->devices[k].address && streq(s->devices[k].address, ds->address))
                return bad(err, "%s is listed twice", ds->address);
    }
    if (boots > 1)
        return bad(err, "only one of pci_devices can have \"boot\": true");
    if (boots && (s->kernel || s->disk))
        return bad(err, "boot from a device excludes boot.kernel and boot.disk");
    return 0;
}

static int parse_env(json_t *o, struct dh_vm_spec *s, struct dh_error *err)
{
    if (!json_is_object(o) || json_object_size(o) > DH_VM_MAX_ENV)
        return bad(err, "env must be an object of at most %d strings", DH_VM_MAX_ENV);
    const char *k;
    json_t *v;
    json_object_foreach (o, k, v) {
        if (!valid_env_key(k))
            return bad(err, "env key '%s': use letters, digits and _, not starting with a digit", k);
        if (!json_is_string(v) || !valid_env_value(json_string_value(v)))
            return bad(err, "env.%s: give a string of letters, digits and ._:/@+- (at most 256)", k);
        s->env_keys[s->n_env] = strdup(k);
        s->env_values[s->n_env] = strdup(json_string_value(v));
        if (!s->env_keys[s->n_env++] || !s->env_values[s->n_env - 1])
            return -ENOMEM;
    }
    return 0;
}

int dh_vm_spec_parse(json_t *doc, struct dh_vm_spec *ret, struct dh_error *err)
{
    static const char *const keys[] = {"name",        "vcpus", "memory_mib",  "accel",         "boot",
                                       "pci_devices", "env",   "console_log", "hotplug_slots", NULL};
    assert_return(ret, -EINVAL);
    struct dh_vm_spec s = {.vcpus = 1, .memory_mib = 512, .hotplug_slots = 2};
    int r = 0;
    if (!json_is_object(doc))
        r = bad(err, "the spec must be a JSON object");
    if (r == 0)
        r = check_keys(doc, "", keys, err);
    if (r == 0)
        r = get_str(doc, "name", "", &s.name, err);
    if (r == 0 && (!s.name || !valid_name(s.name)))
        r = bad(err, "name '%s': give 1-48 characters from A-Z, a-z, 0-9, _, -, .",
                s.name ? s.name : "(missing)");
    if (r == 0)
        r = get_int(doc, "vcpus", 1, 64, &s.vcpus, err);
    if (r == 0)
        r = get_int(doc, "memory_mib", 64, 1048576, &s.memory_mib, err);
    if (r == 0)
        r = get_int(doc, "hotplug_slots", 0, 16, &s.hotplug_slots, err);
    json_t *a = json_object_get(doc, "accel");
    if (r == 0 && a) {
        const char *v = json_string_value(a);
        if (v && streq(v, "auto"))
            s.accel = DH_VM_ACCEL_AUTO;
        else if (v && streq(v, "kvm"))
            s.accel = DH_VM_ACCEL_KVM;
        else if (v && streq(v, "tcg"))
            s.accel = DH_VM_ACCEL_TCG;
        else
            r = bad(err, "accel: use auto, kvm or tcg");
    }
    if (r == 0 && json_object_get(doc, "boot"))
        r = parse_boot(json_object_get(doc, "boot"), &s, err);
    if (r == 0 && json_object_get(doc, "pci_devices"))
        r = parse_devices(json_object_get(doc, "pci_devices"), &s, err);
    if (r == 0 && json_object_get(doc, "env"))
        r = parse_env(json_object_get(doc, "env"), &s, err);
    if (r == 0)
        r = get_str(doc, "console_log", "", &s.console_log, err);
    if (r == 0 && s.console_log && !valid_path(s.console_log))
        r = bad(err, "console_log '%s' must be an absolute path without commas", s.console_log);
    if (r < 0) {
        dh_vm_spec_clear(&s);
        return r;
    }
    *ret = s;
    return 0;
}

void dh_vm_spec_clear(struct dh_vm_spec *s)
{
    if (!s)
        return;
    free(s->name);
    free(s->kernel);
    free(s->initrd);
    free(s->cmdline);
    free(s->disk);
    free(s->disk_format);
    for (size_t i = 0; i < s->n_devices; i++) {
        free(s->devices[i].address);
        free(s->devices[i].pool);
    }
    for (size_t i = 0; i < s->n_env; i++) {
        free(s->env_keys[i]);
        free(s->env_values[i]);
    }
    free(s->console_log);
    *s = (struct dh_vm_spec){0};
}
