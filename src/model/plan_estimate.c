/* plan_estimate: see plan_estimate.h for the contract and the why. */
#include "model/plan_estimate.h"
#include "base/buf.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

plan_estimates_t *plan_estimates_new(void)
{
    plan_estimates_t *e = xcalloc(1, sizeof *e);
    e->mean_guess_s = -1;
    e->known_timings_ratio = -1;
    for (size_t i = 0; i < 3; i++) e->server_default_s[i] = -1;
    e->sorted = true;
    return e;
}

void plan_estimates_delete(plan_estimates_t *e)
{
    if (!e) return;
    for (size_t i = 0; i < e->len; i++) free(e->v[i].entry);
    free(e->v);
    free(e->timing_metadata_json);
    free(e);
}

/* Sorted by entry, then by when it was recorded. */
static int by_entry_then_seq(const void *a, const void *b)
{
    const plan_est_t *x = a, *y = b;
    int c = strcmp(x->entry, y->entry);
    if (c) return c;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Sorts the notes; of several for one entry the last recorded stays. */
static void sort_notes(plan_estimates_t *e)
{
    if (e->sorted) return;
    qsort(e->v, e->len, sizeof *e->v, by_entry_then_seq);
    size_t kept = 0;
    for (size_t i = 0; i < e->len; i++) {
        bool superseded = i + 1 < e->len && strcmp(e->v[i].entry, e->v[i + 1].entry) == 0;
        if (superseded)
            free(e->v[i].entry);
        else
            e->v[kept++] = e->v[i];
    }
    e->len = kept;
    e->sorted = true;
}

void plan_estimates_add(plan_estimates_t *e, const char *entry, double seconds, long samples,
                        plan_est_source_t source, plan_est_format_t format)
{
    plan_est_t *old = e->sorted ? plan_estimates_find(e, entry) : NULL;
    if (old) { /* replaced in place: the order stays sorted */
        old->seconds = seconds;
        old->samples = samples;
        old->source = source;
        old->format = format;
        return;
    }
    if (e->len == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 64;
        e->v = xrealloc(e->v, e->cap * sizeof *e->v);
    }
    if (e->len && strcmp(e->v[e->len - 1].entry, entry) >= 0) e->sorted = false;
    e->v[e->len] = (plan_est_t){.entry = xstrdup(entry),
                                .seconds = seconds,
                                .samples = samples,
                                .source = source,
                                .format = format,
                                .seq = e->next_seq++};
    e->len++;
}

plan_est_t *plan_estimates_find(plan_estimates_t *e, const char *entry)
{
    sort_notes(e);
    size_t lo = 0, hi = e->len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(e->v[mid].entry, entry);
        if (c == 0) return &e->v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

/* A default_duration in milliseconds as seconds, or -1. */
static double default_seconds(const cJSON *meta, const char *format)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(meta, format);
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(f, "default_duration");
    if (!cJSON_IsNumber(d) || !isfinite(d->valuedouble) || d->valuedouble < 0) return -1;
    return d->valuedouble / 1000.0;
}

void plan_estimates_read_server(plan_estimates_t *e, const cJSON *plan)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(plan, "timing_metadata");
    if (cJSON_IsObject(meta)) {
        free(e->timing_metadata_json);
        e->timing_metadata_json = cJSON_PrintUnformatted(meta);
        e->server_default_s[PLAN_EST_FORMAT_FILE] = default_seconds(meta, "file");
        e->server_default_s[PLAN_EST_FORMAT_EXAMPLE] = default_seconds(meta, "example");
        e->server_default_s[PLAN_EST_FORMAT_SELECTOR] = default_seconds(meta, "selector");
    }
    const cJSON *ratio = cJSON_GetObjectItemCaseSensitive(plan, "known_timings_ratio");
    if (cJSON_IsNumber(ratio) && ratio->valuedouble >= 0 && ratio->valuedouble <= 1)
        e->known_timings_ratio = ratio->valuedouble;
}

bool plan_est_has_history(plan_est_source_t source)
{
    return source == PLAN_EST_SERVER_TIMING || source == PLAN_EST_DURATIONS_FILE ||
           source == PLAN_EST_DURATIONS_TEST || source == PLAN_EST_DURATIONS_REST;
}

const char *plan_est_source_words(plan_est_source_t source)
{
    switch (source) {
    case PLAN_EST_NONE: return "no estimate";
    case PLAN_EST_SERVER_TIMING: return "Test Engine timing";
    case PLAN_EST_SERVER_DEFAULT: return "Test Engine default, no history";
    case PLAN_EST_SERVER: return "Test Engine estimate";
    case PLAN_EST_DURATIONS_FILE: return "the durations file";
    case PLAN_EST_DURATIONS_TEST: return "the durations file, a test of a split file";
    case PLAN_EST_DURATIONS_REST:
        return "the durations file, a split file less its tests on other jobs";
    case PLAN_EST_MEAN_OF_KNOWN: return "not in the durations file: the mean of the known";
    }
    return "?";
}

const char *plan_est_source_token(plan_est_source_t source)
{
    switch (source) {
    case PLAN_EST_NONE: return "none";
    case PLAN_EST_SERVER_TIMING: return "test_engine_timing";
    case PLAN_EST_SERVER_DEFAULT: return "test_engine_default";
    case PLAN_EST_SERVER: return "test_engine";
    case PLAN_EST_DURATIONS_FILE: return "durations_file";
    case PLAN_EST_DURATIONS_TEST: return "durations_file_test";
    case PLAN_EST_DURATIONS_REST: return "durations_file_rest";
    case PLAN_EST_MEAN_OF_KNOWN: return "mean_of_known";
    }
    return "?";
}

const char *plan_est_format_name(plan_est_format_t format)
{
    return format == PLAN_EST_FORMAT_SELECTOR  ? "selector"
           : format == PLAN_EST_FORMAT_EXAMPLE ? "example"
                                               : "file";
}

plan_est_format_t plan_est_format_parse(const char *format)
{
    if (format && strcmp(format, "selector") == 0) return PLAN_EST_FORMAT_SELECTOR;
    if (format && strcmp(format, "example") == 0) return PLAN_EST_FORMAT_EXAMPLE;
    return PLAN_EST_FORMAT_FILE;
}
