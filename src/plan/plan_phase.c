#include "plan/plan_phase.h"
#include "base/text.h"
#include <stdint.h>
#include "base/buf.h"
#include "config/cmdcheck.h"
#include "plan/collect_only.h"
#include "model/durations.h"
#include "base/err.h"
#include "base/log.h"
#include "net/oidc.h"
#include "model/plan.h"
#include "net/engine_api.h"
#include "plan/plan_discover.h"
#include "plan/plan_fallback.h"
#include "plan/plan_json.h"
#include "plan/plan_refine.h"
#include "plan/plan_summary.h"
#include "plan/plan_tagfilter.h"
#include "state/retrysel.h"
#include "pytest/result_mode.h"
#include "pytest/selector.h"
#include "state/options_file.h"
#include "state/slice_file.h"
#include "state/state_dir.h"
#include "base/strset.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FALLBACK_TAIL                                                                              \
    "Falling back to local splitting; the plan is the same on every job, but may be less "         \
    "balanced."

/* What came of asking Test Engine: the internal face of plan_phase_tests_t,
 * with the reason kept in plan_t.reason; GOT_STOP: the entries could not be
 * found (entries_t.status says how to stop, the reason was logged). */
typedef enum {
    GOT_PLAN,
    GOT_FALLBACK,
    GOT_FATAL,
    GOT_TERMINAL,
    GOT_STOP
} got_t;

/* The entries to plan, found the first time a step needs them: a cached
 * plan or a job retry's selectors need none, so a job that gets either does
 * not walk the checkout (100,000 files in a big one). With a tag filter they
 * are found first, as before: its collection is also the check that the
 * collector can filter, a configuration error due before any request. */
typedef struct {
    strlist_t list;
    bool found;
    int status; /* plan_phase_entries' answer, once found */
} entries_t;

/* e->list, found now if it was not yet; returns 0 or the status to stop with. */
static int need_entries(const config_t *cfg, entries_t *e)
{
    if (!e->found) {
        e->status = plan_phase_entries(cfg, &e->list);
        e->found = true;
    }
    return e->status;
}

bool plan_phase_prepare(config_t *cfg)
{
    char *err = NULL;
    char *note = NULL;
    if (!cfg->offline && !oidc_fill_api_token(cfg, &note, &err))
        strlist_push_owned(&cfg->problems, err);
    if (note) log_info("%s", note);
    free(note);
    cmdcheck_commands(cfg, &cfg->problems);
    if (config_validate(cfg, PHASE_PLAN)) return true;
    config_print_problems(cfg, stderr);
    return false;
}

/* The test files (files option or discovery); logs why not and returns false. */
static bool discover_files(const config_t *cfg, strlist_t *files)
{
    char *err = NULL;
    bool ok = *cfg->files ? plan_discover_read_list(cfg->files, files, &err)
                          : plan_discover_walk(".", cfg->test_file_pattern,
                                               cfg->test_file_exclude_pattern, files, &err);
    if (!ok) {
        log_error("%s", err);
        free(err);
    }
    return ok;
}

/* Node ids as the plan request's examples (path with the location prefix). */
static void add_examples(const config_t *cfg, const strlist_t *ids, cJSON *examples)
{
    for (size_t i = 0; i < ids->len; i++) {
        buf_t sent = BUF_INIT; /* a name that is not UTF-8 goes escaped (engine_api.h) */
        engine_api_path_sent(ids->items[i], &sent);
        const char *id = sent.data;
        const char *last = id;
        for (const char *s = strstr(id, "::"); s; s = strstr(s + 2, "::")) last = s;
        cJSON *e = cJSON_CreateObject();
        char *path = engine_api_prefixed(cfg->location_prefix, id);
        cJSON_AddStringToObject(e, "path", path);
        cJSON_AddStringToObject(e, "format", "example");
        cJSON_AddStringToObject(e, "identifier", id);
        char *scope = xstrndup(id, (size_t)(last - id));
        cJSON_AddStringToObject(e, "scope", scope);
        cJSON_AddStringToObject(e, "name", last == id ? id : last + 2);
        cJSON_AddItemToArray(examples, e);
        free(scope);
        free(path);
        buf_free(&sent);
    }
}

/* Slow files become examples (node ids) via --collect-only; a slow file that
 * yields none is added to `whole` and runs as a file (never lost). */
