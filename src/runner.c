#include "runner.h"
#include "buf.h"
#include "classify.h"
#include "collector_json.h"
#include "exit4.h"
#include "fsutil.h"
#include "junit.h"
#include "log.h"
#include "process.h"
#include "result.h"
#include "runmode.h"
#include "runstate.h"
#include "selector.h"
#include "template.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    config_t *cfg;
    run_setup_t setup;
    run_record_t rec;
    outcome_t outcome;
    strlist_t unreadable;     /* one line per result file that could not be read */
    char *missing_path;       /* from pytest's "file or directory not found" line */
    char *start_error;        /* set when the command could not be started */
} runner_t;

static void on_stderr_line(const char *line, void *user)
{
    runner_t *rn = user;
    char *p = exit4_missing_path(line);
    if (p) {
        free(rn->missing_path);
        rn->missing_path = p;
    }
}

static void print_command(const strlist_t *argv)
{
    buf_t b;
    buf_init(&b);
    for (size_t i = 0; i < argv->len; i++) {
        const char *a = argv->items[i];
        bool plain = a[0] && !strpbrk(a, " \t'\"\\$`[]*?;&|<>(){}!#~");
        if (i) buf_putc(&b, ' ');
        if (plain) {
            buf_puts(&b, a);
        } else {
            buf_putc(&b, '\'');
            for (const char *s = a; *s; s++) {
                if (*s == '\'') buf_puts(&b, "'\\''");
                else buf_putc(&b, *s);
            }
            buf_putc(&b, '\'');
        }
    }
    log_info("$ %s", b.data);
    buf_free(&b);
}

static void child_env(strlist_t *env)
{
    /* The collector in the child must not upload what report uploads, and
     * pytest has no business seeing our API token. */
    static const char *const drop[] = {"BUILDKITE_ANALYTICS_TOKEN", "BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN", NULL};
    proc_env_without(env, drop);
}

/* Runs pytest once, retrying exit 4 while the files are present. */
static void spawn_with_exit4_retries(runner_t *rn, const strlist_t *argv, const strlist_t *selectors,
                                     proc_result_t *pr, int *exit4_retries)
{
    strlist_t env;
    strlist_init(&env);
    child_env(&env);
    proc_opts_t o = {.argv = argv->items, .env = &env, .timeout_s = (double)rn->cfg->run_timeout,
                     .on_stderr = on_stderr_line, .user = rn};
    *exit4_retries = 0;
    for (;;) {
        free(rn->missing_path);
        rn->missing_path = NULL;
        proc_run(&o, pr);
        if (pr->start_failed || pr->signal || pr->exit_code != 4) break;
        if (*exit4_retries >= rn->cfg->exit4_retries || proc_forwarded_signal()) break;
        if (!exit4_files_present(selectors)) break;
        (*exit4_retries)++;
        double wait = (double)rn->cfg->exit4_backoff_ms / 1000.0 * *exit4_retries;
        log_warn("pytest exited 4 (file or directory not found: %s) although the files exist; retry %d of %ld in %.1fs",
                 rn->missing_path ? rn->missing_path : "?", *exit4_retries, rn->cfg->exit4_retries, wait);
        fs_sleep(wait);
        if (proc_forwarded_signal()) break; /* cancelled while we waited: start nothing new */
    }
    strlist_free(&env);
}

static void exit4_report(runner_t *rn, const strlist_t *selectors, int retries)
{
    char *first = selectors->len ? selector_file_part(selectors->items[0]) : xstrdup(".");
    const char *path = rn->missing_path ? rn->missing_path : first;
    buf_t f;
    buf_init(&f);
    exit4_forensics(path, retries, &f);
    fputs(f.data, stderr);
    fflush(stderr);
    char *joined = rn->rec.forensics ? xasprintf("%s%s", rn->rec.forensics, f.data) : xstrdup(f.data);
    free(rn->rec.forensics);
    rn->rec.forensics = joined;
    buf_free(&f);
    free(first);
}

static bool copy_file(const char *from, const char *to)
{
    size_t len;
    char *data = fs_read_file(from, &len);
    if (!data) return false;
    bool ok = fs_write_file(to, data, len);
    free(data);
    return ok;
}

