/* process: real /bin/sh children. Exit status, death by signal, the timeout
 * (TERM, then KILL for a child that ignores TERM), output captured or teed
 * line by line, the environment given, a child that cannot start, and what a
 * child leaves running killed when it ends. Waits are bounded by the child's
 * own limits; no assertion depends on how loaded the machine is beyond
 * "finished well within a generous bound". */
#include "unit.h"
#include "buf.h"
#include "fs.h"
#include "process.h"
#include "scratch.h"
#include "timeouts.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static void run_sh(const char *script, process_opts_t *o, process_result_t *r)
{
    char *const argv[] = {"/bin/sh", "-c", (char *)script, NULL};
    o->argv = argv;
    process_run(o, r);
    o->argv = NULL;
}

static void exit_status(void **state)
{
    (void)state;
    process_opts_t o = {0};
    process_result_t r;
    run_sh("exit 3", &o, &r);
    assert_false(r.start_failed);
    assert_null(r.error);
    assert_int_equal(r.exit_code, 3);
    assert_int_equal(r.signal, 0);
    assert_false(r.timed_out);
    assert_false(r.lost);
    run_sh("true", &o, &r);
    assert_int_equal(r.exit_code, 0);
    process_result_free(&r);
}

static void death_by_signal(void **state)
{
    (void)state;
    process_opts_t o = {0};
    process_result_t r;
    run_sh("kill -USR1 $$", &o, &r);
    assert_false(r.start_failed);
    assert_int_equal(r.signal, SIGUSR1);
    assert_false(r.timed_out);
}

static void timeout_stops_the_child(void **state)
{
    (void)state;
    process_opts_t o = {.timeout_s = 0.3};
    process_result_t r;
    run_sh("exec sleep 60", &o, &r);
    assert_true(r.timed_out);
    assert_int_equal(r.signal, SIGTERM);
    assert_true(r.seconds >= 0.3);
    assert_true(r.seconds < 30);
}

/* A child that ignores TERM gets KILL after the grace period (5 s). */
static void timeout_kills_a_child_that_ignores_term(void **state)
{
    (void)state;
    process_opts_t o = {.timeout_s = 0.3};
    process_result_t r;
    run_sh("trap '' TERM; while :; do sleep 0.1; done", &o, &r);
    assert_true(r.timed_out);
    assert_int_equal(r.signal, SIGKILL);
    assert_true(r.seconds >= 5.0);
    assert_true(r.seconds < 40);
}

static void capture_together_and_apart(void **state)
{
    (void)state;
    buf_t out = BUF_INIT;
    process_opts_t o = {.capture = &out};
    process_result_t r;
    run_sh("printf 'to out\\n'; printf 'to err\\n' >&2; exit 1", &o, &r);
    assert_int_equal(r.exit_code, 1);
    assert_non_null(strstr(buf_str(&out), "to out\n"));
    assert_non_null(strstr(buf_str(&out), "to err\n"));
    buf_reset(&out);
    buf_t err = BUF_INIT;
    o.capture_err = &err;
    run_sh("printf 'to out\\n'; printf 'to err\\n' >&2", &o, &r);
    assert_string_equal(buf_str(&out), "to out\n");
    assert_string_equal(buf_str(&err), "to err\n");
    buf_free(&out);
    buf_free(&err);
}

typedef struct {
    strlist_t lines;
} seen_t;

static void collect_line(const char *line, void *user)
{
    seen_t *s = user;
    strlist_push(&s->lines, line);
}

/* Whole lines reach the callback, the last one even without its newline. */
static void stderr_lines_teed(void **state)
{
    (void)state;
    seen_t seen;
    strlist_init(&seen.lines);
    buf_t err = BUF_INIT;
    process_opts_t o = {.on_stderr = collect_line, .user = &seen, .capture_err = &err};
    process_result_t r;
    run_sh("printf 'one\\ntw' >&2; printf 'o\\nthree' >&2", &o, &r);
    assert_int_equal(r.exit_code, 0);
    assert_int_equal(seen.lines.len, 3);
    assert_string_equal(seen.lines.items[0], "one");
    assert_string_equal(seen.lines.items[1], "two");
    assert_string_equal(seen.lines.items[2], "three");
    assert_string_equal(buf_str(&err), "one\ntwo\nthree");
    strlist_free(&seen.lines);
    buf_free(&err);
}

/* The child gets exactly the list given, nothing of ours. */
static void environment_given(void **state)
{
    (void)state;
    setenv("TEP_TEST_OURS", "leaked", 1);
    strlist_t env;
    strlist_init(&env);
    strlist_push(&env, "TEP_TEST_GIVEN=hello");
    buf_t out = BUF_INIT;
    process_opts_t o = {.capture = &out, .env = &env};
    process_result_t r;
    run_sh("printf '%s|%s' \"$TEP_TEST_GIVEN\" \"$TEP_TEST_OURS\"", &o, &r);
    assert_string_equal(buf_str(&out), "hello|");
    buf_reset(&out);
    o.env = NULL; /* inherit */
    run_sh("printf '%s' \"$TEP_TEST_OURS\"", &o, &r);
    assert_string_equal(buf_str(&out), "leaked");
    unsetenv("TEP_TEST_OURS");
    strlist_free(&env);
    buf_free(&out);
}

