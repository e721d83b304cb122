#include "report/report_upload.h"
#include "base/compat.h"
#include "report/report_upload_form.h"
#include "base/buf.h"
#include "results/results_json.h"
#include "base/fs.h"
#include "net/http.h"
#include "results/results_junit.h"
#include "base/log.h"
#include "state/state_dir.h"
#include "base/strlist.h"
#include "base/text.h"
#include "base/warncap.h"
#include <sys/stat.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
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
    size_t batch_cap; /* records per batch: upload-batch-size, less once a 413 halved one */
    warncap_t too_large_said;
    /* The file being read: records are byte ranges of it (results_index.h),
     * read only when a request needs them. */
    int fd;
    char *name;          /* its base name, the data part's filename */
    size_t *start, *end; /* records waiting: JUnit, for a document; JSON, for the batch */
    size_t pending, cap;
    size_t cases; /* JUnit: testcases of this file */
    bool cut;     /* JUnit: this file is being sent as documents */
    /* JSON: records of every file, read into one batch ("[rec,rec,..."; the
     * brackets of a request are written over the bytes around its records) */
    buf_t batch;
    size_t *offsets; /* where each record of the batch starts in it */
    size_t in_batch, offsets_cap;
    buf_t doc; /* JUnit: the document being sent, reused */
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

/* The first of a 202's "errors", as text (a string, or the JSON of anything
 * else), cut to 200 bytes. */
static char *first_error_text(const cJSON *errors)
{
    const cJSON *e = cJSON_IsArray(errors) ? cJSON_GetArrayItem(errors, 0) : NULL;
    if (!e) return xstrdup("none given");
    char *text = cJSON_IsString(e) ? xstrdup(e->valuestring) : cJSON_PrintUnformatted(e);
    char *cut = xasprintf("%.200s", text ? text : "?");
    free(text);
    return cut;
}

size_t report_upload_read_answer(report_upload_summary_t *sum, const char *body, size_t len,
                                 size_t records)
{
    cJSON *j = cJSON_ParseWithLength(body ? body : "", body ? len : 0);
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(j, "run_url");
    if (!sum->run_url && cJSON_IsString(url)) sum->run_url = xstrdup(url->valuestring);
    const cJSON *skipped = cJSON_GetObjectItemCaseSensitive(j, "skipped");
    size_t skip = 0;
    if (cJSON_IsNumber(skipped) && skipped->valuedouble >= 1)
        skip = skipped->valuedouble >= (double)records ? records : (size_t)skipped->valuedouble;
    if (skip) {
        sum->skipped += skip;
        if (!sum->skip_error)
            sum->skip_error = first_error_text(cJSON_GetObjectItemCaseSensitive(j, "errors"));
    }
    cJSON_Delete(j);
    return records - skip;
}

/* Why a failed request ends the whole upload, or REPORT_UPLOAD_DONE when the next
 * batch may still get through (e.g. a 422 about this batch's data). */
static report_upload_end_t end_after_failure(const http_response_t *r)
{
    if (r->stopped_by) return REPORT_UPLOAD_STOPPED_SIGNAL;
    if (r->status == 401 || r->status == 403) return REPORT_UPLOAD_STOPPED_AUTH;
    if (r->tls_error) return REPORT_UPLOAD_STOPPED_TLS;
    if (r->out_of_time) return REPORT_UPLOAD_STOPPED_TIME;
    if (r->unreachable) return REPORT_UPLOAD_STOPPED_UNREACHABLE;
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
                                   : xasprintf("HTTP %ld: %.200s", r->status, buf_str(&r->body));
    log_warn("upload of %zu %s failed: %s", records, records == 1 ? "result" : "results", why);
    if (!u->sum->first_error) u->sum->first_error = xstrdup(why);
    free(u->sum->last_error);
    u->sum->last_error = why;
}

typedef enum {
    POSTED_OK,
    POSTED_TOO_LARGE, /* 413: the caller may halve the batch */
    POSTED_FAILED
} posted_t;

/* One multipart request of `records` results. */
static posted_t post_part(report_uploader_t *u, const report_upload_part_t *part, size_t records,
                          size_t bytes)
{
    if (upload_stopped(u)) return POSTED_FAILED;
    http_response_t r;
    http_response_init(&r);
    u->http.send_bytes = bytes; /* this attempt's ceiling grows with what it sends */
    http_request(&u->http, "POST", u->url, NULL, report_upload_form, (void *)part, &r);
    u->sum->requests++;
    posted_t how = POSTED_OK;
    if (http_status_ok(&r)) {
        u->sum->records += report_upload_read_answer(u->sum, r.body.data, r.body.len, records);
        if (r.answer_late)
            log_warn("upload of %zu %s: %s; counted as sent (the server accepted it)", records,
                     records == 1 ? "result" : "results", r.error);
    } else if (r.status == 413 && !r.transport_error) {
        how = POSTED_TOO_LARGE;
    } else {
        note_failure(u, &r, records);
        how = POSTED_FAILED;
    }
    http_response_free(&r);
    return how;
}

