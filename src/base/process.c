#include "base/process.h"
#include "base/err.h"
#include "base/timeouts.h"
#include "base/fs.h"
#include "base/proctree.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define KILL_GRACE_S 5.0

extern char **environ;

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t forwarded;

/* Written by the SIGCHLD handler while a child runs, and polled with its
 * pipes: the wait ends when the child does, not at the next 50 ms tick (which
 * cost every pytest run 25 ms on average, twice with the probe). */
static int wake_pipe[2] = {-1, -1};

static void note_child_exit(int sig)
{
    (void)sig;
    int saved = errno;
    if (wake_pipe[1] >= 0) {
        ssize_t ignored = write(wake_pipe[1], "", 1);
        (void)ignored;
    }
    errno = saved;
}

/* Empties the wake pipe: the child is looked at right after. */
static void drain_wake_pipe(void)
{
    char junk[64];
    while (wake_pipe[0] >= 0 && read(wake_pipe[0], junk, sizeof junk) > 0) continue;
}

/* A signal the terminal generated (Ctrl-C) already reached the whole
 * foreground process group, pytest included; one sent with kill() (the agent,
 * a user, a CI timeout) may have been aimed at us alone, so pass it on. */
static void forward_signal(int sig, siginfo_t *info, void *ctx)
{
    (void)ctx;
    /* The code this interrupts may be about to read errno (a write that
     * failed, a read that said EAGAIN): kill() must not change it. */
    int saved_errno = errno;
    forwarded = sig;
    if (child_pid > 0 && (!info || info->si_code != SI_KERNEL)) kill((pid_t)child_pid, sig);
    errno = saved_errno;
}

static bool catching_always;

int process_forwarded_signal(void)
{
    return forwarded;
}

static void install_forwarding(struct sigaction *old_term, struct sigaction *old_int,
                               struct sigaction *old_hup)
{
    struct sigaction sa = {0};
    sa.sa_sigaction = forward_signal;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, old_term);
    sigaction(SIGINT, &sa, old_int);
    sigaction(SIGHUP, &sa, old_hup);
}

void process_catch_signals(void)
{
    struct sigaction t, i, h;
    install_forwarding(&t, &i, &h);
    catching_always = true;
}

/* After a cancellation, how long the tests may take to stop before we kill
 * them: less than the agent's own grace period, after which it SIGKILLs the
 * job's process group (us included) and nothing more gets written. */
double process_cancel_kill_after(void)
{
    const char *v = getenv("BUILDKITE_CANCEL_GRACE_PERIOD");
    char *end = NULL;
    double grace = v && *v ? strtod(v, &end) : TIMEOUT_CANCEL_GRACE_S;
    if (!v || !*v || !end || *end || !(grace > 0) || grace > 86400) grace = TIMEOUT_CANCEL_GRACE_S;
    return grace > 4 ? grace - 2 : grace / 2;
}

void process_env_without(strlist_t *env, const char *const *drop)
{
    for (char **e = environ; *e; e++) {
        bool skip = false;
        for (const char *const *d = drop; *d && !skip; d++) {
            size_t n = strlen(*d);
            skip = strncmp(*e, *d, n) == 0 && (*e)[n] == '=';
        }
        if (!skip) strlist_push(env, *e);
    }
}

static const int FORWARDED_SIGNALS[] = {SIGTERM, SIGINT, SIGHUP};

/* The child is made with vfork where the platform has it (and execvpe): it
 * shares our memory until it execs, so nothing is copied. fork copied the page
 * tables of a report holding 100,000 results, and each page we wrote after it
 * faulted: about 1 ms of CPU per buildkite-agent call, 6 calls a report. So
 * the child, up to its exec, makes system calls and nothing else: no malloc,
 * no stdio, no write to our globals (the environment goes to the exec, not to
 * environ); errno is the one thing of ours it may change, and we read it only
 * when the vfork failed. The glibc we test from (2.31) has an execvpe that
 * allocates nothing (older ones could malloc on our heap); elsewhere, fork. */
#define TEP_VFORK 0
#if TEP_HAVE_VFORK && TEP_HAVE_EXECVPE && defined(__GLIBC__) && defined(__GLIBC_PREREQ)
#if __GLIBC_PREREQ(2, 31)
#undef TEP_VFORK
#define TEP_VFORK 1
#endif
#endif

/* Whether this child may share our memory: vfork is there, and the child's
 * PATH is ours (execvpe looks the program up in the PATH of the process that
 * calls it, which under vfork is ours; a fork's child sets its own first). */
