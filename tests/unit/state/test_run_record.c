/* run_record: run.json round trip, its size following the failures (not the
 * suite), and every way it can be unusable: an older format, another
 * version, a damaged or cut file. */
#include "unit.h"
#include "base/buf.h"
#include "config/config.h"
#include "base/fs.h"
#include "records.h"
#include "results/results_model.h"
#include "state/run_record.h"
#include "scratch.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];
static config_t cfg;

static int make_dir(void **state)
{
    (void)state;
    scratch_dir(dir, sizeof dir, "test_run_record");
    memset(&cfg, 0, sizeof cfg);
    cfg.state_dir = dir;
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    scratch_dir_remove(dir);
    return 0;
}

/* 10,000 passing tests and a handful of failures of every kind. */
static void make_record(run_record_t *rec)
{
    memset(rec, 0, sizeof *rec);
    plan_test_ref_t muted[] = {{"m.py", "t_muted"}};
    results_model_init(&rec->result, muted, 1);
    results_timing_init(&rec->timing); /* as the run phase: every record passes by the timing */
    rec->result.observe = results_timing_add_fn;
    rec->result.observe_user = &rec->timing;
    rec->timing.estimate_s = 9.5;
    free(rec->timing.estimate_basis);
    rec->timing.estimate_basis = xstrdup("durations_file");
    rec->timing.with_history = 4;
    rec->timing.entries = 5;
    for (int i = 0; i < 10000; i++) {
        char name[32];
        snprintf(name, sizeof name, "t_%d", i);
        char *id = recs_node_id("ok.py", name);
        test_record_t r = {.scope = "ok.py",
                           .name = name,
                           .node_id = id,
                           .file = "ok.py",
                           .status = i % 10 ? ST_PASSED : ST_SKIPPED,
                           .failure = i % 20 == 0 ? "Skipped: needs network" : NULL,
                           .duration = (i % 1000) / 100.0};
        results_model_add(&rec->result, &r);
        free(id);
    }
    recs_feed(&rec->result, "a.py", "t_flaky", ST_FAILED, "E   AssertionError: first", false);
    recs_feed(&rec->result, "a.py", "t_broken[\"q\" \xc3\xa9]", ST_FAILED,
              "E   ValueError: line one\nmore", false);
    recs_feed(&rec->result, "m.py", "t_muted", ST_FAILED, "E   KeyError: 'k'", false);
    recs_feed(&rec->result, "", "tests/test_bad.py", ST_FAILED,
              "ImportError while importing test module", true);
    recs_feed(&rec->result, "a.py", "t_flaky", ST_PASSED, NULL, false); /* the retry */
    test_record_t bad = {.problem = "not a JSON object", .duration = -1};
    results_model_add(&rec->result, &bad);
    rec->mode = xstrdup("json");
    rec->plan_source = xstrdup("server");
    rec->plan_reason = xstrdup("new plan");
    rec->from_server = true;
    rec->exit_status = 1;
    rec->why = xstrdup("2 tests failed");
    rec->forensics = xstrdup("");
    rec->attempts = xcalloc(2, sizeof(attempt_t));
    rec->attempts[0] = (attempt_t){.index = 0,
                                   .result_file = xstrdup("results/attempt-0.json"),
                                   .exit_code = 1,
                                   .started = 100.5,
                                   .ended = 101.25,
                                   .n_selectors = 7};
    rec->attempts[1] = (attempt_t){.index = 1,
                                   .result_file = xstrdup("results/attempt-1.json"),
                                   .exit_code = 1,
                                   .started = 102,
                                   .ended = 103,
                                   .n_selectors = 3};
    rec->n_attempts = 2;
}

