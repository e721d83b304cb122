/* results_events: the recorder's JSON-lines events file read back. Every event
 * kind, node ids decoded byte for byte (\udcXX), NULs refused, torn and
 * over-long lines, the tests a killed run was running, and the file reader
 * against the in-memory one. The recorder writing these lines from real
 * pytest is in test_run_recorder.c. */
#include "unit.h"
#include "scratch.h"
#include "base/buf.h"
#include "results/results_events.h"
#include <errno.h>
#include <fcntl.h>
#include <sys/resource.h>

/* What the callbacks saw, one line each, in order. */
typedef struct {
    buf_t log;
    int sessions;
    size_t events; /* test and collect_error callbacks */
    bool test_before_session;
    strlist_t ids; /* node ids exactly as handed out */
} seen_t;

static void seen_init(seen_t *s)
{
    memset(s, 0, sizeof *s);
    buf_init(&s->log);
    strlist_init(&s->ids);
}

static void seen_free(seen_t *s)
{
    buf_free(&s->log);
    strlist_free(&s->ids);
}

static void on_session(const char *rootdir, const char *invocation_dir, void *user)
{
    seen_t *s = user;
    s->sessions++;
    buf_printf(&s->log, "session %s %s\n", rootdir, invocation_dir);
}

static void on_test(const run_event_test_t *t, void *user)
{
    seen_t *s = user;
    if (s->sessions == 0) s->test_before_session = true;
    s->events++;
    strlist_push(&s->ids, t->node_id);
    buf_printf(&s->log, "%s %s %s when=%s msg=%s dur=%.3f tries=%d xfail=%d\n",
               t->collection_error ? "collect_error" : "test", t->node_id,
               results_model_status_name(t->status), t->when, t->message, t->duration, t->tries,
               t->xfail);
}

static void read_text(const char *text, seen_t *s, results_events_scan_t *scan)
{
    seen_init(s);
    results_events_read_text(text, strlen(text), on_session, on_test, s, scan);
}

static const char SESSION[] = "{\"e\":\"session\",\"rootdir\":\"/w/repo/services/api\","
                              "\"invocation_dir\":\"/w/repo\",\"pytest\":\"7.2.1\"}\n";

static void every_event_kind(void **state)
{
    (void)state;
    const char *text =
        "{\"e\":\"session\",\"rootdir\":\"/w/repo/services/api\",\"invocation_dir\":\"/w/repo\","
        "\"pytest\":\"7.2.1\"}\n"
        "{\"e\":\"start\",\"id\":\"tests/test_a.py::test_ok\"}\n"
        "{\"e\":\"test\",\"id\":\"tests/test_a.py::test_ok\",\"outcome\":\"passed\",\"when\":\"\","
        "\"msg\":\"\",\"dur\":0.25,\"tries\":1,\"xfail\":false}\n"
        "{\"e\":\"start\",\"id\":\"tests/test_a.py::test_bad\"}\n"
        "{\"e\":\"test\",\"id\":\"tests/test_a.py::test_bad\",\"outcome\":\"failed\","
        "\"when\":\"teardown\",\"msg\":\"E   RuntimeError: boom\\nline two\",\"dur\":1.5,"
        "\"tries\":1,\"xfail\":false}\n"
        "{\"e\":\"start\",\"id\":\"tests/test_a.py::test_skip\"}\n"
        "{\"e\":\"test\",\"id\":\"tests/test_a.py::test_skip\",\"outcome\":\"skipped\","
        "\"when\":\"setup\",\"msg\":\"no db\",\"dur\":0,\"tries\":1,\"xfail\":false}\n"
        "{\"e\":\"start\",\"id\":\"tests/test_a.py::test_xf\"}\n"
        "{\"e\":\"test\",\"id\":\"tests/test_a.py::test_xf\",\"outcome\":\"skipped\","
        "\"when\":\"call\",\"msg\":\"known bug\",\"dur\":0.001,\"tries\":1,\"xfail\":true}\n"
        "{\"e\":\"collect_error\",\"id\":\"tests/test_broken.py\",\"msg\":\"ImportError: x\"}\n"
        "{\"e\":\"end\",\"status\":1}\n";
    seen_t s;
    results_events_scan_t scan;
    read_text(text, &s, &scan);
    assert_string_equal(
        s.log.data,
        "session /w/repo/services/api /w/repo\n"
        "test tests/test_a.py::test_ok passed when= msg= dur=0.250 tries=1 xfail=0\n"
        "test tests/test_a.py::test_bad failed when=teardown msg=E   RuntimeError: boom\nline "
        "two dur=1.500 tries=1 xfail=0\n"
        "test tests/test_a.py::test_skip skipped when=setup msg=no db dur=0.000 tries=1 xfail=0\n"
        "test tests/test_a.py::test_xf skipped when=call msg=known bug dur=0.001 tries=1 xfail=1\n"
        "collect_error tests/test_broken.py failed when= msg=ImportError: x dur=0.000 tries=1 "
        "xfail=0\n");
    assert_true(scan.session);
    assert_string_equal(scan.rootdir, "/w/repo/services/api");
    assert_string_equal(scan.invocation_dir, "/w/repo");
    assert_string_equal(scan.pytest_version, "7.2.1");
    assert_true(scan.ended);
    assert_int_equal(scan.exit_status, 1);
    assert_int_equal(scan.tests, 4); /* test lines; the collection error is not one */
    assert_int_equal(scan.running.len, 0);
    assert_int_equal(scan.running_more, 0);
    assert_int_equal(scan.bad_lines, 0);
    assert_null(scan.error);
    results_events_scan_free(&scan);
    seen_free(&s);
}

