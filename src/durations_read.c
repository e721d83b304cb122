#include "durations_read.h"
#include "log.h"
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* A JSON number longer than this is not a duration anyone wrote. */
#define MAX_NUMBER_CHARS 64

typedef struct {
    FILE *f;
    const char *path;
    const dur_read_opts_t *o;
    dur_entries_t *out;
    int c;                /* the byte under the cursor, EOF at the end */
    size_t line;          /* of the cursor, from 1 */
    size_t shown, more;   /* bad entries named, and counted past the cap */
    buf_t key, token;     /* scratch: the member's key, a number */
    buf_t skipped, stack; /* scratch for a value that is skipped */
    char *err;            /* the first fatal problem */
} reader_t;

static void advance(reader_t *r)
{
    if (r->c == '\n') r->line++;
    r->c = getc_unlocked(r->f);
}

static void skip_ws(reader_t *r)
{
    while (r->c == ' ' || r->c == '\t' || r->c == '\n' || r->c == '\r') advance(r);
}

/* The first fatal problem wins; later ones are consequences. */
static bool fail(reader_t *r, const char *what)
{
    if (!r->err) r->err = xasprintf("%s '%s' line %zu: %s", r->o->label, r->path, r->line, what);
    return false;
}

static void add(reader_t *r, const char *key, size_t len, double seconds)
{
    dur_entries_t *e = r->out;
    if (e->len == e->cap) {
        e->cap = e->cap ? e->cap * 2 : 256;
        e->items = xrealloc(e->items, e->cap * sizeof *e->items);
    }
    e->items[e->len++] = (dur_entry_t){.key = e->arena.len, .seconds = seconds, .src = r->o->src};
    buf_append(&e->arena, key, len);
    buf_append(&e->arena, "", 1); /* keys are NUL-separated in the arena */
}

/* One line per bad entry up to the cap, then only counted. */
static void refuse(reader_t *r, const char *where, const char *what, const char *why)
{
    if (r->shown >= DURATIONS_MAX_WARNINGS) {
        r->more++;
        return;
    }
    r->shown++;
    if (r->o->strict)
        log_error("%s '%s' %s: %s %s", r->o->label, r->path, where, what, why);
    else
        log_warn("%s '%s' %s: %s %s; entry ignored", r->o->label, r->path, where, what, why);
}

/* NULL when seconds is a usable duration, else why not. NaN fails every
 * comparison, so the checks let only good values through. */
static const char *duration_problem(double seconds)
{
    if (!isfinite(seconds)) return "is not a finite number";
    if (!(seconds >= 0)) return "is negative";
    if (!(seconds <= DURATIONS_MAX_S)) return "is longer than a week, which no test file takes";
    return NULL;
}

static bool valid_utf8(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        unsigned char c = s[i];
        size_t len = c < 0x80             ? 1
                     : (c & 0xE0) == 0xC0 ? 2
                     : (c & 0xF0) == 0xE0 ? 3
                     : (c & 0xF8) == 0xF0 ? 4
                                          : 0;
        if (!len || i + len > n) return false;
        uint32_t cp = len == 1 ? c : len == 2 ? c & 0x1F : len == 3 ? c & 0x0F : c & 0x07;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80) return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        static const uint32_t least[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < least[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
        i += len;
    }
    return true;
}

/* Why a key cannot name a file or test, or NULL. */
static const char *key_problem(const reader_t *r, const char *key, size_t len)
{
    if (len == 0) return "is an empty path";
    if (strlen(key) != len) return "contains a NUL byte";
    if (strncmp(key, "::", 2) == 0) return "has no file part";
    if (r->o->strict && !valid_utf8((const unsigned char *)key, len)) return "is not valid UTF-8";
    return NULL;
}

/* ---- pytest-split JSON ---- */

static void put_utf8(buf_t *b, uint32_t cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80)
        u[0] = (char)cp, n = 1;
    else if (cp < 0x800)
        u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000)
        u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | (cp >> 6 & 0x3F)),
        u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    else
        u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | (cp >> 12 & 0x3F)),
        u[2] = (char)(0x80 | (cp >> 6 & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    buf_append(b, u, n);
}

/* Four hex digits from the cursor on; leaves the cursor after them. */
static bool hex4(reader_t *r, uint32_t *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++, advance(r)) {
        int c = r->c;
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0) return fail(r, "a \\u escape needs four hex digits");
        *v = *v << 4 | (uint32_t)d;
    }
    return true;
}

