/* Test helper: warn_fn callbacks for the modules that hand their warnings to
 * the phase (results readers, durations reader). */
#ifndef TEP_TEST_WARN_LINES_H
#define TEP_TEST_WARN_LINES_H
#include "base/log.h"
#include "base/strlist.h"

/* Shows each line as the run phase does: log_warn, on stderr. */
static inline void warn_to_stderr(void *user, const char *line)
{
    (void)user;
    log_warn("%s", line);
}

/* Shows each line as `durations merge` does: log_error, on stderr. */
static inline void error_to_stderr(void *user, const char *line)
{
    (void)user;
    log_error("%s", line);
}

/* Keeps each line in the strlist_t given as user. */
static inline void warn_to_list(void *user, const char *line)
{
    strlist_push(user, line);
}

#endif
