/* childenv: the environment of every child that runs the user's Python. */
#include "unit.h"
#include "pytest/childenv.h"

static void drops_both_tokens_and_keeps_the_rest(void **state)
{
    (void)state;
    setenv("BUILDKITE_ANALYTICS_TOKEN", "secret-1", 1);
    setenv("BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN", "secret-2", 1);
    setenv("BUILDKITE_ANALYTICS_TOKEN_NOT", "kept", 1); /* only the exact names go */
    setenv("TEP_UNIT_KEPT", "yes", 1);
    strlist_t env;
    strlist_init(&env);
    childenv_build(&env);
    assert_null(childenv_get(&env, "BUILDKITE_ANALYTICS_TOKEN"));
    assert_null(childenv_get(&env, "BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN"));
    assert_string_equal(childenv_get(&env, "BUILDKITE_ANALYTICS_TOKEN_NOT"), "kept");
    assert_string_equal(childenv_get(&env, "TEP_UNIT_KEPT"), "yes");
    for (size_t i = 0; i < env.len; i++) assert_null(strstr(env.items[i], "secret-"));
    strlist_free(&env);
}

static void set_replaces_or_adds(void **state)
{
    (void)state;
    strlist_t env;
    strlist_init(&env);
    strlist_push(&env, "PYTHONPATH=/a");
    strlist_push(&env, "PYTHONPATHX=/b");
    childenv_set(&env, "PYTHONPATH", "/new:/a");
    childenv_set(&env, "TEP_COLLECT_OUT", "/tmp/x");
    assert_int_equal(env.len, 3);
    assert_string_equal(env.items[0], "PYTHONPATH=/new:/a");
    assert_string_equal(childenv_get(&env, "PYTHONPATHX"), "/b");
    assert_string_equal(childenv_get(&env, "TEP_COLLECT_OUT"), "/tmp/x");
    assert_null(env.items[env.len]); /* still ready for execve */
    strlist_free(&env);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(drops_both_tokens_and_keeps_the_rest),
        cmocka_unit_test(set_replaces_or_adds),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
