/* cmd_plan: `test-engine-pytest plan`, the pre-command phase. */
#include "cmd.h"
#include "config.h"
#include "http.h"
#include "plan_phase.h"
#include "state_dir.h"
#include "log.h"
#include "plan_dynamic.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PIPELINE_UPLOAD "--pipeline-upload"

/* plan's own flags (bktec's): --json, or --pipeline-upload TEMPLATE; none
 * for the pre-command phase. Returns false on anything else. */
static bool parse_plan_flags(int argc, char **argv, bool *json, const char **tmpl)
{
    size_t n = strlen(PIPELINE_UPLOAD);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--json") == 0 && !*json) {
            *json = true;
        } else if (strcmp(a, PIPELINE_UPLOAD) == 0 && i + 1 < argc && !*tmpl && argv[i + 1][0]) {
            *tmpl = argv[++i];
        } else if (strncmp(a, PIPELINE_UPLOAD "=", n + 1) == 0 && a[n + 1] && !*tmpl) {
            *tmpl = a + n + 1;
        } else {
            fprintf(
                stderr,
                TEP_NAME
                ": plan: unexpected argument '%s'; plan takes --json or --pipeline-upload "
                "TEMPLATE (dynamic parallelism), other options are environment variables or plugin "
                "options (see test-engine-pytest --help)\n",
                a);
            return false;
        }
    }
    if (*json && *tmpl) {
        fputs(TEP_NAME ": plan: --json and --pipeline-upload exclude each other; choose one\n",
              stderr);
        return false;
    }
    return true;
}

int cmd_plan(int argc, char **argv)
{
    config_t cfg;
    config_load(&cfg);
    config_print_warnings(&cfg, stderr);
    bool json = false;
    const char *tmpl = NULL;
    int status;
    if (!parse_plan_flags(argc, argv, &json, &tmpl)) {
        status = (int)cfg.config_exit_status;
    } else if (json || tmpl) {
        status = plan_dynamic(&cfg, tmpl);
    } else if (!plan_phase_prepare(&cfg)) {
        status = (int)cfg.config_exit_status;
    } else {
        http_global_init();
        status = plan_phase_plan(&cfg);
        curl_global_cleanup();
    }
    config_free(&cfg);
    return status;
}
