/* log: outside text never reaches the terminal raw. Each log call prints one
 * line with control characters rendered visibly; only log_section opens a
 * Buildkite section. */
#include "unit.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/log.h"
#include "scratch.h"
#include <stdio.h>
#include <unistd.h>

static void escaped(const char *in, const char *want)
{
    buf_t b;
    buf_init(&b);
    log_escape(&b, in);
    assert_string_equal(b.data, want);
    buf_free(&b);
}

static void escapes(void **state)
{
    (void)state;
    escaped("plain text, caf\xc3\xa9 \xe2\x9c\x93", "plain text, caf\xc3\xa9 \xe2\x9c\x93");
    escaped("a\nb\rc\td", "a\\nb\\rc\\td");
    escaped("\x1b[2J\x1b]0;title\x07", "\\x1b[2J\\x1b]0;title\\x07");
    escaped("x\x7fy\x01", "x\\x7fy\\x01");
    /* C1 controls in UTF-8 (U+009B is CSI for some terminals). */
    escaped("a\xc2\x9b"
            "31m b\xc2\xa0",
            "a\\u009b31m b\xc2\xa0");
    escaped("", "");
}

typedef struct {
    void (*fn)(void);
} printer_t;

static void call_printer(void *arg)
{
    ((printer_t *)arg)->fn();
}

/* Runs fn with fd (1 or 2) sent to a file; returns what was written. */
static char *capture(int fd, void (*fn)(void))
{
    printer_t p = {fn};
    return scratch_output(fd == 1 ? SCRATCH_STDOUT : SCRATCH_STDERR, call_printer, &p, NULL);
}

static const char *HOSTILE = "reason\n+++ fake section\x1b[31m\r";

static void print_info(void)
{
    log_info("  failed: t.py::x - %s", HOSTILE);
}
static void print_info_at_start(void)
{
    log_info("%s", "+++ fake section from the server");
}
static void print_warn(void)
{
    log_warn("refused a plan entry: '%s'", "a.py\n--- hidden\x1b[8m");
}
static void print_section(void)
{
    log_section("plan for %s", "x\n+++ y");
}
static void print_block(void)
{
    log_block("--- exit-4 forensics for a.py ---\n  ?? evil\x1b[2Jname\nlast");
}

static void sink(void **state)
{
    (void)state;
    setenv("NO_COLOR", "1", 1);
    char *out = capture(1, print_info);
    assert_string_equal(out, "  failed: t.py::x - reason\\n+++ fake section\\x1b[31m\\r\n");
    free(out);
    out = capture(1, print_info_at_start);
    assert_string_equal(out,
                        " +++ fake section from the server\n"); /* never a section of its own */
    free(out);
    out = capture(2, print_warn);
    assert_string_equal(
        out, "test-engine-pytest: warning: refused a plan entry: 'a.py\\n--- hidden\\x1b[8m'\n");
    free(out);
    out = capture(1, print_section);
    assert_string_equal(out, "+++ test-engine-pytest: plan for x\\n+++ y\n");
    free(out);
    out = capture(2, print_block);
    assert_string_equal(out, "--- exit-4 forensics for a.py ---\n  ?? evil\\x1b[2Jname\nlast\n");
    free(out);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(escapes),
        cmocka_unit_test(sink),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
