#include "plan/plan_dynamic.h"
#include "base/timeouts.h"
#include "base/buf.h"
#include "base/err.h"
#include "model/durations.h"
#include "base/fs.h"
#include "base/log.h"
#include "net/engine_api.h"
#include "plan/plan_phase.h"
#include "base/process.h"
#include "plan/plan_tagfilter.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define IDENT_VAR "BUILDKITE_TEST_ENGINE_PLAN_IDENTIFIER"
#define PAR_VAR   "BUILDKITE_TEST_ENGINE_PARALLELISM"

typedef struct {
    long parallelism;
    char *identifier;
    const char *source; /* "server" | "local estimate" */
    char *reason;
} dynamic_answer_t;

static void dynamic_answer_free(dynamic_answer_t *d)
{
    free(d->identifier);
    free(d->reason);
}

/* bktec's ValidateForPlan rules, plus the template. */
static void validate_dynamic_options(config_t *cfg, const char *template_path, long *target_s)
{
    *target_s = 0;
    if (*cfg->target_time) {
        *target_s = config_duration_seconds(cfg->target_time);
        if (*target_s <= 0 || *target_s > 86400)
            strlist_push_owned(
                &cfg->problems,
                xasprintf("BUILDKITE_TEST_ENGINE_TARGET_TIME: '%s' is not a time up to "
                          "24h; use e.g. 4m30s, 90s or 240 (seconds)",
                          cfg->target_time));
        if (cfg->max_parallelism == 0)
            strlist_push_owned(&cfg->problems,
                               xstrdup("BUILDKITE_TEST_ENGINE_MAX_PARALLELISM: must be set with "
                                       "BUILDKITE_TEST_ENGINE_TARGET_TIME (the most jobs to use)"));
    }
    if (template_path && !fs_exists(template_path))
        strlist_push_owned(
            &cfg->problems,
            xasprintf("plan --pipeline-upload: '%s' does not exist; give the pipeline "
                      "template to upload",
                      template_path));
}

long plan_dynamic_estimate(long max_parallelism, long fallback_parallelism, long target_s,
                           double total_s, size_t n_entries, char **how)
{
    long cap = max_parallelism > 0 ? max_parallelism : fallback_parallelism;
    const char *cap_name = max_parallelism > 0 ? "BUILDKITE_TEST_ENGINE_MAX_PARALLELISM"
                                               : "BUILDKITE_PARALLEL_JOB_COUNT";
    if (target_s <= 0) {
        *how = xasprintf("no target time: %s, %ld", cap_name, cap);
        return cap;
    }
    if (total_s < 0) {
        *how = xasprintf("no local durations to estimate from (set "
                         "BUILDKITE_TEST_ENGINE_DURATIONS_FILE): %s, %ld",
                         cap_name, cap);
        return cap;
    }
    long jobs = (long)(total_s / (double)target_s);
    if ((double)jobs * (double)target_s < total_s) jobs++;
    long n = jobs < 1 ? 1 : jobs;
    buf_t b;
    buf_init(&b);
    buf_printf(&b, "ceil(%.1f s of tests / target %ld s) = %ld job%s", total_s, target_s, jobs,
               jobs == 1 ? "" : "s");
    if (n > cap) {
        n = cap;
        buf_printf(&b, ", capped at %s %ld", cap_name, cap);
    }
    if (n_entries && (size_t)n > n_entries) {
        n = (long)n_entries;
        buf_printf(&b, ", capped at the %zu entries to run", n_entries);
    }
    *how = buf_detach(&b);
    buf_free(&b);
    return n;
}

/* Seconds of the entries by the durations file: the known summed, the
 * unknown at the mean of the known (as the fallback plan counts them);
 * -1 when nothing is known. */
static double local_total(const config_t *cfg, const strlist_t *entries, size_t *n_known)
{
    *n_known = 0;
    if (!*cfg->durations_file) return -1;
    durations_t known = {0};
    char *err = NULL;
    if (!durations_load(cfg->durations_file, log_warn_line, NULL, &known, &err)) {
        log_warn("%s; no local estimate", err);
        free(err);
        return -1;
    }
    double sum = 0;
    for (size_t i = 0; i < entries->len; i++) {
        double s = durations_get(&known, entries->items[i]);
        if (s >= 0) {
            sum += s;
            (*n_known)++;
        }
    }
    durations_free(&known);
    if (!*n_known) return -1;
    return sum + (sum / (double)*n_known) * (double)(entries->len - *n_known);
}

