/* cmd_report: `test-engine-pytest report`, the post-command phase. */
#include "cmd.h"
#include <stdio.h>

int cmd_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("test-engine-pytest: 'report' is not available yet in this build\n", stderr);
    return 0;
}
