/* Every input the fuzzers (fuzz/, scripts/fuzz) found that broke an
 * invariant, as a unit test that fails without its fix. The raw crash inputs
 * are kept in fuzz/regressions/ and replayed here through the same entry
 * points. */
#include "unit.h"
#include "base/buf.h"
#include "config/config.h"
#include "base/fs.h"
#include "net/oidc.h"
#include "model/plan.h"
#include "net/engine_api.h"
#include "plan/plan_dynamic.h"
#include "plan/plan_json.h"
#include "base/proctree.h"
#include "report/report_upload.h"
#include "report/report_walk.h"
#include "run/run_exit4.h"
#include "results/results_colldetail.h"
#include "results/results_events.h"
#include "pytest/result_mode.h"
#include "pytest/nodeid.h"
#include "state/run_record.h"
#include "scratch.h"
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

static char *read_regression(const char *name, size_t *len)
{
    const char *src = getenv("TEP_SOURCE_DIR");
    char *path = NULL;
    if (asprintf(&path, "%s/fuzz/regressions/%s", src ? src : ".", name) < 0) return NULL;
    char *data = fs_read_file(path, len);
    if (!data) fail_msg("cannot read %s", path);
    free(path);
    return data;
}

/* fuzz_plan: a task key holding a newline ("7\n") went into the one-line
 * "rejected" summary verbatim, splitting it (and letting the server forge
 * log lines). */
static void plan_task_key_with_newline(void **state)
{
    (void)state;
    size_t len = 0;
    char *data = read_regression("plan-newline-in-task-key", &len);
    /* fuzz_plan input: parallelism byte, prefix line, body */
    assert_true(len > 1);
    size_t cut = 1;
    while (cut < len && data[cut] != '\n') cut++;
    assert_true(cut < len);
    data[cut] = '\0';
    const char *body = data + cut + 1;
    plan_t p;
    plan_init(&p, 1 + (unsigned char)data[0] % 16);
    char *err = NULL;
    assert_true(plan_json_parse(&p, body, data + 1, PLAN_JSON_ALL_JOBS, NULL, NULL, &err));
    assert_true(p.rejected.len > 0);
    for (size_t i = 0; i < p.rejected.len; i++)
        if (strpbrk(p.rejected.items[i], "\n\r"))
            fail_msg("rejected entry %zu spans lines: %s", i, p.rejected.items[i]);
    plan_free(&p);
    free(data);

    plan_init(&p, 2);
    assert_true(plan_json_parse(&p, "{\"tasks\":{\"1\\n\\u001b[31m\":{\"tests\":[]}}}", "",
                                PLAN_JSON_ALL_JOBS, NULL, NULL, &err));
    assert_int_equal(p.rejected.len, 1);
    assert_string_equal(p.rejected.items[0], "task '1??[31m' is not a job index below 2");
    plan_free(&p);
}

/* fuzz_run_events: a node id with ":::" made nodeid_junit_key find
 * overlapping separators, compute a negative length and abort the run phase
 * ("out of memory"). Every id the recorder hands out gets its JUnit key. */
static void key_of_id(const run_event_test_t *t, void *user)
{
    char *key = nodeid_junit_key(t->node_id);
    assert_non_null(strchr(key, '\x1f'));
    free(key);
    (*(size_t *)user)++;
}

static void results_events_colon_runs(void **state)
{
    (void)state;
    size_t len = 0;
    char *data = read_regression("run-events-colon-runs", &len);
    size_t seen = 0;
    results_events_scan_t scan;
    results_events_read_text(data, len, NULL, key_of_id, &seen, &scan);
    assert_true(seen > 0);
    results_events_scan_free(&scan);
    char *key = nodeid_junit_key("a.py:::::t");
    assert_non_null(strchr(key, '\x1f'));
    free(key);
    free(data);
}

/* fuzz_run_record: run.json's attempts named any result file, and report
 * read it: "../outside.xml" made it read (and upload) a file outside the state
 * folder, and an attempt with no result file crashed `report` (a NULL path
 * joined to the state folder). Only the run's own result names are kept. */
static size_t walked_records;

static void count_walked(void *user, const results_index_entry_t *rec, int attempt)
{
    (void)user;
    (void)rec;
    (void)attempt;
    walked_records++;
}

