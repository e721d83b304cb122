#include "run/run_promise.h"
#include "base/timeouts.h"
#include "base/log.h"
#include "base/process.h"
#include <stdio.h>
#include <stdlib.h>

size_t run_promise_failures_due(const config_t *cfg, const run_record_t *rec, int status)
{
    if (!cfg->promise_failure || rec->terminal || status != (int)cfg->failure_exit_status) return 0;
    results_model_stats_t s;
    results_model_stats(&rec->result, &s);
    return s.failed; /* unmuted, collection errors apart */
}

/* The agent's own lines pass through; ours say how the call ended. */
static void call_promise_failure(const config_t *cfg, int status, size_t failed)
{
    char *code = xasprintf("%d", status);
    char *reason = xasprintf("test_failure (%zu failed after retries)", failed);
    char *const argv[] = {cfg->agent_cmd, "job", "promise-failure", code, "--reason", reason, NULL};
    /* The agent's own lines pass through: it says itself whether the promise
     * was recorded (it exits 0 when the feature is off for the organization). */
    process_opts_t o = {.argv = argv, .timeout_s = TIMEOUT_PROMISE_S, .stdin_path = "/dev/null"};
    process_result_t r;
    process_run(&o, &r);
    if (r.start_failed)
        log_warn("promise-failure: %s; the job's exit status is unchanged", r.error);
    else if (r.timed_out)
        log_warn("promise-failure: buildkite-agent job promise-failure did not finish within %d s "
                 "and was stopped; "
                 "the job's exit status is unchanged",
                 TIMEOUT_PROMISE_S);
    else if (r.signal || r.exit_code)
        log_warn("promise-failure: buildkite-agent job promise-failure exited %d; the job's exit "
                 "status is unchanged",
                 r.signal ? 128 + r.signal : r.exit_code);
    else
        log_info("promise-failure: buildkite-agent job promise-failure completed (its output above "
                 "says the result)");
    process_result_free(&r);
    free(reason);
    free(code);
}

void run_promise_failure_if_needed(const config_t *cfg, int status)
{
    if (!cfg->promise_failure) return;
    run_record_t *rec = NULL;
    char *err = NULL;
    if (!run_record_read(cfg, &rec, &err)) {
        log_warn("promise-failure: %s; no early failure declared", err);
        free(err);
        return;
    }
    if (!rec) return; /* no run.json: nothing ran, nothing to declare */
    size_t failed = run_promise_failures_due(cfg, rec, status);
    if (failed) {
        log_section("Declaring early failure: %zu hard test failure%s remain%s after retries",
                    failed, failed == 1 ? "" : "s", failed == 1 ? "s" : "");
        call_promise_failure(cfg, status, failed);
    }
    run_record_delete(rec);
}