static posted_t send_part(report_uploader_t *u, const char *format, const char *data, size_t len,
                          const char *filename, const char *content_type, size_t records)
{
    report_upload_part_t part = {.cfg = u->cfg,
                                 .cwd = u->cwd,
                                 .format = format,
                                 .data = data,
                                 .len = len,
                                 .filename = filename,
                                 .content_type = content_type};
    return post_part(u, &part, records, len);
}

static posted_t send_file(report_uploader_t *u, const char *path, const char *filename,
                          size_t records)
{
    report_upload_part_t part = {.cfg = u->cfg,
                                 .cwd = u->cwd,
                                 .format = "junit",
                                 .path = path,
                                 .filename = filename,
                                 .content_type = "application/xml"};
    struct stat st;
    size_t bytes = stat(path, &st) == 0 ? (size_t)st.st_size : 0;
    return post_part(u, &part, records, bytes);
}

/* ---- 413: halve until it fits ---- */

/* A 413 for n results: note the halving; later batches hold at most half. */
static void note_halving(report_uploader_t *u, size_t n)
{
    u->sum->halvings++;
    size_t half = n / 2;
    if (half && half < u->batch_cap) u->batch_cap = half;
    u->sum->smallest_batch = u->batch_cap;
}

/* One result the upload API refuses even alone: named (the first few). */
static void too_large_alone(report_uploader_t *u, const char *name, size_t bytes)
{
    u->sum->too_large++;
    if (warncap_next(&u->too_large_said))
        warncap_say(&u->too_large_said,
                    "upload: the result '%s' alone is too large for the upload API (HTTP 413, %zu "
                    "bytes); not sent",
                    name, bytes);
}

/* ---- reading records back: each a byte range of its file, read when a
 * request needs it. Ranges close together (a JUnit file's testcases touch;
 * a collector file's records are a comma apart) are read with one pread and
 * closed up in place: about one system call per batch, not per record. ---- */

/* Records this far apart or closer are read together (the bytes between are
 * read and dropped). */
#define GAP_MAX 64

static bool pread_all(int fd, char *to, size_t len, size_t at)
{
    while (len) {
        ssize_t n = pread(fd, to, len, (off_t)at);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        to += n;
        at += (size_t)n;
        len -= (size_t)n;
    }
    return true;
}

/* Whether bytes are what a record of this format starts and ends with: a
 * file changed since it was read (or indexed) is not uploaded as garbage. */
static bool looks_like_record(const report_uploader_t *u, const char *p, size_t len)
{
    if (u->json) return len >= 2 && p[0] == '{' && p[len - 1] == '}';
    return len >= 11 && memcmp(p, "<testcase", 9) == 0 && strchr(" \t\r\n/>", p[9]) &&
           p[len - 1] == '>';
}

/* Appends waiting records [from, to) to b, each after sep when b already
 * holds one (sep_first) or follows another of these; at[k] (may be NULL)
 * gets where record from + k starts in b. false when the file cannot be
 * read or a range does not hold a record (b then holds part of them). */
static bool read_ranges(report_uploader_t *u, size_t from, size_t to, const char *sep,
                        bool sep_first, buf_t *b, size_t *at)
{
    size_t seplen = strlen(sep);
    for (size_t i = from; i < to;) {
        size_t j = i + 1;
        while (j < to && u->start[j] >= u->end[j - 1] + seplen &&
               u->start[j] - u->end[j - 1] <= GAP_MAX)
            j++;
        size_t span = u->end[j - 1] - u->start[i];
        size_t lead = i > from || sep_first ? seplen : 0;
        buf_reserve(b, lead + span);
        char *base = b->data + b->len + lead;
        if (u->fd < 0 || !pread_all(u->fd, base, span, u->start[i])) return false;
        char *w = b->data + b->len; /* never past the record being moved: gaps >= sep */
        for (size_t k = i; k < j; k++) {
            const char *src = base + (u->start[k] - u->start[i]);
            size_t len = u->end[k] - u->start[k];
            if (!looks_like_record(u, src, len)) return false;
            if (k > from || sep_first) {
                memcpy(w, sep, seplen);
                w += seplen;
            }
            if (at) at[k - from] = (size_t)(w - b->data);
            if (w != src) memmove(w, src, len);
            w += len;
        }
        b->len = (size_t)(w - b->data);
        b->data[b->len] = '\0';
        i = j;
    }
    return true;
}

