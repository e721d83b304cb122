#include "classify.h"

int classify(const config_t *cfg, const outcome_t *o, bool *terminal)
{
    *terminal = false;
    if (o->signal) return 128 + o->signal;
    if (o->no_tests) return 0;
    if (o->not_started) return (int)cfg->config_exit_status;
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
