#include "collector_json.h"
#include "buf.h"
#include "log.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static size_t chunk_size = 1 << 20;

void cj_set_chunk_size(size_t bytes)
{
    chunk_size = bytes ? bytes : 1 << 20;
}

static bool is_space(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* s points at an opening quote; returns the byte after the closing quote, or
 * NULL when the string does not end before `end`. memchr does the walking. */
static const char *skip_string(const char *s, const char *end)
{
    const char *p = s + 1;
    for (;;) {
        const char *q = p < end ? memchr(p, '"', (size_t)(end - p)) : NULL;
        if (!q) return NULL;
        size_t slashes = 0;
        for (const char *b = q; b > s + 1 && b[-1] == '\\'; b--) slashes++;
        if (slashes % 2 == 0) return q + 1;
        p = q + 1;
    }
}

/* End of the JSON value starting at p, or NULL when it is not complete yet. */
static const char *value_end(const char *p, const char *end)
{
    if (p >= end) return NULL;
    if (*p == '"') return skip_string(p, end);
    if (*p != '{' && *p != '[') {
        while (p < end && *p != ',' && *p != ']' && *p != '}' && !is_space(*p)) p++;
        return p < end ? p : NULL;
    }
    int depth = 0;
    while (p < end) {
        char c = *p;
        if (c == '"') {
            p = skip_string(p, end);
            if (!p) return NULL;
            continue;
        }
        if (c == '{' || c == '[') depth++;
        else if ((c == '}' || c == ']') && --depth == 0) return p + 1;
        p++;
    }
    return NULL;
}

typedef struct {
    FILE *f;
    buf_t buf;
    size_t pos;
    bool eof;
} reader_t;

/* Reads one more chunk; bytes before *keep are dropped (moved out once per read). */
static bool read_more(reader_t *rd, size_t *keep)
{
    if (rd->eof) return false;
    if (*keep > 0) {
        size_t n = rd->buf.len - *keep;
        memmove(rd->buf.data, rd->buf.data + *keep, n);
        rd->buf.len = n;
        rd->pos -= *keep;
        *keep = 0;
    }
    buf_reserve(&rd->buf, chunk_size);
    size_t got = fread(rd->buf.data + rd->buf.len, 1, chunk_size, rd->f);
    rd->buf.len += got;
    rd->buf.data[rd->buf.len] = '\0';
    if (got == 0) rd->eof = true;
    return got > 0;
}

static bool next_token(reader_t *rd)
{
    size_t keep = rd->pos;
    for (;;) {
        while (rd->pos < rd->buf.len && is_space(rd->buf.data[rd->pos])) rd->pos++;
        if (rd->pos < rd->buf.len) return true;
        keep = rd->pos;
        if (!read_more(rd, &keep)) return false;
    }
}

void cj_scan_file(const char *path, cj_element_fn fn, void *user, cj_scan_t *out)
{
    memset(out, 0, sizeof *out);
    reader_t rd = {.f = fopen(path, "rb")};
    if (!rd.f) {
        snprintf(out->error, sizeof out->error, "cannot open %s: %s", path, strerror(errno));
        return;
    }
    buf_init(&rd.buf);
    if (next_token(&rd) && rd.buf.len - rd.pos >= 3 && memcmp(rd.buf.data + rd.pos, "\xEF\xBB\xBF", 3) == 0) rd.pos += 3;
    if (!next_token(&rd) || rd.buf.data[rd.pos] != '[') {
        snprintf(out->error, sizeof out->error, "%s is not a JSON array of test results", path);
        goto done;
    }
    rd.pos++;
    while (next_token(&rd)) {
        char c = rd.buf.data[rd.pos];
        if (c == ']') {
            rd.pos++;
            out->ok = true;
            break;
        }
        if (c == ',') {
            rd.pos++;
            continue;
        }
        size_t start = rd.pos;
        const char *e;
        while (!(e = value_end(rd.buf.data + start, rd.buf.data + rd.buf.len)))
            if (!read_more(&rd, &start)) break;
        if (!e) break; /* the file ended inside an element */
        size_t len = (size_t)(e - (rd.buf.data + start));
        if (rd.buf.data[start] != '{') out->bad++;
        out->elements++;
        if (fn) fn(rd.buf.data + start, len, user);
        rd.pos = start + len;
    }
    if (!out->ok && !out->error[0])
        snprintf(out->error, sizeof out->error, "%s ends before its JSON array is closed (truncated?)", path);
    if (out->ok && next_token(&rd)) {
        out->ok = false;
        snprintf(out->error, sizeof out->error, "%s has data after its JSON array", path);
    }
done:
    fclose(rd.f);
    buf_free(&rd.buf);
}

bool cj_is_collection_error(const cJSON *tags)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(tags, "test.pytest_collection_error");
    if (cJSON_IsString(v)) return strcasecmp(v->valuestring, "true") == 0;
    return cJSON_IsTrue(v);
}