/* UTF-16 code units from \u escapes become UTF-8; a surrogate that is not
 * half of a pair marks the key unusable (it names no file on disk). */
typedef struct {
    buf_t *out;
    uint32_t high; /* a high surrogate waiting for its low half, or 0 */
    bool unpaired;
} utf16_t;

static void flush_high(utf16_t *u)
{
    if (u->high) u->unpaired = true;
    u->high = 0;
}

static void code_unit(utf16_t *u, uint32_t cu)
{
    bool is_high = cu >= 0xD800 && cu <= 0xDBFF, is_low = cu >= 0xDC00 && cu <= 0xDFFF;
    if (u->high && is_low) {
        put_utf8(u->out, 0x10000 + ((u->high - 0xD800) << 10) + (cu - 0xDC00));
        u->high = 0;
        return;
    }
    flush_high(u);
    if (is_high)
        u->high = cu;
    else if (is_low)
        u->unpaired = true;
    else
        put_utf8(u->out, cu);
}

/* Reads the string whose opening quote is under the cursor into out; leaves
 * the cursor after the closing quote. */
static bool read_string(reader_t *r, buf_t *out, bool *unpaired)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    buf_reset(out);
    utf16_t u = {.out = out};
    for (advance(r); r->c != '"';) {
        int c = r->c;
        if (c == EOF) return fail(r, "a string never ends");
        if (c < 0x20) return fail(r, "a control character inside a string (JSON needs it escaped)");
        if (c != '\\') {
            flush_high(&u);
            buf_putc(out, (char)c);
            advance(r);
            continue;
        }
        advance(r);
        const char *hit = r->c > 0 ? strchr(from, r->c) : NULL;
        if (r->c == 'u') {
            uint32_t cu;
            advance(r);
            if (!hex4(r, &cu)) return false;
            code_unit(&u, cu);
            continue;
        }
        if (!hit) return fail(r, "a bad escape in a string");
        flush_high(&u);
        buf_putc(out, to[hit - from]);
        advance(r);
    }
    flush_high(&u);
    advance(r);
    *unpaired = u.unpaired;
    return true;
}

/* Consumes `word` (NaN, Infinity, true, ...) at the cursor. */
static bool expect_word(reader_t *r, const char *word)
{
    for (const char *w = word; *w; w++, advance(r))
        if (r->c != *w) return fail(r, "not JSON: an unknown word where a value should be");
    return true;
}

/* A JSON number, or NaN / Infinity / -Infinity as Python's json writes them
 * (these parse, and are refused as entries, rather than failing the file). */
static bool read_number(reader_t *r, double *v)
{
    buf_t *t = &r->token;
    buf_reset(t);
    if (r->c == '-') {
        buf_putc(t, '-');
        advance(r);
    }
    if (r->c == 'I' || r->c == 'N') {
        bool inf = r->c == 'I';
        if (!expect_word(r, inf ? "Infinity" : "NaN")) return false;
        *v = inf ? (t->len ? -INFINITY : INFINITY) : NAN;
        return true;
    }
    /* JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
    size_t int_digits = 0, frac_digits = 0, exp_digits = 0;
    bool leading_zero = r->c == '0';
    for (; isdigit(r->c); advance(r), int_digits++) buf_putc(t, (char)r->c);
    if (r->c == '.') {
        buf_putc(t, '.');
        for (advance(r); isdigit(r->c); advance(r), frac_digits++) buf_putc(t, (char)r->c);
    }
    bool has_exp = r->c == 'e' || r->c == 'E';
    if (has_exp) {
        buf_putc(t, 'e');
        advance(r);
        if (r->c == '+' || r->c == '-') buf_putc(t, (char)r->c), advance(r);
        for (; isdigit(r->c); advance(r), exp_digits++) buf_putc(t, (char)r->c);
    }
    bool ok = int_digits > 0 && !(leading_zero && int_digits > 1) &&
              (frac_digits > 0 || !strchr(buf_str(t), '.')) && (!has_exp || exp_digits > 0);
    if (!ok) return fail(r, "not JSON: a malformed number");
    if (t->len > MAX_NUMBER_CHARS) return fail(r, "a number of seconds longer than 64 characters");
    /* ERANGE: overflow gives HUGE_VAL (refused as not finite); underflow
     * gives a tiny value, which is just zero seconds. */
    *v = strtod(t->data, NULL);
    return true;
}

