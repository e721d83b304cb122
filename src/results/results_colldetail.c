#include "results/results_colldetail.h"
#include "pytest/nodeid.h"
#include "base/buf.h"
#include "results/results_json.h"
#include "results/results_junit.h"
#include <cjson/cJSON.h>
#include <expat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CUT_MARK "\n[... traceback shortened ...]\n"

char *results_colldetail_bound(const char *text)
{
    size_t len = strlen(text);
    if (len <= RESULTS_COLLDETAIL_MAX) return xstrdup(text);
    size_t head = strcspn(text, "\n");
    if (head > RESULTS_COLLDETAIL_MAX / 4) head = RESULTS_COLLDETAIL_MAX / 4;
    size_t room = RESULTS_COLLDETAIL_MAX - head - strlen(CUT_MARK);
    const char *tail = text + len - room;
    const char *nl = strchr(tail, '\n'); /* start the tail at a whole line */
    if (nl && nl[1]) tail = nl + 1;
    return xasprintf("%.*s%s%s", (int)head, text, CUT_MARK, tail);
}

/* The whole text holds the short reason the parser kept and the rest of the
 * traceback: t's cause is taken from it whenever it names one. */
static void offer_collection_text(results_model_t *r, const char *node_id, const char *text)
{
    test_result_t *t = results_model_find(r, node_id);
    if (!t || !t->collection_error || t->status != ST_FAILED || !*text) return;
    char *bounded = results_colldetail_bound(text);
    char *cause = results_model_cause(bounded, t->file);
    free(bounded);
    if (!cause || !*cause) {
        free(cause);
        return;
    }
    free(t->failure);
    t->failure = cause;
}

/* ---- collector JSON: failure_reason, then every failure_expanded line ---- */

static void append_lines(buf_t *b, const cJSON *lines)
{
    const cJSON *l;
    cJSON_ArrayForEach(l, lines)
    {
        if (!cJSON_IsString(l)) continue;
        buf_putc(b, '\n');
        buf_puts(b, l->valuestring);
    }
}

void results_colldetail_offer_record(results_model_t *r, const test_record_t *rec)
{
    if (rec->problem || !rec->collection_error || rec->status != ST_FAILED) return;
    const char *v;
    size_t vlen;
    buf_t text = BUF_INIT;
    buf_puts(&text, rec->failure ? rec->failure : "");
    /* Only failure_expanded is decoded, not the whole record. */
    if (rec->raw && results_json_member(rec->raw, rec->raw_len, "failure_expanded", &v, &vlen) &&
        vlen && v[0] == '[') {
        cJSON *parts = cJSON_ParseWithLength(v, vlen);
        const cJSON *part;
        cJSON_ArrayForEach(part, parts) append_lines(&text, cJSON_GetObjectItem(part, "expanded"));
        cJSON_Delete(parts);
    }
    offer_collection_text(r, rec->node_id, buf_str(&text));
    buf_free(&text);
}

/* ---- JUnit: the body of <error message="collection failure"> in a testcase
 * with an empty classname (pytest's way of writing a collection error) ---- */

typedef struct {
    results_model_t *r;
    const char *prefix;
    char *module; /* name of the open collection-error testcase */
    bool in_error;
    buf_t text;
} colldetail_junit_t;

static void colldetail_junit_start(void *user, const char *el, const char **atts)
{
    colldetail_junit_t *c = user;
    if (strcmp(el, "testcase") == 0) {
        const char *cls = results_junit_attr(atts, "classname");
        const char *name = results_junit_attr(atts, "name");
        free(c->module);
        c->module = (!cls || !*cls) && name ? xstrdup(name) : NULL;
        c->in_error = false; /* a testcase inside an <error> ends that error's text */
    } else if (c->module && strcmp(el, "error") == 0) {
        const char *msg = results_junit_attr(atts, "message");
        c->in_error = msg && strcmp(msg, "collection failure") == 0;
        buf_reset(&c->text);
    }
}

static void colldetail_junit_text(void *user, const char *s, int len)
{
    colldetail_junit_t *c = user;
    /* Bounded while reading: the end of the text matters, so keep sliding. */
    if (!c->in_error) return;
    buf_append(&c->text, s, (size_t)len);
    if (c->text.len > 4 * RESULTS_COLLDETAIL_MAX) {
        char *bounded = results_colldetail_bound(c->text.data);
        buf_reset(&c->text);
        buf_puts(&c->text, bounded);
        free(bounded);
    }
}

static void colldetail_junit_end(void *user, const char *el)
{
    colldetail_junit_t *c = user;
    if (c->in_error && strcmp(el, "error") == 0) {
        c->in_error = false;
        if (!c->module) return; /* its testcase was cut by one inside it */
        char *path = results_junit_module_path(c->module);
        char *id = nodeid_join(c->prefix, path);
        offer_collection_text(c->r, id, c->text.data);
        free(id);
        free(path);
    } else if (strcmp(el, "testcase") == 0) {
        free(c->module);
        c->module = NULL;
    }
}

static void colldetail_junit_fill(const char *path, const char *prefix, results_model_t *r)
{
    FILE *f = fopen(path, "rb");
    if (!f) return;
    colldetail_junit_t c = {.r = r, .prefix = prefix};
    buf_init(&c.text);
    XML_Parser p = XML_ParserCreate(NULL);
    XML_SetUserData(p, &c);
    XML_SetElementHandler(p, colldetail_junit_start, colldetail_junit_end);
    XML_SetCharacterDataHandler(p, colldetail_junit_text);
    char chunk[65536];
    for (;;) {
        size_t n = fread(chunk, 1, sizeof chunk, f);
        bool last = n < sizeof chunk;
        /* A broken file was reported by the parser already: keep what was read. */
        if (XML_Parse(p, chunk, (int)n, last) == XML_STATUS_ERROR || last) break;
    }
    XML_ParserFree(p);
    fclose(f);
    free(c.module);
    buf_free(&c.text);
}

typedef struct {
    results_model_t *r;
    const char *prefix;
} offer_ctx_t;

static void offer_json_record(const test_record_t *rec, void *user)
{
    offer_ctx_t *o = user;
    test_record_t with_prefix = *rec;
    char *id = rec->node_id ? nodeid_join(o->prefix, rec->node_id) : NULL;
    with_prefix.node_id = id;
    results_colldetail_offer_record(o->r, &with_prefix);
    free(id);
}

void results_colldetail_fill(result_mode_t mode, const char *path, const char *prefix,
                             results_model_t *r)
{
    if (mode == MODE_JUNIT) {
        colldetail_junit_fill(path, prefix, r);
        return;
    }
    offer_ctx_t o = {.r = r, .prefix = prefix};
    results_json_scan_t scan;
    results_json_read_records(path, offer_json_record, &o, NULL, NULL, &scan);
    free(scan.error); /* the run phase already said what is wrong with the file */
}
