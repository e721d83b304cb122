/* cmd_cleanup: `test-engine-pytest cleanup`, the pre-exit hook. */
#include "cmd/cmd.h"
#include "config/config.h"
#include "base/log.h"
#include "state/state_dir.h"
#include <stdio.h>
#include <stdlib.h>

/* Removes this job's state files (results included) once the report phase
 * is done with them, so long-lived agents do not collect tens of MB per job:
 * by name, never a tree (state_dir.h). What it keeps is said in one line.
 * Never fails the job. */
int cmd_cleanup(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    config_t cfg;
    config_load(&cfg);
    char *err = NULL, *note = NULL;
    free(state_dir_locate(&cfg));
    if (!state_dir_cleanup(&cfg, &note, &err)) {
        log_warn("cleanup: %s", err);
        free(err);
    }
    if (note) log_info("cleanup: %s", note);
    free(note);
    config_free(&cfg);
    return 0;
}
