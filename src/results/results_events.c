#include "results/results_events.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/jsoncut.h"
#include "base/jsontext.h"
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CHUNK ((size_t)64 << 10)

static const char *const KEYS[] = {"e",       "id",     "outcome",        "when",
                                   "msg",     "dur",    "tries",          "xfail",
                                   "rootdir", "pytest", "invocation_dir", "status"};
enum {
    K_E,
    K_ID,
    K_OUTCOME,
    K_WHEN,
    K_MSG,
    K_DUR,
    K_TRIES,
    K_XFAIL,
    K_ROOTDIR,
    K_PYTEST,
    K_INV,
    K_STATUS,
    K_COUNT
};

typedef struct {
    run_event_session_fn on_session;
    run_event_fn fn;
    void *user;
    results_events_scan_t *out;
    buf_t scratch;     /* decoded strings of the current line */
    bool in_long_line; /* skipping the rest of a line over the limit */
} reader_t;

/* Decodes member i into the scratch buffer; its offset, or SIZE_MAX when it
 * is absent, not a string, or holds a NUL. */
static size_t text_of(reader_t *rd, const jsoncut_value_t *m, int i)
{
    if (!m[i].v) return SIZE_MAX;
    size_t off = rd->scratch.len;
    if (jsontext_decode(m[i].v, m[i].len, &rd->scratch) != JSONTEXT_OK) {
        rd->scratch.len = off;
        return SIZE_MAX;
    }
    return off;
}

static double number_of(const jsoncut_value_t *m, int i, double fallback)
{
    if (!m[i].v || m[i].len == 0 || m[i].len >= 40) return fallback;
    char text[40];
    memcpy(text, m[i].v, m[i].len);
    text[m[i].len] = '\0';
    char *end = NULL;
    double d = strtod(text, &end);
    return end == text + m[i].len && isfinite(d) ? d : fallback;
}

static const char *at(const reader_t *rd, size_t off)
{
    return off == SIZE_MAX ? NULL : rd->scratch.data + off;
}

static long running_index(const strlist_t *l, const char *id)
{
    for (size_t i = l->len; i > 0; i--)
        if (strcmp(l->items[i - 1], id) == 0) return (long)(i - 1);
    return -1;
}

static void note_start(results_events_scan_t *out, const char *id)
{
    if (running_index(&out->running, id) >= 0) return; /* another try of it */
    if (out->running.len >= RESULTS_EVENTS_MAX_RUNNING) {
        out->running_more++;
        return;
    }
    strlist_push(&out->running, id);
}

static void note_finish(results_events_scan_t *out, const char *id)
{
    long i = running_index(&out->running, id);
    if (i < 0) {
        if (out->running_more) out->running_more--; /* one of those not listed */
        return;
    }
    free(out->running.items[i]);
    memmove(&out->running.items[i], &out->running.items[i + 1],
            (out->running.len - (size_t)i - 1) * sizeof(char *));
    out->running.items[--out->running.len] = NULL;
}

static bool session_line(reader_t *rd, const jsoncut_value_t *m)
{
    results_events_scan_t *out = rd->out;
    size_t root_off = text_of(rd, m, K_ROOTDIR);
    size_t inv_off = text_of(rd, m, K_INV);
    size_t ver_off = text_of(rd, m, K_PYTEST);
    const char *root = at(rd, root_off); /* pointers after the last append: it may move */
    const char *inv = at(rd, inv_off);
    if (!root || !*root || !inv || !*inv || out->session) return false;
    out->session = true;
    out->rootdir = xstrdup(root);
    out->invocation_dir = xstrdup(inv);
    out->pytest_version = xstrdup(at(rd, ver_off) ? at(rd, ver_off) : "");
    if (rd->on_session) rd->on_session(out->rootdir, out->invocation_dir, rd->user);
    return true;
}

static test_status_t outcome_status(const char *o)
{
    if (!o) return ST_UNKNOWN;
    if (strcmp(o, "passed") == 0) return ST_PASSED;
    if (strcmp(o, "failed") == 0) return ST_FAILED;
    if (strcmp(o, "skipped") == 0) return ST_SKIPPED;
    return ST_UNKNOWN;
}

static bool test_line(reader_t *rd, const jsoncut_value_t *m, bool collection_error)
{
    size_t id = text_of(rd, m, K_ID);
    size_t outcome = collection_error ? SIZE_MAX : text_of(rd, m, K_OUTCOME);
    size_t when = text_of(rd, m, K_WHEN);
    size_t msg = text_of(rd, m, K_MSG);
    if (id == SIZE_MAX || !*at(rd, id)) return false;
    test_status_t st = collection_error ? ST_FAILED : outcome_status(at(rd, outcome));
    if (st == ST_UNKNOWN) return false;
    double tries = number_of(m, K_TRIES, 1);
    run_event_test_t t = {.node_id = at(rd, id),
                          .status = st,
                          .when = at(rd, when) ? at(rd, when) : "",
                          .message = at(rd, msg) ? at(rd, msg) : "",
                          .duration = fmax(number_of(m, K_DUR, 0), 0),
                          .tries = tries >= 1 && tries <= 1e6 ? (int)tries : 1,
                          .xfail = jsoncut_value_is(m[K_XFAIL], "true"),
                          .collection_error = collection_error};
    if (!collection_error) {
        note_finish(rd->out, t.node_id);
        rd->out->tests++;
    }
    if (rd->fn) rd->fn(&t, rd->user);
    return true;
}

