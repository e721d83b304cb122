#include "results/results_junit.h"
#include "base/compat.h"
#include "base/text.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/warncap.h"
#include <ctype.h>
#include <errno.h>
#include <expat.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Read size; grows while expat holds an unfinished tag (see feed_file). */
#define CHUNK_MIN ((size_t)64 << 10)
#define CHUNK_MAX ((size_t)64 << 20)

static size_t max_token = RESULTS_JUNIT_MAX_TOKEN;

void results_junit_set_max_token(size_t bytes)
{
    max_token = bytes ? bytes : RESULTS_JUNIT_MAX_TOKEN;
}

typedef struct {
    XML_Parser parser;
    const char *path;
    record_fn fn;
    void *user;
    warncap_t warnings; /* skipped testcases named, then counted */
    results_junit_scan_t *out;
    int depth;
    bool root_seen;
    bool in_case;
    int case_depth; /* depth of the open <testcase> */
    char *classname;
    char *name;
    test_status_t status;
    bool collection_error;
    bool error;          /* an <error> inside (not only a <failure>) */
    double time;         /* the time attribute, -1 when absent or unusable */
    size_t start;        /* byte offset of the open <testcase> in the file */
    bool in_problem;     /* inside <failure>/<error>: collect text */
    buf_t reason;        /* at most TEXT_KEEP bytes of it */
    size_t reason_total; /* bytes the reason had before it was cut */
    bool have_message;
    size_t nested; /* <testcase> inside <testcase>: ignored */
} results_junit_ctx_t;

static bool is_test_module(const char *comp, size_t n)
{
    return (n >= 5 && strncmp(comp, "test_", 5) == 0) ||
           (n >= 5 && strncmp(comp + n - 5, "_test", 5) == 0);
}

char *results_junit_module_path(const char *dotted)
{
    buf_t b;
    buf_init(&b);
    for (const char *s = dotted; *s; s++) buf_putc(&b, *s == '.' ? '/' : *s);
    buf_puts(&b, ".py");
    return buf_detach(&b);
}

char *results_junit_node_id(const char *classname, const char *name)
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
            if (isupper((unsigned char)comp[i][0])) {
                module_end = i;
                break;
            }
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

const char *results_junit_attr(const char **atts, const char *key)
{
    for (int i = 0; atts[i]; i += 2)
        if (strcmp(atts[i], key) == 0) return atts[i + 1];
    return NULL;
}

/* Keeps what fits of s in the reason; counts what does not. */
static void reason_add(results_junit_ctx_t *c, const char *s, size_t len)
{
    bool cut_before = c->reason_total > c->reason.len; /* never resume after a gap */
    c->reason_total += len;
    if (cut_before || c->reason.len >= TEXT_KEEP) return;
    size_t room = TEXT_KEEP - c->reason.len;
    buf_append(&c->reason, s, text_utf8_prefix_len(s, len, room));
}

static void reason_reset(results_junit_ctx_t *c)
{
    buf_reset(&c->reason);
    c->reason_total = 0;
}

static void warn_skipped_case(results_junit_ctx_t *c, const char *why)
{
    if (warncap_next(&c->warnings))
        warncap_say(&c->warnings, "%s line %lu: %s; skipped", c->path, compat_xml_line(c->parser),
                    why);
}

/* pytest's time="0.123": finite, not negative, else unknown (-1). */
static double seconds_attr(const char *v)
{
    if (!v || !*v) return -1;
    char *end = NULL;
    double d = strtod(v, &end);
    return *end || !isfinite(d) || d < 0 ? -1 : d;
}

static void start_case(results_junit_ctx_t *c, const char **atts)
{
    const char *cls = results_junit_attr(atts, "classname");
    const char *name = results_junit_attr(atts, "name");
    c->in_case = true;
    c->case_depth = c->depth;
    c->start = (size_t)compat_xml_byte_index(c->parser);
    c->classname = xstrdup(cls ? cls : "");
    c->name = xstrdup(name ? name : "");
    c->status = ST_PASSED;
    c->collection_error = false;
    c->error = false;
    c->time = seconds_attr(results_junit_attr(atts, "time"));
    c->have_message = false;
    reason_reset(c);
}

