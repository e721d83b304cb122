/* report_upload_form: the multipart body of one upload, as it arrives. curl
 * sends each form to a small HTTP server on loopback (a thread of this test)
 * and the test takes the body the server received apart: which fields, in
 * which order, with which bytes, and the data part from memory or from a
 * file. Also: the caller's memory is read as curl sends (not copied), every
 * form is whole on its own, the data part can be sent again when curl
 * rewinds (a 307), and an unreadable file fails the transfer. */
#include "unit.h"
#include "base/buf.h"
#include "config/config.h"
#include "base/fs.h"
#include "report/report_upload_form.h"
#include "scratch.h"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

/* ---- the server: answers `n` requests, one per connection ---- */

#define MAX_REQUESTS 4
#define IO_WAIT_MS   10000 /* a stuck client fails the test, never hangs it */

typedef struct {
    int listen_fd;
    int port;
    size_t n;
    int status[MAX_REQUESTS]; /* 200, or 307 (to the same path) */
    buf_t request[MAX_REQUESTS];
    pthread_t thread;
} server_t;

/* Reads what is available into b; false at the end, an error or a timeout. */
static bool server_recv(int fd, buf_t *b)
{
    struct pollfd p = {.fd = fd, .events = POLLIN};
    if (poll(&p, 1, IO_WAIT_MS) != 1) return false;
    char chunk[16384];
    ssize_t got = recv(fd, chunk, sizeof chunk, 0);
    if (got <= 0) return false;
    buf_append(b, chunk, (size_t)got);
    return true;
}

/* Whether b holds a whole request: headers and, by Content-Length or the
 * last chunk, the body. */
static bool request_complete(const buf_t *b)
{
    const char *end = b->len ? memmem(b->data, b->len, "\r\n\r\n", 4) : NULL;
    if (!end) return false;
    size_t head = (size_t)(end - b->data) + 4;
    const char *cl = strcasestr(b->data, "\r\nContent-Length: ");
    if (cl && cl < end) return b->len >= head + strtoul(cl + 18, NULL, 10);
    return b->len >= head + 5 && memcmp(b->data + b->len - 5, "0\r\n\r\n", 5) == 0;
}

static void *server_main(void *arg)
{
    server_t *s = arg;
    for (size_t i = 0; i < s->n; i++) {
        struct pollfd p = {.fd = s->listen_fd, .events = POLLIN};
        if (poll(&p, 1, IO_WAIT_MS) != 1) break;
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0) break;
        bool more = true;
        while (more && !request_complete(&s->request[i])) more = server_recv(fd, &s->request[i]);
        const char *answer = s->status[i] == 307
                                 ? "HTTP/1.1 307 Temporary Redirect\r\n"
                                   "Location: /upload\r\n"
                                   "Content-Length: 0\r\nConnection: close\r\n\r\n"
                                 : "HTTP/1.1 200 OK\r\n"
                                   "Content-Length: 2\r\nConnection: close\r\n\r\n{}";
        send(fd, answer, strlen(answer), MSG_NOSIGNAL); /* the client may be gone: no SIGPIPE */
        close(fd);
    }
    return NULL;
}