static bool child_shares_memory(const process_opts_t *o)
{
    if (!TEP_VFORK) return false;
    if (!o->env) return true;
    const char *mine = getenv("PATH"), *theirs = NULL;
    for (char *const *e = o->env->items; *e && !theirs; e++)
        if (strncmp(*e, "PATH=", 5) == 0) theirs = *e + 5;
    return mine && theirs ? strcmp(mine, theirs) == 0 : mine == theirs;
}

/* The fork window: with every signal blocked, a cancellation that arrives
 * while the child is being created is delivered once we know its pid (parent)
 * or after the handlers are reset (child), never to a half-made child running
 * our handler (which, under vfork, would write our memory). */
static void block_signals(sigset_t *old)
{
    sigset_t set;
    sigfillset(&set);
    sigprocmask(SIG_BLOCK, &set, old);
}

static void child_default(int sig)
{
    struct sigaction sa = {0};
    sa.sa_handler = SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, NULL);
}

/* Every signal we handle (or ignore) back to its default, then unblocked. */
static void child_reset_signals(pid_t parent)
{
    for (size_t i = 0; i < sizeof FORWARDED_SIGNALS / sizeof *FORWARDED_SIGNALS; i++)
        child_default(FORWARDED_SIGNALS[i]);
    child_default(SIGPIPE);
    child_default(SIGCHLD);
    /* If we are SIGKILLed alone, the test run must not outlive us. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent) _exit(127);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
}

/* The child stays in our process group on purpose: the agent cancels a job by
 * signalling the command's process group and finally SIGKILLs it, and under
 * the agent's PTY only the foreground process group may use the terminal
 * (a test calling tcsetattr from another group would be stopped by SIGTTOU). */
__attribute__((noreturn)) static void child_fail(int report_fd)
{
    int e = errno;
    ssize_t ignored = write(report_fd, &e, sizeof e);
    (void)ignored;
    _exit(127);
}

/* stdin for the child: the file asked for (or /dev/null when capturing:
 * never the job's terminal), opened here before the child exists (a child
 * that blocked in the open, on a FIFO with no writer, would hold a vforking
 * parent out of reach of the timeout: O_NONBLOCK for the open only). Close on
 * exec, so the child has it once, as 0. -1: inherit ours (the run phase's
 * pytest reads the job's stdin), or it cannot be opened (*err says why).
 * Not inlined: its locals would sit in process_run's frame across the vfork. */
__attribute__((noinline)) static int open_child_stdin(const process_opts_t *o, int *err)
{
    const char *in = o->stdin_path ? o->stdin_path : (o->capture ? "/dev/null" : NULL);
    *err = 0;
    if (!in) return -1;
    int fd = open(in, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        *err = errno;
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0) {
        *err = errno;
        close(fd);
        return -1;
    }
    return fd;
}

static void child_stdin(int in_fd, int report_fd)
{
    if (in_fd < 0) return;
    if (in_fd == 0 ? fcntl(0, F_SETFD, 0) < 0 : dup2(in_fd, 0) < 0) child_fail(report_fd);
}

__attribute__((noreturn)) static void child_exec(const process_opts_t *o, pid_t parent, bool shared,
                                                 int in_fd, int out_fd, int err_fd, int report_fd)
{
    child_reset_signals(parent);
    child_stdin(in_fd, report_fd);
    if (o->cwd && chdir(o->cwd) != 0) child_fail(report_fd);
    if (out_fd >= 0) dup2(out_fd, 1);
    if (err_fd >= 0) dup2(err_fd, 2);
    if (!shared && o->env) environ = o->env->items; /* a fork's own copy: its PATH is searched */
#if TEP_HAVE_EXECVPE
    execvpe(o->argv[0], o->argv, o->env ? o->env->items : environ);
#else
    execvp(o->argv[0], o->argv);
#endif
    child_fail(report_fd);
}

typedef struct {
    int fd;
    buf_t line;
} line_pipe_t;

/* Reads what is there; passes it on (or captures it) and feeds full lines. */
static bool pass_on_chunk(const process_opts_t *o, line_pipe_t *lp, int pass_fd)
{
    char chunk[8192];
    ssize_t n = read(lp->fd, chunk, sizeof chunk);
    if (n <= 0) return n < 0 && (errno == EINTR || errno == EAGAIN);
    buf_t *sink = pass_fd == 2 && o->capture_err ? o->capture_err : o->capture;
    if (sink) {
        buf_append(sink, chunk, (size_t)n);
    } else {
        /* A signal (a cancellation) while the job log's reader is slow makes
         * write() return early: go on, never drop pytest's lines. */
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(pass_fd, chunk + off, (size_t)(n - off));
            if (w < 0 && errno == EINTR) continue;
            if (w <= 0) break;
            off += w;
        }
    }
    if (o->on_stderr && pass_fd == 2) {
        for (ssize_t i = 0; i < n; i++) {
            if (chunk[i] == '\n') {
                o->on_stderr(lp->line.data, o->user);
                buf_reset(&lp->line);
            } else if (lp->line.len < PROCESS_LINE_MAX) { /* the rest is not held */
                buf_putc(&lp->line, chunk[i]);
            }
        }
    }
    return true;
}

