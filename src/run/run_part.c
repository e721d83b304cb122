#include "run/run_part.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/log.h"
#include "results/results_colldetail.h"
#include "run/run_exit4.h"
#include "pytest/recorder.h"
#include "run/run_truth.h"
#include "pytest/selector.h"
#include "config/template.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A printed command line shows this many arguments, each up to SHOWN_BYTES;
 * the rest is counted, so a huge slice never floods the log. */
#define SHOWN_ARGS  40
#define SHOWN_BYTES 256

/* ---- the command line as the log shows it ---- */

static void put_shell_word(buf_t *b, const char *a)
{
    size_t len = strlen(a);
    size_t shown = len > SHOWN_BYTES ? SHOWN_BYTES : len;
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
        put_shell_word(&b, argv->items[i]);
    }
    log_info("$ %s", b.data);
    buf_free(&b);
}

/* ---- one pytest, with exit-4 retries ---- */

/* Rounds of widening unknown node ids (each makes every unknown id shorter,
 * so a few suffice; the bound keeps a pytest that never agrees from looping). */
#define WIDEN_ROUNDS 6
/* pytest starts of one part, at most: the first, one without our recorder,
 * the widening rounds. A bound of its own, so no reason to start again can
 * loop however the reasons combine. */
#define PART_MAX_STARTS (2 + WIDEN_ROUNDS)

double run_part_seconds_left(double deadline)
{
    return deadline > 0 ? deadline - fs_monotonic() : 0;
}

/* Whether this pytest gets the recorder: it is on, and no pytest of the run
 * has failed to import it. */
static bool recorder_used(const run_context_t *ctx, const run_findings_t *found)
{
    return recorder_on(&ctx->recorder) && !found->recorder_refused;
}

/* What one pytest start says on stderr, and whether it could load the recorder. */
typedef struct {
    run_exit4_said_t said;
    bool recorder_failed;
} heard_t;

static void on_stderr_line(const char *line, void *user)
{
    heard_t *h = user;
    if (recorder_load_failed(line))
        h->recorder_failed = true;
    else
        run_exit4_hear(&h->said, line);
}

/* Whether an exit 4 is worth another start: a path pytest did not find is
 * there, retries are left, and nobody cancelled the job. */
static bool exit4_retry_due(const run_context_t *ctx, const run_part_t *part, const heard_t *h,
                            int retries)
{
    const process_result_t *pr = &part->pr;
    if (pr->start_failed || pr->signal || pr->exit_code != 4) return false;
    if (run_exit4_cause(&h->said, 4) != EXIT4_MISSING_PATH) return false;
    if (retries >= ctx->cfg->exit4_retries || process_forwarded_signal()) return false;
    return run_exit4_files_present(part->selectors);
}

static void remember_missing_path(run_findings_t *found, const heard_t *h)
{
    free(found->missing_path);
    found->missing_path = h->said.missing_path ? xstrdup(h->said.missing_path) : NULL;
}

/* Runs pytest once, retrying exit 4 while the files are present. */
static void spawn_with_exit4_retries(const run_context_t *ctx, run_findings_t *found,
                                     const strlist_t *env, const strlist_t *argv, run_part_t *part,
                                     heard_t *h, int *exit4_retries)
{
    process_opts_t o = {.argv = argv->items, .env = env, .on_stderr = on_stderr_line, .user = h};
    *exit4_retries = 0;
    for (;;) {
        run_exit4_said_free(&h->said);
        h->recorder_failed = false;
        /* 0 means "no timeout" to process_run: a deadline reached while we
         * were busy still gets a (tiny) positive one. */
        o.timeout_s = part->deadline > 0 ? fmax(run_part_seconds_left(part->deadline), 0.001) : 0;
        process_result_free(&part->pr);
        process_run(&o, &part->pr);
        remember_missing_path(found, h);
        if (!exit4_retry_due(ctx, part, h, *exit4_retries)) break;
        (*exit4_retries)++;
        double wait = (double)ctx->cfg->exit4_backoff_ms / 1000.0 * *exit4_retries;
        log_warn("pytest exited 4 (file or directory not found: %s) although the files exist; "
                 "retry %d of %ld in %.1fs",
                 h->said.missing_path, *exit4_retries, ctx->cfg->exit4_retries, wait);
        fs_sleep(wait);
        if (process_forwarded_signal()) break; /* cancelled while we waited: start nothing new */
        if (part->deadline > 0 && run_part_seconds_left(part->deadline) <= 0)
            break; /* out of time: exit 4 stands */
    }
}

