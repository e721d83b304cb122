#include "config/config_options.h"
#include "config/settings.h"
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define S(field) OPT_STR, offsetof(config_t, field)
#define I(field) OPT_INT, offsetof(config_t, field)
#define B(field) OPT_BOOL, offsetof(config_t, field)

const option_t config_options[] = {
    {TE "SUITE_SLUG", NULL, "suite-slug", S(suite_slug), NULL, 0, 0,
     "Test Engine suite slug; with none of it, the API token and the organization slug set, the "
     "split is computed locally (see Splitting offline)"},
    {TE "API_ACCESS_TOKEN", NULL, NULL, S(api_token), NULL, 0, 0,
     "API token with read_suites, read_test_plan, write_test_plan, for Test Engine's plan (never "
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
     "seconds allowed for one plan API request; for uploads, seconds without progress (or for the "
     "answer once a batch is sent) before a batch is cut, and never more than this plus 1 s per 64 "
     "KiB"},
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
     "/<job id> in the checkout; inside the checkout for containers); new or empty, never the "
     "checkout, a folder above it, $HOME or /; pre-exit removes the tool's files from it by name"},
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
const size_t config_n_options = sizeof config_options / sizeof config_options[0];

const option_t *config_option_by_plugin_key(const char *key)
{
    for (size_t i = 0; i < config_n_options; i++)
        if (config_options[i].plugin && strcmp(config_options[i].plugin, key) == 0)
            return &config_options[i];
    return NULL;
}

bool config_option_known(const char *name)
{
    for (size_t i = 0; i < config_n_options; i++)
        if (strcmp(config_options[i].env, name) == 0 ||
            (config_options[i].alias && strcmp(config_options[i].alias, name) == 0))
            return true;
    return false;
}

static const char *option_type_name(opt_type_t t)
{
    return t == OPT_STR ? "string" : t == OPT_INT ? "integer" : "boolean";
}

void config_print_help(FILE *out)
{
    for (size_t i = 0; i < config_n_options; i++) {
        const option_t *o = &config_options[i];
        fprintf(out, "  %s", o->env);
        if (o->alias) fprintf(out, " (or %s)", o->alias);
        fprintf(out, "\n      %s [%s", o->help, option_type_name(o->type));
        if (o->def) fprintf(out, ", default %s", o->def);
        if (o->plugin) fprintf(out, ", plugin option %s", o->plugin);
        fputs("]\n", out);
    }
}

void config_print_options_json(FILE *out)
{
    cJSON *arr = cJSON_CreateArray();
    for (size_t i = 0; i < config_n_options; i++) {
        const option_t *o = &config_options[i];
        cJSON *obj = cJSON_CreateObject();
        cJSON_AddStringToObject(obj, "env", o->env);
        if (o->plugin) cJSON_AddStringToObject(obj, "plugin", o->plugin);
        cJSON_AddStringToObject(obj, "type", option_type_name(o->type));
        if (o->def) cJSON_AddStringToObject(obj, "default", o->def);
        cJSON_AddItemToArray(arr, obj);
    }
    char *s = cJSON_Print(arr);
    fprintf(out, "%s\n", s);
    free(s);
    cJSON_Delete(arr);
}
