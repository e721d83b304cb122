#include "http.h"
#include "fsutil.h"
#include "log.h"
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define BACKOFF_CAP_S 20.0

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
        snprintf(ua, sizeof ua, "test-engine-pytest/%s (linux; libcurl/%s)", TEP_VERSION, v->version);
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
}

void http_client_free(http_client_t *c)
{
    if (c->curl) curl_easy_cleanup(c->curl);
    if (c->auth_header) {
        memset(c->auth_header, 0, strlen(c->auth_header)); /* do not leave the token in freed memory */
        free(c->auth_header);
    }
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
}

typedef struct {
    char ratelimit_reset[64];
    char retry_after[64];
} headers_seen_t;

static size_t on_body(char *data, size_t size, size_t n, void *user)
{
    buf_append((buf_t *)user, data, size * n);
    return size * n;
}

static void copy_header_value(char *dst, size_t cap, const char *v, size_t len)
{
    while (len && isspace((unsigned char)*v)) v++, len--;
    while (len && isspace((unsigned char)v[len - 1])) len--;
    if (len >= cap) len = cap - 1;
    memcpy(dst, v, len);
    dst[len] = '\0';
}

static size_t on_header(char *data, size_t size, size_t n, void *user)
{
    headers_seen_t *h = user;
    size_t len = size * n;
    static const char rl[] = "ratelimit-reset:", ra[] = "retry-after:";
    if (len > sizeof rl - 1 && strncasecmp(data, rl, sizeof rl - 1) == 0)
        copy_header_value(h->ratelimit_reset, sizeof h->ratelimit_reset, data + sizeof rl - 1, len - (sizeof rl - 1));
    else if (len > sizeof ra - 1 && strncasecmp(data, ra, sizeof ra - 1) == 0)
        copy_header_value(h->retry_after, sizeof h->retry_after, data + sizeof ra - 1, len - (sizeof ra - 1));
    return len;
}

double http_rate_limit_wait(const char *ratelimit_reset, const char *retry_after, double now)
{
    char *end;
    if (ratelimit_reset && *ratelimit_reset) {
        double v = strtod(ratelimit_reset, &end);
        if (end != ratelimit_reset && *end == '\0' && v >= 0) return v;
    }
    if (retry_after && *retry_after) {
        double v = strtod(retry_after, &end);
        if (end != retry_after && *end == '\0' && v >= 0) return v;
        time_t when = curl_getdate(retry_after, NULL);
        if (when != -1) return (double)when - now > 0 ? (double)when - now : 0;
    }
    return -1;
}

static bool is_tls_verification_error(CURLcode rc)
{
    return rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE ||
           rc == CURLE_SSL_CERTPROBLEM || rc == CURLE_SSL_ISSUER_ERROR;
}

static bool retryable_transport(CURLcode rc)
{
    return !is_tls_verification_error(rc) && rc != CURLE_URL_MALFORMAT && rc != CURLE_UNSUPPORTED_PROTOCOL &&
           rc != CURLE_OUT_OF_MEMORY;
}

static bool retryable_status(long status)
{
    return status == 409 || status == 429 || status >= 500;
}

static void set_options(http_client_t *c, const char *method, const char *url, const char *json_body,
                        curl_mime *mime, struct curl_slist *headers, http_response_t *resp,
                        headers_seen_t *seen, char *errbuf)
{
    CURL *h = c->curl;
    curl_easy_reset(h); /* keeps the connection cache: the next request reuses the connection */
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_USERAGENT, http_user_agent());
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &resp->body);
    curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(h, CURLOPT_HEADERDATA, seen);
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_TIMEOUT, c->timeout_s);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, c->timeout_s < 10 ? c->timeout_s : 10L);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https");
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

static double backoff_delay(const http_client_t *c, int attempt)
{
    double base = (double)c->backoff_ms / 1000.0;
    double d = base;
    for (int i = 1; i < attempt && d < BACKOFF_CAP_S; i++) d *= 2;
    if (d > BACKOFF_CAP_S) d = BACKOFF_CAP_S;
    /* Jitter in [50%, 100%] spreads a parallel step's jobs apart. */
    return d * (0.5 + 0.5 * ((double)rand() / RAND_MAX));
}

static const char *path_of(const char *url)
{
    const char *p = strstr(url, "://");
    p = p ? strchr(p + 3, '/') : NULL;
    return p ? p : url;
}

void http_request(http_client_t *c, const char *method, const char *url, const char *json_body,
                  http_mime_fn make_mime, void *mime_user, http_response_t *resp)
{
    struct curl_slist *headers = NULL;
    if (c->auth_header) headers = curl_slist_append(headers, c->auth_header);
    if (!make_mime) headers = curl_slist_append(headers, "Content-Type: application/json");
    headers = curl_slist_append(headers, "Accept: application/json");
    headers = curl_slist_append(headers, "Expect:");

    double start = fs_monotonic();
    for (int attempt = 1;; attempt++) {
        headers_seen_t seen = {{0}, {0}};
        char errbuf[CURL_ERROR_SIZE] = {0};
        buf_reset(&resp->body);
        curl_mime *mime = make_mime ? make_mime(c->curl, mime_user) : NULL;
        set_options(c, method, url, json_body, mime, headers, resp, &seen, errbuf);
        CURLcode rc = curl_easy_perform(c->curl);
        curl_easy_setopt(c->curl, CURLOPT_MIMEPOST, NULL);
        curl_mime_free(mime);
        resp->attempts = attempt;
        resp->status = 0;
        resp->transport_error = rc != CURLE_OK;
        resp->tls_error = is_tls_verification_error(rc);
        if (rc == CURLE_OK) {
            curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &resp->status);
            snprintf(resp->error, sizeof resp->error, "HTTP %ld", resp->status);
        } else {
            snprintf(resp->error, sizeof resp->error, "%s", errbuf[0] ? errbuf : curl_easy_strerror(rc));
        }
        bool retry = rc == CURLE_OK ? retryable_status(resp->status) : retryable_transport(rc);
        if (!retry) break;

        double wait = -1;
        if (resp->status == 429) wait = http_rate_limit_wait(seen.ratelimit_reset, seen.retry_after, fs_now());
        if (wait < 0) wait = backoff_delay(c, attempt);
        double spent = fs_monotonic() - start;
        if (spent + wait > c->budget_s) {
            resp->gave_up = true;
            log_warn("%s %s %s failed (attempt %d): %s; retry budget of %.0fs used up after %.1fs", c->label, method,
                     path_of(url), attempt, resp->error, c->budget_s, spent);
            break;
        }
        log_warn("%s %s %s failed (attempt %d): %s; retrying in %.1fs", c->label, method, path_of(url), attempt,
                 resp->error, wait);
        fs_sleep(wait);
    }
    resp->seconds = fs_monotonic() - start;
    curl_slist_free_all(headers);
}