/* Starts a server that answers with these statuses, one per request. */
static void server_start(server_t *s, const int *statuses, size_t n)
{
    memset(s, 0, sizeof *s);
    assert_true(n <= MAX_REQUESTS);
    s->n = n;
    memcpy(s->status, statuses, n * sizeof *statuses);
    s->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->listen_fd >= 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t len = sizeof a;
    assert_int_equal(bind(s->listen_fd, (struct sockaddr *)&a, sizeof a), 0);
    assert_int_equal(listen(s->listen_fd, 4), 0);
    assert_int_equal(getsockname(s->listen_fd, (struct sockaddr *)&a, &len), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

/* Waits for the server to have answered its requests (or timed out). */
static void server_join(server_t *s)
{
    pthread_join(s->thread, NULL);
    close(s->listen_fd);
}

static void server_free(server_t *s)
{
    for (size_t i = 0; i < MAX_REQUESTS; i++) buf_free(&s->request[i]);
}

/* ---- the client: curl with nothing but the form ---- */

typedef struct {
    CURL *curl;
    char *url;
    struct curl_slist *headers;
} client_t;

static size_t discard(char *data, size_t size, size_t n, void *user)
{
    (void)data;
    (void)user;
    return size * n;
}

static void client_init(client_t *c, const server_t *s)
{
    c->curl = curl_easy_init();
    assert_non_null(c->curl);
    c->url = xasprintf("http://127.0.0.1:%d/upload", s->port);
    c->headers = curl_slist_append(NULL, "Expect:"); /* the body goes at once, as http.c sends it */
    curl_easy_setopt(c->curl, CURLOPT_URL, c->url);
    curl_easy_setopt(c->curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, c->headers);
    curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, discard);
    curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 20L);
}

/* Sends one form; returns curl's result. */
static CURLcode client_send(client_t *c, curl_mime *form)
{
    curl_easy_setopt(c->curl, CURLOPT_MIMEPOST, form);
    CURLcode rc = curl_easy_perform(c->curl);
    curl_easy_setopt(c->curl, CURLOPT_MIMEPOST, NULL);
    curl_mime_free(form);
    return rc;
}

static void client_free(client_t *c)
{
    curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    free(c->url);
}

/* ---- the body, taken apart ---- */

typedef struct {
    buf_t fields;  /* "name=value\n" for every part but data, in order */
    buf_t data;    /* the data part's bytes */
    buf_t data_at; /* its headers: "filename=... type=..." */
    size_t n_data; /* how many data parts (one) */
} form_t;

/* The value of `key="..."` in a Content-Disposition line, or "". */
static void header_param(const char *head, size_t len, const char *key, buf_t *out)
{
    char *copy = xstrndup(head, len);
    char *needle = xasprintf("; %s=\"", key);
    const char *at = strstr(copy, needle);
    if (at) {
        at += strlen(needle);
        buf_append(out, at, strcspn(at, "\""));
    }
    free(needle);
    free(copy);
}

static void form_add_part(form_t *f, const char *part, size_t len)
{
    const char *sep = memmem(part, len, "\r\n\r\n", 4);
    assert_non_null(sep);
    size_t head = (size_t)(sep - part);
    const char *value = sep + 4;
    size_t value_len = len - head - 4;
    buf_t name = BUF_INIT;
    header_param(part, head, "name", &name);
    if (strcmp(buf_str(&name), "data") == 0) {
        f->n_data++;
        buf_reset(&f->data);
        buf_append(&f->data, value, value_len);
        buf_puts(&f->data_at, "filename=");
        header_param(part, head, "filename", &f->data_at);
        char *h = xstrndup(part, head);
        const char *type = strcasestr(h, "\r\nContent-Type: ");
        buf_printf(&f->data_at, " type=%.*s", type ? (int)strcspn(type + 16, "\r") : 0,
                   type ? type + 16 : "");
        free(h);
    } else {
        buf_printf(&f->fields, "%s=", buf_str(&name));
        buf_append(&f->fields, value, value_len);
        buf_putc(&f->fields, '\n');
    }
    buf_free(&name);
}

/* Splits a received request into its parts by the boundary its
 * Content-Type names. */
