#include "results/results_json.h"
#include "base/jsontext.h"
#include "base/text.h"
#include "base/buf.h"
#include "base/jsoncut.h"
#include "base/warncap.h"
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Read size: big enough that a read costs nothing next to the parse, small
 * next to the records (the buffer is the reader's whole memory). */
#define CHUNK_DEFAULT ((size_t)256 << 10)

static size_t chunk_size = CHUNK_DEFAULT;

void results_json_set_chunk_size(size_t bytes)
{
    chunk_size = bytes ? bytes : CHUNK_DEFAULT;
}

static size_t max_record = RESULTS_JSON_MAX_RECORD;

void results_json_set_max_record(size_t bytes)
{
    max_record = bytes ? bytes : RESULTS_JSON_MAX_RECORD;
}

/* The file as chunks: buf holds what is still needed of it from pos on. */
typedef struct {
    FILE *f;
    const char *path;
    buf_t buf;
    size_t pos;
    size_t dropped; /* bytes of the file moved out of buf, for error offsets */
    bool eof;
    bool read_error;
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
        rd->dropped += *keep;
        *keep = 0;
    }
    buf_reserve(&rd->buf, chunk_size);
    size_t got = fread(rd->buf.data + rd->buf.len, 1, chunk_size, rd->f);
    rd->buf.len += got;
    rd->buf.data[rd->buf.len] = '\0';
    if (got == 0) {
        rd->eof = true;
        rd->read_error = ferror(rd->f) != 0;
    }
    return got > 0;
}

static bool next_token(reader_t *rd)
{
    size_t keep = rd->pos;
    for (;;) {
        while (rd->pos < rd->buf.len && jsoncut_is_space(rd->buf.data[rd->pos])) rd->pos++;
        if (rd->pos < rd->buf.len) return true;
        keep = rd->pos;
        if (!read_more(rd, &keep)) return false;
    }
}

/* "'}'" or "byte 0x01": the offending byte, printable in a one-line message. */
static void describe_byte(char c, char *out, size_t n)
{
    if (c > 0x20 && c < 0x7f)
        snprintf(out, n, "'%c'", c);
    else
        snprintf(out, n, "byte 0x%02x", (unsigned char)c);
}

static void fail_unexpected_byte(reader_t *rd, results_json_scan_t *out, const char *expected)
{
    char what[16];
    describe_byte(rd->buf.data[rd->pos], what, sizeof what);
    err_set(&out->error,
            "%s: unexpected %s at byte %zu, expected %s; the file is not valid collector JSON",
            rd->path, what, rd->dropped + rd->pos, expected);
}

/* Cuts out the element at rd->pos. false when it cannot: with out->error set,
 * or (the file ended inside the element) without. */
static bool take_element(reader_t *rd, results_json_scan_t *out, size_t *start, size_t *len)
{
    *start = rd->pos;
    jsoncut_scan_t st = {0};
    for (;;) {
        jsoncut_state_t vs = jsoncut_scan(rd->buf.data + *start, rd->buf.len - *start, &st);
        if (vs == JSONCUT_DONE) break;
        if (vs == JSONCUT_BAD) {
            fail_unexpected_byte(rd, out, "a test record");
            return false;
        }
        if (st.at > max_record) {
            return err_set(&out->error,
                           "%s: record %zu at byte %zu is larger than %zu KiB; a test record is "
                           "never that big (is the file corrupt?)",
                           rd->path, out->elements + 1, rd->dropped + *start, max_record >> 10);
        }
        if (!read_more(rd, start)) {
            /* a bare scalar may end exactly at the end of the file */
            if (jsoncut_scalar_ended(&st)) break;
            return false; /* the file ended inside an element */
        }
    }
    *len = st.at;
    return true;
}

/* Strict element grammar: value (',' value)* ']' . Every turn of this loop
 * consumes at least one byte or stops, so no input can make it spin. true
 * when the closing ']' was read; false with out->error set, or without when
 * the file ended first. */
