/* run_classify: turns what happened into the documented exit status, and a
 * failure text into the one line a person needs.
 *
 * Order matters: a signal wins (128+N); a command that could not start, or
 * that pytest refused as a usage error, is a configuration problem; then anything terminal
 * (collection errors, an untagged exit 2 in JSON mode, results that cannot be read) gives the
 * terminal status, because a retry cannot fix them; then remaining unmuted failures give the
 * failure status; then pytest's own 2-5 pass through; a pytest exit 1 with only muted failures is a
 * pass; an exit 1 with no failure recorded is still a failure (never report a failing pytest as
 * passed).
 *
 * A slice too large for one command line runs as several pytest invocations;
 * run_classify_combine_exit folds their exit codes into the one a single pytest
 * run would have given. */
#ifndef TEP_RUN_CLASSIFY_H
#define TEP_RUN_CLASSIFY_H
#include <stdbool.h>
#include <stddef.h>
#include "config/config.h"

typedef struct {
    int last_exit;  /* last pytest exit code */
    int signal;     /* signal that ended pytest (or that we forwarded), 0 if none */
    bool timed_out; /* the signal came from BUILDKITE_TEST_ENGINE_TIMEOUT */
    bool cancelled; /* we were sent SIGTERM/SIGINT/SIGHUP and passed it on */
    bool json_mode;
    bool unreadable; /* a result file could not be read after pytest finished */
    size_t collection_errors;
    size_t failed; /* unmuted, not collection errors */
    size_t muted_failed;
    bool no_tests;    /* the slice was empty */
    bool not_started; /* the test command could not be started: configuration */
    bool usage_error; /* pytest refused the command (exit 4 usage, unknown -p plugin) */
} outcome_t;

/* Returns the exit status and sets *terminal when it is the terminal one. */
int run_classify(const config_t *cfg, const outcome_t *o, bool *terminal);

/* pytest's exit code for two parts of one run (so_far < 0: none yet). As one
 * run: a usage error (4) wins, then an internal error (3), then an
 * interruption such as a collection error (2), then failures (1), then
 * success (0); "no tests collected" (5) only when every part collected none. */
int run_classify_combine_exit(int so_far, int next);

#endif
