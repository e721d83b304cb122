#include "run/run_summary.h"
#include "base/compat.h"
#include "base/buf.h"
#include "base/log.h"
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#define CAUSES_IN_WHY   3
#define LISTED_FAILURES 50 /* per list: the annotation and run.json have them all */

static const char *where_of(const test_result_t *t)
{
    return t->collection_error && t->file ? t->file : t->node_id;
}

static int by_where(const void *a, const void *b)
{
    return strcmp(where_of(*(const test_result_t *const *)a),
                  where_of(*(const test_result_t *const *)b));
}

/* The cause of t's failure on one line ("" when there is no text). */
static char *cause_of(const test_result_t *t)
{
    return xstrdup(t->failure ? t->failure
                              : ""); /* results_model.c keeps the cause, not the text */
}

static void stopped_note(const run_facts_t *f, buf_t *b)
{
    if (!f->not_run) return;
    if (f->not_run >= f->slice_entries)
        buf_printf(b, "; pytest stopped at collection, so none of the %zu entr%s given to it ran",
                   f->slice_entries, f->slice_entries == 1 ? "y" : "ies");
    else
        buf_printf(
            b, "; pytest stopped at collection, so %zu of the %zu entries given to it did not run",
            f->not_run, f->slice_entries);
}

static char *collection_why(const run_facts_t *f)
{
    const results_model_t *r = &f->rec->result;
    const test_result_t **errs = xcalloc(r->len ? r->len : 1, sizeof *errs);
    size_t n = 0;
    for (size_t i = 0; i < r->len; i++)
        if (r->tests[i].collection_error) errs[n++] = &r->tests[i];
    qsort(errs, n, sizeof *errs, by_where);
    buf_t b;
    buf_init(&b);
    if (n == 1)
        buf_printf(&b, "collection error in %s", where_of(errs[0]));
    else
        buf_printf(&b, "collection errors in %zu files:", n);
    for (size_t i = 0; i < n && i < CAUSES_IN_WHY; i++) {
        char *cause = cause_of(errs[i]);
        if (n == 1)
            buf_printf(&b, "%s%s", *cause ? ": " : "", cause);
        else
            buf_printf(&b, "%s %s%s%s%s", i ? ";" : "", where_of(errs[i]), *cause ? " (" : "",
                       cause, *cause ? ")" : "");
        free(cause);
    }
    if (n > CAUSES_IN_WHY) buf_printf(&b, "; and %zu more", n - CAUSES_IN_WHY);
    stopped_note(f, &b);
    buf_puts(&b, "; a retry will not help");
    free(errs);
    return buf_detach(&b);
}

/* "; it was running tests/x.py::t" and what finished: the test a killed
 * pytest was in the middle of is the first suspect. */
static void killed_while(const run_facts_t *f, buf_t *b)
{
    const strlist_t *running = &f->rec->running;
    if (running->len == 1) buf_printf(b, "; it was running %s", running->items[0]);
    if (running->len > 1)
        buf_printf(b, "; it was running %s and %zu more", running->items[0], running->len - 1);
    if (f->rec->salvaged)
        buf_printf(b, "; the %zu tests that finished are reported", f->rec->salvaged);
}

static char *signal_why(const run_facts_t *f)
{
    const outcome_t *o = f->outcome;
    buf_t b = BUF_INIT;
    const char *name = compat_sigabbrev(o->signal);
    if (o->timed_out)
        buf_printf(&b,
                   "pytest timed out after %lds (BUILDKITE_TEST_ENGINE_TIMEOUT); its process "
                   "group was killed",
                   f->timeout_s);
    else if (o->cancelled)
        buf_printf(&b, "cancelled: we were sent SIG%s and passed it on to pytest",
                   name ? name : "?");
    else
        buf_printf(&b, "pytest was killed by signal %d (SIG%s%s)", o->signal, name ? name : "?",
                   o->signal == 9 ? ": out of memory, or killed from outside" : "");
    killed_while(f, &b);
    return buf_detach(&b);
}

