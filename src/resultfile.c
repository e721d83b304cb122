#include "resultfile.h"
#include "buf.h"
#include "collector_json.h"
#include "fsutil.h"
#include "junit.h"
#include <cjson/cJSON.h>
#include <errno.h>
#include <expat.h>
#include <libgen.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What pass 1 decided for one record. */
enum { DROP = 0, KEEP_PASSED, KEEP_FAILURE, KEEP_ERROR, KEEP_SKIPPED };

typedef struct {
    unsigned char *state;   /* per record of the file */
    size_t n, cap;
} file_marks_t;

typedef struct {
    char *key;
    size_t file, ordinal;
} owner_t;

typedef struct {
    owner_t *slots;         /* open addressing, key NULL = empty */
    size_t cap, len;
    file_marks_t *marks;    /* per input */
    resultfile_stats_t *stats;
} merge_t;

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

static owner_t *find_slot(owner_t *slots, size_t cap, const char *key)
{
    for (size_t i = hash(key) & (cap - 1);; i = (i + 1) & (cap - 1))
        if (!slots[i].key || strcmp(slots[i].key, key) == 0) return &slots[i];
}

static void grow_map(merge_t *m)
{
    size_t cap = m->cap ? m->cap * 2 : 1024;
    owner_t *slots = xcalloc(cap, sizeof(owner_t));
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key) *find_slot(slots, cap, m->slots[i].key) = m->slots[i];
    free(m->slots);
    m->slots = slots;
    m->cap = cap;
}

static void set_state(file_marks_t *f, size_t ordinal, unsigned char state)
{
    if (ordinal >= f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 256;
        while (cap <= ordinal) cap *= 2;
        f->state = xrealloc(f->state, cap);
        memset(f->state + f->cap, DROP, cap - f->cap);
        f->cap = cap;
    }
    f->state[ordinal] = state;
    if (ordinal >= f->n) f->n = ordinal + 1;
}

/* Records that record `ordinal` of `file` is kept; a keyed record replaces
 * the earlier record with the same key. Takes `key` (may be NULL). */
static void keep(merge_t *m, size_t file, size_t ordinal, char *key, unsigned char state)
{
    set_state(&m->marks[file], ordinal, state);
    if (!key) return;
    if ((m->len + 1) * 2 > m->cap) grow_map(m);
    owner_t *o = find_slot(m->slots, m->cap, key);
    if (o->key) {
        m->marks[o->file].state[o->ordinal] = DROP;
        m->stats->replaced++;
        free(key);
    } else {
        o->key = key;
        m->len++;
    }
    o->file = file;
    o->ordinal = ordinal;
}

static void merge_free(merge_t *m, size_t n_inputs)
{
    for (size_t i = 0; i < m->cap; i++) free(m->slots[i].key);
    free(m->slots);
    for (size_t i = 0; i < n_inputs; i++) free(m->marks[i].state);
    free(m->marks);
}

/* ---- collector JSON ---- */

typedef struct {
    merge_t *m;
    size_t file, ordinal;
    FILE *out;              /* pass 2 */
    size_t written;
} json_ctx_t;

/* "scope\x1fname" of a record, or NULL when it has no name. */
static char *json_key(const cJSON *rec)
{
    const cJSON *scope = cJSON_GetObjectItem(rec, "scope"), *name = cJSON_GetObjectItem(rec, "name");
    if (!cJSON_IsString(name)) return NULL;
    return xasprintf("%s\x1f%s", cJSON_IsString(scope) ? scope->valuestring : "", name->valuestring);
}

static void json_mark(const char *raw, size_t len, void *user)
{
    json_ctx_t *c = user;
    size_t ordinal = c->ordinal++;
    if (raw[0] != '{') return; /* not a record: the parser says so; nothing to keep */
    cJSON *rec = cJSON_ParseWithLength(raw, len);
    if (rec) keep(c->m, c->file, ordinal, json_key(rec), KEEP_PASSED);
    cJSON_Delete(rec);
}

static void json_write(const char *raw, size_t len, void *user)
{
    json_ctx_t *c = user;
    size_t ordinal = c->ordinal++;
    const file_marks_t *f = &c->m->marks[c->file];
    if (ordinal >= f->n || f->state[ordinal] == DROP) return;
    if (c->written++) fputc(',', c->out);
    fwrite(raw, 1, len, c->out);
}

static void json_merge(merge_t *m, const strlist_t *inputs, FILE *out, strlist_t *problems)
{
    json_ctx_t c = {.m = m, .out = out};
    for (size_t i = 0; i < inputs->len; i++) {
        if (!fs_exists(inputs->items[i])) continue;
        cj_scan_t scan;
        c.file = i;
        c.ordinal = 0;
        cj_scan_file(inputs->items[i], json_mark, &c, &scan);
        m->stats->files++;
        if (!scan.ok) strlist_push_owned(problems, xasprintf("%s (kept the %zu records before the problem)", scan.error, c.ordinal));
    }
    fputc('[', out);
    for (size_t i = 0; i < inputs->len; i++) {
        if (!fs_exists(inputs->items[i])) continue;
        cj_scan_t scan;
        c.file = i;
        c.ordinal = 0;
        cj_scan_file(inputs->items[i], json_write, &c, &scan);
    }
    fputc(']', out);
    m->stats->records = c.written;
}

/* ---- JUnit XML ---- */

typedef struct {
    int depth;
    char *classname, *name;
    unsigned char state;
} case_info_t;

