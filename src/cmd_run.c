/* cmd_run: `test-engine-pytest run`, the step's command.
 *
 * Runs the slice the plan phase (pre-command) wrote for this job. It needs no
 * API credentials for that, and it may run where the hooks did not: inside a
 * container that mounts only the checkout, with only the job's original
 * environment. So it finds the slice by the job's identity in the checkout
 * and takes the plugin options the plan phase saved there. Without a slice
 * made for this job it plans by itself, so `run` alone is a complete CLI. */
#include "cmd.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "plan_phase.h"
#include "run_promise.h"
#include "run_phase.h"
#include "state.h"
#include <stdio.h>
#include <stdlib.h>

static int plan_first(config_t *cfg)
{
    if (!plan_phase_prepare(cfg)) return (int)cfg->config_exit_status;
    http_global_init();
    int status = plan_phase_plan(cfg);
    curl_global_cleanup();
    return status;
}

/* Whether there is a slice made for this very job (else it plans anew). */
static bool usable_slice(config_t *cfg, slice_t *slice)
{
    char *err = NULL;
    bool have = slice_read(cfg, slice, &err);
    if (!have && err) {
        log_warn("%s; planning again", err);
        free(err);
    }
    if (have && !*cfg->job_id) {
        /* Outside Buildkite nothing ties an old slice to this run: plan anew. */
        log_info("Not a Buildkite job (no BUILDKITE_JOB_ID): planning this run afresh");
        have = false;
    }
    char *why = have ? slice_mismatch(cfg, slice) : NULL;
    if (why) {
        log_warn("the slice in %s was made for %s; planning again", cfg->state_dir, why);
        free(why);
        have = false;
    }
    if (!have) slice_free(slice);
    return have;
}

static int prepare_state(config_t *cfg)
{
    char *moved = NULL, *err = NULL;
    state_locate(cfg, &moved);
    if (moved) log_info("Running from %s, where the plan phase wrote this job's slice", moved);
    free(moved);
    bool ok = state_apply_options(cfg, &err) && state_prepare(cfg, &err) && state_lock(cfg, &err);
    if (!ok) {
        log_error("%s", err);
        free(err);
        return (int)cfg->config_exit_status;
    }
    return 0;
}

int cmd_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    config_t cfg;
    config_load(&cfg);
    config_print_warnings(&cfg, stderr);
    int status = prepare_state(&cfg);
    slice_t slice;
    bool have = status == 0 && usable_slice(&cfg, &slice);
    if (status == 0 && !have) {
        status = plan_first(&cfg);
        char *err = NULL;
        if (status == 0 && !slice_read(&cfg, &slice, &err)) {
            log_error("the plan phase wrote no slice%s%s", err ? ": " : "", err ? err : "");
            free(err);
            status = (int)cfg.config_exit_status;
        }
        have = status == 0;
    }
    if (have && !config_validate(&cfg, PHASE_RUN)) {
        config_print_problems(&cfg, stderr);
        status = (int)cfg.config_exit_status;
    }
    if (have && status == 0) {
        status = run_phase_run(&cfg, &slice);
        run_promise_failure_if_needed(&cfg, status); /* never changes the status */
    }
    if (have) slice_free(&slice);
    config_free(&cfg);
    return status;
}
