/* The retry policy's waits (declared in http.h): the backoff step and the
 * server's rate-limit headers. */
#include "net/http.h"
#include <stdlib.h>
#include <time.h>

/* No wait between attempts is ever longer. */
#define BACKOFF_CAP_S 20.0

double http_retry_rate_limit_wait(const char *ratelimit_reset, const char *retry_after, double now)
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

static double backoff_delay(const http_client_t *c, int attempt)
{
    long first_ms = c->backoff_ms > HTTP_MIN_BACKOFF_MS ? c->backoff_ms : HTTP_MIN_BACKOFF_MS;
    double d = (double)first_ms / 1000.0;
    for (int i = 1; i < attempt && d < BACKOFF_CAP_S; i++) d *= 2;
    if (d > BACKOFF_CAP_S) d = BACKOFF_CAP_S;
    /* Jitter in [50%, 100%] spreads a parallel step's jobs apart. */
    return d * (0.5 + 0.5 * ((double)rand() / RAND_MAX));
}

double http_retry_wait(const http_client_t *c, int attempt, double server_wait)
{
    /* A server's "0" (or a date in the past) would make every retry immediate:
     * 180 requests in 8 s. Its wait may lengthen the step, never shorten it. */
    double step = backoff_delay(c, attempt);
    return server_wait > step ? server_wait : step;
}