/* Skips any JSON value that is not a number (string, object, array, true,
 * false, null), nested as deep as it goes, without recursion. */
static bool skip_value(reader_t *r)
{
    buf_t *stack = &r->stack; /* the closing brackets awaited, innermost last */
    buf_reset(stack);
    bool unpaired;
    do {
        skip_ws(r);
        int c = r->c;
        if (c == '"') {
            if (!read_string(r, &r->skipped, &unpaired)) return false;
        } else if (c == '{' || c == '[') {
            buf_putc(stack, c == '{' ? '}' : ']');
            advance(r);
            continue;
        } else if (c == '}' || c == ']') {
            if (!stack->len || stack->data[stack->len - 1] != c)
                return fail(r, "not JSON: brackets do not match");
            stack->data[--stack->len] = '\0';
            advance(r);
        } else if (c == ',' || c == ':') {
            if (!stack->len) return fail(r, "not JSON: a stray ',' or ':'");
            advance(r);
            continue;
        } else if (c == 't' || c == 'f' || c == 'n') {
            if (!expect_word(r, c == 't' ? "true" : c == 'f' ? "false" : "null")) return false;
        } else if (c == '-' || isdigit(c) || c == 'N' || c == 'I') {
            double ignored;
            if (!read_number(r, &ignored)) return false;
        } else {
            return fail(r, c == EOF ? "the file ends inside a value"
                                    : "not JSON: an unexpected character");
        }
    } while (stack->len);
    return true;
}

static void json_entry(reader_t *r, const char *key, size_t len, bool unpaired,
                       const char *value_problem, double v)
{
    /* Keys are shown cut short: the message stays one readable line. */
    char *where = xasprintf("key '%.80s%s'", key, len > 80 ? "..." : "");
    for (char *c = where; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
    const char *why = value_problem ? value_problem : duration_problem(v);
    const char *what = "value";
    if (!why) {
        what = "the key";
        why = unpaired ? "has an unpaired UTF-16 surrogate" : key_problem(r, key, len);
    }
    if (why)
        refuse(r, where, what, why);
    else
        add(r, key, len, v);
    free(where);
}

static bool read_member(reader_t *r)
{
    if (r->c != '"') return fail(r, "not a JSON object of path to seconds (expected a quoted key)");
    bool unpaired;
    if (!read_string(r, &r->key, &unpaired)) return false;
    skip_ws(r);
    if (r->c != ':') return fail(r, "not JSON: expected ':' after a key");
    advance(r);
    skip_ws(r);
    double v = 0;
    const char *value_problem = NULL;
    if (r->c == '-' || isdigit(r->c) || r->c == 'N' || r->c == 'I') {
        if (!read_number(r, &v)) return false;
    } else {
        if (!skip_value(r)) return false;
        value_problem = "is not a number of seconds";
    }
    json_entry(r, r->key.data ? r->key.data : "", r->key.len, unpaired, value_problem, v);
    return true;
}

static bool read_json(reader_t *r)
{
    advance(r); /* the '{' */
    skip_ws(r);
    if (r->c == '}') {
        advance(r);
    } else {
        for (;;) {
            if (!read_member(r)) return false;
            skip_ws(r);
            if (r->c == '}') {
                advance(r);
                break;
            }
            if (r->c != ',')
                return fail(r, r->c == EOF ? "the file ends before the JSON object closes"
                                           : "not JSON: expected ',' or '}' after a value");
            advance(r);
            skip_ws(r);
        }
    }
    skip_ws(r);
    if (r->c != EOF)
        return fail(
            r, "more text after the JSON object's closing '}' (to combine durations files, use "
               "`test-engine-pytest durations merge`)");
    return true;
}

/* ---- "<seconds> <path>" lines ---- */

/* The seconds field: plain decimal only, so strtod never sees "nan", "inf"
 * or hex floats. */
static bool plain_decimal(const char *s, size_t n)
{
    bool digit = false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c >= '0' && c <= '9')
            digit = true;
        else if (!strchr(".eE+-", c))
            return false;
    }
    return digit;
}

