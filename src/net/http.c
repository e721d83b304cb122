#include "net/http.h"
#include "base/compat.h"
#include "base/text.h"
#include "net/http_progress.h"
#include "base/timeouts.h"
#include "base/fs.h"
#include "base/err.h"
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

void http_global_init(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    /* Through a 64-bit integer: milliseconds since 1970 do not fit an
     * unsigned int, and converting a double out of range is undefined. */
    srand((unsigned)(unsigned long long)(fs_now() * 1000.0) ^ (unsigned)getpid());
}

const char *http_user_agent(void)
{
    static char ua[160];
    if (!ua[0]) {
        curl_version_info_data *v = curl_version_info(CURLVERSION_NOW);
        snprintf(ua, sizeof ua, "test-engine-pytest/%s (linux; libcurl/%s)", TEP_VERSION,
                 v->version);
    }
    return ua;
}

char *http_join(const char *base, const char *path)
{
    size_t n = strlen(base);
    while (n && base[n - 1] == '/') n--;
    return xasprintf("%.*s%s", (int)n, base, path);
}

void http_client_init(http_client_t *c, const char *label, const char *ca_bundle, long timeout_s,
                      double budget_s, long backoff_ms, const char *auth_header)
{
    c->curl = curl_easy_init();
    c->label = label;
    c->ca_bundle = ca_bundle;
    c->timeout_s = timeout_s;
    c->budget_s = budget_s;
    c->backoff_ms = backoff_ms;
    c->auth_header = auth_header ? xstrdup(auth_header) : NULL;
    c->max_answer = HTTP_MAX_API_ANSWER;
    c->low_speed = false;
    c->unreachable_attempts = 0;
    c->send_bytes = 0;
    c->deadline = 0;
    c->stop = NULL;
    c->warn = NULL;
    c->warn_user = NULL;
    c->retry_spent_s = 0;
    c->sock_fd = CURL_SOCKET_BAD;
}

void http_client_set_ceiling(http_client_t *c, double seconds)
{
    c->deadline = fs_monotonic() + seconds;
}

void http_wipe(char *secret)
{
    if (secret) explicit_bzero(secret, strlen(secret));
}

void http_client_free(http_client_t *c)
{
    if (c->curl) curl_easy_cleanup(c->curl);
    http_wipe(c->auth_header); /* do not leave the token in freed memory */
    free(c->auth_header);
    c->curl = NULL;
    c->auth_header = NULL;
}

void http_response_init(http_response_t *r)
{
    memset(r, 0, sizeof *r);
    buf_init(&r->body);
}

void http_response_free(http_response_t *r)
{
    buf_free(&r->body);
    free(r->error);
    r->error = NULL;
}

bool http_status_ok(const http_response_t *r)
{
    return !r->transport_error && r->status >= 200 && r->status < 300;
}

typedef struct {
    char ratelimit_reset[64];
    char retry_after[64];
} headers_seen_t;

/* Where an answer's body goes: never more than `max` bytes are kept. */
typedef struct {
    buf_t *body;
    size_t max;
    bool over;
} body_sink_t;

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    body_sink_t *s = user;
    size_t len = size * n;
    if (len > s->max - s->body->len) { /* body->len <= max always holds */
        s->over = true;
        return 0; /* curl stops the transfer with CURLE_WRITE_ERROR */
    }
    buf_append(s->body, data, len);
    return len;
}

static void copy_header_value(char *dst, size_t cap, const char *v, size_t len)
{
    const char *kept = text_trim(v, &len);
    if (len >= cap) len = cap - 1;
    memcpy(dst, kept, len);
    dst[len] = '\0';
}

static size_t on_header(char *data, size_t size, size_t n, void *user)
{
    headers_seen_t *h = user;
    size_t len = size * n;
    static const char rl[] = "ratelimit-reset:", ra[] = "retry-after:";
    if (len > sizeof rl - 1 && strncasecmp(data, rl, sizeof rl - 1) == 0)
        copy_header_value(h->ratelimit_reset, sizeof h->ratelimit_reset, data + sizeof rl - 1,
                          len - (sizeof rl - 1));
    else if (len > sizeof ra - 1 && strncasecmp(data, ra, sizeof ra - 1) == 0)
        copy_header_value(h->retry_after, sizeof h->retry_after, data + sizeof ra - 1,
                          len - (sizeof ra - 1));
    return len;
}

