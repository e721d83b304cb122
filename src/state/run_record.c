#include "state/run_record.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/fs.h"
#include "base/jsoncut.h"
#include "base/json_get.h"
#include "base/jsontext.h"
#include "results/results_json.h"
#include "state/state_dir.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RUN_RECORD_NAME "run.json"

void run_record_took(const run_record_t *rec, double *first_s, double *retries_s)
{
    *first_s = *retries_s = -1;
    for (size_t i = 0; i < rec->n_attempts; i++) {
        const attempt_t *a = &rec->attempts[i];
        double s = a->ended >= a->started && a->started > 0 ? a->ended - a->started : 0;
        if (a->index == 0)
            *first_s = s;
        else
            *retries_s = (*retries_s < 0 ? 0 : *retries_s) + s;
    }
}

/* ---- writing ---- */

static void add_stats_json(cJSON *o, const results_model_stats_t *s, size_t skipped_records)
{
    cJSON_AddNumberToObject(o, "total", (double)s->total);
    cJSON_AddNumberToObject(o, "passed_first", (double)s->passed_first);
    cJSON_AddNumberToObject(o, "passed_retry", (double)s->passed_retry);
    cJSON_AddNumberToObject(o, "flaky", (double)s->flaky);
    cJSON_AddNumberToObject(o, "failed", (double)s->failed);
    cJSON_AddNumberToObject(o, "muted_passed", (double)s->muted_passed);
    cJSON_AddNumberToObject(o, "muted_failed", (double)s->muted_failed);
    cJSON_AddNumberToObject(o, "skipped", (double)s->skipped);
    cJSON_AddNumberToObject(o, "unknown", (double)s->unknown);
    cJSON_AddNumberToObject(o, "collection_errors", (double)s->collection_errors);
    cJSON_AddNumberToObject(o, "unreadable_records", (double)skipped_records);
}

static cJSON *attempt_json(const attempt_t *a)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "index", a->index);
    cJSON_AddStringToObject(o, "result_file", a->result_file);
    cJSON_AddNumberToObject(o, "exit_code", a->exit_code);
    cJSON_AddNumberToObject(o, "signal", a->signal);
    cJSON_AddNumberToObject(o, "started", a->started);
    cJSON_AddNumberToObject(o, "ended", a->ended);
    cJSON_AddNumberToObject(o, "selectors", (double)a->n_selectors);
    cJSON_AddStringToObject(o, "id_prefix", a->id_prefix ? a->id_prefix : "");
    return o;
}

static cJSON *timing_json(const results_timing_t *t)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *est = cJSON_AddObjectToObject(o, "estimate");
    cJSON_AddNumberToObject(est, "seconds", t->estimate_s);
    cJSON_AddStringToObject(est, "basis", t->estimate_basis ? t->estimate_basis : "none");
    cJSON_AddNumberToObject(est, "samples", (double)t->samples);
    cJSON_AddNumberToObject(est, "with_history", (double)t->with_history);
    cJSON_AddNumberToObject(est, "entries", (double)t->entries);
    results_timing_test_t slow[RESULTS_TIMING_SLOWEST];
    results_timing_slowest(t, slow);
    cJSON *list = cJSON_AddArrayToObject(o, "slowest");
    for (size_t i = 0; i < t->n_slowest; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "node_id", slow[i].node_id);
        cJSON_AddNumberToObject(e, "seconds", slow[i].seconds);
        cJSON_AddItemToArray(list, e);
    }
    cJSON *reasons = cJSON_AddArrayToObject(o, "skip_reasons");
    for (size_t i = 0; i < t->n_reasons; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "reason", t->reasons[i].reason);
        cJSON_AddNumberToObject(e, "count", (double)t->reasons[i].count);
        cJSON_AddStringToObject(e, "example", t->reasons[i].example);
        cJSON_AddItemToArray(reasons, e);
    }
    cJSON_AddNumberToObject(o, "skipped", (double)t->skipped);
    cJSON_AddNumberToObject(o, "skipped_other", (double)t->skipped_other);
    cJSON_AddNumberToObject(o, "timed", (double)t->timed);
    cJSON_AddNumberToObject(o, "tests_seconds", t->tests_s);
    return o;
}

