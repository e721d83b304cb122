#include "base/text.h"
#include "base/jsontext.h"
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

size_t text_utf8_prefix_len(const char *s, size_t len, size_t keep)
{
    if (len <= keep) return len;
    size_t n = keep;
    /* Back off over continuation bytes (10xxxxxx) to the start of the character
     * that straddles the cut, then drop that character too. */
    size_t back = 0;
    while (n > 0 && back < 4 && ((unsigned char)s[n] & 0xC0) == 0x80) {
        n--;
        back++;
    }
    return n;
}

size_t text_utf8_complete_len(const char *s, size_t len)
{
    /* Find the last lead byte within the final 4 bytes; drop it if the
     * character it starts needs more bytes than are there. */
    for (size_t back = 1; back <= 4 && back <= len; back++) {
        unsigned char c = (unsigned char)s[len - back];
        if ((c & 0xC0) == 0x80) continue;
        size_t need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
        return need > back ? len - back : len;
    }
    return len;
}

void text_put_cut_note(buf_t *b, size_t total)
{
    buf_printf(b, "... [cut: %zu bytes in all]", total);
}

char *text_excerpt(const char *s, size_t len, size_t keep)
{
    size_t n = text_utf8_prefix_len(s, len, keep);
    char *out = xmalloc(n + 4);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    strcpy(out + n, n < len ? "..." : "");
    return out;
}

char *text_cut(const char *s, size_t len, size_t keep)
{
    if (len <= keep) return xstrndup(s, len);
    buf_t b = BUF_INIT;
    buf_append(&b, s, text_utf8_prefix_len(s, len, keep));
    text_put_cut_note(&b, len);
    return buf_detach(&b);
}

const char *text_trim(const char *s, size_t *len)
{
    size_t n = *len;
    while (n && isspace((unsigned char)*s)) {
        s++;
        n--;
    }
    while (n && isspace((unsigned char)s[n - 1])) n--;
    *len = n;
    return s;
}

/* ---- bytes through UTF-8-only channels ---- */

void text_escape_bytes(const char *s, buf_t *out)
{
    for (const char *p = s; *p;) {
        const char *run = p; /* plain ASCII, as node ids mostly are: copied in one go */
        while (*p > 0 && *p < 0x7f && *p != '%') p++;
        if (p > run) buf_append(out, run, (size_t)(p - run));
        if (!*p) break;
        size_t n = jsontext_utf8_len(p);
        if (n == 0 || *p == '%') {
            buf_printf(out, "%%%02X", (unsigned char)*p);
            p++;
        } else {
            buf_append(out, p, n);
            p += n;
        }
    }
}

static int text_hex_value(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

char *text_unescape_bytes(const char *s)
{
    buf_t b = BUF_INIT;
    for (const char *p = s; *p; p++) {
        if (*p != '%') {
            buf_putc(&b, *p);
            continue;
        }
        int hi = text_hex_value(p[1]), lo = hi < 0 ? -1 : text_hex_value(p[2]);
        if (lo < 0 || (hi == 0 && lo == 0)) { /* broken, or a NUL no argv can hold */
            buf_free(&b);
            return NULL;
        }
        buf_putc(&b, (char)(hi * 16 + lo));
        p += 2;
    }
    buf_putc(&b, '\0');
    b.len--;
    return buf_detach(&b);
}

bool text_is_utf8(const char *s)
{
    for (size_t n; *s; s += n)
        if ((n = jsontext_utf8_len(s)) == 0) return false;
    return true;
}