/* The session line is read once, and before it no test is handed out early. */
static void session_line_read_once(void **state)
{
    (void)state;
    const char *text = "{\"e\":\"session\",\"rootdir\":\"/a\",\"invocation_dir\":\"/a\"}\n"
                       "{\"e\":\"session\",\"rootdir\":\"/b\",\"invocation_dir\":\"/b\"}\n"
                       "{\"e\":\"session\",\"rootdir\":\"\",\"invocation_dir\":\"/c\"}\n";
    seen_t s;
    results_events_scan_t scan;
    read_text(text, &s, &scan);
    assert_int_equal(s.sessions, 1);
    assert_string_equal(scan.rootdir, "/a");
    assert_string_equal(scan.pytest_version, ""); /* the line without it */
    assert_int_equal(scan.bad_lines, 2);
    assert_false(scan.ended);
    assert_int_equal(scan.exit_status, -1);
    results_events_scan_free(&scan);
    seen_free(&s);

    /* a file without a session line still hands out its tests */
    read_text("{\"e\":\"test\",\"id\":\"t.py::a\",\"outcome\":\"passed\"}\n", &s, &scan);
    assert_false(scan.session);
    assert_null(scan.rootdir);
    assert_int_equal(s.events, 1);
    results_events_scan_free(&scan);
    seen_free(&s);
}

/* Python's json writes a file name's undecodable byte as \udcXX: the very byte
 * comes back. Other escapes decode as JSON says. */
static void surrogate_escapes_come_back_as_bytes(void **state)
{
    (void)state;
    const char *text =
        "{\"e\":\"test\",\"id\":\"tests/test_latin1_\\udce9.py::test_x\",\"outcome\":\"failed\","
        "\"when\":\"call\"}\n"
        "{\"e\":\"test\",\"id\":\"tests/t.py::test_p[\\u00e9\\ud83d\\ude00]\",\"outcome\":"
        "\"passed\"}\n"
        "{\"e\":\"test\",\"id\":\"tests/t.py::test_p[\\udc41\\\\\\\"\\t]\",\"outcome\":"
        "\"passed\"}\n"
        "{\"e\":\"test\",\"id\":\"tests/\\udcff\\udc80.py\",\"outcome\":\"passed\"}\n";
    seen_t s;
    results_events_scan_t scan;
    read_text(text, &s, &scan);
    assert_int_equal(scan.bad_lines, 0);
    assert_int_equal(s.ids.len, 4);
    assert_string_equal(s.ids.items[0], "tests/test_latin1_\xe9.py::test_x");
    assert_string_equal(s.ids.items[1], "tests/t.py::test_p[\xc3\xa9\xf0\x9f\x98\x80]");
    /* \udc41 is no byte Python escaped (those are >= 0x80): U+FFFD */
    assert_string_equal(s.ids.items[2], "tests/t.py::test_p[\xef\xbf\xbd\\\"\t]");
    assert_string_equal(s.ids.items[3], "tests/\xff\x80.py");
    results_events_scan_free(&scan);
    seen_free(&s);
}

