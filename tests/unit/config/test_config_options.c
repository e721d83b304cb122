/* config_options: the one table of settings is consistent: names unique,
 * every plugin key found again, aliases known, every default valid. */
#include "unit.h"
#include "base/buf.h"
#include "config/config.h"
#include "config/config_options.h"
#include <errno.h>

static void names_and_plugin_keys_are_unique(void **state)
{
    (void)state;
    assert_true(config_n_options > 50);
    for (size_t i = 0; i < config_n_options; i++) {
        const option_t *o = &config_options[i];
        assert_true(config_option_known(o->env));
        if (o->alias) assert_true(config_option_known(o->alias));
        if (o->plugin) assert_ptr_equal(config_option_by_plugin_key(o->plugin), o);
        for (size_t j = i + 1; j < config_n_options; j++) {
            assert_string_not_equal(o->env, config_options[j].env);
            if (o->plugin && config_options[j].plugin)
                assert_string_not_equal(o->plugin, config_options[j].plugin);
        }
    }
    assert_null(config_option_by_plugin_key("no-such-option"));
    assert_null(config_option_by_plugin_key("SUITE_SLUG"));
    assert_true(config_option_known("BUILDKITE_ANALYTICS_LOCATION_PREFIX")); /* an alias */
    assert_false(config_option_known("BUILDKITE_TEST_ENGINE_SUITE"));
    assert_false(config_option_known(""));
}

static void every_default_is_valid(void **state)
{
    (void)state;
    for (size_t i = 0; i < config_n_options; i++) {
        const option_t *o = &config_options[i];
        if (o->type == OPT_INT) {
            assert_non_null(o->def);
            char *end;
            errno = 0;
            long v = strtol(o->def, &end, 10);
            assert_int_equal(*end, '\0');
            assert_true(v >= o->min && v <= o->max);
        } else if (o->type == OPT_BOOL) {
            bool b;
            assert_true(config_parse_bool(o->def, &b));
        }
        assert_non_null(o->help);
        assert_true(strlen(o->help) > 0);
    }
}

static void help_names_every_option(void **state)
{
    (void)state;
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    config_print_help(f);
    fclose(f);
    for (size_t i = 0; i < config_n_options; i++) {
        char *line = xasprintf("  %s\n", config_options[i].env);
        char *alias_line = xasprintf("  %s (or ", config_options[i].env);
        assert_true(strstr(text, line) || strstr(text, alias_line));
        free(alias_line);
        free(line);
    }
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_and_plugin_keys_are_unique),
        cmocka_unit_test(every_default_is_valid),
        cmocka_unit_test(help_names_every_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