static void report_exit4(run_record_t *rec, run_findings_t *found, const strlist_t *selectors,
                         int retries)
{
    char *first = selectors->len ? selector_file_part(selectors->items[0]) : xstrdup(".");
    const char *path = found->missing_path ? found->missing_path : first;
    buf_t f;
    buf_init(&f);
    run_exit4_forensics(path, retries, &f);
    log_block(f.data);
    char *joined = rec->forensics ? xasprintf("%s%s", rec->forensics, f.data) : xstrdup(f.data);
    free(rec->forensics);
    rec->forensics = joined;
    buf_free(&f);
    free(first);
}

/* ---- what pytest said: unknown ids, a broken conftest, a refused command ---- */

/* Drops the selectors `wide` covers (itself, its parameters, its parts). */
static void drop_covered(strlist_t *sel, const char *wide)
{
    size_t n = strlen(wide), kept = 0;
    for (size_t i = 0; i < sel->len; i++) {
        const char *s = sel->items[i];
        bool covered = strncmp(s, wide, n) == 0 &&
                       (s[n] == '\0' || s[n] == '[' || (s[n] == ':' && s[n + 1] == ':'));
        if (covered)
            free(sel->items[i]);
        else
            sel->items[kept++] = sel->items[i];
    }
    sel->len = kept;
}

/* Widens each id pytest could not find; false when none could be widened
 * (then the exit 4 stands). */
static bool widen_unknown_ids(const run_context_t *ctx, run_record_t *rec, strlist_t *sel,
                              const run_exit4_said_t *said)
{
    strlist_t wider = STRLIST_INIT;
    for (size_t i = 0; i < said->not_found.len; i++) {
        const char *id = run_exit4_which_selector(sel, said->not_found.items[i], ctx->cwd);
        char *w = id ? run_exit4_widen(id) : NULL;
        if (!w) {
            log_warn("pytest cannot find %s and it cannot be widened further",
                     id ? id : said->not_found.items[i]);
            continue;
        }
        log_warn("pytest has no test %s any more (renamed, or a parametrize id that changes from "
                 "run to run); running %s instead",
                 id, w);
        results_model_forget(&rec->result, id); /* what it became is tracked under its new id */
        if (strlist_contains(&wider, w))
            free(w);
        else
            strlist_push_owned(&wider, w);
    }
    for (size_t i = 0; i < wider.len; i++) drop_covered(sel, wider.items[i]);
    for (size_t i = 0; i < wider.len; i++) strlist_push(sel, wider.items[i]);
    bool any = wider.len > 0;
    strlist_free(&wider);
    return any;
}

/* A conftest.py pytest could not import: a collection error, named like
 * the others, with the cause from the traceback pytest printed. */
static void note_broken_conftest(const run_context_t *ctx, run_record_t *rec,
                                 const run_exit4_said_t *said)
{
    const char *path = said->conftest;
    size_t n = ctx->cwd ? strlen(ctx->cwd) : 0;
    if (n && strncmp(path, ctx->cwd, n) == 0 && path[n] == '/') path += n + 1;
    char *cause = results_model_cause(buf_str(&said->conftest_text), path);
    test_result_t *t = results_model_track(&rec->result, path, path, ST_FAILED,
                                           cause ? cause : "pytest cannot import it", true);
    t->collection_error = true;
    log_error("pytest cannot import %s (%s): nothing ran, and a retry will not fix it", path,
              cause ? cause : "see pytest's output above");
    free(cause);
}