static void round_trip(void **state)
{
    (void)state;
    run_record_t out;
    run_record_t *in = NULL;
    make_record(&out);
    char *err = NULL;
    assert_true(run_record_write(&cfg, &out, &err));
    assert_true(run_record_read(&cfg, &in, &err));
    assert_null(err);
    assert_non_null(in);
    results_model_stats_t a, b;
    results_model_stats(&out.result, &a);
    results_model_stats(&in->result, &b);
    assert_memory_equal(&a, &b, sizeof a);
    assert_int_equal(a.total, 10004);
    assert_int_equal(a.flaky, 1);
    assert_int_equal(a.muted_failed, 1);
    assert_int_equal(in->result.skipped_records, 1);
    assert_int_equal(in->result.len, 4);
    for (size_t i = 0; i < in->result.len; i++) {
        const test_result_t *x = &out.result.tests[i];
        const test_result_t *y = &in->result.tests[i];
        assert_string_equal(x->node_id, y->node_id); /* same order */
        assert_int_equal(x->status, y->status);
        assert_int_equal(x->attempts, y->attempts);
        assert_int_equal(x->failed_before, y->failed_before);
        assert_int_equal(x->muted, y->muted);
        assert_int_equal(x->collection_error, y->collection_error);
        if (x->failure)
            assert_string_equal(x->failure, y->failure);
        else
            assert_null(y->failure);
        if (x->file)
            assert_string_equal(x->file, y->file);
        else
            assert_null(y->file);
    }
    assert_string_equal(results_model_find(&in->result, "a.py::t_broken[\"q\" \xc3\xa9]")->failure,
                        "ValueError: line one");
    assert_string_equal(results_model_find(&in->result, "tests/test_bad.py")->file,
                        "tests/test_bad.py");
    assert_string_equal(in->mode, "json");
    assert_string_equal(in->plan_reason, "new plan");
    assert_true(in->from_server);
    assert_int_equal(in->n_attempts, 2);
    assert_int_equal(in->attempts[0].n_selectors, 7);
    assert_true(in->attempts[0].ended == 101.25);
    assert_string_equal(in->attempts[1].result_file, "results/attempt-1.json");
    /* the timing: estimate, slowest first, the reasons with their counts */
    const results_timing_t *t = &in->timing;
    assert_float_equal(t->estimate_s, 9.5, 1e-9);
    assert_string_equal(t->estimate_basis, "durations_file");
    assert_int_equal(t->with_history, 4);
    assert_int_equal(t->entries, 5);
    assert_int_equal(t->n_slowest, RESULTS_TIMING_SLOWEST);
    results_timing_test_t slow[RESULTS_TIMING_SLOWEST];
    results_timing_slowest(t, slow);
    assert_string_equal(slow[0].node_id, "ok.py::t_1999"); /* ten ties at 9.99 s: by name */
    assert_float_equal(slow[0].seconds, 9.99, 1e-9);
    assert_int_equal(t->skipped, 1000);
    assert_int_equal(t->n_reasons, 2);
    assert_string_equal(t->reasons[0].reason, "needs network");
    assert_int_equal(t->reasons[0].count, 500);
    assert_string_equal(t->reasons[0].example, "ok.py::t_0");
    assert_string_equal(t->reasons[1].reason, "");
    assert_int_equal(t->reasons[1].count, 500);
    assert_int_equal(t->timed, out.timing.timed);
    double first, retries;
    run_record_took(in, &first, &retries);
    assert_float_equal(first, 0.75, 1e-9);
    assert_float_equal(retries, 1.0, 1e-9);
    run_record_delete(in);
    run_record_free(&out);
}

/* 10,004 tests, 4 of them failed: run.json lists the 4, counts the rest. */
static void size_follows_the_failures(void **state)
{
    (void)state;
    run_record_t out;
    make_record(&out);
    char *err = NULL;
    assert_true(run_record_write(&cfg, &out, &err));
    run_record_free(&out);
    char *path = fs_join(dir, "run.json");
    size_t len = 0;
    char *text = fs_read_file(path, &len);
    assert_true(len < 3000);
    cJSON *root = cJSON_Parse(text);
    assert_true(cJSON_IsArray(root));
    assert_int_equal(cJSON_GetArraySize(root), 5);
    cJSON *h = cJSON_GetArrayItem(root, 0);
    assert_int_equal(cJSON_GetObjectItem(h, "version")->valueint, RUN_RECORD_VERSION);
    assert_int_equal(cJSON_GetObjectItem(h, "failures")->valueint, 4);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(h, "counts"), "total")->valueint,
                     10004);
    assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(root, 1), "flaky")));
    cJSON_Delete(root);
    free(text);
    free(path);
}

static void write_run_json(const char *text)
{
    char *path = fs_join(dir, "run.json");
    assert_true(fs_write_file(path, text, strlen(text)));
    free(path);
}

