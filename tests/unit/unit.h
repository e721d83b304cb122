/* Shared includes for the cmocka unit tests, and unit_test_fixture. */
#ifndef TEP_UNIT_H
#define TEP_UNIT_H
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

/* A test run between this file's setup() and teardown() (a fresh fixture
 * each time), for the files whose tests all share one. */
#define unit_test_fixture(test) cmocka_unit_test_setup_teardown(test, setup, teardown)
#endif
