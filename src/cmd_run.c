/* cmd_run: `test-engine-pytest run`, the command phase. Without a slice from
 * an earlier `plan`, it plans first, so `run` alone is a complete CLI. */
#include "cmd.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "planner.h"
#include "runner.h"
#include "state.h"
#include <stdio.h>
#include <stdlib.h>

static int plan_first(config_t *cfg)
{
    if (!planner_prepare(cfg)) return (int)cfg->config_exit_status;
    http_global_init();
    int status = planner_plan(cfg);
    curl_global_cleanup();
    return status;
}

int cmd_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    config_t cfg;
    config_load(&cfg);
    int status = 0;
    slice_t slice;
    char *err = NULL;
    bool have = slice_read(&cfg, &slice, &err);
    if (!have && err) {
        log_error("%s", err);
        free(err);
        status = (int)cfg.config_exit_status;
    } else if (!have) {
        slice_free(&slice);
        status = plan_first(&cfg);
        if (status == 0 && !slice_read(&cfg, &slice, &err)) {
            log_error("the plan phase wrote no slice%s%s", err ? ": " : "", err ? err : "");
            free(err);
            status = (int)cfg.config_exit_status;
        }
        have = status == 0;
    } else if (!config_validate(&cfg, PHASE_RUN)) {
        config_print_problems(&cfg, stderr);
        status = (int)cfg.config_exit_status;
    }
    if (have && status == 0) status = runner_run(&cfg, &slice);
    if (have) slice_free(&slice);
    config_free(&cfg);
    return status;
}
