/* results_timing: how long this job took against its estimate, its slowest tests,
 * and why tests were skipped, in memory that does not grow with the suite.
 *
 * People judge a split by estimated against actual time per job, and a
 * slow job by its slowest tests; skipped tests were only counted. The run
 * model hands every test record it consumes to results_timing_add
 * (results_model.h's observer), whichever reader produced it: pytest's own
 * reports (the recorder's events carry each test's duration and skip
 * message, in JSON mode too), else the result file (JUnit's time and
 * <skipped message>, the collector's duration). What it keeps is bounded
 * whatever the suite (a million results cost the same as ten):
 *   - the RESULTS_TIMING_SLOWEST slowest tests, in a min-heap, one entry per
 *     node id (a test retried in-job keeps its slowest run);
 *   - the first RESULTS_TIMING_REASONS distinct skip reasons, each with its count
 *     and one example test; skips with any further reason are only counted;
 *     reasons are cut to RESULTS_TIMING_REASON_MAX bytes, "Skipped: " dropped
 *     (pytest's JUnit writer drops it too, so both modes read alike).
 * The estimate comes from the slice (slice_file.h) and the actual time from
 * the attempts' clocks (run_record.h); run.json stores all of it for the
 * report phase. Never prints (run_summary.h and report_timing.h show it). */
#ifndef TEP_RESULTS_TIMING_H
#define TEP_RESULTS_TIMING_H
#include <stdbool.h>
#include <stddef.h>
#include "results/results_model.h"

#define RESULTS_TIMING_SLOWEST    10
#define RESULTS_TIMING_REASONS    20
#define RESULTS_TIMING_REASON_MAX 300
#define RESULTS_TIMING_ID_MAX     1000 /* a longer node id is kept cut, marked "..." */

typedef struct {
    char *node_id;
    double seconds;
} results_timing_test_t;

typedef struct {
    char *reason; /* "" when pytest gave none */
    size_t count;
    char *example; /* the first test skipped for it */
} results_timing_reason_t;

typedef struct {
    /* this job's estimate, from the plan (slice.json) */
    double estimate_s;    /* -1: none */
    char *estimate_basis; /* "test_engine", "durations_file" or "none" */
    long samples;         /* Test Engine's timing samples behind it, -1 not given */
    size_t with_history;  /* entries whose estimate had history */
    size_t entries;       /* entries in the slice */
    /* what the run saw */
    results_timing_test_t slowest[RESULTS_TIMING_SLOWEST]; /* a min-heap while adding */
    size_t n_slowest;
    results_timing_reason_t reasons[RESULTS_TIMING_REASONS];
    size_t n_reasons;
    size_t skipped;       /* skipped test records seen */
    size_t skipped_other; /* of those, with a reason past the first RESULTS_TIMING_REASONS */
    size_t timed;         /* records with a duration */
    double tests_s;       /* their durations summed */
} results_timing_t;

void results_timing_init(results_timing_t *t);
void results_timing_free(results_timing_t *t);
/* Takes one test record (a record_fn for results_model's observer). */
void results_timing_add(results_timing_t *t, const test_record_t *rec);
void results_timing_add_fn(const test_record_t *rec, void *t);
/* Adds a slowest-test entry or a reason as run.json stored them (report). */
void results_timing_put_slow(results_timing_t *t, const char *node_id, double seconds);
void results_timing_put_reason(results_timing_t *t, const char *reason, size_t count,
                               const char *example);
/* The slowest tests, slowest first (ties by node id): fills out[] with
 * t->n_slowest borrowed entries. */
void results_timing_slowest(const results_timing_t *t,
                            results_timing_test_t out[RESULTS_TIMING_SLOWEST]);
/* The reason text kept for pytest's skip message (caller frees). */
char *results_timing_reason_text(const char *message);
/* One line for people on this job's time against its estimate, e.g.
 * "estimated 12.0s by Test Engine (340 timing samples, 18 of 20 entries
 * with history), took 13.4s (1.4s more, +12%)"; took_s < 0 when nothing ran.
 * Caller frees. */
char *results_timing_words(const results_timing_t *t, double took_s);

#endif
