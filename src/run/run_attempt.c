#include "run/run_attempt.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/log.h"
#include "base/process.h"
#include "results/results_merge.h"
#include "run/run_argsplit.h"
#include "run/run_part.h"
#include "state/state_dir.h"
#include "config/template.h"
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *part_file(const run_context_t *ctx, int k, size_t j)
{
    char *rel =
        xasprintf("results/attempt-%d.part-%zu.%s", k, j + 1, result_mode_ext(ctx->setup.mode));
    char *path = state_dir_file(ctx->cfg, rel);
    free(rel);
    return path;
}

/* Cost of the command line without selectors (the result path of the
 * longest part name counted), for the argument budget. */
static bool command_fixed_cost(const run_context_t *ctx, const char *tmpl, int k, size_t *cost,
                               char **err)
{
    strlist_t none;
    strlist_t argv;
    strlist_init(&none);
    strlist_init(&argv);
    char *longest = part_file(ctx, k, (size_t)999999999);
    bool ok = template_expand(tmpl, &none, longest, &argv, err);
    *cost = run_argsplit_list_cost(&argv);
    free(longest);
    strlist_free(&none);
    strlist_free(&argv);
    return ok;
}

static void copy_range(const strlist_t *all, size_t from, size_t to, strlist_t *out)
{
    strlist_init(out);
    for (size_t i = from; i < to; i++) strlist_push(out, all->items[i]);
}

/* Merges the parts of attempt k into its one file, with the file's index
 * for the report phase (results_index.h), and removes them. */
static void merge_parts(const run_context_t *ctx, run_record_t *rec, run_findings_t *found,
                        const strlist_t *parts, const char *path)
{
    results_merge_stats_t st;
    strlist_t problems; /* already reported part by part when they mattered */
    strlist_init(&problems);
    char *err = NULL;
    const attempt_t *a = &rec->attempts[rec->n_attempts - 1];
    if (!results_merge_concat_indexed(ctx->setup.mode, parts, path, a->id_prefix, &st, &problems,
                                      &err)) {
        strlist_push_owned(&found->unreadable, xasprintf("results cannot be merged: %s", err));
        free(err);
    } else {
        log_info("merged %zu result file%s (%zu records) into %s", st.files,
                 st.files == 1 ? "" : "s", st.records, path);
        for (size_t i = 0; i < parts->len; i++) unlink(parts->items[i]);
    }
    strlist_free(&problems);
}

/* One attempt's groups of selectors and where they stand. */
typedef struct {
    int k;
    const char *tmpl;
    const strlist_t *selectors;
    const run_argsplit_t *groups;
    double deadline;
    const char *path; /* the attempt's result file */
} attempt_plan_t;

/* False (and the attempt stops as timed out) when the deadline passed
 * before group g could start. */
static bool time_left_for_group(const run_context_t *ctx, run_findings_t *found,
                                const attempt_plan_t *ap, size_t g, int *signal)
{
    if (ap->deadline <= 0 || run_part_seconds_left(ap->deadline) > 0) return true;
    found->outcome.timed_out = true;
    *signal = SIGTERM;
    log_error("BUILDKITE_TEST_ENGINE_TIMEOUT (%lds) ran out before part %zu of %zu; not "
              "starting it",
              ctx->cfg->run_timeout, g + 1, ap->groups->n);
    return false;
}

/* A part ended the run: what did not run, and why no further part starts. */
static void note_run_ended(run_findings_t *found, const attempt_plan_t *ap, const run_part_t *part,
                           size_t g)
{
    size_t from = g ? ap->groups->end[g - 1] : 0;
    size_t to = ap->groups->end[g];
    size_t total = ap->selectors->len;
    if (part->pr.exit_code == 2 && part->new_collection_errors) {
        found->attempt_entries = total;
        found->not_run = total - from; /* this part's entries and every later part's */
    }
    if (g + 1 < ap->groups->n && !part->pr.signal && !process_forwarded_signal())
        log_warn("pytest ended part %zu of %zu with exit %d; the remaining %zu entries do not "
                 "run, as in one pytest run",
                 g + 1, ap->groups->n, part->pr.exit_code, total - to);
}

