#include "model/durations_lex.h"
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A JSON number longer than this is not a duration anyone wrote. */
#define MAX_NUMBER_CHARS 64

void durations_lex_advance(durations_lex_t *x)
{
    if (x->c == '\n') x->line++;
    if (++x->bytes > DURATIONS_LEX_MAX_BYTES) {
        char what[128];
        snprintf(what, sizeof what,
                 "the file is larger than %lu MiB; a durations file is far smaller: not read on",
                 DURATIONS_LEX_MAX_BYTES >> 20);
        durations_lex_fail(x, what);
        x->c = EOF;
        return;
    }
    x->c = getc_unlocked(x->f);
}

void durations_lex_skip_ws(durations_lex_t *x)
{
    while (x->c == ' ' || x->c == '\t' || x->c == '\n' || x->c == '\r') durations_lex_advance(x);
}

/* The first problem wins; later ones are consequences. */
bool durations_lex_fail(durations_lex_t *x, const char *what)
{
    if (!x->err) x->err = xasprintf("%s '%s' line %zu: %s", x->label, x->path, x->line, what);
    return false;
}

bool durations_lex_at_number(const durations_lex_t *x)
{
    return x->c == '-' || isdigit(x->c) || x->c == 'N' || x->c == 'I';
}

void durations_lex_free(durations_lex_t *x)
{
    buf_free(&x->token);
    buf_free(&x->skipped);
    buf_free(&x->stack);
    free(x->err);
    x->err = NULL;
}

/* ---- strings ---- */

static void put_utf8(buf_t *b, uint32_t cp)
{
    if (cp < 0x80) {
        buf_putc(b, (char)cp);
    } else if (cp < 0x800) {
        buf_putc(b, (char)(0xC0 | cp >> 6));
        buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else if (cp < 0x10000) {
        buf_putc(b, (char)(0xE0 | cp >> 12));
        buf_putc(b, (char)(0x80 | (cp >> 6 & 0x3F)));
        buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    } else {
        buf_putc(b, (char)(0xF0 | cp >> 18));
        buf_putc(b, (char)(0x80 | (cp >> 12 & 0x3F)));
        buf_putc(b, (char)(0x80 | (cp >> 6 & 0x3F)));
        buf_putc(b, (char)(0x80 | (cp & 0x3F)));
    }
}

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Four hex digits from the cursor on; leaves the cursor after them. */
static bool read_hex4(durations_lex_t *x, uint32_t *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(x->c);
        if (d < 0) return durations_lex_fail(x, "a \\u escape needs four hex digits");
        *v = *v << 4 | (uint32_t)d;
        durations_lex_advance(x);
    }
    return true;
}

/* UTF-16 code units from \u escapes become UTF-8; a surrogate that is not
 * half of a pair marks the string unusable. */
typedef struct {
    buf_t *out;
    uint32_t high; /* a high surrogate waiting for its low half, or 0 */
    bool unpaired;
} utf16_t;

static void utf16_flush_high(utf16_t *u)
{
    if (u->high) u->unpaired = true;
    u->high = 0;
}

static void utf16_code_unit(utf16_t *u, uint32_t cu)
{
    bool is_high = cu >= 0xD800 && cu <= 0xDBFF;
    bool is_low = cu >= 0xDC00 && cu <= 0xDFFF;
    if (u->high && is_low) {
        put_utf8(u->out, 0x10000 + ((u->high - 0xD800) << 10) + (cu - 0xDC00));
        u->high = 0;
        return;
    }
    utf16_flush_high(u);
    if (is_high)
        u->high = cu;
    else if (is_low)
        u->unpaired = true;
    else
        put_utf8(u->out, cu);
}

/* The escape after a backslash at the cursor, into u. */
static bool read_escape(durations_lex_t *x, utf16_t *u)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    if (x->c == 'u') {
        uint32_t cu;
        durations_lex_advance(x);
        if (!read_hex4(x, &cu)) return false;
        utf16_code_unit(u, cu);
        return true;
    }
    const char *hit = x->c > 0 ? strchr(from, x->c) : NULL;
    if (!hit) return durations_lex_fail(x, "a bad escape in a string");
    utf16_flush_high(u);
    buf_putc(u->out, to[hit - from]);
    durations_lex_advance(x);
    return true;
}

