#include "config.h"
#include "buf.h"
#include "fsutil.h"
#include "log.h"
#include <stdarg.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum {
    OPT_STR,
    OPT_INT,
    OPT_BOOL
} opt_type_t;

typedef struct {
    const char *env;    /* environment variable */
    const char *alias;  /* a second accepted env name, or NULL */
    const char *plugin; /* plugin.yml key, NULL when env-only (secrets, Buildkite's own) */
    opt_type_t type;
    size_t offset;
    const char *def; /* default as text, NULL = empty */
    long min;        /* integer bounds */
    long max;
    const char *help;
} option_t;

#define S(field) OPT_STR, offsetof(config_t, field)
#define I(field) OPT_INT, offsetof(config_t, field)
#define B(field) OPT_BOOL, offsetof(config_t, field)
#define TE       "BUILDKITE_TEST_ENGINE_"

static const option_t OPTIONS[] = {
    {TE "SUITE_SLUG", NULL, "suite-slug", S(suite_slug), NULL, 0, 0,
     "Test Engine suite slug (required for plan/run)"},
    {TE "API_ACCESS_TOKEN", NULL, NULL, S(api_token), NULL, 0, 0,
     "API token with read_suites, read_test_plan, write_test_plan (required for plan/run; never "
     "printed)"},
    {"BUILDKITE_ANALYTICS_TOKEN", NULL, NULL, S(upload_token), NULL, 0, 0,
     "suite upload token for results (report); never passed to pytest"},
    {TE "BASE_URL", NULL, "base-url", S(base_url), "https://api.buildkite.com", 0, 0,
     "plan API base URL (https only)"},
    {TE "UPLOAD_BASE_URL", NULL, "upload-base-url", S(upload_base_url),
     "https://analytics-api.buildkite.com", 0, 0, "upload API base URL (https only)"},
    {TE "CA_BUNDLE", NULL, "ca-bundle", S(ca_bundle), NULL, 0, 0,
     "PEM file of CAs to trust for a private CA; TLS verification is never turned off"},
    {TE "API_RETRY_BUDGET", NULL, "api-retry-budget", I(api_retry_budget), "60", 0, 3600,
     "seconds a phase may spend on failed API attempts and waits, all its requests together"},
    {TE "API_TIMEOUT", NULL, "api-timeout", I(api_timeout), "15", 1, 600,
     "seconds allowed for one plan API request; for uploads, seconds without progress before a "
     "batch is cut"},
    {TE "API_BACKOFF_MS", NULL, NULL, I(api_backoff_ms), "1000", 0, 60000,
     "first retry delay in ms, at least 100 (doubles, with jitter, capped at 20 s)"},
    {TE "OIDC", NULL, "oidc", B(oidc), "true", 0, 0,
     "when a token is blank, mint one with buildkite-agent oidc request-token"},
    {TE "OIDC_LIFETIME", NULL, "oidc-lifetime", S(oidc_lifetime), "2h", 0, 0,
     "lifetime of minted OIDC tokens (seconds, or 2h / 30m / 300s)"},
    {TE "UPLOAD_RESULTS", NULL, "upload-results", B(upload_results), "true", 0, 0,
     "upload results in the report phase when BUILDKITE_ANALYTICS_TOKEN is set"},
    {TE "UPLOAD_BATCH_SIZE", NULL, "upload-batch-size", I(upload_batch_size), "5000", 1, 5000,
     "records per upload request (the API accepts at most 5000)"},
    {TE "UPLOAD_RETRY_BUDGET", NULL, "upload-retry-budget", I(upload_retry_budget), "30", 0, 3600,
     "seconds the upload may spend retrying"},
    {TE "TAGS", NULL, "tags", S(tags), NULL, 0, 0, "upload tags, comma-separated key=value"},
    {TE "TEST_FILE_PATTERN", NULL, "test-file-pattern", S(test_file_pattern),
     "**/{*_test,test_*}.py", 0, 0, "glob of test files (**, *, ?, [..], {a,b})"},
    {TE "TEST_FILE_EXCLUDE_PATTERN", NULL, "test-file-exclude-pattern",
     S(test_file_exclude_pattern), NULL, 0, 0, "glob of files or directories to leave out"},
    {TE "FILES", NULL, "files", S(files), NULL, 0, 0,
     "file with one test file per line; replaces discovery"},
    {TE "PLAN_IDENTIFIER", NULL, "plan-identifier", S(plan_identifier), NULL, 0, 0,
     "plan cache key (default BUILDKITE_BUILD_ID/BUILDKITE_STEP_ID)"},
    {TE "LOCATION_PREFIX", "BUILDKITE_ANALYTICS_LOCATION_PREFIX", "location-prefix",
     S(location_prefix), NULL, 0, 0, "prefix Test Engine puts before paths (monorepos)"},
    {TE "DURATIONS_FILE", NULL, "durations-file", S(durations_file), NULL, 0, 0,
     "known durations for the fallback plan: pytest-split .test_durations JSON or 'seconds path' "
     "lines"},
    {TE "SPLIT_BY_EXAMPLE", NULL, "split-by-example", B(split_by_example), "false", 0, 0,
     "let Test Engine split slow files into individual tests"},
    {TE "FAIL_ON_NO_TESTS", NULL, "fail-on-no-tests", B(fail_on_no_tests), "false", 0, 0,
     "fail (configuration status) when this job gets no tests"},
    {TE "TAG_FILTERS", NULL, "tag-filters", S(tag_filters), NULL, 0, 0,
     "key:value: run only the tests whose execution_tag marker has that value (needs "
     "buildkite-test-collector, JSON mode)"},
    {TE "MAX_PARALLELISM", NULL, NULL, I(max_parallelism), "0", 0, 1000,
     "plan --json / --pipeline-upload: the most jobs Test Engine may choose (0 = "
     "BUILDKITE_PARALLEL_JOB_COUNT)"},
    {TE "TARGET_TIME", NULL, NULL, S(target_time), NULL, 0, 0,
     "plan --json / --pipeline-upload: wanted time per job, e.g. 4m30s, 90s or 240 (needs "
     "MAX_PARALLELISM)"},
    {TE "TEST_CMD", NULL, "test-cmd", S(test_cmd), NULL, 0, 0,
     "pytest command template with {{testExamples}} and {{resultPath}} (run without a shell)"},
    {TE "RETRY_CMD", NULL, "retry-cmd", S(retry_cmd), NULL, 0, 0,
     "command template for in-job retries (default: the test command)"},
    {TE "RESULT_PATH", NULL, "result-path", S(result_path), NULL, 0, 0,
     "where the merged result of all attempts is written (each test's final outcome); pytest "
     "writes one file per attempt in the state directory"},
    {TE "RETRY_COUNT", NULL, "retry-count", I(retry_count), "0", 0, 20,
     "in-job retries of failed tests"},
    {TE "DISABLE_RETRY_FOR_MUTED_TEST", NULL, "disable-retry-for-muted-test",
     B(disable_retry_for_muted), "true", 0, 0, "do not retry failing muted tests"},
    {TE "PROMISE_FAILURE", NULL, "promise-failure", B(promise_failure), "false", 0, 0,
     "when test failures remain after retries, tell Buildkite early (buildkite-agent job "
     "promise-failure); the exit status is unchanged"},
    {TE "TIMEOUT", NULL, "timeout", I(run_timeout), "0", 0, 604800,
     "seconds each attempt (one pytest run, or all its parts) may take before everything it "
     "started is killed (0 = none)"},
    {TE "EXIT4_RETRIES", NULL, "exit4-retries", I(exit4_retries), "3", 0, 10,
     "retries when pytest exits 4 although its files exist"},
    {TE "EXIT4_BACKOFF_MS", NULL, "exit4-backoff-ms", I(exit4_backoff_ms), "500", 0, 60000,
     "exit-4 retry k waits k times this"},
    {TE "FAILURE_EXIT_STATUS", NULL, "failure-exit-status", I(failure_exit_status), "1", 1, 255,
     "status for test failures that remain after retries"},
    {TE "TERMINAL_EXIT_STATUS", NULL, "terminal-exit-status", I(terminal_exit_status), "65", 1, 255,
     "status for collection errors and unreadable results (never retry)"},
    {TE "CONFIG_EXIT_STATUS", NULL, "config-exit-status", I(config_exit_status), "78", 1, 255,
     "status for invalid configuration and fatal API answers"},
    {TE "PYTHON", NULL, "python", S(python), NULL, 0, 0,
     "interpreter asked about pytest and buildkite-test-collector when the test command's own "
     "cannot be told (default: the command's interpreter, or its pytest script's #! line)"},
    {TE "SELECTORS_METADATA_LIMIT", NULL, "selectors-metadata-limit", I(selectors_metadata_limit),
     "65536", 64, 100000, "bytes of retry selectors kept in meta-data; more goes to an artifact"},
    {TE "STATE_DIR", NULL, "state-dir", S(state_dir), NULL, 0, 0,
     "directory the phases hand data through (default " STATE_DIR_NAME
     "/<job id> in the checkout; inside the checkout for containers)"},
    {TE "DEBUG_ENABLED", NULL, "debug-enabled", B(debug), "false", 0, 0, "debug output on stderr"},
    {TE "AGENT_CMD", NULL, NULL, S(agent_cmd), "buildkite-agent", 0, 0,
     "buildkite-agent executable"},
    {"BUILDKITE_ORGANIZATION_SLUG", NULL, NULL, S(org_slug), NULL, 0, 0,
     "organization slug (set by Buildkite)"},
    {"BUILDKITE_BUILD_ID", NULL, NULL, S(build_id), NULL, 0, 0, "set by Buildkite"},
    {"BUILDKITE_STEP_ID", NULL, NULL, S(step_id), NULL, 0, 0, "set by Buildkite"},
    {"BUILDKITE_JOB_ID", NULL, NULL, S(job_id), NULL, 0, 0, "set by Buildkite"},
    {"BUILDKITE_BRANCH", NULL, NULL, S(branch), NULL, 0, 0, "set by Buildkite"},
    {"BUILDKITE_COMMIT", NULL, NULL, S(commit), NULL, 0, 0, "set by Buildkite"},
    {"BUILDKITE_BUILD_NUMBER", NULL, NULL, S(build_number), NULL, 0, 0, "set by Buildkite"},
    {"BUILDKITE_BUILD_URL", NULL, NULL, S(build_url), NULL, 0, 0, "set by Buildkite"},
    {"BUILDKITE_MESSAGE", NULL, NULL, S(message), NULL, 0, 0, "set by Buildkite"},
    {"BUILDKITE_LABEL", NULL, NULL, S(label), NULL, 0, 0, "set by Buildkite"},
    {"BUILDKITE_PARALLEL_JOB", NULL, NULL, I(parallel_job), "0", 0, 999,
     "this job's index (set by Buildkite)"},
    {"BUILDKITE_PARALLEL_JOB_COUNT", NULL, NULL, I(parallel_job_count), "1", 1, 1000,
     "parallelism (set by Buildkite)"},
    {"BUILDKITE_RETRY_COUNT", NULL, NULL, I(job_retry_count), "0", 0, 1000000,
     "the job's Buildkite retry count (set by Buildkite)"},
};
#define N_OPTIONS (sizeof OPTIONS / sizeof OPTIONS[0])

