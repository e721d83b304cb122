/* process: runs a child without a shell, in OUR process group.
 *
 * Staying in the job's process group is what the agent needs: its SIGTERM and
 * final SIGKILL reach the whole test run, and under its PTY the tests stay in
 * the terminal's foreground group. SIGTERM, SIGINT and SIGHUP sent to us alone
 * are forwarded to the child; after a cancellation, everything the run started
 * is SIGKILLed before the agent's grace period (BUILDKITE_CANCEL_GRACE_PERIOD)
 * ends. A timeout stops the same set (TERM, then KILL after a grace period).
 * When the child ends, whatever it left behind is killed and, because we are
 * a child subreaper, reaped (see proctree.h). The child also dies if we are
 * SIGKILLed alone (parent-death signal). stderr can be teed line by line to
 * a callback (the exit-4 forensics read pytest's "file or directory not
 * found" line from it) while still reaching the job log. */
#ifndef TEP_PROCESS_H
#define TEP_PROCESS_H
#include <stdbool.h>
#include "base/buf.h"
#include "base/strlist.h"

/* A stderr line longer than this reaches on_stderr cut to its first
 * PROCESS_LINE_MAX bytes (all of it still reaches the stream or capture):
 * a child writing without a newline must not grow our memory. */
#define PROCESS_LINE_MAX (64 * 1024)

typedef void (*process_line_fn)(const char *line, void *user);

typedef struct {
    char *const *argv;
    const strlist_t *env;      /* full environment; NULL = inherit */
    double timeout_s;          /* 0 = none */
    process_line_fn on_stderr; /* NULL = stderr passes straight through */
    void *user;
    buf_t *capture;     /* non-NULL: stdout (and stderr, unless capture_err) go here */
    buf_t *capture_err; /* non-NULL: stderr goes here, apart from stdout */
    const char
        *stdin_path; /* file to read as stdin; NULL = /dev/null when capturing, else inherit */
    const char *cwd; /* working directory for the child; NULL = ours */
} process_opts_t;

typedef struct {
    int exit_code; /* valid when !signaled && !start_failed */
    int signal;    /* the signal that ended the child, 0 if none */
    bool timed_out;
    bool start_failed;
    bool lost;   /* the child was reaped by someone else: status unknown (255) */
    char *error; /* why it did not start ("cannot run 'x': ..."); NULL unless start_failed */
    double seconds;
} process_result_t;

/* Runs the child to its end and fills r (all of it: r need not be
 * initialised, and one that holds an error must be freed first). A child that
 * cannot start is not a separate failure path: r->start_failed and r->error
 * say so, like every other way a child can end. */
void process_run(const process_opts_t *o, process_result_t *r);
/* Frees r->error and sets it to NULL; safe on a result without one. */
void process_result_free(process_result_t *r);
/* The last signal we forwarded (job cancelled), 0 if none. */
int process_forwarded_signal(void);
/* From now on SIGTERM/SIGINT/SIGHUP are caught for the whole process (and
 * forwarded to a running child), not only while a child runs: the run phase
 * then stops between attempts and still records what it has. */
void process_catch_signals(void);
/* Seconds a cancelled run may take to stop before SIGKILL: shorter than the
 * agent's BUILDKITE_CANCEL_GRACE_PERIOD (default 10 s). */
double process_cancel_kill_after(void);
/* Our environment minus the named variables, for the child. */
void process_env_without(strlist_t *env, const char *const *drop);

#endif
