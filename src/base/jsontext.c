#include "base/jsontext.h"

size_t jsontext_utf8_len(const char *text)
{
    const unsigned char *s = (const unsigned char *)text;
    unsigned char c = s[0];
    if (c < 0x80) return 1;
    size_t n = c >= 0xC2 && c <= 0xDF   ? 2
               : c >= 0xE0 && c <= 0xEF ? 3
               : c >= 0xF0 && c <= 0xF4 ? 4
                                        : 0;
    for (size_t i = 1; i < n; i++)
        if ((s[i] & 0xC0) != 0x80) return 0;
    /* overlong forms, surrogates and code points past U+10FFFF */
    if ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] > 0x9F) || (c == 0xF0 && s[1] < 0x90) ||
        (c == 0xF4 && s[1] > 0x8F))
        return 0;
    return n;
}

void jsontext_put_string(buf_t *b, const char *s, bool valid_utf8)
{
    buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        const unsigned char *run = p; /* bytes that need nothing: copied in one go */
        while (*p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') p++;
        if (p > run) buf_append(b, run, (size_t)(p - run));
        if (!*p) break;
        if (*p == '"' || *p == '\\') {
            buf_putc(b, '\\');
            buf_putc(b, (char)*p++);
        } else if (*p < 0x20) {
            buf_printf(b, "\\u%04x", *p++);
        } else if (!valid_utf8) {
            buf_putc(b, (char)*p++);
        } else {
            size_t n = jsontext_utf8_len((const char *)p);
            if (n == 0) {
                buf_puts(b, "\\ufffd");
                p++;
            } else {
                buf_append(b, p, n);
                p += n;
            }
        }
    }
    buf_putc(b, '"');
}

/* ---- reading a literal back ---- */

static int hex_digit(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* The 4 hex digits at p (end bounds them) as a code unit, or -1. */
static long hex4(const char *p, const char *end)
{
    if (end - p < 4) return -1;
    long v = 0;
    for (int i = 0; i < 4; i++) {
        int d = hex_digit(p[i]);
        if (d < 0) return -1;
        v = v * 16 + d;
    }
    return v;
}

static void put_utf8(buf_t *b, unsigned long cp)
{
    char u[4];
    size_t n;
    if (cp < 0x80) {
        u[0] = (char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (char)(0xC0 | (cp >> 6));
        u[1] = (char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (char)(0xE0 | (cp >> 12));
        u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[2] = (char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (char)(0xF0 | (cp >> 18));
        u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
        u[3] = (char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    buf_append(b, u, n);
}

/* A \u escape at p ("\uXXXX", maybe a pair); appends what it stands for and
 * returns the bytes it used, or 0 when malformed. *nul is set for \u0000. */
static size_t decode_u_escape(const char *p, const char *end, buf_t *b, bool *nul)
{
    long hi = hex4(p + 2, end);
    if (hi < 0) return 0;
    if (hi == 0) {
        *nul = true;
        put_utf8(b, 0xFFFD);
        return 6;
    }
    if (hi >= 0xD800 && hi <= 0xDBFF && end - p >= 12 && p[6] == '\\' && p[7] == 'u') {
        long lo = hex4(p + 8, end);
        if (lo >= 0xDC00 && lo <= 0xDFFF) {
            put_utf8(b,
                     0x10000 + (((unsigned long)hi - 0xD800) << 10) + ((unsigned long)lo - 0xDC00));
            return 12;
        }
    }
    if (hi >= 0xDC80 && hi <= 0xDCFF)
        buf_putc(b, (char)(hi & 0xFF)); /* surrogateescape: the byte itself */
    else if (hi >= 0xD800 && hi <= 0xDFFF)
        put_utf8(b, 0xFFFD);
    else
        put_utf8(b, (unsigned long)hi);
    return 6;
}

static char simple_escape(char c)
{
    switch (c) {
    case '"': return '"';
    case '\\': return '\\';
    case '/': return '/';
    case 'b': return '\b';
    case 'f': return '\f';
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    default: return 0;
    }
}

/* Drops what a failed decode appended (data stays NUL-terminated). */
static void take_back(buf_t *b, size_t mark)
{
    b->len = mark;
    if (b->data) b->data[mark] = '\0';
}

jsontext_decoded_t jsontext_decode(const char *lit, size_t len, buf_t *out)
{
    if (len < 2 || lit[0] != '"' || lit[len - 1] != '"') return JSONTEXT_BAD;
    size_t mark = out->len;
    const char *p = lit + 1;
    const char *end = lit + len - 1;
    bool nul = false;
    while (p < end) {
        const char *run = p; /* bytes copied as they are, in one go */
        while (p < end && *p != '\\' && *p != '"' && *p != '\0') p++;
        if (p > run) buf_append(out, run, (size_t)(p - run));
        if (p == end) break;
        if (*p == '\0') { /* a raw NUL byte: as \u0000 */
            buf_puts(out, "\xef\xbf\xbd");
            nul = true;
            p++;
            continue;
        }
        size_t used = 0;
        if (*p == '\\' && end - p >= 2 && p[1] == 'u') {
            used = decode_u_escape(p, end, out, &nul);
        } else if (*p == '\\' && end - p >= 2 && simple_escape(p[1])) {
            buf_putc(out, simple_escape(p[1]));
            used = 2;
        }
        if (used == 0) { /* a bare quote inside, or a broken escape */
            take_back(out, mark);
            return JSONTEXT_BAD;
        }
        p += used;
    }
    buf_putc(out, '\0');
    return nul ? JSONTEXT_NUL : JSONTEXT_OK;
}
