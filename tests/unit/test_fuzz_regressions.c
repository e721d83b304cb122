/* Every input the fuzzers (fuzz/, scripts/fuzz) found that broke an
 * invariant, as a unit test that fails without its fix. The raw crash inputs
 * are kept in fuzz/regressions/ and replayed here through the same entry
 * points. */
#include "unit.h"
#include "fs.h"
#include "plan.h"
#include "plan_json.h"
#include "run_events.h"
#include "run_nodeid.h"
#include <stdio.h>

static char *read_regression(const char *name, size_t *len)
{
    const char *src = getenv("TEP_SOURCE_DIR");
    char *path = NULL;
    if (asprintf(&path, "%s/fuzz/regressions/%s", src ? src : ".", name) < 0) return NULL;
    char *data = fs_read_file(path, len);
    if (!data) fail_msg("cannot read %s", path);
    free(path);
    return data;
}

/* fuzz_plan: a task key holding a newline ("7\n") went into the one-line
 * "rejected" summary verbatim, splitting it (and letting the server forge
 * log lines). */
static void plan_task_key_with_newline(void **state)
{
    (void)state;
    size_t len = 0;
    char *data = read_regression("plan-newline-in-task-key", &len);
    /* fuzz_plan input: parallelism byte, prefix line, body */
    assert_true(len > 1);
    size_t cut = 1;
    while (cut < len && data[cut] != '\n') cut++;
    assert_true(cut < len);
    data[cut] = '\0';
    const char *body = data + cut + 1;
    plan_t p;
    plan_init(&p, 1 + (unsigned char)data[0] % 16);
    char *err = NULL;
    assert_true(plan_json_parse(&p, body, data + 1, PLAN_JSON_ALL_JOBS, NULL, NULL, &err));
    assert_true(p.rejected.len > 0);
    for (size_t i = 0; i < p.rejected.len; i++)
        if (strpbrk(p.rejected.items[i], "\n\r"))
            fail_msg("rejected entry %zu spans lines: %s", i, p.rejected.items[i]);
    plan_free(&p);
    free(data);

    plan_init(&p, 2);
    assert_true(plan_json_parse(&p, "{\"tasks\":{\"1\\n\\u001b[31m\":{\"tests\":[]}}}", "",
                                PLAN_JSON_ALL_JOBS, NULL, NULL, &err));
    assert_int_equal(p.rejected.len, 1);
    assert_string_equal(p.rejected.items[0], "task '1??[31m' is not a job index below 2");
    plan_free(&p);
}

/* fuzz_run_events: a node id with ":::" made run_nodeid_junit_key find
 * overlapping separators, compute a negative length and abort the run phase
 * ("out of memory"). Every id the recorder hands out gets its JUnit key. */
static void key_of_id(const run_event_test_t *t, void *user)
{
    char *key = run_nodeid_junit_key(t->node_id);
    assert_non_null(strchr(key, '\x1f'));
    free(key);
    (*(size_t *)user)++;
}

static void run_events_colon_runs(void **state)
{
    (void)state;
    size_t len = 0;
    char *data = read_regression("run-events-colon-runs", &len);
    size_t seen = 0;
    run_events_scan_t scan;
    run_events_read_text(data, len, NULL, key_of_id, &seen, &scan);
    assert_true(seen > 0);
    run_events_scan_free(&scan);
    char *key = run_nodeid_junit_key("a.py:::::t");
    assert_non_null(strchr(key, '\x1f'));
    free(key);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(run_events_colon_runs),
        cmocka_unit_test(plan_task_key_with_newline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
