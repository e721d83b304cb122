/* warncap: the warnings a reader passes on while it goes on, capped.
 *
 * A hostile or broken input can hold millions of bad records; the readers
 * (results_json, results_junit, durations_file) name the first few and count
 * the rest, so the log stays readable whatever the file holds. The lines go
 * to the warn_fn the phase gave (err.h): the reader decides what to say, the
 * phase how to show it. With no warn_fn, warnings are still counted (a
 * strict reader's error says how many entries were bad) but go nowhere. */
#ifndef TEP_WARNCAP_H
#define TEP_WARNCAP_H
#include <stdbool.h>
#include <stddef.h>
#include "base/err.h"

typedef struct {
    warn_fn fn; /* may be NULL */
    void *user;
    size_t max;   /* lines named before the rest are only counted */
    size_t shown; /* warnings named so far */
    size_t more;  /* warnings counted past max */
} warncap_t;

/* Counts one warning; true when it is to be named (fewer than max were). */
bool warncap_next(warncap_t *w);
/* Hands one formatted line to the warn_fn, if there is one. */
void warncap_say(const warncap_t *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
