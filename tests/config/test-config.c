/* Configuration parsing: defaults, every key, every malformed shape with a message naming the key
 * and value, and the example shipped in docs/. */
#include "test.h"

#include <dpuhost/config.h>

#include "fake_sysfs.h"

static const char *example_path;

static struct dh_config *parse_ok(const char *text)
{
    json_error_t jerr;
    json_t *doc = json_loads(text, JSON_REJECT_DUPLICATES, &jerr);
    if (!doc)
        fail_msg("bad test JSON: %s", jerr.text);
    struct dh_config *cfg = NULL;
    struct dh_error err = {0};
    if (dh_config_parse(doc, &cfg, &err) < 0)
        fail_msg("parse failed: %s", err.message);
    json_decref(doc);
    return cfg;
}

static void parse_bad(const char *text, const char *needle)
{
    json_t *doc = json_loads(text, 0, NULL);
    if (!doc)
        fail_msg("bad test JSON: %s", text);
    struct dh_config *cfg = NULL;
    struct dh_error err = {0};
    int r = dh_config_parse(doc, &cfg, &err);
    json_decref(doc);
    if (r != -EINVAL)
        fail_msg("accepted: %s", text);
    assert_null(cfg);
    if (!strstr(err.message, needle))
        fail_msg("message \"%s\" lacks \"%s\"", err.message, needle);
}

static void empty_document_gets_defaults(void **state)
{
    (void)state;
    struct dh_config *cfg = parse_ok("{}");
    assert_string_equal(cfg->socket, DH_CONFIG_DEFAULT_SOCKET);
    assert_string_equal(cfg->state_dir, DH_CONFIG_DEFAULT_STATE_DIR);
    assert_int_equal(cfg->socket_mode, 0660);
    assert_int_equal(cfg->n_allowed_uids, 0);
    assert_int_equal(cfg->n_pools, 0);
    assert_int_equal(cfg->bind_timeout_ms, 5000);
    assert_null(cfg->vms.qemu);
    assert_int_equal(cfg->vms.start_timeout_ms, 30000);
    assert_int_equal(cfg->vms.stop_timeout_ms, 30000);
    assert_int_equal(cfg->vms.unplug_timeout_ms, 5000);
    dh_config_free(cfg);
}

static void every_key(void **state)
{
    (void)state;
    struct dh_config *cfg = parse_ok(
            "{\"socket\": \"/tmp/x.sock\", \"socket_mode\": \"0600\", \"state_dir\": \"/tmp/st\","
            " \"allowed_uids\": [0, 1000, \"root\"], \"allowed_gids\": [\"root\", 5],"
            " \"bind_timeout_ms\": 2000, \"restore_wait_ms\": 30000,"
            " \"pools\": [{\"name\": \"a\", \"device_spec\": {\"vendor_id\": \"15b3\"}, \"bind\": false,"
            "              \"physical_network\": \"physnet1\", \"remote_managed\": true, \"description\": "
            "\"x\"},"
            "            {\"name\": \"b.2\", \"selectors\": {\"vendors\": [\"1b36\"]}}],"
            " \"vms\": {\"qemu\": \"/opt/qemu/bin/qemu-system-x86_64\", \"start_timeout_ms\": 60000,"
            "          \"stop_timeout_ms\": 10000, \"unplug_timeout_ms\": 20000}}");
    assert_string_equal(cfg->socket, "/tmp/x.sock");
    assert_int_equal(cfg->socket_mode, 0600);
    assert_string_equal(cfg->state_dir, "/tmp/st");
    assert_int_equal(cfg->n_allowed_uids, 3);
    assert_int_equal(cfg->allowed_uids[1], 1000);
    assert_int_equal(cfg->allowed_uids[2], 0);
    assert_int_equal(cfg->n_allowed_gids, 2);
    assert_int_equal(cfg->allowed_gids[0], 0);
    assert_int_equal(cfg->bind_timeout_ms, 2000);
    assert_int_equal(cfg->restore_wait_ms, 30000);
    assert_int_equal(cfg->n_pools, 2);
    const struct dh_pool_config *a = dh_config_pool(cfg, "a");
    assert_non_null(a);
    assert_false(a->bind);
    assert_string_equal(a->physical_network, "physnet1");
    assert_int_equal(a->remote_managed, 1);
    assert_int_equal(dh_select_get_form(a->selector), DH_SELECT_DEVICE_SPEC);
    const struct dh_pool_config *b = dh_config_pool(cfg, "b.2");
    assert_true(b->bind);
    assert_int_equal(b->remote_managed, -1);
    assert_null(b->physical_network);
    assert_int_equal(dh_select_get_form(b->selector), DH_SELECT_SELECTORS);
    assert_null(dh_config_pool(cfg, "c"));
    assert_string_equal(cfg->vms.qemu, "/opt/qemu/bin/qemu-system-x86_64");
    assert_int_equal(cfg->vms.start_timeout_ms, 60000);
    assert_int_equal(cfg->vms.stop_timeout_ms, 10000);
    assert_int_equal(cfg->vms.unplug_timeout_ms, 20000);
    dh_config_free(cfg);
}

