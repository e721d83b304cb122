#include "net/engine_api.h"
#include <sys/stat.h>
#include "base/text.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/json_arena.h"
#include "base/jsontext.h"
#include "base/log.h"
#include "pytest/selector.h"
#include "base/strset.h"
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

void engine_api_client_init(http_client_t *c, const config_t *cfg)
{
    char *auth = xasprintf("Authorization: Bearer %s", cfg->api_token);
    http_client_init(c, "Test Engine API", cfg->ca_bundle, cfg->api_timeout,
                     (double)cfg->api_retry_budget, cfg->api_backoff_ms, auth);
    /* A refused connection or an unknown host will not answer within the
     * budget either; the local plan is as good as waiting a minute for it. */
    c->unreachable_attempts = 1;
    /* The phase's ceiling: the budget for failures, and room for its few
     * requests (plan, create, filter, metadata) to succeed slowly. */
    http_client_set_ceiling(c, (double)cfg->api_retry_budget + 4.0 * (double)cfg->api_timeout);
    c->warn = log_warn_line;
    http_wipe(auth);
    free(auth);
}

void engine_api_answer_free(engine_api_answer_t *a)
{
    free(a->message);
    free(a->body);
    memset(a, 0, sizeof *a);
}

static char *url_escaped(const char *s)
{
    char *e = curl_easy_escape(NULL, s, 0);
    char *copy = xstrdup(e ? e : "");
    curl_free(e);
    return copy;
}

char *engine_api_url(const config_t *cfg, const char *suffix)
{
    char *org = url_escaped(cfg->org_slug);
    char *suite = url_escaped(cfg->suite_slug);
    char *path = xasprintf("/v2/analytics/organizations/%s/suites/%s%s", org, suite, suffix);
    char *url = http_join(cfg->base_url, path);
    free(path);
    free(org);
    free(suite);
    return url;
}

char *engine_api_prefixed(const char *prefix, const char *path)
{
    if (!prefix || !*prefix) return xstrdup(path);
    if (strcmp(prefix, "./") == 0)
        return strncmp(path, "./", 2) == 0 ? xstrdup(path) : xasprintf("./%s", path);
    size_t n = strlen(prefix);
    while (n && prefix[n - 1] == '/') n--;
    return xasprintf("%.*s/%s", (int)n, prefix, path);
}

const char *engine_api_unprefixed(const char *prefix, const char *path)
{
    return selector_strip_prefix(prefix, path); /* stops at a path-component boundary */
}

void engine_api_path_sent(const char *path, buf_t *out)
{
    if (text_is_utf8(path))
        buf_puts(out, path);
    else
        text_escape_bytes(path, out);
}

static bool file_of_exists(const char *id)
{
    char *file = selector_file_part(id);
    struct stat st;
    bool there = lstat(file, &st) == 0;
    free(file);
    return there;
}

char *engine_api_path_received(const char *path)
{
    if (!strchr(path, '%') || file_of_exists(path)) return xstrdup(path);
    char *bytes = text_unescape_bytes(path);
    if (bytes && !text_is_utf8(bytes) && file_of_exists(bytes)) return bytes;
    free(bytes);
    return xstrdup(path);
}

/* The server's {"message": ...} or a piece of the body: short, printable, one line. */
static char *server_message(const http_response_t *r)
{
    cJSON *j = cJSON_Parse(r->body.data);
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(j, "message");
    char *msg;
    if (cJSON_IsString(m)) {
        /* Cut, and on one line: it becomes the plan's reason (the log, the
         * annotation, run.json). */
        msg = text_excerpt(m->valuestring, strlen(m->valuestring), 500);
    } else {
        buf_t b;
        buf_init(&b);
        for (size_t i = 0; i < r->body.len && b.len < 200; i++) {
            unsigned char ch = (unsigned char)r->body.data[i];
            buf_putc(&b, ch >= 0x20 && ch < 0x7f ? (char)ch : ' ');
        }
        if (!b.len) buf_printf(&b, "HTTP %ld with no message", r->status);
        msg = buf_detach(&b);
        buf_free(&b);
    }
    cJSON_Delete(j);
    return msg;
}

/* The transport's last problem; every failed response has one, a response
 * built by hand may not. */
static const char *last_problem(const http_response_t *r)
{
    return r->error ? r->error : "unknown error";
}

__attribute__((format(printf, 3, 4))) static void
set_answer(engine_api_answer_t *a, engine_api_outcome_t outcome, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    a->outcome = outcome;
    a->message = xvasprintf(fmt, ap);
    va_end(ap);
}

/* No usable HTTP answer (or one too large to read). Returns false when there
 * is an answer to classify by its status. */
