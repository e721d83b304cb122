/* plan_estimate: where each entry's estimated time came from, for `plan --explain`.
 *
 * A plan says which job runs which entry; people asking why a split is
 * uneven also need each entry's estimate and its origin: Test Engine's
 * timing history (with its sample size), Test Engine's default for entries
 * it has no history of, the durations file (a file's time, a test's time, or
 * what a split file's tests leave over), the mean of the known durations the
 * fallback gives to an unknown file, or none at all (round-robin). The
 * planners record that as they decide (plan_json.c, plan_fallback.c), only
 * when plan_t.estimates is set, so an explanation is the very computation
 * that made the plan, never a second guess at it, and an ordinary job pays
 * nothing for it.
 *
 * Notes are owned copies (the planners move and free their strings), looked
 * up by entry with a binary search once recorded. Never prints. */
#ifndef TEP_PLAN_ESTIMATE_H
#define TEP_PLAN_ESTIMATE_H
#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

typedef enum {
    PLAN_EST_NONE,           /* no estimate: round-robin, or the server gave none */
    PLAN_EST_SERVER_TIMING,  /* Test Engine's timing history (sample size > 0) */
    PLAN_EST_SERVER_DEFAULT, /* Test Engine's default: it has no history (sample size 0) */
    PLAN_EST_SERVER,         /* Test Engine's estimate, no sample size given */
    PLAN_EST_DURATIONS_FILE, /* the durations file: this file's (or node id's) time */
    PLAN_EST_DURATIONS_TEST, /* the durations file: a test of a split file */
    PLAN_EST_DURATIONS_REST, /* a split file's time its handed-out tests leave over */
    PLAN_EST_MEAN_OF_KNOWN,  /* not in the durations file: the mean of the known entries */
} plan_est_source_t;

typedef enum {
    PLAN_EST_FORMAT_FILE,
    PLAN_EST_FORMAT_EXAMPLE,
    PLAN_EST_FORMAT_SELECTOR,
} plan_est_format_t;

typedef struct {
    char *entry;    /* what pytest gets (a path or node id) */
    double seconds; /* -1: no estimate */
    long samples;   /* Test Engine's timing_sample_size, -1 when not given */
    plan_est_source_t source;
    plan_est_format_t format;
    size_t seq; /* when it was recorded (of two notes for one entry, the later wins) */
} plan_est_t;

typedef struct {
    plan_est_t *v;
    size_t len, cap;
    bool sorted;
    double mean_guess_s;        /* the fallback's guess for unknown entries, -1 none */
    char *timing_metadata_json; /* Test Engine's timing_metadata, verbatim, or NULL */
    double server_default_s[3]; /* its default_duration per format (seconds), -1 none */
    double known_timings_ratio; /* its known_timings_ratio, -1 when not given */
    size_t next_seq;
} plan_estimates_t;

plan_estimates_t *plan_estimates_new(void);
void plan_estimates_delete(plan_estimates_t *e);
/* Records one entry's estimate (copies entry). A later note for the same
 * entry replaces the earlier one. */
void plan_estimates_add(plan_estimates_t *e, const char *entry, double seconds, long samples,
                        plan_est_source_t source, plan_est_format_t format);
/* The note for entry, or NULL. */
plan_est_t *plan_estimates_find(plan_estimates_t *e, const char *entry);
/* Test Engine's timing_metadata and known_timings_ratio from a plan answer. */
void plan_estimates_read_server(plan_estimates_t *e, const cJSON *plan);
/* Whether the estimate is one the source has history for (timing samples, or
 * a duration the file recorded); false for defaults, guesses and none. */
bool plan_est_has_history(plan_est_source_t source);
/* Short words for people ("Test Engine timing") and a token for JSON
 * ("test_engine_timing"). */
const char *plan_est_source_words(plan_est_source_t source);
const char *plan_est_source_token(plan_est_source_t source);
const char *plan_est_format_name(plan_est_format_t format);
/* "selector" / "example" / anything else as a file. */
plan_est_format_t plan_est_format_parse(const char *format);

#endif