static void env_without_drops_only_the_named(void **state)
{
    (void)state;
    setenv("TEP_TEST_DROP", "x", 1);
    setenv("TEP_TEST_DROPPED_NOT", "y", 1); /* a longer name with the same start stays */
    strlist_t env;
    strlist_init(&env);
    const char *const drop[] = {"TEP_TEST_DROP", NULL};
    process_env_without(&env, drop);
    bool dropped = true, kept = false;
    for (size_t i = 0; i < env.len; i++) {
        if (strncmp(env.items[i], "TEP_TEST_DROP=", 14) == 0) dropped = false;
        if (strcmp(env.items[i], "TEP_TEST_DROPPED_NOT=y") == 0) kept = true;
    }
    assert_true(dropped);
    assert_true(kept);
    unsetenv("TEP_TEST_DROP");
    unsetenv("TEP_TEST_DROPPED_NOT");
    strlist_free(&env);
}

static void stdin_and_cwd(void **state)
{
    (void)state;
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep-process");
    char *in = fs_join(dir, "in.txt");
    assert_true(fs_write_file(in, "from the file\n", 14));
    buf_t out = BUF_INIT;
    process_opts_t o = {.capture = &out, .stdin_path = in, .cwd = dir};
    process_result_t r;
    run_sh("cat; pwd", &o, &r);
    char *want = xasprintf("from the file\n%s\n", dir);
    assert_string_equal(buf_str(&out), want);
    free(want);
    buf_reset(&out);
    o.stdin_path = NULL; /* capturing: stdin is /dev/null, never ours */
    run_sh("cat; echo end", &o, &r);
    assert_string_equal(buf_str(&out), "end\n");
    scratch_dir_remove(dir);
    free(in);
    buf_free(&out);
}

static void cannot_start(void **state)
{
    (void)state;
    char *const argv[] = {"/nonexistent/tep-no-such-program", "x", NULL};
    process_opts_t o = {.argv = argv};
    process_result_t r;
    process_run(&o, &r);
    assert_true(r.start_failed);
    assert_non_null(r.error);
    assert_string_equal(r.error,
                        "cannot run '/nonexistent/tep-no-such-program': No such file or directory");
    process_result_free(&r);
    assert_null(r.error);
    process_result_free(&r); /* safe twice */

    char *const sh[] = {"/bin/sh", "-c", "true", NULL};
    o = (process_opts_t){.argv = sh, .cwd = "/nonexistent/tep-dir"};
    process_run(&o, &r);
    assert_true(r.start_failed);
    assert_string_equal(r.error, "cannot run '/bin/sh': No such file or directory");
    process_result_free(&r);
}

/* The child exits at once, leaving a sleep behind: it is gone when
 * process_run returns (killed and reaped, not only signalled). */
static void descendants_killed(void **state)
{
    (void)state;
    buf_t out = BUF_INIT;
    process_opts_t o = {.capture = &out, .timeout_s = 60};
    process_result_t r;
    run_sh("sleep 300 </dev/null >/dev/null 2>&1 & echo $!", &o, &r);
    assert_int_equal(r.exit_code, 0);
    assert_false(r.timed_out);
    pid_t left = (pid_t)atoi(buf_str(&out));
    assert_true(left > 1);
    errno = 0;
    assert_int_equal(kill(left, 0), -1);
    assert_int_equal(errno, ESRCH);
    assert_true(r.seconds < 30);
    buf_free(&out);
}

static void cancel_grace(void **state)
{
    (void)state;
    unsetenv("BUILDKITE_CANCEL_GRACE_PERIOD");
    assert_true(process_cancel_kill_after() == TIMEOUT_CANCEL_GRACE_S - 2);
    setenv("BUILDKITE_CANCEL_GRACE_PERIOD", "30", 1);
    assert_true(process_cancel_kill_after() == 28.0);
    setenv("BUILDKITE_CANCEL_GRACE_PERIOD", "3", 1);
    assert_true(process_cancel_kill_after() == 1.5);
    setenv("BUILDKITE_CANCEL_GRACE_PERIOD", "soon", 1);
    assert_true(process_cancel_kill_after() == TIMEOUT_CANCEL_GRACE_S - 2);
    setenv("BUILDKITE_CANCEL_GRACE_PERIOD", "-5", 1);
    assert_true(process_cancel_kill_after() == TIMEOUT_CANCEL_GRACE_S - 2);
    unsetenv("BUILDKITE_CANCEL_GRACE_PERIOD");
}

/* A SIGTERM sent to us alone (kill, not the terminal) is passed on to the
 * child. Last: the forwarded signal is remembered for the process's life. */
static void term_to_us_is_forwarded(void **state)
{
    (void)state;
    assert_int_equal(process_forwarded_signal(), 0);
    process_opts_t o = {.timeout_s = 60};
    process_result_t r;
    run_sh("kill -TERM $PPID; sleep 30 & wait", &o, &r);
    assert_int_equal(process_forwarded_signal(), SIGTERM);
    assert_int_equal(r.signal, SIGTERM);
    assert_false(r.timed_out);
    assert_true(r.seconds < 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exit_status),
        cmocka_unit_test(death_by_signal),
        cmocka_unit_test(timeout_stops_the_child),
        cmocka_unit_test(timeout_kills_a_child_that_ignores_term),
        cmocka_unit_test(capture_together_and_apart),
        cmocka_unit_test(stderr_lines_teed),
        cmocka_unit_test(environment_given),
        cmocka_unit_test(env_without_drops_only_the_named),
        cmocka_unit_test(stdin_and_cwd),
        cmocka_unit_test(cannot_start),
        cmocka_unit_test(descendants_killed),
        cmocka_unit_test(cancel_grace),
        cmocka_unit_test(term_to_us_is_forwarded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
