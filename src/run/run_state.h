/* run_state: what the run phase's steps share, split by who writes it.
 *
 * run_phase.c owns both from the start to the verdict. run_attempt.c and
 * run_part.c read the context (set up once, before the first attempt) and
 * write what they find into the findings and the run record (run_record.h),
 * each passed to them: a step's signature says what it reads and what it
 * fills in. */
#ifndef TEP_RUN_STATE_H
#define TEP_RUN_STATE_H
#include "config/config.h"
#include "run/run_classify.h"
#include "pytest/result_mode.h"
#include "run/run_exit4.h"
#include "state/run_record.h"
#include "pytest/recorder.h"
#include "base/strlist.h"

/* What every pytest run of the phase needs; read-only once attempts start. */
typedef struct {
    config_t *cfg;
    run_setup_t setup;   /* the result mode and the test command's interpreter */
    strlist_t env;       /* the child's environment: ours without the tokens */
    recorder_t recorder; /* pytest's own reports (results_events.h) */
    char *cwd;           /* where pytest runs: node ids are made relative to it */
} run_context_t;

/* What the attempts found, for the run phase's verdict. */
typedef struct {
    outcome_t outcome;
    strlist_t unreadable;   /* one line per result file that could not be read */
    char *missing_path;     /* from pytest's "file or directory not found" line */
    char *start_error;      /* set when the command could not be started */
    char *usage;            /* pytest refused the command: its words, one line */
    const char *usage_cmd;  /* which command it refused (the variable's name) */
    size_t attempt_entries; /* entries given to the attempt that stopped early */
    size_t not_run;         /* of those, entries no pytest ran */
    bool recorder_refused;  /* a pytest could not import the recorder: no further one gets it */
} run_findings_t;

#endif
