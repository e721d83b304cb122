/* results: a pytest result file of either format, read record by record.
 *
 * The run mode (result_mode.h) says which format this run's result files are in:
 * buildkite-test-collector's JSON (results_json.h) or pytest's JUnit XML
 * (results_junit.h). The phases read a file the same way whichever it is:
 * each record goes to fn while the reader streams the file (never the whole
 * file in memory); a record that is not a usable test record still goes to
 * fn, with rec->problem saying why, so it is counted, and also becomes a line
 * for warn (which may be NULL). */
#ifndef TEP_RESULTS_H
#define TEP_RESULTS_H
#include "base/err.h"
#include "pytest/result_mode.h"
#include "results/results_model.h"
#include <stdbool.h>

/* True when the file was read to its end. False with *err saying why it
 * could not be (missing, damaged, too large a record); the records before
 * the problem were still handed to fn. */
bool results_read_file(result_mode_t mode, const char *path, record_fn fn, void *user, warn_fn warn,
                       void *warn_user, char **err);

#endif
