/* results_events: pytest's own reports, as the recorder (recorder.h) wrote them.
 *
 * The collector's JSON and pytest's JUnit are written once, at the end of a
 * run, and each misses something: the collector records a teardown error as
 * passed and pytest-rerunfailures' tries without a result; JUnit rebuilds
 * node ids from dotted class names; neither says where pytest's rootdir was,
 * and a pytest killed halfway (OOM, timeout, cancellation) leaves neither.
 * The recorder, a small pytest plugin loaded beside them, writes one JSON
 * line per event from pytest's own hooks, flushed as it goes:
 *
 *   {"e":"session","rootdir":R,"invocation_dir":I,"pytest":V}   first
 *   {"e":"start","id":N}                      a test (or one try of it) starts
 *   {"e":"test","id":N,"outcome":"passed|failed|skipped","when":W,"msg":M,
 *    "dur":S,"tries":K,"xfail":B}             a test's final outcome, once
 *   {"e":"collect_error","id":N,"msg":M}      a node pytest could not collect
 *   {"e":"end","status":X}                    pytest finished (its exit status)
 *
 * N is pytest's node id (relative to its rootdir), W the phase that failed or
 * skipped (setup, call, teardown, or "???" for an xdist worker that died), M
 * the end of pytest's text for it (the cause is there), K the tries under
 * pytest-rerunfailures. Strings are decoded byte for byte (jsontext_decode).
 *
 * Reading streams the file: memory stays at one line plus the tests started
 * and not yet finished (a few: one per xdist worker), whatever the suite.
 * Lines over RESULTS_EVENTS_MAX_LINE bytes, and lines that are not events, are
 * counted and skipped; an unterminated last line (the writer was killed
 * mid-line) is ignored. This module never prints. */
#ifndef TEP_RESULTS_EVENTS_H
#define TEP_RESULTS_EVENTS_H
#include <stdbool.h>
#include <stddef.h>
#include "results/results_model.h"
#include "base/strlist.h"

#define RESULTS_EVENTS_MAX_LINE ((size_t)1 << 20)
/* Tests started and not finished that are remembered (the rest counted). */
#define RESULTS_EVENTS_MAX_RUNNING 64

/* One finished test (valid during the callback only). */
typedef struct {
    const char *node_id; /* as pytest prints it: relative to its rootdir */
    test_status_t status;
    const char *when;    /* the phase that failed or skipped, "" when it passed */
    const char *message; /* pytest's text for the failure or skip, "" if none */
    double duration;     /* seconds, all phases and tries */
    int tries;           /* > 1 under pytest-rerunfailures */
    bool xfail;
    bool collection_error; /* a collect_error line: node_id is what failed */
} run_event_test_t;

typedef void (*run_event_fn)(const run_event_test_t *t, void *user);
/* Called once, for the session line, before any test. */
typedef void (*run_event_session_fn)(const char *rootdir, const char *invocation_dir, void *user);

typedef struct {
    bool session;         /* the session line was read */
    char *rootdir;        /* from it (NULL without) */
    char *invocation_dir; /* likewise */
    char *pytest_version;
    bool ended;          /* the end line was read: pytest finished */
    int exit_status;     /* from the end line, -1 without */
    size_t tests;        /* test lines read */
    strlist_t running;   /* started and not finished at the end: a killed run's tests */
    size_t running_more; /* more of them than RESULTS_EVENTS_MAX_RUNNING */
    size_t bad_lines;    /* lines skipped: too long, or not an event */
    char *error;         /* the file could not be read (caller frees), else NULL */
} results_events_scan_t;

/* Reads path, calling on_session then fn for each finished test and each
 * collection error. Absent file: out->error set, nothing called. */
void results_events_read(const char *path, run_event_session_fn on_session, run_event_fn fn,
                         void *user, results_events_scan_t *out);
/* The same over bytes in memory (the fuzz target's entry). */
void results_events_read_text(const char *text, size_t len, run_event_session_fn on_session,
                              run_event_fn fn, void *user, results_events_scan_t *out);
void results_events_scan_free(results_events_scan_t *s);

#endif
