#include "base/jsoncut.h"
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

/* strict: JSON's grammar between members (one comma each, none after the
 * last); otherwise commas are passed over like spaces. */
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
        if (!vend) return false;
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