static bool classify_transport(const http_response_t *r, engine_api_answer_t *a)
{
    if (r->tls_error)
        set_answer(a, ENGINE_API_FATAL,
                   "TLS verification failed: %s. The server's certificate is not trusted; if you "
                   "use a private CA, point BUILDKITE_TEST_ENGINE_CA_BUNDLE at its PEM file",
                   last_problem(r));
    else if (r->too_large)
        set_answer(a, ENGINE_API_FALLBACK, "Invalid Answer: %s", last_problem(r));
    else if (r->unreachable && !r->gave_up)
        set_answer(a, ENGINE_API_FALLBACK,
                   "Unreachable: %s; not retried (a refused connection, an unknown host or no "
                   "route does not fix itself within the retry budget)",
                   last_problem(r));
    else if (r->transport_error ||
             (r->gave_up && (r->status == 409 || r->status == 429 || r->status >= 500)))
        set_answer(a, ENGINE_API_FALLBACK,
                   "Timeout: Test Engine API did not give a usable answer within the retry "
                   "budget (%d attempt%s, last error: %s)",
                   r->attempts, r->attempts == 1 ? "" : "s", last_problem(r));
    else
        return false;
    return true;
}

/* An HTTP answer other than 200, with the server's message. */
static void classify_status(long status, const char *msg, bool is_cache_get, engine_api_answer_t *a)
{
    switch (status) {
    case 404:
        if (is_cache_get)
            a->outcome = ENGINE_API_CACHE_MISS;
        else
            set_answer(a, ENGINE_API_FALLBACK,
                       "Not Found: %s. Check BUILDKITE_ORGANIZATION_SLUG and "
                       "BUILDKITE_TEST_ENGINE_SUITE_SLUG are correct",
                       msg);
        break;
    case 401:
        set_answer(a, ENGINE_API_FATAL,
                   "Authentication Failed: %s. Check BUILDKITE_TEST_ENGINE_API_ACCESS_TOKEN", msg);
        break;
    case 403:
        if (strncmp(msg, "Billing Error", 13) == 0) /* the message already starts with the label */
            set_answer(a, ENGINE_API_FALLBACK, "%s", msg);
        else
            set_answer(a, ENGINE_API_FATAL,
                       "Access Denied: %s. The token needs read_suites, read_test_plan and "
                       "write_test_plan",
                       msg);
        break;
    case 400: set_answer(a, ENGINE_API_FATAL, "Invalid Request: %s", msg); break;
    case 422: set_answer(a, ENGINE_API_FALLBACK, "Unavailable: %s", msg); break;
    default: set_answer(a, ENGINE_API_FALLBACK, "Unexpected answer: HTTP %ld: %s", status, msg);
    }
}

void engine_api_classify(const http_response_t *r, bool is_cache_get, engine_api_answer_t *a)
{
    memset(a, 0, sizeof *a);
    if (classify_transport(r, a)) return;
    if (r->status == 200) {
        a->outcome = ENGINE_API_OK;
        a->body = xstrdup(buf_str(&r->body));
        return;
    }
    char *msg = server_message(r);
    classify_status(r->status, msg, is_cache_get, a);
    free(msg);
}

static void request_answer(http_client_t *c, const char *method, const char *url, const char *body,
                           bool cache_get, engine_api_answer_t *a)
{
    http_response_t r;
    http_response_init(&r);
    log_debug("%s %s", method, url);
    http_request(c, method, url, body, NULL, NULL, &r);
    engine_api_classify(&r, cache_get, a);
    http_response_free(&r);
}

void engine_api_fetch_cached_plan(http_client_t *c, const config_t *cfg, engine_api_answer_t *a)
{
    char *base = engine_api_url(cfg, "/test_plan");
    char *ident = url_escaped(cfg->identifier);
    char *url =
        xasprintf("%s?identifier=%s&job_retry_count=%ld", base, ident, cfg->job_retry_count);
    request_answer(c, "GET", url, NULL, true, a);
    free(base);
    free(ident);
    free(url);
}

/* POSTs the JSON text to the suite endpoint `suffix` and classifies the answer. */
static void post_text(http_client_t *c, const config_t *cfg, const char *suffix, const char *json,
                      engine_api_answer_t *a)
{
    char *url = engine_api_url(cfg, suffix);
    request_answer(c, "POST", url, json, false, a);
    free(url);
}

/* [{"<key>":"<item>"},...] straight into b, each item after `prefix` (may
 * be NULL): the request's long lists (100,000 files) as text, not as 300,000
 * cJSON nodes built, printed and freed. Bytes are kept as they are, as
 * cJSON prints them. */
