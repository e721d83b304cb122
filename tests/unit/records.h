/* Test helper: parser records (test_record_t) both ways. recs_collect copies
 * every record a parser hands out, so a test can look at what the parser
 * said about each test (the run model itself keeps only the failures);
 * recs_feed hands the model one record as a parser would. The fixture_*
 * counters count a result file's records another way than the parsers do
 * (cJSON, a plain search), for the expected numbers. */
#ifndef TEP_TEST_RECORDS_H
#define TEP_TEST_RECORDS_H
#include "base/buf.h"
#include "base/fs.h"
#include "results/results_model.h"
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char *node_id, *scope, *name, *file, *failure;
    test_status_t status;
    bool collection_error;
    double duration;
    size_t start, end;
} rec_t;

typedef struct {
    rec_t *v;
    size_t len;
    size_t problems; /* records handed out with a problem */
} recs_t;

/* A node id from the collector's scope and name, as the readers make it. Caller frees. */
static inline char *recs_node_id(const char *scope, const char *name)
{
    return *scope ? xasprintf("%s::%s", scope, name) : xstrdup(name);
}

static inline char *recs_dup(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* record_fn: appends a copy of every usable record, counts the others. */
static inline void recs_collect(const test_record_t *r, void *user)
{
    recs_t *rs = user;
    if (r->problem) {
        rs->problems++;
        return;
    }
    rs->v = xrealloc(rs->v, (rs->len + 1) * sizeof(rec_t));
    rs->v[rs->len++] = (rec_t){recs_dup(r->node_id),
                               recs_dup(r->scope),
                               recs_dup(r->name),
                               recs_dup(r->file),
                               recs_dup(r->failure),
                               r->status,
                               r->collection_error,
                               r->duration,
                               r->start,
                               r->end};
}

static inline void recs_free(recs_t *rs)
{
    for (size_t i = 0; i < rs->len; i++) {
        rec_t *r = &rs->v[i];
        free(r->node_id);
        free(r->scope);
        free(r->name);
        free(r->file);
        free(r->failure);
    }
    free(rs->v);
    memset(rs, 0, sizeof *rs);
}

/* Adds one test's record to r as a parser hands it out: node id from scope
 * and name, file the scope (the name for a bare module node), no duration. */
static inline void recs_feed(results_model_t *r, const char *scope, const char *name,
                             test_status_t status, const char *failure, bool collection_error)
{
    char *id = recs_node_id(scope, name);
    test_record_t rec = {.scope = scope,
                         .name = name,
                         .node_id = id,
                         .file = *scope ? scope : name,
                         .status = status,
                         .failure = failure,
                         .collection_error = collection_error,
                         .duration = -1};
    results_model_add(r, &rec);
    free(id);
}

static inline const rec_t *recs_find(const recs_t *rs, const char *node_id)
{
    for (size_t i = 0; i < rs->len; i++)
        if (strcmp(rs->v[i].node_id, node_id) == 0) return &rs->v[i];
    return NULL;
}

/* Elements of a collector JSON file's top-level array. */
static inline size_t fixture_json_elements(const char *path)
{
    char *text = fs_read_file(path, NULL);
    assert_non_null(text);
    cJSON *root = cJSON_Parse(text);
    assert_true(cJSON_IsArray(root));
    size_t n = (size_t)cJSON_GetArraySize(root);
    cJSON_Delete(root);
    free(text);
    return n;
}

/* <testcase elements in a JUnit file, by plain search. */
static inline size_t fixture_xml_testcases(const char *path)
{
    char *text = fs_read_file(path, NULL);
    assert_non_null(text);
    size_t n = 0;
    for (const char *s = strstr(text, "<testcase"); s; s = strstr(s + 1, "<testcase")) n++;
    free(text);
    return n;
}

#endif