/* The fields of one record we use; strings are owned, NULL when absent. */
typedef struct {
    char *scope, *name, *result, *file_name, *failure_reason;
    bool collection_error;
    bool broken;
} fields_t;

/* Decodes a JSON string value; plain strings skip cJSON entirely. */
static char *string_value(const char *v, size_t len)
{
    if (len < 2 || v[0] != '"') return NULL;
    if (!memchr(v, '\\', len)) return xstrndup(v + 1, len - 2);
    cJSON *s = cJSON_ParseWithLength(v, len);
    char *out = cJSON_IsString(s) ? xstrdup(s->valuestring) : NULL;
    cJSON_Delete(s);
    return out;
}

static bool key_is(const char *k, size_t klen, const char *want)
{
    return klen == strlen(want) && strncasecmp(k, want, klen) == 0; /* any case, like bktec */
}

static void take_field(fields_t *f, const char *k, size_t klen, const char *v, size_t vlen)
{
    char **slot = key_is(k, klen, "scope") ? &f->scope
                  : key_is(k, klen, "name") ? &f->name
                  : key_is(k, klen, "result") ? &f->result
                  : key_is(k, klen, "file_name") ? &f->file_name
                  : key_is(k, klen, "failure_reason") ? &f->failure_reason : NULL;
    if (slot) {
        if (!*slot) *slot = string_value(v, vlen);
        return;
    }
    if (key_is(k, klen, "tags") && v[0] == '{') {
        cJSON *tags = cJSON_ParseWithLength(v, vlen);
        f->collection_error = f->collection_error || cj_is_collection_error(tags);
        cJSON_Delete(tags);
    }
}

/* Walks the record's top-level keys; values we do not use are skipped unread. */
static void record_fields(const char *p, size_t len, fields_t *f)
{
    const char *end = p + len;
    if (p >= end || *p != '{') {
        f->broken = true;
        return;
    }
    p++;
    for (;;) {
        while (p < end && (is_space(*p) || *p == ',')) p++;
        if (p >= end || *p == '}') return;
        const char *kend = *p == '"' ? skip_string(p, end) : NULL;
        if (!kend) break;
        const char *k = p + 1;
        size_t klen = (size_t)(kend - p - 2);
        p = kend;
        while (p < end && is_space(*p)) p++;
        if (p >= end || *p != ':') break;
        p++;
        while (p < end && is_space(*p)) p++;
        const char *vend = value_end(p, end);
        if (!vend) break;
        take_field(f, k, klen, p, (size_t)(vend - p));
        p = vend;
    }
    f->broken = true;
}

typedef struct {
    run_result_t *r;
    size_t index;
} read_ctx_t;

static void on_record(const char *raw, size_t len, void *user)
{
    read_ctx_t *ctx = user;
    ctx->index++;
    fields_t f = {0};
    record_fields(raw, len, &f);
    if (f.broken || !f.name || !*f.name) {
        ctx->r->skipped_records++;
        int shown = len > 60 ? 60 : (int)len;
        log_warn("result record %zu is not a test record (%.*s%s); skipped", ctx->index, shown, raw, len > 60 ? "..." : "");
    } else {
        result_record(ctx->r, f.scope ? f.scope : "", f.name, NULL, f.file_name, result_status_parse(f.result),
                      f.failure_reason, f.collection_error);
    }
    free(f.scope), free(f.name), free(f.result), free(f.file_name), free(f.failure_reason);
}

void cj_read_results(const char *path, run_result_t *r, cj_scan_t *out)
{
    read_ctx_t ctx = {.r = r};
    cj_scan_file(path, on_record, &ctx, out);
}
