#include "jsontext.h"

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