/* "nan", "-inf", "Infinity", "nan(0x1)": what strtod would turn into a
 * non-finite number. */
static bool names_non_finite(const char *s, size_t n)
{
    if (n && (*s == '+' || *s == '-')) s++, n--;
    return n >= 3 && (strncasecmp(s, "nan", 3) == 0 || strncasecmp(s, "inf", 3) == 0);
}

/* One trimmed, non-empty, non-comment line. */
static bool parse_line(reader_t *r, char *s, size_t lineno)
{
    size_t n = strcspn(s, " \t\v\f\r");
    char *rest = s + n;
    while (isspace((unsigned char)*rest)) rest++;
    char where[48];
    snprintf(where, sizeof where, "line %zu", lineno);
    if (*rest && names_non_finite(s, n)) {
        refuse(r, where, "seconds", "is not a finite number");
        return true;
    }
    char *end = NULL;
    double v = plain_decimal(s, n) ? strtod(s, &end) : 0;
    if (end != s + n || !*rest) {
        free(r->err);
        r->err = xasprintf("%s '%s' line %zu: expected '<seconds> <path>'", r->o->label, r->path,
                           lineno);
        return false;
    }
    const char *why = duration_problem(v);
    size_t len = strlen(rest);
    if (why)
        refuse(r, where, "seconds", why);
    else if ((why = key_problem(r, rest, len)))
        refuse(r, where, "the path", why);
    else
        add(r, rest, len, v);
    return true;
}

static bool read_lines(reader_t *r)
{
    char *line = NULL;
    size_t cap = 0;
    /* The first byte was read to tell the format: put it back. */
    if (r->c != EOF && ungetc(r->c, r->f) == EOF) return fail(r, "cannot read on");
    size_t lineno = r->line - 1;
    bool ok = true;
    ssize_t got;
    while (ok && (got = getline(&line, &cap, r->f)) >= 0) {
        lineno++;
        if (memchr(line, '\0', (size_t)got)) {
            r->line = lineno;
            ok = fail(r, "contains a NUL byte; a durations file is text");
            break;
        }
        char *s = line;
        while (isspace((unsigned char)*s)) s++;
        size_t n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1])) s[--n] = '\0';
        if (*s && *s != '#') ok = parse_line(r, s, lineno);
    }
    free(line);
    return ok;
}

/* ---- the file ---- */

bool dur_read_file(const char *path, const dur_read_opts_t *o, dur_entries_t *out, char **err)
{
    reader_t r = {.path = path, .o = o, .out = out, .line = 1};
    r.f = fopen(path, "r");
    if (!r.f) {
        *err = xasprintf("%s '%s': cannot read it (%s)", o->label, path, strerror(errno));
        return false;
    }
    advance(&r);
    if (r.c == 0xEF) { /* a UTF-8 byte order mark, as some editors write */
        advance(&r);
        if (r.c == 0xBB) advance(&r);
        if (r.c == 0xBF) advance(&r);
    }
    while (r.c != EOF && isspace(r.c)) advance(&r);
    bool ok = r.c == '{' ? read_json(&r) : read_lines(&r);
    if (ferror(r.f)) {
        free(r.err);
        r.err = xasprintf("%s '%s': cannot read it (%s)", o->label, path, strerror(errno));
        ok = false;
    }
    fclose(r.f);
    if (r.more && o->strict)
        log_error("%s '%s': %zu more bad entries (%zu shown)", o->label, path, r.more, r.shown);
    else if (r.more)
        log_warn("%s '%s': %zu more entries ignored (%zu shown)", o->label, path, r.more, r.shown);
    if (ok && o->strict && r.shown) {
        size_t bad = r.shown + r.more;
        r.err = xasprintf("%s '%s': %zu bad entr%s (named above); fix or remove %s", o->label, path,
                          bad, bad == 1 ? "y" : "ies", bad == 1 ? "it" : "them");
        ok = false;
    }
    if (!ok)
        *err = r.err ? r.err : xasprintf("%s '%s': cannot be read", o->label, path);
    else
        free(r.err);
    buf_free(&r.key);
    buf_free(&r.token);
    buf_free(&r.skipped);
    buf_free(&r.stack);
    return ok;
}

void dur_entries_free(dur_entries_t *e)
{
    buf_free(&e->arena);
    free(e->items);
    memset(e, 0, sizeof *e);
}
