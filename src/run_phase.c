#include "run_phase.h"
#include "run_argsplit.h"
#include "buf.h"
#include "childenv.h"
#include "run_classify.h"
#include "run_colldetail.h"
#include "results_json.h"
#include "run_exit4.h"
#include "fsutil.h"
#include "results_junit.h"
#include "log.h"
#include "process.h"
#include "run_result.h"
#include "results_merge.h"
#include "run_mode.h"
#include "run_record.h"
#include "run_summary.h"
#include "state_dir.h"
#include "selector.h"
#include "template.h"
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A printed command line shows this many arguments, each up to SHOWN_BYTES;
 * the rest is counted, so a huge slice never floods the log. */
#define SHOWN_ARGS  40
#define SHOWN_BYTES 256

typedef struct {
    config_t *cfg;
    run_setup_t setup;
    run_record_t rec;
    outcome_t outcome;
    strlist_t env;          /* the child's environment: ours without the tokens */
    strlist_t unreadable;   /* one line per result file that could not be read */
    char *missing_path;     /* from pytest's "file or directory not found" line */
    char *start_error;      /* set when the command could not be started */
    size_t attempt_entries; /* entries given to the attempt that stopped early */
    size_t not_run;         /* of those, entries no pytest ran */
} run_phase_t;

/* One pytest invocation: some of an attempt's selectors, one result file. */
typedef struct {
    const char *tmpl;
    const strlist_t *selectors;
    const char *result_path;
    double deadline; /* monotonic; 0 = none */
    process_result_t pr;
    size_t new_collection_errors;
} part_t;

static void on_stderr_line(const char *line, void *user)
{
    run_phase_t *rn = user;
    char *p = run_exit4_missing_path(line);
    if (p) {
        free(rn->missing_path);
        rn->missing_path = p;
    }
}

static void put_word(buf_t *b, const char *a)
{
    size_t len = strlen(a), shown = len > SHOWN_BYTES ? SHOWN_BYTES : len;
    bool plain = a[0] && strcspn(a, " \t'\"\\$`[]*?;&|<>(){}!#~") >= shown;
    if (!plain) buf_putc(b, '\'');
    for (size_t i = 0; i < shown; i++) {
        if (a[i] == '\'')
            buf_puts(b, "'\\''");
        else
            buf_putc(b, a[i]);
    }
    if (!plain) buf_putc(b, '\'');
    if (shown < len) buf_printf(b, "...(%zu more bytes)", len - shown);
}

/* The command as a shell would read it; a huge one is shortened in the
 * middle (its first arguments and its last few), never flooding the log. */
static void print_command(const strlist_t *argv)
{
    buf_t b;
    buf_init(&b);
    size_t tail = argv->len > SHOWN_ARGS ? 3 : 0;
    for (size_t i = 0; i < argv->len; i++) {
        if (tail && i == SHOWN_ARGS - tail) {
            buf_printf(&b, " ... (%zu more arguments) ...", argv->len - SHOWN_ARGS);
            i = argv->len - tail;
        }
        if (i) buf_putc(&b, ' ');
        put_word(&b, argv->items[i]);
    }
    log_info("$ %s", b.data);
    buf_free(&b);
}

static double seconds_left(double deadline)
{
    return deadline > 0 ? deadline - fs_monotonic() : 0;
}

