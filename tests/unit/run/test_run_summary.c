/* run_summary: the one "why" line for every way a run ends, and the results
 * section of the log (read back from stdout, redirected to a temp file):
 * counts, failures with causes, the cap on long lists, flaky tests. */
#include "unit.h"
#include "base/buf.h"
#include "base/fs.h"
#include "records.h"
#include "run/run_summary.h"
#include "scratch.h"
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

/* A test whose node id is `id`, as a parser hands it out. */
static void add_record(results_model_t *r, const char *id, test_status_t st, const char *failure,
                       bool collection_error)
{
    recs_feed(r, "", id, st, failure, collection_error);
}

typedef struct {
    run_record_t rec;
    outcome_t outcome;
    run_facts_t facts;
} fixture_t;

static void fixture_init(fixture_t *f, size_t attempts)
{
    memset(f, 0, sizeof *f);
    results_model_init(&f->rec.result, NULL, 0);
    results_timing_init(&f->rec.timing);
    f->rec.result.observe = results_timing_add_fn; /* as the run phase sets it */
    f->rec.result.observe_user = &f->rec.timing;
    f->rec.n_attempts = attempts;
    f->rec.attempts = xcalloc(attempts ? attempts : 1, sizeof(attempt_t));
    for (size_t i = 0; i < attempts; i++) /* the first took 10 s, each retry 2 s */
        f->rec.attempts[i] = (attempt_t){.index = (int)i,
                                         .started = 1000.0 + 20 * (double)i,
                                         .ended = 1000.0 + 20 * (double)i + (i ? 2 : 10)};
    f->facts.outcome = &f->outcome;
    f->facts.rec = &f->rec;
    f->facts.timeout_s = 30;
    f->facts.exit4_retries = 2;
}

static void fixture_free(fixture_t *f)
{
    results_model_free(&f->rec.result);
    results_timing_free(&f->rec.timing);
    free(f->rec.attempts);
    free(f->rec.why);
    free(f->rec.forensics);
}

/* The why line; checks it and frees it. */
static void assert_why(const fixture_t *f, int status, bool terminal, const char *want)
{
    char *why = run_summary_why(&f->facts, status, terminal);
    assert_string_equal(why, want);
    free(why);
}

static void signals(void **state)
{
    (void)state;
    fixture_t f;
    fixture_init(&f, 1);
    f.outcome.signal = SIGTERM;
    f.outcome.timed_out = true;
    assert_why(&f, 143, false,
               "pytest timed out after 30s (BUILDKITE_TEST_ENGINE_TIMEOUT); its process group was "
               "killed");
    f.outcome.timed_out = false;
    f.outcome.cancelled = true;
    assert_why(&f, 143, false, "cancelled: we were sent SIGTERM and passed it on to pytest");
    f.outcome.cancelled = false;
    f.outcome.signal = SIGKILL;
    assert_why(&f, 137, false,
               "pytest was killed by signal 9 (SIGKILL: out of memory, or killed from outside)");
    /* what it was running, and what finished, from pytest's own reports */
    strlist_push(&f.rec.running, "tests/test_big.py::test_big_arrays");
    f.rec.salvaged = 3400;
    assert_why(&f, 137, false,
               "pytest was killed by signal 9 (SIGKILL: out of memory, or killed from outside); "
               "it was running tests/test_big.py::test_big_arrays; the 3400 tests that finished "
               "are reported");
    strlist_free(&f.rec.running);
    fixture_free(&f);
}

static void not_started_and_terminal(void **state)
{
    (void)state;
    fixture_t f;
    fixture_init(&f, 1);
    f.outcome.not_started = true;
    f.facts.start_error = "the test command did not start: cannot run 'pytest': No such file";
    assert_why(&f, 78, false, "the test command did not start: cannot run 'pytest': No such file");
    f.outcome.not_started = false;
    f.facts.unreadable = "results cannot be read: bad JSON at byte 3";
    assert_why(&f, 65, true, "results cannot be read: bad JSON at byte 3");
    f.facts.unreadable = NULL;
    assert_why(&f, 65, true,
               "pytest exited 2 (interrupted) and reported no collection error; not retrying");
    fixture_free(&f);
}

