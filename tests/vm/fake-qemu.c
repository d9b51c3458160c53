/* A stand-in for qemu-system-x86_64 in the VM manager's tests: it parses the command line dpuhost
 * renders, serves QMP on the -qmp socket (accepting a new connection whenever the previous one
 * closes, as QEMU does, so that a restarted dpuhostd can re-attach) and behaves like QEMU 7.2 for
 * what dpuhost uses: paused under -S until cont, devices realized, device_add into a free root
 * port, device_del completed by the guest or by a reset, "already in the process of unplug",
 * ACPI power-down, quit. Knobs (environment):
 *   FAKE_QEMU_UNPLUG=ack|never     the guest acknowledges device_del after 50 ms (default) or not
 *   FAKE_QEMU_POWERDOWN=ack|ignore the guest powers off on ACPI power-down (default) or not
 *   FAKE_QEMU_FAIL=start           exit 1 at once with a vfio error, as QEMU does for a bad group
 *   FAKE_QEMU_ADD_FAIL=1           device_add fails */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#define MAX_DEV 64

struct dev {
    char id[32];
    char bus[16];
    bool root_port;
    bool pending; /* device_del asked */
    long due_ms;  /* when the guest acknowledges (0: never) */
};

static struct dev devs[MAX_DEV];
static int n_devs;
static bool paused, unplug_ack = true, powerdown_ack = true, add_fail;
static long shutdown_due_ms;
static int client = -1;

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void send_json(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    json_decref(j);
    if (client >= 0 && s) {
        size_t len = strlen(s);
        if (write(client, s, len) < 0 || write(client, "\r\n", 2) < 0) {
            /* the client went away: the accept loop takes the next one */
        }
    }
    free(s);
}

static void event(const char *name, json_t *data)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    json_t *e = json_pack("{s:{s:I, s:I}, s:s}", "timestamp", "seconds", (json_int_t)ts.tv_sec,
                          "microseconds", (json_int_t)(ts.tv_nsec / 1000), "event", name);
    if (data)
        json_object_set_new(e, "data", data);
    send_json(e);
}

static struct dev *find(const char *id)
{
    for (int i = 0; i < n_devs; i++)
        if (strcmp(devs[i].id, id) == 0)
            return &devs[i];
    return NULL;
}

static void remove_dev(struct dev *d)
{
    char path[64];
    snprintf(path, sizeof(path), "/machine/peripheral/%s", d->id);
    event("DEVICE_DELETED", json_pack("{s:s, s:s}", "device", d->id, "path", path));
    *d = devs[--n_devs];
}

static void reply(json_t *id, json_t *ret)
{
    json_t *r = json_pack("{s:o}", "return", ret);
    if (id)
        json_object_set(r, "id", id);
    send_json(r);
}

static void error(json_t *id, const char *cls, const char *desc)
{
    json_t *r = json_pack("{s:{s:s, s:s}}", "error", "class", cls, "desc", desc);
    if (id)
        json_object_set(r, "id", id);
    send_json(r);
}

static void command(json_t *msg)
{
    const char *cmd = json_string_value(json_object_get(msg, "execute"));
    json_t *args = json_object_get(msg, "arguments"), *id = json_object_get(msg, "id");
    char desc[256];
    if (!cmd)
        return error(id, "GenericError", "no execute");
    if (!strcmp(cmd, "qmp_capabilities"))
        return reply(id, json_object());
    if (!strcmp(cmd, "query-status"))
        return reply(id, json_pack("{s:s, s:b, s:b}", "status", paused ? "prelaunch" : "running",
                                   "singlestep", 0, "running", !paused));
    if (!strcmp(cmd, "cont")) {
        paused = false;
        reply(id, json_object());
        return event("RESUME", NULL);
    }
    if (!strcmp(cmd, "qom-get")) {
        const char *path = json_string_value(json_object_get(args, "path"));
        const char *p = path ? strrchr(path, '/') : NULL;
        struct dev *d = p ? find(p + 1) : NULL;
        if (!d) {
            snprintf(desc, sizeof(desc), "Device '%s' not found", path ? path : "?");
            return error(id, "DeviceNotFound", desc);
        }
        return reply(id, json_true());
    }
    if (!strcmp(cmd, "device_add")) {
        const char *did = json_string_value(json_object_get(args, "id"));
        const char *bus = json_string_value(json_object_get(args, "bus"));
        struct dev *port = bus ? find(bus) : NULL;
        if (add_fail)
            return error(id, "GenericError", "vfio 0000:00:00.0: failed to setup container");
        if (!did || find(did))
            return error(id, "GenericError", "Duplicate device ID");
        if (!port || !port->root_port)
            return error(id, "GenericError", "Bus not found");
        for (int i = 0; i < n_devs; i++)
            if (!strcmp(devs[i].bus, bus))
                return error(id, "GenericError", "Bus is full");
        struct dev *d = &devs[n_devs++];
        memset(d, 0, sizeof(*d));
        snprintf(d->id, sizeof(d->id), "%s", did);
        snprintf(d->bus, sizeof(d->bus), "%s", bus);
        return reply(id, json_object());
    }
    if (!strcmp(cmd, "device_del")) {
        const char *did = json_string_value(json_object_get(args, "id"));
        struct dev *d = did ? find(did) : NULL;
        if (!d) {
            snprintf(desc, sizeof(desc), "Device '%s' not found", did ? did : "?");
            return error(id, "DeviceNotFound", desc);
        }
        if (d->pending) {
            snprintf(desc, sizeof(desc), "Device %s is already in the process of unplug", did);
            return error(id, "GenericError", desc);
        }
        d->pending = true;
        d->due_ms = unplug_ack && !paused ? now_ms() + 50 : 0;
        return reply(id, json_object());
    }
    if (!strcmp(cmd, "system_reset")) {
        reply(id, json_object());
        event("RESET", json_pack("{s:b, s:s}", "guest", 0, "reason", "host-qmp-system-reset"));
        for (int i = n_devs - 1; i >= 0; i--)
            if (devs[i].pending)
                remove_dev(&devs[i]);
        return;
    }
    if (!strcmp(cmd, "system_powerdown")) {
        reply(id, json_object());
        event("POWERDOWN", NULL);
        if (powerdown_ack)
            shutdown_due_ms = now_ms() + 50;
        return;
    }
    if (!strcmp(cmd, "quit")) {
        reply(id, json_object());
        event("SHUTDOWN", json_pack("{s:b, s:s}", "guest", 0, "reason", "host-qmp-quit"));
        exit(0);
    }
    snprintf(desc, sizeof(desc), "The command %s has not been found", cmd);
    error(id, "CommandNotFound", desc);
}