/* Runs pytest once, retrying exit 4 while the files are present. */
static void spawn_with_exit4_retries(run_phase_t *rn, const strlist_t *argv, part_t *part,
                                     int *exit4_retries)
{
    process_opts_t o = {
        .argv = argv->items, .env = &rn->env, .on_stderr = on_stderr_line, .user = rn};
    *exit4_retries = 0;
    for (;;) {
        free(rn->missing_path);
        rn->missing_path = NULL;
        /* 0 means "no timeout" to process_run: a deadline reached while we
         * were busy still gets a (tiny) positive one. */
        o.timeout_s = part->deadline > 0 ? fmax(seconds_left(part->deadline), 0.001) : 0;
        process_run(&o, &part->pr);
        process_result_t *pr = &part->pr;
        if (pr->start_failed || pr->signal || pr->exit_code != 4) break;
        if (*exit4_retries >= rn->cfg->exit4_retries || process_forwarded_signal()) break;
        if (!run_exit4_files_present(part->selectors)) break;
        (*exit4_retries)++;
        double wait = (double)rn->cfg->exit4_backoff_ms / 1000.0 * *exit4_retries;
        log_warn("pytest exited 4 (file or directory not found: %s) although the files exist; "
                 "retry %d of %ld in %.1fs",
                 rn->missing_path ? rn->missing_path : "?", *exit4_retries, rn->cfg->exit4_retries,
                 wait);
        fs_sleep(wait);
        if (process_forwarded_signal()) break; /* cancelled while we waited: start nothing new */
        if (part->deadline > 0 && seconds_left(part->deadline) <= 0)
            break; /* out of time: exit 4 stands */
    }
}

static void exit4_report(run_phase_t *rn, const strlist_t *selectors, int retries)
{
    char *first = selectors->len ? selector_file_part(selectors->items[0]) : xstrdup(".");
    const char *path = rn->missing_path ? rn->missing_path : first;
    buf_t f;
    buf_init(&f);
    run_exit4_forensics(path, retries, &f);
    log_block(f.data);
    char *joined =
        rn->rec.forensics ? xasprintf("%s%s", rn->rec.forensics, f.data) : xstrdup(f.data);
    free(rn->rec.forensics);
    rn->rec.forensics = joined;
    buf_free(&f);
    free(first);
}

/* A collector record into the model; a collection error's cause comes from
 * its whole text while the record is at hand. */
static void on_json_record(const test_record_t *rec, void *user)
{
    run_result_t *r = user;
    run_result_add(r, rec);
    run_colldetail_offer_record(r, rec);
}

/* The result readers' warnings (records they skipped), as warnings. */
static void warn_result_line(void *user, const char *line)
{
    (void)user;
    log_warn("%s", line);
}

/* Reads a result file into the model; notes unreadable files. */
static void read_results(run_phase_t *rn, const char *path, const process_result_t *pr)
{
    bool must_read = !pr->signal && !pr->start_failed &&
                     (pr->exit_code <= 1 || (pr->exit_code == 2 && rn->setup.mode == MODE_JSON));
    if (!fs_exists(path)) {
        if (must_read)
            strlist_push_owned(
                &rn->unreadable,
                xasprintf("pytest exited %d but wrote no results to %s", pr->exit_code, path));
        return;
    }
    char *error = NULL;
    if (rn->setup.mode == MODE_JSON) {
        results_json_scan_t scan;
        results_json_read_records(path, on_json_record, &rn->rec.result, warn_result_line, NULL,
                                  &scan);
        error = scan.error;
    } else {
        results_junit_scan_t scan;
        results_junit_read_results(path, &rn->rec.result, warn_result_line, NULL, &scan);
        error = scan.error;
    }
    if (error && must_read)
        strlist_push_owned(&rn->unreadable, xasprintf("results cannot be read: %s", error));
    else if (error)
        log_warn("results of an interrupted run are incomplete: %s", error);
    free(error);
}

static size_t count_collection_errors(const run_result_t *r)
{
    run_result_stats_t s;
    run_result_stats(r, &s);
    return s.collection_errors;
}

