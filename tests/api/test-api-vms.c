/* The /v1/vms routes through the API layer, with the stand-in QEMU: statuses, bodies, errors, and
 * the events every VM state change publishes. */
#include "test.h"

#include <dpuhost/api.h>
#include <dpuhost/vm.h>
#include <time.h>

#include "claimhost.h"

static const char *fake_qemu;

struct fixture {
    struct claimhost *c;
    struct dh_api *api;
    struct dh_vms *vms;
};

static int call(struct fixture *fx, const char *method, const char *path, const char *body, json_t **ret);

static int setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    fx->c = claimhost_new();
    struct dh_api_options o = {
            .host = fx->c->host, .store = fx->c->store, .config = fx->c->config, .version = "t"};
    assert_int_equal(dh_api_new(&o, &fx->api, NULL), 0);
    char dir[512];
    snprintf(dir, sizeof(dir), "%s/vms", fake_tree_root(fx->c->tree));
    struct dh_vms_options vo = {.host = fx->c->host,
                                .store = fx->c->store,
                                .config = fx->c->config,
                                .pools = fx->c->pools,
                                .qemu_binary = fake_qemu,
                                .vm_dir = dir,
                                .stop_timeout_ms = 2000,
                                .unplug_timeout_ms = 200,
                                .on_event = dh_api_publish,
                                .event_userdata = fx->api};
    assert_int_equal(dh_vms_new(&vo, &fx->vms, NULL), 0);
    dh_api_set_pools(fx->api, fx->c->pools);
    dh_api_set_vms(fx->api, fx->vms);
    dh_api_set_ready(fx->api, true);
    unsetenv("FAKE_QEMU_UNPLUG");
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *fx = *state;
    /* QEMUs outlive the manager by design: stop them, through the API as a client would */
    json_t *list = NULL;
    if (call(fx, "GET", "/v1/vms", NULL, &list) == 200) {
        size_t i;
        json_t *v;
        json_array_foreach (json_object_get(list, "vms"), i, v) {
            char path[96];
            snprintf(path, sizeof(path), "/v1/vms/%s/stop", json_string_value(json_object_get(v, "id")));
            call(fx, "POST", path, "{\"force\": true}", NULL);
        }
    }
    json_decref(list);
    dh_vms_free(fx->vms);
    dh_api_free(fx->api);
    claimhost_free(fx->c);
    free(fx);
    return 0;
}

static int call(struct fixture *fx, const char *method, const char *path, const char *body, json_t **ret)
{
    struct dh_api_request req = {
            .method = method, .path = path, .body = body, .body_len = body ? strlen(body) : 0};
    struct dh_api_response resp;
    dh_api_handle(fx->api, &req, &resp);
    if (ret)
        *ret = resp.body ? json_loadb(resp.body, resp.body_len, 0, NULL) : NULL;
    int status = resp.status;
    dh_api_response_clear(&resp);
    return status;
}

static const char *code_of(json_t *doc)
{
    return json_string_value(json_object_get(json_object_get(doc, "error"), "code"));
}

/* "created" is an RFC 3339 UTC time close to now (a record keeps the time it was created at). */
static void assert_created_recently(json_t *doc)
{
    const char *created = json_string_value(json_object_get(doc, "created"));
    assert_non_null(created);
    struct tm tm = {0};
    const char *end = strptime(created, "%Y-%m-%dT%H:%M:%S", &tm);
    assert_non_null(end);
    time_t t = timegm(&tm);
    time_t now = time(NULL);
    assert_true(t <= now && now - t < 60);
}

static void lifecycle_over_the_api(void **state)
{
    struct fixture *fx = *state;
    struct dh_api_events *sub = dh_api_events_subscribe(fx->api, 0);
    json_t *doc = NULL;
    assert_int_equal(call(fx, "POST", "/v1/vms",
                          "{\"name\": \"web\", \"pci_devices\": [{\"pool\": \"vfs\"}], \"hotplug_slots\": 1}",
                          &doc),
                     201);
    assert_string_equal(json_string_value(json_object_get(doc, "state")), "running");
    assert_created_recently(doc);
    char id[32];
    snprintf(id, sizeof(id), "%s", json_string_value(json_object_get(doc, "id")));
    json_decref(doc);
    assert_int_equal(call(fx, "GET", "/v1/vms/web", NULL, &doc), 200); /* by name */
    assert_string_equal(json_string_value(json_object_get(doc, "id")), id);
    json_decref(doc);
    assert_int_equal(call(fx, "GET", "/v1/vms", NULL, &doc), 200);
    assert_int_equal(json_array_size(json_object_get(doc, "vms")), 1);
    json_decref(doc);

    char path[96];
    snprintf(path, sizeof(path), "/v1/vms/%s/devices", id);
    assert_int_equal(call(fx, "POST", path, "{\"pool\": \"vfs\"}", &doc), 201);
    assert_string_equal(json_string_value(json_object_get(doc, "id")), "hp0");
    assert_string_equal(json_string_value(json_object_get(doc, "port")), "rp2");
    json_decref(doc);
    snprintf(path, sizeof(path), "/v1/vms/%s/devices/hp0", id);
    assert_int_equal(call(fx, "DELETE", path, NULL, &doc), 200);
    assert_string_equal(json_string_value(json_object_get(doc, "state")), "detached");
    /* given back: no claim, no port */
    assert_true(json_is_null(json_object_get(doc, "claim")));
    assert_true(json_is_null(json_object_get(doc, "port")));
    json_decref(doc);

    snprintf(path, sizeof(path), "/v1/vms/%s/stop", id);
    assert_int_equal(call(fx, "POST", path, "{\"force\": true}", &doc), 200);
    assert_string_equal(json_string_value(json_object_get(doc, "state")), "stopped");
    json_decref(doc);
    snprintf(path, sizeof(path), "/v1/vms/%s/start", id);
    assert_int_equal(call(fx, "POST", path, NULL, NULL), 200);
    snprintf(path, sizeof(path), "/v1/vms/%s", id);
    assert_int_equal(call(fx, "DELETE", path, NULL, NULL), 200);
    assert_int_equal(call(fx, "GET", path, NULL, &doc), 404);
    json_decref(doc);

    /* every state change was published */
    int states = 0, devices = 0;
    char *line = NULL;
    while (dh_api_events_next(sub, 50, &line) == 0 && line) {
        states += strstr(line, "\"vm_state\"") != NULL;
        devices += strstr(line, "\"vm_device\"") != NULL;
        free(line);
    }
    dh_api_events_unsubscribe(sub);
    assert_true(states >= 8); /* stopped(created), creating x3, running, stopping, stopped, ... deleted */
    assert_true(devices >= 3);
}

