/* bench-discover: times plan_discover_walk() on a tree, printing seconds and the
 * number of files, so bench/discover.sh can compare it with find(1). */
#include "plan/plan_discover.h"
#include "base/fs.h"
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: bench-discover <dir> [pattern]\n");
        return 2;
    }
    const char *pattern = argc > 2 ? argv[2] : "**/{*_test,test_*}.py";
    strlist_t files;
    strlist_init(&files);
    char *err = NULL;
    double t0 = fs_monotonic();
    bool ok = plan_discover_walk(argv[1], pattern, NULL, &files, &err);
    double t1 = fs_monotonic();
    if (!ok) {
        fprintf(stderr, "%s\n", err);
        free(err);
    }
    printf("%zu %.6f\n", files.len, t1 - t0);
    strlist_free(&files);
    return ok ? 0 : 1;
}
