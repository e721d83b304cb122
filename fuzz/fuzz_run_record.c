/* run.json, the run phase's record for the report phase: run_record_read on
 * any bytes in a state folder, then the writer's round trip. Invariants: a
 * refusal is one line that names the file; a record read has attempts whose
 * result file is one the run writes ("results/attempt-N[.part-M].json|xml":
 * report reads and uploads it, so nothing may lead it elsewhere), one tracked
 * test per node id, statuses and counts in range; and what
 * run_record_write makes of a record read reads back as the same record
 * (a time within cJSON's printing precision; one the format cannot hold, a
 * non-finite time, reads back as NaN). */
#include "base/buf.h"
#include "fuzz_util.h"
#include "results/results_json.h"
#include "state/run_record.h"
#include "state/state_dir.h"
#include "base/strset.h"
#include <float.h>
#include <math.h>
#include <string.h>

static void put_str(buf_t *b, const char *what, const char *s)
{
    buf_printf(b, "%s=%s\x1f", what, s ? s : "");
}

/* A time read back: cJSON prints a number with 15 digits when that reads
 * back within a relative 2^-52 (not exactly), and a non-finite one as null. */
static bool same_time(double a, double b)
{
    if (!isfinite(a) || !isfinite(b)) return !isfinite(a) && !isfinite(b);
    return fabs(a - b) <= fabs(a) * 4 * DBL_EPSILON;
}

/* Everything a record holds, as text (NULL and "" alike: the writer keeps
 * an absent text as ""). */
static void dump_record(buf_t *b, const run_record_t *r)
{
    put_str(b, "mode", r->mode);
    put_str(b, "source", r->plan_source);
    put_str(b, "reason", r->plan_reason);
    put_str(b, "why", r->why);
    put_str(b, "forensics", r->forensics);
    buf_printf(b, "%d%d%d%zu\x1f", r->from_server, r->exit_status, r->terminal, r->salvaged);
    for (size_t i = 0; i < r->n_attempts; i++) {
        const attempt_t *a = &r->attempts[i];
        buf_printf(b, "A%d,%d,%d,%zu\x1f", a->index, a->exit_code, a->signal, a->n_selectors);
        put_str(b, "file", a->result_file);
        put_str(b, "prefix", a->id_prefix);
    }
    for (size_t i = 0; i < r->running.len; i++) put_str(b, "running", r->running.items[i]);
    const results_model_stats_t *s = &r->result.settled;
    buf_printf(b, "S%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu,%zu\x1f", s->total, s->passed_first,
               s->passed_retry, s->flaky, s->failed, s->muted_passed, s->muted_failed, s->skipped,
               s->unknown, s->collection_errors, r->result.skipped_records);
    for (size_t i = 0; i < r->result.len; i++) {
        const test_result_t *t = &r->result.tests[i];
        buf_printf(b, "T%d,%d,%d,%d,%d\x1f", (int)t->status, t->attempts, t->failed_before,
                   t->muted, t->collection_error);
        put_str(b, "id", t->node_id);
        if (t->file) put_str(b, "tfile", t->file);
        if (t->failure) put_str(b, "cause", t->failure);
    }
}

/* "results/" and a result name of the run's own, never a lock. */
static bool is_run_result_file(const char *f)
{
    if (strncmp(f, "results/", 8) != 0 || !state_dir_is_result_name(f + 8)) return false;
    size_t n = strlen(f);
    return n < 5 || strcmp(f + n - 5, ".lock") != 0;
}

static void check_record(const run_record_t *r)
{
    for (size_t i = 0; i < r->n_attempts; i++) {
        const char *f = r->attempts[i].result_file;
        FUZZ_CHECK(f == NULL || is_run_result_file(f));
    }
    strset_t ids = STRSET_INIT;
    for (size_t i = 0; i < r->result.len; i++) {
        const test_result_t *t = &r->result.tests[i];
        FUZZ_CHECK(t->node_id != NULL && strset_add(&ids, t->node_id));
        FUZZ_CHECK(t->status >= ST_UNKNOWN && t->status <= ST_SKIPPED);
        FUZZ_CHECK(t->file == NULL || t->collection_error);
    }
    strset_free(&ids);
}

static run_record_t *read_checked(const config_t *cfg, const char *path)
{
    run_record_t *rec = NULL;
    char *err = NULL;
    bool ok = run_record_read(cfg, &rec, &err);
    if (!ok) {
        FUZZ_CHECK(rec == NULL && fuzz_one_line(err));
        FUZZ_CHECK(strncmp(err, path, strlen(path)) == 0); /* names the file */
        free(err);
        return NULL;
    }
    FUZZ_CHECK(err == NULL && rec != NULL); /* the file is there: a record or a refusal */
    check_record(rec);
    return rec;
}

/* Reads of 4 KiB: boundaries inside records, and no 256 KiB buffer per read. */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    results_json_set_chunk_size(4096);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.state_dir = (char *)fuzz_dir();
    const char *path = fuzz_dir_file("run.json", data, size);
    char *saved_path = strdup(path);
    run_record_t *rec = read_checked(&cfg, saved_path);
    if (rec) {
        char *err = NULL;
        FUZZ_CHECK(run_record_write(&cfg, rec, &err));
        run_record_t *again = read_checked(&cfg, saved_path);
        FUZZ_CHECK(again != NULL);
        buf_t a = BUF_INIT, b = BUF_INIT;
        dump_record(&a, rec);
        dump_record(&b, again);
        FUZZ_CHECK(a.len == b.len && memcmp(a.data, b.data, a.len) == 0);
        for (size_t i = 0; i < rec->n_attempts; i++) {
            FUZZ_CHECK(same_time(rec->attempts[i].started, again->attempts[i].started));
            FUZZ_CHECK(same_time(rec->attempts[i].ended, again->attempts[i].ended));
        }
        buf_free(&a);
        buf_free(&b);
        run_record_delete(again);
        run_record_delete(rec);
    }
    free(saved_path);
    return 0;
}
