/* run_exit4: pytest's exit 4, by cause, read from what pytest printed on stderr.
 *
 * pytest exits 4 for any command-line usage error, and four of them mean
 * different things here:
 *   - "file or directory not found: <path>" for a path that exists: the
 *     checkout changed under the run (below: retries, then forensics);
 *   - "ImportError while loading conftest '<path>'.": a conftest.py that
 *     cannot be imported. Nothing ran and no retry will fix it: it is a
 *     collection error in all but name (terminal), with the real cause taken
 *     from the traceback pytest prints after that line;
 *   - "not found: <node id>": a node id pytest cannot find any more (a renamed
 *     test, a parametrize id built from a set or a repr). pytest then runs
 *     nothing at all, so the run widens that id (run_exit4_widen) and runs
 *     again;
 *   - anything else ("unrecognized arguments", a bad option value): the test
 *     command is wrong, a configuration error. An unknown `-p` plugin is the
 *     same mistake, though pytest shows it as a traceback and exits 1.
 *
 * For a path that exists, the usual cause is not a flaky stat: something mutates the checkout while
 * tests run (a test running a real `git checkout`/`update`, a concurrent job
 * sharing the directory). So we retry a few times with backoff (0.5 s, 1.0 s,
 * 1.5 s by default) in case it was transient, and if exit 4 survives we print
 * forensics that point at the cause: is the path there now, what does its
 * directory hold, and what does `git status --porcelain` say. Forensics never
 * change the exit status. */
#ifndef TEP_RUN_EXIT4_H
#define TEP_RUN_EXIT4_H
#include <stdbool.h>
#include "base/buf.h"
#include "base/strlist.h"

typedef enum {
    EXIT4_NONE,         /* nothing pytest said explains an exit 4 */
    EXIT4_MISSING_PATH, /* file or directory not found */
    EXIT4_CONFTEST,     /* a conftest.py that cannot be imported */
    EXIT4_NOT_FOUND,    /* node ids pytest cannot find */
    EXIT4_USAGE         /* the command itself (also an unknown -p plugin, exit 1) */
} run_exit4_cause_t;

/* What one pytest said on stderr that explains how it ended. */
typedef struct {
    char *missing_path;  /* "file or directory not found: <path>" */
    char *conftest;      /* "ImportError while loading conftest '<path>'." */
    buf_t conftest_text; /* what pytest printed after that line (its traceback), bounded */
    char *usage;         /* the usage error's own words, one line */
    strlist_t not_found; /* "not found: <id>" ids, as pytest printed them (absolute) */
    bool in_usage;       /* after "ERROR: usage:", the next "error:" line says which */
} run_exit4_said_t;

/* Reads one stderr line into s (lines go in the order pytest wrote them). */
void run_exit4_hear(run_exit4_said_t *s, const char *line);
/* The cause of pytest's exit code given what it said: exit 4's, or
 * EXIT4_USAGE for an exit 1 naming a plugin it cannot import. */
run_exit4_cause_t run_exit4_cause(const run_exit4_said_t *s, int exit_code);
void run_exit4_said_free(run_exit4_said_t *s);

/* The most of a conftest's traceback kept (its cause is in its last lines). */
#define RUN_EXIT4_CONFTEST_KEEP 16384

/* The selector among `selectors` pytest reported as "not found: <reported>"
 * (pytest prints it resolved against its invocation directory, cwd), or NULL. */
const char *run_exit4_which_selector(const strlist_t *selectors, const char *reported,
                                     const char *cwd);
/* The nearest thing pytest can still address for an id it cannot find: the
 * function without its parameter id, else the id without its last part (the
 * class, then the file). NULL when id is a file already. Caller frees. */
char *run_exit4_widen(const char *id);

/* pytest's stderr line "ERROR: file or directory not found: <path>", or NULL. */
char *run_exit4_missing_path(const char *stderr_line);
/* Do all the file parts of these selectors exist (checked up to 3 times)? */
bool run_exit4_files_present(const strlist_t *selectors);
/* Appends the forensics block for `path` (a file, or a node id whose file
 * part is checked) to out. */
void run_exit4_forensics(const char *path, int retries_used, buf_t *out);

#endif
