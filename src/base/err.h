/* err: the one way errors travel through this code. Read this before
 * writing a function that can fail.
 *
 * 1. A function that can fail returns bool: true when it did its job, false
 *    when it did not. Its last parameter is `char **err`: on false, *err is a
 *    heap-allocated message of one line that names the input and says what to
 *    do ("cannot read slice.json (...): run `test-engine-pytest plan` first"),
 *    owned and freed by the caller. On true, *err is left alone; callers set
 *    it to NULL first. err is never NULL. err_set() fills it and returns
 *    false, so a failure is one line: `return err_set(err, "...", ...);`.
 * 2. Nothing there is not a failure: a lookup that may find nothing returns
 *    true and sets its output to NULL (or an empty list).
 * 3. When the caller has more ways on than "worked" or "failed" (fall back to
 *    the local plan, stop the job, try again), the function returns an enum
 *    of those ways instead of bool; every value but the success one comes
 *    with *err, as above (plan_phase.h documents the one exception: a stop
 *    whose reasons were already logged one line per file).
 * 4. A stream (a result-file reader, the HTTP client, a child process) fails
 *    on some later call, so it keeps its message in its own struct as
 *    `char *error`: NULL while all is well, set with err_set(&s->error, ...),
 *    freed with the struct.
 * 5. Only the phase modules print: cmd_*.c and plan_*.c, run_*.c, report_*.c.
 *    Everything else (buf, strlist, config, state_dir, http, process, agent,
 *    oidc, results_*, durations_*, retrysel, ...) hands its messages back and
 *    never writes to stdout or stderr on its own. (config collects its
 *    problems in a list; a phase prints them with config_print_problems on
 *    the stream it chooses.) A warning such a module must pass on while it
 *    goes on (a bad record it skipped) goes to a warn_fn the phase gives it;
 *    the phase decides how it is shown and how many are shown (log.h's
 *    log_warn_line and log_error_line are the usual adapters).
 *
 * Allocation failure is not an error: it aborts (see buf.h). */
#ifndef TEP_ERR_H
#define TEP_ERR_H
#include <stdarg.h>
#include <stdbool.h>

/* Sets *err to the formatted message (freeing what it held) and returns
 * false. */
bool err_set(char **err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A warning from a module that does not print: one line, without a
 * trailing newline, borrowed for the call. */
typedef void (*warn_fn)(void *user, const char *line);

/* Formats one line and hands it to fn (nothing when fn is NULL): the body of
 * a module's own printf-like warning function. */
void warn_vsay(warn_fn fn, void *user, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

#endif