bool config_parse_bool(const char *s, bool *out)
{
    static const char *yes[] = {"true", "1", "on"};
    static const char *no[] = {"false", "0", "off"};
    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return true;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* A whole number, white space around it allowed (env files often add some). */
static bool parse_long(const char *s, long *out)
{
    size_t n = strlen(s);
    const char *digits = span_trim(s, &n);
    if (!n) return false;
    char *text = xstrndup(digits, n);
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    bool whole = !errno && *end == '\0';
    free(text);
    if (whole) *out = v;
    return whole;
}

static void add_problem(config_t *cfg, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_problem(config_t *cfg, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    strlist_push_owned(&cfg->problems, xvasprintf(fmt, ap));
    va_end(ap);
}

/* Plugin JSON values arrive as strings, numbers, booleans or (tags) arrays;
 * all become the text an env var would hold. */
static char *plugin_value_text(const cJSON *v)
{
    if (cJSON_IsString(v)) return xstrdup(v->valuestring);
    if (cJSON_IsBool(v)) return xstrdup(cJSON_IsTrue(v) ? "true" : "false");
    if (cJSON_IsNumber(v)) return xasprintf("%.0f", v->valuedouble);
    if (cJSON_IsArray(v)) {
        buf_t b;
        buf_init(&b);
        const cJSON *item;
        cJSON_ArrayForEach(item, v)
        {
            if (!cJSON_IsString(item)) {
                buf_free(&b);
                return NULL;
            }
            if (b.len) buf_putc(&b, ',');
            buf_puts(&b, item->valuestring);
        }
        return buf_detach(&b);
    }
    return NULL;
}

static const option_t *option_by_plugin_key(const char *key)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (OPTIONS[i].plugin && strcmp(OPTIONS[i].plugin, key) == 0) return &OPTIONS[i];
    return NULL;
}

static void store_option(config_t *cfg, const option_t *o, const char *text, const char *source)
{
    char *base = (char *)cfg;
    if (o->type == OPT_STR) {
        char **field = (char **)(base + o->offset);
        free(*field);
        *field = xstrdup(text ? text : "");
    } else if (o->type == OPT_INT) {
        long v = 0;
        if (!text || !*text) text = o->def ? o->def : "0";
        if (!parse_long(text, &v))
            add_problem(cfg, "%s: '%s' is not a whole number; use a number from %ld to %ld", source,
                        text, o->min, o->max);
        else if (v < o->min || v > o->max)
            add_problem(cfg, "%s: %ld is out of range; use a number from %ld to %ld", source, v,
                        o->min, o->max);
        *(long *)(base + o->offset) = v;
    } else {
        bool v = false;
        if (!text || !*text) text = o->def ? o->def : "false";
        if (!config_parse_bool(text, &v))
            add_problem(cfg, "%s: '%s' is not a boolean; use true/false, 1/0 or on/off", source,
                        text);
        *(bool *)(base + o->offset) = v;
    }
}

static void load_plugin_json(config_t *cfg, bool *from_plugin)
{
    const char *raw = getenv("BUILDKITE_PLUGIN_CONFIGURATION");
    if (!raw || !*raw) return;
    cfg->plugin_json_seen = true;
    cJSON *root = cJSON_Parse(raw);
    if (!cJSON_IsObject(root)) {
        add_problem(cfg, "BUILDKITE_PLUGIN_CONFIGURATION: not a JSON object; check the plugin's "
                         "options in pipeline.yml");
        cJSON_Delete(root);
        return;
    }
    const cJSON *item;
    cJSON_ArrayForEach(item, root)
    {
        const char *key = item->string;
        if (strcmp(key, "binary") == 0) continue; /* read by the hooks */
        const option_t *o = option_by_plugin_key(key);
        if (!o) {
            add_problem(cfg,
                        "plugin option '%s': unknown option; see plugin.yml for the accepted names",
                        key);
            continue;
        }
        const char *env = getenv(o->env);
        if (env && *env) continue; /* an explicit env var wins */
        char *text = plugin_value_text(item);
        char *source = xasprintf("plugin option '%s'", key);
        if (!text)
            add_problem(cfg, "%s: unsupported value type; use a string, number or boolean", source);
        else
            store_option(cfg, o, text, source);
        from_plugin[o - OPTIONS] = text != NULL;
        free(text);
        free(source);
    }
    cJSON_Delete(root);
}

/* No suite, no token and no organisation: nobody meant to use the API, so
 * plan locally at once instead of demanding all three. */
static bool nothing_of_the_api(const config_t *cfg)
{
    return !*cfg->suite_slug && !*cfg->api_token && !*cfg->org_slug;
}

/* The state lives in the checkout, under a name made from the job's own
 * identity: a command phase inside a container that mounts only the checkout
 * (at any path) and has only the job's original environment finds it, and
 * another job, build or project never does. Without a Buildkite job id, the
 * job index and count keep local parallel runs apart. */
static void derive_identity(config_t *cfg)
{
    free(cfg->identifier);
    cfg->offline = nothing_of_the_api(cfg);
    if (*cfg->plan_identifier)
        cfg->identifier = xstrdup(cfg->plan_identifier);
    else if (*cfg->build_id && *cfg->step_id)
        cfg->identifier = xasprintf("%s/%s", cfg->build_id, cfg->step_id);
    else
        cfg->identifier = xstrdup(cfg->offline ? "local" : "");

    cfg->state_dir_chosen = *cfg->state_dir != '\0';
    if (!cfg->state_dir_chosen) {
        free(cfg->state_dir);
        if (*cfg->job_id)
            cfg->state_dir = xasprintf(STATE_DIR_NAME "/%s", cfg->job_id);
        else
            cfg->state_dir = xasprintf(STATE_DIR_NAME "/local-%ld-of-%ld", cfg->parallel_job + 1,
                                       cfg->parallel_job_count);
    }
}

/* Options a plan phase saved for a command phase that cannot see them
 * (BUILDKITE_PLUGIN_CONFIGURATION exists only inside the plugin's hooks).
 * They fill only what this process's environment and plugin JSON left unset. */
void config_apply_saved(config_t *cfg, const cJSON *options, const char *source)
{
    const cJSON *item;
    cJSON_ArrayForEach(item, options)
    {
        const option_t *o = NULL;
        for (size_t i = 0; i < N_OPTIONS && !o; i++)
            if (OPTIONS[i].plugin && strcmp(OPTIONS[i].env, item->string) == 0) o = &OPTIONS[i];
        if (!o || !cJSON_IsString(item) || config_is_set(cfg, o->env)) continue;
        char *where = xasprintf("%s (saved by the plan phase in %s)", o->env, source);
        store_option(cfg, o, item->valuestring, where);
        free(where);
        strlist_push(&cfg->explicit_keys, o->env);
    }
    char *state_dir = cfg->state_dir_chosen ? xstrdup(cfg->state_dir) : NULL;
    free(cfg->state_dir);
    cfg->state_dir = state_dir ? state_dir : xstrdup("");
    derive_identity(cfg);
}

cJSON *config_saved_options(const config_t *cfg)
{
    cJSON *options = cJSON_CreateObject();
    const char *base = (const char *)cfg;
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const option_t *o = &OPTIONS[i];
        /* Plugin options only: secrets and Buildkite's own variables are not
         * options and never written to disk. */
        if (!o->plugin || !config_is_set(cfg, o->env)) continue;
        char *text;
        if (o->type == OPT_STR)
            text = xstrdup(*(char *const *)(base + o->offset));
        else if (o->type == OPT_INT)
            text = xasprintf("%ld", *(const long *)(base + o->offset));
        else
            text = xstrdup(*(const bool *)(base + o->offset) ? "true" : "false");
        cJSON_AddStringToObject(options, o->env, text);
        free(text);
    }
    return options;
}

