/* Durations and names written by people: config_duration_seconds (the OIDC
 * lifetime and target time: "7200", "2h", "1h30m", "300s"), config_parse_bool,
 * config_job_id_ok and the agent's BUILDKITE_CANCEL_GRACE_PERIOD
 * (process_cancel_kill_after) on any text. Invariants: a duration is -1 or 0 to
 * CONFIG_DURATION_MAX_S and equals what an independent reading of the
 * grammar (digits, each group with an optional h, m or s; sums saturated, so
 * nothing wraps) gives; a boolean is read only from its six spellings; a job
 * id that passes can name one folder (no '/', no "..", no control or shell
 * byte, 1 to 128 bytes); the time a cancelled run may take is a real number
 * of seconds, at least 0 and below a day, less than the agent's grace. */
#include "config/config.h"
#include "fuzz_util.h"
#include "base/process.h"
#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* The grammar read again, with no integer that could overflow. */
static long oracle_duration(const char *s)
{
    if (!*s) return -1;
    const long max = CONFIG_DURATION_MAX_S;
    long total = 0;
    while (*s) {
        if (!isdigit((unsigned char)*s)) return -1;
        long v = 0;
        bool over = false;
        for (; isdigit((unsigned char)*s); s++) {
            v = v * 10 + (*s - '0');
            if (v > max) { /* saturate: the rest of the digits only make it larger */
                over = true;
                v = max + 1;
            }
        }
        long unit = 1;
        if (*s == 'h' || *s == 'm' || *s == 's') {
            unit = *s == 'h' ? 3600 : *s == 'm' ? 60 : 1;
            s++;
        } else if (*s) {
            return -1;
        }
        if (over || v > max / unit) return -1;
        total += v * unit;
        if (total > max) return -1;
    }
    return total;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = fuzz_cstr(data, size);
    long d = config_duration_seconds(s);
    FUZZ_CHECK(d == -1 || (d >= 0 && d <= CONFIG_DURATION_MAX_S));
    FUZZ_CHECK(d == oracle_duration(s));

    bool b = false;
    bool known = config_parse_bool(s, &b);
    static const char *const spellings[] = {"true", "1", "on", "false", "0", "off"};
    bool spelled = false;
    for (size_t i = 0; i < 6; i++)
        if (strcasecmp(s, spellings[i]) == 0) {
            spelled = true;
            FUZZ_CHECK(b == (i < 3));
        }
    FUZZ_CHECK(known == spelled);

    if (config_job_id_ok(s)) {
        size_t n = strlen(s);
        FUZZ_CHECK(n >= 1 && n <= 128 && strcmp(s, "..") != 0 && strcmp(s, ".") != 0);
        FUZZ_CHECK(!strchr(s, '/') && s[0] != '.' && s[0] != '-');
        for (const char *c = s; *c; c++)
            FUZZ_CHECK(isalnum((unsigned char)*c) || *c == '.' || *c == '_' || *c == '-');
    }
    setenv("BUILDKITE_CANCEL_GRACE_PERIOD", s, 1);
    double after = process_cancel_kill_after();
    FUZZ_CHECK(isfinite(after) && after >= 0 && after < 86400);
    char *end = NULL;
    double grace = strtod(s, &end);
    if (*s && !*end && grace > 0 && grace <= 86400) FUZZ_CHECK(after < grace);
    unsetenv("BUILDKITE_CANCEL_GRACE_PERIOD");
    free(s);
    return 0;
}