static bool event_line(reader_t *rd, const jsoncut_value_t *m)
{
    size_t e_off = text_of(rd, m, K_E);
    if (e_off == SIZE_MAX) return false;
    char e[16];
    snprintf(e, sizeof e, "%s", at(rd, e_off));
    if (strcmp(e, "session") == 0) return session_line(rd, m);
    if (strcmp(e, "test") == 0) return test_line(rd, m, false);
    if (strcmp(e, "collect_error") == 0) return test_line(rd, m, true);
    if (strcmp(e, "start") == 0) {
        const char *id = at(rd, text_of(rd, m, K_ID));
        if (!id || !*id) return false;
        note_start(rd->out, id);
        return true;
    }
    if (strcmp(e, "end") == 0) {
        double status = number_of(m, K_STATUS, -1);
        rd->out->ended = true;
        rd->out->exit_status = status >= 0 && status <= 255 ? (int)status : -1;
        return true;
    }
    return false;
}

static void one_line(reader_t *rd, const char *line, size_t len)
{
    while (len && (line[len - 1] == '\r' || jsoncut_is_space(line[len - 1]))) len--;
    if (len == 0) return;
    jsoncut_value_t m[K_COUNT];
    buf_reset(&rd->scratch);
    bool ok =
        line[0] == '{' && jsoncut_pick(line, len, KEYS, K_COUNT, m, false) && event_line(rd, m);
    if (!ok) rd->out->bad_lines++;
}

/* Feeds complete lines of b to one_line and keeps the unfinished rest. */
static void feed(reader_t *rd, buf_t *b)
{
    size_t start = 0;
    for (;;) {
        char *nl = memchr(b->data + start, '\n', b->len - start);
        if (!nl) break;
        size_t end = (size_t)(nl - b->data);
        if (rd->in_long_line)
            rd->in_long_line = false; /* the over-long line ends here: skipped */
        else if (end - start > RESULTS_EVENTS_MAX_LINE)
            rd->out->bad_lines++; /* over the limit, though it ended within this chunk */
        else
            one_line(rd, b->data + start, end - start);
        start = end + 1;
    }
    memmove(b->data, b->data + start, b->len - start);
    b->len -= start;
    if (b->len > RESULTS_EVENTS_MAX_LINE) { /* a line too long to keep: skip to its end */
        if (!rd->in_long_line) rd->out->bad_lines++;
        rd->in_long_line = true;
        b->len = 0;
    }
}

static void init_scan(results_events_scan_t *out)
{
    memset(out, 0, sizeof *out);
    out->exit_status = -1;
    strlist_init(&out->running);
}

void results_events_read_text(const char *text, size_t len, run_event_session_fn on_session,
                              run_event_fn fn, void *user, results_events_scan_t *out)
{
    init_scan(out);
    reader_t rd = {.on_session = on_session, .fn = fn, .user = user, .out = out};
    buf_t b = BUF_INIT;
    for (size_t at_ = 0; at_ < len; at_ += CHUNK) {
        size_t n = len - at_ < CHUNK ? len - at_ : CHUNK;
        buf_append(&b, text + at_, n);
        feed(&rd, &b);
    }
    buf_free(&b);
    buf_free(&rd.scratch);
}

void results_events_read(const char *path, run_event_session_fn on_session, run_event_fn fn,
                         void *user, results_events_scan_t *out)
{
    init_scan(out);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        err_set(&out->error, "cannot read %s (%s)", path, strerror(errno));
        return;
    }
    reader_t rd = {.on_session = on_session, .fn = fn, .user = user, .out = out};
    buf_t b = BUF_INIT;
    for (;;) {
        buf_reserve(&b, CHUNK);
        ssize_t n = read(fd, b.data + b.len, CHUNK);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) err_set(&out->error, "cannot read %s (%s)", path, strerror(errno));
        if (n <= 0) break;
        b.len += (size_t)n;
        feed(&rd, &b);
    }
    close(fd);
    buf_free(&b);
    buf_free(&rd.scratch);
}

void results_events_scan_free(results_events_scan_t *s)
{
    free(s->rootdir);
    free(s->invocation_dir);
    free(s->pytest_version);
    strlist_free(&s->running);
    free(s->error);
    memset(s, 0, sizeof *s);
}
