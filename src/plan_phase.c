#include "plan_phase.h"
#include "jsontext.h"
#include "text.h"
#include <stdint.h>
#include "buf.h"
#include "cmdcheck.h"
#include "collect_only.h"
#include "durations.h"
#include "err.h"
#include "log.h"
#include "oidc.h"
#include "plan.h"
#include "plan_api.h"
#include "plan_discover.h"
#include "plan_fallback.h"
#include "plan_json.h"
#include "plan_refine.h"
#include "plan_summary.h"
#include "plan_tagfilter.h"
#include "retrysel.h"
#include "selector.h"
#include "options_file.h"
#include "slice_file.h"
#include "state_dir.h"
#include "strset.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FALLBACK_TAIL                                                                              \
    "Falling back to local splitting; the plan is the same on every job, but may be less "         \
    "balanced."

/* What came of asking Test Engine: the internal face of plan_phase_tests_t,
 * with the reason kept in plan_t.reason. */
typedef enum {
    GOT_PLAN,
    GOT_FALLBACK,
    GOT_FATAL,
    GOT_TERMINAL
} got_t;

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

void plan_phase_log_broken_files(const strlist_t *broken)
{
    for (size_t i = 0; i < broken->len; i++)
        log_error("collection error in %s: pytest cannot import it; fix the file (a retry will "
                  "not help)",
                  broken->items[i]);
}

