#include "report/report_durations.h"
#include "base/buf.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

char *report_durations_name(const config_t *cfg)
{
    char *name = xasprintf(REPORT_DURATIONS_PREFIX "%s.json", *cfg->job_id ? cfg->job_id : "local");
    /* The job id reaches buildkite-agent's argv as a file name: plain bytes only. */
    for (char *c = name + strlen(REPORT_DURATIONS_PREFIX); *c && strcmp(c, ".json") != 0; c++)
        if (!isalnum((unsigned char)*c) && *c != '.' && *c != '_' && *c != '-') *c = '_';
    return name;
}

/* A failed test's key as an index entry holds it (results_index.h). */
static char *entry_key(const char *node_id, bool *raw)
{
    test_record_t rec = {.scope = "", .name = node_id, .node_id = node_id, .duration = 0};
    results_index_entry_t e;
    buf_t scratch = BUF_INIT;
    results_index_entry_of_record(&rec, MODE_JUNIT, "", &scratch, &e);
    *raw = e.key_raw;
    char *key = xstrndup(e.key, e.key_len);
    buf_free(&scratch);
    return key;
}

#define EMPTY UINT32_MAX

/* The slot of the failed test whose key is e's (e NULL: of test i, which is
 * being placed), or the empty slot where the probe ended. */
static struct report_durations_slot *slot_of(const report_durations_t *d, uint32_t hash,
                                             uint32_t i_or_none, const results_index_entry_t *e)
{
    size_t mask = d->n_slots - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        struct report_durations_slot *s = &d->slots[i];
        if (s->idx == EMPTY) return s;
        if (s->hash != hash) continue;
        if (i_or_none == s->idx) return s;
        if (e && d->key_lens[s->idx] == e->key_len &&
            memcmp(d->keys[s->idx], e->key, e->key_len) == 0)
            return s;
    }
}

/* The failed tests, findable by an entry's key. The raw keys (ids that are
 * not UTF-8) are compared raw, the others as the JSON text both render to:
 * one kind never equals the other. */
static void index_failed(report_durations_t *d)
{
    size_t n = d->failed ? d->failed->len : 0; /* below 2^32: results_model's bound */
    d->n_slots = 16;
    while (d->n_slots < 2 * n) d->n_slots *= 2;
    d->slots = xmalloc(d->n_slots * sizeof *d->slots);
    for (size_t i = 0; i < d->n_slots; i++) d->slots[i].idx = EMPTY;
    d->maybe_bits = 64;
    while (d->maybe_bits < 16 * n) d->maybe_bits *= 2; /* one false hit in 16 at most */
    d->maybe = xcalloc(d->maybe_bits / 64, sizeof(uint64_t));
    d->keys = xcalloc(n ? n : 1, sizeof(char *));
    d->key_lens = xcalloc(n ? n : 1, sizeof(size_t));
    for (size_t i = 0; i < n; i++) {
        const char *id = d->failed->tests[i].node_id;
        bool raw;
        d->keys[i] = entry_key(id, &raw);
        d->key_lens[i] = strlen(d->keys[i]);
        uint32_t hash = results_index_hash(id, strlen(id));
        if (raw) hash ^= 1; /* never equal to a rendered key's entry */
        size_t bit = hash & (d->maybe_bits - 1);
        d->maybe[bit / 64] |= (uint64_t)1 << (bit % 64);
        struct report_durations_slot *slot = slot_of(d, hash, (uint32_t)i, NULL);
        if (slot->idx == EMPTY) /* a node id tracked twice: its first slot */
            *slot = (struct report_durations_slot){.idx = (uint32_t)i, .hash = hash};
    }
}

bool report_durations_open(report_durations_t *d, const char *path, const results_model_t *failed,
                           char **err)
{
    memset(d, 0, sizeof *d);
    if (!durations_file_writer_open(&d->out, path, err)) return false;
    d->open = true;
    d->failed = failed;
    size_t n = failed ? failed->len : 0;
    d->latest = xmalloc((n ? n : 1) * sizeof(double));
    for (size_t i = 0; i < n; i++) d->latest[i] = -1;
    index_failed(d);
    return true;
}

void report_durations_add_entry(report_durations_t *d, const results_index_entry_t *e)
{
    if (!d->open || !e->timed || !(e->seconds >= 0)) return;
    uint32_t hash = e->key_hash ^ (e->key_raw ? 1 : 0);
    size_t bit = hash & (d->maybe_bits - 1);
    bool maybe = d->maybe[bit / 64] >> (bit % 64) & 1;
    uint32_t t = maybe ? slot_of(d, hash, EMPTY, e)->idx : EMPTY;
    if (t != EMPTY) {
        d->latest[t] = e->seconds; /* retried: its latest time, written at the end */
    } else if (e->key_raw) {
        char *id = xstrndup(e->key, e->key_len);
        durations_file_writer_put(&d->out, id, e->seconds);
        free(id);
    } else {
        durations_file_writer_put_json(&d->out, e->key, e->key_len, e->seconds);
    }
}

void report_durations_add(report_durations_t *d, const char *node_id, double seconds)
{
    test_record_t rec = {.scope = "", .name = node_id, .node_id = node_id, .duration = seconds};
    results_index_entry_t e;
    results_index_entry_of_record(&rec, MODE_JUNIT, "", &d->scratch, &e);
    report_durations_add_entry(d, &e);
}

static void durations_sink_record(void *user, const results_index_entry_t *e, int attempt)
{
    (void)attempt;
    report_durations_add_entry(user, e);
}

report_walk_sink_t report_durations_sink(report_durations_t *d)
{
    return (report_walk_sink_t){.record = durations_sink_record, .user = d};
}

bool report_durations_close(report_durations_t *d, size_t *written, char **err)
{
    bool ok = d->open;
    if (ok) {
        for (size_t i = 0; d->failed && i < d->failed->len; i++)
            if (d->latest[i] >= 0)
                durations_file_writer_put(&d->out, d->failed->tests[i].node_id, d->latest[i]);
        *written = d->out.written;
        ok = durations_file_writer_close(&d->out, err);
    } else {
        *written = 0;
    }
    for (size_t i = 0; d->keys && d->failed && i < d->failed->len; i++) free(d->keys[i]);
    free(d->keys);
    free(d->key_lens);
    free(d->maybe);
    free(d->slots);
    free(d->latest);
    buf_free(&d->scratch);
    memset(d, 0, sizeof *d);
    return ok;
}