static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a);
    size_t lb = strlen(b);
    if (la > 64 || lb > 64) return SIZE_MAX;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

static bool known_variable(const char *name)
{
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (strcmp(OPTIONS[i].env, name) == 0 ||
            (OPTIONS[i].alias && strcmp(OPTIONS[i].alias, name) == 0))
            return true;
    return false;
}

/* A misspelt variable is otherwise silently ignored: say so, with the
 * nearest real name. */
static void warn_unknown_variables(config_t *cfg)
{
    extern char **environ;
    for (char **e = environ; *e; e++) {
        if (strncmp(*e, TE, strlen(TE)) != 0) continue;
        size_t n = strcspn(*e, "=");
        char *name = xstrndup(*e, n);
        if (!known_variable(name)) {
            const char *best = NULL;
            size_t best_d = 4;
            for (size_t i = 0; i < N_OPTIONS; i++) {
                size_t d = edit_distance(name, OPTIONS[i].env);
                if (d < best_d) {
                    best_d = d;
                    best = OPTIONS[i].env;
                }
            }
            if (best)
                strlist_push_owned(&cfg->warnings,
                                   xasprintf("%s is not an option; did you mean %s?", name, best));
            else
                strlist_push_owned(
                    &cfg->warnings,
                    xasprintf("%s is not an option; see test-engine-pytest --help", name));
        }
        free(name);
    }
}