static void put_object_list(buf_t *b, const char *key, const strlist_t *items, const char *prefix)
{
    buf_putc(b, '[');
    for (size_t i = 0; i < items->len; i++) {
        buf_puts(b, i ? ",{" : "{");
        jsontext_put_string(b, key, false);
        buf_putc(b, ':');
        buf_t sent = BUF_INIT;
        engine_api_path_sent(items->items[i], &sent);
        char *value = prefix && *prefix ? engine_api_prefixed(prefix, sent.data) : NULL;
        jsontext_put_string(b, value ? value : sent.data, false);
        free(value);
        buf_free(&sent);
        buf_putc(b, '}');
    }
    buf_putc(b, ']');
}

/* body printed with one more member, `name`, whose value is the JSON text
 * `value`, last (first_member: first); body must be a non-empty object. */
static char *print_with_member(const cJSON *body, const char *name, const char *value,
                               bool first_member)
{
    char *printed = cJSON_PrintUnformatted(body);
    size_t n = strlen(printed); /* "{...}" */
    buf_t b = BUF_INIT;
    buf_reserve(&b, n + strlen(name) + strlen(value) + 8);
    if (first_member) {
        buf_putc(&b, '{');
        jsontext_put_string(&b, name, false);
        buf_putc(&b, ':');
        buf_puts(&b, value);
        buf_putc(&b, ',');
        buf_puts(&b, printed + 1);
    } else {
        buf_append(&b, printed, n - 1);
        buf_putc(&b, ',');
        jsontext_put_string(&b, name, false);
        buf_putc(&b, ':');
        buf_puts(&b, value);
        buf_putc(&b, '}');
    }
    free(printed);
    return buf_detach(&b);
}

void engine_api_create_plan(http_client_t *c, const config_t *cfg, const strlist_t *selectors,
                            cJSON *examples, engine_api_answer_t *a)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddStringToObject(body, "runner", "pytest");
    cJSON_AddStringToObject(body, "identifier", cfg->identifier);
    cJSON_AddNumberToObject(body, "parallelism", (double)cfg->parallel_job_count);
    cJSON_AddStringToObject(body, "branch", cfg->branch);
    if (*cfg->location_prefix)
        cJSON_AddStringToObject(body, "location_prefix", cfg->location_prefix);
    engine_api_add_dynamic_fields(body, cfg);
    /* "tests": {"examples": [...], "selectors": [...]}, either left out when empty */
    buf_t tests = BUF_INIT;
    buf_putc(&tests, '{');
    if (examples && cJSON_GetArraySize(examples) > 0) {
        char *ex = cJSON_PrintUnformatted(examples);
        buf_puts(&tests, "\"examples\":");
        buf_puts(&tests, ex);
        free(ex);
    }
    if (selectors->len) {
        buf_puts(&tests, tests.len > 1 ? ",\"selectors\":" : "\"selectors\":");
        put_object_list(&tests, "value", selectors, NULL);
    }
    buf_putc(&tests, '}');
    char *json = print_with_member(body, "tests", tests.data, false);
    post_text(c, cfg, "/test_plan", json, a);
    free(json);
    buf_free(&tests);
    cJSON_Delete(body);
}

cJSON *engine_api_env_payload(const config_t *cfg)
{
    cJSON *e = cJSON_CreateObject();
#define USER_STR(key, field)                                                                       \
    cJSON_AddStringToObject(e, key, config_is_set(cfg, key) ? cfg->field : "")
    cJSON_AddStringToObject(e, "BUILDKITE_BUILD_ID", cfg->build_id);
    cJSON_AddBoolToObject(e, "BUILDKITE_TEST_ENGINE_DEBUG_ENABLED", cfg->debug);
    cJSON_AddStringToObject(e, "BUILDKITE_TEST_ENGINE_IDENTIFIER", cfg->identifier);
    cJSON_AddStringToObject(e, "BUILDKITE_JOB_ID", cfg->job_id);
    cJSON_AddNumberToObject(e, "BUILDKITE_RETRY_COUNT", (double)cfg->job_retry_count);
    cJSON_AddNumberToObject(e, "BUILDKITE_TEST_ENGINE_RETRY_COUNT", (double)cfg->retry_count);
    cJSON_AddNumberToObject(e, "BUILDKITE_PARALLEL_JOB", (double)cfg->parallel_job);
    cJSON_AddStringToObject(e, "BUILDKITE_ORGANIZATION_SLUG", cfg->org_slug);
    cJSON_AddNumberToObject(e, "BUILDKITE_PARALLEL_JOB_COUNT", (double)cfg->parallel_job_count);
    USER_STR("BUILDKITE_TEST_ENGINE_RETRY_CMD", retry_cmd);
    cJSON_AddBoolToObject(e, "BUILDKITE_TEST_ENGINE_SPLIT_BY_EXAMPLE", cfg->split_by_example);
    cJSON_AddStringToObject(e, "BUILDKITE_STEP_ID", cfg->step_id);
    cJSON_AddStringToObject(e, "BUILDKITE_TEST_ENGINE_SUITE_SLUG", cfg->suite_slug);
    USER_STR("BUILDKITE_TEST_ENGINE_TAG_FILTERS", tag_filters);
    USER_STR("BUILDKITE_TEST_ENGINE_TEST_CMD", test_cmd);
    USER_STR("BUILDKITE_TEST_ENGINE_TEST_FILE_EXCLUDE_PATTERN", test_file_exclude_pattern);
    USER_STR("BUILDKITE_TEST_ENGINE_TEST_FILE_PATTERN", test_file_pattern);
    cJSON_AddStringToObject(e, "BUILDKITE_TEST_ENGINE_TEST_RUNNER", "pytest");
#undef USER_STR
    return e;
}

