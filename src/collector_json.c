#include "collector_json.h"
#include "buf.h"
#include "log.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define CHUNK (1 << 20)

typedef struct {
    FILE *f;
    buf_t buf;
    size_t pos;    /* scan position in buf */
    bool eof;
} reader_t;

/* Makes sure buf has bytes at pos; keeps bytes from `keep` on. */
static bool fill(reader_t *rd, size_t *keep)
{
    if (rd->pos < rd->buf.len) return true;
    if (rd->eof) return false;
    /* Compact once per chunk, not once per record. */
    if (*keep > 0) {
        size_t n = rd->buf.len - *keep;
        memmove(rd->buf.data, rd->buf.data + *keep, n);
        rd->buf.len = n;
        rd->pos -= *keep;
        *keep = 0;
    }
    buf_reserve(&rd->buf, CHUNK);
    size_t got = fread(rd->buf.data + rd->buf.len, 1, CHUNK, rd->f);
    rd->buf.len += got;
    rd->buf.data[rd->buf.len] = '\0';
    if (got == 0) rd->eof = true;
    return got > 0;
}

static bool skip_space(reader_t *rd, size_t *keep)
{
    for (;;) {
        if (!fill(rd, keep)) return false;
        char c = rd->buf.data[rd->pos];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') return true;
        rd->pos++;
    }
}

/* Advances pos to the end of the element starting at pos. */
static bool scan_element(reader_t *rd, size_t *keep)
{
    int depth = 0;
    bool in_string = false, escaped = false; /* state survives chunk boundaries */
    for (;;) {
        if (!fill(rd, keep)) return false;
        const char *d = rd->buf.data;
        size_t n = rd->buf.len;
        for (; rd->pos < n; rd->pos++) {
            char c = d[rd->pos];
            if (in_string) {
                if (escaped) escaped = false;
                else if (c == '\\') escaped = true;
                else if (c == '"') in_string = false;
                continue;
            }
            if (c == '"') in_string = true;
            else if (c == '{' || c == '[') depth++;
            else if (c == '}' || c == ']') {
                if (depth == 0) return true;  /* the array's own ']' */
                if (--depth == 0) { rd->pos++; return true; }
            } else if (c == ',' && depth == 0) return true;
        }
    }
}

void cj_scan_file(const char *path, bool parse, cj_element_fn fn, void *user, cj_scan_t *out)
{
    memset(out, 0, sizeof *out);
    reader_t rd = {.f = fopen(path, "rb")};
    if (!rd.f) {
        snprintf(out->error, sizeof out->error, "cannot open %s: %s", path, strerror(errno));
        return;
    }
    buf_init(&rd.buf);
    size_t keep = 0;
    if (skip_space(&rd, &keep) && strncmp(rd.buf.data + rd.pos, "\xEF\xBB\xBF", 3) == 0) rd.pos += 3;
    if (!skip_space(&rd, &keep) || rd.buf.data[rd.pos] != '[') {
        snprintf(out->error, sizeof out->error, "%s is not a JSON array of test results", path);
        goto done;
    }
    rd.pos++;
    for (;;) {
        if (!skip_space(&rd, &keep)) break;
        char c = rd.buf.data[rd.pos];
        if (c == ']') { out->ok = true; break; }
        if (c == ',') { rd.pos++; continue; }
        keep = rd.pos;
        size_t start = rd.pos;
        if (!scan_element(&rd, &keep)) break;
        start = keep; /* fill() may have moved the element to the front */
        const char *raw = rd.buf.data + start;
        size_t len = rd.pos - start;
        while (len && (raw[len - 1] == ' ' || raw[len - 1] == '\n' || raw[len - 1] == '\r' || raw[len - 1] == '\t')) len--;
        cJSON *rec = NULL;
        if (parse && raw[0] == '{') rec = cJSON_ParseWithLength(raw, len);
        if ((parse && !cJSON_IsObject(rec)) || (!parse && raw[0] != '{')) out->bad++;
        out->elements++;
        if (fn) fn(raw, len, rec, user);
        cJSON_Delete(rec);
        keep = rd.pos;
    }
    if (!out->ok && !out->error[0])
        snprintf(out->error, sizeof out->error, "%s ends before its JSON array is closed (truncated?)", path);
    if (out->ok) {
        rd.pos++;
        if (skip_space(&rd, &keep)) {
            out->ok = false;
            snprintf(out->error, sizeof out->error, "%s has data after its JSON array", path);
        }
    }
done:
    fclose(rd.f);
    buf_free(&rd.buf);
}

static const char *str_item(const cJSON *rec, const char *key)
{
    const cJSON *v = cJSON_GetObjectItem(rec, key); /* case-insensitive, like bktec */
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool cj_is_collection_error(const cJSON *rec)
{
    const cJSON *tags = cJSON_GetObjectItem(rec, "tags");
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(tags, "test.pytest_collection_error");
    if (cJSON_IsString(v)) return strcasecmp(v->valuestring, "true") == 0;
    return cJSON_IsTrue(v);
}

typedef struct {
    run_result_t *r;
    size_t index;
} read_ctx_t;

static void on_record(const char *raw, size_t len, cJSON *rec, void *user)
{
    read_ctx_t *ctx = user;
    ctx->index++;
    const char *name = rec ? str_item(rec, "name") : NULL;
    if (!name || !*name) {
        ctx->r->skipped_records++;
        int shown = len > 60 ? 60 : (int)len;
        log_warn("result record %zu is not a test record (%.*s%s); skipped", ctx->index, shown, raw, len > 60 ? "..." : "");
        return;
    }
    const char *scope = str_item(rec, "scope");
    const char *file = str_item(rec, "file_name");
    test_status_t st = result_status_parse(str_item(rec, "result"));
    result_record(ctx->r, scope ? scope : "", name, NULL, file, st, str_item(rec, "failure_reason"),
                  cj_is_collection_error(rec));
}

void cj_read_results(const char *path, run_result_t *r, cj_scan_t *out)
{
    read_ctx_t ctx = {.r = r};
    cj_scan_file(path, true, on_record, &ctx, out);
}
