#include "http.h"
#include "compat.h"
#include "text.h"
#include "http_progress.h"
#include "timeouts.h"
#include "fs.h"
#include "err.h"
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
    srand((unsigned)(fs_now() * 1000.0) ^ (unsigned)getpid());
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
    c->fail_fast_unreachable = false;
    c->stop = NULL;
    c->warn = NULL;
    c->warn_user = NULL;
    c->retry_spent_s = 0;
    c->sock_fd = CURL_SOCKET_BAD;
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

static bool retryable_transport(const http_client_t *c, CURLcode rc)
{
    if (c->fail_fast_unreachable && is_unreachable(rc)) return false;
    return !is_tls_verification_error(rc) && rc != CURLE_URL_MALFORMAT &&
           rc != CURLE_UNSUPPORTED_PROTOCOL && rc != CURLE_OUT_OF_MEMORY &&
           rc != CURLE_FILESIZE_EXCEEDED && rc != CURLE_ABORTED_BY_CALLBACK;
}

static bool retryable_status(long status)
{
    return status == 409 || status == 429 || status >= 500;
}

/* Per attempt: a connect timeout always (it covers the TLS handshake); then a
 * total timeout, or for big uploads none: http_progress_callback's rules cut a stalled
 * or trickling transfer instead, so a batch that is moving may take its time. */
static void set_time_limits(const http_client_t *c)
{
    CURL *h = c->curl;
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT,
                     c->timeout_s < TIMEOUT_CONNECT_S ? c->timeout_s : TIMEOUT_CONNECT_S);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, c->low_speed ? 0L : c->timeout_s);
}

typedef struct {
    body_sink_t sink;
    headers_seen_t seen;
    http_progress_t watch;
    char errbuf[CURL_ERROR_SIZE];
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
    set_time_limits(c);
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
    if (ctx->watch.stalled) { /* a timeout, retried like one */
        err_set(&resp->error, "stalled: less than %ld bytes/s moved for %lds (api-timeout)",
                HTTP_LOW_SPEED_BYTES, ctx->watch.stall_s);
        return true;
    }
    err_set(&resp->error, "%s", ctx->errbuf[0] ? ctx->errbuf : curl_easy_strerror(rc));
    return retryable_transport(c, rc);
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
    if (c->retry_spent_s + wait > c->budget_s) {
        resp->gave_up = true;
        warn_attempt(c,
                     "%s %s %s failed (attempt %d): %s; retry budget of %.0fs used up after %.1fs",
                     c->label, method, path, attempt, resp->error, c->budget_s, c->retry_spent_s);
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
