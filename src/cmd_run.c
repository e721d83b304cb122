/* cmd_run: `test-engine-pytest run`, the command phase. */
#include "cmd.h"
#include <stdio.h>

int cmd_run(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fputs("test-engine-pytest: 'run' is not available yet in this build\n", stderr);
    return 78;
}
