/* plan_explain: see plan_explain.h for the contract and the why. */
#include "plan/plan_explain.h"
#include "base/buf.h"
#include "base/fs.h"
#include "net/http.h"
#include "base/log.h"
#include "plan/plan_phase.h"
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Entries nothing knows the time of that the text names; --plan-out has all. */
#define NO_HISTORY_SHOWN 50
/* What opens a --plan-out file this tool wrote: the only kind it overwrites. */
#define PLAN_OUT_HEAD "{\"explain\":{\"generator\":\"test-engine-pytest\""

static const char *source_token(plan_source_t s)
{
    switch (s) {
    case PLAN_SERVER_CACHED: return "server_cached";
    case PLAN_SERVER_CREATED: return "server_created";
    case PLAN_FALLBACK: return "fallback";
    case PLAN_RETRY_SELECTORS: return "retry_selectors";
    }
    return "?";
}

/* The note for an entry; an entry the planners said nothing about (a file
 * name Test Engine cannot carry, placed by its hash) has no estimate. */
static plan_est_t note_of(const plan_t *p, const char *entry)
{
    const plan_est_t *n = plan_estimates_find(p->estimates, entry);
    if (n) return *n;
    return (plan_est_t){.entry = (char *)entry,
                        .seconds = -1,
                        .samples = -1,
                        .source = PLAN_EST_NONE,
                        .format =
                            strstr(entry, "::") ? PLAN_EST_FORMAT_EXAMPLE : PLAN_EST_FORMAT_FILE};
}

void plan_explain_bound(const plan_t *p, plan_explain_bound_t *b)
{
    memset(b, 0, sizeof *b);
    for (long j = 0; j < p->parallelism; j++) {
        const strlist_t *run = &p->tasks[j].run;
        double job_s = 0;
        for (size_t i = 0; i < run->len; i++) {
            plan_est_t n = note_of(p, run->items[i]);
            b->entries++;
            if (n.seconds < 0) continue;
            b->estimated++;
            job_s += n.seconds;
            b->total_s += n.seconds;
            if (n.seconds > b->longest_s || !b->longest) {
                b->longest_s = n.seconds;
                b->longest = run->items[i];
            }
        }
        if (job_s > b->makespan_s) b->makespan_s = job_s;
    }
    double share = p->parallelism > 0 ? b->total_s / (double)p->parallelism : 0;
    b->bound_s = fmax(share, b->longest_s);
}

/* ---------------------------------------------------------------- --plan-out */

static double ms(double seconds)
{
    return round(seconds * 1000.0);
}

static cJSON *test_json(const plan_est_t *n)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "path", n->entry);
    cJSON_AddStringToObject(t, "format", plan_est_format_name(n->format));
    if (n->format == PLAN_EST_FORMAT_SELECTOR) cJSON_AddStringToObject(t, "value", n->entry);
    if (n->seconds >= 0) cJSON_AddNumberToObject(t, "estimated_duration", ms(n->seconds));
    if (n->samples >= 0) cJSON_AddNumberToObject(t, "timing_sample_size", (double)n->samples);
    cJSON_AddStringToObject(t, "estimate_source", plan_est_source_token(n->source));
    return t;
}

static cJSON *task_json(const plan_t *p, long j)
{
    cJSON *task = cJSON_CreateObject();
    cJSON_AddNumberToObject(task, "node_number", (double)j);
    cJSON *tests = cJSON_AddArrayToObject(task, "tests");
    double total_ms = 0; /* the sum of the tests' own (rounded) values */
    bool any = false;
    long samples = -1;
    const strlist_t *run = &p->tasks[j].run;
    for (size_t i = 0; i < run->len; i++) {
        plan_est_t n = note_of(p, run->items[i]);
        cJSON_AddItemToArray(tests, test_json(&n));
        if (n.seconds >= 0) {
            total_ms += ms(n.seconds);
            any = true;
        }
        if (n.samples >= 0) samples = (samples < 0 ? 0 : samples) + n.samples;
    }
    if (any) cJSON_AddNumberToObject(task, "estimated_duration", total_ms);
    if (samples >= 0) cJSON_AddNumberToObject(task, "timing_sample_size", (double)samples);
    return task;
}

