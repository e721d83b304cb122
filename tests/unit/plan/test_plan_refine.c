/* plan_refine: this job's share of the fallback's split files, checked
 * against what real pytest (/usr/bin/python3 -m pytest) collects in a
 * temporary project. The rest job runs every collected test no other job
 * was given, new ones included; node ids pytest no longer collects are
 * dropped; when pytest cannot tell, nothing is lost. */
#include "unit.h"
#include "base/buf.h"
#include "model/durations.h"
#include "base/fs.h"
#include "model/plan.h"
#include "plan/plan_fallback.h"
#include "plan/plan_refine.h"
#include "scratch.h"
#include "base/strset.h"
#include <stdio.h>
#include <unistd.h>

#define PYTEST "/usr/bin/python3 -m pytest -p no:cacheprovider {{testExamples}}"

/* big.py as it is now: test_new was added since the durations were
 * recorded, test_gone was removed. */
static const char *BIG_PY = "def test_1(): pass\n"
                            "def test_2(): pass\n"
                            "def test_3(): pass\n"
                            "def test_4(): pass\n"
                            "def test_new(): pass\n";
static const char *DURATIONS = "{\"big.py::test_1\": 3, \"big.py::test_2\": 3,"
                               " \"big.py::test_3\": 3, \"big.py::test_4\": 3,"
                               " \"big.py::test_gone\": 3, \"small.py::test_s\": 1}";

typedef struct {
    char dir[64];
    char *old_cwd;
    durations_t known;
    strlist_t files;
    plan_t plan;
} project_t;

/* The project, its fallback plan over 2 jobs, and the project as the cwd. */
static int setup(void **state)
{
    project_t *p = calloc(1, sizeof *p);
    p->old_cwd = scratch_enter(p->dir, sizeof p->dir, "tep-refine");
    scratch_put(p->dir, "big.py", BIG_PY);
    scratch_put(p->dir, "small.py", "def test_s(): pass\n");
    scratch_put(p->dir, "durations.json", DURATIONS);
    char *path = fs_join(p->dir, "durations.json");
    char *err = NULL;
    assert_true(durations_load(path, NULL, NULL, &p->known, &err));
    free(path);
    strlist_push(&p->files, "big.py");
    strlist_push(&p->files, "small.py");
    plan_init(&p->plan, 2);
    plan_fallback(&p->plan, &p->files, &p->known);
    assert_int_equal(p->plan.n_splits, 1); /* 15 s of 16 s: over the 8 s target */
    *state = p;
    return 0;
}

static int teardown(void **state)
{
    project_t *p = *state;
    scratch_leave(p->dir, p->old_cwd);
    plan_free(&p->plan);
    strlist_free(&p->files);
    durations_free(&p->known);
    free(p);
    return 0;
}

static bool has(const strlist_t *l, const char *s)
{
    return strlist_contains(l, s);
}

/* Across both jobs, after each refined its own list, every test big.py holds
 * now runs exactly once, and the removed one nowhere. */
static void each_collected_test_runs_once_across_the_jobs(void **state)
{
    project_t *p = *state;
    long rest = p->plan.splits[0].rest_job;
    long other = 1 - rest;
    assert_true(has(&p->plan.tasks[rest].run, "big.py"));
    plan_refine_job(&p->plan, other, PYTEST, false);
    plan_refine_job(&p->plan, rest, PYTEST, false);
    assert_false(has(&p->plan.tasks[rest].run, "big.py")); /* the rest became node ids */
    const char *now[] = {"big.py::test_1", "big.py::test_2", "big.py::test_3", "big.py::test_4",
                         "big.py::test_new"};
    for (size_t i = 0; i < 5; i++) {
        int runs = has(&p->plan.tasks[0].run, now[i]) + has(&p->plan.tasks[1].run, now[i]);
        if (runs != 1) fail_msg("%s runs on %d jobs", now[i], runs);
    }
    assert_true(has(&p->plan.tasks[rest].run, "big.py::test_new"));
    assert_false(has(&p->plan.tasks[0].run, "big.py::test_gone"));
    assert_false(has(&p->plan.tasks[1].run, "big.py::test_gone"));
    int small = has(&p->plan.tasks[0].run, "small.py") + has(&p->plan.tasks[1].run, "small.py");
    assert_int_equal(small, 1);  /* not a split file: untouched */
    for (long j = 0; j < 2; j++) /* sorted, as slice.json wants them */
        for (size_t i = 1; i < p->plan.tasks[j].run.len; i++)
            assert_true(strcmp(p->plan.tasks[j].run.items[i - 1], p->plan.tasks[j].run.items[i]) <
                        0);
}

/* pytest cannot start: the rest job runs the whole file and node ids stay,
 * so nothing is lost (some tests may run twice, and the job says so). */
