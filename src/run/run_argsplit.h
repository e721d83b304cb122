/* run_argsplit: a slice too large for one command line runs as several pytests.
 *
 * execve fails with E2BIG when argv and the environment together pass the
 * kernel's limit (ARG_MAX: a quarter of the stack limit, 2 MiB by default),
 * or when one string passes 128 KiB. A retry of 40,000 failed tests, or a plan
 * with a million entries, does that. So the run phase gives pytest consecutive
 * groups of the selectors, each group's whole argv (the command's own words
 * plus the group) within a budget of a quarter of what the environment
 * leaves of ARG_MAX: room to spare for launchers that add arguments or
 * variables when they re-execute (virtualenv shims, coverage, xdist workers).
 * A slice that fits runs as one pytest, exactly as before.
 *
 * Costs count what execve copies: each string, its NUL and its pointer. */
#ifndef TEP_RUN_ARGSPLIT_H
#define TEP_RUN_ARGSPLIT_H
#include <stdbool.h>
#include <stddef.h>
#include "base/strlist.h"

/* The most one argv string may hold (the kernel's MAX_ARG_STRLEN). */
#define RUN_ARGSPLIT_MAX_STRING (32 * 4096)

size_t run_argsplit_cost(const char *s);
size_t run_argsplit_list_cost(const strlist_t *l);
/* (ARG_MAX - what env takes) / 4; 0 when the environment takes it all. */
size_t run_argsplit_budget(const strlist_t *env);

typedef struct {
    size_t *end; /* group g is selectors [end[g-1] (or 0), end[g]) */
    size_t n;
} run_argsplit_t;

/* Groups the selectors so that fixed + each group's cost <= budget. false
 * with *err (naming the problem and what to do) when even one selector cannot
 * fit. One group when everything fits. */
bool run_argsplit_groups(const strlist_t *selectors, size_t fixed, size_t budget,
                         run_argsplit_t *out, char **err);
void run_argsplit_free(run_argsplit_t *s);

#endif
