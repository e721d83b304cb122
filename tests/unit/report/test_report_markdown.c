/* report_markdown: code spans, escaping, boxes, bounds; the Markdown is rendered
 * with cmark-gfm (Debian's, close to what Buildkite renders) and the HTML checked. */
#include "unit.h"
#include "report/report_markdown.h"
#include "base/buf.h"
#include "scratch.h"
#include <stdio.h>
#include <unistd.h>

/* Renders markdown with `cmark-gfm --unsafe -e table`. Caller frees. */
static char *to_html(const char *md)
{
    char *in = scratch_file("tep-annot-md", md, strlen(md));
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

/* What HTML shows for text: & < > " escaped, as cmark-gfm writes it. */
static char *html_escape(const char *s)
{
    buf_t b = BUF_INIT;
    for (; *s; s++) {
        if (*s == '&')
            buf_puts(&b, "&amp;");
        else if (*s == '<')
            buf_puts(&b, "&lt;");
        else if (*s == '>')
            buf_puts(&b, "&gt;");
        else if (*s == '"')
            buf_puts(&b, "&quot;");
        else
            buf_putc(&b, *s);
    }
    return buf_detach(&b);
}

typedef struct {
    const char *in, *out;
} case_t;

/* Each case's input, written by fn into an empty buffer, is exactly its output. */
static void assert_each_case(void (*fn)(buf_t *, const char *), const case_t *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        buf_t b = BUF_INIT;
        fn(&b, cases[i].in);
        assert_string_equal(buf_str(&b), cases[i].out);
        buf_free(&b);
    }
}

/* The job's section (at most REPORT_MARKDOWN_SECTION_MAX). Caller frees. */
static char *section_md(const report_markdown_job_t *j)
{
    buf_t md = BUF_INIT;
    report_markdown_render_section(j, REPORT_MARKDOWN_SECTION_MAX, &md);
    return buf_detach(&md);
}

static void test_code_span_fences(void **state)
{
    (void)state;
    const case_t cases[] = {
        {"tests/t.py::test_a", "`tests/t.py::test_a`"},
        {"test_tick[`x`]", "``test_tick[`x`]``"},
        {"a``b", "```a``b```"},
        {"`lead", "`` `lead ``"},
        {"trail`", "`` trail` ``"},
        {" both ", "`  both  `"},
    };
    assert_each_case(report_markdown_code_span, cases, sizeof cases / sizeof cases[0]);
}

static const char *const HOSTILE[] = {
    "tests/test_md.py::test_md[*star*]",
    "tests/test_md.py::test___dunder__",
    "tests/test_md.py::test_tick[`x`]",
    "tests/test_md.py::test_html[<b>x</b>]",
    "tests/test_md.py::test_amp[&amp;]",
    "tests/test_md.py::test_pipe[a|b]",
    "tests/test_md.py::test_link[[x](https://evil.example)]",
    "tests/test_md.py::test_strike[~~no~~]",
    "tests/test_md.py::test_ticks[``]",
    "`tests/edge.py::test_both`",
};
#define N_HOSTILE (sizeof HOSTILE / sizeof HOSTILE[0])

static report_markdown_job_t failing_job(report_markdown_item_t *items, size_t n)
{
    report_markdown_job_t j = {0};
    j.failed = n;
    j.failed_tests = (report_markdown_list_t){items, n};
    j.passed = 3;
    j.job_number = 2;
    j.job_count = 3;
    j.label = ":pytest: Unit *tests*";
    j.job_url = "https://buildkite.com/acme/shop/builds/7#job-1";
    j.exit_status = 1;
    j.why = "2 tests failed";
    j.launcher = "python3 -m pytest";
    return j;
}

/* Every hostile id is shown verbatim inside <code>, and no name makes
 * emphasis, strikethrough, links or raw HTML. */
static void test_hostile_ids_render_verbatim(void **state)
{
    (void)state;
    report_markdown_item_t items[N_HOSTILE];
    for (size_t i = 0; i < N_HOSTILE; i++)
        items[i] = (report_markdown_item_t){
            HOSTILE[i], "AssertionError: *not* __bold__ <i>x</i> &amp; `tick` [l](http://x)"};
    report_markdown_job_t j = failing_job(items, N_HOSTILE);
    char *md = section_md(&j);
    char *html = to_html(md);
    for (size_t i = 0; i < N_HOSTILE; i++) {
        char *esc = html_escape(HOSTILE[i]);
        char *want = xasprintf("<code>%s</code>", esc);
        if (!strstr(html, want)) fail_msg("%s not verbatim in:\n%s", want, html);
        free(want);
        free(esc);
    }
    const char *banned[] = {"<em>", "<del>", "<b>", "<i>", "<a href=\"http://x", "evil.example\""};
    for (size_t i = 0; i < sizeof banned / sizeof banned[0]; i++)
        if (strstr(html, banned[i])) fail_msg("%s in:\n%s", banned[i], html);
    /* the heading's own bold, nothing else */
    const char *strong = strstr(html, "<strong>");
    assert_non_null(strong);
    if (strstr(strong + 1, "<strong>")) fail_msg("a second <strong> in:\n%s", html);
    /* The reason's text reads as written. */
    assert_non_null(strstr(
        html,
        "AssertionError: *not* __bold__ &lt;i&gt;x&lt;/i&gt; &amp;amp; `tick` [l](http://x)"));
    /* The label is shown literally (its emoji code stays for Buildkite). */
    assert_non_null(strstr(html, ":pytest: Unit *tests*"));
    free(html);
    free(md);
}

