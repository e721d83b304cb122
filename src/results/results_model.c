#include "results/results_model.h"
#include "results/results_cause.h"
#include "base/text.h"
#include "base/buf.h"
#include "base/strset.h"
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* A slot of the index: which test, and its node id's hash, so a lookup that
 * misses (most do: passing tests are never tracked) compares no strings. */
struct results_model_slot {
    uint32_t idx;  /* EMPTY, or an index into tests */
    uint32_t hash; /* low bits of the node id's hash */
};

#define EMPTY UINT32_MAX

static struct results_model_slot *new_slots(size_t n)
{
    struct results_model_slot *s = xmalloc(n * sizeof *s);
    for (size_t i = 0; i < n; i++) s[i].idx = EMPTY;
    return s;
}

void results_model_init(results_model_t *r, const plan_test_ref_t *muted, size_t n_muted)
{
    memset(r, 0, sizeof *r);
    r->n_slots = 1024;
    r->slots = new_slots(r->n_slots);
    r->muted_keys = xcalloc(n_muted ? n_muted : 1, sizeof(char *));
    for (size_t i = 0; i < n_muted; i++)
        r->muted_keys[i] = xasprintf("%s\x1f%s", muted[i].scope, muted[i].name);
    r->n_muted = n_muted;
    qsort(r->muted_keys, n_muted, sizeof(char *), strlist_cmp);
}

void results_model_free(results_model_t *r)
{
    for (size_t i = 0; i < r->len; i++) {
        test_result_t *t = &r->tests[i];
        free(t->node_id);
        free(t->file);
        free(t->failure);
    }
    free(r->tests);
    free(r->slots);
    for (size_t i = 0; i < r->n_muted; i++) free(r->muted_keys[i]);
    free(r->muted_keys);
    memset(r, 0, sizeof *r);
}

const char *results_model_status_name(test_status_t s)
{
    switch (s) {
    case ST_PASSED: return "passed";
    case ST_FAILED: return "failed";
    case ST_SKIPPED: return "skipped";
    default: return "unknown";
    }
}

test_status_t results_model_status_parse(const char *s)
{
    if (!s) return ST_UNKNOWN;
    if (strcmp(s, "passed") == 0) return ST_PASSED;
    if (strcmp(s, "failed") == 0) return ST_FAILED;
    if (strcmp(s, "skipped") == 0) return ST_SKIPPED;
    return ST_UNKNOWN;
}

bool results_model_is_flaky(const test_result_t *t)
{
    return t->failed_before && t->status == ST_PASSED;
}

char *results_model_cause(const char *failure, const char *file)
{
    char *cause = results_cause_of(failure, file);
    if (cause && strlen(cause) > RESULTS_MODEL_CAUSE_KEEP) {
        char *cut = text_cut(cause, strlen(cause), RESULTS_MODEL_CAUSE_KEEP);
        free(cause);
        cause = cut;
    }
    return cause;
}

static struct results_model_slot *slot_for(const results_model_t *r, const char *node_id,
                                           uint64_t h)
{
    size_t mask = r->n_slots - 1;
    for (size_t i = (uint32_t)h & mask;; i = (i + 1) & mask) { /* as resize_index places */
        struct results_model_slot *s = &r->slots[i];
        if (s->idx == EMPTY ||
            (s->hash == (uint32_t)h && strcmp(r->tests[s->idx].node_id, node_id) == 0))
            return s;
    }
}

/* The index at n slots. Its entries are distinct and keep their hash's low
 * 32 bits, which is all a position takes (slot_for uses no more), so no id
 * is hashed or compared again: 30,000 failed tests read from run.json moved
 * through five doublings, each hashing every id afresh. */
static void resize_index(results_model_t *r, size_t n)
{
    struct results_model_slot *old = r->slots;
    size_t old_n = r->n_slots, mask = n - 1;
    r->slots = new_slots(n);
    r->n_slots = n;
    for (size_t k = 0; k < old_n; k++) {
        if (old[k].idx == EMPTY) continue;
        size_t i = old[k].hash & mask;
        while (r->slots[i].idx != EMPTY) i = (i + 1) & mask;
        r->slots[i] = old[k];
    }
    free(old);
}

/* Slots for n tests at most 70% full. */
static size_t slots_for(size_t have, size_t n)
{
    while (have * 7 < n * 10) have *= 2;
    return have;
}

test_result_t *results_model_find(const results_model_t *r, const char *node_id)
{
    if (!r->len) return NULL;
    const struct results_model_slot *s = slot_for(r, node_id, strset_hash(node_id));
    return s->idx == EMPTY ? NULL : &r->tests[s->idx];
}

void results_model_forget(results_model_t *r, const char *node_id)
{
    test_result_t *t = results_model_find(r, node_id);
    if (!t) return;
    size_t i = (size_t)(t - r->tests);
    free(t->node_id);
    free(t->file);
    free(t->failure);
    memmove(&r->tests[i], &r->tests[i + 1], (r->len - i - 1) * sizeof *r->tests);
    r->len--;
    /* the index holds positions: rebuilt (rare: a test pytest no longer has) */
    for (size_t k = 0; k < r->n_slots; k++) r->slots[k].idx = EMPTY;
    for (size_t k = 0; k < r->len; k++) {
        uint64_t h = strset_hash(r->tests[k].node_id);
        *slot_for(r, r->tests[k].node_id, h) =
            (struct results_model_slot){.idx = (uint32_t)k, .hash = (uint32_t)h};
    }
}