/* Reads an attempt's result file into the model; notes unreadable files. */
static void read_results(runner_t *rn, const char *path, const proc_result_t *pr)
{
    bool must_read = !pr->signal && !pr->start_failed && (pr->exit_code <= 1 || (pr->exit_code == 2 && rn->setup.mode == MODE_JSON));
    if (!fs_exists(path)) {
        if (must_read)
            strlist_push_owned(&rn->unreadable, xasprintf("pytest exited %d but wrote no results to %s", pr->exit_code, path));
        return;
    }
    char error[256] = "";
    if (rn->setup.mode == MODE_JSON) {
        cj_scan_t scan;
        cj_read_results(path, &rn->rec.result, &scan);
        if (!scan.ok) snprintf(error, sizeof error, "%s", scan.error);
    } else {
        junit_scan_t scan;
        junit_read_results(path, &rn->rec.result, &scan);
        if (!scan.ok) snprintf(error, sizeof error, "%s", scan.error);
    }
    if (error[0] && must_read) strlist_push_owned(&rn->unreadable, xasprintf("results cannot be read: %s", error));
    else if (error[0]) log_warn("results of an interrupted run are incomplete: %s", error);
}

static void run_attempt(runner_t *rn, int k, const strlist_t *selectors)
{
    config_t *cfg = rn->cfg;
    char *rel = xasprintf("results/attempt-%d.%s", k, runmode_ext(rn->setup.mode));
    char *path = state_file(cfg, rel);
    const char *target = *cfg->result_path ? cfg->result_path : path;
    unlink(path);
    unlink(target); /* never read a previous attempt's file */
    strlist_t argv;
    strlist_init(&argv);
    char *err = NULL;
    attempt_t *a = &rn->rec.attempts[rn->rec.n_attempts++];
    a->index = k;
    a->result_file = rel;
    a->n_selectors = selectors->len;
    a->started = fs_now();
    if (!template_expand(k == 0 ? rn->setup.test_cmd : rn->setup.retry_cmd, selectors, target, &argv, &err)) {
        log_error("%s: %s", k == 0 ? "BUILDKITE_TEST_ENGINE_TEST_CMD" : "BUILDKITE_TEST_ENGINE_RETRY_CMD", err);
        free(err);
        strlist_push_owned(&rn->unreadable, xstrdup("the command could not be built"));
        a->exit_code = -1;
        a->ended = fs_now();
        strlist_free(&argv);
        free(path);
        return;
    }
    print_command(&argv);
    proc_result_t pr;
    int exit4_retries = 0;
    spawn_with_exit4_retries(rn, &argv, selectors, &pr, &exit4_retries);
    a->ended = fs_now();
    if (pr.start_failed) {
        log_error("%s; check BUILDKITE_TEST_ENGINE_TEST_CMD and PATH", pr.start_error);
        rn->outcome.not_started = true;
        free(rn->start_error);
        rn->start_error = xasprintf("the test command did not start: %s", pr.start_error);
        pr.exit_code = 127;
    }
    if (pr.timed_out) log_error("pytest ran longer than BUILDKITE_TEST_ENGINE_TIMEOUT (%lds); its process group was killed", cfg->run_timeout);
    if (!pr.signal && pr.exit_code == 4) exit4_report(rn, selectors, exit4_retries);
    if (*cfg->result_path && fs_exists(target)) copy_file(target, path);
    read_results(rn, path, &pr);
    a->exit_code = pr.exit_code;
    a->signal = pr.signal ? pr.signal : proc_forwarded_signal();
    rn->outcome.last_exit = pr.exit_code;
    if (pr.signal) rn->outcome.signal = pr.signal;
    else if (proc_forwarded_signal()) rn->outcome.signal = proc_forwarded_signal();
    strlist_free(&argv);
    free(path);
}

static void count_outcome(runner_t *rn)
{
    result_stats_t s;
    result_stats(&rn->rec.result, &s);
    outcome_t *o = &rn->outcome;
    o->collection_errors = s.collection_errors;
    o->failed = s.failed;
    o->muted_failed = s.muted_failed;
    o->unreadable = rn->unreadable.len > 0;
}

