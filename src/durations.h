/* durations: known per-file run times for the fallback plan.
 *
 * Accepts pytest-split's .test_durations (a JSON object of node id or path to
 * seconds; node ids are summed per file) and our own text format: one
 * "<seconds> <path>" per line, '#' comments allowed.
 *
 * Every duration is a finite number of seconds in [0, DURATIONS_MAX_S]: an
 * entry with NaN, infinity, a negative, an out-of-range or absurd value (or a
 * JSON value that is not a number) is ignored with a one-line warning naming
 * the file and the key or line (at most DURATIONS_MAX_WARNINGS, then a
 * count), so the fallback plan's sums and ratios stay finite. A text line
 * that is not "<seconds> <path>" at all makes the whole file an error. */
#ifndef TEP_DURATIONS_H
#define TEP_DURATIONS_H
#include <stdbool.h>
#include <stddef.h>

#define DURATIONS_MAX_S (7.0 * 24 * 3600)
#define DURATIONS_MAX_WARNINGS 5

typedef struct {
    char **paths;      /* sorted */
    double *seconds;
    size_t len;
} durations_t;

bool durations_load(const char *path, durations_t *d, char **err);
void durations_free(durations_t *d);
/* Seconds for a file, or -1 when unknown. */
double durations_get(const durations_t *d, const char *path);

#endif