static void form_parse(const buf_t *request, form_t *f)
{
    memset(f, 0, sizeof *f);
    const char *end = memmem(request->data, request->len, "\r\n\r\n", 4);
    assert_non_null(end);
    char *head = xstrndup(request->data, (size_t)(end - request->data));
    const char *b = strstr(head, "Content-Type: multipart/form-data; boundary=");
    assert_non_null(b);
    b += strlen("Content-Type: multipart/form-data; boundary=");
    char *delim = xasprintf("\r\n--%.*s", (int)strcspn(b, "\r"), b);
    free(head);
    const char *body = end + 2; /* so the first delimiter also starts with CRLF */
    const char *stop = request->data + request->len;
    size_t dlen = strlen(delim);
    assert_memory_equal(body, delim, dlen);
    const char *p = body + dlen;
    while (p + 2 <= stop && memcmp(p, "\r\n", 2) == 0) {
        p += 2;
        const char *next = memmem(p, (size_t)(stop - p), delim, dlen);
        assert_non_null(next);
        form_add_part(f, p, (size_t)(next - p));
        p = next + dlen;
    }
    assert_true(stop - p >= 4);
    assert_memory_equal(p, "--\r\n", 4); /* the closing delimiter */
    free(delim);
}

static void form_free(form_t *f)
{
    buf_free(&f->fields);
    buf_free(&f->data);
    buf_free(&f->data_at);
}

/* ---- the settings a form reads ---- */

static config_t on_buildkite(void)
{
    config_t cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.build_id = "01890f3e-build";
    cfg.identifier = "01890f3e-build/step";
    cfg.branch = "main";
    cfg.commit = "c0ffee";
    cfg.build_number = "42";
    cfg.build_url = "https://buildkite.com/acme/app/builds/42";
    cfg.job_id = "01890f3e-job";
    cfg.message = "Fix the thing";
    cfg.location_prefix = "svc/";
    cfg.tags = "team=search,size=large";
    return cfg;
}

/* Sends one form from `part` to a server answering 200; parses it. */
static void send_form(const report_upload_part_t *part, form_t *f)
{
    static const int ok[] = {200};
    server_t s;
    server_start(&s, ok, 1);
    client_t c;
    client_init(&c, &s);
    CURLcode rc = client_send(&c, report_upload_form(c.curl, (void *)part));
    client_free(&c);
    server_join(&s);
    assert_int_equal(rc, CURLE_OK);
    form_parse(&s.request[0], f);
    server_free(&s);
}

#define COMMON_FIELDS                                                                              \
    "run_env[collector]=test-engine-pytest\n"                                                      \
    "run_env[test_runner]=pytest\n"                                                                \
    "run_env[version]=" TEP_VERSION "\n"

/* On Buildkite: every field, the build id as the key, the checkout's path,
 * the tags; the data from memory, NUL bytes and all. */
static void a_buildkite_upload_from_memory(void **state)
{
    (void)state;
    config_t cfg = on_buildkite();
    static const char data[] = "[{\"id\": \"a\0b\"}]"; /* len says where it ends, not a NUL */
    report_upload_part_t part = {.cfg = &cfg,
                                 .cwd = "/buildkite/builds/agent-1/acme/app",
                                 .format = "json",
                                 .data = data,
                                 .len = sizeof data - 1,
                                 .filename = "results.json",
                                 .content_type = "application/json"};
    form_t f;
    send_form(&part, &f);
    assert_string_equal(f.fields.data, "format=json\n"
                                       "run_env[CI]=buildkite\n"
                                       "run_env[key]=01890f3e-build\n"
                                       "run_env[branch]=main\n"
                                       "run_env[commit_sha]=c0ffee\n"
                                       "run_env[number]=42\n"
                                       "run_env[url]=https://buildkite.com/acme/app/builds/42\n"
                                       "run_env[job_id]=01890f3e-job\n"
                                       "run_env[message]=Fix the thing\n"
                                       "run_env[location_prefix]=svc/\n" COMMON_FIELDS
                                       "run_env[cwd]=/buildkite/builds/agent-1/acme/app\n"
                                       "tags[team]=search\n"
                                       "tags[size]=large\n");
    assert_int_equal(f.n_data, 1);
    assert_int_equal(f.data.len, sizeof data - 1);
    assert_memory_equal(f.data.data, data, sizeof data - 1);
    assert_string_equal(f.data_at.data, "filename=results.json type=application/json");
    form_free(&f);
}