static bool terminal_now(runner_t *rn)
{
    count_outcome(rn);
    if (!rn->outcome.signal) rn->outcome.signal = proc_forwarded_signal(); /* cancelled between attempts */
    outcome_t *o = &rn->outcome;
    return o->signal || o->not_started || o->collection_errors || o->unreadable || (o->json_mode && o->last_exit == 2);
}

/* The node ids to run next; empty when nothing should be retried. */
static void next_selectors(runner_t *rn, strlist_t *next)
{
    bool retry_muted = !rn->cfg->disable_retry_for_muted;
    for (size_t i = 0; i < rn->rec.result.len; i++) {
        const test_result_t *t = &rn->rec.result.tests[i];
        if (t->status != ST_FAILED || t->collection_error || (t->muted && !retry_muted)) continue;
        const char *why = selector_problem(t->node_id, strlen(t->node_id));
        if (why) log_warn("cannot retry '%s': %s", t->node_id, why);
        else strlist_push(next, t->node_id);
    }
}

static void attempt_loop(runner_t *rn, const strlist_t *slice)
{
    long max = rn->cfg->retry_count;
    strlist_t current;
    strlist_init(&current);
    for (size_t i = 0; i < slice->len; i++) strlist_push(&current, slice->items[i]);
    for (long k = 0;; k++) {
        if (k == 0) log_section("running %zu entr%s with pytest", current.len, current.len == 1 ? "y" : "ies");
        else log_section("retry %ld of %ld: running the %zu failing test%s again", k, max, current.len, current.len == 1 ? "" : "s");
        run_attempt(rn, (int)k, &current);
        if (terminal_now(rn) || k == max) break;
        strlist_clear(&current);
        next_selectors(rn, &current);
        if (current.len == 0) break;
    }
    strlist_free(&current);
}

static char *describe(const runner_t *rn, int status, bool terminal)
{
    const outcome_t *o = &rn->outcome;
    if (o->signal) return xasprintf("pytest was killed by signal %d", o->signal);
    if (o->not_started) return xstrdup(rn->start_error);
    if (terminal && o->collection_errors) {
        strlist_t files;
        strlist_init(&files);
        for (size_t i = 0; i < rn->rec.result.len; i++) {
            const test_result_t *t = &rn->rec.result.tests[i];
            if (t->collection_error) strlist_push(&files, t->file ? t->file : t->node_id);
        }
        strlist_sort(&files);
        buf_t b;
        buf_init(&b);
        buf_printf(&b, "collection error%s in ", files.len == 1 ? "" : "s");
        for (size_t i = 0; i < files.len && i < 10; i++) buf_printf(&b, "%s%s", i ? ", " : "", files.items[i]);
        if (files.len > 10) buf_printf(&b, " and %zu more", files.len - 10);
        buf_printf(&b, ": pytest cannot import %s, a retry will not help", files.len == 1 ? "it" : "them");
        strlist_free(&files);
        return buf_detach(&b);
    }
    if (terminal && rn->unreadable.len) return xstrdup(rn->unreadable.items[0]);
    if (terminal) return xstrdup("pytest exited 2 (interrupted) and reported no collection error; not retrying");
    if (o->failed) return xasprintf("%zu test%s failed after %zu attempt%s", o->failed, o->failed == 1 ? "" : "s",
                                    rn->rec.n_attempts, rn->rec.n_attempts == 1 ? "" : "s");
    if (status == 0 && o->muted_failed) return xasprintf("passed; %zu muted test%s failed", o->muted_failed, o->muted_failed == 1 ? "" : "s");
    if (status == 0) return xstrdup("all tests passed");
    if (o->last_exit == 1) return xstrdup("pytest exited 1 but reported no failed test; not reporting a pass");
    if (o->last_exit == 4 && rn->rec.forensics)
        return xasprintf("pytest exited 4 (file or directory not found: %s) after %ld exit-4 retr%s; see the forensics",
                         rn->missing_path ? rn->missing_path : "?", rn->cfg->exit4_retries,
                         rn->cfg->exit4_retries == 1 ? "y" : "ies");
    return xasprintf("pytest exited %d", o->last_exit);
}

