/* plan_summary: the plan phase's account of a plan, read back from stdout
 * (redirected to a temp file, stderr too: nothing may go there). Whole
 * outputs are compared, so a changed, missing or extra line fails. */
#include "unit.h"
#include "base/buf.h"
#include "config/config.h"
#include "base/fs.h"
#include "model/plan.h"
#include "plan/plan_summary.h"
#include <stdio.h>
#include <unistd.h>

typedef struct {
    const config_t *cfg; /* NULL: plan_summary_print_loads */
    const plan_t *plan;
    size_t n_files;
} summary_call_t;

/* Points descriptor fd at a new temp file; returns the saved descriptor. */
static int redirect(int fd, char path[32])
{
    strcpy(path, "/tmp/tep-plansum-XXXXXX");
    int tmp = mkstemp(path);
    assert_true(tmp >= 0);
    int saved = dup(fd);
    assert_true(saved >= 0);
    assert_int_equal(dup2(tmp, fd), fd);
    close(tmp);
    return saved;
}

/* Puts fd back; returns what was written to it meanwhile. */
static char *restore(int fd, int saved, const char *path)
{
    assert_int_equal(dup2(saved, fd), fd);
    close(saved);
    char *text = fs_read_file(path, NULL);
    unlink(path);
    assert_non_null(text);
    return text;
}

/* Runs the call with stdout in a temp file; returns what it printed and
 * checks that stderr got nothing. */
static char *printed(const summary_call_t *c)
{
    char out_path[32], err_path[32];
    fflush(stdout);
    fflush(stderr);
    int out = redirect(1, out_path);
    int err = redirect(2, err_path);
    if (c->cfg)
        plan_summary_print(c->cfg, c->plan, c->n_files);
    else
        plan_summary_print_loads(c->plan);
    fflush(stdout);
    fflush(stderr);
    char *errors = restore(2, err, err_path);
    char *text = restore(1, out, out_path);
    assert_string_equal(errors, "");
    free(errors);
    return text;
}

static void assert_printed(const summary_call_t *c, const char *want)
{
    char *got = printed(c);
    assert_string_equal(got, want);
    free(got);
}

/* The settings plan_summary reads: job 2 of 3. */
static config_t job_config(void)
{
    config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.parallel_job = 1;
    cfg.parallel_job_count = 3;
    cfg.identifier = "build-42/step-7";
    cfg.state_dir = "/work/app/.test-engine-pytest";
    return cfg;
}

static void set_reason(plan_t *p, const char *reason)
{
    free(p->reason);
    p->reason = xstrdup(reason);
}

static void add_muted(plan_t *p, size_t n)
{
    p->muted = xcalloc(n, sizeof *p->muted);
    for (size_t i = 0; i < n; i++) {
        p->muted[i].scope = xasprintf("tests/m%zu.py", i);
        p->muted[i].name = xstrdup("t");
    }
    p->n_muted = n;
}

static void a_server_plan(void **state)
{
    (void)state;
    config_t cfg = job_config();
    plan_t p;
    plan_init(&p, 3);
    p.source = PLAN_SERVER_CREATED;
    strlist_push(&p.tasks[0].run, "tests/other_job.py");
    strlist_push(&p.tasks[1].run, "tests/a.py");
    strlist_push(&p.tasks[1].run, "tests/b.py::test_x[1]");
    p.tasks[1].estimated_s = 12; /* every job's loads are shown for the fallback only */
    add_muted(&p, 2);
    strlist_push(&p.skipped, "tests/c.py test_skip");
    summary_call_t c = {.cfg = &cfg, .plan = &p, .n_files = 7};
    /* Test Engine gave no sample sizes: its estimate alone */
    assert_printed(&c, "+++ test-engine-pytest: plan for job 2 of 3\n"
                       "Plan source: server (new plan)\n"
                       "Plan identifier: build-42/step-7\n"
                       "Files discovered: 7; entries on this job: 2\n"
                       "Test Engine estimates this job at 12.0s\n"
                       "  tests/a.py\n"
                       "  tests/b.py::test_x[1]\n"
                       "Muted tests known to Test Engine: 2\n"
                       "Skipped by Test Engine: tests/c.py test_skip\n");
    /* with them: how many samples, and how many entries had none (its default) */
    p.tasks[1].samples = 57;
    p.tasks[1].n_history = 1;
    assert_printed(&c, "+++ test-engine-pytest: plan for job 2 of 3\n"
                       "Plan source: server (new plan)\n"
                       "Plan identifier: build-42/step-7\n"
                       "Files discovered: 7; entries on this job: 2\n"
                       "Test Engine estimates this job at 12.0s from 57 timing samples: 1 of its 2 "
                       "entries has history, the others are at its default\n"
                       "  tests/a.py\n"
                       "  tests/b.py::test_x[1]\n"
                       "Muted tests known to Test Engine: 2\n"
                       "Skipped by Test Engine: tests/c.py test_skip\n");
    plan_free(&p);
}