/* \u0000 cannot be in a C string nor in pytest's argv: the id is refused, never cut. */
static void nul_in_an_id_is_refused(void **state)
{
    (void)state;
    const char *text =
        "{\"e\":\"start\",\"id\":\"tests/t.py::test_a\\u0000b\"}\n"
        "{\"e\":\"test\",\"id\":\"tests/t.py::test_a\\u0000b\",\"outcome\":\"failed\"}\n"
        "{\"e\":\"collect_error\",\"id\":\"tests/\\u0000.py\",\"msg\":\"x\"}\n"
        "{\"e\":\"session\",\"rootdir\":\"/a\\u0000b\",\"invocation_dir\":\"/a\"}\n"
        "{\"e\":\"test\",\"id\":\"tests/t.py::test_ok\",\"outcome\":\"passed\"}\n";
    seen_t s;
    results_events_scan_t scan;
    read_text(text, &s, &scan);
    assert_int_equal(scan.bad_lines, 4);
    assert_int_equal(s.events, 1);
    assert_string_equal(s.ids.items[0], "tests/t.py::test_ok");
    assert_int_equal(scan.running.len, 0);
    assert_false(scan.session);
    results_events_scan_free(&scan);
    seen_free(&s);
}

/* A raw NUL byte inside a string (a damaged file: the recorder writes ASCII
 * JSON) must not cut the id at the NUL either. */
static void raw_nul_byte_in_an_id_is_refused(void **state)
{
    (void)state;
    static const char line[] = "{\"e\":\"test\",\"id\":\"tests/t.py::test_a\0b\",\"outcome\":"
                               "\"failed\"}\n";
    seen_t s;
    seen_init(&s);
    results_events_scan_t scan;
    results_events_read_text(line, sizeof line - 1, on_session, on_test, &s, &scan);
    for (size_t i = 0; i < s.ids.len; i++)
        assert_string_not_equal(s.ids.items[i], "tests/t.py::test_a"); /* cut short */
    assert_int_equal(s.events, 0);
    assert_int_equal(scan.bad_lines, 1);
    results_events_scan_free(&scan);
    seen_free(&s);
}

/* The writer killed mid-line leaves a torn last line: ignored, not counted. */
static void unterminated_last_line_is_ignored(void **state)
{
    (void)state;
    const char *whole_but_unterminated =
        "{\"e\":\"start\",\"id\":\"t.py::a\"}\n"
        "{\"e\":\"test\",\"id\":\"t.py::a\",\"outcome\":\"passed\"}";
    seen_t s;
    results_events_scan_t scan;
    read_text(whole_but_unterminated, &s, &scan);
    assert_int_equal(s.events, 0);
    assert_int_equal(scan.tests, 0);
    assert_int_equal(scan.bad_lines, 0);
    assert_int_equal(scan.running.len, 1); /* it started; its end never made it */
    assert_string_equal(scan.running.items[0], "t.py::a");
    results_events_scan_free(&scan);
    seen_free(&s);

    read_text("{\"e\":\"end\",\"status\":0}\n{\"e\":\"te", &s, &scan);
    assert_true(scan.ended);
    assert_int_equal(scan.bad_lines, 0);
    results_events_scan_free(&scan);
    seen_free(&s);

    char *path = scratch_file("tep-events", whole_but_unterminated, strlen(whole_but_unterminated));
    seen_init(&s);
    results_events_read(path, on_session, on_test, &s, &scan);
    assert_null(scan.error);
    assert_int_equal(s.events, 0);
    assert_int_equal(scan.bad_lines, 0);
    assert_int_equal(scan.running.len, 1);
    results_events_scan_free(&scan);
    seen_free(&s);
    unlink(path);
    free(path);
}

static void crlf_and_blank_lines(void **state)
{
    (void)state;
    const char *text = "\n\r\n  \n{\"e\":\"test\",\"id\":\"t.py::a\",\"outcome\":\"skipped\"}\r\n"
                       "{\"e\":\"end\",\"status\":5}\r\n";
    seen_t s;
    results_events_scan_t scan;
    read_text(text, &s, &scan);
    assert_int_equal(s.events, 1);
    assert_int_equal(scan.bad_lines, 0);
    assert_int_equal(scan.exit_status, 5);
    results_events_scan_free(&scan);
    seen_free(&s);
}

