/* Common header for unit tests: cmocka plus small assertion helpers. */
#pragma once

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
/* cmocka.h needs the four headers above first. */
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Asserts that a (possibly NULL) string equals an expected (possibly NULL) string. */
#define assert_string_or_null_equal(actual, expected) \
    do {                                              \
        const char *_a = (actual), *_e = (expected);  \
        if (!_e)                                      \
            assert_null(_a);                          \
        else {                                        \
            assert_non_null(_a);                      \
            assert_string_equal(_a, _e);              \
        }                                             \
    } while (0)

#define DH_TEST(f) cmocka_unit_test(f)
#define DH_TEST_SETUP(f, setup, teardown) cmocka_unit_test_setup_teardown(f, setup, teardown)
