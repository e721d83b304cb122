/* run_phase (with run_attempt and run_part): a slice to an exit status, with
 * a fake pytest on a temporary PATH, a shell script that writes the JUnit file
 * a real pytest would (a test whose name says "fail" fails) and logs each
 * call's node ids:
 *   - a failure is retried alone, with the retry count's attempts, and its
 *     failing again gives the failure status; run.json records each attempt;
 *   - a test that passes on the retry is flaky: the run passes;
 *   - a command that cannot start is a configuration error, not retried;
 *   - a slice too long for one command line runs as several pytests. */
#include "unit.h"
#include "fake_agent.h"
#include "base/fs.h"
#include "run/run_phase.h"
#include "state/run_record.h"
#include "state/slice_file.h"
#include "state/state_dir.h"
#include <stdio.h>

/* Every node id argument is a test; --junit-xml=PATH is where the results
 * go; a test whose name holds "fail" fails, one whose name holds "flaky"
 * fails unless $D/flaky-passes exists (then it passes). */
static const char *FAKE_PYTEST =
    "#!/bin/sh\n"
    "out=; ids=\n"
    "for a in \"$@\"; do case \"$a\" in --junit-xml=*) out=${a#--junit-xml=} ;; -*) ;; *) "
    "ids=\"$ids $a\" ;; esac; done\n"
    "echo \"$ids\" >> \"$D/calls\"\n"
    /* one awk for the whole file: a shell loop forking per id took 100-220 s for 60,000 */
    "printf '%s\\n' $ids | awk -v flag=\"$D/flaky-passes\" '\n"
    "BEGIN { printf \"<testsuites><testsuite>\"; st = 0; fp = system(\"test -e \\\"\" flag "
    "\"\\\"\") == 0 }\n"
    "{ file = $0; sub(/::.*/, \"\", file); name = $0; sub(/.*::/, \"\", name)\n"
    "  cls = file; sub(/\\.py$/, \"\", cls); gsub(\"/\", \".\", cls)\n"
    "  printf \"<testcase classname=\\\"%s\\\" name=\\\"%s\\\" time=\\\"0.01\\\">\", cls, name\n"
    "  if (name ~ /fail/) { printf \"<failure message=\\\"assert 0\\\">E   assert 0</failure>\"; "
    "st = 1 }\n"
    "  else if (name ~ /flaky/ && !fp) { printf \"<failure message=\\\"x\\\">x</failure>\"; st = "
    "1\n"
    "    system(\"touch \\\"\" flag \"\\\"\"); fp = 1 }\n"
    "  printf \"</testcase>\" }\n"
    "END { printf \"</testsuite></testsuites>\"; exit st }' > \"$out\"\n";

typedef struct {
    fake_bin_t bin;
    char state[64];
    config_t cfg;
    slice_t slice;
} fixture_t;

static int setup(void **state)
{
    fixture_t *f = xcalloc(1, sizeof *f);
    fake_bin_open(&f->bin, "tep-fake-pytest");
    char *script = xasprintf("#!/bin/sh\nD='%s'\n%s", f->bin.dir, FAKE_PYTEST + 10);
    fake_bin_script(&f->bin, "fakepytest", script);
    free(script);
    scratch_dir(f->state, sizeof f->state, "test_run_phase");
    unsetenv("BUILDKITE_PLUGIN_CONFIGURATION");
    unsetenv("BUILDKITE_JOB_ID");
    setenv("BUILDKITE_TEST_ENGINE_STATE_DIR", f->state, 1);
    setenv("BUILDKITE_TEST_ENGINE_TEST_CMD",
           "fakepytest {{testExamples}} --junit-xml={{resultPath}}", 1);
    setenv("BUILDKITE_TEST_ENGINE_RETRY_COUNT", "2", 1);
    config_load(&f->cfg);
    char *err = NULL;
    assert_true(state_dir_prepare(&f->cfg, &err));
    f->slice.source = "fallback"; /* as slice.json gives them */
    f->slice.reason = "no Test Engine suite, token or organization configured: planning locally";
    f->slice.estimate_basis = "none";
    f->slice.job = 0;
    f->slice.parallelism = 1;
    f->slice.estimate_s = -1;
    f->slice.samples = -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture_t *f = *state;
    strlist_free(&f->slice.tests);
    config_free(&f->cfg);
    scratch_dir_remove(f->state);
    fake_bin_close(&f->bin);
    unsetenv("BUILDKITE_TEST_ENGINE_STATE_DIR");
    unsetenv("BUILDKITE_TEST_ENGINE_TEST_CMD");
    unsetenv("BUILDKITE_TEST_ENGINE_RETRY_COUNT");
    free(f);
    return 0;
}