static void pending_unplug_is_202(void **state)
{
    struct fixture *fx = *state;
    setenv("FAKE_QEMU_UNPLUG", "never", 1);
    json_t *doc = NULL;
    assert_int_equal(
            call(fx, "POST", "/v1/vms", "{\"name\": \"fw\", \"pci_devices\": [{\"pool\": \"vfs\"}]}", &doc),
            201);
    json_decref(doc);
    assert_int_equal(call(fx, "DELETE", "/v1/vms/fw/devices/dev0", NULL, &doc), 202);
    assert_string_equal(json_string_value(json_object_get(doc, "state")), "unplug_pending");
    /* still the VM's: its claim and its port are kept */
    assert_true(strncmp(json_string_value(json_object_get(doc, "claim")) ?: "", "c-", 2) == 0);
    assert_string_equal(json_string_value(json_object_get(doc, "port")), "rp1");
    json_decref(doc);
    assert_int_equal(call(fx, "POST", "/v1/vms/fw/reset", NULL, NULL), 200);
    unsetenv("FAKE_QEMU_UNPLUG");
}

static void errors(void **state)
{
    struct fixture *fx = *state;
    json_t *doc = NULL;
    assert_int_equal(call(fx, "POST", "/v1/vms", "{\"name\": ", &doc), 400);
    assert_string_equal(code_of(doc), "malformed");
    json_decref(doc);
    assert_int_equal(call(fx, "POST", "/v1/vms", "{\"name\": \"x\", \"vcpus\": 0}", &doc), 422);
    assert_string_equal(code_of(doc), "invalid");
    json_decref(doc);
    assert_int_equal(call(fx, "POST", "/v1/vms", "{\"name\": \"x\", \"start\": \"yes\"}", &doc), 422);
    json_decref(doc);
    assert_int_equal(
            call(fx, "POST", "/v1/vms", "{\"name\": \"x\", \"pci_devices\": [{\"pool\": \"gold\"}]}", &doc),
            404);
    json_decref(doc);
    assert_int_equal(call(fx, "POST", "/v1/vms", "{\"name\": \"x\", \"start\": false}", &doc), 201);
    assert_string_equal(json_string_value(json_object_get(doc, "state")), "stopped");
    json_decref(doc);
    assert_int_equal(call(fx, "POST", "/v1/vms", "{\"name\": \"x\"}", &doc), 409);
    assert_string_equal(code_of(doc), "conflict");
    json_decref(doc);
    assert_int_equal(call(fx, "POST", "/v1/vms/x/devices", "{\"pool\": \"vfs\"}", &doc),
                     409); /* not running */
    json_decref(doc);
    assert_int_equal(call(fx, "GET", "/v1/vms/nope", NULL, &doc), 404);
    json_decref(doc);
    assert_int_equal(call(fx, "POST", "/v1/vms/x/explode", NULL, &doc), 404);
    json_decref(doc);
    assert_int_equal(call(fx, "GET", "/v1/vms/x/start", NULL, &doc), 405);
    json_decref(doc);
    assert_int_equal(call(fx, "PUT", "/v1/vms", NULL, &doc), 405);
    json_decref(doc);
    assert_int_equal(call(fx, "POST", "/v1/vms/x/stop", "{\"force\": 1}", &doc), 422);
    json_decref(doc);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return 2;
    fake_qemu = argv[1];
    const struct CMUnitTest tests[] = {
            DH_TEST_SETUP(lifecycle_over_the_api, setup, teardown),
            DH_TEST_SETUP(pending_unplug_is_202, setup, teardown),
            DH_TEST_SETUP(errors, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
