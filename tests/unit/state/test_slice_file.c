/* slice_file: slice.json round trip, another version refused with one line
 * naming the file and what to do, hostile members, and the identity check
 * that keeps a run from taking a slice made for another job. */
#include "unit.h"
#include "base/buf.h"
#include "config/config.h"
#include "base/fs.h"
#include "model/plan.h"
#include "scratch.h"
#include "state/slice_file.h"
#include <stdio.h>
#include <unistd.h>

static char dir[64];
static char suite[] = "shop";
static char identifier[] = "build-1/step-2";
static config_t cfg;

static int make_dir(void **state)
{
    (void)state;
    scratch_dir(dir, sizeof dir, "test_slice_file");
    memset(&cfg, 0, sizeof cfg);
    cfg.state_dir = dir;
    cfg.suite_slug = suite;
    cfg.identifier = identifier;
    cfg.parallel_job = 1;
    cfg.parallel_job_count = 2;
    return 0;
}

static int remove_dir(void **state)
{
    (void)state;
    scratch_dir_remove(dir);
    return 0;
}

static void make_plan(plan_t *p)
{
    plan_init(p, 2);
    p->source = PLAN_SERVER_CREATED;
    free(p->reason);
    p->reason = xstrdup("new plan");
    strlist_push(&p->tasks[0].run, "tests/test_other_job.py");
    strlist_push(&p->tasks[1].run, "tests/test_a.py");
    strlist_push(&p->tasks[1].run, "tests/test_b.py::test_x[\"q\" \xc3\xa9]");
    p->muted = xcalloc(1, sizeof(plan_test_ref_t));
    p->muted[0].scope = xstrdup("tests/test_a.py");
    p->muted[0].name = xstrdup("test_flaky");
    p->n_muted = 1;
    strlist_push(&p->skipped, "tests/test_a.py test_slow");
    p->tasks[1].estimated_s = 7.5;
    p->tasks[1].samples = 30;
    p->tasks[1].n_history = 1;
}

static void write_slice_text(const char *text)
{
    char *path = fs_join(dir, "slice.json");
    assert_true(fs_write_file(path, text, strlen(text)));
    free(path);
}

/* Writes p as slice.json (p is freed), then reads it back: both succeed. */
static slice_t *write_then_read(plan_t *p, char **err)
{
    assert_true(slice_file_write(&cfg, p, err));
    plan_free(p);
    slice_t *s = NULL;
    assert_true(slice_file_read(&cfg, &s, err));
    return s;
}

static void round_trip_keeps_this_jobs_part(void **state)
{
    (void)state;
    plan_t p;
    make_plan(&p);
    char *err = NULL;
    slice_t *s = write_then_read(&p, &err);
    assert_null(err);
    assert_non_null(s);
    assert_string_equal(s->suite, "shop");
    assert_string_equal(s->source, plan_source_name(PLAN_SERVER_CREATED));
    assert_string_equal(s->reason, "new plan");
    assert_true(s->from_server);
    assert_string_equal(s->identifier, "build-1/step-2");
    assert_int_equal(s->job, 1);
    assert_int_equal(s->parallelism, 2);
    assert_int_equal(s->tests.len, 2); /* job 1's tests only */
    assert_string_equal(s->tests.items[0], "tests/test_a.py");
    assert_string_equal(s->tests.items[1], "tests/test_b.py::test_x[\"q\" \xc3\xa9]");
    assert_int_equal(s->n_muted, 1);
    assert_string_equal(s->muted[0].scope, "tests/test_a.py");
    assert_string_equal(s->muted[0].name, "test_flaky");
    assert_int_equal(s->skipped.len, 1);
    assert_string_equal(s->skipped.items[0], "tests/test_a.py test_slow");
    assert_null(slice_file_mismatch(&cfg, s));
    /* this job's estimate and its basis, for the run's estimated-vs-actual line */
    assert_float_equal(s->estimate_s, 7.5, 1e-9);
    assert_string_equal(s->estimate_basis, "test_engine");
    assert_int_equal(s->samples, 30);
    assert_int_equal(s->with_history, 1);
    slice_file_free(s);
    /* The version on disk is the one this binary reads. */
    char *path = fs_join(dir, "slice.json");
    char *text = fs_read_file(path, NULL);
    char *want = xasprintf("{\"version\":%d,", SLICE_FILE_VERSION);
    assert_true(strncmp(text, want, strlen(want)) == 0);
    free(want);
    free(text);
    free(path);
}

static void a_fallback_plan_is_not_from_the_server(void **state)
{
    (void)state;
    plan_t p;
    plan_init(&p, 2);
    p.source = PLAN_FALLBACK;
    char *err = NULL;
    slice_t *s = write_then_read(&p, &err);
    assert_false(s->from_server);
    assert_int_equal(s->tests.len, 0);
    assert_int_equal(s->n_muted, 0);
    slice_file_free(s);
}

static void no_slice_is_not_an_error(void **state)
{
    (void)state;
    char *path = fs_join(dir, "slice.json");
    unlink(path);
    free(path);
    slice_t *s = (slice_t *)1;
    char *err = NULL;
    assert_true(slice_file_read(&cfg, &s, &err));
    assert_null(s);
    assert_null(err);
    slice_file_free(NULL);
}

