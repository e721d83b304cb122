#include "model/durations.h"
#include "base/strset.h"
#include <stdlib.h>
#include <string.h>

/* ---- resolving repeated and overlapping entries ---- */

typedef struct {
    const char *key;
    size_t file_len; /* the file part: the key up to its first "::" */
    size_t at;       /* index into the entries */
} by_file_t;

static size_t file_part_len(const char *key)
{
    const char *sep = strstr(key, "::");
    return sep ? (size_t)(sep - key) : strlen(key);
}

static int cmp_file_part(const void *a, const void *b)
{
    const by_file_t *x = a, *y = b;
    size_t n = x->file_len < y->file_len ? x->file_len : y->file_len;
    int c = memcmp(x->key, y->key, n);
    if (c) return c;
    if (x->file_len != y->file_len) return x->file_len < y->file_len ? -1 : 1;
    return x->at < y->at ? -1 : x->at > y->at;
}

static by_file_t *sorted_by_file(const durations_file_entries_t *e)
{
    by_file_t *v = xcalloc(e->len, sizeof *v);
    for (size_t i = 0; i < e->len; i++) {
        v[i].key = durations_file_key(e, i);
        v[i].file_len = file_part_len(v[i].key);
        v[i].at = i;
    }
    if (e->len) qsort(v, e->len, sizeof *v, cmp_file_part);
    return v;
}

static bool same_file(const by_file_t *x, const by_file_t *y)
{
    return x->file_len == y->file_len && memcmp(x->key, y->key, x->file_len) == 0;
}

/* Marks the entries a later source made stale at file granularity. */
static void mark_superseded(const durations_file_entries_t *e, bool *keep)
{
    by_file_t *v = sorted_by_file(e);
    for (size_t lo = 0, hi; lo < e->len; lo = hi) {
        long last_file = -1, last_test = -1; /* latest src with a whole-file entry / a test entry */
        for (hi = lo; hi < e->len && same_file(&v[lo], &v[hi]); hi++) {
            long src = (long)e->items[v[hi].at].src;
            bool is_test = v[hi].key[v[hi].file_len] != '\0';
            if (is_test && src > last_test) last_test = src;
            if (!is_test && src > last_file) last_file = src;
        }
        for (size_t i = lo; i < hi; i++) {
            long src = (long)e->items[v[i].at].src;
            bool is_test = v[i].key[v[i].file_len] != '\0';
            keep[v[i].at] = src >= last_file && (is_test || src >= last_test);
        }
    }
    free(v);
}

static const durations_file_entries_t *sort_ctx; /* qsort has no context argument */

static int cmp_key_then_order(const void *a, const void *b)
{
    const durations_file_entry_t *x = a, *y = b;
    int c = strcmp(sort_ctx->arena.data + x->key, sort_ctx->arena.data + y->key);
    if (c) return c;
    return x->key < y->key ? -1 : x->key > y->key; /* arena offsets grow in reading order */
}

void durations_resolve(durations_file_entries_t *e)
{
    if (!e->len) return;
    bool *keep = xcalloc(e->len, sizeof *keep);
    mark_superseded(e, keep);
    size_t n = 0;
    for (size_t i = 0; i < e->len; i++)
        if (keep[i]) e->items[n++] = e->items[i];
    free(keep);
    e->len = n;
    sort_ctx = e;
    qsort(e->items, e->len, sizeof *e->items, cmp_key_then_order);
    sort_ctx = NULL;
    /* One per key: the last read. */
    size_t out = 0;
    for (size_t i = 0; i < e->len; i++) {
        if (out && strcmp(durations_file_key(e, out - 1), durations_file_key(e, i)) == 0) out--;
        e->items[out++] = e->items[i];
    }
    e->len = out;
}

/* ---- the tables the plan looks things up in ---- */

static void build_tests(durations_t *d, const durations_file_entries_t *e)
{
    size_t n = 0;
    for (size_t i = 0; i < e->len; i++) n += strstr(durations_file_key(e, i), "::") != NULL;
    d->tests = xcalloc(n, sizeof *d->tests);
    d->test_seconds = xcalloc(n, sizeof *d->test_seconds);
    for (size_t i = 0; i < e->len; i++) {
        const char *key = durations_file_key(e, i);
        if (!strstr(key, "::")) continue;
        d->tests[d->n_tests] = key; /* e is sorted by key, so tests are too */
        d->test_seconds[d->n_tests++] = e->items[i].seconds;
    }
}

static void build_files(durations_t *d, const durations_file_entries_t *e)
{
    by_file_t *v = sorted_by_file(e);
    d->paths = xcalloc(e->len, sizeof *d->paths);
    d->seconds = xcalloc(e->len, sizeof *d->seconds);
    for (size_t i = 0; i < e->len; i++) {
        if (i == 0 || !same_file(&v[i - 1], &v[i]))
            d->paths[d->len++] = xstrndup(v[i].key, v[i].file_len);
        d->seconds[d->len - 1] += e->items[v[i].at].seconds;
    }
    free(v);
}

