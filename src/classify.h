/* classify: turns what happened into the documented exit status.
 *
 * Order matters: a signal wins (128+N); a command that could not start is a
 * configuration problem; then anything terminal (collection
 * errors, an untagged exit 2 in JSON mode, results that cannot be read) gives
 * the terminal status, because a retry cannot fix them; then remaining unmuted
 * failures give the failure status; then pytest's own 2-5 pass through; a
 * pytest exit 1 with only muted failures is a pass; an exit 1 with no failure
 * recorded is still a failure (never report a failing pytest as passed). */
#ifndef TEP_CLASSIFY_H
#define TEP_CLASSIFY_H
#include <stdbool.h>
#include <stddef.h>
#include "config.h"

typedef struct {
    int last_exit;              /* last pytest exit code */
    int signal;                 /* signal that ended pytest (or that we forwarded), 0 if none */
    bool json_mode;
    bool unreadable;            /* a result file could not be read after pytest finished */
    size_t collection_errors;
    size_t failed;              /* unmuted, not collection errors */
    size_t muted_failed;
    bool no_tests;              /* the slice was empty */
    bool not_started;           /* the test command could not be started: configuration */
} outcome_t;

/* Returns the exit status and sets *terminal when it is the terminal one. */
int classify(const config_t *cfg, const outcome_t *o, bool *terminal);

#endif