static bool is_tls_verification_error(CURLcode rc)
{
    return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
           rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_ISSUER_ERROR;
}

/* Nothing listens, or the name or route does not exist: no answer is coming. */
static bool is_unreachable(CURLcode rc)
{
    return rc == CURLE_COULDNT_CONNECT || rc == CURLE_COULDNT_RESOLVE_HOST ||
           rc == CURLE_COULDNT_RESOLVE_PROXY;
}

static bool retryable_transport(CURLcode rc)
{
    return !is_tls_verification_error(rc) && rc != CURLE_URL_MALFORMAT &&
           rc != CURLE_UNSUPPORTED_PROTOCOL && rc != CURLE_OUT_OF_MEMORY &&
           rc != CURLE_FILESIZE_EXCEEDED && rc != CURLE_ABORTED_BY_CALLBACK;
}

static bool retryable_status(long status)
{
    return status == 409 || status == 429 || status >= 500;
}

/* Seconds left before the client's deadline; a large number without one. */
static double time_left(const http_client_t *c)
{
    return c->deadline > 0 ? c->deadline - fs_monotonic() : 1e9;
}

/* This attempt's ceiling in seconds (see http.h), before the deadline. */
static double attempt_ceiling(const http_client_t *c)
{
    double s = (double)c->timeout_s;
    if (c->low_speed) s += (double)c->send_bytes / (double)HTTP_MIN_UPLOAD_RATE;
    return s;
}

/* Per attempt: a connect timeout always (it covers the TLS handshake), and
 * the attempt's ceiling or what is left before the deadline, whichever
 * comes first; within it, for uploads, http_progress_callback's rules cut a
 * stalled or trickling transfer sooner. Returns the limit set, in seconds. */
static double set_time_limits(const http_client_t *c, bool *by_deadline)
{
    CURL *h = c->curl;
    double limit = attempt_ceiling(c);
    double left = time_left(c);
    *by_deadline = left < limit;
    if (*by_deadline) limit = left;
    if (limit < 0.001) limit = 0.001;
    long connect_s = c->timeout_s < TIMEOUT_CONNECT_S ? c->timeout_s : TIMEOUT_CONNECT_S;
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, connect_s);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(limit * 1000.0));
    return limit;
}

typedef struct {
    body_sink_t sink;
    headers_seen_t seen;
    http_progress_t watch;
    char errbuf[CURL_ERROR_SIZE];
    double limit_s;   /* the attempt's time limit */
    bool by_deadline; /* that limit is what was left before the client's deadline */
} attempt_ctx_t;

/* What one http_request sends, the same for every attempt. */
typedef struct {
    const char *method;
    const char *url;
    const char *json_body; /* NULL: GET, unless a form is made */
    http_mime_fn make_mime;
    void *mime_user;
    struct curl_slist *headers;
} request_t;

static void set_options(http_client_t *c, const request_t *req, curl_mime *mime, attempt_ctx_t *ctx)
{
    const char *method = req->method;
    const char *json_body = req->json_body;
    CURL *h = c->curl;
    curl_easy_reset(h); /* keeps the connection cache: the next request reuses the connection */
    curl_easy_setopt(h, CURLOPT_URL, req->url);
    curl_easy_setopt(h, CURLOPT_USERAGENT, http_user_agent());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, req->headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &ctx->sink);
    /* Refused before reading when the length is announced; on_body bounds the rest. */
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)c->max_answer);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, &ctx->seen);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ctx->errbuf);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, http_progress_callback);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &ctx->watch);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_SOCKOPTFUNCTION, http_progress_socket_opened);
    curl_easy_setopt(h, CURLOPT_SOCKOPTDATA, &c->sock_fd);
    curl_easy_setopt(h, CURLOPT_CLOSESOCKETFUNCTION, http_progress_socket_closed);
    curl_easy_setopt(h, CURLOPT_CLOSESOCKETDATA, &c->sock_fd);
    ctx->limit_s = set_time_limits(c, &ctx->by_deadline);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    compat_curl_https_only(h);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L);
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    if (c->ca_bundle && *c->ca_bundle) curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_bundle);
    if (mime) {
        curl_easy_setopt(h, CURLOPT_MIMEPOST, mime);
    } else if (json_body) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, json_body);
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(json_body));
    } else {
        curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
    }
    if (strcmp(method, "GET") != 0 && strcmp(method, "POST") != 0)
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
}

