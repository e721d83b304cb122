/* report_phase: the report's steps in their order, with a fake agent on a
 * temporary PATH that logs every call (and keeps meta-data, artifacts and
 * annotation bodies) and a run record over a real collector result file:
 *   - the retry selectors (only plain failures) and the annotation come
 *     before the results are streamed: a cancelled job keeps them;
 *   - the durations artifact holds every test of the result file;
 *   - a terminal outcome publishes no selectors, and still annotates;
 *   - a result file run.json names none of is said, not read.
 * Uploads are off (no token): the upload itself is report_upload's test. */
#include "unit.h"
#include "fake_agent.h"
#include "base/fs.h"
#include "report/report_phase.h"
#include "results/results_model.h"
#include "results/results_timing.h"
#include "state/run_record.h"
#include <stdio.h>

static const char *AGENT_SCRIPT = "printf '%s %s\\n' \"$1\" \"$2\" >> \"$D/calls\"\n"
                                  "case \"$1 $2\" in\n"
                                  "'meta-data set') cat > \"$D/md-$3\" ;;\n"
                                  "'artifact upload') cp \"$3\" \"$D/art-$3\" ;;\n"
                                  "annotate*) cat >> \"$D/annotations\" ;;\n"
                                  "*) cat > /dev/null ;;\n"
                                  "esac\n";

/* Two tests passed, one failed (tests/test_b.py::test_no), as the collector writes them. */
static const char *RESULTS =
    "[{\"id\":\"1\",\"scope\":\"tests/test_a.py\",\"name\":\"test_one\",\"location\":\"tests/"
    "test_a.py:1\",\"file_name\":\"tests/"
    "test_a.py\",\"result\":\"passed\",\"history\":{\"section\":"
    "\"top\",\"start_at\":0.1,\"end_at\":0.3,\"duration\":0.2}},"
    "{\"id\":\"2\",\"scope\":\"tests/test_a.py\",\"name\":\"test_two\",\"location\":\"tests/"
    "test_a.py:4\",\"file_name\":\"tests/"
    "test_a.py\",\"result\":\"passed\",\"history\":{\"section\":"
    "\"top\",\"start_at\":0.3,\"end_at\":0.4,\"duration\":0.1}},"
    "{\"id\":\"3\",\"scope\":\"tests/test_b.py\",\"name\":\"test_no\",\"location\":\"tests/"
    "test_b.py:1\",\"file_name\":\"tests/test_b.py\",\"result\":\"failed\",\"failure_reason\":"
    "\"assert 1 == 2\",\"history\":{\"section\":\"top\",\"start_at\":0.4,\"end_at\":0.9,"
    "\"duration\":0.5}}]";

typedef struct {
    agent_fixture_t *agent;
    char state[64];
    run_record_t rec;
} fixture_t;

static void set_field(char **field, const char *value)
{
    free(*field);
    *field = xstrdup(value);
}

static int setup(void **state)
{
    fixture_t *f = xcalloc(1, sizeof *f);
    unsetenv("BUILDKITE_ANALYTICS_TOKEN");
    f->agent = agent_fixture_new(AGENT_SCRIPT);
    config_t *cfg = &f->agent->cfg;
    scratch_dir(f->state, sizeof f->state, "test_report_phase");
    set_field(&cfg->state_dir, f->state);
    set_field(&cfg->step_id, "step-1");
    set_field(&cfg->job_id, "0190-job");
    set_field(&cfg->upload_token, "");
    cfg->parallel_job = 2;
    cfg->parallel_job_count = 4;
    char *results = fs_join(f->state, "results");
    assert_true(fs_mkdirs(results));
    scratch_put(results, "attempt-0.json", RESULTS);
    free(results);

    run_record_t *rec = &f->rec;
    rec->mode = xstrdup("json");
    rec->plan_source = xstrdup("fallback");
    rec->exit_status = (int)cfg->failure_exit_status;
    results_model_init(&rec->result, NULL, 0);
    results_timing_init(&rec->timing);
    rec->n_attempts = 1;
    rec->attempts = xcalloc(1, sizeof *rec->attempts);
    rec->attempts[0].result_file = xstrdup("results/attempt-0.json");
    rec->attempts[0].id_prefix = xstrdup("");
    test_record_t failed = {.scope = "tests/test_b.py",
                            .name = "test_no",
                            .node_id = "tests/test_b.py::test_no",
                            .file = "tests/test_b.py",
                            .status = ST_FAILED,
                            .failure = "assert 1 == 2",
                            .duration = 0.5};
    results_model_add(&rec->result, &failed);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    run_record_free(&f->rec);
    scratch_dir_remove(f->state);
    agent_fixture_free(f->agent);
    free(f);
    return 0;
}