/* A "scope name" line of plan_t.skipped as Test Engine's {scope, name}. */
static cJSON *skipped_json(const char *line)
{
    const char *sp = strchr(line, ' ');
    cJSON *t = cJSON_CreateObject();
    char *scope = sp ? xstrndup(line, (size_t)(sp - line)) : xstrdup("");
    cJSON_AddStringToObject(t, "scope", scope);
    cJSON_AddStringToObject(t, "name", sp ? sp + 1 : line);
    free(scope);
    return t;
}

static cJSON *explain_json(const config_t *cfg, const plan_t *p)
{
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "generator", TEP_NAME);
    cJSON_AddNumberToObject(e, "version", PLAN_EXPLAIN_VERSION);
    cJSON_AddStringToObject(e, "source", source_token(p->source));
    cJSON_AddStringToObject(e, "reason", p->reason);
    plan_explain_bound_t b;
    plan_explain_bound(p, &b);
    cJSON *bound = cJSON_AddObjectToObject(e, "bound");
    cJSON_AddNumberToObject(bound, "seconds", b.bound_s);
    cJSON_AddNumberToObject(bound, "total_seconds", b.total_s);
    cJSON_AddNumberToObject(bound, "jobs", (double)p->parallelism);
    if (b.longest) cJSON_AddStringToObject(bound, "longest_entry", b.longest);
    cJSON_AddNumberToObject(bound, "longest_entry_seconds", b.longest_s);
    cJSON_AddNumberToObject(bound, "makespan_seconds", b.makespan_s);
    cJSON_AddNumberToObject(e, "entries", (double)b.entries);
    cJSON_AddNumberToObject(e, "estimated_entries", (double)b.estimated);
    if (p->estimates->mean_guess_s >= 0)
        cJSON_AddNumberToObject(e, "mean_of_known_seconds", p->estimates->mean_guess_s);
    if (p->source == PLAN_FALLBACK && *cfg->durations_file)
        cJSON_AddStringToObject(e, "durations_file", cfg->durations_file);
    cJSON *none = cJSON_AddArrayToObject(e, "no_history");
    for (long j = 0; j < p->parallelism; j++)
        for (size_t i = 0; i < p->tasks[j].run.len; i++) {
            plan_est_t n = note_of(p, p->tasks[j].run.items[i]);
            if (!plan_est_has_history(n.source))
                cJSON_AddItemToArray(none, cJSON_CreateString(n.entry));
        }
    return e;
}

cJSON *plan_explain_json(const config_t *cfg, const plan_t *p)
{
    cJSON *root = cJSON_CreateObject();
    cJSON_AddItemToObject(root, "explain", explain_json(cfg, p)); /* first: PLAN_OUT_HEAD */
    cJSON_AddStringToObject(root, "identifier", *p->identifier ? p->identifier : cfg->identifier);
    cJSON_AddNumberToObject(root, "parallelism", (double)p->parallelism);
    cJSON *tasks = cJSON_AddObjectToObject(root, "tasks");
    for (long j = 0; j < p->parallelism; j++) {
        char key[24];
        snprintf(key, sizeof key, "%ld", j);
        cJSON_AddItemToObject(tasks, key, task_json(p, j));
    }
    cJSON *muted = cJSON_AddArrayToObject(root, "muted_tests");
    for (size_t i = 0; i < p->n_muted; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "scope", p->muted[i].scope);
        cJSON_AddStringToObject(m, "name", p->muted[i].name);
        cJSON_AddItemToArray(muted, m);
    }
    cJSON *skipped = cJSON_AddArrayToObject(root, "skipped_tests");
    for (size_t i = 0; i < p->skipped.len; i++)
        cJSON_AddItemToArray(skipped, skipped_json(p->skipped.items[i]));
    const char *meta = p->estimates->timing_metadata_json;
    if (meta) cJSON_AddItemToObject(root, "timing_metadata", cJSON_Parse(meta));
    if (p->estimates->known_timings_ratio >= 0)
        cJSON_AddNumberToObject(root, "known_timings_ratio", p->estimates->known_timings_ratio);
    return root;
}

/* Whether path holds something we may replace: nothing, or our own output. */
static bool may_replace(const char *path, char **err)
{
    struct stat st;
    if (lstat(path, &st) != 0) {
        if (errno == ENOENT) return true;
        return err_set(err, "--plan-out %s: cannot look at it (%s)", path, strerror(errno));
    }
    if (!S_ISREG(st.st_mode))
        return err_set(err,
                       "--plan-out %s: it exists and is not a regular file; choose another "
                       "path",
                       path);
    char head[sizeof PLAN_OUT_HEAD] = "";
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    ssize_t got = fd >= 0 ? read(fd, head, sizeof head - 1) : -1;
    if (fd >= 0) close(fd);
    bool ours =
        got == (ssize_t)(sizeof head - 1) && memcmp(head, PLAN_OUT_HEAD, sizeof head - 1) == 0;
    if (!ours)
        return err_set(err,
                       "--plan-out %s: it exists and is not a plan this tool wrote; choose "
                       "another path or remove it",
                       path);
    return true;
}

