#include "upload.h"
#include "buf.h"
#include "collector_json.h"
#include "fsutil.h"
#include "http.h"
#include "junit.h"
#include "log.h"
#include "state.h"
#include <cjson/cJSON.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const config_t *cfg;
    http_client_t http;
    char *url;
    upload_summary_t *sum;
    buf_t batch;           /* "[rec,rec,...]" being filled */
    size_t in_batch;
} uploader_t;

/* Once stopped, nothing more is sent; what is left is only counted. */
static bool stopped(uploader_t *u)
{
    if (u->sum->end != UPLOAD_DONE) return true;
    int sig = u->http.stop ? u->http.stop() : 0;
    if (sig) {
        u->sum->end = UPLOAD_STOPPED_SIGNAL;
        u->sum->signal = sig;
    }
    return sig != 0;
}

static void add_field(curl_mime *m, const char *name, const char *value)
{
    if (!value || !*value) return; /* empty values are left out */
    curl_mimepart *p = curl_mime_addpart(m);
    curl_mime_name(p, name);
    curl_mime_data(p, value, CURL_ZERO_TERMINATED);
}

static void add_run_env(curl_mime *m, const config_t *cfg)
{
    const char *key = *cfg->build_id ? cfg->build_id : cfg->identifier;
    add_field(m, "run_env[CI]", "buildkite");
    add_field(m, "run_env[key]", key);
    add_field(m, "run_env[branch]", cfg->branch);
    add_field(m, "run_env[commit_sha]", cfg->commit);
    add_field(m, "run_env[number]", cfg->build_number);
    add_field(m, "run_env[url]", cfg->build_url);
    add_field(m, "run_env[job_id]", cfg->job_id);
    add_field(m, "run_env[message]", cfg->message);
    add_field(m, "run_env[location_prefix]", cfg->location_prefix);
    add_field(m, "run_env[collector]", "test-engine-pytest");
    add_field(m, "run_env[test_runner]", "pytest");
    add_field(m, "run_env[version]", TEP_VERSION);
}

static void add_tags(curl_mime *m, const config_t *cfg)
{
    if (!*cfg->tags) return;
    char *copy = xstrdup(cfg->tags);
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(t, '=');
        if (!eq || eq == t) continue; /* config validation already named it */
        *eq = '\0';
        char *name = xasprintf("tags[%s]", t);
        add_field(m, name, eq + 1);
        free(name);
    }
    free(copy);
}

static void note_answer(uploader_t *u, const http_response_t *r)
{
    if (u->sum->run_url) return;
    cJSON *j = cJSON_Parse(r->body.data);
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(j, "run_url");
    if (cJSON_IsString(url)) u->sum->run_url = xstrdup(url->valuestring);
    cJSON_Delete(j);
}

typedef struct {
    const config_t *cfg;
    const char *format, *data, *filename, *content_type;
    size_t len;
} part_t;

static curl_mime *build_mime(CURL *curl, void *user)
{
    const part_t *p = user;
    curl_mime *m = curl_mime_init(curl);
    add_field(m, "format", p->format);
    add_run_env(m, p->cfg);
    add_tags(m, p->cfg);
    curl_mimepart *d = curl_mime_addpart(m);
    curl_mime_name(d, "data");
    curl_mime_data(d, p->data, p->len);
    curl_mime_filename(d, p->filename);
    curl_mime_type(d, p->content_type);
    return m;
}

/* Why a failed request ends the whole upload, or UPLOAD_DONE when the next
 * batch may still get through (e.g. a 422 about this batch's data). */
static upload_end_t end_after_failure(const http_response_t *r)
{
    if (r->stopped_by) return UPLOAD_STOPPED_SIGNAL;
    if (r->status == 401 || r->status == 403) return UPLOAD_STOPPED_AUTH;
    if (r->tls_error) return UPLOAD_STOPPED_TLS;
    if (r->gave_up) return UPLOAD_STOPPED_BUDGET;
    return UPLOAD_DONE;
}

