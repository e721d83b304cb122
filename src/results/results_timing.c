/* results_timing: see results_timing.h for the contract and the why. */
#include "results/results_timing.h"
#include "base/buf.h"
#include "base/text.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

void results_timing_init(results_timing_t *t)
{
    memset(t, 0, sizeof *t);
    t->estimate_s = -1;
    t->samples = -1;
    t->estimate_basis = xstrdup("none");
}

void results_timing_free(results_timing_t *t)
{
    for (size_t i = 0; i < t->n_slowest; i++) free(t->slowest[i].node_id);
    for (size_t i = 0; i < t->n_reasons; i++) {
        free(t->reasons[i].reason);
        free(t->reasons[i].example);
    }
    free(t->estimate_basis);
    memset(t, 0, sizeof *t);
}

/* ---- the slowest tests: a min-heap on (seconds, then node id backwards) ---- */

/* Whether a sorts before b in "slowest first" order: more seconds, then the
 * smaller node id, so the order is total and the same on every run. */
static bool slower(const results_timing_test_t *a, const results_timing_test_t *b)
{
    if (a->seconds != b->seconds) return a->seconds > b->seconds;
    return strcmp(a->node_id, b->node_id) < 0;
}

static void swap(results_timing_test_t *a, results_timing_test_t *b)
{
    results_timing_test_t x = *a;
    *a = *b;
    *b = x;
}

/* The heap's top is the entry every other is slower than: the first to go. */
static void sift_down(results_timing_t *t, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < t->n_slowest && slower(&t->slowest[m], &t->slowest[l])) m = l;
        if (r < t->n_slowest && slower(&t->slowest[m], &t->slowest[r])) m = r;
        if (m == i) return;
        swap(&t->slowest[i], &t->slowest[m]);
        i = m;
    }
}

static void sift_up(results_timing_t *t, size_t i)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!slower(&t->slowest[parent], &t->slowest[i])) return;
        swap(&t->slowest[parent], &t->slowest[i]);
        i = parent;
    }
}

static void rebuild(results_timing_t *t)
{
    for (size_t i = t->n_slowest / 2 + 1; i-- > 0;) sift_down(t, i);
}

static char *kept_id(const char *node_id)
{
    size_t n = strlen(node_id);
    if (n <= RESULTS_TIMING_ID_MAX) return xstrdup(node_id);
    size_t keep = text_utf8_prefix_len(node_id, n, RESULTS_TIMING_ID_MAX - 3);
    return xasprintf("%.*s...", (int)keep, node_id);
}

void results_timing_put_slow(results_timing_t *t, const char *node_id, double seconds)
{
    if (!isfinite(seconds) || seconds < 0) return;
    results_timing_test_t cand = {.node_id = (char *)node_id, .seconds = seconds};
    bool full = t->n_slowest == RESULTS_TIMING_SLOWEST;
    if (full && !slower(&cand, &t->slowest[0])) return; /* most records stop here */
    for (size_t i = 0; i < t->n_slowest; i++) {
        if (strcmp(t->slowest[i].node_id, node_id) != 0) continue;
        if (seconds > t->slowest[i].seconds) { /* one entry per test: its slowest run */
            t->slowest[i].seconds = seconds;
            rebuild(t);
        }
        return;
    }
    if (full) {
        free(t->slowest[0].node_id);
        t->slowest[0] = (results_timing_test_t){kept_id(node_id), seconds};
        sift_down(t, 0);
        return;
    }
    t->slowest[t->n_slowest++] = (results_timing_test_t){kept_id(node_id), seconds};
    sift_up(t, t->n_slowest - 1);
}

static int slowest_first(const void *a, const void *b)
{
    const results_timing_test_t *x = a, *y = b;
    return slower(x, y) ? -1 : slower(y, x) ? 1 : 0;
}

void results_timing_slowest(const results_timing_t *t,
                            results_timing_test_t out[RESULTS_TIMING_SLOWEST])
{
    memcpy(out, t->slowest, t->n_slowest * sizeof *out);
    qsort(out, t->n_slowest, sizeof *out, slowest_first);
}

/* ---- skip reasons: the first few distinct, counted ---- */

