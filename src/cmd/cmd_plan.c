/* cmd_plan: `test-engine-pytest plan`, the pre-command phase; with flags,
 * the plan explained (plan_explain.h) or dynamic parallelism (plan_dynamic.h). */
#include "cmd/cli_args.h"
#include "cmd/cmd.h"
#include "config/config.h"
#include "net/http.h"
#include "base/log.h"
#include "plan/plan_dynamic.h"
#include "plan/plan_explain.h"
#include "plan/plan_phase.h"
#include <stdio.h>
#include <stdlib.h>

int cmd_plan(int argc, char **argv)
{
    cli_args_t args;
    char *err = NULL;
    bool ok =
        cli_args_parse(CLI_ARGS_PLAN, argc, argv, &args, &err) && cli_args_export(&args, &err);
    if (ok && args.help) {
        cli_args_free(&args);
        cli_args_print_plan_help(stdout);
        return 0;
    }
    config_t cfg;
    config_load(&cfg);
    config_print_warnings(&cfg, stderr);
    int status;
    if (!ok) {
        fprintf(stderr, TEP_NAME ": plan: %s\n", err);
        status = (int)cfg.config_exit_status;
    } else if (args.json || args.pipeline_upload) {
        status = plan_dynamic(&cfg, args.pipeline_upload);
    } else if (args.explain || args.plan_out) {
        status = plan_explain_run(&cfg, args.explain, args.plan_out);
    } else if (!plan_phase_prepare(&cfg)) {
        status = (int)cfg.config_exit_status;
    } else {
        http_global_init();
        status = plan_phase_plan(&cfg);
        curl_global_cleanup();
    }
    free(err);
    cli_args_free(&args);
    config_free(&cfg);
    return status;
}
