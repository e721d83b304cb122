/* run_state: what the run phase carries from attempt to attempt.
 *
 * run_phase.c owns it (start to verdict); run_attempt.c and run_part.c fill
 * it in as attempts and their pytest invocations end: the results read, what
 * could not be read, why the command did not start, what exit 4 named. */
#ifndef TEP_RUN_STATE_H
#define TEP_RUN_STATE_H
#include "config/config.h"
#include "run/run_classify.h"
#include "pytest/result_mode.h"
#include "run/run_exit4.h"
#include "state/run_record.h"
#include "pytest/recorder.h"
#include "base/strlist.h"

/* What the run phase carries from attempt to attempt. */
typedef struct {
    config_t *cfg;
    run_setup_t setup;
    run_record_t rec;
    outcome_t outcome;
    strlist_t env;          /* the child's environment: ours without the tokens */
    strlist_t unreadable;   /* one line per result file that could not be read */
    char *missing_path;     /* from pytest's "file or directory not found" line */
    char *start_error;      /* set when the command could not be started */
    char *usage;            /* pytest refused the command: its words, one line */
    const char *usage_cmd;  /* which command it refused (the variable's name) */
    recorder_t recorder;    /* pytest's own reports (results_events.h) */
    char *cwd;              /* where pytest runs: node ids are made relative to it */
    size_t attempt_entries; /* entries given to the attempt that stopped early */
    size_t not_run;         /* of those, entries no pytest ran */
} run_state_t;

#endif