static void note_failure(uploader_t *u, const http_response_t *r, size_t records)
{
    u->sum->failed_requests++;
    u->sum->end = end_after_failure(r);
    if (r->stopped_by) {
        u->sum->signal = r->stopped_by; /* upload_shortfall says it in one line */
        return;
    }
    char *why = r->transport_error ? xstrdup(r->error) : xasprintf("HTTP %ld: %.200s", r->status, r->body.data);
    log_warn("upload of %zu %s failed: %s", records, records == 1 ? "result" : "results", why);
    if (!u->sum->first_error) u->sum->first_error = xstrdup(why);
    free(u->sum->last_error);
    u->sum->last_error = why;
}

/* One multipart request; returns true on a 2xx answer. */
static bool send_part(uploader_t *u, const char *format, const char *data, size_t len, const char *filename,
                      const char *content_type, size_t records)
{
    if (stopped(u)) return false;
    part_t part = {u->cfg, format, data, filename, content_type, len};
    http_response_t r;
    http_response_init(&r);
    http_request(&u->http, "POST", u->url, NULL, build_mime, &part, &r);
    u->sum->requests++;
    bool ok = !r.transport_error && r.status >= 200 && r.status < 300;
    if (ok) {
        u->sum->records += records;
        note_answer(u, &r);
    } else {
        note_failure(u, &r, records);
    }
    http_response_free(&r);
    return ok;
}

static void flush_batch(uploader_t *u)
{
    if (!u->in_batch) return;
    buf_putc(&u->batch, ']');
    send_part(u, "json", u->batch.data, u->batch.len, "results.json", "application/json", u->in_batch);
    buf_reset(&u->batch);
    u->in_batch = 0;
}

static void on_element(const char *raw, size_t len, void *user)
{
    uploader_t *u = user;
    if (raw[0] != '{') return; /* not a record; the run phase already reported it */
    u->sum->total++;
    if (u->sum->end != UPLOAD_DONE) return; /* stopped: only counted */
    buf_putc(&u->batch, u->in_batch ? ',' : '[');
    buf_append(&u->batch, raw, len);
    if (++u->in_batch >= (size_t)u->cfg->upload_batch_size) flush_batch(u);
}

/* A file within the batch size goes up as pytest wrote it; a larger one is
 * cut into documents of at most batch-size testcases, each testcase's bytes
 * copied verbatim. */
static void upload_junit(uploader_t *u, const char *path)
{
    size_t len = 0;
    char *data = fs_read_file(path, &len);
    if (!data) return;
    char *copy = xstrdup(path);
    const char *name = basename(copy);
    junit_cases_t cases;
    char *err = NULL;
    size_t batch = (size_t)u->cfg->upload_batch_size;
    bool parsed = junit_case_ranges(data, len, &cases, &err);
    free(err);
    if (parsed) u->sum->total += cases.len;
    if (!parsed || cases.len <= batch) {
        /* Unreadable XML still goes up whole: the server may read more than we do. */
        send_part(u, "junit", data, len, name, "application/xml", parsed ? cases.len : 0);
    } else {
        buf_t doc;
        buf_init(&doc);
        for (size_t i = 0; i < cases.len && !stopped(u); i += batch) {
            size_t n = cases.len - i < batch ? cases.len - i : batch;
            buf_reset(&doc);
            buf_printf(&doc, "<?xml version=\"1.0\" encoding=\"utf-8\"?><testsuites><testsuite name=\"pytest\" tests=\"%zu\">", n);
            for (size_t k = i; k < i + n; k++) buf_append(&doc, data + cases.start[k], cases.end[k] - cases.start[k]);
            buf_puts(&doc, "</testsuite></testsuites>");
            send_part(u, "junit", doc.data, doc.len, name, "application/xml", n);
        }
        buf_free(&doc);
    }
    junit_cases_free(&cases);
    free(copy);
    free(data);
}