void config_load(config_t *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    strlist_init(&cfg->problems);
    strlist_init(&cfg->explicit_keys);
    strlist_init(&cfg->warnings);
    bool from_plugin[N_OPTIONS] = {0};
    /* Defaults first, so every string field is non-NULL. */
    for (size_t i = 0; i < N_OPTIONS; i++)
        store_option(cfg, &OPTIONS[i], OPTIONS[i].def, OPTIONS[i].env);
    load_plugin_json(cfg, from_plugin);
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const option_t *o = &OPTIONS[i];
        const char *name = o->env;
        const char *v = getenv(name);
        if ((!v || !*v) && o->alias) {
            name = o->alias;
            v = getenv(name);
        }
        if (v && *v) {
            store_option(cfg, o, v, name);
            strlist_push(&cfg->explicit_keys, o->env);
        } else if (from_plugin[i]) {
            strlist_push(&cfg->explicit_keys, o->env);
        }
    }
    log_set_debug(cfg->debug);
    warn_unknown_variables(cfg);
    derive_identity(cfg);
}

static bool is_https_url(const char *u)
{
    /* Only https: tokens must never cross a network in clear text. */
    if (strncmp(u, "https://", 8) == 0) return u[8] != '\0';
    return false;
}

long config_duration_seconds(const char *s)
{
    if (!*s) return -1;
    long total = 0;
    while (*s) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (end == s || errno || v < 0) return -1;
        long unit = *end == 'h' ? 3600 : *end == 'm' ? 60 : 1;
        if (*end == 'h' || *end == 'm' || *end == 's')
            end++;
        else if (*end)
            return -1;
        total += v * unit;
        s = end;
    }
    return total;
}

