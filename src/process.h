/* process: runs a child without a shell, in its own process group.
 *
 * SIGTERM, SIGINT and SIGHUP sent to us are forwarded to the whole group; an
 * optional timeout kills the group (TERM, then KILL after a grace period).
 * When the child ends, whatever it left behind in its group is killed and,
 * because we are a child subreaper, reaped. stderr can be teed line by line to
 * a callback (the exit-4 forensics read pytest's "file or directory not
 * found" line from it) while still reaching the job log. */
#ifndef TEP_PROCESS_H
#define TEP_PROCESS_H
#include <stdbool.h>
#include "buf.h"
#include "strlist.h"

typedef void (*proc_line_fn)(const char *line, void *user);

typedef struct {
    char *const *argv;
    const strlist_t *env;       /* full environment; NULL = inherit */
    double timeout_s;           /* 0 = none */
    proc_line_fn on_stderr;     /* NULL = stderr passes straight through */
    void *user;
    buf_t *capture;             /* non-NULL: stdout+stderr go here instead */
    const char *stdin_path;     /* file to read as stdin; NULL = /dev/null when capturing, else inherit */
    const char *cwd;            /* working directory for the child; NULL = ours */
} proc_opts_t;

typedef struct {
    int exit_code;              /* valid when !signaled && !start_failed */
    int signal;                 /* the signal that ended the child, 0 if none */
    bool timed_out;
    bool start_failed;
    char start_error[256];
    double seconds;
} proc_result_t;

void proc_run(const proc_opts_t *o, proc_result_t *r);
/* The last signal we forwarded (job cancelled), 0 if none. */
int proc_forwarded_signal(void);
/* From now on SIGTERM/SIGINT/SIGHUP are caught for the whole process (and
 * forwarded to a running child), not only while a child runs: the run phase
 * then stops between attempts and still records what it has. */
void proc_catch_signals(void);
/* Our environment minus the named variables, for the child. */
void proc_env_without(strlist_t *env, const char *const *drop);

#endif
