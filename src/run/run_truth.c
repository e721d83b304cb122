#include "run/run_truth.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/log.h"
#include "results/results.h"
#include "results/results_index.h"
#include "results/results_colldetail.h"
#include "results/results_events.h"
#include "pytest/nodeid.h"
#include "results/results_salvage.h"
#include "base/strset.h"
#include "base/warncap.h"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Disagreements named before the rest are only counted. */
#define TOLD_MAX 5

/* ---- a quick look at the events file ---- */

static size_t read_at(int fd, off_t at, char *buf, size_t n)
{
    ssize_t got = pread(fd, buf, n, at);
    return got > 0 ? (size_t)got : 0;
}

void run_truth_peek_events(const char *path, bool *session, bool *ended)
{
    *session = *ended = false;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    char head[4096], tail[4096];
    size_t n = read_at(fd, 0, head, sizeof head - 1);
    head[n] = '\0';
    *session = strncmp(head, "{\"e\":\"session\"", 14) == 0;
    off_t size = lseek(fd, 0, SEEK_END);
    off_t from = size > (off_t)(sizeof tail - 1) ? size - (off_t)(sizeof tail - 1) : 0;
    n = read_at(fd, from, tail, sizeof tail - 1);
    tail[n] = '\0';
    while (n && tail[n - 1] == '\n') tail[--n] = '\0';
    const char *last = strrchr(tail, '\n');
    last = last ? last + 1 : (from == 0 ? tail : NULL);
    *ended = last && strncmp(last, "{\"e\":\"end\"", 10) == 0;
    close(fd);
}

/* ---- the reading ---- */

typedef struct {
    const run_truth_in_t *in;
    run_truth_t *out;
    warncap_t told;            /* disagreement lines */
    results_salvage_t salvage; /* open when pytest wrote no result file */
    bool salvaging;
    strlist_t failed_keys; /* the result file's key of each test pytest reported failed */
    strset_t failed;       /* over failed_keys */
    strset_t failed_at;    /* "when\x1ekey" for failures outside the call */
    strset_t skipped;      /* keys of the tests pytest reported skipped */
    strset_t told_keys;    /* keys already named in a disagreement line */
    strlist_t told_owned;
    results_index_writer_t index; /* open while the result file is read, when asked for */
} truth_ctx_t;

/* The key a result-file record of this test has: the collector's scope::name
 * is pytest's own node id; JUnit's is its classname and name. */
static char *result_key(result_mode_t mode, const char *raw_node_id)
{
    return mode == MODE_JSON ? xstrdup(raw_node_id) : nodeid_junit_key(raw_node_id);
}

static void on_session(const char *rootdir, const char *invocation_dir, void *user)
{
    truth_ctx_t *c = user;
    char *why = NULL;
    char *prefix = nodeid_prefix(rootdir, c->in->cwd, &why);
    if (!prefix) {
        if (c->in->warn) c->in->warn(c->in->warn_user, why);
        free(why);
        prefix = xstrdup("");
    }
    if (strcmp(invocation_dir, c->in->cwd) != 0 && c->in->warn) {
        char *line = xasprintf("pytest ran in %s, not in %s where the run started it; node ids "
                               "are taken relative to the latter",
                               invocation_dir, c->in->cwd);
        c->in->warn(c->in->warn_user, line);
        free(line);
    }
    free(c->out->prefix);
    c->out->prefix = prefix;
    if (c->salvaging) results_salvage_set_prefix(&c->salvage, prefix);
}

/* scope and name as the collector splits a node id (muted tests are known by them). */
static void split_node_id(const char *id, char **scope, char **name)
{
    const char *last = NULL;
    for (const char *p = strstr(id, "::"); p; p = strstr(p + 2, "::")) last = p;
    *scope = last ? xstrndup(id, (size_t)(last - id)) : xstrdup("");
    *name = xstrdup(last ? last + 2 : id);
}

/* A failure outside the test's own call says where it happened. */
static void mark_phase(results_model_t *model, const char *id, const char *when)
{
    test_result_t *t = results_model_find(model, id);
    if (!t || t->status != ST_FAILED || !*when || strcmp(when, "call") == 0) return;
    const char *what = strcmp(when, "???") == 0 ? "the xdist worker running it crashed" : NULL;
    char *cause =
        what ? xstrdup(what) : xasprintf("error at %s: %s", when, t->failure ? t->failure : "");
    free(t->failure);
    t->failure = cause;
}