static int start_failure(int report_fd)
{
    int e = 0;
    ssize_t n;
    do n = read(report_fd, &e, sizeof e);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof e ? e : 0;
}

/* Polls the open pipes once and passes on what is there; closes a pipe at
 * EOF, or at a quiet poll when `close_when_quiet` (draining after the end).
 * While the child runs (not when draining) the wake pipe ends the poll early. */
static void pump_pipes(const process_opts_t *o, line_pipe_t *err, line_pipe_t *out, int timeout_ms,
                       bool close_when_quiet)
{
    line_pipe_t *lps[2] = {err, out};
    struct pollfd fds[3];
    int map[2], nfds = 0;
    for (int i = 0; i < 2; i++)
        if (lps[i]->fd >= 0) {
            map[nfds] = i;
            fds[nfds++] = (struct pollfd){.fd = lps[i]->fd, .events = POLLIN};
        }
    bool wake = !close_when_quiet && wake_pipe[0] >= 0;
    if (wake) fds[nfds] = (struct pollfd){.fd = wake_pipe[0], .events = POLLIN};
    if (!nfds && !wake) {
        fs_sleep(timeout_ms / 1000.0);
        return;
    }
    int ready = poll(fds, (nfds_t)(nfds + wake), timeout_ms);
    /* Interrupted by a signal: nothing was looked at, so nothing is quiet
     * (closing now would drop what is still on its way). */
    if (ready < 0 && errno == EINTR) return;
    if (wake && ready > 0 && (fds[nfds].revents & POLLIN)) drain_wake_pipe();
    for (int k = 0; k < nfds; k++) {
        line_pipe_t *lp = lps[map[k]];
        bool has = ready > 0 && (fds[k].revents & (POLLIN | POLLHUP));
        if ((has && !pass_on_chunk(o, lp, map[k] == 0 ? 2 : 1)) || (!has && close_when_quiet)) {
            close(lp->fd);
            lp->fd = -1;
        }
    }
}

/* The cancellation or timeout in progress: when to escalate to SIGKILL. */
typedef struct {
    double kill_at; /* 0 = no stop requested */
    bool killed;
} stopping_t;

static void request_stop(stopping_t *st, double now, double grace)
{
    if (st->kill_at > 0) return;
    st->kill_at = now + grace;
}

static void escalate_to_kill(stopping_t *st, double now)
{
    if (st->kill_at <= 0 || st->killed || now < st->kill_at) return;
    proctree_signal_descendants(SIGKILL);
    st->killed = true;
}

/* Collects the child's status. ECHILD means someone else reaped it (an
 * inherited SIGCHLD disposition of SIG_IGN does that): report it as lost
 * rather than waiting for ever. */
static bool child_done(pid_t pid, int *status, process_result_t *r)
{
    pid_t w = waitpid(pid, status, WNOHANG);
    if (w == pid) return true;
    if (w < 0 && errno != EINTR) {
        r->lost = true;
        *status = 0;
        return true;
    }
    return false;
}

/* Waits for the child, passing its output on. A timeout sends SIGTERM to
 * everything the run started and SIGKILL after KILL_GRACE_S; a forwarded
 * cancellation escalates to SIGKILL before the agent's own grace period ends. */
static int wait_child(const process_opts_t *o, pid_t pid, line_pipe_t *err, line_pipe_t *out,
                      double start, process_result_t *r)
{
    int status = 0;
    stopping_t st = {0};
    for (;;) {
        pump_pipes(o, err, out, 50, false);
        if (child_done(pid, &status, r)) return status;
        double now = fs_monotonic();
        if (o->timeout_s > 0 && now - start > o->timeout_s && !r->timed_out) {
            r->timed_out = true;
            proctree_signal_descendants(SIGTERM);
            request_stop(&st, now, KILL_GRACE_S);
        }
        if (forwarded) request_stop(&st, now, process_cancel_kill_after());
        escalate_to_kill(&st, now);
    }
}

static void open_pipes(const process_opts_t *o, int errp[2], int outp[2], int rep[2])
{
    if ((o->on_stderr || o->capture || o->capture_err) && pipe2(errp, O_CLOEXEC) != 0)
        errp[0] = errp[1] = -1;
    if (o->capture && pipe2(outp, O_CLOEXEC) != 0) outp[0] = outp[1] = -1;
    if (pipe2(rep, O_CLOEXEC) != 0) rep[0] = rep[1] = -1;
}