/* Sleeps in short slices so a stop request ends the wait at once. Returns the
 * signal that stopped it, or 0. */
static int wait_unless_stopped(const http_client_t *c, double seconds)
{
    double end = fs_monotonic() + seconds;
    for (;;) {
        int sig = c->stop ? c->stop() : 0;
        if (sig) return sig;
        double left = end - fs_monotonic();
        if (left <= 0) return 0;
        fs_sleep(left < 0.05 ? left : 0.05);
    }
}

/* Never leave a token in freed memory: curl_slist_append copied it. */
static void free_headers(struct curl_slist *headers)
{
    for (struct curl_slist *h = headers; h; h = h->next) http_wipe(h->data);
    curl_slist_free_all(headers);
}

/* An attempt cut by a time limit: which one, in words. */
static void say_timeout(const http_client_t *c, const attempt_ctx_t *ctx, http_response_t *resp)
{
    if (ctx->by_deadline) {
        resp->out_of_time = true;
        err_set(&resp->error, "%s: the phase's time limit is reached", c->label);
    } else if (c->low_speed) {
        err_set(&resp->error,
                "took longer than this attempt's limit of %.1fs (api-timeout plus 1 s per %ld KiB "
                "sent)",
                ctx->limit_s, HTTP_MIN_UPLOAD_RATE >> 10);
    } else {
        err_set(&resp->error, "%s (api-timeout %lds)", ctx->errbuf[0] ? ctx->errbuf : "timed out",
                c->timeout_s);
    }
}

/* The progress rules' cut: a 2xx whose body would not end is an answer
 * (kept, not retried: the server accepted the request); anything else is
 * retried like a timeout. */
static bool judge_cut(http_client_t *c, const attempt_ctx_t *ctx, http_response_t *resp)
{
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
    if (ctx->watch.answer_late && resp->status >= 200 && resp->status < 300) {
        resp->transport_error = false;
        resp->answer_late = true;
        err_set(&resp->error, "the answer did not finish within %lds after HTTP %ld (api-timeout)",
                c->timeout_s, resp->status);
        return false;
    }
    if (ctx->watch.answer_late)
        err_set(&resp->error, "no answer within %lds after the request was sent (api-timeout)",
                c->timeout_s);
    else
        err_set(&resp->error, "stalled: less than %ld bytes/s moved for %lds (api-timeout)",
                HTTP_LOW_SPEED_BYTES, ctx->watch.stall_s);
    resp->status = 0;
    return true;
}

/* Fills resp from one finished attempt; returns whether it may be retried. */
static bool judge_attempt(http_client_t *c, CURLcode rc, const attempt_ctx_t *ctx,
                          http_response_t *resp)
{
    resp->status = 0;
    resp->transport_error = rc != CURLE_OK;
    resp->tls_error = is_tls_verification_error(rc);
    resp->unreachable = is_unreachable(rc);
    resp->too_large = ctx->sink.over || rc == CURLE_FILESIZE_EXCEEDED;
    resp->stopped_by = ctx->watch.stopped_by;
    resp->answer_late = false;
    if (resp->too_large) {
        err_set(&resp->error, "the answer is larger than %zu MiB; not read further",
                c->max_answer >> 20);
        return false;
    }
    if (rc == CURLE_OK) {
        curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
        err_set(&resp->error, "HTTP %ld", resp->status);
        return retryable_status(resp->status);
    }
    if (resp->stopped_by) {
        err_set(&resp->error, "stopped by signal %d", resp->stopped_by);
        return false;
    }
    if (ctx->watch.stalled) return judge_cut(c, ctx, resp); /* a timeout, retried like one */
    if (rc == CURLE_OPERATION_TIMEDOUT) {
        say_timeout(c, ctx, resp);
        return !resp->out_of_time;
    }
    err_set(&resp->error, "%s", ctx->errbuf[0] ? ctx->errbuf : curl_easy_strerror(rc));
    return retryable_transport(rc);
}

/* A failed attempt, in one line, to the phase's warn_fn (never the token:
 * only the label, method, path and the problem are named). */
__attribute__((format(printf, 2, 3))) static void warn_attempt(const http_client_t *c,
                                                               const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    warn_vsay(c->warn, c->warn_user, fmt, ap);
    va_end(ap);
}