static void estimate_locally(const config_t *cfg, const strlist_t *entries, long target_s,
                             const char *why, dynamic_answer_t *d)
{
    size_t n_known = 0;
    double total = target_s > 0 ? local_total(cfg, entries, &n_known) : -1;
    char *how = NULL;
    d->parallelism = plan_dynamic_estimate(cfg->max_parallelism, cfg->parallel_job_count, target_s,
                                           total, entries->len, &how);
    d->source = "local estimate";
    d->identifier = xstrdup(cfg->identifier);
    if (n_known)
        d->reason = xasprintf(
            "%s; estimated locally from %s (%zu of %zu entries timed, the rest at their mean): %s",
            why, cfg->durations_file, n_known, entries->len, how);
    else if (target_s > 0 && *cfg->durations_file)
        d->reason = xasprintf(
            "%s; none of the %zu entries has a duration in %s (node ids never do): %s, %ld", why,
            entries->len, cfg->durations_file,
            cfg->max_parallelism > 0 ? "BUILDKITE_TEST_ENGINE_MAX_PARALLELISM"
                                     : "BUILDKITE_PARALLEL_JOB_COUNT",
            d->parallelism);
    else
        d->reason = xasprintf("%s; estimated locally: %s", why, how);
    free(how);
}

/* No control character (a line break, an escape sequence) anywhere in s. */
static bool printable_line(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f) return false;
    return true;
}

bool plan_dynamic_read_answer(const char *body, long *parallelism, char **identifier, char **err)
{
    cJSON *root = cJSON_Parse(body);
    const cJSON *par = cJSON_GetObjectItemCaseSensitive(root, "parallelism");
    const cJSON *tasks = cJSON_GetObjectItemCaseSensitive(root, "tasks");
    const cJSON *ident = cJSON_GetObjectItemCaseSensitive(root, "identifier");
    bool ok = false;
    if (!cJSON_IsObject(root))
        err_set(err,
                "Invalid Plan: the plan API answered with something that is not a JSON object");
    else if (!cJSON_IsObject(tasks) || cJSON_GetArraySize(tasks) == 0)
        err_set(err, "Error Plan: the Test Engine API answered with a plan that has no tasks");
    else if (!cJSON_IsNumber(par) || par->valuedouble < 1 || par->valuedouble > 1000 ||
             par->valuedouble != (double)(long)par->valuedouble)
        err_set(err, "Invalid Plan: the plan's parallelism is not a whole number from 1 to 1000");
    else if (cJSON_IsString(ident) && !printable_line(ident->valuestring))
        /* It goes into the environment `pipeline upload` interpolates into
         * YAML: a line break there would add to the pipeline. */
        err_set(err, "Invalid Plan: the plan's identifier is not one printable line");
    else
        ok = true;
    if (ok) {
        *parallelism = (long)par->valuedouble;
        *identifier =
            cJSON_IsString(ident) && *ident->valuestring ? xstrdup(ident->valuestring) : NULL;
    }
    cJSON_Delete(root);
    return ok;
}

/* The server's choice into d (its identifier, else ours). */
static bool use_plan_answer(const config_t *cfg, const char *body, dynamic_answer_t *d, char **err)
{
    char *identifier = NULL;
    if (!plan_dynamic_read_answer(body, &d->parallelism, &identifier, err)) return false;
    d->identifier = identifier ? identifier : xstrdup(cfg->identifier);
    d->source = "server";
    d->reason = xstrdup("Test Engine chose it");
    return true;
}

/* What asking Test Engine came to. */
typedef enum {
    ASK_ANSWERED, /* d holds the server's choice */
    ASK_ESTIMATE, /* *why: the API could not help; estimate locally */
    ASK_STOP      /* *status: stop with it (the reason is printed already) */
} ask_outcome_t;

/* The plan request, as the plan phase builds it, with the dynamic fields. */
static ask_outcome_t ask_for_plan(http_client_t *c, const config_t *cfg, const strlist_t *entries,
                                  dynamic_answer_t *d, int *status, char **why)
{
    strlist_t selectors;
    strlist_init(&selectors);
    cJSON *examples = cJSON_CreateArray();
    ask_outcome_t outcome = ASK_ESTIMATE;
    char *err = NULL;
    plan_phase_tests_t tests =
        plan_phase_request_tests(c, cfg, entries, &selectors, examples, &err);
    if (tests == PLAN_PHASE_TESTS_FALLBACK) {
        *why = err;
    } else if (tests == PLAN_PHASE_TESTS_FATAL) {
        log_error("%s", err);
        free(err);
        *status = (int)cfg->config_exit_status;
        outcome = ASK_STOP;
    } else if (tests == PLAN_PHASE_TESTS_TERMINAL) {
        *status = (int)cfg->terminal_exit_status;
        outcome = ASK_STOP;
    } else {
        engine_api_answer_t a;
        engine_api_create_plan(c, cfg, &selectors, examples, &a);
        if (a.outcome == ENGINE_API_FATAL) {
            log_error("%s", a.message);
            *status = (int)cfg->config_exit_status;
            outcome = ASK_STOP;
        } else if (a.outcome != ENGINE_API_OK) {
            err_set(why, "%s", a.message);
        } else if (use_plan_answer(cfg, a.body, d, why)) {
            outcome = ASK_ANSWERED;
        }
        engine_api_answer_free(&a);
    }
    cJSON_Delete(examples);
    strlist_free(&selectors);
    return outcome;
}