static void case_start(void *user, const char *el, const char **atts)
{
    case_info_t *c = user;
    c->depth++;
    if (c->depth == 1) {
        for (int i = 0; atts[i]; i += 2) {
            if (strcmp(atts[i], "classname") == 0 && !c->classname) c->classname = xstrdup(atts[i + 1]);
            else if (strcmp(atts[i], "name") == 0 && !c->name) c->name = xstrdup(atts[i + 1]);
        }
    } else if (c->depth == 2) {
        if (strcmp(el, "failure") == 0 && c->state != KEEP_ERROR) c->state = KEEP_FAILURE;
        else if (strcmp(el, "error") == 0) c->state = KEEP_ERROR;
        else if (strcmp(el, "skipped") == 0 && c->state == KEEP_PASSED) c->state = KEEP_SKIPPED;
    }
}

static void case_end(void *user, const char *el)
{
    (void)el;
    ((case_info_t *)user)->depth--;
}

/* Reads one <testcase> element: its key and outcome. */
static char *case_key(XML_Parser p, const char *frag, size_t len, unsigned char *state)
{
    case_info_t c = {.state = KEEP_PASSED};
    XML_ParserReset(p, NULL);
    XML_SetUserData(p, &c);
    XML_SetElementHandler(p, case_start, case_end);
    bool ok = XML_Parse(p, frag, (int)len, XML_TRUE) != XML_STATUS_ERROR;
    char *key = ok && c.name ? xasprintf("%s\x1f%s", c.classname ? c.classname : "", c.name) : NULL;
    *state = c.state;
    free(c.classname);
    free(c.name);
    return key;
}

typedef struct {
    char *data;
    size_t len;
    junit_cases_t cases;
} junit_file_t;

static bool junit_load(const char *path, junit_file_t *f, strlist_t *problems)
{
    memset(f, 0, sizeof *f);
    f->data = fs_read_file(path, &f->len);
    if (!f->data) {
        if (problems) strlist_push_owned(problems, xasprintf("cannot read %s: %s", path, strerror(errno)));
        return false;
    }
    char *err = NULL;
    if (!junit_case_ranges(f->data, f->len, &f->cases, &err) && problems)
        strlist_push_owned(problems, xasprintf("%s: %s (kept the %zu testcases before the problem)", path, err, f->cases.len));
    free(err);
    return true;
}

static void junit_unload(junit_file_t *f)
{
    free(f->data);
    junit_cases_free(&f->cases);
}

static void junit_merge(merge_t *m, const strlist_t *inputs, FILE *out, strlist_t *problems)
{
    XML_Parser p = XML_ParserCreate(NULL);
    for (size_t i = 0; i < inputs->len; i++) {
        junit_file_t f;
        if (!fs_exists(inputs->items[i]) || !junit_load(inputs->items[i], &f, problems)) continue;
        m->stats->files++;
        for (size_t k = 0; k < f.cases.len; k++) {
            unsigned char state;
            char *key = case_key(p, f.data + f.cases.start[k], f.cases.end[k] - f.cases.start[k], &state);
            keep(m, i, k, key, state);
        }
        junit_unload(&f);
    }
    XML_ParserFree(p);
    size_t count[KEEP_SKIPPED + 1] = {0};
    for (size_t i = 0; i < inputs->len; i++)
        for (size_t k = 0; k < m->marks[i].n; k++) count[m->marks[i].state[k]]++;
    size_t total = count[KEEP_PASSED] + count[KEEP_FAILURE] + count[KEEP_ERROR] + count[KEEP_SKIPPED];
    fprintf(out, "<?xml version=\"1.0\" encoding=\"utf-8\"?><testsuites><testsuite name=\"pytest\" errors=\"%zu\" "
                 "failures=\"%zu\" skipped=\"%zu\" tests=\"%zu\">",
            count[KEEP_ERROR], count[KEEP_FAILURE], count[KEEP_SKIPPED], total);
    for (size_t i = 0; i < inputs->len; i++) {
        junit_file_t f;
        if (!m->marks[i].n || !junit_load(inputs->items[i], &f, NULL)) continue;
        for (size_t k = 0; k < f.cases.len && k < m->marks[i].n; k++)
            if (m->marks[i].state[k] != DROP) fwrite(f.data + f.cases.start[k], 1, f.cases.end[k] - f.cases.start[k], out);
        junit_unload(&f);
    }
    fputs("</testsuite></testsuites>\n", out);
    m->stats->records = total;
}

static FILE *open_temp(const char *out, char **tmp, char **err)
{
    char *copy = xstrdup(out);
    fs_mkdirs(dirname(copy)); /* the user's result path may name a new folder */
    free(copy);
    *tmp = xasprintf("%s.tmp.%ld", out, (long)getpid());
    FILE *f = fopen(*tmp, "wb");
    if (!f) *err = xasprintf("cannot write %s: %s", *tmp, strerror(errno));
    return f;
}

bool resultfile_merge(run_mode_t mode, const strlist_t *inputs, const char *out, resultfile_stats_t *stats,
                      strlist_t *problems, char **err)
{
    memset(stats, 0, sizeof *stats);
    char *tmp = NULL;
    FILE *f = open_temp(out, &tmp, err);
    if (!f) {
        free(tmp);
        return false;
    }
    merge_t m = {.marks = xcalloc(inputs->len ? inputs->len : 1, sizeof(file_marks_t)), .stats = stats};
    if (mode == MODE_JSON) json_merge(&m, inputs, f, problems);
    else junit_merge(&m, inputs, f, problems);
    merge_free(&m, inputs->len);
    bool ok = !ferror(f);
    ok = fclose(f) == 0 && ok;
    if (ok && rename(tmp, out) != 0) ok = false;
    if (!ok) {
        *err = xasprintf("cannot write %s: %s", out, strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return ok;
}
