/* plan_fallback: the local plan every job computes alike. Round-robin over
 * the byte-sorted entries without durations; longest-processing-time first
 * with them (the split of slow files by test is in test_plan_split.c). */
#include "unit.h"
#include "model/durations.h"
#include "model/plan.h"
#include "plan/plan_fallback.h"

/* Hand-made durations for whole files (no per-test entries). */
static void file_durations(durations_t *d, const char **paths, double *secs, size_t n)
{
    memset(d, 0, sizeof *d);
    d->len = n;
    d->paths = (char **)paths;
    d->seconds = secs;
}

static void push_all(strlist_t *files, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) strlist_push(files, names[i]);
}

static char *slice_text(const plan_t *p, long j)
{
    size_t n = 1;
    for (size_t i = 0; i < p->tasks[j].run.len; i++) n += strlen(p->tasks[j].run.items[i]) + 1;
    char *s = calloc(n, 1);
    for (size_t i = 0; i < p->tasks[j].run.len; i++) {
        strcat(s, p->tasks[j].run.items[i]);
        strcat(s, ",");
    }
    return s;
}

/* Each job's list is exactly want[j] (as slice_text writes it). */
static void assert_jobs_run(const plan_t *p, const char *const want[])
{
    for (long j = 0; j < p->parallelism; j++) {
        char *got = slice_text(p, j);
        assert_string_equal(got, want[j]);
        free(got);
    }
}

static void round_robin_is_byte_sorted(void **state)
{
    (void)state;
    strlist_t files;
    strlist_init(&files);
    const char *in[] = {"e", "b", "a", "d", "c", "B"};
    for (int i = 0; i < 6; i++) strlist_push(&files, in[i]);
    plan_t p;
    plan_init(&p, 2);
    plan_fallback(&p, &files, NULL);
    const char *want[] = {"B,b,d,", "a,c,e,"};
    assert_jobs_run(&p, want);
    plan_free(&p);
    plan_init(&p, 8); /* fewer files than jobs: empty tasks are fine */
    plan_fallback(&p, &files, NULL);
    assert_int_equal(p.tasks[7].run.len, 0);
    plan_free(&p);
    strlist_free(&files);
}

static void lpt_balances(void **state)
{
    (void)state;
    durations_t d = {0};
    const char *paths[] = {"a", "b", "c", "d", "e"};
    double secs[] = {7, 5, 4, 3, 3};
    d.len = 5;
    d.paths = (char **)paths;
    d.seconds = secs;
    strlist_t files;
    strlist_init(&files);
    for (int i = 0; i < 5; i++) strlist_push(&files, paths[i]);
    strlist_push(&files, "unknown");
    plan_t p;
    plan_init(&p, 2);
    plan_fallback(&p, &files, &d);
    /* unknown = mean 4.4, total 26.4, bound 13.2. LPT: a7->0, b5->1, unknown4.4->1 (9.4),
     * c4->0 (11), d3->1 (12.4), e3->0 (14): makespan 14. */
    double total = p.tasks[0].estimated_s + p.tasks[1].estimated_s;
    assert_float_equal(total, 26.4, 1e-9);
    assert_float_equal(p.lower_bound_s, 13.2, 1e-9);
    double makespan = p.tasks[0].estimated_s > p.tasks[1].estimated_s ? p.tasks[0].estimated_s
                                                                      : p.tasks[1].estimated_s;
    assert_float_equal(makespan, 14.0, 1e-9);
    assert_int_equal(p.tasks[0].run.len + p.tasks[1].run.len, 6);
    plan_free(&p);
    strlist_free(&files);
}

/* A file listed twice runs once, on one job. */
static void duplicates_run_once(void **state)
{
    (void)state;
    strlist_t files = STRLIST_INIT;
    const char *in[] = {"b", "a", "b", "c", "a"};
    push_all(&files, in, 5);
    plan_t p;
    plan_init(&p, 2);
    plan_fallback(&p, &files, NULL);
    const char *want[] = {"a,c,", "b,"};
    assert_jobs_run(&p, want);
    plan_free(&p);
    strlist_free(&files);
}

/* Durations that name none of the entries: the round-robin, with the
 * estimates left unknown and no bounds, and the plan says it is a fallback. */
static void durations_that_know_nothing_here_round_robin(void **state)
{
    (void)state;
    durations_t d;
    const char *paths[] = {"elsewhere.py"};
    double secs[] = {30};
    file_durations(&d, paths, secs, 1);
    strlist_t files = STRLIST_INIT;
    const char *in[] = {"c.py", "a.py", "b.py"};
    push_all(&files, in, 3);
    plan_t p;
    plan_init(&p, 2);
    plan_fallback(&p, &files, &d);
    assert_int_equal(p.source, PLAN_FALLBACK);
    const char *want[] = {"a.py,c.py,", "b.py,"};
    assert_jobs_run(&p, want);
    assert_true(p.tasks[0].estimated_s < 0 && p.tasks[1].estimated_s < 0);
    assert_true(p.lower_bound_s == 0 && p.test_bound_s == 0);
    assert_int_equal(p.n_splits, 0);
    plan_free(&p);
    strlist_free(&files);
}

/* Equal times: entries in name order, each onto the lightest job, the lowest
 * index on a tie, so every job builds the same plan. */
static void ties_go_by_name_then_lowest_job(void **state)
{
    (void)state;
    durations_t d;
    const char *paths[] = {"a", "b", "c", "d", "e"};
    double secs[] = {1, 1, 1, 1, 1};
    file_durations(&d, paths, secs, 5);
    strlist_t files = STRLIST_INIT;
    const char *in[] = {"e", "d", "c", "b", "a"};
    push_all(&files, in, 5);
    plan_t p;
    plan_init(&p, 3);
    plan_fallback(&p, &files, &d);
    const char *want[] = {"a,d,", "b,e,", "c,"};
    assert_jobs_run(&p, want);
    assert_float_equal(p.tasks[2].estimated_s, 1, 1e-9);
    plan_free(&p);
    strlist_free(&files);
}

/* One file longer than total/jobs and no per-test times to split it by:
 * the whole file is the bound, and LPT reaches it. */
static void a_long_file_without_tests_is_the_bound(void **state)
{
    (void)state;
    durations_t d;
    const char *paths[] = {"long.py", "s1.py", "s2.py", "s3.py"};
    double secs[] = {10, 1, 1, 1};
    file_durations(&d, paths, secs, 4);
    strlist_t files = STRLIST_INIT;
    push_all(&files, paths, 4);
    plan_t p;
    plan_init(&p, 3);
    plan_fallback(&p, &files, &d);
    assert_int_equal(p.n_splits, 0);
    assert_float_equal(p.lower_bound_s, 10, 1e-9);
    assert_float_equal(p.test_bound_s, 10, 1e-9);
    char *first = slice_text(&p, 0);
    assert_string_equal(first, "long.py,");
    free(first);
    assert_float_equal(p.tasks[1].estimated_s + p.tasks[2].estimated_s, 3, 1e-9);
    plan_free(&p);
    strlist_free(&files);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_robin_is_byte_sorted),
        cmocka_unit_test(lpt_balances),
        cmocka_unit_test(duplicates_run_once),
        cmocka_unit_test(durations_that_know_nothing_here_round_robin),
        cmocka_unit_test(ties_go_by_name_then_lowest_job),
        cmocka_unit_test(a_long_file_without_tests_is_the_bound),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