static void one_collection_error(void **state)
{
    (void)state;
    fixture_t f;
    fixture_init(&f, 1);
    add_record(&f.rec.result, "tests/test_a.py", ST_FAILED,
               "ModuleNotFoundError: No module named 'x'", true);
    f.outcome.collection_errors = 1;
    f.facts.slice_entries = 3;
    f.facts.not_run = 3;
    assert_why(&f, 65, true,
               "collection error in tests/test_a.py: ModuleNotFoundError: No module named 'x'; "
               "pytest stopped at collection, so none of the 3 entries given to it ran; a retry "
               "will not help");
    f.facts.slice_entries = 5;
    f.facts.not_run = 2;
    assert_why(&f, 65, true,
               "collection error in tests/test_a.py: ModuleNotFoundError: No module named 'x'; "
               "pytest stopped at collection, so 2 of the 5 entries given to it did not run; a "
               "retry will not help");
    f.facts.not_run = 0;
    assert_why(&f, 65, true,
               "collection error in tests/test_a.py: ModuleNotFoundError: No module named 'x'; a "
               "retry will not help");
    fixture_free(&f);
}

/* Sorted by file, the first three with causes, the rest counted. */
static void many_collection_errors(void **state)
{
    (void)state;
    fixture_t f;
    fixture_init(&f, 1);
    add_record(&f.rec.result, "tests/d.py", ST_FAILED, "E4", true);
    add_record(&f.rec.result, "tests/b.py", ST_FAILED, "E2", true);
    add_record(&f.rec.result, "tests/a.py", ST_FAILED, NULL, true);
    add_record(&f.rec.result, "tests/c.py", ST_FAILED, "E3", true);
    f.outcome.collection_errors = 4;
    assert_why(&f, 65, true,
               "collection errors in 4 files: tests/a.py; tests/b.py (E2); tests/c.py (E3); and 1 "
               "more; a retry will not help");
    fixture_free(&f);
}

static void ordinary_ends(void **state)
{
    (void)state;
    fixture_t f;
    fixture_init(&f, 3);
    f.outcome.failed = 2;
    assert_why(&f, 1, false, "2 tests failed after 3 attempts");
    f.outcome.failed = 1;
    f.rec.n_attempts = 1;
    assert_why(&f, 1, false, "1 test failed after 1 attempt");
    f.outcome.failed = 0;
    f.outcome.muted_failed = 1;
    assert_why(&f, 0, false, "passed; 1 muted test failed");
    f.outcome.muted_failed = 0;
    assert_why(&f, 0, false, "all tests passed");
    f.outcome.last_exit = 1;
    assert_why(&f, 1, false, "pytest exited 1 but reported no failed test; not reporting a pass");
    f.outcome.last_exit = 4;
    assert_why(&f, 4, false, "pytest exited 4");
    f.rec.forensics = xstrdup("--- exit-4 forensics ---\n");
    f.facts.missing_path = "tests/gone.py";
    assert_why(&f, 4, false,
               "pytest exited 4 (file or directory not found: tests/gone.py) after 2 exit-4 "
               "retries; see the forensics");
    f.outcome.last_exit = 5;
    assert_why(&f, 5, false, "pytest exited 5");
    fixture_free(&f);
}

typedef struct {
    const run_facts_t *facts;
    int status;
} summary_call_t;

static void call_summary(void *arg)
{
    summary_call_t *c = arg;
    run_summary_print(c->facts, c->status);
}

/* Runs run_summary_print with stdout in a temp file; returns what it printed. */
static char *printed(const run_facts_t *facts, int status)
{
    summary_call_t c = {facts, status};
    return scratch_output(SCRATCH_STDOUT, call_summary, &c, NULL);
}

