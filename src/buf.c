#include "buf.h"
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void out_of_memory(void)
{
    fputs("test-engine-pytest: out of memory\n", stderr);
    abort();
}

void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p) out_of_memory();
    return p;
}

void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) out_of_memory();
    return p;
}

void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (!q) out_of_memory();
    return q;
}

char *xstrdup(const char *s)
{
    return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
    char *p = xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *xvasprintf(const char *fmt, va_list ap)
{
    buf_t b;
    buf_init(&b);
    buf_vprintf(&b, fmt, ap);
    return buf_detach(&b);
}

char *xasprintf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *s = xvasprintf(fmt, ap);
    va_end(ap);
    return s;
}

void buf_init(buf_t *b)
{
    b->cap = 64;
    b->len = 0;
    b->data = xmalloc(b->cap);
    b->data[0] = '\0';
}

void buf_free(buf_t *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
}

void buf_reset(buf_t *b)
{
    b->len = 0;
    if (b->data) b->data[0] = '\0';
}

void buf_reserve(buf_t *b, size_t extra)
{
    if (extra > SIZE_MAX - b->len - 1) out_of_memory();
    size_t need = b->len + extra + 1;
    if (b->data && need <= b->cap) return;
    size_t cap = b->cap ? b->cap : 64; /* a zeroed buffer starts here */
    while (cap < need) cap = cap > SIZE_MAX / 2 ? need : cap * 2;
    b->data = xrealloc(b->data, cap);
    if (!b->cap) b->data[0] = '\0';
    b->cap = cap;
}

void buf_append(buf_t *b, const void *data, size_t len)
{
    buf_reserve(b, len);
    if (len) memcpy(b->data + b->len, data, len);
    b->len += len;
    b->data[b->len] = '\0';
}

void buf_puts(buf_t *b, const char *s)
{
    buf_append(b, s, strlen(s));
}

void buf_putc(buf_t *b, char c)
{
    buf_append(b, &c, 1);
}

void buf_vprintf(buf_t *b, const char *fmt, va_list ap)
{
    buf_reserve(b, 0); /* a zeroed buffer gets its first allocation */
    va_list copy;
    va_copy(copy, ap);
    int n = vsnprintf(b->data + b->len, b->cap - b->len, fmt, copy);
    va_end(copy);
    if (n < 0) {
        b->data[b->len] = '\0';
        return;
    }
    if ((size_t)n >= b->cap - b->len) {
        buf_reserve(b, (size_t)n);
        vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
    }
    b->len += (size_t)n;
}

void buf_printf(buf_t *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(b, fmt, ap);
    va_end(ap);
}

char *buf_detach(buf_t *b)
{
    char *s = b->data ? b->data : xstrdup("");
    b->data = NULL; /* empty and unallocated: ready for reuse */
    b->len = b->cap = 0;
    return s;
}

const char *buf_str(const buf_t *b)
{
    return b->data ? b->data : "";
}

size_t utf8_prefix_len(const char *s, size_t len, size_t keep)
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

size_t utf8_complete_len(const char *s, size_t len)
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

void buf_put_cut_note(buf_t *b, size_t total)
{
    buf_printf(b, "... [cut: %zu bytes in all]", total);
}

char *text_excerpt(const char *s, size_t len, size_t keep)
{
    size_t n = utf8_prefix_len(s, len, keep);
    char *out = xmalloc(n + 4);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        out[i] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    strcpy(out + n, n < len ? "..." : "");
    return out;
}

char *xstrndup_cut(const char *s, size_t len, size_t keep)
{
    if (len <= keep) return xstrndup(s, len);
    buf_t b = BUF_INIT;
    buf_append(&b, s, utf8_prefix_len(s, len, keep));
    buf_put_cut_note(&b, len);
    return buf_detach(&b);
}

const char *span_trim(const char *s, size_t *len)
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