/* Off Buildkite: the plan identifier is the key, no run_env[cwd] (bktec sends
 * it only on Buildkite), empty values and empty tags are left out; the data
 * is the file as it is. */
static void a_local_upload_from_a_file(void **state)
{
    (void)state;
    config_t cfg = on_buildkite();
    cfg.build_id = "";
    cfg.identifier = "local";
    cfg.branch = "";
    cfg.build_number = "";
    cfg.build_url = "";
    cfg.job_id = "";
    cfg.message = "";
    cfg.location_prefix = "";
    cfg.tags = "";
    const char xml[] =
        "<?xml version=\"1.0\"?>\n<testsuites><testsuite name=\"é\"/></testsuites>\n";
    char *path = scratch_file("tep-form-junit", xml, sizeof xml - 1);
    report_upload_part_t part = {.cfg = &cfg,
                                 .cwd = "/home/me/app",
                                 .format = "junit",
                                 .path = path,
                                 .filename = "junit.xml",
                                 .content_type = "application/xml"};
    form_t f;
    send_form(&part, &f);
    assert_string_equal(f.fields.data, "format=junit\n"
                                       "run_env[CI]=buildkite\n"
                                       "run_env[key]=local\n"
                                       "run_env[commit_sha]=c0ffee\n" COMMON_FIELDS);
    assert_int_equal(f.n_data, 1);
    assert_int_equal(f.data.len, sizeof xml - 1);
    assert_memory_equal(f.data.data, xml, sizeof xml - 1);
    assert_string_equal(f.data_at.data, "filename=junit.xml type=application/xml");
    form_free(&f);
    unlink(path);
    free(path);
}

/* Tags: k=v pairs in order; a pair without a name or '=' is skipped (config
 * validation names it), an empty value left out, '=' inside a value kept. */
static void tags_are_fields_of_their_own(void **state)
{
    (void)state;
    config_t cfg = on_buildkite();
    cfg.tags = "a=1,=nokey,novalue,b=x=y,c=,,d=2";
    report_upload_part_t part = {
        .cfg = &cfg, .cwd = "/w", .format = "json", .data = "[]", .len = 2};
    form_t f;
    send_form(&part, &f);
    const char *tags = strstr(f.fields.data, "tags[");
    assert_non_null(tags);
    assert_string_equal(tags, "tags[a]=1\ntags[b]=x=y\ntags[d]=2\n");
    assert_string_equal(f.data.data, "[]");
    form_free(&f);
}

/* Values carry quotes, semicolons, line breaks and unicode byte for byte. */
static void values_arrive_byte_for_byte(void **state)
{
    (void)state;
    config_t cfg = on_buildkite();
    cfg.message = "Say \"hi\"; name=\"x\"\r\n--boundary\nline 3 caf\xc3\xa9 \xf0\x9f\x9a\x80";
    cfg.branch = "feat/\xc3\xbc;\"q\"";
    cfg.tags = "note=a;b \"c\"";
    report_upload_part_t part = {
        .cfg = &cfg, .cwd = "/w", .format = "json", .data = "[]", .len = 2};
    form_t f;
    send_form(&part, &f);
    assert_non_null(strstr(f.fields.data,
                           "\nrun_env[message]=Say \"hi\"; name=\"x\"\r\n--boundary\n"
                           "line 3 caf\xc3\xa9 \xf0\x9f\x9a\x80\n"));
    assert_non_null(strstr(f.fields.data, "\nrun_env[branch]=feat/\xc3\xbc;\"q\"\n"));
    assert_non_null(strstr(f.fields.data, "\ntags[note]=a;b \"c\"\n"));
    form_free(&f);
}

/* The data part is read from the caller's memory while curl sends, not
 * copied when the form is built: what the buffer holds at send time goes. */