static bool is_muted(const results_model_t *r, const char *scope, const char *name)
{
    if (!r->n_muted) return false;
    char *key = xasprintf("%s\x1f%s", scope, name);
    bool hit = bsearch(&key, r->muted_keys, r->n_muted, sizeof(char *), strlist_cmp) != NULL;
    free(key);
    return hit;
}

void results_model_reserve(results_model_t *r, size_t n)
{
    if (n <= r->cap || n > ((size_t)1 << 24))
        return; /* a damaged count grows as it reads instead */
    r->cap = n;
    r->tests = xrealloc(r->tests, r->cap * sizeof(test_result_t));
    /* The index is written whole when made: sized ahead for at most 2^20
     * (16 MB), so a damaged count costs no more; beyond, it grows as it reads. */
    size_t slots = slots_for(r->n_slots, n < ((size_t)1 << 20) ? n : (size_t)1 << 20);
    if (slots != r->n_slots) resize_index(r, slots);
}

test_result_t *results_model_track(results_model_t *r, const char *node_id, const char *file,
                                   test_status_t status, const char *failure, bool collection_error)
{
    uint64_t h = strset_hash(node_id);
    struct results_model_slot *slot = slot_for(r, node_id, h);
    if (slot->idx != EMPTY)
        return &r->tests[slot->idx];  /* already tracked: run.json never repeats one */
    if (r->len >= EMPTY - 1) abort(); /* 4 billion failed tests: not a pytest run */
    if (r->len == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->tests = xrealloc(r->tests, r->cap * sizeof(test_result_t));
    }
    *slot = (struct results_model_slot){.idx = (uint32_t)r->len, .hash = (uint32_t)h};
    test_result_t *t = &r->tests[r->len++];
    memset(t, 0, sizeof *t);
    t->node_id = xstrdup(node_id);
    t->file = collection_error && file ? xstrdup(file) : NULL;
    t->failure = failure ? xstrdup(failure) : NULL;
    t->status = status;
    t->attempts = 1;
    t->collection_error = collection_error;
    if (r->len * 10 > r->n_slots * 7)
        resize_index(r, r->n_slots * 2); /* at 70% full; moves slots, not tests: t stays valid */
    return t;
}

/* A later record of a tracked test: its latest outcome wins. */
static void update_from_record(test_result_t *t, const test_record_t *rec)
{
    if (t->status == ST_FAILED) t->failed_before = true;
    t->status = rec->status;
    t->attempts++;
    t->collection_error = t->collection_error || rec->collection_error;
    if (t->collection_error && !t->file && rec->file) t->file = xstrdup(rec->file);
    free(t->failure);
    t->failure = rec->status == ST_FAILED ? results_model_cause(rec->failure, rec->file) : NULL;
}

/* A test that never failed: counted, never kept. */
static void count_status(results_model_stats_t *s, test_status_t status, bool muted)
{
    s->total++;
    if (muted) {
        if (status == ST_PASSED) s->muted_passed++;
        return;
    }
    if (status == ST_PASSED)
        s->passed_first++;
    else if (status == ST_SKIPPED)
        s->skipped++;
    else
        s->unknown++;
}

void results_model_add(results_model_t *r, const test_record_t *rec)
{
    if (rec->problem) {
        r->skipped_records++;
        return;
    }
    if (r->observe) r->observe(rec, r->observe_user);
    test_result_t *t = results_model_find(r, rec->node_id);
    if (t) {
        update_from_record(t, rec);
        return;
    }
    bool muted = is_muted(r, rec->scope, rec->name);
    if (rec->status != ST_FAILED && !rec->collection_error) {
        count_status(&r->settled, rec->status, muted);
        return;
    }
    char *cause = rec->status == ST_FAILED ? results_model_cause(rec->failure, rec->file) : NULL;
    t = results_model_track(r, rec->node_id, rec->file, rec->status, cause, rec->collection_error);
    t->muted = muted;
    free(cause);
}

void results_model_unsettle(results_model_t *r, const char *scope, const char *name,
                            test_status_t status)
{
    results_model_stats_t *s = &r->settled;
    if (s->total == 0) return;
    s->total--;
    if (is_muted(r, scope, name)) {
        if (status == ST_PASSED && s->muted_passed) s->muted_passed--;
        return;
    }
    if (status == ST_PASSED && s->passed_first)
        s->passed_first--;
    else if (status == ST_SKIPPED && s->skipped)
        s->skipped--;
    else if (status != ST_PASSED && status != ST_SKIPPED && s->unknown)
        s->unknown--;
}

void results_model_add_fn(const test_record_t *rec, void *r)
{
    results_model_add(r, rec);
}

void results_model_stats(const results_model_t *r, results_model_stats_t *s)
{
    *s = r->settled;
    s->total += r->len;
    for (size_t i = 0; i < r->len; i++) {
        const test_result_t *t = &r->tests[i];
        if (t->collection_error) {
            s->collection_errors++; /* counted on their own, not as failed tests */
            continue;
        }
        if (t->muted) {
            if (t->status == ST_PASSED)
                s->muted_passed++;
            else if (t->status == ST_FAILED)
                s->muted_failed++;
            continue;
        }
        if (t->status == ST_PASSED && t->attempts > 1)
            s->passed_retry++;
        else if (t->status == ST_PASSED)
            s->passed_first++;
        else if (t->status == ST_FAILED)
            s->failed++;
        else if (t->status == ST_SKIPPED)
            s->skipped++;
        else
            s->unknown++;
        if (t->status == ST_PASSED && results_model_is_flaky(t)) s->flaky++;
    }
}