static bool scan_elements(reader_t *rd, results_json_element_fn fn, void *user,
                          results_json_scan_t *out)
{
    bool want_value = true;
    bool first = true;
    while (next_token(rd)) {
        char c = rd->buf.data[rd->pos];
        if (c == ']' && (!want_value || first)) {
            rd->pos++;
            return true;
        }
        if (!want_value) {
            if (c != ',') {
                fail_unexpected_byte(rd, out, "',' or ']' after a record");
                return false;
            }
            rd->pos++;
            want_value = true;
            continue;
        }
        size_t start = 0;
        size_t len = 0;
        if (!take_element(rd, out, &start, &len)) return false;
        if (rd->buf.data[start] != '{') out->bad++;
        out->elements++;
        out->at = rd->dropped + start;
        if (fn) fn(rd->buf.data + start, len, user);
        rd->pos = start + len;
        want_value = false;
        first = false;
    }
    return false;
}

/* Skips a UTF-8 byte order mark and finds the array's '['. */
static bool open_array(reader_t *rd)
{
    if (next_token(rd) && rd->buf.len - rd->pos >= 3 &&
        memcmp(rd->buf.data + rd->pos, "\xEF\xBB\xBF", 3) == 0)
        rd->pos += 3;
    if (!next_token(rd) || rd->buf.data[rd->pos] != '[') return false;
    rd->pos++;
    return true;
}

void results_json_scan_file(const char *path, results_json_element_fn fn, void *user,
                            results_json_scan_t *out)
{
    memset(out, 0, sizeof *out);
    reader_t rd = {.f = fopen(path, "rb"), .path = path};
    if (!rd.f) {
        err_set(&out->error, "cannot open %s: %s", path, strerror(errno));
        return;
    }
    buf_init(&rd.buf);
    if (!open_array(&rd)) {
        err_set(&out->error, "%s is not a JSON array of test results", path);
    } else if (!scan_elements(&rd, fn, user, out)) {
        if (!out->error)
            err_set(&out->error, "%s %s", path,
                    rd.read_error ? "could not be read to its end (I/O error)"
                                  : "ends before its JSON array is closed (truncated?)");
    } else if (next_token(&rd)) {
        err_set(&out->error, "%s has data after its JSON array", path);
    }
    fclose(rd.f);
    buf_free(&rd.buf);
}

bool results_json_is_collection_error(const cJSON *tags)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(tags, "test.pytest_collection_error");
    if (cJSON_IsString(v)) return strcasecmp(v->valuestring, "true") == 0;
    return cJSON_IsTrue(v);
}

#define NO_TEXT SIZE_MAX

/* The fields of one record we use. Their text goes into one scratch buffer,
 * reused from record to record (no allocation per field on the hot path);
 * fields hold offsets into it, NO_TEXT when absent. */
typedef struct {
    buf_t *scratch;
    size_t scope, name, result, file_name, failure_reason;
    bool collection_error;
    double duration;     /* history.duration, -1 when absent or not a usable number */
    const char *problem; /* why the record is not usable, or NULL */
} fields_t;

/* Appends at most `keep` bytes of s (and a note when it cut) and a NUL. */
static size_t scratch_put_text(buf_t *b, const char *s, size_t len, size_t keep)
{
    size_t off = b->len;
    if (len <= keep) {
        buf_append(b, s, len);
    } else {
        buf_append(b, s, text_utf8_prefix_len(s, len, keep));
        text_put_cut_note(b, len);
    }
    buf_putc(b, '\0');
    return off;
}

/* Decodes a JSON string value into the scratch buffer, byte for byte (see
 * jsontext_decode: a file name's undecodable bytes come back as themselves);
 * plain strings are copied. Keeps at most `keep` bytes of the text (and says
 * it cut). *nul is set when the text held \u0000 (then made U+FFFD). */