static cJSON *header_json(const run_record_t *rec)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddNumberToObject(root, "version", RUN_RECORD_VERSION);
    cJSON_AddStringToObject(root, "mode", rec->mode);
    cJSON_AddStringToObject(root, "plan_source", rec->plan_source);
    cJSON_AddStringToObject(root, "plan_reason", rec->plan_reason);
    cJSON_AddBoolToObject(root, "from_server", rec->from_server);
    cJSON_AddNumberToObject(root, "exit_status", rec->exit_status);
    cJSON_AddBoolToObject(root, "terminal", rec->terminal);
    cJSON_AddStringToObject(root, "why", rec->why ? rec->why : "");
    cJSON_AddStringToObject(root, "forensics", rec->forensics ? rec->forensics : "");
    cJSON *running = cJSON_AddArrayToObject(root, "running");
    for (size_t i = 0; i < rec->running.len; i++)
        cJSON_AddItemToArray(running, cJSON_CreateString(rec->running.items[i]));
    cJSON_AddNumberToObject(root, "salvaged", (double)rec->salvaged);
    cJSON *atts = cJSON_AddArrayToObject(root, "attempts");
    for (size_t i = 0; i < rec->n_attempts; i++)
        cJSON_AddItemToArray(atts, attempt_json(&rec->attempts[i]));
    results_model_stats_t s;
    results_model_stats(&rec->result, &s);
    add_stats_json(cJSON_AddObjectToObject(root, "counts"), &s, rec->result.skipped_records);
    add_stats_json(cJSON_AddObjectToObject(root, "settled"), &rec->result.settled,
                   rec->result.skipped_records);
    cJSON_AddItemToObject(root, "timing", timing_json(&rec->timing));
    cJSON_AddNumberToObject(root, "failures", (double)rec->result.len);
    return root;
}

/* One failed test, by hand: a cJSON tree per test would cost more than the test. */
static void put_failed_test(buf_t *b, const test_result_t *t)
{
    buf_puts(b, ",\n{\"node_id\":");
    jsontext_put_string(b, t->node_id, false); /* byte for byte: it becomes a retry selector */
    if (t->file) {
        buf_puts(b, ",\"file\":");
        jsontext_put_string(b, t->file, false);
    }
    buf_printf(b, ",\"status\":\"%s\",\"attempts\":%d", results_model_status_name(t->status),
               t->attempts);
    if (t->failed_before) buf_puts(b, ",\"failed_before\":true");
    if (results_model_is_flaky(t)) buf_puts(b, ",\"flaky\":true");
    if (t->muted) buf_puts(b, ",\"muted\":true");
    if (t->collection_error) buf_puts(b, ",\"collection_error\":true");
    if (t->failure) {
        buf_puts(b, ",\"cause\":");
        jsontext_put_string(b, t->failure, false);
    }
    buf_putc(b, '}');
}

/* The header, then one failed test at a time: never the whole file in memory. */
static void put_run_record(FILE *f, const run_record_t *rec)
{
    cJSON *header = header_json(rec);
    char *json = cJSON_PrintUnformatted(header);
    cJSON_Delete(header);
    fputc('[', f);
    fputs(json, f);
    free(json);
    buf_t b = BUF_INIT;
    for (size_t i = 0; i < rec->result.len; i++) {
        buf_reset(&b);
        put_failed_test(&b, &rec->result.tests[i]);
        fwrite(b.data, 1, b.len, f);
    }
    buf_free(&b);
    fputs("]\n", f);
}

static bool write_record_file(const char *path, const run_record_t *rec)
{
    fs_atomic_t w;
    bool ok = fs_atomic_begin_durable(&w, path); /* the results report uploads */
    if (ok) {
        put_run_record(w.f, rec);
        ok = fs_atomic_finish(&w);
    }
    return ok;
}

bool run_record_write(const config_t *cfg, const run_record_t *rec, char **err)
{
    char *path = state_dir_file(cfg, RUN_RECORD_NAME);
    bool ok = write_record_file(path, rec);
    /* A full disk (pytest's results filled it): the room kept for run.json. */
    if (!ok && fs_errno_is_full(errno) && state_dir_release_reserve(cfg))
        ok = write_record_file(path, rec);
    if (!ok) state_dir_write_error(path, errno, err);
    free(path);
    return ok;
}