static void run_record_foreign_result_file(void **state)
{
    (void)state;
    char dir[64];
    scratch_dir(dir, sizeof dir, "test_fuzz_regressions");
    char *state_dir = fs_join(dir, "state");
    assert_true(fs_mkdirs(state_dir));
    size_t len = 0;
    char *data = read_regression("run-record-foreign-result-file", &len);
    scratch_put(state_dir, "run.json", data);
    /* what "../outside.xml" leads to: one test report would upload */
    scratch_put(dir, "outside.xml",
                "<testsuites><testsuite><testcase classname=\"a\" name=\"t\"/></testsuite>"
                "</testsuites>");
    config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.state_dir = state_dir;
    run_record_t *rec = NULL;
    char *err = NULL;
    assert_true(run_record_read(&cfg, &rec, &err));
    assert_non_null(rec);
    assert_int_equal(rec->n_attempts, 3);
    assert_null(rec->attempts[0].result_file); /* "../outside.xml" */
    assert_null(rec->attempts[1].result_file); /* none */
    assert_string_equal(rec->attempts[2].result_file, "results/attempt-2.xml");
    walked_records = 0;
    report_walk_sink_t sink = {.record = count_walked};
    assert_int_equal(report_walk_run(&cfg, rec, &sink, 1, NULL), 0); /* attempt 2 wrote nothing */
    assert_int_equal(walked_records, 0);
    run_record_delete(rec);
    free(data);
    free(state_dir);
    scratch_dir_remove(dir);
}

/* fuzz_plugin_config: a plugin option's number was converted to an integer
 * before its range was checked: {"timeout": 1e300} is undefined behaviour
 * (UBSan stops the sanitizer build here). It is refused as what it is. */
static void plugin_config_huge_number(void **state)
{
    (void)state;
    size_t len = 0;
    char *data = read_regression("plugin-config-huge-number", &len);
    setenv("BUILDKITE_PLUGIN_CONFIGURATION", data, 1);
    config_t cfg;
    config_load(&cfg);
    unsetenv("BUILDKITE_PLUGIN_CONFIGURATION");
    bool said = false;
    for (size_t i = 0; i < cfg.problems.len; i++)
        said |= strstr(cfg.problems.items[i], "plugin option 'timeout': '1.0000000000000001e+300' "
                                              "is not a whole number") != NULL;
    assert_true(said);
    config_free(&cfg);
    free(data);
}

/* fuzz_api_answers (upload): the shortfall line quoted the server's answer
 * as it came, an HTML error page over several lines: the log got more than
 * one line, and the annotation (which shows a first line) lost the counts at
 * its end. */
static void upload_shortfall_one_line(void **state)
{
    (void)state;
    size_t len = 0;
    char *data = read_regression("upload-shortfall-multiline", &len);
    /* fuzz_api_answers' upload input: selector, batch (2 bytes), end, signal,
     * a 2xx answer, NUL, a failed request's body */
    assert_true(len > 6 && data[0] == 3);
    size_t batch = (unsigned char)data[1] | (size_t)(unsigned char)data[2] << 8;
    const char *answer = data + 5;
    const char *failed = answer + strlen(answer) + 1;
    report_upload_summary_t sum;
    memset(&sum, 0, sizeof sum);
    sum.end = (report_upload_end_t)((unsigned char)data[3] % 7);
    sum.total = batch;
    sum.records = report_upload_read_answer(&sum, answer, strlen(answer), batch);
    assert_int_equal(sum.records, batch - 2); /* "skipped": 2 */
    sum.last_error = xasprintf("HTTP 502: %.200s", failed);
    char *line = report_upload_shortfall(&sum);
    assert_non_null(line);
    assert_null(strchr(line, '\n'));
    assert_non_null(strstr(line, "<html>?<h1>502 Bad Gateway</h1>?</html>"));
    assert_non_null(strstr(line, ": 14 of 16 results sent; 2 not sent"));
    free(line);
    report_upload_summary_free(&sum);
    free(data);
}

/* fuzz_api_answers (dynamic parallelism): the plan's identifier went into
 * the environment `buildkite-agent pipeline upload` interpolates into the
 * pipeline's YAML as it came: a line break in it added steps. */