static void close_fd(int *fd)
{
    if (*fd >= 0) close(*fd);
    *fd = -1;
}

/* After fork: the child's start, its whole life, and the clean-up of what it
 * left running. */
static void supervise_child(const process_opts_t *o, pid_t pid, int err_fd, int out_fd,
                            int report_fd, double start, process_result_t *r)
{
    int e = report_fd >= 0 ? start_failure(report_fd) : 0;
    if (e) {
        r->start_failed = true;
        err_set(&r->error, "cannot run '%s': %s", o->argv[0], strerror(e));
    }
    line_pipe_t err = {.fd = err_fd}, out = {.fd = out_fd};
    buf_init(&err.line);
    buf_init(&out.line);
    int status = wait_child(o, pid, &err, &out, start, r);
    child_pid = 0;
    proctree_kill_all(0.5); /* grandchildren the tests left running */
    /* Drain what is still buffered; everything we started is gone, so EOF
     * comes (bounded anyway, in case something else holds a pipe). */
    for (int round = 0; round < 100 && (err.fd >= 0 || out.fd >= 0); round++)
        pump_pipes(o, &err, &out, 20, true);
    if (err.line.len && o->on_stderr) o->on_stderr(err.line.data, o->user);
    buf_free(&err.line);
    buf_free(&out.line);
    if (r->lost)
        r->exit_code = 255;
    else if (WIFEXITED(status))
        r->exit_code = WEXITSTATUS(status);
    else if (WIFSIGNALED(status))
        r->signal = WTERMSIG(status);
}

void process_result_free(process_result_t *r)
{
    free(r->error);
    r->error = NULL;
}

/* The handlers process_run changes while a child runs, to put back after. */
typedef struct {
    struct sigaction term, intr, hup, chld;
} saved_handlers_t;

static void handlers_for_child(saved_handlers_t *h)
{
    if (!catching_always) install_forwarding(&h->term, &h->intr, &h->hup);
    /* A handler, not an inherited SIG_IGN: we must be able to wait for our
     * child; and it wakes the wait (without the pipe, the wait polls). */
    if (pipe2(wake_pipe, O_CLOEXEC | O_NONBLOCK) != 0) wake_pipe[0] = wake_pipe[1] = -1;
    struct sigaction sa = {0};
    sa.sa_handler = note_child_exit;
    sa.sa_flags = SA_RESTART | SA_NOCLDSTOP;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGCHLD, &sa, &h->chld);
}

static void handlers_restore(const saved_handlers_t *h)
{
    sigaction(SIGCHLD, &h->chld, NULL);
    close_fd(&wake_pipe[0]);
    close_fd(&wake_pipe[1]);
    if (catching_always) return;
    sigaction(SIGTERM, &h->term, NULL);
    sigaction(SIGINT, &h->intr, NULL);
    sigaction(SIGHUP, &h->hup, NULL);
}

void process_run(const process_opts_t *o, process_result_t *r)
{
    memset(r, 0, sizeof *r);
    int in_errno;
    int in_fd = open_child_stdin(o, &in_errno);
    if (in_errno) {
        r->start_failed = true;
        r->exit_code = 127;
        err_set(&r->error, "cannot run '%s': %s", o->argv[0], strerror(in_errno));
        return;
    }
    prctl(PR_SET_CHILD_SUBREAPER, 1);
    int errp[2] = {-1, -1};
    int outp[2] = {-1, -1};
    int rep[2] = {-1, -1};
    open_pipes(o, errp, outp, rep);
    fflush(stdout);
    fflush(stderr);
    saved_handlers_t saved;
    handlers_for_child(&saved);
    sigset_t old_mask;
    block_signals(&old_mask);

    double start = fs_monotonic();
    pid_t parent = getpid();
    bool shared = child_shares_memory(o);
#if TEP_VFORK
    pid_t pid = shared ? vfork() : fork();
#else
    pid_t pid = fork();
#endif
    if (pid == 0) child_exec(o, parent, shared, in_fd, outp[1], errp[1], rep[1]);
    int fork_errno = errno;
    if (pid > 0) child_pid = pid;
    sigprocmask(SIG_SETMASK, &old_mask, NULL); /* a pending cancellation is forwarded now */
    close_fd(&in_fd);
    close_fd(&rep[1]);
    close_fd(&outp[1]);
    close_fd(&errp[1]);
    if (pid < 0) {
        r->start_failed = true;
        err_set(&r->error, "fork failed: %s", strerror(fork_errno));
        close_fd(&errp[0]);
        close_fd(&outp[0]);
    } else {
        supervise_child(o, pid, errp[0], outp[0], rep[0], start, r);
    }
    close_fd(&rep[0]);
    handlers_restore(&saved);
    r->seconds = fs_monotonic() - start;
}
