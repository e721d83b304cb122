/* cmd_cleanup: `test-engine-pytest cleanup`, the pre-exit hook. */
#include "cmd.h"
#include "config.h"
#include "log.h"
#include "state_dir.h"
#include <stdio.h>
#include <stdlib.h>

/* Removes this job's state
 * directory (results included) once the report phase is done with it, so
 * long-lived agents do not collect tens of MB per job. Never fails the job. */
int cmd_cleanup(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    config_t cfg;
    config_load(&cfg);
    char *err = NULL;
    free(state_dir_locate(&cfg));
    if (!state_dir_cleanup(&cfg, &err)) {
        fprintf(stderr, TEP_NAME ": warning: %s\n", err);
        free(err);
    }
    config_free(&cfg);
    return 0;
}