static void dynamic_identifier_newline(void **state)
{
    (void)state;
    size_t len = 0;
    char *data = read_regression("dynamic-identifier-newline", &len);
    long parallelism = 0;
    char *identifier = NULL, *err = NULL;
    assert_false(plan_dynamic_read_answer(data + 1, &parallelism, &identifier, &err));
    assert_null(identifier);
    assert_string_equal(err, "Invalid Plan: the plan's identifier is not one printable line");
    free(err);
    free(data);
}

/* fuzz_api_answers (plan API): the server's {"message"} became the plan's
 * reason as it came: any size, and over several lines (a forged "+++"
 * section). It is cut and made one printable line. */
static void engine_api_message_newline(void **state)
{
    (void)state;
    size_t len = 0;
    char *data = read_regression("plan-api-message-newline", &len);
    http_response_t r;
    http_response_init(&r);
    r.status = 403; /* fuzz_api_answers' status 6 */
    /* fuzz_api_answers' classify input: selector, status, flags, cache byte,
     * the transport's error line (none), the body */
    const char *nl = memchr(data, '\n', len);
    assert_non_null(nl);
    buf_puts(&r.body, nl + 1);
    engine_api_answer_t a;
    engine_api_classify(&r, false, &a);
    assert_int_equal(a.outcome, ENGINE_API_FATAL);
    assert_null(strchr(a.message, '\n'));
    assert_non_null(strstr(a.message, "Forbidden?+++ test-engine-pytest: all tests passed"));
    engine_api_answer_free(&a);
    buf_reset(&r.body);
    buf_puts(&r.body, "{\"message\":\"");
    for (int i = 0; i < 100000; i++) buf_putc(&r.body, 'x');
    buf_puts(&r.body, "\"}");
    r.status = 422;
    engine_api_classify(&r, false, &a);
    assert_true(strlen(a.message) < 1024);
    engine_api_answer_free(&a);
    http_response_free(&r);
    free(data);
}

/* fuzz_proc_stat: /proc/PID/stat was read up to its first line break, and a
 * process names itself: one named "x) S 1\n" was read as a child of init,
 * so the cancellation never killed it. */
static void proc_stat_newline_in_name(void **state)
{
    (void)state;
    size_t len = 0;
    char *data = read_regression("proc-stat-newline-in-name", &len);
    char *path = scratch_file("tep-proc-stat", data + 1, len - 1);
    pid_t ppid = 0;
    assert_true(proctree_stat_ppid(path, &ppid));
    assert_int_equal(ppid, 777);
    unlink(path);
    free(path);
    free(data);

    /* The same with a real process. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_NAME, "x) S 1\n", 0, 0, 0);
        pause();
        _exit(0);
    }
    char comm_path[64];
    snprintf(comm_path, sizeof comm_path, "/proc/%d/comm", (int)pid);
    double until = fs_monotonic() + 20;
    char *comm = NULL;
    for (;;) { /* the child renames itself after fork */
        free(comm);
        comm = fs_read_file(comm_path, NULL);
        if ((comm && strncmp(comm, "x) S 1\n", 7) == 0) || fs_monotonic() > until) break;
        fs_sleep(0.02);
    }
    assert_non_null(comm);
    assert_memory_equal(comm, "x) S 1\n", 7);
    free(comm);
    size_t found = proctree_signal_descendants(0);
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    assert_int_equal(found, 1);
}

/* fuzz_child_output (OIDC): a token was refused only for a line break: NUL
 * bytes made an empty token, a CR one that splits the Authorization header. */
static void oidc_token_control_bytes(void **state)
{
    (void)state;
    size_t len = 0;
    char *data = read_regression("oidc-token-nul", &len);
    buf_t out = BUF_INIT;
    buf_append(&out, data + 1, len - 1);
    char *token = NULL, *err = NULL;
    assert_false(oidc_read_token(&out, &token, &err));
    assert_null(token);
    assert_string_equal(err, "buildkite-agent printed no single-line token");
    free(err);
    err = NULL;
    buf_reset(&out);
    buf_puts(&out, "eyJhbGciOi.J9\rX-Injected: 1\n");
    assert_false(oidc_read_token(&out, &token, &err));
    free(err);
    err = NULL;
    buf_reset(&out);
    buf_puts(&out, "  eyJhbGciOi.J9.c2ln \n");
    assert_true(oidc_read_token(&out, &token, &err));
    assert_string_equal(token, "eyJhbGciOi.J9.c2ln");
    free(token);
    buf_free(&out);
    free(data);
}

