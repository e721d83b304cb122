/* report_timing: a job's part of the step's time box, read the way Buildkite
 * renders it (cmark-gfm): one line when there is nothing to unfold, else
 * that line as the <summary> of its slowest tests and skip reasons; hostile
 * labels and reasons stay text; the part stays within REPORT_TIMING_MAX. */
#include "unit.h"
#include "base/buf.h"
#include "report/report_timing.h"
#include "scratch.h"
#include <stdio.h>

static char *to_html(const char *md)
{
    char *in = scratch_file("tep-timing-md", md, strlen(md));
    char *cmd = xasprintf("cmark-gfm --unsafe -e table < %s", in);
    FILE *p = popen(cmd, "r");
    assert_non_null(p);
    buf_t out = BUF_INIT;
    char chunk[4096];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, p)) > 0) buf_append(&out, chunk, n);
    assert_int_equal(pclose(p), 0);
    unlink(in);
    free(in);
    free(cmd);
    return buf_detach(&out);
}

static report_markdown_job_t job(void)
{
    report_markdown_job_t j = {0};
    j.job_number = 2;
    j.job_count = 3;
    j.label = ":pytest: Unit";
    j.job_url = "https://buildkite.com/acme/shop/builds/7#job-1";
    return j;
}

static results_timing_t timing(void)
{
    results_timing_t t;
    results_timing_init(&t);
    t.estimate_s = 12;
    free(t.estimate_basis);
    t.estimate_basis = xstrdup("test_engine");
    t.samples = 340;
    t.with_history = 18;
    t.entries = 20;
    return t;
}

static char *render(const report_markdown_job_t *j, const results_timing_t *t, double first,
                    double retries)
{
    buf_t b = BUF_INIT;
    report_timing_render(j, t, first, retries, &b);
    return buf_detach(&b);
}

static void one_line_when_nothing_unfolds(void **state)
{
    (void)state;
    report_markdown_job_t j = job();
    results_timing_t t = timing();
    results_timing_put_slow(&t, "t.py::fast", 0.0004); /* under a millisecond: not worth a list */
    char *md = render(&j, &t, 13.4, 2.0);
    assert_string_equal(md, "**:stopwatch: :pytest: Unit** · "
                            "[job 2 of 3](https://buildkite.com/acme/shop/builds/7#job-1): "
                            "estimated 12.0s by Test Engine (340 timing samples, 18 of 20 entries "
                            "with history), took 13.4s (1.4s more, +12%); in-job retries 2.0s "
                            "more\n");
    free(md);
    results_timing_free(&t);
}

static void the_line_unfolds_its_tests(void **state)
{
    (void)state;
    report_markdown_job_t j = job();
    results_timing_t t = timing();
    results_timing_put_slow(&t, "t.py::slow", 4.2);
    results_timing_put_slow(&t, "t.py::medium", 0.25);
    results_timing_put_slow(&t, "t.py::instant", 0);
    results_timing_put_reason(&t, "needs network", 2, "t.py::net");
    results_timing_put_reason(&t, "", 1, "t.py::bare");
    t.skipped = 3;
    char *md = render(&j, &t, 11, -1);
    char *html = to_html(md);
    const char *want[] = {
        ("<details><summary><strong>:stopwatch: :pytest: Unit</strong> · <a "
         "href=\"https://buildkite.com/acme/shop/builds/7#job-1\">job 2 of 3</a>: estimated 12.0s "
         "by Test Engine (340 timing samples, 18 of 20 entries with history), took 11.0s (1.0s "
         "less, -8%) · 3 skipped</summary>"),
        ("<ol>\n<li>4.20s <code>t.py::slow</code></li>\n<li>250ms <code>t.py::medium</code></li>\n"
         "</ol>"),
        "<li>2 × needs network (e.g. <code>t.py::net</code>)</li>",
        "<li>1 × no reason given (e.g. <code>t.py::bare</code>)</li>",
        "</details>",
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++)
        if (!strstr(html, want[i])) fail_msg("missing:\n%s\nin:\n%s", want[i], html);
    assert_null(strstr(html, "instant"));
    free(html);
    free(md);
    results_timing_free(&t);
}

/* A label and reasons from outside: text, never markup, in the summary or the list. */
static void hostile_text_stays_text(void **state)
{
    (void)state;
    report_markdown_job_t j = job();
    j.label = "<img src=x onerror=alert(1)> **bold** & \"q\"";
    j.job_url = "https://evil.example/\"><script>";
    results_timing_t t = timing();
    results_timing_put_slow(&t, "t.py::test[<b>x</b>]", 2);
    results_timing_put_reason(&t, "*not* <i>markup</i>", 1, "t.py::s");
    t.skipped = 1;
    char *md = render(&j, &t, 1, -1);
    char *html = to_html(md);
    assert_null(strstr(html, "<img"));
    assert_null(strstr(html, "<script"));
    assert_null(strstr(html, "<b>x"));
    assert_null(strstr(html, "<i>"));
    assert_null(strstr(html, "<em>"));
    assert_null(strstr(html, "href=\"https://evil")); /* a link it cannot quote safely: none */
    assert_non_null(
        strstr(html, "&lt;img src=x onerror=alert(1)&gt; **bold** &amp; &quot;q&quot;"));
    assert_non_null(strstr(html, "<code>t.py::test[&lt;b&gt;x&lt;/b&gt;]</code>"));
    assert_non_null(strstr(html, "*not* &lt;i&gt;markup&lt;/i&gt;"));
    free(html);
    free(md);
    results_timing_free(&t);
}

static void bounded_however_long_the_names(void **state)
{
    (void)state;
    report_markdown_job_t j = job();
    results_timing_t t = timing();
    buf_t id = BUF_INIT, why = BUF_INIT;
    for (int i = 0; i < RESULTS_TIMING_ID_MAX; i++) buf_putc(&id, 'n');
    for (int i = 0; i < RESULTS_TIMING_REASON_MAX; i++) buf_putc(&why, 'r');
    for (int i = 0; i < 30; i++) {
        char *k = xasprintf("%d%s", i, buf_str(&id) + 3);
        char *r = xasprintf("%d%s", i, buf_str(&why) + 3);
        results_timing_put_slow(&t, k, 10 + i);
        results_timing_put_reason(&t, r, 1, k);
        free(k);
        free(r);
    }
    t.skipped = 30;
    char *md = render(&j, &t, 50, -1);
    assert_true(strlen(md) <= REPORT_TIMING_MAX);
    /* what did not fit is counted: 20 kept reasons and 10 more, not all shown */
    assert_non_null(strstr(md, "other reasons (see the job log)"));
    char *html = to_html(md);
    assert_non_null(strstr(html, "</details>"));
    free(html);
    free(md);
    buf_free(&id);
    buf_free(&why);
    results_timing_free(&t);
}

static void the_context(void **state)
{
    (void)state;
    char *c = report_timing_context("018f0c3a-1b2c-4d5e-8f90-abcdefabcdef");
    assert_string_equal(c, "test-engine-pytest-018f0c3a-1b2c-4d5e-8f90-abcdefabcdef-time");
    free(c);
    char long_id[300];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    c = report_timing_context(long_id);
    assert_true(strlen(c) <= 100);
    free(c);
    c = report_timing_context(NULL);
    assert_string_equal(c, "test-engine-pytest-local-time");
    free(c);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(one_line_when_nothing_unfolds),
        cmocka_unit_test(the_line_unfolds_its_tests),
        cmocka_unit_test(hostile_text_stays_text),
        cmocka_unit_test(bounded_however_long_the_names),
        cmocka_unit_test(the_context),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
