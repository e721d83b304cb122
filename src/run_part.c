#include "run_part.h"
#include "results.h"
#include "buf.h"
#include "err.h"
#include "fs.h"
#include "log.h"
#include "run_colldetail.h"
#include "run_exit4.h"
#include "selector.h"
#include "template.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A printed command line shows this many arguments, each up to SHOWN_BYTES;
 * the rest is counted, so a huge slice never floods the log. */
#define SHOWN_ARGS  40
#define SHOWN_BYTES 256

/* ---- the command line as the log shows it ---- */

static void put_shell_word(buf_t *b, const char *a)
{
    size_t len = strlen(a);
    size_t shown = len > SHOWN_BYTES ? SHOWN_BYTES : len;
    bool plain = a[0] && strcspn(a, " \t'\"\\$`[]*?;&|<>(){}!#~") >= shown;
    if (!plain) buf_putc(b, '\'');
    for (size_t i = 0; i < shown; i++) {
        if (a[i] == '\'')
            buf_puts(b, "'\\''");
        else
            buf_putc(b, a[i]);
    }
    if (!plain) buf_putc(b, '\'');
    if (shown < len) buf_printf(b, "...(%zu more bytes)", len - shown);
}

/* The command as a shell would read it; a huge one is shortened in the
 * middle (its first arguments and its last few), never flooding the log. */
static void print_command(const strlist_t *argv)
{
    buf_t b;
    buf_init(&b);
    size_t tail = argv->len > SHOWN_ARGS ? 3 : 0;
    for (size_t i = 0; i < argv->len; i++) {
        if (tail && i == SHOWN_ARGS - tail) {
            buf_printf(&b, " ... (%zu more arguments) ...", argv->len - SHOWN_ARGS);
            i = argv->len - tail;
        }
        if (i) buf_putc(&b, ' ');
        put_shell_word(&b, argv->items[i]);
    }
    log_info("$ %s", b.data);
    buf_free(&b);
}

/* ---- one pytest, with exit-4 retries ---- */

double run_part_seconds_left(double deadline)
{
    return deadline > 0 ? deadline - fs_monotonic() : 0;
}

static void on_stderr_line(const char *line, void *user)
{
    run_state_t *rn = user;
    char *p = run_exit4_missing_path(line);
    if (p) {
        free(rn->missing_path);
        rn->missing_path = p;
    }
}

/* Whether an exit 4 is worth another start: the files are there, retries
 * are left, and nobody cancelled the job. */
static bool exit4_retry_due(const run_state_t *rn, const run_part_t *part, int retries)
{
    const process_result_t *pr = &part->pr;
    if (pr->start_failed || pr->signal || pr->exit_code != 4) return false;
    if (retries >= rn->cfg->exit4_retries || process_forwarded_signal()) return false;
    return run_exit4_files_present(part->selectors);
}

/* Runs pytest once, retrying exit 4 while the files are present. */
static void spawn_with_exit4_retries(run_state_t *rn, const strlist_t *argv, run_part_t *part,
                                     int *exit4_retries)
{
    process_opts_t o = {
        .argv = argv->items, .env = &rn->env, .on_stderr = on_stderr_line, .user = rn};
    *exit4_retries = 0;
    for (;;) {
        free(rn->missing_path);
        rn->missing_path = NULL;
        /* 0 means "no timeout" to process_run: a deadline reached while we
         * were busy still gets a (tiny) positive one. */
        o.timeout_s = part->deadline > 0 ? fmax(run_part_seconds_left(part->deadline), 0.001) : 0;
        process_run(&o, &part->pr);
        if (!exit4_retry_due(rn, part, *exit4_retries)) break;
        (*exit4_retries)++;
        double wait = (double)rn->cfg->exit4_backoff_ms / 1000.0 * *exit4_retries;
        log_warn("pytest exited 4 (file or directory not found: %s) although the files exist; "
                 "retry %d of %ld in %.1fs",
                 rn->missing_path ? rn->missing_path : "?", *exit4_retries, rn->cfg->exit4_retries,
                 wait);
        fs_sleep(wait);
        if (process_forwarded_signal()) break; /* cancelled while we waited: start nothing new */
        if (part->deadline > 0 && run_part_seconds_left(part->deadline) <= 0)
            break; /* out of time: exit 4 stands */
    }
}

static void report_exit4(run_state_t *rn, const strlist_t *selectors, int retries)
{
    char *first = selectors->len ? selector_file_part(selectors->items[0]) : xstrdup(".");
    const char *path = rn->missing_path ? rn->missing_path : first;
    buf_t f;
    buf_init(&f);
    run_exit4_forensics(path, retries, &f);
    log_block(f.data);
    char *joined =
        rn->rec.forensics ? xasprintf("%s%s", rn->rec.forensics, f.data) : xstrdup(f.data);
    free(rn->rec.forensics);
    rn->rec.forensics = joined;
    buf_free(&f);
    free(first);
}