/* fuzz_child_output (probe): a Python that did not answer the probe was
 * quoted by its whole last line: 5,000 bytes and an escape sequence in one
 * warning. */
static void probe_long_last_line(void **state)
{
    (void)state;
    size_t len = 0;
    char *data = read_regression("probe-long-last-line", &len);
    buf_t out = BUF_INIT;
    buf_init(&out);
    buf_append(&out, data + 1, len - 1);
    result_mode_probe_t p;
    memset(&p, 0, sizeof p);
    result_mode_probe_read(&out, &p);
    assert_false(p.answered);
    assert_true(strlen(p.detail) <= 512);
    assert_null(strchr(p.detail, '\x1b'));
    assert_true(strncmp(p.detail, "it answered: xxxx", 17) == 0);
    free(p.detail);
    buf_free(&out);
    free(data);
}

/* fuzz_cause: a <testcase> inside a collection error's <error> left that
 * error open with no testcase: its end read a NULL name (the run phase
 * crashed reading a hostile or broken JUnit file's collection errors). */
static void colldetail_nested_testcase(void **state)
{
    (void)state;
    size_t len = 0;
    char *data = read_regression("colldetail-nested-testcase", &len);
    /* fuzz_cause's input: mode byte, prefix line, the JUnit file */
    char *path = scratch_file("tep-colldetail", data + 2, len - 2);
    results_model_t r;
    results_model_init(&r, NULL, 0);
    results_model_track(&r, "test_x.py", "test_x.py", ST_FAILED, "ImportError while importing",
                        true);
    results_colldetail_fill(MODE_JUNIT, path, "", &r);
    assert_int_equal(r.len, 1);
    assert_non_null(r.tests[0].failure);
    assert_null(strchr(r.tests[0].failure, '\n'));
    results_model_free(&r);
    unlink(path);
    free(path);
    free(data);
}

/* fuzz_exit4: a selector spelled exactly as pytest printed it in "ERROR: not
 * found:" (an absolute path under the directory pytest ran in) was not
 * recognised: only the path made relative to that directory was compared. The
 * fuzzer's input has one selector on its first line and that selector after
 * "ERROR: not found: " further down. */
static void exit4_selector_as_printed(void **state)
{
    (void)state;
    size_t len = 0;
    char *data = read_regression("exit4-selector-as-printed", &len);
    char *nl = memchr(data, '\n', len);
    assert_non_null(nl);
    *nl = '\0';
    strlist_t selectors = STRLIST_INIT;
    strlist_push(&selectors, data);
    assert_ptr_equal(run_exit4_which_selector(&selectors, data, "/builds/acme/shop"),
                     selectors.items[0]);
    strlist_free(&selectors);
    strlist_init(&selectors);
    strlist_push(&selectors, "/builds/acme/shop/tests/test_a.py::test_x");
    strlist_push(&selectors, "tests/test_a.py::test_x");
    assert_ptr_equal(run_exit4_which_selector(&selectors,
                                              "/builds/acme/shop/tests/test_a.py::test_x",
                                              "/builds/acme/shop"),
                     selectors.items[1]); /* the relative spelling, ours, first */
    strlist_free(&selectors);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(results_events_colon_runs),
        cmocka_unit_test(plan_task_key_with_newline),
        cmocka_unit_test(run_record_foreign_result_file),
        cmocka_unit_test(plugin_config_huge_number),
        cmocka_unit_test(upload_shortfall_one_line),
        cmocka_unit_test(dynamic_identifier_newline),
        cmocka_unit_test(engine_api_message_newline),
        cmocka_unit_test(proc_stat_newline_in_name),
        cmocka_unit_test(oidc_token_control_bytes),
        cmocka_unit_test(probe_long_last_line),
        cmocka_unit_test(colldetail_nested_testcase),
        cmocka_unit_test(exit4_selector_as_printed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