/* Runs one pytest over part->selectors and reads what it wrote. */
static void run_part(run_phase_t *rn, part_t *part)
{
    config_t *cfg = rn->cfg;
    strlist_t argv;
    strlist_init(&argv);
    char *err = NULL;
    unlink(part->result_path); /* never read an earlier run's file */
    if (!template_expand(part->tmpl, part->selectors, part->result_path, &argv, &err)) {
        /* validated before anything ran; only a changed template gets here */
        part->pr.start_failed = true;
        snprintf(part->pr.start_error, sizeof part->pr.start_error,
                 "the test command cannot be built: %s", err);
        free(err);
    } else {
        print_command(&argv);
        int exit4_retries = 0;
        spawn_with_exit4_retries(rn, &argv, part, &exit4_retries);
        if (!part->pr.start_failed && !part->pr.signal && part->pr.exit_code == 4)
            exit4_report(rn, part->selectors, exit4_retries);
    }
    process_result_t *pr = &part->pr;
    if (pr->start_failed) {
        log_error("%s; check BUILDKITE_TEST_ENGINE_TEST_CMD and PATH", pr->start_error);
        rn->outcome.not_started = true;
        free(rn->start_error);
        rn->start_error = xasprintf("the test command did not start: %s", pr->start_error);
        pr->exit_code = 127;
    }
    if (pr->timed_out) {
        rn->outcome.timed_out = true;
        log_error("pytest ran longer than BUILDKITE_TEST_ENGINE_TIMEOUT (%lds); its process group "
                  "was killed",
                  cfg->run_timeout);
    }
    size_t before = count_collection_errors(&rn->rec.result);
    read_results(rn, part->result_path, pr);
    part->new_collection_errors = count_collection_errors(&rn->rec.result) - before;
    /* JUnit keeps a collection error's first line only: its cause is read back. */
    if (part->new_collection_errors && rn->setup.mode == MODE_JUNIT)
        run_colldetail_fill(MODE_JUNIT, part->result_path, &rn->rec.result);
    strlist_free(&argv);
}

/* Whether a part ended the run as a single pytest would have ended it. */
static bool part_ends_run(const part_t *part)
{
    const process_result_t *pr = &part->pr;
    if (pr->start_failed || pr->signal || process_forwarded_signal()) return true;
    return !(pr->exit_code == 0 || pr->exit_code == 1 || pr->exit_code == 5);
}

static char *part_file(const run_phase_t *rn, int k, size_t j)
{
    char *rel = xasprintf("results/attempt-%d.part-%zu.%s", k, j + 1, run_mode_ext(rn->setup.mode));
    char *path = state_dir_file(rn->cfg, rel);
    free(rel);
    return path;
}

/* Cost of the command line without selectors (the result path of the
 * longest part name counted), for the argument budget. */
static bool fixed_cost(const run_phase_t *rn, const char *tmpl, int k, size_t *cost, char **err)
{
    strlist_t none, argv;
    strlist_init(&none);
    strlist_init(&argv);
    char *longest = part_file(rn, k, (size_t)999999999);
    bool ok = template_expand(tmpl, &none, longest, &argv, err);
    *cost = run_argsplit_list_cost(&argv);
    free(longest);
    strlist_free(&none);
    strlist_free(&argv);
    return ok;
}

static void sub_list(const strlist_t *all, size_t from, size_t to, strlist_t *out)
{
    strlist_init(out);
    for (size_t i = from; i < to; i++) strlist_push(out, all->items[i]);
}

/* Merges the parts of attempt k into its one file and removes them. */
static void merge_parts(run_phase_t *rn, const strlist_t *parts, const char *path)
{
    results_merge_stats_t st;
    strlist_t problems; /* already reported part by part when they mattered */
    strlist_init(&problems);
    char *err = NULL;
    if (!results_merge_concat(rn->setup.mode, parts, path, &st, &problems, &err)) {
        strlist_push_owned(&rn->unreadable, xasprintf("results cannot be merged: %s", err));
        free(err);
    } else {
        log_info("merged %zu result file%s (%zu records) into %s", st.files,
                 st.files == 1 ? "" : "s", st.records, path);
        for (size_t i = 0; i < parts->len; i++) unlink(parts->items[i]);
    }
    strlist_free(&problems);
}

