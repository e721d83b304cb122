/* The fallback plan with per-test durations: files slower than total/jobs
 * are split into their known tests, every known test lands on exactly one
 * job (or is covered by the job running the file's rest), every job computes
 * the same plan, and the makespan approaches the test-level bound. */
#include "unit.h"
#include "base/buf.h"
#include "model/durations.h"
#include "model/plan.h"
#include "plan/plan_fallback.h"
#include "scratch.h"
#include <math.h>
#include <stdio.h>
#include <unistd.h>

/* Loads durations from JSON text through the real reader. */
static void load(const char *json, durations_t *d)
{
    char *path = scratch_file("tep-plansplit", json, strlen(json));
    char *err = NULL;
    assert_true(durations_load(path, NULL, NULL, d, &err));
    unlink(path);
    free(path);
}

static void add_files(strlist_t *files, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++) strlist_push(files, names[i]);
}

static double makespan(const plan_t *p)
{
    double m = 0;
    for (long j = 0; j < p->parallelism; j++) m = fmax(m, p->tasks[j].estimated_s);
    return m;
}

/* How many jobs run `entry` (as written in their lists). */
static int count_runs(const plan_t *p, const char *entry)
{
    int n = 0;
    for (long j = 0; j < p->parallelism; j++)
        for (size_t i = 0; i < p->tasks[j].run.len; i++)
            n += strcmp(p->tasks[j].run.items[i], entry) == 0;
    return n;
}

/* Jobs on which `id` of split `file` runs: given by name, or, given to no
 * job by name, in the rest (the file less what other jobs were given). */
static int runs_of_test(const plan_t *p, const char *id, const char *file)
{
    const plan_split_t *s = plan_split_of(p, id);
    assert_non_null(s);
    assert_string_equal(s->path, file);
    int n = count_runs(p, id);
    for (size_t i = 0; n == 0 && i < p->tasks[s->rest_job].run.len; i++)
        n += strcmp(p->tasks[s->rest_job].run.items[i], file) == 0;
    return n;
}

/* big.py holds 8 tests of 3 s (24 s); four 2 s files: total 32, 4 jobs,
 * target 8. Whole files: makespan 24. Split: 8, the test-level bound. */
static const char *BIG =
    "{\"big.py::t1\": 3, \"big.py::t2\": 3, \"big.py::t3\": 3, \"big.py::t4\": 3,"
    " \"big.py::t5\": 3, \"big.py::t6\": 3, \"big.py::t7\": 3, \"big.py::t8\": 3,"
    " \"a.py::x\": 2, \"b.py::x\": 2, \"c.py\": 2, \"d.py::x\": 2}";

static void slow_file_is_split_and_every_test_runs_once(void **state)
{
    (void)state;
    durations_t d;
    load(BIG, &d);
    strlist_t files = STRLIST_INIT;
    const char *names[] = {"a.py", "b.py", "big.py", "c.py", "d.py"};
    add_files(&files, names, 5);
    plan_t p;
    plan_init(&p, 4);
    plan_fallback(&p, &files, &d);
    assert_int_equal(p.n_splits, 1);
    assert_string_equal(p.splits[0].path, "big.py");
    assert_int_equal(p.splits[0].n_tests, 8);
    assert_true(p.splits[0].rest_job >= 0 && p.splits[0].rest_job < 4);
    assert_int_equal(count_runs(&p, "big.py"), 1); /* the rest, on one job */
    const strlist_t *rest = &p.tasks[p.splits[0].rest_job].run;
    for (size_t i = 0; i < rest->len; i++) /* its own tests are covered by the file */
        assert_null(strstr(rest->items[i], "big.py::"));
    char id[32];
    for (int t = 1; t <= 8; t++) {
        snprintf(id, sizeof id, "big.py::t%d", t);
        assert_int_equal(runs_of_test(&p, id, "big.py"), 1);
    }
    for (int i = 0; i < 5; i++)
        if (strcmp(names[i], "big.py")) assert_int_equal(count_runs(&p, names[i]), 1);
    assert_float_equal(p.lower_bound_s, 24, 1e-9);
    assert_float_equal(p.test_bound_s, 8, 1e-9);
    assert_float_equal(makespan(&p), 8, 1e-9);
    plan_free(&p);
    strlist_free(&files);
    durations_free(&d);
}