static void print_report(const runner_t *rn, int status)
{
    result_stats_t s;
    result_stats(&rn->rec.result, &s);
    log_section("results");
    log_info("%s %s", status == 0 ? "PASSED:" : rn->rec.terminal ? "TERMINAL:" : "FAILED:", rn->rec.why);
    log_info("  passed on first run  %zu", s.passed_first);
    log_info("  passed on retry      %zu (flaky: %zu)", s.passed_retry, s.flaky);
    log_info("  muted                %zu passed, %zu failed", s.muted_passed, s.muted_failed);
    log_info("  failed               %zu", s.failed);
    log_info("  skipped              %zu", s.skipped);
    log_info("  collection errors    %zu", s.collection_errors);
    if (s.unknown) log_info("  no outcome           %zu", s.unknown);
    size_t shown = 0;
    for (size_t i = 0; i < rn->rec.result.len && shown < 50; i++) {
        const test_result_t *t = &rn->rec.result.tests[i];
        if (t->status != ST_FAILED) continue;
        const char *label = t->collection_error ? "collection error" : t->muted ? "failed (muted)" : "failed";
        char *reason = t->failure ? xstrndup(t->failure, strcspn(t->failure, "\n")) : xstrdup("");
        log_info("  %s: %s%s%s", label, t->node_id, *reason ? " - " : "", reason);
        free(reason);
        shown++;
    }
    for (size_t i = 0; i < rn->rec.result.len; i++)
        if (result_is_flaky(&rn->rec.result.tests[i])) log_info("  flaky (failed, then passed): %s", rn->rec.result.tests[i].node_id);
    log_info("exit status %d", status);
}

int runner_run(config_t *cfg, const slice_t *slice)
{
    runner_t rn = {.cfg = cfg};
    char *err = NULL;
    if (!runmode_resolve(cfg, &rn.setup, &err)) {
        log_error("%s", err);
        free(err);
        return (int)cfg->config_exit_status;
    }
    log_info("Results: %s mode (%s)", rn.setup.mode == MODE_JSON ? "collector JSON" : "JUnit XML", rn.setup.why);
    proc_catch_signals();
    strlist_init(&rn.unreadable);
    result_init(&rn.rec.result, slice->muted, slice->n_muted);
    rn.rec.attempts = xcalloc((size_t)cfg->retry_count + 1, sizeof(attempt_t));
    rn.rec.mode = xstrdup(rn.setup.mode == MODE_JSON ? "json" : "junit");
    rn.rec.plan_source = xstrdup(slice->source);
    rn.rec.plan_reason = xstrdup(slice->reason);
    rn.rec.from_server = slice->from_server;
    rn.outcome.json_mode = rn.setup.mode == MODE_JSON;
    int status;
    if (slice->tests.len == 0) {
        rn.outcome.no_tests = true;
        bool fail = cfg->fail_on_no_tests;
        log_section("no tests to run on this job");
        status = fail ? (int)cfg->config_exit_status : 0;
        rn.rec.why = xstrdup(fail ? "no tests were assigned to this job and BUILDKITE_TEST_ENGINE_FAIL_ON_NO_TESTS is set"
                                  : "no tests were assigned to this job");
        if (fail) log_error("%s", rn.rec.why);
    } else {
        attempt_loop(&rn, &slice->tests);
        terminal_now(&rn); /* final counts, and a signal that came during parsing */
        status = classify(cfg, &rn.outcome, &rn.rec.terminal);
        rn.rec.why = describe(&rn, status, rn.rec.terminal);
        print_report(&rn, status);
        if (rn.rec.terminal) log_error("%s (exit %d, terminal: do not retry)", rn.rec.why, status);
    }
    rn.rec.exit_status = status;
    if (!runstate_write(cfg, &rn.rec, &err)) {
        log_error("%s", err);
        free(err);
    }
    runstate_free(&rn.rec);
    runmode_free(&rn.setup);
    strlist_free(&rn.unreadable);
    free(rn.missing_path);
    free(rn.start_error);
    return status;
}
