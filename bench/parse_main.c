/* bench-parse: parse and run_classify a collector JSON file the way `run` does
 * (the streaming model: counts, failures kept), then print
 * "<records> <seconds> <peak RSS bytes> <status>" for bench/parse.sh. */
#include "run/run_classify.h"
#include "results/results_json.h"
#include "config/config.h"
#include "base/fs.h"
#include "base/log.h"
#include "results/results_model.h"
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

/* The reader's warnings, shown as `run` shows them. */
static void warn_line(void *user, const char *line)
{
    (void)user;
    log_warn("%s", line);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: bench-parse <collector.json>\n");
        return 2;
    }
    double t0 = fs_monotonic();
    results_model_t r;
    results_model_init(&r, NULL, 0);
    results_json_scan_t scan;
    results_json_read_records(argv[1], results_model_add_fn, &r, warn_line, NULL, &scan);
    results_model_stats_t s;
    results_model_stats(&r, &s);
    outcome_t o = {.json_mode = true,
                   .last_exit = 1,
                   .unreadable = scan.error != NULL,
                   .collection_errors = s.collection_errors,
                   .failed = s.failed,
                   .muted_failed = s.muted_failed};
    config_t cfg = {.failure_exit_status = 1, .terminal_exit_status = 65};
    bool terminal;
    int status = run_classify(&cfg, &o, &terminal);
    double t1 = fs_monotonic();
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%zu %.6f %ld %d\n", s.total + r.skipped_records, t1 - t0, ru.ru_maxrss * 1024L, status);
    results_model_free(&r);
    bool ok = scan.error == NULL;
    free(scan.error);
    return ok ? 0 : 1;
}