static void memory_is_read_as_curl_sends(void **state)
{
    (void)state;
    static const int ok[] = {200};
    config_t cfg = on_buildkite();
    char data[] = "[\"before\"]";
    report_upload_part_t part = {
        .cfg = &cfg, .cwd = "/w", .format = "json", .data = data, .len = strlen(data)};
    server_t s;
    server_start(&s, ok, 1);
    client_t c;
    client_init(&c, &s);
    curl_mime *form = report_upload_form(c.curl, &part);
    memcpy(data, "[\"after!\"]", strlen(data));
    CURLcode rc = client_send(&c, form);
    client_free(&c);
    server_join(&s);
    assert_int_equal(rc, CURLE_OK);
    form_t f;
    form_parse(&s.request[0], &f);
    assert_string_equal(f.data.data, "[\"after!\"]");
    form_free(&f);
    server_free(&s);
}

/* http.c builds a fresh form per attempt; each is whole, however much of
 * the part an earlier form's transfer consumed. A 307 makes curl send a
 * form's body again: the data part rewinds to its start. */
static void every_form_is_whole_and_rewinds(void **state)
{
    (void)state;
    static const int answers[] = {200, 307, 200};
    config_t cfg = on_buildkite();
    buf_t data = BUF_INIT;
    for (int i = 0; i < 5000; i++) buf_printf(&data, "{\"n\": %d},", i);
    report_upload_part_t part = {
        .cfg = &cfg, .cwd = "/w", .format = "json", .data = data.data, .len = data.len};
    server_t s;
    server_start(&s, answers, 3);
    client_t c;
    client_init(&c, &s);
    curl_easy_setopt(c.curl, CURLOPT_FOLLOWLOCATION, 1L);
    CURLcode first = client_send(&c, report_upload_form(c.curl, &part));
    CURLcode second = client_send(&c, report_upload_form(c.curl, &part)); /* 307, then 200 */
    client_free(&c);
    server_join(&s);
    assert_int_equal(first, CURLE_OK);
    assert_int_equal(second, CURLE_OK);
    for (size_t i = 0; i < 3; i++) {
        form_t f;
        form_parse(&s.request[i], &f);
        if (f.data.len != data.len || memcmp(f.data.data, data.data, data.len) != 0)
            fail_msg("request %zu: %zu of %zu bytes of data, or other bytes", i + 1, f.data.len,
                     data.len);
        form_free(&f);
    }
    server_free(&s);
    buf_free(&data);
}

/* A results file that cannot be read fails the transfer: no upload with an
 * empty or cut data part is reported as sent. */
static void an_unreadable_file_fails_the_transfer(void **state)
{
    (void)state;
    static const int ok[] = {200};
    config_t cfg = on_buildkite();
    char dir[64];
    scratch_dir(dir, sizeof dir, "tep-form-missing");
    char *path = fs_join(dir, "gone.json");
    report_upload_part_t part = {.cfg = &cfg,
                                 .cwd = "/w",
                                 .format = "json",
                                 .path = path,
                                 .filename = "gone.json",
                                 .content_type = "application/json"};
    server_t s;
    server_start(&s, ok, 1);
    client_t c;
    client_init(&c, &s);
    CURLcode rc = client_send(&c, report_upload_form(c.curl, &part));
    client_free(&c);
    server_join(&s); /* curl connects, then fails reading the file: the server sees EOF */
    /* not an upload with an empty data part (curl 8.14 sent one, and said OK) */
    assert_int_equal(rc, CURLE_ABORTED_BY_CALLBACK);
    server_free(&s);
    scratch_dir_remove(dir);
    free(path);
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_buildkite_upload_from_memory),
        cmocka_unit_test(a_local_upload_from_a_file),
        cmocka_unit_test(tags_are_fields_of_their_own),
        cmocka_unit_test(values_arrive_byte_for_byte),
        cmocka_unit_test(memory_is_read_as_curl_sends),
        cmocka_unit_test(every_form_is_whole_and_rewinds),
        cmocka_unit_test(an_unreadable_file_fails_the_transfer),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return failed;
}
