/* results: one way to read a result file whatever its format. The run mode
 * picks the reader; every record reaches fn; a file that cannot be read to
 * its end is false with the reader's own message, after the records before
 * the problem. Expected counts are read from the fixtures another way. */
#include "unit.h"
#include "base/buf.h"
#include "records.h"
#include "base/fs.h"
#include "results/results.h"
#include "scratch.h"
#include <cjson/cJSON.h>
#include <unistd.h>

#define FIXTURES "fixtures/conformance/pytest-7.2.1-collector-1.8.0/"

static void count_record(const test_record_t *rec, void *user)
{
    (void)rec;
    (*(size_t *)user)++;
}

static void count_warning(void *user, const char *line)
{
    (void)line;
    (*(size_t *)user)++;
}

static void the_mode_picks_the_reader(void **state)
{
    (void)state;
    const char *names[] = {"clean-run", "all-passing", "collection-error-continue"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char *json = xasprintf(FIXTURES "%s.json", names[i]);
        char *xml = xasprintf(FIXTURES "%s.xml", names[i]);
        size_t n = 0;
        char *err = NULL;
        assert_true(results_read_file(MODE_JSON, json, count_record, &n, NULL, NULL, &err));
        assert_null(err);
        assert_int_equal(n, fixture_json_elements(json));
        n = 0;
        assert_true(results_read_file(MODE_JUNIT, xml, count_record, &n, NULL, NULL, &err));
        assert_null(err);
        assert_int_equal(n, fixture_xml_testcases(xml));
        /* The wrong reader for the file is a failure, not zero tests. */
        assert_false(results_read_file(MODE_JUNIT, json, count_record, &n, NULL, NULL, &err));
        assert_non_null(err);
        free(err);
        free(json);
        free(xml);
    }
}

static void a_missing_file_is_a_failure_naming_it(void **state)
{
    (void)state;
    result_mode_t modes[] = {MODE_JSON, MODE_JUNIT};
    for (size_t i = 0; i < 2; i++) {
        size_t n = 0;
        char *err = NULL;
        assert_false(
            results_read_file(modes[i], "/nonexistent/r.out", count_record, &n, NULL, NULL, &err));
        assert_non_null(strstr(err, "/nonexistent/r.out"));
        assert_int_equal(n, 0);
        free(err);
    }
}

static void records_before_the_damage_still_arrive(void **state)
{
    (void)state;
    const char *text = "[{\"scope\":\"a\",\"name\":\"t1\",\"result\":\"passed\"},\n"
                       "{\"scope\":\"a\",\"name\":\"t2\",\"result\":\"failed\"},\n"
                       "{\"scope\":\"a\",\"name\":";
    char *path = scratch_file("tep-results", text, strlen(text));
    size_t n = 0;
    char *err = xstrdup("an earlier message");
    assert_false(results_read_file(MODE_JSON, path, count_record, &n, NULL, NULL, &err));
    assert_int_equal(n, 2);
    assert_non_null(err);
    assert_null(strstr(err, "an earlier message")); /* replaced, and freed (ASan) */
    free(err);
    unlink(path);
    free(path);
}

static void skipped_records_go_to_warn(void **state)
{
    (void)state;
    const char *text = "[{\"scope\":\"a\",\"name\":\"t1\",\"result\":\"passed\"}, 7]";
    char *path = scratch_file("tep-results", text, strlen(text));
    size_t n = 0, warnings = 0;
    char *err = NULL;
    assert_true(
        results_read_file(MODE_JSON, path, count_record, &n, count_warning, &warnings, &err));
    assert_null(err);
    assert_int_equal(n, 2); /* the skipped one too, marked with its problem */
    assert_int_equal(warnings, 1);
    unlink(path);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(the_mode_picks_the_reader),
        cmocka_unit_test(a_missing_file_is_a_failure_naming_it),
        cmocka_unit_test(records_before_the_damage_still_arrive),
        cmocka_unit_test(skipped_records_go_to_warn),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