bool durations_lex_string(durations_lex_t *x, buf_t *out, bool *unpaired)
{
    buf_reset(out);
    utf16_t u = {.out = out};
    durations_lex_advance(x);
    while (x->c != '"') {
        int c = x->c;
        if (c == EOF) return durations_lex_fail(x, "a string never ends");
        if (c < 0x20)
            return durations_lex_fail(
                x, "a control character inside a string (JSON needs it escaped)");
        durations_lex_advance(x);
        if (c == '\\') {
            if (!read_escape(x, &u)) return false;
            continue;
        }
        utf16_flush_high(&u);
        buf_putc(out, (char)c);
        if (out->len > DURATIONS_LEX_MAX_TEXT)
            return durations_lex_fail(x, "a string longer than 64 KiB; no test has such a name");
    }
    utf16_flush_high(&u);
    durations_lex_advance(x);
    *unpaired = u.unpaired;
    return true;
}

/* ---- numbers and other values ---- */

/* Consumes `word` (NaN, Infinity, true, ...) at the cursor. */
static bool expect_word(durations_lex_t *x, const char *word)
{
    for (const char *w = word; *w; w++) {
        if (x->c != *w)
            return durations_lex_fail(x, "not JSON: an unknown word where a value should be");
        durations_lex_advance(x);
    }
    return true;
}

/* Appends the digits at the cursor to t; returns how many. */
static size_t take_digits(durations_lex_t *x, buf_t *t)
{
    size_t n = 0;
    while (isdigit(x->c)) {
        buf_putc(t, (char)x->c);
        durations_lex_advance(x);
        n++;
    }
    return n;
}

bool durations_lex_number(durations_lex_t *x, double *v)
{
    buf_t *t = &x->token;
    buf_reset(t);
    if (x->c == '-') {
        buf_putc(t, '-');
        durations_lex_advance(x);
    }
    if (x->c == 'I' || x->c == 'N') {
        bool inf = x->c == 'I';
        if (!expect_word(x, inf ? "Infinity" : "NaN")) return false;
        *v = inf ? (t->len ? -INFINITY : INFINITY) : NAN;
        return true;
    }
    /* JSON's grammar: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
    bool leading_zero = x->c == '0';
    size_t int_digits = take_digits(x, t);
    bool has_frac = x->c == '.';
    size_t frac_digits = 0;
    if (has_frac) {
        buf_putc(t, '.');
        durations_lex_advance(x);
        frac_digits = take_digits(x, t);
    }
    bool has_exp = x->c == 'e' || x->c == 'E';
    size_t exp_digits = 0;
    if (has_exp) {
        buf_putc(t, 'e');
        durations_lex_advance(x);
        if (x->c == '+' || x->c == '-') {
            buf_putc(t, (char)x->c);
            durations_lex_advance(x);
        }
        exp_digits = take_digits(x, t);
    }
    bool ok = int_digits > 0 && !(leading_zero && int_digits > 1) &&
              (frac_digits > 0 || !has_frac) && (!has_exp || exp_digits > 0);
    if (!ok) return durations_lex_fail(x, "not JSON: a malformed number");
    if (t->len > MAX_NUMBER_CHARS)
        return durations_lex_fail(x, "a number of seconds longer than 64 characters");
    /* ERANGE: overflow gives HUGE_VAL (refused as not finite); underflow
     * gives a tiny value, which is just zero seconds. */
    *v = strtod(t->data, NULL);
    return true;
}

/* One step of durations_lex_skip_value at a byte that is not a bracket or separator. */
static bool skip_scalar(durations_lex_t *x)
{
    int c = x->c;
    bool unpaired;
    if (c == '"') return durations_lex_string(x, &x->skipped, &unpaired);
    if (c == 't' || c == 'f' || c == 'n')
        return expect_word(x, c == 't' ? "true" : c == 'f' ? "false" : "null");
    if (durations_lex_at_number(x)) {
        double ignored;
        return durations_lex_number(x, &ignored);
    }
    return durations_lex_fail(x, c == EOF ? "the file ends inside a value"
                                          : "not JSON: an unexpected character");
}

bool durations_lex_skip_value(durations_lex_t *x)
{
    buf_t *stack = &x->stack; /* the closing brackets awaited, innermost last */
    buf_reset(stack);
    do {
        durations_lex_skip_ws(x);
        int c = x->c;
        if (c == '{' || c == '[') {
            buf_putc(stack, c == '{' ? '}' : ']');
            durations_lex_advance(x);
        } else if (c == '}' || c == ']') {
            if (!stack->len || stack->data[stack->len - 1] != c)
                return durations_lex_fail(x, "not JSON: brackets do not match");
            stack->data[--stack->len] = '\0';
            durations_lex_advance(x);
        } else if (c == ',' || c == ':') {
            if (!stack->len) return durations_lex_fail(x, "not JSON: a stray ',' or ':'");
            durations_lex_advance(x);
        } else if (!skip_scalar(x)) {
            return false;
        }
    } while (stack->len);
    return true;
}
