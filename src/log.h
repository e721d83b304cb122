/* log: the tool's voice on stdout/stderr.
 *
 * One prefix, optional colour (off with NO_COLOR or when stderr is not a
 * terminal), and a debug switch. Secrets never reach these functions: callers
 * pass redacted text. */
#ifndef TEP_LOG_H
#define TEP_LOG_H
#include <stdbool.h>

#define TEP_NAME "test-engine-pytest"

void log_set_debug(bool on);
bool log_debug_enabled(void);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* stdout */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));   /* stderr, "warning:" */
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* stderr, "error:" */
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));  /* stderr when enabled */
/* A Buildkite log section header: "+++ test-engine-pytest: <title>" (stdout). */
void log_section(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