static void push_range(report_uploader_t *u, size_t start, size_t end)
{
    if (u->pending == u->cap) {
        u->cap = u->cap ? u->cap * 2 : 256;
        u->start = xrealloc(u->start, u->cap * sizeof(size_t));
        u->end = xrealloc(u->end, u->cap * sizeof(size_t));
    }
    u->start[u->pending] = start;
    u->end[u->pending++] = end;
}

/* ---- JSON: records of every attempt in batches of batch-size ---- */

/* "scope::name" of a collector record's raw JSON (caller frees). */
static char *json_record_name(const char *raw, size_t len)
{
    cJSON *j = cJSON_ParseWithLength(raw, len);
    const cJSON *scope = cJSON_GetObjectItemCaseSensitive(j, "scope");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
    const char *sc = cJSON_IsString(scope) ? scope->valuestring : "";
    const char *nm = cJSON_IsString(name) ? name->valuestring : "?";
    char *text = xasprintf("%.200s%s%.200s", sc, *sc ? "::" : "", nm);
    cJSON_Delete(j);
    return text;
}

/* Where record k of the batch ends (before the comma that follows it). */
static size_t record_end(const report_uploader_t *u, size_t k)
{
    return k + 1 < u->in_batch ? u->offsets[k + 1] - 1 : u->batch.len;
}

/* Records [from, to) of the batch as one request, halved on 413. The
 * request is the batch's own bytes: the comma (or the batch's first byte)
 * before its first record becomes '[', and the comma (or the terminating NUL)
 * after its last ']', for the time of the request. */
static void send_json_range(report_uploader_t *u, size_t from, size_t to)
{
    size_t start = u->offsets[from], end = record_end(u, to - 1);
    char *open = u->batch.data + start - 1, *close = u->batch.data + end;
    char was_open = *open, was_close = *close;
    *open = '[';
    *close = ']';
    posted_t how =
        send_part(u, "json", open, end - start + 2, "results.json", "application/json", to - from);
    *open = was_open;
    *close = was_close;
    if (how != POSTED_TOO_LARGE) return;
    if (to - from == 1) {
        char *name = json_record_name(u->batch.data + start, end - start);
        too_large_alone(u, name, end - start);
        free(name);
        return;
    }
    note_halving(u, to - from);
    size_t mid = from + (to - from) / 2;
    send_json_range(u, from, mid);
    send_json_range(u, mid, to);
}

/* The waiting records of this file, read into the batch. */
static void json_take_pending(report_uploader_t *u)
{
    if (!u->pending) return;
    size_t need = u->in_batch + u->pending;
    if (need > u->offsets_cap) {
        u->offsets_cap = need > 2 * u->offsets_cap ? need : 2 * u->offsets_cap;
        u->offsets = xrealloc(u->offsets, u->offsets_cap * sizeof(size_t));
    }
    if (!u->batch.len) buf_putc(&u->batch, '['); /* the byte before the first record */
    size_t len = u->batch.len;
    if (read_ranges(u, 0, u->pending, ",", u->in_batch > 0, &u->batch, u->offsets + u->in_batch)) {
        u->in_batch = need;
    } else {
        u->batch.len = len;
        if (u->batch.data) u->batch.data[len] = '\0';
        log_warn("upload: %s changed while it was read; %zu results not sent", u->name, u->pending);
    }
    u->pending = 0;
}

static void flush_batch(report_uploader_t *u)
{
    if (!u->in_batch) return;
    if (!upload_stopped(u)) send_json_range(u, 0, u->in_batch);
    buf_reset(&u->batch);
    u->in_batch = 0;
}

static void json_record(report_uploader_t *u, const results_index_entry_t *e)
{
    if (!e->upload) return; /* not a record; the run phase already reported it */
    u->sum->total++;
    if (u->sum->end != REPORT_UPLOAD_DONE) return; /* stopped: only counted */
    push_range(u, e->start, e->end);
    if (u->in_batch + u->pending >= u->batch_cap) {
        json_take_pending(u);
        flush_batch(u);
    }
}

/* ---- JUnit: a file within the batch size goes up as pytest wrote it; a
 * larger one is cut into documents of at most batch-size testcases, each
 * testcase's bytes read back from the file. Only one document's ranges are
 * held: once a file has more testcases than a batch, it is being cut. A
 * whole file is handed to curl by its path, never read into memory. ---- */