/* ---- reading ---- */

static void read_stats_json(const cJSON *o, results_model_stats_t *s)
{
    s->total = json_get_count(o, "total");
    s->passed_first = json_get_count(o, "passed_first");
    s->passed_retry = json_get_count(o, "passed_retry");
    s->flaky = json_get_count(o, "flaky");
    s->failed = json_get_count(o, "failed");
    s->muted_passed = json_get_count(o, "muted_passed");
    s->muted_failed = json_get_count(o, "muted_failed");
    s->skipped = json_get_count(o, "skipped");
    s->unknown = json_get_count(o, "unknown");
    s->collection_errors = json_get_count(o, "collection_errors");
}

static void read_attempts(run_record_t *rec, const cJSON *atts)
{
    int n = cJSON_GetArraySize(atts);
    rec->attempts = xcalloc((size_t)(n > 0 ? n : 1), sizeof(attempt_t));
    const cJSON *a;
    cJSON_ArrayForEach(a, atts)
    {
        attempt_t *at = &rec->attempts[rec->n_attempts++];
        at->index = (int)json_get_long(a, "index", -1000000, 1000000, 0);
        at->result_file = state_dir_result_file(json_get_str(a, "result_file")); /* or NULL */
        at->exit_code = (int)json_get_long(a, "exit_code", -1000000, 1000000, 0);
        at->signal = (int)json_get_long(a, "signal", -1000000, 1000000, 0);
        at->started = json_get_num(a, "started");
        at->ended = json_get_num(a, "ended");
        at->n_selectors = json_get_count(a, "selectors");
        at->id_prefix = json_get_strdup(a, "id_prefix");
    }
}

/* A number of seconds from another process: finite and not negative, else -1. */
static double seconds_of(const cJSON *o, const char *key)
{
    double s = json_get_num(o, key);
    return isfinite(s) && s >= 0 && s < 1e12 ? s : -1;
}

/* Bounded as the writer bounds it, whatever the file holds. */
static void read_timing(results_timing_t *t, const cJSON *o)
{
    const cJSON *est = cJSON_GetObjectItemCaseSensitive(o, "estimate"), *e;
    t->estimate_s = seconds_of(est, "seconds");
    free(t->estimate_basis);
    t->estimate_basis = xstrdup(cJSON_IsObject(est) ? json_get_str(est, "basis") : "none");
    t->samples = json_get_long(est, "samples", -1, 1000000000000L, -1);
    t->with_history = json_get_count(est, "with_history");
    t->entries = json_get_count(est, "entries");
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "slowest"))
    {
        const char *id = json_get_str(e, "node_id");
        double s = seconds_of(e, "seconds");
        if (*id && s >= 0) results_timing_put_slow(t, id, s);
    }
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(o, "skip_reasons"))
    {
        char *reason = results_timing_reason_text(json_get_str(e, "reason"));
        results_timing_put_reason(t, reason, json_get_count(e, "count"),
                                  json_get_str(e, "example"));
        free(reason);
    }
    t->skipped = json_get_count(o, "skipped");
    t->skipped_other += json_get_count(o, "skipped_other");
    t->timed = json_get_count(o, "timed");
    double total = seconds_of(o, "tests_seconds");
    t->tests_s = total > 0 ? total : 0;
}

/* A failed test's strings, decoded: reused from one test to the next. */
typedef struct {
    buf_t node_id, file, cause, status;
} failed_scratch_t;

typedef struct {
    run_record_t *rec;
    const char *path;
    size_t elements;
    size_t expected; /* failures the header announced */
    char *error;     /* first problem */
    failed_scratch_t scratch;
} record_reader_t;

