#include "base/jsoncut.h"
#include <stdlib.h>
#include <string.h>

bool jsoncut_is_space(char c)
{
    return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

/* Bytes a bare JSON scalar (number, true, false, null) is made of. */
static bool is_scalar_char(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
           c == '+' || c == '.';
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

/* Inside a string from v[st->at]: finds its closing quote with memchr (most
 * of a record's bytes are string bytes), or consumes all of avail and
 * remembers whether the last byte was an escaping backslash. */
static bool string_end(const char *v, size_t avail, jsoncut_scan_t *st)
{
    if (st->escaped) { /* the byte after a lone '\' at the end of the last read */
        if (st->at >= avail) return false;
        st->at++;
        st->escaped = false;
    }
    for (;;) {
        const char *from = v + st->at;
        const char *q = st->at < avail ? memchr(from, '"', avail - st->at) : NULL;
        const char *stop = q ? q : v + avail;
        size_t slashes = 0; /* the run of backslashes just before stop, within this scan */
        for (const char *b = stop; b > from && b[-1] == '\\'; b--) slashes++;
        if (!q) {
            st->at = avail;
            st->escaped = slashes % 2 == 1;
            return false;
        }
        st->at = (size_t)(q - v) + 1;
        if (slashes % 2 == 0) return true; /* a quote no backslash escapes */
    }
}

/* JSONCUT_BAD matters: a byte that cannot start a value would otherwise be
 * a zero-length element that never advances the reader. */
jsoncut_state_t jsoncut_scan(const char *v, size_t avail, jsoncut_scan_t *st)
{
    if (st->at == 0) {
        if (avail == 0) return JSONCUT_MORE;
        char first = v[0];
        if (first == '"')
            st->in_string = true;
        else if (first == '{' || first == '[')
            st->depth = 1;
        else if (!is_scalar_char(first))
            return JSONCUT_BAD;
        st->at = 1;
    }
    if (st->depth == 0 && !st->in_string) { /* a scalar: runs to the next delimiter */
        while (st->at < avail && is_scalar_char(v[st->at])) st->at++;
        return st->at < avail ? JSONCUT_DONE : JSONCUT_MORE;
    }
    for (;;) {
        if (st->in_string) {
            if (!string_end(v, avail, st)) return JSONCUT_MORE;
            st->in_string = false;
            if (st->depth == 0) return JSONCUT_DONE; /* a top-level string */
        }
        if (st->at >= avail) return JSONCUT_MORE;
        char c = v[st->at++];
        if (c == '"')
            st->in_string = true;
        else if (c == '{' || c == '[')
            st->depth++;
        else if ((c == '}' || c == ']') && --st->depth == 0)
            return JSONCUT_DONE;
    }
}

bool jsoncut_scalar_ended(const jsoncut_scan_t *st)
{
    return !st->in_string && st->depth == 0 && st->at > 0;
}

const char *jsoncut_value_end(const char *p, const char *end)
{
    jsoncut_scan_t st = {0};
    jsoncut_state_t vs = jsoncut_scan(p, (size_t)(end - p), &st);
    /* A scalar that runs to the record's end is complete too. */
    if (vs == JSONCUT_MORE && jsoncut_scalar_ended(&st)) return end;
    return vs == JSONCUT_DONE ? p + st.at : NULL;
}

/* A JSON number, whole: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
bool jsoncut_is_number(const char *v, size_t len)
{
    size_t i = 0;
    if (i < len && v[i] == '-') i++;
    size_t digits = i;
    while (i < len && v[i] >= '0' && v[i] <= '9') i++;
    if (i == digits || (v[digits] == '0' && i - digits > 1)) return false;
    if (i < len && v[i] == '.') {
        size_t frac = ++i;
        while (i < len && v[i] >= '0' && v[i] <= '9') i++;
        if (i == frac) return false;
    }
    if (i < len && (v[i] == 'e' || v[i] == 'E')) {
        if (++i < len && (v[i] == '+' || v[i] == '-')) i++;
        size_t exp = i;
        while (i < len && v[i] >= '0' && v[i] <= '9') i++;
        if (i == exp) return false;
    }
    return i == len;
}

static bool is_word(const char *v, size_t len, const char *word)
{
    return len == strlen(word) && memcmp(v, word, len) == 0;
}

bool jsoncut_value_is(jsoncut_value_t v, const char *word)
{
    return v.v && is_word(v.v, v.len, word);
}

/* A value as the strict walk takes it: a string (its escapes are the
 * decoder's to check), a nested value (cut, not checked inside), a word or a
 * number. */
static bool strict_value(const char *v, size_t len)
{
    return len > 0 &&
           (v[0] == '"' || v[0] == '{' || v[0] == '[' || is_word(v, len, "true") ||
            is_word(v, len, "false") || is_word(v, len, "null") || jsoncut_is_number(v, len));
}

/* strict: JSON's grammar between members (one comma each, none after the
 * last, nothing after the brace) and in each value (strict_value); otherwise
 * commas are passed over like spaces and values are only cut. */
static bool each_member(const char *p, size_t len, jsoncut_member_fn fn, void *user, bool strict)
{
    const char *end = p + len;
    if (p >= end || *p != '{') return false;
    p++;
    for (size_t n = 0;; n++) {
        while (p < end && jsoncut_is_space(*p)) p++;
        if (strict && n > 0 && p < end && *p != '}') {
            if (*p != ',') return false;
            p++;
            while (p < end && jsoncut_is_space(*p)) p++;
            if (p < end && *p == '}') return false; /* a comma after the last */
        }
        while (!strict && p < end && (jsoncut_is_space(*p) || *p == ',')) p++;
        if (p >= end) return false; /* never closed */
        if (*p == '}' && !strict) return true;
        if (*p == '}') { /* and nothing after it but spaces */
            for (p++; p < end && jsoncut_is_space(*p);) p++;
            return p == end;
        }
        const char *kend = *p == '"' ? skip_string(p, end) : NULL;
        if (!kend) return false;
        const char *k = p + 1;
        size_t klen = (size_t)(kend - p - 2);
        p = kend;
        while (p < end && jsoncut_is_space(*p)) p++;
        if (p >= end || *p != ':') return false;
        p++;
        while (p < end && jsoncut_is_space(*p)) p++;
        const char *vend = jsoncut_value_end(p, end);
        if (!vend || (strict && !strict_value(p, (size_t)(vend - p)))) return false;
        fn(k, klen, p, (size_t)(vend - p), user);
        p = vend;
    }
}

bool jsoncut_each_member(const char *p, size_t len, jsoncut_member_fn fn, void *user)
{
    return each_member(p, len, fn, user, false);
}

bool jsoncut_each_member_strict(const char *p, size_t len, jsoncut_member_fn fn, void *user)
{
    return each_member(p, len, fn, user, true);
}

typedef struct {
    const char *const *names;
    size_t lens[JSONCUT_PICK_MAX];
    size_t n;
    jsoncut_value_t *out;
} pick_t;

static void pick_member(const char *k, size_t klen, const char *v, size_t vlen, void *user)
{
    pick_t *pk = user;
    for (size_t i = 0; i < pk->n; i++)
        if (!pk->out[i].v && klen == pk->lens[i] && memcmp(k, pk->names[i], klen) == 0) {
            pk->out[i] = (jsoncut_value_t){.v = v, .len = vlen};
            return;
        }
}

bool jsoncut_pick(const char *p, size_t len, const char *const *names, size_t n,
                  jsoncut_value_t *out, bool strict)
{
    if (n > JSONCUT_PICK_MAX) abort(); /* a caller's mistake, not input */
    pick_t pk = {.names = names, .n = n, .out = out};
    for (size_t i = 0; i < pk.n; i++) { /* once an object, not once a member */
        pk.lens[i] = strlen(names[i]);
        out[i] = (jsoncut_value_t){0};
    }
    return each_member(p, len, pick_member, &pk, strict);
}