static size_t string_value(buf_t *b, const char *v, size_t len, size_t keep, bool *nul)
{
    if (len < 2 || v[0] != '"') return NO_TEXT;
    if (!memchr(v, '\\', len)) return scratch_put_text(b, v + 1, len - 2, keep);
    buf_t text = BUF_INIT;
    jsontext_decoded_t d = jsontext_decode(v, len, &text);
    size_t off = d == JSONTEXT_BAD ? NO_TEXT : scratch_put_text(b, text.data, text.len - 1, keep);
    if (d == JSONTEXT_NUL) *nul = true;
    buf_free(&text);
    return off;
}

/* A JSON number of seconds that can be a duration: finite, not negative. */
static double seconds_value(const char *v, size_t len)
{
    char text[64];
    if (len == 0 || len >= sizeof text || !(v[0] == '-' || (v[0] >= '0' && v[0] <= '9'))) return -1;
    memcpy(text, v, len);
    text[len] = '\0';
    char *end = NULL;
    double d = strtod(text, &end);
    if (end != text + len || !isfinite(d) || d < 0) return -1;
    return d;
}

static bool member_key_is(const char *k, size_t klen, const char *want)
{
    return klen == strlen(want) && strncasecmp(k, want, klen) == 0; /* any case, like bktec */
}

typedef struct {
    const char *key;
    const char *v;
    size_t vlen;
} find_t;

static void find_member(const char *k, size_t klen, const char *v, size_t vlen, void *user)
{
    find_t *f = user;
    if (f->v || !member_key_is(k, klen, f->key)) return;
    f->v = v;
    f->vlen = vlen;
}

bool results_json_member(const char *raw, size_t len, const char *key, const char **value,
                         size_t *value_len)
{
    find_t f = {.key = key};
    if (!jsoncut_each_member(raw, len, find_member, &f) || !f.v) return false;
    *value = f.v;
    *value_len = f.vlen;
    return true;
}

/* history: {"section", "children", "start_at", "end_at", "duration"}: only
 * the duration is read; the spans in children are skipped unread. */
static void history_member(const char *k, size_t klen, const char *v, size_t vlen, void *user)
{
    if (member_key_is(k, klen, "duration")) *(double *)user = seconds_value(v, vlen);
}

static void take_field(const char *k, size_t klen, const char *v, size_t vlen, void *user)
{
    fields_t *f = user;
    if (member_key_is(k, klen, "failure_reason")) {
        bool nul = false; /* a failure text may show U+FFFD for it */
        if (f->failure_reason == NO_TEXT)
            f->failure_reason = string_value(f->scratch, v, vlen, TEXT_KEEP, &nul);
        return;
    }
    size_t *slot = member_key_is(k, klen, "scope")       ? &f->scope
                   : member_key_is(k, klen, "name")      ? &f->name
                   : member_key_is(k, klen, "result")    ? &f->result
                   : member_key_is(k, klen, "file_name") ? &f->file_name
                                                         : NULL;
    if (slot) {
        /* Identity fields are never cut (a cut name is another test): one too
         * long for pytest's argv makes the record unusable instead. */
        bool nul = false;
        if (vlen > RESULTS_JSON_MAX_ID + 2)
            f->problem = "a scope, name, result or file_name is longer than 64 KiB";
        else if (*slot == NO_TEXT)
            *slot = string_value(f->scratch, v, vlen, RESULTS_JSON_MAX_ID, &nul);
        if (nul)
            f->problem = "a scope, name, result or file_name holds a NUL byte (\\u0000), which "
                         "pytest cannot take as an argument";
        return;
    }
    if (member_key_is(k, klen, "tags") && vlen && v[0] == '{') {
        /* Decoded only when the tag can be there: most tags objects are {} or
         * the user's own execution tags. */
        if (!memmem(v, vlen, "pytest_collection_error", strlen("pytest_collection_error"))) return;
        cJSON *tags = cJSON_ParseWithLength(v, vlen);
        f->collection_error = f->collection_error || results_json_is_collection_error(tags);
        cJSON_Delete(tags);
        return;
    }
    if (member_key_is(k, klen, "history") && vlen && v[0] == '{')
        jsoncut_each_member(v, vlen, history_member, &f->duration);
}

