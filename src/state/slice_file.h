/* slice_file: slice.json, the plan phase's hand-over to the run phase.
 *
 * It holds this job's tests, where the plan came from and why, the tests
 * Test Engine mutes or skips, and whom the slice was made for (plan
 * identifier, suite, job index and count), so a run never takes a slice made
 * for another job, suite or project (slice_file_mismatch).
 *
 * Format (version SLICE_FILE_VERSION): one JSON object in the state dir,
 * written atomically: "version", "suite", "source", "reason", "from_server",
 * "identifier", "job" (0-based), "parallelism", "tests" (node ids or files,
 * as pytest takes them), "muted" ([{"scope", "name"}]), "skipped", and, when
 * the plan phase could not ask pytest about the fallback's split files,
 * "refine": {"splits": [{"path", "rest_job"}], "elsewhere": [node ids of
 * those files other jobs run]}, for the run phase to settle (plan_refine.h),
 * and "estimate": {"seconds" (-1 none), "basis" ("test_engine",
 * "durations_file" or "none"), "samples" (Test Engine's timing samples, -1
 * not given), "with_history"}, this job's estimate for the run's estimated
 * against actual time (optional: a slice without it has no estimate).
 * A reader refuses another version: the plan phase must run again. */
#ifndef TEP_SLICE_FILE_H
#define TEP_SLICE_FILE_H
#include <stdbool.h>
#include "config/config.h"
#include "model/plan.h"

#define SLICE_FILE_VERSION 3

typedef struct {
    char *suite;
    char *source; /* plan_source_name() text */
    char *reason;
    bool from_server; /* metadata is posted only for server plans */
    char *identifier;
    long job; /* 0-based; -1 when the file had none */
    long parallelism;
    strlist_t tests;
    plan_test_ref_t *muted;
    size_t n_muted;
    strlist_t skipped;
    bool refine;          /* the split files' share is settled by the run phase */
    plan_split_t *splits; /* the split files this job has a part of (refine only) */
    size_t n_splits;
    strlist_t elsewhere;  /* their node ids on other jobs (refine only) */
    double estimate_s;    /* this job's estimate, -1 none */
    char *estimate_basis; /* "test_engine", "durations_file" or "none" */
    long samples;         /* Test Engine's timing samples behind it, -1 not given */
    size_t with_history;  /* entries whose estimate had history */
} slice_t;

/* Writes this job's part of the plan, and whom it is for, as slice.json. */
bool slice_file_write(const config_t *cfg, const plan_t *p, char **err);
/* Reads slice.json. No slice yet: true with *out NULL. A damaged file or
 * another version: false with *err (one line naming the file and what to
 * do). On true, *out is the caller's (slice_file_free). */
bool slice_file_read(const config_t *cfg, slice_t **out, char **err);
/* Why the slice was not made for this job ("job 1 of 2, not job 1 of 3";
 * caller frees), or NULL when it was. */
char *slice_file_mismatch(const config_t *cfg, const slice_t *s);
/* Frees a slice slice_file_read gave; NULL is fine. */
void slice_file_free(slice_t *s);

#endif