static got_t build_examples(const config_t *cfg, const strlist_t *slow, cJSON *examples,
                            strlist_t *whole)
{
    collect_only_result_t cr;
    collect_only_examples(config_test_command(cfg), slow, &cr);
    if (cr.broken_files.len) {
        plan_tagfilter_log_broken_files(&cr.broken_files);
        collect_only_result_free(&cr);
        return GOT_TERMINAL;
    }
    if (cr.error)
        log_warn("split by example: %s; the %zu slow file%s run%s whole", cr.error, slow->len,
                 slow->len == 1 ? "" : "s", slow->len == 1 ? "s" : "");
    else
        for (size_t i = 0; i < cr.whole_files.len; i++)
            log_warn("split by example: pytest collected no test ids from %s; it runs whole",
                     cr.whole_files.items[i]);
    for (size_t i = 0; i < cr.whole_files.len; i++) strlist_push(whole, cr.whole_files.items[i]);
    add_examples(cfg, &cr.node_ids, examples);
    collect_only_result_free(&cr);
    return GOT_PLAN;
}

static got_t plan_from_answer(engine_api_answer_t *a, plan_t *p, const config_t *cfg,
                              plan_source_t source)
{
    if (a->outcome == ENGINE_API_FATAL || a->outcome == ENGINE_API_FALLBACK) {
        free(p->reason);
        p->reason = xstrdup(a->message);
        return a->outcome == ENGINE_API_FATAL ? GOT_FATAL : GOT_FALLBACK;
    }
    char *err = NULL;
    /* plan --explain (p->estimates) shows every job's entries; a job reads its own */
    long job = p->estimates ? PLAN_JSON_ALL_JOBS : cfg->parallel_job;
    if (!plan_json_parse(p, a->body, cfg->location_prefix, job, log_warn_line, NULL, &err)) {
        free(p->reason);
        p->reason = err; /* "Invalid Plan: ..." or "Error Plan: ..." */
        return GOT_FALLBACK;
    }
    p->source = source;
    return GOT_PLAN;
}

/* What a new plan asks Test Engine to split, built as bktec builds it: with
 * a tag filter the entries are already the matching node ids, all sent as
 * examples (no filter_tests); otherwise filter_tests names the files to split
 * into examples and the other files go as selectors. */
static got_t request_tests(http_client_t *c, const config_t *cfg, const strlist_t *files,
                           strlist_t *selectors, cJSON *examples, plan_t *p)
{
    if (*cfg->tag_filters) {
        add_examples(cfg, files, examples);
        return GOT_PLAN;
    }
    strlist_t slow, whole;
    strlist_init(&slow);
    strlist_init(&whole);
    engine_api_answer_t a;
    engine_api_filter_tests(c, cfg, files, &slow, &a);
    got_t got = GOT_PLAN;
    if (a.outcome != ENGINE_API_OK) {
        free(p->reason);
        p->reason = xasprintf("filter tests: %s", a.message);
        got = a.outcome == ENGINE_API_FATAL ? GOT_FATAL : GOT_FALLBACK;
    }
    engine_api_answer_free(&a);
    if (got == GOT_PLAN && slow.len) {
        log_info(
            "Test Engine asked to split %zu slow file%s into individual tests; collecting them",
            slow.len, slow.len == 1 ? "" : "s");
        got = build_examples(cfg, &slow, examples, &whole);
    }
    if (got == GOT_PLAN) {
        /* Hashed: 10k slow files among 100k. */
        strset_t is_slow = STRSET_INIT;
        strset_t is_whole = STRSET_INIT;
        strset_add_list(&is_slow, &slow);
        strset_add_list(&is_whole, &whole);
        for (size_t i = 0; i < files->len; i++)
            if (!strset_has(&is_slow, files->items[i]) || strset_has(&is_whole, files->items[i]))
                strlist_push(selectors, files->items[i]);
        strset_free(&is_slow);
        strset_free(&is_whole);
    }
    strlist_free(&whole);
    strlist_free(&slow);
    return got;
}

static got_t create_plan(http_client_t *c, const config_t *cfg, const strlist_t *files, plan_t *p)
{
    strlist_t selectors;
    strlist_init(&selectors);
    cJSON *examples = cJSON_CreateArray();
    got_t got = request_tests(c, cfg, files, &selectors, examples, p);
    if (got == GOT_PLAN) {
        engine_api_answer_t a;
        engine_api_create_plan(c, cfg, &selectors, examples, &a);
        got = plan_from_answer(&a, p, cfg, PLAN_SERVER_CREATED);
        engine_api_answer_free(&a);
    }
    cJSON_Delete(examples);
    strlist_free(&selectors);
    return got;
}