char *results_timing_reason_text(const char *message)
{
    const char *s = message ? message : "";
    /* pytest's skip text says "Skipped: why", an xfail's "reason: why"; JUnit drops both */
    bool xfail = strncmp(s, "xfail: ", 7) == 0;
    if (xfail) s += 7;
    if (strncmp(s, "Skipped: ", 9) == 0) s += 9;
    if (strncmp(s, "reason: ", 8) == 0) s += 8;
    size_t n = strcspn(s, "\n");
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\r' || s[n - 1] == '\t')) n--;
    bool cut = n > RESULTS_TIMING_REASON_MAX;
    size_t keep = text_utf8_prefix_len(s, n, cut ? RESULTS_TIMING_REASON_MAX - 3 : n);
    return xasprintf("%s%.*s%s", xfail ? "xfail: " : "", (int)keep, s, cut ? "..." : "");
}

void results_timing_put_reason(results_timing_t *t, const char *reason, size_t count,
                               const char *example)
{
    for (size_t i = 0; i < t->n_reasons; i++)
        if (strcmp(t->reasons[i].reason, reason) == 0) {
            t->reasons[i].count += count;
            return;
        }
    if (t->n_reasons == RESULTS_TIMING_REASONS) {
        t->skipped_other += count;
        return;
    }
    t->reasons[t->n_reasons++] = (results_timing_reason_t){
        .reason = xstrdup(reason), .count = count, .example = kept_id(example ? example : "")};
}

void results_timing_add(results_timing_t *t, const test_record_t *rec)
{
    if (rec->collection_error || !rec->node_id) return;
    if (rec->duration >= 0 && isfinite(rec->duration)) {
        t->timed++;
        t->tests_s += rec->duration;
        results_timing_put_slow(t, rec->node_id, rec->duration);
    }
    if (rec->status != ST_SKIPPED) return;
    t->skipped++;
    char *reason = results_timing_reason_text(rec->failure);
    results_timing_put_reason(t, reason, 1, rec->node_id);
    free(reason);
}

void results_timing_add_fn(const test_record_t *rec, void *t)
{
    results_timing_add(t, rec);
}

/* "by Test Engine (340 timing samples, 18 of 20 entries with history)". */
static void put_basis(buf_t *b, const results_timing_t *t)
{
    const char *basis = t->estimate_basis ? t->estimate_basis : "none";
    if (strcmp(basis, "test_engine") == 0) {
        buf_puts(b, " by Test Engine");
        if (t->samples >= 0)
            buf_printf(b, " (%ld timing sample%s, %zu of %zu entr%s with history)", t->samples,
                       t->samples == 1 ? "" : "s", t->with_history, t->entries,
                       t->entries == 1 ? "y" : "ies");
    } else if (strcmp(basis, "durations_file") == 0) {
        buf_printf(b, " from the durations file (%zu of %zu entr%s known)", t->with_history,
                   t->entries, t->entries == 1 ? "y" : "ies");
    }
}

char *results_timing_words(const results_timing_t *t, double took_s)
{
    buf_t b = BUF_INIT;
    if (t->entries == 0 && took_s < 0) {
        buf_puts(&b, "no tests on this job");
        return buf_detach(&b);
    }
    if (t->estimate_s >= 0) {
        buf_printf(&b, "estimated %.1fs", t->estimate_s);
        put_basis(&b, t);
    } else {
        buf_puts(&b, "no estimate");
    }
    if (took_s >= 0) {
        buf_printf(&b, ", took %.1fs", took_s);
        if (t->estimate_s >= 0) {
            /* seconds first (what a job costs); a percentage only where it means something */
            double diff = took_s - t->estimate_s;
            if (fabs(diff) < 0.05)
                buf_puts(&b, " (as estimated)");
            else if (t->estimate_s >= 1)
                buf_printf(&b, " (%.1fs %s, %+.0f%%)", fabs(diff), diff > 0 ? "more" : "less",
                           diff / t->estimate_s * 100.0);
            else
                buf_printf(&b, " (%.1fs %s)", fabs(diff), diff > 0 ? "more" : "less");
        }
    }
    return buf_detach(&b);
}
