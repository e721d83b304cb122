/* Retry-After / RateLimit-Reset parsing (http_retry_rate_limit_wait). Input: the
 * RateLimit-Reset value, a NUL byte, the Retry-After value. Invariant: the
 * answer is -1 (none) or a non-negative wait, never NaN. */
#include "fuzz_util.h"
#include "net/http.h"
#include <math.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *reset, *retry_after;
    fuzz_split(data, size, '\0', &reset, &retry_after);
    const double now = 1700000000.0;
    double w = http_retry_rate_limit_wait(reset, retry_after, now);
    FUZZ_CHECK(!isnan(w));
    FUZZ_CHECK(w == -1 || w >= 0);
    double only = http_retry_rate_limit_wait(NULL, retry_after, now);
    FUZZ_CHECK(!isnan(only) && (only == -1 || only >= 0));
    free(reset);
    free(retry_after);
    return 0;
}
