/* process: real /bin/sh children. Exit status, death by signal, the timeout
 * (TERM, then KILL for a child that ignores TERM), output captured or teed
 * line by line, the environment given, a child that cannot start, and what a
 * child leaves running killed when it ends. Waits are bounded by the child's
 * own limits; no assertion depends on how loaded the machine is beyond
 * "finished well within a generous bound". */
#include "unit.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/process.h"
#include "scratch.h"
#include "base/timeouts.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <sys/wait.h>
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

/* A line without end (a test writing a blob to stderr) is heard cut to
 * PROCESS_LINE_MAX: it was held whole, growing memory as long as the child
 * wrote. The whole of it still reaches the stream, and the next line is heard. */
static void a_long_stderr_line_is_heard_cut(void **state)
{
    (void)state;
    seen_t seen;
    strlist_init(&seen.lines);
    buf_t err = BUF_INIT;
    process_opts_t o = {.on_stderr = collect_line, .user = &seen, .capture_err = &err};
    process_result_t r;
    run_sh("head -c 3000000 /dev/zero | tr '\\0' x >&2; printf '\\nnext\\n' >&2", &o, &r);
    assert_int_equal(r.exit_code, 0);
    assert_int_equal(err.len, 3000000 + 6);
    assert_int_equal(seen.lines.len, 2);
    assert_int_equal(strlen(seen.lines.items[0]), PROCESS_LINE_MAX);
    assert_string_equal(seen.lines.items[1], "next");
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

/* The child has its stdin once, as descriptor 0: the descriptor it was
 * opened on (3 or so, without close-on-exec) used to stay open in pytest
 * --collect-only, the probe and every agent call. */
static void stdin_is_given_once(void **state)
{
    (void)state;
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep-stdin");
    char *in = fs_join(dir, "stdin-file");
    assert_true(fs_write_file(in, "x", 1));
    buf_t out = BUF_INIT;
    process_opts_t o = {.capture = &out, .stdin_path = in};
    process_result_t r;
    run_sh("for f in /proc/$$/fd/*; do echo \"${f##*/} $(readlink $f)\"; done", &o, &r);
    assert_int_equal(r.exit_code, 0);
    char *want = xasprintf("0 %s\n", in);
    size_t seen = 0;
    for (const char *p = buf_str(&out); (p = strstr(p, in)) != NULL; p++) seen++;
    if (seen != 1 || !strstr(buf_str(&out), want))
        fail_msg("the stdin file is open %zu times in the child:\n%s", seen, buf_str(&out));
    free(want);
    /* Capturing without a file: /dev/null, once. */
    buf_reset(&out);
    o.stdin_path = NULL;
    run_sh("for f in /proc/$$/fd/*; do echo \"${f##*/} $(readlink $f)\"; done", &o, &r);
    size_t nulls = 0;
    for (const char *p = buf_str(&out); (p = strstr(p, " /dev/null\n")) != NULL; p++) nulls++;
    size_t ours_before = 0; /* what the test process itself has open on /dev/null, inherited */
    for (int fd = 3; fd < 1024; fd++) {
        char link[64], target[64];
        snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n <= 0) continue;
        target[n] = '\0';
        int flags = fcntl(fd, F_GETFD);
        if (!strcmp(target, "/dev/null") && flags >= 0 && !(flags & FD_CLOEXEC)) ours_before++;
    }
    if (nulls != 1 + ours_before)
        fail_msg("/dev/null is open %zu times in the child (%zu inherited):\n%s", nulls,
                 ours_before, buf_str(&out));
    buf_free(&out);
    unlink(in);
    free(in);
    scratch_dir_remove(dir);
}

/* ---- a signal while our output is blocked: nothing is dropped ---- */

static void on_usr1(int sig)
{
    (void)sig;
}

typedef struct {
    int read_fd;
    pid_t main_tid;
    size_t total;
} slow_reader_t;

/* Waits until the main thread is blocked writing into the full pipe, sends
 * it a signal, then reads everything (until the pipe's writer closes). */