bool plan_explain_write(const char *path, const cJSON *doc, char **err)
{
    if (!may_replace(path, err)) return false;
    char *json = cJSON_PrintUnformatted(doc);
    buf_t b = BUF_INIT;
    buf_puts(&b, json);
    buf_putc(&b, '\n');
    free(json);
    bool ok = fs_write_file(path, b.data, b.len);
    if (!ok) err_set(err, "--plan-out %s: cannot write it (%s)", path, strerror(errno));
    buf_free(&b);
    return ok;
}

/* ---------------------------------------------------------------- the text */

static int by_seconds_desc(const void *a, const void *b)
{
    const plan_est_t *x = a, *y = b;
    if (x->seconds != y->seconds) return x->seconds < y->seconds ? 1 : -1;
    return strcmp(x->entry, y->entry);
}

static void print_note(const plan_est_t *n)
{
    buf_t why = BUF_INIT;
    buf_puts(&why, plan_est_source_words(n->source));
    if (n->samples > 0) buf_printf(&why, ", %ld sample%s", n->samples, n->samples == 1 ? "" : "s");
    if (n->seconds >= 0)
        log_info("  %10.3fs  %s  [%s]", n->seconds, n->entry, buf_str(&why));
    else
        log_info("  %10s   %s  [%s]", "-", n->entry, buf_str(&why));
    buf_free(&why);
}

/* One job: its estimate, then its entries, the longest first. */
static void print_job(const plan_t *p, long j)
{
    const plan_task_t *t = &p->tasks[j];
    size_t n = t->run.len;
    plan_est_t *notes = xcalloc(n ? n : 1, sizeof *notes);
    double total = 0;
    size_t estimated = 0;
    for (size_t i = 0; i < n; i++) {
        notes[i] = note_of(p, t->run.items[i]);
        if (notes[i].seconds >= 0) {
            total += notes[i].seconds;
            estimated++;
        }
    }
    qsort(notes, n, sizeof *notes, by_seconds_desc);
    if (estimated)
        log_info("Job %ld of %ld: %zu entr%s, estimated %.1fs%s", j + 1, p->parallelism, n,
                 n == 1 ? "y" : "ies", total,
                 estimated < n ? " (some entries have no estimate)" : "");
    else
        log_info("Job %ld of %ld: %zu entr%s, no estimate", j + 1, p->parallelism, n,
                 n == 1 ? "y" : "ies");
    for (size_t i = 0; i < n; i++) print_note(&notes[i]);
    free(notes);
}

/* How many entries each source estimated, in one line. */
static void print_sources(const plan_t *p)
{
    size_t count[PLAN_EST_MEAN_OF_KNOWN + 1] = {0};
    long samples = 0;
    for (long j = 0; j < p->parallelism; j++)
        for (size_t i = 0; i < p->tasks[j].run.len; i++) {
            plan_est_t n = note_of(p, p->tasks[j].run.items[i]);
            count[n.source]++;
            if (n.samples > 0) samples += n.samples;
        }
    buf_t b = BUF_INIT;
    for (int s = 0; s <= PLAN_EST_MEAN_OF_KNOWN; s++) {
        if (!count[s]) continue;
        buf_printf(&b, "%s%zu ", b.len ? "; " : "", count[s]);
        if (s == PLAN_EST_NONE)
            buf_puts(&b, "with no estimate");
        else if (s == PLAN_EST_MEAN_OF_KNOWN)
            buf_printf(&b, "not in the durations file, at the mean of the known (%.3fs)",
                       p->estimates->mean_guess_s);
        else
            buf_printf(&b, "from %s", plan_est_source_words((plan_est_source_t)s));
        if (s == PLAN_EST_SERVER_TIMING) buf_printf(&b, " (%ld samples)", samples);
    }
    log_info("Estimates: %s", b.len ? buf_str(&b) : "none");
    const double *d = p->estimates->server_default_s;
    for (int f = 0; f < 3; f++)
        if (d[f] >= 0)
            log_info("Test Engine's default for %s %s with no history: %.3fs",
                     f == PLAN_EST_FORMAT_EXAMPLE ? "an" : "a",
                     plan_est_format_name((plan_est_format_t)f), d[f]);
    if (p->estimates->known_timings_ratio >= 0)
        log_info("Test Engine knows the timing of %.0f%% of the entries",
                 p->estimates->known_timings_ratio * 100);
    buf_free(&b);
}