typedef struct {
    fixture_t *f;
    int status;
} call_t;

static void run_it(void *arg)
{
    call_t *c = arg;
    c->status = run_phase_run(&c->f->cfg, &c->f->slice);
}

/* Runs the phase (its log kept out of the test's output); returns its status. */
static int run(fixture_t *f, char **log)
{
    call_t c = {.f = f};
    char *out = scratch_output(SCRATCH_STDOUT | SCRATCH_STDERR, run_it, &c, NULL);
    if (log)
        *log = out;
    else
        free(out);
    return c.status;
}

static char *calls(const fixture_t *f)
{
    char *path = fs_join(f->bin.dir, "calls");
    char *text = fs_read_file(path, NULL);
    free(path);
    return text ? text : xstrdup("");
}

static void a_failure_is_retried_alone(void **state)
{
    fixture_t *f = *state;
    strlist_push(&f->slice.tests, "tests/test_a.py::test_ok");
    strlist_push(&f->slice.tests, "tests/test_a.py::test_fail");
    char *log = NULL;
    assert_int_equal(run(f, &log), (int)f->cfg.failure_exit_status);
    char *c = calls(f);
    assert_string_equal(c, " tests/test_a.py::test_ok tests/test_a.py::test_fail\n"
                           " tests/test_a.py::test_fail\n"
                           " tests/test_a.py::test_fail\n");
    assert_non_null(strstr(log, "test_a.py::test_fail"));
    run_record_t *rec = NULL;
    char *err = NULL;
    assert_true(run_record_read(&f->cfg, &rec, &err));
    assert_non_null(rec);
    assert_int_equal(rec->n_attempts, 3);
    assert_int_equal(rec->attempts[1].n_selectors, 1);
    assert_int_equal(rec->exit_status, (int)f->cfg.failure_exit_status);
    assert_false(rec->terminal);
    run_record_delete(rec);
    free(c);
    free(log);
}

static void a_test_that_passes_on_retry_is_flaky(void **state)
{
    fixture_t *f = *state;
    strlist_push(&f->slice.tests, "tests/test_b.py::test_flaky");
    strlist_push(&f->slice.tests, "tests/test_b.py::test_ok");
    assert_int_equal(run(f, NULL), 0);
    char *c = calls(f);
    assert_string_equal(c, " tests/test_b.py::test_flaky tests/test_b.py::test_ok\n"
                           " tests/test_b.py::test_flaky\n");
    free(c);
}

static void a_command_that_cannot_start_is_not_retried(void **state)
{
    fixture_t *f = *state;
    free(f->cfg.test_cmd);
    f->cfg.test_cmd =
        xstrdup("no-such-pytest-anywhere {{testExamples}} --junit-xml={{resultPath}}");
    strlist_push(&f->slice.tests, "tests/test_a.py::test_fail");
    char *log = NULL;
    assert_int_equal(run(f, &log), (int)f->cfg.config_exit_status);
    assert_non_null(strstr(log, "no-such-pytest-anywhere"));
    char *c = calls(f);
    assert_string_equal(c, "");
    free(c);
    free(log);
}

static void a_long_slice_runs_as_several_pytests(void **state)
{
    fixture_t *f = *state;
    /* 60,000 ids of 60 bytes: 3.6 MB, more than one command line holds */
    for (int i = 0; i < 60000; i++) {
        char id[80];
        snprintf(id, sizeof id, "tests/test_many_%05d.py::test_a_rather_long_test_name_%05d",
                 i / 10, i);
        strlist_push(&f->slice.tests, id);
    }
    assert_int_equal(run(f, NULL), 0);
    char *c = calls(f);
    size_t lines = 0, ids = 0;
    for (const char *p = c; *p; p++) {
        lines += *p == '\n';
        ids += *p == ' ';
    }
    assert_true(lines >= 2);
    assert_int_equal(ids, 60000);
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(a_failure_is_retried_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(a_test_that_passes_on_retry_is_flaky, setup, teardown),
        cmocka_unit_test_setup_teardown(a_command_that_cannot_start_is_not_retried, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(a_long_slice_runs_as_several_pytests, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
