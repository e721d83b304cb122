/* result: the one run-result model every later step shares.
 *
 * Both parsers feed it; retries merge into it (a test is identified by its
 * node id, scope::name, or name alone when the scope is empty); the
 * classifier, the report, the retry selectors and the upload read it. A test
 * that failed and then passed on a retry is flaky. */
#ifndef TEP_RESULT_H
#define TEP_RESULT_H
#include <stdbool.h>
#include <stddef.h>
#include "plan.h"

typedef enum { ST_UNKNOWN = 0, ST_PASSED, ST_FAILED, ST_SKIPPED } test_status_t;

typedef struct {
    char *node_id;
    char *scope;
    char *name;
    char *file;
    char *failure;          /* short reason of the latest failure, or NULL */
    test_status_t status;   /* latest */
    int attempts;           /* executions recorded */
    bool failed_before;     /* failed in an earlier attempt */
    bool muted;
    bool collection_error;
} test_result_t;

typedef struct {
    test_result_t *tests;
    size_t len, cap;
    size_t *slots;          /* open-addressing index into tests, SIZE_MAX = empty */
    size_t n_slots;
    char **muted_keys;      /* "scope\x1fname", sorted */
    size_t n_muted;
    size_t skipped_records; /* records that could not be read */
} run_result_t;

typedef struct {
    size_t total, passed_first, passed_retry, flaky, failed, muted_passed, muted_failed, skipped, unknown,
        collection_errors;
} result_stats_t;

void result_init(run_result_t *r, const plan_test_ref_t *muted, size_t n_muted);
void result_free(run_result_t *r);
/* Records one execution. scope may be "" (collection errors); file may be NULL. */
test_result_t *result_record(run_result_t *r, const char *scope, const char *name, const char *node_id,
                             const char *file, test_status_t status, const char *failure, bool collection_error);
test_result_t *result_find(const run_result_t *r, const char *node_id);
void result_stats(const run_result_t *r, result_stats_t *s);
/* Node id from the collector's scope and name. Caller frees. */
char *result_node_id(const char *scope, const char *name);
const char *result_status_name(test_status_t s);
test_status_t result_status_parse(const char *s);
bool result_is_flaky(const test_result_t *t);

#endif
