/* report_durations: this job's durations in pytest-split's format, written one entry
 * at a time; a retried test once, with its latest time; node ids escaped so
 * any name stays valid JSON; the artifact name safe for the agent's argv. */
#include "unit.h"
#include "records.h"
#include "base/buf.h"
#include "config/config.h"
#include "report/report_durations.h"
#include "base/fs.h"
#include "results/results_index.h"
#include "results/results_model.h"
#include "scratch.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <unistd.h>

/* An empty scratch file for the writer to replace. */
static char *temp_path(void)
{
    return scratch_file("test_report_durations", "", 0);
}

static cJSON *load_json(const char *path)
{
    char *text = fs_read_file(path, NULL);
    assert_non_null(text);
    cJSON *root = cJSON_Parse(text);
    free(text);
    assert_true(cJSON_IsObject(root));
    return root;
}

static double seconds_of(const cJSON *root, const char *id)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, id);
    if (!cJSON_IsNumber(v)) fail_msg("no duration for %s", id);
    return v->valuedouble;
}

/* A record as the walk hands it to the sink: its entry (results_index.h). */
static void feed(report_walk_sink_t *sink, const test_record_t *rec)
{
    buf_t scratch = BUF_INIT;
    results_index_entry_t e;
    results_index_entry_of_record(rec, MODE_JSON, "", &scratch, &e);
    sink->record(sink->user, &e, 0);
    buf_free(&scratch);
}

static void feed_record(report_walk_sink_t *sink, const char *scope, const char *name,
                        test_status_t status, double duration, bool collection_error)
{
    char *id = recs_node_id(scope, name);
    test_record_t rec = {.scope = scope,
                         .name = name,
                         .node_id = id,
                         .status = status,
                         .duration = duration,
                         .collection_error = collection_error};
    feed(sink, &rec);
    free(id);
}

static void retried_tests_appear_once_with_their_latest_time(void **state)
{
    (void)state;
    results_model_t failed;
    results_model_init(&failed, NULL, 0);
    results_model_track(&failed, "t.py::flaky", NULL, ST_PASSED, NULL, false);
    results_model_track(&failed, "t.py::broken", NULL, ST_FAILED, "x", false);
    char *path = temp_path();
    report_durations_t d;
    char *err = NULL;
    assert_true(report_durations_open(&d, path, &failed, &err));
    report_walk_sink_t sink = report_durations_sink(&d);
    feed_record(&sink, "t.py", "ok", ST_PASSED, 0.5, false);
    feed_record(&sink, "t.py", "flaky", ST_FAILED, 2.0, false); /* attempt 0 */
    feed_record(&sink, "t.py", "broken", ST_FAILED, 1.0, false);
    feed_record(&sink, "t.py", "skipped", ST_SKIPPED, 0.000086, false);
    feed_record(&sink, "t.py", "no_time", ST_PASSED, -1, false); /* no usable time: left out */
    feed_record(&sink, "", "tests/test_bad.py", ST_FAILED, 0.1, true); /* a file, not a test */
    test_record_t junk = {.problem = "not a JSON object", .duration = 3};
    feed(&sink, &junk);
    feed_record(&sink, "t.py", "flaky", ST_PASSED, 0.25, false); /* the retry */
    size_t written = 0;
    assert_true(report_durations_close(&d, &written, &err));
    assert_int_equal(written, 4);
    cJSON *root = load_json(path);
    assert_int_equal(cJSON_GetArraySize(root), 4);
    assert_true(seconds_of(root, "t.py::ok") == 0.5);
    assert_true(seconds_of(root, "t.py::flaky") == 0.25);
    assert_true(seconds_of(root, "t.py::broken") == 1.0);
    assert_true(seconds_of(root, "t.py::skipped") == 0.000086);
    /* each entry once: the text has each key once */
    char *text = fs_read_file(path, NULL);
    assert_non_null(strstr(text, "\"t.py::flaky\""));
    assert_null(strstr(strstr(text, "\"t.py::flaky\"") + 1, "\"t.py::flaky\""));
    free(text);
    cJSON_Delete(root);
    results_model_free(&failed);
    unlink(path);
    free(path);
}

static void any_node_id_stays_valid_json(void **state)
{
    (void)state;
    const char *ids[] = {
        "t.py::test_param[quote'\"s]", "t.py::test_param[back\\slash]",
        "t.py::test_param[tab\tnl\n]", "t.py::test_param[h\xc3\xa9llo \xf0\x9f\x98\x80]",
        "t.py::bad[\xff\xfe\xc3]",     "t.py::overlong[\xc0\xaf\xed\xa0\x80]"};
    const char *want[] = {
        "t.py::test_param[quote'\"s]",
        "t.py::test_param[back\\slash]",
        "t.py::test_param[tab\tnl\n]",
        "t.py::test_param[h\xc3\xa9llo \xf0\x9f\x98\x80]",
        "t.py::bad[\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd]",
        "t.py::overlong[\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd]"};
    char *path = temp_path();
    report_durations_t d;
    char *err = NULL;
    assert_true(report_durations_open(&d, path, NULL, &err));
    for (size_t i = 0; i < 6; i++) report_durations_add(&d, ids[i], (double)i);
    size_t written = 0;
    assert_true(report_durations_close(&d, &written, &err));
    cJSON *root = load_json(path);
    assert_int_equal(cJSON_GetArraySize(root), 6);
    for (size_t i = 0; i < 6; i++) assert_true(seconds_of(root, want[i]) == (double)i);
    cJSON_Delete(root);
    unlink(path);
    free(path);
}

static void empty_file_is_an_empty_object(void **state)
{
    (void)state;
    char *path = temp_path();
    report_durations_t d;
    char *err = NULL;
    assert_true(report_durations_open(&d, path, NULL, &err));
    size_t written = 9;
    assert_true(report_durations_close(&d, &written, &err));
    assert_int_equal(written, 0);
    cJSON *root = load_json(path);
    assert_int_equal(cJSON_GetArraySize(root), 0);
    cJSON_Delete(root);
    unlink(path);
    free(path);
    assert_false(report_durations_open(&d, "/nonexistent-dir/x/durations.json", NULL, &err));
    assert_non_null(strstr(err, "cannot write /nonexistent-dir/x/durations.json"));
    free(err);
}

static void artifact_name_is_plain(void **state)
{
    (void)state;
    config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.job_id = "0190a1b2-c3d4-4e5f-8a9b-0c1d2e3f4a5b";
    char *name = report_durations_name(&cfg);
    assert_string_equal(name,
                        "test-engine-pytest-durations-0190a1b2-c3d4-4e5f-8a9b-0c1d2e3f4a5b.json");
    free(name);
    cfg.job_id = "a/b;c d*";
    name = report_durations_name(&cfg);
    assert_string_equal(name, "test-engine-pytest-durations-a_b_c_d_.json");
    free(name);
    cfg.job_id = "";
    name = report_durations_name(&cfg);
    assert_string_equal(name, "test-engine-pytest-durations-local.json");
    free(name);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(retried_tests_appear_once_with_their_latest_time),
        cmocka_unit_test(any_node_id_stays_valid_json),
        cmocka_unit_test(empty_file_is_an_empty_object),
        cmocka_unit_test(artifact_name_is_plain),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