char *run_summary_why(const run_facts_t *f, int status, bool terminal)
{
    const outcome_t *o = f->outcome;
    if (o->signal) return signal_why(f);
    if (o->not_started) return xstrdup(f->start_error);
    if (o->usage_error)
        return xasprintf("pytest refused the command: %s; check %s", f->usage ? f->usage : "?",
                         f->usage_cmd ? f->usage_cmd : "BUILDKITE_TEST_ENGINE_TEST_CMD");
    if (terminal && o->collection_errors) return collection_why(f);
    if (terminal && f->unreadable) return xstrdup(f->unreadable);
    if (terminal)
        return xstrdup(
            "pytest exited 2 (interrupted) and reported no collection error; not retrying");
    size_t n = f->rec->n_attempts;
    if (o->failed)
        return xasprintf("%zu test%s failed after %zu attempt%s", o->failed,
                         o->failed == 1 ? "" : "s", n, n == 1 ? "" : "s");
    if (status == 0 && o->muted_failed)
        return xasprintf("passed; %zu muted test%s failed", o->muted_failed,
                         o->muted_failed == 1 ? "" : "s");
    if (status == 0) return xstrdup("all tests passed");
    if (o->last_exit == 1)
        return xstrdup("pytest exited 1 but reported no failed test; not reporting a pass");
    if (o->last_exit == 4 && f->rec->forensics)
        return xasprintf("pytest exited 4 (file or directory not found: %s) after %ld exit-4 "
                         "retr%s; see the forensics",
                         f->missing_path ? f->missing_path : "?", f->exit4_retries,
                         f->exit4_retries == 1 ? "y" : "ies");
    return xasprintf("pytest exited %d", o->last_exit);
}

static void print_failures(const results_model_t *r)
{
    size_t shown = 0, total = 0;
    for (size_t i = 0; i < r->len; i++) {
        const test_result_t *t = &r->tests[i];
        if (t->status != ST_FAILED) continue;
        if (total++ >= LISTED_FAILURES) continue;
        const char *label = t->collection_error ? "collection error"
                            : t->muted          ? "failed (muted)"
                                                : "failed";
        char *cause = cause_of(t);
        log_info("  %s: %s%s%s", label, where_of(t), *cause ? " - " : "", cause);
        free(cause);
        shown++;
    }
    if (total > shown) log_info("  ... and %zu more failed", total - shown);
}

static void print_flaky(const results_model_t *r)
{
    size_t total = 0;
    for (size_t i = 0; i < r->len; i++) {
        if (!results_model_is_flaky(&r->tests[i])) continue;
        if (total++ < LISTED_FAILURES)
            log_info("  flaky (failed, then passed): %s", r->tests[i].node_id);
    }
    if (total > LISTED_FAILURES) log_info("  ... and %zu more flaky", total - LISTED_FAILURES);
}

/* This job's time against its estimate, its slowest tests, why tests were skipped. */
static void print_timing(const run_record_t *rec)
{
    const results_timing_t *t = &rec->timing;
    double first, retries;
    run_record_took(rec, &first, &retries);
    char *words = results_timing_words(t, first);
    log_info("Time: %s", words);
    free(words);
    if (retries > 0) log_info("  in-job retries took %.1fs more", retries);
    results_timing_test_t slow[RESULTS_TIMING_SLOWEST];
    results_timing_slowest(t, slow);
    if (t->n_slowest) log_info("Slowest tests:");
    for (size_t i = 0; i < t->n_slowest; i++)
        log_info("  %9.3fs  %s", slow[i].seconds, slow[i].node_id);
    if (t->n_reasons) log_info("Skipped, by reason:");
    for (size_t i = 0; i < t->n_reasons; i++)
        log_info("  %6zu  %s (e.g. %s)", t->reasons[i].count,
                 *t->reasons[i].reason ? t->reasons[i].reason : "(no reason given)",
                 t->reasons[i].example);
    if (t->skipped_other)
        log_info("  %6zu  with other reasons (only the first %d reasons are kept)",
                 t->skipped_other, RESULTS_TIMING_REASONS);
}

void run_summary_print(const run_facts_t *f, int status)
{
    const run_record_t *rec = f->rec;
    results_model_stats_t s;
    results_model_stats(&rec->result, &s);
    log_section("results");
    log_info("%s %s", status == 0 ? "PASSED:" : rec->terminal ? "TERMINAL:" : "FAILED:", rec->why);
    log_info("  passed on first run  %zu", s.passed_first);
    log_info("  passed on retry      %zu (flaky: %zu)", s.passed_retry, s.flaky);
    log_info("  muted                %zu passed, %zu failed", s.muted_passed, s.muted_failed);
    log_info("  failed               %zu", s.failed);
    log_info("  skipped              %zu", s.skipped);
    log_info("  collection errors    %zu", s.collection_errors);
    if (s.unknown) log_info("  no outcome           %zu", s.unknown);
    print_failures(&rec->result);
    print_flaky(&rec->result);
    print_timing(rec);
    log_info("exit status %d", status);
}