static void note_usage_error(run_findings_t *found, const run_part_t *part,
                             const run_exit4_said_t *said)
{
    found->outcome.usage_error = true;
    free(found->usage);
    found->usage = xstrdup(said->usage ? said->usage : "a usage error");
    found->usage_cmd =
        part->retry ? "BUILDKITE_TEST_ENGINE_RETRY_CMD" : "BUILDKITE_TEST_ENGINE_TEST_CMD";
    log_error("pytest refused the command (%s); check %s", found->usage, found->usage_cmd);
}

/* ---- one part: build, run, read ---- */

static char *events_path_of(const char *result_path)
{
    return xasprintf("%s.events", result_path);
}

/* The child's environment: the run's, plus the recorder when it is on. */
static void part_env(const run_context_t *ctx, const run_findings_t *found, const char *events,
                     strlist_t *env)
{
    strlist_init(env);
    for (size_t i = 0; i < ctx->env.len; i++) strlist_push(env, ctx->env.items[i]);
    if (recorder_used(ctx, found)) recorder_env(&ctx->recorder, env, events);
}

/* One start of pytest on sel (exit-4 retries included); true when it should
 * start again: without the recorder, or with unknown ids widened. */
static bool start_once(const run_context_t *ctx, run_record_t *rec, run_findings_t *found,
                       run_part_t *part, strlist_t *sel, const char *events, heard_t *h, int round)
{
    strlist_t argv = STRLIST_INIT, env;
    char *err = NULL;
    unlink(part->result_path); /* never read an earlier start's file */
    unlink(events);
    if (!template_expand(part->tmpl, sel, part->result_path, &argv, &err)) {
        /* validated before anything ran; only a changed template gets here */
        part->pr.start_failed = true;
        err_set(&part->pr.error, "the test command cannot be built: %s", err);
        free(err);
        return false;
    }
    print_command(&argv);
    part_env(ctx, found, events, &env);
    int exit4_retries = 0;
    spawn_with_exit4_retries(ctx, found, &env, &argv, part, h, &exit4_retries);
    strlist_free(&env);
    strlist_free(&argv);
    const process_result_t *pr = &part->pr;
    bool ended_itself = !pr->start_failed && !pr->signal && !process_forwarded_signal();
    if (ended_itself && h->recorder_failed && recorder_used(ctx, found)) {
        found->recorder_refused = true;
        log_warn("pytest could not import our recorder plugin (the test command's launcher does "
                 "not pass PYTHONPATH on to pytest); running it again without, counting from the "
                 "result file alone");
        return true;
    }
    run_exit4_cause_t cause = ended_itself ? run_exit4_cause(&h->said, pr->exit_code) : EXIT4_NONE;
    if (cause == EXIT4_NOT_FOUND && round < WIDEN_ROUNDS &&
        widen_unknown_ids(ctx, rec, sel, &h->said))
        return true;
    if (cause == EXIT4_MISSING_PATH) report_exit4(rec, found, sel, exit4_retries);
    if (cause == EXIT4_CONFTEST) note_broken_conftest(ctx, rec, &h->said);
    if (cause == EXIT4_USAGE) note_usage_error(found, part, &h->said);
    return false;
}

/* What a part that did not start, or ran out of time, means for the run. */
static void note_part_end(const run_context_t *ctx, run_findings_t *found, process_result_t *pr)
{
    if (pr->start_failed) {
        log_error("%s; check BUILDKITE_TEST_ENGINE_TEST_CMD and PATH", pr->error);
        found->outcome.not_started = true;
        free(found->start_error);
        found->start_error = xasprintf("the test command did not start: %s", pr->error);
        pr->exit_code = 127;
    }
    if (pr->timed_out) {
        found->outcome.timed_out = true;
        log_error("pytest ran longer than BUILDKITE_TEST_ENGINE_TIMEOUT (%lds); its process group "
                  "was killed",
                  ctx->cfg->run_timeout);
    }
}

