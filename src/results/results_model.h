/* results_model: the run result, kept in memory that grows with the failures, not
 * with the suite.
 *
 * Both parsers hand out one test_record_t per test record as they stream a
 * result file (never the whole file); every later step consumes that stream:
 * the run model here, the uploader, the durations artifact, the result-path
 * merge.
 *
 * The model (results_model_t) keeps only what the run, the retries and the
 * report need: counts of every outcome, and the tests that failed in some
 * attempt (node id, file for a collection error, the one-line cause, final
 * status, attempts, muted, flaky). Only failed tests are retried, so a test
 * that passed, was skipped or has no outcome is settled at once and only
 * counted; a record whose test is tracked (a retry's record, or a second
 * record in one file) updates it. A tracked test that failed and then passed
 * is flaky. A test is identified by its node id (scope::name, or name alone
 * when the scope is empty).
 *
 * One assumption makes that exact: an attempt records a test once, or records
 * its failure before anything else about it (pytest writes one record per
 * test). A passing record followed by a failing one for the same test in the
 * same attempt counts two tests. */
#ifndef TEP_RESULTS_MODEL_H
#define TEP_RESULTS_MODEL_H
#include <stdbool.h>
#include <stddef.h>
#include "model/plan.h"

typedef enum {
    ST_UNKNOWN = 0,
    ST_PASSED,
    ST_FAILED,
    ST_SKIPPED
} test_status_t;

/* The most of a cause line kept (the log, the annotation and run.json show it). */
#define RESULTS_MODEL_CAUSE_KEEP 2048

/* One record of a result file, as the parsers hand it out (valid during the
 * callback only). */
typedef struct {
    const char *scope;   /* collector scope, or JUnit classname; "" when absent */
    const char *name;    /* test name (a collection error: its file) */
    const char *node_id; /* as pytest prints it, relative to the rootdir */
    const char *file;    /* may be NULL */
    test_status_t status;
    const char *failure; /* reason text of a failure, or of a skip (bounded), or NULL */
    bool collection_error;
    bool error;          /* JUnit: an <error> (not a <failure>) */
    double duration;     /* seconds; < 0 when the record has none */
    const char *problem; /* why this is not a usable test record, or NULL;
                          * then only raw/start/end are meaningful */
    const char *raw;     /* collector JSON: the element's bytes as written */
    size_t raw_len;
    size_t start, end; /* the record's bytes in the file: a JUnit <testcase> element,
                        * a collector record (raw) */
} test_record_t;

typedef void (*record_fn)(const test_record_t *rec, void *user);

/* A test that failed in some attempt. */
typedef struct {
    char *node_id;
    char *file;           /* collection errors only (where the log points), else NULL */
    char *failure;        /* the cause of its latest failure, one line, or NULL */
    test_status_t status; /* latest */
    int attempts;         /* executions recorded */
    bool failed_before;   /* failed in an earlier attempt */
    bool muted;
    bool collection_error;
} test_result_t;

typedef struct {
    size_t total, passed_first, passed_retry, flaky, failed, muted_passed, muted_failed, skipped,
        unknown, collection_errors;
} results_model_stats_t;

typedef struct {
    test_result_t *tests; /* tracked tests, in the order they first failed */
    size_t len, cap;
    struct results_model_slot *slots; /* open-addressing index into tests */
    size_t n_slots;
    char **muted_keys; /* "scope\x1fname", sorted */
    size_t n_muted;
    results_model_stats_t settled; /* tests never tracked: counted only */
    size_t skipped_records;        /* records that could not be read */
    /* Sees every usable record results_model_add consumes, before the model
     * does (results_timing.h: durations and skip reasons); NULL for none. */
    record_fn observe;
    void *observe_user;
} results_model_t;

void results_model_init(results_model_t *r, const plan_test_ref_t *muted, size_t n_muted);
void results_model_free(results_model_t *r);
/* Room for n tracked tests (run.json says how many follow). */
void results_model_reserve(results_model_t *r, size_t n);
/* Consumes one record of the stream (a record with a problem is counted as
 * skipped). */
void results_model_add(results_model_t *r, const test_record_t *rec);
/* Takes back the count of a test settled with `status` (never tracked): a
 * stricter verdict for it follows as a record of its own. */
void results_model_unsettle(results_model_t *r, const char *scope, const char *name,
                            test_status_t status);
/* record_fn for a results_model_t. */
void results_model_add_fn(const test_record_t *rec, void *r);
/* Adds a tracked test as run.json stored it (takes nothing: copies). */
test_result_t *results_model_track(results_model_t *r, const char *node_id, const char *file,
                                   test_status_t status, const char *failure,
                                   bool collection_error);
test_result_t *results_model_find(const results_model_t *r, const char *node_id);
/* Stops tracking node_id (pytest has no such test any more: what it became
 * is tracked under its new id). Nothing happens when it is not tracked. */
void results_model_forget(results_model_t *r, const char *node_id);
void results_model_stats(const results_model_t *r, results_model_stats_t *s);
const char *results_model_status_name(test_status_t s);
test_status_t results_model_status_parse(const char *s);
bool results_model_is_flaky(const test_result_t *t);
/* The cause kept for a failure text: results_cause_of, cut to RESULTS_MODEL_CAUSE_KEEP. */
char *results_model_cause(const char *failure, const char *file);

#endif