/* Runs the groups of one attempt, stopping where one pytest would have stopped. */
static int run_groups(run_phase_t *rn, int k, const char *tmpl, const strlist_t *selectors,
                      const run_argsplit_t *groups, double deadline, const char *path, int *signal)
{
    int combined = -1;
    strlist_t files;
    strlist_init(&files);
    for (size_t g = 0; g < groups->n; g++) {
        size_t from = g ? groups->end[g - 1] : 0, to = groups->end[g];
        if (deadline > 0 && seconds_left(deadline) <= 0) {
            rn->outcome.timed_out = true;
            *signal = SIGTERM;
            log_error("BUILDKITE_TEST_ENGINE_TIMEOUT (%lds) ran out before part %zu of %zu; not "
                      "starting it",
                      rn->cfg->run_timeout, g + 1, groups->n);
            break;
        }
        strlist_t sel;
        sub_list(selectors, from, to, &sel);
        char *file = groups->n == 1 ? xstrdup(path) : part_file(rn, k, g);
        if (groups->n > 1)
            log_info("part %zu of %zu: %zu entr%s", g + 1, groups->n, sel.len,
                     sel.len == 1 ? "y" : "ies");
        part_t part = {.tmpl = tmpl, .selectors = &sel, .result_path = file, .deadline = deadline};
        run_part(rn, &part);
        strlist_push_owned(&files, file);
        strlist_free(&sel);
        combined = run_classify_combine_exit(combined, part.pr.exit_code);
        if (part.pr.signal) *signal = part.pr.signal;
        if (!part_ends_run(&part)) continue;
        if (part.pr.exit_code == 2 && part.new_collection_errors) {
            rn->attempt_entries = selectors->len;
            rn->not_run = selectors->len - from; /* this part's entries and every later part's */
        }
        if (g + 1 < groups->n && !part.pr.signal && !process_forwarded_signal())
            log_warn("pytest ended part %zu of %zu with exit %d; the remaining %zu entries do not "
                     "run, as in one pytest run",
                     g + 1, groups->n, part.pr.exit_code, selectors->len - to);
        break;
    }
    if (groups->n > 1) merge_parts(rn, &files, path);
    strlist_free(&files);
    return combined < 0 ? 0 : combined;
}

static bool split_for_argv(run_phase_t *rn, int k, const char *tmpl, const strlist_t *selectors,
                           run_argsplit_t *groups, char **err)
{
    size_t fixed = 0;
    if (!fixed_cost(rn, tmpl, k, &fixed, err)) return false;
    size_t budget = run_argsplit_budget(&rn->env);
    if (!run_argsplit_groups(selectors, fixed, budget, groups, err)) return false;
    if (groups->n > 1)
        log_info("%zu entries need %zu bytes of arguments, more than one command line should carry "
                 "(%zu bytes: a quarter "
                 "of what the environment leaves of ARG_MAX); running pytest %zu times, one result "
                 "file each, as one run",
                 selectors->len, fixed + run_argsplit_list_cost(selectors), budget, groups->n);
    return true;
}

static void run_attempt(run_phase_t *rn, int k, const strlist_t *selectors)
{
    config_t *cfg = rn->cfg;
    const char *tmpl = k == 0 ? rn->setup.test_cmd : rn->setup.retry_cmd;
    char *rel = xasprintf("results/attempt-%d.%s", k, run_mode_ext(rn->setup.mode));
    char *path = state_dir_file(cfg, rel);
    attempt_t *a = &rn->rec.attempts[rn->rec.n_attempts++];
    a->index = k;
    a->result_file = rel;
    a->n_selectors = selectors->len;
    a->started = fs_now();
    double deadline = cfg->run_timeout > 0 ? fs_monotonic() + (double)cfg->run_timeout : 0;
    run_argsplit_t groups;
    char *err = NULL;
    int signal = 0;
    if (!split_for_argv(rn, k, tmpl, selectors, &groups, &err)) {
        log_error("%s: %s",
                  k == 0 ? "BUILDKITE_TEST_ENGINE_TEST_CMD" : "BUILDKITE_TEST_ENGINE_RETRY_CMD",
                  err);
        free(err);
        unlink(path);
        strlist_push_owned(&rn->unreadable, xstrdup("the command could not be built"));
        a->exit_code = -1;
    } else {
        a->exit_code = run_groups(rn, k, tmpl, selectors, &groups, deadline, path, &signal);
        run_argsplit_free(&groups);
    }
    a->ended = fs_now();
    a->signal = signal ? signal : process_forwarded_signal();
    rn->outcome.last_exit = a->exit_code;
    if (signal)
        rn->outcome.signal = signal;
    else if (process_forwarded_signal())
        rn->outcome.signal = process_forwarded_signal();
    free(path);
}