/* A job with nothing to run still says so; the reason follows the source. */
static void an_empty_slice_with_a_reason(void **state)
{
    (void)state;
    config_t cfg = job_config();
    cfg.parallel_job = 0;
    cfg.parallel_job_count = 1;
    plan_t p;
    plan_init(&p, 1);
    p.source = PLAN_RETRY_SELECTORS;
    set_reason(&p, "job retry 1: re-running 0 failed tests");
    summary_call_t c = {.cfg = &cfg, .plan = &p, .n_files = 0};
    assert_printed(&c, "+++ test-engine-pytest: plan for job 1 of 1\n"
                       "Plan source: retry selectors - job retry 1: re-running 0 failed tests\n"
                       "Plan identifier: build-42/step-7\n"
                       "Files discovered: 0; entries on this job: 0\n");
    plan_free(&p);
}

/* The first 100 entries are listed; the rest are counted, with where to
 * find them all. */
static void long_slices_are_cut_at_100(void **state)
{
    (void)state;
    config_t cfg = job_config();
    plan_t p;
    plan_init(&p, 3);
    p.source = PLAN_SERVER_CACHED;
    buf_t want = BUF_INIT;
    buf_puts(&want, "+++ test-engine-pytest: plan for job 2 of 3\n"
                    "Plan source: server (cached plan)\n"
                    "Plan identifier: build-42/step-7\n"
                    "Files discovered: 400; entries on this job: 103\n");
    for (int i = 0; i < 103; i++) {
        char *entry = xasprintf("tests/test_%03d.py", i);
        strlist_push(&p.tasks[1].run, entry);
        if (i < 100) buf_printf(&want, "  %s\n", entry);
        free(entry);
    }
    buf_puts(&want, "  ... and 3 more (all are in /work/app/.test-engine-pytest/slice.json)\n");
    summary_call_t c = {.cfg = &cfg, .plan = &p, .n_files = 400};
    assert_printed(&c, want.data);
    buf_free(&want);
    plan_free(&p);
}

/* Text from outside (a reason, an entry) cannot add a line or open a log
 * section: one line per call, control characters shown. */
static void outside_text_stays_on_its_line(void **state)
{
    (void)state;
    config_t cfg = job_config();
    plan_t p;
    plan_init(&p, 3);
    p.source = PLAN_FALLBACK;
    set_reason(&p, "HTTP 503\n+++ fake section");
    strlist_push(&p.tasks[1].run, "tests/a.py::t[\x1b[2J]");
    strlist_push(&p.skipped, "+++ x");
    summary_call_t c = {.cfg = &cfg, .plan = &p, .n_files = 1};
    assert_printed(&c, "+++ test-engine-pytest: plan for job 2 of 3\n"
                       "Plan source: fallback - HTTP 503\\n+++ fake section\n"
                       "Plan identifier: build-42/step-7\n"
                       "Files discovered: 1; entries on this job: 1\n"
                       "  job 1: 0 entries\n"
                       "  job 2: 1 entry\n"
                       "  job 3: 0 entries\n"
                       "  tests/a.py::t[\\x1b[2J]\n"
                       "Skipped by Test Engine: +++ x\n");
    plan_free(&p);
}

/* A fallback plan with durations: each job's load, the files split by test,
 * and the makespan against both lower bounds, inside the job's summary. */