static void validate_tags(config_t *cfg)
{
    if (!*cfg->tags) return;
    char *copy = xstrdup(cfg->tags);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (!eq)
            add_problem(cfg, TE "TAGS: '%s' must use key=value format, e.g. team=payments", t);
        else if (eq == t)
            add_problem(cfg, TE "TAGS: '%s' has an empty key", t);
    }
    free(copy);
}

/* bktec's one filter: key:value, split at the first ':' (the value may hold more). */
static void validate_tag_filters(config_t *cfg)
{
    const char *f = cfg->tag_filters;
    const char *colon = strchr(f, ':');
    if (*f && (!colon || colon == f || !colon[1]))
        add_problem(
            cfg,
            TE "TAG_FILTERS: '%s' is not key:value; give one execution tag, e.g. team:frontend", f);
}

static bool has_problem(const config_t *cfg, const char *name)
{
    for (size_t i = 0; i < cfg->problems.len; i++)
        if (strncmp(cfg->problems.items[i], name, strlen(name)) == 0) return true;
    return false;
}

bool config_validate(config_t *cfg, phase_t phase)
{
    if (cfg->parallel_job >= cfg->parallel_job_count && !has_problem(cfg, "BUILDKITE_PARALLEL_JOB"))
        add_problem(
            cfg, "BUILDKITE_PARALLEL_JOB: %ld must be less than BUILDKITE_PARALLEL_JOB_COUNT (%ld)",
            cfg->parallel_job, cfg->parallel_job_count);
    if (*cfg->ca_bundle && !fs_exists(cfg->ca_bundle))
        add_problem(cfg, TE "CA_BUNDLE: '%s' does not exist; give the path of a PEM file",
                    cfg->ca_bundle);
    if (*cfg->durations_file && !fs_exists(cfg->durations_file))
        add_problem(cfg,
                    TE "DURATIONS_FILE: '%s' does not exist; give an existing file or unset it",
                    cfg->durations_file);
    if (*cfg->files && !fs_exists(cfg->files))
        add_problem(cfg,
                    TE "FILES: '%s' does not exist; give a file listing one test file per line",
                    cfg->files);
    validate_tags(cfg);
    validate_tag_filters(cfg);
    long life = config_duration_seconds(cfg->oidc_lifetime);
    if (life <= 0 || life > 86400)
        add_problem(cfg,
                    TE "OIDC_LIFETIME: '%s' is not a lifetime up to 24h; use seconds or a duration "
                       "like 2h, 30m, 300s",
                    cfg->oidc_lifetime);
    if (phase == PHASE_PLAN && !cfg->offline) {
        if (!*cfg->suite_slug)
            add_problem(cfg,
                        TE "SUITE_SLUG: must not be blank; set the plugin's suite-slug option or "
                           "the variable");
        if (!*cfg->api_token && !has_problem(cfg, TE "API_ACCESS_TOKEN"))
            add_problem(cfg,
                        TE "API_ACCESS_TOKEN: must not be blank; set it from your secrets "
                           "manager, or leave " TE "OIDC on (the default) inside a Buildkite job");
        if (!*cfg->org_slug)
            add_problem(cfg, "BUILDKITE_ORGANIZATION_SLUG: must not be blank; Buildkite sets it, "
                             "outside Buildkite set it yourself");
        if (!*cfg->identifier)
            add_problem(cfg,
                        "BUILDKITE_BUILD_ID and BUILDKITE_STEP_ID: both are needed for the plan "
                        "identifier; or set " TE "PLAN_IDENTIFIER");
        if (!is_https_url(cfg->base_url))
            add_problem(cfg, TE "BASE_URL: '%s' is not an https:// URL", cfg->base_url);
    }
    if (phase == PHASE_REPORT && !is_https_url(cfg->upload_base_url))
        add_problem(cfg, TE "UPLOAD_BASE_URL: '%s' is not an https:// URL", cfg->upload_base_url);
    return cfg->problems.len == 0;
}