/* ---- reading what one pytest wrote ---- */

/* A collector record into the model; a collection error's cause comes from
 * its whole text while the record is at hand. */
static void on_json_record(const test_record_t *rec, void *user)
{
    run_result_t *r = user;
    run_result_add(r, rec);
    run_colldetail_offer_record(r, rec);
}

/* Reads the file into the model; NULL, or why it could not be read whole. */
static char *read_result_file(run_state_t *rn, const char *path)
{
    /* A JUnit file's collection errors are read again later, only when there
     * are some (run_colldetail_fill); a JSON record has its whole text here. */
    record_fn fn = rn->setup.mode == MODE_JSON ? on_json_record : run_result_add_fn;
    char *error = NULL;
    results_read_file(rn->setup.mode, path, fn, &rn->rec.result, log_warn_line, NULL, &error);
    return error;
}

/* Reads a result file into the model; notes unreadable files. */
static void read_part_results(run_state_t *rn, const char *path, const process_result_t *pr)
{
    bool must_read = !pr->signal && !pr->start_failed &&
                     (pr->exit_code <= 1 || (pr->exit_code == 2 && rn->setup.mode == MODE_JSON));
    if (!fs_exists(path)) {
        if (must_read)
            strlist_push_owned(
                &rn->unreadable,
                xasprintf("pytest exited %d but wrote no results to %s", pr->exit_code, path));
        return;
    }
    char *error = read_result_file(rn, path);
    if (error && must_read)
        strlist_push_owned(&rn->unreadable, xasprintf("results cannot be read: %s", error));
    else if (error)
        log_warn("results of an interrupted run are incomplete: %s", error);
    free(error);
}

static size_t count_collection_errors(const run_result_t *r)
{
    run_result_stats_t s;
    run_result_stats(r, &s);
    return s.collection_errors;
}

/* ---- one part: build, run, read ---- */

/* Starts pytest for the part (exit-4 retries and forensics included). */
static void start_part(run_state_t *rn, run_part_t *part, strlist_t *argv)
{
    char *err = NULL;
    if (!template_expand(part->tmpl, part->selectors, part->result_path, argv, &err)) {
        /* validated before anything ran; only a changed template gets here */
        part->pr.start_failed = true;
        err_set(&part->pr.error, "the test command cannot be built: %s", err);
        free(err);
        return;
    }
    print_command(argv);
    int exit4_retries = 0;
    spawn_with_exit4_retries(rn, argv, part, &exit4_retries);
    if (!part->pr.start_failed && !part->pr.signal && part->pr.exit_code == 4)
        report_exit4(rn, part->selectors, exit4_retries);
}

/* What a part that did not start, or ran out of time, means for the run. */
static void note_part_end(run_state_t *rn, process_result_t *pr)
{
    if (pr->start_failed) {
        log_error("%s; check BUILDKITE_TEST_ENGINE_TEST_CMD and PATH", pr->error);
        rn->outcome.not_started = true;
        free(rn->start_error);
        rn->start_error = xasprintf("the test command did not start: %s", pr->error);
        pr->exit_code = 127;
    }
    if (pr->timed_out) {
        rn->outcome.timed_out = true;
        log_error("pytest ran longer than BUILDKITE_TEST_ENGINE_TIMEOUT (%lds); its process group "
                  "was killed",
                  rn->cfg->run_timeout);
    }
}

/* Runs one pytest over part->selectors and reads what it wrote. */
void run_part_run(run_state_t *rn, run_part_t *part)
{
    strlist_t argv;
    strlist_init(&argv);
    memset(&part->pr, 0, sizeof part->pr);
    unlink(part->result_path); /* never read an earlier run's file */
    start_part(rn, part, &argv);
    note_part_end(rn, &part->pr);
    size_t before = count_collection_errors(&rn->rec.result);
    read_part_results(rn, part->result_path, &part->pr);
    part->new_collection_errors = count_collection_errors(&rn->rec.result) - before;
    /* JUnit keeps a collection error's first line only: its cause is read back. */
    if (part->new_collection_errors && rn->setup.mode == MODE_JUNIT)
        run_colldetail_fill(MODE_JUNIT, part->result_path, &rn->rec.result);
    strlist_free(&argv);
}

/* Whether a part ended the run as a single pytest would have ended it. */
bool run_part_ends_run(const run_part_t *part)
{
    const process_result_t *pr = &part->pr;
    if (pr->start_failed || pr->signal || process_forwarded_signal()) return true;
    return !(pr->exit_code == 0 || pr->exit_code == 1 || pr->exit_code == 5);
}