static ask_outcome_t ask_test_engine(const config_t *cfg, const strlist_t *entries,
                                     dynamic_answer_t *d, int *status, char **why)
{
    http_global_init();
    http_client_t c;
    engine_api_client_init(&c, cfg);
    ask_outcome_t outcome = ask_for_plan(&c, cfg, entries, d, status, why);
    http_client_free(&c);
    curl_global_cleanup();
    return outcome;
}

static int decide_parallelism(const config_t *cfg, const strlist_t *entries, long target_s,
                              dynamic_answer_t *d)
{
    if (cfg->offline) {
        estimate_locally(cfg, entries, target_s, "no Test Engine suite or token configured", d);
    } else {
        char *why = NULL;
        int status = 0;
        ask_outcome_t outcome = ask_test_engine(cfg, entries, d, &status, &why);
        if (outcome == ASK_ESTIMATE) {
            log_warn("%s", why);
            estimate_locally(cfg, entries, target_s, why, d);
        }
        free(why);
        if (outcome == ASK_STOP) return status;
    }
    log_section("dynamic parallelism: %ld job%s (%s)", d->parallelism,
                d->parallelism == 1 ? "" : "s", d->source);
    log_info("%s", d->reason);
    log_info("Plan identifier: %s", d->identifier);
    return 0;
}

static int print_json_document(int fd, const dynamic_answer_t *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "parallelism", (double)d->parallelism);
    cJSON_AddStringToObject(o, "identifier", d->identifier);
    cJSON_AddStringToObject(o, "source", d->source);
    cJSON_AddStringToObject(o, "reason", d->reason);
    cJSON_AddStringToObject(o, IDENT_VAR, d->identifier);
    char *par = xasprintf("%ld", d->parallelism);
    cJSON_AddStringToObject(o, PAR_VAR, par);
    free(par);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    int n = dprintf(fd, "%s\n", text);
    free(text);
    return n > 0 ? 0 : 1;
}

static int upload_pipeline(const config_t *cfg, const char *template_path,
                           const dynamic_answer_t *d)
{
    static const char *const ours[] = {IDENT_VAR, PAR_VAR, NULL};
    strlist_t env;
    strlist_init(&env);
    process_env_without(&env, ours);
    strlist_push_owned(&env, xasprintf(IDENT_VAR "=%s", d->identifier));
    strlist_push_owned(&env, xasprintf(PAR_VAR "=%ld", d->parallelism));
    log_info("Uploading %s with buildkite-agent pipeline upload, " IDENT_VAR "=%s " PAR_VAR "=%ld",
             template_path, d->identifier, d->parallelism);
    char *const argv[] = {cfg->agent_cmd, "pipeline", "upload", (char *)template_path, NULL};
    process_opts_t o = {.argv = argv,
                        .env = &env,
                        .timeout_s = TIMEOUT_PIPELINE_UPLOAD_S,
                        .stdin_path = "/dev/null"};
    process_result_t r;
    process_run(&o, &r);
    strlist_free(&env);
    int status = r.start_failed ? (int)cfg->config_exit_status
                 : r.signal     ? 128 + r.signal
                                : r.exit_code;
    if (r.start_failed)
        log_error("%s; the test step was not uploaded", r.error);
    else if (r.timed_out)
        log_error("buildkite-agent pipeline upload did not finish within %d s; the test step was "
                  "not uploaded",
                  TIMEOUT_PIPELINE_UPLOAD_S);
    else if (status)
        log_error("buildkite-agent pipeline upload exited %d; the test step was not uploaded",
                  status);
    process_result_free(&r);
    return status;
}

int plan_dynamic(config_t *cfg, const char *template_path)
{
    cfg->dynamic = true;
    /* --json: stdout carries the document alone; our log, pytest's and the
     * agent's lines go to stderr. */
    int json_fd = -1;
    if (!template_path) {
        fflush(stdout);
        json_fd = dup(STDOUT_FILENO);
        dup2(STDERR_FILENO, STDOUT_FILENO);
    }
    long target_s = 0;
    validate_dynamic_options(cfg, template_path, &target_s);
    strlist_t entries;
    strlist_init(&entries);
    dynamic_answer_t d = {0};
    int status = plan_phase_prepare(cfg) ? 0 : (int)cfg->config_exit_status;
    if (!status) status = plan_phase_entries(cfg, &entries);
    if (!status) status = decide_parallelism(cfg, &entries, target_s, &d);
    if (!status)
        status = template_path ? upload_pipeline(cfg, template_path, &d)
                               : print_json_document(json_fd, &d);
    if (json_fd >= 0) {
        fflush(stdout);
        dup2(json_fd, STDOUT_FILENO);
        close(json_fd);
    }
    dynamic_answer_free(&d);
    strlist_free(&entries);
    return status;
}
