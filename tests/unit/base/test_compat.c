/* compat: the fallbacks answer as the newer calls do, on every platform. */
#include "unit.h"
#include "base/compat.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <unistd.h>

static void known_signals_have_their_abbreviations(void **state)
{
    (void)state;
    const struct {
        int sig;
        const char *abbrev;
    } want[] = {{SIGHUP, "HUP"},   {SIGINT, "INT"},   {SIGKILL, "KILL"}, {SIGSEGV, "SEGV"},
                {SIGPIPE, "PIPE"}, {SIGTERM, "TERM"}, {SIGCHLD, "CHLD"}, {SIGUSR1, "USR1"}};
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_string_equal(compat_sigabbrev(want[i].sig), want[i].abbrev);
        assert_string_equal(compat_sigabbrev_table(want[i].sig), want[i].abbrev);
    }
    assert_null(compat_sigabbrev(0));
    assert_null(compat_sigabbrev(-1));
    assert_null(compat_sigabbrev_table(0));
    assert_null(compat_sigabbrev_table(SIGRTMAX + 1));
}

/* Where the C library has sigabbrev_np, the fallback table must give the same
 * answer for every number, so a binary built without it says the same. */
static void table_agrees_with_the_c_library(void **state)
{
    (void)state;
#if TEP_HAVE_SIGABBREV_NP
    for (int sig = -1; sig <= SIGRTMAX + 2; sig++) {
        const char *libc = sigabbrev_np(sig), *ours = compat_sigabbrev_table(sig);
        if (!libc || !ours) {
            if (libc != ours) fail_msg("signal %d: libc %s, table %s", sig, libc, ours);
        } else {
            assert_string_equal(ours, libc);
        }
    }
#else
    skip(); /* no sigabbrev_np here (glibc < 2.32): the table is what runs */
#endif
}

/* A loopback port nothing listens on (bound, never listening: refused). */
static int closed_port(int *fd)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    *fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(*fd >= 0);
    assert_int_equal(bind(*fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(getsockname(*fd, (struct sockaddr *)&a, &len), 0);
    return ntohs(a.sin_port);
}

static CURLcode fetch(const char *scheme, int port)
{
    char url[64];
    snprintf(url, sizeof url, "%s://127.0.0.1:%d/", scheme, port);
    CURL *h = curl_easy_init();
    assert_non_null(h);
    assert_int_equal(compat_curl_https_only(h), CURLE_OK);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(h);
    curl_easy_cleanup(h);
    return rc;
}

/* Other schemes are refused before any connection; https goes on to connect
 * (and is refused by the closed port, not by the protocol rule). */
static void only_https_is_let_through(void **state)
{
    (void)state;
    int fd;
    int port = closed_port(&fd);
    assert_int_equal(fetch("http", port), CURLE_UNSUPPORTED_PROTOCOL);
    assert_int_equal(fetch("ftp", port), CURLE_UNSUPPORTED_PROTOCOL);
    assert_int_equal(fetch("https", port), CURLE_COULDNT_CONNECT);
    close(fd);
}

typedef struct {
    XML_Parser p;
    unsigned long line;
    long long index, count;
} seen_t;

static void on_start(void *user, const char *name, const char **atts)
{
    (void)atts;
    seen_t *s = user;
    if (strcmp(name, "testcase") != 0) return;
    s->line = compat_xml_line(s->p);
    s->index = compat_xml_byte_index(s->p);
    s->count = compat_xml_byte_count(s->p);
}

/* The position of an event: line, first byte and length of its tag, as
 * results_junit uses them to cut a testcase out of the file. */
static void xml_positions_point_at_the_event(void **state)
{
    (void)state;
    const char *xml =
        "<?xml version=\"1.0\"?>\n<testsuite>\n  <testcase name=\"t\"/>\n</testsuite>\n";
    const char *tag = strstr(xml, "<testcase");
    seen_t s = {.p = XML_ParserCreate(NULL)};
    XML_SetUserData(s.p, &s);
    XML_SetElementHandler(s.p, on_start, NULL);
    assert_int_equal(XML_Parse(s.p, xml, (int)strlen(xml), 1), XML_STATUS_OK);
    assert_int_equal(s.line, 3);
    assert_int_equal(s.index, tag - xml);
    assert_int_equal(s.count, strlen("<testcase name=\"t\"/>"));
    XML_ParserFree(s.p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(known_signals_have_their_abbreviations),
        cmocka_unit_test(table_agrees_with_the_c_library),
        cmocka_unit_test(only_https_is_let_through),
        cmocka_unit_test(xml_positions_point_at_the_event),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