static void client_init(uploader_t *u, const config_t *cfg, http_stop_fn stop)
{
    u->url = http_join(cfg->upload_base_url, "/v1/uploads");
    char *auth = xasprintf("Authorization: Token token=\"%s\"", cfg->upload_token);
    http_client_init(&u->http, "upload", cfg->ca_bundle, cfg->api_timeout, (double)cfg->upload_retry_budget,
                     cfg->api_backoff_ms, auth);
    http_wipe(auth);
    free(auth);
    u->http.low_speed = true; /* a big batch on a slow link may take longer than api-timeout */
    u->http.max_answer = HTTP_MAX_UPLOAD_ANSWER;
    u->http.stop = stop;
}

void upload_results(const config_t *cfg, const run_record_t *rec, http_stop_fn stop, upload_summary_t *sum)
{
    memset(sum, 0, sizeof *sum);
    sum->budget_s = (double)cfg->upload_retry_budget;
    uploader_t u = {.cfg = cfg, .sum = sum};
    client_init(&u, cfg, stop);
    buf_init(&u.batch);
    double t0 = fs_monotonic();
    bool json = rec->mode && strcmp(rec->mode, "json") == 0;
    /* Every file is read even after a stop, so the summary can say how many
     * results were not sent. */
    for (size_t i = 0; i < rec->n_attempts; i++) {
        char *path = state_file(cfg, rec->attempts[i].result_file);
        if (!fs_exists(path)) {
            free(path);
            continue;
        }
        if (json) {
            cj_scan_t scan;
            cj_scan_file(path, on_element, &u, &scan);
        } else {
            upload_junit(&u, path);
        }
        free(path);
    }
    if (json) flush_batch(&u);
    sum->seconds = fs_monotonic() - t0;
    buf_free(&u.batch);
    http_client_free(&u.http);
    free(u.url);
}

/* 100000 -> "100,000": the counts in the shortfall line are read by people. */
static void with_commas(size_t n, char out[32])
{
    char digits[24];
    int len = snprintf(digits, sizeof digits, "%zu", n);
    int o = 0;
    for (int i = 0; i < len; i++) {
        if (i && (len - i) % 3 == 0) out[o++] = ',';
        out[o++] = digits[i];
    }
    out[o] = '\0';
}

static char *why_stopped(const upload_summary_t *sum)
{
    const char *first = sum->first_error ? sum->first_error : "unknown error";
    const char *last = sum->last_error ? sum->last_error : first;
    switch (sum->end) {
    case UPLOAD_STOPPED_SIGNAL: {
        const char *abbrev = sigabbrev_np(sum->signal);
        return abbrev ? xasprintf("upload interrupted by SIG%s", abbrev) : xasprintf("upload interrupted by signal %d", sum->signal);
    }
    case UPLOAD_STOPPED_AUTH:
        return xasprintf("upload stopped: the upload API refused the token (%s); check BUILDKITE_ANALYTICS_TOKEN", last);
    case UPLOAD_STOPPED_TLS:
        return xasprintf("upload stopped: %s", last);
    case UPLOAD_STOPPED_BUDGET:
        return xasprintf("upload stopped: the retry budget of %.0fs is used up (last error: %s)", sum->budget_s, last);
    case UPLOAD_DONE:
        break;
    }
    return xasprintf("upload incomplete: %zu request%s failed (first: %s)", sum->failed_requests,
                     sum->failed_requests == 1 ? "" : "s", first);
}

char *upload_shortfall(const upload_summary_t *sum)
{
    if (sum->end == UPLOAD_DONE && sum->records >= sum->total) return NULL;
    char sent[32], total[32], missing[32];
    with_commas(sum->records, sent);
    with_commas(sum->total, total);
    with_commas(sum->total > sum->records ? sum->total - sum->records : 0, missing);
    char *why = why_stopped(sum);
    char *line = xasprintf("%s: %s of %s result%s sent; %s not sent", why, sent, total, sum->total == 1 ? "" : "s",
                           missing);
    free(why);
    return line;
}

void upload_summary_free(upload_summary_t *sum)
{
    free(sum->run_url);
    free(sum->first_error);
    free(sum->last_error);
    memset(sum, 0, sizeof *sum);
}