static void test_control_characters_visible(void **state)
{
    (void)state;
    report_markdown_item_t it = {"t.py::test_esc[\x1b[31m]",
                                 "AssertionError: \x1b[31mred\nsecond line"};
    report_markdown_job_t j = failing_job(&it, 1);
    char *md = section_md(&j);
    assert_null(strchr(md, '\x1b'));
    assert_null(strstr(md, "second line"));
    char *html = to_html(md);
    assert_non_null(strstr(html, "<code>t.py::test_esc[\\x1b[31m]</code>"));
    assert_non_null(strstr(html, "AssertionError: \\x1b[31mred"));
    /* not pasteable as shown: left out of the reproduce command */
    assert_null(strstr(html, "Reproduce"));
    free(html);
    free(md);
}

/* A URL becomes a link only when nothing in it can end the link, the line,
 * a table cell or an HTML attribute. */
static void test_link_targets(void **state)
{
    (void)state;
    assert_true(report_markdown_url_ok("https://buildkite.com/acme/shop/builds/7#0190-abc"));
    const char *bad[] = {NULL,
                         "",
                         "http://x/a",
                         "https://x/a b",
                         "https://x/a\rb",
                         "https://x/a\nb",
                         "https://x/a\tb",
                         "https://x/a\x7f",
                         "https://x/a)b",
                         "https://x/a]b",
                         "https://x/a|b",
                         "https://x/a\"b",
                         "https://x/a'b",
                         "https://x/a`b",
                         "https://x/a<b",
                         "https://x/a&b",
                         "https://x/a\\b"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        if (report_markdown_url_ok(bad[i])) fail_msg("accepted %zu", i);
}

static void test_shell_words_and_launcher(void **state)
{
    (void)state;
    const case_t words[] = {
        {"tests/t.py::test_a", "tests/t.py::test_a"},
        {"t.py::test_p[a b]", "'t.py::test_p[a b]'"},
        {"t.py::test_q['a']", "'t.py::test_q['\\''a'\\'']'"},
        {"t.py::test_d[$HOME]", "'t.py::test_d[$HOME]'"},
        {"", "''"},
    };
    assert_each_case(report_markdown_shell_word, words, sizeof words / sizeof words[0]);
    const case_t l[] = {
        {"python3 -m pytest {{testExamples}} --json={{resultPath}}", "python3 -m pytest"},
        {"/usr/bin/python3 -m pytest -p tep_collector -p no:cacheprovider {{testExamples}} "
         "--json={{resultPath}}",
         "/usr/bin/python3 -m pytest -p tep_collector -p no:cacheprovider"},
        {"pytest --json {{resultPath}} {{testExamples}}", "pytest"},
        {"'my runner' -x {{testExamples}}", "'my runner' -x"},
        {"", "pytest"},
    };
    for (size_t i = 0; i < sizeof l / sizeof l[0]; i++) {
        char *got = report_markdown_launcher(l[i].in);
        assert_string_equal(got, l[i].out);
        free(got);
    }
}

static void test_reproduce_command(void **state)
{
    (void)state;
    report_markdown_item_t items[] = {{"t.py::test_q['a']", "boom"},
                                      {"t.py::test_tick[`x`]", "boom"}};
    report_markdown_item_t coll = {"tests/test_import_error.py",
                                   "ModuleNotFoundError: No module named 'nope'"};
    report_markdown_job_t j = failing_job(items, 2);
    j.collection_errs = (report_markdown_list_t){&coll, 1};
    j.collection_errors = 1;
    char *md = section_md(&j);
    char *html = to_html(md);
    char *want = html_escape("python3 -m pytest tests/test_import_error.py "
                             "'t.py::test_q['\\''a'\\'']' 't.py::test_tick[`x`]'");
    char *code = xasprintf("Reproduce locally: <code>%s</code>", want);
    if (!strstr(html, code)) fail_msg("%s not in:\n%s", code, html);
    assert_non_null(strstr(
        html,
        "<code>tests/test_import_error.py</code>: ModuleNotFoundError: No module named 'nope'"));
    free(code);
    free(want);
    free(html);
    free(md);
}

static void test_boxes(void **state)
{
    (void)state;
    report_markdown_job_t j = {0};
    j.passed = 10;
    assert_int_equal(report_markdown_box(&j), REPORT_MARKDOWN_BOX_NONE);
    j.flaky = 1;
    assert_int_equal(report_markdown_box(&j), REPORT_MARKDOWN_BOX_NOTES);
    j.flaky = 0; /* a plan or upload problem is the step's note (report_stepnote), not a job's */
    j.retry_count = 1;
    assert_int_equal(report_markdown_box(&j),
                     REPORT_MARKDOWN_BOX_NONE); /* a manual retry of a passed job */
    j.retry_of_failure = true;
    assert_int_equal(report_markdown_box(&j), REPORT_MARKDOWN_BOX_FAILURES);
    j = (report_markdown_job_t){0};
    j.exit_status = 1;
    assert_int_equal(report_markdown_box(&j), REPORT_MARKDOWN_BOX_FAILURES);
    assert_string_equal(report_markdown_box_style(REPORT_MARKDOWN_BOX_FAILURES), "error");
    assert_string_equal(report_markdown_box_style(REPORT_MARKDOWN_BOX_NOTES), "warning");
    char *c = report_markdown_box_context("018f0c3a-1b2c-4d5e-8f90-abcdefabcdef",
                                          REPORT_MARKDOWN_BOX_NOTES);
    assert_string_equal(c, "test-engine-pytest-018f0c3a-1b2c-4d5e-8f90-abcdefabcdef-notes");
    assert_true(strlen(c) <= 100);
    free(c);
    char long_id[300];
    memset(long_id, 'a', sizeof long_id - 1);
    long_id[sizeof long_id - 1] = '\0';
    c = report_markdown_box_context(long_id, REPORT_MARKDOWN_BOX_NOTES);
    assert_true(strlen(c) <= 100);
    free(c);
}

static void test_retry_outcome(void **state)
{
    (void)state;
    report_markdown_job_t j = {0};
    j.passed = 2;
    j.retry_count = 1;
    j.retry_of_failure = true;
    j.job_number = 1;
    j.job_count = 3;
    j.label = "Unit";
    char *md = section_md(&j);
    assert_non_null(
        strstr(md, "attempt 2 (retry 1): failed on the previous attempt, passed on retry"));
    free(md);
    j.exit_status = 1;
    j.failed = 0;
    md = section_md(&j);
    assert_non_null(strstr(md, "attempt 2 (retry 1): failed again on retry (exit status 1)"));
    free(md);
}

#define MANY 200

static void fill_many(report_markdown_item_t *items, char (*ids)[64], size_t n)
{
    for (size_t i = 0; i < n; i++) {
        snprintf(ids[i], sizeof ids[i], "tests/test_big_%zu.py::test_case[param-%zu]", i / 20, i);
        items[i] = (report_markdown_item_t){
            ids[i], "AssertionError: assert {'a': 1, 'b': [1, 2, 3]} == {'a': 2, 'b': "
                    "[1, 2, 4]}; the dictionaries differ in 2 keys and this line goes on"};
    }
}

/* 200 failures: the section stays within its bound and says what was cut. */
static void test_section_bounded(void **state)
{
    (void)state;
    static char ids[MANY][64];
    static report_markdown_item_t items[MANY];
    fill_many(items, ids, MANY);
    report_markdown_job_t j = failing_job(items, MANY);
    j.flaky = 500; /* counts beyond the lists the record kept */
    char *md = section_md(&j);
    assert_true(strlen(md) <= REPORT_MARKDOWN_SECTION_MAX);
    assert_true(strlen(md) > REPORT_MARKDOWN_SECTION_MAX / 2);
    assert_non_null(strstr(md, "Failed tests (200):"));
    assert_non_null(strstr(md, "more, not shown to keep the annotation small"));
    assert_non_null(strstr(md, "- ... and 500 more"));
    assert_non_null(strstr(md, "Reproduce locally:"));
    /* shown + "and K more" adds up to 200 */
    size_t shown = 0, more = 0;
    for (const char *p = md; (p = strstr(p, "\n- `tests/test_big_")); p++) shown++;
    const char *m = strstr(md, "- ... and ");
    assert_non_null(m);
    assert_int_equal(sscanf(m, "- ... and %zu more", &more), 1);
    assert_int_equal(shown + more, MANY);
    free(md);
}

/* 50 failing jobs, 200 failures each, appended to one box: the total is
 * measured and stays under the agent's 1 MiB. */
static void test_fifty_jobs_fit(void **state)
{
    (void)state;
    static char ids[MANY][64];
    static report_markdown_item_t items[MANY];
    fill_many(items, ids, MANY);
    size_t total = 0, largest = 0;
    for (long job = 1; job <= 50; job++) {
        report_markdown_job_t j = failing_job(items, MANY);
        j.job_number = job;
        j.job_count = 50;
        char *md = section_md(&j);
        size_t len = strlen(md);
        total += len;
        if (len > largest) largest = len;
        free(md);
    }
    printf("# 50 failing jobs x 200 failures: %zu bytes in all, largest section %zu bytes\n", total,
           largest);
    assert_true(total < 1024 * 1024);
}

static void test_upload_and_overflow_lines(void **state)
{
    (void)state;
    report_markdown_job_t j = {0};
    j.job_number = 1;
    j.job_count = 2;
    j.label = "Unit";
    buf_t md = BUF_INIT;
    report_markdown_render_upload(&j, &md);
    assert_int_equal(md.len, 0); /* passed, upload fine: nothing */
    j.exit_status = 1;
    j.run_url = "https://buildkite.com/organizations/acme/analytics/suites/shop/runs/1";
    report_markdown_render_upload(&j, &md);
    assert_non_null(
        strstr(md.data, "results in [Test Engine](https://buildkite.com/organizations/acme/"));
    buf_reset(&md);
    j.failed = 7;
    report_markdown_render_overflow(&j, &md);
    assert_non_null(strstr(md.data, "failed (7 failed · 0 passed); the annotation is full"));
    buf_free(&md);
}

/* How many times needle occurs in hay. */
static size_t count_of(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
    return n;
}

/* --append joins bodies with nothing between them, and an agent may trim each
 * body: wrapped sections still each start their own paragraph, whatever of
 * that happens, and a list at the end of one does not swallow the next. */
static void test_wrapped_sections_stand_alone(void **state)
{
    (void)state;
    report_markdown_item_t items[] = {{"t.py::test_a", "AssertionError: boom"}};
    report_markdown_job_t failing = failing_job(items, 1);
    report_markdown_job_t flaky = {
        .passed = 3, .flaky = 1, .job_number = 2, .job_count = 3, .label = "Unit"};
    report_markdown_item_t fl[] = {{"t.py::test_f", NULL}};
    flaky.flaky_tests = (report_markdown_list_t){fl, 1};
    report_markdown_job_t link = failing;
    link.run_url = "https://buildkite.com/organizations/acme/analytics/suites/shop/runs/1";
    link.label = "Unit";
    buf_t parts[3] = {BUF_INIT, BUF_INIT, BUF_INIT};
    report_markdown_render_section(&failing, REPORT_MARKDOWN_SECTION_MAX, &parts[0]);
    report_markdown_render_section(&flaky, REPORT_MARKDOWN_SECTION_MAX, &parts[1]);
    report_markdown_render_upload(&link, &parts[2]);
    const char *joins[] = {"raw", "trimmed", "newline"};
    for (size_t k = 0; k < 3; k++) {
        buf_t box = BUF_INIT;
        for (size_t i = 0; i < 3; i++) {
            buf_t w = BUF_INIT;
            report_markdown_wrap(i == 1 ? &flaky : &failing, &parts[i], &w);
            const char *d = w.data;
            size_t n = w.len;
            if (k == 1) { /* as an agent trimming every body would send it */
                while (n && (d[0] == '\n' || d[0] == ' ')) d++, n--;
                while (n && (d[n - 1] == '\n' || d[n - 1] == ' ')) n--;
            }
            buf_append(&box, d, n);
            if (k == 2) buf_putc(&box, '\n');
            buf_free(&w);
        }
        char *html = to_html(buf_str(&box));
        /* each heading opens a paragraph: the failing job, the flaky one, the link */
        if (count_of(html, "<p><strong>") != 3)
            fail_msg("%s: headings run together:\n%s", joins[k], html);
        assert_non_null(strstr(html, "<p><strong>:link: Unit</strong>"));
        assert_int_equal(count_of(html, "<ul>"), count_of(html, "</ul>"));
        assert_null(strstr(html, "<li>t.py::test_f")); /* the list item is a code span, not text */
        free(html);
        buf_free(&box);
    }
    for (size_t i = 0; i < 3; i++) buf_free(&parts[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_code_span_fences),
        cmocka_unit_test(test_hostile_ids_render_verbatim),
        cmocka_unit_test(test_control_characters_visible),
        cmocka_unit_test(test_shell_words_and_launcher),
        cmocka_unit_test(test_reproduce_command),
        cmocka_unit_test(test_boxes),
        cmocka_unit_test(test_retry_outcome),
        cmocka_unit_test(test_section_bounded),
        cmocka_unit_test(test_fifty_jobs_fit),
        cmocka_unit_test(test_upload_and_overflow_lines),
        cmocka_unit_test(test_wrapped_sections_stand_alone),
        cmocka_unit_test(test_link_targets),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
