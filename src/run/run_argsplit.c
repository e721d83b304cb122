#include "run/run_argsplit.h"
#include "base/err.h"
#include "base/buf.h"
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

size_t run_argsplit_cost(const char *s)
{
    return strlen(s) + 1 + sizeof(char *);
}

size_t run_argsplit_list_cost(const strlist_t *l)
{
    size_t n = sizeof(char *); /* the terminating NULL pointer */
    for (size_t i = 0; i < l->len; i++) n += run_argsplit_cost(l->items[i]);
    return n;
}

size_t run_argsplit_budget(const strlist_t *env)
{
    long max = sysconf(_SC_ARG_MAX);
    size_t arg_max =
        max > 0 ? (size_t)max : 128 * 1024; /* POSIX minimum is far lower; Linux never says -1 */
    size_t used = run_argsplit_list_cost(env);
    return used < arg_max ? (arg_max - used) / 4 : 0;
}

static void push_group_end(run_argsplit_t *s, size_t end, size_t *cap)
{
    if (s->n == *cap) {
        *cap = *cap ? *cap * 2 : 16;
        s->end = xrealloc(s->end, *cap * sizeof(size_t));
    }
    s->end[s->n++] = end;
}

/* False with *err when selector s cannot go on any command line. */
static bool selector_fits(const char *s, size_t fixed, size_t budget, char **err)
{
    size_t len = strlen(s);
    if (len >= RUN_ARGSPLIT_MAX_STRING)
        return err_set(err,
                       "the entry '%.60s...' is %zu bytes, more than one argument may hold (%d); "
                       "shorten that test id",
                       s, len, RUN_ARGSPLIT_MAX_STRING);
    if (fixed + run_argsplit_cost(s) > budget)
        return err_set(err,
                       "the command and its environment leave %zu bytes for test entries, too few "
                       "for '%.60s'; shorten the command or unset large environment variables",
                       budget > fixed ? budget - fixed : 0, s);
    return true;
}

bool run_argsplit_groups(const strlist_t *selectors, size_t fixed, size_t budget,
                         run_argsplit_t *out, char **err)
{
    memset(out, 0, sizeof *out);
    size_t cap = 0;
    size_t used = fixed;
    for (size_t i = 0; i < selectors->len; i++) {
        const char *s = selectors->items[i];
        if (!selector_fits(s, fixed, budget, err)) {
            run_argsplit_free(out);
            return false;
        }
        size_t cost = run_argsplit_cost(s);
        if (used + cost > budget) {
            push_group_end(out, i, &cap);
            used = fixed;
        }
        used += cost;
    }
    push_group_end(out, selectors->len, &cap);
    return true;
}

void run_argsplit_free(run_argsplit_t *s)
{
    free(s->end);
    memset(s, 0, sizeof *s);
}