static void junit_on_start(void *user, const char *el, const char **atts)
{
    results_junit_ctx_t *c = user;
    c->depth++;
    if (!c->root_seen) {
        c->root_seen = true;
        if (strcmp(el, "testsuites") != 0 && strcmp(el, "testsuite") != 0) {
            err_set(&c->out->error, "root element is <%s>, not <testsuites> or <testsuite>", el);
            XML_StopParser(c->parser, XML_FALSE);
        }
        return;
    }
    if (strcmp(el, "testcase") == 0) {
        /* pytest never nests testcases; the outer one is the test, the inner is noise. */
        if (c->in_case)
            c->nested++;
        else
            start_case(c, atts);
        return;
    }
    if (!c->in_case) return;
    bool failure = strcmp(el, "failure") == 0;
    bool error = strcmp(el, "error") == 0;
    if (failure || error) {
        c->status = ST_FAILED;
        c->error = c->error || error;
        const char *msg = results_junit_attr(atts, "message");
        if (error && msg && strcmp(msg, "collection failure") == 0 && !*c->classname)
            c->collection_error = true;
        /* A collection error's message is just the label; its body says what broke. */
        if (msg && !c->have_message && !c->collection_error) {
            reason_reset(c);
            reason_add(c, msg, strlen(msg));
            c->have_message = true;
        }
        c->in_problem = true;
    } else if (strcmp(el, "skipped") == 0 && c->status != ST_FAILED) {
        c->status = ST_SKIPPED;
        const char *msg = results_junit_attr(atts, "message"); /* the skip's reason */
        const char *type = results_junit_attr(atts, "type");
        reason_reset(c);
        if (type && strcmp(type, "pytest.xfail") == 0) reason_add(c, "xfail: ", 7);
        if (msg) reason_add(c, msg, strlen(msg));
    }
}

static void junit_on_text(void *user, const char *s, int len)
{
    results_junit_ctx_t *c = user;
    if (!c->in_problem || c->have_message) return; /* without a message, the body says what broke */
    reason_add(c, s, (size_t)len);
}

/* The end of the element being closed, in file bytes ("<x/>" included). */
static size_t tag_end(XML_Parser p)
{
    return (size_t)compat_xml_byte_index(p) + (size_t)compat_xml_byte_count(p);
}

static void record_case(results_junit_ctx_t *c)
{
    test_record_t rec = {.start = c->start, .end = tag_end(c->parser), .duration = -1};
    if (rec.end < rec.start) rec.end = rec.start;
    /* A name pytest could not take as one argument is not a test we can rerun
     * or report by name; refuse it rather than carry megabytes around. */
    if (strlen(c->classname) > RESULTS_JUNIT_MAX_ID || strlen(c->name) > RESULTS_JUNIT_MAX_ID) {
        rec.problem = "a testcase classname or name is longer than 64 KiB";
        warn_skipped_case(c, rec.problem);
        c->fn(&rec, c->user);
        return;
    }
    char *node_id, *file;
    if (c->collection_error) {
        node_id = results_junit_module_path(c->name);
        file = xstrdup(node_id);
    } else {
        node_id = results_junit_node_id(c->classname, c->name);
        file = xstrndup(node_id, strcspn(node_id, ":"));
    }
    /* The first line of a collection error's text is its most useful line. */
    char *nl = c->collection_error ? strchr(buf_str(&c->reason), '\n') : NULL;
    if (nl) {
        c->reason.len = (size_t)(nl - c->reason.data);
        *nl = '\0';
    } else if (c->reason_total > c->reason.len) {
        /* text arrives in pieces: the cut may have left half a character */
        c->reason.len = text_utf8_complete_len(c->reason.data, c->reason.len);
        text_put_cut_note(&c->reason, c->reason_total);
    }
    rec.scope = c->classname;
    rec.name = c->collection_error ? node_id : c->name;
    rec.node_id = node_id;
    rec.file = file;
    rec.status = c->status;
    rec.failure = c->status == ST_FAILED || c->status == ST_SKIPPED ? buf_str(&c->reason) : NULL;
    rec.collection_error = c->collection_error;
    rec.error = c->error;
    rec.duration = c->time;
    c->fn(&rec, c->user);
    c->out->testcases++;
    free(node_id);
    free(file);
}

static void junit_on_end(void *user, const char *el)
{
    results_junit_ctx_t *c = user;
    c->depth--;
    if (strcmp(el, "failure") == 0 || strcmp(el, "error") == 0) c->in_problem = false;
    if (strcmp(el, "testcase") == 0 && c->in_case && c->depth == c->case_depth - 1) {
        record_case(c);
        free(c->classname);
        free(c->name);
        c->classname = c->name = NULL;
        c->in_case = false;
    }
}

/* Feeds the file to expat. expat re-reads an unfinished tag from its start on
 * every call, so a 100 MB attribute fed 64 KiB at a time is re-read ~1600
 * times (minutes). Reading at least as much new text as expat is holding
 * keeps every byte's re-reads bounded (linear time); a tag larger than
 * RESULTS_JUNIT_MAX_TOKEN is an error, which also bounds memory. */
static bool feed_file(results_junit_ctx_t *c, FILE *f)
{
    size_t chunk = CHUNK_MIN;
    char *data = xmalloc(chunk);
    long long fed = 0;
    bool ok = true;
    for (;;) {
        size_t n = fread(data, 1, chunk, f);
        bool last = n < chunk;
        if (XML_Parse(c->parser, data, (int)n, last) == XML_STATUS_ERROR) {
            if (!c->out->error)
                err_set(&c->out->error, "%s: %s at line %lu", c->path,
                        XML_ErrorString(XML_GetErrorCode(c->parser)), compat_xml_line(c->parser));
            ok = false;
            break;
        }
        if (last) break;
        fed += (long long)n;
        long long at = compat_xml_byte_index(c->parser);
        size_t pending = at >= 0 && at <= fed ? (size_t)(fed - at) : 0;
        if (pending > max_token) {
            err_set(&c->out->error,
                    "%s: one XML tag at line %lu is larger than %zu KiB; a JUnit "
                    "file never has one that big (is it corrupt?)",
                    c->path, compat_xml_line(c->parser), max_token >> 10);
            ok = false;
            break;
        }
        if (pending > chunk / 2 && chunk < CHUNK_MAX) {
            while (chunk < pending * 2 && chunk < CHUNK_MAX) chunk *= 2;
            free(data);
            data = xmalloc(chunk);
        }
    }
    free(data);
    return ok;
}

