/* log: the tool's voice on stdout/stderr.
 *
 * One prefix, optional colour (off with NO_COLOR or when stderr is not a
 * terminal), and a debug switch. Secrets never reach these functions: callers
 * pass redacted text.
 *
 * Every call prints exactly one line, and much of what we print comes from
 * outside (server answers, plan entries, test names, failure reasons, file
 * names). So the sink renders control characters visibly (\n, \r, \t, \x1b,
 * \x7f, \u009b...): no ESC sequence repaints the terminal, no embedded
 * newline starts a fake "+++" section, no carriage return hides text. A line
 * of log_info that would still begin with a Buildkite section marker gets a
 * leading space; only log_section opens sections. */
#ifndef TEP_LOG_H
#define TEP_LOG_H
#include <stdbool.h>
#include "base/buf.h"

#define TEP_NAME "test-engine-pytest"

void log_set_debug(bool on);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* stdout */
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* stderr, "warning:" */
/* A warn_fn (err.h) that shows each line as log_warn does, and one that shows
 * it as log_error does: what a phase hands a module that does not print. */
void log_warn_line(void *user, const char *line);
void log_error_line(void *user, const char *line);
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2))); /* stderr, "error:" */
void log_debug(const char *fmt, ...)
    __attribute__((format(printf, 1, 2))); /* stderr when enabled */
/* A Buildkite log section header: "+++ test-engine-pytest: <title>" (stdout). */
void log_section(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints a block of lines to stderr, each escaped as above (for multi-line
 * text such as the exit-4 forensics; the block's own line breaks stay). The
 * caller starts every line with its own text: a "--- " line here is meant. */
void log_block(const char *text);
/* Appends s to out with every control character rendered visibly. */
void log_escape(buf_t *out, const char *s);

#endif
