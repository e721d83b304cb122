#include "report/report_phase.h"
#include "base/compat.h"
#include "base/log.h"
#include "base/process.h"
#include "net/agent.h"
#include "net/engine_api.h"
#include "net/http.h"
#include "net/oidc.h"
#include "report/report_annotate.h"
#include "report/report_durations.h"
#include "report/report_metadata.h"
#include "report/report_upload.h"
#include "report/report_walk.h"
#include "state/retrysel.h"
#include "state/state_dir.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Whether results are to be uploaded: the option is on and there is a token. */
static bool upload_ready(config_t *cfg)
{
    if (!cfg->upload_results) {
        log_info("Upload: off (BUILDKITE_TEST_ENGINE_UPLOAD_RESULTS=false)");
        return false;
    }
    char *err = NULL;
    char *note = NULL;
    if (!oidc_fill_upload_token(cfg, &note, &err)) {
        log_warn("%s; results are not uploaded", err);
        free(err);
        return false;
    }
    if (note) log_info("%s", note);
    free(note);
    if (!*cfg->upload_token) {
        log_warn("BUILDKITE_ANALYTICS_TOKEN is not set; results are not uploaded to Test Engine");
        return false;
    }
    return true;
}

/* An attempt whose result file run.json does not name as one of the run's
 * own (results/attempt-N...) is not read: said, not skipped in silence. */
static void say_unnamed_results(const run_record_t *rec)
{
    for (size_t i = 0; i < rec->n_attempts; i++)
        if (!rec->attempts[i].result_file)
            log_warn("run.json names no result file of this run for attempt %d; its results "
                     "are not reported (run the command phase again)",
                     rec->attempts[i].index);
}

/* The result files' bytes, for the upload's ceiling. */
static size_t result_bytes(const config_t *cfg, const run_record_t *rec)
{
    size_t bytes = 0;
    for (size_t i = 0; i < rec->n_attempts; i++) {
        if (!rec->attempts[i].result_file) continue; /* none of ours: never read */
        char *path = state_dir_file(cfg, rec->attempts[i].result_file);
        struct stat st;
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) bytes += (size_t)st.st_size;
        free(path);
    }
    return bytes;
}

static void say_upload(const report_upload_summary_t *up)
{
    char *shortfall = report_upload_shortfall(up);
    bool unexplained =
        up->failed_requests && !shortfall; /* e.g. unreadable XML sent whole, then refused */
    log_info("Upload: %zu result%s in %zu request%s (%.2fs)%s", up->records,
             up->records == 1 ? "" : "s", up->requests, up->requests == 1 ? "" : "s", up->seconds,
             unexplained ? "; failed requests: see the warnings above" : "");
    if (up->halvings)
        log_info("Upload: the upload API refused a batch as too large (HTTP 413): halved %zu "
                 "time%s; batches then held at most %zu results",
                 up->halvings, up->halvings == 1 ? "" : "s", up->smallest_batch);
    if (shortfall) log_warn("%s", shortfall);
    free(shortfall);
}

/* Uploads the durations file as an artifact; one line says what happened. */
static void publish_durations(const config_t *cfg, const char *name, size_t n)
{
    const char *tests = n == 1 ? "test" : "tests";
    int sig = process_forwarded_signal();
    if (n == 0) {
        log_info("Durations: none recorded (no result reported a test's time)");
    } else if (sig) {
        const char *abbrev = compat_sigabbrev(sig);
        log_warn("Durations: %zu %s in %s/%s, not uploaded: the job is being cancelled (SIG%s)", n,
                 tests, cfg->state_dir, name, abbrev ? abbrev : "?");
    } else if (!*cfg->job_id) {
        log_info("Durations: %zu %s in %s/%s (not a Buildkite job: no artifact uploaded)", n, tests,
                 cfg->state_dir, name);
    } else {
        const char *args[] = {"artifact", "upload", name, NULL};
        char *err = NULL;
        if (agent_call(cfg, args, NULL, cfg->state_dir, NULL, &err))
            log_info("Durations: %zu %s uploaded as artifact %s", n, tests, name);
        else
            log_warn("Durations: %zu %s recorded, but the artifact %s could not be uploaded: %s", n,
                     tests, name, err);
        free(err);
    }
}

/* One pass over the result files: the upload (when it is on) and the
 * durations artifact. Returns whether an upload was attempted. */
