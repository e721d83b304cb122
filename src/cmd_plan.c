/* cmd_plan: `test-engine-pytest plan`, the pre-command phase. */
#include "cmd.h"
#include "config.h"
#include "http.h"
#include "planner.h"
#include "state.h"
#include "log.h"
#include <stdio.h>
#include <stdlib.h>

int cmd_plan(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    config_t cfg;
    config_load(&cfg);
    config_print_warnings(&cfg, stderr);
    int status;
    if (!planner_prepare(&cfg)) {
        status = (int)cfg.config_exit_status;
    } else {
        http_global_init();
        status = planner_plan(&cfg);
        curl_global_cleanup();
    }
    config_free(&cfg);
    return status;
}

/* `test-engine-pytest cleanup`, the pre-exit hook: removes this job's state
 * directory (results included) once the report phase is done with it, so
 * long-lived agents do not collect tens of MB per job. Never fails the job. */
int cmd_cleanup(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    config_t cfg;
    config_load(&cfg);
    char *moved = NULL, *err = NULL;
    state_locate(&cfg, &moved);
    free(moved);
    if (!state_cleanup(&cfg, &err)) {
        fprintf(stderr, TEP_NAME ": warning: %s\n", err);
        free(err);
    }
    config_free(&cfg);
    return 0;
}