static void remember_failure(truth_ctx_t *c, const run_event_test_t *t)
{
    char *key = result_key(c->in->mode, t->node_id);
    strlist_push_owned(&c->failed_keys, key);
    strset_add(&c->failed, key);
    if (*t->when && strcmp(t->when, "call") != 0) {
        char *at = xasprintf("%s\x1e%s", t->when, key);
        strlist_push_owned(&c->told_owned, at);
        strset_add(&c->failed_at, at);
    }
}

static void fold_test(truth_ctx_t *c, const run_event_test_t *t)
{
    char *id = nodeid_join(c->out->prefix, t->node_id);
    const char *sep = strstr(t->node_id, "::");
    char *file_part = sep ? xstrndup(t->node_id, (size_t)(sep - t->node_id)) : xstrdup(t->node_id);
    char *file = nodeid_join(c->out->prefix, file_part);
    char *scope, *name;
    split_node_id(t->node_id, &scope, &name);
    /* an expected failure is said so among the skip reasons, as JUnit's type says it */
    char *xfail = t->xfail && t->status == ST_SKIPPED ? xasprintf("xfail: %s", t->message) : NULL;
    test_record_t rec = {.scope = scope,
                         .name = name,
                         .node_id = id,
                         .file = file,
                         .status = t->status,
                         .failure = xfail         ? xfail
                                    : *t->message ? t->message
                                                  : NULL,
                         .collection_error = t->collection_error,
                         .duration = t->duration,
                         .raw = NULL};
    if (t->tries > 1 && t->status == ST_PASSED) { /* failed, then passed on a rerun: flaky */
        test_record_t first = rec;
        first.status = ST_FAILED;
        first.failure = "failed, then passed when pytest-rerunfailures ran it again";
        results_model_add(c->in->model, &first);
    }
    results_model_add(c->in->model, &rec);
    if (t->status == ST_FAILED && !t->collection_error) {
        mark_phase(c->in->model, id, t->when);
        remember_failure(c, t);
    } else if (t->status == ST_SKIPPED) {
        char *key = result_key(c->in->mode, t->node_id);
        strlist_push_owned(&c->told_owned, key);
        strset_add(&c->skipped, key);
    }
    free(id);
    free(file_part);
    free(file);
    free(scope);
    free(name);
    free(xfail);
}

static void on_event(const run_event_test_t *t, void *user)
{
    truth_ctx_t *c = user;
    if (c->salvaging) results_salvage_put(&c->salvage, t);
    /* A collection error counts from the result file, where it is the terminal
     * signal; only when there is none do the events say it. */
    if (t->collection_error && !c->salvaging) return;
    if (!t->collection_error) c->out->finished++;
    fold_test(c, t);
}

/* ---- the result file, against the events ---- */

static void tell(truth_ctx_t *c, const char *key, const char *id, const char *what)
{
    if (strset_has(&c->told_keys, key)) return;
    char *owned = xstrdup(key);
    strlist_push_owned(&c->told_owned, owned);
    strset_add(&c->told_keys, owned);
    if (warncap_next(&c->told)) warncap_say(&c->told, "%s: %s", id, what);
}

static const char *phase_of_failure(truth_ctx_t *c, const char *key)
{
    static const char *const phases[] = {"setup", "teardown", "???"};
    for (size_t i = 0; i < sizeof phases / sizeof phases[0]; i++) {
        char *at = xasprintf("%s\x1e%s", phases[i], key);
        bool hit = strset_has(&c->failed_at, at);
        free(at);
        if (hit) return phases[i];
    }
    return "call";
}

static void disagree_failed_elsewhere(truth_ctx_t *c, const test_record_t *rec, const char *key,
                                      const char *id)
{
    const char *phase = phase_of_failure(c, key);
    const char *recorded = rec->status == ST_PASSED    ? "as passed"
                           : rec->status == ST_SKIPPED ? "as skipped"
                                                       : "without a result";
    char *what;
    if (strcmp(phase, "???") == 0)
        what = xasprintf("the result file records it %s, but the xdist worker running it "
                         "crashed; counted as failed",
                         recorded);
    else if (strcmp(phase, "call") == 0)
        what = xasprintf("the result file records it %s (one record per try under "
                         "pytest-rerunfailures), and pytest's last try failed; counted as failed",
                         recorded);
    else
        what = xasprintf("the result file records it %s, but pytest reported an error at %s; "
                         "counted as failed",
                         recorded, phase);
    tell(c, key, id, what);
    free(what);
}

