#include "results/results_salvage.h"
#include "results/results_cause.h"
#include "base/buf.h"
#include "base/err.h"
#include "base/jsontext.h"
#include "pytest/nodeid.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define COLLECTION_ERROR_TAG "test.pytest_collection_error"

bool results_salvage_open(results_salvage_t *s, result_mode_t mode, const char *path, char **err)
{
    memset(s, 0, sizeof *s);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (fd < 0) return err_set(err, "cannot write %s (%s)", path, strerror(errno));
    s->f = fdopen(fd, "w");
    s->mode = mode;
    s->path = xstrdup(path);
    s->prefix = xstrdup("");
    s->id_seed = (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 20);
    fputs(mode == MODE_JSON ? "["
                            : "<?xml version=\"1.0\" encoding=\"utf-8\"?><testsuites>"
                              "<testsuite name=\"pytest\">",
          s->f);
    return true;
}

void results_salvage_set_prefix(results_salvage_t *s, const char *prefix)
{
    free(s->prefix);
    s->prefix = xstrdup(prefix ? prefix : "");
}

/* scope and name as the collector splits a node id: at its last "::". */
static void split_node_id(const char *id, char **scope, char **name)
{
    const char *last = NULL;
    for (const char *p = strstr(id, "::"); p; p = strstr(p + 2, "::")) last = p;
    *scope = last ? xstrndup(id, (size_t)(last - id)) : xstrdup("");
    *name = xstrdup(last ? last + 2 : id);
}

/* A record id like the collector's (a UUID's shape; unique in the file). */
static void put_record_id(results_salvage_t *s, buf_t *b)
{
    unsigned long long x = ++s->id_seed * 0x9E3779B97F4A7C15ULL;
    buf_printf(b, "\"%08llx-%04llx-4%03llx-8%03llx-%012llx\"", x >> 32, (x >> 16) & 0xffff,
               x & 0xfff, (x >> 40) & 0xfff, (x ^ (x >> 7)) & 0xffffffffffffULL);
}

static const char *result_word(test_status_t st)
{
    return st == ST_FAILED ? "failed" : st == ST_SKIPPED ? "skipped" : "passed";
}

static void put_json_record(results_salvage_t *s, const run_event_test_t *t, buf_t *b)
{
    char *scope, *name;
    split_node_id(t->node_id, &scope, &name);
    const char *sep = strstr(t->node_id, "::");
    char *file_part = sep ? xstrndup(t->node_id, (size_t)(sep - t->node_id)) : xstrdup(t->node_id);
    char *file = xasprintf("%s%s", s->prefix, file_part);
    buf_puts(b, s->records ? ",{\"id\":" : "{\"id\":");
    put_record_id(s, b);
    buf_puts(b, ",\"scope\":");
    jsontext_put_string(b, scope, true);
    buf_puts(b, ",\"name\":");
    jsontext_put_string(b, name, true);
    buf_puts(b, ",\"location\":");
    jsontext_put_string(b, file, true);
    buf_puts(b, ",\"file_name\":");
    jsontext_put_string(b, file, true);
    buf_printf(b,
               ",\"history\":{\"section\":\"top\",\"children\":[],\"start_at\":0,\"end_at\":%.6f,"
               "\"duration\":%.6f}",
               t->duration, t->duration);
    if (t->collection_error) buf_puts(b, ",\"tags\":{\"" COLLECTION_ERROR_TAG "\":\"true\"}");
    buf_printf(b, ",\"result\":\"%s\"", result_word(t->status));
    if (t->status == ST_FAILED) {
        char *cause = results_cause_of(t->message, file);
        buf_puts(b, ",\"failure_reason\":");
        jsontext_put_string(b, cause ? cause : "", true);
        free(cause);
    }
    buf_putc(b, '}');
    free(scope);
    free(name);
    free(file_part);
    free(file);
}

/* Text for an XML attribute or element: markup escaped, made valid UTF-8,
 * and characters XML 1.0 cannot hold at all left out. */
static void put_xml_text(buf_t *b, const char *s)
{
    for (const char *p = s; *p;) {
        size_t n = jsontext_utf8_len(p);
        if (n == 0) {
            buf_puts(b, "\xef\xbf\xbd");
            p++;
            continue;
        }
        unsigned char c = (unsigned char)*p;
        if (c == '&')
            buf_puts(b, "&amp;");
        else if (c == '<')
            buf_puts(b, "&lt;");
        else if (c == '>')
            buf_puts(b, "&gt;");
        else if (c == '"')
            buf_puts(b, "&quot;");
        else if (c < 0x20 && c != '\n' && c != '\t' && c != '\r')
            buf_puts(b, "\xef\xbf\xbd");
        else
            buf_append(b, p, n);
        p += n;
    }
}

static void put_junit_record(const run_event_test_t *t, buf_t *b)
{
    char *key = nodeid_junit_key(t->node_id); /* "classname\x1fname", as pytest makes them */
    char *sep = strchr(key, '\x1f');
    *sep = '\0';
    buf_puts(b, "<testcase classname=\"");
    put_xml_text(b, key);
    buf_puts(b, "\" name=\"");
    put_xml_text(b, sep + 1);
    buf_printf(b, "\" time=\"%.3f\">", t->duration);
    if (t->collection_error) {
        buf_puts(b, "<error message=\"collection failure\">");
        put_xml_text(b, t->message);
        buf_puts(b, "</error>");
    } else if (t->status == ST_FAILED) {
        bool error = strcmp(t->when, "call") != 0; /* pytest's word for setup/teardown */
        char *cause = results_cause_of(t->message, NULL);
        buf_puts(b, error ? "<error message=\"" : "<failure message=\"");
        put_xml_text(b, cause ? cause : "");
        buf_puts(b, "\">");
        put_xml_text(b, t->message);
        buf_puts(b, error ? "</error>" : "</failure>");
        free(cause);
    } else if (t->status == ST_SKIPPED) {
        buf_puts(b, "<skipped message=\"");
        put_xml_text(b, t->message);
        buf_puts(b, "\" />");
    }
    buf_puts(b, "</testcase>");
    free(key);
}

void results_salvage_put(results_salvage_t *s, const run_event_test_t *t)
{
    if (!s->f) return;
    buf_t b = BUF_INIT;
    if (s->mode == MODE_JSON)
        put_json_record(s, t, &b);
    else
        put_junit_record(t, &b);
    if (fwrite(b.data, 1, b.len, s->f) != b.len) s->failed = true;
    s->records++;
    buf_free(&b);
}

bool results_salvage_close(results_salvage_t *s, char **err)
{
    if (!s->f) return true;
    fputs(s->mode == MODE_JSON ? "]" : "</testsuite></testsuites>", s->f);
    bool ok = fflush(s->f) == 0 && !s->failed && fsync(fileno(s->f)) == 0;
    int e = errno;
    ok = fclose(s->f) == 0 && ok;
    s->f = NULL;
    if (!ok) {
        err_set(err, "cannot write %s (%s)", s->path, strerror(e ? e : EIO));
        unlink(s->path);
    }
    free(s->path);
    free(s->prefix);
    s->path = s->prefix = NULL;
    return ok;
}