plan_phase_tests_t plan_phase_request_tests(http_client_t *c, const config_t *cfg,
                                            const strlist_t *entries, strlist_t *selectors,
                                            cJSON *examples, char **err)
{
    plan_t p;
    plan_init(&p, 1);
    got_t got = request_tests(c, cfg, entries, selectors, examples, &p);
    plan_phase_tests_t tests = PLAN_PHASE_TESTS_READY;
    if (got == GOT_FALLBACK || got == GOT_FATAL) {
        err_set(err, "%s", p.reason);
        tests = got == GOT_FATAL ? PLAN_PHASE_TESTS_FATAL : PLAN_PHASE_TESTS_FALLBACK;
    } else if (got == GOT_TERMINAL) {
        tests = PLAN_PHASE_TESTS_TERMINAL;
    }
    plan_free(&p);
    return tests;
}

static got_t server_plan(const config_t *cfg, entries_t *e, plan_t *p)
{
    http_client_t c;
    engine_api_client_init(&c, cfg);
    engine_api_answer_t a;
    engine_api_fetch_cached_plan(&c, cfg, &a);
    got_t got;
    if (a.outcome == ENGINE_API_CACHE_MISS)
        got = need_entries(cfg, e) ? GOT_STOP : create_plan(&c, cfg, &e->list, p);
    else
        got = plan_from_answer(&a, p, cfg, PLAN_SERVER_CACHED);
    engine_api_answer_free(&a);
    http_client_free(&c);
    return got;
}

/* The durations' keys against this plan's files: rebased when they are
 * relative to a rootdir below the checkout, and said when none match (a
 * durations file from another project, or from before a move). */
static bool durations_match_plan(const config_t *cfg, const strlist_t *entries, durations_t *known)
{
    strlist_t files = STRLIST_INIT; /* entries may be node ids (tag filters) */
    for (size_t i = 0; i < entries->len; i++)
        strlist_push_owned(&files, selector_file_part(entries->items[i]));
    size_t matched = 0;
    char *prefix = durations_rebase(known, &files, &matched);
    if (*prefix)
        log_info("Durations: %s keys its tests relative to %s (pytest's rootdir there); %zu of "
                 "its %zu files are in this plan",
                 cfg->durations_file, prefix, matched, known->len);
    bool any = matched > 0 || known->len == 0;
    if (!any) {
        log_warn("Durations: none of the %zu files in %s is a test file of this plan (made in "
                 "another checkout or rootdir?); splitting without durations",
                 known->len, cfg->durations_file);
        durations_free(known);
    }
    free(prefix);
    strlist_free(&files);
    return any;
}

static void fallback_plan(const config_t *cfg, const strlist_t *files, plan_t *p)
{
    /* Throw away whatever a half-usable server answer left behind. */
    char *reason = xstrdup(p->reason);
    bool explain = p->estimates != NULL;
    plan_free(p);
    plan_init(p, cfg->parallel_job_count);
    if (explain) p->estimates = plan_estimates_new();
    free(p->reason);
    p->reason = reason;
    durations_t known = {0};
    bool have = false;
    if (*cfg->durations_file) {
        char *err = NULL;
        have = durations_load(cfg->durations_file, log_warn_line, NULL, &known, &err);
        if (!have) {
            log_warn("%s; splitting without durations", err);
            free(err);
        }
    }
    if (have) have = durations_match_plan(cfg, files, &known);
    plan_fallback(p, files, have ? &known : NULL);
    if (have) durations_free(&known);
    /* split files: ask pytest, or leave it to the run phase when pytest cannot start here
     * (plan --explain shows every job's part as planned, and runs nothing) */
    if (!explain) plan_refine_job(p, cfg->parallel_job, config_test_command(cfg), true);
}

/* The previous attempt's selectors; says in one line when there are none to
 * use. Returns whether the value was usable (sel may be empty). */
static bool load_retry_selectors(const config_t *cfg, strlist_t *sel)
{
    char *err = NULL;
    bool found = false;
    bool ok = retrysel_load(cfg, sel, &found, log_warn_line, NULL, &err);
    if (!ok) {
        log_warn("%s; running the normal slice", err);
    } else if (!found) {
        char *key = retrysel_key(cfg);
        log_info("No retry selectors under %s; running the normal slice", key);
        free(key);
    } else if (sel->len == 0) {
        log_info("The previous attempt left nothing to retry; running the normal slice");
    }
    free(err);
    return ok && found;
}

