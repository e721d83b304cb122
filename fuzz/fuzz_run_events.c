/* Recorder events reader: results_events_read_text and results_events_read (the same
 * bytes as a file) on any input, and what the run does next with each node
 * id (its JUnit key, its widening). Invariants: both readers hand out the same
 * events and the same scan; every event has a non-empty id, a when and a
 * message, a duration that is a real number of seconds >= 0 and tries >= 1;
 * the session callback comes at most once; the scan counts
 * one test per test event, never more bad lines than complete lines, keeps
 * at most RESULTS_EVENTS_MAX_RUNNING running ids (each non-empty) and an exit
 * status in -1..255 (-1 without an end line). */
#include "base/buf.h"
#include "fuzz_util.h"
#include "results/results_events.h"
#include "run/run_exit4.h"
#include "pytest/nodeid.h"
#include <math.h>
#include <string.h>

typedef struct {
    buf_t log; /* every callback, to compare the two readers */
    size_t sessions, tests, events;
} seen_t;

static void on_session(const char *rootdir, const char *invocation_dir, void *user)
{
    seen_t *s = user;
    FUZZ_CHECK(rootdir && *rootdir && invocation_dir && *invocation_dir);
    s->sessions++;
    buf_printf(&s->log, "S%s\x1f%s\n", rootdir, invocation_dir);
}

static void check_id_helpers(const char *id)
{
    char *key = nodeid_junit_key(id);
    FUZZ_CHECK(strchr(key, '\x1f') != NULL); /* classname and name, always both */
    free(key);
    char *wider = run_exit4_widen(id);
    if (wider) { /* a proper prefix of the id: widening ends */
        FUZZ_CHECK(strlen(wider) < strlen(id));
        FUZZ_CHECK(strncmp(wider, id, strlen(wider)) == 0);
        free(wider);
    }
}

static void on_test(const run_event_test_t *t, void *user)
{
    seen_t *s = user;
    FUZZ_CHECK(t->node_id && *t->node_id && t->when && t->message);
    FUZZ_CHECK(isfinite(t->duration) && t->duration >= 0);
    FUZZ_CHECK(t->tries >= 1);
    FUZZ_CHECK(t->status == ST_PASSED || t->status == ST_FAILED || t->status == ST_SKIPPED);
    FUZZ_CHECK(!t->collection_error || t->status == ST_FAILED);
    s->events++;
    if (!t->collection_error) s->tests++;
    buf_printf(&s->log, "T%d%d%d%d\x1f%s\x1f%s\x1f%s\x1f%.17g\n", (int)t->status, t->tries,
               t->xfail, t->collection_error, t->node_id, t->when, t->message, t->duration);
    check_id_helpers(t->node_id);
}

static void check_scan(const results_events_scan_t *scan, const seen_t *s, size_t lines)
{
    FUZZ_CHECK(scan->error == NULL);
    FUZZ_CHECK(scan->session == (s->sessions == 1));
    FUZZ_CHECK(s->sessions <= 1);
    FUZZ_CHECK(!scan->session || (scan->rootdir && scan->invocation_dir && scan->pytest_version));
    FUZZ_CHECK(scan->tests == s->tests);
    FUZZ_CHECK(scan->bad_lines <= lines);
    FUZZ_CHECK(scan->running.len <= RESULTS_EVENTS_MAX_RUNNING);
    for (size_t i = 0; i < scan->running.len; i++) FUZZ_CHECK(*scan->running.items[i]);
    FUZZ_CHECK(scan->exit_status >= -1 && scan->exit_status <= 255);
    FUZZ_CHECK(scan->ended || scan->exit_status == -1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t lines = 0;
    for (size_t i = 0; i < size; i++) lines += data[i] == '\n';

    seen_t mem = {0}, file = {0};
    results_events_scan_t mem_scan, file_scan;
    results_events_read_text((const char *)data, size, on_session, on_test, &mem, &mem_scan);
    check_scan(&mem_scan, &mem, lines);

    results_events_read(fuzz_file(data, size), on_session, on_test, &file, &file_scan);
    check_scan(&file_scan, &file, lines);

    FUZZ_CHECK(mem.log.len == file.log.len);
    FUZZ_CHECK(mem.log.len == 0 || memcmp(mem.log.data, file.log.data, mem.log.len) == 0);
    FUZZ_CHECK(mem_scan.bad_lines == file_scan.bad_lines);
    FUZZ_CHECK(mem_scan.running.len == file_scan.running.len);
    FUZZ_CHECK(mem_scan.running_more == file_scan.running_more);
    FUZZ_CHECK(mem_scan.ended == file_scan.ended && mem_scan.exit_status == file_scan.exit_status);

    buf_free(&mem.log);
    buf_free(&file.log);
    results_events_scan_free(&mem_scan);
    results_events_scan_free(&file_scan);
    return 0;
}
