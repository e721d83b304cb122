#include "run/run_classify.h"
#include <stdlib.h>
#include <string.h>

int run_classify(const config_t *cfg, const outcome_t *o, bool *terminal)
{
    *terminal = false;
    if (o->signal) return 128 + o->signal;
    if (o->no_tests) return 0;
    if (o->not_started || o->usage_error) return (int)cfg->config_exit_status;
    bool exit2_untagged = o->json_mode && o->last_exit == 2 && o->collection_errors == 0;
    if (o->collection_errors || exit2_untagged || o->unreadable) {
        *terminal = true;
        return (int)cfg->terminal_exit_status;
    }
    if (o->failed) return (int)cfg->failure_exit_status;
    if (o->last_exit >= 2) return o->last_exit;
    if (o->last_exit == 1) return o->muted_failed ? 0 : (int)cfg->failure_exit_status;
    return 0;
}

static int exit_rank(int code)
{
    switch (code) {
    case 5: return 0;
    case 0: return 1;
    case 1: return 2;
    case 2: return 3;
    case 3: return 4;
    case 4: return 5;
    default: return 6; /* not pytest's: keep it visible */
    }
}

int run_classify_combine_exit(int so_far, int next)
{
    if (so_far < 0) return next;
    return exit_rank(next) > exit_rank(so_far) ? next : so_far;
}
