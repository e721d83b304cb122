#include "plan_phase.h"
#include "buf.h"
#include "cmdcheck.h"
#include "collect_only.h"
#include "plan_discover.h"
#include "durations.h"
#include "log.h"
#include "oidc.h"
#include "plan.h"
#include "plan_refine.h"
#include "plan_api.h"
#include "retrysel.h"
#include "selector.h"
#include "state.h"
#include "strset.h"
#include "plan_tagfilter.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FALLBACK_TAIL                                                                              \
    "Falling back to local splitting; the plan is the same on every job, but may be less "         \
    "balanced."

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

bool plan_phase_discover(const config_t *cfg, strlist_t *files)
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
        for (size_t i = 0; i < cr.broken_files.len; i++)
            log_error("collection error in %s: pytest cannot import it; fix the file (a retry will "
                      "not help)",
                      cr.broken_files.items[i]);
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

static got_t from_answer(plan_api_answer_t *a, plan_t *p, const config_t *cfg, plan_source_t source)
{
    if (a->outcome == PLAN_API_FATAL || a->outcome == PLAN_API_FALLBACK) {
        free(p->reason);
        p->reason = xstrdup(a->message);
        return a->outcome == PLAN_API_FATAL ? GOT_FATAL : GOT_FALLBACK;
    }
    bool empty = false;
    char *err = NULL;
    if (!plan_parse_server(p, a->body, cfg->location_prefix, &empty, &err)) {
        free(p->reason);
        p->reason = xasprintf("Invalid Plan: %s", err);
        free(err);
        return GOT_FALLBACK;
    }
    if (empty) {
        free(p->reason);
        p->reason =
            xstrdup("Error Plan: the Test Engine API answered with a plan that has no tasks");
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
        strset_t is_slow = STRSET_INIT,
                 is_whole = STRSET_INIT; /* hashed: 10k slow among 100k files */
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
        got = from_answer(&a, p, cfg, PLAN_SERVER_CREATED);
        plan_api_answer_free(&a);
    }
    cJSON_Delete(examples);
    strlist_free(&selectors);
    return got;
}

int plan_phase_request_tests(http_client_t *c, const config_t *cfg, const strlist_t *entries,
                             strlist_t *selectors, cJSON *examples, char **fallback_reason)
{
    plan_t p;
    plan_init(&p, 1);
    got_t got = request_tests(c, cfg, entries, selectors, examples, &p);
    int status = got == GOT_TERMINAL ? (int)cfg->terminal_exit_status : 0;
    if (got == GOT_FATAL) {
        log_error("%s", p.reason);
        status = (int)cfg->config_exit_status;
    }
    *fallback_reason = got == GOT_FALLBACK ? xstrdup(p.reason) : NULL;
    plan_free(&p);
    return status;
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
        got = from_answer(&a, p, cfg, PLAN_SERVER_CACHED);
    plan_api_answer_free(&a);
    http_client_free(&c);
    return got;
}

static void fallback(const config_t *cfg, const strlist_t *files, plan_t *p)
{
    /* Throw away whatever a half-usable server answer left behind. */
    char *reason = xstrdup(p->reason);
    plan_free(p);
    plan_init(p, cfg->parallel_job_count);
    free(p->reason);
    p->reason = reason;
    durations_t known = {0};
    bool have = false;
    if (*cfg->durations_file) {
        char *err = NULL;
        have = durations_load(cfg->durations_file, &known, &err);
        if (!have) {
            log_warn("%s; splitting without durations", err);
            free(err);
        }
    }
    plan_fallback(p, files, have ? &known : NULL);
    if (have) durations_free(&known);
    plan_refine_job(p, cfg->parallel_job, config_test_command(cfg)); /* split files: ask pytest */
}

static void warn_refused_selector(void *user, const char *line)
{
    (void)user;
    log_warn("%s", line);
}

/* The previous attempt's selectors; says in one line when there are none to
 * use. Returns whether the value was usable (sel may be empty). */
static bool load_retry_selectors(const config_t *cfg, strlist_t *sel)
{
    char *err = NULL;
    bool found = false;
    bool ok = retrysel_load(cfg, sel, &found, warn_refused_selector, NULL, &err);
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

static void print_summary(const config_t *cfg, const plan_t *p, size_t n_files)
{
    const strlist_t *mine = &p->tasks[cfg->parallel_job].run;
    log_section("plan for job %ld of %ld", cfg->parallel_job + 1, cfg->parallel_job_count);
    log_info("Plan source: %s%s%s", plan_source_name(p->source), *p->reason ? " - " : "",
             p->reason);
    log_info("Plan identifier: %s", cfg->identifier);
    log_info("Files discovered: %zu; entries on this job: %zu", n_files, mine->len);
    if (p->source == PLAN_FALLBACK) plan_print_loads(p);
    size_t shown = mine->len < 100 ? mine->len : 100;
    for (size_t i = 0; i < shown; i++) log_info("  %s", mine->items[i]);
    if (shown < mine->len)
        log_info("  ... and %zu more (all are in %s/slice.json)", mine->len - shown,
                 cfg->state_dir);
    if (p->n_muted) log_info("Muted tests known to Test Engine: %zu", p->n_muted);
    for (size_t i = 0; i < p->skipped.len; i++)
        log_info("Skipped by Test Engine: %s", p->skipped.items[i]);
}

int plan_phase_plan(config_t *cfg)
{
    char *err = NULL;
    if (!state_prepare(cfg, &err)) {
        log_error("%s", err);
        free(err);
        return (int)cfg->config_exit_status;
    }
    strlist_t files;
    strlist_init(&files);
    if (!plan_phase_discover(cfg, &files)) {
        strlist_free(&files);
        return (int)cfg->config_exit_status;
    }
    /* With a tag filter the entries are the matching node ids from here on:
     * the server plan and the fallback split only those. */
    int filtered = *cfg->tag_filters ? plan_tagfilter_apply(cfg, &files) : 0;
    if (filtered) {
        strlist_free(&files);
        return filtered;
    }
    plan_t p;
    plan_init(&p, cfg->parallel_job_count);
    int status = 0;
    if (cfg->offline) {
        free(p.reason);
        p.reason =
            xstrdup("no Test Engine suite, token or organization configured: planning locally");
        fallback(cfg, &files, &p);
    } else if (!(cfg->job_retry_count > 0 && retry_plan(cfg, &p))) {
        got_t got = server_plan(cfg, &files, &p);
        if (got == GOT_FATAL) {
            log_error("%s", p.reason);
            status = (int)cfg->config_exit_status;
        } else if (got == GOT_TERMINAL) {
            status = (int)cfg->terminal_exit_status;
        } else if (got == GOT_FALLBACK) {
            log_warn("%s", p.reason);
            log_warn(FALLBACK_TAIL);
            fallback(cfg, &files, &p);
        }
    }
    for (size_t i = 0; i < p.rejected.len; i++)
        log_warn("refused a plan entry: %s; it will not be passed to pytest", p.rejected.items[i]);
    if (status == 0) {
        if (p.tasks[cfg->parallel_job].run.len == 0)
            log_warn("the plan has no tests for job %ld of %ld; this job will run nothing",
                     cfg->parallel_job + 1, cfg->parallel_job_count);
        if (!slice_write(cfg, &p, &err) || !state_write_options(cfg, &err)) {
            log_error("%s", err);
            free(err);
            status = (int)cfg->config_exit_status;
        } else {
            print_summary(cfg, &p, files.len);
        }
    }
    plan_free(&p);
    strlist_free(&files);
    return status;
}
