/* run_promise: when an early failure is due, and the call to a fake
 * `buildkite-agent` on a temp PATH (it notes its arguments and exits as
 * told): the exact command, and one warning line for an agent that fails or
 * cannot start. run.json is written and read through run_record. */
#include "unit.h"
#include "base/buf.h"
#include "config/config.h"
#include "base/fs.h"
#include "records.h"
#include "run/run_promise.h"
#include "fake_agent.h"
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static fake_agent_t agent;
static char args_file[96]; /* the fake agent notes its arguments here */
static config_t cfg;

static int setup(void **state)
{
    (void)state;
    fake_agent_install(
        &agent, "printf '%s|' \"$@\" > \"$D/agent-args\"\nexit \"${TEP_FAKE_AGENT_EXIT:-0}\"\n");
    snprintf(args_file, sizeof args_file, "%s/agent-args", agent.dir);
    memset(&cfg, 0, sizeof cfg);
    cfg.state_dir = agent.dir;
    cfg.agent_cmd = "buildkite-agent";
    cfg.promise_failure = true;
    cfg.failure_exit_status = 1;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    fake_agent_remove(&agent);
    return 0;
}

/* A test whose node id is `id`, as a parser hands it out. */
static void add_record(results_model_t *r, const char *id, test_status_t st, bool collection_error)
{
    recs_feed(r, "", id, st, NULL, collection_error);
}

/* A record with `failed` hard failures, one muted failure, one pass. */
static void make_record(run_record_t *rec, size_t failed)
{
    memset(rec, 0, sizeof *rec);
    plan_test_ref_t muted[] = {{"", "tests/m.py::t"}};
    results_model_init(&rec->result, muted, 1);
    add_record(&rec->result, "tests/m.py::t", ST_FAILED, false);
    add_record(&rec->result, "tests/a.py::ok", ST_PASSED, false);
    for (size_t i = 0; i < failed; i++) {
        char id[32];
        snprintf(id, sizeof id, "tests/a.py::t%zu", i);
        add_record(&rec->result, id, ST_FAILED, false);
    }
    rec->mode = xstrdup("json");
    rec->plan_source = xstrdup("fallback");
    rec->plan_reason = xstrdup("test");
    rec->why = xstrdup("why");
}

static void write_run_json(size_t failed, int exit_status)
{
    run_record_t rec;
    make_record(&rec, failed);
    rec.exit_status = exit_status;
    char *err = NULL;
    assert_true(run_record_write(&cfg, &rec, &err));
    run_record_free(&rec);
}

/* Calls run_promise_failure_if_needed with stdout and stderr in a temp
 * file; returns what was printed. */
static void call_promise(void *status)
{
    run_promise_failure_if_needed(&cfg, *(int *)status);
}

static char *promise_printed(int status)
{
    unlink(args_file);
    return scratch_output(SCRATCH_STDOUT | SCRATCH_STDERR, call_promise, &status, NULL);
}

static void failures_due(void **state)
{
    (void)state;
    run_record_t rec;
    make_record(&rec, 2);
    assert_int_equal(run_promise_failures_due(&cfg, &rec, 1), 2);
    assert_int_equal(run_promise_failures_due(&cfg, &rec, 65), 0); /* not the failure status */
    rec.terminal = true;
    assert_int_equal(run_promise_failures_due(&cfg, &rec, 1), 0);
    rec.terminal = false;
    cfg.promise_failure = false;
    assert_int_equal(run_promise_failures_due(&cfg, &rec, 1), 0);
    cfg.promise_failure = true;
    run_record_free(&rec);
    make_record(&rec, 0); /* the muted failure alone */
    assert_int_equal(run_promise_failures_due(&cfg, &rec, 1), 0);
    add_record(&rec.result, "tests/broken.py", ST_FAILED, true);
    assert_int_equal(run_promise_failures_due(&cfg, &rec, 1), 0); /* a collection error: no */
    run_record_free(&rec);
}

static void promise_made(void **state)
{
    (void)state;
    write_run_json(2, 1);
    setenv("TEP_FAKE_AGENT_EXIT", "0", 1);
    char *out = promise_printed(1);
    char *args = fs_read_file(args_file, NULL);
    assert_non_null(args);
    assert_string_equal(args,
                        "job|promise-failure|1|--reason|test_failure (2 failed after retries)|");
    assert_non_null(strstr(out, "Declaring early failure: 2 hard test failures remain after "
                                "retries"));
    assert_non_null(strstr(out, "promise-failure: buildkite-agent job promise-failure completed"));
    free(args);
    free(out);
}

static void no_promise_when_not_due(void **state)
{
    (void)state;
    write_run_json(0, 1);
    char *out = promise_printed(1);
    assert_false(fs_exists(args_file));
    assert_string_equal(out, "");
    free(out);
    write_run_json(2, 1);
    out = promise_printed(0); /* the job passes: nothing to promise */
    assert_false(fs_exists(args_file));
    free(out);
}

static void agent_failing_is_one_warning(void **state)
{
    (void)state;
    write_run_json(1, 1);
    setenv("TEP_FAKE_AGENT_EXIT", "3", 1);
    char *out = promise_printed(1);
    assert_true(fs_exists(args_file));
    assert_non_null(strstr(out, "promise-failure: buildkite-agent job promise-failure exited 3; "
                                "the job's exit status is unchanged\n"));
    free(out);
    unsetenv("TEP_FAKE_AGENT_EXIT");
    cfg.agent_cmd = "/nonexistent/tep-agent";
    out = promise_printed(1);
    assert_non_null(strstr(out, "promise-failure: cannot run '/nonexistent/tep-agent': No such "
                                "file or directory; the job's exit status is unchanged\n"));
    free(out);
    cfg.agent_cmd = "buildkite-agent";
}

/* A damaged run.json: one warning, no call, nothing leaked. */
static void damaged_run_json(void **state)
{
    (void)state;
    char *path = fs_join(agent.dir, "run.json");
    const char *text = "[{\"version\":2,\"failed_tests\":1}";
    assert_true(fs_write_file(path, text, strlen(text)));
    char *out = promise_printed(1);
    assert_false(fs_exists(args_file));
    assert_non_null(strstr(out, "; no early failure declared\n"));
    free(out);
    unlink(path);
    out = promise_printed(1); /* no run.json at all: no call */
    assert_false(fs_exists(args_file));
    free(out);
    free(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(failures_due),
        cmocka_unit_test(promise_made),
        cmocka_unit_test(no_promise_when_not_due),
        cmocka_unit_test(agent_failing_is_one_warning),
        cmocka_unit_test(damaged_run_json),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
