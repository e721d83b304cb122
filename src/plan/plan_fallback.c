/* plan_fallback: see plan_fallback.h for the contract and the why. */
#include "plan/plan_fallback.h"
#include "base/buf.h"
#include "pytest/selector.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum {
    ITEM_WHOLE,
    ITEM_TEST,
    ITEM_REST
} item_kind_t;

typedef struct {
    const char *name; /* a path, or a node id (borrowed) */
    double seconds;
    item_kind_t kind;
    size_t split; /* ITEM_REST: index into p->splits */
    bool guessed; /* ITEM_WHOLE: not in the durations file (the mean of the known) */
} item_t;

typedef struct {
    item_t *v;
    size_t len, cap;
} items_t;

static void push_item(items_t *it, item_t x)
{
    if (it->len == it->cap) {
        it->cap = it->cap ? it->cap * 2 : 64;
        it->v = xrealloc(it->v, it->cap * sizeof *it->v);
    }
    it->v[it->len++] = x;
}

static int cmp_longest_first(const void *a, const void *b)
{
    const item_t *x = a, *y = b;
    if (x->seconds != y->seconds) return x->seconds < y->seconds ? 1 : -1;
    return strcmp(x->name, y->name); /* names are unique: a total order */
}

static plan_est_format_t format_of(const char *entry)
{
    return strstr(entry, "::") ? PLAN_EST_FORMAT_EXAMPLE : PLAN_EST_FORMAT_FILE;
}

static void round_robin(plan_t *p, const strlist_t *sorted)
{
    for (size_t i = 0; i < sorted->len; i++) {
        strlist_push(&p->tasks[i % (size_t)p->parallelism].run, sorted->items[i]);
        if (p->estimates)
            plan_estimates_add(p->estimates, sorted->items[i], -1, -1, PLAN_EST_NONE,
                               format_of(sorted->items[i]));
    }
}

/* plan --explain: where an item's seconds came from. */
static void note_item(plan_t *p, const item_t *x)
{
    if (!p->estimates) return;
    plan_est_source_t source = x->kind == ITEM_TEST   ? PLAN_EST_DURATIONS_TEST
                               : x->kind == ITEM_REST ? PLAN_EST_DURATIONS_REST
                               : x->guessed           ? PLAN_EST_MEAN_OF_KNOWN
                                                      : PLAN_EST_DURATIONS_FILE;
    plan_estimates_add(p->estimates, x->name, x->seconds, -1, source, format_of(x->name));
}

/* ---- the least-loaded job: a binary min-heap of job indices ---- */

typedef struct {
    long *job;
    const plan_t *p;
    size_t len;
} heap_t;

static bool job_is_lighter(const heap_t *h, long a, long b)
{
    double la = h->p->tasks[a].estimated_s, lb = h->p->tasks[b].estimated_s;
    return la < lb || (la == lb && a < b);
}

static void sift_down(heap_t *h, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < h->len && job_is_lighter(h, h->job[l], h->job[m])) m = l;
        if (r < h->len && job_is_lighter(h, h->job[r], h->job[m])) m = r;
        if (m == i) return;
        long t = h->job[i];
        h->job[i] = h->job[m];
        h->job[m] = t;
        i = m;
    }
}

/* Jobs start empty, so indices in order already form a heap. */
static void lpt_assign(plan_t *p, items_t *it)
{
    if (it->len) qsort(it->v, it->len, sizeof *it->v, cmp_longest_first);
    heap_t h = {.job = xcalloc((size_t)p->parallelism, sizeof(long)),
                .p = p,
                .len = (size_t)p->parallelism};
    for (long j = 0; j < p->parallelism; j++) {
        h.job[j] = j;
        p->tasks[j].estimated_s = 0;
    }
    for (size_t i = 0; i < it->len; i++) {
        long j = h.job[0];
        const item_t *x = &it->v[i];
        strlist_push(&p->tasks[j].run, x->name);
        p->tasks[j].estimated_s += x->seconds;
        if (!x->guessed) p->tasks[j].n_history++; /* the durations file knew it */
        if (x->kind == ITEM_REST) p->splits[x->split].rest_job = j;
        note_item(p, x);
        sift_down(&h, 0);
    }
    free(h.job);
}

/* ---- items: whole entries, or the tests and rest of a split file ---- */

static void add_split(plan_t *p, const char *path, double seconds)
{
    p->splits = xrealloc(p->splits, (p->n_splits + 1) * sizeof *p->splits);
    p->splits[p->n_splits++] =
        (plan_split_t){.path = xstrdup(path), .seconds = seconds, .rest_job = -1};
}

/* Splits file `path` (known time `seconds`) into its known tests when at
 * least two of them can be given to pytest; returns whether it did. */
static bool split_file(plan_t *p, const durations_t *known, const char *path, double seconds,
                       selector_guard_t *guard, items_t *it)
{
    size_t first, n = durations_tests_of(known, path, &first), usable = 0;
    for (size_t i = first; i < first + n && usable < 2; i++)
        usable += selector_guard_problem(guard, known->tests[i], strlen(known->tests[i])) == NULL;
    if (usable < 2) return false;
    add_split(p, path, seconds);
    plan_split_t *s = &p->splits[p->n_splits - 1];
    double handed = 0;
    for (size_t i = first; i < first + n; i++) {
        const char *id = known->tests[i];
        if (selector_guard_problem(guard, id, strlen(id)))
            continue; /* stays in the rest, which runs the file */
        push_item(it, (item_t){.name = id, .seconds = known->test_seconds[i], .kind = ITEM_TEST});
        handed += known->test_seconds[i];
        s->n_tests++;
    }
    double rest = seconds - handed;
    push_item(it, (item_t){.name = path,
                           .seconds = rest > 0 ? rest : 0,
                           .kind = ITEM_REST,
                           .split = p->n_splits - 1});
    return true;
}

