/* proctree: signals every process that descends from us.
 *
 * The test run stays in the job's process group (see process.h for why), so
 * "everything pytest started" cannot be named by a process-group id. Because
 * we are a child subreaper (PR_SET_CHILD_SUBREAPER), every orphan of the test
 * run is re-parented to us, even after a double fork or setsid(); so the set
 * of our descendants, read from /proc, is exactly what the test run left. */
#ifndef TEP_PROCTREE_H
#define TEP_PROCTREE_H
#include <stdbool.h>
#include <sys/types.h>

/* The parent pid in a /proc/<pid>/stat file: the field after the command
 * name, which is in parentheses and may itself hold any byte but NUL
 * (")", " S 1", a line break: a process names itself). false when the file
 * cannot be read or has no such field. Exposed for the fuzz target. */
bool proctree_stat_ppid(const char *path, pid_t *ppid);

/* Sends sig to every descendant of this process. Returns how many got it. */
size_t proctree_signal_descendants(int sig);
/* Reaps descendants that died and re-checks, until none is left or `seconds`
 * pass. The child `keep` (not yet waited for), if > 0, is not reaped. Returns
 * true when no descendant is left. */
bool proctree_gone_within(double seconds, pid_t keep);
/* SIGTERM to every descendant, SIGKILL to what is left after `grace` seconds,
 * again to anything started meanwhile, for at most PROCTREE_KILL_WAIT_S. */
#define PROCTREE_KILL_WAIT_S 5.0
void proctree_kill_all(double grace);

#endif