static void parse_device(const char *spec)
{
    char copy[512];
    snprintf(copy, sizeof(copy), "%s", spec);
    bool root_port = strncmp(copy, "pcie-root-port,", 15) == 0;
    struct dev d = {.root_port = root_port};
    for (char *save = NULL, *kv = strtok_r(copy, ",", &save); kv; kv = strtok_r(NULL, ",", &save)) {
        if (!strncmp(kv, "id=", 3))
            snprintf(d.id, sizeof(d.id), "%s", kv + 3);
        if (!strncmp(kv, "bus=", 4))
            snprintf(d.bus, sizeof(d.bus), "%s", kv + 4);
    }
    if (d.id[0] && n_devs < MAX_DEV)
        devs[n_devs++] = d;
}

int main(int argc, char **argv)
{
    const char *qmp = NULL, *serial = NULL;
    const char *e;
    /* Real QEMUs outlive dpuhostd by design (setsid), so a test that dies before its teardown
     * would leave this stand-in running forever: cap its life well past any test's length. */
    alarm(300);
    if ((e = getenv("FAKE_QEMU_FAIL")) && !strcmp(e, "start")) {
        fprintf(stderr, "qemu-system-x86_64: -device vfio-pci: vfio: group 14 is not viable\n");
        return 1;
    }
    unplug_ack = !((e = getenv("FAKE_QEMU_UNPLUG")) && !strcmp(e, "never"));
    powerdown_ack = !((e = getenv("FAKE_QEMU_POWERDOWN")) && !strcmp(e, "ignore"));
    add_fail = getenv("FAKE_QEMU_ADD_FAIL") != NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-S"))
            paused = true;
        else if (!strcmp(argv[i], "-qmp") && i + 1 < argc)
            qmp = argv[++i];
        else if (!strcmp(argv[i], "-serial") && i + 1 < argc)
            serial = argv[++i];
        else if (!strcmp(argv[i], "-device") && i + 1 < argc)
            parse_device(argv[++i]);
    }
    if (!qmp || strncmp(qmp, "unix:", 5) != 0) {
        fprintf(stderr, "fake-qemu: no -qmp unix:PATH\n");
        return 1;
    }
    if (serial && !strncmp(serial, "file:", 5)) {
        FILE *f = fopen(serial + 5, "a");
        if (f) {
            fprintf(f, "fake guest: firmware\n");
            fclose(f);
        }
    }
    char path[108];
    snprintf(path, sizeof(path), "%s", qmp + 5);
    char *comma = strchr(path, ',');
    if (comma)
        *comma = '\0';
    signal(SIGPIPE, SIG_IGN);
    int srv = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path);
    unlink(path);
    if (bind(srv, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(srv, 4) < 0) {
        fprintf(stderr, "fake-qemu: cannot listen on %s: %s\n", path, strerror(errno));
        return 1;
    }
    fprintf(stderr, "fake-qemu: listening on %s\n", path);
    char buf[65536];
    size_t len = 0;
    for (;;) {
        struct pollfd p[2] = {{srv, POLLIN, 0}, {client, POLLIN, 0}};
        poll(p, 2, 10);
        long t = now_ms();
        for (int i = n_devs - 1; i >= 0; i--)
            if (devs[i].pending && devs[i].due_ms && t >= devs[i].due_ms)
                remove_dev(&devs[i]);
        if (shutdown_due_ms && t >= shutdown_due_ms) {
            event("SHUTDOWN", json_pack("{s:b, s:s}", "guest", 1, "reason", "guest-shutdown"));
            return 0;
        }
        if (client < 0 && (p[0].revents & POLLIN)) {
            client = accept4(srv, NULL, NULL, SOCK_CLOEXEC);
            len = 0;
            send_json(json_pack("{s:{s:{s:{s:i, s:i, s:i}, s:s}, s:[s]}}", "QMP", "version", "qemu", "micro",
                                22, "minor", 2, "major", 7, "package", "fake", "capabilities", "oob"));
            continue;
        }
        if (client >= 0 && (p[1].revents & (POLLIN | POLLHUP))) {
            ssize_t n = read(client, buf + len, sizeof(buf) - 1 - len);
            if (n <= 0) {
                close(client);
                client = -1;
                continue;
            }
            len += (size_t)n;
            char *nl;
            while ((nl = memchr(buf, '\n', len))) {
                *nl = '\0';
                json_t *msg = json_loads(buf, 0, NULL);
                if (msg)
                    command(msg);
                json_decref(msg);
                size_t used = (size_t)(nl - buf) + 1;
                memmove(buf, nl + 1, len - used);
                len -= used;
            }
        }
    }
}