/* Every job gets the input in whatever order it discovered it: same plan. */
static void every_job_computes_the_same_plan(void **state)
{
    (void)state;
    durations_t d;
    load(BIG, &d);
    const char *a[] = {"a.py", "b.py", "big.py", "c.py", "d.py", "new.py"};
    const char *b[] = {"new.py", "d.py", "big.py", "c.py",
                       "b.py",   "a.py", "big.py"}; /* and a duplicate */
    strlist_t fa = STRLIST_INIT, fb = STRLIST_INIT;
    add_files(&fa, a, 6);
    add_files(&fb, b, 7);
    for (long jobs = 2; jobs <= 9; jobs++) {
        plan_t p, q;
        plan_init(&p, jobs);
        plan_init(&q, jobs);
        plan_fallback(&p, &fa, &d);
        plan_fallback(&q, &fb, &d);
        assert_int_equal(p.n_splits, q.n_splits);
        for (long j = 0; j < jobs; j++) {
            assert_int_equal(p.tasks[j].run.len, q.tasks[j].run.len);
            for (size_t i = 0; i < p.tasks[j].run.len; i++)
                assert_string_equal(p.tasks[j].run.items[i], q.tasks[j].run.items[i]);
            assert_true(p.tasks[j].estimated_s == q.tasks[j].estimated_s);
        }
        plan_free(&p);
        plan_free(&q);
    }
    strlist_free(&fa);
    strlist_free(&fb);
    durations_free(&d);
}

static void what_is_not_split(void **state)
{
    (void)state;
    /* One job: nothing to balance. */
    durations_t d;
    load(BIG, &d);
    strlist_t files = STRLIST_INIT;
    const char *names[] = {"a.py", "big.py"};
    add_files(&files, names, 2);
    plan_t p;
    plan_init(&p, 1);
    plan_fallback(&p, &files, &d);
    assert_int_equal(p.n_splits, 0);
    plan_free(&p);
    durations_free(&d);
    strlist_free(&files);
    /* At the target, not over it; and a file with one usable test id (the
     * other has a line break pytest's argv cannot take). */
    load("{\"e.py::t1\": 5, \"e.py::t2\": 5, \"f.py::t1\": 9, \"f.py::t\\n2\": 1, \"g.py\": 10}",
         &d);
    const char *n2[] = {"e.py", "f.py", "g.py"};
    add_files(&files, n2, 3);
    plan_init(&p, 3);
    plan_fallback(&p, &files, &d); /* total 30, target 10: e 10 (not over), f 10, g 10 */
    assert_int_equal(p.n_splits, 0);
    plan_free(&p);
    plan_init(&p, 2); /* target 15: none over it */
    plan_fallback(&p, &files, &d);
    assert_int_equal(p.n_splits, 0);
    plan_free(&p);
    strlist_clear(&files);
    const char *n3[] = {"f.py", "h.py", "i.py"}; /* f 10 of total 10 + 2 guesses of 10: target 10 */
    add_files(&files, n3, 3);
    plan_init(&p, 6); /* target 5: f is over it, but has one usable id */
    plan_fallback(&p, &files, &d);
    assert_int_equal(p.n_splits, 0);
    assert_int_equal(count_runs(&p, "f.py"), 1);
    plan_free(&p);
    durations_free(&d);
    strlist_free(&files);
}

/* Tests pytest could not be given by name stay in the rest, which runs the
 * file; the rest's weight is their time plus the file's own entry. */