static void print_bound(const plan_t *p)
{
    plan_explain_bound_t b;
    plan_explain_bound(p, &b);
    if (!b.estimated) {
        log_info("Bound: none (no entry has an estimate; the split is by name, round-robin)");
        return;
    }
    log_info("Bound: %.1fs = max(total %.1fs / %ld jobs, longest entry %.1fs: %s)", b.bound_s,
             b.total_s, p->parallelism, b.longest_s, b.longest);
    if (b.bound_s > 0)
        log_info("Slowest job estimated at %.1fs: %.2fx the bound", b.makespan_s,
                 b.makespan_s / b.bound_s);
}

static void print_no_history(const plan_t *p)
{
    size_t shown = 0, total = 0;
    for (long j = 0; j < p->parallelism; j++)
        for (size_t i = 0; i < p->tasks[j].run.len; i++) {
            plan_est_t n = note_of(p, p->tasks[j].run.items[i]);
            if (plan_est_has_history(n.source)) continue;
            if (total++ == 0)
                log_info("Entries with no history (their time is a default or a guess):");
            if (shown < NO_HISTORY_SHOWN) {
                log_info("  %s (job %ld)", n.entry, j + 1);
                shown++;
            }
        }
    if (total > shown) log_info("  ... and %zu more (all are in --plan-out FILE)", total - shown);
    if (!total) log_info("Entries with no history: none");
}

void plan_explain_print(const config_t *cfg, const plan_t *p, size_t n_entries)
{
    size_t planned = 0;
    for (long j = 0; j < p->parallelism; j++) planned += p->tasks[j].run.len;
    log_section("plan explained: %zu entr%s over %ld job%s (%zu discovered)", planned,
                planned == 1 ? "y" : "ies", p->parallelism, p->parallelism == 1 ? "" : "s",
                n_entries);
    log_info("Plan source: %s%s%s", plan_source_name(p->source), *p->reason ? " - " : "",
             p->reason);
    log_info("Plan identifier: %s", *p->identifier ? p->identifier : cfg->identifier);
    if (p->source == PLAN_FALLBACK && *cfg->durations_file)
        log_info("Durations file: %s", cfg->durations_file);
    print_sources(p);
    print_bound(p);
    for (long j = 0; j < p->parallelism; j++) print_job(p, j);
    print_no_history(p);
    if (p->n_muted) log_info("Muted tests known to Test Engine: %zu", p->n_muted);
    for (size_t i = 0; i < p->skipped.len; i++)
        log_info("Skipped by Test Engine: %s", p->skipped.items[i]);
}

/* ---------------------------------------------------------------- the command */

static int explain(config_t *cfg, bool print, const char *plan_out)
{
    char *err = NULL;
    if (plan_out && !may_replace(plan_out, &err)) { /* before anything is asked */
        log_error("%s", err);
        free(err);
        return (int)cfg->config_exit_status;
    }
    strlist_t entries = STRLIST_INIT;
    int status = plan_phase_entries(cfg, &entries);
    plan_t p;
    plan_init(&p, cfg->parallel_job_count);
    p.estimates = plan_estimates_new();
    if (status == 0) status = plan_phase_choose(cfg, &entries, &p);
    if (status == 0 && print) plan_explain_print(cfg, &p, entries.len);
    if (status == 0 && plan_out) {
        cJSON *doc = plan_explain_json(cfg, &p);
        if (plan_explain_write(plan_out, doc, &err)) {
            log_info("Plan for %ld job%s written to %s", p.parallelism,
                     p.parallelism == 1 ? "" : "s", plan_out);
        } else {
            log_error("%s", err);
            free(err);
            status = (int)cfg->config_exit_status;
        }
        cJSON_Delete(doc);
    }
    plan_free(&p);
    strlist_free(&entries);
    return status;
}

int plan_explain_run(config_t *cfg, bool print, const char *plan_out)
{
    if (!plan_phase_prepare(cfg)) return (int)cfg->config_exit_status;
    http_global_init();
    int status = explain(cfg, print, plan_out);
    curl_global_cleanup();
    return status;
}