/* The lines said once the file is read: skipped testcases past the cap,
 * nested ones. */
static void warn_totals(results_junit_ctx_t *c)
{
    if (c->warnings.more)
        warncap_say(&c->warnings, "%s: %zu more testcases skipped (%zu warnings shown)", c->path,
                    c->warnings.more, c->warnings.shown);
    if (c->nested)
        warncap_say(&c->warnings,
                    "%s: %zu <testcase> elements inside another <testcase> were ignored (pytest "
                    "never writes them)",
                    c->path, c->nested);
}

/* pytest never declares entities. Refusing the first declaration stops
 * entity amplification ("billion laughs") before anything is expanded, on
 * every expat: those before 2.4.0 (Debian 11 has 2.2.10) have no limit. */
static void junit_on_entity_decl(void *user, const XML_Char *name, int is_parameter,
                                 const XML_Char *value, int value_length, const XML_Char *base,
                                 const XML_Char *system_id, const XML_Char *public_id,
                                 const XML_Char *notation)
{
    (void)name, (void)is_parameter, (void)value, (void)value_length, (void)base;
    (void)system_id, (void)public_id, (void)notation;
    results_junit_ctx_t *c = user;
    if (!c->out->error)
        err_set(&c->out->error,
                "%s line %lu declares an XML entity; pytest's JUnit XML never does (is the file "
                "what pytest wrote?)",
                c->path, compat_xml_line(c->parser));
    XML_StopParser(c->parser, XML_FALSE);
}

void results_junit_read_records(const char *path, record_fn fn, void *user, warn_fn warn,
                                void *warn_user, results_junit_scan_t *out)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        err_set(&out->error, "cannot open %s: %s", path, strerror(errno));
        return;
    }
    results_junit_ctx_t c = {.fn = fn, .user = user, .out = out, .path = path};
    c.warnings = (warncap_t){.fn = warn, .user = warn_user, .max = RESULTS_JUNIT_MAX_WARNINGS};
    buf_init(&c.reason);
    c.parser = XML_ParserCreate(NULL);
    XML_SetUserData(c.parser, &c);
    XML_SetElementHandler(c.parser, junit_on_start, junit_on_end);
    XML_SetCharacterDataHandler(c.parser, junit_on_text);
    XML_SetEntityDeclHandler(c.parser, junit_on_entity_decl);
    if (feed_file(&c, f) && !c.root_seen) err_set(&out->error, "%s is empty", path);
    warn_totals(&c);
    free(c.classname);
    free(c.name);
    buf_free(&c.reason);
    XML_ParserFree(c.parser);
    fclose(f);
}

/* ---- one testcase's names, from its bytes alone ---- */

typedef struct {
    XML_Parser parser;
    char *name;
} case_name_t;

static void case_name_on_start(void *user, const char *el, const char **atts)
{
    case_name_t *c = user;
    if (!c->name && strcmp(el, "testcase") == 0) {
        const char *cls = results_junit_attr(atts, "classname");
        const char *name = results_junit_attr(atts, "name");
        cls = cls ? cls : "";
        c->name = xasprintf("%.200s%s%.200s", cls, *cls ? "::" : "", name ? name : "?");
    }
    XML_StopParser(c->parser, XML_FALSE); /* the start tag is all it needs */
}

static void case_name_on_entity_decl(void *user, const XML_Char *name, int is_parameter,
                                     const XML_Char *value, int value_length, const XML_Char *base,
                                     const XML_Char *system_id, const XML_Char *public_id,
                                     const XML_Char *notation)
{
    (void)name, (void)is_parameter, (void)value, (void)value_length, (void)base;
    (void)system_id, (void)public_id, (void)notation;
    XML_StopParser(((case_name_t *)user)->parser, XML_FALSE);
}

char *results_junit_case_name(const char *bytes, size_t len)
{
    case_name_t c = {.parser = XML_ParserCreate(NULL)};
    XML_SetUserData(c.parser, &c);
    XML_SetElementHandler(c.parser, case_name_on_start, NULL);
    XML_SetEntityDeclHandler(c.parser, case_name_on_entity_decl);
    if (len > RESULTS_JUNIT_NAME_READ) len = RESULTS_JUNIT_NAME_READ;
    XML_Parse(c.parser, bytes, (int)len, 1); /* a cut element is fine once its tag is read */
    XML_ParserFree(c.parser);
    return c.name;
}