static void unusable_ids_and_file_entries_stay_in_the_rest(void **state)
{
    (void)state;
    durations_t d;
    load("{\"s.py\": 2, \"s.py::a\": 4, \"s.py::b\": 4, \"s.py::c\\td\": 5, \"o.py\": 1}", &d);
    strlist_t files = STRLIST_INIT;
    const char *names[] = {"o.py", "s.py"};
    add_files(&files, names, 2);
    plan_t p;
    plan_init(&p, 3); /* total 16, target 5.33: s (15) is split into a, b and a rest of 7 */
    plan_fallback(&p, &files, &d);
    assert_int_equal(p.n_splits, 1);
    assert_int_equal(p.splits[0].n_tests, 2);
    long rest = p.splits[0].rest_job;
    assert_float_equal(p.tasks[rest].estimated_s, 7, 1e-9);
    assert_int_equal(count_runs(&p, "s.py::c\td"), 0);
    /* The bound counts every known test as splittable: max(16/3, 5 s test, 2 s file entry). */
    assert_float_equal(p.test_bound_s, 16.0 / 3, 1e-9);
    assert_float_equal(p.lower_bound_s, 15, 1e-9);
    plan_free(&p);
    strlist_free(&files);
    durations_free(&d);
}

/* With a tag filter the entries are node ids: each weighs its own time. */
static void node_id_entries_weigh_their_own_time(void **state)
{
    (void)state;
    durations_t d;
    load(BIG, &d);
    strlist_t files = STRLIST_INIT;
    const char *ids[] = {"big.py::t1", "big.py::t2", "a.py::x", "unknown.py::y"};
    add_files(&files, ids, 4);
    plan_t p;
    plan_init(&p, 2);
    plan_fallback(&p, &files, &d); /* 3 + 3 + 2 + mean(8/3) */
    assert_int_equal(p.n_splits, 0);
    assert_float_equal(p.tasks[0].estimated_s + p.tasks[1].estimated_s, 8 + 8.0 / 3, 1e-9);
    plan_free(&p);
    strlist_free(&files);
    durations_free(&d);
}

/* The heap picks what a scan for the least-loaded job (lowest index on a
 * tie) picks: the same plan as the quadratic loop it replaced. */
static void heap_matches_a_linear_scan(void **state)
{
    (void)state;
    buf_t json = BUF_INIT;
    strlist_t files = STRLIST_INIT;
    unsigned seed = 12345;
    buf_putc(&json, '{');
    for (int i = 0; i < 300; i++) {
        seed = seed * 1103515245u + 12345u;
        double s = (double)(seed >> 16 & 0x3ff) / 64.0; /* many ties among 1024 values */
        buf_printf(&json, "%s\"f%03d.py\": %.6f", i ? ", " : "", i, s);
        char name[16];
        snprintf(name, sizeof name, "f%03d.py", i);
        strlist_push(&files, name);
    }
    buf_putc(&json, '}');
    durations_t d;
    load(json.data, &d);
    const long jobs = 7;
    plan_t p;
    plan_init(&p, jobs);
    plan_fallback(&p, &files, &d);
    /* the reference: sort by (seconds desc, name), scan for the lightest job */
    size_t n = files.len;
    size_t *order = xcalloc(n, sizeof *order);
    for (size_t i = 0; i < n; i++) order[i] = i;
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0; k--) {
            double a = durations_get(&d, files.items[order[k - 1]]),
                   b = durations_get(&d, files.items[order[k]]);
            bool swap =
                a < b || (a == b && strcmp(files.items[order[k - 1]], files.items[order[k]]) > 0);
            if (!swap) break;
            size_t t = order[k];
            order[k] = order[k - 1];
            order[k - 1] = t;
        }
    double load_of[7] = {0};
    for (size_t i = 0; i < n; i++) {
        long best = 0;
        for (long j = 1; j < jobs; j++)
            if (load_of[j] < load_of[best]) best = j;
        load_of[best] += durations_get(&d, files.items[order[i]]);
        bool found = false;
        for (size_t k = 0; k < p.tasks[best].run.len; k++)
            found |= strcmp(p.tasks[best].run.items[k], files.items[order[i]]) == 0;
        if (!found) fail_msg("%s should be on job %ld", files.items[order[i]], best);
    }
    for (long j = 0; j < jobs; j++) assert_true(load_of[j] == p.tasks[j].estimated_s);
    free(order);
    plan_free(&p);
    durations_free(&d);
    strlist_free(&files);
    buf_free(&json);
}