static void read_record_header(record_reader_t *rd, const cJSON *h)
{
    run_record_t *rec = rd->rec;
    if (!state_dir_version_is(h, RUN_RECORD_VERSION)) {
        char what[48] = "no format version";
        const cJSON *version = cJSON_GetObjectItemCaseSensitive(h, "version");
        if (cJSON_IsNumber(version))
            snprintf(what, sizeof what, "format version %g", version->valuedouble);
        err_set(&rd->error,
                "%s has %s, this test-engine-pytest reads version %d; run the command phase with "
                "the same test-engine-pytest as the report phase",
                rd->path, what, RUN_RECORD_VERSION);
        return;
    }
    rec->mode = json_get_strdup(h, "mode");
    rec->plan_source = json_get_strdup(h, "plan_source");
    rec->plan_reason = json_get_strdup(h, "plan_reason");
    rec->from_server = json_get_bool(h, "from_server");
    rec->exit_status = (int)json_get_long(h, "exit_status", -1000000, 1000000, 0);
    rec->terminal = json_get_bool(h, "terminal");
    rec->why = json_get_strdup(h, "why");
    rec->forensics = json_get_strdup(h, "forensics");
    read_attempts(rec, cJSON_GetObjectItemCaseSensitive(h, "attempts"));
    const cJSON *running = cJSON_GetObjectItemCaseSensitive(h, "running"), *r;
    cJSON_ArrayForEach(r, running) if (cJSON_IsString(r))
        strlist_push(&rec->running, r->valuestring);
    rec->salvaged = json_get_count(h, "salvaged");
    const cJSON *settled = cJSON_GetObjectItemCaseSensitive(h, "settled");
    read_stats_json(settled, &rec->result.settled);
    rec->result.skipped_records = json_get_count(settled, "unreadable_records");
    read_timing(&rec->timing, cJSON_GetObjectItemCaseSensitive(h, "timing"));
    rd->expected = json_get_count(h, "failures");
    results_model_reserve(&rec->result, rd->expected);
}

/* ---- a failed test: cut, not parsed ----
 * A broken build's run.json lists 10,000 failed tests and more; a cJSON tree
 * for each cost more than the rest of the report's start. Each one is a flat
 * object this file wrote (put_failed_test), so its members are picked out
 * (jsoncut_pick, strict: JSON's commas, each value a JSON string, number,
 * word or nested value) and the few used are decoded where they lie. A
 * broken or NUL-bearing string among those used damages the element too (a
 * node id becomes a retry selector byte for byte). Keys are taken as written
 * (this file writes no escapes in them); the members not used are not
 * decoded, nor nested values checked inside. */

enum {
    M_NODE_ID,
    M_FILE,
    M_CAUSE,
    M_STATUS,
    M_ATTEMPTS,
    M_FAILED_BEFORE,
    M_MUTED,
    M_COLLECTION_ERROR,
    M_COUNT
};
static const char *const FAILED_KEYS[M_COUNT] = {
    "node_id", "file", "cause", "status", "attempts", "failed_before", "muted", "collection_error"};

/* The member's string, decoded into out (NUL-terminated), or NULL when it is
 * absent or not a string. false when it is a broken string literal or holds
 * a NUL (escaped, or the byte). */
static bool member_string(const jsoncut_value_t *m, int i, buf_t *out, const char **s)
{
    *s = NULL;
    buf_reset(out);
    if (!m[i].v || m[i].v[0] != '"') return true;
    if (jsontext_decode(m[i].v, m[i].len, out) != JSONTEXT_OK) return false;
    *s = out->data;
    return true;
}

/* json_get_long's rule: a number in [-1e6, 1e6] truncated, anything else 0. */
static int member_attempts(const jsoncut_value_t *m)
{
    char num[40];
    jsoncut_value_t a = m[M_ATTEMPTS];
    if (!a.v || a.len >= sizeof num || !jsoncut_is_number(a.v, a.len)) return 0;
    memcpy(num, a.v, a.len);
    num[a.len] = '\0';
    double d = strtod(num, NULL);
    return d >= -1000000 && d <= 1000000 ? (int)d : 0;
}