/* The record with its node id (and JUnit's file) made to run from cwd. */
static void convert_record(const truth_ctx_t *c, const test_record_t *rec, test_record_t *out,
                           char **id, char **file)
{
    *out = *rec;
    const char *prefix = c->out->prefix;
    char *own = NULL;
    if (!(c->out->recorded && c->out->finished) && c->in->mode == MODE_JSON) /* its own */
        prefix = own = nodeid_prefix_of_record(*rec->scope ? rec->scope : rec->name, rec->file);
    *id = nodeid_join(prefix, rec->node_id);
    *file = c->in->mode == MODE_JUNIT && rec->file ? nodeid_join(prefix, rec->file) : NULL;
    out->node_id = *id;
    if (*file) out->file = *file;
    free(own);
}

static void add_converted(truth_ctx_t *c, const test_record_t *rec)
{
    test_record_t conv;
    char *id, *file;
    convert_record(c, rec, &conv, &id, &file);
    results_model_add(c->in->model, &conv);
    results_colldetail_offer_record(c->in->model, &conv);
    free(id);
    free(file);
}

static void reconcile_record(const test_record_t *rec, void *user)
{
    truth_ctx_t *c = user;
    /* Events without a single finished test (a plugin of the user's that
     * swallows the hooks?) cannot speak for the file's tests. */
    bool events_speak = c->out->recorded && c->out->finished > 0;
    if (rec->problem) {
        results_model_add(c->in->model, rec); /* counted as a record that could not be read */
        return;
    }
    if (rec->collection_error || !events_speak) {
        add_converted(c, rec);
        return;
    }
    char *key = c->in->mode == MODE_JSON ? xstrdup(rec->node_id)
                                         : xasprintf("%s\x1f%s", rec->scope, rec->name);
    bool events_failed = strset_has(&c->failed, key);
    test_record_t conv;
    char *id, *file;
    convert_record(c, rec, &conv, &id, &file);
    if (rec->status == ST_FAILED && !events_failed) {
        test_result_t *t = results_model_find(c->in->model, id);
        if (!t || t->status != ST_FAILED) { /* the stricter verdict */
            if (!t) {                       /* settled from the events: that count is taken back */
                char *scope, *name;
                split_node_id(rec->node_id, &scope, &name);
                results_model_unsettle(c->in->model, scope, name,
                                       strset_has(&c->skipped, key) ? ST_SKIPPED : ST_PASSED);
                free(scope);
                free(name);
            }
            results_model_add(c->in->model, &conv);
            tell(c, key, id,
                 "the result file records a failure pytest's own reports do not show; counted "
                 "as failed");
        }
    } else if (rec->status != ST_FAILED && events_failed) {
        disagree_failed_elsewhere(c, rec, key, id);
    }
    free(id);
    free(file);
    free(key);
}

/* ---- one part ---- */

static bool start_salvage(truth_ctx_t *c)
{
    char *err = NULL;
    if (results_salvage_open(&c->salvage, c->in->mode, c->in->result_path, &err)) return true;
    if (c->in->warn) c->in->warn(c->in->warn_user, err);
    free(err);
    return false;
}

static void end_salvage(truth_ctx_t *c)
{
    size_t written = c->salvage.records;
    char *err = NULL;
    if (!results_salvage_close(&c->salvage, &err)) {
        if (c->in->warn) c->in->warn(c->in->warn_user, err);
        free(err);
        return;
    }
    c->out->salvaged = written;
}

static void read_events(truth_ctx_t *c)
{
    const run_truth_in_t *in = c->in;
    c->salvaging = !fs_exists(in->result_path) && start_salvage(c);
    results_events_scan_t scan;
    results_events_read(in->events_path, on_session, on_event, c, &scan);
    if (c->salvaging) end_salvage(c);
    for (size_t i = 0; i < scan.running.len; i++)
        strlist_push_owned(&c->out->running, nodeid_join(c->out->prefix, scan.running.items[i]));
    c->out->running_more = scan.running_more;
    c->out->pytest_version = scan.pytest_version ? xstrdup(scan.pytest_version) : NULL;
    results_events_scan_free(&scan);
}

/* A second pass over the events, for a result file pytest damaged: every
 * test into the new file; only collection errors the model lacks go to it
 * (the tests are in it from the first pass). */
static void on_event_salvage_only(const run_event_test_t *t, void *user)
{
    truth_ctx_t *c = user;
    results_salvage_put(&c->salvage, t);
    if (!t->collection_error) return;
    char *id = nodeid_join(c->out->prefix, t->node_id);
    bool known = results_model_find(c->in->model, id) != NULL;
    free(id);
    if (!known) fold_test(c, t);
}

/* pytest finished and its own reports are whole, but the file it wrote
 * cannot be read (its JUnit writer fails on a file name that is not UTF-8,
 * say): the file is written again from the reports, so what ran is still
 * uploaded, and the verdict comes from pytest's reports. */