/* "classname::name" of waiting testcase k, read back from the file (only
 * for the warning about a testcase too large alone). Caller frees. */
static char *case_name(report_uploader_t *u, size_t k)
{
    size_t len = u->end[k] - u->start[k];
    if (len > RESULTS_JUNIT_NAME_READ) len = RESULTS_JUNIT_NAME_READ; /* the start tag */
    char *bytes = xmalloc(len + 1);
    char *name = u->fd >= 0 && pread_all(u->fd, bytes, len, u->start[k])
                     ? results_junit_case_name(bytes, len)
                     : NULL;
    free(bytes);
    return name ? name : xstrdup("?");
}

/* Testcases [from, to) of the waiting ones as one document, halved on 413. */
static void send_cases(report_uploader_t *u, size_t from, size_t to)
{
    buf_t *doc = &u->doc;
    buf_reset(doc);
    buf_printf(doc,
               "<?xml version=\"1.0\" encoding=\"utf-8\"?><testsuites><testsuite name=\"pytest\" "
               "tests=\"%zu\">",
               to - from);
    bool ok = read_ranges(u, from, to, "", false, doc, NULL);
    buf_puts(doc, "</testsuite></testsuites>");
    posted_t how = POSTED_FAILED;
    if (ok)
        how = send_part(u, "junit", doc->data, doc->len, u->name, "application/xml", to - from);
    else
        log_warn("upload: %s changed while it was read; %zu results not sent", u->name, to - from);
    if (how != POSTED_TOO_LARGE) return;
    if (to - from == 1) {
        char *name = case_name(u, from);
        too_large_alone(u, name, u->end[from] - u->start[from]);
        free(name);
        return;
    }
    note_halving(u, to - from);
    size_t mid = from + (to - from) / 2;
    send_cases(u, from, mid);
    send_cases(u, mid, to);
}

/* Sends the first n waiting testcases as one document (once stopped, they
 * are only dropped: counted already, never sent). */
static void send_document(report_uploader_t *u, size_t n)
{
    if (n && !upload_stopped(u)) send_cases(u, 0, n);
    u->pending -= n;
    memmove(u->start, u->start + n, u->pending * sizeof(size_t));
    memmove(u->end, u->end + n, u->pending * sizeof(size_t));
}

static void file_open(report_uploader_t *u, const char *path)
{
    u->fd = open(path, O_RDONLY | O_CLOEXEC);
    char *copy = xstrdup(path);
    u->name = xstrdup(basename(copy));
    free(copy);
    u->pending = 0;
    u->cases = 0;
    u->cut = false;
}

static void file_close(report_uploader_t *u)
{
    if (u->fd >= 0) close(u->fd);
    u->fd = -1;
    free(u->name);
    u->name = NULL;
    u->pending = 0;
}

static void junit_record(report_uploader_t *u, const results_index_entry_t *e)
{
    size_t batch = u->batch_cap;
    u->cases++;
    u->sum->total++;
    push_range(u, e->start, e->end);
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
        posted_t how = send_file(u, path, u->name, error ? 0 : u->cases);
        /* Too large whole: cut into documents, halved until they fit. */
        if (how == POSTED_TOO_LARGE && !error && u->pending > 1) {
            note_halving(u, u->pending);
            send_cases(u, 0, u->pending / 2);
            send_cases(u, u->pending / 2, u->pending);
        } else if (how == POSTED_TOO_LARGE && !error && u->pending == 1) {
            char *name = case_name(u, 0);
            too_large_alone(u, name, u->end[0] - u->start[0]);
            free(name);
        } else if (how == POSTED_TOO_LARGE) {
            http_response_t r = {.status = 413, .error = (char *)"HTTP 413"};
            note_failure(u, &r, u->cases);
        }
        u->pending = 0;
    } else {
        if (error)
            log_warn("upload: %s; only the %zu testcases before the problem can be sent", error,
                     u->cases);
        send_document(u, u->pending);
    }
}

static void sink_file_begin(void *user, const char *path, int attempt)
{
    (void)attempt;
    file_open(user, path);
}

static void sink_record(void *user, const results_index_entry_t *e, int attempt)
{
    (void)attempt;
    report_uploader_t *u = user;
    if (u->json)
        json_record(u, e);
    else
        junit_record(u, e);
}

static void sink_file_end(void *user, const char *path, const char *error)
{
    report_uploader_t *u = user;
    if (u->json)
        json_take_pending(u);
    else
        junit_end(u, path, error);
    file_close(u);
}

