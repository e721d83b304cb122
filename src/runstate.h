/* runstate: run.json, the run phase's record for the report phase.
 *
 * Everything report needs, so it never re-runs or re-parses pytest output it
 * does not have to: mode, plan source, the exit status and why, each attempt
 * (result file, exit code, times, how many tests it ran), every test's final
 * state, and the exit-4 forensics text. */
#ifndef TEP_RUNSTATE_H
#define TEP_RUNSTATE_H
#include <stdbool.h>
#include "config.h"
#include "result.h"

typedef struct {
    int index;
    char *result_file;      /* relative to the state dir */
    int exit_code;
    int signal;
    double started, ended;  /* epoch seconds */
    size_t n_selectors;
} attempt_t;

typedef struct {
    char *mode;             /* "json" | "junit" */
    char *plan_source;
    char *plan_reason;
    bool from_server;
    int exit_status;
    bool terminal;
    char *why;
    char *forensics;
    attempt_t *attempts;
    size_t n_attempts;
    run_result_t result;    /* final state of every test */
} run_record_t;

bool runstate_write(const config_t *cfg, const run_record_t *rec, char **err);
/* false with *err NULL when run.json does not exist. */
bool runstate_read(const config_t *cfg, run_record_t *rec, char **err);
void runstate_free(run_record_t *rec);

#endif