static void *slow_reader(void *arg)
{
    slow_reader_t *s = arg;
    sigset_t all;
    sigfillset(&all);
    pthread_sigmask(SIG_BLOCK, &all, NULL);
    char path[64], wchan[64] = "";
    snprintf(path, sizeof path, "/proc/self/task/%d/wchan", (int)s->main_tid);
    double until = fs_monotonic() + 20;
    while (strcmp(wchan, "pipe_write") != 0 && fs_monotonic() < until) {
        fs_sleep(0.01);
        FILE *f = fopen(path, "r");
        if (f && !fgets(wchan, sizeof wchan, f)) wchan[0] = '\0';
        if (f) fclose(f);
    }
    kill(getpid(), SIGUSR1); /* the main thread is the only one that takes it */
    fs_sleep(0.2);
    char chunk[65536];
    ssize_t n;
    while ((n = read(s->read_fd, chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0) s->total += (size_t)n;
    return NULL;
}

static void no_line(const char *line, void *user)
{
    (void)line;
    (void)user;
}

/* pytest's stderr passes through us to the job log. When the log's reader
 * is slow our write blocks; a signal then (the agent cancelling) made write
 * return EINTR and the chunk was dropped: the last lines of pytest lost. */
static void a_signal_while_passing_output_on_drops_nothing(void **state)
{
    (void)state;
    struct sigaction sa = {0}, old;
    sa.sa_handler = on_usr1; /* no SA_RESTART: the write returns early */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, &old);
    int p[2];
    assert_int_equal(pipe(p), 0);
    char fill[65536];
    memset(fill, 'p', sizeof fill);
    assert_int_equal(write(p[1], fill, sizeof fill), (ssize_t)sizeof fill); /* now it is full */
    int saved_err = dup(2);
    assert_int_equal(dup2(p[1], 2), 2);
    slow_reader_t reader = {.read_fd = p[0], .main_tid = (pid_t)syscall(SYS_gettid)};
    pthread_t t;
    assert_int_equal(pthread_create(&t, NULL, slow_reader, &reader), 0);
    process_opts_t o = {.on_stderr = no_line, .timeout_s = 60};
    process_result_t r;
    run_sh("yes abcdefghi | head -c 100000 >&2", &o, &r);
    dup2(saved_err, 2);
    close(saved_err);
    close(p[1]);
    pthread_join(t, NULL);
    close(p[0]);
    sigaction(SIGUSR1, &old, NULL);
    assert_int_equal(r.exit_code, 0);
    assert_int_equal(reader.total, sizeof fill + 100000);
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

/* stdin is opened before the child exists: a FIFO with no writer does not
 * hold the child (and, under vfork, us) before its exec; a file that cannot
 * be opened is a start failure naming it. */
static void stdin_opened_before_the_child(void **state)
{
    (void)state;
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep-stdin-fifo");
    char *fifo = fs_join(dir, "fifo");
    assert_int_equal(mkfifo(fifo, 0600), 0);
    buf_t out = BUF_INIT;
    process_opts_t o = {.capture = &out, .stdin_path = fifo, .timeout_s = 60};
    process_result_t r;
    run_sh("cat; echo read", &o, &r); /* no writer: end of file at once */
    assert_false(r.timed_out);
    assert_int_equal(r.exit_code, 0);
    assert_string_equal(buf_str(&out), "read\n");
    o.stdin_path = "/nonexistent/tep-stdin";
    run_sh("echo ran", &o, &r);
    assert_true(r.start_failed);
    assert_string_equal(r.error, "cannot run '/bin/sh': No such file or directory");
    process_result_free(&r);
    buf_free(&out);
    unlink(fifo);
    free(fifo);
    scratch_dir_remove(dir);
}

/* A program is looked up in the PATH of the environment given, not ours. */
static void the_given_path_finds_the_program(void **state)
{
    (void)state;
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep-path");
    char *prog = fs_join(dir, "tep-only-here");
    const char *script = "#!/bin/sh\necho found\n";
    assert_true(fs_write_file(prog, script, strlen(script)));
    assert_int_equal(chmod(prog, 0700), 0);
    strlist_t env;
    strlist_init(&env);
    char *path = xasprintf("PATH=%s:/usr/bin:/bin", dir);
    strlist_push(&env, path);
    buf_t out = BUF_INIT;
    char *const argv[] = {"tep-only-here", NULL};
    process_opts_t o = {.argv = argv, .capture = &out, .env = &env};
    process_result_t r;
    process_run(&o, &r);
    if (r.start_failed) fail_msg("not found through the given PATH: %s", r.error);
    assert_string_equal(buf_str(&out), "found\n");
    process_result_free(&r);
    buf_free(&out);
    strlist_free(&env);
    free(path);
    unlink(prog);
    free(prog);
    scratch_dir_remove(dir);
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

/* The forwarding handler keeps errno: here its kill() fails (the child was
 * reaped by the callback, so the pid is gone) and errno must still say what
 * it said before the signal. Runs while a child runs (the handler forwards
 * to it), from the stderr callback. */
static int errno_after_signal;

static void reap_then_signal(const char *line, void *user)
{
    (void)line;
    (void)user;
    int status;
    while (waitpid(-1, &status, 0) < 0 && errno == EINTR) {
    }
    errno = 4242;
    raise(SIGTERM); /* not from the kernel: forwarded, to a pid that is gone */
    errno_after_signal = errno;
}

static void the_handler_keeps_errno(void **state)
{
    (void)state;
    process_opts_t o = {.on_stderr = reap_then_signal, .timeout_s = 60};
    process_result_t r;
    run_sh("echo line >&2; sleep 0.3", &o, &r);
    assert_true(r.lost); /* reaped by the callback: the handler's kill() found no process */
    assert_int_equal(errno_after_signal, 4242);
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
        cmocka_unit_test(a_long_stderr_line_is_heard_cut),
        cmocka_unit_test(environment_given),
        cmocka_unit_test(env_without_drops_only_the_named),
        cmocka_unit_test(stdin_and_cwd),
        cmocka_unit_test(cannot_start),
        cmocka_unit_test(descendants_killed),
        cmocka_unit_test(cancel_grace),
        cmocka_unit_test(stdin_is_given_once),
        cmocka_unit_test(stdin_opened_before_the_child),
        cmocka_unit_test(the_given_path_finds_the_program),
        cmocka_unit_test(a_signal_while_passing_output_on_drops_nothing),
        cmocka_unit_test(term_to_us_is_forwarded),
        cmocka_unit_test(the_handler_keeps_errno),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
