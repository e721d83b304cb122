/* durations: known per-file run times for the fallback plan.
 *
 * Accepts pytest-split's .test_durations (a JSON object of node id or path to
 * seconds; node ids are summed per file) and our own text format: one
 * "<seconds> <path>" per line, '#' comments allowed. */
#ifndef TEP_DURATIONS_H
#define TEP_DURATIONS_H
#include <stdbool.h>
#include <stddef.h>

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