static void another_version_is_refused(void **state)
{
    (void)state;
    const char *texts[] = {
        "{\"version\": 2, \"tests\": [\"a.py\"]}",
        "{\"version\": 4, \"tests\": [\"a.py\"]}",
        "{\"tests\": [\"a.py\"]}",
    };
    char *want = xasprintf("%s/slice.json was written by another version of test-engine-pytest; "
                           "run the plan phase again",
                           dir);
    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        write_slice_text(texts[i]);
        slice_t *s = (slice_t *)1;
        char *err = NULL;
        assert_false(slice_file_read(&cfg, &s, &err));
        assert_null(s);
        assert_non_null(err);
        assert_string_equal(err, want);
        free(err);
    }
    free(want);
    write_slice_text("{\"version\": 3, \"tests\": [");
    slice_t *s = NULL;
    char *err = NULL;
    assert_false(slice_file_read(&cfg, &s, &err));
    assert_non_null(strstr(err, "slice.json is not valid JSON; run the earlier phase again"));
    free(err);
}

/* Members of the wrong type are left out, never crash or leak. */
static void hostile_members_are_left_out(void **state)
{
    (void)state;
    write_slice_text("{\"version\": 3, \"suite\": 5, \"job\": 1e999, \"parallelism\": -3,"
                     " \"tests\": [\"a.py\", 7, null, {\"x\": 1}, \"b.py\"],"
                     " \"muted\": [{\"scope\": \"s\", \"name\": \"n\"}, 3],"
                     " \"skipped\": \"not a list\", \"from_server\": \"yes\"}");
    slice_t *s = NULL;
    char *err = NULL;
    assert_true(slice_file_read(&cfg, &s, &err));
    assert_string_equal(s->suite, "");
    assert_string_equal(s->identifier, "");
    assert_int_equal(s->job, -1);
    assert_int_equal(s->parallelism, -1);
    assert_int_equal(s->tests.len, 2);
    assert_string_equal(s->tests.items[1], "b.py");
    assert_int_equal(s->n_muted, 2);
    assert_string_equal(s->muted[1].name, "");
    assert_int_equal(s->skipped.len, 0);
    assert_false(s->from_server);
    /* A slice that names no one is made for no one. */
    char *why = slice_file_mismatch(&cfg, s);
    assert_non_null(why);
    free(why);
    slice_file_free(s);
}

/* A refinement the plan phase could not make travels to the run phase:
 * the split files this job has a part of, and their ids on other jobs. */
static void deferred_refinement_round_trips(void **state)
{
    (void)state;
    plan_t p;
    make_plan(&p); /* this job is job 1 (cfg) */
    p.n_splits = 2;
    p.splits = xcalloc(2, sizeof *p.splits);
    p.splits[0] = (plan_split_t){.path = xstrdup("a.py"), .rest_job = 1};
    p.splits[1] = (plan_split_t){.path = xstrdup("zz_not_mine.py"), .rest_job = 0};
    strlist_push(&p.tasks[1].run, "a.py"); /* the rest of a.py */
    strlist_push(&p.tasks[0].run, "a.py::test_on_job_0");
    strlist_push(&p.tasks[0].run, "zz_not_mine.py");
    p.refine_deferred = true;
    char *err = NULL;
    slice_t *s = write_then_read(&p, &err);
    assert_non_null(s);
    assert_true(s->refine);
    assert_int_equal(s->n_splits, 1); /* only the split this job has a part of */
    assert_string_equal(s->splits[0].path, "a.py");
    assert_int_equal(s->splits[0].rest_job, 1);
    assert_int_equal(s->elsewhere.len, 1);
    assert_string_equal(s->elsewhere.items[0], "a.py::test_on_job_0");
    slice_file_free(s);
    make_plan(&p); /* not deferred: no refine member */
    s = write_then_read(&p, &err);
    assert_false(s->refine);
    assert_int_equal(s->n_splits, 0);
    slice_file_free(s);
}

static void made_for_another_job_is_named(void **state)
{
    (void)state;
    plan_t p;
    make_plan(&p);
    char *err = NULL;
    slice_t *s = write_then_read(&p, &err);
    char other_id[] = "build-9/step-2";
    char other_suite[] = "bakery";
    struct {
        config_t c;
        const char *why;
    } cases[] = {
        {cfg, NULL},
        {cfg, "plan identifier 'build-1/step-2', not 'build-9/step-2'"},
        {cfg, "suite 'shop', not 'bakery'"},
        {cfg, "job 2 of 2, not job 1 of 2"},
        {cfg, "job 2 of 2, not job 2 of 3"},
    };
    cases[1].c.identifier = other_id;
    cases[2].c.suite_slug = other_suite;
    cases[3].c.parallel_job = 0;
    cases[4].c.parallel_job_count = 3;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *why = slice_file_mismatch(&cases[i].c, s);
        if (!cases[i].why)
            assert_null(why);
        else if (!why || strcmp(why, cases[i].why) != 0)
            fail_msg("case %zu: %s", i, why ? why : "(matched)");
        free(why);
    }
    slice_file_free(s);
}

static void writer_names_the_file_it_cannot_write(void **state)
{
    (void)state;
    char missing[] = "/nonexistent-dir/state";
    config_t c = cfg;
    c.state_dir = missing;
    plan_t p;
    plan_init(&p, 2);
    char *err = NULL;
    assert_false(slice_file_write(&c, &p, &err));
    assert_non_null(err);
    assert_string_equal(err, "cannot write /nonexistent-dir/state/slice.json (No such file or "
                             "directory)");
    free(err);
    plan_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip_keeps_this_jobs_part),
        cmocka_unit_test(a_fallback_plan_is_not_from_the_server),
        cmocka_unit_test(no_slice_is_not_an_error),
        cmocka_unit_test(another_version_is_refused),
        cmocka_unit_test(hostile_members_are_left_out),
        cmocka_unit_test(deferred_refinement_round_trips),
        cmocka_unit_test(made_for_another_job_is_named),
        cmocka_unit_test(writer_names_the_file_it_cannot_write),
    };
    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