/* Walks the record's top-level keys; values we do not use are skipped unread. */
static void record_fields(const char *p, size_t len, fields_t *f)
{
    f->scope = f->name = f->result = f->file_name = f->failure_reason = NO_TEXT;
    f->duration = -1;
    if (len == 0 || *p != '{')
        f->problem = "not a JSON object";
    else if (!jsoncut_each_member(p, len, take_field, f))
        f->problem = "not a well-formed JSON object";
}

typedef struct {
    record_fn fn;
    void *user;
    warncap_t warnings; /* bad records named, then counted */
    buf_t scratch;      /* the current record's decoded text */
    const char *path;
    size_t index;
    const results_json_scan_t *scan; /* where the element is in the file */
} read_ctx_t;

static void warn_skipped_record(read_ctx_t *ctx, const char *raw, size_t len, const char *why)
{
    if (!warncap_next(&ctx->warnings)) return;
    char *shown = text_excerpt(raw, len, 60); /* the start of the record, on one line */
    warncap_say(&ctx->warnings, "%s: result record %zu is not a test record (%s); skipped (%s)",
                ctx->path, ctx->index, shown, why);
    free(shown);
}

static const char *scratch_text(const buf_t *b, size_t off)
{
    return off == NO_TEXT ? NULL : b->data + off;
}

static void decode_record(const char *raw, size_t len, void *user)
{
    read_ctx_t *ctx = user;
    ctx->index++;
    buf_reset(&ctx->scratch);
    fields_t f = {.scratch = &ctx->scratch};
    record_fields(raw, len, &f);
    const char *name = scratch_text(&ctx->scratch, f.name);
    if (!f.problem && (!name || !*name)) f.problem = "no name";
    test_record_t rec = {.raw = raw,
                         .raw_len = len,
                         .start = ctx->scan->at,
                         .end = ctx->scan->at + len,
                         .duration = -1,
                         .problem = f.problem};
    if (f.problem) {
        warn_skipped_record(ctx, raw, len, f.problem);
        ctx->fn(&rec, ctx->user);
        return;
    }
    /* The node id goes into the scratch buffer too: pointers are taken after
     * the last append (an append may move the buffer). */
    size_t scope_len = f.scope == NO_TEXT ? 0 : strlen(ctx->scratch.data + f.scope);
    size_t name_len = strlen(name);
    buf_reserve(&ctx->scratch,
                scope_len + 2 + name_len + 1); /* copies from itself: no move below */
    size_t id = ctx->scratch.len;
    if (scope_len) {
        buf_append(&ctx->scratch, ctx->scratch.data + f.scope, scope_len);
        buf_append(&ctx->scratch, "::", 2);
    }
    buf_append(&ctx->scratch, ctx->scratch.data + f.name, name_len);
    buf_putc(&ctx->scratch, '\0');
    const buf_t *b = &ctx->scratch;
    rec.scope = f.scope == NO_TEXT ? "" : scratch_text(b, f.scope);
    rec.name = scratch_text(b, f.name);
    rec.node_id = scratch_text(b, id);
    rec.file = scratch_text(b, f.file_name);
    rec.status = results_model_status_parse(scratch_text(b, f.result));
    rec.failure = scratch_text(b, f.failure_reason);
    rec.collection_error = f.collection_error;
    rec.duration = f.duration;
    ctx->fn(&rec, ctx->user);
}

void results_json_read_records(const char *path, record_fn fn, void *user, warn_fn warn,
                               void *warn_user, results_json_scan_t *out)
{
    read_ctx_t ctx = {.fn = fn, .user = user, .path = path, .scan = out};
    ctx.warnings = (warncap_t){.fn = warn, .user = warn_user, .max = RESULTS_JSON_MAX_WARNINGS};
    results_json_scan_file(path, decode_record, &ctx, out);
    buf_free(&ctx.scratch);
    if (ctx.warnings.more)
        warncap_say(&ctx.warnings,
                    "%s: %zu more result records are not test records; skipped (%zu warnings "
                    "shown)",
                    path, ctx.warnings.more, ctx.warnings.shown);
}