/* A valid test line whose msg makes it `len` bytes long (without its '\n'). */
static void put_long_test_line(buf_t *b, const char *id, size_t len)
{
    const char *head = "{\"e\":\"test\",\"id\":\"";
    const char *mid = "\",\"outcome\":\"failed\",\"when\":\"call\",\"msg\":\"";
    size_t fixed = strlen(head) + strlen(id) + strlen(mid) + 2; /* and the closing "} */
    assert_true(len > fixed);
    buf_puts(b, head);
    buf_puts(b, id);
    buf_puts(b, mid);
    size_t at = b->len;
    buf_reserve(b, len - fixed);
    memset(b->data + at, 'x', len - fixed);
    b->len += len - fixed;
    b->data[b->len] = '\0';
    buf_puts(b, "\"}\n");
}

/* Lines over RESULTS_EVENTS_MAX_LINE are skipped and counted, whatever their length
 * and wherever a read chunk ends; a line of exactly the limit is read. */
static void over_long_lines_are_skipped_and_counted(void **state)
{
    (void)state;
    const size_t lens[] = {RESULTS_EVENTS_MAX_LINE + 1, RESULTS_EVENTS_MAX_LINE + 1000,
                           RESULTS_EVENTS_MAX_LINE * 3};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        buf_t b = BUF_INIT;
        put_long_test_line(&b, "t.py::too_long", lens[i]);
        put_long_test_line(&b, "t.py::at_limit", RESULTS_EVENTS_MAX_LINE);
        buf_puts(&b, "{\"e\":\"test\",\"id\":\"t.py::after\",\"outcome\":\"passed\"}\n");
        seen_t s;
        seen_init(&s);
        results_events_scan_t scan;
        results_events_read_text(b.data, b.len, on_session, on_test, &s, &scan);
        assert_int_equal(scan.bad_lines, 1);
        assert_int_equal(s.ids.len, 2);
        assert_string_equal(s.ids.items[0], "t.py::at_limit");
        assert_string_equal(s.ids.items[1], "t.py::after");
        results_events_scan_free(&scan);
        seen_free(&s);
        buf_free(&b);
    }
}

static long max_rss_kb(void)
{
    struct rusage ru;
    assert_int_equal(getrusage(RUSAGE_SELF, &ru), 0);
    return ru.ru_maxrss;
}

/* A 64 MiB line in a file is skipped without holding it: the process's peak
 * memory grows by far less than the line. (Runs first: the peak is a
 * high-water mark.) */
