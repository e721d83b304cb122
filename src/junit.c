#include "junit.h"
#include "buf.h"
#include "fsutil.h"
#include <ctype.h>
#include <errno.h>
#include <expat.h>
#include <stdio.h>
#include <string.h>

#define MAX_REASON 2000

typedef struct {
    XML_Parser parser;
    run_result_t *r;
    junit_scan_t *out;
    int depth;
    bool root_seen;
    bool in_case;
    char *classname;
    char *name;
    test_status_t status;
    bool collection_error;
    bool in_problem;       /* inside <failure>/<error>: collect text */
    buf_t reason;
    bool have_message;
} junit_ctx_t;

static bool is_test_module(const char *comp, size_t n)
{
    return (n >= 5 && strncmp(comp, "test_", 5) == 0) || (n >= 5 && strncmp(comp + n - 5, "_test", 5) == 0);
}

char *junit_module_path(const char *dotted)
{
    buf_t b;
    buf_init(&b);
    for (const char *s = dotted; *s; s++) buf_putc(&b, *s == '.' ? '/' : *s);
    buf_puts(&b, ".py");
    return buf_detach(&b);
}

char *junit_node_id(const char *classname, const char *name)
{
    if (!*classname) return xstrdup(name);
    /* Split into components and find where the module ends. */
    size_t n = 1;
    for (const char *s = classname; *s; s++) n += *s == '.';
    const char **comp = xcalloc(n, sizeof(char *));
    size_t *len = xcalloc(n, sizeof(size_t));
    size_t k = 0;
    for (const char *s = classname;;) {
        const char *dot = strchr(s, '.');
        comp[k] = s;
        len[k++] = dot ? (size_t)(dot - s) : strlen(s);
        if (!dot) break;
        s = dot + 1;
    }
    size_t module_end = 0; /* number of components in the module */
    for (size_t i = 0; i < k; i++)
        if (is_test_module(comp[i], len[i])) module_end = i + 1;
    if (!module_end) {
        module_end = k;
        for (size_t i = 0; i < k; i++)
            if (isupper((unsigned char)comp[i][0])) { module_end = i; break; }
    }
    buf_t b;
    buf_init(&b);
    for (size_t i = 0; i < module_end; i++) {
        if (i) buf_putc(&b, '/');
        buf_append(&b, comp[i], len[i]);
    }
    buf_puts(&b, ".py");
    for (size_t i = module_end; i < k; i++) {
        buf_puts(&b, "::");
        buf_append(&b, comp[i], len[i]);
    }
    buf_printf(&b, "::%s", name);
    free(comp);
    free(len);
    return buf_detach(&b);
}

static const char *attr(const char **atts, const char *key)
{
    for (int i = 0; atts[i]; i += 2)
        if (strcmp(atts[i], key) == 0) return atts[i + 1];
    return NULL;
}

static void on_start(void *user, const char *el, const char **atts)
{
    junit_ctx_t *c = user;
    c->depth++;
    if (!c->root_seen) {
        c->root_seen = true;
        if (strcmp(el, "testsuites") != 0 && strcmp(el, "testsuite") != 0) {
            snprintf(c->out->error, sizeof c->out->error, "root element is <%s>, not <testsuites> or <testsuite>", el);
            XML_StopParser(c->parser, XML_FALSE);
        }
        return;
    }
    if (strcmp(el, "testcase") == 0) {
        c->in_case = true;
        const char *cls = attr(atts, "classname"), *name = attr(atts, "name");
        c->classname = xstrdup(cls ? cls : "");
        c->name = xstrdup(name ? name : "");
        c->status = ST_PASSED;
        c->collection_error = false;
        c->have_message = false;
        buf_reset(&c->reason);
        return;
    }
    if (!c->in_case) return;
    bool failure = strcmp(el, "failure") == 0, error = strcmp(el, "error") == 0;
    if (failure || error) {
        c->status = ST_FAILED;
        const char *msg = attr(atts, "message");
        if (error && msg && strcmp(msg, "collection failure") == 0 && !*c->classname) c->collection_error = true;
        /* A collection error's message is just the label; its body says what broke. */
        if (msg && !c->have_message && !c->collection_error) {
            buf_reset(&c->reason);
            buf_append(&c->reason, msg, strnlen(msg, MAX_REASON));
            c->have_message = true;
        }
        c->in_problem = true;
    } else if (strcmp(el, "skipped") == 0 && c->status != ST_FAILED) {
        c->status = ST_SKIPPED;
    }
}

static void on_text(void *user, const char *s, int len)
{
    junit_ctx_t *c = user;
    if (!c->in_problem || c->reason.len >= MAX_REASON) return;
    if (c->have_message) return; /* without a message, the body says what broke */
    size_t room = MAX_REASON - c->reason.len;
    buf_append(&c->reason, s, (size_t)len < room ? (size_t)len : room);
}

