/* cmd_plan: `test-engine-pytest plan`, the pre-command phase. */
#include "cmd.h"
#include "config.h"
#include "http.h"
#include "planner.h"
#include <stdio.h>

int cmd_plan(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    config_t cfg;
    config_load(&cfg);
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