static void run_phase(void *arg)
{
    fixture_t *f = arg;
    report_phase_run(&f->agent->cfg, &f->rec);
}

/* The index of the first line of `calls` that starts with `what`, or -1. */
static int call_index(const char *calls, const char *what)
{
    int i = 0;
    for (const char *line = calls; *line; i++) {
        if (strncmp(line, what, strlen(what)) == 0) return i;
        const char *nl = strchr(line, '\n');
        if (!nl) break;
        line = nl + 1;
    }
    return -1;
}

static void selectors_and_annotation_before_the_results(void **state)
{
    fixture_t *f = *state;
    char *out = scratch_output(SCRATCH_STDOUT, run_phase, f, NULL);
    char *calls = fake_agent_file(&f->agent->agent, "calls");
    int selectors = call_index(calls, "meta-data set");
    int annotation = call_index(calls, "annotate");
    int artifact = call_index(calls, "artifact upload");
    assert_true(selectors >= 0);
    assert_true(annotation > selectors);
    assert_true(artifact > annotation);

    char *md = fake_agent_file(&f->agent->agent, "md-test-engine-pytest:retry-selectors:step-1:2");
    assert_non_null(strstr(md, "count=1\ntests/test_b.py::test_no\n"));
    char *durations =
        fake_agent_file(&f->agent->agent, "art-test-engine-pytest-durations-0190-job.json");
    assert_non_null(strstr(durations, "\"tests/test_a.py::test_one\""));
    assert_non_null(strstr(durations, "\"tests/test_a.py::test_two\""));
    assert_non_null(strstr(durations, "\"tests/test_b.py::test_no\""));
    char *annotations = fake_agent_file(&f->agent->agent, "annotations");
    assert_non_null(strstr(annotations, "test_no"));
    assert_non_null(strstr(out, "Retry selectors: 1 failed test in meta-data"));
    assert_non_null(strstr(out, "Durations: 3 tests uploaded as artifact"));
    free(annotations);
    free(durations);
    free(md);
    free(calls);
    free(out);
}

static void terminal_publishes_no_selectors(void **state)
{
    fixture_t *f = *state;
    f->rec.terminal = true;
    f->rec.exit_status = (int)f->agent->cfg.terminal_exit_status;
    char *out = scratch_output(SCRATCH_STDOUT, run_phase, f, NULL);
    char *calls = fake_agent_file(&f->agent->agent, "calls");
    /* one meta-data key only: its row in the step's table of jobs, no selectors */
    const char *set = strstr(calls, "meta-data set");
    assert_non_null(set);
    assert_null(strstr(set + 1, "meta-data set"));
    char *row = xasprintf("%s/md-test-engine-pytest:time:step-1:2:0:-:0:1:1:l:0190-job",
                          f->agent->agent.dir); /* the record's one failed test */
    assert_true(fs_exists(row));
    free(row);
    assert_true(call_index(calls, "annotate") >= 0);
    assert_non_null(strstr(out, "Retry selectors: none published (terminal outcome"));
    free(calls);
    free(out);
}

static void unnamed_result_file_is_said(void **state)
{
    fixture_t *f = *state;
    free(f->rec.attempts[0].result_file);
    f->rec.attempts[0].result_file = NULL; /* run.json named one outside the state folder */
    char *err = scratch_stderr(run_phase, f, NULL);
    assert_non_null(strstr(err, "run.json names no result file of this run for attempt 0"));
    char *out = scratch_output(SCRATCH_STDOUT, run_phase, f, NULL);
    assert_non_null(strstr(out, "Durations: none recorded"));
    free(out);
    free(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(selectors_and_annotation_before_the_results, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(terminal_publishes_no_selectors, setup, teardown),
        cmocka_unit_test_setup_teardown(unnamed_result_file_is_said, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