void config_print_problems(const config_t *cfg, FILE *out)
{
    fprintf(out, TEP_NAME ": invalid configuration (%zu problem%s):\n", cfg->problems.len,
            cfg->problems.len == 1 ? "" : "s");
    /* Problems quote what the user or the environment gave: show it, never
     * let it steer the terminal or the build log. */
    buf_t line = BUF_INIT;
    for (size_t i = 0; i < cfg->problems.len; i++) {
        buf_reset(&line);
        log_escape(&line, cfg->problems.items[i]);
        fprintf(out, "  %s\n", line.data);
    }
    buf_free(&line);
    fflush(out);
}

void config_print_warnings(const config_t *cfg, FILE *out)
{
    buf_t line = BUF_INIT;
    for (size_t i = 0; i < cfg->warnings.len; i++) {
        buf_reset(&line);
        log_escape(&line, cfg->warnings.items[i]);
        fprintf(out, TEP_NAME ": warning: %s\n", line.data);
    }
    buf_free(&line);
    fflush(out);
}

bool config_is_set(const config_t *cfg, const char *env_name)
{
    return strlist_contains(&cfg->explicit_keys, env_name);
}

void config_free(config_t *cfg)
{
    char *base = (char *)cfg;
    /* Tokens must not linger in freed memory (explicit_bzero is not optimised away). */
    if (cfg->api_token) explicit_bzero(cfg->api_token, strlen(cfg->api_token));
    if (cfg->upload_token) explicit_bzero(cfg->upload_token, strlen(cfg->upload_token));
    for (size_t i = 0; i < N_OPTIONS; i++)
        if (OPTIONS[i].type == OPT_STR) free(*(char **)(base + OPTIONS[i].offset));
    free(cfg->identifier);
    strlist_free(&cfg->problems);
    strlist_free(&cfg->explicit_keys);
    strlist_free(&cfg->warnings);
    memset(cfg, 0, sizeof *cfg);
}