static void record_case(junit_ctx_t *c)
{
    char *node_id, *file;
    if (c->collection_error) {
        node_id = junit_module_path(c->name);
        file = xstrdup(node_id);
    } else {
        node_id = junit_node_id(c->classname, c->name);
        file = xstrndup(node_id, strcspn(node_id, ":"));
    }
    /* The first line of a collection error's text is its most useful line. */
    if (c->collection_error) {
        char *nl = strchr(c->reason.data, '\n');
        if (nl) c->reason.len = (size_t)(nl - c->reason.data), *nl = '\0';
    }
    result_record(c->r, c->classname, c->collection_error ? node_id : c->name, node_id, file, c->status,
                  c->status == ST_FAILED ? c->reason.data : NULL, c->collection_error);
    c->out->testcases++;
    free(node_id);
    free(file);
}

static void on_end(void *user, const char *el)
{
    junit_ctx_t *c = user;
    c->depth--;
    if (strcmp(el, "failure") == 0 || strcmp(el, "error") == 0) c->in_problem = false;
    if (strcmp(el, "testcase") == 0 && c->in_case) {
        record_case(c);
        free(c->classname);
        free(c->name);
        c->classname = c->name = NULL;
        c->in_case = false;
    }
}

void junit_read_results(const char *path, run_result_t *r, junit_scan_t *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(out->error, sizeof out->error, "cannot open %s: %s", path, strerror(errno));
        return;
    }
    junit_ctx_t c = {.r = r, .out = out};
    buf_init(&c.reason);
    c.parser = XML_ParserCreate(NULL);
    XML_SetUserData(c.parser, &c);
    XML_SetElementHandler(c.parser, on_start, on_end);
    XML_SetCharacterDataHandler(c.parser, on_text);
    char chunk[65536];
    bool ok = true;
    for (;;) {
        size_t n = fread(chunk, 1, sizeof chunk, f);
        bool last = n < sizeof chunk;
        if (XML_Parse(c.parser, chunk, (int)n, last) == XML_STATUS_ERROR) {
            if (!out->error[0])
                snprintf(out->error, sizeof out->error, "%s: %s at line %lu", path,
                         XML_ErrorString(XML_GetErrorCode(c.parser)), XML_GetCurrentLineNumber(c.parser));
            ok = false;
            break;
        }
        if (last) break;
    }
    if (ok && !c.root_seen) {
        snprintf(out->error, sizeof out->error, "%s is empty", path);
        ok = false;
    }
    out->ok = ok;
    free(c.classname);
    free(c.name);
    buf_free(&c.reason);
    XML_ParserFree(c.parser);
    fclose(f);
}

typedef struct {
    XML_Parser parser;
    junit_cases_t *out;
    size_t cap;
    int depth;
    int case_depth;        /* depth of the open <testcase>, 0 if none */
    size_t case_start;
} ranges_ctx_t;

static size_t tag_end(XML_Parser p)
{
    return (size_t)XML_GetCurrentByteIndex(p) + (size_t)XML_GetCurrentByteCount(p);
}

static void ranges_start(void *user, const char *el, const char **atts)
{
    (void)atts;
    ranges_ctx_t *c = user;
    c->depth++;
    if (!c->case_depth && strcmp(el, "testcase") == 0) {
        c->case_depth = c->depth;
        c->case_start = (size_t)XML_GetCurrentByteIndex(c->parser);
    }
}

static void ranges_end(void *user, const char *el)
{
    (void)el;
    ranges_ctx_t *c = user;
    if (c->case_depth == c->depth) {
        if (c->out->len == c->cap) {
            c->cap = c->cap ? c->cap * 2 : 256;
            c->out->start = xrealloc(c->out->start, c->cap * sizeof(size_t));
            c->out->end = xrealloc(c->out->end, c->cap * sizeof(size_t));
        }
        size_t end = tag_end(c->parser);
        /* "<testcase .../>": expat reports the end with no bytes of its own. */
        c->out->start[c->out->len] = c->case_start;
        c->out->end[c->out->len++] = end > c->case_start ? end : c->case_start;
        c->case_depth = 0;
    }
    c->depth--;
}

bool junit_case_ranges(const char *data, size_t len, junit_cases_t *out, char **err)
{
    memset(out, 0, sizeof *out);
    ranges_ctx_t c = {.parser = XML_ParserCreate(NULL), .out = out};
    XML_SetUserData(c.parser, &c);
    XML_SetElementHandler(c.parser, ranges_start, ranges_end);
    bool ok = XML_Parse(c.parser, data, (int)len, XML_TRUE) != XML_STATUS_ERROR;
    if (!ok) *err = xasprintf("%s at line %lu", XML_ErrorString(XML_GetErrorCode(c.parser)), XML_GetCurrentLineNumber(c.parser));
    XML_ParserFree(c.parser);
    return ok;
}

void junit_cases_free(junit_cases_t *c)
{
    free(c->start);
    free(c->end);
    memset(c, 0, sizeof *c);
}