/* ---- reading what one pytest wrote ---- */

static void note_killed_run(run_record_t *rec, const run_truth_t *t)
{
    for (size_t i = 0; i < t->running.len; i++) {
        log_error("pytest was stopped while running %s", t->running.items[i]);
        strlist_push(&rec->running, t->running.items[i]);
    }
    if (t->running_more) log_error("... and %zu more tests it was running", t->running_more);
    if (t->salvaged)
        log_info("%zu tests finished before pytest was stopped; their results, from pytest's own "
                 "reports, are in %s",
                 t->finished, "the attempt's result file");
    rec->salvaged += t->salvaged;
}

static void read_part_results(const run_context_t *ctx, run_record_t *rec, run_findings_t *found,
                              const run_part_t *part, const char *events)
{
    const process_result_t *pr = &part->pr;
    bool killed = pr->signal || pr->timed_out;
    bool must_read = !pr->signal && !pr->start_failed &&
                     (pr->exit_code <= 1 || (pr->exit_code == 2 && ctx->setup.mode == MODE_JSON));
    run_truth_in_t in = {.mode = ctx->setup.mode,
                         .result_path = part->result_path,
                         .events_path = recorder_used(ctx, found) ? events : NULL,
                         .cwd = ctx->cwd,
                         .killed = killed,
                         .must_read = must_read,
                         .model = &rec->result,
                         .index = part->index,
                         .warn = log_warn_line};
    run_truth_t t;
    run_truth_read(&in, &t);
    if (t.missing)
        strlist_push_owned(&found->unreadable,
                           xasprintf("pytest exited %d but wrote no results to %s", pr->exit_code,
                                     part->result_path));
    if (t.unreadable) strlist_push(&found->unreadable, t.unreadable);
    if (killed) note_killed_run(rec, &t);
    attempt_t *a = &rec->attempts[rec->n_attempts - 1];
    free(a->id_prefix);
    a->id_prefix = xstrdup(t.prefix);
    run_truth_free(&t);
}

static size_t count_collection_errors(const results_model_t *r)
{
    results_model_stats_t s;
    results_model_stats(r, &s);
    return s.collection_errors;
}

/* Runs one pytest over part->selectors and reads what it wrote. */
void run_part_run(const run_context_t *ctx, run_part_t *part, run_record_t *rec,
                  run_findings_t *found)
{
    memset(&part->pr, 0, sizeof part->pr);
    strlist_t sel = STRLIST_INIT; /* widened when pytest cannot find an id */
    for (size_t i = 0; i < part->selectors->len; i++) strlist_push(&sel, part->selectors->items[i]);
    char *events = events_path_of(part->result_path);
    heard_t h = {0};
    for (int round = 0;
         round < PART_MAX_STARTS && start_once(ctx, rec, found, part, &sel, events, &h, round);
         round++) {
    }
    note_part_end(ctx, found, &part->pr);
    size_t before = count_collection_errors(&rec->result);
    read_part_results(ctx, rec, found, part, events);
    part->new_collection_errors = count_collection_errors(&rec->result) - before;
    /* JUnit keeps a collection error's first line only: its cause is read back. */
    if (part->new_collection_errors && ctx->setup.mode == MODE_JUNIT)
        results_colldetail_fill(MODE_JUNIT, part->result_path,
                                rec->attempts[rec->n_attempts - 1].id_prefix, &rec->result);
    run_exit4_said_free(&h.said);
    unlink(events); /* read: what it told is in the model, and in the result file when salvaged */
    free(events);
    strlist_free(&sel);
}

/* Whether a part ended the run as a single pytest would have ended it. */
bool run_part_ends_run(const run_part_t *part)
{
    const process_result_t *pr = &part->pr;
    if (pr->start_failed || pr->signal || process_forwarded_signal()) return true;
    return !(pr->exit_code == 0 || pr->exit_code == 1 || pr->exit_code == 5);
}
