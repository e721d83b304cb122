#include "report/report_metadata.h"
#include "base/buf.h"
#include "base/fs.h"
#include "net/engine_api.h"
#include <cjson/cJSON.h>
#include <stdio.h>

static void add_timeline_event(cJSON *timeline, double when, const char *name)
{
    char ts[40];
    fs_rfc3339(when, ts);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "timestamp", ts);
    cJSON_AddStringToObject(e, "event", name);
    cJSON_AddItemToArray(timeline, e);
}

char *report_metadata_body(const config_t *cfg, const run_record_t *rec)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "version", TEP_VERSION);
    cJSON_AddItemToObject(root, "env", engine_api_env_payload(cfg));
    cJSON *timeline = cJSON_AddArrayToObject(root, "timeline");
    for (size_t i = 0; i < rec->n_attempts; i++) {
        const attempt_t *a = &rec->attempts[i];
        char start[32], end[32];
        if (a->index == 0) {
            snprintf(start, sizeof start, "test_start");
            snprintf(end, sizeof end, "test_end");
        } else {
            snprintf(start, sizeof start, "retry_%d_start", a->index);
            snprintf(end, sizeof end, "retry_%d_end", a->index);
        }
        add_timeline_event(timeline, a->started, start);
        add_timeline_event(timeline, a->ended, end);
    }
    results_model_stats_t s;
    results_model_stats(&rec->result, &s);
    cJSON *st = cJSON_AddObjectToObject(root, "statistics");
    cJSON_AddNumberToObject(st, "total", (double)s.total);
    cJSON_AddNumberToObject(st, "passed_on_first_run", (double)s.passed_first);
    cJSON_AddNumberToObject(st, "passed_on_retry", (double)s.passed_retry);
    cJSON_AddNumberToObject(st, "muted_passed", (double)s.muted_passed);
    cJSON_AddNumberToObject(st, "muted_failed", (double)s.muted_failed);
    cJSON_AddNumberToObject(st, "failed", (double)(s.failed + s.collection_errors));
    cJSON_AddNumberToObject(st, "skipped", (double)s.skipped);
    char *json = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return json;
}
