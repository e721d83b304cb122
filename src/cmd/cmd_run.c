/* cmd_run: `test-engine-pytest run`, the step's command.
 *
 * Runs the slice the plan phase (pre-command) wrote for this job. It needs no
 * API credentials for that, and it may run where the hooks did not: inside a
 * container that mounts only the checkout, with only the job's original
 * environment. So it finds the slice by the job's identity in the checkout
 * and takes the plugin options the plan phase saved there. Without a slice
 * made for this job it plans by itself, so `run` alone is a complete CLI. */
#include "cmd/cli_args.h"
#include "cmd/cmd.h"
#include "config/config.h"
#include "net/http.h"
#include "base/log.h"
#include "plan/plan_phase.h"
#include "plan/plan_refine.h"
#include "run/run_promise.h"
#include "run/run_phase.h"
#include "state/options_file.h"
#include "state/slice_file.h"
#include "state/state_dir.h"
#include <errno.h>
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

/* The slice made for this very job, or NULL (then it plans anew). */
static slice_t *usable_slice(config_t *cfg)
{
    slice_t *slice = NULL;
    char *err = NULL;
    if (!slice_file_read(cfg, &slice, &err)) {
        log_warn("%s; planning again", err);
        free(err);
    }
    if (slice && !*cfg->job_id) {
        /* Outside Buildkite nothing ties an old slice to this run: plan anew. */
        log_info("Not a Buildkite job (no BUILDKITE_JOB_ID): planning this run afresh");
        slice_file_free(slice);
        slice = NULL;
    }
    char *why = slice ? slice_file_mismatch(cfg, slice) : NULL;
    if (why) {
        log_warn("the slice in %s was made for %s; planning again", cfg->state_dir, why);
        free(why);
        slice_file_free(slice);
        slice = NULL;
    }
    return slice;
}

/* The fallback split files by test, and the plan phase could not ask pytest
 * which tests they hold now (the step's own setup provides pytest): asked
 * here, in the step's environment, before anything runs, so no test runs
 * twice and none is lost. */
static void settle_split_files(const config_t *cfg, slice_t *slice)
{
    log_section("split by example: this job's share of %zu split file%s", slice->n_splits,
                slice->n_splits == 1 ? "" : "s");
    plan_refine_slice(&slice->tests, slice->job, slice->parallelism, slice->splits, slice->n_splits,
                      &slice->elsewhere, config_test_command(cfg));
}

static int prepare_state(config_t *cfg, const cli_args_t *args)
{
    char *err = NULL;
    char *moved = state_dir_locate(cfg);
    if (moved) log_info("Running from %s, where the plan phase wrote this job's slice", moved);
    free(moved);
    /* the saved options first: the extra pytest arguments extend the command they give */
    bool ok = options_file_apply(cfg, &err) && cli_args_extend_commands(args, cfg, &err) &&
              state_dir_prepare(cfg, &err) && state_dir_lock(cfg, &err);
    if (!ok) {
        int status = state_dir_exit_status(cfg, errno); /* a full disk is no configuration error */
        log_error("%s", err);
        free(err);
        return status;
    }
    return 0;
}

/* The flags (cli_args.h), exported before the configuration loads. Returns
 * -1 to go on, else the status to exit with (after --help, or a bad flag). */
static int take_args(int argc, char **argv, cli_args_t *args)
{
    char *err = NULL;
    if (cli_args_parse(CLI_ARGS_RUN, argc, argv, args, &err) && cli_args_export(args, &err)) {
        if (!args->help) return -1;
        cli_args_print_run_help(stdout);
        return 0;
    }
    fprintf(stderr, TEP_NAME ": run: %s\n", err);
    free(err);
    config_t cfg; /* only for the configured usage status */
    config_load(&cfg);
    int status = (int)cfg.config_exit_status;
    config_free(&cfg);
    return status;
}

int cmd_run(int argc, char **argv)
{
    cli_args_t args;
    int early = take_args(argc, argv, &args);
    if (early >= 0) {
        cli_args_free(&args);
        return early;
    }
    config_t cfg;
    config_load(&cfg);
    config_print_warnings(&cfg, stderr);
    int status = prepare_state(&cfg, &args);
    slice_t *slice = status == 0 ? usable_slice(&cfg) : NULL;
    if (status == 0 && !slice) {
        status = plan_first(&cfg);
        char *err = NULL;
        /* No slice after planning is an error, whether absent or unreadable (err). */
        if (status == 0) slice_file_read(&cfg, &slice, &err);
        if (status == 0 && !slice) {
            log_error("the plan phase wrote no slice%s%s", err ? ": " : "", err ? err : "");
            status = (int)cfg.config_exit_status;
        }
        free(err);
    }
    bool have = slice != NULL;
    if (have && !config_validate(&cfg, PHASE_RUN)) {
        config_print_problems(&cfg, stderr);
        status = (int)cfg.config_exit_status;
    }
    if (have && status == 0 && slice->refine) settle_split_files(&cfg, slice);
    if (have && status == 0) {
        status = run_phase_run(&cfg, slice);
        run_promise_failure_if_needed(&cfg, status); /* never changes the status */
    }
    slice_file_free(slice);
    cli_args_free(&args);
    config_free(&cfg);
    return status;
}