static bool stream_results(config_t *cfg, const run_record_t *rec, report_upload_summary_t *up)
{
    memset(up, 0, sizeof *up);
    report_uploader_t *u =
        upload_ready(cfg) ? report_upload_start(cfg, report_walk_json(rec), result_bytes(cfg, rec),
                                                process_forwarded_signal, up)
                          : NULL;
    char *name = report_durations_name(cfg);
    char *path = state_dir_file(cfg, name);
    char *err = NULL;
    report_durations_t d;
    bool durations = report_durations_open(&d, path, &rec->result, &err);
    if (!durations) log_warn("Durations: not recorded: %s", err);
    free(err);
    err = NULL;
    report_walk_sink_t sinks[2];
    size_t n = 0;
    if (u) sinks[n++] = report_upload_sink(u);
    if (durations) sinks[n++] = report_durations_sink(&d);
    report_walk_stats_t walked;
    report_walk_run(cfg, rec, sinks, n, &walked);
    log_debug("results: %zu file%s, %zu read from the run phase's index; %zu records parsed",
              walked.files, walked.files == 1 ? "" : "s", walked.indexed, walked.parsed);
    if (u) {
        report_upload_finish(u);
        say_upload(up);
    }
    size_t written = 0;
    if (durations && report_durations_close(&d, &written, &err))
        publish_durations(cfg, name, written);
    else if (durations)
        log_warn("Durations: not recorded: %s", err);
    free(err);
    free(path);
    free(name);
    return u != NULL;
}

static void publish_selectors(const config_t *cfg, const run_record_t *rec)
{
    if (rec->terminal) {
        log_info("Retry selectors: none published (terminal outcome: a retry cannot fix it)");
        return;
    }
    strlist_t failed;
    strlist_init(&failed);
    /* Only a plain test failure is narrowed down; any other outcome (signal,
     * pytest's own 2-5) leaves "none", so a retry runs the whole slice. */
    if (rec->exit_status == (int)cfg->failure_exit_status) {
        for (size_t i = 0; i < rec->result.len; i++) {
            const test_result_t *t = &rec->result.tests[i];
            if (t->status == ST_FAILED && !t->muted && !t->collection_error)
                strlist_push(&failed, t->node_id);
        }
    }
    char *err = NULL, *where = NULL;
    if (retrysel_publish(cfg, &failed, &where, &err))
        log_info("Retry selectors: %zu failed test%s in %s", failed.len, failed.len == 1 ? "" : "s",
                 where);
    else
        log_warn("could not publish retry selectors: %s", err);
    free(err);
    free(where);
    strlist_free(&failed);
}

static void annotate_step(const config_t *cfg, const run_record_t *rec,
                          const report_upload_summary_t *up)
{
    char *err = NULL;
    if (!report_annotate_send(cfg, rec, up, &err))
        log_warn("could not write the annotation: %s", err);
    free(err);
}

static void post_metadata(config_t *cfg, const run_record_t *rec)
{
    if (!rec->from_server) return; /* bktec's rule: fallback plans send no metadata */
    int sig = process_forwarded_signal();
    if (sig) {
        const char *name = compat_sigabbrev(sig);
        log_warn("plan metadata not sent: the job is being cancelled (SIG%s)", name ? name : "?");
        return;
    }
    char *mint_err = NULL;
    char *note = NULL;
    if (!oidc_fill_api_token(cfg, &note, &mint_err)) {
        log_warn("plan metadata not sent: %s", mint_err);
        free(mint_err);
        return;
    }
    if (note) log_info("%s", note);
    free(note);
    if (!*cfg->api_token || !*cfg->suite_slug || !*cfg->org_slug) {
        log_warn(
            "plan metadata not sent: the API token, suite slug or organization slug is missing");
        return;
    }
    http_client_t c;
    engine_api_client_init(&c, cfg);
    c.stop = process_forwarded_signal;
    char *body = report_metadata_body(cfg, rec);
    char *err = NULL;
    if (engine_api_post_metadata(&c, cfg, body, &err))
        log_info("Plan metadata: sent");
    else
        log_warn("plan metadata could not be sent: %s", err);
    free(err);
    free(body);
    http_client_free(&c);
}

void report_phase_run(config_t *cfg, const run_record_t *rec)
{
    log_section("report");
    say_unnamed_results(rec);
    publish_selectors(cfg, rec);
    annotate_step(cfg, rec, NULL);
    report_upload_summary_t up;
    bool uploaded = stream_results(cfg, rec, &up);
    /* The annotation learns the upload's outcome (and run link); skipped when
     * cancelled: the agent's SIGKILL is near and the annotation already exists. */
    if (uploaded && up.requests && !process_forwarded_signal()) annotate_step(cfg, rec, &up);
    post_metadata(cfg, rec);
    report_upload_summary_free(&up);
}