static void read_failed_test(record_reader_t *rd, const char *raw, size_t len, failed_scratch_t *sc)
{
    jsoncut_value_t m[M_COUNT];
    const char *node_id, *file, *cause, *status;
    if (!jsoncut_pick(raw, len, FAILED_KEYS, M_COUNT, m, true) ||
        !member_string(m, M_NODE_ID, &sc->node_id, &node_id) ||
        !member_string(m, M_FILE, &sc->file, &file) ||
        !member_string(m, M_CAUSE, &sc->cause, &cause) ||
        !member_string(m, M_STATUS, &sc->status, &status)) {
        err_set(&rd->error, "%s: element %zu is not a JSON object", rd->path, rd->elements);
        return;
    }
    if (!node_id) {
        err_set(&rd->error, "%s: failed test %zu has no node id", rd->path, rd->elements - 1);
        return;
    }
    test_result_t *r =
        results_model_track(&rd->rec->result, node_id, file, results_model_status_parse(status),
                            cause, jsoncut_value_is(m[M_COLLECTION_ERROR], "true"));
    r->attempts = member_attempts(m);
    r->failed_before = jsoncut_value_is(m[M_FAILED_BEFORE], "true");
    r->muted = jsoncut_value_is(m[M_MUTED], "true");
}

static void on_record_element(const char *raw, size_t len, void *user)
{
    record_reader_t *rd = user;
    rd->elements++;
    if (rd->error) return;
    if (rd->elements > 1) {
        read_failed_test(rd, raw, len, &rd->scratch);
        return;
    }
    cJSON *item = cJSON_ParseWithLength(raw, len);
    if (!cJSON_IsObject(item))
        err_set(&rd->error, "%s: element %zu is not a JSON object", rd->path, rd->elements);
    else
        read_record_header(rd, item);
    cJSON_Delete(item);
}

/* An object at the top is the format before version 2. */
static bool is_version1_record(const char *path)
{
    FILE *f = fopen(path, "rb");
    int c = ' ';
    while (f && (c = fgetc(f)) != EOF && (c == ' ' || c == '\n' || c == '\r' || c == '\t')) {
    }
    if (f) fclose(f);
    return c == '{';
}

/* The checks that need the whole file: its shape and the failure count. */
static void check_record_file(record_reader_t *rd)
{
    if (is_version1_record(rd->path)) {
        err_set(&rd->error,
                "%s has format version 1, this test-engine-pytest reads version %d; run the "
                "command phase with the same test-engine-pytest as the report phase",
                rd->path, RUN_RECORD_VERSION);
        return;
    }
    results_json_scan_t scan;
    results_json_scan_file(rd->path, on_record_element, rd, &scan);
    if (rd->error) {
        free(scan.error);
        return;
    }
    if (scan.error)
        err_set(&rd->error, "%s is damaged (%s); run the command phase again", rd->path,
                scan.error);
    else if (rd->elements == 0)
        err_set(&rd->error, "%s is empty; run the command phase again", rd->path);
    else if (rd->elements - 1 != rd->expected)
        err_set(&rd->error,
                "%s lists %zu failed tests but its header says %zu; run the command phase again",
                rd->path, rd->elements - 1, rd->expected);
    free(scan.error);
}

bool run_record_read(const config_t *cfg, run_record_t **out, char **err)
{
    *out = NULL;
    char *path = state_dir_file(cfg, RUN_RECORD_NAME);
    if (!fs_exists(path)) {
        free(path);
        return true; /* no run yet: the caller says what that means */
    }
    run_record_t *rec = xcalloc(1, sizeof *rec);
    results_model_init(&rec->result, NULL, 0);
    results_timing_init(&rec->timing);
    record_reader_t rd = {.rec = rec, .path = path};
    check_record_file(&rd);
    buf_free(&rd.scratch.node_id);
    buf_free(&rd.scratch.file);
    buf_free(&rd.scratch.cause);
    buf_free(&rd.scratch.status);
    free(path);
    if (rd.error) {
        run_record_delete(rec);
        *err = rd.error;
        return false;
    }
    *out = rec;
    return true;
}

void run_record_free(run_record_t *rec)
{
    free(rec->mode);
    free(rec->plan_source);
    free(rec->plan_reason);
    free(rec->why);
    free(rec->forensics);
    for (size_t i = 0; i < rec->n_attempts; i++) {
        free(rec->attempts[i].result_file);
        free(rec->attempts[i].id_prefix);
    }
    strlist_free(&rec->running);
    free(rec->attempts);
    results_model_free(&rec->result);
    results_timing_free(&rec->timing);
    memset(rec, 0, sizeof *rec);
}

void run_record_delete(run_record_t *rec)
{
    if (!rec) return;
    run_record_free(rec);
    free(rec);
}