static void malformed_shapes_name_the_key_and_value(void **state)
{
    (void)state;
    parse_bad("{\"sockets\": \"/x\"}", "sockets: unknown key");
    parse_bad("{\"socket\": \"relative.sock\"}", "socket: \"relative.sock\" is not an absolute path");
    parse_bad("{\"socket\": 5}", "socket: 5 is not a non-empty string");
    parse_bad("{\"socket_mode\": \"0999\"}", "socket_mode: \"0999\" is not an octal mode");
    parse_bad("{\"socket_mode\": 660}", "socket_mode: 660");
    parse_bad("{\"state_dir\": \"\"}", "state_dir");
    parse_bad("{\"allowed_uids\": [\"no-such-user-here\"]}", "\"no-such-user-here\" is not a user");
    parse_bad("{\"allowed_gids\": [true]}", "allowed_gids: true is not a group");
    parse_bad("{\"allowed_uids\": 0}", "allowed_uids: is not a list");
    parse_bad("{\"bind_timeout_ms\": 0}", "bind_timeout_ms: 0 is not a number of milliseconds");
    parse_bad("{\"pools\": {}}", "pools: is not a list");
    parse_bad("{\"pools\": [5]}", "pools[0]: is not an object");
    parse_bad("{\"pools\": [{\"device_spec\": {}}]}", "pools[0]: name is missing");
    parse_bad("{\"pools\": [{\"name\": \"a b\", \"device_spec\": {}}]}", "name \"a b\"");
    parse_bad("{\"pools\": [{\"name\": \"a\"}]}", "give exactly one of device_spec");
    parse_bad("{\"pools\": [{\"name\": \"a\", \"device_spec\": {}, \"selectors\": {}}]}",
              "give exactly one of device_spec");
    parse_bad("{\"pools\": [{\"name\": \"a\", \"device_spec\": {}, \"bind\": \"yes\"}]}",
              "bind \"yes\" is not true or false");
    parse_bad("{\"pools\": [{\"name\": \"a\", \"device_spec\": {}, \"colour\": 1}]}",
              "pools[0].colour: unknown key");
    parse_bad("{\"pools\": [{\"name\": \"a\", \"device_spec\": {}}, {\"name\": \"a\", \"device_spec\": {}}]}",
              "name \"a\" is used by pools[0] already");
    /* the selector's own errors name the pool */
    parse_bad("{\"pools\": [{\"name\": \"gold\", \"device_spec\": {\"vendor_id\": \"15bx\"}}]}", "\"gold\"");
    parse_bad("[]", "not a JSON object");
    parse_bad("{\"vms\": []}", "vms: is not an object");
    parse_bad("{\"vms\": {\"qemu\": \"bin/qemu\"}}", "vms.qemu: \"bin/qemu\" is neither an absolute path");
    parse_bad("{\"vms\": {\"qemu\": \"/q,x\"}}", "vms.qemu");
    parse_bad("{\"vms\": {\"unplug_timeout_ms\": -1}}", "vms.unplug_timeout_ms: -1 is not a number");
    parse_bad("{\"vms\": {\"kvm\": true}}", "vms.kvm: unknown key");
}

static void load_reports_files_and_syntax(void **state)
{
    (void)state;
    struct dh_config *cfg = NULL;
    struct dh_error err = {0};
    assert_int_equal(dh_config_load("/nonexistent/dpuhost.json", &cfg, &err), -ENOENT);
    assert_non_null(strstr(err.message, "--config"));
    struct fake_tree *t = fake_tree_new();
    fake_write_str(t, "bad.json", "{\n  \"socket\": \"/x\",\n  \"socket\": \"/y\"\n}\n");
    char path[512];
    snprintf(path, sizeof(path), "%s/bad.json", fake_tree_root(t));
    dh_error_clear(&err);
    assert_int_equal(dh_config_load(path, &cfg, &err), -EINVAL);
    assert_non_null(strstr(err.message, "line 3"));
    assert_non_null(strstr(err.message, "duplicate"));
    fake_write_str(t, "trunc.json", "{\"pools\": [");
    snprintf(path, sizeof(path), "%s/trunc.json", fake_tree_root(t));
    dh_error_clear(&err);
    assert_int_equal(dh_config_load(path, &cfg, &err), -EINVAL);
    fake_tree_free(t);
}

static void the_shipped_example_parses(void **state)
{
    (void)state;
    struct dh_config *cfg = NULL;
    struct dh_error err = {0};
    if (dh_config_load(example_path, &cfg, &err) < 0)
        fail_msg("%s: %s", example_path, err.message);
    assert_int_equal(cfg->n_pools, 3);
    assert_non_null(dh_config_pool(cfg, "bf2-offpath-vfs"));
    assert_false(dh_config_pool(cfg, "sandbox-sfs")->bind);
    dh_config_free(cfg);
}

int main(int argc, char **argv)
{
    example_path = argc > 1 ? argv[1] : "docs/examples/bluefield-host.json";
    const struct CMUnitTest tests[] = {
            DH_TEST(empty_document_gets_defaults),
            DH_TEST(every_key),
            DH_TEST(malformed_shapes_name_the_key_and_value),
            DH_TEST(load_reports_files_and_syntax),
            DH_TEST(the_shipped_example_parses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