static bool retry_plan(const config_t *cfg, plan_t *p)
{
    strlist_t sel;
    strlist_init(&sel);
    bool found = load_retry_selectors(cfg, &sel);
    if (found && sel.len) {
        p->source = PLAN_RETRY_SELECTORS;
        free(p->reason);
        p->reason = xasprintf("Buildkite job retry %ld: running only the %zu test%s that failed on "
                              "the previous attempt",
                              cfg->job_retry_count, sel.len, sel.len == 1 ? "" : "s");
        for (size_t i = 0; i < sel.len; i++)
            strlist_push(&p->tasks[cfg->parallel_job].run, sel.items[i]);
    }
    strlist_free(&sel);
    return found && p->source == PLAN_RETRY_SELECTORS;
}

/* This job's plan: local when there is no Test Engine, the previous
 * attempt's failures on a job retry, else Test Engine's, falling back to the
 * local one when the API cannot help. Returns 0, or the status to stop with. */
static int choose_plan(const config_t *cfg, entries_t *e, plan_t *p)
{
    if (cfg->offline) {
        if (need_entries(cfg, e)) return e->status;
        free(p->reason);
        p->reason = xstrdup("no Test Engine suite or token configured: planning locally");
        fallback_plan(cfg, &e->list, p);
        return 0;
    }
    /* plan --explain explains the step's plan, not one job's retry */
    if (cfg->job_retry_count > 0 && !p->estimates && retry_plan(cfg, p)) return 0;
    got_t got = server_plan(cfg, e, p);
    if (got == GOT_STOP) return e->status;
    if (got == GOT_FATAL) {
        log_error("%s", p->reason);
        return (int)cfg->config_exit_status;
    }
    if (got == GOT_TERMINAL) return (int)cfg->terminal_exit_status;
    if (got == GOT_FALLBACK) {
        if (need_entries(cfg, e)) return e->status;
        log_warn("%s", p->reason);
        log_warn(FALLBACK_TAIL);
        fallback_plan(cfg, &e->list, p);
    }
    return 0;
}

/* slice.json and the options the run phase reads, then the summary
 * (n_files: PLAN_SUMMARY_NOT_DISCOVERED when the plan needed none).
 * Returns 0, or the configuration status when the state cannot be written. */
static int write_slice(const config_t *cfg, const plan_t *p, size_t n_files)
{
    if (p->tasks[cfg->parallel_job].run.len == 0)
        log_warn("the plan has no tests for job %ld of %ld; this job will run nothing",
                 cfg->parallel_job + 1, cfg->parallel_job_count);
    char *err = NULL;
    if (!slice_file_write(cfg, p, &err) || !options_file_write(cfg, &err)) {
        int status = state_dir_exit_status(cfg, errno); /* a full disk is no configuration error */
        log_error("%s", err);
        free(err);
        return status;
    }
    plan_summary_print(cfg, p, n_files);
    return 0;
}

int plan_phase_entries(const config_t *cfg, strlist_t *entries)
{
    if (!discover_files(cfg, entries)) return (int)cfg->config_exit_status;
    return *cfg->tag_filters ? plan_tagfilter_apply(cfg, entries) : 0;
}

static void log_rejected(const plan_t *p)
{
    for (size_t i = 0; i < p->rejected.len; i++)
        log_warn("refused a plan entry: %s; it will not be passed to pytest", p->rejected.items[i]);
}

int plan_phase_choose(const config_t *cfg, const strlist_t *entries, plan_t *p)
{
    entries_t e = {.list = STRLIST_INIT, .found = true}; /* found by the caller */
    for (size_t i = 0; i < entries->len; i++) strlist_push(&e.list, entries->items[i]);
    int status = choose_plan(cfg, &e, p);
    log_rejected(p);
    strlist_free(&e.list);
    return status;
}

int plan_phase_plan(config_t *cfg)
{
    char *err = NULL;
    if (!state_dir_prepare(cfg, &err)) {
        int status = state_dir_exit_status(cfg, errno);
        log_error("%s", err);
        free(err);
        return status;
    }
    /* every field zero: gcc 10 warns on a designated initializer that names one */
    entries_t e = {0};
    int status = *cfg->tag_filters ? need_entries(cfg, &e) : 0;
    if (status) {
        strlist_free(&e.list);
        return status;
    }
    plan_t p;
    plan_init(&p, cfg->parallel_job_count);
    status = choose_plan(cfg, &e, &p);
    log_rejected(&p);
    if (status == 0)
        status = write_slice(cfg, &p, e.found ? e.list.len : PLAN_SUMMARY_NOT_DISCOVERED);
    /* run's result-mode question, asked here once for the job (result_mode.h) */
    if (status == 0) result_mode_probe_ahead(cfg);
    plan_free(&p);
    strlist_free(&e.list);
    return status;
}
