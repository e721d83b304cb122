/* Server plan parsing: plan_json_parse on any body, with a parallelism and
 * the job to read (or all) from the first byte and a location prefix from
 * the first line. Invariant: every entry that reaches a task passes the
 * selector guard (nothing hostile can reach pytest's argv), only the job's
 * task has entries, and estimates are finite. */
#include "fuzz_util.h"
#include "model/plan.h"
#include "plan/plan_json.h"
#include "plan/plan_summary.h"
#include "pytest/selector.h"
#include <math.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0) return 0;
    long parallelism = 1 + data[0] % 16;
    long job = (long)(data[0] / 16) % (parallelism + 1) - 1; /* -1: PLAN_JSON_ALL_JOBS */
    char *prefix, *body;
    fuzz_split(data + 1, size - 1, '\n', &prefix, &body);
    plan_t p;
    plan_init(&p, parallelism);
    char *err = NULL;
    bool ok = plan_json_parse(&p, body, prefix, job, NULL, NULL, &err);
    FUZZ_CHECK(ok || err != NULL);
    for (long j = 0; j < parallelism; j++) {
        const plan_task_t *t = &p.tasks[j];
        FUZZ_CHECK(t->estimated_s == -1 || (isfinite(t->estimated_s) && t->estimated_s >= 0));
        for (size_t i = 0; i < t->run.len; i++) {
            const char *s = t->run.items[i];
            FUZZ_CHECK(job == PLAN_JSON_ALL_JOBS || j == job);
            FUZZ_CHECK(selector_problem(s, strlen(s)) == NULL);
            FUZZ_CHECK(s[0] != '-' && s[0] != '@' && s[0] != '/');
        }
    }
    for (size_t i = 0; i < p.rejected.len; i++)
        FUZZ_CHECK(strchr(p.rejected.items[i], '\n') == NULL);
    plan_summary_print_loads(&p);
    free(err);
    plan_free(&p);
    free(prefix);
    free(body);
    return 0;
}
