/* run_truth: one pytest run's verdict from its events and its result file.
 * The result files are real pytest 7.2.1 + collector 1.8.0 outputs
 * (fixtures/conformance/...-real-repos); the events are what the recorder
 * writes for the same runs. Teardown errors the collector records as passed,
 * rerunfailures' records without a result, the stricter verdict, collection
 * errors, a run without events, a killed run, torn events, a damaged result
 * file, and the rootdir prefix on every id. */
#include "unit.h"
#include "scratch.h"
#include "records.h"
#include "results/results.h"
#include "results/results_json.h"
#include "results/results_junit.h"
#include "pytest/nodeid.h"
#include "run/run_truth.h"

#define REAL "fixtures/conformance/pytest-7.2.1-collector-1.8.0-real-repos/"

typedef struct {
    char dir[64];   /* where pytest "ran" (the run's cwd) */
    char *result;   /* dir/result.json or .xml */
    char *events;   /* dir/events.jsonl */
    char *root;     /* pytest's rootdir: dir, or below it */
    strlist_t warn; /* the lines run_truth said */
    results_model_t model;
    run_truth_t out;
} fx_t;

static int setup(void **state)
{
    fx_t *f = xcalloc(1, sizeof *f);
    scratch_dir(f->dir, sizeof f->dir, "tep-truth");
    f->events = fs_join(f->dir, "events.jsonl");
    f->root = xstrdup(f->dir);
    strlist_init(&f->warn);
    results_model_init(&f->model, NULL, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx_t *f = *state;
    run_truth_free(&f->out);
    results_model_free(&f->model);
    strlist_free(&f->warn);
    scratch_dir_remove(f->dir);
    free(f->result);
    free(f->events);
    free(f->root);
    free(f);
    return 0;
}

static void on_warn(void *user, const char *line)
{
    assert_null(strchr(line, '\n'));
    strlist_push(user, line);
}

/* The result file: a copy of a real-repos fixture, or text. */
static void result_from_fixture(fx_t *f, result_mode_t mode, const char *name)
{
    char *src = xasprintf(REAL "%s", name);
    size_t len = 0;
    char *text = fs_read_file(src, &len);
    assert_non_null(text);
    free(f->result);
    f->result = fs_join(f->dir, mode == MODE_JSON ? "result.json" : "result.xml");
    assert_true(fs_write_file(f->result, text, len));
    free(text);
    free(src);
}

static void result_text(fx_t *f, result_mode_t mode, const char *text)
{
    free(f->result);
    f->result = fs_join(f->dir, mode == MODE_JSON ? "result.json" : "result.xml");
    assert_true(fs_write_file(f->result, text, strlen(text)));
}

/* pytest's rootdir `sub` below the run's directory ("" for the same). */
static void rootdir_below(fx_t *f, const char *sub)
{
    free(f->root);
    f->root = *sub ? fs_join(f->dir, sub) : xstrdup(f->dir);
}

/* The events file: the session line (rootdir f->root, invoked in f->dir), then body. */
static void events(fx_t *f, const char *body)
{
    char *text = xasprintf("{\"e\":\"session\",\"rootdir\":\"%s\",\"invocation_dir\":\"%s\","
                           "\"pytest\":\"7.2.1\"}\n%s",
                           f->root, f->dir, body);
    assert_true(fs_write_file(f->events, text, strlen(text)));
    free(text);
}

static void run(fx_t *f, result_mode_t mode, bool with_events, bool killed, bool must_read)
{
    if (!f->result) f->result = fs_join(f->dir, mode == MODE_JSON ? "result.json" : "result.xml");
    run_truth_in_t in = {.mode = mode,
                         .result_path = f->result,
                         .events_path = with_events ? f->events : NULL,
                         .cwd = f->dir,
                         .killed = killed,
                         .must_read = must_read,
                         .model = &f->model,
                         .warn = on_warn,
                         .warn_user = &f->warn};
    run_truth_read(&in, &f->out);
}

static results_model_stats_t stats(const fx_t *f)
{
    results_model_stats_t s;
    results_model_stats(&f->model, &s);
    return s;
}

/* How many warn lines mention `what`. */
static size_t warned(const fx_t *f, const char *what)
{
    size_t n = 0;
    for (size_t i = 0; i < f->warn.len; i++) n += strstr(f->warn.items[i], what) != NULL;
    return n;
}

/* Exactly n warn lines (shown when not). */
static void warn_lines_are(const fx_t *f, size_t n)
{
    if (f->warn.len == n) return;
    for (size_t i = 0; i < f->warn.len; i++) fprintf(stderr, "warn: %s\n", f->warn.items[i]);
    fail_msg("%zu warn lines, not %zu", f->warn.len, n);
}

#define TEARDOWN_EVENTS                                                                            \
    "{\"e\":\"start\",\"id\":\"tests/test_teardown.py::test_teardown_fails\"}\n"                   \
    "{\"e\":\"test\",\"id\":\"tests/test_teardown.py::test_teardown_fails\",\"outcome\":"          \
    "\"failed\",\"when\":\"teardown\",\"msg\":\"E       RuntimeError: teardown exploded\\n\\n"     \
    "tests/test_teardown.py:6: RuntimeError\",\"dur\":0.004,\"tries\":1,\"xfail\":false}\n"        \
    "{\"e\":\"start\",\"id\":\"tests/test_teardown.py::test_plain\"}\n"                            \
    "{\"e\":\"test\",\"id\":\"tests/test_teardown.py::test_plain\",\"outcome\":\"passed\","        \
    "\"when\":\"\",\"msg\":\"\",\"dur\":0.001,\"tries\":1,\"xfail\":false}\n"

/* The collector records a teardown error as passed: counted failed, with one
 * line naming the test and why. */
static void teardown_error_counts_failed_with_one_line(void **state)
{
    fx_t *f = *state;
    result_from_fixture(f, MODE_JSON, "teardown-error.json");
    events(f, TEARDOWN_EVENTS "{\"e\":\"end\",\"status\":1}\n");
    run(f, MODE_JSON, true, false, true);
    assert_true(f->out.recorded);
    assert_int_equal(f->out.finished, 2);
    results_model_stats_t s = stats(f);
    assert_int_equal(s.total, 2);
    assert_int_equal(s.failed, 1);
    assert_int_equal(s.passed_first, 1);
    test_result_t *t = results_model_find(&f->model, "tests/test_teardown.py::test_teardown_fails");
    assert_non_null(t);
    assert_int_equal(t->status, ST_FAILED);
    assert_non_null(strstr(t->failure, "teardown"));
    assert_non_null(strstr(t->failure, "teardown exploded"));
    warn_lines_are(f, 1);
    assert_int_equal(warned(f, "tests/test_teardown.py::test_teardown_fails"), 1);
    assert_int_equal(warned(f, "teardown"), 1);
    assert_int_equal(warned(f, "as passed"), 1);
    assert_null(f->out.unreadable);
    assert_false(f->out.missing);
    assert_int_equal(f->out.salvaged, 0);
}

/* JUnit writes the teardown error itself: both agree, nothing to say. */
static void teardown_error_in_junit_agrees(void **state)
{
    fx_t *f = *state;
    result_from_fixture(f, MODE_JUNIT, "teardown-error.xml");
    events(f, TEARDOWN_EVENTS "{\"e\":\"end\",\"status\":1}\n");
    run(f, MODE_JUNIT, true, false, true);
    results_model_stats_t s = stats(f);
    assert_int_equal(s.total, 2);
    assert_int_equal(s.failed, 1);
    assert_int_equal(s.passed_first, 1);
    warn_lines_are(f, 0);
}

#define RERUN_EVENTS                                                                               \
    "{\"e\":\"start\",\"id\":\"tests/test_rerun.py::test_flaky_then_passes\"}\n"                   \
    "{\"e\":\"start\",\"id\":\"tests/test_rerun.py::test_flaky_then_passes\"}\n"                   \
    "{\"e\":\"test\",\"id\":\"tests/test_rerun.py::test_flaky_then_passes\",\"outcome\":"          \
    "\"passed\",\"when\":\"\",\"msg\":\"\",\"dur\":0.07,\"tries\":2,\"xfail\":false}\n"            \
    "{\"e\":\"start\",\"id\":\"tests/test_rerun.py::test_always_fails\"}\n"                        \
    "{\"e\":\"start\",\"id\":\"tests/test_rerun.py::test_always_fails\"}\n"                        \
    "{\"e\":\"start\",\"id\":\"tests/test_rerun.py::test_always_fails\"}\n"                        \
    "{\"e\":\"test\",\"id\":\"tests/test_rerun.py::test_always_fails\",\"outcome\":\"failed\","    \
    "\"when\":\"call\",\"msg\":\"E       AssertionError: always\",\"dur\":0.01,\"tries\":3,"       \
    "\"xfail\":false}\n"                                                                           \
    "{\"e\":\"start\",\"id\":\"tests/test_rerun.py::test_plain\"}\n"                               \
    "{\"e\":\"test\",\"id\":\"tests/test_rerun.py::test_plain\",\"outcome\":\"passed\","           \
    "\"when\":\"\",\"msg\":\"\",\"dur\":0.001,\"tries\":1,\"xfail\":false}\n"                      \
    "{\"e\":\"end\",\"status\":1}\n"

/* pytest-rerunfailures: six collector records without a result are three
 * tests: one flaky, one failed (named once), one passed. */
static void rerun_records_without_result_count_once(void **state)
{
    fx_t *f = *state;
    result_from_fixture(f, MODE_JSON, "rerunfailures.json");
    events(f, RERUN_EVENTS);
    run(f, MODE_JSON, true, false, true);
    results_model_stats_t s = stats(f);
    assert_int_equal(s.total, 3);
    assert_int_equal(s.flaky, 1);
    assert_int_equal(s.failed, 1);
    assert_int_equal(s.passed_first, 1);
    assert_int_equal(s.unknown, 0);
    test_result_t *flaky =
        results_model_find(&f->model, "tests/test_rerun.py::test_flaky_then_passes");
    assert_non_null(flaky);
    assert_true(results_model_is_flaky(flaky));
    test_result_t *bad = results_model_find(&f->model, "tests/test_rerun.py::test_always_fails");
    assert_non_null(bad);
    assert_int_equal(bad->status, ST_FAILED);
    assert_non_null(strstr(bad->failure, "always"));
    assert_int_equal(warned(f, "test_always_fails"), 1);
    assert_int_equal(warned(f, "test_flaky_then_passes"), 0);
    assert_int_equal(warned(f, "test_plain"), 0);
}

static void rerun_in_junit(void **state)
{
    fx_t *f = *state;
    result_from_fixture(f, MODE_JUNIT, "rerunfailures.xml");
    events(f, RERUN_EVENTS);
    run(f, MODE_JUNIT, true, false, true);
    results_model_stats_t s = stats(f);
    assert_int_equal(s.total, 3);
    assert_int_equal(s.flaky, 1);
    assert_int_equal(s.failed, 1);
    assert_int_equal(s.passed_first, 1);
    warn_lines_are(f, 0);
}

/* The result file says failed, pytest's reports do not: failed wins, and the
 * test is still one test. */
static void stricter_verdict_wins(void **state)
{
    fx_t *f = *state;
    result_text(f, MODE_JSON,
                "[{\"id\":\"1\",\"scope\":\"tests/t.py\",\"name\":\"test_a\",\"file_name\":"
                "\"tests/t.py\",\"result\":\"failed\",\"failure_reason\":\"boom\"},"
                "{\"id\":\"2\",\"scope\":\"tests/t.py\",\"name\":\"test_b\",\"file_name\":"
                "\"tests/t.py\",\"result\":\"passed\"}]");
    events(f, "{\"e\":\"test\",\"id\":\"tests/t.py::test_a\",\"outcome\":\"passed\"}\n"
              "{\"e\":\"test\",\"id\":\"tests/t.py::test_b\",\"outcome\":\"passed\"}\n"
              "{\"e\":\"end\",\"status\":1}\n");
    run(f, MODE_JSON, true, false, true);
    test_result_t *t = results_model_find(&f->model, "tests/t.py::test_a");
    assert_non_null(t);
    assert_int_equal(t->status, ST_FAILED);
    warn_lines_are(f, 1);
    assert_int_equal(warned(f, "tests/t.py::test_a"), 1);
    results_model_stats_t s = stats(f);
    assert_int_equal(s.failed, 1);
    assert_int_equal(s.flaky, 0);
    assert_int_equal(s.passed_first, 1); /* test_b only */
    assert_int_equal(s.total, 2);
}

/* Collection errors count from the result file (the terminal signal), once,
 * not again from the events. */
static void collection_errors_come_from_the_result_file(void **state)
{
    fx_t *f = *state;
    result_text(f, MODE_JSON,
                "[{\"id\":\"1\",\"scope\":\"\",\"name\":\"tests/test_broken.py\",\"file_name\":"
                "\"tests/test_broken.py\",\"result\":\"failed\",\"failure_reason\":\"ImportError\","
                "\"tags\":{\"test.pytest_collection_error\":\"true\"}},"
                "{\"id\":\"2\",\"scope\":\"tests/t.py\",\"name\":\"test_a\",\"file_name\":"
                "\"tests/t.py\",\"result\":\"passed\"}]");
    events(f, "{\"e\":\"collect_error\",\"id\":\"tests/test_broken.py\",\"msg\":\"E   "
              "ImportError: x\"}\n"
              "{\"e\":\"collect_error\",\"id\":\"tests/test_other_broken.py\",\"msg\":\"x\"}\n"
              "{\"e\":\"test\",\"id\":\"tests/t.py::test_a\",\"outcome\":\"passed\"}\n"
              "{\"e\":\"end\",\"status\":1}\n");
    run(f, MODE_JSON, true, false, true);
    results_model_stats_t s = stats(f);
    assert_int_equal(s.collection_errors, 1); /* the result file's, not the events' two */
    assert_int_equal(s.passed_first, 1);
    test_result_t *t = results_model_find(&f->model, "tests/test_broken.py");
    assert_non_null(t);
    assert_true(t->collection_error);
    assert_null(results_model_find(&f->model, "tests/test_other_broken.py"));
}

/* No events: the result file alone, each record's prefix from its file_name. */
static void without_events_the_result_file_alone(void **state)
{
    fx_t *f = *state;
    result_from_fixture(f, MODE_JSON, "monorepo-rootdir.json");
    run(f, MODE_JSON, false, false, true);
    assert_false(f->out.recorded);
    results_model_stats_t s = stats(f);
    assert_int_equal(s.total, 2);
    assert_int_equal(s.failed, 1);
    assert_int_equal(s.passed_first, 1);
    assert_non_null(results_model_find(&f->model, "services/api/tests/test_api.py::test_bad"));
    assert_null(results_model_find(&f->model, "tests/test_api.py::test_bad"));
    warn_lines_are(f, 0);
}

/* Without events a collection error (empty scope) takes its prefix from its
 * name against its file_name. */
static void without_events_a_collection_error_gets_its_prefix(void **state)
{
    fx_t *f = *state;
    result_text(f, MODE_JSON,
                "[{\"id\":\"1\",\"scope\":\"\",\"name\":\"tests/test_broken.py\",\"file_name\":"
                "\"services/api/tests/test_broken.py\",\"result\":\"failed\",\"failure_reason\":"
                "\"E   ImportError: x\",\"tags\":{\"test.pytest_collection_error\":\"true\"}}]");
    run(f, MODE_JSON, false, false, true);
    results_model_stats_t s = stats(f);
    assert_int_equal(s.collection_errors, 1);
    test_result_t *t = results_model_find(&f->model, "services/api/tests/test_broken.py");
    assert_non_null(t);
    assert_true(t->collection_error);
}

/* A file name that is not UTF-8: the collector writes \udcXX, pytest's
 * reports too; both read back to the same bytes, so they agree. */
static void non_utf8_ids_stay_exact(void **state)
{
    fx_t *f = *state;
    result_text(f, MODE_JSON,
                "[{\"id\":\"1\",\"scope\":\"tests/test_latin1_\\udce9.py\",\"name\":\"test_x\","
                "\"file_name\":\"tests/test_latin1_\\udce9.py\",\"result\":\"failed\","
                "\"failure_reason\":\"assert False\"}]");
    events(f, "{\"e\":\"test\",\"id\":\"tests/test_latin1_\\udce9.py::test_x\",\"outcome\":"
              "\"failed\",\"when\":\"call\",\"msg\":\"E   assert False\"}\n"
              "{\"e\":\"end\",\"status\":1}\n");
    run(f, MODE_JSON, true, false, true);
    assert_int_equal(f->model.len, 1);
    assert_string_equal(f->model.tests[0].node_id, "tests/test_latin1_\xe9.py::test_x");
    results_model_stats_t s = stats(f);
    assert_int_equal(s.total, 1);
    assert_int_equal(s.failed, 1);
    warn_lines_are(f, 0);
}

/* An events file the recorder never wrote is the same as none. */
static void absent_events_file_is_no_events(void **state)
{
    fx_t *f = *state;
    result_from_fixture(f, MODE_JSON, "teardown-error.json");
    run(f, MODE_JSON, true, false, true); /* f->events was never written */
    assert_false(f->out.recorded);
    results_model_stats_t s = stats(f);
    assert_int_equal(s.passed_first, 2); /* what the collector says, nothing better known */
    assert_int_equal(s.failed, 0);
}

/* Events with tests, without an end, from a pytest not killed: the recorder
 * lost its file; the result file alone, and a line saying so. */
static void torn_events_fall_back_to_the_result_file(void **state)
{
    fx_t *f = *state;
    result_from_fixture(f, MODE_JSON, "teardown-error.json");
    events(f, TEARDOWN_EVENTS); /* no end line */
    run(f, MODE_JSON, true, false, true);
    assert_false(f->out.recorded);
    warn_lines_are(f, 1);
    assert_int_equal(warned(f, "result file alone"), 1);
    results_model_stats_t s = stats(f);
    assert_int_equal(s.passed_first, 2);
    assert_int_equal(s.failed, 0);
}

#define KILLED_EVENTS                                                                              \
    "{\"e\":\"start\",\"id\":\"tests/test_api.py::test_ok\"}\n"                                    \
    "{\"e\":\"test\",\"id\":\"tests/test_api.py::test_ok\",\"outcome\":\"passed\",\"dur\":0.5}\n"  \
    "{\"e\":\"start\",\"id\":\"tests/test_api.py::test_bad\"}\n"                                   \
    "{\"e\":\"test\",\"id\":\"tests/test_api.py::test_bad\",\"outcome\":\"failed\",\"when\":"      \
    "\"call\",\"msg\":\"E   assert False\"}\n"                                                     \
    "{\"e\":\"start\",\"id\":\"tests/test_api.py::test_big_arrays\"}\n"                            \
    "{\"e\":\"test\",\"id\":\"tests/test_api.py::test_t"

/* A killed pytest wrote no result file: it is written from the events, the
 * finished tests counted, the running one named; ids carry the prefix. */
static void killed_run_is_salvaged(void **state)
{
    fx_t *f = *state;
    for (int mode = 0; mode < 2; mode++) {
        result_mode_t m = mode ? MODE_JUNIT : MODE_JSON;
        results_model_free(&f->model);
        results_model_init(&f->model, NULL, 0);
        run_truth_free(&f->out);
        free(f->result);
        f->result = NULL;
        rootdir_below(f, "services/api");
        events(f, KILLED_EVENTS);
        run(f, m, true, true, false);
        assert_true(f->out.recorded);
        assert_string_equal(f->out.prefix, "services/api/");
        assert_int_equal(f->out.finished, 2);
        assert_int_equal(f->out.salvaged, 2);
        assert_false(f->out.missing);
        assert_null(f->out.unreadable);
        assert_string_equal(f->out.pytest_version, "7.2.1");
        results_model_stats_t s = stats(f);
        assert_int_equal(s.total, 2);
        assert_int_equal(s.failed, 1);
        assert_int_equal(s.passed_first, 1);
        assert_non_null(results_model_find(&f->model, "services/api/tests/test_api.py::test_bad"));

        recs_t rs = {0};
        char *err = NULL;
        assert_true(results_read_file(m, f->result, recs_collect, &rs, NULL, NULL, &err));
        assert_null(err);
        assert_int_equal(rs.len, 2);
        assert_int_equal(rs.problems, 0);
        assert_string_equal(rs.v[1].node_id, "tests/test_api.py::test_bad");
        assert_int_equal(rs.v[1].status, ST_FAILED);
        if (m == MODE_JSON) { /* a collector file tells its prefix by itself */
            char *id = nodeid_of_record(rs.v[1].scope, rs.v[1].name, rs.v[1].file, rs.v[1].node_id,
                                        true, NULL);
            assert_string_equal(id, "services/api/tests/test_api.py::test_bad");
            free(id);
        }
        recs_free(&rs);
        unlink(f->result);
    }
}

/* The test a killed pytest was running is named as it runs from here. */
static void killed_run_names_the_running_test_with_the_prefix(void **state)
{
    fx_t *f = *state;
    rootdir_below(f, "services/api");
    events(f, KILLED_EVENTS);
    run(f, MODE_JSON, true, true, false);
    assert_int_equal(f->out.running.len, 1);
    assert_int_equal(f->out.running_more, 0);
    assert_string_equal(f->out.running.items[0], "services/api/tests/test_api.py::test_big_arrays");
}

/* A killed run whose events stop before any test: an empty result file, no
 * test invented. */
static void killed_before_any_test(void **state)
{
    fx_t *f = *state;
    events(f, "{\"e\":\"start\",\"id\":\"tests/t.py::test_first\"}\n");
    run(f, MODE_JSON, true, true, false);
    assert_true(f->out.recorded);
    assert_int_equal(f->out.finished, 0);
    assert_int_equal(f->out.salvaged, 0);
    assert_int_equal(f->out.running.len, 1);
    results_model_stats_t s = stats(f);
    assert_int_equal(s.total, 0);
    assert_int_equal(fixture_json_elements(f->result), 0);
}

static const char DAMAGED_JSON[] = "[{\"id\": \"39d1d311\", \"scope\": \"tests/test_teardown.py\", "
                                   "\"name\": \"test_teardown_fails\", \"res";

/* pytest finished and its reports are whole, but the file it wrote is
 * damaged: written again from the reports, with a line saying so. */
static void damaged_result_file_is_rewritten_from_events(void **state)
{
    fx_t *f = *state;
    result_text(f, MODE_JSON, DAMAGED_JSON);
    events(f, TEARDOWN_EVENTS "{\"e\":\"end\",\"status\":1}\n");
    run(f, MODE_JSON, true, false, true);
    assert_true(f->out.recorded);
    assert_null(f->out.unreadable);
    assert_int_equal(f->out.salvaged, 2);
    assert_int_equal(warned(f, "written into it again"), 1);
    results_model_stats_t s = stats(f);
    assert_int_equal(s.total, 2);
    assert_int_equal(s.failed, 1);
    assert_int_equal(s.passed_first, 1);
    recs_t rs = {0};
    char *err = NULL;
    assert_true(results_read_file(MODE_JSON, f->result, recs_collect, &rs, NULL, NULL, &err));
    assert_int_equal(rs.len, 2);
    assert_int_equal(rs.v[0].status, ST_FAILED); /* the teardown error, as pytest reported it */
    recs_free(&rs);
}

/* The same in a monorepo: the rewritten file's file_name starts with the
 * rootdir's path, like the collector's own, so its ids run from here. */
static void damaged_result_file_is_rewritten_with_the_prefix(void **state)
{
    fx_t *f = *state;
    rootdir_below(f, "services/api");
    result_text(f, MODE_JSON, DAMAGED_JSON);
    events(f, TEARDOWN_EVENTS "{\"e\":\"end\",\"status\":1}\n");
    run(f, MODE_JSON, true, false, true);
    assert_int_equal(f->out.salvaged, 2);
    assert_non_null(
        results_model_find(&f->model, "services/api/tests/test_teardown.py::test_teardown_fails"));
    recs_t rs = {0};
    char *err = NULL;
    assert_true(results_read_file(MODE_JSON, f->result, recs_collect, &rs, NULL, NULL, &err));
    assert_int_equal(rs.len, 2);
    assert_string_equal(rs.v[0].file, "services/api/tests/test_teardown.py");
    recs_free(&rs);
}

/* What pytest 7.2.1's JUnit writer leaves when a file name is not UTF-8: the
 * XML declaration alone (it fails encoding the rest). Written again from the
 * events; the model keeps the exact bytes. */
static void junit_writer_failure_is_rewritten_from_events(void **state)
{
    fx_t *f = *state;
    result_text(f, MODE_JUNIT, "<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    events(f, "{\"e\":\"test\",\"id\":\"tests/test_latin1_\\udce9.py::test_latin\",\"outcome\":"
              "\"failed\",\"when\":\"call\",\"msg\":\"E   assert 0\"}\n"
              "{\"e\":\"test\",\"id\":\"tests/test_all.py::test_pass\",\"outcome\":\"passed\"}\n"
              "{\"e\":\"end\",\"status\":1}\n");
    run(f, MODE_JUNIT, true, false, true);
    assert_null(f->out.unreadable);
    assert_int_equal(f->out.salvaged, 2);
    assert_int_equal(warned(f, "written into it again"), 1);
    assert_int_equal(f->model.len, 1);
    assert_string_equal(f->model.tests[0].node_id, "tests/test_latin1_\xe9.py::test_latin");
    results_model_stats_t s = stats(f);
    assert_int_equal(s.total, 2);
    assert_int_equal(s.failed, 1);
    recs_t rs = {0};
    char *err = NULL;
    assert_true(results_read_file(MODE_JUNIT, f->result, recs_collect, &rs, NULL, NULL, &err));
    assert_int_equal(rs.len, 2);
    assert_int_equal(rs.problems, 0);
    recs_free(&rs);
}

/* A damaged file without whole events cannot be rewritten: unreadable, said once. */
static void damaged_result_file_without_events_is_unreadable(void **state)
{
    fx_t *f = *state;
    result_text(f, MODE_JSON, DAMAGED_JSON);
    run(f, MODE_JSON, false, false, true);
    assert_non_null(f->out.unreadable);
    assert_null(strchr(f->out.unreadable, '\n'));
    assert_true(fs_exists(f->result)); /* pytest's file is left as it is */
}

/* A pytest that had to write a result file and did not. */
static void missing_result_file(void **state)
{
    fx_t *f = *state;
    run(f, MODE_JSON, false, false, true);
    assert_true(f->out.missing);
    assert_false(fs_exists(f->result)); /* nothing invented without events */
}

/* Every id in the model runs from where pytest ran, in both modes. */
static void rootdir_prefix_on_every_id(void **state)
{
    fx_t *f = *state;
    const char *body = "{\"e\":\"test\",\"id\":\"tests/test_api.py::test_ok\",\"outcome\":"
                       "\"passed\"}\n"
                       "{\"e\":\"test\",\"id\":\"tests/test_api.py::test_bad\",\"outcome\":"
                       "\"failed\",\"when\":\"call\",\"msg\":\"E       assert False\"}\n"
                       "{\"e\":\"end\",\"status\":1}\n";
    for (int mode = 0; mode < 2; mode++) {
        result_mode_t m = mode ? MODE_JUNIT : MODE_JSON;
        results_model_free(&f->model);
        results_model_init(&f->model, NULL, 0);
        run_truth_free(&f->out);
        result_from_fixture(f, m,
                            m == MODE_JSON ? "monorepo-rootdir.json" : "monorepo-rootdir.xml");
        rootdir_below(f, "services/api");
        events(f, body);
        run(f, m, true, false, true);
        assert_true(f->out.recorded);
        assert_string_equal(f->out.prefix, "services/api/");
        results_model_stats_t s = stats(f);
        assert_int_equal(s.total, 2);
        assert_int_equal(s.failed, 1);
        assert_int_equal(f->model.len, 1);
        assert_string_equal(f->model.tests[0].node_id, "services/api/tests/test_api.py::test_bad");
        warn_lines_are(f, 0);
    }
}

/* Only the result file can speak (JUnit, no events): the attempt has no
 * prefix to give, so the ids stay as JUnit rebuilds them. */
static void junit_without_events_keeps_its_ids(void **state)
{
    fx_t *f = *state;
    result_from_fixture(f, MODE_JUNIT, "monorepo-rootdir.xml");
    run(f, MODE_JUNIT, false, false, true);
    assert_string_equal(f->out.prefix, "");
    assert_int_equal(f->model.len, 1);
    assert_string_equal(f->model.tests[0].node_id, "tests/test_api.py::test_bad");
}

/* An xdist worker that died running a test: failed, and said so. */
static void xdist_worker_crash_is_a_failure(void **state)
{
    fx_t *f = *state;
    result_text(f, MODE_JSON,
                "[{\"id\":\"1\",\"scope\":\"tests/t.py\",\"name\":\"test_ok\",\"file_name\":"
                "\"tests/t.py\",\"result\":\"passed\"}]");
    events(f, "{\"e\":\"test\",\"id\":\"tests/t.py::test_ok\",\"outcome\":\"passed\"}\n"
              "{\"e\":\"test\",\"id\":\"tests/t.py::test_dies\",\"outcome\":\"failed\",\"when\":"
              "\"???\",\"msg\":\"worker 'gw0' crashed while running 'tests/t.py::test_dies'\"}\n"
              "{\"e\":\"end\",\"status\":1}\n");
    run(f, MODE_JSON, true, false, true);
    test_result_t *t = results_model_find(&f->model, "tests/t.py::test_dies");
    assert_non_null(t);
    assert_int_equal(t->status, ST_FAILED);
    assert_non_null(strstr(t->failure, "xdist worker"));
    results_model_stats_t s = stats(f);
    assert_int_equal(s.total, 2);
    assert_int_equal(s.failed, 1);
}

/* Events whose session names a rootdir outside the run's directory: said in
 * one line, ids kept as pytest printed them. Likewise a pytest that ran
 * somewhere else. */
static void rootdir_outside_and_elsewhere_are_said(void **state)
{
    fx_t *f = *state;
    result_from_fixture(f, MODE_JSON, "teardown-error.json");
    char *text = xasprintf("{\"e\":\"session\",\"rootdir\":\"/nonexistent/elsewhere\","
                           "\"invocation_dir\":\"/nonexistent/other\"}\n%s"
                           "{\"e\":\"end\",\"status\":1}\n",
                           TEARDOWN_EVENTS);
    assert_true(fs_write_file(f->events, text, strlen(text)));
    free(text);
    run(f, MODE_JSON, true, false, true);
    assert_string_equal(f->out.prefix, "");
    assert_int_equal(warned(f, "/nonexistent/elsewhere"), 1);
    assert_int_equal(warned(f, "/nonexistent/other"), 1);
    assert_non_null(results_model_find(&f->model, "tests/test_teardown.py::test_teardown_fails"));
}

/* Events with a session and an end but no test (a plugin swallowing the
 * hooks) cannot speak for the result file's tests. */
static void events_without_tests_leave_the_result_file(void **state)
{
    fx_t *f = *state;
    result_from_fixture(f, MODE_JSON, "monorepo-rootdir.json");
    rootdir_below(f, "services/api");
    events(f, "{\"e\":\"end\",\"status\":1}\n");
    run(f, MODE_JSON, true, false, true);
    results_model_stats_t s = stats(f);
    assert_int_equal(s.total, 2);
    assert_int_equal(s.failed, 1);
    assert_non_null(results_model_find(&f->model, "services/api/tests/test_api.py::test_bad"));
}

/* More disagreements than the cap: the first few named, the rest in one line. */
static void many_disagreements_are_capped(void **state)
{
    fx_t *f = *state;
    buf_t res = BUF_INIT, ev = BUF_INIT;
    buf_puts(&res, "[");
    for (int i = 0; i < 20; i++) {
        buf_printf(&res,
                   "%s{\"id\":\"%d\",\"scope\":\"tests/t.py\",\"name\":\"test_%d\",\"file_name\":"
                   "\"tests/t.py\",\"result\":\"passed\"}",
                   i ? "," : "", i, i);
        buf_printf(&ev,
                   "{\"e\":\"test\",\"id\":\"tests/t.py::test_%d\",\"outcome\":\"failed\","
                   "\"when\":\"teardown\",\"msg\":\"E   x\"}\n",
                   i);
    }
    buf_puts(&res, "]");
    buf_puts(&ev, "{\"e\":\"end\",\"status\":1}\n");
    result_text(f, MODE_JSON, res.data);
    events(f, ev.data);
    run(f, MODE_JSON, true, false, true);
    results_model_stats_t s = stats(f);
    assert_int_equal(s.failed, 20);
    assert_int_equal(s.total, 20);
    assert_true(f->warn.len <= 6);
    assert_int_equal(warned(f, "15 more"), 1);
    buf_free(&res);
    buf_free(&ev);
}

static void peek_is(const char *text, bool session, bool ended)
{
    char *path = scratch_file("tep-peek", text, strlen(text));
    bool s = !session, e = !ended;
    run_truth_peek_events(path, &s, &e);
    assert_int_equal(s, session);
    assert_int_equal(e, ended);
    unlink(path);
    free(path);
}

static void peek_events(void **state)
{
    (void)state;
    const char *session = "{\"e\":\"session\",\"rootdir\":\"/r\",\"invocation_dir\":\"/r\"}\n";
    const char *end = "{\"e\":\"end\",\"status\":0}\n";
    char *whole = xasprintf("%s%s", session, end);
    peek_is(whole, true, true);
    free(whole);
    peek_is(session, true, false);
    peek_is(end, false, true);
    peek_is("", false, false);
    char *end_then_more = xasprintf("%s%s{\"e\":\"test\",\"id\":\"t\"}\n", session, end);
    peek_is(end_then_more, true, false);
    free(end_then_more);
    /* a long file: the end is found in its tail */
    buf_t b = BUF_INIT;
    buf_puts(&b, session);
    for (int i = 0; i < 2000; i++)
        buf_printf(&b, "{\"e\":\"test\",\"id\":\"t.py::test_%d\",\"outcome\":\"passed\"}\n", i);
    buf_puts(&b, end);
    buf_puts(&b, "\n\n");
    peek_is(b.data, true, true);
    buf_free(&b);
    bool s = true, e = true;
    run_truth_peek_events("/nonexistent/events.jsonl", &s, &e);
    assert_false(s);
    assert_false(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_test_fixture(teardown_error_counts_failed_with_one_line),
        unit_test_fixture(teardown_error_in_junit_agrees),
        unit_test_fixture(rerun_records_without_result_count_once),
        unit_test_fixture(rerun_in_junit),
        unit_test_fixture(stricter_verdict_wins),
        unit_test_fixture(collection_errors_come_from_the_result_file),
        unit_test_fixture(without_events_the_result_file_alone),
        unit_test_fixture(without_events_a_collection_error_gets_its_prefix),
        unit_test_fixture(non_utf8_ids_stay_exact),
        unit_test_fixture(absent_events_file_is_no_events),
        unit_test_fixture(torn_events_fall_back_to_the_result_file),
        unit_test_fixture(killed_run_is_salvaged),
        unit_test_fixture(killed_run_names_the_running_test_with_the_prefix),
        unit_test_fixture(killed_before_any_test),
        unit_test_fixture(damaged_result_file_is_rewritten_from_events),
        unit_test_fixture(damaged_result_file_is_rewritten_with_the_prefix),
        unit_test_fixture(junit_writer_failure_is_rewritten_from_events),
        unit_test_fixture(damaged_result_file_without_events_is_unreadable),
        unit_test_fixture(missing_result_file),
        unit_test_fixture(rootdir_prefix_on_every_id),
        unit_test_fixture(junit_without_events_keeps_its_ids),
        unit_test_fixture(xdist_worker_crash_is_a_failure),
        unit_test_fixture(rootdir_outside_and_elsewhere_are_said),
        unit_test_fixture(events_without_tests_leave_the_result_file),
        unit_test_fixture(many_disagreements_are_capped),
        cmocka_unit_test(peek_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
