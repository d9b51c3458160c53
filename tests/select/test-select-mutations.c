/* A deterministic mutation run in place of a fuzzer corpus: valid pool fragments of both forms
 * are mutated byte by byte; whatever still parses as JSON must either compile (and then match
 * against a fake host without trouble) or be refused with -EINVAL and a message. Under the
 * sanitizer build this also proves that every error path frees what it allocated. */
#include "select-kit.h"

static const char *const seeds[] = {
        "{\"device_spec\": {\"vendor_id\": \"15b3\", \"product_id\": \"101e\", \"physical_network\": "
        "\"p1\"}}",
        "{\"device_spec\": [{\"address\": \"*:03:00.*\"}, {\"devname\": \"ens1f0np0\", \"trusted\": true}]}",
        "{\"device_spec\": {\"address\": {\"domain\": \"0000\", \"bus\": \"0[34]\", \"slot\": \"00\", "
        "\"function\": \"[0-3]\"}, \"remote_managed\": \"true\"}}",
        "{\"device_spec\": {\"address\": \"0000:03:00.0\", \"product_id\": \"101e\"}}",
        "{\"selectors\": {\"vendors\": [\"15b3\"], \"devices\": [\"101e\"], \"drivers\": [\"mlx5_core\"]}}",
        "{\"selectors\": [{\"pfNames\": [\"ens1f0np0#0,2-7\"]}, {\"rootDevices\": "
        "[\"0000:03:00.0#0-1,3\"]}]}",
        "{\"selectors\": {\"auxTypes\": [\"sf\"], \"pfNames\": [\"ens1f0np0#88\"], \"linkTypes\": "
        "[\"ether\"]}}",
        "{\"selectors\": {\"pciAddresses\": [\"0000:03:00.2\", \"0000:05:00.0\"]}}",
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint32_t rnd(uint32_t n)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state % n);
}

static void mutate(char *s, size_t cap)
{
    static const char alphabet[] = "{}[]\",:#-.*\\ 0123456789abcdefxyzDs_0";
    size_t len = strlen(s);
    int edits = 1 + (int)rnd(4);
    for (int e = 0; e < edits && len > 0; e++) {
        size_t at = rnd((uint32_t)len);
        switch (rnd(3)) {
        case 0: /* replace */
            s[at] = alphabet[rnd(sizeof(alphabet) - 1)];
            break;
        case 1: /* delete */
            memmove(s + at, s + at + 1, len - at);
            len--;
            break;
        default: /* insert */
            if (len + 1 < cap) {
                memmove(s + at + 1, s + at, len - at + 1);
                s[at] = alphabet[rnd(sizeof(alphabet) - 1)];
                len++;
            }
        }
    }
}

static void mutated_fragments_compile_or_fail_cleanly(void **state)
{
    (void)state;
    struct fake_tree *t = host_bluefield();
    struct dh_inventory *inv = host_scan(t);
    size_t *of = calloc(inv->n_funcs, sizeof(*of));
    int compiled = 0, refused = 0;
    for (int i = 0; i < 6000; i++) {
        char buf[512];
        snprintf(buf, sizeof(buf), "%s", seeds[rnd(sizeof(seeds) / sizeof(seeds[0]))]);
        mutate(buf, sizeof(buf));
        json_t *j = json_loads(buf, 0, NULL);
        if (!j)
            continue;
        struct dh_selector *s = NULL;
        struct dh_error err = {0};
        int r = dh_select_parse(j, "fuzz", &s, &err);
        json_decref(j);
        if (r == 0) {
            compiled++;
            assert_non_null(s);
            assert_true(dh_select_assign(&s, 1, inv, of) >= 0);
            for (size_t k = 0; k < inv->n_funcs; k++)
                (void)dh_select_tag(s, &inv->funcs[k], inv, "physical_network");
            (void)dh_select_check_host(s, inv, NULL);
            dh_select_free(s);
        } else {
            refused++;
            if (r != -EINVAL)
                fail_msg("%s: returned %d", buf, r);
            assert_null(s);
            assert_int_equal(err.code, -EINVAL);
            assert_true(strncmp(err.message, "select: pool \"fuzz\": ", 21) == 0);
        }
    }
    /* the run must exercise both outcomes to mean anything */
    assert_true(compiled > 100);
    assert_true(refused > 100);
    free(of);
    dh_inventory_free(inv);
    fake_tree_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
            DH_TEST(mutated_fragments_compile_or_fail_cleanly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
