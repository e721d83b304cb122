#include "results/results.h"
#include "results/results_json.h"
#include "results/results_junit.h"
#include <stdlib.h>

bool results_read_file(result_mode_t mode, const char *path, record_fn fn, void *user, warn_fn warn,
                       void *warn_user, char **err)
{
    char *error;
    if (mode == MODE_JSON) {
        results_json_scan_t scan;
        results_json_read_records(path, fn, user, warn, warn_user, &scan);
        error = scan.error;
    } else {
        results_junit_scan_t scan;
        results_junit_read_records(path, fn, user, warn, warn_user, &scan);
        error = scan.error;
    }
    if (!error) return true;
    free(*err);
    *err = error; /* the reader's message, handed over as it is */
    return false;
}