static const char *path_of(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    return p ? p : url;
}

static struct curl_slist *request_headers(const http_client_t *c, bool multipart)
{
    struct curl_slist *headers = NULL;
    if (c->auth_header) headers = curl_slist_append(headers, c->auth_header);
    if (!multipart) headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Accept: application/json");
    return curl_slist_append(headers, "Expect:");
}

/* One attempt, its outcome in resp; returns whether it may be retried. */
static bool attempt_once(http_client_t *c, const request_t *req, attempt_ctx_t *ctx,
                         http_response_t *resp)
{
    if (time_left(c) <= 0) { /* the phase's ceiling: nothing more starts */
        resp->out_of_time = true;
        resp->transport_error = true;
        err_set(&resp->error, "%s: the phase's time limit is reached", c->label);
        return false;
    }
    http_progress_init(&ctx->watch, &c->sock_fd, c->stop, c->low_speed ? c->timeout_s : 0);
    buf_reset(&resp->body);
    curl_mime *mime = req->make_mime ? req->make_mime(c->curl, req->mime_user) : NULL;
    set_options(c, req, mime, ctx);
    double attempt_start = fs_monotonic();
    CURLcode rc = curl_easy_perform(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_MIMEPOST, NULL);
    curl_mime_free(mime);
    bool retry = judge_attempt(c, rc, ctx, resp);
    if (retry) c->retry_spent_s += fs_monotonic() - attempt_start;
    return retry;
}

/* After failed attempt number `attempt`: waits for the next one and returns
 * true, or returns false when the budget is used up or a stop request came.
 * Either way the attempt is reported in one line. */
static bool wait_for_retry(http_client_t *c, const request_t *req, int attempt,
                           const attempt_ctx_t *ctx, http_response_t *resp)
{
    const char *method = req->method;
    const char *path = path_of(req->url);
    double server_wait = -1;
    if (resp->status == 429)
        server_wait =
            http_retry_rate_limit_wait(ctx->seen.ratelimit_reset, ctx->seen.retry_after, fs_now());
    double wait = http_retry_wait(c, attempt, server_wait);
    if (resp->unreachable && c->unreachable_attempts > 0 && attempt >= c->unreachable_attempts) {
        /* With one attempt allowed, the caller says it (the plan's fallback line). */
        if (c->unreachable_attempts > 1)
            warn_attempt(c, "%s %s %s failed (attempt %d): %s; not retried (unreachable)", c->label,
                         method, path, attempt, resp->error);
        return false;
    }
    if (c->retry_spent_s + wait > c->budget_s) {
        resp->gave_up = true;
        warn_attempt(c,
                     "%s %s %s failed (attempt %d): %s; retry budget of %.0fs used up after %.1fs",
                     c->label, method, path, attempt, resp->error, c->budget_s, c->retry_spent_s);
        return false;
    }
    if (wait >= time_left(c)) {
        resp->gave_up = resp->out_of_time = true;
        warn_attempt(c, "%s %s %s failed (attempt %d): %s; the phase's time limit is reached",
                     c->label, method, path, attempt, resp->error);
        return false;
    }
    warn_attempt(c, "%s %s %s failed (attempt %d): %s; retrying in %.1fs", c->label, method, path,
                 attempt, resp->error, wait);
    double slept_from = fs_monotonic();
    resp->stopped_by = wait_unless_stopped(c, wait);
    c->retry_spent_s += fs_monotonic() - slept_from;
    if (!resp->stopped_by) return true;
    err_set(&resp->error, "stopped by signal %d before retrying", resp->stopped_by);
    return false;
}

void http_request(http_client_t *c, const char *method, const char *url, const char *json_body,
                  http_mime_fn make_mime, void *mime_user, http_response_t *resp)
{
    request_t req = {method,    url,       json_body,
                     make_mime, mime_user, request_headers(c, make_mime != NULL)};
    double start = fs_monotonic();
    for (int attempt = 1;; attempt++) {
        attempt_ctx_t ctx = {.sink = {&resp->body, c->max_answer, false}};
        resp->attempts = attempt;
        if (!attempt_once(c, &req, &ctx, resp)) break;
        if (!wait_for_retry(c, &req, attempt, &ctx, resp)) break;
    }
    resp->seconds = fs_monotonic() - start;
    free_headers(req.headers);
}