/* A skewed suite like networkx's: a few files dominate. Whole files cannot
 * beat the longest; split by test, the makespan is within 5% of the bound. */
static void skewed_suite_approaches_the_test_level_bound(void **state)
{
    (void)state;
    buf_t json = BUF_INIT;
    strlist_t files = STRLIST_INIT;
    unsigned seed = 99;
    buf_putc(&json, '{');
    bool first = true;
    for (int f = 0; f < 250; f++) {
        char name[32];
        snprintf(name, sizeof name, "pkg/test_%03d.py", f);
        strlist_push(&files, name);
        int tests = f < 3 ? 400 : 20; /* three big files */
        for (int t = 0; t < tests; t++) {
            seed = seed * 1103515245u + 12345u;
            double s = 0.001 + (double)(seed >> 16 & 0xffff) / 65536.0 * (f < 3 ? 0.12 : 0.03);
            buf_printf(&json, "%s\"%s::test_%d\": %.6f", first ? "" : ", ", name, t, s);
            first = false;
        }
    }
    buf_putc(&json, '}');
    durations_t d;
    load(json.data, &d);
    plan_t p;
    plan_init(&p, 16);
    plan_fallback(&p, &files, &d);
    assert_int_equal(p.n_splits, 3);
    assert_true(p.lower_bound_s > 1.5 * p.test_bound_s); /* whole files could not get close */
    double ratio = makespan(&p) / p.test_bound_s;
    if (ratio > 1.05)
        fail_msg("makespan %.3f is %.3fx the test-level bound %.3f", makespan(&p), ratio,
                 p.test_bound_s);
    plan_free(&p);
    durations_free(&d);
    strlist_free(&files);
    buf_free(&json);
}

static void split_of_matches_the_file_part_exactly(void **state)
{
    (void)state;
    durations_t d;
    load("{\"a.py::t1\": 5, \"a.py::t2\": 5, \"a.py-b\": 1, \"a.pyc\": 1}", &d);
    strlist_t files = STRLIST_INIT;
    const char *names[] = {"a.py", "a.py-b", "a.pyc"};
    add_files(&files, names, 3);
    plan_t p;
    plan_init(&p, 4);
    plan_fallback(&p, &files, &d);
    assert_int_equal(p.n_splits, 1);
    assert_non_null(plan_split_of(&p, "a.py"));
    assert_non_null(plan_split_of(&p, "a.py::t9[x::y]"));
    assert_null(plan_split_of(&p, "a.py-b"));
    assert_null(plan_split_of(&p, "a.pyc::t1"));
    assert_null(plan_split_of(&p, "a.p"));
    assert_null(plan_split_of(&p, "a.py:t1"));
    plan_free(&p);
    strlist_free(&files);
    durations_free(&d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(slow_file_is_split_and_every_test_runs_once),
        cmocka_unit_test(every_job_computes_the_same_plan),
        cmocka_unit_test(what_is_not_split),
        cmocka_unit_test(unusable_ids_and_file_entries_stay_in_the_rest),
        cmocka_unit_test(node_id_entries_weigh_their_own_time),
        cmocka_unit_test(heap_matches_a_linear_scan),
        cmocka_unit_test(skewed_suite_approaches_the_test_level_bound),
        cmocka_unit_test(split_of_matches_the_file_part_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