bool durations_load(const char *path, warn_fn warn, void *warn_user, durations_t *d, char **err)
{
    memset(d, 0, sizeof *d);
    durations_file_entries_t e = {0};
    durations_file_opts_t o = {.label = "BUILDKITE_TEST_ENGINE_DURATIONS_FILE",
                               .strict = false,
                               .warn = warn,
                               .warn_user = warn_user};
    if (!durations_file_read(path, &o, &e, err)) {
        durations_file_entries_free(&e);
        return false;
    }
    durations_resolve(&e);
    build_files(d, &e);
    build_tests(d, &e);
    d->arena = e.arena; /* the tests point into it */
    free(e.items);
    return true;
}

void durations_free(durations_t *d)
{
    for (size_t i = 0; i < d->len; i++) free(d->paths[i]);
    free(d->paths);
    free(d->seconds);
    free(d->tests);
    free(d->test_seconds);
    buf_free(&d->arena);
    memset(d, 0, sizeof *d);
}

/* First index in a sorted array whose string is >= key. */
static size_t lower_bound(const char *const *v, size_t n, const char *key)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(v[mid], key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

double durations_get(const durations_t *d, const char *path_or_id)
{
    bool is_test = strstr(path_or_id, "::") != NULL;
    const char *const *v = is_test ? d->tests : (const char *const *)d->paths;
    size_t n = is_test ? d->n_tests : d->len;
    size_t i = lower_bound(v, n, path_or_id);
    if (i == n || strcmp(v[i], path_or_id) != 0) return -1;
    return is_test ? d->test_seconds[i] : d->seconds[i];
}

size_t durations_tests_of(const durations_t *d, const char *file, size_t *first)
{
    /* Every id that starts with "file::" sorts in one run. */
    char *prefix = xasprintf("%s::", file);
    size_t n = strlen(prefix);
    size_t i = lower_bound(d->tests, d->n_tests, prefix), count = 0;
    while (i + count < d->n_tests && strncmp(d->tests[i + count], prefix, n) == 0) count++;
    free(prefix);
    *first = i;
    return count;
}

/* ---- keys from another base ---- */

typedef struct {
    strlist_t prefixes;
    size_t *counts;
} prefix_votes_t;

static void vote(prefix_votes_t *v, const char *prefix, size_t len)
{
    for (size_t i = 0; i < v->prefixes.len; i++) {
        if (strlen(v->prefixes.items[i]) == len &&
            strncmp(v->prefixes.items[i], prefix, len) == 0) {
            v->counts[i]++;
            return;
        }
    }
    if (v->prefixes.len >= 64) return; /* a few rootdirs at most: more is noise */
    strlist_push_owned(&v->prefixes, xstrndup(prefix, len));
    v->counts = xrealloc(v->counts, v->prefixes.len * sizeof *v->counts);
    v->counts[v->prefixes.len - 1] = 1;
}

/* Each file that ends, after some '/', in one of d's paths votes for what
 * comes before (one pass over the files, a hash lookup per '/'). */
static void collect_votes(const durations_t *d, const strlist_t *files, prefix_votes_t *v)
{
    strset_t keys = STRSET_INIT;
    for (size_t i = 0; i < d->len; i++) strset_add(&keys, d->paths[i]);
    for (size_t i = 0; i < files->len; i++) {
        const char *f = files->items[i];
        for (const char *slash = strchr(f, '/'); slash; slash = strchr(slash + 1, '/'))
            if (strset_has(&keys, slash + 1)) vote(v, f, (size_t)(slash + 1 - f));
    }
    strset_free(&keys);
}

static void prefix_all(durations_t *d, const char *prefix)
{
    for (size_t i = 0; i < d->len; i++) {
        char *p = xasprintf("%s%s", prefix, d->paths[i]);
        free(d->paths[i]);
        d->paths[i] = p; /* one prefix before every key keeps the order */
    }
    buf_t arena = BUF_INIT;
    size_t *offsets = xmalloc((d->n_tests ? d->n_tests : 1) * sizeof *offsets);
    for (size_t i = 0; i < d->n_tests; i++) {
        offsets[i] = arena.len;
        buf_puts(&arena, prefix);
        buf_puts(&arena, d->tests[i]);
        buf_putc(&arena, '\0');
    }
    for (size_t i = 0; i < d->n_tests; i++) d->tests[i] = arena.data + offsets[i];
    free(offsets);
    buf_free(&d->arena);
    d->arena = arena;
}

static size_t files_named(const durations_t *d, const strset_t *files)
{
    size_t n = 0;
    for (size_t i = 0; i < d->len; i++) n += strset_has(files, d->paths[i]);
    return n;
}

char *durations_rebase(durations_t *d, const strlist_t *files, size_t *matched)
{
    strset_t set = STRSET_INIT;
    strset_add_list(&set, files);
    *matched = files_named(d, &set);
    char *chosen = xstrdup("");
    if (*matched < d->len) {
        /* every field zero: gcc 10 warns on a designated initializer that names one */
        prefix_votes_t v = {0};
        collect_votes(d, files, &v);
        size_t best = 0;
        for (size_t i = 0; i < v.prefixes.len; i++)
            if (v.counts[i] > v.counts[best]) best = i;
        if (v.prefixes.len && v.counts[best] > *matched) {
            free(chosen);
            chosen = xstrdup(v.prefixes.items[best]);
            prefix_all(d, chosen);
            *matched = files_named(d, &set);
        }
        strlist_free(&v.prefixes);
        free(v.counts);
    }
    strset_free(&set);
    return chosen;
}
