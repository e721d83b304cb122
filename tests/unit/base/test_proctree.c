/* proctree: our descendants, found through /proc and signalled; orphans
 * re-parented to us (a child subreaper) count; a process name holding ") "
 * does not confuse the /proc/PID/stat parse. Every wait is bounded. */
#include "unit.h"
#include "base/fs.h"
#include "base/proctree.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* How many descendants we have (signal 0 only checks that they exist). */
static size_t count_descendants(void)
{
    return proctree_signal_descendants(0);
}

/* Waits (bounded) until we have `want` descendants. */
static bool wait_for_descendants(size_t want)
{
    double until = fs_monotonic() + 20;
    while (count_descendants() != want) {
        if (fs_monotonic() > until) return false;
        fs_sleep(0.02);
    }
    return true;
}

/* Waits (bounded) until we have at least `want` descendants. */
static bool wait_for_descendants_at_least(size_t want)
{
    double until = fs_monotonic() + 20;
    while (count_descendants() < want) {
        if (fs_monotonic() > until) return false;
        fs_sleep(0.02);
    }
    return true;
}

static pid_t start_sh(const char *script)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", script, (char *)NULL);
        _exit(127);
    }
    return pid;
}

static int become_subreaper(void **state)
{
    (void)state;
    assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
    return 0;
}

static void none_at_first(void **state)
{
    (void)state;
    assert_int_equal(count_descendants(), 0);
    assert_true(proctree_gone_within(0.1, 0));
}

/* A child and the grandchild it started are both found; an orphaned
 * grandchild (its parent gone) is still ours. */
static void children_and_orphans_found(void **state)
{
    (void)state;
    start_sh("sleep 60 & exec sleep 60");
    assert_true(wait_for_descendants(2));
    /* Its sleep is orphaned, re-parented to us. The shell is reaped first:
     * left a zombie it would still count (kill(pid, 0) finds it), and the
     * only moment with 3 would be before it forked, which a loaded machine
     * can step over. */
    pid_t parent = start_sh("sleep 60 & exit 0");
    int status = 0;
    assert_int_equal(waitpid(parent, &status, 0), parent);
    assert_true(wait_for_descendants(3));
    proctree_kill_all(2.0);
    assert_int_equal(count_descendants(), 0);
}

/* gone_within waits for what is there, and leaves the kept child alone. */
static void gone_within_keeps_one(void **state)
{
    (void)state;
    pid_t kept = start_sh("exec sleep 60");
    assert_true(wait_for_descendants(1));
    assert_false(proctree_gone_within(0.2, 0));
    assert_true(proctree_gone_within(0.2, kept));
    assert_int_equal(kill(kept, SIGKILL), 0);
    int status = 0;
    assert_int_equal(waitpid(kept, &status, 0), kept); /* not reaped by proctree: ours to wait */
    assert_true(WIFSIGNALED(status));
    assert_int_equal(count_descendants(), 0);
}

/* TERM first; what ignores it is KILLed after the grace period. */
static void kill_all_escalates(void **state)
{
    (void)state;
    start_sh("trap '' TERM; while :; do sleep 0.1; done");
    assert_true(wait_for_descendants(2)); /* the shell and one of its sleeps */
    double start = fs_monotonic();
    proctree_kill_all(0.3);
    assert_int_equal(count_descendants(), 0);
    assert_true(fs_monotonic() - start >= 0.3);
}

/* The command name sits in parentheses in /proc/PID/stat and may itself
 * hold ") 1 ": the parent is read after the last ')'. */
static void odd_process_name(void **state)
{
    (void)state;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        prctl(PR_SET_NAME, "x) S 1 (y", 0, 0, 0);
        pause();
        _exit(0);
    }
    assert_true(wait_for_descendants(1));
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
    double until = fs_monotonic() + 20;
    char *comm = NULL;
    for (;;) { /* the child renames itself after fork */
        free(comm);
        comm = fs_read_file(path, NULL);
        if ((comm && strncmp(comm, "x) S 1 (y", 9) == 0) || fs_monotonic() > until) break;
        fs_sleep(0.02);
    }
    assert_non_null(comm);
    assert_memory_equal(comm, "x) S 1 (y", 9);
    free(comm);
    assert_int_equal(count_descendants(), 1);
    assert_int_equal(proctree_signal_descendants(SIGKILL), 1);
    assert_true(proctree_gone_within(20, 0));
    errno = 0;
    assert_int_equal(kill(pid, 0), -1);
    assert_int_equal(errno, ESRCH);
}

/* A shell that keeps starting children that ignore TERM, 200 a second: none
 * outlives kill_all (it sends KILL again until none is left, since a child
 * started between our reading /proc and the signal would outlive one round). */
static void kill_all_catches_late_children(void **state)
{
    (void)state;
    start_sh("trap '' TERM; while :; do (trap '' TERM; exec sleep 30) & sleep 0.005; done");
    assert_true(wait_for_descendants_at_least(20));
    proctree_kill_all(0.1);
    assert_int_equal(count_descendants(), 0);
}

/* Whatever a test left behind (it failed halfway) is killed, so no process
 * outlives this test binary holding ctest's output pipe open. */
static int kill_leftovers(void **state)
{
    (void)state;
    proctree_signal_descendants(SIGKILL);
    proctree_gone_within(5, 0);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(none_at_first, kill_leftovers),
        cmocka_unit_test_teardown(children_and_orphans_found, kill_leftovers),
        cmocka_unit_test_teardown(gone_within_keeps_one, kill_leftovers),
        cmocka_unit_test_teardown(kill_all_escalates, kill_leftovers),
        cmocka_unit_test_teardown(kill_all_catches_late_children, kill_leftovers),
        cmocka_unit_test_teardown(odd_process_name, kill_leftovers),
    };
    return cmocka_run_group_tests(tests, become_subreaper, NULL);
}
