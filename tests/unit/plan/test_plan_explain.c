/* plan_explain: the explanation is the plan's own computation. For a server
 * answer (plan_json) and for the fallback (LPT, split files), each job's
 * notes add up to the job's estimate; the bound is max(total/jobs, longest);
 * --plan-out is Test Engine's plan shape plus the sources, written only over
 * a file this tool wrote; the text names each estimate's origin. */
#include "unit.h"
#include "model/durations.h"
#include "base/fs.h"
#include "model/plan.h"
#include "plan/plan_explain.h"
#include "plan/plan_fallback.h"
#include "plan/plan_json.h"
#include "scratch.h"
#include <math.h>
#include <stdio.h>
#include <unistd.h>

static const char *ANSWER =
    "{\"identifier\":\"b/s\",\"parallelism\":2,\"tasks\":{"
    "\"0\":{\"node_number\":0,\"tests\":["
    "{\"path\":\"svc/tests/slow.py\",\"format\":\"selector\",\"value\":\"tests/slow.py\","
    "\"estimated_duration\":8000,\"timing_sample_size\":42},"
    "{\"path\":\"svc/tests/new.py\",\"format\":\"file\",\"estimated_duration\":1000,"
    "\"timing_sample_size\":0}]},"
    "\"1\":{\"node_number\":1,\"tests\":["
    "{\"path\":\"svc/tests/a.py::t\",\"format\":\"example\",\"estimated_duration\":2500},"
    "{\"path\":\"svc/tests/b.py\",\"format\":\"file\"}]}},"
    "\"timing_metadata\":{\"selector\":{\"median_duration\":8000,\"default_duration\":1000}},"
    "\"known_timings_ratio\":0.5,"
    "\"muted_tests\":[{\"scope\":\"tests/a.py\",\"name\":\"t_m\"}],"
    "\"skipped_tests\":[{\"scope\":\"tests/b.py\",\"name\":\"t_s\"}]}";

static config_t explain_config(void)
{
    config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.identifier = "b/s";
    cfg.durations_file = "";
    cfg.parallel_job_count = 2;
    return cfg;
}

static void server_plan(plan_t *p)
{
    plan_init(p, 2);
    p->estimates = plan_estimates_new();
    char *err = NULL;
    assert_true(plan_json_parse(p, ANSWER, "svc/", PLAN_JSON_ALL_JOBS, NULL, NULL, &err));
    p->source = PLAN_SERVER_CREATED;
}

static void a_server_answer_explained(void **state)
{
    (void)state;
    plan_t p;
    server_plan(&p);
    /* the per-job basis every job's summary shows */
    assert_int_equal(p.tasks[0].samples, 42);
    assert_int_equal(p.tasks[0].n_history, 1);
    assert_int_equal(p.tasks[1].samples, -1); /* none given */
    const plan_est_t *slow = plan_estimates_find(p.estimates, "tests/slow.py");
    assert_int_equal(slow->source, PLAN_EST_SERVER_TIMING);
    assert_int_equal(slow->format, PLAN_EST_FORMAT_SELECTOR);
    assert_int_equal(plan_estimates_find(p.estimates, "tests/new.py")->source,
                     PLAN_EST_SERVER_DEFAULT);
    assert_int_equal(plan_estimates_find(p.estimates, "tests/a.py::t")->source, PLAN_EST_SERVER);
    assert_int_equal(plan_estimates_find(p.estimates, "tests/b.py")->source, PLAN_EST_NONE);
    plan_explain_bound_t b;
    plan_explain_bound(&p, &b);
    assert_float_equal(b.total_s, 11.5, 1e-9);
    assert_float_equal(b.longest_s, 8, 1e-9);
    assert_string_equal(b.longest, "tests/slow.py");
    assert_float_equal(b.bound_s, 8, 1e-9); /* 11.5 / 2 < 8 */
    assert_float_equal(b.makespan_s, 9, 1e-9);
    assert_int_equal(b.estimated, 3);
    assert_int_equal(b.entries, 4);
    plan_free(&p);
}

