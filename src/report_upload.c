#include "report_upload.h"
#include "report_upload_form.h"
#include "buf.h"
#include "results_json.h"
#include "fs.h"
#include "http.h"
#include "results_junit.h"
#include "log.h"
#include "state_dir.h"
#include <cjson/cJSON.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct uploader {
    const config_t *cfg;
    bool json;
    http_client_t http;
    char *url;
    char *cwd; /* run_env[cwd] */
    report_upload_summary_t *sum;
    double t0;
    buf_t batch; /* "[rec,rec,...]" being filled (JSON) */
    size_t in_batch;
    /* JUnit: the file being read */
    FILE *file;
    size_t pos;          /* its stream's position: where the next read starts */
    char *name;          /* its base name, the data part's filename */
    size_t *start, *end; /* testcases waiting for a document */
    size_t pending, cap;
    size_t cases; /* testcases of this file */
    bool cut;     /* this file is being sent as documents */
};

/* Once stopped, nothing more is sent; what is left is only counted. */
static bool upload_stopped(report_uploader_t *u)
{
    if (u->sum->end != REPORT_UPLOAD_DONE) return true;
    int sig = u->http.stop ? u->http.stop() : 0;
    if (sig) {
        u->sum->end = REPORT_UPLOAD_STOPPED_SIGNAL;
        u->sum->signal = sig;
    }
    return sig != 0;
}

static void note_run_url(report_uploader_t *u, const http_response_t *r)
{
    if (u->sum->run_url) return;
    cJSON *j = cJSON_Parse(r->body.data);
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(j, "run_url");
    if (cJSON_IsString(url)) u->sum->run_url = xstrdup(url->valuestring);
    cJSON_Delete(j);
}

/* Why a failed request ends the whole upload, or REPORT_UPLOAD_DONE when the next
 * batch may still get through (e.g. a 422 about this batch's data). */
static report_upload_end_t end_after_failure(const http_response_t *r)
{
    if (r->stopped_by) return REPORT_UPLOAD_STOPPED_SIGNAL;
    if (r->status == 401 || r->status == 403) return REPORT_UPLOAD_STOPPED_AUTH;
    if (r->tls_error) return REPORT_UPLOAD_STOPPED_TLS;
    if (r->gave_up) return REPORT_UPLOAD_STOPPED_BUDGET;
    return REPORT_UPLOAD_DONE;
}

static void note_failure(report_uploader_t *u, const http_response_t *r, size_t records)
{
    u->sum->failed_requests++;
    u->sum->end = end_after_failure(r);
    if (r->stopped_by) {
        u->sum->signal = r->stopped_by; /* report_upload_shortfall says it in one line */
        return;
    }
    char *why = r->transport_error ? xstrdup(r->error ? r->error : "unknown error")
                                   : xasprintf("HTTP %ld: %.200s", r->status, r->body.data);
    log_warn("upload of %zu %s failed: %s", records, records == 1 ? "result" : "results", why);
    if (!u->sum->first_error) u->sum->first_error = xstrdup(why);
    free(u->sum->last_error);
    u->sum->last_error = why;
}

/* One multipart request; returns true on a 2xx answer. */
static bool post_part(report_uploader_t *u, const report_upload_part_t *part, size_t records)
{
    if (upload_stopped(u)) return false;
    http_response_t r;
    http_response_init(&r);
    http_request(&u->http, "POST", u->url, NULL, report_upload_form, (void *)part, &r);
    u->sum->requests++;
    bool ok = http_status_ok(&r);
    if (ok) {
        u->sum->records += records;
        note_run_url(u, &r);
    } else {
        note_failure(u, &r, records);
    }
    http_response_free(&r);
    return ok;
}

static bool send_part(report_uploader_t *u, const char *format, const char *data, size_t len,
                      const char *filename, const char *content_type, size_t records)
{
    report_upload_part_t part = {.cfg = u->cfg,
                                 .cwd = u->cwd,
                                 .format = format,
                                 .data = data,
                                 .len = len,
                                 .filename = filename,
                                 .content_type = content_type};
    return post_part(u, &part, records);
}

static bool send_file(report_uploader_t *u, const char *path, const char *filename, size_t records)
{
    report_upload_part_t part = {.cfg = u->cfg,
                                 .cwd = u->cwd,
                                 .format = "junit",
                                 .path = path,
                                 .filename = filename,
                                 .content_type = "application/xml"};
    return post_part(u, &part, records);
}

static void flush_batch(report_uploader_t *u)
{
    if (!u->in_batch) return;
    buf_putc(&u->batch, ']');
    send_part(u, "json", u->batch.data, u->batch.len, "results.json", "application/json",
              u->in_batch);
    buf_reset(&u->batch);
    u->in_batch = 0;
}

