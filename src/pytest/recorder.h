/* recorder: loads our recorder plugin (src/recorder.py) into every
 * pytest the run phase starts, so each run leaves pytest's own reports in an
 * events file (format and uses: results_events.h).
 *
 * It goes in through the environment (PYTEST_PLUGINS, with its directory on
 * PYTHONPATH), not through -p on the command line: the test command may be a
 * wrapper (./run.sh, uv run, poetry run) whose arguments we do not control,
 * and the environment reaches pytest through most of them. A launcher that
 * resets PYTHONPATH yet passes PYTEST_PLUGINS on makes pytest stop with
 * 'Error importing plugin "_tep_recorder"' before it runs anything; the run
 * phase sees that line (recorder_load_failed) and runs that pytest again
 * without the recorder, so the recorder can never cost a run. Without it the
 * run phase counts from the result file alone, as it always could.
 *
 * The recorder writes only in the process that reports (pytest, or xdist's
 * controller), appends one flushed line per event, and never raises: a file
 * it cannot write leaves a gap the run phase notices (no "end" line). */
#ifndef TEP_RECORDER_H
#define TEP_RECORDER_H
#include <stdbool.h>
#include "base/strlist.h"

#define RECORDER_MODULE "_tep_recorder"

typedef struct {
    char *dir; /* the private directory holding the module, NULL when off */
} recorder_t;

/* Writes the module into a private directory. false with *err when it
 * cannot (the run goes on without it). */
bool recorder_start(recorder_t *r, char **err);
/* Whether a pytest started now gets the recorder. */
bool recorder_on(const recorder_t *r);
/* env (the child's environment) plus what loads the recorder writing to
 * events_path: PYTHONPATH, PYTEST_PLUGINS (the user's own kept), and the
 * output variable. */
void recorder_env(const recorder_t *r, strlist_t *env, const char *events_path);
/* pytest's line saying it could not import the recorder. */
bool recorder_load_failed(const char *line);
/* Removes the directory. */
void recorder_stop(recorder_t *r);

#endif