static void plan_out_has_test_engines_shape(void **state)
{
    (void)state;
    plan_t p;
    server_plan(&p);
    config_t cfg = explain_config();
    cJSON *doc = plan_explain_json(&cfg, &p);
    char *text = cJSON_PrintUnformatted(doc);
    /* our member first: what marks the file as ours */
    assert_true(strncmp(text, "{\"explain\":{\"generator\":\"test-engine-pytest\"", 44) == 0);
    free(text);
    assert_string_equal(cJSON_GetObjectItem(doc, "identifier")->valuestring, "b/s");
    const cJSON *t0 = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "tasks"), "0");
    assert_int_equal(cJSON_GetObjectItem(t0, "node_number")->valueint, 0);
    assert_int_equal(cJSON_GetObjectItem(t0, "estimated_duration")->valueint, 9000);
    assert_int_equal(cJSON_GetObjectItem(t0, "timing_sample_size")->valueint, 42);
    const cJSON *slow = cJSON_GetArrayItem(cJSON_GetObjectItem(t0, "tests"), 0);
    assert_string_equal(cJSON_GetObjectItem(slow, "path")->valuestring, "tests/slow.py");
    assert_string_equal(cJSON_GetObjectItem(slow, "value")->valuestring, "tests/slow.py");
    assert_string_equal(cJSON_GetObjectItem(slow, "format")->valuestring, "selector");
    assert_int_equal(cJSON_GetObjectItem(slow, "estimated_duration")->valueint, 8000);
    assert_string_equal(cJSON_GetObjectItem(slow, "estimate_source")->valuestring,
                        "test_engine_timing");
    const cJSON *t1 = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "tasks"), "1");
    const cJSON *b = cJSON_GetArrayItem(cJSON_GetObjectItem(t1, "tests"), 1);
    assert_null(cJSON_GetObjectItem(b, "estimated_duration")); /* none: absent, as bktec omits */
    assert_null(cJSON_GetObjectItem(t1, "timing_sample_size"));
    const cJSON *e = cJSON_GetObjectItem(doc, "explain");
    assert_string_equal(cJSON_GetObjectItem(e, "source")->valuestring, "server_created");
    const cJSON *none = cJSON_GetObjectItem(e, "no_history");
    assert_int_equal(cJSON_GetArraySize(none),
                     3); /* new.py (default), a.py::t (no samples), b.py */
    assert_float_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(e, "bound"), "seconds")->valuedouble,
                       8, 1e-9);
    const cJSON *meta = cJSON_GetObjectItem(doc, "timing_metadata");
    assert_int_equal(
        cJSON_GetObjectItem(cJSON_GetObjectItem(meta, "selector"), "default_duration")->valueint,
        1000);
    const cJSON *skipped = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "skipped_tests"), 0);
    assert_string_equal(cJSON_GetObjectItem(skipped, "scope")->valuestring, "tests/b.py");
    assert_string_equal(cJSON_GetObjectItem(skipped, "name")->valuestring, "t_s");
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "muted_tests")), 1);
    cJSON_Delete(doc);
    plan_free(&p);
}

/* Loads durations from JSON text through the real reader. */
static void load(const char *json, durations_t *d)
{
    char *path = scratch_file("tep-explain", json, strlen(json));
    char *err = NULL;
    assert_true(durations_load(path, NULL, NULL, d, &err));
    unlink(path);
    free(path);
}

/* Each job's notes sum to its estimate, for LPT with a split file, guessed
 * files and covered tests, over many job counts. */
static void the_fallback_explains_its_own_loads(void **state)
{
    (void)state;
    durations_t d;
    load("{\"big.py::t1\": 3, \"big.py::t2\": 3, \"big.py::t3\": 3, \"big.py::t4\": 2,"
         " \"a.py::x\": 2, \"b.py::x\": 1.5, \"c.py\": 1}",
         &d);
    const char *names[] = {"a.py", "b.py", "big.py", "c.py", "new1.py", "new2.py"};
    for (long jobs = 1; jobs <= 6; jobs++) {
        strlist_t files = STRLIST_INIT;
        for (size_t i = 0; i < 6; i++) strlist_push(&files, names[i]);
        plan_t p;
        plan_init(&p, jobs);
        p.estimates = plan_estimates_new();
        plan_fallback(&p, &files, &d);
        size_t known = 0, entries = 0;
        for (long j = 0; j < jobs; j++) {
            double sum = 0;
            for (size_t i = 0; i < p.tasks[j].run.len; i++) {
                const plan_est_t *n = plan_estimates_find(p.estimates, p.tasks[j].run.items[i]);
                assert_non_null(n);
                sum += n->seconds;
                known += plan_est_has_history(n->source);
                entries++;
            }
            if (fabs(sum - p.tasks[j].estimated_s) > 1e-9)
                fail_msg("%ld jobs, job %ld: notes %.3f, estimate %.3f", jobs, j, sum,
                         p.tasks[j].estimated_s);
        }
        size_t history = 0;
        for (long j = 0; j < jobs; j++) history += p.tasks[j].n_history;
        assert_int_equal(history, known); /* the job's count is its entries' */
        assert_int_equal(plan_estimates_find(p.estimates, "new1.py")->source,
                         PLAN_EST_MEAN_OF_KNOWN);
        /* the mean of the known files: big 11, a 2, b 1.5, c 1 */
        assert_float_equal(p.estimates->mean_guess_s, 15.5 / 4, 1e-9);
        if (11 > 23.25 / (double)jobs) { /* big.py (11 s) exceeds total/jobs: split */
            assert_int_equal(p.n_splits, 1);
            assert_int_equal(plan_estimates_find(p.estimates, "big.py")->source,
                             PLAN_EST_DURATIONS_REST);
        }
        assert_true(entries >= 6);
        plan_free(&p);
        strlist_free(&files);
    }
    durations_free(&d);
}