/* The longest piece a file can be cut into by its known tests: its longest
 * test, or the time none of its tests accounts for. */
static double longest_piece(const durations_t *known, const char *path, double seconds)
{
    size_t first, n = durations_tests_of(known, path, &first);
    if (!n) return seconds;
    double longest = 0, sum = 0;
    for (size_t i = first; i < first + n; i++) {
        sum += known->test_seconds[i];
        if (known->test_seconds[i] > longest) longest = known->test_seconds[i];
    }
    return fmax(longest, seconds - sum);
}

/* plan --explain: a test the job's whole file covers leaves the list, and its
 * time goes to that file's entry (the job's estimate is unchanged). */
static void note_covered(plan_t *p, const char *path, const char *test)
{
    if (!p->estimates) return;
    const plan_est_t *t = plan_estimates_find(p->estimates, test);
    plan_est_t *rest = plan_estimates_find(p->estimates, path);
    if (t && rest && t->seconds > 0) rest->seconds += t->seconds;
}

/* A file's tests leave the list of the job that runs the file whole. */
static void drop_covered_tests(plan_t *p)
{
    strlist_t keep = STRLIST_INIT;
    for (long j = 0; j < p->parallelism; j++) {
        strlist_t *run = &p->tasks[j].run;
        strlist_clear(&keep);
        for (size_t i = 0; i < run->len; i++) {
            const plan_split_t *s = plan_split_of(p, run->items[i]);
            bool covered = s && s->rest_job == j && strcmp(s->path, run->items[i]) != 0;
            if (!covered) strlist_push(&keep, run->items[i]);
            if (covered) {
                note_covered(p, s->path, run->items[i]);
                p->tasks[j].n_history--; /* a known test, now inside its file's entry */
            }
        }
        if (keep.len == run->len) continue;
        strlist_t t = *run;
        *run = keep;
        keep = t;
    }
    strlist_free(&keep);
}

static void lpt_with_splits(plan_t *p, const strlist_t *sorted, const durations_t *known,
                            double guess)
{
    double *w = xcalloc(sorted->len, sizeof *w);
    double total = 0, longest_file = 0, longest_piece_s = 0;
    bool guessed_any = false;
    for (size_t i = 0; i < sorted->len; i++) {
        double s = durations_get(known, sorted->items[i]);
        w[i] = s >= 0 ? s : guess;
        if (s < 0) guessed_any = true;
        total += w[i];
        longest_file = fmax(longest_file, w[i]);
    }
    double target = total / (double)p->parallelism;
    items_t it = {0};
    selector_guard_t guard; /* every split file's tests: one lstat per file, not a realpath each */
    selector_guard_init(&guard);
    for (size_t i = 0; i < sorted->len; i++) {
        const char *e = sorted->items[i];
        bool file_known = !strstr(e, "::") && durations_get(known, e) >= 0;
        longest_piece_s = fmax(longest_piece_s, file_known ? longest_piece(known, e, w[i]) : w[i]);
        bool split = file_known && p->parallelism > 1 && w[i] > target &&
                     split_file(p, known, e, w[i], &guard, &it);
        bool guessed = durations_get(known, e) < 0;
        if (!split)
            push_item(&it,
                      (item_t){.name = e, .seconds = w[i], .kind = ITEM_WHOLE, .guessed = guessed});
    }
    selector_guard_free(&guard);
    lpt_assign(p, &it);
    drop_covered_tests(p);
    for (long j = 0; j < p->parallelism; j++) strlist_sort(&p->tasks[j].run);
    if (p->estimates && guessed_any) p->estimates->mean_guess_s = guess;
    p->lower_bound_s = fmax(target, longest_file);
    p->test_bound_s = fmax(target, longest_piece_s);
    free(it.v);
    free(w);
}

/* The entries byte-sorted, each once: a file listed twice runs once, and
 * every job starts from the same list whatever order it discovered. */
static void sorted_unique(const strlist_t *files, strlist_t *sorted)
{
    for (size_t i = 0; i < files->len; i++) strlist_push(sorted, files->items[i]);
    strlist_sort(sorted);
    size_t unique = 0;
    for (size_t i = 0; i < sorted->len; i++) {
        if (unique && strcmp(sorted->items[unique - 1], sorted->items[i]) == 0)
            free(sorted->items[i]);
        else
            sorted->items[unique++] = sorted->items[i];
    }
    sorted->len = unique;
    if (sorted->items) sorted->items[unique] = NULL;
}

/* The mean known duration of the entries (the guess for the others), or -1
 * when none is known. */
static double mean_known_seconds(const strlist_t *sorted, const durations_t *known)
{
    size_t n_known = 0;
    double known_sum = 0;
    for (size_t i = 0; known && i < sorted->len; i++) {
        double s = durations_get(known, sorted->items[i]);
        if (s >= 0) {
            n_known++;
            known_sum += s;
        }
    }
    return n_known ? known_sum / (double)n_known : -1;
}

void plan_fallback(plan_t *p, const strlist_t *files, const durations_t *known)
{
    p->source = PLAN_FALLBACK;
    strlist_t sorted = STRLIST_INIT;
    sorted_unique(files, &sorted);
    double guess = mean_known_seconds(&sorted, known);
    if (guess >= 0)
        lpt_with_splits(p, &sorted, known, guess);
    else
        round_robin(p, &sorted);
    strlist_free(&sorted);
}
