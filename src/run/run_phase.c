#include "run/run_phase.h"
#include "base/buf.h"
#include "pytest/childenv.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/process.h"
#include "results/results_merge.h"
#include "run/run_attempt.h"
#include "pytest/recorder.h"
#include "state/run_record.h"
#include "run/run_summary.h"
#include "pytest/selector.h"
#include "state/state_dir.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The phase's own: what every pytest run reads, the record being filled,
 * what the attempts found (run_state.h). */
typedef struct {
    run_context_t ctx;
    run_record_t rec;
    run_findings_t found;
} run_t;

/* ---- between attempts: stop, or retry what failed ---- */

static void count_outcome(run_t *rn)
{
    results_model_stats_t s;
    results_model_stats(&rn->rec.result, &s);
    outcome_t *o = &rn->found.outcome;
    o->collection_errors = s.collection_errors;
    o->failed = s.failed;
    o->muted_failed = s.muted_failed;
    o->unreadable = rn->found.unreadable.len > 0;
}

static bool terminal_now(run_t *rn)
{
    count_outcome(rn);
    if (!rn->found.outcome.signal)
        rn->found.outcome.signal = process_forwarded_signal(); /* cancelled between attempts */
    outcome_t *o = &rn->found.outcome;
    return o->signal || o->not_started || o->usage_error || o->collection_errors || o->unreadable ||
           (o->json_mode && o->last_exit == 2);
}

/* The node ids to run next; empty when nothing should be retried. */
static void next_selectors(run_t *rn, strlist_t *next)
{
    bool retry_muted = !rn->ctx.cfg->disable_retry_for_muted;
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

static void attempt_loop(run_t *rn, const strlist_t *slice)
{
    long max = rn->ctx.cfg->retry_count;
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
        run_attempt_run(&rn->ctx, (int)k, &current, &rn->rec, &rn->found);
        if (terminal_now(rn) || k == max) break;
        strlist_clear(&current);
        next_selectors(rn, &current);
        if (current.len == 0) break;
    }
    strlist_free(&current);
}

/* ---- after the last attempt: result path, verdict, summary ---- */