/* Runs group g; returns whether the run goes on to the next group. */
static bool run_group(const run_context_t *ctx, run_record_t *rec, run_findings_t *found,
                      const attempt_plan_t *ap, size_t g, strlist_t *files, int *combined,
                      int *signal)
{
    size_t from = g ? ap->groups->end[g - 1] : 0;
    strlist_t sel;
    copy_range(ap->selectors, from, ap->groups->end[g], &sel);
    char *file = ap->groups->n == 1 ? xstrdup(ap->path) : part_file(ctx, ap->k, g);
    if (ap->groups->n > 1)
        log_info("part %zu of %zu: %zu entr%s", g + 1, ap->groups->n, sel.len,
                 sel.len == 1 ? "y" : "ies");
    run_part_t part = {.tmpl = ap->tmpl,
                       .retry = ap->k > 0,
                       .selectors = &sel,
                       .result_path = file,
                       .deadline = ap->deadline,
                       .index = ap->groups->n == 1}; /* parts: the merged file gets one */
    run_part_run(ctx, &part, rec, found);
    strlist_push_owned(files, file);
    strlist_free(&sel);
    *combined = run_classify_combine_exit(*combined, part.pr.exit_code);
    if (part.pr.signal) *signal = part.pr.signal;
    bool goes_on = !run_part_ends_run(&part);
    if (!goes_on) note_run_ended(found, ap, &part, g);
    process_result_free(&part.pr);
    return goes_on;
}

/* Runs the groups of one attempt, stopping where one pytest would have stopped. */
static int run_groups(const run_context_t *ctx, run_record_t *rec, run_findings_t *found,
                      const attempt_plan_t *ap, int *signal)
{
    int combined = -1;
    strlist_t files;
    strlist_init(&files);
    for (size_t g = 0; g < ap->groups->n; g++) {
        if (!time_left_for_group(ctx, found, ap, g, signal)) break;
        if (!run_group(ctx, rec, found, ap, g, &files, &combined, signal)) break;
    }
    if (ap->groups->n > 1) merge_parts(ctx, rec, found, &files, ap->path);
    strlist_free(&files);
    return combined < 0 ? 0 : combined;
}

static bool split_for_argv(const run_context_t *ctx, int k, const char *tmpl,
                           const strlist_t *selectors, run_argsplit_t *groups, char **err)
{
    size_t fixed = 0;
    if (!command_fixed_cost(ctx, tmpl, k, &fixed, err)) return false;
    size_t budget = run_argsplit_budget(&ctx->env);
    if (!run_argsplit_groups(selectors, fixed, budget, groups, err)) return false;
    if (groups->n > 1)
        log_info("%zu entries need %zu bytes of arguments, more than one command line should carry "
                 "(%zu bytes: a quarter "
                 "of what the environment leaves of ARG_MAX); running pytest %zu times, one result "
                 "file each, as one run",
                 selectors->len, fixed + run_argsplit_list_cost(selectors), budget, groups->n);
    return true;
}

/* Splits and runs the attempt; its combined exit code, -1 when the command
 * could not be built. */
static int run_attempt_parts(const run_context_t *ctx, run_record_t *rec, run_findings_t *found,
                             int k, const strlist_t *selectors, const char *path, int *signal)
{
    const char *tmpl = k == 0 ? ctx->setup.test_cmd : ctx->setup.retry_cmd;
    double deadline =
        ctx->cfg->run_timeout > 0 ? fs_monotonic() + (double)ctx->cfg->run_timeout : 0;
    run_argsplit_t groups;
    char *err = NULL;
    if (!split_for_argv(ctx, k, tmpl, selectors, &groups, &err)) {
        log_error("%s: %s",
                  k == 0 ? "BUILDKITE_TEST_ENGINE_TEST_CMD" : "BUILDKITE_TEST_ENGINE_RETRY_CMD",
                  err);
        free(err);
        unlink(path);
        strlist_push_owned(&found->unreadable, xstrdup("the command could not be built"));
        return -1;
    }
    attempt_plan_t ap = {.k = k,
                         .tmpl = tmpl,
                         .selectors = selectors,
                         .groups = &groups,
                         .deadline = deadline,
                         .path = path};
    int exit_code = run_groups(ctx, rec, found, &ap, signal);
    run_argsplit_free(&groups);
    return exit_code;
}

void run_attempt_run(const run_context_t *ctx, int k, const strlist_t *selectors, run_record_t *rec,
                     run_findings_t *found)
{
    char *rel = xasprintf("results/attempt-%d.%s", k, result_mode_ext(ctx->setup.mode));
    char *path = state_dir_file(ctx->cfg, rel);
    attempt_t *a = &rec->attempts[rec->n_attempts++];
    a->index = k;
    a->result_file = rel;
    a->n_selectors = selectors->len;
    a->started = fs_now();
    int signal = 0;
    a->exit_code = run_attempt_parts(ctx, rec, found, k, selectors, path, &signal);
    a->ended = fs_now();
    a->signal = signal ? signal : process_forwarded_signal();
    found->outcome.last_exit = a->exit_code;
    if (signal)
        found->outcome.signal = signal;
    else if (process_forwarded_signal())
        found->outcome.signal = process_forwarded_signal();
    free(path);
}