static bool replace_damaged_file(truth_ctx_t *c, const char *why)
{
    const run_truth_in_t *in = c->in;
    if (!c->out->recorded) return false; /* no events (events_path may be NULL) */
    bool session, ended;
    run_truth_peek_events(in->events_path, &session, &ended);
    if (!ended || unlink(in->result_path) != 0 || !start_salvage(c)) return false;
    c->salvaging = true;
    results_salvage_set_prefix(&c->salvage, c->out->prefix);
    results_events_scan_t scan;
    results_events_read(in->events_path, NULL, on_event_salvage_only, c, &scan);
    results_events_scan_free(&scan);
    end_salvage(c);
    if (in->warn) {
        char *line = xasprintf("%s; its %zu tests are written into it again from pytest's own "
                               "reports",
                               why, c->out->salvaged);
        in->warn(in->warn_user, line);
        free(line);
    }
    return c->out->salvaged > 0 || c->out->finished == 0;
}

/* ---- the index, written in the same pass ---- */

static void index_and_reconcile(const test_record_t *rec, void *user)
{
    truth_ctx_t *c = user;
    results_index_writer_put_record(&c->index, rec);
    reconcile_record(rec, c);
}

static bool index_begin(truth_ctx_t *c, results_index_id_t *read_as)
{
    char *err = NULL;
    if (!c->in->index) return false;
    if (!results_index_identify(c->in->result_path, read_as)) return false;
    if (results_index_writer_open(&c->index, c->in->result_path, c->in->mode, c->out->prefix, &err))
        return true;
    log_debug("no index for the report phase: %s", err); /* report reads the file instead */
    free(err);
    return false;
}

static void index_end(truth_ctx_t *c, bool whole, const results_index_id_t *read_as)
{
    char *err = NULL;
    if (!whole)
        results_index_writer_abandon(&c->index);
    else if (!results_index_writer_close(&c->index, read_as, &err))
        log_debug("no index for the report phase: %s", err);
    free(err);
}

static void read_result_file(truth_ctx_t *c)
{
    const run_truth_in_t *in = c->in;
    if (c->out->salvaged || c->salvaging) return; /* its tests came from the events */
    if (!fs_exists(in->result_path)) {
        c->out->missing = in->must_read;
        return;
    }
    char *err = NULL;
    results_index_id_t read_as;
    bool indexing = index_begin(c, &read_as);
    bool whole = results_read_file(in->mode, in->result_path,
                                   indexing ? index_and_reconcile : reconcile_record, c, in->warn,
                                   in->warn_user, &err);
    if (indexing) index_end(c, whole, &read_as);
    if (!whole && in->must_read) {
        char *why = xasprintf("pytest wrote a result file that cannot be read (%s)", err);
        if (!replace_damaged_file(c, why))
            c->out->unreadable = xasprintf("results cannot be read: %s", err);
        free(why);
    } else if (!whole && in->warn) {
        char *line = xasprintf("results of an interrupted run are incomplete: %s", err);
        in->warn(in->warn_user, line);
        free(line);
    }
    free(err);
}

static bool use_events(const run_truth_in_t *in)
{
    if (!in->events_path) return false;
    bool session, ended;
    run_truth_peek_events(in->events_path, &session, &ended);
    if (session && !ended && !in->killed && in->warn) {
        in->warn(in->warn_user, "pytest's own reports stop before its end (the recorder could "
                                "not write them whole); counting from the result file alone");
        return false;
    }
    return session && (ended || in->killed);
}

void run_truth_read(const run_truth_in_t *in, run_truth_t *out)
{
    memset(out, 0, sizeof *out);
    strlist_init(&out->running);
    out->prefix = xstrdup("");
    truth_ctx_t c = {.in = in, .out = out};
    c.told = (warncap_t){.fn = in->warn, .user = in->warn_user, .max = TOLD_MAX};
    out->recorded = use_events(in);
    if (out->recorded) read_events(&c);
    read_result_file(&c);
    if (c.told.more)
        warncap_say(&c.told, "... and %zu more tests where the result file and pytest disagree",
                    c.told.more);
    strset_free(&c.failed);
    strset_free(&c.failed_at);
    strset_free(&c.skipped);
    strset_free(&c.told_keys);
    strlist_free(&c.failed_keys);
    strlist_free(&c.told_owned);
}

void run_truth_free(run_truth_t *t)
{
    free(t->prefix);
    strlist_free(&t->running);
    free(t->unreadable);
    free(t->pytest_version);
    memset(t, 0, sizeof *t);
}