/* BUILDKITE_TEST_ENGINE_RESULT_PATH gets every test's final outcome. */
static void write_result_path(run_t *rn)
{
    const char *out = rn->ctx.cfg->result_path;
    strlist_t files, problems;
    strlist_init(&files);
    strlist_init(&problems);
    size_t present = 0;
    for (size_t i = 0; i < rn->rec.n_attempts; i++) {
        strlist_push_owned(&files, state_dir_file(rn->ctx.cfg, rn->rec.attempts[i].result_file));
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
    if (!results_merge_final(rn->ctx.setup.mode, &files, out, &st, &problems, &err)) {
        log_error("BUILDKITE_TEST_ENGINE_RESULT_PATH: %s; the results are still in %s", err,
                  rn->ctx.cfg->state_dir);
        free(err);
    } else {
        for (size_t i = 0; i < problems.len; i++) log_warn("result path: %s", problems.items[i]);
        log_info("Results of %zu attempt%s (%zu tests, final outcome each) written to %s",
                 files.len, files.len == 1 ? "" : "s", st.records, out);
    }
    strlist_free(&files);
    strlist_free(&problems);
}

/* ---- the run phase from start to end ---- */

/* pytest's own reports for every run (recorder.h); without them the
 * result file alone counts, as it always could. */
static void start_recorder(run_t *rn)
{
    char *err = NULL;
    if (!recorder_start(&rn->ctx.recorder, &err)) {
        log_warn("%s; counting from the result files alone", err);
        free(err);
    }
    char *cwd = getcwd(NULL, 0); /* node ids are made to run from here (nodeid.h) */
    rn->ctx.cwd = cwd ? cwd : xstrdup(".");
}

/* The estimate the plan made for this slice; every test record the model
 * takes then passes by the timing too (durations, skip reasons). */
static void start_timing(run_record_t *rec, const slice_t *slice)
{
    results_timing_t *t = &rec->timing;
    results_timing_init(t);
    t->estimate_s = slice->estimate_s;
    free(t->estimate_basis);
    t->estimate_basis = xstrdup(slice->estimate_basis ? slice->estimate_basis : "none");
    t->samples = slice->samples;
    t->with_history = slice->with_history;
    t->entries = slice->tests.len;
    rec->result.observe = results_timing_add_fn;
    rec->result.observe_user = t;
}

static void start_record(run_t *rn, const slice_t *slice)
{
    config_t *cfg = rn->ctx.cfg;
    strlist_init(&rn->found.unreadable);
    strlist_init(&rn->ctx.env);
    start_recorder(rn);
    /* the collector must not upload what report uploads; no token for pytest */
    childenv_build(&rn->ctx.env);
    results_model_init(&rn->rec.result, slice->muted, slice->n_muted);
    start_timing(&rn->rec, slice);
    rn->rec.attempts = xcalloc((size_t)cfg->retry_count + 1, sizeof(attempt_t));
    rn->rec.mode = xstrdup(rn->ctx.setup.mode == MODE_JSON ? "json" : "junit");
    rn->rec.plan_source = xstrdup(slice->source);
    rn->rec.plan_reason = xstrdup(slice->reason);
    rn->rec.from_server = slice->from_server;
    rn->found.outcome.json_mode = rn->ctx.setup.mode == MODE_JSON;
}

/* Results cut short because the state dir's disk is full are an I/O problem,
 * not unreadable data (state_dir.h): said so, with what is kept. NULL when
 * that is not what happened. */
static char *disk_full_why(const run_t *rn)
{
    if (!rn->found.outcome.unreadable || !state_dir_is_full(rn->ctx.cfg)) return NULL;
    return xasprintf("disk full: the file system of %s has no room left, so pytest's results "
                     "were cut short (%s); the results before the cut are kept for the report "
                     "phase; free space there",
                     rn->ctx.cfg->state_dir, rn->found.unreadable.items[0]);
}

static int run_slice(run_t *rn, const slice_t *slice)
{
    config_t *cfg = rn->ctx.cfg;
    if (*cfg->result_path) unlink(cfg->result_path); /* never leave an earlier run's file there */
    attempt_loop(rn, &slice->tests);
    if (*cfg->result_path) write_result_path(rn);
    terminal_now(rn); /* final counts, and a signal that came during parsing */
    rn->found.outcome.cancelled = process_forwarded_signal() != 0;
    int status = run_classify(cfg, &rn->found.outcome, &rn->rec.terminal);
    char *disk_full = disk_full_why(rn);
    if (disk_full) {
        status = STATE_DIR_EXIT_DISK_FULL;
        rn->rec.terminal = false;
    }
    run_facts_t facts = {.outcome = &rn->found.outcome,
                         .rec = &rn->rec,
                         .start_error = rn->found.start_error,
                         .unreadable =
                             rn->found.unreadable.len ? rn->found.unreadable.items[0] : NULL,
                         .missing_path = rn->found.missing_path,
                         .usage = rn->found.usage,
                         .usage_cmd = rn->found.usage_cmd,
                         .exit4_retries = cfg->exit4_retries,
                         .timeout_s = cfg->run_timeout,
                         .slice_entries = rn->found.attempt_entries,
                         .not_run = rn->found.not_run};
    rn->rec.why = disk_full ? disk_full : run_summary_why(&facts, status, rn->rec.terminal);
    run_summary_print(&facts, status);
    if (rn->rec.terminal) log_error("%s (exit %d, terminal: do not retry)", rn->rec.why, status);
    if (disk_full) log_error("%s (exit %d)", rn->rec.why, status);
    return status;
}

static int run_nothing(run_t *rn)
{
    config_t *cfg = rn->ctx.cfg;
    rn->found.outcome.no_tests = true;
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
    run_t rn = {.ctx.cfg = cfg};
    char *err = NULL;
    if (!result_mode_resolve(cfg, &rn.ctx.setup, &err)) {
        log_error("%s", err);
        free(err);
        return (int)cfg->config_exit_status;
    }
    log_info("Results: %s mode (%s)",
             rn.ctx.setup.mode == MODE_JSON ? "collector JSON" : "JUnit XML", rn.ctx.setup.why);
    process_catch_signals();
    start_record(&rn, slice);
    int status = slice->tests.len == 0 ? run_nothing(&rn) : run_slice(&rn, slice);
    rn.rec.exit_status = status;
    if (!run_record_write(cfg, &rn.rec, &err)) {
        int e = errno;
        log_error("%s", err);
        free(err);
        if (fs_errno_is_full(e)) status = STATE_DIR_EXIT_DISK_FULL;
    }
    run_record_free(&rn.rec);
    result_mode_free(&rn.ctx.setup);
    strlist_free(&rn.found.unreadable);
    strlist_free(&rn.ctx.env);
    recorder_stop(&rn.ctx.recorder);
    free(rn.ctx.cwd);
    free(rn.found.missing_path);
    free(rn.found.start_error);
    free(rn.found.usage);
    return status;
}