static void print_call(void *arg)
{
    const plan_t *p = arg;
    config_t cfg = explain_config();
    plan_explain_print(&cfg, p, 4);
}

static void the_text_names_each_origin(void **state)
{
    (void)state;
    plan_t p;
    server_plan(&p);
    char *out = scratch_output(SCRATCH_STDOUT, print_call, &p, NULL);
    const char *want[] = {
        "+++ test-engine-pytest: plan explained: 4 entries over 2 jobs (4 discovered)\n",
        "Plan source: server (new plan)\n",
        ("Estimates: 1 with no estimate; 1 from Test Engine timing (42 samples); 1 from Test "
         "Engine default, no history; 1 from Test Engine estimate\n"),
        "Test Engine's default for a selector with no history: 1.000s\n",
        "Test Engine knows the timing of 50% of the entries\n",
        "Bound: 8.0s = max(total 11.5s / 2 jobs, longest entry 8.0s: tests/slow.py)\n",
        "Slowest job estimated at 9.0s: 1.12x the bound\n",
        ("Job 1 of 2: 2 entries, estimated 9.0s\n"
         "       8.000s  tests/slow.py  [Test Engine timing, 42 samples]\n"
         "       1.000s  tests/new.py  [Test Engine default, no history]\n"),
        ("Job 2 of 2: 2 entries, estimated 2.5s (some entries have no estimate)\n"
         "       2.500s  tests/a.py::t  [Test Engine estimate]\n"
         "           -   tests/b.py  [no estimate]\n"),
        ("Entries with no history (their time is a default or a guess):\n"
         "  tests/new.py (job 1)\n"),
        "Muted tests known to Test Engine: 1\n",
        "Skipped by Test Engine: tests/b.py t_s\n",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(out, want[i])) fail_msg("missing:\n%s\nin:\n%s", want[i], out);
    free(out);
    plan_free(&p);
}

static void plan_out_is_written_only_over_its_own(void **state)
{
    (void)state;
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep_planout");
    plan_t p;
    server_plan(&p);
    config_t cfg = explain_config();
    cJSON *doc = plan_explain_json(&cfg, &p);
    char *path = fs_join(dir, "plan.json");
    char *err = NULL;
    assert_true(plan_explain_write(path, doc, &err)); /* new */
    assert_true(plan_explain_write(path, doc, &err)); /* ours: replaced */
    char *text = fs_read_file(path, NULL);
    cJSON *back = cJSON_Parse(text);
    assert_non_null(back);
    assert_int_equal(cJSON_GetObjectItem(back, "parallelism")->valueint, 2);
    cJSON_Delete(back);
    free(text);
    /* someone else's file: refused, untouched */
    char *notes = fs_join(dir, "notes.json");
    assert_true(fs_write_file(notes, "{\"mine\": 1}\n", 12));
    assert_false(plan_explain_write(notes, doc, &err));
    assert_non_null(strstr(err, "it exists and is not a plan this tool wrote"));
    free(err);
    err = NULL;
    text = fs_read_file(notes, NULL);
    assert_string_equal(text, "{\"mine\": 1}\n");
    free(text);
    /* a symbolic link to our own file, and a folder: refused */
    char *link = fs_join(dir, "link.json");
    assert_int_equal(symlink(path, link), 0);
    assert_false(plan_explain_write(link, doc, &err));
    assert_non_null(strstr(err, "not a regular file"));
    free(err);
    err = NULL;
    assert_false(plan_explain_write(dir, doc, &err));
    assert_non_null(strstr(err, "not a regular file"));
    free(err);
    err = NULL;
    char *nowhere = fs_join(dir, "no/such/dir/plan.json");
    assert_false(plan_explain_write(nowhere, doc, &err));
    assert_non_null(strstr(err, "cannot write it"));
    free(err);
    free(nowhere);
    free(link);
    free(notes);
    free(path);
    cJSON_Delete(doc);
    plan_free(&p);
    scratch_dir_remove(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_server_answer_explained),
        cmocka_unit_test(plan_out_has_test_engines_shape),
        cmocka_unit_test(the_fallback_explains_its_own_loads),
        cmocka_unit_test(the_text_names_each_origin),
        cmocka_unit_test(plan_out_is_written_only_over_its_own),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
