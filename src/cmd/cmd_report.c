/* cmd_report: `test-engine-pytest report`, the post-command phase.
 *
 * Loads the settings and run.json, then runs the phase's steps
 * (report_phase.h). Best effort from start to end: every problem is reported
 * on one line and the exit status is always 0, so the job's status stays the
 * one the command phase chose (Buildkite lets post-command override it). */
#include "cmd/cmd.h"
#include "base/log.h"
#include "base/process.h"
#include "config/config.h"
#include "net/http.h"
#include "report/report_phase.h"
#include "state/run_record.h"
#include <stdio.h>
#include <stdlib.h>

int cmd_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    config_t cfg;
    config_load(&cfg);
    if (!config_validate(&cfg, PHASE_REPORT)) {
        config_print_problems(&cfg, stderr);
        log_warn("nothing is reported until the configuration is fixed; the job's exit status is "
                 "unchanged");
        config_free(&cfg);
        return 0;
    }
    run_record_t *rec = NULL;
    char *err = NULL;
    bool read = run_record_read(&cfg, &rec, &err);
    if (!read)
        log_warn("%s; nothing to report", err);
    else if (!rec)
        log_warn("no run result in %s; nothing to report (did the command phase run?)",
                 cfg.state_dir);
    if (!rec) {
        free(err);
        config_free(&cfg);
        return 0;
    }
    http_global_init();
    /* From here a cancellation is caught: the upload stops, the rest is kept short. */
    process_catch_signals();
    report_phase_run(&cfg, rec);
    run_record_delete(rec);
    curl_global_cleanup();
    config_free(&cfg);
    return 0;
}