/* The whole upload's ceiling, in seconds (see report_upload.h). */
static double upload_ceiling(const config_t *cfg, size_t bytes)
{
    return (double)cfg->upload_retry_budget + 2.0 * (double)cfg->api_timeout +
           (double)bytes / (double)HTTP_MIN_UPLOAD_RATE;
}

static void upload_client_init(report_uploader_t *u, const config_t *cfg, size_t bytes,
                               http_stop_fn stop)
{
    u->url = http_join(cfg->upload_base_url, "/v1/uploads");
    char *auth = xasprintf("Authorization: Token token=\"%s\"", cfg->upload_token);
    http_client_init(&u->http, "upload", cfg->ca_bundle, cfg->api_timeout,
                     (double)cfg->upload_retry_budget, cfg->api_backoff_ms, auth);
    http_wipe(auth);
    free(auth);
    u->http.low_speed = true; /* a big batch on a slow link may take longer than api-timeout */
    u->http.max_answer = HTTP_MAX_UPLOAD_ANSWER;
    /* Test Engine down (refused, unknown host): two quick tries, not the budget. */
    u->http.unreachable_attempts = 2;
    u->sum->ceiling_s = upload_ceiling(cfg, bytes);
    http_client_set_ceiling(&u->http, u->sum->ceiling_s);
    u->http.stop = stop;
    u->http.warn = log_warn_line;
}

report_uploader_t *report_upload_start(const config_t *cfg, bool json, size_t bytes,
                                       http_stop_fn stop, report_upload_summary_t *sum)
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
    u->batch_cap = (size_t)cfg->upload_batch_size;
    u->too_large_said = (warncap_t){.fn = log_warn_line, .max = 5};
    u->fd = -1;
    upload_client_init(u, cfg, bytes, stop);
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
    if (u->json) {
        json_take_pending(u);
        flush_batch(u);
    }
    if (u->too_large_said.more)
        log_warn("upload: %zu more result%s too large alone; not sent", u->too_large_said.more,
                 u->too_large_said.more == 1 ? "" : "s");
    u->sum->seconds = fs_monotonic() - u->t0;
    buf_free(&u->batch);
    buf_free(&u->doc);
    free(u->offsets);
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

static char *why_stopped_quoting(const report_upload_summary_t *sum, const char *first,
                                 const char *last, const char *skip_error)
{
    switch (sum->end) {
    case REPORT_UPLOAD_STOPPED_SIGNAL: {
        const char *abbrev = compat_sigabbrev(sum->signal);
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
    case REPORT_UPLOAD_STOPPED_UNREACHABLE:
        return xasprintf("upload stopped: the upload API is unreachable (%s); tried twice", last);
    case REPORT_UPLOAD_STOPPED_TIME:
        return xasprintf("upload stopped: the upload's time limit of %.0fs is reached (the retry "
                         "budget, twice api-timeout and 1 s per 64 KiB of results; last error: %s)",
                         sum->ceiling_s, last);
    case REPORT_UPLOAD_DONE: break;
    }
    /* Done, but not all of it got there: each reason, by number. */
    buf_t b = BUF_INIT;
    char skipped[32], total[32];
    with_commas(sum->skipped, skipped);
    with_commas(sum->total, total);
    if (sum->skipped)
        buf_printf(&b, "Test Engine skipped %s of %s result%s (first error: %s)", skipped, total,
                   sum->total == 1 ? "" : "s", skip_error);
    if (sum->too_large)
        buf_printf(&b, "%s%zu result%s too large for the upload API alone (HTTP 413)",
                   b.len ? "; " : "", sum->too_large, sum->too_large == 1 ? " is" : "s are");
    if (sum->failed_requests || !b.len)
        buf_printf(&b, "%supload incomplete: %zu request%s failed (first: %s)", b.len ? "; " : "",
                   sum->failed_requests, sum->failed_requests == 1 ? "" : "s", first);
    return buf_detach(&b);
}

/* An error as the shortfall line quotes it: the server's words may span
 * lines (an HTML error page), and the line must stay one line (the
 * annotation shows only a first line, and would lose the counts after it). */
static char *quoted(const char *s, const char *none)
{
    return text_excerpt(s ? s : none, strlen(s ? s : none), 300);
}

static char *why_stopped(const report_upload_summary_t *sum)
{
    char *first = quoted(sum->first_error, "unknown error");
    char *last = quoted(sum->last_error ? sum->last_error : sum->first_error, "unknown error");
    char *skip_error = quoted(sum->skip_error, "none given");
    char *why = why_stopped_quoting(sum, first, last, skip_error);
    free(first);
    free(last);
    free(skip_error);
    return why;
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
    free(sum->skip_error);
    memset(sum, 0, sizeof *sum);
}