static void over_long_line_is_not_loaded_whole(void **state)
{
    (void)state;
    const size_t big = (size_t)64 << 20;
    char path[] = "/tmp/tep-events-big-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *head = "{\"e\":\"test\",\"id\":\"t.py::huge\",\"outcome\":\"failed\",\"msg\":\"";
    assert_int_equal(write(fd, head, strlen(head)), (ssize_t)strlen(head));
    char *chunk = xmalloc((size_t)1 << 20);
    memset(chunk, 'x', (size_t)1 << 20);
    for (size_t done = 0; done < big; done += (size_t)1 << 20)
        assert_int_equal(write(fd, chunk, (size_t)1 << 20), 1 << 20);
    free(chunk);
    const char *tail = "\"}\n{\"e\":\"test\",\"id\":\"t.py::small\",\"outcome\":\"passed\"}\n";
    assert_int_equal(write(fd, tail, strlen(tail)), (ssize_t)strlen(tail));
    close(fd);

    long before = max_rss_kb();
    seen_t s;
    seen_init(&s);
    results_events_scan_t scan;
    results_events_read(path, on_session, on_test, &s, &scan);
    long grown_kb = max_rss_kb() - before;
    unlink(path);
    assert_null(scan.error);
    assert_int_equal(scan.bad_lines, 1);
    assert_int_equal(s.ids.len, 1);
    assert_string_equal(s.ids.items[0], "t.py::small");
    assert_true(grown_kb < 16 * 1024); /* the line is 64 MiB */
    results_events_scan_free(&scan);
    seen_free(&s);
}

/* Started and not finished: a killed run's tests, in the order they started. */
static void running_tests_are_listed(void **state)
{
    (void)state;
    const char *text = "{\"e\":\"start\",\"id\":\"t.py::a\"}\n"
                       "{\"e\":\"start\",\"id\":\"t.py::b\"}\n"
                       "{\"e\":\"start\",\"id\":\"t.py::c\"}\n"
                       "{\"e\":\"test\",\"id\":\"t.py::b\",\"outcome\":\"passed\"}\n"
                       "{\"e\":\"collect_error\",\"id\":\"t.py::a\",\"msg\":\"\"}\n";
    seen_t s;
    results_events_scan_t scan;
    read_text(text, &s, &scan);
    assert_int_equal(scan.running.len, 2);
    assert_string_equal(scan.running.items[0], "t.py::a");
    assert_string_equal(scan.running.items[1], "t.py::c");
    assert_int_equal(scan.running_more, 0);
    assert_int_equal(scan.tests, 1);
    results_events_scan_free(&scan);
    seen_free(&s);
}

static void running_tests_are_capped(void **state)
{
    (void)state;
    buf_t b = BUF_INIT;
    for (int i = 0; i < RESULTS_EVENTS_MAX_RUNNING + 6; i++)
        buf_printf(&b, "{\"e\":\"start\",\"id\":\"t.py::test_%d\"}\n", i);
    buf_puts(&b, "{\"e\":\"test\",\"id\":\"t.py::test_0\",\"outcome\":\"passed\"}\n");
    seen_t s;
    results_events_scan_t scan;
    read_text(b.data, &s, &scan);
    assert_int_equal(scan.running.len, RESULTS_EVENTS_MAX_RUNNING - 1);
    assert_string_equal(scan.running.items[0], "t.py::test_1");
    assert_int_equal(scan.running_more, 6);
    assert_int_equal(scan.bad_lines, 0);
    results_events_scan_free(&scan);
    seen_free(&s);
    buf_free(&b);
}

/* One more than the cap started; the one not listed finished: at the end
 * nothing runs beyond the listed ones. */
static void running_more_counts_only_unfinished_tests(void **state)
{
    (void)state;
    buf_t b = BUF_INIT;
    for (int i = 0; i < RESULTS_EVENTS_MAX_RUNNING + 1; i++)
        buf_printf(&b, "{\"e\":\"start\",\"id\":\"t.py::test_%d\"}\n", i);
    buf_printf(&b, "{\"e\":\"test\",\"id\":\"t.py::test_%d\",\"outcome\":\"passed\"}\n",
               RESULTS_EVENTS_MAX_RUNNING);
    seen_t s;
    results_events_scan_t scan;
    read_text(b.data, &s, &scan);
    assert_int_equal(scan.running.len, RESULTS_EVENTS_MAX_RUNNING);
    assert_int_equal(scan.running_more, 0);
    results_events_scan_free(&scan);
    seen_free(&s);
    buf_free(&b);
}

/* pytest-rerunfailures: a start per try, one test line with the tries. */
static void rerun_tries_are_one_test(void **state)
{
    (void)state;
    const char *text =
        "{\"e\":\"start\",\"id\":\"t.py::flaky\"}\n"
        "{\"e\":\"start\",\"id\":\"t.py::flaky\"}\n"
        "{\"e\":\"start\",\"id\":\"t.py::flaky\"}\n"
        "{\"e\":\"test\",\"id\":\"t.py::flaky\",\"outcome\":\"passed\",\"tries\":3}\n"
        "{\"e\":\"start\",\"id\":\"t.py::killed\"}\n"
        "{\"e\":\"start\",\"id\":\"t.py::killed\"}\n";
    seen_t s;
    results_events_scan_t scan;
    read_text(text, &s, &scan);
    assert_int_equal(s.events, 1);
    assert_string_equal(s.log.data,
                        "test t.py::flaky passed when= msg= dur=0.000 tries=3 xfail=0\n");
    assert_int_equal(scan.running.len, 1); /* listed once however many tries started */
    assert_string_equal(scan.running.items[0], "t.py::killed");
    results_events_scan_free(&scan);
    seen_free(&s);
}

/* Anything that is not an event is counted and skipped; the reading goes on. */
static void garbage_lines_are_counted(void **state)
{
    (void)state;
    const char *text = "not json\n"
                       "{}\n"
                       "[1,2]\n"
                       "{\"e\":1}\n"
                       "{\"e\":\"bogus\",\"id\":\"t.py::a\"}\n"
                       "{\"e\":\"test\",\"id\":\"t.py::a\",\"outcome\":\"weird\"}\n"
                       "{\"e\":\"test\",\"outcome\":\"passed\"}\n"
                       "{\"e\":\"test\",\"id\":\"\",\"outcome\":\"passed\"}\n"
                       "{\"e\":\"test\",\"id\":42,\"outcome\":\"passed\"}\n"
                       "{\"e\":\"start\"}\n"
                       "{\"e\":\"test\",\"id\":\"t.py::a\\q\",\"outcome\":\"passed\"}\n"
                       "\x01\xff\n"
                       "{\"e\":\"test\",\"id\":\"t.py::ok\",\"outcome\":\"passed\"}\n";
    seen_t s;
    results_events_scan_t scan;
    read_text(text, &s, &scan);
    assert_int_equal(scan.bad_lines, 12);
    assert_int_equal(s.events, 1);
    assert_string_equal(s.ids.items[0], "t.py::ok");
    results_events_scan_free(&scan);
    seen_free(&s);
}

/* A line whose object never closes is not an event (jsoncut_each_member:
 * "false when it is not a well-formed object"). */
static void unclosed_object_is_not_an_event(void **state)
{
    (void)state;
    const char *text = "{\"e\":\"test\",\"id\":\"t.py::a\",\"outcome\":\"failed\"\n"
                       "{\"e\":\"end\",\"status\":0\n";
    seen_t s;
    results_events_scan_t scan;
    read_text(text, &s, &scan);
    assert_int_equal(s.events, 0);
    assert_false(scan.ended);
    assert_int_equal(scan.bad_lines, 2);
    results_events_scan_free(&scan);
    seen_free(&s);
}

/* Numbers out of range fall back instead of poisoning the counts. */
static void numbers_out_of_range(void **state)
{
    (void)state;
    const char *text =
        "{\"e\":\"test\",\"id\":\"t.py::a\",\"outcome\":\"passed\",\"dur\":-3,\"tries\":0}\n"
        "{\"e\":\"test\",\"id\":\"t.py::b\",\"outcome\":\"passed\",\"dur\":\"2\",\"tries\":\"4\"}\n"
        "{\"e\":\"test\",\"id\":\"t.py::c\",\"outcome\":\"passed\",\"dur\":1e400,\"tries\":1e9}\n"
        "{\"e\":\"end\",\"status\":300}\n";
    seen_t s;
    results_events_scan_t scan;
    read_text(text, &s, &scan);
    assert_string_equal(s.log.data, "test t.py::a passed when= msg= dur=0.000 tries=1 xfail=0\n"
                                    "test t.py::b passed when= msg= dur=0.000 tries=1 xfail=0\n"
                                    "test t.py::c passed when= msg= dur=0.000 tries=1 xfail=0\n");
    assert_true(scan.ended);
    assert_int_equal(scan.exit_status, -1);
    results_events_scan_free(&scan);
    seen_free(&s);
}

/* Everything the two readers report, as text, to compare them. */
static char *describe(const seen_t *s, const results_events_scan_t *scan)
{
    buf_t b = BUF_INIT;
    buf_puts(&b, s->log.data ? s->log.data : "");
    buf_printf(&b,
               "session=%d root=%s inv=%s ver=%s ended=%d status=%d tests=%zu more=%zu bad=%zu\n",
               scan->session, scan->rootdir ? scan->rootdir : "-",
               scan->invocation_dir ? scan->invocation_dir : "-",
               scan->pytest_version ? scan->pytest_version : "-", scan->ended, scan->exit_status,
               scan->tests, scan->running_more, scan->bad_lines);
    for (size_t i = 0; i < scan->running.len; i++)
        buf_printf(&b, "running %s\n", scan->running.items[i]);
    return buf_detach(&b);
}

/* The file reader and the in-memory reader say the same, over a file of many
 * read chunks with lines across their edges and an over-long line. */
static void read_and_read_text_agree(void **state)
{
    (void)state;
    buf_t b = BUF_INIT;
    buf_puts(&b, SESSION);
    size_t finished = 0, unfinished = 0;
    for (int i = 0; i < 3000; i++) {
        buf_printf(&b, "{\"e\":\"start\",\"id\":\"tests/t_\\udce9.py::test_%d[a::b]\"}\n", i);
        if (i % 500 == 0) buf_puts(&b, "garbage\n");
        if (i == 1500) put_long_test_line(&b, "t.py::long", RESULTS_EVENTS_MAX_LINE * 2);
        if (i % 7 == 3) { /* still running */
            unfinished++;
            continue;
        }
        finished++;
        buf_printf(
            &b,
            "{\"e\":\"test\",\"id\":\"tests/t_\\udce9.py::test_%d[a::b]\",\"outcome\":\"%s\","
            "\"when\":\"call\",\"msg\":\"m%d\",\"dur\":0.%03d,\"tries\":%d}\n",
            i, i % 3 ? "passed" : "failed", i, i % 1000, 1 + i % 2);
    }
    buf_puts(&b, "{\"e\":\"end\",\"status\":1}\n{\"e\":\"test\",\"id\":\"torn");
    seen_t mem, file;
    results_events_scan_t mem_scan, file_scan;
    seen_init(&mem);
    results_events_read_text(b.data, b.len, on_session, on_test, &mem, &mem_scan);
    char *path = scratch_file("tep-events", b.data, b.len);
    seen_init(&file);
    results_events_read(path, on_session, on_test, &file, &file_scan);
    unlink(path);
    assert_null(file_scan.error);
    char *a = describe(&mem, &mem_scan);
    char *c = describe(&file, &file_scan);
    assert_string_equal(a, c);
    assert_int_equal(mem.events, finished);
    assert_int_equal(mem_scan.bad_lines, 6 + 1); /* the garbage lines and the long one */
    assert_int_equal(mem_scan.running.len, RESULTS_EVENTS_MAX_RUNNING);
    assert_int_equal(mem_scan.running_more, unfinished - RESULTS_EVENTS_MAX_RUNNING);
    free(a);
    free(c);
    results_events_scan_free(&mem_scan);
    results_events_scan_free(&file_scan);
    seen_free(&mem);
    seen_free(&file);
    free(path);
    buf_free(&b);
}

static void missing_file_is_an_error_naming_it(void **state)
{
    (void)state;
    seen_t s;
    seen_init(&s);
    results_events_scan_t scan;
    results_events_read("/nonexistent/tep-events.jsonl", on_session, on_test, &s, &scan);
    assert_non_null(scan.error);
    assert_non_null(strstr(scan.error, "/nonexistent/tep-events.jsonl"));
    assert_null(strchr(scan.error, '\n'));
    assert_int_equal(s.sessions, 0);
    assert_int_equal(s.events, 0);
    assert_false(scan.session);
    assert_int_equal(scan.exit_status, -1);
    results_events_scan_free(&scan);

    /* a directory cannot be read either: an error, not an empty run */
    results_events_read("/tmp", on_session, on_test, &s, &scan);
    assert_non_null(scan.error);
    assert_non_null(strstr(scan.error, "/tmp"));
    results_events_scan_free(&scan);
    seen_free(&s);
}

/* No callbacks at all is allowed (the scan alone). */
static void callbacks_may_be_null(void **state)
{
    (void)state;
    results_events_scan_t scan;
    const char *text = "{\"e\":\"session\",\"rootdir\":\"/r\",\"invocation_dir\":\"/r\"}\n"
                       "{\"e\":\"test\",\"id\":\"t.py::a\",\"outcome\":\"passed\"}\n";
    results_events_read_text(text, strlen(text), NULL, NULL, NULL, &scan);
    assert_true(scan.session);
    assert_int_equal(scan.tests, 1);
    results_events_scan_free(&scan);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(over_long_line_is_not_loaded_whole),
        cmocka_unit_test(every_event_kind),
        cmocka_unit_test(session_line_read_once),
        cmocka_unit_test(surrogate_escapes_come_back_as_bytes),
        cmocka_unit_test(nul_in_an_id_is_refused),
        cmocka_unit_test(raw_nul_byte_in_an_id_is_refused),
        cmocka_unit_test(unterminated_last_line_is_ignored),
        cmocka_unit_test(crlf_and_blank_lines),
        cmocka_unit_test(over_long_lines_are_skipped_and_counted),
        cmocka_unit_test(running_tests_are_listed),
        cmocka_unit_test(running_tests_are_capped),
        cmocka_unit_test(running_more_counts_only_unfinished_tests),
        cmocka_unit_test(rerun_tries_are_one_test),
        cmocka_unit_test(garbage_lines_are_counted),
        cmocka_unit_test(unclosed_object_is_not_an_event),
        cmocka_unit_test(numbers_out_of_range),
        cmocka_unit_test(read_and_read_text_agree),
        cmocka_unit_test(missing_file_is_an_error_naming_it),
        cmocka_unit_test(callbacks_may_be_null),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