static void json_record(report_uploader_t *u, const test_record_t *rec)
{
    if (rec->raw_len == 0 || rec->raw[0] != '{')
        return; /* not a record; the run phase already reported it */
    u->sum->total++;
    if (u->sum->end != REPORT_UPLOAD_DONE) return; /* stopped: only counted */
    buf_putc(&u->batch, u->in_batch ? ',' : '[');
    buf_append(&u->batch, rec->raw, rec->raw_len);
    if (++u->in_batch >= (size_t)u->cfg->upload_batch_size) flush_batch(u);
}

/* ---- JUnit: a file within the batch size goes up as pytest wrote it; a
 * larger one is cut into documents of at most batch-size testcases, each
 * testcase's bytes read back from the file. Only one document's ranges are
 * held: once a file has more testcases than a batch, it is being cut. A
 * whole file is handed to curl by its path, never read into memory. ---- */

/* Testcases come in file order with little between them: the bytes
 * between two are read past, not sought over (a seek drops stdio's buffer:
 * 100,000 testcases made 100,000 lseek and read calls). A seek only to go
 * back, or past more than a buffer. */
#define READ_PAST_MAX ((size_t)64 << 10)

static bool read_range(report_uploader_t *u, size_t start, size_t end, buf_t *b)
{
    FILE *f = u->file;
    if (!f || end < start) return false;
    if (start < u->pos || start - u->pos > READ_PAST_MAX) {
        if (fseeko(f, (off_t)start, SEEK_SET) != 0) return false;
        u->pos = start;
    }
    char skip[4096];
    while (u->pos < start) {
        size_t n = start - u->pos < sizeof skip ? start - u->pos : sizeof skip;
        size_t got = fread(skip, 1, n, f);
        u->pos += got;
        if (got < n) return false;
    }
    size_t len = end - start;
    buf_reserve(b, len);
    size_t got = fread(b->data + b->len, 1, len, f);
    b->len += got;
    b->data[b->len] = '\0';
    u->pos += got;
    return got == len;
}

static void build_and_send(report_uploader_t *u, size_t n)
{
    buf_t doc = BUF_INIT;
    buf_printf(&doc,
               "<?xml version=\"1.0\" encoding=\"utf-8\"?><testsuites><testsuite name=\"pytest\" "
               "tests=\"%zu\">",
               n);
    bool ok = true;
    for (size_t k = 0; k < n && ok; k++) ok = read_range(u, u->start[k], u->end[k], &doc);
    buf_puts(&doc, "</testsuite></testsuites>");
    if (ok)
        send_part(u, "junit", doc.data, doc.len, u->name, "application/xml", n);
    else
        log_warn("upload: %s changed while it was read; %zu results not sent", u->name, n);
    buf_free(&doc);
}

/* Sends the first n waiting testcases as one document (once stopped, they
 * are only dropped: counted already, never sent). */
static void send_document(report_uploader_t *u, size_t n)
{
    if (n && !upload_stopped(u)) build_and_send(u, n);
    u->pending -= n;
    memmove(u->start, u->start + n, u->pending * sizeof(size_t));
    memmove(u->end, u->end + n, u->pending * sizeof(size_t));
}

static void junit_begin(report_uploader_t *u, const char *path)
{
    u->file = fopen(path, "rb");
    u->pos = 0;
    if (u->file) setvbuf(u->file, NULL, _IOFBF, READ_PAST_MAX);
    char *copy = xstrdup(path);
    u->name = xstrdup(basename(copy));
    free(copy);
    u->pending = 0;
    u->cases = 0;
    u->cut = false;
}

static void junit_record(report_uploader_t *u, const test_record_t *rec)
{
    size_t batch = (size_t)u->cfg->upload_batch_size;
    u->cases++;
    u->sum->total++;
    if (u->pending == u->cap) {
        u->cap = u->cap ? u->cap * 2 : 256;
        u->start = xrealloc(u->start, u->cap * sizeof(size_t));
        u->end = xrealloc(u->end, u->cap * sizeof(size_t));
    }
    u->start[u->pending] = rec->start;
    u->end[u->pending++] = rec->end;
    if (u->pending > batch) { /* more than a batch: this file is cut */
        u->cut = true;
        send_document(u, batch);
    }
}

static void junit_end(report_uploader_t *u, const char *path, const char *error)
{
    if (!u->cut) {
        /* Unreadable XML still goes up whole: the server may read more than we do. */
        if (error) u->sum->total -= u->cases;
        send_file(u, path, u->name, error ? 0 : u->cases);
    } else {
        if (error)
            log_warn("upload: %s; only the %zu testcases before the problem can be sent", error,
                     u->cases);
        send_document(u, u->pending);
    }
    if (u->file) fclose(u->file);
    u->file = NULL;
    free(u->name);
    u->name = NULL;
}

