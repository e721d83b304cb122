/* http: one libcurl handle, reused for every request of a phase, with the
 * retry policy Test Engine clients share.
 *
 * Retried: transport errors (connect, reset, timeout), 409, 429 and 5xx, with
 * exponential backoff and jitter, inside a time budget. On 429 the server's
 * RateLimit-Reset (seconds) or Retry-After (seconds or HTTP date) replaces the
 * backoff for that wait. Certificate problems are not retried: they do not fix
 * themselves, and TLS verification is never switched off. Each failed attempt
 * is reported in one line on stderr, without secrets. */
#ifndef TEP_HTTP_H
#define TEP_HTTP_H
#include <curl/curl.h>
#include <stdbool.h>
#include "buf.h"

typedef struct {
    CURL *curl;
    const char *label;      /* "API" or "upload", for messages */
    const char *ca_bundle;  /* NULL or "" = system store */
    long timeout_s;         /* per attempt */
    double budget_s;        /* total time for retries */
    long backoff_ms;        /* first backoff */
    char *auth_header;      /* "Authorization: ..." (owned, never logged) */
} http_client_t;

typedef struct {
    long status;            /* 0 when no HTTP answer */
    buf_t body;
    bool transport_error;
    bool tls_error;         /* certificate could not be verified */
    bool gave_up;           /* retries stopped because the budget ran out */
    int attempts;
    double seconds;
    char error[512];        /* last problem, one line */
} http_response_t;

void http_global_init(void);
void http_client_init(http_client_t *c, const char *label, const char *ca_bundle, long timeout_s,
                      double budget_s, long backoff_ms, const char *auth_header);
void http_client_free(http_client_t *c);
void http_response_init(http_response_t *r);
void http_response_free(http_response_t *r);
/* Builds the multipart body for one attempt. A fresh one per attempt: curl
 * does not rewind a mime structure that an earlier transfer consumed. */
typedef curl_mime *(*http_mime_fn)(CURL *curl, void *user);

/* json_body may be NULL (GET). With make_mime, the request is a multipart POST. */
void http_request(http_client_t *c, const char *method, const char *url, const char *json_body,
                  http_mime_fn make_mime, void *mime_user, http_response_t *resp);
/* Seconds to wait from RateLimit-Reset / Retry-After header values; < 0 if none. */
double http_rate_limit_wait(const char *ratelimit_reset, const char *retry_after, double now);
const char *http_user_agent(void);
/* base (trailing slashes dropped) + path. Caller frees. */
char *http_join(const char *base, const char *path);

#endif