static void count_outcome(run_phase_t *rn)
{
    run_result_stats_t s;
    run_result_stats(&rn->rec.result, &s);
    outcome_t *o = &rn->outcome;
    o->collection_errors = s.collection_errors;
    o->failed = s.failed;
    o->muted_failed = s.muted_failed;
    o->unreadable = rn->unreadable.len > 0;
}

static bool terminal_now(run_phase_t *rn)
{
    count_outcome(rn);
    if (!rn->outcome.signal)
        rn->outcome.signal = process_forwarded_signal(); /* cancelled between attempts */
    outcome_t *o = &rn->outcome;
    return o->signal || o->not_started || o->collection_errors || o->unreadable ||
           (o->json_mode && o->last_exit == 2);
}

/* The node ids to run next; empty when nothing should be retried. */
static void next_selectors(run_phase_t *rn, strlist_t *next)
{
    bool retry_muted = !rn->cfg->disable_retry_for_muted;
    for (size_t i = 0; i < rn->rec.result.len; i++) {
        const test_result_t *t = &rn->rec.result.tests[i];
        if (t->status != ST_FAILED || t->collection_error || (t->muted && !retry_muted)) continue;
        const char *why = selector_problem(t->node_id, strlen(t->node_id));
        if (why)
            log_warn("cannot retry '%s': %s", t->node_id, why);
        else
            strlist_push(next, t->node_id);
    }
}

static void attempt_loop(run_phase_t *rn, const strlist_t *slice)
{
    long max = rn->cfg->retry_count;
    strlist_t current;
    strlist_init(&current);
    for (size_t i = 0; i < slice->len; i++) strlist_push(&current, slice->items[i]);
    for (long k = 0;; k++) {
        if (k == 0)
            log_section("running %zu entr%s with pytest", current.len,
                        current.len == 1 ? "y" : "ies");
        else
            log_section("retry %ld of %ld: running the %zu failing test%s again", k, max,
                        current.len, current.len == 1 ? "" : "s");
        run_attempt(rn, (int)k, &current);
        if (terminal_now(rn) || k == max) break;
        strlist_clear(&current);
        next_selectors(rn, &current);
        if (current.len == 0) break;
    }
    strlist_free(&current);
}

/* BUILDKITE_TEST_ENGINE_RESULT_PATH gets every test's final outcome. */
static void write_result_path(run_phase_t *rn)
{
    const char *out = rn->cfg->result_path;
    strlist_t files, problems;
    strlist_init(&files);
    strlist_init(&problems);
    size_t present = 0;
    for (size_t i = 0; i < rn->rec.n_attempts; i++) {
        strlist_push_owned(&files, state_dir_file(rn->cfg, rn->rec.attempts[i].result_file));
        present += fs_exists(files.items[i]);
    }
    results_merge_stats_t st;
    if (!present) {
        log_warn(
            "BUILDKITE_TEST_ENGINE_RESULT_PATH: pytest wrote no results, so %s was not written",
            out);
        strlist_free(&files);
        strlist_free(&problems);
        return;
    }
    char *err = NULL;
    if (!results_merge_final(rn->setup.mode, &files, out, &st, &problems, &err)) {
        log_error("BUILDKITE_TEST_ENGINE_RESULT_PATH: %s; the results are still in %s", err,
                  rn->cfg->state_dir);
        free(err);
    } else {
        for (size_t i = 0; i < problems.len; i++) log_warn("result path: %s", problems.items[i]);
        log_info("Results of %zu attempt%s (%zu tests, final outcome each) written to %s",
                 files.len, files.len == 1 ? "" : "s", st.records, out);
    }
    strlist_free(&files);
    strlist_free(&problems);
}