static void a_fallback_plan_shows_loads_splits_and_bounds(void **state)
{
    (void)state;
    config_t cfg = job_config();
    plan_t p;
    plan_init(&p, 3);
    p.source = PLAN_FALLBACK;
    set_reason(&p, "no suite slug: planned locally");
    strlist_push(&p.tasks[0].run, "tests/slow.py::t1");
    p.tasks[0].estimated_s = 6;
    strlist_push(&p.tasks[1].run, "tests/a.py");
    strlist_push(&p.tasks[1].run, "tests/slow.py");
    p.tasks[1].estimated_s = 5.5;
    p.tasks[2].estimated_s = 0;
    p.lower_bound_s = 5;
    p.test_bound_s = 4;
    p.splits = xcalloc(1, sizeof *p.splits);
    p.splits[0] = (plan_split_t){
        .path = xstrdup("tests/slow.py"), .seconds = 8.5, .n_tests = 1, .rest_job = 1};
    p.n_splits = 1;
    summary_call_t c = {.cfg = &cfg, .plan = &p, .n_files = 2};
    assert_printed(&c, "+++ test-engine-pytest: plan for job 2 of 3\n"
                       "Plan source: fallback - no suite slug: planned locally\n"
                       "Plan identifier: build-42/step-7\n"
                       "Files discovered: 2; entries on this job: 2\n"
                       "  job 1: 1 entry, estimated 6.0s\n"
                       "  job 2: 2 entries, estimated 5.5s\n"
                       "  job 3: 0 entries, estimated 0.0s\n"
                       "  split tests/slow.py (8.5s) into 1 known test; job 2 runs the rest of it\n"
                       "  makespan 6.0s against the file-level bound 5.0s (max of total/jobs and "
                       "the longest file): ratio 1.200\n"
                       "  makespan 6.0s against the test-level bound 4.0s (max of total/jobs and "
                       "the longest test): ratio 1.500\n"
                       "  tests/a.py\n"
                       "  tests/slow.py\n");
    plan_free(&p);
}

/* Ten split files are named, the rest counted; a bound that is unknown (0)
 * is not compared against. */
static void loads_name_ten_splits_and_skip_unknown_bounds(void **state)
{
    (void)state;
    plan_t p;
    plan_init(&p, 2);
    p.tasks[0].estimated_s = 30;
    strlist_push(&p.tasks[0].run, "tests/a.py");
    p.tasks[1].estimated_s = 29.96;
    p.lower_bound_s = 0;
    p.test_bound_s = 25;
    p.n_splits = 12;
    p.splits = xcalloc(p.n_splits, sizeof *p.splits);
    buf_t want = BUF_INIT;
    buf_puts(&want, "  job 1: 1 entry, estimated 30.0s\n"
                    "  job 2: 0 entries, estimated 30.0s\n");
    for (size_t i = 0; i < p.n_splits; i++) {
        p.splits[i] = (plan_split_t){.path = xasprintf("tests/s%02zu.py", i),
                                     .seconds = 10,
                                     .n_tests = i + 2,
                                     .rest_job = (long)(i % 2)};
        if (i < 10)
            buf_printf(&want,
                       "  split tests/s%02zu.py (10.0s) into %zu known tests; job %zu runs the "
                       "rest of it\n",
                       i, i + 2, i % 2 + 1);
    }
    buf_puts(&want, "  ... and 2 more files split by test\n"
                    "  makespan 30.0s against the test-level bound 25.0s (max of total/jobs and "
                    "the longest test): ratio 1.200\n");
    summary_call_t c = {.plan = &p};
    assert_printed(&c, want.data);
    buf_free(&want);
    plan_free(&p);
}

/* Without durations there is no makespan: loads are entry counts only, and
 * neither splits nor bounds are shown. */
static void loads_without_durations_are_counts_only(void **state)
{
    (void)state;
    plan_t p;
    plan_init(&p, 2);
    strlist_push(&p.tasks[0].run, "tests/a.py");
    strlist_push(&p.tasks[1].run, "tests/b.py");
    strlist_push(&p.tasks[1].run, "tests/c.py");
    p.lower_bound_s = 5; /* not shown: nothing is timed */
    p.splits = xcalloc(1, sizeof *p.splits);
    p.splits[0].path = xstrdup("tests/b.py");
    p.n_splits = 1;
    summary_call_t c = {.plan = &p};
    assert_printed(&c, "  job 1: 1 entry\n"
                       "  job 2: 2 entries\n");
    plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_server_plan),
        cmocka_unit_test(an_empty_slice_with_a_reason),
        cmocka_unit_test(long_slices_are_cut_at_100),
        cmocka_unit_test(outside_text_stays_on_its_line),
        cmocka_unit_test(a_fallback_plan_shows_loads_splits_and_bounds),
        cmocka_unit_test(loads_name_ten_splits_and_skip_unknown_bounds),
        cmocka_unit_test(loads_without_durations_are_counts_only),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
