/* result_mode: how results come back from pytest, decided before anything runs.
 *
 * JSON (buildkite-test-collector's --json) when the command names --json, or
 * when the collector is a registered pytest plugin (a "pytest11" entry point,
 * which is how pytest loads it without -p) for the Python that runs pytest;
 * JUnit (--junit-xml / --junitxml, '=' or space form) otherwise. Importable
 * is not enough: pytest only knows --json once the plugin is loaded.
 *
 * "The Python that runs pytest" is the test command's own interpreter (see
 * interp.h), else BUILDKITE_TEST_ENGINE_PYTHON; it is asked once, in the
 * environment pytest gets (without our tokens). The same question tells us
 * when pytest is not installed for it at all: that is a configuration error
 * (78) now, not an unreadable result (65) after a run. A command without
 * {{resultPath}} gets the mode's option appended, so results are never
 * silently missing.
 *
 * Asked once per job: the plan phase asks ahead (result_mode_probe_ahead)
 * and the answer is kept in the job's state folder as well as in the user
 * cache (interp_cache.h), so `run` starts no Python for it even in a fresh
 * container; `run` asks again only when its interpreter or environment is
 * not the plan's. */
#ifndef TEP_RESULT_MODE_H
#define TEP_RESULT_MODE_H
#include "base/buf.h"
#include "config/config.h"

typedef enum {
    MODE_JSON,
    MODE_JUNIT
} result_mode_t;

typedef struct {
    result_mode_t mode;
    char *test_cmd; /* resolved templates */
    char *retry_cmd;
    char *why; /* one line for the log */
} run_setup_t;

/* False (with *err, one line) on a configuration problem: shell syntax in a
 * command, or pytest not installed for the command's interpreter. */
bool result_mode_resolve(const config_t *cfg, run_setup_t *s, char **err);

/* What the interpreter asked (a Python running result_mode.c's probe script)
 * answered: its line "tep-probe pytest=N collector=N registered=N" anywhere
 * in its output, else `detail`, one line saying what it printed last (the
 * caller frees it). Exposed for the fuzz target. */
typedef struct {
    bool answered;
    int pytest, collector, registered;
    char *detail; /* why it did not answer */
} result_mode_probe_t;
void result_mode_probe_read(const buf_t *out, result_mode_probe_t *p);
/* The plan phase's question ahead of `run`: asks the test command's Python
 * what result_mode_resolve would ask, and keeps the answer for this job
 * (the state folder, which must be prepared) and the next. Silent, and
 * never an error: when that Python does not resolve here (a venv the step
 * command makes or activates), or the answer could be kept nowhere, nothing
 * runs; whatever it answers, `run` judges it, or asks again. */
void result_mode_probe_ahead(const config_t *cfg);
void result_mode_free(run_setup_t *s);
const char *result_mode_ext(result_mode_t m);

#endif