static const char *type_name(opt_type_t t)
{
    return t == OPT_STR ? "string" : t == OPT_INT ? "integer" : "boolean";
}

void config_print_help(FILE *out)
{
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const option_t *o = &OPTIONS[i];
        fprintf(out, "  %s", o->env);
        if (o->alias) fprintf(out, " (or %s)", o->alias);
        fprintf(out, "\n      %s [%s", o->help, type_name(o->type));
        if (o->def) fprintf(out, ", default %s", o->def);
        if (o->plugin) fprintf(out, ", plugin option %s", o->plugin);
        fputs("]\n", out);
    }
}

void config_print_options_json(FILE *out)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < N_OPTIONS; i++) {
        const option_t *o = &OPTIONS[i];
        cJSON *obj = cJSON_CreateObject();
        cJSON_AddStringToObject(obj, "env", o->env);
        if (o->plugin) cJSON_AddStringToObject(obj, "plugin", o->plugin);
        cJSON_AddStringToObject(obj, "type", type_name(o->type));
        if (o->def) cJSON_AddStringToObject(obj, "default", o->def);
        cJSON_AddItemToArray(arr, obj);
    }
    char *s = cJSON_Print(arr);
    fprintf(out, "%s\n", s);
    free(s);
    cJSON_Delete(arr);
}
const char *config_test_command(const config_t *cfg)
{
    return *cfg->test_cmd ? cfg->test_cmd : CONFIG_DEFAULT_TEST_CMD;
}