/* Each unusable run.json gives one line naming it and what to do. */
static void unusable_files_are_named(void **state)
{
    (void)state;
    struct {
        const char *text, *said;
    } cases[] = {
        {"{\"version\": 1, \"tests\": []}", "has format version 1, this test-engine-pytest reads "
                                            "version 4; run the command phase with the same"},
        {"[{\"version\": 3}]", "has format version 3, this test-engine-pytest reads version 4"},
        {"[{\"mode\": \"json\"}]", "has no format version"},
        {"[{\"version\": 4, \"failures\": 2}, {\"node_id\": \"a\"}]",
         "lists 1 failed tests but its header says 2; run the command phase again"},
        {"[{\"version\": 4, \"failures\": 1}, {\"node_id\": \"a\"", "is damaged ("},
        {"[{\"version\": 4, \"failures\": 1}, {\"status\": \"failed\"}]",
         "failed test 1 has no node id"},
        {"[]", "is empty"},
        {"[42]", "element 1 is not a JSON object"},
        /* a failed test is cut, not parsed: what cJSON refused is still refused */
        {"[{\"version\": 4, \"failures\": 1}, 42]", "element 2 is not a JSON object"},
        {"[{\"version\": 4, \"failures\": 1}, {\"node_id\": \"a\", \"attempts\": 1x}]",
         "element 2 is not a JSON object"},
        {"[{\"version\": 4, \"failures\": 1}, {\"node_id\": \"a\", \"attempts\": 01}]",
         "element 2 is not a JSON object"},
        {"[{\"version\": 4, \"failures\": 1}, {\"node_id\": \"a\\q\"}]",
         "element 2 is not a JSON object"},
        {"[{\"version\": 4, \"failures\": 1}, {\"node_id\": \"a\", \"muted\": tru}]",
         "element 2 is not a JSON object"},
        {"[{\"version\": 4, \"failures\": 1}, {\"node_id\": \"a\" \"file\": \"b\"}]",
         "element 2 is not a JSON object"},
        {"[{\"version\": 4, \"failures\": 1}, {\"node_id\": \"a\",, \"file\": \"b\"}]",
         "element 2 is not a JSON object"},
        {"[{\"version\": 4, \"failures\": 1}, {\"node_id\": \"a\",}]",
         "element 2 is not a JSON object"},
        {"[{\"version\": 4, \"failures\": 1}, {, \"node_id\": \"a\"}]",
         "element 2 is not a JSON object"},
        {"[{\"version\": 4, \"failures\": 1}, {\"node_id\": 7}]", "failed test 1 has no node id"},
        {"[{\"version\": 4, \"failures\": 1}, {\"node_id\": \"a\\u0000b\"}]",
         "element 2 is not a JSON object"}, /* a selector must be the id, byte for byte */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        write_run_json(cases[i].text);
        run_record_t *rec = NULL;
        char *err = NULL;
        if (run_record_read(&cfg, &rec, &err)) fail_msg("case %zu: taken", i);
        assert_null(rec);
        if (!err || !strstr(err, cases[i].said))
            fail_msg("case %zu: %s", i, err ? err : "(no error)");
        assert_non_null(strstr(err, "run.json"));
        assert_null(strchr(err, '\n'));
        free(err);
    }
    char *path = fs_join(dir, "run.json");
    unlink(path);
    free(path);
    run_record_t *rec = NULL;
    char *err = NULL;
    assert_true(run_record_read(&cfg, &rec, &err)); /* absence is not a failure (err.h) */
    assert_null(rec);
    assert_null(err); /* no run.json: nothing to say here, the caller says it */
}

/* A failed test's members as the reader takes them: escapes decoded, the
 * first of a repeated name, numbers by json_get_long's rule, true only for
 * true, members it does not know (nested ones too) passed over. */
static void failed_test_members(void **state)
{
    (void)state;
    write_run_json(
        "[{\"version\": 4, \"failures\": 3},\n"
        "{\"node_id\": \"a.py::t[\\\"x\\\\\\u0001]\", \"node_id\": \"no\", "
        "\"status\": \"failed\", \"attempts\": 2.9e0, \"muted\": true, "
        "\"failed_before\": 1, \"later\": {\"a\": [1, \"}\"]}, \"cause\": \"E \\u00e9\"},\n"
        "{ \"attempts\" : -3 , \"node_id\" : \"b.py\" , \"collection_error\" : true , "
        "\"file\" : \"b.py\" , \"status\" : \"failed\" }, "
        "{\"node_id\": \"c\", \"attempts\": 1e9, \"cause\": null}]");
    run_record_t *rec = NULL;
    char *err = NULL;
    assert_true(run_record_read(&cfg, &rec, &err));
    assert_null(err);
    assert_int_equal(rec->result.len, 3);
    const test_result_t *a = &rec->result.tests[0], *b = &rec->result.tests[1];
    assert_string_equal(a->node_id, "a.py::t[\"x\\\x01]");
    assert_int_equal(a->status, ST_FAILED);
    assert_int_equal(a->attempts, 2);
    assert_true(a->muted);
    assert_false(a->failed_before);
    assert_false(a->collection_error);
    assert_string_equal(a->failure, "E \xc3\xa9");
    assert_null(a->file); /* kept for a collection error only */
    assert_string_equal(b->node_id, "b.py");
    assert_int_equal(b->attempts, -3);
    assert_true(b->collection_error);
    assert_string_equal(b->file, "b.py");
    assert_int_equal(rec->result.tests[2].attempts, 0); /* out of range */
    assert_null(rec->result.tests[2].failure);
    run_record_delete(rec);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(size_follows_the_failures),
        cmocka_unit_test(unusable_files_are_named),
        cmocka_unit_test(failed_test_members),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
