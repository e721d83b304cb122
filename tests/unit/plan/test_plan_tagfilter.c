/* plan_tagfilter: BUILDKITE_TEST_ENGINE_TAG_FILTERS through real pytest
 * (/usr/bin/python3 -m pytest) and the collector stand-in on a copy of
 * fixtures/tags: the files are replaced by the matching node ids, and every
 * way the filter cannot be answered stops with the right status and one
 * error line that says what to do. */
#include "unit.h"
#include "base/buf.h"
#include "config/config.h"
#include "base/fs.h"
#include "plan/plan_tagfilter.h"
#include "scratch.h"
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#define PYTEST "/usr/bin/python3 -m pytest -p no:cacheprovider {{testExamples}}"

typedef struct {
    char dir[64];
    char *old_cwd;
    strlist_t entries;
    char *err_text; /* what the last apply() wrote to stderr */
} project_t;

static void use_collector(bool registered)
{
    const char *src = getenv("TEP_SOURCE_DIR");
    assert_non_null(src);
    char *path = registered
                     ? xasprintf("%s/tests/support:%s/fixtures/collector/registered", src, src)
                     : xasprintf("%s/tests/support", src);
    setenv("PYTHONPATH", path, 1);
    free(path);
}

static int setup(void **state)
{
    project_t *p = calloc(1, sizeof *p);
    scratch_dir(p->dir, sizeof p->dir, "tep-tagfilter");
    char *cmd = xasprintf("cp -R fixtures/tags/. '%s'", p->dir);
    assert_int_equal(system(cmd), 0);
    free(cmd);
    p->old_cwd = getcwd(NULL, 0);
    assert_int_equal(chdir(p->dir), 0);
    setenv("PYTHONDONTWRITEBYTECODE", "1", 1);
    setenv("BUILDKITE_TEST_ENGINE_TEST_CMD", PYTEST, 1);
    setenv("BUILDKITE_TEST_ENGINE_TAG_FILTERS", "team:payments", 1);
    use_collector(true);
    strlist_push(&p->entries, "tests/test_catalog.py");
    strlist_push(&p->entries, "tests/test_checkout.py");
    strlist_push(&p->entries, "tests/test_reports.py");
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    project_t *p = *state;
    scratch_leave(p->dir, p->old_cwd);
    free(p->err_text);
    strlist_free(&p->entries);
    unsetenv("BUILDKITE_TEST_ENGINE_TAG_FILTERS");
    unsetenv("BUILDKITE_TEST_ENGINE_TEST_CMD");
    unsetenv("PYTHONPATH");
    free(p);
    return 0;
}

typedef struct {
    project_t *p;
    config_t cfg;
    int status;
} apply_call_t;

static void call_apply(void *arg)
{
    apply_call_t *c = arg;
    c->status = plan_tagfilter_apply(&c->cfg, &c->p->entries);
}

/* plan_tagfilter_apply with the environment's configuration, stderr kept. */
static int apply(project_t *p)
{
    apply_call_t c = {.p = p};
    config_load(&c.cfg);
    free(p->err_text);
    p->err_text = scratch_stderr(call_apply, &c, NULL);
    config_free(&c.cfg);
    return c.status;
}

static void the_files_become_the_matching_ids(void **state)
{
    project_t *p = *state;
    assert_int_equal(apply(p), 0);
    assert_string_equal(p->err_text, "");
    strlist_sort(&p->entries);
    const char *want[] = {
        "tests/test_checkout.py::test_pay", "tests/test_checkout.py::test_rates[0.1]",
        "tests/test_checkout.py::test_rates[0.2]", "tests/test_checkout.py::test_refund"};
    assert_int_equal(p->entries.len, 4);
    for (size_t i = 0; i < 4; i++) assert_string_equal(p->entries.items[i], want[i]);
}

static void a_filter_that_matches_nothing_is_a_configuration_error(void **state)
{
    project_t *p = *state;
    setenv("BUILDKITE_TEST_ENGINE_TAG_FILTERS", "team:nobody", 1);
    assert_int_equal(apply(p), 78);
    assert_non_null(strstr(p->err_text, "BUILDKITE_TEST_ENGINE_TAG_FILTERS 'team:nobody' matches "
                                        "no test in the 3 discovered files; check the key and "
                                        "value against the @pytest.mark.execution_tag markers\n"));
    assert_int_equal(p->entries.len, 3); /* the files, untouched */
}

/* Without the collector the results would be JUnit: the filter cannot work. */
static void without_the_collector_it_is_a_configuration_error(void **state)
{
    project_t *p = *state;
    use_collector(false);
    assert_int_equal(apply(p), 78);
    assert_non_null(strstr(p->err_text, "BUILDKITE_TEST_ENGINE_TAG_FILTERS 'team:payments' needs "
                                        "buildkite-test-collector"));
    assert_non_null(strstr(p->err_text, "or remove the filter\n"));
}

/* A file pytest cannot import: terminal, naming the file. */
static void a_file_that_cannot_be_imported_is_terminal(void **state)
{
    project_t *p = *state;
    FILE *f = fopen("tests/test_reports.py", "a");
    assert_non_null(f);
    fputs("\nimport no_such_module_here\n", f);
    fclose(f);
    assert_int_equal(apply(p), 65);
    assert_non_null(strstr(p->err_text, "collection error in tests/test_reports.py: pytest cannot "
                                        "import it; fix the file (a retry will not help)\n"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_test_fixture(the_files_become_the_matching_ids),
        unit_test_fixture(a_filter_that_matches_nothing_is_a_configuration_error),
        unit_test_fixture(without_the_collector_it_is_a_configuration_error),
        unit_test_fixture(a_file_that_cannot_be_imported_is_terminal),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