/* {"files": [{"path": ...}, ...], "env": {...}, dynamic fields} */
static char *filter_tests_body(const config_t *cfg, const strlist_t *files)
{
    cJSON *body = cJSON_CreateObject();
    cJSON_AddItemToObject(body, "env", engine_api_env_payload(cfg));
    engine_api_add_dynamic_fields(body, cfg);
    buf_t list = BUF_INIT;
    put_object_list(&list, "path", files, cfg->location_prefix);
    char *json = print_with_member(body, "files", list.data, true);
    buf_free(&list);
    cJSON_Delete(body);
    return json;
}

void engine_api_read_slow_files(const config_t *cfg, const strlist_t *files, const char *answer,
                                strlist_t *slow)
{
    json_arena_t arena = JSON_ARENA_INIT; /* a tree read once and dropped whole */
    cJSON *root = json_arena_parse(&arena, answer, strlen(answer));
    const cJSON *tests = cJSON_GetObjectItemCaseSensitive(root, "tests");
    const cJSON *t;
    /* hashed: a scan per answer entry was quadratic */
    strset_t ours = STRSET_INIT;
    strset_t named = STRSET_INIT;
    if (cJSON_GetArraySize(tests) > 0) strset_add_list(&ours, files); /* none slow: no set */
    cJSON_ArrayForEach(t, tests)
    {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(t, "path");
        if (!cJSON_IsString(p)) continue;
        char *path =
            engine_api_path_received(engine_api_unprefixed(cfg->location_prefix, p->valuestring));
        if (strset_has(&ours, path) && !strset_has(&named, path)) {
            strlist_push(slow, path);
            strset_add(&named, slow->items[slow->len - 1]); /* borrowed: the list's copy */
        }
        free(path);
    }
    strset_free(&named);
    strset_free(&ours);
    if (!root)
        log_warn("filter_tests answered with invalid JSON; no files will be split into examples");
    json_arena_free(&arena);
}

void engine_api_filter_tests(http_client_t *c, const config_t *cfg, const strlist_t *files,
                             strlist_t *slow, engine_api_answer_t *a)
{
    char *body = filter_tests_body(cfg, files);
    post_text(c, cfg, "/test_plan/filter_tests", body, a);
    free(body);
    if (a->outcome == ENGINE_API_OK) engine_api_read_slow_files(cfg, files, a->body, slow);
}

bool engine_api_post_metadata(http_client_t *c, const config_t *cfg, const char *body, char **err)
{
    char *url = engine_api_url(cfg, "/test_plan_metadata");
    http_response_t r;
    http_response_init(&r);
    http_request(c, "POST", url, body, NULL, NULL, &r);
    bool ok = http_status_ok(&r);
    if (!ok && r.transport_error)
        err_set(err, "%s", last_problem(&r));
    else if (!ok)
        err_set(err, "HTTP %ld", r.status);
    http_response_free(&r);
    free(url);
    return ok;
}

/* Dynamic parallelism (plan --json / --pipeline-upload only, as in bktec,
 * whose run never sends these): the most jobs Test Engine may choose and the
 * time each job should take, in seconds. Left out when zero. */
void engine_api_add_dynamic_fields(cJSON *body, const config_t *cfg)
{
    if (!cfg->dynamic) return;
    if (cfg->max_parallelism > 0)
        cJSON_AddNumberToObject(body, "max_parallelism", (double)cfg->max_parallelism);
    long target = *cfg->target_time ? config_duration_seconds(cfg->target_time) : 0;
    if (target > 0) cJSON_AddNumberToObject(body, "target_time", (double)target);
}