static void sink_file_begin(void *user, const char *path, int attempt)
{
    (void)attempt;
    report_uploader_t *u = user;
    if (!u->json) junit_begin(u, path);
}

static void sink_record(void *user, const test_record_t *rec, int attempt)
{
    (void)attempt;
    report_uploader_t *u = user;
    if (u->json)
        json_record(u, rec);
    else
        junit_record(u, rec);
}

static void sink_file_end(void *user, const char *path, const char *error)
{
    report_uploader_t *u = user;
    if (!u->json) junit_end(u, path, error);
}

static void upload_client_init(report_uploader_t *u, const config_t *cfg, http_stop_fn stop)
{
    u->url = http_join(cfg->upload_base_url, "/v1/uploads");
    char *auth = xasprintf("Authorization: Token token=\"%s\"", cfg->upload_token);
    http_client_init(&u->http, "upload", cfg->ca_bundle, cfg->api_timeout,
                     (double)cfg->upload_retry_budget, cfg->api_backoff_ms, auth);
    http_wipe(auth);
    free(auth);
    u->http.low_speed = true; /* a big batch on a slow link may take longer than api-timeout */
    u->http.max_answer = HTTP_MAX_UPLOAD_ANSWER;
    u->http.stop = stop;
    u->http.warn = log_warn_line;
}

report_uploader_t *report_upload_start(const config_t *cfg, bool json, http_stop_fn stop,
                                       report_upload_summary_t *sum)
{
    memset(sum, 0, sizeof *sum);
    sum->budget_s = (double)cfg->upload_retry_budget;
    report_uploader_t *u = xcalloc(1, sizeof *u);
    u->cfg = cfg;
    u->json = json;
    u->sum = sum;
    char *cwd = getcwd(NULL, 0);
    u->cwd = xstrdup(cwd ? cwd : "");
    free(cwd);
    upload_client_init(u, cfg, stop);
    u->t0 = fs_monotonic();
    return u;
}

report_walk_sink_t report_upload_sink(report_uploader_t *u)
{
    /* Every file is read even after a stop, so the summary can say how many
     * results were not sent. */
    return (report_walk_sink_t){
        .file_begin = sink_file_begin, .record = sink_record, .file_end = sink_file_end, .user = u};
}

void report_upload_finish(report_uploader_t *u)
{
    if (u->json) flush_batch(u);
    u->sum->seconds = fs_monotonic() - u->t0;
    buf_free(&u->batch);
    free(u->start);
    free(u->end);
    free(u->cwd);
    http_client_free(&u->http);
    free(u->url);
    free(u);
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

static char *why_stopped(const report_upload_summary_t *sum)
{
    const char *first = sum->first_error ? sum->first_error : "unknown error";
    const char *last = sum->last_error ? sum->last_error : first;
    switch (sum->end) {
    case REPORT_UPLOAD_STOPPED_SIGNAL: {
        const char *abbrev = sigabbrev_np(sum->signal);
        return abbrev ? xasprintf("upload interrupted by SIG%s", abbrev)
                      : xasprintf("upload interrupted by signal %d", sum->signal);
    }
    case REPORT_UPLOAD_STOPPED_AUTH:
        return xasprintf("upload stopped: the upload API refused the token (%s); check "
                         "BUILDKITE_ANALYTICS_TOKEN",
                         last);
    case REPORT_UPLOAD_STOPPED_TLS: return xasprintf("upload stopped: %s", last);
    case REPORT_UPLOAD_STOPPED_BUDGET:
        return xasprintf("upload stopped: the retry budget of %.0fs is used up (last error: %s)",
                         sum->budget_s, last);
    case REPORT_UPLOAD_DONE: break;
    }
    return xasprintf("upload incomplete: %zu request%s failed (first: %s)", sum->failed_requests,
                     sum->failed_requests == 1 ? "" : "s", first);
}

char *report_upload_shortfall(const report_upload_summary_t *sum)
{
    if (sum->end == REPORT_UPLOAD_DONE && sum->records >= sum->total) return NULL;
    char sent[32], total[32], missing[32];
    with_commas(sum->records, sent);
    with_commas(sum->total, total);
    with_commas(sum->total > sum->records ? sum->total - sum->records : 0, missing);
    char *why = why_stopped(sum);
    char *line = xasprintf("%s: %s of %s result%s sent; %s not sent", why, sent, total,
                           sum->total == 1 ? "" : "s", missing);
    free(why);
    return line;
}

void report_upload_summary_free(report_upload_summary_t *sum)
{
    free(sum->run_url);
    free(sum->first_error);
    free(sum->last_error);
    memset(sum, 0, sizeof *sum);
}