static void results_section(void **state)
{
    (void)state;
    fixture_t f;
    fixture_init(&f, 2);
    add_record(&f.rec.result, "tests/a.py::t_ok", ST_PASSED, NULL, false);
    add_record(&f.rec.result, "tests/a.py::t_bad", ST_FAILED, "assert 1 == 2", false);
    add_record(&f.rec.result, "tests/a.py::t_flaky", ST_FAILED, "boom", false);
    add_record(&f.rec.result, "tests/a.py::t_flaky", ST_PASSED, NULL, false);
    add_record(&f.rec.result, "tests/a.py::t_skip", ST_SKIPPED, NULL, false);
    f.rec.why = xstrdup("1 test failed after 2 attempts");
    char *out = printed(&f.facts, 1);
    assert_non_null(strstr(out, "+++ test-engine-pytest: results\n"));
    assert_non_null(strstr(out, "FAILED: 1 test failed after 2 attempts\n"));
    assert_non_null(strstr(out, "  passed on first run  1\n"));
    assert_non_null(strstr(out, "  passed on retry      1 (flaky: 1)\n"));
    assert_non_null(strstr(out, "  failed               1\n"));
    assert_non_null(strstr(out, "  skipped              1\n"));
    assert_non_null(strstr(out, "  collection errors    0\n"));
    assert_non_null(strstr(out, "  failed: tests/a.py::t_bad - assert 1 == 2\n"));
    assert_non_null(strstr(out, "  flaky (failed, then passed): tests/a.py::t_flaky\n"));
    assert_null(strstr(out, "no outcome"));
    assert_non_null(strstr(out, "exit status 1\n"));
    /* no plan estimate here: the time alone, and the retries' beside it */
    assert_non_null(
        strstr(out, "Time: no estimate, took 10.0s\n  in-job retries took 2.0s more\n"));
    free(out);
    /* with the plan's estimate, a skipped test's reason and durations */
    f.rec.timing.estimate_s = 8;
    free(f.rec.timing.estimate_basis);
    f.rec.timing.estimate_basis = xstrdup("test_engine");
    f.rec.timing.samples = 120;
    f.rec.timing.with_history = 3;
    f.rec.timing.entries = 4;
    test_record_t slow = {.scope = "tests/b.py",
                          .name = "t_slow",
                          .node_id = "tests/b.py::t_slow",
                          .status = ST_PASSED,
                          .duration = 4.5};
    test_record_t skip = {.scope = "tests/b.py",
                          .name = "t_net",
                          .node_id = "tests/b.py::t_net",
                          .status = ST_SKIPPED,
                          .failure = "Skipped: needs network",
                          .duration = 0.25};
    results_model_add(&f.rec.result, &slow);
    results_model_add(&f.rec.result, &skip);
    out = printed(&f.facts, 1);
    assert_non_null(strstr(out, "Time: estimated 8.0s by Test Engine (120 timing samples, 3 of 4 "
                                "entries with history), took 10.0s (2.0s more, +25%)\n"));
    assert_non_null(strstr(out, "Slowest tests:\n      4.500s  tests/b.py::t_slow\n      "
                                "0.250s  tests/b.py::t_net\n"));
    /* in the order first seen: t_skip (added before, no reason), then t_net */
    assert_non_null(strstr(out, "Skipped, by reason:\n       1  (no reason given) (e.g. "
                                "tests/a.py::t_skip)\n       1  needs network (e.g. "
                                "tests/b.py::t_net)\n"));
    free(out);
    f.rec.terminal = true;
    out = printed(&f.facts, 65);
    assert_non_null(strstr(out, "TERMINAL: 1 test failed"));
    free(out);
    fixture_free(&f);
}

/* 60 failures: 50 listed, the rest counted. */
static void long_lists_capped(void **state)
{
    (void)state;
    fixture_t f;
    fixture_init(&f, 1);
    for (int i = 0; i < 60; i++) {
        char id[32];
        snprintf(id, sizeof id, "tests/t.py::t%02d", i);
        add_record(&f.rec.result, id, ST_FAILED, NULL, false);
    }
    f.rec.why = xstrdup("60 tests failed after 1 attempt");
    char *out = printed(&f.facts, 1);
    assert_non_null(strstr(out, "  failed: tests/t.py::t49\n"));
    assert_null(strstr(out, "tests/t.py::t50"));
    assert_non_null(strstr(out, "  ... and 10 more failed\n"));
    free(out);
    fixture_free(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signals),
        cmocka_unit_test(not_started_and_terminal),
        cmocka_unit_test(one_collection_error),
        cmocka_unit_test(many_collection_errors),
        cmocka_unit_test(ordinary_ends),
        cmocka_unit_test(results_section),
        cmocka_unit_test(long_lists_capped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