static void when_pytest_cannot_tell_nothing_is_lost(void **state)
{
    project_t *p = *state;
    long rest = p->plan.splits[0].rest_job;
    long other = 1 - rest;
    strlist_t before_rest = STRLIST_INIT, before_other = STRLIST_INIT;
    for (size_t i = 0; i < p->plan.tasks[rest].run.len; i++)
        strlist_push(&before_rest, p->plan.tasks[rest].run.items[i]);
    for (size_t i = 0; i < p->plan.tasks[other].run.len; i++)
        strlist_push(&before_other, p->plan.tasks[other].run.items[i]);
    const char *broken = "/nonexistent/python3 -m pytest {{testExamples}}";
    plan_refine_job(&p->plan, rest, broken, false);
    plan_refine_job(&p->plan, other, broken, false);
    assert_int_equal(p->plan.tasks[rest].run.len, before_rest.len);
    for (size_t i = 0; i < before_rest.len; i++)
        assert_string_equal(p->plan.tasks[rest].run.items[i], before_rest.items[i]);
    assert_int_equal(p->plan.tasks[other].run.len, before_other.len);
    for (size_t i = 0; i < before_other.len; i++)
        assert_string_equal(p->plan.tasks[other].run.items[i], before_other.items[i]);
    assert_true(has(&p->plan.tasks[rest].run, "big.py"));
    strlist_free(&before_rest);
    strlist_free(&before_other);
}

/* A file pytest cannot import stays in the slice for the run to report. */
static void a_file_pytest_cannot_import_stays(void **state)
{
    project_t *p = *state;
    scratch_put(p->dir, "big.py", "import no_such_module_here\ndef test_1(): pass\n");
    long rest = p->plan.splits[0].rest_job;
    plan_refine_job(&p->plan, rest, PYTEST, false);
    assert_true(has(&p->plan.tasks[rest].run, "big.py"));
}

/* A job with no part of a split file is left as it is. */
static void a_plan_without_splits_is_untouched(void **state)
{
    project_t *p = *state;
    plan_t q;
    plan_init(&q, 2);
    plan_fallback(&q, &p->files, NULL); /* round-robin: no splits */
    plan_refine_job(&q, 0, "/nonexistent/python3 -m pytest {{testExamples}}", true);
    assert_false(q.refine_deferred); /* nothing to refine, nothing deferred */
    assert_int_equal(q.tasks[0].run.len, 1);
    assert_string_equal(q.tasks[0].run.items[0], "big.py");
    plan_free(&q);
}

/* The plan phase cannot start pytest (the step's setup provides it): the
 * list is left for the run phase, which refines it from what the plan phase
 * saved (this job's list, the splits, other jobs' ids of them) in the step's
 * environment; across both jobs every test runs once. */
static void a_deferred_refinement_is_settled_by_the_run_phase(void **state)
{
    project_t *p = *state;
    long rest = p->plan.splits[0].rest_job;
    long other = 1 - rest;
    const char *missing = "/nonexistent/python3 -m pytest {{testExamples}}";
    size_t before = p->plan.tasks[rest].run.len;
    plan_refine_job(&p->plan, rest, missing, true);
    assert_true(p->plan.refine_deferred);
    assert_int_equal(p->plan.tasks[rest].run.len, before); /* untouched here */
    strlist_t elsewhere[2] = {STRLIST_INIT, STRLIST_INIT}; /* saved at plan time, per job */
    for (long job = 0; job < 2; job++) {
        const strlist_t *theirs = &p->plan.tasks[1 - job].run;
        for (size_t i = 0; i < theirs->len; i++)
            if (strstr(theirs->items[i], "::")) strlist_push(&elsewhere[job], theirs->items[i]);
    }
    for (long job = 0; job < 2; job++) {
        plan_refine_slice(&p->plan.tasks[job].run, job, 2, p->plan.splits, p->plan.n_splits,
                          &elsewhere[job], PYTEST);
        strlist_free(&elsewhere[job]);
    }
    (void)other;
    const char *now[] = {"big.py::test_1", "big.py::test_2", "big.py::test_3", "big.py::test_4",
                         "big.py::test_new"};
    for (size_t i = 0; i < 5; i++) {
        int runs = has(&p->plan.tasks[0].run, now[i]) + has(&p->plan.tasks[1].run, now[i]);
        if (runs != 1) fail_msg("%s runs on %d jobs", now[i], runs);
    }
    assert_false(has(&p->plan.tasks[rest].run, "big.py"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        unit_test_fixture(each_collected_test_runs_once_across_the_jobs),
        unit_test_fixture(when_pytest_cannot_tell_nothing_is_lost),
        unit_test_fixture(a_file_pytest_cannot_import_stays),
        unit_test_fixture(a_plan_without_splits_is_untouched),
        unit_test_fixture(a_deferred_refinement_is_settled_by_the_run_phase),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
