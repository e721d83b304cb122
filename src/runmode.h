/* runmode: how results come back from pytest.
 *
 * JSON (buildkite-test-collector's --json) when the command names --json or
 * the collector is importable by the Python that runs pytest (the command's
 * own interpreter if it starts with one, else python3, then python); JUnit
 * (--junit-xml / --junitxml, either spelling, '=' or space form) otherwise.
 * A command without {{resultPath}} gets the mode's option appended, so results
 * are never silently missing. */
#ifndef TEP_RUNMODE_H
#define TEP_RUNMODE_H
#include "config.h"

typedef enum { MODE_JSON, MODE_JUNIT } run_mode_t;

typedef struct {
    run_mode_t mode;
    char *test_cmd;     /* resolved templates */
    char *retry_cmd;
    char *why;          /* one line for the log */
} run_setup_t;

bool runmode_resolve(const config_t *cfg, run_setup_t *s, char **err);
void runmode_free(run_setup_t *s);
const char *runmode_ext(run_mode_t m);

#endif
