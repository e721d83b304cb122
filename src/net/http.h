/* http: one libcurl handle, reused for every request of a phase, with the
 * retry policy Test Engine clients share.
 *
 * Retried: transport errors (connect, reset, timeout), 409, 429 and 5xx, with
 * exponential backoff and jitter. The retry budget belongs to the client, not
 * to one request: the time spent on failed attempts and on the waits between
 * them is summed over every request the client makes (all the batches of an
 * upload, the three calls of a plan): a phase spends at most the budget plus
 * one attempt on failures. On 429 the server's RateLimit-Reset or Retry-After
 * (seconds or HTTP date) lengthens a wait but never shortens it below the
 * backoff step: "retry after 0 s" answered forever must not become a flood.
 *
 * Not retried: an unverifiable certificate (it does not fix itself; TLS
 * verification is never switched off), an answer larger than the client's
 * limit (it would be as large again; reading it whole would grow memory without
 * bound), a stop request (the job is being cancelled), and an unreachable host
 * (connection refused, unknown host, no route) past the client's
 * unreachable_attempts: the plan phase falls back to a local plan at once
 * (1), the upload gives up after two quick tries (2) instead of waiting out
 * its budget in every job while Test Engine is down.
 *
 * Time limits, all of them wall-clock, so no slow or trickling peer (a gzip
 * body of empty blocks, a reader taking 2 KB/s) extends them: a connect
 * timeout always; a ceiling per attempt, timeout_s for small JSON calls, and
 * for uploads timeout_s plus one second per HTTP_MIN_UPLOAD_RATE bytes of the
 * request body (send_bytes); and a ceiling for the client, `deadline`, after
 * which no attempt or wait starts and a running one is cut. Within an upload
 * attempt's ceiling two progress rules cut it sooner: no byte taken by the
 * server for timeout_s seconds (a stall), or less than HTTP_LOW_SPEED_BYTES a
 * second over timeout_s seconds (a trickle); and once the server has taken
 * the whole request, its answer must end within timeout_s. So a batch that is
 * still moving may take longer than timeout_s, a stalled one is cut after
 * timeout_s, and none takes longer than its ceiling. Progress counts bytes the
 * peer took (sent minus the socket's send queue), not bytes handed to the
 * kernel: a socket buffer swallows megabytes at once, which would hide a
 * moving upload from curl's own LOW_SPEED_LIMIT/TIME (same idea, counted
 * before the buffer). A 2xx whose body does not end in time (answer_late) is
 * an answer all the same: the server accepted the request, and sending it
 * again would duplicate it.
 *
 * Each failed attempt is reported in one line, without secrets, to the
 * client's warn_fn (set by the phase, which prints it; NULL: not reported):
 * this module never prints. A response's `error` is the last problem, a
 * heap string (NULL while there is none) freed by http_response_free. */
#ifndef TEP_HTTP_H
#define TEP_HTTP_H
#include <curl/curl.h>
#include <stdbool.h>
#include <stddef.h>
#include "base/buf.h"
#include "base/err.h"
#include "net/http_progress.h" /* http_stop_fn, HTTP_LOW_SPEED_BYTES */

/* The first backoff step is never shorter. */
#define HTTP_MIN_BACKOFF_MS    100L
#define HTTP_MAX_API_ANSWER    (32L << 20) /* a plan for ~150,000 tests is far smaller */
#define HTTP_MAX_UPLOAD_ANSWER (1L << 20)
/* The slowest average an upload attempt may take: its ceiling is timeout_s
 * plus its body's bytes at this rate (a 5 MB batch: timeout_s + 76 s). */
#define HTTP_MIN_UPLOAD_RATE (64L << 10)

typedef struct {
    CURL *curl;
    const char *label;        /* "Test Engine API" or "upload", for messages */
    const char *ca_bundle;    /* NULL or "" = system store */
    long timeout_s;           /* per attempt (total, or without progress with low_speed) */
    double budget_s;          /* failed attempts plus waits, over every request of the client */
    long backoff_ms;          /* first backoff (at least HTTP_MIN_BACKOFF_MS) */
    char *auth_header;        /* "Authorization: ..." (owned, never logged, wiped when freed) */
    size_t max_answer;        /* answer bodies larger than this are refused */
    bool low_speed;           /* progress rules, and a ceiling by size, per attempt */
    int unreachable_attempts; /* refused / unknown host / no route: attempts at most
                                 (1: no retry; 0: as the budget allows) */
    size_t send_bytes;        /* the next request's body size, for its ceiling (low_speed) */
    double deadline;          /* fs_monotonic() after which nothing starts; 0: none */
    http_stop_fn stop;        /* NULL, or polled during transfers and waits */
    warn_fn warn;             /* NULL, or told of each failed attempt, in one line */
    void *warn_user;          /* passed to warn */
    double retry_spent_s;     /* budget used so far */
    curl_socket_t sock_fd;    /* the connection's socket, while curl has one open */
} http_client_t;

typedef struct {
    long status; /* 0 when no HTTP answer */
    buf_t body;
    bool transport_error;
    bool tls_error;   /* certificate could not be verified */
    bool unreachable; /* connection refused, unknown host, no route */
    bool too_large;   /* the answer was over max_answer; the body is cut */
    bool answer_late; /* a 2xx whose body did not end within timeout_s: kept, not retried */
    bool out_of_time; /* the client's deadline came: not (or no more) attempted */
    int stopped_by;   /* the signal that stopped the request, 0 if none */
    bool gave_up;     /* retries stopped because the budget ran out */
    int attempts;
    double seconds;
    char *error; /* last problem, one line; NULL when there was none */
} http_response_t;

void http_global_init(void);
/* A client with a total timeout per attempt, max_answer HTTP_MAX_API_ANSWER,
 * retrying every transport error, no deadline, reporting nothing (warn NULL);
 * set the other fields after this call. */
void http_client_init(http_client_t *c, const char *label, const char *ca_bundle, long timeout_s,
                      double budget_s, long backoff_ms, const char *auth_header);
void http_client_free(http_client_t *c);
/* Sets the client's deadline `seconds` from now (its phase's ceiling). */
void http_client_set_ceiling(http_client_t *c, double seconds);
void http_response_init(http_response_t *r);
void http_response_free(http_response_t *r);
/* Builds the multipart body for one attempt. A fresh one per attempt: curl
 * does not rewind a mime structure that an earlier transfer consumed. */
typedef curl_mime *(*http_mime_fn)(CURL *curl, void *user);

/* Whether the request got a 2xx answer. */
bool http_status_ok(const http_response_t *r);
/* json_body may be NULL (GET). With make_mime, the request is a multipart POST. */
void http_request(http_client_t *c, const char *method, const char *url, const char *json_body,
                  http_mime_fn make_mime, void *mime_user, http_response_t *resp);
/* Seconds to wait from RateLimit-Reset / Retry-After header values; < 0 if none. */
double http_retry_rate_limit_wait(const char *ratelimit_reset, const char *retry_after, double now);
/* The wait before retry number `attempt` (1 = after the first failure): the
 * backoff step (jittered), or the server's wait when that is longer. */
double http_retry_wait(const http_client_t *c, int attempt, double server_wait);
const char *http_user_agent(void);
/* base (trailing slashes dropped) + path. Caller frees. */
char *http_join(const char *base, const char *path);
/* Overwrites a secret before its memory is freed (explicit_bzero: not optimised away). */
void http_wipe(char *secret);

#endif