static void start_record(run_phase_t *rn, const slice_t *slice)
{
    config_t *cfg = rn->cfg;
    strlist_init(&rn->unreadable);
    strlist_init(&rn->env);
    childenv_build(
        &rn->env); /* the collector must not upload what report uploads; no token for pytest */
    run_result_init(&rn->rec.result, slice->muted, slice->n_muted);
    rn->rec.attempts = xcalloc((size_t)cfg->retry_count + 1, sizeof(attempt_t));
    rn->rec.mode = xstrdup(rn->setup.mode == MODE_JSON ? "json" : "junit");
    rn->rec.plan_source = xstrdup(slice->source);
    rn->rec.plan_reason = xstrdup(slice->reason);
    rn->rec.from_server = slice->from_server;
    rn->outcome.json_mode = rn->setup.mode == MODE_JSON;
}

static int run_slice(run_phase_t *rn, const slice_t *slice)
{
    config_t *cfg = rn->cfg;
    if (*cfg->result_path) unlink(cfg->result_path); /* never leave an earlier run's file there */
    attempt_loop(rn, &slice->tests);
    if (*cfg->result_path) write_result_path(rn);
    terminal_now(rn); /* final counts, and a signal that came during parsing */
    rn->outcome.cancelled = process_forwarded_signal() != 0;
    int status = run_classify(cfg, &rn->outcome, &rn->rec.terminal);
    run_facts_t facts = {.outcome = &rn->outcome,
                         .rec = &rn->rec,
                         .start_error = rn->start_error,
                         .unreadable = rn->unreadable.len ? rn->unreadable.items[0] : NULL,
                         .missing_path = rn->missing_path,
                         .exit4_retries = cfg->exit4_retries,
                         .timeout_s = cfg->run_timeout,
                         .slice_entries = rn->attempt_entries,
                         .not_run = rn->not_run};
    rn->rec.why = run_summary_why(&facts, status, rn->rec.terminal);
    run_summary_print(&facts, status);
    if (rn->rec.terminal) log_error("%s (exit %d, terminal: do not retry)", rn->rec.why, status);
    return status;
}

static int run_nothing(run_phase_t *rn)
{
    config_t *cfg = rn->cfg;
    rn->outcome.no_tests = true;
    bool fail = cfg->fail_on_no_tests;
    log_section("no tests to run on this job");
    rn->rec.why = xstrdup(
        fail
            ? "no tests were assigned to this job and BUILDKITE_TEST_ENGINE_FAIL_ON_NO_TESTS is set"
            : "no tests were assigned to this job");
    if (fail) log_error("%s", rn->rec.why);
    return fail ? (int)cfg->config_exit_status : 0;
}

int run_phase_run(config_t *cfg, const slice_t *slice)
{
    run_phase_t rn = {.cfg = cfg};
    char *err = NULL;
    if (!run_mode_resolve(cfg, &rn.setup, &err)) {
        log_error("%s", err);
        free(err);
        return (int)cfg->config_exit_status;
    }
    log_info("Results: %s mode (%s)", rn.setup.mode == MODE_JSON ? "collector JSON" : "JUnit XML",
             rn.setup.why);
    process_catch_signals();
    start_record(&rn, slice);
    int status = slice->tests.len == 0 ? run_nothing(&rn) : run_slice(&rn, slice);
    rn.rec.exit_status = status;
    if (!run_record_write(cfg, &rn.rec, &err)) {
        log_error("%s", err);
        free(err);
    }
    run_record_free(&rn.rec);
    run_mode_free(&rn.setup);
    strlist_free(&rn.unreadable);
    strlist_free(&rn.env);
    free(rn.missing_path);
    free(rn.start_error);
    return status;
}