/* Node ids as the plan request's examples (path with the location prefix). */
static void add_examples(const config_t *cfg, const strlist_t *ids, cJSON *examples)
{
    for (size_t i = 0; i < ids->len; i++) {
        const char *id = ids->items[i];
        const char *last = id;
        for (const char *s = strstr(id, "::"); s; s = strstr(s + 2, "::")) last = s;
        cJSON *e = cJSON_CreateObject();
        char *path = plan_api_prefixed(cfg->location_prefix, id);
        cJSON_AddStringToObject(e, "path", path);
        cJSON_AddStringToObject(e, "format", "example");
        cJSON_AddStringToObject(e, "identifier", id);
        char *scope = xstrndup(id, (size_t)(last - id));
        cJSON_AddStringToObject(e, "scope", scope);
        cJSON_AddStringToObject(e, "name", last == id ? id : last + 2);
        cJSON_AddItemToArray(examples, e);
        free(scope);
        free(path);
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
        plan_phase_log_broken_files(&cr.broken_files);
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

static got_t plan_from_answer(plan_api_answer_t *a, plan_t *p, const config_t *cfg,
                              plan_source_t source)
{
    if (a->outcome == PLAN_API_FATAL || a->outcome == PLAN_API_FALLBACK) {
        free(p->reason);
        p->reason = xstrdup(a->message);
        return a->outcome == PLAN_API_FATAL ? GOT_FATAL : GOT_FALLBACK;
    }
    char *err = NULL;
    if (!plan_json_parse(p, a->body, cfg->location_prefix, log_warn_line, NULL, &err)) {
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
    plan_api_answer_t a;
    plan_api_filter_tests(c, cfg, files, &slow, &a);
    got_t got = GOT_PLAN;
    if (a.outcome != PLAN_API_OK) {
        free(p->reason);
        p->reason = xasprintf("filter tests: %s", a.message);
        got = a.outcome == PLAN_API_FATAL ? GOT_FATAL : GOT_FALLBACK;
    }
    plan_api_answer_free(&a);
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
        plan_api_answer_t a;
        plan_api_create_plan(c, cfg, &selectors, examples, &a);
        got = plan_from_answer(&a, p, cfg, PLAN_SERVER_CREATED);
        plan_api_answer_free(&a);
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

static got_t server_plan(const config_t *cfg, const strlist_t *files, plan_t *p)
{
    http_client_t c;
    plan_api_client_init(&c, cfg);
    plan_api_answer_t a;
    plan_api_fetch_cached_plan(&c, cfg, &a);
    got_t got;
    if (a.outcome == PLAN_API_CACHE_MISS)
        got = create_plan(&c, cfg, files, p);
    else
        got = plan_from_answer(&a, p, cfg, PLAN_SERVER_CACHED);
    plan_api_answer_free(&a);
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

/* ---- file names Test Engine cannot carry ---- */

static bool is_utf8(const char *s)
{
    for (size_t n; *s; s += n)
        if ((n = jsontext_utf8_len(s)) == 0) return false;
    return true;
}

/* Test Engine's API is JSON: a file name that is not UTF-8 cannot go there
 * and come back the same. Such files stay out of the request. */
static void split_unsendable(const strlist_t *files, strlist_t *sendable, strlist_t *local)
{
    for (size_t i = 0; i < files->len; i++)
        strlist_push(is_utf8(files->items[i]) ? sendable : local, files->items[i]);
}

/* Each goes to one job, the same on every job (by the name's hash), so
 * none is lost or run twice. */
static void assign_unsendable(plan_t *p, const strlist_t *local)
{
    for (size_t i = 0; i < local->len; i++) {
        long job = (long)(strset_hash(local->items[i]) % (uint64_t)p->parallelism);
        strlist_push(&p->tasks[job].run, local->items[i]);
        char *shown = text_excerpt(local->items[i], strlen(local->items[i]), 200);
        log_info("%s: its name is not UTF-8, which Test Engine's API cannot carry; it runs on "
                 "job %ld, on every job's plan alike",
                 shown, job + 1);
        free(shown);
    }
}

static got_t server_plan_of_sendable(const config_t *cfg, const strlist_t *files, plan_t *p)
{
    strlist_t sendable = STRLIST_INIT, local = STRLIST_INIT;
    split_unsendable(files, &sendable, &local);
    got_t got = server_plan(cfg, &sendable, p);
    if (got == GOT_PLAN) assign_unsendable(p, &local);
    strlist_free(&sendable);
    strlist_free(&local);
    return got;
}

/* This job's plan: local when there is no Test Engine, the previous
 * attempt's failures on a job retry, else Test Engine's, falling back to the
 * local one when the API cannot help. Returns 0, or the status to stop with. */
static int choose_plan(const config_t *cfg, const strlist_t *files, plan_t *p)
{
    if (cfg->offline) {
        free(p->reason);
        p->reason =
            xstrdup("no Test Engine suite, token or organization configured: planning locally");
        fallback_plan(cfg, files, p);
        return 0;
    }
    /* plan --explain explains the step's plan, not one job's retry */
    if (cfg->job_retry_count > 0 && !p->estimates && retry_plan(cfg, p)) return 0;
    got_t got = server_plan_of_sendable(cfg, files, p);
    if (got == GOT_FATAL) {
        log_error("%s", p->reason);
        return (int)cfg->config_exit_status;
    }
    if (got == GOT_TERMINAL) return (int)cfg->terminal_exit_status;
    if (got == GOT_FALLBACK) {
        log_warn("%s", p->reason);
        log_warn(FALLBACK_TAIL);
        fallback_plan(cfg, files, p);
    }
    return 0;
}

/* slice.json and the options the run phase reads, then the summary.
 * Returns 0, or the configuration status when the state cannot be written. */
static int write_slice(const config_t *cfg, const plan_t *p, size_t n_files)
{
    if (p->tasks[cfg->parallel_job].run.len == 0)
        log_warn("the plan has no tests for job %ld of %ld; this job will run nothing",
                 cfg->parallel_job + 1, cfg->parallel_job_count);
    char *err = NULL;
    if (!slice_file_write(cfg, p, &err) || !options_file_write(cfg, &err)) {
        log_error("%s", err);
        free(err);
        return (int)cfg->config_exit_status;
    }
    plan_summary_print(cfg, p, n_files);
    return 0;
}

int plan_phase_entries(const config_t *cfg, strlist_t *entries)
{
    if (!discover_files(cfg, entries)) return (int)cfg->config_exit_status;
    return *cfg->tag_filters ? plan_tagfilter_apply(cfg, entries) : 0;
}

int plan_phase_choose(const config_t *cfg, const strlist_t *entries, plan_t *p)
{
    int status = choose_plan(cfg, entries, p);
    for (size_t i = 0; i < p->rejected.len; i++)
        log_warn("refused a plan entry: %s; it will not be passed to pytest", p->rejected.items[i]);
    return status;
}

int plan_phase_plan(config_t *cfg)
{
    char *err = NULL;
    if (!state_dir_prepare(cfg, &err)) {
        log_error("%s", err);
        free(err);
        return (int)cfg->config_exit_status;
    }
    strlist_t files = STRLIST_INIT;
    int status = plan_phase_entries(cfg, &files);
    if (status) {
        strlist_free(&files);
        return status;
    }
    plan_t p;
    plan_init(&p, cfg->parallel_job_count);
    status = plan_phase_choose(cfg, &files, &p);
    if (status == 0) status = write_slice(cfg, &p, files.len);
    plan_free(&p);
    strlist_free(&files);
    return status;
}
